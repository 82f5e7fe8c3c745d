//! `cond-never-signaled`
//!
//! **What it detects.** Goroutines in `sync.Cond.Wait` that no one is left to wake: they
//! stay put across a series (or for minutes) and no other live goroutine works on the object
//! that owns the Cond.
//!
//! **Why it hangs.** `Wait` returns only after `Signal` or `Broadcast`; if the producer
//! exited, or changed the state without signalling, waiters sleep forever.
//!
//! **Example.** A queue consumer waiting for items after the producer returned on an error.
//!
//! **Fix.** Signal/Broadcast after every state change and on shutdown (set a `closed` flag
//! and Broadcast); consider a channel instead.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::waits::WaitKind;

/// See the module docs.
pub struct CondNeverSignaled;

impl Detector for CondNeverSignaled {
    fn kind(&self) -> &'static str {
        "cond-never-signaled"
    }

    fn summary(&self) -> &'static str {
        "sync.Cond.Wait with no one left to Signal or Broadcast"
    }

    fn source(&self) -> &'static str {
        include_str!("cond_never_signaled.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let mut out = Vec::new();
        let waiters: Vec<usize> = facts.of_kind(WaitKind::Cond).map(|(i, _)| i).collect();
        if waiters.is_empty() {
            return out;
        }
        // Who else touches the Cond's owner: a goroutine not waiting on it that shares the
        // component of the waiting function could still signal.
        let site = facts.blobs[waiters[0]].site(facts).cloned();
        let signalers: u64 =
            match &site {
                Some(s) => facts
                    .blobs
                    .iter()
                    .enumerate()
                    .filter(|(i, b)| !waiters.contains(i) && b.wait.kind != WaitKind::Idle)
                    .filter(|(_, b)| {
                        facts.stack(b.stack).frames.iter().any(|f| {
                            super::chan_send_no_receiver::related(&s.function, &f.function)
                        })
                    })
                    .map(|(_, b)| b.count)
                    .sum(),
                None => 0,
            };
        let stuck = waiters.iter().any(|&w| facts.blobs[w].stuck_evidence());
        if !stuck && signalers > 0 {
            return out;
        }
        let n = describe::count(facts, &waiters);
        let mut evidence: Vec<String> = waiters
            .iter()
            .take(3)
            .map(|&w| describe::what_it_does(facts, w))
            .collect();
        evidence.push(if signalers == 0 {
            "no other live goroutine works on the same type: nobody is left to Signal or Broadcast"
                .into()
        } else {
            format!(
                "{} of the same type are alive but none has signalled",
                describe::goroutines(signalers)
            )
        });
        evidence.extend(describe::stuck_sentences(facts, &waiters));
        out.push(Finding {
            kind: self.kind(),
            severity: if stuck { Severity::Critical } else { Severity::Warning },
            confidence: if stuck && signalers == 0 { 0.8 } else { 0.5 },
            title: format!(
                    "{} on a sync.Cond that nothing will signal",
                    describe::n_verb(n, "waits", "wait")),
            goroutines: n,
            // The goroutine that waits was started by the component that should signal it.
            root: site
                .iter()
                .map(frame_ref)
                .chain(facts.blobs[waiters[0]].creator.as_ref().map(frame_ref))
                .collect(),
            victims: describe::victims(facts, &waiters),
            resource: Some(Resource { kind: "cond".into(), address: facts.blobs[waiters[0]].wait.object.map(describe::hex), name: None }),
            evidence,
            advice: "Whoever changes the condition must Signal or Broadcast, on every path including errors and shutdown (set a closed flag, then Broadcast). Waiters must loop on the condition. A channel is often simpler.".into(),
            source: vec![],
        });
        out
    }
}
