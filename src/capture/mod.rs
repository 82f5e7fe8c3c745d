//! Live evidence: goroutine dumps and the socket table taken from a running Go process over
//! its pprof HTTP endpoints, from outside, with no change to the service.
//!
//! [`capture`] writes one bundle directory that `hangdoc diagnose DIR` reads as a series:
//!
//! ```text
//! manifest.json               what, when, from where, HTTP status, bytes, truncation, errors
//! goroutineleak/debug1.txt    the leak profile, when the server serves it (taken first: its
//! goroutineleak/debug2.txt    GC marks leaked goroutines `(leaked)` in the dumps that follow)
//! debug1.txt, goroutine.pb.gz only when the first debug=2 dump came back cut: these count
//!                             every goroutine
//! ss.txt                      `ss -tanp` kept to the target (or proc-net-tcp{,6}.txt)
//! series/01.txt … NN.txt      the debug=2 dumps, oldest first
//! ```
//!
//! [`fetch_snapshots`] takes dumps into memory for `diagnose URL` and `stacks URL`; parsing
//! stays in [`crate::parse`], which knows nothing of the network.

pub mod http;
pub mod manifest;
pub mod sockets;
pub mod target;

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

pub use http::{Client, FetchError, HttpOptions, Reply};
pub use manifest::Manifest;
pub use target::{Target, is_url};

use crate::model::{Format, Snapshot};
use crate::parse;
use manifest::{FileEntry, Skipped, rfc3339, unix};

/// The Go runtime cuts an HTTP debug=2 dump at this many bytes, silently.
pub const DEBUG2_LIMIT: usize = 64 << 20;

/// Whether a debug=2 body looks cut: exactly at the runtime's limit, or mid-line (a
/// complete dump ends with a newline).
pub fn truncated(body: &[u8]) -> bool {
    body.len() >= DEBUG2_LIMIT || body.last().is_some_and(|&b| b != b'\n')
}

/// What to take.
#[derive(Debug, Clone)]
pub struct Options {
    /// How requests are made.
    pub http: HttpOptions,
    /// How many debug=2 snapshots.
    pub count: u32,
    /// Time between the starts of consecutive snapshots.
    pub interval: Duration,
    /// Ask for the goroutineleak profile (skipped when the server does not serve it).
    pub leak: bool,
    /// Take the local socket table.
    pub sockets: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            http: HttpOptions::default(),
            count: 1,
            interval: Duration::from_secs(2),
            leak: true,
            sockets: true,
        }
    }
}

/// Why a capture produced no bundle.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The URL cannot be used.
    #[error("{0}")]
    BadTarget(String),
    /// A request failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The server answered with something that is not a goroutine dump.
    #[error("{url} answered with something that is not a goroutine dump: {why}")]
    NotADump {
        /// The URL.
        url: String,
        /// What it is instead.
        why: String,
    },
    /// The bundle could not be written.
    #[error("{}: {error}", path.display())]
    Bundle {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
}

/// Checks that a body is a goroutine dump: a parser claims its head, or the traceback
/// parser finds goroutines in it. Returns what it is otherwise.
pub fn check_dump(url: &str, body: &[u8]) -> Result<(), CaptureError> {
    let head = &body[..body.len().min(parse::HEAD_LEN)];
    let claimed = parse::PARSERS
        .iter()
        .find(|p| (p.sniff)(head) == Some(true))
        .map(|p| p.format);
    let not_a_dump = |why: String| CaptureError::NotADump {
        url: url.to_string(),
        why,
    };
    match claimed {
        Some(Format::Sockets) => Err(not_a_dump("a socket table".into())),
        Some(_) => Ok(()),
        None => {
            let reader = Box::new(io::Cursor::new(body.to_vec()));
            match parse::parse_reader(reader, url, &parse::Options::default()) {
                Ok(s) if s.goroutine_count() > 0 => Ok(()),
                Ok(_) => Err(not_a_dump("no goroutines in it".into())),
                Err(parse::ParseError::NotEvidence { found, .. }) => Err(not_a_dump(found)),
                Err(e) => Err(not_a_dump(e.to_string())),
            }
        }
    }
}

/// Takes `count` dumps of `target` into memory, `interval` apart, and parses them. The
/// snapshots are named by the dump URL (with `#N` in a series) and carry the time they
/// were asked for; `warn` hears about cut dumps.
pub fn fetch_snapshots(
    client: &Client,
    target: &Target,
    count: u32,
    interval: Duration,
    opts: &parse::Options,
    warn: &mut dyn FnMut(&str),
) -> Result<Vec<Snapshot>, CaptureError> {
    let mut out = Vec::new();
    for i in 0..count.max(1) {
        let started = Instant::now();
        let at = SystemTime::now();
        let reply = client.get(&target.dump_url)?;
        check_dump(&target.dump_url, &reply.body)?;
        if reply.over_limit || (target.debug2 && truncated(&reply.body)) {
            warn(&format!(
                "{}: the dump is cut at {} bytes; goroutines past the cut are missing (`hangdoc capture` also takes debug=1 and the protobuf profile, which count them all)",
                target.dump_url,
                reply.body.len()
            ));
        }
        let source = if count > 1 {
            format!("{}#{}", target.dump_url, i + 1)
        } else {
            target.dump_url.clone()
        };
        let mut snap = parse::parse_reader(Box::new(io::Cursor::new(reply.body)), &source, opts)
            .map_err(|e| CaptureError::NotADump {
                url: target.dump_url.clone(),
                why: e.to_string(),
            })?;
        snap.taken_at.get_or_insert(unix(at));
        out.push(snap);
        if i + 1 < count {
            std::thread::sleep(interval.saturating_sub(started.elapsed()));
        }
    }
    Ok(out)
}

/// A bundle directory, created on the first file so that a capture that fails at once
/// leaves nothing behind.
struct Bundle {
    dir: PathBuf,
    created: bool,
}

impl Bundle {
    fn new(dir: &Path) -> Result<Bundle, CaptureError> {
        let occupied = std::fs::read_dir(dir).is_ok_and(|mut it| it.next().is_some());
        if occupied || (dir.exists() && !dir.is_dir()) {
            return Err(CaptureError::Bundle {
                path: dir.to_path_buf(),
                error: io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "already exists and is not an empty directory; choose another -o",
                ),
            });
        }
        Ok(Bundle {
            dir: dir.to_path_buf(),
            created: false,
        })
    }

    fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<(), CaptureError> {
        let path = self.dir.join(rel);
        let err = |error| CaptureError::Bundle {
            path: path.clone(),
            error,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        self.created = true;
        // Written under a hidden name and renamed: a reader never sees half a file, and
        // `parse::load` skips hidden files.
        let tmp = path.with_file_name(format!(
            ".{}.part",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
        ));
        std::fs::write(&tmp, bytes).map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)
    }
}

/// One capture in progress: the bundle and its manifest.
struct Session<'a> {
    client: &'a Client,
    bundle: Bundle,
    manifest: Manifest,
    progress: &'a mut dyn FnMut(&str),
}

impl Session<'_> {
    fn entry(&self, path: &str, what: &str, source: &str, at: SystemTime) -> FileEntry {
        FileEntry {
            path: path.into(),
            what: what.into(),
            source: source.into(),
            taken_at: rfc3339(at),
            taken_at_unix: unix(at),
            seconds: 0.0,
            status: None,
            bytes: 0,
            truncated: false,
            attempts: 0,
        }
    }

    /// GETs `url` into `path`; `Ok(None)` when the server does not serve that profile.
    fn fetch(
        &mut self,
        url: &str,
        path: &str,
        what: &str,
        dump: bool,
    ) -> Result<Option<(FileEntry, Vec<u8>)>, CaptureError> {
        (self.progress)(&format!("{what}: {url}"));
        let at = SystemTime::now();
        let reply = match self.client.get(url) {
            Ok(r) => r,
            Err(e @ (FetchError::UnknownProfile { .. } | FetchError::NotFound { .. })) if !dump => {
                self.manifest.skipped.push(Skipped {
                    what: what.into(),
                    url: url.into(),
                    status: e.status(),
                    reason: e.to_string(),
                });
                (self.progress)(&format!("{what}: not served, skipped"));
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        if dump {
            check_dump(url, &reply.body)?;
        }
        let mut e = self.entry(path, what, url, at);
        e.seconds = reply.seconds;
        e.status = Some(reply.status);
        e.bytes = reply.body.len() as u64;
        e.attempts = reply.attempts;
        e.truncated = reply.over_limit;
        self.bundle.write(path, &reply.body)?;
        (self.progress)(&format!(
            "{what}: {} bytes in {:.1} s → {path}",
            reply.body.len(),
            reply.seconds
        ));
        Ok(Some((e, reply.body)))
    }

    fn finish(&mut self) -> Result<(), CaptureError> {
        self.manifest.finished_at = rfc3339(SystemTime::now());
        if !self.bundle.created {
            return Ok(());
        }
        let json = serde_json::to_vec_pretty(&self.manifest).unwrap_or_default();
        self.bundle.write("manifest.json", &json)
    }
}

/// Takes evidence from `target` into the bundle directory `dir` (which must not exist or
/// be empty) and returns its manifest. Fails when the first dump cannot be taken (leaving no
/// directory if nothing at all was taken, else the files and a manifest naming the error);
/// a later failure (the process dies mid-series) is recorded in the manifest and what was
/// taken is kept. `progress` hears one line per step.
pub fn capture(
    target: &Target,
    dir: &Path,
    client: &Client,
    opts: &Options,
    progress: &mut dyn FnMut(&str),
) -> Result<Manifest, CaptureError> {
    let started = SystemTime::now();
    let mut s = Session {
        client,
        bundle: Bundle::new(dir)?,
        manifest: Manifest {
            schema: "hangdoc.bundle/v1",
            hangdoc_version: env!("CARGO_PKG_VERSION"),
            url: target.url.clone(),
            pprof_base: target.base.clone(),
            dump_url: target.dump_url.clone(),
            captured_on: manifest::host_name(),
            started_at: rfc3339(started),
            finished_at: String::new(),
            count: opts.count.max(1),
            interval_seconds: opts.interval.as_secs_f64(),
            target_local: None,
            target_pids: Vec::new(),
            files: Vec::new(),
            skipped: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
        },
        progress,
    };
    let result = run(&mut s, target, opts);
    match result {
        Ok(()) => {
            s.finish()?;
            Ok(s.manifest)
        }
        Err(e) => {
            s.manifest.errors.push(e.to_string());
            s.finish()?;
            Err(e)
        }
    }
}

fn run(s: &mut Session, target: &Target, opts: &Options) -> Result<(), CaptureError> {
    let count = opts.count.max(1);
    let width = count.to_string().len().max(2);

    if let (true, Some(base), false) = (opts.leak, &target.base, target.is_leak_endpoint) {
        leak_profiles(s, base)?;
    }

    let mut next = Instant::now();
    for i in 1..=count {
        let wait = next.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        next = Instant::now() + opts.interval;
        let path = format!("series/{i:0width$}.txt");
        let what = format!("goroutine dump {i}/{count}");
        let fetched = match s.fetch(&target.dump_url, &path, &what, true) {
            Ok(f) => f,
            // The first dump is the capture; a later failure ends the series early.
            Err(e) if i > 1 && !matches!(e, CaptureError::Bundle { .. }) => {
                s.manifest.errors.push(format!(
                    "snapshot {i} of {count} failed, the series stops at {}: {e}",
                    i - 1
                ));
                (s.progress)(&format!("{what}: failed: {e}"));
                break;
            }
            Err(e) => return Err(e),
        };
        let Some((mut entry, body)) = fetched else {
            continue;
        };
        let cut = target.debug2 && truncated(&body);
        entry.truncated |= cut;
        drop(body);
        s.manifest.files.push(entry);
        if i == 1 {
            if cut {
                truncated_fallback(s, target);
            }
            if opts.sockets {
                socket_table(s, target)?;
            }
        }
    }
    Ok(())
}

/// The leak profile, debug=1 then debug=2, when served. A refusal or an unreachable
/// process ends the capture (the dumps would fail the same way); a slow leak GC does not.
fn leak_profiles(s: &mut Session, base: &str) -> Result<(), CaptureError> {
    for (debug, path) in [
        (1, "goroutineleak/debug1.txt"),
        (2, "goroutineleak/debug2.txt"),
    ] {
        let url = format!("{base}goroutineleak?debug={debug}");
        let what = format!("goroutineleak debug={debug}");
        match s.fetch(&url, path, &what, false) {
            Ok(Some((entry, _))) => s.manifest.files.push(entry),
            Ok(None) => return Ok(()),
            Err(CaptureError::Fetch(e))
                if matches!(e, FetchError::Timeout { .. } | FetchError::Status { .. }) =>
            {
                s.manifest.errors.push(format!("{what}: {e}"));
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// After a cut debug=2 dump: debug=1 and the protobuf profile, which are not cut and count
/// every goroutine (without per-goroutine detail).
fn truncated_fallback(s: &mut Session, target: &Target) {
    let Some(base) = &target.base else {
        s.manifest.notes.push(format!(
            "the dump from {} is cut (at {} MiB or mid-line), and the URL names no pprof base to take debug=1 and the protobuf profile from",
            target.dump_url,
            DEBUG2_LIMIT >> 20
        ));
        return;
    };
    s.manifest.notes.push(
        "the first debug=2 dump is cut (the runtime stops at 64 MiB, or it ends mid-line): debug1.txt and goroutine.pb.gz were taken too; they count every goroutine, without per-goroutine detail".into(),
    );
    (s.progress)("the debug=2 dump is cut: taking debug=1 and the protobuf profile too");
    for (url, path, what) in [
        (
            format!("{base}goroutine?debug=1"),
            "debug1.txt",
            "goroutine debug=1",
        ),
        (
            format!("{base}goroutine"),
            "goroutine.pb.gz",
            "goroutine protobuf (debug=0)",
        ),
    ] {
        match s.fetch(&url, path, what, true) {
            Ok(Some((entry, _))) => s.manifest.files.push(entry),
            Ok(None) => {}
            Err(e) => s.manifest.errors.push(format!("{what}: {e}")),
        }
    }
}

fn socket_table(s: &mut Session, target: &Target) -> Result<(), CaptureError> {
    (s.progress)("socket table");
    let at = SystemTime::now();
    let t0 = Instant::now();
    let cap = sockets::capture(&target.host, target.port);
    s.manifest.target_local = Some(cap.local);
    s.manifest.target_pids = cap.pids.clone();
    s.manifest.notes.extend(cap.notes);
    for t in &cap.tables {
        s.bundle.write(t.name, t.text.as_bytes())?;
        let mut e = s.entry(t.name, "socket table", t.command, at);
        e.seconds = t0.elapsed().as_secs_f64();
        e.bytes = t.text.len() as u64;
        s.manifest.files.push(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_cut_mid_line_or_at_the_limit_is_truncated() {
        assert!(!truncated(
            b"goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n"
        ));
        assert!(truncated(b"goroutine 1 [running]:\nmain.ma"));
        let mut big = vec![b'x'; DEBUG2_LIMIT - 1];
        big.push(b'\n');
        assert!(truncated(&big));
        assert!(!truncated(b""));
    }

    #[test]
    fn check_dump_names_what_a_body_is_instead() {
        // Hand-written bodies.
        let ok = b"goroutine 1 [running]:\nmain.main()\n\t/src/main.go:5 +0x1d\n";
        assert!(check_dump("u", ok).is_ok());
        let e = check_dump("u", b"<html><title>Login</title></html>").unwrap_err();
        assert!(e.to_string().contains("HTML page"), "{e}");
        let e = check_dump("u", &[0, 1, 2, 3, 0, 0, 9, 0xff, 0, 0]).unwrap_err();
        assert!(e.to_string().contains("binary data"), "{e}");
    }
}
