//! What one stack is waiting for: the kind of wait, the object (from argument words when the
//! evidence has them), and the application frame where it blocks.

use crate::knowledge::{self, Entry, Role};
use crate::model::{Args, Stack, WaitReason};

/// The kind of thing a goroutine waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitKind {
    /// `sync.Mutex.Lock`.
    Mutex,
    /// `sync.RWMutex.RLock`.
    RwRead,
    /// `sync.RWMutex.Lock`.
    RwWrite,
    /// Another goroutine is running this `sync.Once`'s function.
    Once,
    /// `sync.WaitGroup.Wait`.
    WaitGroup,
    /// `sync.Cond.Wait`.
    Cond,
    /// Sending on a channel.
    ChanSend,
    /// Receiving from a channel.
    ChanRecv,
    /// In a `select` over channels.
    Select,
    /// Blocks forever by construction (nil channel, `select {}`).
    Forever,
    /// Waiting for a pooled resource (see [`Wait::entry`]).
    PoolAcquire,
    /// Network I/O on the poller.
    NetIo,
    /// `time.Sleep`.
    Sleep,
    /// In a system call or cgo.
    Syscall,
    /// Running or runnable: making progress.
    Active,
    /// A normal idle wait of a server, listener or runtime worker.
    Idle,
    /// Anything else, or unknown (aggregated profiles without a recognisable leaf).
    Other,
}

impl WaitKind {
    /// True for the lock-like waits that have a holder.
    pub fn is_lock(self) -> bool {
        matches!(
            self,
            WaitKind::Mutex | WaitKind::RwRead | WaitKind::RwWrite | WaitKind::Once
        )
    }

    /// True when the goroutine is parked (not progressing) in a way that may be a hang.
    pub fn is_blocking(self) -> bool {
        !matches!(
            self,
            WaitKind::Active | WaitKind::Idle | WaitKind::Sleep | WaitKind::Syscall
        )
    }

    /// A short phrase: "waiting to lock a mutex".
    pub fn phrase(self) -> &'static str {
        match self {
            WaitKind::Mutex => "waiting to lock a mutex",
            WaitKind::RwRead => "waiting to read-lock an RWMutex",
            WaitKind::RwWrite => "waiting to write-lock an RWMutex",
            WaitKind::Once => "waiting for a sync.Once to finish",
            WaitKind::WaitGroup => "waiting on a sync.WaitGroup",
            WaitKind::Cond => "waiting on a sync.Cond",
            WaitKind::ChanSend => "blocked sending on a channel",
            WaitKind::ChanRecv => "blocked receiving from a channel",
            WaitKind::Select => "blocked in select",
            WaitKind::Forever => "blocked forever (nil channel or empty select)",
            WaitKind::PoolAcquire => "waiting for a pooled resource",
            WaitKind::NetIo => "blocked in network I/O",
            WaitKind::Sleep => "sleeping",
            WaitKind::Syscall => "in a system call",
            WaitKind::Active => "running",
            WaitKind::Idle => "idle",
            WaitKind::Other => "waiting",
        }
    }
}

/// The classification of one stack in one state.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// What kind of wait.
    pub kind: WaitKind,
    /// The object's address, when argument words name it.
    pub object: Option<u64>,
    /// Index of the application frame where the goroutine blocks (the caller of the
    /// library or runtime code it waits in); `None` when the stack has no application frame.
    pub site: Option<usize>,
    /// The knowledge entry that classified it (pool, idle server, client call, hand-off).
    pub entry: Option<&'static Entry>,
    /// Index of the frame of `entry`, or of the sync primitive's frame.
    pub lib_frame: Option<usize>,
    /// For lock waits without an exact object address: the receiver of the method that
    /// locks (the struct the lock is most likely a field of).
    pub owner: Option<u64>,
}

/// The first word of an argument list, only when printed exactly: a `?` marks a word read
/// from a spill slot that may be stale, never good enough to name an object.
pub fn first_exact_word(args: &str) -> Option<u64> {
    let w = args.split([',', '{', '}', ' ']).find(|s| !s.is_empty())?;
    if w.ends_with('?') {
        return None;
    }
    u64::from_str_radix(w.strip_prefix("0x")?, 16).ok()
}

/// All words of an argument list that look like addresses (≥ 0x10000).
pub fn pointer_words(args: &str) -> impl Iterator<Item = u64> + '_ {
    args.split([',', '{', '}', ' '])
        .filter_map(|w| u64::from_str_radix(w.trim_end_matches('?').strip_prefix("0x")?, 16).ok())
        .filter(|&v| v >= 0x10000)
}

fn is_sync_frame(f: &str) -> bool {
    f.starts_with("sync.")
        || f.starts_with("internal/sync.")
        || f.starts_with("runtime.")
        || f.starts_with("internal/runtime/")
}

/// Classifies `stack` in state `reason`; `args` are the argument lists per frame, if kept.
pub fn classify(stack: &Stack, reason: WaitReason, args: Option<Args<'_>>) -> Wait {
    let frames = &stack.frames;
    let arg = |i: usize| args.and_then(|a| a.get(i));
    let site = frames.iter().position(|f| !knowledge::is_library_frame(f));
    let region_end = site.unwrap_or(frames.len());
    let mut w = Wait {
        kind: WaitKind::Other,
        object: None,
        site,
        entry: None,
        lib_frame: None,
        owner: None,
    };

    // Library knowledge in the blocking region (frames below the first application frame).
    for (i, f) in frames[..region_end].iter().enumerate() {
        if let Some(e) = knowledge::lookup_any(&f.function) {
            match e.role {
                Role::PoolAcquire if reason.is_blocked() => {
                    w.kind = WaitKind::PoolAcquire;
                    w.entry = Some(e);
                    w.lib_frame = Some(i);
                    w.object = arg(i).and_then(first_exact_word);
                    return w;
                }
                Role::Idle if reason.is_blocked() => {
                    w.kind = WaitKind::Idle;
                    w.entry = Some(e);
                    w.lib_frame = Some(i);
                    return w;
                }
                Role::ClientCall | Role::AsyncHandoff | Role::PoolUse if w.entry.is_none() => {
                    w.entry = Some(e);
                    w.lib_frame = Some(i);
                }
                _ => {}
            }
        }
    }

    // Synchronisation primitives: the leaf run of sync/runtime frames.
    let sync_end = frames
        .iter()
        .position(|f| !is_sync_frame(&f.function))
        .unwrap_or(frames.len());
    let mut kind = None;
    let mut object = None;
    let mut sema_object = None;
    let mut once_at = None;
    for (i, f) in frames.iter().enumerate() {
        let name = &*f.function;
        if name == "sync.(*Once).doSlow" || name == "sync.(*Once).Do" {
            if i <= sync_end {
                once_at = Some(i);
            }
            break;
        }
        if i >= sync_end {
            break;
        }
    }
    for (i, f) in frames[..sync_end].iter().enumerate() {
        let name = &*f.function;
        let a = arg(i).and_then(first_exact_word);
        let (k, obj) = match name {
            "sync.(*RWMutex).RLock" => (Some(WaitKind::RwRead), a),
            "sync.(*RWMutex).Lock" => (Some(WaitKind::RwWrite), a),
            "sync.runtime_SemacquireRWMutexR" | "internal/sync.runtime_SemacquireRWMutexR" => {
                (Some(WaitKind::RwRead), a.map(|x| x.wrapping_sub(12)))
            }
            "sync.runtime_SemacquireRWMutex" | "internal/sync.runtime_SemacquireRWMutex" => {
                (Some(WaitKind::RwWrite), a.map(|x| x.wrapping_sub(8)))
            }
            "sync.(*Mutex).Lock"
            | "sync.(*Mutex).lockSlow"
            | "internal/sync.(*Mutex).Lock"
            | "internal/sync.(*Mutex).lockSlow" => (Some(WaitKind::Mutex), a),
            "sync.runtime_SemacquireMutex" | "internal/sync.runtime_SemacquireMutex" => {
                (Some(WaitKind::Mutex), a.map(|x| x.wrapping_sub(4)))
            }
            "sync.(*WaitGroup).Wait" => (Some(WaitKind::WaitGroup), a),
            "sync.(*Cond).Wait" => (Some(WaitKind::Cond), a),
            "sync.runtime_notifyListWait"
            | "sync.runtime_Semacquire"
            | "sync.runtime_SemacquireWaitGroup" => (None, None),
            _ => (None, None),
        };
        // Semaphore words are offsets into the primitive and usually stale; a receiver
        // printed exactly wins.
        let is_sema = name.contains("runtime_Semacquire");
        if let Some(k) = k {
            // RWMutex.Lock waits on its inner mutex: the RWMutex (or Cond, WaitGroup) kind wins.
            let stronger = matches!(
                (kind, k),
                (None, _)
                    | (
                        Some(WaitKind::Mutex),
                        WaitKind::RwRead | WaitKind::RwWrite | WaitKind::Cond | WaitKind::WaitGroup
                    )
            );
            if stronger {
                kind = Some(k);
            }
            match (is_sema, obj) {
                (false, Some(o)) if object.is_none() => object = Some(o),
                (true, Some(o)) if sema_object.is_none() => sema_object = Some(o),
                _ => {}
            }
        }
    }
    let object = object.or(sema_object);
    if let Some(oi) = once_at {
        if kind == Some(WaitKind::Mutex)
            || matches!(reason, WaitReason::MutexLock | WaitReason::Semacquire)
        {
            w.kind = WaitKind::Once;
            // A Once is `{done uint32; m Mutex}`: its mutex sits 4 bytes in.
            w.object = arg(oi)
                .and_then(first_exact_word)
                .or(object.map(|m| m.wrapping_sub(4)));
            w.lib_frame = Some(oi);
            w.site = frames[oi..]
                .iter()
                .position(|f| !knowledge::is_library_frame(f))
                .map(|p| p + oi);
            return w;
        }
    }
    let from_state = match reason {
        WaitReason::MutexLock => Some(WaitKind::Mutex),
        WaitReason::RWMutexRLock => Some(WaitKind::RwRead),
        WaitReason::RWMutexLock => Some(WaitKind::RwWrite),
        WaitReason::WaitGroupWait => Some(WaitKind::WaitGroup),
        WaitReason::CondWait => Some(WaitKind::Cond),
        _ => None,
    };
    if let Some(k) = kind.or(from_state) {
        w.kind = k;
        w.object = object;
        w.lib_frame = Some(sync_end.saturating_sub(1));
        if w.site.is_none() || w.site < Some(sync_end) {
            w.site = frames[sync_end..]
                .iter()
                .position(|f| !knowledge::is_library_frame(f))
                .map(|p| p + sync_end);
        }
        if w.object.is_none() {
            w.owner = receiver_word(frames, w.site, args);
        }
        return w;
    }

    let chan_obj = || {
        frames[..sync_end].iter().enumerate().find_map(|(i, f)| {
            matches!(
                &*f.function,
                "runtime.chansend1"
                    | "runtime.chanrecv1"
                    | "runtime.chanrecv2"
                    | "runtime.chansend"
                    | "runtime.chanrecv"
            )
            .then(|| arg(i).and_then(first_exact_word))
            .flatten()
        })
    };
    w.kind = match reason {
        WaitReason::ChanSend => {
            w.object = chan_obj();
            WaitKind::ChanSend
        }
        WaitReason::ChanReceive => {
            w.object = chan_obj();
            WaitKind::ChanRecv
        }
        WaitReason::ChanSendNil | WaitReason::ChanReceiveNil => WaitKind::Forever,
        // `select {}` is how programs park a goroutine on purpose (main after starting servers).
        WaitReason::SelectNoCases => WaitKind::Idle,
        WaitReason::Select => WaitKind::Select,
        WaitReason::IoWait => WaitKind::NetIo,
        WaitReason::Sleep => WaitKind::Sleep,
        WaitReason::Syscall => WaitKind::Syscall,
        WaitReason::Running | WaitReason::Runnable => WaitKind::Active,
        WaitReason::RuntimeIdle => WaitKind::Idle,
        WaitReason::Semacquire => WaitKind::Other,
        WaitReason::Unknown => infer_from_frames(frames),
        _ => WaitKind::Other,
    };
    if w.kind == WaitKind::Other
        && frames.iter().all(|f| knowledge::is_std(&f.function))
        && reason == WaitReason::Unknown
    {
        w.kind = WaitKind::Idle;
    }
    w
}

/// The exact receiver word of the method at frame `site`, if it is a method.
fn receiver_word(
    frames: &[crate::model::Frame],
    site: Option<usize>,
    args: Option<Args<'_>>,
) -> Option<u64> {
    let i = site?;
    crate::model::FuncName::split(&frames.get(i)?.function).receiver?;
    args?.get(i).and_then(first_exact_word)
}

/// For profiles without states: guess from the leaf frames (protobuf keeps runtime frames).
fn infer_from_frames(frames: &[crate::model::Frame]) -> WaitKind {
    for f in frames.iter().take(6) {
        match &*f.function {
            "runtime.chansend" | "runtime.chansend1" => return WaitKind::ChanSend,
            "runtime.chanrecv" | "runtime.chanrecv1" | "runtime.chanrecv2" => {
                return WaitKind::ChanRecv;
            }
            "runtime.selectgo" => return WaitKind::Select,
            // `select {}`: parked on purpose.
            "runtime.block" => return WaitKind::Idle,
            "internal/poll.runtime_pollWait"
            | "internal/poll.(*pollDesc).wait"
            | "internal/poll.(*pollDesc).waitRead" => return WaitKind::NetIo,
            "time.Sleep" => return WaitKind::Sleep,
            "syscall.Syscall" | "syscall.Syscall6" | "syscall.RawSyscall6" | "runtime.cgocall" => {
                return WaitKind::Syscall;
            }
            "runtime/pprof.writeGoroutineStacks"
            | "runtime/pprof.writeRuntimeProfile"
            | "runtime/pprof.runtime_goroutineProfileWithLabels" => return WaitKind::Active,
            _ => {}
        }
    }
    WaitKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ArgLists, Frame, Stack};

    fn stack(fns: &[&str]) -> Stack {
        Stack {
            frames: fns
                .iter()
                .map(|f| Frame {
                    function: (*f).into(),
                    file: "x.go".into(),
                    line: 1,
                    inlined: false,
                })
                .collect(),
            elided: None,
        }
    }

    /// Classifies the stack of `fns` in state `reason` with one argument list per frame.
    fn classify_with_args(fns: &[&str], reason: WaitReason, args: &[&str]) -> Wait {
        let mut lists = ArgLists::default();
        let id = lists.push(args.iter().copied());
        classify(&stack(fns), reason, id.and_then(|id| lists.get(id)))
    }

    #[test]
    fn mutex_wait_names_object_and_caller() {
        // Hand-written, after the frames of a Go 1.13-era dump.
        let w = classify_with_args(
            &[
                "sync.runtime_SemacquireMutex",
                "sync.(*Mutex).Lock",
                "main.(*Pusher).publish",
                "main.main",
            ],
            WaitReason::Semacquire,
            &["0xc000771904?, 0x0", "0xc000771900", "0xc000771800", ""],
        );
        assert_eq!(w.kind, WaitKind::Mutex);
        assert_eq!(w.object, Some(0xc000771900));
        assert_eq!(w.site, Some(2));
    }

    #[test]
    fn go124_inlined_lock_takes_lockslow_receiver() {
        let w = classify_with_args(
            &[
                "internal/sync.runtime_SemacquireMutex",
                "internal/sync.(*Mutex).lockSlow",
                "internal/sync.(*Mutex).Lock",
                "sync.(*Mutex).Lock",
                "main.f",
            ],
            WaitReason::MutexLock,
            &[
                "0x1000e71301e4?, 0x0?, 0x0?",
                "0x1000e71301e0",
                "...",
                "...",
                "...",
            ],
        );
        assert_eq!(
            (w.kind, w.object, w.site),
            (WaitKind::Mutex, Some(0x1000e71301e0), Some(4))
        );
    }

    #[test]
    fn once_waiter_is_once() {
        let w = classify_with_args(
            &[
                "sync.runtime_SemacquireMutex",
                "sync.(*Mutex).lockSlow",
                "sync.(*Mutex).Lock",
                "sync.(*Once).doSlow",
                "sync.(*Once).Do",
                "main.(*Conn).Close",
            ],
            WaitReason::MutexLock,
            &[
                "0xc00001",
                "0xc0000a0004",
                "...",
                "0xc0000a0000?, 0xc0000b0000",
                "...",
                "0xc0000a0000",
            ],
        );
        assert_eq!(w.kind, WaitKind::Once);
        assert_eq!(w.object, Some(0xc0000a0000));
        assert_eq!(w.site, Some(5));
    }

    #[test]
    fn pool_wait_and_idle_server() {
        let s = stack(&[
            "github.com/gomodule/redigo/redis.(*Pool).get",
            "github.com/gomodule/redigo/redis.(*Pool).Get",
            "main.loadShop",
            "net/http.HandlerFunc.ServeHTTP",
            "net/http.(*conn).serve",
        ]);
        let w = classify(&s, WaitReason::ChanReceive, None);
        assert_eq!(w.kind, WaitKind::PoolAcquire);
        assert_eq!(w.site, Some(2));
        let idle = stack(&[
            "internal/poll.(*FD).Read",
            "net.(*conn).Read",
            "net/http.(*connReader).Read",
            "bufio.(*Reader).fill",
            "net/http.(*conn).serve",
        ]);
        assert_eq!(
            classify(&idle, WaitReason::IoWait, None).kind,
            WaitKind::Idle
        );
    }

    #[test]
    fn r_empty_select_in_a_profile_is_idle() {
        // Protobuf profiles keep runtime frames: `select {}` parks in runtime.block.
        let s = stack(&[
            "runtime.gopark",
            "runtime.block",
            "main.main",
            "runtime.main",
        ]);
        assert_eq!(classify(&s, WaitReason::Unknown, None).kind, WaitKind::Idle);
        let send = stack(&[
            "runtime.gopark",
            "runtime.chansend",
            "runtime.chansend1",
            "main.(*Sink).Emit",
        ]);
        let w = classify(&send, WaitReason::Unknown, None);
        assert_eq!((w.kind, w.site), (WaitKind::ChanSend, Some(3)));
    }
}
