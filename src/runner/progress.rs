//! A live progress line on the terminal: how many scenarios are done, which
//! are running and for how long. Only when both stdout and stderr are
//! terminals and libtest prints its pretty format; plain output otherwise.
//!
//! libtest-mimic prints the scenarios in file order, one line each, begun
//! (`test ID ... `) before the harness waits for that scenario's result and
//! ended (`ok`, `FAILED`) once it has it. Results are most often there
//! already, the runtime running ahead; when a wait lasts, the progress line
//! is drawn (on stderr) over the begun line, and when the result comes the
//! line is cleared and the begun line printed again, so that libtest's
//! verdict lands where it would have.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, FormatSetting};

/// How often the line is redrawn, and how long a wait lasts before it is.
const TICK: Duration = Duration::from_millis(250);
/// The longest progress line drawn, in characters.
const WIDTH: usize = 100;

/// Where the line goes: stderr for the progress line, stdout for the begun
/// line printed again (libtest's stream).
pub(crate) struct Terminal {
    pub err: Box<dyn Write + Send>,
    pub out: Box<dyn Write + Send>,
}

struct State {
    running: BTreeMap<Arc<str>, Instant>,
    /// Whose line libtest has begun, and since when the harness waits.
    waiting: Option<(Arc<str>, Instant)>,
    drawn: bool,
    term: Terminal,
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
    /// libtest's column for names: the longest name it prints.
    name_width: usize,
    stop: AtomicBool,
}

impl Progress {
    /// On for pretty output to a terminal, off otherwise. `total` is the
    /// number of scenarios that run, `name_width` the longest name libtest
    /// prints (ignored scenarios included).
    pub fn new(args: &Arguments, total: usize, name_width: usize) -> Progress {
        let pretty =
            matches!(args.format, None | Some(FormatSetting::Pretty)) && !args.quiet && !args.list;
        if !(pretty && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
            return Progress::default();
        }
        let term = Terminal {
            err: Box::new(std::io::stderr()),
            out: Box::new(std::io::stdout()),
        };
        let progress = Progress::to(term, total, name_width);
        if let Some(inner) = &progress.inner {
            let drawer = inner.clone();
            std::thread::spawn(move || {
                while !drawer.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    drawer.draw(Instant::now());
                }
            });
        }
        progress
    }

    /// A progress line drawn on `term`, without the thread that redraws it.
    pub(crate) fn to(term: Terminal, total: usize, name_width: usize) -> Progress {
        let state = State {
            running: BTreeMap::new(),
            waiting: None,
            drawn: false,
            term,
        };
        Progress {
            inner: Some(Arc::new(Inner {
                state: Mutex::new(state),
                done: AtomicUsize::new(0),
                total,
                name_width,
                stop: AtomicBool::new(false),
            })),
        }
    }

    /// A scenario's task starts.
    pub fn started(&self, id: &Arc<str>) {
        if let Some(i) = &self.inner {
            i.lock().running.insert(id.clone(), Instant::now());
        }
    }

    /// A scenario's task ends.
    pub fn finished(&self, id: &str) {
        if let Some(i) = &self.inner {
            i.done.fetch_add(1, Ordering::Relaxed);
            i.lock().running.remove(id);
        }
    }

    /// libtest has begun the line of `id` and the harness waits for it.
    pub fn waiting(&self, id: &Arc<str>) {
        if let Some(i) = &self.inner {
            i.lock().waiting = Some((id.clone(), Instant::now()));
        }
    }

    /// The result is there: the begun line is put back if it was drawn over.
    pub fn resumed(&self) {
        if let Some(i) = &self.inner {
            let mut s = i.lock();
            let begun = s.waiting.take();
            if std::mem::take(&mut s.drawn) {
                let _ = write!(s.term.err, "\r\x1b[K");
                let _ = s.term.err.flush();
                if let Some((id, _)) = begun {
                    // As libtest began it: the name padded to its column.
                    let _ = write!(s.term.out, "test {id:<0$} ... ", i.name_width);
                    let _ = s.term.out.flush();
                }
            }
        }
    }

    pub fn stop(&self) {
        if let Some(i) = &self.inner {
            i.stop.store(true, Ordering::Relaxed);
            let mut s = i.lock();
            if std::mem::take(&mut s.drawn) {
                let _ = write!(s.term.err, "\r\x1b[K");
                let _ = s.term.err.flush();
            }
        }
    }

    /// Draws the line as the redrawing thread does at `now`.
    #[cfg(test)]
    fn tick(&self, now: Instant) {
        if let Some(i) = &self.inner {
            i.draw(now);
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Draws the line over the begun one once the wait has lasted a tick.
    fn draw(&self, now: Instant) {
        let mut s = self.lock();
        let Some((_, since)) = &s.waiting else { return };
        if now.saturating_duration_since(*since) < TICK {
            return;
        }
        let oldest = s
            .running
            .iter()
            .min_by_key(|(_, t)| **t)
            .map(|(id, t)| (id.clone(), now.saturating_duration_since(*t)));
        let Some((id, for_)) = oldest else { return };
        let line = format!(
            "[{}/{}] {} running, longest {:.0}s: {id}",
            self.done.load(Ordering::Relaxed),
            self.total,
            s.running.len(),
            for_.as_secs_f64()
        );
        let line: String = line.chars().take(WIDTH).collect();
        let _ = write!(s.term.err, "\r\x1b[K{line}");
        let _ = s.term.err.flush();
        s.drawn = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn progress() -> (Progress, Shared, Shared) {
        let (err, out) = (Shared::default(), Shared::default());
        let term = Terminal {
            err: Box::new(err.clone()),
            out: Box::new(out.clone()),
        };
        (Progress::to(term, 3, 8), err, out)
    }

    #[test]
    fn a_long_wait_draws_the_line_and_puts_the_begun_line_back() {
        let (p, err, out) = progress();
        let (a, b): (Arc<str>, Arc<str>) = ("f::a".into(), "f::b".into());
        p.started(&a);
        p.started(&b);
        p.finished(&b);
        p.waiting(&a);
        p.tick(Instant::now() + 2 * TICK);
        assert!(
            err.text().starts_with("\r\x1b[K[1/3] 1 running, longest "),
            "{:?}",
            err.text()
        );
        assert!(err.text().ends_with("s: f::a"), "{:?}", err.text());
        p.resumed();
        assert!(err.text().ends_with("\r\x1b[K"), "{:?}", err.text());
        // libtest pads names to its column: "test f::a     ... ".
        assert_eq!(out.text(), "test f::a     ... ");
    }

    #[test]
    fn a_short_wait_draws_nothing_and_prints_nothing_again() {
        let (p, err, out) = progress();
        let a: Arc<str> = "f::a".into();
        p.started(&a);
        p.waiting(&a);
        p.tick(Instant::now());
        p.finished(&a);
        p.resumed();
        // Between trials (no wait) nothing is drawn either.
        p.tick(Instant::now() + 2 * TICK);
        p.stop();
        assert_eq!(err.text(), "");
        assert_eq!(out.text(), "");
    }
}
