//! The matrix: every detector over every fixture, and every report format of every scenario,
//! snapshot-tested. A change in what hangdoc says about any captured evidence shows up here
//! as a snapshot diff to review (`cargo insta review`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use hangdoc::diagnose::{self, Context, DETECTORS};
use hangdoc::model::{Format, Snapshot};
use hangdoc::parse;
use hangdoc::report::{diagnosis_json, diagnosis_markdown, diagnosis_text, style::Style};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every evidence file under the fixtures, except scenario bundles (handled as directories).
fn evidence_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            if name != "scenarios" {
                evidence_files(&p, out);
            }
        } else if !name.ends_with(".json") && !name.ends_with(".md") && !name.starts_with('.') {
            out.push(p);
        }
    }
}

fn snapshot_name(p: &Path) -> String {
    p.strip_prefix(fixtures())
        .unwrap()
        .to_string_lossy()
        .replace(['/', '.'], "_")
}

/// What each detector finds on its own, one line per finding.
fn per_detector(snaps: &[Snapshot]) -> String {
    let mut out = String::new();
    let dumps: Vec<&Snapshot> = snaps
        .iter()
        .filter(|s| s.format != Some(Format::Sockets))
        .collect();
    let Some(primary) = dumps
        .iter()
        .rev()
        .find(|s| s.format.is_some_and(|f| f.is_per_goroutine()))
        .or(dumps.last())
    else {
        return "no goroutine evidence\n".into();
    };
    let sockets = snaps.iter().flat_map(|s| s.sockets.iter()).collect();
    let series = diagnose::series::analyse(
        &dumps
            .iter()
            .filter(|s| s.format == primary.format)
            .copied()
            .collect::<Vec<_>>(),
    );
    let cx = Context::new(primary, sockets, series);
    for d in DETECTORS {
        let mut fs = d.check(&cx);
        diagnose::rank(&mut fs);
        for f in fs {
            let root = f
                .root
                .first()
                .map(|r| format!("{}:{}", r.function, r.line))
                .unwrap_or_default();
            writeln!(
                out,
                "{:<32} {:<8} {:>6}  {}  [{}]",
                d.kind(),
                f.severity.name(),
                f.goroutines,
                f.title,
                root
            )
            .unwrap();
        }
    }
    if out.is_empty() {
        out.push_str("no findings\n");
    }
    out
}

#[test]
fn every_detector_over_every_format_fixture() {
    let mut files = Vec::new();
    evidence_files(&fixtures(), &mut files);
    assert!(!files.is_empty());
    for f in files {
        let snap = match parse::parse_path(&f.to_string_lossy(), &parse::Options::default()) {
            Ok(s) => s,
            // Fixtures of bad input are tested by the parser tests.
            Err(_) => continue,
        };
        insta::assert_snapshot!(
            format!("detectors__{}", snapshot_name(&f)),
            per_detector(&[snap])
        );
    }
}

#[test]
fn every_report_of_every_scenario() {
    let base = fixtures().join("scenarios");
    let Ok(rd) = std::fs::read_dir(&base) else {
        return;
    };
    let mut dirs: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let snaps = parse::load(
            &[dir.to_string_lossy().into_owned()],
            &parse::Options::default(),
        )
        .unwrap();
        insta::assert_snapshot!(format!("detectors__scenario_{name}"), per_detector(&snaps));
        let mut d = diagnose::diagnose(&snaps, &diagnose::Options::default());
        // Paths in reports are the fixture paths: make them independent of the checkout.
        let prefix = format!(
            "{}/",
            fixtures().parent().unwrap().parent().unwrap().display()
        );
        for i in &mut d.inputs {
            i.source = i.source.replace(&prefix, "");
        }
        for w in &mut d.warnings {
            *w = w.replace(&prefix, "");
        }
        for n in &mut d.notes {
            *n = n.replace(&prefix, "");
        }
        let mut text = Vec::new();
        diagnosis_text::write(
            &mut text,
            &d,
            &diagnosis_text::TextOptions {
                style: Style { color: false },
                width: 100,
                all: true,
            },
        )
        .unwrap();
        insta::assert_snapshot!(format!("text__{name}"), String::from_utf8(text).unwrap());
        let mut md = Vec::new();
        diagnosis_markdown::write(&mut md, &d, &snaps).unwrap();
        insta::assert_snapshot!(format!("markdown__{name}"), String::from_utf8(md).unwrap());
        let mut json = Vec::new();
        diagnosis_json::write(&mut json, &d).unwrap();
        insta::assert_snapshot!(format!("json__{name}"), String::from_utf8(json).unwrap());
    }
}
