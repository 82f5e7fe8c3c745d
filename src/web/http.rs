//! The small HTTP/1 server under `hangdoc serve` and the watcher's `/metrics`: binding, the
//! accept loop, reading each request head under a deadline, worker threads drawing replies,
//! sending them, and the Host check. Only what a reader of these pages needs: one request per
//! connection (`Connection: close`), no request bodies, no keep-alive.
//!
//! Bounded work per client: each connection has its own small thread (at most
//! [`Options::max_connections`] at once; more are turned away with a 503) that must receive
//! the whole request head within [`Options::head_timeout`] and may wait
//! [`Options::send_timeout`] per write of the reply. Replies are drawn by
//! [`Options::workers`] worker threads that never touch a socket, so a client that sends or
//! reads slowly holds only its own connection thread, never a worker, and never for long.
//!
//! What a reply says is up to a [`Handler`]; [`Server::run`] serves until [`Stop::stop`].

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded};

/// How long a client may take to send its whole request head, by default.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one write of a reply may wait for a client that does not read, by default.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once by default; more are answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 64;
/// The longest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// How a [`Server`] bounds its clients.
#[derive(Debug, Clone)]
pub struct Options {
    /// Names its threads: `NAME-worker-N`, `NAME-conn`.
    pub name: String,
    /// Worker threads drawing replies (clamped to 1..=64).
    pub workers: usize,
    /// How long a client may take to send its whole request head (else 408).
    pub head_timeout: Duration,
    /// How long one write of a reply may wait for a client that does not read.
    pub send_timeout: Duration,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            name: "http".into(),
            workers: 4,
            head_timeout: HEAD_TIMEOUT,
            send_timeout: SEND_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
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

    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }
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
    /// A plain-text reply.
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into().into_bytes(),
            policy: None,
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
}

/// Why the server answered without asking the handler what to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many connections at once (503).
    Busy,
    /// The request head did not arrive in time (408).
    Slow,
    /// The request head is too long (431).
    TooLong,
    /// Not an HTTP/1 request head (400).
    Malformed,
    /// The handler panicked while drawing the reply (500).
    Failed,
}

impl Refusal {
    /// The status sent.
    pub fn status(self) -> u16 {
        match self {
            Refusal::Busy => 503,
            Refusal::Slow => 408,
            Refusal::TooLong => 431,
            Refusal::Malformed => 400,
            Refusal::Failed => 500,
        }
    }

    /// What the client is told.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Busy => "too many connections; try again",
            Refusal::Slow => "the request took too long to arrive",
            Refusal::TooLong => "the request head is too long",
            Refusal::Malformed => "not an HTTP/1 request this server reads",
            Refusal::Failed => "hangdoc failed while drawing this reply (a bug: please report it)",
        }
    }
}

/// What a server says. Called on a worker thread, never with a socket in hand.
pub trait Handler: Send + Sync + 'static {
    /// The reply to a request that was read in full.
    fn handle(&self, req: &Request) -> Reply;

    /// The reply when the server refuses by itself; `req` is the request when it was read.
    fn refuse(&self, why: Refusal, req: Option<&Request>) -> Reply {
        let _ = req;
        Reply::text(why.status(), format!("{}\n", why.message()))
    }
}

impl<F> Handler for F
where
    F: Fn(&Request) -> Reply + Send + Sync + 'static,
{
    fn handle(&self, req: &Request) -> Reply {
        self(req)
    }
}

/// Ends a [`Server::run`] from another thread.
#[derive(Debug, Clone)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Stop {
    /// Asks the loop to end and wakes it with a connection of its own. False when that
    /// connection could not be made: the loop then ends at its next client, so do not wait
    /// for it.
    pub fn stop(&self) -> bool {
        self.flag.store(true, Ordering::Release);
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        TcpStream::connect_timeout(
            &SocketAddr::new(ip, self.addr.port()),
            Duration::from_secs(1),
        )
        .is_ok()
    }
}

/// A bound listener, ready to [`Server::run`].
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    opts: Options,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Binds `addr` (the first of its addresses that binds).
    pub fn bind(addr: impl ToSocketAddrs, opts: Options) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        Ok(Server {
            listener,
            addr,
            opts,
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The address bound (with the port chosen when `:0` was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that ends [`Server::run`].
    pub fn stopper(&self) -> Stop {
        Stop {
            flag: self.stop.clone(),
            addr: self.addr,
        }
    }

    /// Serves with `handler` until [`Stop::stop`] is called. Connections already accepted
    /// finish on their own deadlines.
    pub fn run(self, handler: Arc<dyn Handler>) -> io::Result<()> {
        let opts = &self.opts;
        let workers = opts.workers.clamp(1, 64);
        let (jobs, queue) = bounded::<Job>(workers * 4);
        for n in 0..workers {
            let queue = queue.clone();
            let handler = handler.clone();
            std::thread::Builder::new()
                .name(format!("{}-worker-{n}", opts.name))
                .spawn(move || {
                    for job in queue {
                        let reply = catch_unwind(AssertUnwindSafe(|| handler.handle(&job.req)))
                            .unwrap_or_else(|_| handler.refuse(Refusal::Failed, Some(&job.req)));
                        let _ = job.done.send(reply);
                    }
                })?;
        }
        let live = Arc::new(AtomicUsize::new(0));
        for conn in self.listener.incoming() {
            if self.stop.load(Ordering::Acquire) {
                break;
            }
            let mut stream = match conn {
                Ok(s) => s,
                Err(_) => {
                    // Out of descriptors, or a connection reset before it was accepted:
                    // wait a little rather than spin.
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            if live.load(Ordering::Acquire) >= opts.max_connections {
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = send(&mut stream, false, handler.refuse(Refusal::Busy, None));
                continue;
            }
            live.fetch_add(1, Ordering::AcqRel);
            let (live, jobs, handler) = (live.clone(), jobs.clone(), handler.clone());
            let (head_timeout, send_timeout) = (opts.head_timeout, opts.send_timeout);
            let spawned = std::thread::Builder::new()
                .name(format!("{}-conn", opts.name))
                .spawn(move || {
                    connection(stream, &jobs, &*handler, head_timeout, send_timeout);
                    live.fetch_sub(1, Ordering::AcqRel);
                });
            if spawned.is_err() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }
}

struct Job {
    req: Request,
    done: Sender<Reply>,
}

/// One connection: read the head before the deadline, have a worker draw the reply, send it.
fn connection(
    mut stream: TcpStream,
    jobs: &Sender<Job>,
    handler: &dyn Handler,
    head_timeout: Duration,
    send_timeout: Duration,
) {
    let _ = stream.set_write_timeout(Some(send_timeout));
    let _ = stream.set_nodelay(true);
    let deadline = Instant::now() + head_timeout;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let end = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            let _ = send(&mut stream, false, handler.refuse(Refusal::Slow, None));
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
            let _ = send(&mut stream, false, handler.refuse(Refusal::TooLong, None));
            return;
        }
    };
    let Some(req) = Request::parse(&head[..end]) else {
        let _ = send(&mut stream, false, handler.refuse(Refusal::Malformed, None));
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

/// The reason phrase of a status this server sends.
pub fn reason(status: u16) -> &'static str {
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
        assert_eq!(r.path(), "/a");
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

    /// A request over a real socket, the reply as text.
    fn fetch(addr: SocketAddr, head: &str) -> String {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(head.as_bytes()).unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn a_stopped_server_returns_and_a_panicking_handler_is_a_500() {
        let server = Server::bind("127.0.0.1:0", Options::default()).unwrap();
        let (addr, stop) = (server.addr(), server.stopper());
        let handler = |req: &Request| -> Reply {
            if req.path() == "/boom" {
                panic!("drawing failed");
            }
            Reply::text(200, format!("{} {}", req.method, req.target))
        };
        let run = std::thread::spawn(move || server.run(Arc::new(handler)));
        let ok = fetch(addr, "GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\nGET /a?b"), "{ok}");
        let head = fetch(addr, "HEAD / HTTP/1.1\r\n\r\n");
        assert!(head.contains("Content-Length: 6\r\n") && head.ends_with("\r\n\r\n"));
        let bad = fetch(addr, "GET http://x/ HTTP/1.1\r\n\r\n");
        assert!(bad.starts_with("HTTP/1.1 400 "), "{bad}");
        let boom = fetch(addr, "GET /boom HTTP/1.1\r\n\r\n");
        assert!(boom.starts_with("HTTP/1.1 500 "), "{boom}");
        // The workers survive a panic.
        assert!(fetch(addr, "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 "));
        assert!(stop.stop());
        run.join().unwrap().unwrap();
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
            "still listening after stop"
        );
    }
}
