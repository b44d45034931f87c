//! `status_code`: the response status is the expected one (default: any 2xx).

use crate::case::model::StatusSpec;
use crate::diag::SourceLocation;
use crate::model::Failure;

use super::Check;

/// The expectation when a step states none.
pub const DEFAULT: StatusSpec = StatusSpec::Class(2);

/// Checks `status` against the step's expectation (or 2xx).
pub fn check(expected: Option<&(StatusSpec, SourceLocation)>, status: u16) -> Option<Failure> {
    let unknown = SourceLocation::new("", 0, 0);
    let (spec, loc) = match expected {
        Some((s, l)) => (s, l),
        None => (&DEFAULT, &unknown),
    };
    if spec.matches(status) {
        return None;
    }
    let implicit = if expected.is_none() {
        " (no `expect.status` given, so any 2xx)"
    } else {
        ""
    };
    Some(
        Failure::assertion(
            Check::StatusCode,
            loc,
            format!("expected status {spec}{implicit}, got {status}"),
        )
        .expected_actual(spec.to_string(), status.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_lists_and_classes() {
        let loc = SourceLocation::new("a.yaml", 3, 5);
        assert!(check(Some(&(StatusSpec::Code(200), loc.clone())), 200).is_none());
        let f = check(Some(&(StatusSpec::Code(200), loc.clone())), 500).unwrap();
        assert_eq!(f.message, "expected status 200, got 500");
        assert_eq!(f.location.line, 3);
        let list = StatusSpec::Any(vec![StatusSpec::Code(200), StatusSpec::Class(4)]);
        assert!(check(Some(&(list.clone(), loc.clone())), 404).is_none());
        assert!(check(Some(&(list, loc)), 500).is_some());
    }

    #[test]
    fn default_is_any_success() {
        assert!(check(None, 204).is_none());
        let f = check(None, 401).unwrap();
        assert!(f.message.contains("any 2xx"), "{}", f.message);
    }
}
