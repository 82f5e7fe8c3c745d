//! `io-without-deadline`
//!
//! **What it detects.** Goroutines blocked for a long time in network I/O or a dial from
//! application code — an HTTP request with no timeout, a raw connection read without a
//! deadline, a query that never returns — excluding the normal idle waits of servers.
//!
//! **Why it hangs.** A peer that accepts and never answers (or a lost packet on a dead
//! connection) leaves a read without a deadline waiting forever.
//!
//! **Example.** `http.Client{}` (no `Timeout`) calling an upstream that hangs.
//!
//! **Fix.** `http.Client{Timeout: …}`, `conn.SetDeadline`, contexts with deadlines, dialers
//! with `Timeout`.

use ahash::AHashMap;

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::waits::WaitKind;
use crate::knowledge::Role;

/// See the module docs.
pub struct IoWithoutDeadline;

impl Detector for IoWithoutDeadline {
    fn kind(&self) -> &'static str {
        "io-without-deadline"
    }

    fn summary(&self) -> &'static str {
        "goroutines blocked for a long time in network I/O or dial with no timeout"
    }

    fn source(&self) -> &'static str {
        include_str!("io_without_deadline.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let mut by_site: AHashMap<(String, u32), Vec<usize>> = AHashMap::new();
        for (bi, b) in facts.blobs.iter().enumerate() {
            let client = b
                .wait
                .entry
                .is_some_and(|e| matches!(e.role, Role::ClientCall | Role::PoolUse));
            let io = b.wait.kind == WaitKind::NetIo
                || (client
                    && matches!(
                        b.wait.kind,
                        WaitKind::Select | WaitKind::ChanRecv | WaitKind::NetIo
                    ));
            if !io || b.wait.site.is_none() || !b.stuck_evidence() {
                continue;
            }
            let Some(site) = b.site(facts) else { continue };
            by_site
                .entry((site.function.to_string(), site.line))
                .or_default()
                .push(bi);
        }
        let mut out = Vec::new();
        for (_, blobs) in by_site {
            let n = describe::count(facts, &blobs);
            let b = &facts.blobs[blobs[0]];
            let site = b.site(facts).cloned();
            let entry = blobs.iter().find_map(|&x| facts.blobs[x].wait.entry);
            let mut evidence = vec![describe::what_it_does(facts, blobs[0])];
            if let Some(e) = entry {
                evidence.push(format!("they are inside {} ({}), which waits for the peer without a deadline unless one is set", e.library, e.resource));
            }
            evidence.extend(describe::stuck_sentences(facts, &blobs));
            let long = blobs
                .iter()
                .filter_map(|&x| facts.blobs[x].max_wait)
                .max()
                .unwrap_or(0)
                >= 10;
            out.push(Finding {
                kind: self.kind(),
                severity: if long && n >= 10 { Severity::Critical } else { Severity::Warning },
                confidence: if entry.is_some() { 0.75 } else { 0.6 },
                title: format!("{} blocked in network I/O with no deadline", describe::goroutines(n)),
                goroutines: n,
                root: site.iter().map(frame_ref).collect(),
                victims: describe::victims(facts, &blobs),
                resource: Some(Resource { kind: "network".into(), address: None, name: entry.map(|e| e.resource.to_string()) }),
                evidence,
                advice: entry
                    .filter(|e| !e.advice.is_empty())
                    .map(|e| e.advice.to_string())
                    .unwrap_or_else(|| "Give every network call a deadline: http.Client.Timeout or a request context with a deadline, conn.SetReadDeadline before reads, net.Dialer.Timeout, QueryContext with a timeout (and a server-side statement timeout).".into()),
                source: vec![],
            });
        }
        out
    }
}
