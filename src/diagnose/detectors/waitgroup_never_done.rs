//! `waitgroup-never-done`
//!
//! **What it detects.** `WaitGroup.Wait` that can never return: the goroutines that should
//! call `Done` are gone (returned without `Done`), or are themselves blocked.
//!
//! **Why it hangs.** `Wait` returns when the counter reaches zero; one missing `Done` (an
//! early return without `defer wg.Done()`, an `Add` too many) keeps it above zero forever.
//!
//! **Example.** A worker that `return`s on an error before its `wg.Done()` line.
//!
//! **Fix.** `defer wg.Done()` as the first line of every worker (or `wg.Go(f)`, Go 1.25+);
//! `Add` before `go`, once per goroutine.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::waits::WaitKind;

/// See the module docs.
pub struct WaitGroupNeverDone;

impl Detector for WaitGroupNeverDone {
    fn kind(&self) -> &'static str {
        "waitgroup-never-done"
    }

    fn summary(&self) -> &'static str {
        "WaitGroup.Wait can never return: the goroutines that should call Done are gone or blocked"
    }

    fn source(&self) -> &'static str {
        include_str!("waitgroup_never_done.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let mut out = Vec::new();
        for (wi, w) in facts.of_kind(WaitKind::WaitGroup) {
            let Some(site) = w.site(facts) else { continue };
            // The goroutines this waiter started: by parent id when printed, else by creator.
            let children: Vec<usize> = facts
                .blobs
                .iter()
                .enumerate()
                .filter(|(i, b)| {
                    *i != wi
                        && (b.parents.iter().any(|p| w.ids.contains(p))
                            || (b.parents.is_empty()
                                && b.creator
                                    .as_ref()
                                    .is_some_and(|c| c.function == site.function)))
                })
                .map(|(i, _)| i)
                .collect();
            let active = children
                .iter()
                .any(|&c| !facts.blobs[c].wait.kind.is_blocking());
            if active {
                continue;
            }
            let stuck =
                w.stuck_evidence() || children.iter().any(|&c| facts.blobs[c].stuck_evidence());
            let parent_ids_known = facts.blobs.iter().any(|b| !b.parents.is_empty());
            if !stuck && !parent_ids_known {
                continue;
            }
            let mut evidence = vec![describe::what_it_does(facts, wi)];
            let mut root = vec![];
            if children.is_empty() {
                evidence.push(if parent_ids_known {
                    format!(
                        "no goroutine created by {} (goroutine {}) is alive: the workers that should call Done have returned without it",
                        site.function,
                        w.ids.first().copied().unwrap_or(0)
                    )
                } else {
                    format!("no goroutine created by {} is alive", site.function)
                });
                // Other calls of the same function still have their workers running: their
                // entry function is the worker that skips Done on some path.
                let mut workers: Vec<&crate::model::Frame> = facts
                    .blobs
                    .iter()
                    .filter(|b| {
                        b.creator
                            .as_ref()
                            .is_some_and(|c| c.function == site.function)
                    })
                    .filter_map(|b| {
                        facts
                            .stack(b.stack)
                            .frames
                            .iter()
                            .rev()
                            .find(|f| !crate::knowledge::is_library(&f.function))
                    })
                    .collect();
                workers.sort_by(|a, b| a.function.cmp(&b.function));
                workers.dedup_by(|a, b| a.function == b.function);
                for wf in workers.iter().take(2) {
                    evidence.push(format!("{} starts its workers in {} (seen running for other calls): one of its paths returns without Done", site.function, wf.function));
                    root.push(frame_ref(wf));
                }
                root.push(frame_ref(site));
            } else {
                for &c in children.iter().take(3) {
                    evidence.push(format!(
                        "a worker is blocked instead of finishing: {}",
                        describe::what_it_does(facts, c)
                    ));
                    if let Some(s) = facts.blobs[c].site(facts) {
                        root.push(frame_ref(s));
                    }
                }
                root.push(frame_ref(site));
            }
            evidence.extend(describe::stuck_sentences(facts, &[wi]));
            let mut all = vec![wi];
            all.extend(&children);
            out.push(Finding {
                kind: self.kind(),
                severity: if stuck { Severity::Critical } else { Severity::Warning },
                confidence: if children.is_empty() && parent_ids_known { 0.8 } else { 0.6 },
                title: if children.is_empty() {
                    format!(
                    "{} on a WaitGroup whose workers have all exited: a Done is missing",
                    describe::n_verb(w.count, "waits", "wait"))
                } else {
                    format!(
                    "{} on a WaitGroup whose workers are blocked",
                    describe::n_verb(w.count, "waits", "wait"))
                },
                goroutines: describe::count(facts, &all),
                root,
                victims: describe::victims(facts, &[wi]),
                resource: Some(Resource { kind: "waitgroup".into(), address: w.wait.object.map(describe::hex), name: None }),
                evidence,
                advice: "Every goroutine counted by Add must call Done on every path: put `defer wg.Done()` first in the worker (or use wg.Go, Go 1.25+), and look for an early return or a panic recovered before Done. With --src hangdoc looks for the return that skips it.".into(),
                source: vec![],
            });
        }
        out
    }
}
