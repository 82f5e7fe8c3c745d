//! `lock-cycle`
//!
//! **What it detects.** Goroutines that wait for each other's locks: two goroutines locking
//! two mutexes in opposite orders (AB-BA), a goroutine locking a mutex it already holds, a
//! recursive `RLock` while a writer waits.
//!
//! **Why it hangs.** Each waits for a lock the other (or itself) will release only after it
//! gets its own; none can proceed. Go mutexes are not reentrant, and a pending `Lock` blocks
//! new readers, so a nested `RLock` waits behind the writer that waits for the first `RLock`.
//!
//! **Example.** `transfer(a, b)` and `transfer(b, a)` running at once, each locking `from`
//! then `to`.
//!
//! **Fix.** Take locks in one global order; do not call a locking method from inside another
//! that holds the same lock (split into `fooLocked` helpers); never RLock recursively.

use ahash::AHashSet;

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::locks::{HoldHow, LockKey};
use crate::diagnose::waits::WaitKind;

/// See the module docs.
pub struct LockCycle;

impl Detector for LockCycle {
    fn kind(&self) -> &'static str {
        "lock-cycle"
    }

    fn summary(&self) -> &'static str {
        "goroutines wait for each other's locks (AB-BA, re-locking a held mutex, recursive RLock behind a pending Lock)"
    }

    fn source(&self) -> &'static str {
        include_str!("lock_cycle.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let mut out = Vec::new();
        let mut seen: AHashSet<Vec<usize>> = AHashSet::new();
        for li in 0..cx.locks.locks.len() {
            let Some(cycle) = cx.locks.cycle_through(li) else {
                continue;
            };
            let mut key = cycle.clone();
            key.sort();
            if !seen.insert(key) {
                continue;
            }
            // All locks on the cycle and everyone waiting on them.
            let lock_ids: Vec<usize> = cycle
                .iter()
                .filter_map(|b| cx.locks.waits_on.get(b).copied())
                .collect();
            let mut victims: Vec<usize> = lock_ids
                .iter()
                .flat_map(|&l| cx.locks.locks[l].waiters.iter().copied())
                .collect();
            victims.sort();
            victims.dedup();
            let total = describe::count(facts, &victims);
            let mut root = Vec::new();
            for &b in &cycle {
                let blob = &facts.blobs[b];
                let frames = &facts.stack(blob.stack).frames;
                // The frame that holds the lock, then the one waiting.
                for l in cx.locks.holds.get(&b).into_iter().flatten() {
                    if let Some(h) = cx.locks.locks[*l].holders.iter().find(|h| h.blob == b) {
                        let r = frame_ref(&frames[h.frame]);
                        if !root.contains(&r) {
                            root.push(r);
                        }
                    }
                }
                if let Some(s) = blob.site(facts) {
                    let r = frame_ref(s);
                    if !root.contains(&r) {
                        root.push(r);
                    }
                }
            }
            let first_lock = &cx.locks.locks[lock_ids[0]];
            let relock = cycle.len() == 1;
            let rw_recursive = relock
                && first_lock.has_writers
                && facts.blobs[cycle[0]].wait.kind == WaitKind::RwRead;
            let who = |b: usize| {
                let blob = &facts.blobs[b];
                match (blob.count, blob.ids.first()) {
                    (1, Some(i)) => format!("goroutine {i}"),
                    (n, Some(i)) => format!("{n} goroutines (e.g. goroutine {i})"),
                    (n, None) => describe::goroutines(n),
                }
            };
            let title = if rw_recursive {
                format!(
                    "{} read-lock an RWMutex they already read-lock while a writer waits: recursive RLock deadlock ({} stuck)",
                    who(cycle[0]),
                    describe::goroutines(total)
                )
            } else if relock {
                format!(
                    "{} locks a mutex it already holds: self-deadlock ({} stuck)",
                    who(cycle[0]),
                    describe::goroutines(total)
                )
            } else {
                format!(
                    "lock-order deadlock: {} wait for each other's locks ({} stuck)",
                    cycle
                        .iter()
                        .map(|&b| who(b))
                        .collect::<Vec<_>>()
                        .join(" and "),
                    describe::goroutines(total)
                )
            };
            let mut evidence = Vec::new();
            for &b in &cycle {
                let held: Vec<String> = cx
                    .locks
                    .holds
                    .get(&b)
                    .into_iter()
                    .flatten()
                    .map(|&l| lock_name(&cx.locks.locks[l].key))
                    .collect();
                let waits = cx
                    .locks
                    .waits_on
                    .get(&b)
                    .map(|&l| lock_name(&cx.locks.locks[l].key))
                    .unwrap_or_default();
                let how = cx
                    .locks
                    .holds
                    .get(&b)
                    .into_iter()
                    .flatten()
                    .filter_map(|&l| cx.locks.locks[l].holders.iter().find(|h| h.blob == b))
                    .next();
                let how = match how.map(|h| h.how) {
                    Some(HoldHow::Relock) => " (further up its own stack)",
                    _ => "",
                };
                evidence.push(format!(
                    "{} holds {}{how} and waits for {waits}: {}",
                    who(b),
                    held.join(", "),
                    describe::what_it_does(facts, b)
                ));
            }
            if rw_recursive {
                evidence.push("a writer is waiting for the same RWMutex: a pending Lock blocks new RLocks, and the writer waits for the first RLock to be released".into());
            }
            evidence.extend(describe::stuck_sentences(facts, &victims));
            let stuck = victims.iter().any(|&v| facts.blobs[v].stuck_evidence());
            let confirmed = cycle.iter().all(|&b| {
                cx.locks.holds.get(&b).into_iter().flatten().any(|&l| {
                    cx.locks.locks[l]
                        .holders
                        .iter()
                        .any(|h| h.blob == b && h.confirmed)
                })
            });
            out.push(Finding {
                kind: self.kind(),
                severity: Severity::Critical,
                confidence: match (confirmed, stuck) {
                    (true, true) => 0.9,
                    (true, false) | (false, true) => 0.75,
                    _ => 0.55,
                },
                title,
                goroutines: total,
                root,
                victims: describe::victims(facts, &victims),
                resource: Some(Resource {
                    kind: if first_lock.kind == WaitKind::Mutex { "mutex".into() } else { "rwmutex".into() },
                    address: match first_lock.key { LockKey::Addr(a) => Some(describe::hex(a)), _ => None },
                    name: None,
                }),
                evidence,
                advice: if rw_recursive {
                    "Never RLock an RWMutex you already read-lock: a waiting writer blocks the inner RLock. Split the inner method into an unlocked helper that the outer one calls with the lock held.".into()
                } else if relock {
                    "Go mutexes are not reentrant. Do not call a method that locks the mutex from a method that already holds it: split it into a `…Locked` helper that assumes the lock is held.".into()
                } else {
                    "Take the locks in one global order everywhere (e.g. by account id or address), or hold only one at a time.".into()
                },
                source: vec![],
            });
        }
        out
    }
}

fn lock_name(key: &LockKey) -> String {
    match key {
        LockKey::Addr(a) => format!("the lock at {}", describe::hex(*a)),
        LockKey::Owner(o) => format!("the lock of the object at {}", describe::hex(*o)),
        LockKey::Site(f, l) => format!("the lock taken in {f} (line {l})"),
    }
}
