//! Standard output that a reader closing it cannot break.
//!
//! `conform run | head -1` closes the pipe after one line. Every later line
//! would then fail, and Rust's `print!` (libtest's too) panics on a failed
//! write: the run would die without its `finally` cleanup and its reports.
//! So when standard output is not a terminal, it is put behind a pipe of our
//! own: a thread copies what is written to the real standard output and,
//! once that is closed, reads on and drops the rest. Writes never fail, the
//! run finishes as it would have, and the exit code is its own.
//! A terminal is left as it is (colours and widths depend on it).

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::thread::JoinHandle;

/// Keeps standard output behind the copier until dropped; dropping flushes
/// what was written and waits for the copier to pass it on.
pub struct StdoutGuard {
    /// The real standard output, put back on drop.
    saved: RawFd,
    copier: Option<JoinHandle<()>>,
}

/// Puts standard output behind the copier, unless it is a terminal or the
/// system refuses (then output stays as it was).
pub fn guard_stdout() -> Option<StdoutGuard> {
    if std::io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: plain descriptor calls on descriptors this function owns or
    // on the process's standard output; each result is checked.
    unsafe {
        let saved = libc::dup(libc::STDOUT_FILENO);
        if saved < 0 {
            return None;
        }
        let out = libc::dup(saved);
        let mut fds = [0 as RawFd; 2];
        if out < 0 || libc::pipe(fds.as_mut_ptr()) != 0 {
            libc::close(saved);
            if out >= 0 {
                libc::close(out);
            }
            return None;
        }
        let [read_end, write_end] = fds;
        if libc::dup2(write_end, libc::STDOUT_FILENO) < 0 {
            for fd in [saved, out, read_end, write_end] {
                libc::close(fd);
            }
            return None;
        }
        libc::close(write_end);
        let mut input = File::from_raw_fd(read_end);
        let mut output = File::from_raw_fd(out);
        let copier = std::thread::Builder::new()
            .name("conform-stdout".into())
            .spawn(move || copy_then_drain(&mut input, &mut output))
            .ok();
        Some(StdoutGuard { saved, copier })
    }
}

/// Copies `input` to `output` until `input` ends; once `output` fails (its
/// reader is gone), reads on and drops what comes.
fn copy_then_drain(input: &mut impl Read, output: &mut impl Write) {
    let mut buf = [0u8; 16 * 1024];
    let mut open = true;
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if open && output.write_all(buf.get(..n).unwrap_or_default()).is_err() {
                    open = false;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

impl Drop for StdoutGuard {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
        // SAFETY: `saved` is the real standard output, duplicated above;
        // putting it back closes the pipe's last write end, which ends the
        // copier's input.
        unsafe {
            libc::dup2(self.saved, libc::STDOUT_FILENO);
            libc::close(self.saved);
        }
        if let Some(copier) = self.copier.take() {
            let _ = copier.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader is gone.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_copier_passes_everything_on_and_drains_after_its_reader_leaves() {
        let text = "line\n".repeat(10_000);
        let mut out = Vec::new();
        copy_then_drain(&mut text.as_bytes(), &mut out);
        assert_eq!(out, text.as_bytes());
        // A closed output: everything is still read, nothing fails.
        let mut input = text.as_bytes();
        copy_then_drain(&mut input, &mut Closed);
        assert!(input.is_empty());
    }
}
