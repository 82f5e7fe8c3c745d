//! `global-deadlock`
//!
//! **What it detects.** Every goroutine is blocked: the runtime says so itself (`fatal
//! error: all goroutines are asleep - deadlock!`), or a dump shows no goroutine that could
//! ever make progress.
//!
//! **Why it hangs.** With nothing runnable and no timer or I/O that could wake anyone, the
//! program can never continue; the runtime detects it only when no goroutine waits on the
//! network or a timer.
//!
//! **Example.** `main` waiting on a WaitGroup whose workers wait on a channel nobody sends to.
//!
//! **Fix.** Follow main's wait: the other findings name what it waits for.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};

/// See the module docs.
pub struct GlobalDeadlock;

impl Detector for GlobalDeadlock {
    fn kind(&self) -> &'static str {
        "global-deadlock"
    }

    fn summary(&self) -> &'static str {
        "every goroutine is blocked (the runtime's \"all goroutines are asleep\")"
    }

    fn source(&self) -> &'static str {
        include_str!("global_deadlock.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let said = facts.snap.preamble.iter().find(|p| {
            p.contains("all goroutines are asleep")
                || p.contains("no goroutines (main called runtime.Goexit)")
        });
        let Some(said) = said else { return vec![] };
        let all: Vec<usize> = (0..facts.blobs.len()).collect();
        // The main goroutine's wait is where to start reading.
        let main = facts
            .blobs
            .iter()
            .position(|b| b.ids.contains(&1))
            .or_else(|| facts.blobs.iter().position(|b| b.wait.site.is_some()));
        let mut evidence = vec![format!(
            "the runtime stopped the program: \"{}\"",
            said.trim()
        )];
        let mut root = Vec::new();
        if let Some(m) = main {
            evidence.push(format!("main: {}", describe::what_it_does(facts, m)));
            if let Some(s) = facts.blobs[m].site(facts) {
                root.push(frame_ref(s));
            }
        }
        for (i, b) in facts.blobs.iter().enumerate().take(4) {
            if Some(i) != main && b.wait.site.is_some() {
                evidence.push(describe::what_it_does(facts, i));
                if let Some(s) = b.site(facts) {
                    let r = frame_ref(s);
                    if !root.contains(&r) {
                        root.push(r);
                    }
                }
            }
        }
        vec![Finding {
            kind: self.kind(),
            severity: Severity::Critical,
            confidence: 1.0,
            title: format!("every goroutine is blocked ({}): the runtime detected a global deadlock", describe::goroutines(facts.total)),
            goroutines: facts.total,
            root,
            victims: describe::victims(facts, &all),
            resource: Some(Resource { kind: "goroutines".into(), address: None, name: None }),
            evidence,
            advice: "Start from main's wait and follow it: what it waits for must be sent, closed, unlocked or marked Done by a goroutine that has exited or is itself waiting. The other findings name the object.".into(),
            source: vec![],
        }]
    }
}
