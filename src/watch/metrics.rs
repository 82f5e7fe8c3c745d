//! `/metrics` in the Prometheus text format: what each target looks like now and what the
//! watcher has found, from state the pollers update after every poll.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::web::http::{self, Reply, Request, host_allowed};

/// One target's numbers.
#[derive(Debug, Clone, Default)]
pub struct TargetMetrics {
    /// The last poll succeeded.
    pub up: bool,
    /// Goroutines by wait, from the last successful poll.
    pub by_state: Vec<(String, u64)>,
    /// The learned goroutine baseline.
    pub baseline: Option<f64>,
    /// CLOSE_WAIT sockets at the last poll, when read.
    pub close_wait: Option<u64>,
    /// Polls taken.
    pub polls: u64,
    /// Seconds spent polling, in all.
    pub poll_seconds: f64,
    /// Incidents opened, by signature.
    pub incidents: BTreeMap<String, u64>,
    /// The top finding of the last diagnosed incident: kind and severity.
    pub finding: Option<(String, String)>,
}

/// Every target's numbers, by target name.
pub type Shared = Arc<Mutex<BTreeMap<String, TargetMetrics>>>;

/// Updates `target`'s numbers in place.
pub fn update(shared: &Shared, target: &str, f: impl FnOnce(&mut TargetMetrics)) {
    // A poisoned lock only means another thread panicked mid-update: numbers, not invariants.
    let mut m = shared.lock().unwrap_or_else(|p| p.into_inner());
    f(m.entry(target.to_string()).or_default());
}

/// A label value with `\`, `"` and line breaks escaped.
pub fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// The exposition text.
pub fn render(targets: &BTreeMap<String, TargetMetrics>) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (series, value) in rows {
            let _ = writeln!(out, "{series} {value}");
        }
    };
    let t = |name: &str| format!("target=\"{}\"", escape(name));
    family(
        "hangdoc_target_up",
        "gauge",
        "Whether the last poll of the target returned a goroutine profile.",
        targets
            .iter()
            .map(|(n, m)| {
                (
                    format!("hangdoc_target_up{{{}}}", t(n)),
                    u8::from(m.up).to_string(),
                )
            })
            .collect(),
    );
    family(
        "hangdoc_goroutines",
        "gauge",
        "Goroutines at the last successful poll, by what they wait for.",
        targets
            .iter()
            .flat_map(|(n, m)| {
                m.by_state.iter().map(move |(state, v)| {
                    (
                        format!("hangdoc_goroutines{{{},state=\"{}\"}}", t(n), escape(state)),
                        v.to_string(),
                    )
                })
            })
            .collect(),
    );
    family(
        "hangdoc_goroutines_baseline",
        "gauge",
        "The goroutine count the target normally runs (a high percentile of recent healthy polls).",
        targets
            .iter()
            .filter_map(|(n, m)| {
                m.baseline.map(|b| {
                    (
                        format!("hangdoc_goroutines_baseline{{{}}}", t(n)),
                        b.to_string(),
                    )
                })
            })
            .collect(),
    );
    family(
        "hangdoc_close_wait_sockets",
        "gauge",
        "Sockets of the target in CLOSE_WAIT at the last poll (targets on this machine).",
        targets
            .iter()
            .filter_map(|(n, m)| {
                m.close_wait.map(|c| {
                    (
                        format!("hangdoc_close_wait_sockets{{{}}}", t(n)),
                        c.to_string(),
                    )
                })
            })
            .collect(),
    );
    family(
        "hangdoc_poll_duration_seconds",
        "summary",
        "Time spent polling the target (fetching and reading its profile and socket table).",
        targets
            .iter()
            .flat_map(|(n, m)| {
                [
                    (
                        format!("hangdoc_poll_duration_seconds_sum{{{}}}", t(n)),
                        format!("{:.6}", m.poll_seconds),
                    ),
                    (
                        format!("hangdoc_poll_duration_seconds_count{{{}}}", t(n)),
                        m.polls.to_string(),
                    ),
                ]
            })
            .collect(),
    );
    family(
        "hangdoc_incidents_total",
        "counter",
        "Incidents opened since the watcher started, by the signature that fired.",
        targets
            .iter()
            .flat_map(|(n, m)| {
                m.incidents.iter().map(move |(sig, v)| {
                    (
                        format!(
                            "hangdoc_incidents_total{{{},signature=\"{}\"}}",
                            t(n),
                            escape(sig)
                        ),
                        v.to_string(),
                    )
                })
            })
            .collect(),
    );
    family(
        "hangdoc_finding",
        "gauge",
        "The top finding of the target's last diagnosed incident (always 1).",
        targets
            .iter()
            .filter_map(|(n, m)| {
                m.finding.as_ref().map(|(kind, sev)| {
                    (
                        format!(
                            "hangdoc_finding{{{},kind=\"{}\",severity=\"{}\"}}",
                            t(n),
                            escape(kind),
                            escape(sev)
                        ),
                        "1".to_string(),
                    )
                })
            })
            .collect(),
    );
    out
}

/// The `/metrics` server, answering on its own threads until dropped.
pub struct Server {
    addr: SocketAddr,
    stop: http::Stop,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// The address bound (with the port chosen when `:0` was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    /// Stops listening; waits for the listener's thread when it could be woken. Scrapes
    /// already accepted finish on their own deadlines.
    fn drop(&mut self) {
        if self.stop.stop() {
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }
}

/// Serves `/metrics` on `addr` until the returned [`Server`] is dropped. Each scraper has its
/// own connection thread and deadlines, so one that stalls holds up no other.
pub fn serve(addr: &str, shared: Shared) -> Result<Server, String> {
    let server = http::Server::bind(
        addr,
        http::Options {
            name: "metrics".into(),
            workers: 2,
            ..http::Options::default()
        },
    )
    .map_err(|e| format!("--metrics {addr}: cannot listen: {e}"))?;
    let bound = server.addr();
    let stop = server.stopper();
    let handler = move |req: &Request| reply(&shared, bound, req);
    let thread = std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            // Fails only when no worker thread can be started: then there is nothing to serve.
            let _ = server.run(Arc::new(handler));
        })
        .map_err(|e| format!("--metrics {addr}: cannot start its thread: {e}"))?;
    Ok(Server {
        addr: bound,
        stop,
        thread: Some(thread),
    })
}

/// The answer to one request of a server bound to `bound`.
fn reply(shared: &Shared, bound: SocketAddr, req: &Request) -> Reply {
    // Bound to loopback, only a request naming this machine is answered: a web page in a
    // browser here cannot read the metrics through a name it points at 127.0.0.1.
    if bound.ip().is_loopback() && !req.host.as_deref().is_some_and(|h| host_allowed(h, bound)) {
        return Reply::text(
            403,
            format!(
                "hangdoc watch answers only requests for {bound} (or localhost on that port)\n"
            ),
        );
    }
    if req.method != "GET" && req.method != "HEAD" {
        return Reply::text(405, "hangdoc watch: /metrics is read with GET\n");
    }
    if req.path() != "/metrics" {
        return Reply::text(404, "hangdoc watch: see /metrics\n");
    }
    let body = {
        let m = shared.lock().unwrap_or_else(|p| p.into_inner());
        render(&m)
    };
    Reply {
        status: 200,
        content_type: "text/plain; version=0.0.4; charset=utf-8",
        body: body.into_bytes(),
        policy: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_help_type_and_escaped_labels() {
        let mut m = BTreeMap::new();
        m.insert(
            "a\"b\\c".to_string(),
            TargetMetrics {
                up: true,
                by_state: vec![("chan receive".into(), 7)],
                baseline: Some(40.0),
                close_wait: Some(2),
                polls: 3,
                poll_seconds: 0.25,
                incidents: [("blocked-group".to_string(), 1)].into(),
                finding: Some(("lock-never-released".into(), "critical".into())),
            },
        );
        let s = render(&m);
        assert!(s.contains("# TYPE hangdoc_target_up gauge\n"));
        assert!(
            s.contains("hangdoc_target_up{target=\"a\\\"b\\\\c\"} 1\n"),
            "{s}"
        );
        assert!(s.contains("state=\"chan receive\"} 7\n"), "{s}");
        assert!(s.contains("hangdoc_poll_duration_seconds_count{target=\"a\\\"b\\\\c\"} 3\n"));
        assert!(s.contains("signature=\"blocked-group\"} 1\n"));
        assert!(s.contains("kind=\"lock-never-released\",severity=\"critical\"} 1\n"));
        for line in s.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("hangdoc_"), "{line}");
        }
    }
}
