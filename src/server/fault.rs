//! Fault modes: named deliberate contract violations and tolerated variations,
//! each with the verdict the bundled suite must reach against it.

use std::fmt;
use std::str::FromStr;

/// A deliberate contract violation or a tolerated variation that the
/// reference server can enable; [`Fault::expected`] says which.
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
    /// `create-without-id`
    CreateWithoutId,
    /// `paging-skips-row`
    PagingSkipsRow,
    /// `paging-repeats-row`
    PagingRepeatsRow,
    /// `never-completes`
    NeverCompletes,
    /// `status-lowercase`
    StatusLowercase,
    /// `flaky-once`
    FlakyOnce,
    /// `slow-lifecycle` (variation, passes)
    SlowLifecycle,
    /// `late-unknown` (variation, passes)
    LateUnknown,
    /// `extra-fields` (variation, passes)
    ExtraFields,
    /// `gzip` (variation, passes)
    Gzip,
    /// `chunked` (variation, passes)
    Chunked,
    /// `charset` (variation, passes)
    Charset,
    /// `first-page-empty` (variation, passes)
    FirstPageEmpty,
    /// `context-requires-request` (variation, passes)
    ContextRequiresRequest,
    /// `minimal-rows` (variation, passes)
    MinimalRows,
    /// `unknown-fields-no-limit` (variation, passes)
    UnknownFieldsNoLimit,
    /// `error-not-json` (variation, deviates from A12)
    ErrorNotJson,
    /// `error-missing-code` (variation, deviates from A12)
    ErrorMissingCode,
    /// `row-count-number` (variation, deviates from A4)
    RowCountNumber,
    /// `create-accepts-two-wrappers` (variation, deviates from A9)
    CreateAcceptsTwoWrappers,
    /// `oversized-413-text` (variation, deviates from A12)
    Oversized413Text,
    /// `zero-values-omitted` (variation, deviates from A5)
    ZeroValuesOmitted,
    /// `queued-status` (variation, deviates from A3)
    QueuedStatus,
    /// `missing-id-404` (variation, deviates from A9)
    MissingId404,
    /// `cancel-unknown-404` (variation, deviates from A7)
    CancelUnknown404,
    /// `wrong-token-400` (variation, deviates from A11)
    WrongToken400,
    /// `no-rows` (variation, inconclusive on P1)
    NoRows,
    /// `instant-done` (variation, inconclusive on P2)
    InstantDone,
}

/// What the bundled suite must conclude against the server in a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A deliberate violation: the run fails (exit 1) on these documented clauses.
    Fails(&'static [&'static str]),
    /// Conformant: the run passes, no deviation (exit 0).
    Passes,
    /// Conformant with deviations: exit 0, these assumptions reported as deviating.
    Deviates(&'static [&'static str]),
    /// Inconclusive: exit 0, these preconditions reported as not met.
    Inconclusive(&'static [&'static str]),
}

impl Expected {
    /// The clause ids the verdict names; empty for [`Expected::Passes`].
    pub fn clauses(self) -> &'static [&'static str] {
        match self {
            Expected::Fails(ids) | Expected::Deviates(ids) | Expected::Inconclusive(ids) => ids,
            Expected::Passes => &[],
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self {
            Expected::Fails(_) => "fails",
            Expected::Passes => "passes",
            Expected::Deviates(_) => "deviates",
            Expected::Inconclusive(_) => "inconclusive",
        };
        f.write_str(word)?;
        for (i, id) in self.clauses().iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            f.write_str(id)?;
        }
        Ok(())
    }
}

impl Fault {
    /// Every fault mode in declaration order: violations first, then the
    /// variations that pass, that deviate, and that leave the run inconclusive.
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
        Fault::CreateWithoutId,
        Fault::PagingSkipsRow,
        Fault::PagingRepeatsRow,
        Fault::NeverCompletes,
        Fault::StatusLowercase,
        Fault::FlakyOnce,
        Fault::SlowLifecycle,
        Fault::LateUnknown,
        Fault::ExtraFields,
        Fault::Gzip,
        Fault::Chunked,
        Fault::Charset,
        Fault::FirstPageEmpty,
        Fault::ContextRequiresRequest,
        Fault::MinimalRows,
        Fault::UnknownFieldsNoLimit,
        Fault::ErrorNotJson,
        Fault::ErrorMissingCode,
        Fault::RowCountNumber,
        Fault::CreateAcceptsTwoWrappers,
        Fault::Oversized413Text,
        Fault::ZeroValuesOmitted,
        Fault::QueuedStatus,
        Fault::MissingId404,
        Fault::CancelUnknown404,
        Fault::WrongToken400,
        Fault::NoRows,
        Fault::InstantDone,
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
            Fault::CreateWithoutId => "create-without-id",
            Fault::PagingSkipsRow => "paging-skips-row",
            Fault::PagingRepeatsRow => "paging-repeats-row",
            Fault::NeverCompletes => "never-completes",
            Fault::StatusLowercase => "status-lowercase",
            Fault::FlakyOnce => "flaky-once",
            Fault::SlowLifecycle => "slow-lifecycle",
            Fault::LateUnknown => "late-unknown",
            Fault::ExtraFields => "extra-fields",
            Fault::Gzip => "gzip",
            Fault::Chunked => "chunked",
            Fault::Charset => "charset",
            Fault::FirstPageEmpty => "first-page-empty",
            Fault::ContextRequiresRequest => "context-requires-request",
            Fault::MinimalRows => "minimal-rows",
            Fault::ErrorNotJson => "error-not-json",
            Fault::ErrorMissingCode => "error-missing-code",
            Fault::RowCountNumber => "row-count-number",
            Fault::CreateAcceptsTwoWrappers => "create-accepts-two-wrappers",
            Fault::UnknownFieldsNoLimit => "unknown-fields-no-limit",
            Fault::Oversized413Text => "oversized-413-text",
            Fault::ZeroValuesOmitted => "zero-values-omitted",
            Fault::QueuedStatus => "queued-status",
            Fault::MissingId404 => "missing-id-404",
            Fault::CancelUnknown404 => "cancel-unknown-404",
            Fault::WrongToken400 => "wrong-token-400",
            Fault::NoRows => "no-rows",
            Fault::InstantDone => "instant-done",
        }
    }

    /// What the bundled suite must conclude against the server in this mode.
    pub fn expected(self) -> Expected {
        match self {
            Fault::CreateWithoutId | Fault::FlakyOnce => Expected::Fails(&["D1"]),
            Fault::CancelEmptyObject | Fault::Cancel204 => Expected::Fails(&["D2"]),
            Fault::GetAfterCancelDone
            | Fault::GetAfterCancelRunning
            | Fault::CancelNoop
            | Fault::CancelRunningNoop => Expected::Fails(&["D3"]),
            Fault::RowsAfterCancel => Expected::Fails(&["D4"]),
            Fault::StatusLowercase => Expected::Fails(&["D5"]),
            Fault::NoAuth => Expected::Fails(&["D6"]),
            Fault::PagingSkipsRow | Fault::PagingRepeatsRow | Fault::NeverCompletes => {
                Expected::Fails(&["D7"])
            }
            Fault::CancelCancelsAll => Expected::Fails(&["D8"]),
            Fault::SlowLifecycle
            | Fault::LateUnknown
            | Fault::ExtraFields
            | Fault::Gzip
            | Fault::Chunked
            | Fault::Charset
            | Fault::FirstPageEmpty
            | Fault::ContextRequiresRequest
            | Fault::MinimalRows
            | Fault::UnknownFieldsNoLimit => Expected::Passes,
            Fault::QueuedStatus => Expected::Deviates(&["A3"]),
            Fault::RowCountNumber => Expected::Deviates(&["A4"]),
            Fault::ZeroValuesOmitted => Expected::Deviates(&["A5"]),
            Fault::CancelUnknown404 => Expected::Deviates(&["A7"]),
            Fault::CreateAcceptsTwoWrappers | Fault::MissingId404 => Expected::Deviates(&["A9"]),
            Fault::WrongToken400 => Expected::Deviates(&["A11"]),
            Fault::ErrorNotJson | Fault::ErrorMissingCode | Fault::Oversized413Text => {
                Expected::Deviates(&["A12"])
            }
            Fault::NoRows => Expected::Inconclusive(&["P1"]),
            Fault::InstantDone => Expected::Inconclusive(&["P2"]),
        }
    }

    /// One line: what the mode changes and which clause it breaks, deviates
    /// from, or leaves unmet.
    pub fn description(self) -> &'static str {
        match self {
            Fault::CancelEmptyObject => {
                "cancel answers 200 with the body {} instead of an empty body (breaks D2)"
            }
            Fault::Cancel204 => {
                "cancel answers 204 No Content instead of 200, though it still cancels (breaks D2)"
            }
            Fault::GetAfterCancelDone => {
                "after cancel, Get reports DONE with the rows instead of UNKNOWN (breaks D3)"
            }
            Fault::GetAfterCancelRunning => {
                "after cancel, Get reports RUNNING forever instead of UNKNOWN (breaks D3)"
            }
            Fault::CancelNoop => {
                "cancel answers 200 but does nothing; the query runs on to DONE (breaks D3)"
            }
            Fault::CancelRunningNoop => {
                "cancel answers 200 but cannot stop a query still running: it runs on to DONE; finished ones are dropped (breaks D3)"
            }
            Fault::RowsAfterCancel => {
                "after cancel, Get says UNKNOWN but still returns rows (breaks D4)"
            }
            Fault::CancelCancelsAll => "cancelling one query cancels every query (breaks D8)",
            Fault::NoAuth => {
                "the bearer token is not checked: calls without one are served (breaks D6)"
            }
            Fault::CreateWithoutId => "create answers 200 {} without a query_result_id (breaks D1)",
            Fault::PagingSkipsRow => {
                "each page after the first starts one row too late, skipping a row (breaks D7)"
            }
            Fault::PagingRepeatsRow => {
                "each page after the first starts one row too early, repeating a row (breaks D7)"
            }
            Fault::NeverCompletes => {
                "queries stay RUNNING forever and never reach DONE (breaks D7)"
            }
            Fault::StatusLowercase => {
                "status values are lower-case (`done`, `unknown`, ...) (breaks D5)"
            }
            Fault::FlakyOnce => {
                "the first valid create that would start a query answers 500 Internal, later ones work: a flaky server (breaks D1 once; --retries reports it flaky)"
            }
            Fault::SlowLifecycle => {
                "queries take 5x the configured lifecycle (at least 3 s) to reach DONE (conformant)"
            }
            Fault::LateUnknown => {
                "after cancel, Get keeps an in-flight query's status (PENDING or RUNNING, without rows) for 1 s before UNKNOWN, never DONE (conformant)"
            }
            Fault::ExtraFields => {
                "every JSON response object carries an undocumented `x_debug` field (conformant)"
            }
            Fault::Gzip => {
                "JSON bodies are gzip-compressed when the request accepts gzip (conformant)"
            }
            Fault::Chunked => {
                "JSON bodies are sent with transfer-encoding: chunked in several chunks (conformant)"
            }
            Fault::Charset => {
                "JSON responses have content type application/json; charset=utf-8 (conformant)"
            }
            Fault::FirstPageEmpty => {
                "the first page of a DONE query is empty with has_more true; its token leads to every row (conformant: D7 allows empty pages)"
            }
            Fault::ContextRequiresRequest => {
                "cached_result_context without request.body answers 400 InvalidArgument (conformant: D1 has every wrapper hold request.body)"
            }
            Fault::MinimalRows => {
                "node rows carry only id, type and properties (conformant: A13 makes the rest optional)"
            }
            Fault::ErrorNotJson => {
                "error responses are text/plain `bad request` instead of the JSON error body (deviates from A12)"
            }
            Fault::ErrorMissingCode => "error bodies lack the `code` field (deviates from A12)",
            Fault::RowCountNumber => {
                "progress_status.row_count is a JSON number instead of an int64 string (deviates from A4)"
            }
            Fault::CreateAcceptsTwoWrappers => {
                "create accepts a body with several wrappers, using the first, instead of answering 400 (deviates from A9)"
            }
            Fault::UnknownFieldsNoLimit => {
                "no 4 MiB request limit: larger bodies are read in full (up to 64 MiB) and served, unknown fields dropped, instead of 429 ResourceExhausted (conformant: no limit is documented)"
            }
            Fault::Oversized413Text => {
                "bodies over 4 MiB answer 413 Payload Too Large in text/plain instead of 429 ResourceExhausted JSON (deviates from A12: an error body that is not JSON)"
            }
            Fault::ZeroValuesOmitted => {
                "zero values are omitted: no empty values, false has_more, empty next_page_token, zero row_count or empty details (deviates from A5)"
            }
            Fault::QueuedStatus => {
                "a query's first phase reports status QUEUED instead of PENDING (deviates from A3)"
            }
            Fault::MissingId404 => {
                "a Get or cancel with a missing or empty query_result_id answers 404 NotFound instead of 400 (deviates from A9)"
            }
            Fault::CancelUnknown404 => {
                "cancelling an id the server does not know (never created, cancelled, expired) answers 404 NotFound instead of 200 (deviates from A7)"
            }
            Fault::WrongToken400 => {
                "a wrong bearer token answers 400 InvalidArgument `Invalid API key` instead of 401; a missing one still 401 (deviates from A11)"
            }
            Fault::NoRows => "every query reaches DONE with no rows (row_count \"0\") (P1 not met)",
            Fault::InstantDone => {
                "every query is DONE at creation, whatever the lifecycle, so cancel finds it finished (P2 not met)"
            }
        }
    }

    /// True for tolerated variations: the bundled suite must not fail (exit 0).
    pub fn is_variation(self) -> bool {
        !matches!(self.expected(), Expected::Fails(_))
    }

    fn bit(self) -> u64 {
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
    crate::diag::did_you_mean_hint(name, Fault::ALL.iter().map(|fault| fault.name()))
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
pub(crate) struct FaultSet(u64);

// Every mode has its own bit.
const _: () = assert!(Fault::ALL.len() <= u64::BITS as usize);

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
        assert_eq!(Fault::ALL.len(), 37);
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(*fault));
            assert_eq!(fault.to_string(), fault.name());
            assert!(!fault.description().is_empty());
            assert!(!fault.description().contains('\n'));
        }
    }

    #[test]
    fn all_lists_every_variant_in_declaration_order() {
        for (index, fault) in Fault::ALL.iter().enumerate() {
            assert_eq!(*fault as usize, index, "{fault}");
        }
        let bits: BTreeSet<_> = Fault::ALL.iter().map(|f| f.bit()).collect();
        assert_eq!(bits.len(), Fault::ALL.len());
    }

    #[test]
    fn the_variations() {
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
                "charset",
                "first-page-empty",
                "context-requires-request",
                "minimal-rows",
                "unknown-fields-no-limit",
                "error-not-json",
                "error-missing-code",
                "row-count-number",
                "create-accepts-two-wrappers",
                "oversized-413-text",
                "zero-values-omitted",
                "queued-status",
                "missing-id-404",
                "cancel-unknown-404",
                "wrong-token-400",
                "no-rows",
                "instant-done",
            ]
        );
        let faults = Fault::ALL.iter().filter(|f| !f.is_variation()).count();
        assert_eq!(faults, 15);
    }

    /// Fails names only documented clauses, Deviates only assumptions,
    /// Inconclusive only preconditions; is_variation is false exactly for Fails.
    #[test]
    fn expected_verdicts_are_consistent() {
        let documented = ["D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8"];
        let assumptions = [
            "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10", "A11", "A12", "A13",
        ];
        let preconditions = ["P1", "P2"];
        for fault in Fault::ALL {
            let expected = fault.expected();
            let (registry, failing): (&[&str], bool) = match expected {
                Expected::Fails(_) => (&documented, true),
                Expected::Passes => (&[], false),
                Expected::Deviates(_) => (&assumptions, false),
                Expected::Inconclusive(_) => (&preconditions, false),
            };
            assert_eq!(fault.is_variation(), !failing, "{fault}");
            assert_eq!(
                expected.clauses().is_empty(),
                expected == Expected::Passes,
                "{fault}: {expected}"
            );
            for clause in expected.clauses() {
                assert!(registry.contains(clause), "{fault}: {expected}");
                assert!(
                    fault.description().contains(clause),
                    "{fault}: the description names {clause}"
                );
            }
        }
    }

    #[test]
    fn all_is_ordered_by_verdict() {
        let rank = |fault: &Fault| match fault.expected() {
            Expected::Fails(_) => 0,
            Expected::Passes => 1,
            Expected::Deviates(_) => 2,
            Expected::Inconclusive(_) => 3,
        };
        let ranks: Vec<_> = Fault::ALL.iter().map(rank).collect();
        assert!(ranks.is_sorted(), "{ranks:?}");
    }

    #[test]
    fn expected_metadata_of_converted_and_new_modes() {
        let cases: &[(Fault, Expected, &str)] = &[
            (
                Fault::CancelEmptyObject,
                Expected::Fails(&["D2"]),
                "fails D2",
            ),
            (Fault::FlakyOnce, Expected::Fails(&["D1"]), "fails D1"),
            (Fault::NoAuth, Expected::Fails(&["D6"]), "fails D6"),
            (
                Fault::CancelCancelsAll,
                Expected::Fails(&["D8"]),
                "fails D8",
            ),
            (
                Fault::ErrorNotJson,
                Expected::Deviates(&["A12"]),
                "deviates A12",
            ),
            (
                Fault::ErrorMissingCode,
                Expected::Deviates(&["A12"]),
                "deviates A12",
            ),
            (
                Fault::RowCountNumber,
                Expected::Deviates(&["A4"]),
                "deviates A4",
            ),
            (
                Fault::CreateAcceptsTwoWrappers,
                Expected::Deviates(&["A9"]),
                "deviates A9",
            ),
            (Fault::SlowLifecycle, Expected::Passes, "passes"),
            (Fault::Charset, Expected::Passes, "passes"),
            (Fault::FirstPageEmpty, Expected::Passes, "passes"),
            (Fault::ContextRequiresRequest, Expected::Passes, "passes"),
            (Fault::MinimalRows, Expected::Passes, "passes"),
            (Fault::UnknownFieldsNoLimit, Expected::Passes, "passes"),
            (
                Fault::Oversized413Text,
                Expected::Deviates(&["A12"]),
                "deviates A12",
            ),
            (
                Fault::ZeroValuesOmitted,
                Expected::Deviates(&["A5"]),
                "deviates A5",
            ),
            (
                Fault::QueuedStatus,
                Expected::Deviates(&["A3"]),
                "deviates A3",
            ),
            (
                Fault::MissingId404,
                Expected::Deviates(&["A9"]),
                "deviates A9",
            ),
            (
                Fault::CancelUnknown404,
                Expected::Deviates(&["A7"]),
                "deviates A7",
            ),
            (
                Fault::WrongToken400,
                Expected::Deviates(&["A11"]),
                "deviates A11",
            ),
            (
                Fault::NoRows,
                Expected::Inconclusive(&["P1"]),
                "inconclusive P1",
            ),
            (
                Fault::InstantDone,
                Expected::Inconclusive(&["P2"]),
                "inconclusive P2",
            ),
        ];
        for (fault, expected, shown) in cases {
            assert_eq!(fault.expected(), *expected, "{fault}");
            assert_eq!(fault.expected().to_string(), *shown, "{fault}");
        }
    }

    #[test]
    fn expected_display_joins_several_clauses() {
        assert_eq!(Expected::Fails(&["D3", "D4"]).to_string(), "fails D3, D4");
        assert_eq!(
            Expected::Inconclusive(&["P1", "P2"]).to_string(),
            "inconclusive P1, P2"
        );
        assert_eq!(Expected::Passes.clauses(), &[] as &[&str]);
        assert_eq!(Expected::Deviates(&["A5"]).clauses(), &["A5"]);
    }

    #[test]
    fn unknown_name_lists_valid_names_and_suggests() {
        let err = "cancel-205".parse::<Fault>().unwrap_err();
        assert_eq!(err.name(), "cancel-205");
        let message = err.to_string();
        assert!(message.contains("did you mean `cancel-204`"), "{message}");
        assert!(
            message.contains("no-auth") && message.contains("instant-done"),
            "{message}"
        );
        let err = "zzzzzzzzzzzzzzzz".parse::<Fault>().unwrap_err();
        assert!(!err.to_string().contains("did you mean"));
    }

    #[test]
    fn fault_set_membership() {
        let set = FaultSet::new(&[Fault::Gzip, Fault::NoAuth, Fault::InstantDone]);
        assert!(set.has(Fault::Gzip) && set.has(Fault::NoAuth));
        assert!(set.has(Fault::InstantDone), "a mode past bit 32");
        assert!(!set.has(Fault::Charset) && !set.has(Fault::NoRows));
        assert!(set.any(&[Fault::Charset, Fault::NoAuth]));
        assert!(!FaultSet::default().any(Fault::ALL));
        let every = FaultSet::new(Fault::ALL);
        assert!(Fault::ALL.iter().all(|f| every.has(*f)));
    }
}
