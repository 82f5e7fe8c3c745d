//! Interning tables that parsers fill while reading, so that a snapshot stores each distinct
//! stack, state, label set, creator and argument list once.

use std::hash::Hash;
use std::sync::Arc;

use ahash::AHashMap;

use super::snapshot::{
    ArgsId, CreatorId, Format, Labels, LabelsId, NONE, Snapshot, Stack, StackId, StateId,
};
use super::{ArgLists, Frame, State};

/// Default cap on the bytes of distinct argument lists kept per snapshot (text, offsets
/// and lookup entries). Past it, new distinct argument lists are not stored (the goroutine
/// gets [`NONE`]) and a warning says so. A list of a typical 10-frame stack costs about
/// 250 bytes, so this keeps the argument words of the first 100,000 or so goroutines with
/// distinct pointers: enough to tell which objects the waiters of each stack share.
pub const DEFAULT_ARGS_BUDGET: usize = 24 << 20;

/// Builds a [`Snapshot`], interning as it goes.
pub struct SnapshotBuilder {
    snap: Snapshot,
    stacks: AHashMap<Stack, StackId>,
    states: AHashMap<State, StateId>,
    labels: AHashMap<Labels, LabelsId>,
    creators: AHashMap<Frame, CreatorId>,
    /// Argument lists by the hash of their text.
    args: AHashMap<u64, ArgsId>,
    args_hasher: ahash::RandomState,
    strings: AHashMap<Box<str>, Arc<str>>,
    args_bytes: usize,
    args_budget: usize,
    args_dropped: u64,
}

fn intern<K: Hash + Eq + Clone, I: Copy + TryFrom<usize>>(
    map: &mut AHashMap<K, I>,
    table: &mut Vec<K>,
    key: K,
) -> I
where
    <I as TryFrom<usize>>::Error: std::fmt::Debug,
{
    if let Some(&id) = map.get(&key) {
        return id;
    }
    let id = I::try_from(table.len()).expect("interning table overflow");
    table.push(key.clone());
    map.insert(key, id);
    id
}

impl SnapshotBuilder {
    /// A builder for evidence read from `source` in `format`.
    pub fn new(source: impl Into<String>, format: Format) -> Self {
        let snap = Snapshot::new(source, format);
        let mut labels = AHashMap::new();
        labels.insert(Vec::new(), 0);
        SnapshotBuilder {
            snap,
            stacks: AHashMap::new(),
            states: AHashMap::new(),
            labels,
            creators: AHashMap::new(),
            args: AHashMap::new(),
            args_hasher: ahash::RandomState::new(),
            strings: AHashMap::new(),
            args_bytes: 0,
            args_budget: DEFAULT_ARGS_BUDGET,
            args_dropped: 0,
        }
    }

    /// Sets the cap on stored argument text (bytes).
    pub fn with_args_budget(mut self, bytes: usize) -> Self {
        self.args_budget = bytes;
        self
    }

    /// The snapshot being built (for the fields parsers set directly: goroutines, records,
    /// sockets, warnings, preamble, totals).
    pub fn snap(&mut self) -> &mut Snapshot {
        &mut self.snap
    }

    /// A shared copy of `s` (function names and file paths repeat across stacks).
    pub fn string(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(s.into(), a.clone());
        a
    }

    /// A frame with interned strings.
    pub fn frame(&mut self, function: &str, file: &str, line: u32, inlined: bool) -> Frame {
        Frame {
            function: self.string(function),
            file: self.string(file),
            line,
            inlined,
        }
    }

    /// The id of `stack`.
    pub fn stack(&mut self, stack: Stack) -> StackId {
        intern(&mut self.stacks, &mut self.snap.stacks, stack)
    }

    /// The id of `state`.
    pub fn state(&mut self, state: State) -> StateId {
        intern(&mut self.states, &mut self.snap.states, state)
    }

    /// The id of a state given by its header text.
    pub fn state_str(&mut self, raw: &str) -> StateId {
        if let Some(id) = self.snap.states.iter().position(|s| &*s.raw == raw) {
            return id as StateId;
        }
        self.state(State::from_status(raw))
    }

    /// The id of a label set (sorted here by key).
    pub fn labels(&mut self, mut labels: Labels) -> LabelsId {
        if labels.is_empty() {
            return 0;
        }
        labels.sort();
        intern(&mut self.labels, &mut self.snap.label_sets, labels)
    }

    /// The id of a `created by` frame.
    pub fn creator(&mut self, frame: Frame) -> CreatorId {
        intern(&mut self.creators, &mut self.snap.creators, frame)
    }

    /// The id of an argument list (one string per frame), or [`NONE`] once the budget is
    /// spent.
    pub fn args(&mut self, frames: &[&str]) -> ArgsId {
        let hash = self.args_hasher.hash_one(frames);
        if let Some(&id) = self.args.get(&hash) {
            if self
                .snap
                .args
                .get(id)
                .is_some_and(|a| a.iter().eq(frames.iter().copied()))
            {
                return id;
            }
        }
        let size = ArgLists::cost(frames.iter().map(|f| f.len()));
        let pushed = if self.args_bytes + size > self.args_budget {
            None
        } else {
            self.snap.args.push(frames.iter().copied())
        };
        let Some(id) = pushed else {
            self.args_dropped += 1;
            return NONE;
        };
        self.args_bytes += size;
        self.args.entry(hash).or_insert(id);
        id
    }

    /// The finished snapshot.
    pub fn finish(mut self) -> Snapshot {
        if self.args_dropped > 0 {
            self.snap.warnings.push(super::Warning {
                line: None,
                message: format!(
                    "argument words of {} goroutines were not kept (memory budget of {} MiB for distinct argument lists reached); waits on objects are judged from the rest",
                    self.args_dropped,
                    self.args_budget >> 20
                ),
            });
        }
        self.snap
    }
}
