//! One detector per finding kind. Each file opens with what it detects, why it hangs, an
//! example and the fix; [`DETECTORS`] lists them, and `--help`, the docs and the JSON kinds
//! come from that list.

mod chan_recv_no_sender;
mod chan_send_no_receiver;
mod cond_never_signaled;
mod crash;
mod global_deadlock;
mod goroutine_growth;
mod io_without_deadline;
mod lock_cycle;
mod lock_held_by_blocked_goroutine;
mod lock_never_released;
mod pool_exhausted_leak;
mod pool_nested_acquire_deadlock;
mod waitgroup_never_done;

use super::Context;
use super::finding::Finding;

/// A detector: a pure function of the evidence.
pub trait Detector: Sync {
    /// The stable kind identifier of its findings.
    fn kind(&self) -> &'static str;
    /// One line: what it detects.
    fn summary(&self) -> &'static str;
    /// Its findings (none on a healthy process).
    fn check(&self, cx: &Context) -> Vec<Finding>;
    /// The text of its own source file (the docs are read from its opening comment).
    fn source(&self) -> &'static str;
    /// What it detects, why it hangs, an example and the fix: the opening `//!` comment of
    /// its file, as Markdown.
    fn doc(&self) -> String {
        module_doc(self.source())
    }
}

/// The leading `//!` lines of a Rust source file, without the markers.
pub fn module_doc(src: &str) -> String {
    let mut out = String::new();
    for line in src.lines() {
        let Some(rest) = line.strip_prefix("//!") else {
            break;
        };
        out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        out.push('\n');
    }
    out
}

/// The detector of `kind`.
pub fn by_kind(kind: &str) -> Option<&'static dyn Detector> {
    DETECTORS.iter().copied().find(|d| d.kind() == kind)
}

/// All detector docs as one Markdown document (what `docs/detectors.md` holds).
pub fn docs_markdown() -> String {
    let mut out = String::from(
        "# Finding kinds\n\nGenerated from the detectors' sources (`src/diagnose/detectors/`); `hangdoc explain KIND` prints one.\n\n| kind | what it means |\n|---|---|\n",
    );
    for d in DETECTORS {
        out.push_str(&format!("| `{}` | {} |\n", d.kind(), d.summary()));
    }
    for d in DETECTORS {
        out.push_str(&format!("\n## `{}`\n\n", d.kind()));
        let doc = d.doc();
        // Skip the first line (the kind itself) and the blank after it.
        out.push_str(
            doc.lines()
                .skip_while(|l| l.trim().starts_with('`') || l.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n")
                .trim_end(),
        );
        out.push('\n');
    }
    out
}

/// Every detector, in the order of the contract's table.
pub static DETECTORS: &[&dyn Detector] = &[
    &lock_never_released::LockNeverReleased,
    &lock_held_by_blocked_goroutine::LockHeldByBlocked,
    &lock_cycle::LockCycle,
    &chan_send_no_receiver::ChanSendNoReceiver,
    &chan_recv_no_sender::ChanRecvNoSender,
    &waitgroup_never_done::WaitGroupNeverDone,
    &cond_never_signaled::CondNeverSignaled,
    &pool_exhausted_leak::PoolExhaustedLeak,
    &pool_nested_acquire_deadlock::PoolNestedAcquire,
    &io_without_deadline::IoWithoutDeadline,
    &goroutine_growth::GoroutineGrowth,
    &global_deadlock::GlobalDeadlock,
    &crash::Crash,
];
