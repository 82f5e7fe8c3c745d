//! `hangdoc capture` and URL inputs, as a user runs them: against a real hanging Go service
//! the test builds and starts, and against tiny local HTTP servers that refuse, answer 404,
//! want credentials, return garbage, cut a dump, or never answer. Every process and server
//! a test starts is stopped by a guard, also when the test fails.

mod live_service;

use live_service::Service;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs hangdoc, killing it if it has not finished within `limit` (hangdoc must never hang).
fn hangdoc(args: &[&str], limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hangdoc"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hangdoc");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hangdoc {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (out, start.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn manifest(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

fn top_kind(diagnosis_json: &str) -> String {
    let v: Value = serde_json::from_str(diagnosis_json).expect("diagnosis JSON");
    v["findings"][0]["kind"].as_str().unwrap_or("").to_string()
}

// ---------------------------------------------------------------------------------------
// A real hanging service.

#[test]
fn capture_of_a_live_deadlocked_service_diagnoses_as_a_lock_cycle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    if Command::new("go").arg("version").output().is_err() {
        eprintln!("go is not on PATH: skipping the live capture test");
        return;
    }
    let mut svc = Service::start("classic", "ab-ba-deadlock", tmp.path(), &[]);
    let base = format!("http://{}/debug/pprof/", svc.pprof);
    let bundle = tmp.path().join("bundle");
    let bundle_s = bundle.to_str().expect("utf-8 path");

    let limit = Duration::from_secs(60);
    let (o, _) = hangdoc(
        &[
            "capture",
            "--count",
            "2",
            "--interval",
            "300ms",
            "-o",
            bundle_s,
            &base,
        ],
        limit,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), bundle_s);
    let m = manifest(&bundle);
    assert_eq!(m["schema"], "hangdoc.bundle/v1");
    let paths: Vec<&str> = m["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    for want in ["series/01.txt", "series/02.txt", "ss.txt"] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
        assert!(bundle.join(want).is_file(), "{want} not written");
    }
    assert_eq!(m["target_local"], true);
    assert_eq!(m["target_pids"][0], svc.child.id(), "{m}");
    assert_eq!(m["files"][0]["status"], 200);
    // The socket table holds the service's own listener.
    let ss = std::fs::read_to_string(bundle.join("ss.txt")).expect("ss.txt");
    assert!(ss.contains(&svc.pprof), "{ss}");

    let (o, _) = hangdoc(&["diagnose", "--format", "json", bundle_s], limit);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(top_kind(&stdout(&o)), "lock-cycle", "{}", stdout(&o));

    // The URL directly, as a series of two in memory.
    let (o, _) = hangdoc(
        &[
            "diagnose",
            "--format",
            "json",
            "--count",
            "2",
            "--interval",
            "200ms",
            &base,
        ],
        limit,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(d["findings"][0]["kind"], "lock-cycle");
    assert_eq!(d["inputs"].as_array().map(Vec::len), Some(2), "{d}");

    let (o, _) = hangdoc(&["stacks", "--format", "json", &base], limit);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert!(s["goroutines"].as_u64().unwrap_or(0) > 5, "{s}");

    // Killed in the middle of a series: what was taken is kept and still diagnosable.
    let bundle2 = tmp.path().join("bundle2");
    let mut cap = Command::new(env!("CARGO_BIN_EXE_hangdoc"))
        .args(["capture", "--count", "5", "--interval", "1s", "-o"])
        .arg(&bundle2)
        .arg(&base)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start capture");
    let t0 = Instant::now();
    while !bundle2.join("series/01.txt").is_file() && t0.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    svc.kill();
    let t0 = Instant::now();
    while cap.try_wait().expect("wait").is_none() {
        if t0.elapsed() > limit {
            let _ = cap.kill();
            panic!("capture did not end after its target died");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut err = String::new();
    cap.stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    assert_eq!(cap.wait().expect("status").code(), Some(0), "{err}");
    assert!(err.contains("series stops"), "{err}");
    let m = manifest(&bundle2);
    let dumps = m["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.starts_with("series/")))
        .count();
    assert!((1..5).contains(&dumps), "{m}");
    let (o, _) = hangdoc(
        &["diagnose", "--format", "json", bundle2.to_str().unwrap()],
        limit,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(top_kind(&stdout(&o)), "lock-cycle");

    // And once it is gone, capture says so.
    let (o, _) = hangdoc(
        &[
            "capture",
            "-o",
            tmp.path().join("b3").to_str().unwrap(),
            &base,
        ],
        limit,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("connection refused"), "{}", stderr(&o));
    assert!(!tmp.path().join("b3").exists());
}

// ---------------------------------------------------------------------------------------
// Tiny HTTP servers for the error paths.

/// What a test server does with a request.
enum Answer {
    /// Status and body.
    Reply(u16, Vec<u8>),
    /// Reads the request and never answers.
    Stall,
}

/// A one-thread HTTP/1.1 server on 127.0.0.1; dropping it stops it.
struct Server {
    addr: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(handler: impl Fn(&str, &str) -> Answer + Send + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut stalled = Vec::new();
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&req).into_owned();
                let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
                match handler(&path, &text) {
                    Answer::Reply(status, body) => {
                        let head = format!(
                            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = conn.write_all(head.as_bytes());
                        let _ = conn.write_all(&body);
                    }
                    Answer::Stall => stalled.push(conn),
                }
            }
        });
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// Hand-written: a two-goroutine debug=2 dump.
const DUMP: &str = "goroutine 1 [chan receive, 12 minutes]:
main.main()
\t/src/app/main.go:12 +0x1d

goroutine 7 [sync.Mutex.Lock, 12 minutes]:
sync.runtime_SemacquireMutex(0xc000012345?, 0x0?, 0x1?)
\t/usr/local/go/src/runtime/sema.go:95 +0x25
sync.(*Mutex).lockSlow(0xc000012340)
\t/usr/local/go/src/sync/mutex.go:173 +0x15d
main.worker()
\t/src/app/main.go:30 +0x45
created by main.main in goroutine 1
\t/src/app/main.go:10 +0x66
";

fn tmp_bundle(tmp: &tempfile::TempDir, name: &str) -> (PathBuf, String) {
    let p = tmp.path().join(name);
    let s = p.to_str().expect("utf-8").to_string();
    (p, s)
}

#[test]
fn a_refused_port_is_an_error_within_seconds_and_leaves_no_bundle() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, dir_s) = tmp_bundle(&tmp, "b");
    let url = format!("http://127.0.0.1:{port}/debug/pprof/");
    let (o, took) = hangdoc(&["capture", "-o", &dir_s, &url], Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("connection refused"), "{}", stderr(&o));
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(!dir.exists());
    let (o, _) = hangdoc(&["diagnose", &url], Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("connection refused"), "{}", stderr(&o));
}

#[test]
fn a_server_without_pprof_is_a_404_that_says_what_to_check() {
    let srv = Server::start(|_, _| Answer::Reply(404, b"404 page not found\n".to_vec()));
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, dir_s) = tmp_bundle(&tmp, "b");
    let (o, _) = hangdoc(
        &["capture", "-o", &dir_s, &srv.url("/debug/pprof/")],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is net/http/pprof mounted"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.exists());
}

#[test]
fn garbage_instead_of_a_dump_is_named_and_not_stored() {
    let srv = Server::start(|path, _| {
        if path.contains("goroutineleak") {
            Answer::Reply(404, b"Unknown profile\n".to_vec())
        } else {
            Answer::Reply(200, (0u8..=255).cycle().take(5000).collect())
        }
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, dir_s) = tmp_bundle(&tmp, "b");
    let (o, _) = hangdoc(
        &["capture", "-o", &dir_s, &srv.url("/debug/pprof/")],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("not a goroutine dump") && e.contains("binary data"),
        "{e}"
    );
    assert!(!dir.join("series").exists());
}

#[test]
fn a_server_that_never_answers_times_out_within_the_deadline() {
    let srv = Server::start(|_, _| Answer::Stall);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, dir_s) = tmp_bundle(&tmp, "b");
    let (o, took) = hangdoc(
        &[
            "capture",
            "--timeout",
            "1s",
            "-o",
            &dir_s,
            &srv.url("/debug/pprof/"),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("timed out"), "{}", stderr(&o));
    assert!(
        took < Duration::from_secs(6),
        "took {took:?} with --timeout 1s"
    );
    assert!(!dir.exists());
}

#[test]
fn credentials_go_in_a_header_and_a_refusal_says_so() {
    let srv = Server::start(|path, req| {
        if !req.contains("\r\nauthorization: Bearer s3cret\r\n")
            && !req.contains("\r\nAuthorization: Bearer s3cret\r\n")
        {
            Answer::Reply(401, b"unauthorized\n".to_vec())
        } else if path.contains("goroutineleak") {
            Answer::Reply(404, b"Unknown profile\n".to_vec())
        } else {
            Answer::Reply(200, DUMP.as_bytes().to_vec())
        }
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = srv.url("/debug/pprof/");
    let (o, _) = hangdoc(&["stacks", &url], Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--header 'Authorization"),
        "{}",
        stderr(&o)
    );

    let (dir, dir_s) = tmp_bundle(&tmp, "b");
    let (o, _) = hangdoc(
        &[
            "capture",
            "--no-sockets",
            "--header",
            "Authorization: Bearer s3cret",
            "-o",
            &dir_s,
            &url,
        ],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("series/01.txt")).expect("dump"),
        DUMP
    );
    let m = manifest(&dir);
    assert_eq!(m["skipped"][0]["what"], "goroutineleak debug=1");
    assert_eq!(m["skipped"][0]["status"], 404);
    assert!(!dir.join("goroutineleak").exists());
}

#[test]
fn a_cut_dump_brings_debug1_and_the_protobuf_and_says_so() {
    // Hand-written debug=1 profile; the protobuf is a real one from a scenario's fixture.
    const DEBUG1: &str = "goroutine profile: total 2\n1 @ 0x1 0x2\n#\t0x1\tmain.main+0x1\t/src/app/main.go:12\n\n1 @ 0x3 0x4\n#\t0x3\tmain.worker+0x1\t/src/app/main.go:30\n\n";
    let pb = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/scenarios/ab-ba-deadlock/goroutine.pb.gz"),
    )
    .expect("protobuf fixture");
    let pb2 = pb.clone();
    let srv = Server::start(move |path, _| {
        if path.contains("goroutineleak?debug=1") {
            Answer::Reply(200, b"goroutineleak profile: total 0\n".to_vec())
        } else if path.contains("goroutineleak?debug=2") {
            Answer::Reply(200, DUMP.as_bytes().to_vec())
        } else if path.ends_with("goroutine?debug=2") {
            Answer::Reply(200, DUMP.as_bytes()[..DUMP.len() - 20].to_vec())
        } else if path.ends_with("goroutine?debug=1") {
            Answer::Reply(200, DEBUG1.as_bytes().to_vec())
        } else if path.ends_with("/goroutine") {
            Answer::Reply(200, pb2.clone())
        } else {
            Answer::Reply(404, b"404 page not found\n".to_vec())
        }
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let (dir, dir_s) = tmp_bundle(&tmp, "b");
    let (o, _) = hangdoc(
        &[
            "capture",
            "--no-sockets",
            "-o",
            &dir_s,
            &srv.url("/debug/pprof/"),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("cut"), "{}", stderr(&o));
    let m = manifest(&dir);
    let file = |p: &str| {
        m["files"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["path"] == p))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(file("series/01.txt")["truncated"], true, "{m}");
    assert_eq!(file("debug1.txt")["truncated"], false, "{m}");
    assert_eq!(
        std::fs::read_to_string(dir.join("debug1.txt")).expect("debug1"),
        DEBUG1
    );
    assert_eq!(
        std::fs::read(dir.join("goroutine.pb.gz")).expect("protobuf"),
        pb
    );
    assert!(dir.join("goroutineleak/debug1.txt").is_file());
    assert!(dir.join("goroutineleak/debug2.txt").is_file());
}

#[test]
fn r_socket_table_larger_than_a_pipe_is_read_at_once() {
    // A busy machine's `ss -tanp` prints more than a pipe holds. A stand-in `ss` (a shell
    // script first on PATH) prints 2 MB of connections, one of them to the target's port;
    // the capture must read it at once, not wait for ss to be killed.
    let srv = Server::start(|path, _| {
        if path.ends_with("goroutine?debug=2") {
            Answer::Reply(200, DUMP.as_bytes().to_vec())
        } else {
            Answer::Reply(404, b"404 page not found\n".to_vec())
        }
    });
    let url = srv.url("/debug/pprof/");
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port in the server URL");
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).expect("bin dir");
    let script = format!(
        "#!/bin/sh\n\
         echo 'State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process'\n\
         echo 'ESTAB  0      0      127.0.0.1:40000    127.0.0.1:{port}'\n\
         i=0; while [ $i -lt 20000 ]; do\n\
         echo \"TIME-WAIT 0 0 127.0.0.1:$((20000 + i % 20000)) 127.0.0.1:5432 padding-padding-padding-padding\"\n\
         i=$((i + 1)); done\n"
    );
    let ss = bin.join("ss");
    std::fs::write(&ss, script).expect("write ss");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ss, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (dir, dir_s) = tmp_bundle(&tmp, "b");
    let started = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_hangdoc"))
        .args(["capture", "--no-leak", "-o", &dir_s, &url])
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .expect("run hangdoc");
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = manifest(&dir);
    assert!(
        !m.to_string().contains("unavailable"),
        "the table came from /proc, not ss: {m}"
    );
    let kept = std::fs::read_to_string(dir.join("ss.txt")).expect("ss.txt");
    assert!(kept.contains(&format!("127.0.0.1:{port}")), "{kept}");
    assert!(took < Duration::from_secs(15), "capture took {took:?}");
}
