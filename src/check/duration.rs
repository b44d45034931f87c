//! `max_duration`: the (final) request answered within a bound.

use std::time::Duration;

use crate::diag::SourceLocation;
use crate::model::Failure;

use super::Check;

pub fn check(max: Duration, loc: &SourceLocation, took: Duration) -> Option<Failure> {
    if took <= max {
        return None;
    }
    let fmt = |d: Duration| {
        humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
    };
    Some(
        Failure::assertion(
            Check::MaxDuration,
            loc,
            format!(
                "expected a response within {}, it took {}",
                fmt(max),
                fmt(took)
            ),
        )
        .expected_actual(format!("<= {}", fmt(max)), fmt(took)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slower_than_the_bound_fails() {
        let loc = SourceLocation::new("a.yaml", 1, 1);
        assert!(check(Duration::from_millis(100), &loc, Duration::from_millis(99)).is_none());
        let f = check(Duration::from_millis(100), &loc, Duration::from_millis(250)).unwrap();
        assert_eq!(f.message, "expected a response within 100ms, it took 250ms");
    }
}
