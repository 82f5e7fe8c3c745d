//! The HTML report of hand-built evidence: structure, and that hostile evidence text stays
//! text.

use super::*;
use crate::diagnose::{FrameRef, InputSummary, Resource, SourceSnippet, Victim};
use crate::model::{
    Endpoint, Format, GFlags, Goroutine, NONE, Socket, Stack, TcpState, group::group as groups,
};
use crate::model::{GroupLevel, SnapshotBuilder};

const HOSTILE: &str = "</script><img src=x onerror=alert(1)>";

/// Hand-built: two goroutines whose label, function, file, state and creator are all hostile,
/// and one blocked in a plain mutex wait, plus a socket table.
fn snapshots(evil: &str) -> Vec<Snapshot> {
    let mut b = SnapshotBuilder::new("dump.txt", Format::Traceback);
    let frames = vec![
        b.frame(
            "sync.(*Mutex).Lock",
            "/usr/local/go/src/sync/mutex.go",
            81,
            false,
        ),
        b.frame(
            &format!("main.{evil}"),
            &format!("/src/{evil}.go"),
            30,
            false,
        ),
        b.frame("main.handle", "/src/app/main.go", 12, false),
    ];
    let hostile = b.stack(Stack {
        frames,
        elided: None,
    });
    let frames = vec![
        b.frame(
            "sync.(*Mutex).Lock",
            "/usr/local/go/src/sync/mutex.go",
            81,
            false,
        ),
        b.frame("main.handle", "/src/app/main.go", 40, false),
    ];
    let plain = b.stack(Stack {
        frames,
        elided: None,
    });
    let evil_state = b.state_str(evil);
    let mutex = b.state_str("sync.Mutex.Lock");
    let labels = b.labels(vec![(evil.into(), evil.into())]);
    let creator = b.frame(&format!("main.{evil}"), "/src/app/main.go", 9, false);
    let creator = b.creator(creator);
    for (id, stack, state, labels, minutes) in [
        (1, hostile, evil_state, labels, Some(12)),
        (2, hostile, evil_state, labels, Some(14)),
        (3, plain, mutex, 0, None),
    ] {
        b.snap().goroutines.push(Goroutine {
            id,
            parent: None,
            wait_minutes: minutes,
            stack,
            args: NONE,
            labels,
            creator,
            ancestors: NONE,
            state,
            flags: GFlags::default(),
        });
    }
    let dump = b.finish();
    let mut table = Snapshot::new("ss.txt", Format::Sockets);
    let ep = |port| Endpoint { ip: None, port };
    for (state, local, remote) in [
        (TcpState::Listen, 8080, 0),
        (TcpState::CloseWait, 8080, 50000),
        (TcpState::Established, 41000, 6379),
        (TcpState::Established, 41001, 6379),
    ] {
        table.sockets.push(Socket {
            state,
            local: ep(local),
            remote: ep(remote),
            recv_q: 0,
            send_q: 0,
            pid: None,
            process: Some(evil.into()),
        });
    }
    vec![dump, table]
}

fn diagnosis(evil: &str) -> Diagnosis {
    let root = FrameRef {
        function: format!("main.{evil}"),
        file: format!("/src/{evil}.go"),
        line: 30,
    };
    Diagnosis {
        inputs: vec![
            InputSummary {
                source: "dump.txt".into(),
                format: "goroutine-debug2",
                goroutines: 3,
                sockets: None,
            },
            InputSummary {
                source: format!("{evil}.txt"),
                format: "sockets",
                goroutines: 0,
                sockets: Some(4),
            },
        ],
        goroutines: 3,
        diagnosed: Some(0),
        findings: vec![Finding {
            kind: "lock-never-released",
            severity: Severity::Critical,
            confidence: 0.9,
            title: format!("a lock {evil} is never released"),
            goroutines: 3,
            root: vec![root],
            victims: vec![
                Victim {
                    function: "main.handle".into(),
                    file: "/src/app/main.go".into(),
                    line: 40,
                    goroutines: 1,
                    wait_minutes: None,
                },
                Victim {
                    function: format!("main.{evil}"),
                    file: format!("/src/{evil}.go"),
                    line: 30,
                    goroutines: 2,
                    wait_minutes: Some(14),
                },
            ],
            resource: Some(Resource {
                kind: "mutex".into(),
                address: Some(evil.into()),
                name: Some(evil.into()),
            }),
            evidence: vec![format!("evidence {evil}")],
            advice: format!("advice {evil}"),
            source: vec![SourceSnippet {
                path: format!("/src/{evil}.go"),
                first_line: 29,
                focus_line: 30,
                lines: vec![format!("// {evil}"), format!("mu.Lock() // {evil}")],
                note: Some(evil.into()),
            }],
        }],
        notes: vec![evil.into()],
        warnings: vec![evil.into()],
    }
}

fn render(d: &Diagnosis, snaps: &[Snapshot]) -> String {
    let mut out = Vec::new();
    write(&mut out, d, snaps).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn hostile_evidence_text_never_becomes_markup_or_script() {
    let html = render(&diagnosis(HOSTILE), &snapshots(HOSTILE));
    assert!(
        !html.contains("<img"),
        "an evidence string became an element"
    );
    // Exactly the page's own two script elements: the JSON data and the script.
    assert_eq!(html.matches("<script").count(), 2);
    assert_eq!(html.matches("</script>").count(), 2);
    // The text is there, escaped, in the findings, the groups and the JSON data.
    assert!(html.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e"));
}

#[test]
fn quotes_in_evidence_stay_inside_attributes() {
    let evil = "\" onmouseover=\"alert(1)' x='";
    let html = render(&diagnosis(evil), &snapshots(evil));
    // The JSON data keeps quotes (escaped the JSON way); the markup must not.
    let start = html.find("<script type=\"application/json\"").unwrap();
    let end = start + html[start..].find("</script>").unwrap();
    assert!(html[start..end].contains("\\\" onmouseover=\\\"alert(1)' x='"));
    let markup = format!("{}{}", &html[..start], &html[end..]);
    assert!(!markup.contains("\" onmouseover=\"alert"));
    assert!(!markup.contains("' x='"));
    assert!(html.contains("&quot; onmouseover=&quot;alert(1)&#39; x=&#39;"));
}

#[test]
fn template_markers_in_evidence_are_not_filled() {
    let html = render(&diagnosis("{{SCRIPT}}"), &snapshots("{{BODY}}"));
    assert_eq!(html.matches("'use strict'").count(), 1);
    assert!(html.contains("{{SCRIPT}}"));
}

#[test]
fn the_script_is_pinned_by_its_hash() {
    let html = render(&diagnosis("x"), &snapshots("x"));
    let csp = html
        .lines()
        .find(|l| l.contains("Content-Security-Policy"))
        .unwrap();
    assert!(csp.contains(&csp::script_hash(SCRIPT)));
    assert!(csp.contains("default-src 'none'"));
    assert!(!csp.contains("script-src 'unsafe-inline'"));
    // The script in the page is byte for byte the one hashed.
    assert!(html.contains(&format!("<script>{SCRIPT}</script>")));
    // No reference leaves the file.
    for needle in ["http://", "https://", "src=\"", "href=\"http", "@import"] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
}

#[test]
fn findings_come_first_with_the_line_to_fix() {
    let html = render(&diagnosis("x"), &snapshots("x"));
    let finding = html.find("id=\"finding-1\"").unwrap();
    let fix = html.find("Fix here").unwrap();
    let groups_at = html.find("id=\"groups\"").unwrap();
    assert!(finding < fix && fix < groups_at);
    assert!(
        html.contains("<code class=\"fn\">main.x</code> <code class=\"loc\">/src/x.go:30</code>")
    );
    assert!(
        html.contains(
            "<span class=\"line focus\"><span class=\"ln\">30</span>mu.Lock() // x</span>"
        )
    );
    // The chain: victims, resource and root, one arrow per victim plus one to the root.
    let chain = &html[html.find("class=\"chain-svg\"").unwrap()..];
    let chain = &chain[..chain.find("</svg>").unwrap()];
    assert_eq!(chain.matches("class=\"node victim\"").count(), 2);
    assert_eq!(chain.matches("class=\"node resource\"").count(), 1);
    assert_eq!(chain.matches("class=\"node root\"").count(), 1);
    assert_eq!(chain.matches("class=\"edge\"").count(), 3);
    assert!(chain.contains("2 goroutines, waiting 14 min"));
}

#[test]
fn every_group_is_listed_with_its_state_for_the_filter() {
    let snaps = snapshots("x");
    let html = render(&diagnosis("x"), &snaps);
    let n = groups(&snaps[0], GroupLevel::Lines).len();
    assert_eq!(html.matches("<details class=\"group").count(), n);
    assert!(html.contains("data-state=\"sync.Mutex.Lock\" data-count=\"1\""));
    // The group holding the blamed frame is marked, and so is the frame.
    assert_eq!(html.matches("<details class=\"group blamed\"").count(), 1);
    assert!(html.contains("<li class=\"root\"><code class=\"fn\">main.x</code>"));
    assert!(html.contains("<option value=\"sync.Mutex.Lock\">sync.Mutex.Lock (1)</option>"));
}

#[test]
fn flame_graph_weighs_boxes_by_goroutines() {
    let html = render(&diagnosis("x"), &snapshots("x"));
    let flame = &html[html.find("id=\"flame-svg\"").unwrap()..];
    let flame = &flame[..flame.find("</svg>").unwrap()];
    assert!(flame.contains("<title>all goroutines — 3 goroutines (100.0%)</title>"));
    assert!(flame.contains("<title>main.handle — 3 goroutines (100.0%)</title>"));
    assert!(flame.contains("<title>main.x — 2 goroutines (66.7%)</title>"));
    // The blamed function is red; its state is the last box of its stack.
    assert!(flame.contains("data-n=\"main.x\"><title>main.x — 2 goroutines (66.7%)</title><rect x=\"0.00\" y=\"36\" width=\"800.00\" height=\"17\" fill=\"#d93025\""));
    assert!(flame.contains("<title>[x] — 2 goroutines (66.7%)</title>"));
}

#[test]
fn sockets_are_summarised_by_port_and_state() {
    let html = render(&diagnosis("x"), &snapshots("x"));
    let table = &html[html.find("<table class=\"sockets\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("<th>ESTABLISHED</th><th>CLOSE_WAIT</th><th>LISTEN</th>"));
    assert!(table.contains(
        "<tr><td>outbound</td><td class=\"num\">6379</td><td>x</td><td class=\"num\">2</td>"
    ));
    assert!(table.contains("<tr><td>inbound</td><td class=\"num\">8080</td><td>x</td><td class=\"num zero\">0</td><td class=\"num bad\">1</td><td class=\"num\">1</td>"));
}

#[test]
fn no_findings_and_no_goroutines_still_make_a_page() {
    let d = Diagnosis {
        inputs: vec![],
        goroutines: 0,
        diagnosed: None,
        findings: vec![],
        notes: vec![],
        warnings: vec![],
    };
    let html = render(&d, &[]);
    assert!(html.contains("No stuck goroutines found."));
    assert!(!html.contains("id=\"groups\""));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn long_names_are_cut_at_the_start() {
    assert_eq!(tail("abcdef", 4), "…def");
    assert_eq!(tail("abc", 4), "abc");
    assert_eq!(
        short_func("github.com/gomodule/redigo/redis.(*Pool).get"),
        "redis.(*Pool).get"
    );
}
