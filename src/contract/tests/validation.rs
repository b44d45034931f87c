//! Validation through the public API: conversions, directions, strict mode, caching.

use serde_json::{Value, json};

use super::*;

#[test]
fn bundled_get_response_is_validated() {
    let c = bundled();
    let get = c.by_id("GetQuerySpecNodesAsync").expect("get");
    let rows: Vec<Value> = (1..=3)
        .map(|i| {
            json!({"id": format!("OktaUser-{i:05}"), "type": "OktaUser",
                   "properties": {"name": format!("OktaUser {i}"), "index": i},
                   "destination_node_count": 1, "risk_level": "LOW"})
        })
        .collect();
    let ok = json!({"status": "DONE", "values": rows, "has_more": false,
                    "progress_status": {"row_count": "3"}});
    assert!(c.validate_response(get, 200, JSON, &ok, false).is_empty());
    assert!(c.validate_response(get, 200, JSON, &ok, true).is_empty());
    let bad = json!({"status": "RUNNING!", "values": [{"id": 7}]});
    let v = c.validate_response(get, 200, "application/json; charset=utf-8", &bad, false);
    let m = messages(&v);
    assert!(
        m.iter()
            .any(|m| m.starts_with("/status \"RUNNING!\" is not one of")),
        "{m:?}"
    );
    assert!(
        m.contains(&"/values/0/id 7 is not of type \"string\"".to_owned()),
        "{m:?}"
    );
    assert!(
        m.contains(&"/values/0 \"type\" is a required property".to_owned()),
        "{m:?}"
    );
    let status = v
        .iter()
        .find(|v| v.instance_path == "/status")
        .expect("status");
    assert_eq!(
        status.schema_path,
        "/components/schemas/GetResponse/properties/status/enum"
    );
    // The error responses share one schema through `components/responses`.
    let err = c.validate_response(get, 401, JSON, &json!({"message": "no"}), false);
    assert_eq!(messages(&err), [r#" "code" is a required property"#]);
    assert_eq!(err[0].schema_path, "/components/schemas/Error/required");
}

#[test]
fn templates_with_colons_and_braces_reach_their_schema() {
    let c = pets();
    let op = c.find("POST", "/v1/jobs/42:cancel").expect("custom method");
    assert_eq!(&*op.id, "cancelJob");
    assert!(c.find("POST", "/v1/jobs/4/2:cancel").is_none());
    let v = c.validate_response(op, 200, JSON, &json!({"state": "RUNNING"}), false);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        v[0].message,
        r#""RUNNING" is not one of "UNKNOWN" or "DONE""#
    );
    assert_eq!(
        v[0].schema_path,
        "/paths/~1v1~1jobs~1{id}:cancel/post/responses/200/content/application~1json/schema/properties/state/enum"
    );
}

#[test]
fn schema_failures_are_caught() {
    let c = pets();
    let op = c.by_id("getPet").expect("op");
    let check = |body: Value| messages(&c.validate_response(op, 200, JSON, &body, false));
    assert!(check(pet()).is_empty());
    let mut wrong_type = pet();
    wrong_type["name"] = json!(5);
    assert_eq!(check(wrong_type), [r#"/name 5 is not of type "string""#]);
    let mut missing = pet();
    missing.as_object_mut().map(|m| m.remove("status"));
    assert_eq!(check(missing), [r#" "status" is a required property"#]);
    let mut bad_enum = pet();
    bad_enum["status"] = json!("LOST");
    assert_eq!(
        check(bad_enum),
        [r#"/status "LOST" is not one of "AVAILABLE" or "SOLD""#]
    );
    let mut bad_format = pet();
    bad_format["born"] = json!("yesterday");
    assert_eq!(check(bad_format), [r#"/born "yesterday" is not a "date""#]);
    // Every violation, not only the first (status breaks both type and enum).
    let all_wrong = json!({"id": "x", "name": "", "status": 1});
    assert_eq!(check(all_wrong).len(), 4);
}

#[test]
fn nullable_is_honoured_only_where_declared() {
    let c = pets();
    let op = c.by_id("getPet").expect("op");
    let mut body = pet();
    body["tag"] = Value::Null;
    body["owner"] = Value::Null;
    assert!(c.validate_response(op, 200, JSON, &body, false).is_empty());
    body["owner"] = json!({"name": 3});
    let v = c.validate_response(op, 200, JSON, &body, false);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].instance_path, "/owner");
    body["owner"] = Value::Null;
    body["name"] = Value::Null;
    let v = c.validate_response(op, 200, JSON, &body, false);
    assert_eq!(messages(&v), [r#"/name null is not of type "string""#]);
}

#[test]
fn boolean_exclusive_minimum_of_openapi_30() {
    let c = pets();
    let op = c.by_id("getPet").expect("op");
    let mut body = pet();
    body["age"] = json!(1);
    assert!(c.validate_response(op, 200, JSON, &body, false).is_empty());
    body["age"] = json!(0);
    let v = c.validate_response(op, 200, JSON, &body, false);
    assert_eq!(
        messages(&v),
        ["/age 0 is less than or equal to the minimum of 0"]
    );
}

#[test]
fn read_only_and_write_only_depend_on_direction() {
    let c = pets();
    let put = c.by_id("putPet").expect("put");
    // A request needs the writeOnly password but not the readOnly id.
    let request = json!({"name": "Rex", "status": "SOLD", "password": "p"});
    assert!(c.validate_request(put, JSON, &request).is_empty());
    let v = c.validate_request(put, JSON, &json!({"name": "Rex", "status": "SOLD"}));
    assert_eq!(messages(&v), [r#" "password" is a required property"#]);
    // A response needs the id but not the password.
    assert!(
        c.validate_response(put, 200, JSON, &pet(), false)
            .is_empty()
    );
    let v = c.validate_response(put, 200, JSON, &request, false);
    assert_eq!(messages(&v), [r#" "id" is a required property"#]);
}

#[test]
fn discriminator_pins_one_branch() {
    let c = pets();
    let op = c.by_id("getMine").expect("op");
    let check = |body: Value| messages(&c.validate_response(op, 200, JSON, &body, false));
    // Valid for both Cat and Dog: plain oneOf would refuse it.
    assert!(check(json!({"kind": "cat"})).is_empty());
    assert!(check(json!({"kind": "dog", "good": true})).is_empty());
    // The implicit name of a mapped branch is not a value; the mapped one is.
    assert!(check(json!({"kind": "Cat", "lives": 9})).len() == 1);
    // Pinned to Cat, so only Cat's complaint is reported.
    assert_eq!(
        check(json!({"kind": "cat", "lives": "nine"})),
        [r#"/lives "nine" is not of type "integer""#]
    );
    assert_eq!(
        check(json!({"kind": "dog", "good": 1})),
        [r#"/good 1 is not of type "boolean""#]
    );
}

#[test]
fn strict_mode_names_undocumented_properties() {
    let c = pets();
    let op = c.by_id("getPet").expect("op");
    let mut body = pet();
    body["x_debug"] = json!({"trace": 1});
    body["extra"] = json!({"note": "documented", "free": true});
    body["owner"] = json!({"name": "Ann", "phone": "555"});
    assert!(c.validate_response(op, 200, JSON, &body, false).is_empty());
    let v = c.validate_response(op, 200, JSON, &body, true);
    let mut found: Vec<(String, String)> = v
        .iter()
        .map(|v| (v.instance_path.clone(), v.message.clone()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (String::new(), "undocumented property `x_debug`".to_owned()),
            (
                "/owner".to_owned(),
                "undocumented property `phone`".to_owned()
            ),
        ]
    );
    let debug = v
        .iter()
        .find(|v| v.message.contains("x_debug"))
        .expect("x_debug");
    assert_eq!(debug.value, r#"{"trace":1}"#);
    // Properties from another allOf branch (Dog: Named + inline) are documented.
    let mine = c.by_id("getMine").expect("op");
    let dog = json!({"kind": "dog", "name": "Rex", "good": true});
    assert!(c.validate_response(mine, 200, JSON, &dog, true).is_empty());
    let v = c.validate_response(mine, 200, JSON, &json!({"kind": "dog", "age": 3}), true);
    assert_eq!(messages(&v), [" undocumented property `age`"]);
}

#[test]
fn strict_mode_does_not_flag_bundled_free_form_objects() {
    let c = bundled();
    let get = c.by_id("GetQuerySpecNodesAsync").expect("get");
    let body = json!({"status": "DONE", "values": [
        {"id": "a", "type": "t", "properties": {"anything": 1}, "destination_node_count": 0,
         "tags": [{"free": true}], "x_internal": 1}]});
    let v = c.validate_response(get, 200, JSON, &body, true);
    assert_eq!(
        messages(&v),
        ["/values/0 undocumented property `x_internal`"]
    );
}

#[test]
fn validators_are_compiled_once_and_reused() {
    let c = pets();
    let op = c.by_id("getPet").expect("op");
    assert_eq!(c.compiled_validators(), 0);
    c.validate_response(op, 200, JSON, &pet(), false);
    c.validate_response(op, 200, JSON, &json!({}), false);
    assert_eq!(c.compiled_validators(), 1);
    c.validate_response(op, 200, JSON, &pet(), true);
    assert_eq!(c.compiled_validators(), 2);
    // putPet's 200 response is a different schema position.
    let put = c.by_id("putPet").expect("put");
    c.validate_response(put, 200, JSON, &pet(), false);
    c.validate_request(put, JSON, &pet());
    assert_eq!(c.compiled_validators(), 4);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| c.validate_response(op, 200, JSON, &pet(), false));
        }
    });
    assert_eq!(c.compiled_validators(), 4);
}
