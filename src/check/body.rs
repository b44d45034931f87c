//! `empty_body`: `body: empty` means zero bytes (whitespace is tolerated);
//! `{}` is not empty, and the failure says so plainly.

use crate::case::model::BodyExpect;
use crate::diag::SourceLocation;
use crate::matcher::truncate;
use crate::model::Failure;

use super::Check;

pub fn check(want: BodyExpect, loc: &SourceLocation, raw: &[u8]) -> Option<Failure> {
    let blank = raw.iter().all(u8::is_ascii_whitespace);
    match want {
        BodyExpect::Empty if blank => None,
        BodyExpect::Empty => {
            let text = truncate(&String::from_utf8_lossy(raw), 200);
            let n = raw.len();
            Some(
                Failure::assertion(
                    Check::EmptyBody,
                    loc,
                    format!(
                        "expected an empty body, got {n} byte{}: {text}",
                        if n == 1 { "" } else { "s" }
                    ),
                )
                .expected_actual("an empty body (0 bytes)", format!("{n} bytes: {text}")),
            )
        }
        BodyExpect::NotEmpty if blank => Some(
            Failure::assertion(
                Check::EmptyBody,
                loc,
                format!("expected a body, got {} bytes", raw.len()),
            )
            .expected_actual("a non-empty body", format!("{} bytes", raw.len())),
        ),
        BodyExpect::NotEmpty => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_object_is_not_an_empty_body() {
        let loc = SourceLocation::new("a.yaml", 1, 1);
        assert!(check(BodyExpect::Empty, &loc, b"").is_none());
        assert!(check(BodyExpect::Empty, &loc, b" \n").is_none());
        let f = check(BodyExpect::Empty, &loc, b"{}").unwrap();
        assert_eq!(f.message, "expected an empty body, got 2 bytes: {}");
        assert!(check(BodyExpect::NotEmpty, &loc, b"").is_some());
        assert!(check(BodyExpect::NotEmpty, &loc, b"{}").is_none());
    }
}
