//! `lock-never-released`
//!
//! **What it detects.** Goroutines wait to lock one mutex (or RWMutex) and no live goroutine
//! appears to hold it: none is inside a function that locks that object past its `Lock`.
//!
//! **Why it hangs.** Some path returned (or panicked and recovered) without `Unlock`. The
//! mutex stays locked forever; every later `Lock` blocks.
//!
//! **Example.** `mu.Lock(); if err != nil { return err }; …; mu.Unlock()`.
//!
//! **Fix.** `mu.Lock(); defer mu.Unlock()` — or unlock on every return path.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::locks::LockKey;
use crate::diagnose::waits::WaitKind;

/// See the module docs.
pub struct LockNeverReleased;

impl Detector for LockNeverReleased {
    fn kind(&self) -> &'static str {
        "lock-never-released"
    }

    fn summary(&self) -> &'static str {
        "goroutines wait on one mutex/rwmutex and no live goroutine appears to hold it: some path returned without Unlock"
    }

    fn source(&self) -> &'static str {
        include_str!("lock_never_released.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let mut out = Vec::new();
        for lock in &cx.locks.locks {
            if !lock.holders.is_empty() {
                continue;
            }
            let stuck = lock
                .waiters
                .iter()
                .any(|&w| facts.blobs[w].stuck_evidence());
            let confirmed_by_args = matches!(lock.key, LockKey::Addr(_));
            if !stuck {
                // Without proof of time, a few waiters are ordinary contention; and a
                // running goroutine may hold the lock from a function we cannot see lock.
                let active_owner = confirmed_by_args && active_goroutine_carries(cx, lock);
                if lock.waiting < 3 || active_owner {
                    continue;
                }
            }
            let sites = describe::victims(facts, &lock.waiters);
            let root: Vec<_> = lock
                .waiters
                .iter()
                .filter_map(|&w| facts.blobs[w].site(facts))
                .map(frame_ref)
                .fold(Vec::new(), |mut acc, f| {
                    if !acc.contains(&f) {
                        acc.push(f);
                    }
                    acc
                });
            let what = match lock.kind {
                WaitKind::Once => "sync.Once",
                WaitKind::Mutex => "mutex",
                _ => "RWMutex",
            };
            let address = match lock.key {
                LockKey::Addr(a) => Some(describe::hex(a)),
                LockKey::Site(..) | LockKey::Owner(_) => None,
            };
            let mut evidence = vec![format!(
                "{} to lock the same {what}{}, from {}",
                describe::n_verb(lock.waiting, "waits", "wait"),
                address
                    .as_ref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default(),
                sites
                    .iter()
                    .take(3)
                    .map(|v| format!("{} ({}:{})", v.function, short(&v.file), v.line))
                    .collect::<Vec<_>>()
                    .join(", ")
            )];
            evidence.push(if confirmed_by_args {
                "no live goroutine is inside a function that locks it past its Lock, and none carries the object's address elsewhere: the holder has returned without Unlock".into()
            } else {
                "no live goroutine is inside a function that locks it past its Lock (judged from call sites: the evidence has no argument words)".into()
            });
            evidence.extend(describe::stuck_sentences(facts, &lock.waiters));
            let (severity, confidence) = match (stuck, confirmed_by_args) {
                (true, true) => (Severity::Critical, 0.85),
                (true, false) => (Severity::Critical, 0.65),
                (false, true) => (Severity::Warning, 0.45),
                (false, false) => (Severity::Warning, 0.3),
            };
            out.push(Finding {
                kind: self.kind(),
                severity,
                confidence,
                title: format!(
                    "{} for a {what} that nothing holds: a path returned without Unlock",
                    describe::n_verb(lock.waiting, "waits", "wait")
                ),
                goroutines: lock.waiting,
                root,
                victims: sites,
                resource: Some(Resource { kind: if lock.kind == WaitKind::Mutex { "mutex".into() } else if lock.kind == WaitKind::Once { "once".into() } else { "rwmutex".into() }, address, name: None }),
                evidence,
                advice: "Find the function that locks this object and can return (or panic) before Unlock — an error path, an early return, a `continue` inside the locked region — and unlock on every path: `mu.Lock(); defer mu.Unlock()`. With --src hangdoc points at that return.".into(),
                source: vec![],
            });
        }
        out
    }
}

fn short(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// True when a running or runnable goroutine carries the lock's address or a word just
/// below it (its owner) in its arguments: it may be the holder, working.
fn active_goroutine_carries(cx: &Context, lock: &crate::diagnose::locks::LockObj) -> bool {
    let LockKey::Addr(a) = lock.key else {
        return false;
    };
    cx.facts.blobs.iter().any(|b| {
        matches!(b.wait.kind, WaitKind::Active | WaitKind::Syscall)
            && b.words.iter().flatten().any(|&w| w <= a && a - w < 4096)
    })
}
