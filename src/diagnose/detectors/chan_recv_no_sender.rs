//! `chan-recv-no-sender`
//!
//! **What it detects.** Goroutines blocked receiving where nothing will send or close: the
//! runtime's leak detector marked them, they wait on a nil channel or an empty `select`, or a
//! series shows them piling up at one place while none leave.
//!
//! **Why it hangs.** `range ch` ends only when `ch` is closed; a receive with no sender left
//! waits forever. Idle workers waiting for work look the same in one snapshot, so this
//! detector asks for proof (leak mark, growth, nil channel), never a guess from one dump.
//!
//! **Example.** A dispatcher returns on an error without `close(jobs)`; its workers `range`
//! over `jobs` forever.
//!
//! **Fix.** The sending side closes the channel when it is done (`defer close(jobs)`);
//! receivers also watch `ctx.Done()`.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::series::growth_key;
use crate::diagnose::waits::WaitKind;

/// See the module docs.
pub struct ChanRecvNoSender;

impl Detector for ChanRecvNoSender {
    fn kind(&self) -> &'static str {
        "chan-recv-no-sender"
    }

    fn summary(&self) -> &'static str {
        "goroutines blocked receiving where nothing will send or close (leaked workers, forgotten close)"
    }

    fn source(&self) -> &'static str {
        include_str!("chan_recv_no_sender.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let mut out = Vec::new();
        for (bi, b) in facts.blobs.iter().enumerate() {
            let recv = matches!(b.wait.kind, WaitKind::ChanRecv | WaitKind::Select)
                || (b.wait.kind == WaitKind::Forever && !b.state.contains("send"));
            if !recv {
                continue;
            }
            let key = growth_key(b.creator.as_ref(), facts.stack(b.stack));
            let growing = facts
                .series
                .as_ref()
                .and_then(|s| s.growth.iter().find(|g| g.key == key && g.persisting > 0));
            let forever = b.wait.kind == WaitKind::Forever;
            if b.leaked == 0 && growing.is_none() && !forever {
                continue;
            }
            let Some(site) = b.site(facts) else { continue };
            let mut evidence = vec![format!("{}", describe::what_it_does(facts, bi))];
            if let Some(g) = growing {
                evidence.push(format!(
                    "their number grows across the series ({}) and {} of the first snapshot's are still there",
                    g.counts.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" → "),
                    g.persisting
                ));
            }
            if forever {
                evidence.push(
                    "a receive from a nil channel or an empty select can never complete".into(),
                );
            }
            evidence.extend(describe::stuck_sentences(facts, &[bi]));
            let creator = b
                .creator
                .as_ref()
                .map(|c| format!(" (started by {})", c.function))
                .unwrap_or_default();
            out.push(Finding {
                kind: self.kind(),
                severity: if b.count >= 10 || forever { Severity::Critical } else { Severity::Warning },
                confidence: if b.leaked > 0 || forever { 0.9 } else { 0.7 },
                title: format!("{} blocked receiving from a channel that nothing sends to or closes{creator}", describe::goroutines(b.count)),
                goroutines: b.count,
                root: std::iter::once(frame_ref(site)).chain(b.creator.as_ref().map(frame_ref)).collect(),
                victims: describe::victims(facts, &[bi]),
                resource: Some(Resource { kind: "channel".into(), address: b.wait.object.map(describe::hex), name: Some(format!("channel received from at {}", describe::short_loc(site))) }),
                evidence,
                advice: "The side that sends must close the channel when it stops (`defer close(ch)` in the producer), including on error paths; receivers should also select on ctx.Done(). A goroutine started per request that waits on a channel must be guaranteed a send, a close, or a cancellation.".into(),
                source: vec![],
            });
        }
        out
    }
}
