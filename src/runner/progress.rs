//! A live progress line on the terminal: how many scenarios are done, which
//! are running and for how long. Only when both stdout and stderr are
//! terminals and libtest prints its pretty format; plain output otherwise.
//!
//! libtest-mimic prints a line when a scenario finishes. The line is drawn
//! on stderr and cleared by the finishing scenario just before libtest
//! prints, and not redrawn for a moment after, so the two never mix.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, FormatSetting};

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(250);
/// Quiet time after a scenario finishes, for libtest's line.
const HOLD: Duration = Duration::from_millis(150);

#[derive(Default)]
struct State {
    running: BTreeMap<String, Instant>,
    hold_until: Option<Instant>,
    drawn: bool,
}

/// The progress line (a no-op when it is off).
#[derive(Clone, Default)]
pub struct Progress {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    state: Mutex<State>,
    done: AtomicUsize,
    total: usize,
    stop: AtomicBool,
}

impl Progress {
    /// On for pretty output to a terminal, off otherwise.
    pub fn new(args: &Arguments, total: usize) -> Progress {
        let pretty =
            matches!(args.format, None | Some(FormatSetting::Pretty)) && !args.quiet && !args.list;
        if !(pretty && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
            return Progress::default();
        }
        let inner = Arc::new(Inner {
            state: Mutex::default(),
            done: AtomicUsize::new(0),
            total,
            stop: AtomicBool::new(false),
        });
        let drawer = inner.clone();
        std::thread::spawn(move || {
            while !drawer.stop.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                drawer.draw();
            }
            drawer.clear();
        });
        Progress { inner: Some(inner) }
    }

    pub fn started(&self, id: &str) {
        if let Some(i) = &self.inner {
            i.lock().running.insert(id.to_owned(), Instant::now());
        }
    }

    /// Clears the line before libtest prints the finished scenario.
    pub fn finished(&self, id: &str) {
        if let Some(i) = &self.inner {
            i.done.fetch_add(1, Ordering::Relaxed);
            let mut s = i.lock();
            s.running.remove(id);
            s.hold_until = Some(Instant::now() + HOLD);
            if s.drawn {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[K");
                let _ = err.flush();
                s.drawn = false;
            }
        }
    }

    pub fn stop(&self) {
        if let Some(i) = &self.inner {
            i.stop.store(true, Ordering::Relaxed);
            i.clear();
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn draw(&self) {
        let mut s = self.lock();
        if s.hold_until.is_some_and(|t| Instant::now() < t) || s.running.is_empty() {
            return;
        }
        let oldest = s
            .running
            .iter()
            .min_by_key(|(_, t)| **t)
            .map(|(id, t)| (id.clone(), t.elapsed()));
        let Some((id, for_)) = oldest else { return };
        let line = format!(
            "[{}/{}] {} running, longest {:.0}s: {id}",
            self.done.load(Ordering::Relaxed),
            self.total,
            s.running.len(),
            for_.as_secs_f64()
        );
        let width = 100;
        let line: String = line.chars().take(width).collect();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
        s.drawn = true;
    }

    fn clear(&self) {
        let mut s = self.lock();
        if s.drawn {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            s.drawn = false;
        }
    }
}
