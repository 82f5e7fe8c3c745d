use super::*;

fn sample(at: i64, n: u64) -> Sample {
    Sample {
        at,
        ok: true,
        goroutines: Some(n),
        by_state: vec![("chan receive".into(), n - 1), ("running".into(), 1)],
        close_wait: Some(0),
        poll_ms: Some(3),
        error: None,
    }
}

#[test]
fn samples_round_trip_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let t = s
        .target("api", "http://127.0.0.1:6060/debug/pprof/", 1)
        .unwrap();
    for i in 0..5 {
        s.record_sample(t.id, &sample(1000 + i, 10 + i as u64))
            .unwrap();
    }
    let got = s.samples(t.id, 1002, 100).unwrap();
    assert_eq!(
        got.iter().map(|x| x.at).collect::<Vec<_>>(),
        [1002, 1003, 1004]
    );
    assert_eq!(got[0], sample(1002, 12));
    // The newest ones when over the limit.
    let got = s.samples(t.id, 0, 2).unwrap();
    assert_eq!(got.iter().map(|x| x.at).collect::<Vec<_>>(), [1003, 1004]);
    assert_eq!(s.last_sample(t.id).unwrap().unwrap().at, 1004);
}

#[test]
fn target_is_unique_by_name_and_keeps_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let a = s.target("api", "http://a/", 1).unwrap();
    let b = s.target("api", "http://b/", 2).unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(b.url, "http://b/");
    assert_eq!(b.added_at, 1);
    assert_eq!(s.targets().unwrap().len(), 1);
}

#[test]
fn incident_lifecycle_and_reader_sees_writer() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let t = s.target("api", "http://a/", 1).unwrap();
    let rel = Store::new_bundle_rel("api:6060/x", 1_700_000_000_123);
    assert_eq!(rel, "bundles/api_6060_x/2023-11-14T221320123Z");
    let id = s
        .open_incident(t.id, 5, "blocked-group", "40 goroutines", &rel)
        .unwrap();
    // A reader opened while the writer is live sees committed rows (WAL).
    let r = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(
        r.incidents(None, 10).unwrap()[0].status,
        IncidentStatus::Capturing
    );
    s.mark_stored(id, 6).unwrap();
    s.mark_diagnosed(
        id,
        &Diagnosed {
            top_kind: Some("lock-never-released".into()),
            severity: Some("critical".into()),
            headline: Some("218 goroutines wait".into()),
            diagnosis: "{\"schema\":\"hangdoc.diagnosis/v1\"}".into(),
            src: vec![PathBuf::from("/srv/src/api")],
        },
        7,
    )
    .unwrap();
    let row = r.incident(id).unwrap().unwrap();
    assert_eq!(row.status, IncidentStatus::Diagnosed);
    assert_eq!(row.target, "api");
    assert_eq!(row.src, [PathBuf::from("/srv/src/api")]);
    assert_eq!(row.top_kind.as_deref(), Some("lock-never-released"));
    assert!(row.diagnosis.unwrap().contains("diagnosis/v1"));
    // Listing leaves the JSON out.
    assert_eq!(r.incidents(Some(t.id), 10).unwrap()[0].diagnosis, None);
    assert!(r.incident(id + 1).unwrap().is_none());
}

#[test]
fn recover_fails_incidents_left_capturing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let t = s.target("api", "http://a/", 1).unwrap();
    let a = s
        .open_incident(t.id, 5, "blocked-group", "x", "bundles/api/a")
        .unwrap();
    let b = s
        .open_incident(t.id, 6, "blocked-group", "y", "bundles/api/b")
        .unwrap();
    s.mark_stored(b, 7).unwrap();
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.recover(8).unwrap(), 1);
    let a = s.incident(a).unwrap().unwrap();
    assert_eq!(a.status, IncidentStatus::Failed);
    assert!(a.error.unwrap().contains("stopped while capturing"));
    assert_eq!(
        s.incident(b).unwrap().unwrap().status,
        IncidentStatus::Stored
    );
}

#[test]
fn prune_drops_old_samples_and_oldest_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let t = s.target("api", "http://a/", 1).unwrap();
    s.record_sample(t.id, &sample(1_000, 5)).unwrap();
    s.record_sample(t.id, &sample(100_000, 5)).unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let rel = format!("bundles/api/{i}");
        std::fs::create_dir_all(s.bundle_path(&rel)).unwrap();
        std::fs::write(s.bundle_path(&rel).join("01.txt"), vec![b'x'; 1000]).unwrap();
        let id = s
            .open_incident(t.id, 10 + i, "blocked-group", "x", &rel)
            .unwrap();
        s.mark_stored(id, 11 + i).unwrap();
        ids.push(id);
    }
    let keep = Retention {
        samples: Duration::from_secs(60),
        incidents_per_target: 2,
        bundle_bytes: 1 << 20,
    };
    let removed = s.prune(&keep, 100_000).unwrap();
    assert_eq!(removed, vec![s.bundle_path("bundles/api/0")]);
    assert!(!s.bundle_path("bundles/api/0").exists());
    assert!(s.incident(ids[0]).unwrap().is_none());
    assert_eq!(s.samples(t.id, 0, 10).unwrap().len(), 1);
    // Bytes: only the newest fits in 1500 bytes.
    let keep = Retention {
        bundle_bytes: 1500,
        ..keep
    };
    s.prune(&keep, 100_000).unwrap();
    assert_eq!(s.incidents(None, 10).unwrap().len(), 1);
    assert_eq!(s.incidents(None, 10).unwrap()[0].id, ids[2]);
}

#[test]
fn read_only_open_refuses_a_missing_store_and_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let e = Store::open_read_only(dir.path()).unwrap_err();
    assert!(e.to_string().contains("no watch history here"), "{e}");
    assert!(
        !dir.path().join(DB_FILE).exists(),
        "read-only open created the database"
    );
    {
        let s = Store::open(dir.path()).unwrap();
        s.conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let e = Store::open(dir.path()).unwrap_err();
    assert!(e.to_string().contains("newer hangdoc (schema 99"), "{e}");
}

#[test]
fn baseline_polls_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let s = Store::open(dir.path()).unwrap();
        let t = s.target("api", "http://a/", 1).unwrap();
        assert!(s.baseline(t.id).unwrap().is_empty());
        s.save_baseline(t.id, &[(1, 10), (2, 12)], 3).unwrap();
        s.save_baseline(t.id, &[(2, 12), (4, 11)], 5).unwrap();
        t.id
    };
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.baseline(id).unwrap(), [(2, 12), (4, 11)]);
}

#[test]
fn a_database_without_the_src_column_gains_it_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        // The incidents table as the first release of schema 1 wrote it.
        let c = Connection::open(dir.path().join(DB_FILE)).unwrap();
        c.execute_batch(
            "CREATE TABLE targets (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL, added_at INTEGER NOT NULL);
             CREATE TABLE incidents (id INTEGER PRIMARY KEY, target_id INTEGER NOT NULL, opened_at INTEGER NOT NULL,
               signature TEXT NOT NULL, detail TEXT NOT NULL, bundle TEXT NOT NULL, status TEXT NOT NULL,
               top_kind TEXT, severity TEXT, headline TEXT, diagnosis TEXT, error TEXT, updated_at INTEGER NOT NULL);
             INSERT INTO targets VALUES (1, 'api', 'http://a/', 1);
             INSERT INTO incidents(target_id, opened_at, signature, detail, bundle, status, updated_at)
               VALUES (1, 2, 'blocked-group', 'x', 'bundles/api/a', 'stored', 3);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let s = Store::open(dir.path()).unwrap();
    let old = &s.incidents(None, 10).unwrap()[0];
    assert_eq!(old.src, Vec::<PathBuf>::new());
    s.mark_diagnosed(
        old.id,
        &Diagnosed {
            src: vec![PathBuf::from("/srv/src/api")],
            ..Default::default()
        },
        4,
    )
    .unwrap();
    assert_eq!(
        s.incident(old.id).unwrap().unwrap().src,
        [PathBuf::from("/srv/src/api")]
    );
}
