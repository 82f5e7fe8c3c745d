//! The acceptance test: every captured scenario (a real Go program that really hangs, or a
//! healthy control) is diagnosed from its fixture directory, and the top finding must have
//! the kind and name the root function the scenario's `expect.json` states.
//!
//! Layout: `scenarios/<family>/<name>/` is the program, with its `expect.json`; its captured
//! evidence (`debug2.txt`, `debug1.txt`, `goroutine.pb.gz`, `ss.txt`, `series/NN.txt`) is in
//! `tests/fixtures/scenarios/<name>/`. The program's directory is given to `--src`.

use std::path::{Path, PathBuf};

use hangdoc::diagnose::{self, Severity};
use hangdoc::parse;
use serde::Deserialize;

#[derive(Deserialize)]
struct Expect {
    name: String,
    healthy: bool,
    top_kind: Option<String>,
    root_function: Option<String>,
    #[serde(default)]
    also_acceptable_kinds: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (expect.json, fixture directory) for every scenario program under `scenarios/<family>/`;
/// the fixtures come from `HANGDOC_SCENARIO_FIXTURES` (a live capture) or the committed ones.
fn scenarios() -> Vec<(PathBuf, PathBuf)> {
    let base = std::env::var_os("HANGDOC_SCENARIO_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("tests/fixtures/scenarios"));
    let mut out = Vec::new();
    for family in std::fs::read_dir(root().join("scenarios"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for prog in std::fs::read_dir(family.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let expect = prog.path().join("expect.json");
            if expect.is_file() {
                out.push((expect, base.join(prog.file_name())));
            }
        }
    }
    out.sort();
    out
}

fn source_dir(expect: &Path) -> PathBuf {
    expect.parent().unwrap().to_path_buf()
}

fn check(expect_path: &Path, inputs: Vec<String>, with_src: bool) -> Result<String, String> {
    let expect: Expect =
        serde_json::from_str(&std::fs::read_to_string(expect_path).unwrap()).unwrap();
    let snaps = parse::load(&inputs, &parse::Options::default())
        .map_err(|e| format!("{}: {e}", expect.name))?;
    let src = if with_src {
        vec![source_dir(expect_path)]
    } else {
        vec![]
    };
    let d = diagnose::diagnose(&snaps, &diagnose::Options { src });
    let serious: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    if expect.healthy {
        return match serious.first() {
            None => Ok(format!("{}: healthy, no warning", expect.name)),
            Some(f) => Err(format!(
                "{}: healthy control, but got {} {}: {}",
                expect.name,
                f.severity.name(),
                f.kind,
                f.title
            )),
        };
    }
    let want = expect.top_kind.clone().unwrap_or_default();
    let Some(top) = serious.first() else {
        return Err(format!(
            "{}: expected {want}, got no warning or critical finding ({} findings)",
            expect.name,
            d.findings.len()
        ));
    };
    if top.kind != want && !expect.also_acceptable_kinds.iter().any(|k| k == top.kind) {
        return Err(format!(
            "{}: expected {want}, got {} — {}",
            expect.name, top.kind, top.title
        ));
    }
    let roots: Vec<&str> = top.root.iter().map(|r| r.function.as_str()).collect();
    // Without source, a root function that appears on no stack at all (a function that
    // returned without unlocking, say) cannot be named; it can with --src.
    let visible = |f: &str| {
        snaps.iter().any(|s| {
            s.stacks
                .iter()
                .any(|st| st.frames.iter().any(|fr| &*fr.function == f))
                || s.creators.iter().any(|c| &*c.function == f)
        })
    };
    if let Some(rf) = expect
        .root_function
        .as_ref()
        .filter(|rf| with_src || visible(rf))
    {
        if !roots.contains(&rf.as_str()) {
            return Err(format!(
                "{}: {} found, but root {:?} does not name {rf}",
                expect.name, top.kind, roots
            ));
        }
    }
    Ok(format!(
        "{}: {} naming {:?}",
        expect.name,
        top.kind,
        roots.first()
    ))
}

fn run_all(inputs_of: impl Fn(&Path) -> Vec<String>, with_src: bool) {
    let all = scenarios();
    assert!(!all.is_empty(), "no scenarios found");
    let mut failures = Vec::new();
    for (expect, dir) in &all {
        if !dir.is_dir() {
            failures.push(format!(
                "{}: no captured fixture at {}",
                expect.display(),
                dir.display()
            ));
            continue;
        }
        match check(expect, inputs_of(dir), with_src) {
            Ok(line) => eprintln!("ok   {line}"),
            Err(line) => {
                eprintln!("FAIL {line}");
                failures.push(line);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios misdiagnosed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// The whole bundle (dumps, socket table, series) with the program's source.
#[test]
fn every_scenario_bundle_is_diagnosed_with_source() {
    run_all(|dir| vec![dir.to_string_lossy().into_owned()], true);
}

/// The same bundle without source: the kind and root must come from the evidence alone.
#[test]
fn every_scenario_bundle_is_diagnosed_from_evidence_alone() {
    run_all(|dir| vec![dir.to_string_lossy().into_owned()], false);
}
