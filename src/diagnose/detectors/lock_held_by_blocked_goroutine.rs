//! `lock-held-by-blocked-goroutine`
//!
//! **What it detects.** Goroutines wait for a lock (a mutex, an RWMutex, a `sync.Once`) whose
//! holder is alive but itself blocked — on a channel, another lock, network I/O.
//!
//! **Why it hangs.** The holder cannot reach its `Unlock` (or return from the `Once`'s
//! function) until what it waits for happens; everyone queued behind the lock waits too.
//!
//! **Example.** A `Once.Do(shutdown)` whose function sends on an unbuffered notify channel
//! nobody reads; a mutex held across a channel send whose receiver needs the same mutex.
//!
//! **Fix.** Never block while holding a lock: send after unlocking, make the send
//! non-blocking or buffered, or give the blocking call a deadline.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::locks::{HoldHow, LockKey};
use crate::diagnose::waits::WaitKind;

/// See the module docs.
pub struct LockHeldByBlocked;

impl Detector for LockHeldByBlocked {
    fn kind(&self) -> &'static str {
        "lock-held-by-blocked-goroutine"
    }

    fn summary(&self) -> &'static str {
        "the lock's holder is alive but itself blocked (on a channel, another lock, I/O, a sync.Once)"
    }

    fn source(&self) -> &'static str {
        include_str!("lock_held_by_blocked_goroutine.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let mut out = Vec::new();
        for (li, lock) in cx.locks.locks.iter().enumerate() {
            if cx.locks.cycle_through(li).is_some() {
                continue;
            }
            let holders: Vec<_> = lock
                .holders
                .iter()
                .filter(|h| h.how != HoldHow::Relock)
                .filter(|h| {
                    let k = facts.blobs[h.blob].wait.kind;
                    k.is_blocking() || k == WaitKind::NetIo || k == WaitKind::Sleep
                })
                .collect();
            let Some(h) = holders.first() else { continue };
            let hb = &facts.blobs[h.blob];
            let hframes = &facts.stack(hb.stack).frames;
            let stuck = hb.stuck_evidence()
                || lock
                    .waiters
                    .iter()
                    .any(|&w| facts.blobs[w].stuck_evidence());
            if !stuck && lock.waiting < 2 {
                continue;
            }
            let what = match lock.kind {
                WaitKind::Once => "sync.Once",
                WaitKind::Mutex => "mutex",
                _ => "RWMutex",
            };
            let holder_site = hb.site(facts);
            let holding_frame = &hframes[h.frame];
            let mut root = Vec::new();
            if let Some(s) = holder_site {
                root.push(frame_ref(s));
            }
            if let Some(outer) = hframes[h.frame..]
                .iter()
                .find(|f| !crate::knowledge::is_library_frame(f))
            {
                let r = frame_ref(outer);
                if !root.contains(&r) {
                    root.push(r);
                }
            }
            let holder_id = hb
                .ids
                .first()
                .map(|i| format!("goroutine {i}"))
                .unwrap_or_else(|| "a goroutine".into());
            let mut evidence = vec![format!(
                "{} for the {what}{}",
                describe::n_verb(lock.waiting, "waits", "wait"),
                match lock.key {
                    LockKey::Addr(a) => format!(" at {}", describe::hex(a)),
                    LockKey::Site(..) | LockKey::Owner(_) => String::new(),
                }
            )];
            evidence.push(match h.how {
                HoldHow::InsideOnce => format!("{holder_id} is running that Once's function (it is inside {}{}), so the Once's mutex is held", holding_frame.function, if h.confirmed { " for the same Once" } else { "" }),
                HoldHow::SameObject => format!("{holder_id} probably holds it: no goroutine is inside a function that locks it, and {holder_id} is the one blocked inside another method on the object that owns it ({}), since about when the waiters started", holding_frame.function),
                _ => format!("{holder_id} holds it: it is in {} past its Lock{}", holding_frame.function, if h.confirmed { ", carrying the same object" } else { "" }),
            });
            evidence.push(format!(
                "the holder is stuck: {}",
                describe::what_it_does(facts, h.blob)
            ));
            if matches!(hb.wait.kind, WaitKind::ChanSend) {
                evidence.push(super::chan_send_no_receiver::receiver_sentence(cx, h.blob));
            }
            evidence.extend(describe::stuck_sentences(facts, &lock.waiters));
            let advice = match (hb.wait.kind, hb.wait.entry) {
                (_, Some(e)) if !e.advice.is_empty() => format!("The holder blocks inside {} while holding the lock. {}", e.library, e.advice),
                (WaitKind::ChanSend, _) => "The holder blocks sending on a channel while holding the lock, and the receiver is gone or waits for the same lock. Send after unlocking, or make the send non-blocking (select with a default or ctx.Done()), or buffer the channel and keep a receiver draining it for its whole life.".into(),
                (WaitKind::NetIo, _) => "The holder does network I/O while holding the lock, with no deadline. Do the I/O outside the critical section, and set a deadline on it.".into(),
                _ => "Do not block while holding a lock: release it before waiting, or bound the wait with a timeout.".into(),
            };
            let mut blobs = lock.waiters.clone();
            blobs.push(h.blob);
            out.push(Finding {
                kind: self.kind(),
                severity: if stuck {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                confidence: if h.confirmed { 0.85 } else { 0.6 },
                title: format!(
                    "{} for a {what} held by {holder_id}, which is itself {}",
                    describe::n_verb(lock.waiting, "waits", "wait"),
                    hb.wait.kind.phrase()
                ),
                goroutines: lock.waiting + hb.count,
                root,
                victims: describe::victims(facts, &lock.waiters),
                resource: Some(Resource {
                    kind: match lock.kind {
                        WaitKind::Once => "once",
                        WaitKind::Mutex => "mutex",
                        _ => "rwmutex",
                    }
                    .into(),
                    address: match lock.key {
                        LockKey::Addr(a) => Some(describe::hex(a)),
                        _ => None,
                    },
                    name: None,
                }),
                evidence,
                advice,
                source: vec![],
            });
        }
        out
    }
}
