//! Performance figures (`cargo bench`): printed, never asserted.
//!
//! - microseconds to validate one 100-row Get response against the bundled contract.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};

fn get_response(rows: usize) -> Value {
    const RISK: [&str; 4] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
    let values: Vec<Value> = (0..rows)
        .map(|i| {
            json!({
                "id": format!("OktaUser-{i:05}"),
                "type": "OktaUser",
                "properties": {"name": format!("OktaUser {i}"), "index": i},
                "destination_node_count": i % 7,
                "risk_level": RISK[i % 4],
            })
        })
        .collect();
    json!({
        "status": "DONE",
        "progress_status": {"row_count": rows.to_string()},
        "values": values,
        "next_page_token": "",
        "has_more": false,
    })
}

/// Median of `rounds` timings of `iters` calls, in microseconds per call.
fn median_us(rounds: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[rounds / 2]
}

fn main() {
    let contract = conform::contract::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/cases/openapi.yaml"
    )))
    .expect("the bundled contract loads");
    let op = contract
        .by_id("GetQuerySpecNodesAsync")
        .expect("the Get operation");
    let body = get_response(100);
    for strict in [false, true] {
        assert!(
            contract
                .validate_response(op, 200, "application/json", &body, strict)
                .is_empty()
        );
        let us = median_us(21, 2000, || {
            black_box(contract.validate_response(
                op,
                200,
                "application/json",
                black_box(&body),
                strict,
            ));
        });
        let mode = if strict { " (strict)" } else { "" };
        println!("validate one 100-row Get response{mode}: {us:.1} µs");
    }
}
