//! The reader of common shapes against serde-saphyr: whenever the fast
//! reader gives an answer, serde-saphyr gives the same, at the same places.
//!
//! A file the fast reader reads wrongly would be run as something its
//! author did not write, so this is checked by the unit tests (every YAML
//! file of the repository, every shape, mutants of each) and by the
//! `yaml_reader` fuzz target (built with the `fuzzing` feature), each type
//! that is read from YAML in turn ([`crate::inputs::yaml_readers_agree`]).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, SeqAccess, Visitor};

use super::{fast, located, slow};

/// Any YAML value, every node located (keys too).
#[derive(Debug, PartialEq)]
pub struct At(Any, u64, u64);

#[derive(Debug, PartialEq)]
enum Any {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(u64),
    Str(String),
    Seq(Vec<At>),
    Map(Vec<(At, At)>),
}

impl<'de> Deserialize<'de> for At {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (v, line, column) = located(d)?;
        Ok(At(v, line, column))
    }
}

impl<'de> Deserialize<'de> for Any {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Any;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("anything")
            }
            fn visit_unit<E>(self) -> Result<Any, E> {
                Ok(Any::Null)
            }
            fn visit_none<E>(self) -> Result<Any, E> {
                Ok(Any::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Any, D::Error> {
                Any::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Any, E> {
                Ok(Any::Bool(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Any, E> {
                Ok(Any::Unsigned(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Any, E> {
                Ok(Any::Signed(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Any, E> {
                Ok(Any::Float(v.to_bits()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Any, E> {
                Ok(Any::Str(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Any, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<At>()? {
                    out.push(v);
                }
                Ok(Any::Seq(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Any, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = map.next_entry::<At, At>()? {
                    out.push(e);
                }
                Ok(Any::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `Ok(true)` when the fast reader reads `text` as `T` and serde-saphyr
/// reads the same; `Ok(false)` when the fast reader leaves it to
/// serde-saphyr; otherwise how the two differ.
pub fn check<T: DeserializeOwned + fmt::Debug>(text: &str) -> Result<bool, String> {
    let Some(fast) = fast::<T>(text) else {
        return Ok(false);
    };
    match slow::<T>(Path::new("x.yaml"), &Arc::from(text)) {
        Ok(slow) => {
            let (fast, slow) = (format!("{fast:?}"), format!("{slow:?}"));
            if fast == slow {
                return Ok(true);
            }
            let at = fast
                .bytes()
                .zip(slow.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            let from = at.saturating_sub(150);
            let around = |s: &str| s.get(from..(at + 150).min(s.len())).unwrap_or(s).to_owned();
            Err(format!(
                "the two readers differ on:\n{text}\nfast: …{}\nslow: …{}",
                around(&fast),
                around(&slow),
            ))
        }
        Err(e) => Err(format!(
            "the fast reader accepts what serde-saphyr refuses ({}):\n{text}",
            e.render()
        )),
    }
}
