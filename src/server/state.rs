//! The query store: lifecycle, cancellation, result cache, expiry and eviction.
//!
//! A query's phase (PENDING, RUNNING, DONE) follows the clock: the share of
//! the lifecycle elapsed since creation. Paced by Gets
//! ([`super::ServerConfig::paced_by_gets`]), the clock is also held back by
//! what Gets have reported: the first Get of a query always finds it
//! PENDING, and each later Get moves it on at most one phase. Every Get
//! and cancel between the first Get and the next therefore finds the query
//! still in progress however long the client took between them, which is
//! what makes the verdicts of `conform selfcheck` independent of the
//! machine's speed (the flagship's precondition P2 and the faults that hinge
//! on it, `cancel-running-noop` above all). Pacing only ever delays a
//! phase, so a paced server is as conformant as an unpaced one.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use super::fault::{Fault, FaultSet};
use super::random_hex;
use super::rows::SpecDigest;

/// How long `late-unknown` keeps reporting the pre-cancel status.
pub(crate) const LATE_UNKNOWN_GRACE: Duration = Duration::from_secs(1);

/// The status of an async query, as Get reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Unknown,
    Pending,
    Running,
    Done,
}

impl Status {
    /// The enum name Get writes: `QUEUED` for PENDING under `queued-status`,
    /// lower-case under `status-lowercase`.
    pub(crate) fn name(self, faults: FaultSet) -> &'static str {
        let queued = faults.has(Fault::QueuedStatus);
        match (self, faults.has(Fault::StatusLowercase)) {
            (Status::Unknown, false) => "UNKNOWN",
            (Status::Pending, false) if queued => "QUEUED",
            (Status::Pending, false) => "PENDING",
            (Status::Running, false) => "RUNNING",
            (Status::Done, false) => "DONE",
            (Status::Unknown, true) => "unknown",
            (Status::Pending, true) if queued => "queued",
            (Status::Pending, true) => "pending",
            (Status::Running, true) => "running",
            (Status::Done, true) => "done",
        }
    }
}

/// When queries move from PENDING to RUNNING to DONE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    lifecycle: Duration,
    never_completes: bool,
    /// Phases held back by what Gets reported (see the module docs).
    paced: bool,
}

impl Timing {
    pub(crate) fn new(lifecycle: Duration, faults: FaultSet) -> Self {
        let lifecycle = if faults.has(Fault::InstantDone) {
            Duration::ZERO
        } else if faults.has(Fault::SlowLifecycle) {
            lifecycle.saturating_mul(5).max(Duration::from_secs(3))
        } else {
            lifecycle
        };
        Timing {
            lifecycle,
            never_completes: faults.has(Fault::NeverCompletes),
            paced: false,
        }
    }

    /// Paced by Gets when `on`; a zero lifecycle (instant mode,
    /// `instant-done`) stays DONE at creation.
    pub(crate) fn paced(self, on: bool) -> Self {
        Timing {
            paced: on && !self.lifecycle.is_zero(),
            ..self
        }
    }

    /// [`Timing::progress`], held back when paced: PENDING until a Get has
    /// reported the query (`seen`), and not DONE until one has reported it
    /// RUNNING.
    pub(crate) fn view(self, elapsed: Duration, total: u64, seen: Option<Status>) -> (Status, u64) {
        let (status, row_count) = self.progress(elapsed, total);
        if !self.paced {
            return (status, row_count);
        }
        match (seen, status) {
            (None, _) => (Status::Pending, 0),
            (Some(Status::Pending), Status::Done) => (Status::Running, total.saturating_sub(1)),
            _ => (status, row_count),
        }
    }

    /// Status and `row_count` of a query with `total` rows, `elapsed` after creation:
    /// PENDING for the first 20% of the lifecycle, then RUNNING with a growing
    /// partial count, then DONE with the total.
    pub(crate) fn progress(self, elapsed: Duration, total: u64) -> (Status, u64) {
        let pending = self.lifecycle / 5;
        if !self.lifecycle.is_zero() && elapsed < pending {
            return (Status::Pending, 0);
        }
        if elapsed >= self.lifecycle && !self.never_completes {
            return (Status::Done, total);
        }
        let running = self.lifecycle.saturating_sub(pending).as_nanos();
        let into = elapsed.saturating_sub(pending).as_nanos();
        // A zero-length RUNNING phase only happens under `never-completes`: report the cap.
        let partial = (u128::from(total) * into)
            .checked_div(running)
            .unwrap_or(u128::from(total));
        let cap = total.saturating_sub(1);
        (
            Status::Running,
            u64::try_from(partial).unwrap_or(cap).min(cap),
        )
    }
}

/// What cancel does to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelMode {
    /// Forget the query (the contract).
    Forget,
    /// Remember it as cancelled, for the faults that still report it.
    Mark,
    /// Do nothing (`cancel-noop`).
    Ignore,
    /// Forget every query (`cancel-cancels-all`).
    ForgetAll,
}

/// What Get reports for a query marked as cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterCancel {
    Unknown,
    Done,
    Running,
    UnknownWithRows,
    LateUnknown,
}

/// Cancel behaviour derived from the enabled faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CancelPolicy {
    pub(crate) mode: CancelMode,
    pub(crate) after: AfterCancel,
}

impl CancelPolicy {
    pub(crate) fn new(faults: FaultSet) -> Self {
        let after = if faults.has(Fault::GetAfterCancelDone) {
            AfterCancel::Done
        } else if faults.has(Fault::GetAfterCancelRunning) {
            AfterCancel::Running
        } else if faults.has(Fault::RowsAfterCancel) {
            AfterCancel::UnknownWithRows
        } else if faults.has(Fault::LateUnknown) {
            AfterCancel::LateUnknown
        } else {
            AfterCancel::Unknown
        };
        let mode = if faults.has(Fault::CancelNoop) {
            CancelMode::Ignore
        } else if faults.has(Fault::CancelCancelsAll) {
            CancelMode::ForgetAll
        } else if after == AfterCancel::Unknown {
            CancelMode::Forget
        } else {
            CancelMode::Mark
        };
        CancelPolicy { mode, after }
    }
}

/// Get's view of a query at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) status: Status,
    pub(crate) row_count: u64,
    /// `(node_type, total)` when rows are to be returned.
    pub(crate) rows: Option<(String, u64)>,
}

impl Snapshot {
    fn unknown() -> Self {
        Snapshot {
            status: Status::Unknown,
            row_count: 0,
            rows: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Query {
    spec: SpecDigest,
    created: Instant,
    cancelled_at: Option<Instant>,
    /// The status the last Get reported while the query was live; paces
    /// its phases (see [`Timing::view`]).
    seen: Option<Status>,
}

/// Remembered queries. Never holds rows: they are regenerated on demand.
#[derive(Debug)]
pub(crate) struct Store {
    queries: HashMap<String, Query>,
    /// Ids in insertion order with their insertion instant; may hold ids
    /// already forgotten, which are skipped (and compacted away).
    order: VecDeque<(String, Instant)>,
    /// Spec hash to the newest fresh run of that spec, for the cache.
    latest_by_spec: HashMap<u64, String>,
    ttl: Duration,
    max_queries: usize,
}

impl Store {
    pub(crate) fn new(ttl: Duration, max_queries: usize) -> Self {
        Store {
            queries: HashMap::new(),
            order: VecDeque::new(),
            latest_by_spec: HashMap::new(),
            ttl,
            max_queries: max_queries.max(1),
        }
    }

    /// Number of remembered queries (including any kept as cancelled).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.queries.len()
    }

    /// Starts a fresh run and makes it the cached result of its spec.
    pub(crate) fn run(&mut self, spec: SpecDigest, now: Instant) -> String {
        let hash = spec.hash;
        let id = self.insert(
            Query {
                spec,
                created: now,
                cancelled_at: None,
                seen: None,
            },
            now,
        );
        self.latest_by_spec.insert(hash, id.clone());
        id
    }

    /// A new id sharing the newest live result of `spec` created within
    /// `max_staleness`, if there is one.
    pub(crate) fn cached(
        &mut self,
        spec: &SpecDigest,
        max_staleness: Duration,
        now: Instant,
    ) -> Option<String> {
        let id = self.latest_by_spec.get(&spec.hash)?;
        let original = self.live(id, now)?;
        if original.spec != *spec || now.saturating_duration_since(original.created) > max_staleness
        {
            return None;
        }
        let copy = original.clone();
        Some(self.insert(copy, now))
    }

    /// A new id sharing the result of the live query `cache_id`, if it exists.
    pub(crate) fn attach(&mut self, cache_id: &str, now: Instant) -> Option<String> {
        let copy = self.live(cache_id, now)?.clone();
        Some(self.insert(copy, now))
    }

    /// What a Get of `id` at `now` reports; the status is remembered to
    /// pace the query's phases.
    pub(crate) fn get(
        &mut self,
        id: &str,
        now: Instant,
        timing: Timing,
        after: AfterCancel,
    ) -> Snapshot {
        let snapshot = self.snapshot(id, now, timing, after);
        if let Some(query) = self.queries.get_mut(id)
            && query.cancelled_at.is_none()
        {
            query.seen = Some(snapshot.status);
        }
        snapshot
    }

    /// What Get would report for `id` at `now`, leaving the pace alone.
    pub(crate) fn snapshot(
        &mut self,
        id: &str,
        now: Instant,
        timing: Timing,
        after: AfterCancel,
    ) -> Snapshot {
        let Some(query) = self.queries.get(id) else {
            return Snapshot::unknown();
        };
        if self.expired(query, now) {
            self.forget(id);
            return Snapshot::unknown();
        }
        let total = query.spec.total;
        let rows = Some((query.spec.node_type.clone(), total));
        let progress_at = |at: Instant| {
            timing.view(
                at.saturating_duration_since(query.created),
                total,
                query.seen,
            )
        };
        let Some(cancelled_at) = query.cancelled_at else {
            let (status, row_count) = progress_at(now);
            return Snapshot {
                status,
                row_count,
                rows: rows.filter(|_| status == Status::Done),
            };
        };
        let (before, count_before) = progress_at(cancelled_at);
        let capped = match before {
            Status::Done => (Status::Running, total.saturating_sub(1)),
            other => (other, count_before),
        };
        match after {
            AfterCancel::Unknown => Snapshot::unknown(),
            AfterCancel::Done => Snapshot {
                status: Status::Done,
                row_count: total,
                rows,
            },
            AfterCancel::Running => Snapshot {
                status: Status::Running,
                row_count: capped.1,
                rows: None,
            },
            AfterCancel::UnknownWithRows => Snapshot {
                rows,
                ..Snapshot::unknown()
            },
            AfterCancel::LateUnknown => {
                // A query still in flight takes a while to stop: its status is
                // frozen at cancel time for the grace period, rows already gone.
                // A finished result is simply dropped.
                if before != Status::Done
                    && now.saturating_duration_since(cancelled_at) < LATE_UNKNOWN_GRACE
                {
                    Snapshot {
                        status: before,
                        row_count: count_before,
                        rows: None,
                    }
                } else {
                    self.forget(id);
                    Snapshot::unknown()
                }
            }
        }
    }

    /// Whether `id` names a query that is neither cancelled nor expired.
    pub(crate) fn is_live(&self, id: &str, now: Instant) -> bool {
        self.live(id, now).is_some()
    }

    /// Cancels `id` (idempotent; unknown ids are fine).
    pub(crate) fn cancel(&mut self, id: &str, now: Instant, mode: CancelMode) {
        match mode {
            CancelMode::Ignore => {}
            CancelMode::Forget => self.forget(id),
            CancelMode::ForgetAll => {
                self.queries.clear();
                self.order.clear();
                self.latest_by_spec.clear();
            }
            CancelMode::Mark => {
                if let Some(query) = self.queries.get_mut(id) {
                    query.cancelled_at.get_or_insert(now);
                    let hash = query.spec.hash;
                    self.unindex(hash, id);
                }
            }
        }
    }

    fn live(&self, id: &str, now: Instant) -> Option<&Query> {
        self.queries
            .get(id)
            .filter(|query| query.cancelled_at.is_none() && !self.expired(query, now))
    }

    fn expired(&self, query: &Query, now: Instant) -> bool {
        now.saturating_duration_since(query.created) > self.ttl
    }

    fn insert(&mut self, query: Query, now: Instant) -> String {
        self.sweep_expired(now);
        let id = format!("qr-{}", random_hex(12));
        self.queries.insert(id.clone(), query);
        self.order.push_back((id.clone(), now));
        while self.queries.len() > self.max_queries {
            let Some((oldest, _)) = self.order.pop_front() else {
                break;
            };
            self.forget(&oldest);
        }
        if self.order.len() > 2 * self.queries.len() + 64 {
            let queries = &self.queries;
            self.order.retain(|(id, _)| queries.contains_key(id));
        }
        id
    }

    /// Forgets queries inserted more than `ttl` ago (oldest first, so this
    /// stops at the first young one).
    fn sweep_expired(&mut self, now: Instant) {
        while let Some((id, inserted)) = self.order.front() {
            if now.saturating_duration_since(*inserted) <= self.ttl {
                break;
            }
            let id = id.clone();
            self.order.pop_front();
            self.forget(&id);
        }
    }

    fn forget(&mut self, id: &str) {
        if let Some(query) = self.queries.remove(id) {
            self.unindex(query.spec.hash, id);
        }
    }

    fn unindex(&mut self, hash: u64, id: &str) {
        if self
            .latest_by_spec
            .get(&hash)
            .is_some_and(|latest| latest == id)
        {
            self.latest_by_spec.remove(&hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn spec(n: u64) -> SpecDigest {
        SpecDigest::of(&json!({"source_node_types": {"nodes": [{"node_type": format!("T{n}")}]}}))
    }

    fn timing(millis: u64) -> Timing {
        Timing::new(ms(millis), FaultSet::default())
    }

    fn status(store: &mut Store, id: &str, now: Instant) -> Status {
        store
            .snapshot(id, now, timing(1000), AfterCancel::Unknown)
            .status
    }

    #[test]
    fn lifecycle_phases_and_row_count() {
        let t = timing(1000);
        assert_eq!(t.progress(Duration::ZERO, 200), (Status::Pending, 0));
        assert_eq!(t.progress(ms(199), 200), (Status::Pending, 0));
        assert_eq!(t.progress(ms(200), 200), (Status::Running, 0));
        assert_eq!(t.progress(ms(600), 200), (Status::Running, 100));
        assert_eq!(t.progress(ms(999), 200), (Status::Running, 199));
        assert_eq!(t.progress(ms(1000), 200), (Status::Done, 200));
        assert_eq!(timing(0).progress(Duration::ZERO, 200), (Status::Done, 200));
    }

    #[test]
    fn lifecycle_faults() {
        let slow = Timing::new(ms(100), FaultSet::new(&[Fault::SlowLifecycle]));
        assert_eq!(slow.progress(ms(2999), 10).0, Status::Running);
        assert_eq!(slow.progress(ms(3000), 10).0, Status::Done);
        let slow = Timing::new(
            Duration::from_secs(1),
            FaultSet::new(&[Fault::SlowLifecycle]),
        );
        assert_eq!(
            slow.progress(Duration::from_millis(4999), 10).0,
            Status::Running
        );
        let never = Timing::new(ms(100), FaultSet::new(&[Fault::NeverCompletes]));
        assert_eq!(
            never.progress(Duration::from_secs(3600), 10),
            (Status::Running, 9)
        );
        let never = Timing::new(Duration::ZERO, FaultSet::new(&[Fault::NeverCompletes]));
        assert_eq!(never.progress(Duration::ZERO, 10), (Status::Running, 9));
        let instant = Timing::new(
            Duration::from_secs(60),
            FaultSet::new(&[Fault::InstantDone, Fault::SlowLifecycle]),
        );
        assert_eq!(instant.progress(Duration::ZERO, 10), (Status::Done, 10));
        assert_eq!(timing(1000).progress(ms(500), 0), (Status::Running, 0));
        assert_eq!(timing(1000).progress(ms(1000), 0), (Status::Done, 0));
    }

    #[test]
    fn paced_phases_move_on_one_per_get() {
        let paced = timing(1000).paced(true);
        let late = Duration::from_secs(3600);
        // However late, the first Get finds PENDING, the next at most RUNNING.
        assert_eq!(paced.view(late, 200, None), (Status::Pending, 0));
        assert_eq!(
            paced.view(late, 200, Some(Status::Pending)),
            (Status::Running, 199)
        );
        assert_eq!(
            paced.view(late, 200, Some(Status::Running)),
            (Status::Done, 200)
        );
        // Never sooner than the clock.
        assert_eq!(
            paced.view(ms(100), 200, Some(Status::Running)),
            (Status::Pending, 0)
        );
        assert_eq!(
            paced.view(ms(600), 200, Some(Status::Pending)),
            (Status::Running, 100)
        );
        // Unpaced, the clock alone; a zero lifecycle stays DONE at creation.
        assert_eq!(timing(1000).view(late, 200, None), (Status::Done, 200));
        let instant = Timing::new(ms(1000), FaultSet::new(&[Fault::InstantDone])).paced(true);
        assert_eq!(instant.view(Duration::ZERO, 200, None), (Status::Done, 200));
        let never = Timing::new(ms(1000), FaultSet::new(&[Fault::NeverCompletes])).paced(true);
        assert_eq!(
            never.view(late, 200, Some(Status::Running)),
            (Status::Running, 199)
        );
    }

    #[test]
    fn paced_gets_hold_a_query_in_progress_until_seen() {
        let paced = timing(1000).paced(true);
        let mut store = Store::new(Duration::from_secs(3600), 10);
        let t0 = Instant::now();
        let id = store.run(spec(1), t0);
        let late = t0 + Duration::from_secs(60);
        let get = |store: &mut Store| store.get(&id, late, paced, AfterCancel::Unknown).status;
        // A peek (what cancel does) neither moves the query on nor counts.
        let peek = |store: &mut Store| {
            store
                .snapshot(&id, late, paced, AfterCancel::Unknown)
                .status
        };
        assert_eq!(peek(&mut store), Status::Pending);
        assert_eq!(get(&mut store), Status::Pending);
        assert_eq!(peek(&mut store), Status::Running, "still in progress");
        assert_eq!(get(&mut store), Status::Running);
        assert_eq!(peek(&mut store), Status::Done);
        assert_eq!(get(&mut store), Status::Done);
        assert_eq!(get(&mut store), Status::Done);
        // A cancelled query is frozen where Gets left it: `late-unknown`
        // reports the status it had when cancelled.
        let other = store.run(spec(2), t0);
        assert_eq!(
            store
                .get(&other, late, paced, AfterCancel::LateUnknown)
                .status,
            Status::Pending
        );
        store.cancel(&other, late, CancelMode::Mark);
        for _ in 0..3 {
            assert_eq!(
                store
                    .get(&other, late, paced, AfterCancel::LateUnknown)
                    .status,
                Status::Running
            );
        }
        assert_eq!(
            store
                .get(
                    &other,
                    late + LATE_UNKNOWN_GRACE,
                    paced,
                    AfterCancel::LateUnknown
                )
                .status,
            Status::Unknown
        );
    }

    #[test]
    fn status_names() {
        let name = |status: Status, faults: &[Fault]| status.name(FaultSet::new(faults));
        assert_eq!(name(Status::Pending, &[]), "PENDING");
        assert_eq!(name(Status::Pending, &[Fault::QueuedStatus]), "QUEUED");
        assert_eq!(name(Status::Running, &[Fault::QueuedStatus]), "RUNNING");
        assert_eq!(name(Status::Unknown, &[Fault::QueuedStatus]), "UNKNOWN");
        assert_eq!(name(Status::Done, &[Fault::StatusLowercase]), "done");
        assert_eq!(
            name(
                Status::Pending,
                &[Fault::QueuedStatus, Fault::StatusLowercase]
            ),
            "queued"
        );
    }

    #[test]
    fn rows_only_when_done() {
        let mut store = Store::new(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        let id = store.run(spec(1), t0);
        assert!(id.starts_with("qr-") && id.len() == 27, "{id}");
        let early = store.snapshot(&id, t0 + ms(500), timing(1000), AfterCancel::Unknown);
        assert_eq!((early.status, early.rows), (Status::Running, None));
        let done = store.snapshot(&id, t0 + ms(1000), timing(1000), AfterCancel::Unknown);
        assert_eq!(done.status, Status::Done);
        assert_eq!(done.rows, Some(("T1".to_owned(), spec(1).total)));
        assert_eq!(done.row_count, spec(1).total);
    }

    #[test]
    fn cancel_forgets_only_that_query() {
        let mut store = Store::new(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        let a = store.run(spec(1), t0);
        let b = store.run(spec(2), t0);
        assert!(store.is_live(&a, t0) && !store.is_live("qr-never", t0));
        store.cancel(&a, t0, CancelMode::Forget);
        assert!(!store.is_live(&a, t0));
        store.cancel(&a, t0, CancelMode::Forget);
        store.cancel("qr-never", t0, CancelMode::Forget);
        assert_eq!(status(&mut store, &a, t0 + ms(2000)), Status::Unknown);
        assert_eq!(status(&mut store, &b, t0 + ms(2000)), Status::Done);
        store.cancel(&b, t0 + ms(3000), CancelMode::Forget);
        assert_eq!(status(&mut store, &b, t0 + ms(3000)), Status::Unknown);
        assert_eq!(store.len(), 0);
    }

    #[test]
    fn cache_shares_results_within_staleness() {
        let mut store = Store::new(Duration::from_secs(3600), 100);
        let t0 = Instant::now();
        let original = store.run(spec(1), t0);
        let copy = store.cached(&spec(1), Duration::from_secs(10), t0 + ms(500));
        let copy = copy.unwrap_or_default();
        assert!(!copy.is_empty() && copy != original);
        assert_eq!(
            status(&mut store, &copy, t0 + ms(1000)),
            Status::Done,
            "shares the creation instant"
        );
        assert_eq!(store.cached(&spec(2), Duration::from_secs(10), t0), None);
        assert_eq!(
            store.cached(&spec(1), Duration::from_secs(1), t0 + ms(2000)),
            None
        );
        assert!(store.attach(&original, t0).is_some());
        assert_eq!(store.attach("qr-unknown", t0), None);
        store.cancel(&original, t0, CancelMode::Forget);
        assert_eq!(store.attach(&original, t0), None);
        assert_eq!(store.cached(&spec(1), Duration::from_secs(10), t0), None);
        assert_eq!(
            status(&mut store, &copy, t0 + ms(1000)),
            Status::Done,
            "the copy survives"
        );
    }

    #[test]
    fn marked_queries_are_not_served_cached() {
        let mut store = Store::new(Duration::from_secs(3600), 100);
        let t0 = Instant::now();
        let original = store.run(spec(1), t0);
        store.cancel(&original, t0, CancelMode::Mark);
        assert_eq!(store.cached(&spec(1), Duration::from_secs(10), t0), None);
        assert_eq!(store.attach(&original, t0), None);
    }

    #[test]
    fn expiry_and_eviction() {
        let mut store = Store::new(Duration::from_secs(10), 3);
        let t0 = Instant::now();
        let ids: Vec<_> = (0..5).map(|n| store.run(spec(n), t0 + ms(n))).collect();
        assert_eq!(store.len(), 3);
        let later = t0 + ms(10);
        assert_eq!(status(&mut store, &ids[0], later), Status::Unknown);
        assert_eq!(status(&mut store, &ids[1], later), Status::Unknown);
        assert_eq!(status(&mut store, &ids[2], later), Status::Pending);
        let after_ttl = t0 + Duration::from_secs(11);
        assert_eq!(
            status(&mut store, &ids[4], after_ttl),
            Status::Unknown,
            "lazy expiry on Get"
        );
        store.run(spec(9), after_ttl);
        assert_eq!(store.len(), 1, "sweep on create");
        assert!(store.order.len() <= 2 * store.len() + 64);
    }

    #[test]
    fn order_is_compacted_after_many_cancels() {
        let mut store = Store::new(Duration::from_secs(3600), 1000);
        let t0 = Instant::now();
        for _ in 0..500 {
            let id = store.run(spec(1), t0);
            store.cancel(&id, t0, CancelMode::Forget);
        }
        assert_eq!(store.len(), 0);
        assert!(store.order.len() <= 66, "{}", store.order.len());
    }

    #[test]
    fn cancel_policies() {
        let policy = |faults: &[Fault]| CancelPolicy::new(FaultSet::new(faults));
        assert_eq!(policy(&[]).mode, CancelMode::Forget);
        assert_eq!(policy(&[Fault::CancelNoop]).mode, CancelMode::Ignore);
        assert_eq!(
            policy(&[Fault::CancelCancelsAll]).mode,
            CancelMode::ForgetAll
        );
        assert_eq!(policy(&[Fault::LateUnknown]).mode, CancelMode::Mark);
        assert_eq!(
            policy(&[Fault::RowsAfterCancel]).after,
            AfterCancel::UnknownWithRows
        );
    }

    #[test]
    fn after_cancel_views() {
        let t0 = Instant::now();
        let at = t0 + ms(2000);
        let view = |after: AfterCancel, now: Instant| {
            let mut store = Store::new(Duration::from_secs(3600), 10);
            let id = store.run(spec(1), t0);
            store.cancel(&id, at, CancelMode::Mark);
            store.snapshot(&id, now, timing(1000), after)
        };
        let total = spec(1).total;
        let done = view(AfterCancel::Done, at);
        assert_eq!((done.status, done.rows.is_some()), (Status::Done, true));
        let running = view(AfterCancel::Running, at + Duration::from_secs(60));
        assert_eq!(
            running,
            Snapshot {
                status: Status::Running,
                row_count: total - 1,
                rows: None
            }
        );
        let rows = view(AfterCancel::UnknownWithRows, at);
        assert_eq!((rows.status, rows.rows.is_some()), (Status::Unknown, true));
        let late = view(AfterCancel::LateUnknown, at + ms(999));
        assert_eq!(
            late,
            Snapshot::unknown(),
            "a finished result is dropped at once"
        );
        let gone = view(AfterCancel::LateUnknown, at + ms(1000));
        assert_eq!(gone, Snapshot::unknown());
        // A query cancelled while running stays RUNNING (no rows) for the grace period.
        let in_flight = |now: Instant| {
            let mut store = Store::new(Duration::from_secs(3600), 10);
            let id = store.run(spec(1), t0);
            store.cancel(&id, t0 + ms(500), CancelMode::Mark);
            store.snapshot(&id, now, timing(1000), AfterCancel::LateUnknown)
        };
        let frozen = in_flight(t0 + ms(1400));
        assert_eq!((frozen.status, frozen.rows), (Status::Running, None));
        assert_eq!(in_flight(t0 + ms(1500)), Snapshot::unknown());
    }
}
