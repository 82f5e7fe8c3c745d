//! `diagnose --format markdown` read back with a CommonMark renderer (tables on, as on
//! GitHub and GitLab): the structure a reader of the ticket sees, and that text from the
//! evidence can neither break it nor inject HTML.

use std::path::PathBuf;

use hangdoc::diagnose::{
    self, Diagnosis, Finding, FrameRef, Resource, Severity, SourceSnippet, Victim,
};
use hangdoc::parse;
use hangdoc::report::diagnosis_markdown;
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn render(d: &Diagnosis, snaps: &[hangdoc::model::Snapshot]) -> String {
    let mut out = Vec::new();
    diagnosis_markdown::write(&mut out, d, snaps).unwrap();
    String::from_utf8(out).unwrap()
}

fn events(md: &str) -> Vec<Event<'_>> {
    Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).collect()
}

/// The raw HTML in the document: only the folding tags hangdoc writes may appear.
fn assert_only_details_html(md: &str) {
    for e in events(md) {
        if let Event::Html(h) | Event::InlineHtml(h) = e {
            for line in h.lines().filter(|l| !l.trim().is_empty()) {
                let ok = line == "</details>"
                    || (line.starts_with("<details><summary>")
                        && line.ends_with("</summary>")
                        && !line["<details><summary>".len()..line.len() - "</summary>".len()]
                            .contains(['<', '>']));
                assert!(ok, "unexpected HTML `{line}` in\n{md}");
            }
        }
    }
}

/// Tables as rows of cells, each cell its text and code concatenated.
fn tables(md: &str) -> Vec<Vec<Vec<String>>> {
    let mut all = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut cell: Option<String> = None;
    for e in events(md) {
        match e {
            Event::Start(Tag::Table(_)) => rows.clear(),
            Event::End(TagEnd::Table) => all.push(std::mem::take(&mut rows)),
            Event::Start(Tag::TableHead | Tag::TableRow) => rows.push(Vec::new()),
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                if let (Some(c), Some(r)) = (cell.take(), rows.last_mut()) {
                    r.push(c);
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = &mut cell {
                    c.push_str(&t);
                }
            }
            _ => {}
        }
    }
    all
}

fn code_blocks(md: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for e in events(md) {
        match e {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(l))) if &*l == lang => {
                cur = Some(String::new())
            }
            Event::Text(t) => {
                if let Some(c) = &mut cur {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(cur.take()),
            _ => {}
        }
    }
    out
}

#[test]
fn an_incident_reads_as_headline_table_why_and_go_source() {
    let name = "redis-nested-pool";
    let dir = root().join("tests/fixtures/scenarios").join(name);
    let snaps = parse::load(
        &[dir.to_string_lossy().into_owned()],
        &parse::Options::default(),
    )
    .unwrap();
    let src = root().join("scenarios/incidents").join(name);
    let d = diagnose::diagnose(&snaps, &diagnose::Options { src: vec![src] });
    let md = render(&d, &snaps);
    assert_only_details_html(&md);

    let ev = events(&md);
    assert!(
        matches!(
            ev[0],
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2,
                ..
            })
        ),
        "starts with a headline: {md}"
    );
    let headline = md.lines().next().unwrap();
    assert!(headline.contains("1 critical"), "{headline}");

    let f = &d.findings[0];
    let t = tables(&md);
    let victims = &t[0];
    assert_eq!(victims[0][..3], ["goroutines", "blocked in", "at"]);
    assert_eq!(victims.len() - 1, f.victims.len().min(10));
    assert_eq!(victims[1][0], f.victims[0].goroutines.to_string());
    assert_eq!(victims[1][1], f.victims[0].function);

    let fix = md.lines().find(|l| l.starts_with("**Fix here:**")).unwrap();
    assert!(
        fix.contains(&format!("inbox.go:{}`", f.root[0].line)),
        "{fix}"
    );

    let go = code_blocks(&md, "go");
    assert_eq!(go.len(), f.source.len());
    let focus = go[0].lines().find(|l| l.starts_with('>')).unwrap();
    assert!(
        focus.contains(&f.source[0].focus_line.to_string()),
        "{focus}"
    );
    assert!(focus.contains("s.DropMessage"), "{focus}");

    // The long evidence is folded: the victims' stacks and the stack groups.
    assert!(md.contains("<details><summary>Stacks of the blocked goroutines"));
    assert!(md.contains("<details><summary>All 11 stack groups"));
    let stacks = code_blocks(&md, "text");
    assert!(stacks.iter().any(|s| s.contains("(*Pool).waitVacantConn")));
}

/// Hand-written: a finding whose every string carries Markdown and HTML meant to break
/// the report.
fn hostile() -> Diagnosis {
    let func = "main.(*T|x).`Run`<script>alert(1)</script>";
    Diagnosis {
        inputs: vec![],
        goroutines: 3,
        diagnosed: None,
        findings: vec![Finding {
            kind: "lock-cycle",
            severity: Severity::Critical,
            confidence: 0.5,
            title: "# <img src=x onerror=alert(1)> *all* | stuck [x](javascript:y)".into(),
            goroutines: 3,
            root: vec![FrameRef {
                function: func.into(),
                file: "/src/a|b`c.go".into(),
                line: 7,
            }],
            victims: vec![Victim {
                function: func.into(),
                file: "/src/a|b.go".into(),
                line: 9,
                goroutines: 3,
                wait_minutes: Some(5),
            }],
            resource: Some(Resource {
                kind: "mutex".into(),
                address: Some("0x1`|".into()),
                name: Some("<b>bold</b>".into()),
            }),
            evidence: vec![
                "- [link](javascript:x) `code` & <b>".into(),
                "1. not a list\u{1b}[31m".into(),
                "</details><script>x</script>".into(),
            ],
            advice: "```\n<details>".into(),
            source: vec![SourceSnippet {
                path: "/src/a|b`c.go".into(),
                first_line: 6,
                focus_line: 7,
                lines: vec!["```".into(), "\tx := \"</details>\" // <b>".into()],
                note: None,
            }],
        }],
        notes: vec!["<!-- hide the rest".into()],
        warnings: vec!["line 3: <i>garbled</i> | ```".into()],
    }
}

#[test]
fn hostile_text_cannot_break_the_table_or_inject_html() {
    let d = hostile();
    let md = render(&d, &[]);
    assert_only_details_html(&md);
    let func = &d.findings[0].victims[0].function;

    let t = tables(&md);
    let victims = &t[0];
    assert_eq!(victims.len(), 2, "header and one row: {md}");
    assert!(victims.iter().all(|r| r.len() == 4), "{victims:?}");
    assert_eq!(&victims[1][1], func, "the cell shows the name verbatim");
    assert_eq!(victims[1][2], "/src/a|b.go:9");

    for e in events(&md) {
        assert!(
            !matches!(e, Event::Start(Tag::Link { .. } | Tag::Image { .. })),
            "{e:?} in\n{md}"
        );
    }
    // One heading per finding plus the headline, and the title stays inside its heading.
    let headings = events(&md)
        .iter()
        .filter(|e| matches!(e, Event::Start(Tag::Heading { .. })))
        .count();
    assert_eq!(headings, 2, "{md}");
    // The why list has exactly its three items.
    let items = events(&md)
        .iter()
        .filter(|e| matches!(e, Event::Start(Tag::Item)))
        .count();
    assert_eq!(items, 3 + 1 + 1, "why, notes, warnings: {md}");

    let go = code_blocks(&md, "go");
    assert_eq!(go.len(), 1, "{md}");
    assert!(go[0].contains("```"), "the fence outlasts the code");
    assert!(go[0].contains("</details>"));
    assert!(!md.contains('\u{1b}'));
}
