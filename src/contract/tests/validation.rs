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
        .find(|v| v.instance_path == "/status" && v.schema_path.ends_with("/enum"))
        .expect("status");
    assert_eq!(
        status.schema_path,
        "/components/schemas/GetResponse/properties/status/allOf/1/enum"
    );
    // An unknown status deviates from A3; a missing row type from A13.
    assert_eq!(status.clause.as_deref(), Some("A3"));
    let row = v
        .iter()
        .find(|v| v.instance_path == "/values/0")
        .expect("row");
    assert_eq!(row.clause.as_deref(), Some("A13"));
    // The error responses share one schema through `components/responses`.
    let err = c.validate_response(
        get,
        401,
        JSON,
        &json!({"message": "no", "request_id": "r"}),
        false,
    );
    assert_eq!(messages(&err), [r#" "code" is a required property"#]);
    assert_eq!(err[0].schema_path, "/components/schemas/Error/required");
    assert_eq!(err[0].clause.as_deref(), Some("A12"));
}

#[test]
fn bundled_violations_name_the_nearest_clause() {
    let c = bundled();
    let get = c.by_id("GetQuerySpecNodesAsync").expect("get");
    let clauses = |body: Value| -> Vec<(String, Option<String>)> {
        c.validate_response(get, 200, JSON, &body, false)
            .into_iter()
            .map(|v| (v.schema_path, v.clause.map(|c| c.to_string())))
            .collect()
    };
    // A lower-case status breaks the documented D5, and is no status A3 lists.
    let lower = clauses(json!({"status": "done"}));
    assert!(
        lower
            .iter()
            .any(|(p, c)| p.ends_with("/allOf/0/pattern") && c.as_deref() == Some("D5")),
        "{lower:?}"
    );
    assert!(
        lower
            .iter()
            .any(|(p, c)| p.ends_with("/allOf/1/enum") && c.as_deref() == Some("A3")),
        "{lower:?}"
    );
    // A number where protobuf JSON writes an int64 string deviates from A4.
    assert_eq!(
        clauses(json!({"status": "DONE", "progress_status": {"row_count": 3}})),
        [(
            "/components/schemas/ProgressStatus/properties/row_count/type".to_owned(),
            Some("A4".to_owned())
        )]
    );
    // No status at all: the shape of A2.
    assert_eq!(
        clauses(json!({"state": "DONE"})),
        [(
            "/components/schemas/GetResponse/required".to_owned(),
            Some("A2".to_owned())
        )]
    );
    // The create response names D1 (the schema's own mark).
    let create = c.by_id("CreateQuerySpecNodesAsync").expect("create");
    let v = c.validate_response(create, 200, JSON, &json!({}), false);
    assert_eq!(v[0].clause.as_deref(), Some("D1"));
    // The marks are listed, each where it is written.
    let marks = c.clause_marks();
    assert!(
        marks.iter().any(|m| &*m.id == "D2" && m.line > 0),
        "{marks:?}"
    );
    // Responses and operations know theirs.
    let cancel = c.by_id("CancelQuerySpecNodesAsync").expect("cancel");
    assert_eq!(cancel.clause.as_deref(), Some("D2"));
    assert_eq!(
        cancel.response_for(200).and_then(|r| r.clause.as_deref()),
        Some("D2")
    );
    assert_eq!(
        cancel.response_for(418).and_then(|r| r.clause.as_deref()),
        Some("A12")
    );
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
fn a_discriminator_does_not_route_what_is_not_an_object() {
    // As GitHub's get-content: a directory listing (an array) beside
    // objects told apart by `type`.
    let c = crate::contract::from_value(
        "c.yaml",
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "X", "responses": {"200": {
            "description": "ok",
            "content": {"application/json": {"schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Listing"},
                    {"$ref": "#/components/schemas/File"},
                    {"$ref": "#/components/schemas/Link"}
                ],
                "discriminator": {"propertyName": "type", "mapping": {
                    "file": "#/components/schemas/File",
                    "link": "#/components/schemas/Link"
                }}
            }}}
        }}}}},
        "components": {"schemas": {
            "Listing": {"type": "array", "items": {"type": "object", "required": ["name"]}},
            "File": {"type": "object", "required": ["type", "size"],
                     "properties": {"type": {"type": "string"}, "size": {"type": "integer"}}},
            "Link": {"type": "object", "required": ["type", "target"],
                     "properties": {"type": {"type": "string"}, "target": {"type": "string"}}}
        }}}),
    )
    .expect("loads");
    let op = c.by_id("X").expect("op");
    let check = |body: Value| messages(&c.validate_response(op, 200, JSON, &body, false));
    // An array is judged by the `oneOf`, not by the first mapped branch.
    assert!(check(json!([{"name": "a"}, {"name": "b"}])).is_empty());
    assert!(!check(json!([{"nom": "a"}])).is_empty());
    // Objects are still pinned by their `type`.
    assert!(check(json!({"type": "file", "size": 3})).is_empty());
    assert_eq!(
        check(json!({"type": "link", "size": 3})),
        [r#" "target" is a required property"#]
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

#[test]
fn nullable_beside_an_enum_accepts_null_except_to_the_letter_under_strict() {
    // GitHub's `dismissed_reason`: nullable, an enum that does not list null.
    let c = crate::contract::from_value(
        "c.yaml",
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "X", "responses": {"200": {
            "description": "ok",
            "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Alert"}}}}}}}},
        "components": {"schemas": {"Alert": {"type": "object", "properties": {
            "reason": {"type": "string", "enum": ["false positive"], "nullable": true}}}}}}),
    )
    .expect("loads");
    let op = c.by_id("X").expect("op");
    let body = json!({"reason": null});
    assert_eq!(
        messages(&c.validate_response(op, 200, JSON, &body, false)),
        Vec::<String>::new()
    );
    let strict = c.validate_response(op, 200, JSON, &body, true);
    assert_eq!(strict.len(), 1, "{strict:?}");
    assert_eq!(strict[0].instance_path, "/reason");
    assert!(strict[0].message.contains("is not one of"), "{strict:?}");
    assert_eq!(
        strict[0].schema_path,
        "/components/schemas/Alert/properties/reason/enum"
    );
}
