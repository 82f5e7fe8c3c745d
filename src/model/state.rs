//! Goroutine states: a typed wait reason plus the raw text, so reasons added by future Go
//! releases survive as [`WaitReason::Other`].

use serde::Serialize;

/// What a goroutine is doing, as the runtime's status / wait-reason string names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitReason {
    /// `running`: on a CPU at the time of the dump (the dumping goroutine is one).
    Running,
    /// `runnable`: ready, waiting for a CPU.
    Runnable,
    /// `syscall`: in a system call or cgo call.
    Syscall,
    /// `IO wait`: parked on the network poller (a socket read, write, accept or dial).
    IoWait,
    /// `chan receive`.
    ChanReceive,
    /// `chan send`.
    ChanSend,
    /// `chan receive (nil chan)`: blocks forever by construction.
    ChanReceiveNil,
    /// `chan send (nil chan)`: blocks forever by construction.
    ChanSendNil,
    /// `select`.
    Select,
    /// `select (no cases)`: `select {}`, blocks forever by construction.
    SelectNoCases,
    /// `semacquire`: a semaphore; before Go 1.20 this is how mutex waits were printed, before
    /// 1.24 WaitGroup waits too. The frames tell which.
    Semacquire,
    /// `sync.Mutex.Lock`.
    MutexLock,
    /// `sync.RWMutex.RLock`.
    RWMutexRLock,
    /// `sync.RWMutex.Lock`.
    RWMutexLock,
    /// `sync.WaitGroup.Wait`.
    WaitGroupWait,
    /// `sync.Cond.Wait`.
    CondWait,
    /// `sleep`: `time.Sleep`.
    Sleep,
    /// Runtime-internal idle states (GC workers, finalizer, trace reader, timers …).
    RuntimeIdle,
    /// `waiting` with no reason, `idle`, `dead`, `copystack`, `preempted` and the like.
    Waiting,
    /// A profile that carries no state (debug=1, protobuf, `-traces`).
    Unknown,
    /// Any other string: kept verbatim in [`State::raw`].
    Other,
}

impl WaitReason {
    /// Maps the status text printed in a goroutine header (without `(leaked)`, minutes and
    /// other annotations) to a reason. The `(durable)` / `(synctest)` variants of channel and
    /// select waits map to their plain counterparts.
    pub fn from_status(s: &str) -> WaitReason {
        use WaitReason::*;
        let base = s
            .strip_suffix(" (durable)")
            .or_else(|| s.strip_suffix(" (synctest)"))
            .unwrap_or(s);
        match base {
            "running" => Running,
            "runnable" => Runnable,
            "syscall" => Syscall,
            "IO wait" => IoWait,
            "chan receive" => ChanReceive,
            "chan send" => ChanSend,
            "chan receive (nil chan)" => ChanReceiveNil,
            "chan send (nil chan)" => ChanSendNil,
            "select" => Select,
            "select (no cases)" => SelectNoCases,
            "semacquire" => Semacquire,
            "sync.Mutex.Lock" => MutexLock,
            "sync.RWMutex.RLock" => RWMutexRLock,
            "sync.RWMutex.Lock" => RWMutexLock,
            "sync.WaitGroup.Wait" => WaitGroupWait,
            "sync.Cond.Wait" => CondWait,
            "sleep" => Sleep,
            "waiting"
            | "idle"
            | "dead"
            | "copystack"
            | "preempted"
            | "leaked"
            | "waiting for cgo callback"
            | "???" => Waiting,
            "GC assist marking"
            | "GC assist wait"
            | "GC sweep wait"
            | "GC scavenge wait"
            | "GC worker (idle)"
            | "GC worker (active)"
            | "GC mark termination"
            | "GC weak to strong wait"
            | "finalizer wait"
            | "force gc (idle)"
            | "GOMAXPROCS updater (idle)"
            | "trace reader (blocked)"
            | "wait for GC cycle"
            | "timer goroutine (idle)"
            | "cleanup wait"
            | "garbage collection"
            | "garbage collection scan"
            | "dumping heap"
            | "debug call"
            | "stopping the world"
            | "flushing proc caches"
            | "trace goroutine status"
            | "trace proc status"
            | "page trace flush"
            | "panicwait"
            | "coroutine"
            | "synctest.Run"
            | "synctest.Wait" => RuntimeIdle,
            _ => Other,
        }
    }

    /// True for states in which the goroutine is parked waiting for something else to
    /// happen (as opposed to running, runnable or in a system call).
    pub fn is_blocked(self) -> bool {
        !matches!(
            self,
            WaitReason::Running | WaitReason::Runnable | WaitReason::Syscall
        )
    }

    /// True for waits that can never end by construction (nil channel, empty select).
    pub fn is_forever(self) -> bool {
        matches!(
            self,
            WaitReason::ChanReceiveNil | WaitReason::ChanSendNil | WaitReason::SelectNoCases
        )
    }
}

/// A goroutine's state: the typed reason and the text the runtime printed for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct State {
    /// The typed reason.
    pub reason: WaitReason,
    /// The status text as printed, without annotations (`chan receive`, `IO wait`); for
    /// formats without states, empty.
    pub raw: Box<str>,
}

impl State {
    /// A state from header text.
    pub fn from_status(raw: &str) -> State {
        State {
            reason: WaitReason::from_status(raw),
            raw: raw.into(),
        }
    }

    /// The state of goroutines in formats that do not record one.
    pub fn unknown() -> State {
        State {
            reason: WaitReason::Unknown,
            raw: "".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_known_and_keeps_unknown() {
        assert_eq!(
            WaitReason::from_status("sync.Mutex.Lock"),
            WaitReason::MutexLock
        );
        assert_eq!(
            WaitReason::from_status("chan send (durable)"),
            WaitReason::ChanSend
        );
        assert_eq!(
            WaitReason::from_status("chan receive (nil chan)"),
            WaitReason::ChanReceiveNil
        );
        let s = State::from_status("some future reason");
        assert_eq!(s.reason, WaitReason::Other);
        assert_eq!(&*s.raw, "some future reason");
    }
}
