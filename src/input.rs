//! Files named on the command line and read whole (a `report.json`, a token
//! file), each up to a cap: a path to `/dev/zero`, an endless pipe or a
//! huge file is refused at the cap instead of filling memory.

use std::io::Read;
use std::path::Path;

/// The most `conform` reads of a `report.json` (`--baseline`, `conform
/// merge`, `conform diff`): 256 MiB. A report keeps the request and
/// response of failing steps only, so a run of thousands of scenarios
/// writes a few MiB; the cap leaves room for far more and still stops a
/// wrong path before it fills memory.
pub const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// The most `conform` reads of a token file (`--token-file` of `run` and
/// `serve`): 64 KiB, far more than any bearer token (HTTP servers refuse
/// headers this long).
pub const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// What kind of file is read, which sets its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A `report.json`: [`MAX_REPORT_BYTES`].
    Report,
    /// A bearer token file: [`MAX_TOKEN_FILE_BYTES`].
    TokenFile,
}

impl Input {
    /// The most bytes read of such a file.
    pub const fn cap(self) -> u64 {
        match self {
            Input::Report => MAX_REPORT_BYTES,
            Input::TokenFile => MAX_TOKEN_FILE_BYTES,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Input::Report => "report",
            Input::TokenFile => "token file",
        }
    }
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the {} {path}: {source}", .input.noun())]
    Io {
        input: Input,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the {noun} {path} is larger than {shown}, the most conform reads of a {noun}: refused without reading further",
        noun = .input.noun(),
        shown = show_bytes(*.cap)
    )]
    TooLarge {
        input: Input,
        path: String,
        cap: u64,
    },
}

/// `256 MiB`, `64 KiB`, else bytes.
fn show_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Reads the whole file at `path`, refusing it when it holds more than
/// `input`'s cap (nothing past the cap is read).
pub fn read(path: &Path, input: Input) -> Result<Vec<u8>, ReadError> {
    read_capped(path, input, input.cap())
}

fn read_capped(path: &Path, input: Input, cap: u64) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        input,
        path: path.display().to_string(),
        source,
    };
    let too_large = || ReadError::TooLarge {
        input,
        path: path.display().to_string(),
        cap,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // A regular file says its length; devices and pipes are read up to the cap.
    let meta = file.metadata().map_err(io)?;
    if meta.is_file() && meta.len() > cap {
        return Err(too_large());
    }
    let hint = if meta.is_file() { meta.len() } else { 0 };
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Why a token file gave no token.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("the token file {0} is not UTF-8 text")]
    NotText(String),
    #[error("the token file {0} is empty")]
    Empty(String),
    #[error("the token in {0} {1}: a bearer token is one line of visible characters")]
    Unsendable(String, &'static str),
}

/// Why `token` can never go in an `Authorization` header, if it cannot: a
/// control character (a second line included) or a space inside it.
pub fn unsendable_token(token: &str) -> Option<&'static str> {
    if token.contains(['\r', '\n']) {
        Some("has more than one line")
    } else if token.chars().any(char::is_control) {
        Some("holds a control character")
    } else if token.chars().any(char::is_whitespace) {
        Some("holds a space")
    } else {
        None
    }
}

/// The bearer token in the file at `path`, trimmed; an empty file, one that
/// is not text and one over [`MAX_TOKEN_FILE_BYTES`] are refused.
pub fn read_token_file(path: &Path) -> Result<String, TokenFileError> {
    let bytes = read(path, Input::TokenFile)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| TokenFileError::NotText(path.display().to_string()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(TokenFileError::Empty(path.display().to_string()));
    }
    if let Some(why) = unsendable_token(token) {
        return Err(TokenFileError::Unsendable(path.display().to_string(), why));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_at_the_cap_reads_and_one_byte_more_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("at");
        std::fs::write(&at, b"12345678").unwrap();
        assert_eq!(read_capped(&at, Input::Report, 8).unwrap(), b"12345678");
        let e = read_capped(&at, Input::Report, 7).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { cap: 7, .. }), "{e}");
        assert!(e.to_string().contains("larger than 7 bytes"), "{e}");
    }

    #[test]
    fn an_endless_device_stops_at_the_cap() {
        let e = read_capped(Path::new("/dev/zero"), Input::TokenFile, 4096).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { cap: 4096, .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "the token file /dev/zero is larger than 4 KiB, the most conform reads of a token file: refused without reading further"
        );
    }

    #[test]
    fn caps_are_shown_in_their_unit() {
        assert_eq!(show_bytes(MAX_REPORT_BYTES), "256 MiB");
        assert_eq!(show_bytes(MAX_TOKEN_FILE_BYTES), "64 KiB");
        assert_eq!(show_bytes(1000), "1000 bytes");
    }

    #[test]
    fn token_files_are_trimmed_and_refused_when_empty_or_not_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t");
        std::fs::write(&p, " tok\n").unwrap();
        assert_eq!(read_token_file(&p).unwrap(), "tok");
        std::fs::write(&p, " \n").unwrap();
        assert!(matches!(read_token_file(&p), Err(TokenFileError::Empty(_))));
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_token_file(&p),
            Err(TokenFileError::NotText(_))
        ));
    }
}
