//! The HTTP side: binding, the accept loop, reading each request head under a deadline, a
//! few worker threads drawing the pages, the Host check, routing, and the headers every
//! response carries. Only GET and HEAD; one request per connection (`Connection: close`).
//!
//! Bounded work per client: each connection has its own small thread (at most
//! [`MAX_CONNECTIONS`] at once; more are turned away with a 503) that must receive the whole
//! request head within [`HEAD_TIMEOUT`] and may wait [`SEND_TIMEOUT`] per write of the reply.
//! The pages are drawn by [`Config::workers`] worker threads, so a client that sends or
//! reads slowly holds only its own connection thread, never a worker, and never for long.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded};

use super::cache::Cache;
use super::html;
use super::sources::Sources;

/// How long a client may take to send its whole request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one write of a reply may wait for a client that does not read.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more are answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 64;
/// The longest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// What to serve and where.
#[derive(Debug, Clone)]
pub struct Config {
    /// The stores and bundles to show.
    pub sources: Sources,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Worker threads drawing pages.
    pub workers: usize,
}

/// What every worker reads.
pub struct App {
    /// The stores and bundles.
    pub sources: Sources,
    /// Parsed and diagnosed bundles.
    pub cache: Cache,
    /// The bound address.
    pub addr: SocketAddr,
}

/// A bound server, ready to [`Server::run`].
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
    workers: usize,
}

/// A response before it is sent.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
    /// The Content-Security-Policy of an HTML page.
    pub policy: Option<String>,
}

impl Reply {
    /// An HTML page of the served UI.
    pub fn html(status: u16, body: String) -> Reply {
        Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body: body.into_bytes(),
            policy: Some(html::POLICY.to_string()),
        }
    }

    /// A JSON document.
    pub fn json(status: u16, value: &impl serde::Serialize) -> Reply {
        let body = serde_json::to_vec_pretty(value).unwrap_or_else(|e| {
            format!(
                "{{\"error\": \"cannot serialise: {}\"}}",
                e.to_string().replace('"', "'")
            )
            .into_bytes()
        });
        Reply {
            status,
            content_type: "application/json",
            body,
            policy: None,
        }
    }

    /// The plain error page, or a JSON error for the API.
    pub fn error(status: u16, api: bool, message: &str) -> Reply {
        if api {
            return Reply::json(status, &serde_json::json!({ "error": message }));
        }
        Reply::html(status, html::error_page(reason(status), message))
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

/// A request head as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The request target (`/path?query`).
    pub target: String,
    /// The Host header, if sent.
    pub host: Option<String>,
}

impl Request {
    /// Reads a request head (up to the blank line); `None` when it is not HTTP/1.x.
    pub fn parse(head: &[u8]) -> Option<Request> {
        let text = std::str::from_utf8(head).ok()?;
        let mut lines = text.split("\r\n");
        let mut first = lines.next()?.split(' ');
        let (method, target, version) = (first.next()?, first.next()?, first.next()?);
        if first.next().is_some() || !version.starts_with("HTTP/1.") || !target.starts_with('/') {
            return None;
        }
        let mut host = None;
        for l in lines.take_while(|l| !l.is_empty()) {
            let (k, v) = l.split_once(':')?;
            if k.trim().eq_ignore_ascii_case("host") {
                if host.is_some() {
                    // Two Host headers: which one a proxy saw is unknowable.
                    return None;
                }
                host = Some(v.trim().to_string());
            }
        }
        Some(Request {
            method: method.to_string(),
            target: target.to_string(),
            host,
        })
    }
}

struct Job {
    req: Request,
    done: Sender<Reply>,
}

impl Server {
    /// Binds `cfg.listen`.
    pub fn bind(cfg: Config) -> io::Result<Server> {
        let listener = TcpListener::bind(cfg.listen)?;
        let addr = listener.local_addr()?;
        let cache = Cache::new(crate::diagnose::Options {
            src: cfg.sources.src.clone(),
        });
        Ok(Server {
            listener,
            app: Arc::new(App {
                sources: cfg.sources,
                cache,
                addr,
            }),
            workers: cfg.workers.clamp(1, 64),
        })
    }

    /// The address bound (with the port chosen when `:0` was asked).
    pub fn addr(&self) -> SocketAddr {
        self.app.addr
    }

    /// Serves until the process ends.
    pub fn run(self) -> io::Result<()> {
        let (jobs, queue) = bounded::<Job>(self.workers * 4);
        for n in 0..self.workers {
            let queue = queue.clone();
            let app = self.app.clone();
            std::thread::Builder::new()
                .name(format!("serve-worker-{n}"))
                .spawn(move || {
                    for job in queue {
                        let api = job.req.target.starts_with("/api/");
                        let reply = catch_unwind(AssertUnwindSafe(|| handle(&app, &job.req)))
                            .unwrap_or_else(|_| {
                                Reply::error(
                                    500,
                                    api,
                                    "hangdoc failed while drawing this page (a bug: please report it with the evidence)",
                                )
                            });
                        let _ = job.done.send(reply);
                    }
                })?;
        }
        let live = Arc::new(AtomicUsize::new(0));
        for conn in self.listener.incoming() {
            let mut stream = match conn {
                Ok(s) => s,
                Err(_) => {
                    // Out of descriptors, or a connection reset before it was accepted:
                    // wait a little rather than spin.
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            if live.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = send(
                    &mut stream,
                    false,
                    Reply::error(503, true, "too many connections; try again"),
                );
                continue;
            }
            live.fetch_add(1, Ordering::AcqRel);
            let (live, jobs) = (live.clone(), jobs.clone());
            let spawned = std::thread::Builder::new()
                .name("serve-conn".into())
                .spawn(move || {
                    connection(stream, &jobs);
                    live.fetch_sub(1, Ordering::AcqRel);
                });
            if spawned.is_err() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }
}

/// One connection: read the head before the deadline, have a worker draw the reply, send it.
fn connection(mut stream: TcpStream, jobs: &Sender<Job>) {
    let _ = stream.set_write_timeout(Some(SEND_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let end = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            let _ = send(
                &mut stream,
                false,
                Reply::error(408, false, "the request took too long to arrive"),
            );
            return;
        }
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => return,
        }
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if head.len() > MAX_HEAD {
            let _ = send(
                &mut stream,
                false,
                Reply::error(431, false, "the request head is too long"),
            );
            return;
        }
    };
    let Some(req) = Request::parse(&head[..end]) else {
        let _ = send(
            &mut stream,
            false,
            Reply::error(400, false, "not an HTTP/1 request this server reads"),
        );
        return;
    };
    let head_only = req.method == "HEAD";
    let (done, reply) = bounded(1);
    if jobs.send(Job { req, done }).is_err() {
        return;
    }
    if let Ok(r) = reply.recv() {
        // A client gone or too slow to read: nothing to do but drop the connection.
        let _ = send(&mut stream, head_only, r);
    }
}

fn send(stream: &mut TcpStream, head_only: bool, r: Reply) -> io::Result<()> {
    let mut h = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\nCache-Control: no-store\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    if let Some(p) = &r.policy {
        h.push_str("Content-Security-Policy: ");
        h.push_str(p);
        h.push_str("\r\n");
    }
    h.push_str("\r\n");
    stream.write_all(h.as_bytes())?;
    if !head_only {
        stream.write_all(&r.body)?;
    }
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

/// Whether `host` (a Host header) names this server: with a loopback bind, only the bound
/// address, `localhost` or another loopback literal, on the bound port. A name that only
/// resolves here by a DNS trick is refused, so no other site's page can read this one.
pub fn host_allowed(host: &str, bound: SocketAddr) -> bool {
    if !bound.ip().is_loopback() {
        return true;
    }
    let host = host.trim();
    let (name, port) = match host.rsplit_once(':') {
        // `[::1]:7777`, `127.0.0.1:7777`, `localhost:7777`; `::1` alone has colons too.
        Some((n, p)) if !p.contains(']') && (n.ends_with(']') || !n.contains(':')) => (n, Some(p)),
        _ => (host, None),
    };
    let port_ok = match port {
        Some(p) => p.parse::<u16>().ok() == Some(bound.port()),
        None => bound.port() == 80,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    let name_ok = name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    port_ok && name_ok
}

fn handle(app: &App, req: &Request) -> Reply {
    let url = req.target.as_str();
    let api = url.starts_with("/api/");
    match &req.host {
        Some(h) if host_allowed(h, app.addr) => {}
        _ => {
            return Reply::error(
                403,
                api,
                &format!(
                    "this server answers only requests for {} (or localhost on that port); the Host header named another",
                    app.addr
                ),
            );
        }
    }
    if req.method != "GET" && req.method != "HEAD" {
        return Reply::error(405, api, "this server only reads: use GET");
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    route(app, path, query)
}

/// Maps a path and query to the page or document.
pub fn route(app: &App, path: &str, query: &str) -> Reply {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    use super::sources::{Evidence, RowRef};
    use super::{api, compare_page, pages, reports};
    let bundle = |s: &str| -> Option<usize> {
        (s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match segs.as_slice() {
        [] => pages::overview(app),
        ["targets", id] => match RowRef::parse(id) {
            Some(r) => pages::target(app, r),
            None => not_found(false),
        },
        ["incidents", id] => match RowRef::parse(id) {
            Some(r) => reports::report(app, Evidence::Incident(r)),
            None => not_found(false),
        },
        ["bundles", n] => match bundle(n) {
            Some(n) => reports::report(app, Evidence::Bundle(n)),
            None => not_found(false),
        },
        ["compare"] => compare_page::page(app, query),
        ["api", "overview"] => Reply::json(200, &api::overview(app)),
        ["api", "targets", id] => match RowRef::parse(id) {
            Some(r) => api::target(app, r),
            None => not_found(true),
        },
        ["api", "incidents", id] => match RowRef::parse(id) {
            Some(r) => api::incident(app, r),
            None => not_found(true),
        },
        ["api", "bundles", n] => match bundle(n) {
            Some(n) => api::bundle(app, n),
            None => not_found(true),
        },
        ["api", "compare"] => compare_page::json(app, query),
        ["api", ..] => not_found(true),
        _ => not_found(false),
    }
}

fn not_found(api: bool) -> Reply {
    Reply::error(
        404,
        api,
        "no such page: the pages are /, /targets/ID, /incidents/ID, /bundles/N and /compare (and the same under /api/)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads_parse_strictly() {
        let r = Request::parse(b"GET /a?b=1 HTTP/1.1\r\nhost: x:1\r\nAccept: */*").unwrap();
        assert_eq!(
            (r.method.as_str(), r.target.as_str(), r.host.as_deref()),
            ("GET", "/a?b=1", Some("x:1"))
        );
        assert_eq!(Request::parse(b"GET / HTTP/1.0").unwrap().host, None);
        for bad in [
            &b"GET http://evil/ HTTP/1.1"[..],
            b"GET / HTTP/2",
            b"GET  / HTTP/1.1",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b",
            b"GET / HTTP/1.1\r\nno colon",
            b"\xff / HTTP/1.1",
        ] {
            assert_eq!(
                Request::parse(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn only_loopback_names_on_the_bound_port_pass() {
        let a: SocketAddr = "127.0.0.1:7777".parse().unwrap();
        for ok in [
            "127.0.0.1:7777",
            "localhost:7777",
            "LOCALHOST:7777",
            "[::1]:7777",
            "127.0.0.2:7777",
        ] {
            assert!(host_allowed(ok, a), "{ok}");
        }
        for bad in [
            "evil.example:7777",
            "127.0.0.1:8080",
            "127.0.0.1",
            "localhost.evil.example:7777",
            "",
            "7777",
            "127.0.0.1.nip.io:7777",
        ] {
            assert!(!host_allowed(bad, a), "{bad}");
        }
        let any: SocketAddr = "0.0.0.0:7777".parse().unwrap();
        assert!(host_allowed("box.lan:7777", any));
    }
}
