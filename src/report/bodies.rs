//! Request bodies beside the reports: the whole of every request body that
//! was cut for the record ([`crate::model::SHOWN_BODY_BYTES`]), in
//! `bodies/NAME` of the reports folder, so that a failing step's curl line
//! (`--data-binary @bodies/NAME`, run from the reports folder) sends what
//! was sent. Only failing steps keep their exchange, so only their bodies
//! are written; each is masked as every output is (the runner masks it
//! before it comes here).
//!
//! Names: the scenario's file stem and the step's name, every character
//! outside `[A-Za-z0-9._-]` made `_`, cut to [`MAX_STEM`] bytes, made
//! unique within the run with `-2`, `-3`…, and an extension from the
//! body's media type (`.json`, `.xml`, `.txt`, else `.bin`):
//! `20_oversized_body-get_with_a_5_MiB_body.json`.
//!
//! The folder is part of the set of reports (see the module above):
//!
//! - A body is written as its step fails, so a run keeps no whole body in
//!   memory past its step, into a temporary file `bodies/.NAME.PID.tmp`
//!   ([`Staging`]): the previous set stays whole while the run goes on.
//! - When the set is written ([`super::write_set`]), after the previous
//!   `report.json` is removed: every file of `bodies/` named as conform
//!   names body files ([`is_own_name`]) is removed (the previous set's,
//!   or one a run that did not finish left), the new bodies are renamed
//!   into place, then the reports follow, `report.json` last. Other files
//!   in `bodies/` stay.
//! - The temporaries a killed run left are removed with the other stale
//!   temporaries when the folder's lock is taken.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::model::{Exchange, RunResult};

/// The folder of body files, in the reports folder.
pub const DIR: &str = "bodies";

/// Longest stem of a body file name, in bytes (before a `-N` that makes it
/// unique, and the extension).
pub const MAX_STEM: usize = 96;

/// The extensions body files take.
const EXTENSIONS: [&str; 4] = ["json", "xml", "txt", "bin"];

/// The extension for a body of media type `content_type`.
pub fn extension(content_type: Option<&str>) -> &'static str {
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media == "application/json" || media.ends_with("+json") {
        "json"
    } else if media.ends_with("/xml") || media.ends_with("+xml") {
        "xml"
    } else if media.starts_with("text/") || media == "application/x-www-form-urlencoded" {
        "txt"
    } else {
        "bin"
    }
}

/// `scenario-step` with every character outside `[A-Za-z0-9._-]` made `_`,
/// runs of `_` made one, no leading dot (no hidden file, no `..`), and at
/// most [`MAX_STEM`] bytes. `scenario` is a scenario id (`FILE::NAME`): its
/// file stem is used, unique in a suite.
pub fn stem(scenario: &str, step: &str) -> String {
    let file = scenario.split("::").next().unwrap_or(scenario);
    let mut out = String::with_capacity(file.len() + step.len() + 1);
    for c in file.chars().chain(['-']).chain(step.chars()) {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let mut out = out.trim_start_matches('.').to_owned();
    // ASCII only by now: any byte is a character boundary.
    out.truncate(MAX_STEM);
    out
}

/// Whether `name` is a body file name conform gives: `[A-Za-z0-9._-]`, no
/// leading dot, one of its extensions, and not longer than it makes them.
pub fn is_own_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && !name.starts_with('.')
        && stem.len() <= MAX_STEM + 12
        && EXTENSIONS.contains(&ext)
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The temporary file a body file `name` is written through by this process.
fn temporary(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Whether `name` is a temporary body file: `.NAME.PID.tmp` for a body
/// file name.
pub fn is_own_temporary(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .and_then(|n| n.rsplit_once('.'))
        .is_some_and(|(body, pid)| {
            !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) && is_own_name(body)
        })
}

/// A body file of a set of reports: its name in `bodies/`, and where its
/// bytes are now (a temporary file [`Staging`] wrote, or the body file of
/// another set, which `merge` and `diff` copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyFile {
    pub name: String,
    pub from: PathBuf,
}

/// The body files of a run, written as its steps fail (into temporaries
/// until the set is written: see the module documentation).
#[derive(Debug)]
pub struct Staging {
    /// `bodies/` of the reports folder.
    dir: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Names given, so that each is unique in the run.
    names: HashSet<String>,
    /// Bodies written, in the order written.
    written: Vec<BodyFile>,
    /// The first write that failed: the set cannot be complete.
    error: Option<String>,
}

impl Staging {
    /// Body files for the reports folder `reports`.
    pub fn new(reports: &Path) -> Staging {
        Staging {
            dir: reports.join(DIR),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A name for a body of `scenario`'s step `step`, unique in the run
    /// (see [`stem`]); `ext` from [`extension`].
    pub fn name(&self, scenario: &str, step: &str, ext: &str) -> String {
        let stem = stem(scenario, step);
        let mut state = self.state();
        let mut name = format!("{stem}.{ext}");
        let mut n = 1;
        while state.names.contains(&name) {
            n += 1;
            name = format!("{stem}-{n}.{ext}");
        }
        state.names.insert(name.clone());
        name
    }

    /// Writes `bytes` as the body file `name` (into its temporary; like the
    /// reports, not synced to disk: see the README's durability rule).
    /// A failure is also kept ([`Staging::finish`] returns it): the set
    /// would name a file it lacks.
    pub fn write(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let tmp = temporary(&self.dir, name);
        let written = std::fs::create_dir_all(&self.dir)
            .and_then(|()| {
                let mut f = std::fs::File::create(&tmp)?;
                io::Write::write_all(&mut f, bytes)
            })
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            });
        let mut state = self.state();
        match &written {
            Ok(()) => state.written.push(BodyFile {
                name: name.to_owned(),
                from: tmp,
            }),
            Err(e) if state.error.is_none() => {
                state.error = Some(format!(
                    "cannot write {}: {e}",
                    self.dir.join(name).display()
                ));
            }
            Err(_) => {}
        }
        written
    }

    /// Masks the body file `name` again with `mask` (a secret became known
    /// after it was written). One that cannot be is removed, and the set
    /// fails as for a body that could not be written.
    pub fn remask(&self, name: &str, mask: impl Fn(&str) -> String) {
        let tmp = temporary(&self.dir, name);
        let Ok(bytes) = std::fs::read(&tmp) else {
            return;
        };
        let masked = mask(&String::from_utf8_lossy(&bytes));
        if masked.as_bytes() == bytes {
            return;
        }
        let rewritten = std::fs::File::create(&tmp)
            .and_then(|mut f| io::Write::write_all(&mut f, masked.as_bytes()));
        if let Err(e) = rewritten {
            let _ = std::fs::remove_file(&tmp);
            let mut state = self.state();
            state.written.retain(|b| b.name != name);
            state.error.get_or_insert_with(|| {
                format!("cannot write {}: {e}", self.dir.join(name).display())
            });
        }
    }

    /// The bodies written, for [`super::write_set`]; or why one could not be.
    pub fn finish(&self) -> Result<Vec<BodyFile>, String> {
        let state = self.state();
        match &state.error {
            Some(e) => Err(e.clone()),
            None => Ok(state.written.clone()),
        }
    }
}

/// The body file name a recorded `body_file` (`bodies/NAME`) names, when
/// it is one conform gives: a report read back may name anything.
fn named(body_file: &str) -> Option<&str> {
    body_file
        .strip_prefix(DIR)
        .and_then(|n| n.strip_prefix('/'))
        .filter(|n| is_own_name(n))
}

/// Every exchange of `result`, earlier attempts' too.
fn exchanges(result: &mut RunResult) -> impl Iterator<Item = &mut Exchange> {
    result.scenarios.iter_mut().flat_map(|s| {
        let reruns = s
            .reruns
            .iter_mut()
            .flat_map(|r| r.steps.iter_mut().chain(r.finally.iter_mut()));
        s.steps
            .iter_mut()
            .chain(s.finally.iter_mut())
            .chain(reruns)
            .filter_map(|st| st.exchange.as_deref_mut())
    })
}

/// Takes the body files a report read from the folder `dir` names into a
/// new set (`merge`, `diff`): each gets a name not in `taken` (its own
/// when free), which its exchange's `body_file` and curl line then say,
/// and comes from `dir/bodies/NAME`. Returns those, and the files named
/// that are not there (their curl lines cannot send them).
pub fn adopt(
    result: &mut RunResult,
    dir: &Path,
    taken: &mut HashSet<String>,
) -> (Vec<BodyFile>, Vec<PathBuf>) {
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for x in exchanges(result) {
        let Some(old) = x.request.body_file.as_deref().and_then(named) else {
            continue;
        };
        let from = dir.join(DIR).join(old);
        if !from.is_file() {
            missing.push(from);
            continue;
        }
        let (stem, ext) = old.rsplit_once('.').unwrap_or((old, "bin"));
        let mut name = old.to_owned();
        let mut n = 1;
        while taken.contains(&name) {
            n += 1;
            name = format!("{stem}-{n}.{ext}");
        }
        taken.insert(name.clone());
        if name != old {
            x.curl = x
                .curl
                .replace(&format!("@{DIR}/{old}"), &format!("@{DIR}/{name}"));
            x.request.body_file = Some(format!("{DIR}/{name}"));
        }
        found.push(BodyFile { name, from });
    }
    (found, missing)
}

/// The body file names `result`'s exchanges name.
pub fn referenced(result: &mut RunResult) -> HashSet<String> {
    exchanges(result)
        .filter_map(|x| x.request.body_file.as_deref().and_then(named))
        .map(str::to_owned)
        .collect()
}

/// Puts the body files of a new set in place in `reports/bodies/`: copies
/// those from elsewhere into temporaries first (a source may be in this
/// very folder), removes every body file there ([`is_own_name`]), then
/// renames the temporaries into place. Returns the files placed.
pub fn place(reports: &Path, bodies: &[BodyFile]) -> io::Result<Vec<PathBuf>> {
    let dir = reports.join(DIR);
    let named = |path: &Path, e: io::Error| {
        io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
    };
    let mut staged = Vec::with_capacity(bodies.len());
    for b in bodies {
        let tmp = temporary(&dir, &b.name);
        if b.from != tmp {
            std::fs::create_dir_all(&dir).map_err(|e| named(&dir, e))?;
            std::fs::copy(&b.from, &tmp)
                .map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    io::Error::new(
                        e.kind(),
                        format!(
                            "cannot copy {} to {}: {e}",
                            b.from.display(),
                            dir.join(&b.name).display()
                        ),
                    )
                })
                .map(drop)?;
        }
        staged.push((tmp, dir.join(&b.name)));
    }
    remove_previous(&dir).map_err(|e| named(&dir, e))?;
    let mut placed = Vec::with_capacity(staged.len());
    for (tmp, to) in staged {
        std::fs::rename(&tmp, &to).map_err(|e| named(&to, e))?;
        placed.push(to);
    }
    Ok(placed)
}

/// Removes the body files in `dir` (regular files with a name conform
/// gives); a missing folder has none. An emptied folder goes too.
fn remove_previous(dir: &Path) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut removed = false;
    for entry in entries {
        let entry = entry?;
        let own = entry.file_name().to_str().is_some_and(is_own_name);
        if own && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed = true;
        }
    }
    if removed {
        // Only if nothing else is in it.
        let _ = std::fs::remove_dir(dir);
    }
    Ok(())
}

/// Removes the temporary body files a killed run left in `reports/bodies/`
/// (see [`super::remove_stale_temporaries`]); returns those removed.
pub fn remove_stale_temporaries(reports: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(reports.join(DIR)) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let own = entry.file_name().to_str().is_some_and(is_own_temporary);
        if own
            && entry.file_type().is_ok_and(|t| t.is_file())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::names;

    #[test]
    fn names_are_safe_bounded_and_unique() {
        assert_eq!(
            stem(
                "20_oversized_body::an answer to an oversized request body",
                "get with a 5 MiB body"
            ),
            "20_oversized_body-get_with_a_5_MiB_body"
        );
        assert_eq!(stem("x::y", "../../etc/passwd"), "x-.._.._etc_passwd");
        assert_eq!(stem("..::y", "é/ü"), "-_");
        assert_eq!(stem("...", ""), "-");
        let long = stem("a", &"b".repeat(500));
        assert_eq!(long.len(), MAX_STEM);
        for s in [long.as_str(), "x-.._.._etc_passwd", "-_", "-"] {
            assert!(is_own_name(&format!("{s}.json")), "{s}");
        }
        let dir = tempfile::tempdir().unwrap();
        let st = Staging::new(dir.path());
        let a = st.name("f::s", "create", "json");
        let b = st.name("f::other name", "create", "json");
        let c = st.name("f::s", "create", "json");
        assert_eq!(
            [a.as_str(), b.as_str(), c.as_str()],
            ["f-create.json", "f-create-2.json", "f-create-3.json"]
        );
        assert!(is_own_name(&c));
    }

    #[test]
    fn extensions_follow_the_media_type() {
        assert_eq!(extension(Some("application/json; charset=utf-8")), "json");
        assert_eq!(extension(Some("application/problem+json")), "json");
        assert_eq!(extension(Some("text/xml")), "xml");
        assert_eq!(extension(Some("text/plain")), "txt");
        assert_eq!(extension(Some("application/octet-stream")), "bin");
        assert_eq!(extension(None), "bin");
    }

    #[test]
    fn only_conforms_own_names_are_body_files() {
        for own in ["a.json", "x-2.bin", "20_a-b.c.txt"] {
            assert!(is_own_name(own), "{own}");
        }
        for other in [
            ".a.json",
            "a.png",
            "a b.json",
            "notes",
            ".json",
            "a.json.bak",
        ] {
            assert!(!is_own_name(other), "{other}");
        }
        // What a report read back names is taken only when conform could
        // have named it: never a path out of the folder.
        assert_eq!(named("bodies/a-b.json"), Some("a-b.json"));
        for other in [
            "bodies/../x.json",
            "/etc/x.json",
            "bodies/.a.json",
            "x/a.json",
            "a.json",
        ] {
            assert_eq!(named(other), None, "{other}");
        }
        assert!(is_own_temporary(".a.json.42.tmp"));
        for other in [
            ".a.json.tmp",
            ".a.png.42.tmp",
            "a.json.42.tmp",
            ".a.json.4x.tmp",
        ] {
            assert!(!is_own_temporary(other), "{other}");
        }
    }

    #[test]
    fn a_new_set_replaces_the_previous_bodies_and_leaves_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join(DIR)).unwrap();
        for old in ["old.json", "same.json", "notes.md"] {
            std::fs::write(d.join(DIR).join(old), "previous").unwrap();
        }
        let st = Staging::new(d);
        let name = st.name("s::x", "same", "json");
        st.write(&name, b"new body").unwrap();
        // Another set's body file, copied in (merge, diff).
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("other.json"), "copied").unwrap();
        let mut files = st.finish().unwrap();
        files.push(BodyFile {
            name: "s-copied.json".into(),
            from: elsewhere.path().join("other.json"),
        });
        let placed = place(d, &files).unwrap();
        assert_eq!(placed.len(), 2);
        assert_eq!(
            names(&d.join(DIR)),
            ["notes.md", "s-copied.json", "s-same.json"]
        );
        assert_eq!(
            std::fs::read_to_string(d.join(DIR).join("s-same.json")).unwrap(),
            "new body"
        );
        // A set without bodies removes them, and the folder once empty.
        std::fs::remove_file(d.join(DIR).join("notes.md")).unwrap();
        place(d, &[]).unwrap();
        assert!(!d.join(DIR).exists());
    }

    #[test]
    fn a_body_that_cannot_be_written_makes_the_set_fail() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the folder should be.
        std::fs::write(dir.path().join(DIR), "in the way").unwrap();
        let st = Staging::new(dir.path());
        assert!(st.write("a.json", b"x").is_err());
        let e = st.finish().unwrap_err();
        assert!(e.contains("cannot write") && e.contains("a.json"), "{e}");
    }

    #[test]
    fn stale_temporaries_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let b = dir.path().join(DIR);
        std::fs::create_dir(&b).unwrap();
        for f in [".a.json.99999999.tmp", ".notes.1.tmp", "a.json"] {
            std::fs::write(b.join(f), "x").unwrap();
        }
        let removed = remove_stale_temporaries(dir.path());
        assert_eq!(removed, [b.join(".a.json.99999999.tmp")]);
        assert_eq!(names(&b), [".notes.1.tmp", "a.json"]);
    }
}
