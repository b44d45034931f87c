//! Secrets never reach an output: known values become `***` in every form
//! they may take (letter case, percent-, JSON-, HTML-escaped, cut short:
//! see [`mask_secret`]), the userinfo of every URL is masked whatever it
//! holds, and headers whose names look sensitive are masked by name.
//!
//! The runner redacts everything it records, so every report, being a
//! projection of the recorded result, is safe by construction; errors
//! found before a run (a case file's excerpt) are masked before printing.
//!
//! Matching is by form rather than by a list of encoded copies: at each
//! place a secret may start, its characters are matched one by one, each
//! as itself or as any escape of it, so escapes nested or mixed by several
//! writers (a JSON body in a JUnit file, a query echoed in JSON) are found
//! without enumerating their combinations.

use std::borrow::Cow;

/// The mask that replaces a secret.
pub const MASK: &str = "***";

/// Shortest value masked wherever it appears.
pub const MIN_SECRET_LEN: usize = 4;

/// Shortest value of a variable named like a secret that is masked
/// ([`Redactor::add_secret_env`]).
pub const MIN_ENV_SECRET_LEN: usize = 8;

/// Whether an environment variable's name says it holds a secret
/// (`VEZA_TOKEN`, `DB_PASSWORD`, `AWS_SECRET_ACCESS_KEY`, `API_KEY`).
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
    ]
    .iter()
    .any(|w| n.contains(w))
}

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

    /// How many secret values are known: a redactor that knows more than
    /// when a text was masked may mask more of it.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether no secret value is known.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Masks every known secret in `text`, in any form conform or a server
    /// may have written it (see [`mask_secret`]), what is left of one where
    /// the text was cut, and the userinfo of every URL in it.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if let Some(masked) = mask_secret(&out, s) {
                out = Cow::Owned(masked);
            }
        }
        if let Some(masked) = mask_userinfo(&out) {
            out = Cow::Owned(masked);
        }
        out
    }

    /// Adds the user name and password of a URL's userinfo, as written
    /// (percent-encoded) and decoded: masked wherever they appear, not
    /// only in the URL.
    pub fn add_userinfo(&mut self, url: &reqwest::Url) {
        for part in [url.username(), url.password().unwrap_or_default()] {
            let decoded = percent_encoding::percent_decode_str(part).decode_utf8_lossy();
            self.add(decoded.into_owned());
            self.add(part);
        }
    }

    /// Adds the value of every variable whose name says it holds a secret
    /// ([`is_secret_name`]) and whose value has [`MIN_ENV_SECRET_LEN`]
    /// characters or more (shorter ones are settings like `true`).
    pub fn add_secret_env<'a>(&mut self, env: impl IntoIterator<Item = (&'a String, &'a String)>) {
        for (name, value) in env {
            let value = value.trim();
            if is_secret_name(name) && value.chars().count() >= MIN_ENV_SECRET_LEN {
                self.add(value);
            }
        }
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

/// `text` with every occurrence of `secret` masked; `None` when there is none.
///
/// An occurrence is the secret in any form conform writes or a server may
/// send: as is or with its ASCII letters in another case (a header name is
/// lower-cased), each character percent-encoded (`%2D`, `%2d`, twice as
/// `%252D`, a space as `+`), JSON- or shell-escaped (`\"`, `\\\"`,
/// `\u002d`, `\n`, `\u{1b}`), or HTML/XML-escaped (`&quot;`, `&amp;quot;`,
/// `&#45;`, `&#x2d;`), in any mix. What a cut left of a secret counts too:
/// at least [`MIN_SECRET_LEN`] characters of its beginning that run into a
/// cut mark `…`, the end of the text, or a half-written escape there, so a
/// value cut before it was masked leaks no part of it.
fn mask_secret(text: &str, secret: &str) -> Option<String> {
    let secret: Vec<char> = secret.chars().collect();
    let first = *secret.first()?;
    let mut out = String::new();
    let mut done = 0;
    let mut i = 0;
    while let Some(ch) = text.get(i..).and_then(|r| r.chars().next()) {
        if may_start(ch, first) {
            let (n, end) = match_at(text, i, &secret);
            let end = if n == secret.len() {
                Some(end)
            } else if n >= MIN_SECRET_LEN {
                cut_at(text, end)
            } else {
                None
            };
            if let Some(end) = end {
                out.push_str(text.get(done..i).unwrap_or_default());
                out.push_str(MASK);
                done = end;
                i = end;
                continue;
            }
        }
        i += ch.len_utf8();
    }
    if done == 0 {
        return None;
    }
    out.push_str(text.get(done..).unwrap_or_default());
    Some(out)
}

/// Whether an encoded form of a secret beginning with `first` may start at `ch`.
fn may_start(ch: char, first: char) -> bool {
    same(ch, first) || matches!(ch, '%' | '\\' | '&') || (ch == '+' && first == ' ')
}

/// Equal, ASCII letters in either case.
fn same(a: char, b: char) -> bool {
    a == b || a.eq_ignore_ascii_case(&b)
}

/// How many characters of `secret` match at byte `at` of `text` (each in
/// any of its forms), and the byte where the match ends.
fn match_at(text: &str, at: usize, secret: &[char]) -> (usize, usize) {
    let mut p = at;
    for (n, &c) in secret.iter().enumerate() {
        match text.get(p..).and_then(|rest| one_char(rest, c)) {
            Some(len) => p += len,
            None => return (n, p),
        }
    }
    (secret.len(), p)
}

/// Where the mask of a partial match ending at `end` ends, when the match
/// ran into a cut: the end of the text, a cut mark, or a short unfinished
/// escape right before either (masked with it).
fn cut_at(text: &str, end: usize) -> Option<usize> {
    let rest = text.get(end..).unwrap_or_default();
    // Only a short stretch can run into a cut: no more of the text is read
    // (reading on to the next cut mark, for every partial match, made
    // masking a long body take time in the square of its length).
    let before_cut = match rest.char_indices().find(|&(i, c)| c == '…' || i >= 12) {
        Some((i, '…')) => rest.get(..i).unwrap_or_default(),
        Some(_) => return None,
        None => rest,
    };
    let unfinished = before_cut.len() < 12
        && before_cut.starts_with(['%', '\\', '&'])
        && !before_cut.contains(char::is_whitespace);
    (before_cut.is_empty() || unfinished).then_some(end + before_cut.len())
}

/// The length in bytes of one form of `c` at the start of `rest`.
fn one_char(rest: &str, c: char) -> Option<usize> {
    let first = rest.chars().next()?;
    if same(first, c) {
        return Some(first.len_utf8());
    }
    match first {
        '+' if c == ' ' => Some(1),
        '%' => percent_encoded(rest, c),
        '\\' => backslash_escaped(rest, c),
        '&' => entity(rest, c),
        _ => None,
    }
}

/// Two hex digits at the start of `s`.
fn hex2(s: &str) -> Option<u8> {
    let h = s.get(..2)?;
    u8::from_str_radix(h, 16)
        .ok()
        .filter(|_| h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `%XX` for each UTF-8 byte of `c` (any case), each possibly encoded again
/// (`%25XX`).
fn percent_encoded(rest: &str, c: char) -> Option<usize> {
    let mut buf = [0u8; 4];
    let mut p = 0;
    for &b in c.encode_utf8(&mut buf).as_bytes() {
        if rest.as_bytes().get(p) != Some(&b'%') {
            return None;
        }
        p += 1;
        loop {
            let h = hex2(rest.get(p..)?)?;
            p += 2;
            if h == b {
                break;
            }
            // `%25` is an encoded `%`: what follows encodes the byte again.
            if h != b'%' {
                return None;
            }
        }
    }
    Some(p)
}

/// A backslash escape of `c`, with any number of backslashes (a JSON string
/// inside a JSON string): `\"`, `\u002d` (a surrogate pair beyond the
/// basic plane), `\u{1b}`, `\x2d`, `\n`; a run of backslashes is one `\`.
fn backslash_escaped(rest: &str, c: char) -> Option<usize> {
    let k = rest.bytes().take_while(|&b| b == b'\\').count();
    if c == '\\' {
        return Some(k);
    }
    let after = rest.get(k..)?;
    let next = after.chars().next()?;
    // `\"`, and an escape of another kind escaped again (`\&quot;`).
    if let Some(len) = one_char(after, c) {
        return Some(k + len);
    }
    let short = match c {
        '\n' => Some('n'),
        '\t' => Some('t'),
        '\r' => Some('r'),
        '\u{8}' => Some('b'),
        '\u{c}' => Some('f'),
        '\0' => Some('0'),
        _ => None,
    };
    if short == Some(next) {
        return Some(k + 1);
    }
    match next {
        'x' => (hex2(after.get(1..)?)? as u32 == c as u32).then_some(k + 3),
        'u' | 'U' => {
            let code = after.get(1..)?;
            if let Some(braced) = code.strip_prefix('{') {
                let close = braced.find('}')?;
                let v = u32::from_str_radix(braced.get(..close)?, 16).ok()?;
                return (v == c as u32).then_some(k + 3 + close);
            }
            let unit = |s: &str| -> Option<u16> {
                let h = s.get(..4)?;
                h.bytes()
                    .all(|b| b.is_ascii_hexdigit())
                    .then(|| u16::from_str_radix(h, 16).ok())?
            };
            let mut units = [0u16; 2];
            let want = c.encode_utf16(&mut units);
            if unit(code)? != want[0] {
                return None;
            }
            let mut len = k + 5;
            if let Some(&low) = want.get(1) {
                // The low surrogate: `\uDC..` after its own backslashes.
                let tail = rest.get(len..)?;
                let k2 = tail.bytes().take_while(|&b| b == b'\\').count();
                let u = tail.get(k2..)?.strip_prefix(['u', 'U'])?;
                if k2 == 0 || unit(u)? != low {
                    return None;
                }
                len += k2 + 5;
            }
            Some(len)
        }
        _ => None,
    }
}

/// An HTML/XML character reference for `c` (`&quot;`, `&#34;`, `&#x22;`),
/// possibly escaped again (`&amp;quot;`).
fn entity(rest: &str, c: char) -> Option<usize> {
    let mut p = 1;
    let mut amps = 0;
    while rest
        .get(p..p + 4)
        .is_some_and(|s| s.eq_ignore_ascii_case("amp;"))
    {
        p += 4;
        amps += 1;
    }
    if c == '&' && amps > 0 {
        return Some(p);
    }
    let body = rest.get(p..)?;
    let semi = body.find(';').filter(|&i| i <= 8)?;
    let name = body.get(..semi)?;
    let named = match name.to_ascii_lowercase().as_str() {
        "quot" => Some('"'),
        "apos" => Some('\''),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "nbsp" => Some('\u{a0}'),
        _ => None,
    };
    let v = match named {
        Some(ch) => ch,
        None => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    (v == c).then_some(p + semi + 1)
}

/// `text` with the userinfo of every URL in it (`scheme://user:pass@`)
/// masked, whether or not its parts are known secrets; `None` when there is
/// none.
pub fn mask_userinfo(text: &str) -> Option<String> {
    if !text.contains("://") {
        return None;
    }
    let mut out = String::new();
    let mut done = 0;
    for (j, _) in text.match_indices("://") {
        let start = j + 3;
        if start < done {
            continue;
        }
        let rest = text.get(start..).unwrap_or_default();
        let authority_len = rest
            .find(|c: char| {
                // Userinfo may hold sub-delimiters (`;`, `,`, `'`, `(`):
                // only what cannot be in it ends it.
                matches!(c, '/' | '?' | '#' | '"' | '<' | '>' | '`' | '\\')
                    || c.is_whitespace()
                    || c.is_control()
            })
            .unwrap_or(rest.len());
        let authority = rest.get(..authority_len).unwrap_or_default();
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        if at == 0 || authority.get(..at) == Some(MASK) {
            continue;
        }
        out.push_str(text.get(done..start).unwrap_or_default());
        out.push_str(MASK);
        done = start + at;
    }
    if done == 0 {
        return None;
    }
    out.push_str(text.get(done..).unwrap_or_default());
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

    /// Every byte outside `[A-Za-z0-9]` as `%XX`, hex in the case asked.
    fn percent_all(s: &str, upper: bool) -> String {
        s.bytes()
            .map(|b| match (b.is_ascii_alphanumeric(), upper) {
                (true, _) => (b as char).to_string(),
                (false, true) => format!("%{b:02X}"),
                (false, false) => format!("%{b:02x}"),
            })
            .collect()
    }

    fn html(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }

    #[test]
    fn every_encoded_form_of_a_secret_is_masked() {
        let secret = "adv-SECRET \"q\" <z>/é😀";
        let json = serde_json::to_string(secret).unwrap();
        let json = json.trim_matches('"').to_owned();
        let json_twice = serde_json::to_string(&json).unwrap();
        let json_twice = json_twice.trim_matches('"').to_owned();
        let unicode: String = secret
            .encode_utf16()
            .map(|u| format!("\\u{u:04x}"))
            .collect();
        let numeric: String = secret.chars().map(|c| format!("&#{};", c as u32)).collect();
        let hex_refs: String = secret
            .chars()
            .map(|c| format!("&#X{:x};", c as u32))
            .collect();
        let forms = [
            secret.to_owned(),
            secret.to_lowercase(),
            secret.to_uppercase().replace('É', "é"),
            percent_all(secret, true),
            percent_all(secret, false),
            percent_all(&percent_all(secret, true), true),
            secret.replace(' ', "+"),
            json.clone(),
            json_twice,
            unicode,
            html(secret),
            html(&html(secret)),
            html(&json),
            numeric,
            hex_refs,
            format!("{:?}", secret).trim_matches('"').to_owned(),
        ];
        let mut r = Redactor::new();
        r.add(secret);
        for form in forms {
            let text = format!("before {form} after");
            assert_eq!(r.redact(&text), "before *** after", "form {form}");
        }
    }

    #[test]
    fn a_cut_encoded_secret_is_masked_to_the_cut() {
        let mut r = Redactor::new();
        r.add("tok-9f3a1c77e2b04d5ea61c");
        assert_eq!(r.redact("x tok%2D9f3a1c7…"), "x ***…");
        assert_eq!(r.redact("x tok%2D9f3a1c7%6"), "x ***");
        assert_eq!(r.redact("x TOK\\u002d9f3"), "x ***");
        // An escape that is not a form of the next character ends the match.
        assert_eq!(r.redact("tok-9%41 x"), "tok-9%41 x");
    }

    #[test]
    fn text_without_secrets_is_left_alone() {
        let mut r = Redactor::new();
        r.add("abcd-1234");
        for text in ["100% & \\n", "abcd 1234", "abc", "&amp; %zz \\u12", "é😀…"] {
            assert!(matches!(r.redact(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn userinfo_of_every_url_is_masked() {
        let r = Redactor::new();
        assert_eq!(
            r.redact("request: POST http://ci:hunter2@api.test:8080/q?x=1"),
            "request: POST http://***@api.test:8080/q?x=1"
        );
        assert_eq!(
            r.redact("'https://ghp_token@h' and http://u:p;w,d@h/"),
            "'https://***@h' and http://***@h/"
        );
        assert_eq!(
            r.redact("http://h/a@b mailto:x@y"),
            "http://h/a@b mailto:x@y"
        );
        assert_eq!(r.redact("http://***@h/"), "http://***@h/");
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
