//! `hangdoc serve`'s side of HTTP: the [`App`] every request reads, the Host check, routing,
//! and the kinds of reply the UI sends (pages, JSON, error pages). The listener, the
//! per-connection deadlines and the worker threads are [`super::http`]'s.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use super::cache::Cache;
use super::html;
use super::http::{self, Handler, Refusal, Request, host_allowed};
use super::sources::Sources;

/// The pages' modules build their replies from here.
pub use super::http::Reply;

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
    http: http::Server,
    app: Arc<App>,
}

// The UI's own kinds of reply, beside the generic ones of [`super::http`].
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

    /// The plain error page, or a JSON error for the API.
    pub fn error(status: u16, api: bool, message: &str) -> Reply {
        if api {
            return Reply::json(status, &serde_json::json!({ "error": message }));
        }
        Reply::html(status, html::error_page(http::reason(status), message))
    }
}

impl Server {
    /// Binds `cfg.listen`.
    pub fn bind(cfg: Config) -> io::Result<Server> {
        let http = http::Server::bind(
            cfg.listen,
            http::Options {
                name: "serve".into(),
                workers: cfg.workers,
                ..http::Options::default()
            },
        )?;
        let cache = Cache::new(crate::diagnose::Options {
            src: cfg.sources.src.clone(),
        });
        Ok(Server {
            app: Arc::new(App {
                sources: cfg.sources,
                cache,
                addr: http.addr(),
            }),
            http,
        })
    }

    /// The address bound (with the port chosen when `:0` was asked).
    pub fn addr(&self) -> SocketAddr {
        self.app.addr
    }

    /// Serves until the process ends.
    pub fn run(self) -> io::Result<()> {
        self.http.run(self.app)
    }
}

impl Handler for App {
    fn handle(&self, req: &Request) -> Reply {
        handle(self, req)
    }

    fn refuse(&self, why: Refusal, req: Option<&Request>) -> Reply {
        match why {
            Refusal::Failed => Reply::error(
                500,
                req.is_some_and(|r| r.target.starts_with("/api/")),
                "hangdoc failed while drawing this page (a bug: please report it with the evidence)",
            ),
            // Turned away before a byte was read: page or API is unknown, and the short
            // JSON form reads well as either.
            Refusal::Busy => Reply::error(why.status(), true, why.message()),
            _ => Reply::error(why.status(), false, why.message()),
        }
    }
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
