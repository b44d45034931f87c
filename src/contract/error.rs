//! Problems with the contract itself, all of them at once.

use std::fmt;
use std::sync::Arc;

use super::tree::Node;
use crate::diag::{Diagnostic, SourceLocation};

/// Problems found so far, as (JSON pointer, message).
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<(String, String)>);

impl Problems {
    pub(crate) fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push((pointer.into(), message.into()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems in document order (by line; unlocated ones first, as found).
    pub(crate) fn into_errors(self, file: &str, tree: Option<&Node>) -> ContractErrors {
        let mut errors: Vec<ContractError> = self
            .0
            .into_iter()
            .map(|(pointer, message)| {
                let (line, column) = tree.map_or((0, 0), |t| t.location(&pointer));
                ContractError {
                    file: file.to_owned(),
                    pointer,
                    line,
                    column,
                    message,
                }
            })
            .collect();
        errors.sort_by_key(|e| (e.line, e.column));
        ContractErrors::new(errors)
    }
}

/// One problem: where (file, JSON pointer, line and column when known) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Line(self))]
pub struct ContractError {
    pub file: String,
    /// JSON pointer into the document; `""` for the root.
    pub pointer: String,
    /// 1-based; 0 when unknown (JSON input, or a problem with the whole file).
    pub line: u32,
    /// 1-based; 0 when unknown.
    pub column: u32,
    pub message: String,
}

/// `file:line:column: message (at /pointer)`, leaving out what is unknown.
struct Line<'a>(&'a ContractError);

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        if e.line > 0 {
            write!(f, "{}:{}:{}: {}", e.file, e.line, e.column, e.message)?;
        } else {
            write!(f, "{}: {}", e.file, e.message)?;
        }
        if !e.pointer.is_empty() {
            write!(f, " (at {})", e.pointer)?;
        }
        Ok(())
    }
}

impl ContractError {
    /// The same problem as a case-loader diagnostic, for uniform rendering.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let message = if self.pointer.is_empty() {
            self.message.clone()
        } else {
            format!("{} (at {})", self.message, self.pointer)
        };
        Diagnostic::new(
            SourceLocation::new(
                self.file.clone(),
                u64::from(self.line),
                u64::from(self.column),
            ),
            message,
        )
    }
}

/// Every problem found while loading a contract (never empty), with the
/// contract's text when problems have lines (for excerpts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Lines(&self.0))]
pub struct ContractErrors(pub Vec<ContractError>, pub(crate) Option<Arc<str>>);

impl ContractErrors {
    pub fn new(errors: Vec<ContractError>) -> ContractErrors {
        ContractErrors(errors, None)
    }

    /// The same problems, with the text they are in.
    pub(crate) fn with_source(mut self, source: Arc<str>) -> ContractErrors {
        self.1 = Some(source);
        self
    }

    /// The problems as located diagnostics, each with an excerpt when its
    /// line is known.
    pub fn to_diagnostics(&self) -> Vec<Diagnostic> {
        self.0
            .iter()
            .map(|e| match &self.1 {
                Some(s) if e.line > 0 => e.to_diagnostic().with_source(s.clone()),
                _ => e.to_diagnostic(),
            })
            .collect()
    }
}

struct Lines<'a>(&'a [ContractError]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_problem() {
        let e = |line, pointer: &str| ContractError {
            file: "c.yaml".into(),
            pointer: pointer.into(),
            line,
            column: 3,
            message: "bad".into(),
        };
        let all = ContractErrors::new(vec![e(4, "/paths"), e(0, "")]);
        assert_eq!(all.to_string(), "c.yaml:4:3: bad (at /paths)\nc.yaml: bad");
        assert_eq!(all.0[0].to_diagnostic().location.line, 4);
    }
}
