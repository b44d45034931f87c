//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>) and the
//! user agent: what lets a vendor find conform's requests in their logs.
//!
//! Every request conform sends carries a `traceparent` header,
//! `00-<trace-id>-<parent-id>-01`:
//!
//! - the **trace id** (16 random bytes) is one per run of a scenario: every
//!   request of the scenario (each step, each poll attempt, each page, the
//!   `finally` steps) shares it, so a vendor finds a failing scenario's
//!   requests under one trace in their tracing system; a rerun
//!   (`--retries`) is a new trace;
//! - the **parent id** (the span id, 8 bytes) is fresh for every request;
//! - the flags say `sampled` (`01`): conform asks the server to record.
//!
//! The trace id comes from the system's randomness (`getrandom`), once per
//! scenario; span ids are drawn from a per-scenario random seed through
//! SplitMix64, a bijection, so no two requests of a scenario share one and
//! no system call is made per request. Neither id is ever all zeros (the
//! specification forbids it). A request whose case sets `traceparent`
//! itself keeps the case's value.
//!
//! The user agent is `conform/VERSION (run RUN-ID)`, the run id every
//! report of the run carries; a case that sets `user-agent` keeps its own.

use std::sync::atomic::{AtomicU64, Ordering};

/// The header a request's trace context travels in.
pub const TRACEPARENT: &str = "traceparent";

/// The user agent of a run: `conform/VERSION (run RUN-ID)`.
pub fn user_agent(run_id: &str) -> String {
    format!("conform/{} (run {run_id})", env!("CARGO_PKG_VERSION"))
}

/// A W3C trace id: 16 bytes, written as 32 lower-case hex digits. Kept
/// inline (no allocation) for every scenario of a run; all zeros, which
/// the specification forbids, stands for none (reports written before
/// trace ids existed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 16]);

impl TraceId {
    /// Whether this is no trace id (all zeros).
    pub fn is_none(&self) -> bool {
        self.0 == [0; 16]
    }

    /// A trace id read from 32 hex digits (either case).
    pub fn parse(text: &str) -> Option<TraceId> {
        if text.len() != 32 {
            return None;
        }
        let mut id = [0_u8; 16];
        for (i, b) in id.iter_mut().enumerate() {
            *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(TraceId(id))
    }
}

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::with_capacity(32);
        hex(&mut s, &self.0);
        f.write_str(&s)
    }
}

impl serde::Serialize for TraceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TraceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if text.is_empty() {
            return Ok(TraceId::default());
        }
        TraceId::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("a trace id is 32 hex digits, not {text:?}"))
        })
    }
}

/// One scenario's trace: its trace id, and the span ids of its requests.
/// Shared by reference between a poll's attempts (hence atomic).
#[derive(Debug)]
pub struct Trace {
    id: TraceId,
    seed: u64,
    /// Spans drawn so far.
    drawn: AtomicU64,
}

impl Trace {
    /// A new trace with random ids.
    pub fn new() -> Trace {
        let mut bytes = [0_u8; 24];
        if getrandom::fill(&mut bytes).is_err() {
            // No randomness from the system: time, process and a counter
            // still keep traces apart.
            fallback(&mut bytes);
        }
        Trace::from_bytes(bytes)
    }

    /// The trace of these 24 bytes: the trace id, then the span seed.
    fn from_bytes(bytes: [u8; 24]) -> Trace {
        let mut id = [0_u8; 16];
        id.copy_from_slice(&bytes[..16]);
        if id == [0; 16] {
            id[15] = 1;
        }
        let id = TraceId(id);
        let mut seed = [0_u8; 8];
        seed.copy_from_slice(&bytes[16..]);
        Trace {
            id,
            seed: u64::from_le_bytes(seed),
            drawn: AtomicU64::new(0),
        }
    }

    /// The trace id.
    pub fn id(&self) -> TraceId {
        self.id
    }

    /// The `traceparent` of the next request: this trace, a fresh span.
    pub fn next_traceparent(&self) -> String {
        let span = loop {
            let n = self.drawn.fetch_add(1, Ordering::Relaxed);
            let span = splitmix64(self.seed.wrapping_add(n.wrapping_mul(GOLDEN)));
            // One draw in 2^64 is zero, which the specification forbids.
            if span != 0 {
                break span;
            }
        };
        let mut s = String::with_capacity(55);
        s.push_str("00-");
        hex(&mut s, &self.id.0);
        s.push('-');
        hex(&mut s, &span.to_be_bytes());
        s.push_str("-01");
        s
    }
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

/// Whether `value` is a `traceparent` of version 00 as the specification
/// writes it: lower-case hex, neither id all zeros.
pub fn is_valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex_of = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let zero = |s: &str| s.bytes().all(|b| b == b'0');
    matches!(parts.as_slice(), [version, trace, parent, flags]
        if *version == "00"
            && hex_of(trace, 32) && !zero(trace)
            && hex_of(parent, 16) && !zero(parent)
            && hex_of(flags, 2))
}

/// The odd constant of SplitMix64's sequence (2^64 / φ).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function: a bijection of `u64`, so distinct inputs
/// give distinct span ids.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Bytes from the time, the process id and a counter, for a system that
/// gives no randomness.
fn fallback(bytes: &mut [u8; 24]) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut state = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(GOLDEN);
    for chunk in bytes.chunks_mut(8) {
        state = splitmix64(state);
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
}

/// Appends `bytes` as lower-case hex. A table, not `write!`: a formatted
/// write per byte cost some 200 instructions, four thousand a request.
fn hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_keeps_its_id_and_draws_a_new_span_per_request() {
        let t = Trace::new();
        let id = t.id().to_string();
        let mut spans = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            let tp = t.next_traceparent();
            assert!(is_valid_traceparent(&tp), "{tp}");
            assert_eq!(&tp[3..35], id);
            assert!(spans.insert(tp[36..52].to_owned()), "a span repeats: {tp}");
        }
        assert_ne!(Trace::new().id().to_string(), id, "two traces, two ids");
        assert_eq!(TraceId::parse(&id), Some(t.id()));
    }

    #[test]
    fn all_zero_randomness_still_gives_valid_ids() {
        let t = Trace::from_bytes([0; 24]);
        assert_eq!(t.id().to_string(), "00000000000000000000000000000001");
        assert!(!t.id().is_none());
        for _ in 0..10 {
            assert!(is_valid_traceparent(&t.next_traceparent()));
        }
        let mut b = [0_u8; 24];
        fallback(&mut b);
        assert_ne!(b, [0; 24]);
    }

    #[test]
    fn the_validity_check_follows_the_specification() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(is_valid_traceparent(ok));
        for bad in [
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert!(!is_valid_traceparent(bad), "{bad}");
        }
    }

    #[test]
    fn a_trace_id_reads_as_it_was_written_and_nothing_else_does() {
        let id = TraceId::parse("4BF92F3577B34DA6A3CE929D0E0E4736").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"4bf92f3577b34da6a3ce929d0e0e4736\"");
        assert_eq!(serde_json::from_str::<TraceId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<TraceId>("\"\"").unwrap().is_none());
        for bad in ["\"4bf9\"", "\"4bf92f3577b34da6a3ce929d0e0e473g\"", "1"] {
            assert!(serde_json::from_str::<TraceId>(bad).is_err(), "{bad}");
        }
        // A multi-byte character where a digit pair is expected.
        assert_eq!(TraceId::parse("é4bf92f3577b34da6a3ce929d0e0e47"), None);
    }

    #[test]
    fn the_user_agent_names_the_run() {
        assert_eq!(
            user_agent("20261129T011857Z-4242-1a2b3c4d"),
            format!(
                "conform/{} (run 20261129T011857Z-4242-1a2b3c4d)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}
