//! Fault modes: named deliberate contract violations and tolerated variations.

use std::fmt;
use std::str::FromStr;

/// A deliberate contract violation (`is_variation() == false`) or a tolerated
/// variation (`is_variation() == true`) that the reference server can enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// `cancel-empty-object`
    CancelEmptyObject,
    /// `cancel-204`
    Cancel204,
    /// `get-after-cancel-done`
    GetAfterCancelDone,
    /// `get-after-cancel-running`
    GetAfterCancelRunning,
    /// `cancel-noop`
    CancelNoop,
    /// `cancel-running-noop`
    CancelRunningNoop,
    /// `rows-after-cancel`
    RowsAfterCancel,
    /// `cancel-cancels-all`
    CancelCancelsAll,
    /// `no-auth`
    NoAuth,
    /// `error-not-json`
    ErrorNotJson,
    /// `error-missing-code`
    ErrorMissingCode,
    /// `create-without-id`
    CreateWithoutId,
    /// `row-count-number`
    RowCountNumber,
    /// `paging-skips-row`
    PagingSkipsRow,
    /// `paging-repeats-row`
    PagingRepeatsRow,
    /// `never-completes`
    NeverCompletes,
    /// `create-accepts-two-wrappers`
    CreateAcceptsTwoWrappers,
    /// `status-lowercase`
    StatusLowercase,
    /// `flaky-once`
    FlakyOnce,
    /// `slow-lifecycle` (variation)
    SlowLifecycle,
    /// `late-unknown` (variation)
    LateUnknown,
    /// `extra-fields` (variation)
    ExtraFields,
    /// `gzip` (variation)
    Gzip,
    /// `chunked` (variation)
    Chunked,
    /// `charset` (variation)
    Charset,
}

impl Fault {
    /// Every fault mode, violations first, then variations.
    pub const ALL: &'static [Fault] = &[
        Fault::CancelEmptyObject,
        Fault::Cancel204,
        Fault::GetAfterCancelDone,
        Fault::GetAfterCancelRunning,
        Fault::CancelNoop,
        Fault::CancelRunningNoop,
        Fault::RowsAfterCancel,
        Fault::CancelCancelsAll,
        Fault::NoAuth,
        Fault::ErrorNotJson,
        Fault::ErrorMissingCode,
        Fault::CreateWithoutId,
        Fault::RowCountNumber,
        Fault::PagingSkipsRow,
        Fault::PagingRepeatsRow,
        Fault::NeverCompletes,
        Fault::CreateAcceptsTwoWrappers,
        Fault::StatusLowercase,
        Fault::FlakyOnce,
        Fault::SlowLifecycle,
        Fault::LateUnknown,
        Fault::ExtraFields,
        Fault::Gzip,
        Fault::Chunked,
        Fault::Charset,
    ];

    /// The stable kebab-case name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Fault::CancelEmptyObject => "cancel-empty-object",
            Fault::Cancel204 => "cancel-204",
            Fault::GetAfterCancelDone => "get-after-cancel-done",
            Fault::GetAfterCancelRunning => "get-after-cancel-running",
            Fault::CancelNoop => "cancel-noop",
            Fault::CancelRunningNoop => "cancel-running-noop",
            Fault::RowsAfterCancel => "rows-after-cancel",
            Fault::CancelCancelsAll => "cancel-cancels-all",
            Fault::NoAuth => "no-auth",
            Fault::ErrorNotJson => "error-not-json",
            Fault::ErrorMissingCode => "error-missing-code",
            Fault::CreateWithoutId => "create-without-id",
            Fault::RowCountNumber => "row-count-number",
            Fault::PagingSkipsRow => "paging-skips-row",
            Fault::PagingRepeatsRow => "paging-repeats-row",
            Fault::NeverCompletes => "never-completes",
            Fault::CreateAcceptsTwoWrappers => "create-accepts-two-wrappers",
            Fault::StatusLowercase => "status-lowercase",
            Fault::FlakyOnce => "flaky-once",
            Fault::SlowLifecycle => "slow-lifecycle",
            Fault::LateUnknown => "late-unknown",
            Fault::ExtraFields => "extra-fields",
            Fault::Gzip => "gzip",
            Fault::Chunked => "chunked",
            Fault::Charset => "charset",
        }
    }

    /// One line: which clause the fault breaks, or what the variation varies.
    pub fn description(self) -> &'static str {
        match self {
            Fault::CancelEmptyObject => {
                "cancel answers 200 with the body {} instead of an empty body (breaks clause 2)"
            }
            Fault::Cancel204 => {
                "cancel answers 204 No Content instead of 200, though it still cancels (breaks clause 2)"
            }
            Fault::GetAfterCancelDone => {
                "after cancel, Get reports DONE with the rows instead of UNKNOWN (breaks clause 3)"
            }
            Fault::GetAfterCancelRunning => {
                "after cancel, Get reports RUNNING forever instead of UNKNOWN (breaks clause 3)"
            }
            Fault::CancelNoop => {
                "cancel answers 200 but does nothing; the query runs on to DONE (breaks clause 3)"
            }
            Fault::CancelRunningNoop => {
                "cancel answers 200 but cannot stop a query still running: it runs on to DONE; finished ones are dropped (breaks clause 3)"
            }
            Fault::RowsAfterCancel => {
                "after cancel, Get says UNKNOWN but still returns rows (breaks clause 3)"
            }
            Fault::CancelCancelsAll => "cancelling one query cancels every query (breaks clause 5)",
            Fault::NoAuth => "the bearer token is not checked (breaks clause 8, A9)",
            Fault::ErrorNotJson => {
                "error responses are text/plain `bad request` instead of the JSON error body (breaks clauses 7 and 9)"
            }
            Fault::ErrorMissingCode => {
                "error bodies lack the required `code` field (breaks clauses 7 and 9)"
            }
            Fault::CreateWithoutId => {
                "create answers 200 {} without a query_result_id (breaks clause 1, A1)"
            }
            Fault::RowCountNumber => {
                "progress_status.row_count is a JSON number instead of an int64 string (breaks clause 9, A3)"
            }
            Fault::PagingSkipsRow => {
                "each page after the first starts one row too late, skipping a row (breaks clause 4)"
            }
            Fault::PagingRepeatsRow => {
                "each page after the first starts one row too early, repeating a row (breaks clause 4)"
            }
            Fault::NeverCompletes => "queries stay RUNNING forever (breaks clauses 4 and 5)",
            Fault::CreateAcceptsTwoWrappers => {
                "create accepts a body with several wrappers instead of answering 400 (breaks clause 7, A7)"
            }
            Fault::StatusLowercase => {
                "status values are lowercase (`done`, `unknown`, ...) (breaks clauses 3, 4 and 9)"
            }
            Fault::FlakyOnce => {
                "the first create answers 500 Internal, later ones work: a flaky server (breaks clause 1 once; --retries reports it flaky)"
            }
            Fault::SlowLifecycle => {
                "variation: queries take 5x the configured lifecycle (at least 3 s) to reach DONE"
            }
            Fault::LateUnknown => {
                "variation: after cancel, Get keeps an in-flight query's status (PENDING or RUNNING, without rows) for 1 s before UNKNOWN"
            }
            Fault::ExtraFields => {
                "variation: every JSON response object carries an undocumented `x_debug` field"
            }
            Fault::Gzip => {
                "variation: JSON bodies are gzip-compressed when the request accepts gzip"
            }
            Fault::Chunked => {
                "variation: JSON bodies are sent with transfer-encoding: chunked in several chunks"
            }
            Fault::Charset => {
                "variation: JSON responses have content type application/json; charset=utf-8"
            }
        }
    }

    /// True for tolerated variations: a conforming harness must still pass.
    pub fn is_variation(self) -> bool {
        matches!(
            self,
            Fault::SlowLifecycle
                | Fault::LateUnknown
                | Fault::ExtraFields
                | Fault::Gzip
                | Fault::Chunked
                | Fault::Charset
        )
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Fault`] name: its message lists the valid names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault `{name}`{hint}; valid names: {valid}", hint = suggestion(name), valid = valid_names())]
pub struct UnknownFault {
    name: String,
}

impl UnknownFault {
    /// The name that matched no fault.
    pub fn name(&self) -> &str {
        &self.name
    }
}

fn valid_names() -> String {
    Fault::ALL
        .iter()
        .map(|fault| fault.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn suggestion(name: &str) -> String {
    Fault::ALL
        .iter()
        .map(|fault| (strsim::levenshtein(name, fault.name()), fault.name()))
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, best)| format!(" (did you mean `{best}`?)"))
        .unwrap_or_default()
}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .iter()
            .copied()
            .find(|fault| fault.name() == s)
            .ok_or_else(|| UnknownFault { name: s.to_owned() })
    }
}

/// The enabled faults, as a cheap copyable bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FaultSet(u32);

impl FaultSet {
    pub(crate) fn new(faults: &[Fault]) -> Self {
        FaultSet(faults.iter().fold(0, |bits, fault| bits | fault.bit()))
    }

    pub(crate) fn has(self, fault: Fault) -> bool {
        self.0 & fault.bit() != 0
    }

    pub(crate) fn any(self, faults: &[Fault]) -> bool {
        faults.iter().any(|fault| self.has(*fault))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_round_trip_and_are_unique() {
        let names: BTreeSet<_> = Fault::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Fault::ALL.len());
        assert_eq!(Fault::ALL.len(), 25);
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(*fault));
            assert_eq!(fault.to_string(), fault.name());
            assert!(!fault.description().is_empty());
            assert!(!fault.description().contains('\n'));
        }
    }

    #[test]
    fn exactly_six_variations() {
        let variations: Vec<_> = Fault::ALL
            .iter()
            .filter(|f| f.is_variation())
            .map(|f| f.name())
            .collect();
        assert_eq!(
            variations,
            [
                "slow-lifecycle",
                "late-unknown",
                "extra-fields",
                "gzip",
                "chunked",
                "charset"
            ]
        );
    }

    #[test]
    fn unknown_name_lists_valid_names_and_suggests() {
        let err = "cancel-205".parse::<Fault>().unwrap_err();
        assert_eq!(err.name(), "cancel-205");
        let message = err.to_string();
        assert!(message.contains("did you mean `cancel-204`"), "{message}");
        assert!(
            message.contains("no-auth") && message.contains("charset"),
            "{message}"
        );
        let err = "zzzzzzzzzzzzzzzz".parse::<Fault>().unwrap_err();
        assert!(!err.to_string().contains("did you mean"));
    }

    #[test]
    fn fault_set_membership() {
        let set = FaultSet::new(&[Fault::Gzip, Fault::NoAuth]);
        assert!(set.has(Fault::Gzip) && set.has(Fault::NoAuth));
        assert!(!set.has(Fault::Charset));
        assert!(set.any(&[Fault::Charset, Fault::NoAuth]));
        assert!(!FaultSet::default().any(Fault::ALL));
    }
}
