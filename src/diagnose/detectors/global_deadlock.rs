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
        // The main goroutine's wait is where to start reading, unless main is not the
        // program's own (a test binary's generated main only waits for the tests).
        let main = facts
            .blobs
            .iter()
            .position(|b| b.ids.contains(&1) && b.wait.site.is_some())
            .or_else(|| facts.blobs.iter().position(|b| b.wait.site.is_some()));
        let mut evidence = vec![format!(
            "the runtime stopped the program: \"{}\"",
            said.trim()
        )];
        let mut root = Vec::new();
        if let Some(m) = main {
            let label = if facts.blobs[m].ids.contains(&1) {
                "main"
            } else {
                "start here"
            };
            evidence.push(format!("{label}: {}", describe::what_it_does(facts, m)));
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

#[cfg(test)]
mod tests {
    use crate::diagnose::diagnose_text;

    #[test]
    fn in_a_test_binary_the_generated_main_is_not_the_place_to_fix() {
        // Hand-written in the shape `go test` prints when a test deadlocks.
        let d = diagnose_text(
            "fatal error: all goroutines are asleep - deadlock!

goroutine 1 [chan receive]:
testing.(*T).Run(0xc000003a40, {0x5a1b2f?, 0x0?}, 0x5b0ea8)
\t/usr/local/go/src/testing/testing.go:1751 +0x3ab
testing.(*M).Run(0xc0000b2140)
\t/usr/local/go/src/testing/testing.go:2054 +0x8e5
main.main()
\t_testmain.go:45 +0x9b

goroutine 3 [chan receive (nil chan)]:
example.com/app.TestDeadlock(0xc000003a40)
\t/src/app/deadlock_test.go:12 +0x7e
testing.tRunner(0xc000003a40, 0x5b0ea8)
\t/usr/local/go/src/testing/testing.go:1690 +0xf4
created by testing.(*T).Run in goroutine 1
\t/usr/local/go/src/testing/testing.go:1743 +0x390
",
        );
        let f = d
            .findings
            .iter()
            .find(|f| f.kind == "global-deadlock")
            .expect("a global deadlock");
        assert_eq!(
            f.root
                .iter()
                .map(|r| (r.function.as_str(), r.line))
                .collect::<Vec<_>>(),
            [("example.com/app.TestDeadlock", 12)],
            "{f:#?}"
        );
        assert!(
            f.evidence[1].starts_with("start here: goroutine 3"),
            "{:?}",
            f.evidence
        );
    }
}
