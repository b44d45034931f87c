//! The bundled suite can fail: against the reference server broken one
//! clause at a time, the run exits 1 and names the scenario that caught it.

use std::time::Duration;

use conform::model::{Outcome, RunResult};
use conform::runner::{RunOptions, RunOutput, run};
use conform::server::Fault;

fn run_with(faults: &[Fault]) -> RunOutput {
    run_opts(faults, false)
}

fn run_opts(faults: &[Fault], strict: bool) -> RunOutput {
    let opts = RunOptions {
        strict,
        cases: concat!(env!("CARGO_MANIFEST_DIR"), "/cases").into(),
        reports: None,
        server_faults: faults.to_vec(),
        server_lifecycle: Some(Duration::from_millis(300)),
        // Faults caught only at a deadline are caught sooner.
        poll_timeout: Some(Duration::from_secs(5)),
        ..RunOptions::new()
    };
    // The runs fail on purpose: keep libtest's report of them off the terminal.
    let args = libtest_mimic::Arguments {
        quiet: true,
        logfile: Some("/dev/null".into()),
        ..Default::default()
    };
    run(&opts, &args).expect("the bundled suite loads")
}

/// The failures of a scenario, as (check name, message).
fn failures<'a>(r: &'a RunResult, id_prefix: &str) -> Vec<(&'a str, &'a str)> {
    let sc = r
        .scenarios
        .iter()
        .find(|s| s.id.starts_with(id_prefix))
        .unwrap_or_else(|| panic!("no scenario {id_prefix}"));
    assert_eq!(
        sc.outcome,
        Outcome::Failed,
        "{id_prefix} should have failed: {sc:#?}"
    );
    sc.failures()
        .map(|(_, f)| (f.check.as_str(), f.message.as_str()))
        .collect()
}

fn assert_caught(fault: Fault, scenario: &str, check: &str, fragment: &str) {
    let out = run_with(&[fault]);
    assert_eq!(out.exit_code, 1, "{fault}: the run must fail");
    let f = failures(&out.result, scenario);
    assert!(
        f.iter().any(|(c, m)| *c == check && m.contains(fragment)),
        "{fault}: {scenario} should fail `{check}` with `{fragment}`, got {f:#?}"
    );
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
}

#[test]
fn cancel_answering_an_empty_object_is_caught() {
    assert_caught(
        Fault::CancelEmptyObject,
        "01_cancel_then_poll_unknown::",
        "empty_body",
        "expected an empty body, got 2 bytes: {}",
    );
}

#[test]
fn get_after_cancel_saying_done_is_caught() {
    assert_caught(
        Fault::GetAfterCancelDone,
        "01_cancel_then_poll_unknown::",
        "poll_fail_if",
        "\"DONE\"",
    );
}

#[test]
fn cancel_doing_nothing_is_caught() {
    assert_caught(
        Fault::CancelNoop,
        "01_cancel_then_poll_unknown::",
        "poll_fail_if",
        "\"DONE\"",
    );
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
        let f = failures(&out.result, sc);
        assert!(
            f.iter()
                .any(|(c, m)| *c == "status_code" && m.contains("expected status 401")),
            "{sc}: {f:#?}"
        );
    }
}

#[test]
fn rows_after_cancel_are_caught() {
    assert_caught(
        Fault::RowsAfterCancel,
        "01_cancel_then_poll_unknown::",
        "json_path",
        "$.values",
    );
}

#[test]
fn cancelling_all_queries_is_caught() {
    assert_caught(
        Fault::CancelCancelsAll,
        "04_cancel_leaves_others_untouched::",
        "poll_fail_if",
        "UNKNOWN",
    );
}

#[test]
fn paging_that_repeats_a_row_is_caught() {
    assert_caught(
        Fault::PagingRepeatsRow,
        "03_done_rows_paged::",
        "variable",
        "again at index",
    );
}

#[test]
fn paging_that_skips_a_row_is_caught() {
    assert_caught(
        Fault::PagingSkipsRow,
        "03_done_rows_paged::",
        "variable",
        "length",
    );
}

#[test]
fn error_bodies_without_code_are_caught() {
    assert_caught(
        Fault::ErrorMissingCode,
        "09_create_without_wrapper_400::",
        "json_path",
        "$.code",
    );
}

#[test]
fn error_bodies_that_are_not_json_are_caught() {
    assert_caught(
        Fault::ErrorNotJson,
        "11_get_without_id_400::",
        "json_body",
        "not JSON",
    );
}

#[test]
fn create_without_id_is_caught() {
    assert_caught(
        Fault::CreateWithoutId,
        "02_create_returns_id::",
        "json_path",
        "$.query_result_id",
    );
}

#[test]
fn create_accepting_two_wrappers_is_caught() {
    assert_caught(
        Fault::CreateAcceptsTwoWrappers,
        "10_create_two_wrappers_400::",
        "status_code",
        "got 200",
    );
}

#[test]
fn row_count_as_a_number_is_caught_by_the_case_and_the_contract() {
    let out = run_with(&[Fault::RowCountNumber]);
    let f = failures(&out.result, "03_done_rows_paged::");
    assert!(
        f.iter().any(|(c, m)| *c == "response_schema"
            && m.contains("/progress_status/row_count")
            && m.contains("is not of type \"string\"")),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|(c, m)| *c == "json_path" && m.contains("$.progress_status.row_count")),
        "{f:#?}"
    );
}

#[test]
fn a_cancel_body_is_caught_by_the_contract_too() {
    assert_caught(
        Fault::CancelEmptyObject,
        "01_cancel_then_poll_unknown::",
        "content_type",
        "the contract documents no body",
    );
}

#[test]
fn a_missing_required_field_is_caught_by_the_contract() {
    assert_caught(
        Fault::CreateWithoutId,
        "02_create_returns_id::",
        "response_schema",
        "\"query_result_id\" is a required property",
    );
}

#[test]
fn a_status_outside_the_enum_is_caught_by_the_contract() {
    assert_caught(
        Fault::StatusLowercase,
        "17_get_unknown_id::",
        "response_schema",
        "/status",
    );
}

#[test]
fn strict_names_undocumented_fields_that_the_default_run_accepts() {
    let out = run_opts(&[Fault::ExtraFields], false);
    assert_eq!(out.exit_code, 0);
    let out = run_opts(&[Fault::ExtraFields], true);
    assert_eq!(out.exit_code, 1);
    let f = failures(&out.result, "02_create_returns_id::");
    assert!(
        f.iter()
            .any(|(c, m)| *c == "undocumented_property" && m.contains("`x_debug`")),
        "{f:#?}"
    );
    let checks = &out.result.contract.as_ref().unwrap().checks;
    assert!(
        checks.iter().any(|c| c == "undocumented_property"),
        "{checks:?}"
    );
}

#[test]
fn lowercase_status_is_caught_at_once() {
    assert_caught(
        Fault::StatusLowercase,
        "01_cancel_then_poll_unknown::",
        "poll_fail_if",
        "\"unknown\"",
    );
}

#[test]
fn cancel_answering_204_is_caught() {
    assert_caught(
        Fault::Cancel204,
        "01_cancel_then_poll_unknown::",
        "status_code",
        "got 204",
    );
}

#[test]
fn tolerated_variations_pass() {
    for v in [
        Fault::ExtraFields,
        Fault::Gzip,
        Fault::Chunked,
        Fault::Charset,
        Fault::LateUnknown,
    ] {
        let out = run_with(&[v]);
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
    }
}
