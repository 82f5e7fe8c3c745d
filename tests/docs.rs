//! The docs that are generated from the code must match it. Regenerate with
//! `HANGDOC_UPDATE_DOCS=1 cargo test --test docs`.

#[test]
fn detectors_doc_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/detectors.md");
    let want = hangdoc::diagnose::docs_markdown();
    if std::env::var_os("HANGDOC_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/detectors.md is out of date: run HANGDOC_UPDATE_DOCS=1 cargo test --test docs"
    );
}

#[test]
fn every_contract_kind_has_a_detector() {
    let kinds = hangdoc::diagnose::kinds();
    for k in [
        "lock-never-released",
        "lock-held-by-blocked-goroutine",
        "lock-cycle",
        "chan-send-no-receiver",
        "chan-recv-no-sender",
        "waitgroup-never-done",
        "cond-never-signaled",
        "pool-exhausted-leak",
        "pool-nested-acquire-deadlock",
        "io-without-deadline",
        "goroutine-growth",
        "global-deadlock",
    ] {
        assert!(kinds.contains(&k), "no detector for {k}");
        assert!(
            hangdoc::diagnose::by_kind(k)
                .unwrap()
                .doc()
                .contains("**Fix.**"),
            "{k} has no Fix section"
        );
    }
}
