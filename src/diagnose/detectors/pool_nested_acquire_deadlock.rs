//! `pool-nested-acquire-deadlock`
//!
//! **What it detects.** A pool's holders are themselves waiting for a second resource from
//! the same pool: a function holds a connection and calls something that takes another.
//!
//! **Why it hangs.** With N resources and N concurrent outer calls, every resource is held
//! by an outer call that waits for one more. Nobody returns one; the pool deadlocks, and
//! every other caller queues behind it.
//!
//! **Example.** `c := pool.Get(); defer c.Close(); … loadItem(id)` where `loadItem` does its
//! own `pool.Get()`.
//!
//! **Fix.** Pass the held connection down instead of taking another; or release it before
//! calling out; bound acquisition with a deadline.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::pools::pools;

/// See the module docs.
pub struct PoolNestedAcquire;

/// The distinct functions of `root`, joined.
fn outer_names(root: &[crate::diagnose::finding::FrameRef]) -> String {
    let mut names: Vec<&str> = root.iter().map(|r| r.function.as_str()).collect();
    names.dedup();
    names.join(", ")
}

impl Detector for PoolNestedAcquire {
    fn kind(&self) -> &'static str {
        "pool-nested-acquire-deadlock"
    }

    fn summary(&self) -> &'static str {
        "the pool's holders are themselves waiting for a second resource from the same pool"
    }

    fn source(&self) -> &'static str {
        include_str!("pool_nested_acquire_deadlock.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let mut out = Vec::new();
        for p in pools(facts) {
            if p.nested.is_empty() {
                continue;
            }
            let nested_count: u64 = p.nested.iter().map(|(b, _)| facts.blobs[*b].count).sum();
            let mut root = Vec::new();
            for &(b, j) in &p.nested {
                let r = frame_ref(&facts.stack(facts.blobs[b].stack).frames[j]);
                if !root.contains(&r) {
                    root.push(r);
                }
            }
            let inner: Vec<String> = p
                .nested
                .iter()
                .filter_map(|&(b, _)| facts.blobs[b].site(facts).map(|s| s.function.to_string()))
                .fold(Vec::new(), |mut v, f| {
                    if !v.contains(&f) {
                        v.push(f);
                    }
                    v
                });
            let mut evidence = vec![format!(
                "{} for the {} from inside {}, which already took one from the same pool (it is where other goroutines acquire)",
                describe::n_verb(nested_count, "waits", "wait"),
                p.entry.resource,
                outer_names(&root)
            )];
            if p.nested_by == Some("socket count") {
                evidence[0] = format!(
                    "{} for the {} from inside {}, as many as there are open connections",
                    describe::n_verb(nested_count, "waits", "wait"),
                    p.entry.resource,
                    outer_names(&root)
                );
            }
            evidence.push(format!(
                "the second acquisition happens in {}",
                inner.join(", ")
            ));
            if let Some((port, n)) = p.open_conns {
                evidence.push(format!(
                    "{n} ESTABLISHED connections to port {port}{}",
                    if n as u64 == nested_count { format!(" = the {nested_count} nested waiters: each holds one and waits for another") } else { String::new() }
                ));
            }
            if p.users.is_empty() {
                evidence.push(
                    "no goroutine is using a connection: every one is held by a waiter".into(),
                );
            }
            evidence.extend(describe::stuck_sentences(facts, &p.waiters));
            let stuck = p.waiters.iter().any(|&w| facts.blobs[w].stuck_evidence());
            out.push(Finding {
                kind: self.kind(),
                severity: if stuck || p.users.is_empty() { Severity::Critical } else { Severity::Warning },
                confidence: match (p.nested_by, p.open_conns.is_some_and(|(_, n)| n as u64 == nested_count)) {
                    (Some("call sites"), true) => 0.9,
                    (Some("call sites"), false) => 0.75,
                    _ => 0.6,
                },
                title: format!(
                    "pool deadlock: {} hold a connection from the {} and wait for a second one ({} stuck)",
                    describe::goroutines(nested_count),
                    p.entry.resource,
                    describe::goroutines(p.waiting)
                ),
                goroutines: p.waiting,
                root,
                victims: describe::victims(facts, &p.waiters),
                resource: Some(Resource { kind: "pool".into(), address: p.object.map(describe::hex), name: Some(p.entry.resource.to_string()) }),
                evidence,
                advice: format!("Do not take a second resource from a pool while holding one: pass the held connection to the helpers, or release it before calling them. {}", p.entry.advice),
                source: vec![],
            });
        }
        out
    }
}
