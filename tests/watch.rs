//! `hangdoc watch` as a user runs it: against a real Go service that starts healthy and then
//! hangs, a healthy busy service (with real redis and PostgreSQL), and local HTTP servers
//! that are down, send garbage, stall, or die mid-capture; a watcher killed with SIGKILL and
//! restarted on the same store; `/metrics` scraped while it runs. Every process and server a
//! test starts is stopped by a guard, also when the test fails.

mod live_service;

use live_service::Service;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hangdoc::watch::store::{IncidentStatus, Store};
use serde_json::Value;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hangdoc")
}

/// Runs hangdoc to completion, killing it after `limit` (the watcher must stop by itself).
fn hangdoc(args: &[&str], limit: Duration) -> Output {
    let start = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hangdoc");
    // Drain stderr while waiting: a chatty watcher must not block on a full pipe.
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "hangdoc {args:?} still running after {limit:?}:\n{}",
                String::from_utf8_lossy(&reader.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = child.wait_with_output().expect("output");
    out.stderr = reader.join().unwrap_or_default();
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Events of a JSON log, one object per line.
fn events(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

fn count(evs: &[Value], event: &str) -> usize {
    evs.iter().filter(|e| e["event"] == event).count()
}

/// Says why a live part cannot run: a skip with a message, or a failure when
/// `HANGDOC_REQUIRE_LIVE` is set (CI sets it once the servers are installed).
fn skip(why: &str) {
    if std::env::var_os("HANGDOC_REQUIRE_LIVE").is_some() {
        panic!("HANGDOC_REQUIRE_LIVE is set, yet {why}");
    }
    eprintln!("{why}");
}

fn go_available(what: &str) -> bool {
    if Command::new("go").arg("version").output().is_err() {
        skip(&format!("go is not on PATH: skipping {what}"));
        return false;
    }
    true
}

// ---------------------------------------------------------------------------------------
// Real Go services.

fn only_incident(store: &Path) -> hangdoc::watch::store::IncidentRow {
    let st = Store::open_read_only(store).expect("store");
    let list = st.incidents(None, 10).expect("incidents");
    assert_eq!(list.len(), 1, "{list:?}");
    st.incident(list[0].id).expect("read").expect("row")
}

/// Starts `mutex-unlock-missed`, healthy for `hang_after` and then hung, and watches it with
/// one `hangdoc watch` command (1 s polls, stop after the first incident) plus `extra` flags.
/// Returns the watcher's exit and log, and the store directory (inside `tmp`).
fn watch_a_late_hang(tmp: &Path, hang_after: &str, extra: &[&str]) -> (Output, String, PathBuf) {
    let svc = Service::start(
        "incidents",
        "mutex-unlock-missed",
        tmp,
        &[("HANG_AFTER", hang_after.into())],
    );
    let store = tmp.join("store");
    let url = format!("scorepush=http://{}/debug/pprof/", svc.pprof);
    let mut args = vec![
        "watch",
        "--store",
        store.to_str().expect("utf-8"),
        "--poll",
        "1s",
        "--warmup",
        "3",
        "--capture-interval",
        "1s",
        "--max-incidents",
        "1",
        "--exit-after",
        "90s",
        "--log-format",
        "json",
    ];
    args.extend_from_slice(extra);
    args.push(&url);
    let o = hangdoc(&args, Duration::from_secs(120));
    let log = stderr(&o);
    (o, log, store)
}

#[test]
fn close_wait_growth_alone_catches_a_service_whose_clients_give_up() {
    if !go_available("the live CLOSE_WAIT watch test") {
        return;
    }
    if Command::new("ss").arg("-V").output().is_err() {
        skip("ss is not installed: skipping the live CLOSE_WAIT watch test");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    // The same late hang; its clients time out and close their connections, which the
    // stuck handlers never do: CLOSE_WAIT sockets pile up on the service's port. The
    // other two signatures are set out of reach.
    let (o, log, store) = watch_a_late_hang(
        tmp.path(),
        "4s",
        &[
            "--baseline-min-extra",
            "100000",
            "--group-min",
            "100000",
            "--close-wait-rise",
            "10",
            "--close-wait-window",
            "60s",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{log}");
    let evs = events(&log);
    let fired: Vec<&Value> = evs.iter().filter(|e| e["event"] == "signature").collect();
    assert_eq!(fired.len(), 1, "{log}");
    assert_eq!(fired[0]["signature"], "close-wait-growth", "{log}");
    let inc = only_incident(&store);
    assert_eq!(inc.signature, "close-wait-growth");
    assert_eq!(inc.status, IncidentStatus::Diagnosed, "{log}");
    assert_eq!(
        inc.top_kind.as_deref(),
        Some("lock-never-released"),
        "{log}"
    );
    // The bundle's socket table shows what fired it.
    let ss = std::fs::read_to_string(store.join(&inc.bundle).join("ss.txt")).expect("ss.txt");
    assert!(
        ss.lines().filter(|l| l.starts_with("CLOSE-WAIT")).count() >= 10,
        "{ss}"
    );
}

#[test]
fn a_service_that_starts_to_hang_is_captured_and_diagnosed() {
    if !go_available("the live watch test") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    // Healthy at READY; 6 s later one client follows an archived match and the hub's mutex
    // is never unlocked again.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/incidents/mutex-unlock-missed");
    let (o, log, store) = watch_a_late_hang(
        tmp.path(),
        "6s",
        &["--group-for", "4s", "--src", src.to_str().expect("utf-8")],
    );
    assert_eq!(o.status.code(), Some(0), "{log}");
    let evs = events(&log);
    // Healthy first: polls succeed and no signature fires before the bug path is taken.
    assert_eq!(count(&evs, "target-up"), 1, "{log}");
    assert_eq!(count(&evs, "baseline-learned"), 1, "{log}");
    let fired: Vec<&Value> = evs.iter().filter(|e| e["event"] == "signature").collect();
    assert_eq!(fired.len(), 1, "{log}");
    assert_eq!(fired[0]["signature"], "blocked-group", "{log}");
    assert!(
        fired[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("main.(*ScoreHub).Follow")),
        "{log}"
    );
    let diagnosed = evs
        .iter()
        .find(|e| e["event"] == "incident-diagnosed")
        .unwrap_or_else(|| panic!("no incident-diagnosed event:\n{log}"));
    assert_eq!(diagnosed["kind"], "lock-never-released", "{log}");
    assert!(
        diagnosed["fix_here"]
            .as_str()
            .is_some_and(|f| f.starts_with("main.(*ScoreHub).Follow (")),
        "{log}"
    );
    // With the source, the line to fix is the return that skips Unlock, on no stack.
    let fix = diagnosed["fix_here"].as_str().unwrap_or_default();
    let ret = std::fs::read_to_string(src.join("hub.go"))
        .expect("hub.go")
        .lines()
        .position(|l| l.contains("return fmt.Errorf(\"follow %s: %w\", match, ErrArchived)"))
        .expect("the early return in hub.go")
        + 1;
    assert!(fix.ends_with(&format!("hub.go:{ret})")), "{fix}\n{log}");

    // The store: one incident, diagnosed, its bundle complete on disk.
    let inc = only_incident(&store);
    assert_eq!(inc.status, IncidentStatus::Diagnosed);
    assert_eq!(inc.signature, "blocked-group");
    assert_eq!(inc.top_kind.as_deref(), Some("lock-never-released"));
    assert_eq!(inc.severity.as_deref(), Some("critical"));
    let doc: Value = serde_json::from_str(inc.diagnosis.as_deref().expect("json")).expect("json");
    assert_eq!(doc["schema"], "hangdoc.diagnosis/v1");
    assert_eq!(
        doc["findings"][0]["root"][0]["function"],
        "main.(*ScoreHub).Follow"
    );
    let bundle = store.join(&inc.bundle);
    for f in [
        "manifest.json",
        "series/01.txt",
        "series/02.txt",
        "series/03.txt",
        "ss.txt",
    ] {
        assert!(
            bundle.join(f).is_file(),
            "{f} missing in {}",
            bundle.display()
        );
    }
    // The same bundle read by `hangdoc diagnose` says the same.
    let d = hangdoc(
        &[
            "diagnose",
            "--format",
            "json",
            bundle.to_str().expect("utf-8"),
        ],
        Duration::from_secs(60),
    );
    let v: Value = serde_json::from_slice(&d.stdout).expect("diagnosis");
    assert_eq!(v["findings"][0]["kind"], "lock-never-released");
    // Polls before the hang were recorded with their durations.
    let st = Store::open_read_only(&store).expect("store");
    let t = &st.targets().expect("targets")[0];
    assert_eq!(t.name, "scorepush");
    let samples = st.samples(t.id, 0, 1000).expect("samples");
    assert!(samples.len() >= 5, "{samples:?}");
    assert!(samples.iter().all(|s| s.ok && s.poll_ms.is_some()));
}

// ---------------------------------------------------------------------------------------
// A healthy busy service, with real redis and PostgreSQL.

/// Private redis and PostgreSQL instances, stopped on drop.
struct Servers {
    redis: Option<Child>,
    pg: Option<(PathBuf, Vec<String>)>,
    redis_addr: String,
    pg_dsn: String,
}

impl Drop for Servers {
    fn drop(&mut self) {
        if let Some(mut r) = self.redis.take() {
            let _ = r.kill();
            let _ = r.wait();
        }
        if let Some((data, prefix)) = self.pg.take() {
            let mut args = prefix.clone();
            args.extend(["pg_ctl".into(), "-D".into()]);
            args.push(data.to_string_lossy().into_owned());
            args.extend(["-m", "immediate", "-w", "stop"].map(String::from));
            let _ = Command::new(&args[0])
                .args(&args[1..])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_port(port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn which(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts redis-server and PostgreSQL in `dir`; `None` (with the reason) when they are not
/// installed (`bash scenarios/setup-servers.sh` installs them).
fn start_servers(dir: &Path) -> Result<Servers, String> {
    for tool in ["redis-server", "initdb", "pg_ctl"] {
        if !which(tool) {
            return Err(format!("{tool} is not installed"));
        }
    }
    let mut s = Servers {
        redis: None,
        pg: None,
        redis_addr: String::new(),
        pg_dsn: String::new(),
    };
    let rport = free_port();
    let rdir = dir.join("redis");
    std::fs::create_dir_all(&rdir).map_err(|e| e.to_string())?;
    s.redis = Some(
        Command::new("redis-server")
            .args([
                "--port",
                &rport.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--daemonize", "no", "--dir"])
            .arg(&rdir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?,
    );
    if !wait_port(rport, Duration::from_secs(20)) {
        return Err("redis-server did not listen".into());
    }
    s.redis_addr = format!("127.0.0.1:{rport}");

    // PostgreSQL refuses to run as root: run it as the postgres user then.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let (prefix, user): (Vec<String>, String) = if root {
        (
            ["runuser", "-u", "postgres", "--"]
                .map(String::from)
                .to_vec(),
            "postgres".into(),
        )
    } else {
        (
            Vec::new(),
            std::env::var("USER").unwrap_or_else(|_| "postgres".into()),
        )
    };
    let pg = dir.join("pg");
    let sock = pg.join("sock");
    std::fs::create_dir_all(&sock).map_err(|e| e.to_string())?;
    if root {
        let _ = Command::new("chmod").arg("755").arg(dir).status();
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&pg)
            .status();
    }
    let data = pg.join("data");
    let run = |args: &[String]| -> Result<(), String> {
        let mut all = prefix.clone();
        all.extend_from_slice(args);
        let o = Command::new(&all[0])
            .args(&all[1..])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if o.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{all:?}: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ))
        }
    };
    let d = data.to_string_lossy().into_owned();
    run(&[
        "initdb",
        "-D",
        &d,
        "-U",
        &user,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
    ]
    .map(String::from))?;
    let pport = free_port();
    s.pg = Some((data.clone(), prefix.clone()));
    let opts = format!(
        "-p {pport} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off",
        sock.display()
    );
    let log = pg.join("server.log").to_string_lossy().into_owned();
    run(&[
        "pg_ctl", "-D", &d, "-l", &log, "-o", &opts, "-w", "-t", "60", "start",
    ]
    .map(String::from))?;
    if !wait_port(pport, Duration::from_secs(30)) {
        return Err("PostgreSQL did not listen".into());
    }
    s.pg_dsn = format!("postgres://{user}@127.0.0.1:{pport}/postgres?sslmode=disable");
    Ok(s)
}

#[test]
fn a_healthy_busy_service_watched_for_a_while_opens_no_incident() {
    if !go_available("the healthy watch test") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let servers = match start_servers(tmp.path()) {
        Ok(s) => s,
        Err(why) => {
            skip(&format!(
                "skipping the healthy-busy watch test: {why} (bash scenarios/setup-servers.sh installs redis and PostgreSQL)"
            ));
            return;
        }
    };
    let svc = Service::start(
        "incidents",
        "healthy-busy",
        tmp.path(),
        &[
            ("REDIS_ADDR", servers.redis_addr.clone()),
            ("PG_DSN", servers.pg_dsn.clone()),
        ],
    );
    let store = tmp.path().join("store");
    let url = format!("http://{}/debug/pprof/", svc.pprof);
    // Thresholds as tight as the live test's: a busy pool and its contended locks must still
    // not look like a hang.
    let o = hangdoc(
        &[
            "watch",
            "--store",
            store.to_str().expect("utf-8"),
            "--poll",
            "500ms",
            "--warmup",
            "3",
            "--group-for",
            "4s",
            "--exit-after",
            "20s",
            "--log-format",
            "json",
            &url,
        ],
        Duration::from_secs(60),
    );
    let log = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{log}");
    let evs = events(&log);
    assert_eq!(count(&evs, "signature"), 0, "{log}");
    assert_eq!(count(&evs, "target-down"), 0, "{log}");
    let st = Store::open_read_only(&store).expect("store");
    assert!(st.incidents(None, 10).expect("incidents").is_empty());
    let t = &st.targets().expect("targets")[0];
    let samples = st.samples(t.id, 0, 1000).expect("samples");
    assert!(samples.len() >= 20, "only {} polls in 20 s", samples.len());
    assert!(samples.iter().all(|s| s.ok), "{samples:?}");
}

// ---------------------------------------------------------------------------------------
// Local HTTP servers that misbehave.

/// What a fake pprof server does with a request for `path`.
enum Reply {
    Body(String),
    /// Accept, read the request, and never answer.
    Stall,
    /// Close the connection without a reply (the process died).
    Close,
    /// 404, as net/http/pprof answers for a profile it does not serve.
    NotFound,
}

/// A local HTTP server on a port chosen by the caller or the system; stopped on drop.
struct Fake {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Fake {
    fn start(port: u16, reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Fake {
        let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
        let port = l.local_addr().expect("addr").port();
        l.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let reply = Arc::new(reply);
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let Ok((mut c, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let (reply, stop) = (reply.clone(), stop2.clone());
                std::thread::spawn(move || {
                    let _ = c.set_nonblocking(false);
                    let mut req = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        match c.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => req.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&req);
                    let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
                    match reply(&path) {
                        Reply::Body(b) => {
                            let _ = write!(
                                c,
                                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                                b.len()
                            );
                        }
                        Reply::Close => {}
                        Reply::NotFound => {
                            let b = "Unknown profile\n";
                            let _ = write!(
                                c,
                                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                                b.len()
                            );
                        }
                        Reply::Stall => {
                            while !stop.load(Ordering::Relaxed) {
                                std::thread::sleep(Duration::from_millis(50));
                            }
                        }
                    }
                });
            }
        });
        Fake { port, stop }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/debug/pprof/", self.port)
    }
}

/// Hand-written debug=1 profile: `stuck` goroutines waiting on a mutex in main.(*Store).Get,
/// one main goroutine, and the profile writer.
fn debug1(stuck: u64) -> String {
    format!(
        "goroutine profile: total {}
{stuck} @ 0x1 0x2 0x3 0x4
#\t0x1\tsync.runtime_SemacquireMutex+0x25\t/usr/local/go/src/runtime/sema.go:95
#\t0x2\tsync.(*Mutex).lockSlow+0x15d\t/usr/local/go/src/sync/mutex.go:173
#\t0x3\tsync.(*Mutex).Lock+0x48\t/usr/local/go/src/sync/mutex.go:92
#\t0x4\tmain.(*Store).Get+0x2e\t/src/store.go:40

1 @ 0x7 0x8
#\t0x7\truntime/pprof.writeRuntimeProfile+0xb4\t/usr/local/go/src/runtime/pprof/pprof.go:796
#\t0x8\tmain.main+0x10\t/src/main.go:9

",
        stuck + 1
    )
}

/// Hand-written debug=2 dump of the same process.
fn debug2(stuck: u64) -> String {
    let mut s = String::from("goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x10\n\n");
    for i in 0..stuck {
        s.push_str(&format!(
            "goroutine {} [sync.Mutex.Lock, 3 minutes]:\ninternal/sync.runtime_SemacquireMutex(0xc000010104?, 0x0?, 0x0?)\n\t/usr/local/go/src/runtime/sema.go:95 +0x25\ninternal/sync.(*Mutex).lockSlow(0xc000010100)\n\t/usr/local/go/src/internal/sync/mutex.go:149 +0x15d\ninternal/sync.(*Mutex).Lock(...)\n\t/usr/local/go/src/internal/sync/mutex.go:70\nsync.(*Mutex).Lock(...)\n\t/usr/local/go/src/sync/mutex.go:46\nmain.(*Store).Get(0xc000010100, {{0x0, 0x0}})\n\t/src/store.go:40 +0x2e\ncreated by main.serve in goroutine 1\n\t/src/main.go:20 +0x5b\n\n",
            i + 10
        ));
    }
    s
}

/// A process whose mutex group grows by one per poll: the blocked-group signature fires
/// after `--group-for`. `full` answers debug=2 requests.
fn hanging(full: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Fake {
    let polls = AtomicU64::new(0);
    Fake::start(0, move |path| {
        if path.contains("debug=1") {
            Reply::Body(debug1(5 + polls.fetch_add(1, Ordering::Relaxed)))
        } else if path.contains("goroutineleak") {
            Reply::NotFound
        } else {
            full(path)
        }
    })
}

fn watch_args<'a>(store: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "watch",
        "--store",
        store,
        "--poll",
        "300ms",
        "--poll-timeout",
        "1s",
        "--group-for",
        "1s",
        "--capture-count",
        "2",
        "--capture-interval",
        "200ms",
        "--no-sockets",
        "--log-format",
        "json",
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn down_garbage_and_stalled_targets_are_logged_once_and_a_late_target_recovers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store");
    let garbage = Fake::start(0, |_| Reply::Body("<html><body>hello</body></html>".into()));
    let stall = Fake::start(0, |_| Reply::Stall);
    // Down at start: nothing listens on this port for the first 2 s.
    let late_port = free_port();
    let late_url = format!("http://127.0.0.1:{late_port}/debug/pprof/");
    let late: Arc<Mutex<Option<Fake>>> = Default::default();
    let late2 = late.clone();
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        *late2.lock().expect("lock") = Some(Fake::start(late_port, |_| Reply::Body(debug1(0))));
    });
    let (g, s, l) = (
        format!("garbage={}", garbage.url()),
        format!("stall={}", stall.url()),
        format!("late={late_url}"),
    );
    let store_s = store.to_str().expect("utf-8");
    let args = watch_args(store_s, &["--exit-after", "5s", &g, &s, &l]);
    let o = hangdoc(&args, Duration::from_secs(30));
    starter.join().expect("starter");
    let log = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{log}");
    let evs = events(&log);
    let downs = |t: &str| -> Vec<&Value> {
        evs.iter()
            .filter(|e| e["event"] == "target-down" && e["target"] == t)
            .collect()
    };
    // Many failed polls each, one event each.
    let g = downs("garbage");
    assert_eq!(g.len(), 1, "{log}");
    assert_eq!(g[0]["class"], "not-a-dump");
    assert!(
        g[0]["reason"].as_str().is_some_and(|r| r.contains("HTML")),
        "{log}"
    );
    let s = downs("stall");
    assert_eq!(s.len(), 1, "{log}");
    assert_eq!(s[0]["class"], "timeout");
    let l = downs("late");
    assert_eq!(l.len(), 1, "{log}");
    assert_eq!(l[0]["class"], "down");
    assert!(
        evs.iter()
            .any(|e| e["event"] == "target-up" && e["target"] == "late"),
        "{log}"
    );
    assert_eq!(count(&evs, "signature"), 0, "{log}");
    // Every failed poll is still a sample, with its reason.
    let st = Store::open_read_only(&store).expect("store");
    for t in st.targets().expect("targets") {
        let samples = st.samples(t.id, 0, 1000).expect("samples");
        let failed = samples.iter().filter(|x| !x.ok).count();
        assert!(failed >= 2, "{}: {samples:?}", t.name);
        assert!(samples.iter().filter(|x| !x.ok).all(|x| x.error.is_some()));
        if t.name == "late" {
            assert!(samples.last().is_some_and(|x| x.ok), "{samples:?}");
        }
    }
    drop(late);
}

#[test]
fn a_target_that_dies_mid_capture_fails_the_incident_and_watching_goes_on() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store");
    // Polls answer; the full dump never comes: the connection closes.
    let svc = hanging(|_| Reply::Close);
    let url = svc.url();
    let store_s = store.to_str().expect("utf-8");
    let args = watch_args(
        store_s,
        &[
            "--timeout",
            "3s",
            "--max-incidents",
            "1",
            "--exit-after",
            "20s",
            &url,
        ],
    );
    let o = hangdoc(&args, Duration::from_secs(40));
    let log = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{log}");
    let evs = events(&log);
    assert_eq!(count(&evs, "incident-failed"), 1, "{log}");
    assert_eq!(count(&evs, "incident-stored"), 0, "{log}");
    let inc = only_incident(&store);
    assert_eq!(inc.status, IncidentStatus::Failed);
    assert!(inc.error.is_some());
}

/// Starts the watcher in the background with stderr read line by line into `lines`.
fn spawn_watch(args: &[&str]) -> (Child, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hangdoc");
    let err = child.stderr.take().expect("stderr");
    let lines: Arc<Mutex<Vec<String>>> = Default::default();
    let l2 = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            l2.lock().expect("lock").push(line);
        }
    });
    (child, lines)
}

/// Waits until a log line satisfies `f`; returns it.
fn wait_line(lines: &Mutex<Vec<String>>, limit: Duration, f: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        if let Some(v) = lines
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| f(v))
        {
            return v;
        }
        if start.elapsed() > limit {
            panic!(
                "no such log line within {limit:?}:\n{}",
                lines.lock().expect("lock").join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_watcher_killed_mid_capture_restarts_on_the_same_store_without_losing_history() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store");
    let store_s = store.to_str().expect("utf-8");
    // First the full dump is served; later requests for it stall (the capture hangs).
    let stall_full = Arc::new(AtomicBool::new(false));
    let sf = stall_full.clone();
    let svc = hanging(move |_| {
        if sf.load(Ordering::Relaxed) {
            Reply::Stall
        } else {
            Reply::Body(debug2(8))
        }
    });
    let url = format!("svc={}", svc.url());

    // Run 1: one incident, stored and diagnosed.
    let args = watch_args(
        store_s,
        &["--max-incidents", "1", "--exit-after", "20s", &url],
    );
    let o = hangdoc(&args, Duration::from_secs(40));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = only_incident(&store);
    assert_eq!(first.status, IncidentStatus::Diagnosed, "{}", stderr(&o));

    // Run 2: the next capture stalls; SIGKILL while it is capturing.
    stall_full.store(true, Ordering::Relaxed);
    let args = watch_args(store_s, &["--timeout", "60s", "--cooldown", "0s", &url]);
    let (child, lines) = spawn_watch(&args);
    let mut child = Killed(child);
    wait_line(&lines, Duration::from_secs(20), |v| {
        v["event"] == "signature"
    });
    std::thread::sleep(Duration::from_millis(500));
    {
        let st = Store::open_read_only(&store).expect("store");
        let list = st.incidents(None, 10).expect("incidents");
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].status, IncidentStatus::Capturing);
    }
    let _ = child.0.kill();
    let _ = child.0.wait();
    let samples_before = {
        let st = Store::open_read_only(&store).expect("store");
        let t = &st.targets().expect("targets")[0];
        st.samples(t.id, 0, 10_000).expect("samples").len()
    };

    // Run 3: same store. The capturing incident is failed, the first is intact, polling
    // resumes.
    stall_full.store(false, Ordering::Relaxed);
    let args = watch_args(store_s, &["--exit-after", "2s", "--cooldown", "1h", &url]);
    let o = hangdoc(&args, Duration::from_secs(30));
    let log = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{log}");
    let evs = events(&log);
    let rec = evs
        .iter()
        .find(|e| e["event"] == "recovered")
        .unwrap_or_else(|| panic!("no recovered event:\n{log}"));
    assert_eq!(rec["incidents"], 1);
    // The hang persists, but the cooldown counts from the stored incidents.
    assert_eq!(count(&evs, "signature-held"), 1, "{log}");
    let st = Store::open_read_only(&store).expect("store");
    let list = st.incidents(None, 10).expect("incidents");
    let again = list
        .iter()
        .find(|i| i.id == first.id)
        .expect("first incident kept");
    assert_eq!(again.status, IncidentStatus::Diagnosed);
    assert_eq!(again.top_kind, first.top_kind);
    assert!(store.join(&again.bundle).join("manifest.json").is_file());
    let killed = list.iter().find(|i| i.id != first.id).expect("second");
    assert_eq!(killed.status, IncidentStatus::Failed);
    assert!(
        killed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("stopped"))
    );
    let t = &st.targets().expect("targets")[0];
    let samples_after = st.samples(t.id, 0, 10_000).expect("samples").len();
    assert!(
        samples_after > samples_before + 2,
        "{samples_before} → {samples_after}"
    );
}

/// GETs `path` from `addr` with a plain socket, naming `host` in the Host header; fails
/// after 5 s without a whole reply.
fn get_as(addr: &str, host: &str, path: &str) -> String {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(c, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("write");
    let mut s = String::new();
    c.read_to_string(&mut s).expect("a whole reply within 5 s");
    s
}

/// GETs `path` from `addr` as a scraper configured with that address does.
fn get(addr: &str, path: &str) -> String {
    get_as(addr, addr, path)
}

#[test]
fn metrics_are_served_while_watching_beside_stalled_scrapers_and_sigterm_stops_cleanly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store");
    let store_s = store.to_str().expect("utf-8");
    let svc = hanging(|_| Reply::Body(debug2(8)));
    let down_port = free_port();
    let (up, down) = (
        format!("api\"1={}", svc.url()),
        format!("gone=http://127.0.0.1:{down_port}/debug/pprof/"),
    );
    let args = watch_args(store_s, &["--metrics", "127.0.0.1:0", &up, &down]);
    let (child, lines) = spawn_watch(&args);
    let mut child = Killed(child);
    let m = wait_line(&lines, Duration::from_secs(10), |v| {
        v["event"] == "metrics-listening"
    });
    let addr = m["url"]
        .as_str()
        .and_then(|u| u.strip_prefix("http://"))
        .and_then(|u| u.strip_suffix("/metrics"))
        .expect("url")
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    wait_line(&lines, Duration::from_secs(20), |v| {
        v["event"] == "incident-diagnosed"
    });
    // Scrapers that stall mid-request, more of them than the server has workers, hold up
    // no other scraper.
    let stalled: Vec<TcpStream> = (0..6)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).expect("connect");
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: ")
                .expect("write");
            s
        })
        .collect();
    let asked = Instant::now();
    let text = get(&addr, "/metrics");
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "/metrics took {:?} beside stalled scrapers",
        asked.elapsed()
    );
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(text.contains("text/plain; version=0.0.4"), "{text}");
    // The label value is escaped; the down target is down.
    for want in [
        "# TYPE hangdoc_target_up gauge",
        "hangdoc_target_up{target=\"api\\\"1\"} 1",
        "hangdoc_target_up{target=\"gone\"} 0",
        "hangdoc_goroutines{target=\"api\\\"1\",state=\"mutex\"}",
        "# TYPE hangdoc_poll_duration_seconds summary",
        "hangdoc_incidents_total{target=\"api\\\"1\",signature=\"blocked-group\"} 1",
        "# TYPE hangdoc_finding gauge",
        "hangdoc_finding{target=\"api\\\"1\",kind=\"",
        "# HELP hangdoc_close_wait_sockets ",
        "# HELP hangdoc_goroutines_baseline ",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    assert!(get(&addr, "/other").starts_with("HTTP/1.1 404 "));
    // Bound to loopback, a request naming another host (a page served from elsewhere,
    // through a name that resolves here) is refused.
    let port = addr.rsplit_once(':').map(|(_, p)| p).expect("port");
    let foreign = get_as(&addr, &format!("evil.example:{port}"), "/metrics");
    assert!(foreign.starts_with("HTTP/1.1 403 "), "{foreign}");
    assert!(get_as(&addr, &format!("localhost:{port}"), "/metrics").starts_with("HTTP/1.1 200 "));

    // SIGTERM: finish what is in progress and exit 0.
    let _ = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().expect("wait") {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    wait_line(&lines, Duration::from_secs(2), |v| v["event"] == "stopped");
    // Still open: the stalled scrapers did not keep the watcher from stopping.
    drop(stalled);
}
