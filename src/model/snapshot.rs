//! A snapshot: everything one piece of evidence says about a process at one moment.
//!
//! Memory grows with distinct stacks, not with goroutines: stacks, states, label sets,
//! creators and argument lists are interned tables, and a [`Goroutine`] is a compact record
//! of indices into them.

use super::{ArgLists, Args, Frame, Socket, State};

/// Index into [`Snapshot::stacks`].
pub type StackId = u32;
/// Index into [`Snapshot::states`].
pub type StateId = u16;
/// Index into [`Snapshot::label_sets`]; 0 is always the empty set.
pub type LabelsId = u32;
/// Index into [`Snapshot::creators`].
pub type CreatorId = u32;
/// Index into [`Snapshot::args`].
pub type ArgsId = u32;
/// "None" for the u32 indices above.
pub const NONE: u32 = u32::MAX;

/// The format a piece of evidence was read from; the names are the JSON `format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Full traceback text: pprof debug=2, `runtime.Stack`, panics, fatal errors, SIGQUIT,
    /// `go test` timeouts, goroutineleak debug=2.
    #[serde(rename = "goroutine-debug2")]
    Traceback,
    /// `goroutine profile: total N` (pprof debug=1).
    #[serde(rename = "goroutine-debug1")]
    Debug1,
    /// `goroutineleak profile: total N`.
    #[serde(rename = "goroutineleak-debug1")]
    LeakDebug1,
    /// gzipped pprof protobuf (debug=0), goroutine or goroutineleak.
    #[serde(rename = "pprof-proto")]
    Proto,
    /// `go tool pprof -traces` text.
    #[serde(rename = "pprof-traces")]
    Traces,
    /// A socket table (`ss`, `netstat`, `/proc/net/tcp`).
    #[serde(rename = "sockets")]
    Sockets,
}

impl Format {
    /// The stable name used in JSON and messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Traceback => "goroutine-debug2",
            Format::Debug1 => "goroutine-debug1",
            Format::LeakDebug1 => "goroutineleak-debug1",
            Format::Proto => "pprof-proto",
            Format::Traces => "pprof-traces",
            Format::Sockets => "sockets",
        }
    }

    /// True for formats that list each goroutine with its id, state and argument words.
    pub fn is_per_goroutine(self) -> bool {
        matches!(self, Format::Traceback)
    }
}

/// A unique call stack, leaf first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Stack {
    /// Frames, innermost (leaf) first.
    pub frames: Vec<Frame>,
    /// Frames the runtime left out (`...N frames elided...`); `Some(0)` when the count is not
    /// printed (`...additional frames elided...`).
    pub elided: Option<u32>,
}

/// A set of pprof labels, sorted by key.
pub type Labels = Vec<(Box<str>, Box<str>)>;

/// Bit flags on a goroutine header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct GFlags(pub u8);

impl GFlags {
    /// `, locked to thread`.
    pub const LOCKED: u8 = 1;
    /// `(leaked)`: the goroutineleak GC found it blocked on an unreachable primitive.
    pub const LEAKED: u8 = 2;
    /// `(durable)` (synctest bubbles).
    pub const DURABLE: u8 = 4;
    /// `(scan)`: the GC was scanning it.
    pub const SCAN: u8 = 8;
    /// The stack was unavailable (`goroutine running on other thread`).
    pub const NO_STACK: u8 = 16;
    /// Inside a synctest bubble / group.
    pub const BUBBLE: u8 = 32;

    /// True when `flag` is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }
}

/// One goroutine of a per-goroutine dump: a compact record of indices into the snapshot's
/// tables (about 48 bytes, so a million goroutines cost ~48 MB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goroutine {
    /// The goroutine id (`goroutine N`). Ids may repeat when two crashes interleave.
    pub id: u64,
    /// The goroutine that created this one (`created by … in goroutine N`, Go 1.21+).
    pub parent: Option<u64>,
    /// How long it has been blocked (`, N minutes`), absent when under a minute or unknown.
    pub wait_minutes: Option<u32>,
    /// Index of its stack.
    pub stack: StackId,
    /// Index of its argument lists ([`NONE`] when not kept or not printed).
    pub args: ArgsId,
    /// Index of its label set (0 = none).
    pub labels: LabelsId,
    /// Index of the `created by` frame ([`NONE`] for goroutine 1 and runtime goroutines).
    pub creator: CreatorId,
    /// Index into [`Snapshot::ancestry`] ([`NONE`] without `tracebackancestors`).
    pub ancestors: u32,
    /// Index of its state.
    pub state: StateId,
    /// Header annotations.
    pub flags: GFlags,
}

/// One record of an aggregated profile (debug=1, protobuf, `-traces`): a stack and how many
/// goroutines share it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The stack.
    pub stack: StackId,
    /// How many goroutines; negative or zero in delta profiles.
    pub count: i64,
    /// Label set (0 = none).
    pub labels: LabelsId,
}

/// One ancestor section (`[originating from goroutine N]:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    /// The ancestor goroutine id (may have exited or been reused).
    pub id: u64,
    /// Its stack at the time it created the descendant.
    pub stack: StackId,
    /// Its creator, if printed.
    pub creator: CreatorId,
}

/// A problem met while reading: a line that did not fit the grammar, a truncated input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// 1-based line number in the (decompressed) input, when the problem is on one line.
    pub line: Option<u64>,
    /// What was wrong and what was done about it.
    pub message: String,
}

/// Everything read from one input.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Where it came from, as the user named it (a path, `-`, a URL).
    pub source: String,
    /// The detected format; `None` only for an empty snapshot under construction.
    pub format: Option<Format>,
    /// Seconds since the Unix epoch when the evidence was taken, if it says (protobuf
    /// `time_nanos`, `-traces` `Time:`, a bundle manifest).
    pub taken_at: Option<f64>,
    /// The preamble of a crash dump: `panic: …`, `fatal error: …`, `SIGQUIT: quit`.
    pub preamble: Vec<String>,
    /// The total the evidence declares (`goroutine profile: total N`), if any.
    pub declared_total: Option<u64>,
    /// Unique stacks.
    pub stacks: Vec<Stack>,
    /// Unique states.
    pub states: Vec<State>,
    /// Unique label sets; index 0 is the empty set.
    pub label_sets: Vec<Labels>,
    /// Unique `created by` frames.
    pub creators: Vec<Frame>,
    /// Unique argument lists: for a goroutine, one entry per frame of its stack (the raw text
    /// between the parentheses, `...` for inlined frames).
    pub args: ArgLists,
    /// Ancestor chains, shared by the goroutines that print the same ones.
    pub ancestry: Vec<Vec<Ancestor>>,
    /// Goroutines of a per-goroutine dump, in dump order.
    pub goroutines: Vec<Goroutine>,
    /// Records of an aggregated profile.
    pub records: Vec<Record>,
    /// Socket table rows.
    pub sockets: Vec<Socket>,
    /// Problems met while reading.
    pub warnings: Vec<Warning>,
    /// For an input that holds several dumps one after another: where each dump after the
    /// first starts, as indices into `goroutines` ([`Snapshot::split_dumps`]).
    pub dump_starts: Vec<usize>,
}

impl Snapshot {
    /// An empty snapshot for `source`, with the empty label set at index 0.
    pub fn new(source: impl Into<String>, format: Format) -> Snapshot {
        Snapshot {
            source: source.into(),
            format: Some(format),
            label_sets: vec![Vec::new()],
            ..Snapshot::default()
        }
    }

    /// How many goroutines this evidence describes: the goroutines listed, or the sum of
    /// the records' counts.
    pub fn goroutine_count(&self) -> u64 {
        if !self.goroutines.is_empty() {
            self.goroutines.len() as u64
        } else {
            self.records.iter().map(|r| r.count.max(0) as u64).sum()
        }
    }

    /// The stack of `g`.
    pub fn stack(&self, g: &Goroutine) -> &Stack {
        &self.stacks[g.stack as usize]
    }

    /// The state of `g`.
    pub fn state(&self, g: &Goroutine) -> &State {
        &self.states[g.state as usize]
    }

    /// The labels of `g` (empty when none).
    pub fn labels(&self, id: LabelsId) -> &Labels {
        &self.label_sets[id as usize]
    }

    /// The `created by` frame of `g`.
    pub fn creator(&self, g: &Goroutine) -> Option<&Frame> {
        self.creators.get(g.creator as usize)
    }

    /// The argument lists of `g`, one per frame, when kept.
    pub fn args(&self, g: &Goroutine) -> Option<Args<'_>> {
        self.args.get(g.args)
    }

    /// The dumps of an input that holds several one after another, each a snapshot of its
    /// own named `SOURCE [dump I/N]` and sharing the interned tables; the input's warnings go
    /// with the first. A snapshot of one dump is returned as it is.
    pub fn split_dumps(mut self) -> Vec<Snapshot> {
        if self.dump_starts.is_empty() {
            return vec![self];
        }
        let mut bounds = vec![0];
        bounds.append(&mut self.dump_starts);
        let goroutines = std::mem::take(&mut self.goroutines);
        bounds.push(goroutines.len());
        let warnings = std::mem::take(&mut self.warnings);
        let n = bounds.len() - 1;
        let mut out: Vec<Snapshot> = bounds
            .windows(2)
            .enumerate()
            .map(|(i, w)| Snapshot {
                source: format!("{} [dump {}/{n}]", self.source, i + 1),
                goroutines: goroutines[w[0]..w[1]].to_vec(),
                ..self.clone()
            })
            .collect();
        out[0].warnings = warnings;
        out
    }

    /// The ancestor sections of `g`.
    pub fn ancestors(&self, g: &Goroutine) -> &[Ancestor] {
        self.ancestry
            .get(g.ancestors as usize)
            .map(|a| &a[..])
            .unwrap_or(&[])
    }
}
