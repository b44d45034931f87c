//! HTTP-level tests of the reference server over real sockets: contract, routing, faults.

use std::io::{Read, Write};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

use super::handlers::OPENAPI_YAML;
use super::*;

const TOKEN: &str = "s3cret-test-token";

fn config(lifecycle: Duration, faults: &[Fault]) -> ServerConfig {
    ServerConfig {
        token: TOKEN.to_owned(),
        lifecycle,
        faults: faults.to_vec(),
        ..ServerConfig::default()
    }
}

fn instant(faults: &[Fault]) -> ServerConfig {
    config(Duration::ZERO, faults)
}

fn spec(node_type: &str) -> Value {
    json!({"query_type": "SOURCE_TO_DESTINATION", "source_node_types": {"nodes": [{"node_type": node_type}]}})
}

fn immediate(node_type: &str) -> Value {
    json!({"immediate_run": {"request": {"body": spec(node_type)}}})
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("{err}: {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a grpc-gateway error body with `code`, and returns it.
    fn error(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "{:?}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.content_type(), "application/json");
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        let request_id = body["request_id"].as_str().unwrap_or_default();
        assert!(request_id.len() == 32 && request_id.bytes().all(|b| b.is_ascii_hexdigit()));
        let timestamp = body["timestamp"].as_str().unwrap_or_default();
        assert!(humantime::parse_rfc3339(timestamp).is_ok(), "{timestamp}");
        assert_eq!(body["details"], json!([]));
        body
    }
}

struct Harness {
    server: RunningServer,
    http: reqwest::Client,
}

async fn start(config: ServerConfig) -> Harness {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let server = spawn(addr, config).await.expect("bind 127.0.0.1:0");
    let http = reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("client");
    Harness { server, http }
}

impl Harness {
    async fn raw(&self, method: &str, path: &str, auth: Option<&str>, body: &str) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server.base_url()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        if let Some(auth) = auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        let response = request.send().await.expect("send");
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("body").to_vec(),
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        let auth = format!("Bearer {TOKEN}");
        self.raw("POST", path, Some(&auth), &body.to_string()).await
    }

    async fn create(&self, body: &Value) -> String {
        let reply = self.post(CREATE_PATH, body).await;
        assert_eq!(reply.status, 200, "{}", reply.json());
        let id = reply.json()["query_result_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!id.is_empty(), "{}", reply.json());
        id
    }

    async fn get(&self, id: &str, page_size: Value, page_token: &str) -> Value {
        let body = json!({"query_result_id": id, "page_size": page_size, "page_token": page_token});
        let reply = self.post(GET_PATH, &body).await;
        assert_eq!(reply.status, 200, "{}", reply.json());
        let get = reply.json();
        for field in [
            "status",
            "progress_status",
            "values",
            "next_page_token",
            "has_more",
        ] {
            assert!(get.get(field).is_some(), "{field} missing: {get}");
        }
        assert_eq!(
            get["has_more"],
            json!(get["next_page_token"] != ""),
            "{get}"
        );
        get
    }

    async fn status(&self, id: &str) -> Value {
        self.get(id, json!("100"), "").await
    }

    async fn cancel(&self, id: &str) -> Reply {
        self.post(CANCEL_PATH, &json!({"query_result_id": id}))
            .await
    }

    /// Polls until `status`, failing on DONE-when-not-expected or a 3 s deadline.
    async fn poll_until(&self, id: &str, status: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        loop {
            let get = self.status(id).await;
            if get["status"] == status {
                return get;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never reached {status}: {get}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every row of a DONE query, following `has_more`; also returns the page lengths.
    async fn all_rows(&self, id: &str, page_size: Value) -> (Vec<Value>, Vec<usize>) {
        let (mut rows, mut lengths, mut token) = (Vec::new(), Vec::new(), String::new());
        loop {
            let page = self.get(id, page_size.clone(), &token).await;
            assert_eq!(page["status"], "DONE", "{page}");
            let values = page["values"].as_array().cloned().unwrap_or_default();
            lengths.push(values.len());
            rows.extend(values);
            if page["has_more"] != true {
                return (rows, lengths);
            }
            token = page["next_page_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(lengths.len() < 1000, "paging does not end");
        }
    }
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|row| row["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn assert_unknown(get: &Value) {
    let expected = json!({"status": "UNKNOWN", "progress_status": {"row_count": "0"}, "values": [], "next_page_token": "", "has_more": false});
    assert_eq!(*get, expected);
}

#[tokio::test]
async fn create_then_cancel_makes_the_query_unknown() {
    let h = start(config(Duration::from_secs(5), &[])).await;
    let id = h.create(&immediate("OktaUser")).await;
    let early = h.status(&id).await;
    assert!(
        early["status"] == "PENDING" || early["status"] == "RUNNING",
        "{early}"
    );
    assert_eq!(early["values"], json!([]));
    assert!(early["progress_status"]["row_count"].is_string(), "{early}");
    let reply = h.cancel(&id).await;
    assert_eq!((reply.status, reply.body.len()), (StatusCode::OK, 0));
    assert_unknown(&h.status(&id).await);
    h.server.shutdown().await;
}

#[tokio::test]
async fn lifecycle_reaches_done_with_a_growing_row_count() {
    let h = start(config(Duration::from_millis(200), &[])).await;
    let id = h.create(&immediate("AwsIamRole")).await;
    let (mut seen, mut last_count) = (Vec::new(), 0_u64);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let done = loop {
        let get = h.status(&id).await;
        let count: u64 = get["progress_status"]["row_count"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("int64 string");
        assert!(count >= last_count, "row_count went down: {get}");
        last_count = count;
        let status = get["status"].as_str().unwrap_or_default().to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "DONE" {
            break get;
        }
        assert_eq!(get["values"], json!([]), "rows before DONE");
        assert!(tokio::time::Instant::now() < deadline, "never DONE: {get}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let order = ["PENDING", "RUNNING", "DONE"];
    assert!(
        order.ends_with(&seen.iter().map(String::as_str).collect::<Vec<_>>()),
        "{seen:?}"
    );
    let total: u64 = done["progress_status"]["row_count"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    assert!((120..=350).contains(&total), "{done}");
    assert_eq!(done["values"].as_array().map(Vec::len), Some(100));
}

#[tokio::test]
async fn paging_visits_every_row_once() {
    let h = start(instant(&[])).await;
    let id = h.create(&immediate("OktaUser")).await;
    let first = h.status(&id).await;
    let total: usize = first["progress_status"]["row_count"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .expect("row_count");
    for page_size in [json!("100"), json!(37), json!("1000"), Value::Null] {
        let (rows, lengths) = h.all_rows(&id, page_size.clone()).await;
        let expected: Vec<String> = (0..total).map(|i| format!("OktaUser-{i:05}")).collect();
        assert_eq!(ids(&rows), expected, "page_size {page_size}");
        assert!(lengths.iter().all(|len| *len <= 100), "{lengths:?}");
        assert!(lengths.len() > 1, "more than one page");
    }
    let (rows, _) = h.all_rows(&id, json!(100)).await;
    assert_eq!(
        rows[8],
        json!({"id": "OktaUser-00008", "type": "OktaUser", "properties": {"name": "OktaUser 8", "index": 8}, "destination_node_count": 1, "risk_level": "LOW"})
    );
    let again = h.create(&immediate("OktaUser")).await;
    assert_eq!(
        h.status(&again).await["progress_status"],
        first["progress_status"],
        "deterministic"
    );
    let other = h
        .create(&json!({"immediate_run": {"request": {"body": {}}}}))
        .await;
    assert_eq!(h.status(&other).await["values"][0]["type"], "Node");
}

#[tokio::test]
async fn page_tokens_are_checked() {
    let h = start(instant(&[])).await;
    let a = h.create(&immediate("A")).await;
    let b = h.create(&immediate("B")).await;
    let token = h.status(&a).await["next_page_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!token.is_empty());
    let second = h.get(&a, json!(100), &token).await;
    assert_eq!(second["values"][0]["id"], "A-00100");
    for (id, bad) in [
        (&a, "garbage"),
        (&a, "00000000000000000000000000000000"),
        (&b, token.as_str()),
    ] {
        let body = json!({"query_result_id": id, "page_token": bad});
        h.post(GET_PATH, &body).await.error(400, "InvalidArgument");
    }
}

#[tokio::test]
async fn cancel_is_idempotent_and_leaves_other_queries_alone() {
    let h = start(instant(&[])).await;
    let done = h.create(&immediate("A")).await;
    let other = h.create(&immediate("A")).await;
    assert_eq!(h.status(&done).await["status"], "DONE");
    for id in [done.as_str(), done.as_str(), "qr-never-created"] {
        let reply = h.cancel(id).await;
        assert_eq!(
            (reply.status, reply.body.len()),
            (StatusCode::OK, 0),
            "{id}"
        );
    }
    assert_unknown(&h.status(&done).await);
    assert_unknown(&h.get(&done, json!(5), "").await);
    assert_unknown(&h.status("qr-never-created").await);
    let (rows, _) = h.all_rows(&other, json!(100)).await;
    assert!(rows.len() >= 120);
}

#[tokio::test]
async fn malformed_requests_are_refused_with_400() {
    let h = start(instant(&[])).await;
    let auth = format!("Bearer {TOKEN}");
    let cases: &[(&str, &str)] = &[
        (CREATE_PATH, "not json"),
        (CREATE_PATH, ""),
        (CREATE_PATH, "[]"),
        (CREATE_PATH, "{}"),
        (
            CREATE_PATH,
            r#"{"immediate_run": {"request": {"body": {}}}, "cached_result_if_available": {"request": {"body": {}}}}"#,
        ),
        (CREATE_PATH, r#"{"immediate_run": 3}"#),
        (CREATE_PATH, r#"{"immediate_run": {"request": {}}}"#),
        (
            CREATE_PATH,
            r#"{"cached_result_if_available": {"request": {"body": {}}, "max_staleness": "soon"}}"#,
        ),
        (
            CREATE_PATH,
            r#"{"cached_result_context": {"cache_id": ""}}"#,
        ),
        (GET_PATH, "{"),
        (GET_PATH, "{}"),
        (GET_PATH, r#"{"query_result_id": ""}"#),
        (GET_PATH, r#"{"query_result_id": 12}"#),
        (GET_PATH, r#"{"query_result_id": "x", "page_size": 0}"#),
        (GET_PATH, r#"{"query_result_id": "x", "page_size": "-3"}"#),
        (GET_PATH, r#"{"query_result_id": "x", "page_size": "ten"}"#),
        (CANCEL_PATH, "null"),
        (CANCEL_PATH, "{}"),
        (CANCEL_PATH, r#"{"query_result_id": ""}"#),
    ];
    for (path, body) in cases {
        let reply = h.raw("POST", path, Some(&auth), body).await;
        let error = reply.error(400, "InvalidArgument");
        assert!(error.get("x_debug").is_none());
    }
}

#[tokio::test]
async fn every_endpoint_requires_the_bearer_token() {
    let h = start(instant(&[])).await;
    let good = immediate("A").to_string();
    let wrong = format!("Bearer {TOKEN}x");
    let basic = format!("Basic {TOKEN}");
    for path in [CREATE_PATH, GET_PATH, CANCEL_PATH] {
        for auth in [
            None,
            Some(wrong.as_str()),
            Some(basic.as_str()),
            Some("Bearer"),
            Some(""),
        ] {
            h.raw("POST", path, auth, &good)
                .await
                .error(401, "Unauthenticated");
            h.raw("POST", path, auth, "not json")
                .await
                .error(401, "Unauthenticated");
        }
    }
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let auth = format!("{scheme}  {TOKEN}");
        assert_eq!(
            h.raw("POST", CREATE_PATH, Some(&auth), &good).await.status,
            200,
            "{scheme}"
        );
    }
}

#[tokio::test]
async fn cancel_running_noop_only_drops_finished_queries() {
    let h = start(ServerConfig {
        token: TOKEN.into(),
        lifecycle: Duration::from_secs(60),
        faults: vec![Fault::CancelRunningNoop],
        ..ServerConfig::default()
    })
    .await;
    let id = h.create(&immediate("A")).await;
    h.cancel(&id).await;
    assert_ne!(
        h.status(&id).await["status"],
        "UNKNOWN",
        "a running query is not stopped"
    );
    let h = start(instant(&[Fault::CancelRunningNoop])).await;
    let id = h.create(&immediate("A")).await;
    h.cancel(&id).await;
    assert_eq!(
        h.status(&id).await["status"],
        "UNKNOWN",
        "a finished one is dropped"
    );
}

#[tokio::test]
async fn paced_by_gets_a_running_query_is_never_dropped_by_cancel_running_noop() {
    // A lifecycle over before any request arrives: the clock alone would
    // make the first Get find DONE, and cancel drop the query.
    let h = start(ServerConfig {
        paced_by_gets: true,
        ..config(Duration::from_nanos(1), &[Fault::CancelRunningNoop])
    })
    .await;
    let id = h.create(&immediate("A")).await;
    assert_eq!(h.status(&id).await["status"], "PENDING", "the first Get");
    h.cancel(&id).await;
    assert_eq!(h.status(&id).await["status"], "RUNNING", "not stopped");
    assert_eq!(h.status(&id).await["status"], "DONE", "runs on to DONE");
    // Paced or not, an instant query is DONE at creation (`instant-done`).
    let h = start(ServerConfig {
        paced_by_gets: true,
        ..instant(&[Fault::CancelRunningNoop])
    })
    .await;
    let id = h.create(&immediate("A")).await;
    assert_eq!(h.status(&id).await["status"], "DONE");
    h.cancel(&id).await;
    assert_eq!(h.status(&id).await["status"], "UNKNOWN", "dropped");
}

#[tokio::test]
async fn flaky_once_fails_the_first_create_only() {
    let h = start(instant(&[Fault::FlakyOnce])).await;
    // A create that starts no query (malformed, or attaching) does not spend it.
    h.post(CREATE_PATH, &json!({}))
        .await
        .error(400, "InvalidArgument");
    h.post(
        CREATE_PATH,
        &json!({"cached_result_context": {"cache_id": "nope"}}),
    )
    .await
    .error(404, "NotFound");
    h.post(CREATE_PATH, &immediate("A"))
        .await
        .error(500, "Internal");
    let id = h.create(&immediate("A")).await;
    assert!(!id.is_empty());
}

#[tokio::test]
async fn a_body_over_the_message_limit_is_resource_exhausted() {
    let h = start(instant(&[])).await;
    let auth = format!("Bearer {TOKEN}");
    let big = format!(
        "{{\"query_result_id\": \"{}\"}}",
        "x".repeat(super::handlers::MAX_BODY_BYTES)
    );
    h.raw("POST", GET_PATH, Some(&auth), &big)
        .await
        .error(429, "ResourceExhausted");
    let small = format!("{{\"query_result_id\": \"{}\"}}", "x".repeat(1000));
    assert_eq!(
        h.raw("POST", GET_PATH, Some(&auth), &small).await.status,
        200
    );
}

#[tokio::test]
async fn routing_404_501_and_the_contract_file() {
    let h = start(instant(&[])).await;
    let auth = format!("Bearer {TOKEN}");
    h.raw("POST", "/api/v1/nope", Some(&auth), "{}")
        .await
        .error(404, "NotFound");
    h.raw("GET", "/", None, "").await.error(404, "NotFound");
    h.raw("GET", CREATE_PATH, Some(&auth), "")
        .await
        .error(501, "Unimplemented");
    h.raw("DELETE", CANCEL_PATH, None, "")
        .await
        .error(501, "Unimplemented");
    h.raw("POST", "/openapi.yaml", None, "")
        .await
        .error(501, "Unimplemented");
    let yaml = h.raw("GET", "/openapi.yaml", None, "").await;
    assert_eq!(
        (yaml.status, yaml.content_type()),
        (StatusCode::OK, "application/yaml")
    );
    assert_eq!(yaml.body, OPENAPI_YAML.as_bytes());
    for operation in [
        "CreateQuerySpecNodesAsync",
        "GetQuerySpecNodesAsync",
        "CancelQuerySpecNodesAsync",
    ] {
        assert!(OPENAPI_YAML.contains(operation), "{operation}");
    }
    // The contract names the clauses its responses and schemas rest on.
    for id in ["D1", "D2", "D5", "A1", "A2", "A3", "A4", "A12", "A13"] {
        assert!(
            OPENAPI_YAML.contains(&format!("x-clause: {id}\n")),
            "{id} is not marked"
        );
    }
}

#[tokio::test]
async fn cache_wrappers_share_results() {
    let h = start(config(Duration::from_millis(200), &[])).await;
    let original = h.create(&immediate("Cached")).await;
    h.poll_until(&original, "DONE").await;
    let cached = json!({"cached_result_if_available": {"request": {"body": spec("Cached")}, "max_staleness": "3600s"}});
    let copy = h.create(&cached).await;
    assert_ne!(copy, original);
    assert_eq!(
        h.status(&copy).await["status"],
        "DONE",
        "a cache hit shares the result"
    );
    let context = h
        .create(&json!({"cached_result_context": {"cache_id": original}}))
        .await;
    assert_eq!(h.status(&context).await["status"], "DONE");
    let fresh = [
        json!({"cached_result_if_available": {"request": {"body": spec("Other")}}}),
        json!({"cached_result_if_available": {"request": {"body": spec("Cached")}, "max_staleness": "0s"}}),
    ];
    for body in &fresh {
        let id = h.create(body).await;
        assert_ne!(h.status(&id).await["status"], "DONE", "{body}");
    }
    let unknown = json!({"cached_result_context": {"cache_id": "qr-unknown"}});
    h.post(CREATE_PATH, &unknown).await.error(404, "NotFound");
    h.cancel(&original).await;
    let gone = json!({"cached_result_context": {"cache_id": original}});
    h.post(CREATE_PATH, &gone).await.error(404, "NotFound");
    assert_eq!(
        h.status(&copy).await["status"],
        "DONE",
        "copies survive the original"
    );
}

#[tokio::test]
async fn expiry_and_eviction_over_http() {
    let h = start(ServerConfig {
        query_ttl: Duration::ZERO,
        ..instant(&[])
    })
    .await;
    let id = h.create(&immediate("A")).await;
    assert_unknown(&h.status(&id).await);
    let h = start(ServerConfig {
        max_queries: 2,
        ..instant(&[])
    })
    .await;
    let first = h.create(&immediate("A")).await;
    let second = h.create(&immediate("A")).await;
    let third = h.create(&immediate("A")).await;
    assert_unknown(&h.status(&first).await);
    assert_eq!(h.status(&second).await["status"], "DONE");
    assert_eq!(h.status(&third).await["status"], "DONE");
}

#[tokio::test]
async fn request_count_shutdown_and_base_url() {
    let h = start(instant(&[])).await;
    assert_eq!(h.server.request_count(), 0);
    h.raw("POST", CREATE_PATH, None, "{}").await;
    h.raw("GET", "/missing", None, "").await;
    h.raw("GET", CANCEL_PATH, None, "").await;
    h.raw("GET", "/openapi.yaml", None, "").await;
    assert_eq!(h.server.request_count(), 4);
    let base = h.server.base_url();
    assert_eq!(base, format!("http://127.0.0.1:{}", h.server.addr().port()));
    h.server.shutdown().await;
    assert!(
        h.http
            .get(format!("{base}/openapi.yaml"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn app_serves_in_process() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move { axum::serve(listener, app(instant(&[]))).await });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let reply = reqwest::Client::builder()
        .build()
        .expect("client")
        .get(format!("http://{addr}/openapi.yaml"))
        .send()
        .await
        .expect("send");
    assert_eq!(reply.status(), 200);
    task.abort();
}

#[tokio::test]
async fn plain_responses_have_no_variations() {
    let h = start(instant(&[])).await;
    let id = h.create(&immediate("A")).await;
    let body = json!({"query_result_id": id});
    let reply = h
        .http
        .post(format!("{}{GET_PATH}", h.server.base_url()))
        .bearer_auth(TOKEN)
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(body.to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(reply.headers()[header::CONTENT_TYPE], "application/json");
    assert!(reply.headers().get(header::CONTENT_ENCODING).is_none());
    assert!(reply.headers().get(header::TRANSFER_ENCODING).is_none());
    let get: Value = serde_json::from_slice(&reply.bytes().await.expect("body")).expect("json");
    assert!(get.get("x_debug").is_none() && get["values"][0].get("x_debug").is_none());
}

// ---- faults: each must be visible over HTTP ----

#[tokio::test]
async fn cancel_body_faults() {
    let h = start(instant(&[Fault::CancelEmptyObject])).await;
    let reply = h.cancel("qr-x").await;
    assert_eq!(
        (reply.status, reply.body.as_slice(), reply.content_type()),
        (StatusCode::OK, &b"{}"[..], "application/json")
    );
    let h = start(instant(&[Fault::Cancel204])).await;
    let id = h.create(&immediate("A")).await;
    assert_eq!(h.cancel(&id).await.status, StatusCode::NO_CONTENT);
    assert_unknown(&h.status(&id).await);
}

#[tokio::test]
async fn after_cancel_faults() {
    let cases: &[(Fault, &str, bool)] = &[
        (Fault::GetAfterCancelDone, "DONE", true),
        (Fault::GetAfterCancelRunning, "RUNNING", false),
        (Fault::CancelNoop, "DONE", true),
        (Fault::RowsAfterCancel, "UNKNOWN", true),
        (Fault::LateUnknown, "UNKNOWN", false),
    ];
    for (fault, status, rows) in cases {
        let h = start(instant(&[*fault])).await;
        let id = h.create(&immediate("A")).await;
        let reply = h.cancel(&id).await;
        assert_eq!(
            (reply.status, reply.body.len()),
            (StatusCode::OK, 0),
            "{fault}"
        );
        let get = h.status(&id).await;
        assert_eq!(get["status"], *status, "{fault}: {get}");
        assert_eq!(
            get["values"].as_array().is_some_and(|v| !v.is_empty()),
            *rows,
            "{fault}: {get}"
        );
    }
    let h = start(instant(&[Fault::CancelCancelsAll])).await;
    let (a, b) = (
        h.create(&immediate("A")).await,
        h.create(&immediate("B")).await,
    );
    h.cancel(&a).await;
    assert_unknown(&h.status(&b).await);
}

#[tokio::test]
async fn auth_fault() {
    assert_eq!(Fault::NoAuth.expected(), Expected::Fails(&["D6"]));
    let h = start(instant(&[Fault::NoAuth])).await;
    assert_eq!(
        h.raw("POST", CREATE_PATH, None, &immediate("A").to_string())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn response_shape_faults() {
    assert_eq!(Fault::CreateWithoutId.expected(), Expected::Fails(&["D1"]));
    let h = start(instant(&[Fault::CreateWithoutId])).await;
    let reply = h.post(CREATE_PATH, &immediate("A")).await;
    assert_eq!((reply.status, reply.json()), (StatusCode::OK, json!({})));
    assert_eq!(Fault::StatusLowercase.expected(), Expected::Fails(&["D5"]));
    let h = start(instant(&[Fault::StatusLowercase])).await;
    let id = h.create(&immediate("A")).await;
    assert_eq!(h.status(&id).await["status"], "done");
    assert_eq!(h.status("qr-nope").await["status"], "unknown");
    assert_eq!(Fault::NeverCompletes.expected(), Expected::Fails(&["D7"]));
    let h = start(instant(&[Fault::NeverCompletes])).await;
    let id = h.create(&immediate("A")).await;
    assert_eq!(h.status(&id).await["status"], "RUNNING");
}

#[tokio::test]
async fn paging_faults() {
    for (fault, second_page_starts_at) in
        [(Fault::PagingSkipsRow, 101), (Fault::PagingRepeatsRow, 99)]
    {
        let h = start(instant(&[fault])).await;
        let id = h.create(&immediate("P")).await;
        let total: usize = h.status(&id).await["progress_status"]["row_count"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let (rows, _) = h.all_rows(&id, json!(100)).await;
        assert_ne!(rows.len(), total, "{fault}");
        assert_eq!(
            rows[100]["properties"]["index"], second_page_starts_at,
            "{fault}"
        );
    }
}

// ---- variations: each must be visible over HTTP, with its expected verdict ----

#[tokio::test]
async fn slow_lifecycle_passes() {
    assert_eq!(Fault::SlowLifecycle.expected(), Expected::Passes);
    let h = start(instant(&[Fault::SlowLifecycle])).await;
    let id = h.create(&immediate("A")).await;
    assert_eq!(h.status(&id).await["status"], "PENDING");
}

#[tokio::test]
async fn extra_fields_and_charset_variations() {
    for fault in [
        Fault::ExtraFields,
        Fault::Charset,
        Fault::Gzip,
        Fault::Chunked,
        Fault::LateUnknown,
    ] {
        assert_eq!(fault.expected(), Expected::Passes, "{fault}");
    }
    let h = start(instant(&[Fault::ExtraFields, Fault::Charset])).await;
    let reply = h.post(CREATE_PATH, &immediate("A")).await;
    assert_eq!(reply.content_type(), "application/json; charset=utf-8");
    assert!(reply.json().get("x_debug").is_some());
    let id = reply.json()["query_result_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let get = h.status(&id).await;
    assert!(
        get.get("x_debug").is_some() && get["values"][0].get("x_debug").is_some(),
        "{get}"
    );
    assert_eq!(get["values"].as_array().map(Vec::len), Some(100));
    let error = h.post(GET_PATH, &json!({})).await;
    assert_eq!(error.status, 400);
    assert!(error.json().get("x_debug").is_some() && error.json()["code"] == "InvalidArgument");
    let yaml = h.raw("GET", "/openapi.yaml", None, "").await;
    assert_eq!(yaml.content_type(), "application/yaml");
}

#[tokio::test]
async fn gzip_variation() {
    let h = start(instant(&[Fault::Gzip])).await;
    let id = h.create(&immediate("A")).await;
    let url = format!("{}{GET_PATH}", h.server.base_url());
    let body = json!({"query_result_id": id}).to_string();
    let send = |accept: &'static str| {
        h.http
            .post(&url)
            .bearer_auth(TOKEN)
            .header(header::ACCEPT_ENCODING, accept)
            .body(body.clone())
            .send()
    };
    let zipped = send("br, gzip").await.expect("send");
    assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
    let bytes = zipped.bytes().await.expect("body");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .expect("gzip");
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("json")["status"],
        "DONE"
    );
    let plain = send("identity").await.expect("send");
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert!(serde_json::from_slice::<Value>(&plain.bytes().await.expect("body")).is_ok());
    let auto = reqwest::Client::builder().build().expect("client");
    let decoded = auto
        .post(&url)
        .bearer_auth(TOKEN)
        .body(body.clone())
        .send()
        .await
        .expect("send");
    assert!(serde_json::from_slice::<Value>(&decoded.bytes().await.expect("body")).is_ok());
}

#[tokio::test]
async fn chunked_variation_sends_several_chunks() {
    let h = start(instant(&[Fault::Chunked])).await;
    let addr = h.server.addr();
    let body = immediate("A").to_string();
    let raw = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(
            stream,
            "POST {CREATE_PATH} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut out = String::new();
        stream.read_to_string(&mut out)?;
        Ok::<_, std::io::Error>(out)
    })
    .await
    .expect("join")
    .expect("raw http");
    let (head, mut rest) = raw.split_once("\r\n\r\n").expect("head");
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let (mut chunks, mut joined) = (0, String::new());
    loop {
        let (size, after) = rest.split_once("\r\n").expect("chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex size");
        if size == 0 {
            break;
        }
        chunks += 1;
        joined.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    assert!(chunks >= 2, "{chunks} chunk(s): {raw}");
    let created: Value = serde_json::from_str(&joined).expect("json");
    assert!(created["query_result_id"].is_string());
}

#[tokio::test]
async fn error_body_variations_deviate_from_a12() {
    assert_eq!(Fault::ErrorNotJson.expected(), Expected::Deviates(&["A12"]));
    assert!(Fault::ErrorNotJson.is_variation());
    let h = start(instant(&[Fault::ErrorNotJson])).await;
    for reply in [
        h.raw("POST", CREATE_PATH, None, "{}").await,
        h.post(GET_PATH, &json!({})).await,
    ] {
        assert!(reply.status == 400 || reply.status == 401);
        assert_eq!(
            (reply.content_type(), reply.body.as_slice()),
            ("text/plain", &b"bad request"[..])
        );
    }
    assert_eq!(
        Fault::ErrorMissingCode.expected(),
        Expected::Deviates(&["A12"])
    );
    assert!(Fault::ErrorMissingCode.is_variation());
    let h = start(instant(&[Fault::ErrorMissingCode])).await;
    let reply = h.post(GET_PATH, &json!({})).await;
    assert_eq!(
        (reply.status, reply.content_type()),
        (StatusCode::BAD_REQUEST, "application/json")
    );
    let error = reply.json();
    assert!(
        error.get("code").is_none() && error.get("message").is_some(),
        "{error}"
    );
}

#[tokio::test]
async fn row_count_number_deviates_from_a4() {
    assert_eq!(
        Fault::RowCountNumber.expected(),
        Expected::Deviates(&["A4"])
    );
    assert!(Fault::RowCountNumber.is_variation());
    let h = start(instant(&[Fault::RowCountNumber])).await;
    let id = h.create(&immediate("A")).await;
    let get = h.status(&id).await;
    assert_eq!(get["status"], "DONE");
    assert!(
        get["progress_status"]["row_count"].as_u64() >= Some(120),
        "{get}"
    );
    assert_eq!(
        h.status("qr-nope").await["progress_status"]["row_count"],
        json!(0)
    );
}

#[tokio::test]
async fn create_accepts_two_wrappers_deviates_from_a9() {
    assert_eq!(
        Fault::CreateAcceptsTwoWrappers.expected(),
        Expected::Deviates(&["A9"])
    );
    assert!(Fault::CreateAcceptsTwoWrappers.is_variation());
    let h = start(instant(&[Fault::CreateAcceptsTwoWrappers])).await;
    let two = json!({"immediate_run": {"request": {"body": {}}}, "cached_result_context": {"cache_id": "x"}});
    let reply = h.post(CREATE_PATH, &two).await;
    assert_eq!(reply.status, 200);
    let id = reply.json()["query_result_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        h.status(&id).await["status"],
        "DONE",
        "the first wrapper ran"
    );
    h.post(CREATE_PATH, &json!({}))
        .await
        .error(400, "InvalidArgument");
}

/// `{"query_result_id": id, "padding": "xxx…"}` of more than `bytes` bytes.
fn padded(fields: Value, bytes: usize) -> String {
    let mut body = fields;
    body["padding"] = Value::from("x".repeat(bytes));
    body.to_string()
}

#[tokio::test]
async fn unknown_fields_no_limit_serves_large_bodies() {
    assert_eq!(Fault::UnknownFieldsNoLimit.expected(), Expected::Passes);
    let h = start(instant(&[Fault::UnknownFieldsNoLimit])).await;
    let auth = format!("Bearer {TOKEN}");
    let five_mib = 5 << 20;
    let id = h.create(&immediate("Big")).await;
    let get = padded(json!({"query_result_id": id, "page_size": 10}), five_mib);
    let reply = h.raw("POST", GET_PATH, Some(&auth), &get).await;
    assert_eq!(
        reply.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    assert_eq!(body["status"], "DONE", "{body}");
    assert_eq!(body["values"].as_array().map(Vec::len), Some(10));
    assert_eq!(body["values"][0]["id"], "Big-00000");
    assert!(body.get("padding").is_none());
    let unknown = padded(json!({"query_result_id": "qr-nope"}), five_mib);
    let reply = h.raw("POST", GET_PATH, Some(&auth), &unknown).await;
    assert_eq!(reply.status, 200);
    assert_unknown(&reply.json());
    let create = padded(immediate("Big"), five_mib);
    let reply = h.raw("POST", CREATE_PATH, Some(&auth), &create).await;
    assert_eq!(reply.status, 200);
    assert!(reply.json()["query_result_id"].is_string());
    let cancel = padded(json!({"query_result_id": id}), five_mib);
    let reply = h.raw("POST", CANCEL_PATH, Some(&auth), &cancel).await;
    assert_eq!((reply.status, reply.body.len()), (StatusCode::OK, 0));
    assert_unknown(&h.status(&id).await);
    // Past the safety cap the body is still refused.
    let huge = padded(
        json!({"query_result_id": "qr-nope"}),
        handlers::SAFETY_CAP_BYTES,
    );
    h.raw("POST", GET_PATH, Some(&auth), &huge)
        .await
        .error(429, "ResourceExhausted");
}

#[tokio::test]
async fn oversized_413_text_deviates_from_a12() {
    assert_eq!(
        Fault::Oversized413Text.expected(),
        Expected::Deviates(&["A12"])
    );
    let h = start(instant(&[Fault::Oversized413Text])).await;
    let auth = format!("Bearer {TOKEN}");
    for path in [CREATE_PATH, GET_PATH, CANCEL_PATH] {
        let big = padded(json!({"query_result_id": "qr-x"}), 5 << 20);
        let reply = h.raw("POST", path, Some(&auth), &big).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(reply.content_type(), "text/plain", "{path}");
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        assert!(!text.is_empty() && text.len() < 100, "{text}");
        assert!(
            serde_json::from_slice::<Value>(&reply.body).is_err(),
            "{text}"
        );
    }
    // Other errors keep the JSON body, and a small body is served.
    h.post(GET_PATH, &json!({}))
        .await
        .error(400, "InvalidArgument");
    h.raw("POST", GET_PATH, None, "{}")
        .await
        .error(401, "Unauthenticated");
    let small = padded(json!({"query_result_id": "qr-x"}), 1000);
    assert_eq!(
        h.raw("POST", GET_PATH, Some(&auth), &small).await.status,
        200
    );
}

/// A Get answer as it comes, without the checks of [`Harness::get`].
async fn bare_get(h: &Harness, id: &str, page_token: &str) -> Value {
    let body = json!({"query_result_id": id, "page_size": 100, "page_token": page_token});
    let reply = h.post(GET_PATH, &body).await;
    assert_eq!(reply.status, 200);
    reply.json()
}

#[tokio::test]
async fn zero_values_omitted_deviates_from_a5() {
    assert_eq!(
        Fault::ZeroValuesOmitted.expected(),
        Expected::Deviates(&["A5"])
    );
    let h = start(instant(&[Fault::ZeroValuesOmitted])).await;
    assert_eq!(
        bare_get(&h, "qr-nope", "").await,
        json!({"status": "UNKNOWN", "progress_status": {}})
    );
    let id = h.create(&immediate("Z")).await;
    let first = bare_get(&h, &id, "").await;
    assert_eq!(first["status"], "DONE");
    assert!(first["progress_status"]["row_count"].is_string(), "{first}");
    assert_eq!(first["values"].as_array().map(Vec::len), Some(100));
    assert_eq!(first["has_more"], true);
    let mut token = first["next_page_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let last = loop {
        let page = bare_get(&h, &id, &token).await;
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(next) => token = next.to_owned(),
            None => break page,
        }
    };
    assert!(last.get("has_more").is_none(), "{last}");
    assert!(
        last["values"].as_array().is_some_and(|v| !v.is_empty()),
        "{last}"
    );
    // An in-flight query: no rows, no count yet.
    let h = start(config(Duration::from_secs(60), &[Fault::ZeroValuesOmitted])).await;
    let id = h.create(&immediate("Z")).await;
    let reply = h.post(GET_PATH, &json!({"query_result_id": id})).await;
    assert_eq!(
        reply.json(),
        json!({"status": "PENDING", "progress_status": {}})
    );
    // The error body leaves out its empty details, nothing else.
    let reply = h.post(GET_PATH, &json!({})).await;
    assert_eq!(
        (reply.status, reply.content_type()),
        (StatusCode::BAD_REQUEST, "application/json")
    );
    let error = reply.json();
    assert!(error.get("details").is_none(), "{error}");
    for field in ["code", "message", "request_id", "timestamp"] {
        assert!(error.get(field).is_some(), "{field}: {error}");
    }
    // The reference server emits every zero value.
    let h = start(instant(&[])).await;
    assert_unknown(&h.status("qr-nope").await);
    assert_eq!(
        h.post(GET_PATH, &json!({})).await.json()["details"],
        json!([])
    );
}

#[tokio::test]
async fn queued_status_deviates_from_a3() {
    assert_eq!(Fault::QueuedStatus.expected(), Expected::Deviates(&["A3"]));
    let h = start(config(Duration::from_secs(60), &[Fault::QueuedStatus])).await;
    let id = h.create(&immediate("Q")).await;
    let get = h.status(&id).await;
    assert_eq!(get["status"], "QUEUED", "{get}");
    assert_eq!(get["values"], json!([]));
    let h = start(config(Duration::from_millis(300), &[Fault::QueuedStatus])).await;
    let id = h.create(&immediate("Q")).await;
    let mut seen: Vec<String> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let status = h.status(&id).await["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "DONE" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never DONE: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let order = ["QUEUED", "RUNNING", "DONE"];
    assert!(
        order.ends_with(&seen.iter().map(String::as_str).collect::<Vec<_>>()),
        "{seen:?}"
    );
    assert_unknown(&h.status("qr-nope").await);
}

#[tokio::test]
async fn missing_id_404_deviates_from_a9() {
    assert_eq!(Fault::MissingId404.expected(), Expected::Deviates(&["A9"]));
    let h = start(instant(&[Fault::MissingId404])).await;
    let auth = format!("Bearer {TOKEN}");
    for path in [GET_PATH, CANCEL_PATH] {
        for body in ["{}", r#"{"query_result_id": ""}"#] {
            h.raw("POST", path, Some(&auth), body)
                .await
                .error(404, "NotFound");
        }
        for body in ["not json", r#"{"query_result_id": 12}"#] {
            h.raw("POST", path, Some(&auth), body)
                .await
                .error(400, "InvalidArgument");
        }
    }
    h.raw("POST", CREATE_PATH, Some(&auth), "{}")
        .await
        .error(400, "InvalidArgument");
    let id = h.create(&immediate("A")).await;
    assert_eq!(h.status(&id).await["status"], "DONE");
}

#[tokio::test]
async fn cancel_unknown_404_deviates_from_a7() {
    assert_eq!(
        Fault::CancelUnknown404.expected(),
        Expected::Deviates(&["A7"])
    );
    let h = start(config(Duration::from_secs(60), &[Fault::CancelUnknown404])).await;
    h.cancel("qr-never-created").await.error(404, "NotFound");
    let running = h.create(&immediate("A")).await;
    let reply = h.cancel(&running).await;
    assert_eq!((reply.status, reply.body.len()), (StatusCode::OK, 0));
    assert_unknown(&h.status(&running).await);
    h.cancel(&running).await.error(404, "NotFound");
    let h = start(instant(&[Fault::CancelUnknown404])).await;
    let done = h.create(&immediate("A")).await;
    assert_eq!(h.status(&done).await["status"], "DONE");
    let reply = h.cancel(&done).await;
    assert_eq!((reply.status, reply.body.len()), (StatusCode::OK, 0));
    assert_unknown(&h.status(&done).await);
    h.cancel(&done).await.error(404, "NotFound");
    let h = start(ServerConfig {
        query_ttl: Duration::ZERO,
        ..instant(&[Fault::CancelUnknown404])
    })
    .await;
    let expired = h.create(&immediate("A")).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    h.cancel(&expired).await.error(404, "NotFound");
}

#[tokio::test]
async fn wrong_token_400_deviates_from_a11() {
    assert_eq!(
        Fault::WrongToken400.expected(),
        Expected::Deviates(&["A11"])
    );
    let h = start(instant(&[Fault::WrongToken400])).await;
    let good = immediate("A").to_string();
    let wrong = format!("Bearer {TOKEN}x");
    for path in [CREATE_PATH, GET_PATH, CANCEL_PATH] {
        let error = h
            .raw("POST", path, Some(&wrong), &good)
            .await
            .error(400, "InvalidArgument");
        assert_eq!(error["message"], "Invalid API key", "{path}");
        h.raw("POST", path, None, &good)
            .await
            .error(401, "Unauthenticated");
    }
    let auth = format!("Bearer {TOKEN}");
    assert_eq!(
        h.raw("POST", CREATE_PATH, Some(&auth), &good).await.status,
        200
    );
}

#[tokio::test]
async fn first_page_empty_passes() {
    assert_eq!(Fault::FirstPageEmpty.expected(), Expected::Passes);
    let h = start(instant(&[Fault::FirstPageEmpty])).await;
    let id = h.create(&immediate("F")).await;
    let first = h.status(&id).await;
    assert_eq!(first["status"], "DONE");
    assert_eq!(first["values"], json!([]));
    assert_eq!(first["has_more"], true);
    assert!(
        first["next_page_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let total: usize = first["progress_status"]["row_count"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .expect("row_count");
    for page_size in [json!(100), json!(37)] {
        let (rows, lengths) = h.all_rows(&id, page_size.clone()).await;
        let expected: Vec<String> = (0..total).map(|i| format!("F-{i:05}")).collect();
        assert_eq!(ids(&rows), expected, "page_size {page_size}");
        assert_eq!(lengths[0], 0);
        assert!(lengths[1] > 0, "{lengths:?}");
    }
    // Not yet DONE, or DONE without rows: the ordinary last page.
    let h = start(config(Duration::from_secs(60), &[Fault::FirstPageEmpty])).await;
    let id = h.create(&immediate("F")).await;
    let early = h.status(&id).await;
    assert_eq!(
        (early["has_more"].clone(), early["values"].clone()),
        (json!(false), json!([]))
    );
    let h = start(instant(&[Fault::FirstPageEmpty, Fault::NoRows])).await;
    let id = h.create(&immediate("F")).await;
    let empty = h.status(&id).await;
    assert_eq!(
        empty,
        json!({"status": "DONE", "progress_status": {"row_count": "0"}, "values": [], "next_page_token": "", "has_more": false})
    );
}

#[tokio::test]
async fn context_requires_request_passes() {
    assert_eq!(Fault::ContextRequiresRequest.expected(), Expected::Passes);
    let h = start(instant(&[Fault::ContextRequiresRequest])).await;
    let original = h.create(&immediate("C")).await;
    for wrapper in [
        json!({"cache_id": original}),
        json!({"cache_id": original, "request": {}}),
    ] {
        h.post(CREATE_PATH, &json!({"cached_result_context": wrapper}))
            .await
            .error(400, "InvalidArgument");
    }
    let attached = h
        .create(&json!({"cached_result_context": {"cache_id": original, "request": {"body": spec("C")}}}))
        .await;
    assert_ne!(attached, original);
    assert_eq!(h.status(&attached).await["status"], "DONE");
    let unknown = json!({"cached_result_context": {"cache_id": "qr-unknown", "request": {"body": spec("C")}}});
    h.post(CREATE_PATH, &unknown).await.error(404, "NotFound");
    // The reference server accepts it without `request`.
    let h = start(instant(&[])).await;
    let original = h.create(&immediate("C")).await;
    h.create(&json!({"cached_result_context": {"cache_id": original}}))
        .await;
}

#[tokio::test]
async fn minimal_rows_passes() {
    assert_eq!(Fault::MinimalRows.expected(), Expected::Passes);
    let h = start(instant(&[Fault::MinimalRows])).await;
    let id = h.create(&immediate("M")).await;
    let (rows, _) = h.all_rows(&id, json!(100)).await;
    assert!(rows.len() >= 120);
    for row in &rows {
        let keys: Vec<_> = row
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys.len(), 3, "{row}");
        for key in ["id", "type", "properties"] {
            assert!(row.get(key).is_some(), "{key}: {row}");
        }
    }
    assert_eq!(
        rows[8],
        json!({"id": "M-00008", "type": "M", "properties": {"name": "M 8", "index": 8}})
    );
}

#[tokio::test]
async fn no_rows_is_inconclusive_on_p1() {
    assert_eq!(Fault::NoRows.expected(), Expected::Inconclusive(&["P1"]));
    let h = start(config(Duration::from_millis(200), &[Fault::NoRows])).await;
    let id = h.create(&immediate("N")).await;
    let early = h.status(&id).await;
    assert_eq!(early["progress_status"]["row_count"], "0", "{early}");
    let done = h.poll_until(&id, "DONE").await;
    assert_eq!(
        done,
        json!({"status": "DONE", "progress_status": {"row_count": "0"}, "values": [], "next_page_token": "", "has_more": false})
    );
    let cached = json!({"cached_result_if_available": {"request": {"body": spec("N")}}});
    let copy = h.create(&cached).await;
    assert_eq!(
        h.status(&copy).await,
        done,
        "a cache hit has no rows either"
    );
}

#[tokio::test]
async fn instant_done_is_inconclusive_on_p2() {
    assert_eq!(
        Fault::InstantDone.expected(),
        Expected::Inconclusive(&["P2"])
    );
    let h = start(config(Duration::from_secs(60), &[Fault::InstantDone])).await;
    let id = h.create(&immediate("I")).await;
    let get = h.status(&id).await;
    assert_eq!(get["status"], "DONE", "{get}");
    assert_eq!(get["values"].as_array().map(Vec::len), Some(100));
    let reply = h.cancel(&id).await;
    assert_eq!((reply.status, reply.body.len()), (StatusCode::OK, 0));
    assert_unknown(&h.status(&id).await);
    // Without it the same lifecycle starts PENDING.
    let h = start(config(Duration::from_secs(60), &[])).await;
    let id = h.create(&immediate("I")).await;
    assert_eq!(h.status(&id).await["status"], "PENDING");
}
