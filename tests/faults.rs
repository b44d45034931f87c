//! The bundled suite reaches the right verdict against the reference server
//! in each of its modes, and says why: a fault fails the run naming the
//! documented clause it breaks, with the check and the scenario that caught
//! it; a deviation passes the run naming the assumption; an unmet
//! precondition makes the clauses it guards inconclusive.
//! (`tests/selfcheck.rs` runs every mode; these name the checks.)

mod common;
use std::time::Duration;

use conform::clause::Assumptions;
use conform::model::{ClauseVerdict, Level, Outcome, RunResult, StepOutcome};
use conform::runner::{RunOptions, RunOutput, run};
use conform::server::Fault;

fn run_with(faults: &[Fault]) -> RunOutput {
    run_opts(faults, |_| {})
}

fn run_opts(faults: &[Fault], tweak: impl FnOnce(&mut RunOptions)) -> RunOutput {
    let mut opts = RunOptions {
        reports: None,
        ..RunOptions::new()
    };
    opts.inputs.cases = concat!(env!("CARGO_MANIFEST_DIR"), "/cases").into();
    opts.target.embedded.faults = faults.to_vec();
    // Short, so that scenarios waiting for DONE finish soon; the server's
    // phases are paced by Gets (the default), so the flagship still finds
    // its query in progress (P2) however loaded the machine.
    opts.target.embedded.lifecycle = Some(Duration::from_secs(1));
    // Faults caught only at a deadline are caught sooner.
    opts.transport.poll_timeout = Some(Duration::from_secs(5));
    tweak(&mut opts);
    // The runs fail on purpose: keep libtest's report of them off the terminal.
    run(&opts, &common::quiet()).expect("the bundled suite loads")
}

/// A failed check: its name, its clause, its message, whether it counts.
type Seen<'a> = (&'a str, Option<&'a str>, &'a str, bool);

/// The scenario whose id starts with `id_prefix`.
fn scenario<'a>(r: &'a RunResult, id_prefix: &str) -> &'a conform::model::ScenarioResult {
    r.scenarios
        .iter()
        .find(|s| s.id.starts_with(id_prefix))
        .unwrap_or_else(|| panic!("no scenario {id_prefix}"))
}

/// The failures of a scenario whose outcome is `outcome`.
fn failures<'a>(r: &'a RunResult, id_prefix: &str, outcome: Outcome) -> Vec<Seen<'a>> {
    let sc = scenario(r, id_prefix);
    assert_eq!(sc.outcome, outcome, "{id_prefix}: {sc:#?}");
    sc.failures()
        .map(|(_, f)| {
            (
                f.check.name(),
                f.clause.as_deref(),
                f.message.as_str(),
                f.counts(),
            )
        })
        .collect()
}

/// Whether `seen` holds a failed `check` of `clause` whose message holds `fragment`.
fn has(seen: &[Seen<'_>], check: &str, clause: &str, fragment: &str) -> bool {
    seen.iter()
        .any(|(c, cl, m, _)| *c == check && *cl == Some(clause) && m.contains(fragment))
}

fn verdict_of(r: &RunResult, id: &str) -> ClauseVerdict {
    r.clauses
        .iter()
        .find(|c| &*c.id == id)
        .unwrap_or_else(|| panic!("no clause {id}"))
        .verdict
}

/// The run fails; `scenario` failed `check` of `clause` with `fragment`,
/// and the matrix says the clause is broken.
fn assert_caught(fault: Fault, scenario: &str, check: &str, clause: &str, fragment: &str) {
    let out = run_with(&[fault]);
    assert_eq!(out.exit_code, 1, "{fault}: the run must fail");
    let f = failures(&out.result, scenario, Outcome::Failed);
    assert!(
        f.iter().any(|(c, cl, m, counts)| *c == check
            && *cl == Some(clause)
            && m.contains(fragment)
            && *counts),
        "{fault}: {scenario} should fail `{check}` of {clause} with `{fragment}`, got {f:#?}"
    );
    assert_eq!(verdict_of(&out.result, clause), ClauseVerdict::Broken);
    assert!(!out.result.verdict.as_ref().unwrap().conformant);
}

/// The run passes; `scenario` deviates on `check` of assumption `clause`
/// with `fragment`, and no documented clause is broken.
fn assert_deviates(mode: Fault, scenario: &str, check: &str, clause: &str, fragment: &str) {
    let out = run_with(&[mode]);
    assert_eq!(out.exit_code, 0, "{mode}: a deviation passes the run");
    let f = failures(&out.result, scenario, Outcome::Deviates);
    assert!(
        f.iter()
            .any(|(c, cl, m, _)| *c == check && *cl == Some(clause) && m.contains(fragment)),
        "{mode}: {scenario} should deviate on `{check}` of {clause} with `{fragment}`, got {f:#?}"
    );
    assert_eq!(verdict_of(&out.result, clause), ClauseVerdict::Deviates);
    for c in &out.result.clauses {
        assert_ne!(c.verdict, ClauseVerdict::Broken, "{mode}: {c:?}");
    }
    let v = out.result.verdict.as_ref().unwrap();
    assert!(v.conformant, "{v:?}");
    assert!(v.statement.contains(&format!("{clause} (")), "{v:?}");
}

#[test]
fn the_suite_passes_against_the_reference_server() {
    let out = run_with(&[]);
    assert_eq!(out.exit_code, 0, "{:#?}", out.result.scenarios);
    assert_eq!(
        out.result.count(Outcome::Passed),
        out.result.scenarios.len()
    );
    assert!(out.result.scenarios.len() >= 20);
    assert!(out.embedded_requests > 0);
    let cov = out
        .result
        .coverage
        .as_ref()
        .expect("the suite has a contract");
    assert!(
        cov.percent >= 90.0,
        "coverage {:.1}%: {:#?}",
        cov.percent,
        cov.operations
    );
    // Every clause of the registry is exercised and met.
    assert_eq!(out.result.clauses.len(), 23);
    for c in &out.result.clauses {
        assert_eq!(c.verdict, ClauseVerdict::Met, "{c:?}");
        assert!(!c.scenarios.is_empty(), "{c:?}");
    }
}

#[test]
fn cancel_answering_an_empty_object_is_caught() {
    assert_caught(
        Fault::CancelEmptyObject,
        "01_cancel_then_poll_unknown::",
        "empty_body",
        "D2",
        "expected an empty body, got 2 bytes: {}",
    );
}

#[test]
fn a_cancel_body_is_caught_by_the_contract_too() {
    assert_caught(
        Fault::CancelEmptyObject,
        "01_cancel_then_poll_unknown::",
        "content_type",
        "D2",
        "the contract documents no body",
    );
}

#[test]
fn cancel_answering_204_is_caught() {
    assert_caught(
        Fault::Cancel204,
        "01_cancel_then_poll_unknown::",
        "status_code",
        "D2",
        "got 204",
    );
}

#[test]
fn get_after_cancel_saying_done_is_caught() {
    assert_caught(
        Fault::GetAfterCancelDone,
        "01_cancel_then_poll_unknown::",
        "poll_fail_if",
        "D3",
        "\"DONE\"",
    );
}

#[test]
fn cancel_doing_nothing_is_caught() {
    assert_caught(
        Fault::CancelNoop,
        "01_cancel_then_poll_unknown::",
        "poll_fail_if",
        "D3",
        "\"DONE\"",
    );
}

#[test]
fn rows_after_cancel_are_caught() {
    assert_caught(
        Fault::RowsAfterCancel,
        "01_cancel_then_poll_unknown::",
        "variable",
        "D4",
        "rows",
    );
}

#[test]
fn lowercase_status_is_caught_at_once_by_the_contract() {
    let out = run_with(&[Fault::StatusLowercase]);
    assert_eq!(out.exit_code, 1);
    let sc = scenario(&out.result, "01_");
    // The first Get breaks D5 (and is no status A3 lists): the flagship stops there.
    let step = sc
        .steps
        .iter()
        .find(|s| !s.failures.is_empty())
        .expect("a failed step");
    assert_eq!(step.name, "the query is still in progress");
    assert!(
        step.failures
            .iter()
            .any(|f| f.check.name() == "response_schema"
                && f.clause.as_deref() == Some("D5")
                && f.message.contains("/status")),
        "{step:#?}"
    );
    assert_eq!(verdict_of(&out.result, "D5"), ClauseVerdict::Broken);
    assert_eq!(verdict_of(&out.result, "A3"), ClauseVerdict::Deviates);
}

#[test]
fn auth_not_enforced_is_caught_on_every_endpoint() {
    let out = run_with(&[Fault::NoAuth]);
    assert_eq!(out.exit_code, 1);
    for sc in [
        "14_auth_create_401::",
        "15_auth_get_401::",
        "16_auth_cancel_401::",
    ] {
        let f = failures(&out.result, sc, Outcome::Failed);
        assert!(
            has(&f, "status_code", "D6", "expected status 4xx"),
            "{sc}: {f:#?}"
        );
    }
    assert_eq!(verdict_of(&out.result, "D6"), ClauseVerdict::Broken);
}

#[test]
fn cancelling_all_queries_is_caught() {
    assert_caught(
        Fault::CancelCancelsAll,
        "04_cancel_leaves_others_untouched::",
        "poll_timeout",
        "D8",
        "UNKNOWN",
    );
}

#[test]
fn paging_that_repeats_a_row_is_caught() {
    assert_caught(
        Fault::PagingRepeatsRow,
        "03_done_rows_paged::",
        "variable",
        "D7",
        "again at index",
    );
}

#[test]
fn paging_that_skips_a_row_is_caught() {
    assert_caught(
        Fault::PagingSkipsRow,
        "03_done_rows_paged::",
        "variable",
        "D7",
        "length",
    );
}

#[test]
fn create_without_id_is_caught() {
    assert_caught(
        Fault::CreateWithoutId,
        "02_create_returns_id::",
        "json_path",
        "D1",
        "$.query_result_id",
    );
}

#[test]
fn a_missing_required_field_is_caught_by_the_contract() {
    assert_caught(
        Fault::CreateWithoutId,
        "02_create_returns_id::",
        "response_schema",
        "D1",
        "\"query_result_id\" is a required property",
    );
}

#[test]
fn strict_names_undocumented_fields_that_the_default_run_accepts() {
    let out = run_with(&[Fault::ExtraFields]);
    assert_eq!(out.exit_code, 0);
    let out = run_opts(&[Fault::ExtraFields], |o| o.strict = true);
    assert_eq!(out.exit_code, 1);
    let f = failures(&out.result, "02_create_returns_id::", Outcome::Failed);
    assert!(
        has(&f, "undocumented_property", "D1", "`x_debug`"),
        "{f:#?}"
    );
    let checks = &out.result.contract.as_ref().unwrap().checks;
    assert!(
        checks.iter().any(|c| c.name() == "undocumented_property"),
        "{checks:?}"
    );
}

#[test]
fn conformant_variations_pass_with_every_clause_met() {
    let variations = [
        Fault::ExtraFields,
        Fault::Gzip,
        Fault::Chunked,
        Fault::Charset,
        Fault::LateUnknown,
        Fault::FirstPageEmpty,
        Fault::ContextRequiresRequest,
        Fault::MinimalRows,
    ];
    // Each against its own embedded server, four at a time: the runs
    // mostly wait for their queries' lifecycle.
    let outs: Vec<RunOutput> = variations
        .chunks(4)
        .flat_map(|four| {
            std::thread::scope(|s| {
                let runs: Vec<_> = four.iter().map(|v| s.spawn(|| run_with(&[*v]))).collect();
                runs.into_iter()
                    .map(|r| r.join().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (v, out) in variations.into_iter().zip(outs) {
        assert_eq!(
            out.exit_code,
            0,
            "{v} must pass: {:#?}",
            out.result
                .scenarios
                .iter()
                .filter(|s| s.outcome != Outcome::Passed)
                .collect::<Vec<_>>()
        );
        for c in &out.result.clauses {
            assert_eq!(c.verdict, ClauseVerdict::Met, "{v}: {c:?}");
        }
    }
}

#[test]
fn error_bodies_without_code_deviate_from_a12() {
    assert_deviates(
        Fault::ErrorMissingCode,
        "09_create_without_wrapper_400::",
        "response_schema",
        "A12",
        "\"code\" is a required property",
    );
}

#[test]
fn error_bodies_that_are_not_json_deviate_from_a12() {
    assert_deviates(
        Fault::ErrorNotJson,
        "11_get_without_id_400::",
        "content_type",
        "A12",
        "`text/plain` is not a documented media type",
    );
}

#[test]
fn oversized_bodies_answered_413_in_plain_text_deviate_from_a12() {
    assert_deviates(
        Fault::Oversized413Text,
        "20_oversized_body::",
        "content_type",
        "A12",
        "`text/plain` is not a documented media type",
    );
}

#[test]
fn no_size_limit_is_conformant_and_what_it_created_is_cleaned_up() {
    // Nothing documents a limit (contract.md: "must not assert"): 200 passes.
    let out = run_with(&[Fault::UnknownFieldsNoLimit]);
    assert_eq!(out.exit_code, 0);
    let sc = scenario(&out.result, "20_oversized_body::");
    assert_eq!(sc.outcome, Outcome::Passed, "{sc:#?}");
    assert_eq!(sc.steps[0].status, Some(200));
    // The create it accepted made a query, which `finally` cancels.
    assert_eq!(sc.finally[0].status, Some(200), "{sc:#?}");
    for c in &out.result.clauses {
        assert_eq!(c.verdict, ClauseVerdict::Met, "{c:?}");
    }
}

#[test]
fn two_wrappers_accepted_deviate_from_a9_and_the_query_is_cleaned_up() {
    let out = run_with(&[Fault::CreateAcceptsTwoWrappers]);
    assert_eq!(out.exit_code, 0);
    let f = failures(
        &out.result,
        "10_create_two_wrappers_400::",
        Outcome::Deviates,
    );
    assert!(has(&f, "status_code", "A9", "got 200"), "{f:#?}");
    // The query it created anyway is cancelled by the `finally` step.
    let sc = scenario(&out.result, "10_");
    assert_eq!(sc.finally[0].requests, 1, "{sc:#?}");
    assert_eq!(sc.finally[0].status, Some(200), "{sc:#?}");
}

#[test]
fn row_count_as_a_number_deviates_from_a4_in_the_case_and_the_contract() {
    let out = run_with(&[Fault::RowCountNumber]);
    assert_eq!(out.exit_code, 0);
    let f = failures(&out.result, "03_done_rows_paged::", Outcome::Deviates);
    assert!(
        f.iter().any(|(c, cl, m, _)| *c == "response_schema"
            && *cl == Some("A4")
            && m.contains("/progress_status/row_count")
            && m.contains("is not of type \"string\"")),
        "{f:#?}"
    );
    assert!(
        has(&f, "json_path", "A4", "$.progress_status.row_count"),
        "{f:#?}"
    );
    // The deviation does not end the scenario: every row is still walked.
    let sc = scenario(&out.result, "03_");
    assert!(
        sc.steps.iter().all(|s| s.outcome != StepOutcome::Skipped),
        "{sc:#?}"
    );
    assert_eq!(verdict_of(&out.result, "D7"), ClauseVerdict::Met);
}

#[test]
fn zero_values_omitted_deviate_from_a5() {
    assert_deviates(
        Fault::ZeroValuesOmitted,
        "01_cancel_then_poll_unknown::",
        "json_path",
        "A5",
        "$.values",
    );
}

#[test]
fn a_wrong_token_answered_400_deviates_from_a11_but_meets_d6() {
    let out = run_with(&[Fault::WrongToken400]);
    assert_eq!(out.exit_code, 0);
    let f = failures(&out.result, "14_auth_create_401::", Outcome::Deviates);
    assert!(has(&f, "status_code", "A11", "got 400"), "{f:#?}");
    assert_eq!(verdict_of(&out.result, "D6"), ClauseVerdict::Met);
    assert_eq!(verdict_of(&out.result, "A11"), ClauseVerdict::Deviates);
}

#[test]
fn missing_ids_answered_404_deviate_from_a9() {
    assert_deviates(
        Fault::MissingId404,
        "13_cancel_empty_id_400::",
        "status_code",
        "A9",
        "got 404",
    );
}

#[test]
fn cancelling_an_unknown_id_answered_404_deviates_from_a7() {
    assert_deviates(
        Fault::CancelUnknown404,
        "18_cancel_is_idempotent::",
        "status_code",
        "A7",
        "got 404",
    );
}

#[test]
fn an_unknown_status_deviates_from_a3_and_the_poll_waits_on() {
    // QUEUED for the first second of five: every first Get sees it.
    let out = run_opts(&[Fault::QueuedStatus], |o| {
        o.target.embedded.lifecycle = Some(Duration::from_secs(5));
        o.transport.poll_timeout = Some(Duration::from_secs(60));
    });
    assert_eq!(out.exit_code, 0, "{:#?}", out.result.clauses);
    assert_eq!(verdict_of(&out.result, "A3"), ClauseVerdict::Deviates);
    // The polls that saw QUEUED kept waiting: DONE was reached and D7 met.
    assert_eq!(verdict_of(&out.result, "D7"), ClauseVerdict::Met);
    let queued = out
        .result
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Deviates)
        .flat_map(|s| s.failures().map(|(_, f)| f))
        .find(|f| f.check.name() == "response_schema" && f.message.contains("\"QUEUED\""))
        .expect("a deviation names QUEUED");
    assert_eq!(queued.clause.as_deref(), Some("A3"));
}

#[test]
fn a_tenant_without_rows_makes_the_row_clauses_inconclusive() {
    let out = run_with(&[Fault::NoRows]);
    assert_eq!(out.exit_code, 0);
    let f = failures(&out.result, "03_done_rows_paged::", Outcome::Inconclusive);
    assert!(
        f.iter()
            .any(|(c, cl, _, _)| *c == "variable" && *cl == Some("P1")),
        "{f:#?}"
    );
    for (id, verdict) in [
        ("P1", ClauseVerdict::Unmet),
        ("D7", ClauseVerdict::Inconclusive),
        ("D8", ClauseVerdict::Inconclusive),
        ("A13", ClauseVerdict::Inconclusive),
    ] {
        assert_eq!(verdict_of(&out.result, id), verdict, "{id}");
    }
    let d7 = out.result.clauses.iter().find(|c| &*c.id == "D7").unwrap();
    assert_eq!(d7.because.iter().map(|p| &**p).collect::<Vec<_>>(), ["P1"]);
    let v = out.result.verdict.as_ref().unwrap();
    assert!(v.statement.contains("P1 not met"), "{v:?}");
}

#[test]
fn queries_done_before_the_cancel_make_d2_to_d4_inconclusive() {
    let out = run_with(&[Fault::InstantDone]);
    assert_eq!(out.exit_code, 0);
    let f = failures(
        &out.result,
        "01_cancel_then_poll_unknown::",
        Outcome::Inconclusive,
    );
    assert!(has(&f, "json_path", "P2", "$.status"), "{f:#?}");
    for id in ["D2", "D3", "D4"] {
        assert_eq!(
            verdict_of(&out.result, id),
            ClauseVerdict::Inconclusive,
            "{id}"
        );
    }
    assert_eq!(verdict_of(&out.result, "P2"), ClauseVerdict::Unmet);
    // What the flagship then checked is what A8 says, which held.
    assert_eq!(verdict_of(&out.result, "A8"), ClauseVerdict::Met);
}

#[test]
fn paced_by_gets_a_running_query_stays_running_for_the_slowest_client() {
    // A lifecycle over before the first request: the flagship as a client
    // slower than any machine would make it.
    let slowest = |paced: bool| {
        run_opts(&[Fault::CancelRunningNoop], |o| {
            o.target.embedded.lifecycle = Some(Duration::from_nanos(1));
            o.target.embedded.paced_by_gets = paced;
        })
    };
    // Paced (as in `conform selfcheck`): its Get finds the query in
    // progress, the cancel cannot stop it, and D3 is proven broken.
    let out = slowest(true);
    assert_eq!(out.exit_code, 1, "{:#?}", out.result.clauses);
    assert_eq!(verdict_of(&out.result, "P2"), ClauseVerdict::Met);
    assert_eq!(verdict_of(&out.result, "D3"), ClauseVerdict::Broken);
    let f = failures(
        &out.result,
        "01_cancel_then_poll_unknown::",
        Outcome::Failed,
    );
    assert!(has(&f, "poll_fail_if", "D3", "DONE"), "{f:#?}");
    // The clock alone: the Get finds the query DONE and D3 goes unproven.
    let out = slowest(false);
    assert_eq!(out.exit_code, 0);
    assert_eq!(verdict_of(&out.result, "P2"), ClauseVerdict::Unmet);
    assert_eq!(verdict_of(&out.result, "D3"), ClauseVerdict::Inconclusive);
}

#[test]
fn a_guarded_failure_is_shown_but_not_counted() {
    // Queries are DONE at creation, and cancel does nothing: after the unmet
    // P2 the flagship's poll sees DONE, a D3 failure that P2 guards.
    let out = run_with(&[Fault::InstantDone, Fault::CancelNoop]);
    let sc = scenario(&out.result, "01_");
    assert_eq!(sc.outcome, Outcome::Inconclusive, "{sc:#?}");
    let guarded = sc
        .failures()
        .map(|(_, f)| f)
        .find(|f| f.check.name() == "poll_fail_if")
        .expect("the poll saw DONE");
    assert_eq!(guarded.clause.as_deref(), Some("D3"));
    assert_eq!(guarded.guarded_by.as_deref(), Some("P2"));
    assert!(!guarded.counts());
    // 19 still catches what A8 says (a DONE query cancelled becomes UNKNOWN).
    assert_eq!(verdict_of(&out.result, "A8"), ClauseVerdict::Deviates);
}

#[test]
fn strict_assumptions_make_a_deviation_fail_the_run() {
    let out = run_opts(&[Fault::RowCountNumber], |o| {
        o.policy.assumptions = Some(Assumptions::Strict);
    });
    assert_eq!(out.exit_code, 1);
    let v = out.result.verdict.as_ref().unwrap();
    assert!(v.conformant, "{v:?}");
    assert!(v.headline.contains("--assumptions strict"), "{v:?}");
    assert!(v.headline.contains("A4"), "{v:?}");
    let levels: Vec<Level> = out.result.clauses.iter().map(|c| c.level).collect();
    assert!(levels.contains(&Level::Precondition));
}
