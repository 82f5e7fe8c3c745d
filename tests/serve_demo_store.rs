//! Writes the demo watch history (see `tests/serve_support/mod.rs`) that the browser test and
//! the screenshots in the docs use:
//!
//! ```text
//! HANGDOC_DEMO_STORE=/tmp/demo-store cargo test --test serve_demo_store
//! hangdoc serve --store /tmp/demo-store tests/fixtures/scenarios/redis-nested-pool
//! ```
//!
//! Without the variable the history goes to a temporary directory; either way it is then
//! opened read-only and checked, so the demo cannot silently drift from the store's format.

mod serve_support;

use hangdoc::watch::store::{IncidentStatus, Store};

#[test]
fn demo_store_is_written_and_reads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var_os("HANGDOC_DEMO_STORE") {
        Some(d) => {
            let d = std::path::PathBuf::from(d);
            if d.exists() {
                std::fs::remove_dir_all(&d).unwrap();
            }
            d
        }
        None => tmp.path().join("store"),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let demo = serve_support::build(&dir, now);
    let s = Store::open_read_only(&dir).unwrap();
    assert_eq!(s.targets().unwrap().len(), 3);
    assert_eq!(s.samples(demo.api, i64::MIN, 1000).unwrap().len(), 60);
    let statuses: Vec<IncidentStatus> = s
        .incidents(None, 100)
        .unwrap()
        .iter()
        .map(|i| i.status)
        .collect();
    for st in [
        IncidentStatus::Capturing,
        IncidentStatus::Stored,
        IncidentStatus::Diagnosed,
        IncidentStatus::Failed,
    ] {
        assert!(statuses.contains(&st), "no {st:?} incident in {statuses:?}");
    }
    let redis = s.incident(demo.redis).unwrap().unwrap();
    assert_eq!(
        redis.top_kind.as_deref(),
        Some("pool-nested-acquire-deadlock")
    );
    assert!(s.bundle_path(&redis.bundle).join("series/03.txt").is_file());
}
