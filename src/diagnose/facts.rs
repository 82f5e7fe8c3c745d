//! The facts detectors read: the primary snapshot's goroutines folded into "blobs" (same
//! stack, same state, same waited-on object), each classified by [`classify`], plus socket
//! evidence and what a series says about each blob.

use ahash::{AHashMap, AHashSet};

use super::series::SeriesFacts;
use super::waits::{Wait, WaitKind, classify, pointer_words};
use crate::model::{Frame, GFlags, Snapshot, Socket, Stack, StackId, WaitReason};

/// How many goroutine ids a blob keeps as examples.
const KEEP_IDS: usize = 16;
/// How many distinct pointer words a blob keeps per frame.
const KEEP_WORDS: usize = 8;

/// Goroutines that share a stack, a state and the object they wait on.
#[derive(Debug, Clone)]
pub struct Blob {
    /// The stack.
    pub stack: StackId,
    /// The state's reason.
    pub reason: WaitReason,
    /// The state as printed.
    pub state: String,
    /// What they wait on.
    pub wait: Wait,
    /// How many goroutines.
    pub count: u64,
    /// Shortest and longest printed wait, in minutes (None when none printed one).
    pub min_wait: Option<u32>,
    /// Longest printed wait.
    pub max_wait: Option<u32>,
    /// Example goroutine ids.
    pub ids: Vec<u64>,
    /// Parent ids of the members (first few distinct).
    pub parents: Vec<u64>,
    /// Pointer-like argument words per frame (a few distinct per frame, from all members).
    pub words: Vec<Vec<u64>>,
    /// True when argument words were available for the members.
    pub has_args: bool,
    /// Members marked `(leaked)` by the runtime's leak detector.
    pub leaked: u64,
    /// Members the series shows in the same place in every snapshot.
    pub stuck: u64,
    /// The `created by` function of the first member.
    pub creator: Option<Frame>,
}

impl Blob {
    /// The application frame where these goroutines block; for a stack of library frames
    /// only (often one cut short), the application function that started them; else the
    /// leaf frame.
    pub fn site<'a>(&'a self, facts: &'a Facts) -> Option<&'a Frame> {
        let frames = &facts.stack(self.stack).frames;
        self.wait
            .site
            .and_then(|i| frames.get(i))
            .or_else(|| {
                self.creator
                    .as_ref()
                    .filter(|c| !crate::knowledge::is_library_frame(c))
            })
            .or_else(|| frames.first())
    }

    /// True when some member carries `word` in the arguments of frame `i`.
    pub fn has_word(&self, i: usize, word: u64) -> bool {
        self.words.get(i).is_some_and(|w| w.contains(&word))
    }

    /// Evidence that these goroutines are stuck rather than slow: a printed wait of a minute
    /// or more, the leak detector's mark, or the series seeing them in place throughout.
    pub fn stuck_evidence(&self) -> bool {
        self.max_wait.unwrap_or(0) >= 1
            || self.leaked > 0
            || self.stuck > 0
            || self.wait.kind == WaitKind::Forever
    }
}

/// Everything the detectors see.
pub struct Facts<'a> {
    /// The snapshot diagnosed (the latest per-goroutine one when there are several).
    pub snap: &'a Snapshot,
    /// Its blobs, largest first.
    pub blobs: Vec<Blob>,
    /// Total goroutines the snapshot describes.
    pub total: u64,
    /// True when the snapshot lists goroutines with argument words (debug=2 and friends).
    pub per_goroutine: bool,
    /// Sockets from socket-table evidence.
    pub sockets: Vec<&'a Socket>,
    /// What a series of snapshots says, when there is one.
    pub series: Option<SeriesFacts>,
}

impl<'a> Facts<'a> {
    /// Builds the facts for `snap`, with sockets and series facts from the other evidence.
    pub fn build(
        snap: &'a Snapshot,
        sockets: Vec<&'a Socket>,
        series: Option<SeriesFacts>,
    ) -> Facts<'a> {
        let mut index: AHashMap<(StackId, u16, u64, u8), usize> = AHashMap::new();
        let mut blobs: Vec<Blob> = Vec::new();
        let mut class_cache: AHashMap<(StackId, u16), Wait> = AHashMap::new();
        let stuck_ids: Option<&AHashSet<u64>> = series.as_ref().map(|s| &s.stuck_ids);
        for g in &snap.goroutines {
            let args = snap.args(g);
            let state = snap.state(g);
            let wait = if args.is_some() {
                classify(snap.stack(g), state.reason, args)
            } else {
                *class_cache
                    .entry((g.stack, g.state))
                    .or_insert_with(|| classify(snap.stack(g), state.reason, None))
            };
            let key = (
                g.stack,
                g.state,
                wait.object.unwrap_or(0),
                (wait.kind as u8),
            );
            let bi = *index.entry(key).or_insert_with(|| {
                blobs.push(Blob {
                    stack: g.stack,
                    reason: state.reason,
                    state: state.raw.to_string(),
                    wait,
                    count: 0,
                    min_wait: None,
                    max_wait: None,
                    ids: Vec::new(),
                    parents: Vec::new(),
                    words: vec![Vec::new(); snap.stack(g).frames.len()],
                    has_args: false,
                    leaked: 0,
                    stuck: 0,
                    creator: snap.creator(g).cloned(),
                });
                blobs.len() - 1
            });
            let b = &mut blobs[bi];
            b.count += 1;
            if let Some(m) = g.wait_minutes {
                b.min_wait = Some(b.min_wait.map_or(m, |x| x.min(m)));
                b.max_wait = Some(b.max_wait.map_or(m, |x| x.max(m)));
            } else if b.count > 1 || b.min_wait.is_some() {
                b.min_wait = Some(0);
            }
            if b.ids.len() < KEEP_IDS {
                b.ids.push(g.id);
            }
            if let Some(p) = g.parent {
                if b.parents.len() < KEEP_IDS && !b.parents.contains(&p) {
                    b.parents.push(p);
                }
            }
            if g.flags.has(GFlags::LEAKED) {
                b.leaked += 1;
            }
            if stuck_ids.is_some_and(|s| s.contains(&g.id)) {
                b.stuck += 1;
            }
            if let Some(args) = args {
                b.has_args = true;
                for (i, a) in args.iter().enumerate() {
                    if let Some(slot) = b.words.get_mut(i) {
                        for w in pointer_words(a) {
                            if slot.len() < KEEP_WORDS && !slot.contains(&w) {
                                slot.push(w);
                            }
                        }
                    }
                }
            }
        }
        for r in &snap.records {
            let count = r.count.max(0) as u64;
            if count == 0 {
                continue;
            }
            let wait = classify(&snap.stacks[r.stack as usize], WaitReason::Unknown, None);
            let key = (r.stack, u16::MAX, 0, wait.kind as u8);
            let bi = *index.entry(key).or_insert_with(|| {
                blobs.push(Blob {
                    stack: r.stack,
                    reason: WaitReason::Unknown,
                    state: String::new(),
                    wait,
                    count: 0,
                    min_wait: None,
                    max_wait: None,
                    ids: Vec::new(),
                    parents: Vec::new(),
                    words: Vec::new(),
                    has_args: false,
                    leaked: 0,
                    stuck: 0,
                    creator: None,
                });
                blobs.len() - 1
            });
            blobs[bi].count += count;
            if snap.format == Some(crate::model::Format::LeakDebug1)
                || snap.preamble.iter().any(|p| p.contains("goroutineleak"))
            {
                blobs[bi].leaked += count;
            }
        }
        blobs.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(b.max_wait.cmp(&a.max_wait))
                .then(a.stack.cmp(&b.stack))
        });
        Facts {
            snap,
            total: snap.goroutine_count(),
            per_goroutine: !snap.goroutines.is_empty(),
            blobs,
            sockets,
            series,
        }
    }

    /// The stack with id `id`.
    pub fn stack(&self, id: StackId) -> &Stack {
        &self.snap.stacks[id as usize]
    }

    /// Blobs of a kind.
    pub fn of_kind(&self, kind: WaitKind) -> impl Iterator<Item = (usize, &Blob)> {
        self.blobs
            .iter()
            .enumerate()
            .filter(move |(_, b)| b.wait.kind == kind)
    }

    /// ESTABLISHED sockets whose remote port is one of `ports`, by port.
    pub fn established_to(&self, ports: &[u16]) -> Vec<(u16, usize)> {
        let mut out: Vec<(u16, usize)> = Vec::new();
        for s in &self.sockets {
            if s.state == crate::model::TcpState::Established && ports.contains(&s.remote.port) {
                match out.iter_mut().find(|(p, _)| *p == s.remote.port) {
                    Some((_, n)) => *n += 1,
                    None => out.push((s.remote.port, 1)),
                }
            }
        }
        out
    }

    /// Outbound ESTABLISHED connections (to a remote port this table does not listen on), by
    /// remote port, largest group first: where a pool's connections show when its server
    /// does not use the library's default port.
    pub fn outbound_by_port(&self) -> Vec<(u16, usize)> {
        use crate::model::TcpState;
        // Listening ports with their owner: a connection to a port the same process
        // listens on is a client of ours, not our connection to a server.
        let listening: Vec<(u16, Option<u32>)> = self
            .sockets
            .iter()
            .filter(|s| s.state == TcpState::Listen)
            .map(|s| (s.local.port, s.pid))
            .collect();
        let ours = |port: u16, pid: Option<u32>| {
            listening
                .iter()
                .any(|&(p, owner)| p == port && (owner.is_none() || pid.is_none() || owner == pid))
        };
        // With owners in the table, the process diagnosed is the one with the most listeners
        // (a load generator or a database server in the same table is another process).
        let mut owners: Vec<(u32, usize)> = Vec::new();
        for &(_, pid) in &listening {
            if let Some(pid) = pid {
                match owners.iter_mut().find(|(p, _)| *p == pid) {
                    Some((_, n)) => *n += 1,
                    None => owners.push((pid, 1)),
                }
            }
        }
        let main_pid = owners
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(p, _)| *p);
        let mut out: Vec<(u16, usize)> = Vec::new();
        for s in &self.sockets {
            if s.state != TcpState::Established
                || listening.iter().any(|&(p, _)| p == s.local.port)
                || ours(s.remote.port, s.pid)
            {
                continue;
            }
            if main_pid.is_some() && s.pid.is_some() && s.pid != main_pid {
                continue;
            }
            match out.iter_mut().find(|(p, _)| *p == s.remote.port) {
                Some((_, n)) => *n += 1,
                None => out.push((s.remote.port, 1)),
            }
        }
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// CLOSE_WAIT sockets by local port (largest first), with their total Recv-Q.
    pub fn close_wait_by_local_port(&self) -> Vec<(u16, usize, u64)> {
        let mut out: Vec<(u16, usize, u64)> = Vec::new();
        for s in &self.sockets {
            if s.state == crate::model::TcpState::CloseWait {
                match out.iter_mut().find(|(p, _, _)| *p == s.local.port) {
                    Some((_, n, q)) => {
                        *n += 1;
                        *q += s.recv_q;
                    }
                    None => out.push((s.local.port, 1, s.recv_q)),
                }
            }
        }
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}
