//! The HTTP side: binding, a few worker threads taking requests from the listener, the Host
//! check, routing, and the headers every response carries.
//!
//! Bounded work per request: the listener reads each connection's request head on its own
//! connection thread, so a client that sends slowly holds only that thread, never a worker;
//! and every accepted socket inherits a send timeout from the listening socket, so a client
//! that stops reading a page releases its worker after [`SEND_TIMEOUT`].

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use tiny_http::{Header, Method, Request, Response};

use super::cache::Cache;
use super::html;
use super::sources::Sources;

/// How long a response may wait for a client that does not read it.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// What to serve and where.
#[derive(Debug, Clone)]
pub struct Config {
    /// The stores and bundles to show.
    pub sources: Sources,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Worker threads.
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
    http: Arc<tiny_http::Server>,
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
        let title = match status {
            400 => "Bad request",
            403 => "Forbidden",
            404 => "Not found",
            405 => "Method not allowed",
            _ => "Server error",
        };
        if api {
            return Reply::json(status, &serde_json::json!({ "error": message }));
        }
        Reply::html(status, html::error_page(title, message))
    }
}

impl Server {
    /// Binds `cfg.listen`. A send timeout is set on the listening socket, which accepted
    /// sockets inherit (Linux copies it on accept).
    pub fn bind(cfg: Config) -> io::Result<Server> {
        let listener = TcpListener::bind(cfg.listen)?;
        let addr = listener.local_addr()?;
        // A second handle on the same socket: the option is the socket's, not the handle's.
        let twin = TcpStream::from(std::os::fd::OwnedFd::from(listener.try_clone()?));
        twin.set_write_timeout(Some(SEND_TIMEOUT))?;
        drop(twin);
        let http = tiny_http::Server::from_listener(listener, None).map_err(io::Error::other)?;
        let cache = Cache::new(crate::diagnose::Options {
            src: cfg.sources.src.clone(),
        });
        Ok(Server {
            http: Arc::new(http),
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
        let mut threads = Vec::new();
        for n in 0..self.workers {
            let http = self.http.clone();
            let app = self.app.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("serve-{n}"))
                    .spawn(move || worker(&http, &app))?,
            );
        }
        for t in threads {
            let _ = t.join();
        }
        Ok(())
    }
}

fn worker(http: &tiny_http::Server, app: &App) {
    loop {
        let req = match http.recv() {
            Ok(r) => r,
            // The listener is gone: nothing more will come.
            Err(_) => return,
        };
        let reply = match catch_unwind(AssertUnwindSafe(|| handle(app, &req))) {
            Ok(r) => r,
            Err(_) => Reply::error(
                500,
                req.url().starts_with("/api/"),
                "hangdoc failed while drawing this page (a bug: please report it with the evidence)",
            ),
        };
        respond(req, reply);
    }
}

fn respond(req: Request, r: Reply) {
    let mut resp = Response::from_data(r.body).with_status_code(r.status);
    let mut headers = vec![
        ("Content-Type", r.content_type.to_string()),
        ("X-Content-Type-Options", "nosniff".to_string()),
        ("Referrer-Policy", "no-referrer".to_string()),
        ("X-Frame-Options", "DENY".to_string()),
        // Pages are drawn from live data: a reload must ask again.
        ("Cache-Control", "no-store".to_string()),
    ];
    if let Some(p) = r.policy {
        headers.push(("Content-Security-Policy", p));
    }
    for (k, v) in headers {
        if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            resp.add_header(h);
        }
    }
    // A client gone or too slow to read: nothing to do but drop the connection.
    let _ = req.respond(resp);
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
    let url = req.url();
    let api = url.starts_with("/api/");
    let host = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_string());
    match host {
        Some(h) if host_allowed(&h, app.addr) => {}
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
    if !matches!(req.method(), Method::Get | Method::Head) {
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
