//! The HTML report of the captured scenarios: the findings part of every scenario's page is
//! snapshot-tested (what a reader sees first), and one page is checked whole for its parts.

use std::path::PathBuf;

use hangdoc::diagnose;
use hangdoc::model::{GroupLevel, group};
use hangdoc::parse;
use hangdoc::report::diagnosis_html;

fn scenarios() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios")
}

/// The page of a scenario bundle, with the fixture paths made independent of the checkout.
fn page(name: &str, src: &[&str]) -> (String, Vec<hangdoc::model::Snapshot>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = format!("tests/fixtures/scenarios/{name}");
    let snaps = parse::load(
        &[root.join(&dir).to_string_lossy().into_owned()],
        &parse::Options::default(),
    )
    .unwrap();
    let opts = diagnose::Options {
        src: src.iter().map(|s| root.join(s)).collect(),
    };
    let d = diagnose::diagnose(&snaps, &opts);
    let mut out = Vec::new();
    diagnosis_html::write(&mut out, &d, &snaps).unwrap();
    let prefix = format!("{}/", root.display());
    let html = String::from_utf8(out).unwrap().replace(&prefix, "");
    (html, snaps)
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s.find(start).unwrap_or_else(|| panic!("no {start}"));
    let j = i + s[i..]
        .find(end)
        .unwrap_or_else(|| panic!("no {end} after {start}"));
    &s[i..j]
}

#[test]
fn findings_of_every_scenario() {
    let mut dirs: Vec<String> = std::fs::read_dir(scenarios())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for name in dirs {
        let (html, _) = page(&name, &[]);
        let findings = between(&html, "<section id=\"findings\">", "</section>");
        insta::assert_snapshot!(format!("html_findings__{name}"), findings);
    }
}

#[test]
fn redis_nested_pool_page_shows_cause_line_and_every_part() {
    let (html, snaps) = page("redis-nested-pool", &["scenarios/incidents"]);
    // First thing in the page: the finding, the line to fix and its source.
    let first = between(&html, "<article", "</article>");
    assert!(first.contains("<span class=\"badge\">CRITICAL</span> <code class=\"kind\">pool-nested-acquire-deadlock</code>"));
    assert!(first.contains("<span class=\"label\">Fix here</span> <code class=\"fn\">main.(*InboxStore).ListUnacked</code> <code class=\"loc\">hangdoc.test/scenarios/incidents/redis-nested-pool/inbox.go:30</code>"));
    assert!(first.contains("<span class=\"line focus\"><span class=\"ln\">30</span>\t\t\tif err := s.DropMessage(user, id); err != nil {</span>"));
    assert!(
        first
            .contains("<td class=\"num\">167</td><td><code title=\"main.(*PresenceStore).Touch\">")
    );
    // The chain: four victim stacks wait for the pool, held at the two blamed lines.
    let chain = between(first, "<svg class=\"chain-svg\"", "</svg>");
    assert_eq!(chain.matches("class=\"node victim\"").count(), 4);
    assert_eq!(chain.matches("class=\"node resource\"").count(), 1);
    assert_eq!(chain.matches("class=\"node root\"").count(), 2);
    assert!(chain.contains(">167 goroutines</text>"));
    assert!(chain.contains(">redigo connection pool</text>"));

    // The groups of the snapshot diagnosed (the last of the series), every one listed.
    let d = diagnose::diagnose(&snaps, &diagnose::Options::default());
    let primary = &snaps[d.diagnosed.unwrap()];
    let groups = group(primary, GroupLevel::Lines);
    let section = between(&html, "<section id=\"groups\">", "</section>");
    assert_eq!(
        section.matches("<details class=\"group").count(),
        groups.len()
    );
    assert!(section.contains(&format!(
        "data-state=\"{}\" data-count=\"{}\"",
        groups[0].state.raw, groups[0].count
    )));
    assert!(section.contains("<details class=\"group blamed\""));

    // The flame graph covers every goroutine of that snapshot and marks the blamed function.
    let flame = between(&html, "<svg id=\"flame-svg\"", "</svg>");
    assert!(flame.contains(&format!(
        "<title>all goroutines — {} goroutines (100.0%)</title>",
        primary.goroutine_count()
    )));
    assert!(flame.contains("data-n=\"main.(*InboxStore).ListUnacked\""));
    assert!(flame.contains("fill=\"#d93025\""));

    // Sockets: the service's own connections to redis are outbound to the redis port.
    let sockets = between(&html, "<section id=\"sockets\">", "</section>");
    assert!(
        sockets
            .contains("<tr><td>outbound</td><td class=\"num\">55497</td><td>notify-gateway</td>")
    );
}
