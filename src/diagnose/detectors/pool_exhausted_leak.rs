//! `pool-exhausted-leak`
//!
//! **What it detects.** Goroutines wait for a pooled resource — a database/sql connection, a
//! redigo/go-redis/pgx connection, an HTTP transport slot, a semaphore weight — while no
//! goroutine visibly uses one: the resources were taken and never given back.
//!
//! **Why it hangs.** A pool lends at most N resources. Each `Rows` not closed, each `Get`
//! without `Close`, each `Acquire` without `Release` on an error path keeps one forever; after
//! N leaks every caller waits, and without a deadline waits forever.
//!
//! **Example.** `rows, _ := db.Query(…); for rows.Next() { if err := rows.Scan(…); err != nil
//! { return err } }` — the early return skips `rows.Close()`.
//!
//! **Fix.** `defer rows.Close()` / `defer conn.Close()` / `defer sem.Release(1)` right after
//! acquiring; bound every acquire with a context deadline.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::pools::pools;

/// See the module docs.
pub struct PoolExhaustedLeak;

impl Detector for PoolExhaustedLeak {
    fn kind(&self) -> &'static str {
        "pool-exhausted-leak"
    }

    fn summary(&self) -> &'static str {
        "goroutines wait for a pooled resource and no holder is visible: the resources leaked"
    }

    fn source(&self) -> &'static str {
        include_str!("pool_exhausted_leak.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let mut out = Vec::new();
        for p in pools(facts) {
            if !p.nested.is_empty() || !p.users.is_empty() {
                continue;
            }
            let stuck = p.waiters.iter().any(|&w| facts.blobs[w].stuck_evidence());
            if !stuck && p.waiting < 2 {
                continue;
            }
            let mut root = Vec::new();
            for &w in &p.waiters {
                if let Some(s) = facts.blobs[w].site(facts) {
                    let r = frame_ref(s);
                    if !root.contains(&r) {
                        root.push(r);
                    }
                }
            }
            let mut evidence = vec![format!(
                "{} for the {}{}, and no goroutine is using one of its resources",
                describe::n_verb(p.waiting, "waits", "wait"),
                p.entry.resource,
                p.object
                    .map(|o| format!(" at {}", describe::hex(o)))
                    .unwrap_or_default()
            )];
            if let Some((port, n)) = p.open_conns {
                evidence.push(format!("{n} ESTABLISHED connections to port {port} are open: the pool is full, yet no goroutine is using them — they are held by code that returned (leaked)"));
            }
            if let Some((port, n, q)) = facts.close_wait_by_local_port().first().copied() {
                evidence.push(format!("{n} sockets in CLOSE_WAIT on local port {port}{}: clients gave up on requests that are still stuck here", if q > 0 { format!(" with {q} unread bytes") } else { String::new() }));
            }
            evidence.extend(describe::stuck_sentences(facts, &p.waiters));
            let (sev, conf) = match (stuck, p.open_conns.is_some()) {
                (true, true) => (Severity::Critical, 0.85),
                (true, false) => (Severity::Critical, 0.7),
                (false, true) => (Severity::Warning, 0.65),
                (false, false) => (Severity::Warning, 0.5),
            };
            out.push(Finding {
                kind: self.kind(),
                severity: sev,
                confidence: conf,
                title: format!(
                    "{} for the {}, which is drained: resources were taken and never returned",
                    describe::n_verb(p.waiting, "waits", "wait"), p.entry.resource),
                goroutines: p.waiting,
                root,
                victims: describe::victims(facts, &p.waiters),
                resource: Some(Resource { kind: "pool".into(), address: p.object.map(describe::hex), name: Some(p.entry.resource.to_string()) }),
                evidence,
                advice: format!("One of the functions that take from this pool keeps what it took on some path. {}", p.entry.advice),
                source: vec![],
            });
        }
        out
    }
}
