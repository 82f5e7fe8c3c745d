//! `manifest.json` of a bundle: what was taken, when, from where, and what failed. The
//! schema is `hangdoc.bundle/v1`; fields are only ever added.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// The bundle's table of contents.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Always `hangdoc.bundle/v1`.
    pub schema: &'static str,
    /// The hangdoc version that wrote it.
    pub hangdoc_version: &'static str,
    /// The URL as given.
    pub url: String,
    /// The pprof base the other profiles were taken from, when known.
    pub pprof_base: Option<String>,
    /// The URL of the full dumps.
    pub dump_url: String,
    /// The machine that took the evidence (its host name).
    pub captured_on: String,
    /// When the capture began (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// Snapshots asked for.
    pub count: u32,
    /// Seconds between the starts of consecutive snapshots.
    pub interval_seconds: f64,
    /// Whether the target's address is one of this machine's (`null`: no socket table taken).
    pub target_local: Option<bool>,
    /// The processes listening on the target's port, when local and visible.
    pub target_pids: Vec<u32>,
    /// The files, in the order they were taken.
    pub files: Vec<FileEntry>,
    /// Profiles the server does not serve.
    pub skipped: Vec<Skipped>,
    /// What failed, in full sentences.
    pub errors: Vec<String>,
    /// What else is worth knowing (a truncated dump and what was taken instead, …).
    pub notes: Vec<String>,
}

/// One file of the bundle.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    /// Path inside the bundle (`series/01.txt`).
    pub path: String,
    /// What it is (`goroutine debug=2`, `goroutineleak debug=1`, `socket table`).
    pub what: String,
    /// The URL or command it came from.
    pub source: String,
    /// When it was asked for (RFC 3339, UTC, milliseconds).
    pub taken_at: String,
    /// The same, in seconds since the Unix epoch.
    pub taken_at_unix: f64,
    /// Seconds the request took.
    pub seconds: f64,
    /// HTTP status (`null` for a command).
    pub status: Option<u16>,
    /// Bytes written.
    pub bytes: u64,
    /// The content is cut: a debug=2 dump at the runtime's 64 MiB limit or mid-line, or a
    /// body over `--max-bytes`.
    pub truncated: bool,
    /// HTTP attempts (1 unless a retry was needed).
    pub attempts: u32,
}

/// A profile that was asked for and is not served.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// What was asked for.
    pub what: String,
    /// Its URL.
    pub url: String,
    /// The HTTP status of the refusal.
    pub status: Option<u16>,
    /// Why it is missing.
    pub reason: String,
}

/// Seconds since the Unix epoch.
pub fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `2026-11-22T04:09:55.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, ms) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// `20261122T040955Z`, for directory names.
pub fn compact(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s, _) = civil(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

fn civil(t: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Days since 1970-01-01 to a proleptic Gregorian date.
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
        d.subsec_millis(),
    )
}

/// This machine's host name, or `unknown`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_utc_calendar_dates() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_320_595_123);
        assert_eq!(rfc3339(t), "2026-11-22T04:09:55.123Z");
        assert_eq!(compact(t), "20261122T040955Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(compact(t), "20000229T000000Z");
    }
}
