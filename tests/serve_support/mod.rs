//! A watch history written through the store's own write API from real fixture bundles, for
//! the `hangdoc serve` tests and the browser test (`tests/serve_demo_store.rs` writes one to
//! a directory of your choice).
//!
//! Targets: `api` (two diagnosed incidents: copies of the redis-nested-pool and
//! logger-consumer-exited bundles, their diagnosis JSON made by hangdoc), `worker` (one
//! failed and one still-capturing incident, a failed last poll), and a target whose name,
//! URL and incident text are HTML/script injections with a stored (not yet diagnosed)
//! incident holding the hand-written hostile dump. Samples: one a minute for an hour,
//! goroutines growing, with states and CLOSE_WAIT.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use hangdoc::watch::store::{Diagnosed, Sample, Store};

/// A hostile target name (its text must show, and run nothing).
pub const HOSTILE_NAME: &str = "<img src=x onerror=window.__pwned=11>";
/// A hostile target URL.
pub const HOSTILE_URL: &str = "javascript:window.__pwned=12//<script>window.__pwned=13</script>";
/// A hostile incident detail.
pub const HOSTILE_DETAIL: &str = "\"><svg onload=window.__pwned=14>";

/// The ids of what [`build`] wrote.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Target `api`.
    pub api: i64,
    /// Target `worker`.
    pub worker: i64,
    /// The hostile target.
    pub hostile: i64,
    /// `api`'s redis-nested-pool incident (diagnosed).
    pub redis: i64,
    /// `api`'s logger-consumer-exited incident (diagnosed, the newest of `api`).
    pub logger: i64,
    /// `worker`'s failed incident.
    pub failed: i64,
    /// `worker`'s incident still capturing.
    pub capturing: i64,
    /// The hostile target's stored incident.
    pub hostile_incident: i64,
    /// The time of the last sample (milliseconds).
    pub now: i64,
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scenario fixture bundle.
pub fn scenario(name: &str) -> PathBuf {
    repo().join("tests/fixtures/scenarios").join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Diagnoses `dir` with hangdoc, as the watcher does.
pub fn diagnosed(dir: &Path) -> Diagnosed {
    let snaps = hangdoc::parse::load(
        &[dir.to_string_lossy().into_owned()],
        &hangdoc::parse::Options::default(),
    )
    .unwrap();
    let d = hangdoc::diagnose::diagnose(&snaps, &Default::default());
    let mut json = Vec::new();
    hangdoc::report::diagnosis_json::write(&mut json, &d).unwrap();
    let top = d.findings.first();
    Diagnosed {
        top_kind: top.map(|f| f.kind.to_string()),
        severity: top.map(|f| f.severity.name().to_string()),
        headline: Some(top.map_or_else(
            || "no stuck goroutines found".to_string(),
            |f| f.title.clone(),
        )),
        diagnosis: String::from_utf8(json).unwrap(),
        src: Vec::new(),
    }
}

/// Opens an incident of `target` at `at` whose bundle is a copy of `from` (if any).
fn incident(
    s: &Store,
    target: (i64, &str),
    at: i64,
    sig: &str,
    detail: &str,
    from: Option<&Path>,
) -> (i64, PathBuf) {
    let rel = Store::new_bundle_rel(target.1, at);
    let id = s.open_incident(target.0, at, sig, detail, &rel).unwrap();
    let path = s.bundle_path(&rel);
    if let Some(from) = from {
        if from.is_dir() {
            copy_dir(from, &path);
        } else {
            std::fs::create_dir_all(&path).unwrap();
            std::fs::copy(from, path.join(from.file_name().unwrap())).unwrap();
        }
    }
    (id, path)
}

/// Writes the demo history into `dir` (created), with samples ending at `now` (ms).
pub fn build(dir: &Path, now: i64) -> Demo {
    let s = Store::open(dir).unwrap();
    let start = now - 59 * 60_000;
    let api = s
        .target("api", "http://127.0.0.1:6060/debug/pprof/", start)
        .unwrap();
    let worker = s
        .target("worker", "http://127.0.0.1:6061/debug/pprof/", start)
        .unwrap();
    let hostile = s.target(HOSTILE_NAME, HOSTILE_URL, start).unwrap();

    for i in 0..60i64 {
        let at = start + i * 60_000;
        // api: a pile-up on the pool grows after minute 30.
        let stuck = if i < 30 { 2 } else { 2 + (i - 30) as u64 * 6 };
        let by_state = vec![
            ("semacquire".to_string(), stuck),
            ("IO wait".to_string(), 12),
            ("select".to_string(), 7),
            ("running".to_string(), 1),
        ];
        s.record_sample(
            api.id,
            &Sample {
                at,
                ok: true,
                goroutines: Some(by_state.iter().map(|(_, n)| n).sum()),
                by_state,
                close_wait: Some(if i < 30 { 0 } else { (i - 30) as u64 }),
                poll_ms: Some(40),
                error: None,
            },
        )
        .unwrap();
        // worker: steady, then gone for the last three polls.
        let down = i >= 57;
        let hostile_state = vec![
            ("chan receive".to_string(), 5),
            ("<b onmouseover=window.__pwned=15>x</b>".to_string(), 2),
        ];
        s.record_sample(
            worker.id,
            &Sample {
                at,
                ok: !down,
                goroutines: (!down).then_some(40 + (i % 5) as u64),
                by_state: if down {
                    vec![]
                } else {
                    vec![
                        ("chan receive".to_string(), 30),
                        ("select".to_string(), 10 + (i % 5) as u64),
                    ]
                },
                close_wait: None,
                poll_ms: Some(15),
                error: down.then(|| "connection refused (os error 111)".to_string()),
            },
        )
        .unwrap();
        s.record_sample(
            hostile.id,
            &Sample {
                at,
                ok: true,
                goroutines: Some(7),
                by_state: hostile_state,
                ..Sample::default()
            },
        )
        .unwrap();
    }

    let (redis, path) = incident(
        &s,
        (api.id, "api"),
        start + 40 * 60_000,
        "blocked-group",
        "62 goroutines blocked in semacquire at redis.(*Pool).get",
        Some(&scenario("redis-nested-pool")),
    );
    s.mark_stored(redis, start + 40 * 60_000 + 3000).unwrap();
    s.mark_diagnosed(redis, &diagnosed(&path), start + 40 * 60_000 + 4000)
        .unwrap();

    let (logger, path) = incident(
        &s,
        (api.id, "api"),
        start + 50 * 60_000,
        "goroutines-above-baseline",
        "goroutines 82, baseline 22",
        Some(&scenario("logger-consumer-exited")),
    );
    s.mark_stored(logger, start + 50 * 60_000 + 3000).unwrap();
    s.mark_diagnosed(logger, &diagnosed(&path), start + 50 * 60_000 + 4000)
        .unwrap();

    let (failed, _) = incident(
        &s,
        (worker.id, "worker"),
        start + 57 * 60_000,
        "goroutines-above-baseline",
        "goroutines 90, baseline 40",
        None,
    );
    s.mark_failed(
        failed,
        "taking the debug=2 dump: connection refused (os error 111)",
        start + 57 * 60_000 + 500,
    )
    .unwrap();
    let (capturing, _) = incident(
        &s,
        (worker.id, "worker"),
        start + 58 * 60_000,
        "blocked-group",
        "30 goroutines blocked in chan receive",
        None,
    );

    let (hostile_incident, _) = incident(
        &s,
        (hostile.id, HOSTILE_NAME),
        start + 30 * 60_000,
        "blocked-group<script>window.__pwned=16</script>",
        HOSTILE_DETAIL,
        Some(&repo().join("tests/browser/hostile-dump.txt")),
    );
    s.mark_stored(hostile_incident, start + 30 * 60_000 + 1000)
        .unwrap();

    Demo {
        api: api.id,
        worker: worker.id,
        hostile: hostile.id,
        redis,
        logger,
        failed,
        capturing,
        hostile_incident,
        now: start + 59 * 60_000,
    }
}
