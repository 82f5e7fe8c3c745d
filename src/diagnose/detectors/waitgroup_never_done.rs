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
        let parent_ids_known = facts.blobs.iter().any(|b| !b.parents.is_empty());
        // Waiters whose workers are all gone, by waiting site; and those whose workers block.
        let mut orphaned: Vec<usize> = Vec::new();
        let mut blocked: Vec<(usize, Vec<usize>)> = Vec::new();
        for (wi, w) in facts.of_kind(WaitKind::WaitGroup) {
            let Some(site) = w.site(facts) else { continue };
            let own: Vec<&str> = facts
                .stack(w.stack)
                .frames
                .iter()
                .map(|f| &*f.function)
                .collect();
            // The goroutines this waiter started: created by a function on its stack, with
            // its id as parent when printed (the goroutine also runs other code, e.g. an HTTP
            // connection, that starts goroutines of its own).
            let children: Vec<usize> = facts
                .blobs
                .iter()
                .enumerate()
                .filter(|(i, b)| {
                    *i != wi
                        && b.creator.as_ref().is_some_and(|c| {
                            if b.parents.is_empty() {
                                c.function == site.function
                            } else {
                                own.contains(&&*c.function)
                                    && b.parents.iter().any(|p| w.ids.contains(p))
                            }
                        })
                })
                .map(|(i, _)| i)
                .collect();
            if children
                .iter()
                .any(|&c| !facts.blobs[c].wait.kind.is_blocking())
            {
                continue;
            }
            let stuck = w.stuck_evidence();
            if children.is_empty() && (stuck || parent_ids_known) {
                orphaned.push(wi);
            } else if !children.is_empty() && stuck {
                blocked.push((wi, children));
            }
        }
        let mut out = Vec::new();
        // One finding per waiting site for the orphaned waiters.
        let mut by_site: Vec<(String, Vec<usize>)> = Vec::new();
        for wi in orphaned {
            let key = facts.blobs[wi]
                .site(facts)
                .map(|f| format!("{}:{}", f.function, f.line))
                .unwrap_or_default();
            match by_site.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(wi),
                None => by_site.push((key, vec![wi])),
            }
        }
        for (_, waiters) in by_site {
            let w = &facts.blobs[waiters[0]];
            let Some(site) = w.site(facts) else { continue };
            let n = describe::count(facts, &waiters);
            let ids: Vec<String> = waiters
                .iter()
                .flat_map(|&x| facts.blobs[x].ids.iter().take(3))
                .take(5)
                .map(|i| i.to_string())
                .collect();
            let mut evidence = vec![format!(
                "{} in {} ({}) [{}]",
                describe::n_verb(n, "waits", "wait"),
                site.function,
                describe::short_loc(site),
                w.state
            )];
            evidence.push(if parent_ids_known {
                format!("no goroutine created by {} in goroutine {} is alive: the workers that should call Done have returned without it", site.function, ids.join(", "))
            } else {
                format!("no goroutine created by {} is alive", site.function)
            });
            let mut root = vec![];
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
                        .find(|f| !crate::knowledge::is_library_frame(f))
                })
                .collect();
            // Earlier snapshots of a series may show them when the last one does not.
            if let Some(series) = &facts.series {
                workers.extend(
                    series
                        .started
                        .iter()
                        .filter(|(c, _)| *c == *site.function)
                        .map(|(_, e)| e),
                );
            }
            workers.sort_by(|a, b| a.function.cmp(&b.function));
            workers.dedup_by(|a, b| a.function == b.function);
            for wf in workers.iter().take(2) {
                evidence.push(format!(
                    "{} starts its workers in {} (running for other calls): one of its paths returns without Done",
                    site.function, wf.function
                ));
                root.push(frame_ref(wf));
            }
            root.push(frame_ref(site));
            evidence.extend(describe::stuck_sentences(facts, &waiters));
            let stuck = waiters.iter().any(|&x| facts.blobs[x].stuck_evidence());
            out.push(Finding {
                kind: self.kind(),
                severity: if stuck {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                confidence: if parent_ids_known && stuck { 0.85 } else { 0.6 },
                title: format!(
                    "{} on a WaitGroup whose workers have all exited: a Done is missing",
                    describe::n_verb(n, "waits", "wait")
                ),
                goroutines: n,
                root,
                victims: describe::victims(facts, &waiters),
                resource: Some(Resource {
                    kind: "waitgroup".into(),
                    address: w.wait.object.map(describe::hex),
                    name: None,
                }),
                evidence,
                advice: ADVICE.into(),
                source: vec![],
            });
        }
        for (wi, children) in blocked {
            let w = &facts.blobs[wi];
            let Some(site) = w.site(facts) else { continue };
            let mut evidence = vec![describe::what_it_does(facts, wi)];
            let mut root = vec![];
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
            evidence.extend(describe::stuck_sentences(facts, &[wi]));
            let mut all = vec![wi];
            all.extend(&children);
            out.push(Finding {
                kind: self.kind(),
                severity: Severity::Critical,
                confidence: 0.6,
                title: format!(
                    "{} on a WaitGroup whose workers are blocked",
                    describe::n_verb(w.count, "waits", "wait")
                ),
                goroutines: describe::count(facts, &all),
                root,
                victims: describe::victims(facts, &[wi]),
                resource: Some(Resource {
                    kind: "waitgroup".into(),
                    address: w.wait.object.map(describe::hex),
                    name: None,
                }),
                evidence,
                advice: ADVICE.into(),
                source: vec![],
            });
        }
        out
    }
}

const ADVICE: &str = "Every goroutine counted by Add must call Done on every path: put `defer wg.Done()` first in the worker (or use wg.Go, Go 1.25+), and look for an early return or a panic recovered before Done. With --src hangdoc looks for the return that skips it.";
