//! Checks one captured dump against the `*.expect.json` written beside it by the program that
//! produced it (tests/fixtures/README.md documents the fields). Shared by the committed-fixture
//! test and the live-fixture test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hangdoc::model::{Frame, GFlags, Snapshot, Stack};
use hangdoc::parse::{Options, parse_path};

/// One `*.expect.json`.
#[derive(Debug, serde::Deserialize)]
pub struct Expect {
    pub file: String,
    pub format: String,
    pub go: String,
    pub goroutines: u64,
    pub goroutines_exact: bool,
    #[serde(default)]
    pub goroutines_at_most: Option<u64>,
    pub labels_in_dump: bool,
    #[serde(default)]
    pub preamble: Option<String>,
    #[serde(default)]
    pub truncated: bool,
    pub categories: Vec<Category>,
}

/// A group of goroutines the program started, found by a function in their stacks.
#[derive(Debug, serde::Deserialize)]
pub struct Category {
    pub function: String,
    pub count: i64,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub leaked: bool,
    #[serde(default)]
    pub inlined: bool,
    #[serde(default)]
    pub elided: bool,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub parent_function: Option<String>,
    #[serde(default)]
    pub ancestor_functions: Vec<String>,
    #[serde(default)]
    pub min_wait_minutes: u32,
}

/// Every `*.expect.json` under `dir`, sorted.
pub fn expectations(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.to_string_lossy().ends_with(".expect.json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Generic brackets elided the way tracebacks print them: each top-level `[…]` becomes
/// `[...]`, so `main.(*Box[go.shape.int]).Wait` and `main.(*Box[...]).Wait` compare equal.
pub fn normalise(function: &str) -> String {
    let mut out = String::with_capacity(function.len());
    let mut depth = 0u32;
    for ch in function.chars() {
        match ch {
            '[' => {
                if depth == 0 {
                    out.push_str("[...]");
                }
                depth += 1;
            }
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out
}

fn has(stack: &Stack, function: &str) -> bool {
    stack
        .frames
        .iter()
        .any(|f| normalise(&f.function) == function)
}

fn inlined(stack: &Stack, function: &str) -> bool {
    stack
        .frames
        .iter()
        .any(|f: &Frame| f.inlined && normalise(&f.function) == function)
}

fn labels_map(snap: &Snapshot, id: u32) -> BTreeMap<String, String> {
    snap.labels(id)
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Parses the fixture named by `expect_path` and returns what does not match, one message
/// per mismatch (empty when all is as expected).
pub fn check(expect_path: &Path) -> Vec<String> {
    let mut errs = Vec::new();
    let e: Expect = match std::fs::read_to_string(expect_path)
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
    {
        Ok(e) => e,
        Err(err) => return vec![format!("unreadable expectation: {err}")],
    };
    let fixture = expect_path.with_file_name(&e.file);
    let snap = match parse_path(&fixture.to_string_lossy(), &Options::default()) {
        Ok(s) => s,
        Err(err) => return vec![format!("parse error (Go {}): {err}", e.go)],
    };
    let mut fail = |m: String| errs.push(m);

    let format = snap.format.map(|f| f.name()).unwrap_or("none");
    if format != e.format {
        fail(format!("format {format}, expected {}", e.format));
    }
    let n = snap.goroutine_count();
    if let Some(most) = e.goroutines_at_most {
        if n < 1 || n > most {
            fail(format!("{n} goroutines, expected 1..={most}"));
        }
    } else if (e.goroutines_exact && n != e.goroutines) || n < e.goroutines {
        let rel = if e.goroutines_exact { "" } else { ">= " };
        fail(format!("{n} goroutines, expected {rel}{}", e.goroutines));
    }
    if e.truncated && snap.warnings.is_empty() {
        fail("truncated dump read without a warning".into());
    }
    if let Some(p) = &e.preamble {
        if !snap
            .preamble
            .first()
            .is_some_and(|l| l.starts_with(p.as_str()))
        {
            fail(format!(
                "preamble {:?}, expected to start with {p:?}",
                snap.preamble
            ));
        }
    }
    if snap.format.is_some_and(|f| f.is_per_goroutine()) {
        check_goroutines(&e, &snap, &mut fail);
    } else {
        check_records(&e, &snap, &mut fail);
    }
    errs
}

fn check_goroutines(e: &Expect, snap: &Snapshot, fail: &mut impl FnMut(String)) {
    if !e.labels_in_dump && snap.goroutines.iter().any(|g| g.labels != 0) {
        fail("labels found in a dump that has none".into());
    }
    for c in &e.categories {
        let f = c.function.as_str();
        let hits: Vec<_> = snap
            .goroutines
            .iter()
            .filter(|g| has(snap.stack(g), f))
            .collect();
        if hits.len() as i64 != c.count {
            fail(format!(
                "{f}: {} goroutines, expected {}",
                hits.len(),
                c.count
            ));
        }
        for g in hits {
            let at = format!("{f} (goroutine {})", g.id);
            let state = &snap.state(g).raw;
            if let Some(want) = &c.state {
                if &**state != want.as_str() {
                    fail(format!("{at}: state {state:?}, expected {want:?}"));
                }
            }
            if let Some(want) = &c.labels {
                let got = labels_map(snap, g.labels);
                if &got != want {
                    fail(format!("{at}: labels {got:?}, expected {want:?}"));
                }
            }
            if c.locked && !g.flags.has(GFlags::LOCKED) {
                fail(format!("{at}: not marked locked to thread"));
            }
            if c.leaked && !g.flags.has(GFlags::LEAKED) {
                fail(format!("{at}: not marked leaked"));
            }
            if c.inlined && !inlined(snap.stack(g), f) {
                fail(format!("{at}: frame not marked inlined"));
            }
            if c.elided && snap.stack(g).elided.is_none() {
                fail(format!("{at}: elided frames not recorded"));
            }
            if let Some(want) = &c.created_by {
                let got = snap.creator(g).map(|fr| normalise(&fr.function));
                if got.as_deref() != Some(want.as_str()) {
                    fail(format!("{at}: created by {got:?}, expected {want}"));
                }
            }
            if let Some(want) = &c.parent_function {
                let parent = g
                    .parent
                    .and_then(|id| snap.goroutines.iter().find(|p| p.id == id));
                if !parent.is_some_and(|p| has(snap.stack(p), want)) {
                    fail(format!("{at}: parent {:?} does not run {want}", g.parent));
                }
            }
            for want in &c.ancestor_functions {
                let found = snap.ancestors(g).iter().any(|a| {
                    snap.stacks
                        .get(a.stack as usize)
                        .is_some_and(|s| has(s, want))
                });
                if !found {
                    fail(format!("{at}: no ancestor section runs {want}"));
                }
            }
            if c.min_wait_minutes > 0 && g.wait_minutes.unwrap_or(0) < c.min_wait_minutes {
                fail(format!(
                    "{at}: waited {:?} minutes, expected >= {}",
                    g.wait_minutes, c.min_wait_minutes
                ));
            }
        }
    }
}

fn check_records(e: &Expect, snap: &Snapshot, fail: &mut impl FnMut(String)) {
    if !e.labels_in_dump && snap.records.iter().any(|r| r.labels != 0) {
        fail("labels found in a profile that has none".into());
    }
    for c in &e.categories {
        let f = c.function.as_str();
        let hits: Vec<_> = snap
            .records
            .iter()
            .filter(|r| snap.stacks.get(r.stack as usize).is_some_and(|s| has(s, f)))
            .collect();
        let n: i64 = hits.iter().map(|r| r.count).sum();
        if n != c.count {
            fail(format!("{f}: {n} goroutines, expected {}", c.count));
        }
        for r in hits {
            if let Some(want) = &c.labels {
                let got = labels_map(snap, r.labels);
                if &got != want {
                    fail(format!("{f}: labels {got:?}, expected {want:?}"));
                }
            }
            let stack = &snap.stacks[r.stack as usize];
            if c.inlined && !inlined(stack, f) {
                fail(format!("{f}: frame not marked inlined"));
            }
        }
    }
}

/// Checks every expectation under `dir`; panics listing all mismatches.
pub fn check_all(dir: &Path) -> usize {
    let files = expectations(dir);
    let mut report = String::new();
    for p in &files {
        let errs = check(p);
        if !errs.is_empty() {
            report.push_str(&format!("\n{}:\n", p.display()));
            for err in errs.iter().take(12) {
                report.push_str(&format!("    {err}\n"));
            }
        }
    }
    assert!(
        report.is_empty(),
        "fixtures that do not match their expectations:{report}"
    );
    files.len()
}
