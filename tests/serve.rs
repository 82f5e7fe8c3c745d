//! `hangdoc serve` end to end: the real binary on `127.0.0.1:0`, a watch history written
//! through the store's API from real fixture bundles (`tests/serve_support`), scenario
//! bundles on the command line; requests over plain TCP so that the Host header and
//! malformed paths can be whatever a test needs.

mod serve_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use serve_support::{Demo, HOSTILE_NAME, scenario};

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    start_in(Path::new("."), args)
}

/// `hangdoc serve ARGS` run in `dir`, on a free port.
fn start_in(dir: &Path, args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hangdoc"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("hangdoc serve: listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let addr = url.trim_end_matches('/').parse().unwrap();
    Server { child, addr }
}

struct Fixture {
    _tmp: tempfile::TempDir,
    store: PathBuf,
    demo: Demo,
    /// Bundles given on the command line, in order.
    bundles: Vec<PathBuf>,
    server: Server,
}

const BUNDLES: [&str; 3] = [
    "logger-consumer-exited",
    "redis-nested-pool",
    "healthy-busy",
];

/// A history, the bundles and a server reading them, each test its own (a server shared
/// through a static would outlive the test process).
fn fixture() -> Fixture {
    {
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("store");
        let demo = serve_support::build(&store, 1_790_000_000_000);
        let mut bundles: Vec<PathBuf> = BUNDLES.iter().map(|b| scenario(b)).collect();
        bundles.push(serve_support::repo().join("tests/browser/hostile-dump.txt"));
        let mut args = vec!["--store".to_string(), store.to_string_lossy().into_owned()];
        args.extend(bundles.iter().map(|b| b.to_string_lossy().into_owned()));
        let server = start(&args.iter().map(String::as_str).collect::<Vec<_>>());
        Fixture {
            _tmp: tmp,
            store,
            demo,
            bundles,
            server,
        }
    }
}

struct Resp {
    status: u16,
    head: String,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn request(addr: SocketAddr, method: &str, path: &str, host: &str) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Resp {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn get(f: &Fixture, path: &str) -> Resp {
    request(f.server.addr, "GET", path, &f.server.addr.to_string())
}

fn get_json(f: &Fixture, path: &str) -> Value {
    let r = get(f, path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    serde_json::from_str(&r.body).unwrap()
}

/// The library's own diagnosis of a bundle.
fn diagnosis(dir: &Path) -> hangdoc::diagnose::Diagnosis {
    let snaps =
        hangdoc::parse::load(&[dir.to_string_lossy().into_owned()], &Default::default()).unwrap();
    hangdoc::diagnose::diagnose(&snaps, &Default::default())
}

fn esc(s: &str) -> String {
    hangdoc::report::diagnosis_html::esc(s)
}

#[test]
fn overview_lists_each_target_and_each_bundle_with_its_top_finding() {
    let f = fixture();
    let r = get(&f, "/");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("script-src 'none'")
    );
    for name in ["api", "worker"] {
        assert!(
            r.body.contains(&format!(">{name}</a>")),
            "target {name} missing"
        );
    }
    // A sparkline per target, the api target's latest incident headline.
    assert_eq!(r.body.matches("<svg class=\"spark\"").count(), 3);
    let store = hangdoc::watch::store::Store::open_read_only(&f.store).unwrap();
    let logger = store.incident(f.demo.logger).unwrap().unwrap();
    assert!(r.body.contains(&esc(logger.headline.as_deref().unwrap())));
    for (n, b) in f.bundles.iter().enumerate().take(BUNDLES.len()) {
        assert!(r.body.contains(&format!("href=\"/bundles/{n}\"")));
        let d = diagnosis(b);
        match d.findings.first() {
            Some(top) => assert!(
                r.body.contains(&esc(&top.title)),
                "{}: top finding missing",
                b.display()
            ),
            None => assert!(r.body.contains("no stuck goroutines found")),
        }
    }

    let j = get_json(&f, "/api/overview");
    let targets = j["stores"][0]["targets"].as_array().unwrap();
    let by_name = |n: &str| targets.iter().find(|t| t["name"] == n).unwrap();
    assert_eq!(by_name("api")["up"], true);
    assert_eq!(by_name("worker")["up"], false, "worker's last poll failed");
    assert_eq!(by_name("api")["incidents"], 2);
    assert_eq!(
        by_name("api")["latest_incident"]["id"],
        f.demo.logger.to_string()
    );
    let samples = store.samples(f.demo.api, i64::MIN, 1000).unwrap();
    assert_eq!(
        by_name("api")["last"]["goroutines"],
        samples.last().unwrap().goroutines.unwrap()
    );
    assert_eq!(
        by_name("api")["recent"].as_array().unwrap().len(),
        samples.len()
    );
    let d = diagnosis(&f.bundles[1]);
    assert_eq!(j["bundles"][1]["top"]["kind"], d.findings[0].kind);
}

#[test]
fn incident_page_is_the_report_with_its_fix_here_line_and_a_way_back() {
    let f = fixture();
    let store = hangdoc::watch::store::Store::open_read_only(&f.store).unwrap();
    let row = store.incident(f.demo.redis).unwrap().unwrap();
    let stored: Value = serde_json::from_str(row.diagnosis.as_deref().unwrap()).unwrap();
    let root = &stored["findings"][0]["root"][0];
    let r = get(&f, &format!("/incidents/{}", f.demo.redis));
    assert_eq!(r.status, 200);
    let fix = r
        .body
        .split("<div class=\"fix\">")
        .nth(1)
        .expect("no fix-here line");
    let fix = &fix[..fix.find("</div>").unwrap()];
    assert!(
        fix.contains(&esc(root["function"].as_str().unwrap())),
        "{fix}"
    );
    assert!(
        fix.contains(&format!(
            "{}:{}",
            esc(root["file"].as_str().unwrap()),
            root["line"]
        )),
        "{fix}"
    );
    assert!(r.body.contains("class=\"chain-svg\""), "no wait-for graph");
    assert!(
        r.body.contains("<a href=\"/\">"),
        "no way back to the overview"
    );
    assert!(
        r.body
            .contains(&format!("href=\"/compare?a=incident:{}\"", f.demo.redis))
    );
    assert!(
        r.body
            .contains(&format!("href=\"/targets/{}\"", f.demo.api))
    );
    // The report's script runs, pinned by hash in the header too.
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");

    let j = get_json(&f, &format!("/api/incidents/{}", f.demo.redis));
    assert_eq!(j["incident"]["status"], "diagnosed");
    assert_eq!(j["diagnosis"]["findings"][0]["root"][0], *root);
}

#[test]
fn failed_and_capturing_incidents_show_their_status() {
    let f = fixture();
    let r = get(&f, &format!("/incidents/{}", f.demo.failed));
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("The capture failed: taking the debug=2 dump: connection refused")
    );
    assert!(
        r.body
            .contains("<span class=\"status failed\">failed</span>")
    );
    let r = get(&f, &format!("/incidents/{}", f.demo.capturing));
    assert!(r.body.contains("still writing this incident"), "{}", r.body);
    // A stored, not yet diagnosed incident is diagnosed on request.
    let r = get(&f, &format!("/incidents/{}", f.demo.hostile_incident));
    assert!(r.body.contains("id=\"finding-1\""));
}

#[test]
fn target_page_charts_states_and_lists_incidents_newest_first() {
    let f = fixture();
    let r = get(&f, &format!("/targets/{}", f.demo.api));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"state-chart\""));
    for st in ["semacquire", "IO wait", "select"] {
        assert!(r.body.contains(&format!("data-state=\"{st}\"")), "{st}");
    }
    assert!(r.body.contains("CLOSE_WAIT max"));
    let newest = r
        .body
        .find(&format!("href=\"/incidents/{}\"", f.demo.logger))
        .unwrap();
    let older = r
        .body
        .find(&format!("href=\"/incidents/{}\"", f.demo.redis))
        .unwrap();
    assert!(newest < older);
    let j = get_json(&f, &format!("/api/targets/{}", f.demo.api));
    assert_eq!(j["samples"].as_array().unwrap().len(), 60);
    assert_eq!(j["incidents"][0]["id"], f.demo.logger.to_string());
    let store = hangdoc::watch::store::Store::open_read_only(&f.store).unwrap();
    let row = store.incident(f.demo.logger).unwrap().unwrap();
    assert_eq!(
        j["incidents"][0]["top_kind"].as_str(),
        row.top_kind.as_deref()
    );
}

/// Counts per (stack lines, state) of a snapshot, computed here from the model.
fn groups(
    s: &hangdoc::model::Snapshot,
) -> std::collections::HashMap<(Vec<(String, u32)>, String), i64> {
    let mut m = std::collections::HashMap::new();
    for g in &s.goroutines {
        let stack = s
            .stack(g)
            .frames
            .iter()
            .map(|f| (format!("{}@{}", f.function, f.file), f.line))
            .collect();
        *m.entry((stack, s.state(g).raw.to_string())).or_insert(0) += 1;
    }
    m
}

#[test]
fn compare_shows_the_growth_of_a_series() {
    let f = fixture();
    for (n, name) in BUNDLES.iter().enumerate().take(2) {
        let snaps = hangdoc::parse::load(
            &[scenario(name).to_string_lossy().into_owned()],
            &Default::default(),
        )
        .unwrap();
        let series = hangdoc::web::compare::series(&snaps);
        let (first, last) = (&snaps[series[0]], &snaps[*series.last().unwrap()]);
        let (a, b) = (groups(first), groups(last));
        // The group that grew most, by this test's own count.
        let (key, grew) = b
            .iter()
            .map(|(k, n)| (k, n - a.get(k).copied().unwrap_or(0)))
            .max_by_key(|(_, d)| *d)
            .unwrap();
        assert!(grew > 0, "{name}: the fixture series does not grow");

        let j = get_json(&f, &format!("/api/compare?a=bundle:{n}"));
        assert_eq!(j["before"]["goroutines"], first.goroutine_count(), "{name}");
        assert_eq!(j["after"]["goroutines"], last.goroutine_count(), "{name}");
        let top = &j["groups"][0];
        assert_eq!(top["delta"], grew, "{name}: {top}");
        assert_eq!(top["after"], b[key], "{name}");
        assert_eq!(top["state"], key.1.as_str(), "{name}");
        assert!(["grown", "new"].contains(&top["change"].as_str().unwrap()));
        // Stuck: same id, same stack, same state in both.
        let stuck = last
            .goroutines
            .iter()
            .filter(|g| {
                first.goroutines.iter().any(|h| {
                    h.id == g.id
                        && first
                            .stack(h)
                            .frames
                            .iter()
                            .map(|f| (&f.function, &f.file, f.line))
                            .eq(last
                                .stack(g)
                                .frames
                                .iter()
                                .map(|f| (&f.function, &f.file, f.line)))
                        && first.state(h).raw == last.state(g).raw
                })
            })
            .count();
        assert_eq!(j["stuck"], stuck, "{name}");

        let page = get(&f, &format!("/compare?a=bundle:{n}"));
        assert_eq!(page.status, 200);
        assert!(page.body.contains(&format!(
            "<td class=\"num delta-{}\">{:+}</td>",
            top["change"].as_str().unwrap(),
            grew
        )));
        assert!(
            page.body
                .contains(&format!("<b>{stuck}</b> goroutines are stuck in both"))
        );
    }
    // Reachable from the bundle's report.
    let r = get(&f, "/bundles/0");
    assert!(
        r.body
            .contains("href=\"/compare?a=bundle:0\">compare first and last snapshot")
    );
    // Two bundles: each side's diagnosed snapshot.
    let j = get_json(&f, "/api/compare?a=bundle:0&b=bundle:1");
    assert_eq!(j["a"].as_str().unwrap().split('@').next(), Some("bundle:0"));
    assert_eq!(j["b"].as_str().unwrap().split('@').next(), Some("bundle:1"));
    let j = get_json(
        &f,
        &format!("/api/compare?a=incident:{}&b=bundle:1", f.demo.redis),
    );
    let store = hangdoc::watch::store::Store::open_read_only(&f.store).unwrap();
    let row = store.incident(f.demo.redis).unwrap().unwrap();
    let stored: Value = serde_json::from_str(row.diagnosis.as_deref().unwrap()).unwrap();
    assert_eq!(j["before"]["goroutines"], stored["goroutines"]);
    assert_eq!(
        j["after"]["goroutines"],
        diagnosis(&f.bundles[1]).goroutines
    );
}

#[test]
fn paths_in_urls_are_never_read() {
    let f = fixture();
    for path in [
        "/bundles/../../../../etc/passwd",
        "/bundles/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/bundles/99",
        "/bundles/-1",
        "/incidents/..%2f1",
        "/targets/1;DROP",
        "/etc/passwd",
        "/api/bundles/99",
    ] {
        let r = get(&f, path);
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body.contains("root:"), "{path}");
    }
    for q in [
        "a=/etc/passwd",
        "a=file:/etc/passwd",
        "a=bundle:../../etc",
        "a=bundle:0@999",
        "a=incident:9999",
    ] {
        let r = get(&f, &format!("/compare?{q}"));
        assert!(r.status == 400 || r.status == 404, "{q}: {}", r.status);
    }
    let r = request(f.server.addr, "POST", "/", &f.server.addr.to_string());
    assert_eq!(r.status, 405);
}

#[test]
fn a_store_row_naming_a_path_outside_the_store_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let s = hangdoc::watch::store::Store::open(&dir).unwrap();
    let t = s.target("api", "http://127.0.0.1:1/", 0).unwrap();
    let id = s
        .open_incident(t.id, 1, "blocked-group", "x", "../../../../etc")
        .unwrap();
    s.mark_stored(id, 2).unwrap();
    let srv = start(&["--store", dir.to_str().unwrap()]);
    let r = request(
        srv.addr,
        "GET",
        &format!("/incidents/{id}"),
        &srv.addr.to_string(),
    );
    assert_eq!(r.status, 404);
    assert!(r.body.contains("leaves the store directory"), "{}", r.body);
}

#[test]
fn foreign_host_headers_are_refused() {
    let f = fixture();
    let port = f.server.addr.port();
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        "127.0.0.1:1".to_string(),
    ] {
        let r = request(f.server.addr, "GET", "/", &host);
        assert_eq!(r.status, 403, "{host}");
        assert!(!r.body.contains(">api</a>"));
        let r = request(f.server.addr, "GET", "/api/overview", &host);
        assert_eq!(r.status, 403, "{host}");
    }
    let r = request(f.server.addr, "GET", "/", &format!("localhost:{port}"));
    assert_eq!(r.status, 200);
}

#[test]
fn hostile_strings_are_escaped_everywhere() {
    let f = fixture();
    let pages = [
        "/".to_string(),
        format!("/targets/{}", f.demo.hostile),
        format!("/incidents/{}", f.demo.hostile_incident),
        "/bundles/3".to_string(),
        "/compare?a=bundle:3".to_string(),
    ];
    for p in &pages {
        let r = get(&f, p);
        assert_eq!(r.status, 200, "{p}");
        for raw in [
            "<img src=x",
            "<img/src=x",
            "<svg onload",
            "<script>window",
            "<b onmouseover",
            "href=\"javascript:",
        ] {
            assert!(!r.body.contains(raw), "{p}: unescaped {raw}");
        }
    }
    assert!(get(&f, "/").body.contains(&esc(HOSTILE_NAME)));
    let t = get(&f, &format!("/targets/{}", f.demo.hostile)).body;
    assert!(t.contains("&lt;b onmouseover=window.__pwned=15&gt;x&lt;/b&gt;"));
}

#[test]
fn a_corrupt_store_and_a_vanished_bundle_are_said_not_crashed_on() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("history.db"),
        b"this is not a database, it only has the name of one",
    )
    .unwrap();
    let good = tmp.path().join("good");
    let demo = serve_support::build(&good, 1_790_000_000_000);
    let srv = start(&[
        "--store",
        bad.to_str().unwrap(),
        "--store",
        good.to_str().unwrap(),
    ]);
    let host = srv.addr.to_string();
    let r = request(srv.addr, "GET", "/", &host);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("class=\"error\""), "{}", r.body);
    assert!(r.body.contains(">api</a>"), "the good store is still shown");
    // Rows of the second store carry its number.
    assert!(
        r.body
            .contains(&format!("href=\"/targets/1-{}\"", demo.api))
    );
    assert!(request(srv.addr, "GET", "/targets/0-1", &host).status == 404);

    // The bundle pruned from under the history.
    let store = hangdoc::watch::store::Store::open_read_only(&good).unwrap();
    let row = store.incident(demo.redis).unwrap().unwrap();
    std::fs::remove_dir_all(store.bundle_path(&row.bundle)).unwrap();
    let r = request(
        srv.addr,
        "GET",
        &format!("/incidents/1-{}", demo.redis),
        &host,
    );
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("not found (moved or pruned?)"),
        "{}",
        r.body
    );
    let r = request(
        srv.addr,
        "GET",
        &format!("/api/compare?a=incident:1-{}", demo.redis),
        &host,
    );
    assert_eq!(r.status, 404);
    assert!(r.body.contains("\"error\""));
}

#[test]
fn new_samples_and_incidents_show_on_reload() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let demo = serve_support::build(&dir, 1_790_000_000_000);
    let srv = start(&["--store", dir.to_str().unwrap()]);
    let host = srv.addr.to_string();
    assert!(!request(srv.addr, "GET", "/", &host).body.contains("4242"));
    // The watcher keeps writing while the server reads.
    let s = hangdoc::watch::store::Store::open(&dir).unwrap();
    s.record_sample(
        demo.api,
        &hangdoc::watch::store::Sample {
            at: demo.now + 60_000,
            ok: true,
            goroutines: Some(4242),
            ..Default::default()
        },
    )
    .unwrap();
    s.open_incident(
        demo.api,
        demo.now + 60_000,
        "blocked-group",
        "a fresh incident",
        "bundles/api/fresh",
    )
    .unwrap();
    let r = request(srv.addr, "GET", "/", &host);
    assert!(r.body.contains("<b class=\"goroutines\">4242</b>"));
    assert!(r.body.contains("a fresh incident"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[test]
fn a_client_that_stalls_mid_request_does_not_hold_up_others() {
    let f = fixture();
    // More stalled connections than worker threads, each with half a request head.
    let stalled: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(f.server.addr).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    let started = std::time::Instant::now();
    let r = get(&f, "/api/overview");
    assert_eq!(r.status, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
    // And the stalled ones are cut off once the head deadline passes.
    for mut s in stalled {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 408 "), "{reply}");
    }
    assert!(started.elapsed() < Duration::from_secs(25));
}

#[test]
fn a_non_loopback_listen_address_is_warned_about() {
    let out = Command::new(env!("CARGO_BIN_EXE_hangdoc"))
        .args(["serve", "--listen", "not an address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen not an address"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hangdoc"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .arg(scenario("redis-nested-pool"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("warning: listening on 0.0.0.0:"), "{line}");
}

#[test]
fn an_incident_is_redrawn_with_the_source_the_watcher_read() {
    // The watcher diagnosed this bundle with `--src`: the line to fix is the return that
    // skips Unlock, which is on no stack. The page must say the same without `--src`.
    let tmp = tempfile::tempdir().unwrap();
    let store_dir = tmp.path().join("store");
    let src = serve_support::repo().join("scenarios/incidents/mutex-unlock-missed");
    let id = {
        let s = hangdoc::watch::store::Store::open(&store_dir).unwrap();
        let t = s
            .target("scorepush", "http://127.0.0.1:6060/debug/pprof/", 1)
            .unwrap();
        let rel = hangdoc::watch::store::Store::new_bundle_rel("scorepush", 2);
        let bundle = s.bundle_path(&rel);
        let from = scenario("mutex-unlock-missed");
        std::fs::create_dir_all(bundle.join("series")).unwrap();
        for f in std::fs::read_dir(from.join("series")).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), bundle.join("series").join(f.file_name())).unwrap();
        }
        let id = s
            .open_incident(t.id, 2, "blocked-group", "x", &rel)
            .unwrap();
        s.mark_stored(id, 3).unwrap();
        let mut d = serve_support::diagnosed(&bundle);
        d.src = vec![src.clone()];
        s.mark_diagnosed(id, &d, 4).unwrap();
        id
    };
    let bundle_dir = {
        let s = hangdoc::watch::store::Store::open_read_only(&store_dir).unwrap();
        s.bundle_path(&s.incident(id).unwrap().unwrap().bundle)
    };
    let with_src = {
        let snaps = hangdoc::parse::load(
            &[bundle_dir.to_string_lossy().into_owned()],
            &Default::default(),
        )
        .unwrap();
        hangdoc::diagnose::diagnose(
            &snaps,
            &hangdoc::diagnose::Options {
                src: vec![src.clone()],
            },
        )
    };
    let root = &with_src.findings[0].root[0];
    let ret = std::fs::read_to_string(src.join("hub.go"))
        .unwrap()
        .lines()
        .position(|l| l.contains("return fmt.Errorf(\"follow %s: %w\", match, ErrArchived)"))
        .unwrap()
        + 1;
    assert_eq!(root.line as usize, ret, "the source names the early return");

    let server = start(&["--store", store_dir.to_str().unwrap()]);
    let r = request(
        server.addr,
        "GET",
        &format!("/incidents/{id}"),
        &server.addr.to_string(),
    );
    assert_eq!(r.status, 200);
    let fix = r
        .body
        .split("<div class=\"fix\">")
        .nth(1)
        .expect("no fix-here line");
    let fix = &fix[..fix.find("</div>").unwrap()];
    assert!(fix.contains(&format!("hub.go:{ret}")), "{fix}");
}

#[test]
fn without_arguments_serve_reads_the_watchers_default_store_or_says_what_it_needs() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hangdoc"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nothing to serve") && err.contains("--store"),
        "{err}"
    );

    // `hangdoc watch` run here wrote ./hangdoc-watch: serve finds it.
    serve_support::build(&tmp.path().join("hangdoc-watch"), 1_790_000_000_000);
    let server = start_in(tmp.path(), &[]);
    let r = request(
        server.addr,
        "GET",
        "/api/overview",
        &server.addr.to_string(),
    );
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["stores"][0]["dir"], "hangdoc-watch");
    assert_eq!(v["stores"][0]["targets"].as_array().map(Vec::len), Some(3));
}
