//! `goroutine-growth`
//!
//! **What it detects.** Across a series of snapshots, goroutines at one stack keep growing
//! and the early ones never finish.
//!
//! **Why it hangs.** Each request (or tick) leaves one goroutine behind, blocked forever;
//! memory and scheduler load grow until the process falls over.
//!
//! **Example.** A handler starting `go func() { ch <- result }()` and returning on timeout
//! before receiving.
//!
//! **Fix.** Every goroutine needs a guaranteed way to finish: buffered result channels,
//! `select` with `ctx.Done()`, closing what it waits on.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity, Victim};
use crate::knowledge;

/// See the module docs.
pub struct GoroutineGrowth;

impl Detector for GoroutineGrowth {
    fn kind(&self) -> &'static str {
        "goroutine-growth"
    }

    fn summary(&self) -> &'static str {
        "across a series, goroutines at one creation site or stack keep growing and none finish"
    }

    fn source(&self) -> &'static str {
        include_str!("goroutine_growth.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let Some(series) = &cx.facts.series else {
            return vec![];
        };
        let mut out = Vec::new();
        for g in series.growth.iter().take(3) {
            let last = *g.counts.last().unwrap_or(&0);
            let first = g.counts[0];
            let site = g
                .frames
                .iter()
                .find(|f| !knowledge::is_library_frame(f))
                .or(g.frames.first());
            let Some(site) = site else { continue };
            let mut root = vec![frame_ref(site)];
            if let Some(c) = &g.creator {
                root.push(frame_ref(c));
            }
            let mut evidence = vec![format!(
                "goroutines in {} ({}) grew across {} snapshots: {}",
                site.function,
                describe::short_loc(site),
                g.counts.len(),
                g.counts
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(" → ")
            )];
            if first > 0 {
                evidence.push(format!(
                    "{} of the {} in the first snapshot are still there, in the same place",
                    g.persisting, first
                ));
            }
            if let Some(c) = &g.creator {
                evidence.push(format!(
                    "they are started by {} ({})",
                    c.function,
                    describe::short_loc(c)
                ));
            }
            if !g.state.is_empty() {
                evidence.push(format!("they wait in state [{}]", g.state));
            }
            out.push(Finding {
                kind: self.kind(),
                severity: if g.persisting > 0 || first == 0 { Severity::Warning } else { Severity::Info },
                confidence: if g.persisting > 0 { 0.8 } else { 0.55 },
                title: format!("goroutines in {} keep growing ({} → {}) and do not finish", site.function, first, last),
                goroutines: last,
                root,
                victims: vec![Victim { function: site.function.to_string(), file: site.file.to_string(), line: site.line, goroutines: last, wait_minutes: None }],
                resource: Some(Resource { kind: "goroutines".into(), address: None, name: g.creator.as_ref().map(|c| format!("created by {}", c.function)) }),
                evidence,
                advice: "Each of these goroutines is started and never finishes. Give it a guaranteed exit: a buffered result channel (capacity 1) so the send cannot block, a select on ctx.Done(), or closing the channel it waits on.".into(),
                source: vec![],
            });
        }
        out
    }
}
