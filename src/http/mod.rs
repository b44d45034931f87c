//! The HTTP client: one pooled reqwest client for the whole run.
//!
//! - TLS by rustls (ring provider, no OpenSSL), verified against the
//!   platform's roots, read at the first handshake (`tls`); `cacert`
//!   replaces them with a private CA (as curl's `--cacert` does);
//!   `insecure` turns verification off only when asked.
//! - Proxies come from `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`.
//! - Redirects are not followed: a 3xx is the response under test, and the
//!   bearer token never travels to another host.
//! - Every request has a connect timeout and a total timeout (connect to
//!   last byte); bodies are read up to a cap, so a hostile server cannot
//!   exhaust memory.
//! - A timeout names the phase it cut off: the TCP connection or the TLS
//!   handshake (both under the connect timeout), or the response (under the
//!   request timeout). reqwest's connect timeout covers TCP and TLS alike,
//!   so when it strikes an `https://` request and the error does not show
//!   TCP timing out, one plain TCP connection to the host (within the
//!   connect timeout again) tells them apart: it connects, and the handshake
//!   is what hung. Through a proxy the two are not told apart.
//!
//! - Every request names the run in its user agent
//!   (`conform/VERSION (run RUN-ID)`, unless the case sets one) and carries
//!   a W3C `traceparent` (see `trace`).
//!
//! `style` writes parameter values as the contract's parameters ask, and
//! `target` builds a step's path, query and headers with it.

pub mod paced;
pub mod style;
pub mod target;
mod tls;
pub mod trace;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// How the client connects.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, connect to last byte.
    pub request_timeout: Duration,
    /// Largest response body read, in bytes (decompressed).
    pub max_response_bytes: u64,
    /// A PEM file of CA certificates to trust instead of the platform's.
    pub cacert: Option<PathBuf>,
    /// Accept any certificate (never the default).
    pub insecure: bool,
    /// The `user-agent` of requests that do not set their own
    /// ([`trace::user_agent`]).
    pub user_agent: String,
}

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    pub method: &'static str,
    pub url: reqwest::Url,
    pub headers: Vec<(String, String)>,
    /// Shared bytes: keeping the request for the report costs no copy.
    pub body: Option<bytes::Bytes>,
}

/// A response, read in full (up to the cap).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// From sending the request to the last byte of the body.
    pub elapsed: Duration,
    /// Set when the answer came before the whole request body was sent:
    /// how many of its bytes had been handed to the connection by then.
    pub request_body_sent: Option<usize>,
    /// When the request was sent, by the wall clock (for reports' times).
    pub sent_at: std::time::SystemTime,
    /// The body read as JSON, once, by the first check that needs it.
    pub json: std::sync::OnceLock<Result<serde_json::Value, String>>,
}

impl OutgoingRequest {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl HttpResponse {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("could not connect: {0}")]
    Connect(String),
    /// The connect timeout struck before the connection was made.
    #[error("{}", phase.timed_out(*timeout))]
    ConnectTimeout {
        phase: ConnectPhase,
        timeout: Duration,
    },
    #[error("no complete response within the request timeout of {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error(
        "the response body exceeds the cap of {limit} bytes (raise max_response_bytes to read more)"
    )]
    BodyTooLarge { limit: u64 },
    #[error("the response broke off: {0}")]
    Body(String),
    /// The connection broke while the request body was being sent, and no
    /// answer was read: a server that answered early and closed (see
    /// [`paced`]) left its answer unread.
    #[error(
        "the connection broke while the request body was being sent (after at most {} of its {} bytes): {cause}; a server that refuses a request (a wrong token, a body too large) may answer before reading the whole body and close the connection, and that answer could not be read",
        crate::printable::grouped(*sent),
        crate::printable::grouped(*total)
    )]
    BodyNotSent {
        sent: usize,
        total: usize,
        cause: String,
    },
    /// The server answered before the whole request body was sent, and the
    /// connection broke before its answer was read whole.
    #[error(
        "the server answered {status} before the request body was sent (after at most {} of its {} bytes), then the connection broke before its answer was read whole: {cause}",
        crate::printable::grouped(*sent),
        crate::printable::grouped(*total)
    )]
    AnsweredEarly {
        status: u16,
        sent: usize,
        total: usize,
        cause: String,
    },
    #[error("request failed: {0}")]
    Other(String),
}

/// The part of making a connection that a connect timeout cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectPhase {
    /// The TCP connection (to the host, or to a proxy).
    Tcp,
    /// The TLS handshake, the TCP connection made.
    TlsHandshake,
    /// Through a proxy, to an `https://` URL: either.
    TcpOrTls,
}

impl ConnectPhase {
    /// What did not happen within the connect timeout `t`.
    fn timed_out(self, t: Duration) -> String {
        let t = humantime::format_duration(t);
        match self {
            ConnectPhase::Tcp => format!("could not connect within the connect timeout of {t}"),
            ConnectPhase::TlsHandshake => {
                format!("the TLS handshake did not complete within the connect timeout of {t}")
            }
            ConnectPhase::TcpOrTls => format!(
                "could not connect through the proxy or complete the TLS handshake within the connect timeout of {t}"
            ),
        }
    }

    /// A few words for a poll's history.
    pub fn short(self) -> &'static str {
        match self {
            ConnectPhase::Tcp => "connect timeout",
            ConnectPhase::TlsHandshake => "TLS handshake timeout",
            ConnectPhase::TcpOrTls => "connect or TLS handshake timeout",
        }
    }
}

/// Anything that sends requests: the real client, or a script in tests.
pub trait Transport: Send + Sync + 'static {
    fn send(
        &self,
        req: &OutgoingRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>> + Send;
}

/// Problems building the client (bad CA file).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read the CA file {path}: {source}")]
    CaFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA file {path} holds no usable PEM certificate: {reason}")]
    CaPem { path: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    #[error(
        "cannot read the system's CA certificates to verify https:// servers with: {0} (give --cacert FILE, or set SSL_CERT_FILE)"
    )]
    Roots(String),
}

/// The platform's CA certificates, read once, at the first handshake or
/// when [`Roots::load`] asks (see `tls`). Made apart from the client, so
/// that a run can read them on another thread while it loads its inputs,
/// then hand them to the client ([`HttpClient::with_roots`]).
#[derive(Debug, Clone)]
pub struct Roots(Arc<tls::PlatformRoots>);

impl Roots {
    /// Nothing read yet.
    pub fn new() -> Roots {
        install_crypto_provider();
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        Roots(Arc::new(tls::PlatformRoots::new(provider)))
    }

    /// Reads them now, unless done already; why none could be read.
    pub fn load(&self) -> Result<(), ClientError> {
        self.0
            .verifier()
            .map(|_| ())
            .map_err(|e| ClientError::Roots(e.to_string()))
    }

    /// Whether they have been read.
    pub fn loaded(&self) -> bool {
        self.0.loaded()
    }
}

impl Default for Roots {
    fn default() -> Self {
        Self::new()
    }
}

/// The shared client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    /// The platform's roots, read at the first handshake; `None` with
    /// `cacert` or `insecure`, which do not use them.
    roots: Option<Roots>,
    connect_timeout: Duration,
    request_timeout: Duration,
    max_body: u64,
}

/// Installs the ring crypto provider for rustls once per process.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl HttpClient {
    /// A client whose roots, if it uses the platform's, are read at its
    /// first handshake.
    pub fn new(opts: &ClientOptions) -> Result<HttpClient, ClientError> {
        HttpClient::with_roots(opts, Roots::new())
    }

    /// A client verifying servers against `roots`, read already or not,
    /// unless `opts` names a CA file or turns verification off.
    pub fn with_roots(opts: &ClientOptions, roots: Roots) -> Result<HttpClient, ClientError> {
        install_crypto_provider();
        let mut b = reqwest::Client::builder()
            // The total timeout is ours (see `send`): one timer per request.
            .connect_timeout(opts.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A header the request sets itself wins over the client's.
            .user_agent(opts.user_agent.as_str());
        if let Some(path) = &opts.cacert {
            let shown = path.display().to_string();
            let pem = std::fs::read(path).map_err(|source| ClientError::CaFile {
                path: shown.clone(),
                source,
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ClientError::CaPem {
                    path: shown.clone(),
                    reason: e.to_string(),
                })?;
            if certs.is_empty() {
                return Err(ClientError::CaPem {
                    path: shown,
                    reason: "no certificate found".into(),
                });
            }
            b = b.tls_certs_only(certs);
        }
        let uses_roots = !opts.insecure && opts.cacert.is_none();
        if opts.insecure {
            b = b.tls_danger_accept_invalid_certs(true);
        } else if uses_roots {
            let config = tls::platform_config(roots.0.clone())
                .map_err(|e| ClientError::Build(e.to_string()))?;
            b = b.tls_backend_preconfigured(config);
        }
        let roots = uses_roots.then_some(roots);
        let inner = b.build().map_err(|e| ClientError::Build(error_chain(&e)))?;
        Ok(HttpClient {
            inner,
            roots,
            connect_timeout: opts.connect_timeout,
            request_timeout: opts.request_timeout,
            max_body: opts.max_response_bytes,
        })
    }

    /// Reads the platform's roots now rather than at the first handshake
    /// (see `tls`): for a run that will speak TLS, so that a machine without
    /// roots is refused before anything is sent. Nothing to read with
    /// `cacert` or `insecure`.
    pub fn load_roots(&self) -> Result<(), ClientError> {
        self.roots.as_ref().map_or(Ok(()), Roots::load)
    }

    /// Whether the platform's roots have been read.
    pub fn roots_loaded(&self) -> bool {
        self.roots.as_ref().is_some_and(|r| r.loaded())
    }

    async fn send_inner(&self, req: &OutgoingRequest) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| TransportError::Other(e.to_string()))?;
        let mut rb = self.inner.request(method, req.url.clone());
        for (k, v) in &req.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        // A large body goes in pieces, counted, so that an answer that
        // comes before it is all sent is read, and known as such (`paced`).
        let mut paced = None;
        if let Some(body) = &req.body {
            if body.len() > paced::PIECE {
                let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
                rb = rb.body(reqwest::Body::wrap(paced::Paced::new(
                    body.clone(),
                    sent.clone(),
                )));
                paced = Some((sent, body.len()));
            } else {
                rb = rb.body(body.clone());
            }
        }
        // How much of a paced body had gone, when it had not all gone.
        let unsent = || {
            paced.as_ref().and_then(|(sent, total)| {
                let sent = sent.load(std::sync::atomic::Ordering::Acquire);
                (sent < *total).then_some((sent, *total))
            })
        };
        let start = Instant::now();
        let sent_at = std::time::SystemTime::now();
        let mut resp =
            rb.send()
                .await
                .map_err(|e| match (self.classify(&e, &req.url), unsent()) {
                    (TransportError::Other(cause), Some((sent, total))) => {
                        TransportError::BodyNotSent { sent, total, cause }
                    }
                    (other, _) => other,
                })?;
        let early = unsent();
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) =
            resp.chunk()
                .await
                .map_err(|e| match (self.classify(&e, &req.url), early) {
                    (
                        TransportError::Other(cause) | TransportError::Body(cause),
                        Some((sent, total)),
                    ) => TransportError::AnsweredEarly {
                        status,
                        sent,
                        total,
                        cause,
                    },
                    (TransportError::Other(m), None) => TransportError::Body(m),
                    (other, _) => other,
                })?
        {
            if (body.len() + chunk.len()) as u64 > self.max_body {
                return Err(TransportError::BodyTooLarge {
                    limit: self.max_body,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
            elapsed: start.elapsed(),
            request_body_sent: early.map(|(sent, _)| sent),
            sent_at,
            json: Default::default(),
        })
    }
}

impl Transport for HttpClient {
    async fn send(&self, req: &OutgoingRequest) -> Result<HttpResponse, TransportError> {
        // reqwest's own timeout covers the body too; this bounds everything else.
        match tokio::time::timeout(self.request_timeout, self.send_inner(req)).await {
            Ok(Err(TransportError::ConnectTimeout {
                phase: ConnectPhase::TlsHandshake,
                timeout,
            })) => Err(TransportError::ConnectTimeout {
                phase: tls_or_tcp(&req.url, timeout).await,
                timeout,
            }),
            Ok(r) => r,
            Err(_) => Err(TransportError::Timeout(self.request_timeout)),
        }
    }
}

impl HttpClient {
    /// What a reqwest error says happened. A connect timeout of an
    /// `https://` request that TCP did not report is taken for the TLS
    /// handshake's, which [`tls_or_tcp`] then checks.
    fn classify(&self, e: &reqwest::Error, url: &reqwest::Url) -> TransportError {
        if e.is_timeout() && e.is_connect() {
            let phase = if url.scheme() != "https" || tcp_timed_out(e) {
                ConnectPhase::Tcp
            } else {
                ConnectPhase::TlsHandshake
            };
            return TransportError::ConnectTimeout {
                phase,
                timeout: self.connect_timeout,
            };
        }
        classify(e, self.request_timeout)
    }
}

/// Whether the TCP connection itself timed out (an I/O timeout, from the
/// system or the connector's own timer, is in the error's chain; reqwest's
/// timer around the whole connection is not an I/O error).
fn tcp_timed_out(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Which phase the connect timeout of an `https://` request cut off: when
/// a proxy is configured, either; otherwise the TLS handshake if a plain
/// TCP connection to the host succeeds within `timeout`, else TCP.
async fn tls_or_tcp(url: &reqwest::Url, timeout: Duration) -> ConnectPhase {
    let proxied = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|p| !p.is_empty()));
    if proxied {
        return ConnectPhase::TcpOrTls;
    }
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return ConnectPhase::Tcp;
    };
    let probe = tokio::net::TcpStream::connect(format!("{host}:{port}"));
    match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(_connected)) => ConnectPhase::TlsHandshake,
        _ => ConnectPhase::Tcp,
    }
}

fn classify(e: &reqwest::Error, timeout: Duration) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout(timeout)
    } else if e.is_connect() {
        TransportError::Connect(error_chain(e))
    } else if e.is_body() || e.is_decode() {
        TransportError::Body(error_chain(e))
    } else {
        TransportError::Other(error_chain(e))
    }
}

/// An error and its sources on one line, without the URL reqwest adds.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        let s = match s.split_once(" for url (") {
            Some((head, _)) => head.to_owned(),
            None => s,
        };
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// A base URL as given: absolute, http or https; why not, otherwise (with a
/// hint for the common slip of leaving out the scheme).
pub fn check_base_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| {
        let hint = if url.contains("://") {
            ""
        } else {
            " (add the scheme: http:// or https://)"
        };
        format!("invalid URL `{url}`: {e}{hint}")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "the URL `{url}` must start with http:// or https://{}",
            if url.contains("://") {
                ""
            } else {
                " (add the scheme)"
            }
        ));
    }
    Ok(parsed)
}

/// A run's base URL, and the URLs of its literal request paths joined to it
/// once each: joining re-parses the path (some 4,000 instructions a
/// request), and most request paths have no variable.
#[derive(Debug)]
pub struct BaseUrl {
    url: reqwest::Url,
    joined: std::sync::RwLock<
        std::collections::HashMap<Box<str>, reqwest::Url, foldhash::fast::RandomState>,
    >,
}

impl BaseUrl {
    pub fn new(url: reqwest::Url) -> BaseUrl {
        BaseUrl {
            url,
            joined: Default::default(),
        }
    }

    /// The base URL itself.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// [`join_url`]; a `literal` path (one a request plan gives without
    /// variables, so a run has few of them) is joined once and remembered.
    pub fn join(&self, path_and_query: &str, literal: bool) -> Result<reqwest::Url, String> {
        if !literal {
            return join_url(&self.url, path_and_query);
        }
        let read = self.joined.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(url) = read.get(path_and_query) {
            return Ok(url.clone());
        }
        drop(read);
        let url = join_url(&self.url, path_and_query)?;
        self.joined
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path_and_query.into(), url.clone());
        Ok(url)
    }
}

/// Joins a base URL (which may carry a path prefix) and a path.
/// Only the path and query are parsed: the base's scheme and host were
/// checked once, when the run started.
pub fn join_url(base: &reqwest::Url, path_and_query: &str) -> Result<reqwest::Url, String> {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    if path.contains('#') || query.is_some_and(|q| q.contains('#')) {
        return Err(format!(
            "`{path_and_query}` holds a `#`: a request path cannot have a fragment"
        ));
    }
    let mut url = base.clone();
    url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
    url.set_query(query);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeouts_name_their_phase() {
        let t = Duration::from_millis(1500);
        let says = |phase| TransportError::ConnectTimeout { phase, timeout: t }.to_string();
        assert_eq!(
            says(ConnectPhase::Tcp),
            "could not connect within the connect timeout of 1s 500ms"
        );
        assert_eq!(
            says(ConnectPhase::TlsHandshake),
            "the TLS handshake did not complete within the connect timeout of 1s 500ms"
        );
        assert!(says(ConnectPhase::TcpOrTls).contains("proxy"));
    }

    #[tokio::test]
    async fn a_host_that_accepts_tcp_hung_in_the_handshake_and_one_that_refuses_did_not_connect() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = reqwest::Url::parse(&format!("https://127.0.0.1:{port}/x")).unwrap();
        let t = Duration::from_secs(5);
        if std::env::var_os("HTTPS_PROXY").is_none() && std::env::var_os("ALL_PROXY").is_none() {
            assert_eq!(tls_or_tcp(&url, t).await, ConnectPhase::TlsHandshake);
            drop(listener);
            assert_eq!(tls_or_tcp(&url, t).await, ConnectPhase::Tcp);
        }
    }

    /// A TLS server on 127.0.0.1 with the test certificate
    /// (`tests/fixtures/tls`), answering `200 ok` to each of `connections`
    /// connections whose handshake completes; its port.
    fn tls_server(connections: usize) -> u16 {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        use std::io::{Read, Write};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
        let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(dir.join("server.pem"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(connections) {
                let conn = rustls::ServerConnection::new(config.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream.unwrap());
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                // A client that refuses the certificate ends the handshake:
                // the read fails and the next connection is taken.
                while !request.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                if request.ends_with(b"\r\n\r\n") {
                    let _ = tls.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    );
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            }
        });
        port
    }

    fn client_options(cacert: Option<PathBuf>) -> ClientOptions {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            max_response_bytes: 1024,
            cacert,
            insecure: false,
            user_agent: "conform-test".into(),
        }
    }

    fn get(url: String) -> OutgoingRequest {
        OutgoingRequest {
            method: "GET",
            url: reqwest::Url::parse(&url).unwrap(),
            headers: Vec::new(),
            body: None,
        }
    }

    #[tokio::test]
    async fn the_platform_roots_are_read_at_the_first_handshake_and_verify_it() {
        let port = tls_server(2);
        let client = HttpClient::new(&client_options(None)).unwrap();
        assert!(!client.roots_loaded(), "building the client reads no root");
        // The test CA is none of the platform's: the server is refused.
        let e = client
            .send(&get(format!("https://127.0.0.1:{port}/")))
            .await
            .unwrap_err();
        assert!(client.roots_loaded(), "the handshake read the roots");
        assert!(e.to_string().contains("UnknownIssuer"), "{e}");
        // With the test CA (reqwest's own configuration), the same server answers.
        let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
        let private = HttpClient::new(&client_options(Some(ca))).unwrap();
        let r = private
            .send(&get(format!("https://localhost:{port}/")))
            .await
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
        assert!(!private.roots_loaded());
        private.load_roots().unwrap();
    }

    #[test]
    fn base_url_prefixes_are_kept() {
        let base = reqwest::Url::parse("http://h:1/prefix/").unwrap();
        assert_eq!(
            join_url(&base, "/api/v1/assessments/query_spec:nodes_async_get")
                .unwrap()
                .as_str(),
            "http://h:1/prefix/api/v1/assessments/query_spec:nodes_async_get"
        );
        let base = reqwest::Url::parse("http://h:1").unwrap();
        assert_eq!(
            join_url(&base, "/a?b=1").unwrap().as_str(),
            "http://h:1/a?b=1"
        );
        assert_eq!(
            join_url(&base, "/a b/c:d").unwrap().as_str(),
            "http://h:1/a%20b/c:d"
        );
        assert!(join_url(&base, "/a#frag").is_err());
    }

    #[test]
    fn literal_paths_are_joined_once_and_others_each_time() {
        let base = BaseUrl::new(reqwest::Url::parse("http://h:1/prefix").unwrap());
        for _ in 0..2 {
            assert_eq!(
                base.join("/a/b:c", true).unwrap().as_str(),
                "http://h:1/prefix/a/b:c"
            );
        }
        assert_eq!(base.joined.read().unwrap().len(), 1);
        assert_eq!(
            base.join("/q/x%20y?z=1", false).unwrap().as_str(),
            "http://h:1/prefix/q/x%20y?z=1"
        );
        assert_eq!(
            base.joined.read().unwrap().len(),
            1,
            "a rendered path is not kept"
        );
        assert!(base.join("/a#frag", true).is_err());
        assert_eq!(base.joined.read().unwrap().len(), 1, "nor a refused one");
    }
}
