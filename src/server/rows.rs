//! Deterministic result rows derived from the query spec, and opaque paging tokens.

use serde_json::{Value, json};

use super::fault::{Fault, FaultSet};

/// Largest page the server returns; larger `page_size` values are clamped.
pub(crate) const MAX_PAGE_SIZE: u64 = 100;

const RISK_LEVELS: [&str; 4] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// FNV-1a, 64 bit.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Compact JSON with object keys sorted, whatever order serde_json keeps.
pub(crate) fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// What the server keeps of a query spec: enough to regenerate its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpecDigest {
    /// FNV-1a 64 of the canonical JSON of the spec.
    pub(crate) hash: u64,
    /// `source_node_types.nodes[0].node_type`, or `Node`.
    pub(crate) node_type: String,
    /// Number of result rows: 120..=350.
    pub(crate) total: u64,
}

impl SpecDigest {
    pub(crate) fn of(spec: &Value) -> Self {
        let hash = fnv1a64(canonical_json(spec).as_bytes());
        let node_type = spec
            .pointer("/source_node_types/nodes/0/node_type")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .unwrap_or("Node")
            .to_owned();
        SpecDigest {
            hash,
            node_type,
            total: 120 + hash % 231,
        }
    }
}

/// Row `index` (0-based) of a result whose rows are of `node_type`; under
/// `minimal-rows` only the required `id`, `type` and `properties`.
pub(crate) fn row(node_type: &str, index: u64, faults: FaultSet) -> Value {
    let mut row = json!({
        "id": format!("{node_type}-{index:05}"),
        "type": node_type,
        "properties": {"name": format!("{node_type} {index}"), "index": index},
    });
    if !faults.has(Fault::MinimalRows)
        && let Some(object) = row.as_object_mut()
    {
        object.insert("destination_node_count".to_owned(), Value::from(index % 7));
        object.insert(
            "risk_level".to_owned(),
            Value::from(RISK_LEVELS[(index % 4) as usize]),
        );
    }
    super::error::add_extra_fields(&mut row, faults);
    row
}

/// Issues and redeems page tokens: the offset plus a keyed check over the
/// query id, so a token works only for the query it was issued for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageTokens {
    key: u64,
}

impl PageTokens {
    pub(crate) fn new(key: u64) -> Self {
        PageTokens { key }
    }

    fn check(self, query_id: &str, offset: u64) -> u64 {
        let mut bytes = Vec::with_capacity(16 + query_id.len());
        bytes.extend_from_slice(&self.key.to_le_bytes());
        bytes.extend_from_slice(&offset.to_le_bytes());
        bytes.extend_from_slice(query_id.as_bytes());
        fnv1a64(&bytes)
    }

    /// A token for the page of `query_id` that starts at `offset`.
    pub(crate) fn issue(self, query_id: &str, offset: u64) -> String {
        let check = self.check(query_id, offset);
        format!("{:016x}{check:016x}", offset ^ check.rotate_left(17))
    }

    /// The offset a token stands for, or `None` if this server did not issue
    /// it for `query_id`.
    pub(crate) fn redeem(self, query_id: &str, token: &str) -> Option<u64> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let masked = u64::from_str_radix(token.get(..16)?, 16).ok()?;
        let check = u64::from_str_radix(token.get(16..)?, 16).ok()?;
        let offset = masked ^ check.rotate_left(17);
        (self.check(query_id, offset) == check).then_some(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_known_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"d": 2, "c": "x"}], "x": null}}"#)
                .unwrap_or_default();
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":null,"y":[1,{"c":"x","d":2}]},"b":1}"#
        );
    }

    #[test]
    fn digest_reads_node_type_and_bounds_total() {
        let spec = json!({"source_node_types": {"nodes": [{"node_type": "OktaUser"}]}});
        let digest = SpecDigest::of(&spec);
        assert_eq!(digest.node_type, "OktaUser");
        assert_eq!(
            digest.total,
            120 + fnv1a64(canonical_json(&spec).as_bytes()) % 231
        );
        assert_eq!(SpecDigest::of(&json!({})).node_type, "Node");
        assert_eq!(
            SpecDigest::of(&json!({"source_node_types": {"nodes": [{"node_type": 3}]}})).node_type,
            "Node"
        );
        for n in 0..200 {
            let total = SpecDigest::of(&json!({"n": n})).total;
            assert!((120..=350).contains(&total), "{total}");
        }
    }

    #[test]
    fn rows_are_deterministic() {
        let r = row("AwsIamRole", 9, FaultSet::default());
        assert_eq!(
            r,
            json!({
                "id": "AwsIamRole-00009",
                "type": "AwsIamRole",
                "properties": {"name": "AwsIamRole 9", "index": 9},
                "destination_node_count": 2,
                "risk_level": "MEDIUM",
            })
        );
        assert_eq!(
            row("AwsIamRole", 9, FaultSet::new(&[Fault::MinimalRows])),
            json!({
                "id": "AwsIamRole-00009",
                "type": "AwsIamRole",
                "properties": {"name": "AwsIamRole 9", "index": 9},
            })
        );
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let tokens = PageTokens::new(42);
        let token = tokens.issue("qr-1", 100);
        assert_eq!(tokens.redeem("qr-1", &token), Some(100));
        assert_eq!(tokens.redeem("qr-2", &token), None, "tied to the query id");
        assert_eq!(
            PageTokens::new(43).redeem("qr-1", &token),
            None,
            "tied to the server"
        );
        assert_eq!(tokens.redeem("qr-1", "garbage"), None);
        assert_eq!(tokens.redeem("qr-1", &"0".repeat(32)), None);
        let mut tampered = token.clone();
        let flipped = if token.as_bytes()[15] == b'0' {
            "1"
        } else {
            "0"
        };
        tampered.replace_range(15..16, flipped);
        assert_eq!(tokens.redeem("qr-1", &tampered), None);
        assert_eq!(tokens.redeem("qr-1", "é".repeat(16).as_str()), None);
    }
}
