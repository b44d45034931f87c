//! Located problems in input files, rendered with a source excerpt.
//!
//! Every problem the loader finds becomes a [`Diagnostic`]: the file, the
//! 1-based line and column, a one-line message and, when the source is known,
//! an excerpt with a caret under the offending spot.

use std::fmt;
use std::path::Path;

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

/// A position in an input file (1-based; 0 means unknown). The file name is
/// shared: a suite holds thousands of locations in a few files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceLocation {
    pub file: std::sync::Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl SourceLocation {
    pub fn new(file: impl Into<std::sync::Arc<str>>, line: u64, column: u64) -> Self {
        Self {
            file: file.into(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// One problem found in an input file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub location: SourceLocation,
    pub message: String,
    /// The file's text, for the excerpt (absent when the file could not be read).
    source: Option<std::sync::Arc<str>>,
}

impl Diagnostic {
    pub fn new(location: SourceLocation, message: impl Into<String>) -> Self {
        Self {
            location,
            message: message.into(),
            source: None,
        }
    }

    /// A problem with a whole file (unreadable, missing).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Self::new(SourceLocation::new(display_path(path), 0, 0), message)
    }

    pub fn with_source(mut self, source: std::sync::Arc<str>) -> Self {
        self.source = Some(source);
        self
    }

    /// Renders the message with an excerpt of the source, as compilers do.
    pub fn render(&self) -> String {
        let Some(source) = self.source.as_deref() else {
            return format!("error: {}\n --> {}", self.message, self.location);
        };
        let Some(offset) = byte_offset(source, self.location.line, self.location.column) else {
            return format!("error: {}\n --> {}", self.message, self.location);
        };
        let end = source[offset..]
            .chars()
            .next()
            .map_or(offset, |c| offset + c.len_utf8());
        let title = format!("{} ({})", self.message, self.location);
        let report = &[Level::ERROR.primary_title(title).element(
            Snippet::source(source)
                .path(&*self.location.file)
                .annotation(AnnotationKind::Primary.span(offset..end)),
        )];
        Renderer::plain().render(report).to_string()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Byte offset of a 1-based line and (character) column.
fn byte_offset(source: &str, line: u32, column: u32) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let mut start = 0usize;
    for _ in 1..line {
        start += source[start..].find('\n')? + 1;
    }
    let line_text = source[start..].split('\n').next().unwrap_or("");
    let col = column.max(1) as usize - 1;
    let within = line_text
        .char_indices()
        .nth(col)
        .map_or(line_text.len(), |(i, _)| i);
    Some(start + within)
}

/// A path as the user gave it, with `/` separators.
pub fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The closest candidate to `word`, for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ` (did you mean `x`?)` naming the closest candidate to `word`, or
/// nothing: the one way every message suggests a name.
pub fn did_you_mean_hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match did_you_mean(word, candidates) {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

/// All problems found in a suite; the loader returns these instead of stopping at the first.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out.push_str(&d.render());
            out.push('\n');
        }
        let n = self.0.len();
        out.push_str(&format!(
            "{n} problem{} found; nothing was sent",
            if n == 1 { "" } else { "s" }
        ));
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters_not_bytes() {
        let src = "a: é\nb: x\n";
        assert_eq!(byte_offset(src, 2, 4), Some(9));
        assert_eq!(byte_offset(src, 1, 4), Some(3));
        assert_eq!(byte_offset(src, 9, 1), None);
    }

    #[test]
    fn render_shows_file_line_and_excerpt() {
        let src: std::sync::Arc<str> = "name: x\nsteps: 3\n".into();
        let d = Diagnostic::new(SourceLocation::new("cases/a.yaml", 2, 8), "expected a list")
            .with_source(src);
        let out = d.render();
        assert!(out.contains("expected a list (cases/a.yaml:2:8)"), "{out}");
        assert!(out.contains("steps: 3"), "{out}");
        assert!(out.contains('^'), "{out}");
    }

    #[test]
    fn suggestions_only_when_close() {
        assert_eq!(
            did_you_mean("stauts", ["status", "headers"]),
            Some("status")
        );
        assert_eq!(did_you_mean("zzz", ["status", "headers"]), None);
    }
}
