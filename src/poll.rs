//! The polling policy: attempts, waits between them, and when to stop.
//!
//! - Every attempt is judged by the caller: `fail_if` first (a terminal
//!   failure stops at once), then `until` (success stops at once, with no
//!   sleep after it).
//! - Waits happen only between attempts: `interval`, multiplied by `backoff`
//!   after each wait, capped by `max_interval`; a `Retry-After` longer than
//!   the wait replaces it.
//! - `timeout` is a wall-clock deadline for the whole poll, attempts
//!   included (an attempt still running at the deadline is cut off); the last
//!   attempt happens at the deadline at the latest. `max_attempts` is an
//!   optional second bound.
//!
//! Time comes from tokio, so tests drive this with a paused clock.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Timing of a poll.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    /// Wait after the first attempt.
    pub interval: Duration,
    /// Factor applied to the wait after each wait (>= 1).
    pub backoff: f64,
    /// Upper bound of a wait.
    pub max_interval: Duration,
    /// Deadline for the whole poll.
    pub timeout: Duration,
    /// Optional bound on the number of attempts.
    pub max_attempts: Option<u32>,
}

impl Default for PollPolicy {
    /// 200ms, ×1.5, at most 2s apart, 30s in all.
    fn default() -> Self {
        PollPolicy {
            interval: Duration::from_millis(200),
            backoff: 1.5,
            max_interval: Duration::from_secs(2),
            timeout: Duration::from_secs(30),
            max_attempts: None,
        }
    }
}

/// The caller's judgement of one attempt.
#[derive(Debug)]
pub enum Verdict<T> {
    /// Stop polling with this result (the `until` condition held, or `fail_if` did).
    Done(T),
    /// Try again; `retry_after` comes from the server, when it sent one.
    Again {
        value: T,
        retry_after: Option<Duration>,
    },
}

/// How a poll ended.
#[derive(Debug)]
pub enum PollEnd<T> {
    /// An attempt returned `Verdict::Done`.
    Done(T),
    /// The deadline passed; `last` is the last completed attempt.
    TimedOut { last: Option<T> },
    /// `max_attempts` attempts were made.
    AttemptsExhausted { last: T },
}

/// The end of a poll and what it took.
#[derive(Debug)]
pub struct PollOutcome<T> {
    pub end: PollEnd<T>,
    pub attempts: u32,
    pub elapsed: Duration,
}

impl PollPolicy {
    /// The wait after `waits_so_far` previous waits.
    pub fn wait(&self, waits_so_far: u32) -> Duration {
        let factor = self
            .backoff
            .max(1.0)
            .powi(i32::try_from(waits_so_far).unwrap_or(i32::MAX));
        let secs = self.interval.as_secs_f64() * factor;
        if !secs.is_finite() || secs >= self.max_interval.as_secs_f64() {
            self.max_interval
        } else {
            Duration::from_secs_f64(secs)
        }
    }

    /// Runs attempts until one is done, the deadline passes or attempts run out.
    /// `attempt` gets the 1-based attempt number.
    pub async fn run<T, F, Fut>(&self, mut attempt: F) -> PollOutcome<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Verdict<T>>,
    {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let mut last = None;
        let mut n = 0u32;
        let end = loop {
            n += 1;
            let verdict = match tokio::time::timeout_at(deadline, attempt(n)).await {
                Ok(v) => v,
                Err(_) => break PollEnd::TimedOut { last: last.take() },
            };
            let retry_after = match verdict {
                Verdict::Done(t) => break PollEnd::Done(t),
                Verdict::Again { value, retry_after } => {
                    last = Some(value);
                    retry_after
                }
            };
            if self.max_attempts.is_some_and(|m| n >= m) {
                break PollEnd::AttemptsExhausted {
                    last: last.take().expect("set above"),
                };
            }
            let now = Instant::now();
            if now >= deadline {
                break PollEnd::TimedOut { last: last.take() };
            }
            let mut wait = self.wait(n - 1);
            if let Some(ra) = retry_after {
                wait = wait.max(ra);
            }
            tokio::time::sleep(wait.min(deadline - now)).await;
        };
        PollOutcome {
            end,
            attempts: n,
            elapsed: start.elapsed(),
        }
    }
}

/// Parses a `Retry-After` header: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn policy() -> PollPolicy {
        PollPolicy {
            interval: Duration::from_millis(100),
            backoff: 2.0,
            max_interval: Duration::from_millis(500),
            timeout: Duration::from_secs(3),
            max_attempts: None,
        }
    }

    /// Runs a poll whose attempt `n` is done when `done(n)`, recording when each attempt started.
    async fn script(
        p: &PollPolicy,
        done: impl Fn(u32) -> bool,
    ) -> (PollOutcome<u32>, Vec<Duration>) {
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let t = times.clone();
        let out = p
            .run(|n| {
                t.lock().unwrap().push(start.elapsed());
                let d = done(n);
                async move {
                    if d {
                        Verdict::Done(n)
                    } else {
                        Verdict::Again {
                            value: n,
                            retry_after: None,
                        }
                    }
                }
            })
            .await;
        let times = times.lock().unwrap().clone();
        (out, times)
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_grows_and_is_capped() {
        let (out, times) = script(&policy(), |n| n == 6).await;
        assert!(matches!(out.end, PollEnd::Done(6)));
        let ms: Vec<u128> = times.iter().map(|d| d.as_millis()).collect();
        // waits: 100, 200, 400, 500 (cap), 500
        assert_eq!(ms, [0, 100, 300, 700, 1200, 1700]);
    }

    #[tokio::test(start_paused = true)]
    async fn no_sleep_after_success() {
        let (out, _) = script(&policy(), |n| n == 1).await;
        assert_eq!(out.attempts, 1);
        assert_eq!(out.elapsed, Duration::ZERO);
        let (out, _) = script(&policy(), |n| n == 3).await;
        assert_eq!(out.elapsed, Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_bounds_the_poll_and_the_last_attempt_is_at_the_deadline() {
        let (out, times) = script(&policy(), |_| false).await;
        let PollEnd::TimedOut { last } = out.end else {
            panic!("{:?}", out.end)
        };
        assert_eq!(out.elapsed, Duration::from_secs(3));
        assert_eq!(times.last().copied(), Some(Duration::from_secs(3)));
        assert_eq!(last, Some(out.attempts));
        // 0,100,300,700,1200,1700,2200,2700,3000
        assert_eq!(out.attempts, 9);
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_running_past_the_deadline_is_cut_off() {
        let p = policy();
        let out = p
            .run(|n| async move {
                if n == 2 {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
                Verdict::<u32>::Again {
                    value: n,
                    retry_after: None,
                }
            })
            .await;
        assert!(matches!(out.end, PollEnd::TimedOut { last: Some(1) }));
        assert_eq!(out.elapsed, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn max_attempts_is_a_second_bound() {
        let p = PollPolicy {
            max_attempts: Some(3),
            ..policy()
        };
        let (out, _) = script(&p, |_| false).await;
        assert!(matches!(out.end, PollEnd::AttemptsExhausted { last: 3 }));
        assert_eq!(out.elapsed, Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_lengthens_a_wait_within_the_deadline() {
        let p = policy();
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let t = times.clone();
        let out = p
            .run(|n| {
                t.lock().unwrap().push(start.elapsed());
                async move {
                    if n == 3 {
                        Verdict::Done(n)
                    } else {
                        Verdict::Again {
                            value: n,
                            retry_after: Some(Duration::from_secs(1)),
                        }
                    }
                }
            })
            .await;
        assert!(matches!(out.end, PollEnd::Done(3)));
        assert_eq!(
            *times.lock().unwrap(),
            [
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
