//! Problems with the contract itself, all of them at once.

use std::fmt;

use crate::diag::{Diagnostic, SourceLocation};

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

/// Every problem found while loading a contract (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Lines(&self.0))]
pub struct ContractErrors(pub Vec<ContractError>);

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
        let all = ContractErrors(vec![e(4, "/paths"), e(0, "")]);
        assert_eq!(all.to_string(), "c.yaml:4:3: bad (at /paths)\nc.yaml: bad");
        assert_eq!(all.0[0].to_diagnostic().location.line, 4);
    }
}
