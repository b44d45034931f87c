//! Deserializing the events of [`super::scan`] into the case types.
//!
//! It gives what serde-saphyr gives for the same text with the options of
//! [`super::options`] (YAML 1.2 booleans, numbers with a leading zero kept
//! as strings), or nothing: every request it is not sure to answer alike
//! (a plain scalar that could be read another way, a type mismatch, a
//! missing or unknown field) is a [`Fallback`], and serde-saphyr reads the
//! file again to give its answer or its error.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};

use super::LOCATED;
use super::scan::Ev;

/// Not answered here: serde-saphyr reads the file.
#[derive(Debug)]
pub(super) struct Fallback;

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to serde-saphyr")
    }
}

impl std::error::Error for Fallback {}

impl de::Error for Fallback {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Fallback
    }
}

/// What a plain scalar stands for, as serde-saphyr resolves it when the
/// target takes any value; `None` for spellings left to it (`0x1F`, `1e3`,
/// `.inf`, `0755`, `+1`, ...).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Plain {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str,
}

pub(super) fn resolve(text: &str) -> Option<Plain> {
    match text {
        "~" | "null" | "Null" | "NULL" => return Some(Plain::Null),
        "true" | "True" | "TRUE" => return Some(Plain::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Plain::Bool(false)),
        _ => {}
    }
    let b = text.as_bytes();
    let (negative, body) = match *b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => return None,
        _ => (false, b),
    };
    match body.first() {
        Some(b'0'..=b'9') => {}
        None | Some(b'+' | b'-') => return None,
        Some(b'.') => {
            // `.inf`, `.nan` and `.5` are numbers, `../x` is not.
            let word = &text[usize::from(negative)..];
            let float = [".inf", ".nan"]
                .iter()
                .any(|w| word.eq_ignore_ascii_case(w))
                || text.parse::<f64>().is_ok();
            return (!float).then_some(Plain::Str);
        }
        Some(_) => {
            // A word: a string, unless Rust's float parser reads it (serde-saphyr
            // keeps those as strings too, but that is its call).
            let word = &text[usize::from(negative)..];
            let float_word = ["inf", "infinity", "nan"]
                .iter()
                .any(|w| word.eq_ignore_ascii_case(w));
            return (!float_word).then_some(Plain::Str);
        }
    }
    let int_len = body.iter().take_while(|c| c.is_ascii_digit()).count();
    let leading_zero = int_len > 1 && body[0] == b'0';
    let rest = &body[int_len..];
    if rest.is_empty() && !leading_zero {
        return if negative {
            text.parse::<i64>().ok().map(Plain::Signed)
        } else {
            text.parse::<u64>().ok().map(Plain::Unsigned)
        };
    }
    if !leading_zero
        && rest.len() > 1
        && rest[0] == b'.'
        && rest[1..].iter().all(u8::is_ascii_digit)
    {
        return text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Plain::Float);
    }
    // Other numbers: radix prefixes (`0x1F`), underscores (`1_000`),
    // leading zeros, what Rust's float parser reads (`1e3`). A string has
    // some other character (`4xx`, `10s`) or does not parse (`1.2.3`).
    let radix =
        body[0] == b'0' && matches!(body.get(1), Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B'));
    let integer = body.iter().all(|c| c.is_ascii_digit() || *c == b'_');
    let float_chars = body
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'e' | b'E' | b'+' | b'-'));
    if radix || integer || (float_chars && text.parse::<f64>().is_ok()) {
        return None;
    }
    Some(Plain::Str)
}

pub(super) struct De<'a, 'e> {
    ev: &'e [Ev<'a>],
    i: usize,
}

impl<'a, 'e> De<'a, 'e> {
    pub(super) fn new(ev: &'e [Ev<'a>]) -> Self {
        De { ev, i: 0 }
    }

    /// Whether every event was read.
    pub(super) fn done(&self) -> bool {
        self.i == self.ev.len()
    }

    fn peek(&self) -> Result<&'e Ev<'a>, Fallback> {
        self.ev.get(self.i).ok_or(Fallback)
    }

    fn next(&mut self) -> Result<&'e Ev<'a>, Fallback> {
        let e = self.peek()?;
        self.i += 1;
        Ok(e)
    }

    /// The next event, a scalar: its text and whether it is plain.
    fn scalar(&mut self) -> Result<(&'e Cow<'a, str>, bool), Fallback> {
        match self.next()? {
            Ev::Scalar { text, plain, .. } => Ok((text, *plain)),
            _ => Err(Fallback),
        }
    }

    /// The next event, a plain scalar, resolved.
    fn plain(&mut self) -> Result<(&'e Cow<'a, str>, Plain), Fallback> {
        match self.scalar()? {
            (text, true) => Ok((text, resolve(text).ok_or(Fallback)?)),
            _ => Err(Fallback),
        }
    }

    /// The next event, a scalar read as a string (quoted, a block scalar,
    /// or a plain scalar that is not null, a boolean or a number).
    fn string(&mut self) -> Result<&'e Cow<'a, str>, Fallback> {
        match self.scalar()? {
            (text, false) => Ok(text),
            (text, true) if resolve(text) == Some(Plain::Str) => Ok(text),
            _ => Err(Fallback),
        }
    }

    fn end(&mut self) -> Result<(), Fallback> {
        match self.next()? {
            Ev::End => Ok(()),
            _ => Err(Fallback),
        }
    }

    fn number<'de, V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Fallback> {
        match self.plain()?.1 {
            Plain::Unsigned(u) => visitor.visit_u64(u),
            Plain::Signed(i) => visitor.visit_i64(i),
            _ => Err(Fallback),
        }
    }
}

fn visit_text<'de, V: Visitor<'de>>(
    text: &Cow<'de, str>,
    visitor: V,
) -> Result<V::Value, Fallback> {
    match text {
        Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
        Cow::Owned(s) => visitor.visit_str(s),
    }
}

impl<'de, 'e> Deserializer<'de> for &mut De<'de, 'e> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.peek()? {
            Ev::Scalar { plain: false, .. } => {
                let text = self.string()?;
                visit_text(text, visitor)
            }
            Ev::Scalar { plain: true, .. } => {
                let (text, plain) = self.plain()?;
                match plain {
                    Plain::Null => visitor.visit_unit(),
                    Plain::Bool(b) => visitor.visit_bool(b),
                    Plain::Unsigned(u) => visitor.visit_u64(u),
                    Plain::Signed(i) => visitor.visit_i64(i),
                    Plain::Float(f) => visitor.visit_f64(f),
                    Plain::Str => visit_text(text, visitor),
                }
            }
            Ev::Map { .. } => self.deserialize_map(visitor),
            Ev::Seq { .. } => self.deserialize_seq(visitor),
            Ev::End => Err(Fallback),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.plain()?.1 {
            Plain::Bool(b) => visitor.visit_bool(b),
            _ => Err(Fallback),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.number(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.number(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.number(visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.number(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.number(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.number(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.number(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.number(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        let (text, plain) = self.plain()?;
        match plain {
            Plain::Unsigned(_) | Plain::Signed(_) | Plain::Float(_) => {
                visitor.visit_f64(text.parse::<f64>().map_err(|_| Fallback)?)
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        let text = self.string()?;
        visit_text(text, visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        if let Ev::Scalar {
            text, plain: true, ..
        } = self.peek()?
            && resolve(text) == Some(Plain::Null)
        {
            self.i += 1;
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.plain()?.1 {
            Plain::Null => visitor.visit_unit(),
            _ => Err(Fallback),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Fallback> {
        if name == LOCATED {
            let (line, column) = match self.peek()? {
                Ev::Map { line, column }
                | Ev::Seq { line, column }
                | Ev::Scalar { line, column, .. } => (*line, *column),
                Ev::End => return Err(Fallback),
            };
            return visitor.visit_seq(LocatedAccess {
                de: self,
                line,
                column,
                read: 0,
            });
        }
        // serde-saphyr's own wrappers (`Spanned` and others) speak to it alone.
        if name.starts_with("__") {
            return Err(Fallback);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.next()? {
            Ev::Seq { .. } => {
                let v = visitor.visit_seq(Items { de: &mut *self })?;
                self.end()?;
                Ok(v)
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.next()? {
            Ev::Map { .. } => {
                let v = visitor.visit_map(Entries { de: &mut *self })?;
                self.end()?;
                Ok(v)
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fallback> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fallback> {
        // Unit variants written as plain names only.
        match self.plain()? {
            (text, Plain::Str) => {
                let name: de::value::StrDeserializer<'_, Fallback> =
                    text.as_ref().into_deserializer();
                visitor.visit_enum(name)
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        let mut open = 0usize;
        loop {
            match self.next()? {
                Ev::Map { .. } | Ev::Seq { .. } => open += 1,
                Ev::End => open = open.checked_sub(1).ok_or(Fallback)?,
                Ev::Scalar { .. } => {}
            }
            if open == 0 {
                return visitor.visit_unit();
            }
        }
    }
}

/// The items of a sequence, up to its [`Ev::End`].
struct Items<'d, 'a, 'e> {
    de: &'d mut De<'a, 'e>,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de, '_> {
    type Error = Fallback;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Fallback> {
        if matches!(self.de.peek()?, Ev::End) {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

/// The keys and values of a mapping, up to its [`Ev::End`].
struct Entries<'d, 'a, 'e> {
    de: &'d mut De<'a, 'e>,
}

impl<'de> de::MapAccess<'de> for Entries<'_, 'de, '_> {
    type Error = Fallback;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Fallback> {
        if matches!(self.de.peek()?, Ev::End) {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Fallback> {
        seed.deserialize(&mut *self.de)
    }
}

/// A located value: its line, its column, then the value (see [`LOCATED`]).
struct LocatedAccess<'d, 'a, 'e> {
    de: &'d mut De<'a, 'e>,
    line: u32,
    column: u32,
    read: u8,
}

impl<'de> de::SeqAccess<'de> for LocatedAccess<'_, 'de, '_> {
    type Error = Fallback;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Fallback> {
        self.read += 1;
        match self.read {
            1 => seed
                .deserialize(u64::from(self.line).into_deserializer())
                .map(Some),
            2 => seed
                .deserialize(u64::from(self.column).into_deserializer())
                .map(Some),
            3 => seed.deserialize(&mut *self.de).map(Some),
            _ => Ok(None),
        }
    }
}
