//! Reading evidence: format sniffing and one module per input format.
//!
//! Every parser turns bytes into the one [`Snapshot`] model; nothing downstream knows which
//! format a snapshot came from except through [`Snapshot::format`]. The format is recognised
//! from the content, never from a file name: gzip is unwrapped first, then each parser's
//! cheap `sniff` looks at the head of the input.
//!
//! To add a format: write `src/parse/<name>.rs` with `sniff` and `parse`, and list it in
//! [`PARSERS`].

pub mod debug1;
mod huge_pages;
#[cfg(unix)]
mod mapped;
pub mod proto;
#[cfg(unix)]
mod sigbus;
pub mod sockets;
pub mod traceback;
pub mod traces;
pub mod wrapped;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::model::{Format, Snapshot};

/// How many bytes of an input the sniffers see.
pub const HEAD_LEN: usize = 64 * 1024;

/// Options shared by the parsers.
#[derive(Debug, Clone)]
pub struct Options {
    /// Cap on stored distinct argument text, in bytes.
    pub args_budget: usize,
    /// Worker threads for the formats that parse in parallel (0 = all cores).
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            args_budget: crate::model::DEFAULT_ARGS_BUDGET,
            threads: 0,
        }
    }
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The input is not evidence hangdoc reads.
    #[error("{source_name}: {found}; expected {expected}")]
    NotEvidence {
        /// The input as the user named it.
        source_name: String,
        /// What it looks like instead.
        found: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// The input looked like a known format but nothing usable could be read from it.
    #[error("{source_name}:{line}: {message}")]
    Malformed {
        /// The input as the user named it.
        source_name: String,
        /// 1-based line (0 when not line-oriented).
        line: u64,
        /// What was expected there.
        message: String,
    },
    /// Reading failed.
    #[error("{source_name}: {error}")]
    Io {
        /// The input as the user named it.
        source_name: String,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
}

/// What hangdoc accepts, for error messages.
pub const EXPECTED: &str = "a Go goroutine dump (pprof debug=2 or debug=1, runtime.Stack, panic or SIGQUIT output), a gzipped pprof goroutine profile, `go tool pprof -traces` output, or a socket table (ss, netstat, /proc/net/tcp)";

/// A parser's entry point: reads the whole input.
pub type ParseFn = fn(
    input: Box<dyn BufRead + Send>,
    source: &str,
    opts: &Options,
) -> Result<Snapshot, ParseError>;

/// One format's entry points.
pub struct ParserEntry {
    /// The format it produces.
    pub format: Format,
    /// `Some(true)`: this is mine; `Some(false)`: it is not; `None`: cannot tell from `head`.
    pub sniff: fn(head: &[u8]) -> Option<bool>,
    /// Reads the whole input.
    pub parse: ParseFn,
}

/// The parsers, in sniffing order: most specific first; the traceback parser, which skips
/// unrelated lines around a dump, last.
pub static PARSERS: &[ParserEntry] = &[
    ParserEntry {
        format: Format::Proto,
        sniff: proto::sniff,
        parse: proto::parse,
    },
    ParserEntry {
        format: Format::Debug1,
        sniff: debug1::sniff,
        parse: debug1::parse,
    },
    ParserEntry {
        format: Format::Traces,
        sniff: traces::sniff,
        parse: traces::parse,
    },
    ParserEntry {
        format: Format::Sockets,
        sniff: sockets::sniff,
        parse: sockets::parse,
    },
    ParserEntry {
        format: Format::Traceback,
        sniff: traceback::sniff,
        parse: traceback::parse,
    },
];

/// Reads one piece of evidence from `reader`, naming it `source` in messages.
pub fn parse_reader(
    reader: Box<dyn Read + Send>,
    source: &str,
    opts: &Options,
) -> Result<Snapshot, ParseError> {
    let io_err = |error| ParseError::Io {
        source_name: source.to_string(),
        error,
    };
    let mut reader: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(1 << 20, reader));
    let head = reader.fill_buf().map_err(io_err)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(reader);
        reader = Box::new(BufReader::with_capacity(1 << 20, gz));
    }
    let (head, reader) = read_head(reader).map_err(|error| ParseError::Io {
        source_name: source.to_string(),
        error: io::Error::new(error.kind(), format!("reading: {error}")),
    })?;
    for p in PARSERS {
        if (p.sniff)(&head) == Some(true) {
            return (p.parse)(replay(head, reader), source, opts);
        }
    }
    if let Some(w) = wrapped::detect(&head) {
        // A dump inside other text: unwrapped in memory, then read as if it came so.
        let mut data = head;
        let mut reader = reader;
        reader.read_to_end(&mut data).map_err(io_err)?;
        return parse_wrapped(&data, &w, source, opts);
    }
    if let Some(found) = describe_non_evidence(&head) {
        return Err(ParseError::NotEvidence {
            source_name: source.into(),
            found,
            expected: EXPECTED,
        });
    }
    // Text that no sniffer claimed from its head: a dump may still follow a long stretch of
    // log output. The traceback parser skips what is not a goroutine and fails if none is.
    traceback::parse(replay(head, reader), source, opts)
}

/// Reads a dump wrapped in other text (see [`wrapped`]) from `data`, the whole input: the
/// unwrapped text is read like any input, so a wrapping inside another is taken off too
/// (each unwrapping shortens what precedes the header on its line, so this ends).
fn parse_wrapped(
    data: &[u8],
    w: &wrapped::Wrapping,
    source: &str,
    opts: &Options,
) -> Result<Snapshot, ParseError> {
    let text = wrapped::unwrap(data, w);
    let mut snap = parse_reader(Box::new(io::Cursor::new(text)), source, opts)?;
    snap.warnings.insert(
        0,
        crate::model::Warning {
            line: None,
            message: wrapped::note(w),
        },
    );
    Ok(snap)
}

/// Files up to this size that hold no dump where one was looked for are searched whole for
/// a wrapped dump (a log whose dump starts past the first 64 KiB).
const WRAPPED_SEARCH_MAX: u64 = 1 << 30;

/// Reads evidence from a file (`-` is standard input).
pub fn parse_path(path: &str, opts: &Options) -> Result<Snapshot, ParseError> {
    if path == "-" {
        return parse_reader(Box::new(io::stdin()), "<stdin>", opts);
    }
    let file = File::open(path).map_err(|error| ParseError::Io {
        source_name: path.to_string(),
        error,
    })?;
    let read = read_file(file, path, opts);
    match read {
        Err(ParseError::NotEvidence { .. }) => {
            // A log whose wrapped dump starts past the head that was sniffed.
            let Some(data) = std::fs::metadata(path)
                .ok()
                .filter(|m| m.is_file() && m.len() <= WRAPPED_SEARCH_MAX)
                .and_then(|_| std::fs::read(path).ok())
            else {
                return read;
            };
            match wrapped::detect(&data) {
                Some(w) => parse_wrapped(&data, &w, path, opts),
                None => read,
            }
        }
        read => read,
    }
}

fn read_file(file: File, path: &str, opts: &Options) -> Result<Snapshot, ParseError> {
    #[cfg(unix)]
    if let Some(map) = mapped::Mapped::new(&file, path) {
        let data = map.bytes();
        let head = &data[..data.len().min(HEAD_LEN)];
        if !head.starts_with(&[0x1f, 0x8b]) && goes_to_traceback(head) {
            return traceback::parse_bytes(data, path, opts, &map);
        }
    }
    parse_reader(Box::new(file), path, opts)
}

/// True when [`parse_reader`] would hand an input with this head (gzip already unwrapped)
/// to the traceback parser.
#[cfg(unix)]
fn goes_to_traceback(head: &[u8]) -> bool {
    match PARSERS.iter().find(|p| (p.sniff)(head) == Some(true)) {
        Some(p) => p.format == Format::Traceback,
        // Unclaimed text is read by the traceback parser, unless it holds a wrapped dump.
        None => describe_non_evidence(head).is_none() && wrapped::detect(head).is_none(),
    }
}

/// Reads every input: files, `-`, and directories; an input that holds several dumps one
/// after another gives a snapshot per dump. A directory is read recursively, its
/// files (sorted by name) before its subdirectories, so that a bundle's `series/` follows its
/// main dump; hidden files and files that are never evidence (`.json` manifests, `.md`,
/// Go sources) are skipped.
pub fn load(inputs: &[String], opts: &Options) -> Result<Vec<Snapshot>, ParseError> {
    let mut out = Vec::new();
    for input in inputs {
        let path = Path::new(input);
        if input != "-" && path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files).map_err(|error| ParseError::Io {
                source_name: input.clone(),
                error,
            })?;
            for f in files {
                out.extend(parse_path(&f.to_string_lossy(), opts)?.split_dumps());
            }
        } else {
            out.extend(parse_path(input, opts)?.split_dumps());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> io::Result<()> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            dirs.push(p);
        } else if p.is_file() && !is_never_evidence(&name) {
            files.push(p);
        }
    }
    files.sort();
    dirs.sort();
    out.extend(files);
    for d in dirs {
        walk(&d, out)?;
    }
    Ok(())
}

fn is_never_evidence(name: &str) -> bool {
    const SKIP: &[&str] = &[
        ".json", ".md", ".go", ".mod", ".sum", ".sh", ".py", ".yaml", ".yml", ".toml",
    ];
    SKIP.iter().any(|ext| name.ends_with(ext))
}

fn read_head(
    mut reader: Box<dyn BufRead + Send>,
) -> io::Result<(Vec<u8>, Box<dyn BufRead + Send>)> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    while head.len() < HEAD_LEN {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min(HEAD_LEN - head.len());
        head.extend_from_slice(&buf[..n]);
        reader.consume(n);
    }
    Ok((head, reader))
}

fn replay(head: Vec<u8>, rest: Box<dyn BufRead + Send>) -> Box<dyn BufRead + Send> {
    Box::new(io::Cursor::new(head).chain(rest))
}

/// Names what an input that is certainly not evidence looks like, or `None` for text that
/// might still hold a dump further on.
fn describe_non_evidence(head: &[u8]) -> Option<String> {
    if head.is_empty() {
        return Some("the input is empty".into());
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let trimmed = text.trim_start();
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        let title = lower.find("<title>").and_then(|i| {
            lower[i + 7..]
                .find("</title>")
                .map(|j| trimmed[i + 7..i + 7 + j].trim().to_string())
        });
        return Some(match title {
            Some(t) if !t.is_empty() => {
                format!("an HTML page (\"{t}\"), perhaps from a proxy or login page")
            }
            _ => "an HTML page, perhaps from a proxy or login page".into(),
        });
    }
    if trimmed.starts_with("Unknown profile") {
        return Some(format!(
            "the pprof server's reply \"{}\" (this Go version does not serve that profile)",
            trimmed.lines().next().unwrap_or("").trim()
        ));
    }
    if trimmed.starts_with("404 page not found") {
        return Some("an HTTP 404 reply (is net/http/pprof mounted on that server?)".into());
    }
    let sample = &head[..head.len().min(8192)];
    let binary = sample
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !b"\t\n\r\x0c\x1b".contains(&b)))
        .count();
    if binary * 20 > sample.len() || std::str::from_utf8(sample).is_err() && binary > 0 {
        return Some("binary data that is not a gzipped pprof profile".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(bytes: &[u8]) -> String {
        parse_reader(
            Box::new(io::Cursor::new(bytes.to_vec())),
            "in.txt",
            &Options::default(),
        )
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn r_empty_input_is_named() {
        let e = err(b"");
        assert!(
            e.starts_with("in.txt: the input is empty; expected a Go goroutine dump"),
            "{e}"
        );
    }

    #[test]
    fn r_html_error_page_is_named() {
        let e = err(b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>");
        assert!(e.contains("an HTML page (\"502 Bad Gateway\")"), "{e}");
    }

    #[test]
    fn r_unknown_profile_reply_is_named() {
        let e = err(b"Unknown profile\n");
        assert!(e.contains("does not serve that profile"), "{e}");
    }

    #[test]
    fn dumps_appended_to_one_file_are_read_as_a_series() {
        // Hand-written: three debug=2 dumps of one process appended to one file, each led
        // by the goroutine that wrote it; goroutine 7 never moves.
        let dump = |writer: u64, minutes: u32| {
            format!(
                "goroutine {writer} [running]:\nruntime/pprof.writeGoroutineStacks(0x0)\n\t/go/src/runtime/pprof/pprof.go:770 +0x1\n\ngoroutine 1 [IO wait]:\nmain.main()\n\t/src/app/main.go:9 +0x1\n\ngoroutine 7 [chan send, {minutes} minutes]:\nmain.worker(0xc000012345)\n\t/src/app/main.go:30 +0x25\ncreated by main.main in goroutine 1\n\t/src/app/main.go:8 +0x3d\n\n"
            )
        };
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let text = [dump(50, 3), dump(61, 4), dump(72, 5)].concat();
        std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
        let path = file.path().to_str().unwrap().to_string();
        let snaps = load(std::slice::from_ref(&path), &Options::default()).unwrap();
        let names: Vec<&str> = snaps.iter().map(|s| s.source.as_str()).collect();
        assert_eq!(
            names,
            [1, 2, 3].map(|i| format!("{path} [dump {i}/3]")),
            "one snapshot per dump"
        );
        assert!(snaps.iter().all(|s| s.goroutines.len() == 3));
        let minutes: Vec<Option<u32>> =
            snaps.iter().map(|s| s.goroutines[2].wait_minutes).collect();
        assert_eq!(minutes, [Some(3), Some(4), Some(5)]);
        assert_eq!(snaps[0].warnings.len(), 1, "{:?}", snaps[0].warnings);
        assert!(
            snaps[0].warnings[0]
                .message
                .starts_with("the input holds 3 dumps one after another")
        );
        assert!(snaps[1].warnings.is_empty() && snaps[2].warnings.is_empty());
        let d = crate::diagnose::diagnose(&snaps, &Default::default());
        assert!(
            d.notes
                .iter()
                .any(|n| n
                    .starts_with("series of 3 snapshots: 2 goroutines stayed in place throughout")),
            "{:?}",
            d.notes
        );
    }

    #[test]
    fn r_binary_garbage_is_named() {
        let e = err(&[0u8, 1, 2, 3, 200, 201, 0, 0, 7, 8, 9, 0, 0, 0, 0, 0]);
        assert!(e.contains("binary data"), "{e}");
    }
}
