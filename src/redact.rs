//! Secrets never reach an output: known values become `***`, and headers
//! whose names look sensitive are masked by name.
//!
//! The runner redacts everything it records, so every report, being a
//! projection of the recorded result, is safe by construction.

use std::borrow::Cow;

/// The mask that replaces a secret.
pub const MASK: &str = "***";

/// Shortest value masked wherever it appears.
pub const MIN_SECRET_LEN: usize = 4;

/// Known secret values (the bearer token, captures marked `secret: true`).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret value. Values shorter than [`MIN_SECRET_LEN`] are not
    /// masked by value (masking every `t` would destroy the output and hide
    /// nothing real); headers that carry them are still masked by name.
    pub fn add(&mut self, secret: impl Into<String>) {
        let s = secret.into();
        if s.chars().count() < MIN_SECRET_LEN || self.secrets.contains(&s) {
            return;
        }
        self.secrets.push(s);
        // Longest first, so a secret containing another is masked whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Masks every known secret in `text`, and what is left of one where
    /// the text was cut: a beginning of a secret (at least
    /// [`MIN_SECRET_LEN`] characters) right before a cut mark `…` or at the
    /// very end, so masking after cutting leaks no more than masking before.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MASK));
            }
        }
        for s in &self.secrets {
            if let Some(cut) = mask_cut_prefix(&out, s) {
                out = Cow::Owned(cut);
            }
        }
        out
    }

    /// A header value as it may be shown: masked by name, then by value.
    pub fn header(&self, name: &str, value: &str) -> String {
        if is_sensitive_header(name) {
            match value.split_once(' ') {
                // Keep the scheme ("Bearer ***") so a reader sees what was sent.
                Some((scheme, _)) if name.eq_ignore_ascii_case("authorization") => {
                    format!("{scheme} {MASK}")
                }
                _ => MASK.to_owned(),
            }
        } else {
            self.redact(value).into_owned()
        }
    }
}

/// `text` with each beginning of `secret` that stands right before a cut
/// mark (`…`) or at the end masked; `None` when there is none.
fn mask_cut_prefix(text: &str, secret: &str) -> Option<String> {
    // Where a cut may have happened: before each `…`, and at the end.
    let ends: Vec<usize> = text
        .match_indices('…')
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let mut out = String::new();
    let mut from = 0;
    for end in ends {
        let before = text.get(from..end).unwrap_or_default();
        // Byte lengths of the secret's beginnings of MIN_SECRET_LEN
        // characters or more (the whole one is masked already), longest first.
        let cuts: Vec<usize> = secret
            .char_indices()
            .map(|(i, _)| i)
            .skip(MIN_SECRET_LEN)
            .collect();
        let longest = cuts
            .into_iter()
            .rev()
            .find(|&k| before.ends_with(secret.get(..k).unwrap_or_default()));
        if let Some(k) = longest {
            out.push_str(before.get(..before.len() - k).unwrap_or_default());
            out.push_str(MASK);
            from = end;
        }
    }
    if from == 0 && out.is_empty() {
        return None;
    }
    out.push_str(text.get(from..).unwrap_or_default());
    Some(out)
}

/// Whether a header's value is masked whatever it holds.
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || ["token", "secret", "key", "password", "session"]
        .iter()
        .any(|w| n.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_are_masked_everywhere() {
        let mut r = Redactor::new();
        r.add("s3cr3t-token");
        r.add("");
        r.add("t");
        assert_eq!(r.redact("a s3cr3t-token b s3cr3t-token"), "a *** b ***");
        assert_eq!(r.redact("tt"), "tt");
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    #[test]
    fn what_a_cut_left_of_a_secret_is_masked_too() {
        let mut r = Redactor::new();
        r.add("tok-9f3a1c77e2b04d5ea61c");
        // Cut by a truncation before it was masked: 26 of 27 characters.
        assert_eq!(r.redact("body: tok-9f3a1c77e2b04d5ea6…"), "body: ***…");
        assert_eq!(r.redact("[\"tok-9f3a1c7"), "[\"***");
        // Fewer than MIN_SECRET_LEN characters say nothing: left alone.
        assert_eq!(r.redact("a tok…"), "a tok…");
        assert_eq!(r.redact("x tok-9f3a1c77e2b04d5ea61c y"), "x *** y");
    }

    #[test]
    fn longer_secrets_win() {
        let mut r = Redactor::new();
        r.add("abcd");
        r.add("abcdefgh");
        assert_eq!(r.redact("xabcdefghx abcd"), "x***x ***");
    }

    #[test]
    fn headers_are_masked_by_name() {
        let r = Redactor::new();
        assert_eq!(r.header("Authorization", "Bearer xyz"), "Bearer ***");
        assert_eq!(r.header("X-Api-Key", "xyz"), "***");
        assert_eq!(r.header("Set-Cookie", "a=b"), "***");
        assert_eq!(
            r.header("content-type", "application/json"),
            "application/json"
        );
    }
}
