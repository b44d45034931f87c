//! The contract as read: an ordered tree with the line and column of every key.
//!
//! `serde_json::Value` (built without `preserve_order`) sorts object keys and
//! forgets where they were. Operations and responses are listed in document
//! order and structural problems are located by line, so the loader reads into
//! this tree first and converts it to a `Value` for the schema machinery.

use std::fmt;

use super::refs;
use crate::yaml;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// One node of the document, object keys in document order.
#[derive(Debug)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One key of a mapping, with where it was written (0 when unknown, as in JSON).
#[derive(Debug)]
pub(crate) struct Entry {
    key: String,
    line: u32,
    column: u32,
    value: Node,
}

impl Node {
    /// The same document as a `serde_json::Value` (a later duplicate key wins,
    /// though both parsers refuse duplicates before this point).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Node::Map(entries) => {
                let map: Map<String, Value> = entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_value()))
                    .collect();
                Value::Object(map)
            }
        }
    }

    fn child(&self, segment: &str) -> Option<(&Node, Option<(u32, u32)>)> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .rev()
                .find(|e| e.key == segment)
                .map(|e| (&e.value, Some((e.line, e.column)).filter(|l| l.0 > 0))),
            Node::Seq(items) => segment
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|n| (n, None)),
            _ => None,
        }
    }

    /// The keys of the mapping at `pointer`, in document order.
    pub(crate) fn keys_at(&self, pointer: &str) -> Option<Vec<&str>> {
        let mut node = self;
        for segment in refs::segments(pointer) {
            node = node.child(&segment)?.0;
        }
        match node {
            Node::Map(entries) => Some(entries.iter().map(|e| e.key.as_str()).collect()),
            _ => None,
        }
    }

    /// Line and column of the deepest key on the way to `pointer` (the key
    /// itself when it exists, else its nearest existing parent).
    pub(crate) fn location(&self, pointer: &str) -> (u32, u32) {
        let mut node = self;
        let mut found = (0, 0);
        for segment in refs::segments(pointer) {
            let Some((next, at)) = node.child(&segment) else {
                break;
            };
            if let Some(at) = at {
                found = at;
            }
            node = next;
        }
        found
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML or JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        // Like serde_json: a non-finite number has no JSON form.
        Ok(Number::from_f64(v).map_or(Node::Null, Node::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(LocatedKey(key, line, column)) = map.next_key()? {
            let value = map.next_value::<Node>()?;
            entries.push(Entry {
                key: key.0,
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(column).unwrap_or(u32::MAX),
                value,
            });
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key and where it was written (line 0 in JSON).
struct LocatedKey(Key, u64, u64);

impl<'de> Deserialize<'de> for LocatedKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (key, line, column) = yaml::located(deserializer)?;
        Ok(LocatedKey(key, line, column))
    }
}

/// A mapping key: YAML allows `200:` or `true:` where JSON has strings.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
                Ok(Key(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".to_owned()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::yaml;

    fn read(src: &str) -> Node {
        yaml::parse::<Node>(Path::new("t.yaml"), &Arc::from(src)).expect("parses")
    }

    #[test]
    fn keys_keep_document_order_and_locations() {
        let tree = read("b: 1\na:\n  '404': x\n  200: y\n  default: z\n");
        assert_eq!(tree.keys_at(""), Some(vec!["b", "a"]));
        assert_eq!(tree.keys_at("/a"), Some(vec!["404", "200", "default"]));
        assert_eq!(tree.location("/a/200"), (4, 3));
        // A missing key is located at its nearest parent.
        assert_eq!(tree.location("/a/nope/deeper"), (2, 1));
        assert_eq!(
            tree.to_value(),
            serde_json::json!({"b": 1, "a": {"404": "x", "200": "y", "default": "z"}})
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = yaml::parse::<Node>(Path::new("t.yaml"), &Arc::from("a: 1\na: 2\n"))
            .expect_err("duplicate");
        assert_eq!(err.location.line, 2);
    }

    #[test]
    fn json_reads_without_locations() {
        let tree: Node =
            serde_json::from_str(r#"{"z": [1, {"k": null}], "a": 2.5}"#).expect("json");
        assert_eq!(tree.keys_at(""), Some(vec!["z", "a"]));
        assert_eq!(tree.keys_at("/z/1"), Some(vec!["k"]));
        assert_eq!(tree.location("/z"), (0, 0));
    }
}
