//! Arbitrary bytes as an OpenAPI document (`conform::contract::parse`): a
//! text starting with `{` is read both as `.json` and as `.yaml`, any other
//! as `.yaml`. A document that loads has every validator compiled, then a
//! few fixed responses and request bodies validated against every
//! operation, as the contract checks would. Never a panic.
#![no_main]

use std::path::Path;

use conform::contract::{Contract, parse};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// A status the response key stands for.
fn status_of(key: &str) -> u16 {
    if let Ok(n) = key.parse::<u16>() {
        return n;
    }
    match key.as_bytes().first() {
        Some(d @ b'1'..=b'5') => u16::from(d - b'0') * 100,
        _ => 599,
    }
}

fn exercise(contract: &Contract) {
    let _ = contract.precompile();
    let bodies: [Value; 4] = [
        json!({"id": "qr-1", "status": "DONE", "values": [{"id": 1}], "n": 1.5}),
        json!([1, "a", null]),
        json!("text"),
        Value::Null,
    ];
    for op in contract.operations() {
        let _ = contract.find(&op.method, &op.template);
        let _ = contract.by_id(&op.id);
        for resp in &op.responses {
            let status = status_of(&resp.key);
            let _ = op.response_for(status);
            let mut types: Vec<&str> = resp.media_types.iter().map(String::as_str).collect();
            types.push("application/json; charset=utf-8");
            for ct in types {
                let _ = contract.media_type_for(resp, ct);
                for body in &bodies {
                    let _ = contract.validate_response(op, status, ct, body, false);
                    let _ = contract.validate_response(op, status, ct, body, true);
                }
            }
        }
        if let Some(b) = &op.request_body {
            for ct in b.media_types.iter().map(String::as_str) {
                for body in &bodies {
                    let _ = contract.validate_request(op, ct, body);
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.trim_start().starts_with('{')
        && let Ok(c) = parse(Path::new("fuzz.json"), text)
    {
        exercise(&c);
    }
    match parse(Path::new("fuzz.yaml"), text) {
        Ok(c) => exercise(&c),
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
