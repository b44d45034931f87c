//! The embedded reference server: a faithful implementation of the async node-query
//! contract (`cases/openapi.yaml`) with named fault modes: faults that break one
//! documented clause each, and variations that a conforming server may show. Each
//! mode's [`Fault::expected`] is the verdict the bundled suite must reach against it.
//!
//! Use [`app`] for in-process tests and [`spawn`] for a real socket:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use conform::server::{spawn, Fault, ServerConfig};
//! let config = ServerConfig { faults: vec![Fault::Cancel204], ..ServerConfig::default() };
//! let server = spawn("127.0.0.1:0".parse().expect("literal address"), config).await?;
//! println!("{}", server.base_url());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod encoding;
mod error;
mod fault;
mod handlers;
mod parse;
mod rows;
mod state;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fmt::Write as _;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use fault::{Expected, Fault, UnknownFault};

use fault::FaultSet;
use rows::PageTokens;
use state::{CancelPolicy, Store, Timing};

/// Path of CreateQuerySpecNodesAsync.
pub(crate) const CREATE_PATH: &str = "/api/v1/assessments/query_spec:nodes_async_create";
/// Path of GetQuerySpecNodesAsync.
pub(crate) const GET_PATH: &str = "/api/v1/assessments/query_spec:nodes_async_get";
/// Path of CancelQuerySpecNodesAsync.
pub(crate) const CANCEL_PATH: &str = "/api/v1/assessments/query_spec:nodes_async_cancel";

/// How the reference server behaves.
#[derive(Clone)]
pub struct ServerConfig {
    /// Bearer token every API call must carry. Default: [`random_token`].
    pub token: String,
    /// Time from create to DONE. `Duration::ZERO` = instant mode (DONE at
    /// creation, for benchmarks). Default: 1 s.
    pub lifecycle: Duration,
    /// Phases move on only as Gets watch: the first Get of a query finds
    /// it PENDING, and each later Get moves it on at most one phase, no
    /// sooner than `lifecycle` allows. So a query one Get has seen is still
    /// in progress at the next request, however slow the client or the
    /// machine. No effect on a zero lifecycle. Default: false (the clock
    /// alone); `conform selfcheck` turns it on.
    pub paced_by_gets: bool,
    /// Deliberate contract violations and tolerated variations to enable. Default: none.
    pub faults: Vec<Fault>,
    /// Queries older than this are forgotten (Get then answers UNKNOWN). Default: 1 h.
    pub query_ttl: Duration,
    /// Hard cap on remembered queries; the oldest are evicted first. Default: 100 000.
    pub max_queries: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            token: random_token(),
            lifecycle: Duration::from_secs(1),
            paced_by_gets: false,
            faults: Vec::new(),
            query_ttl: Duration::from_secs(3600),
            max_queries: 100_000,
        }
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("token", &"<redacted>")
            .field("lifecycle", &self.lifecycle)
            .field("paced_by_gets", &self.paced_by_gets)
            .field("faults", &self.faults)
            .field("query_ttl", &self.query_ttl)
            .field("max_queries", &self.max_queries)
            .finish()
    }
}

/// The environment variable the reference server (`conform serve`) reads
/// the token clients must send from, when no token file is given: the one
/// the bundled suite names (`auth: { bearer_env: VEZA_TOKEN }`).
pub const TOKEN_ENV: &str = "VEZA_TOKEN";

/// 32 random bytes from the operating system, as 64 lowercase hex digits.
///
/// # Panics
///
/// If the operating system's random number generator fails.
pub fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    hex(&bytes)
}

/// `len` random bytes as hex; ids and request ids only need to be unique, so
/// a failing OS generator falls back to a counter mixed with the clock.
pub(crate) fn random_hex(len: usize) -> String {
    let mut bytes = vec![0_u8; len];
    if getrandom::fill(&mut bytes).is_err() {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        for chunk in bytes.chunks_mut(8) {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let seed = [n.to_le_bytes(), (nanos as u64).to_le_bytes()].concat();
            let mixed = rows::fnv1a64(&seed).to_le_bytes();
            chunk.copy_from_slice(&mixed[..chunk.len()]);
        }
    }
    hex(&bytes)
}

fn random_u64() -> u64 {
    getrandom::u64().unwrap_or_else(|_| rows::fnv1a64(random_hex(8).as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// Shared server state behind every handler.
pub(crate) struct App {
    token: String,
    faults: FaultSet,
    timing: Timing,
    cancel: CancelPolicy,
    tokens: PageTokens,
    store: Mutex<Store>,
    /// `flaky-once` has failed its one request.
    flaky_spent: AtomicBool,
}

impl App {
    fn new(config: ServerConfig) -> Self {
        let faults = FaultSet::new(&config.faults);
        App {
            token: config.token,
            faults,
            timing: Timing::new(config.lifecycle, faults).paced(config.paced_by_gets),
            cancel: CancelPolicy::new(faults),
            tokens: PageTokens::new(random_u64()),
            store: Mutex::new(Store::new(config.query_ttl, config.max_queries)),
            flaky_spent: AtomicBool::new(false),
        }
    }

    /// The query store; a poisoned lock is still usable (the store holds no invariants
    /// a panicking handler could break halfway).
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The whole app, for in-process use.
pub fn app(config: ServerConfig) -> Router {
    router(config, Arc::new(AtomicU64::new(0)))
}

fn router(config: ServerConfig, requests: Arc<AtomicU64>) -> Router {
    let app = Arc::new(App::new(config));
    let faults = app.faults;
    let mut router = Router::new()
        .route(
            CREATE_PATH,
            post(handlers::create).fallback(handlers::unimplemented),
        )
        .route(
            GET_PATH,
            post(handlers::get).fallback(handlers::unimplemented),
        )
        .route(
            CANCEL_PATH,
            post(handlers::cancel).fallback(handlers::unimplemented),
        )
        .route(
            "/openapi.yaml",
            get(handlers::openapi).fallback(handlers::unimplemented),
        )
        .fallback(handlers::not_found)
        .with_state(app);
    if faults.any(&encoding::TRANSPORT_FAULTS) {
        router = router.layer(from_fn_with_state(faults, encoding::vary_transport));
    }
    router.layer(from_fn_with_state(requests, count_requests))
}

async fn count_requests(
    State(requests): State<Arc<AtomicU64>>,
    request: Request,
    next: Next,
) -> Response {
    requests.fetch_add(1, Ordering::Relaxed);
    next.run(request).await
}

/// Binds `addr` (use `127.0.0.1:0` for a free port) and serves [`app`] on a spawned task.
pub async fn spawn(addr: SocketAddr, config: ServerConfig) -> io::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let requests = Arc::new(AtomicU64::new(0));
    let router = router(config, Arc::clone(&requests));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                // A dropped RunningServer also stops the server.
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        requests,
        stop,
        task,
    })
}

/// A server started by [`spawn`]. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl RunningServer {
    /// The bound address (with the real port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`; an unspecified bind address is shown as loopback.
    pub fn base_url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                Ipv4Addr::LOCALHOST.into()
            } else {
                Ipv6Addr::LOCALHOST.into()
            });
        }
        format!("http://{addr}")
    }

    /// Number of HTTP requests the server has received (every route, including 401s and 404s).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Graceful shutdown: stops accepting, lets in-flight requests finish, awaits the serve task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
