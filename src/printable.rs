//! Text a server sent, made safe to show anywhere (and counts written for
//! people: [`grouped`]).
//!
//! A server under test controls much of what a run records: bodies,
//! header values, the values a failure quotes as `actual`, what a poll
//! observed, even the names in a certificate that a TLS error repeats.
//! Shown raw, that text could move a terminal's cursor, set its title or
//! write its clipboard (ESC and OSC sequences), forge lines that a CI log
//! parser reads (`test x ... ok` of libtest's format, GitHub's `::add-mask::`
//! workflow commands at the start of a line), reorder what a reader sees
//! (Unicode bidi overrides), or break a file format (XML 1.0 forbids most C0
//! controls).
//!
//! The text is therefore made printable once, where it enters the result
//! model (`model::ScenarioResult::make_printable`, applied to every scenario
//! a run records and to every `report.json` read back); every report, being
//! a projection of the model, inherits the guarantee. Two kinds of field:
//!
//! - **One-line** fields ([`line`]): a failure's message, expected and
//!   actual, header values, URLs, what a poll observed, the curl line. Every
//!   control character but the tab (CR, LF, FF, VT, NUL, ESC, DEL, the C1
//!   controls U+0080–U+009F and the rest), the line and paragraph separators
//!   U+2028 and U+2029, and the bidi embeddings, overrides and isolates
//!   (U+202A–U+202E, U+2066–U+2069) are written as visible escapes: `\r`,
//!   `\n`, and `\u{1b}`-style for the others. Such a field stays on one line.
//! - **Blocks** ([`block`]): request and response bodies. Line feeds and
//!   tabs stay, a carriage return only as part of a CRLF; everything else
//!   [`line`] escapes is escaped the same way. Where a report prints a block
//!   as lines of its own (the terminal, JUnit bodies), it indents every line.
//!
//! A report printed as lines (the terminal, JUnit bodies, the Markdown
//! details) also makes each line [`inert`] for CI log readers, and indents
//! every line a server wrote, none starting at column 0.
//!
//! The escapes are plain text (a backslash is not itself escaped), so
//! making text printable twice changes nothing.

use std::borrow::Cow;

/// Whether `c` is a bidi embedding, override or isolate (the characters of
/// "Trojan Source"), or a line or paragraph separator.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Whether a one-line field escapes `c`.
pub fn escaped_in_line(c: char) -> bool {
    (c.is_control() && c != '\t') || is_invisible_format(c)
}

fn escape(c: char, out: &mut String) {
    match c {
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        _ => out.extend(c.escape_unicode()),
    }
}

/// `s` as one printable line: see the module documentation.
pub fn line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(escaped_in_line) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if escaped_in_line(c) {
            escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` as a printable block of lines: see the module documentation.
pub fn block(s: &str) -> Cow<'_, str> {
    let mut chars = s.chars().peekable();
    let mut clean = true;
    while let Some(c) = chars.next() {
        let kept = match c {
            '\n' | '\t' => true,
            '\r' => chars.peek() == Some(&'\n'),
            _ => !escaped_in_line(c),
        };
        if !kept {
            clean = false;
            break;
        }
    }
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => out.push(c),
            _ if escaped_in_line(c) => escape(c, &mut out),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Makes `s` one printable line in place.
pub fn fix_line(s: &mut String) {
    if let Cow::Owned(o) = line(s) {
        *s = o;
    }
}

/// Makes `s` a printable block in place.
pub fn fix_block(s: &mut String) {
    if let Cow::Owned(o) = block(s) {
        *s = o;
    }
}

/// A line of text as a CI log reader cannot take for a command: GitHub
/// Actions reads a workflow command (`::add-mask::…`) in a line that starts
/// with `::` once leading blanks are trimmed, and a legacy one (`##[…]`)
/// anywhere in a line. The first `:` of such a line, and the second `#` of
/// each `##[`, are written as `\u{3a}` and `\u{23}`.
pub fn inert(line: &str) -> Cow<'_, str> {
    let trimmed = line.trim_start();
    let command = trimmed.starts_with("::");
    if !command && !line.contains("##[") {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    let (head, rest) = line.split_at(line.len() - trimmed.len());
    out.push_str(head);
    let rest = if command {
        out.push_str("\\u{3a}");
        &rest[1..]
    } else {
        rest
    };
    out.push_str(&rest.replace("##[", "#\\u{23}["));
    Cow::Owned(out)
}

/// `text` with every line after the first indented by `indent`: a block
/// printed under a label, none of its lines starting at column 0.
pub fn indent_lines(text: &str, indent: &str) -> String {
    text.lines()
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

/// A count with its thousands grouped by commas: `1,224`.
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "a\r\ntest 99_forged ... ok\r\n::add-mask::x\x0c\x0b\x00\x1b]52;c;aGk=\x07\x1b[2J\x7f\u{85}\u{202e}z\u{2066}\u{2028}\tend\r";

    #[test]
    fn a_line_stays_one_line_and_shows_what_it_escaped() {
        let l = line(HOSTILE);
        assert_eq!(
            l,
            "a\\r\\ntest 99_forged ... ok\\r\\n::add-mask::x\\u{c}\\u{b}\\u{0}\\u{1b}]52;c;aGk=\\u{7}\\u{1b}[2J\\u{7f}\\u{85}\\u{202e}z\\u{2066}\\u{2028}\tend\\r"
        );
        assert!(!l.chars().any(escaped_in_line));
        assert_eq!(line(&l), l, "twice is once");
        assert!(matches!(line("plain\ttext é ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_block_keeps_line_feeds_tabs_and_crlf_only() {
        let b = block(HOSTILE);
        assert_eq!(
            b,
            "a\r\ntest 99_forged ... ok\r\n::add-mask::x\\u{c}\\u{b}\\u{0}\\u{1b}]52;c;aGk=\\u{7}\\u{1b}[2J\\u{7f}\\u{85}\\u{202e}z\\u{2066}\\u{2028}\tend\\r"
        );
        assert_eq!(block(&b), b, "twice is once");
        assert_eq!(block("x\ry"), "x\\ry");
        assert!(matches!(block("{\r\n\t\"a\": 1\n}"), Cow::Borrowed(_)));
    }

    #[test]
    fn ci_commands_are_made_inert() {
        assert_eq!(inert("    ::add-mask::x"), "    \\u{3a}:add-mask::x");
        assert_eq!(
            inert("a ##[error]b ##[x]"),
            "a #\\u{23}[error]b #\\u{23}[x]"
        );
        assert_eq!(inert("::a ##[b"), "\\u{3a}:a #\\u{23}[b");
        assert!(matches!(inert("a :: b # [c]"), Cow::Borrowed(_)));
    }

    #[test]
    fn continuation_lines_are_indented() {
        assert_eq!(indent_lines("a\nb\r\nc", "  "), "a\n  b\n  c");
        assert_eq!(indent_lines("one", "  "), "one");
    }
}
