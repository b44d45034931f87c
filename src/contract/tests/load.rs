//! Loading through the public API: the bundled contract, dialects, lookup, errors.

use std::path::Path;

use serde_json::{Value, json};

use super::*;

#[test]
fn contract_is_send_and_sync() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<Contract>();
}

#[test]
fn bundled_contract_loads_and_finds_every_operation() {
    let c = bundled();
    assert_eq!(c.dialect(), Dialect::OpenApi30);
    assert_eq!(c.version(), "3.0.3");
    let ids: Vec<&str> = c.operations().iter().map(|o| &*o.id).collect();
    assert_eq!(
        ids,
        [
            "CreateQuerySpecNodesAsync",
            "GetQuerySpecNodesAsync",
            "CancelQuerySpecNodesAsync"
        ]
    );
    for (path, id) in [
        (
            "/api/v1/assessments/query_spec:nodes_async_create",
            "CreateQuerySpecNodesAsync",
        ),
        (
            "/api/v1/assessments/query_spec:nodes_async_get",
            "GetQuerySpecNodesAsync",
        ),
        (
            "/api/v1/assessments/query_spec:nodes_async_cancel",
            "CancelQuerySpecNodesAsync",
        ),
    ] {
        assert_eq!(c.find("post", path).map(|o| &*o.id), Some(id));
        assert_eq!(c.by_id(id).map(|o| o.template.as_str()), Some(path));
        assert!(c.find("GET", path).is_none());
    }
    let get = c.by_id("GetQuerySpecNodesAsync").expect("get");
    let keys: Vec<&str> = get.responses.iter().map(|r| &*r.key).collect();
    assert_eq!(keys, ["200", "400", "401", "default"]);
    assert_eq!(get.responses[1].media_types, [JSON]);
    let cancel = c.by_id("CancelQuerySpecNodesAsync").expect("cancel");
    assert!(cancel.responses[0].media_types.is_empty());
    assert!(cancel.request_body.as_ref().is_some_and(|b| b.required));
    assert!(c.precompile().is_ok());
}

#[test]
fn concrete_paths_win_over_templates() {
    let c = pets();
    assert_eq!(c.find("get", "/pets/mine").map(|o| &*o.id), Some("getMine"));
    assert_eq!(c.find("get", "/pets/7").map(|o| &*o.id), Some("getPet"));
    assert_eq!(c.find("PUT", "/pets/mine").map(|o| &*o.id), Some("putPet"));
}

#[test]
fn status_lookup_goes_exact_then_range_then_default() {
    let c = pets();
    let op = c.by_id("getPet").expect("op");
    let key = |s| op.response_for(s).map(|r| &*r.key);
    assert_eq!(
        (key(200), key(404), key(500)),
        (Some("200"), Some("4XX"), Some("default"))
    );
    let r = op.response_for(200).expect("200");
    assert_eq!(
        c.media_type_for(r, "application/json"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(c.media_type_for(r, "application/problem+json"), None);
    // A documented media type without a schema validates nothing.
    assert!(
        c.validate_response(op, 500, "text/plain", &json!(5), false)
            .is_empty()
    );
    // The 4XX range has its own schema.
    assert_eq!(
        c.validate_response(op, 418, JSON, &json!({}), false).len(),
        1
    );
}

#[test]
fn swagger_2_documents_load_and_validate() {
    let c = load(&fixture("swagger2.json")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.dialect(), Dialect::Swagger2);
    let op = c
        .find("POST", "/api/v1/jobs/42:cancel")
        .expect("basePath is prepended");
    assert_eq!(op.template, "/api/v1/jobs/{id}:cancel");
    assert!(c.find("POST", "/v1/jobs/42:cancel").is_none());
    let body = op.request_body.as_ref().expect("body parameter");
    assert!(body.required);
    assert_eq!(body.media_types, [JSON]);
    assert!(
        c.validate_request(op, JSON, &json!({"id": "42"}))
            .is_empty()
    );
    assert_eq!(c.validate_request(op, JSON, &json!({"id": ""})).len(), 1);
    let ok = json!({"id": "42", "state": "DONE", "note": null, "attempts": 1});
    assert!(c.validate_response(op, 200, JSON, &ok, false).is_empty());
    let bad = json!({"id": "42", "state": "GONE", "attempts": 0});
    let m = messages(&c.validate_response(op, 200, JSON, &bad, false));
    assert_eq!(m.len(), 2, "{m:?}");
    let err = c.validate_response(op, 503, JSON, &json!({"code": "x"}), false);
    assert_eq!(messages(&err), [r#"/code "x" is not of type "integer""#]);
}

#[test]
fn openapi_31_documents_load_and_validate() {
    let c = load(&fixture("openapi31.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.dialect(), Dialect::OpenApi31);
    let op = c.find("GET", "/things/1").expect("op");
    let check = |body: Value| messages(&c.validate_response(op, 200, JSON, &body, false));
    assert_eq!(
        check(json!({"id": 1, "label": null, "tags": ["a"]})),
        Vec::<String>::new()
    );
    assert!(check(json!({"id": 1, "label": "x"})).is_empty());
    assert_eq!(check(json!({"id": 0, "label": 5, "tags": [""]})).len(), 3);
    // `$id` and `$anchor` under components resolve, and errors point into the document.
    let v = c.validate_response(
        op,
        200,
        JSON,
        &json!({"id": 1, "label": "x", "owner": {"name": ""}}),
        false,
    );
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        v[0].schema_path,
        "/components/schemas/Owner/$defs/name/minLength"
    );
}

#[test]
fn dangling_and_external_refs_are_reported_with_pointers() {
    let errs = load(&fixture("broken.yaml"))
        .map(|_| ())
        .expect_err("broken");
    let find = |needle: &str| {
        errs.0
            .iter()
            .find(|e| e.message.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{errs}"))
    };
    let dangling = find("dangling $ref `#/components/schemas/Nope`");
    assert_eq!(
        dangling.pointer,
        "/paths/~1ok/get/responses/200/content/application~1json/schema/$ref"
    );
    assert_eq!((dangling.line, dangling.column), (11, 24));
    let external = find("external $ref `other.yaml#/components/responses/Ok`");
    assert_eq!(external.pointer, "/paths/~1external/get/responses/200/$ref");
    let in_schema = find("external $ref `https://example.com/owner.json`");
    assert_eq!(
        in_schema.pointer,
        "/components/schemas/Pet/properties/owner/$ref"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let errs = load(&fixture("broken.yaml"))
        .map(|_| ())
        .expect_err("broken");
    let text = errs.to_string();
    for needle in [
        "dangling $ref",
        "external $ref `other.yaml",
        "external $ref `https://",
        "path `noslash` must start with `/`",
        "unclosed `{`",
        "the operation has no `responses`",
        "response key `20` is not a status code",
    ] {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
    assert_eq!(errs.0.len(), 7, "{text}");
    assert_eq!(text.lines().count(), 7);
    assert!(
        text.lines().all(|l| l.starts_with(&errs.0[0].file)),
        "{text}"
    );
}

#[test]
fn documents_that_are_not_contracts_are_refused() {
    let e = errors("- a\n- b\n");
    assert!(e[0].message.contains("mapping at its top level"), "{e:?}");
    let e = errors("info: {title: t}\npaths: {}\n");
    assert!(
        e[0].message.contains("neither `openapi` nor `swagger`"),
        "{e:?}"
    );
    let e = errors("openapi: 4.0.0\npaths: {}\n");
    assert!(
        e[0].message.contains("unsupported OpenAPI version `4.0.0`"),
        "{e:?}"
    );
    // At the version, where it is written.
    assert_eq!((e[0].pointer.as_str(), e[0].line), ("/openapi", 1));
    let e = errors("swagger: '1.2'\n");
    assert!(
        e[0].message.contains("unsupported Swagger version"),
        "{e:?}"
    );
    let e = errors("openapi: 3.0.3\npaths:\n  /a: {get: {responses: {}}\n");
    assert!(e[0].line > 0, "a YAML error is located: {e:?}");
    let e = parse(
        Path::new("c.json"),
        "{\"openapi\": \"3.0.3\",\n \"paths\": [}",
    )
    .map(|_| ())
    .expect_err("bad json");
    assert_eq!(e.0[0].line, 2);
    let e = errors("openapi: 3.0.3\ninfo: {title: t}\n");
    assert!(e[0].message.contains("no `paths`"), "{e:?}");
}

#[test]
fn hostile_documents_get_errors_not_panics() {
    for doc in [
        "openapi: 3.0.3\npaths: 5\n",
        "openapi: 3.0.3\npaths: {/a: 5}\n",
        "openapi: 3.0.3\npaths: {/a: {get: [1]}}\n",
        "openapi: 3.0.3\npaths: {/a: {get: {responses: [1]}}}\n",
        "openapi: 3.0.3\npaths: {/a: {get: {responses: {'200': 5}}}}\n",
        "openapi: 3.0.3\npaths: {/a: {get: {responses: {'200': {content: 5}}}}}\n",
        "openapi: 3.0.3\npaths: {/a: {$ref: '#/paths/~1a'}}\n",
        "swagger: '2.0'\nbasePath: 5\npaths: {}\n",
    ] {
        assert!(parse(Path::new("h.yaml"), doc).is_err(), "{doc}");
    }
    // A pure `$ref` loop never reaches a schema: refused, the loop named.
    let looped = parse(
        Path::new("h.yaml"),
        "openapi: 3.0.3\npaths: {/a: {get: {responses: {'200': {description: d, content: \
         {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}}}}\n\
         components: {schemas: {A: {$ref: '#/components/schemas/B'}, B: {$ref: '#/components/schemas/A'}}}\n",
    )
    .map(|_| ())
    .expect_err("a loop of references");
    assert_eq!(looped.0.len(), 3, "{looped}");
    assert!(
        looped
            .0
            .iter()
            .all(|e| e.message.starts_with("circular $ref")),
        "{looped}"
    );
    // A recursive schema loads, and validating against it terminates.
    let c = yaml(
        "openapi: 3.0.3\npaths: {/a: {get: {responses: {'200': {description: d, content: \
         {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}}}}\n\
         components: {schemas: {A: {type: object, properties: {next: {$ref: '#/components/schemas/A'}}}}}\n",
    );
    let op = c.find("GET", "/a").expect("op");
    let v = c.validate_response(op, 200, JSON, &json!({"next": {"next": 1}}), true);
    assert_eq!(v.len(), 1, "{v:?}");
}
