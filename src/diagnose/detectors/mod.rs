//! One detector per finding kind. Each file opens with what it detects, why it hangs, an
//! example and the fix; [`DETECTORS`] lists them, and `--help`, the docs and the JSON kinds
//! come from that list.

mod chan_recv_no_sender;
mod chan_send_no_receiver;
mod cond_never_signaled;
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
];
