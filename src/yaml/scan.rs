//! A reader for the YAML that case files are written in, into located events.
//!
//! serde-saphyr reads any YAML; most of its time on a case file goes to
//! generality the files never use (anchors, tags, several documents, a
//! budget per event, keys recorded for replay). This reader knows only the
//! common shapes: block mappings and sequences, flow mappings and sequences
//! (over several lines too), plain scalars on one line, quoted scalars on one
//! line, and `|`/`>` block scalars with `-` or no chomping indicator. Its
//! only answer to anything else is `None`, and then serde-saphyr reads the
//! file, as it reads any file that does not parse or does not deserialize
//! here: so errors (messages, lines, columns) are always serde-saphyr's, and
//! this reader never needs to explain one. What it gives up on, beyond the
//! shapes above: tabs, carriage returns, control and other non-printable
//! characters, a byte-order mark, document markers and directives, anchors,
//! aliases and tags, explicit keys (`?`), empty values, multi-line plain or
//! quoted scalars, `+` chomping and indentation indicators, folded scalars
//! with more-indented lines, duplicate keys (serde-saphyr words the error),
//! merge keys (`<<`), keys over 1,000 bytes, nesting deeper than 32 and
//! files over 1 MiB (both far below serde-saphyr's limits, so that a limit
//! is always its to report).
//!
//! Locations follow serde-saphyr's: 1-based lines and columns (counted in
//! characters), a mapping at its first key or `{`, a sequence at its first
//! `-` or `[` (one as indented as its key at its first item), a scalar at
//! its first character or quote, a block scalar at its first line of text. The
//! module's tests read every YAML file of the repository and thousands of
//! variants of them both ways and require the same values at the same
//! places whenever this reader gives an answer.

use std::borrow::Cow;

/// Files larger than this are left to serde-saphyr.
const MAX_INPUT: usize = 1 << 20;
/// Collections nested deeper than this are left to serde-saphyr.
const MAX_DEPTH: u32 = 32;
/// Implicit keys longer than this are left to serde-saphyr.
const MAX_KEY: usize = 1000;
/// Files with more events than this are left to serde-saphyr.
const MAX_EVENTS: usize = 100_000;

/// One event of a document, in document order.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ev<'a> {
    /// The start of a mapping; its keys and values follow, then [`Ev::End`].
    Map { line: u32, column: u32 },
    /// The start of a sequence; its items follow, then [`Ev::End`].
    Seq { line: u32, column: u32 },
    /// The end of the innermost open collection.
    End,
    /// A scalar; `plain` when it was written without quotes or `|`/`>`
    /// (only plain scalars are resolved to null, booleans and numbers).
    Scalar {
        text: Cow<'a, str>,
        plain: bool,
        line: u32,
        column: u32,
    },
}

/// The events of `src`, or `None` when the text is not one of the shapes
/// this reader knows (or is not valid YAML).
pub(super) fn events(src: &str) -> Option<Vec<Ev<'_>>> {
    if src.len() > MAX_INPUT || !printable(src.as_bytes()) {
        return None;
    }
    let mut p = Reader {
        s: src,
        b: src.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        indent: -1,
        depth: 0,
        out: Vec::with_capacity(src.len() / 6),
        keys: Vec::new(),
    };
    p.skip_to_content()?;
    if p.indent < 0 {
        return None;
    }
    p.block_node(-1, true)?;
    if p.indent >= 0 {
        return None;
    }
    Some(p.out)
}

/// No tab, carriage return or other control character, no byte-order mark,
/// no character YAML does not print or reads as a line break (NEL, U+2028,
/// U+2029), no noncharacter U+FFFE/U+FFFF.
fn printable(b: &[u8]) -> bool {
    // Most text is printable ASCII and line breaks: 16 bytes at a time,
    // without a branch per byte.
    let mut i = 0;
    while i + 16 <= b.len() {
        let ascii = b[i..i + 16].iter().fold(true, |ok, &c| {
            ok & ((0x20..0x7f).contains(&c) | (c == b'\n'))
        });
        if !ascii && !printable_bytes(&b[i..], 16) {
            return false;
        }
        i += 16;
    }
    printable_bytes(&b[i..], b.len() - i)
}

/// [`printable`] over the first `n` bytes of `b` (a character starting
/// there is read whole).
fn printable_bytes(b: &[u8], n: usize) -> bool {
    for i in 0..n {
        let c = b[i];
        match c {
            b'\n' | 0x20..=0x7e => {}
            0x00..=0x1f | 0x7f => return false,
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => return false,
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => {
                return false;
            }
            0xef if matches!(
                (b.get(i + 1), b.get(i + 2)),
                (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
            ) =>
            {
                return false;
            }
            _ => {}
        }
    }
    true
}

/// The bytes at which a plain scalar in block context may end (or its
/// trailing spaces start).
const PLAIN_STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\n' as usize] = true;
    t[b':' as usize] = true;
    t[b'#' as usize] = true;
    t[b' ' as usize] = true;
    t
};

/// A scalar read but not yet emitted (a key, until its `:` is seen).
struct Pending<'a> {
    text: Cow<'a, str>,
    plain: bool,
    line: u32,
    column: u32,
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    /// The indentation of the content line `pos` stands at the start of
    /// (after a node is read, always the next content line), or -1 at the end.
    indent: isize,
    depth: u32,
    out: Vec<Ev<'a>>,
    /// The keys (their events' indices) of the mappings being read,
    /// innermost last.
    keys: Vec<usize>,
}

impl<'a> Reader<'a> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(b'\n')
    }

    fn cur(&self) -> u8 {
        self.at(self.pos)
    }

    fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    /// The 1-based column of byte `pos` of the current line, in characters.
    fn column(&self, pos: usize) -> u32 {
        let prefix = &self.s[self.line_start..pos];
        let n = if prefix.is_ascii() {
            prefix.len()
        } else {
            prefix.chars().count()
        };
        u32::try_from(n + 1).unwrap_or(u32::MAX)
    }

    fn push(&mut self, ev: Ev<'a>) -> Option<()> {
        if self.out.len() >= MAX_EVENTS {
            return None;
        }
        self.out.push(ev);
        Some(())
    }

    fn emit(&mut self, p: Pending<'a>) -> Option<()> {
        self.push(Ev::Scalar {
            text: p.text,
            plain: p.plain,
            line: p.line,
            column: p.column,
        })
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// From the start of a line, on to the first content line (not blank,
    /// not only a comment): `pos` at its first character, `indent` set.
    fn skip_to_content(&mut self) -> Option<()> {
        loop {
            let mut i = self.pos;
            while self.at(i) == b' ' && i < self.b.len() {
                i += 1;
            }
            if i >= self.b.len() {
                self.pos = self.b.len();
                self.indent = -1;
                return Some(());
            }
            match self.b[i] {
                b'\n' => {}
                b'#' => {
                    while i < self.b.len() && self.b[i] != b'\n' {
                        i += 1;
                    }
                    if i >= self.b.len() {
                        self.pos = i;
                        self.indent = -1;
                        return Some(());
                    }
                }
                _ => {
                    if i == self.pos {
                        // Document markers and directives start a line.
                        let head = &self.b[i..];
                        if head.starts_with(b"---") || head.starts_with(b"...") {
                            return None;
                        }
                    }
                    self.indent = isize::try_from(i - self.pos).ok()?;
                    self.pos = i;
                    return Some(());
                }
            }
            // A blank or comment line: on to the next.
            self.pos = i + 1;
            self.line += 1;
            self.line_start = self.pos;
        }
    }

    /// After a node: nothing but spaces and a comment to the end of the
    /// line, then on to the next content line.
    fn end_line(&mut self) -> Option<()> {
        let start = self.pos;
        while self.cur() == b' ' && !self.eof() {
            self.pos += 1;
        }
        if self.cur() == b'#' && !self.eof() {
            if self.pos == start && self.pos != self.line_start {
                return None;
            }
            while !self.eof() && self.b[self.pos] != b'\n' {
                self.pos += 1;
            }
        }
        if self.eof() {
            self.indent = -1;
            return Some(());
        }
        if self.b[self.pos] != b'\n' {
            return None;
        }
        self.pos += 1;
        self.line += 1;
        self.line_start = self.pos;
        self.skip_to_content()
    }

    /// A node in block context at `pos`, inside a collection indented by
    /// `parent` (-1 for the document); `collections` when a block mapping
    /// or sequence may start here (at the start of a line or after `- `).
    fn block_node(&mut self, parent: isize, collections: bool) -> Option<()> {
        let c = self.cur();
        match c {
            b'{' | b'[' => {
                self.flow_node(parent)?;
                self.end_line()
            }
            b'"' | b'\'' => {
                let scalar = self.quoted()?;
                self.after_scalar(scalar, collections)
            }
            b'|' | b'>' => self.block_scalar(parent),
            b'-' if matches!(self.at(self.pos + 1), b' ' | b'\n') => {
                if !collections {
                    return None;
                }
                let ind = self.pos - self.line_start;
                self.block_seq(ind, false)
            }
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'#' | b',' | b']' | b'}' | b'?' | b':' => {
                None
            }
            _ => {
                let scalar = self.plain_block()?;
                self.after_scalar(scalar, collections)
            }
        }
    }

    /// A scalar just read in block context: the first key of a block
    /// mapping when a `:` follows, else a value ending its line.
    fn after_scalar(&mut self, scalar: Pending<'a>, collections: bool) -> Option<()> {
        let mut i = self.pos;
        while self.at(i) == b' ' && i < self.b.len() {
            i += 1;
        }
        if self.at(i) == b':' && i < self.b.len() {
            if !collections || !matches!(self.at(i + 1), b' ' | b'\n') {
                return None;
            }
            self.pos = i + 1;
            return self.block_map(scalar);
        }
        self.emit(scalar)?;
        self.end_line()
    }

    /// A block mapping whose first key has been read, and its `:`.
    fn block_map(&mut self, first: Pending<'a>) -> Option<()> {
        self.enter()?;
        // The mapping's indentation: the column of its first key.
        let ind = self.key_indent(&first)?;
        self.push(Ev::Map {
            line: first.line,
            column: first.column,
        })?;
        let keys = self.keys.len();
        let mut key = Some(first);
        loop {
            let k = match key.take() {
                Some(k) => k,
                None => self.key()?,
            };
            if k.text.len() > MAX_KEY {
                return None;
            }
            self.keys.push(self.out.len());
            self.emit(k)?;
            self.value_after_key(ind)?;
            if self.indent < ind {
                break;
            }
            if self.indent > ind {
                return None;
            }
        }
        self.push(Ev::End)?;
        self.depth -= 1;
        self.check_keys(keys)
    }

    /// The indentation of a block mapping whose first key is `k` (read on
    /// the current line): the key's offset from the start of the line.
    fn key_indent(&self, k: &Pending<'a>) -> Option<isize> {
        // Keys on this line start at `column - 1` characters in; indentation
        // and `- ` before a key are ASCII, so that is also a byte offset.
        let offset = usize::try_from(k.column).ok()? - 1;
        let prefix = self.s.get(self.line_start..self.line_start + offset)?;
        if !prefix.bytes().all(|b| b == b' ' || b == b'-') {
            return None;
        }
        isize::try_from(offset).ok()
    }

    /// A key of a block mapping, at the start of a content line, and its `:`.
    fn key(&mut self) -> Option<Pending<'a>> {
        let k = match self.cur() {
            b'"' | b'\'' => self.quoted()?,
            b'-' if matches!(self.at(self.pos + 1), b' ' | b'\n') => return None,
            b'{' | b'[' | b'|' | b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'#' | b','
            | b']' | b'}' | b'?' | b':' => return None,
            _ => self.plain_block()?,
        };
        while self.cur() == b' ' && !self.eof() {
            self.pos += 1;
        }
        if self.cur() != b':' || self.eof() || !matches!(self.at(self.pos + 1), b' ' | b'\n') {
            return None;
        }
        self.pos += 1;
        Some(k)
    }

    /// The value after a key's `:` in a block mapping indented by `ind`.
    fn value_after_key(&mut self, ind: isize) -> Option<()> {
        if self.rest_is_blank() {
            self.end_line()?;
            if self.indent > ind {
                return self.block_node(ind, true);
            }
            if self.indent == ind
                && self.cur() == b'-'
                && matches!(self.at(self.pos + 1), b' ' | b'\n')
            {
                // A sequence as indented as its key.
                return self.block_seq(usize::try_from(ind).ok()?, true);
            }
            // An empty value.
            return None;
        }
        self.skip_spaces();
        self.block_node(ind, false)
    }

    fn skip_spaces(&mut self) {
        while self.cur() == b' ' && !self.eof() {
            self.pos += 1;
        }
    }

    /// Whether only spaces, and a comment after one, follow on this line.
    fn rest_is_blank(&self) -> bool {
        let mut i = self.pos;
        while self.at(i) == b' ' && i < self.b.len() {
            i += 1;
        }
        i >= self.b.len() || self.b[i] == b'\n' || (self.b[i] == b'#' && i > self.pos)
    }

    /// A block sequence whose first `-` is at `pos`, `ind` from the line
    /// start; `indentless` when it is as indented as the key it is the value of.
    fn block_seq(&mut self, ind: usize, indentless: bool) -> Option<()> {
        self.enter()?;
        let ind_i = isize::try_from(ind).ok()?;
        let mut at = self.pos;
        if indentless {
            // serde-saphyr places such a sequence at its first item.
            at += 1;
            while self.at(at) == b' ' && at < self.b.len() {
                at += 1;
            }
            if matches!(self.at(at), b'\n' | b'#') {
                return None;
            }
        }
        self.push(Ev::Seq {
            line: self.line,
            column: self.column(at),
        })?;
        loop {
            // `pos` at a `-` followed by a space or the line's end.
            self.pos += 1;
            if self.rest_is_blank() {
                self.end_line()?;
                if self.indent <= ind_i {
                    // An empty item.
                    return None;
                }
                self.block_node(ind_i, true)?;
            } else {
                self.skip_spaces();
                self.block_node(ind_i, true)?;
            }
            if self.indent < ind_i {
                break;
            }
            if self.indent > ind_i {
                return None;
            }
            if !(self.cur() == b'-' && matches!(self.at(self.pos + 1), b' ' | b'\n')) {
                // The key after a sequence as indented as its own key.
                break;
            }
        }
        self.push(Ev::End)?;
        self.depth -= 1;
        Some(())
    }

    /// A plain scalar in block context, on one line: up to a `: `, a ` #`
    /// or the line's end. `pos` ends after it (trailing spaces left).
    fn plain_block(&mut self) -> Option<Pending<'a>> {
        let start = self.pos;
        let mut i = start;
        let mut end = start;
        loop {
            // Runs of ordinary bytes, then what may end the scalar.
            while i < self.b.len() && !PLAIN_STOP[usize::from(self.b[i])] {
                i += 1;
            }
            if i > end && self.b[i - 1] != b' ' {
                end = i;
            }
            if i >= self.b.len() {
                break;
            }
            match self.b[i] {
                b'\n' => break,
                b':' if matches!(self.at(i + 1), b' ' | b'\n') => break,
                b'#' if self.b[i - 1] == b' ' => break,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
        if end == start {
            return None;
        }
        self.pos = end;
        Some(Pending {
            text: Cow::Borrowed(&self.s[start..end]),
            plain: true,
            line: self.line,
            column: self.column(start),
        })
    }

    /// A single-line quoted scalar at `pos`; `pos` ends after its closing quote.
    fn quoted(&mut self) -> Option<Pending<'a>> {
        let start = self.pos;
        let q = self.b[start];
        let column = self.column(start);
        let mut i = start + 1;
        let mut owned: Option<String> = None;
        let mut run = i;
        loop {
            let c = *self.b.get(i)?;
            match c {
                b'\n' => return None,
                b'\'' if q == b'\'' => {
                    if self.at(i + 1) == b'\'' && i + 1 < self.b.len() {
                        let o = owned.get_or_insert_with(String::new);
                        o.push_str(&self.s[run..=i]);
                        i += 2;
                        run = i;
                        continue;
                    }
                    break;
                }
                b'"' if q == b'"' => break,
                b'\\' if q == b'"' => {
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&self.s[run..i]);
                    let (ch, len) = escape(&self.b[i + 1..])?;
                    o.push(ch);
                    i += 1 + len;
                    run = i;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        let text = match owned {
            Some(mut o) => {
                o.push_str(&self.s[run..i]);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(&self.s[start + 1..i]),
        };
        self.pos = i + 1;
        Some(Pending {
            text,
            plain: false,
            line: self.line,
            column,
        })
    }

    /// A `|` or `>` block scalar at `pos`, inside a collection indented by `parent`.
    fn block_scalar(&mut self, parent: isize) -> Option<()> {
        if parent < 0 {
            return None;
        }
        let literal = self.cur() == b'|';
        self.pos += 1;
        let strip = match self.cur() {
            b'-' => {
                self.pos += 1;
                true
            }
            b' ' | b'\n' => false,
            _ => return None,
        };
        // The header's end: spaces and a comment only.
        let header = self.pos;
        while self.cur() == b' ' && !self.eof() {
            self.pos += 1;
        }
        if self.cur() == b'#' && !self.eof() {
            if self.pos == header {
                return None;
            }
            while !self.eof() && self.b[self.pos] != b'\n' {
                self.pos += 1;
            }
        }
        if self.eof() {
            return None;
        }
        if self.b[self.pos] != b'\n' {
            return None;
        }
        // The content lines: blank lines count as empty lines, the first
        // other line sets the indentation, a less indented one ends it.
        let mut text = String::new();
        let mut content_indent: Option<usize> = None;
        let mut leading_blank = 0usize;
        let mut empties = 0usize;
        let mut any = false;
        let mut located = (0, 0);
        loop {
            // `pos` at the `\n` ending the previous line.
            if self.eof() {
                break;
            }
            let next = self.pos + 1;
            let mut i = next;
            while self.at(i) == b' ' && i < self.b.len() {
                i += 1;
            }
            let n = i - next;
            let blank = i >= self.b.len() || self.b[i] == b'\n';
            if blank {
                match content_indent {
                    Some(ci) if n > ci => return None,
                    None => leading_blank = leading_blank.max(n),
                    _ => {}
                }
                if i >= self.b.len() {
                    // The end of the text: the scalar ends there too.
                    self.pos = i;
                    self.line += 1;
                    self.line_start = next;
                    break;
                }
                empties += 1;
                self.pos = i;
                self.line += 1;
                self.line_start = next;
                continue;
            }
            let ci = match content_indent {
                Some(ci) => ci,
                None => {
                    if isize::try_from(n).ok()? <= parent || leading_blank > n {
                        return None;
                    }
                    content_indent = Some(n);
                    // serde-saphyr places a block scalar at its first line of text.
                    located = (self.line + 1, u32::try_from(n + 1).ok()?);
                    n
                }
            };
            if n < ci {
                // A less indented line: the scalar ended before it.
                break;
            }
            if n > ci && !literal {
                return None;
            }
            let mut e = i;
            while e < self.b.len() && self.b[e] != b'\n' {
                e += 1;
            }
            let content = &self.s[next + ci..e];
            if any {
                if literal {
                    for _ in 0..=empties {
                        text.push('\n');
                    }
                } else if empties == 0 {
                    text.push(' ');
                } else {
                    for _ in 0..empties {
                        text.push('\n');
                    }
                }
            } else if empties > 0 && literal {
                for _ in 0..empties {
                    text.push('\n');
                }
            } else if empties > 0 {
                // Folded: leading empty lines are line breaks too.
                for _ in 0..empties {
                    text.push('\n');
                }
            }
            text.push_str(content);
            any = true;
            empties = 0;
            self.pos = e;
            self.line += 1;
            self.line_start = next;
        }
        if !any {
            return None;
        }
        if !strip {
            text.push('\n');
        }
        self.push(Ev::Scalar {
            text: Cow::Owned(text),
            plain: false,
            line: located.0,
            column: located.1,
        })?;
        // On to the next content line: `pos` is at the end of the last line
        // read (or of the text), or at the start of a less indented line.
        if self.eof() {
            self.indent = -1;
            return Some(());
        }
        if self.b[self.pos] == b'\n' {
            self.pos += 1;
            self.line += 1;
            self.line_start = self.pos;
        }
        self.skip_to_content()
    }

    /// Spaces, line breaks and comments inside a flow collection; a line
    /// must be indented more than `parent`, the block collection around.
    fn flow_space(&mut self, parent: isize) -> Option<()> {
        loop {
            match self.cur() {
                _ if self.eof() => return None,
                b' ' => self.pos += 1,
                b'#' => {
                    let before = self.pos.checked_sub(1).map(|i| self.b[i]);
                    if !matches!(before, Some(b' ' | b'\n')) {
                        return None;
                    }
                    while !self.eof() && self.b[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                    let mut i = self.pos;
                    while self.at(i) == b' ' && i < self.b.len() {
                        i += 1;
                    }
                    let n = isize::try_from(i - self.pos).ok()?;
                    let blank = i >= self.b.len() || self.b[i] == b'\n';
                    if !blank && n <= parent {
                        return None;
                    }
                    if n == 0 {
                        let head = &self.b[self.pos..];
                        if head.starts_with(b"---") || head.starts_with(b"...") {
                            return None;
                        }
                    }
                    self.pos = i;
                }
                _ => return Some(()),
            }
        }
    }

    /// A node in flow context.
    fn flow_node(&mut self, parent: isize) -> Option<()> {
        match self.cur() {
            b'{' => self.flow_map(parent),
            b'[' => self.flow_seq(parent),
            b'"' | b'\'' => {
                let s = self.quoted()?;
                self.emit(s)
            }
            _ => {
                let s = self.plain_flow(parent)?;
                self.emit(s)
            }
        }
    }

    fn flow_map(&mut self, parent: isize) -> Option<()> {
        self.enter()?;
        self.push(Ev::Map {
            line: self.line,
            column: self.column(self.pos),
        })?;
        self.pos += 1;
        let keys = self.keys.len();
        self.flow_space(parent)?;
        while self.cur() != b'}' {
            let key_line = self.line;
            let k = match self.cur() {
                b'"' | b'\'' => self.quoted()?,
                b'{' | b'[' => return None,
                _ => self.plain_flow(parent)?,
            };
            if k.text.len() > MAX_KEY {
                return None;
            }
            while self.cur() == b' ' && !self.eof() {
                self.pos += 1;
            }
            // An implicit key is on one line with its `:`.
            if self.cur() != b':' || self.eof() || self.line != key_line {
                return None;
            }
            if !matches!(self.at(self.pos + 1), b' ' | b'\n') {
                return None;
            }
            self.pos += 1;
            self.keys.push(self.out.len());
            self.emit(k)?;
            self.flow_space(parent)?;
            if matches!(self.cur(), b',' | b'}') {
                // An empty value.
                return None;
            }
            self.flow_item(parent, b'}')?;
        }
        self.pos += 1;
        self.push(Ev::End)?;
        self.depth -= 1;
        self.check_keys(keys)
    }

    /// A flow collection's value or item, then its `,` or the `close`
    /// that ends the collection (left for the caller); `None` otherwise.
    fn flow_item(&mut self, parent: isize, close: u8) -> Option<()> {
        self.flow_node(parent)?;
        self.flow_space(parent)?;
        match self.cur() {
            b',' => {
                self.pos += 1;
                self.flow_space(parent)
            }
            c if c == close => Some(()),
            _ => None,
        }
    }

    fn flow_seq(&mut self, parent: isize) -> Option<()> {
        self.enter()?;
        self.push(Ev::Seq {
            line: self.line,
            column: self.column(self.pos),
        })?;
        self.pos += 1;
        self.flow_space(parent)?;
        while self.cur() != b']' {
            if self.cur() == b',' {
                return None;
            }
            self.flow_item(parent, b']')?;
        }
        self.pos += 1;
        self.push(Ev::End)?;
        self.depth -= 1;
        Some(())
    }

    /// A plain scalar in flow context, on one line, without `:`; what
    /// follows it (past spaces, line breaks and comments) must end it.
    fn plain_flow(&mut self, parent: isize) -> Option<Pending<'a>> {
        let start = self.pos;
        match self.cur() {
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'#' | b',' | b'[' | b']' | b'{' | b'}'
            | b'|' | b'>' | b'\'' | b'"' | b'?' | b':' => return None,
            b'-' if matches!(
                self.at(start + 1),
                b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}'
            ) =>
            {
                return None;
            }
            _ => {}
        }
        let mut i = start;
        let mut end = start;
        while i < self.b.len() {
            match self.b[i] {
                b'\n' | b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' => {
                    if matches!(self.at(i + 1), b' ' | b'\n') {
                        break;
                    }
                    return None;
                }
                b'#' if self.b[i - 1] == b' ' => break,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
        if end == start {
            return None;
        }
        let p = Pending {
            text: Cow::Borrowed(&self.s[start..end]),
            plain: true,
            line: self.line,
            column: self.column(start),
        };
        self.pos = end;
        // A plain scalar may go on over lines: only an indicator after it
        // shows that it does not.
        let mut j = end;
        while self.at(j) == b' ' && j < self.b.len() {
            j += 1;
        }
        if matches!(self.at(j), b'\n' | b'#') {
            let (pos, line, start_of_line) = (self.pos, self.line, self.line_start);
            self.pos = j;
            self.flow_space(parent)?;
            let ends = matches!(self.cur(), b',' | b']' | b'}');
            (self.pos, self.line, self.line_start) = (pos, line, start_of_line);
            if !ends {
                return None;
            }
        }
        Some(p)
    }

    /// No two keys alike in the mapping whose keys start at `from` on the
    /// key stack (which drops them), and no `<<`: serde-saphyr merges a
    /// `<<` key's mapping into the one that holds it (YAML 1.1 merge keys),
    /// so a mapping with a `<<` key, quoted or not, is left to it.
    fn check_keys(&mut self, from: usize) -> Option<()> {
        let keys = &self.keys[from..];
        let text = |i: &usize| match &self.out[*i] {
            Ev::Scalar { text, .. } => text.as_ref(),
            _ => "",
        };
        let ok = if keys.iter().any(|k| text(k) == "<<") {
            false
        } else if keys.len() <= 16 {
            keys.iter()
                .enumerate()
                .all(|(n, a)| keys[..n].iter().all(|b| text(a) != text(b)))
        } else {
            let mut all: Vec<&str> = keys.iter().map(text).collect();
            all.sort_unstable();
            all.windows(2).all(|w| w[0] != w[1])
        };
        self.keys.truncate(from);
        ok.then_some(())
    }
}

/// A double-quoted escape after its `\`: the character and the bytes read.
fn escape(b: &[u8]) -> Option<(char, usize)> {
    let simple = match *b.first()? {
        b'\\' => '\\',
        b'"' => '"',
        b'/' => '/',
        b'n' => '\n',
        b't' => '\t',
        b'r' => '\r',
        b'0' => '\0',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'u' => {
            let hex = std::str::from_utf8(b.get(1..5)?).ok()?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            let code = u32::from_str_radix(hex, 16).ok()?;
            return Some((char::from_u32(code)?, 5));
        }
        _ => return None,
    };
    Some((simple, 1))
}
