//! Merges chunk results, in dump order, into one snapshot: maps worker-local ids to snapshot
//! ids, keeps argument lists within the memory budget, and turns what went wrong into
//! warnings with input line numbers.

use std::sync::atomic::{AtomicBool, Ordering};

use ahash::AHashMap;

use super::worker::{ARGS_NOT_COPIED, ChunkOut};
use crate::model::{
    Ancestor, ArgLists, ArgsId, CreatorId, Format, Goroutine, LabelsId, NONE, Snapshot,
    SnapshotBuilder, StackId, State, StateId, WaitReason, Warning,
};
use crate::parse::ParseError;

/// Warnings with line numbers kept per input; the rest are summarised.
const MAX_WARNINGS: usize = 200;
/// Preamble lines kept (a log full of panics is not one preamble).
const MAX_PREAMBLE: usize = 64;
/// Distinct states a snapshot keeps (state ids are 16-bit).
const MAX_STATES: usize = 60_000;

/// A goroutine's argument text: the chunk's argument text and its pieces' (start, len).
type Pieces<'b> = (&'b str, &'b [(u32, u32)]);

/// Estimated bytes of the hash-table entry that finds a kept list again.
const ENTRY_COST: usize = 16;

/// The distinct argument lists, kept until their estimated memory reaches the budget. Once
/// a list does not fit, the table closes and no later goroutine (in dump order) gets one, so
/// workers may stop reading argument text as soon as they see the table closed: the outcome
/// does not depend on thread timing.
struct ArgsTable<'a> {
    by_hash: AHashMap<u64, ArgsId>,
    used: usize,
    budget: usize,
    closed: &'a AtomicBool,
    dropped: u64,
}

impl ArgsTable<'_> {
    fn resolve(&mut self, table: &mut ArgLists, hash: u64, pieces: Option<Pieces<'_>>) -> ArgsId {
        if self.closed.load(Ordering::Relaxed) {
            self.dropped += 1;
            return NONE;
        }
        let Some((text, p)) = pieces else {
            self.dropped += 1;
            return NONE;
        };
        let frames = || {
            p.iter()
                .map(|&(s, l)| text.get(s as usize..(s + l) as usize).unwrap_or_default())
        };
        if let Some(&id) = self.by_hash.get(&hash) {
            if table.get(id).is_some_and(|a| a.iter().eq(frames())) {
                return id;
            }
        }
        let cost = ArgLists::cost(p.iter().map(|&(_, l)| l as usize)) + ENTRY_COST;
        let pushed = if self.used + cost > self.budget {
            None
        } else {
            table.push_spans(text, p)
        };
        let Some(id) = pushed else {
            self.closed.store(true, Ordering::Relaxed);
            self.dropped += 1;
            return NONE;
        };
        self.used += cost;
        self.by_hash.entry(hash).or_insert(id);
        id
    }
}

/// The goroutine ids met so far: a bitmap in pages of 4096 ids, found by hashing the page
/// number. Ids are handed out in small batches per P, so the ids of one dump crowd into few
/// pages: a million goroutines cost a few hundred KiB here.
#[derive(Default)]
struct IdSet {
    index: AHashMap<u64, u32>,
    pages: Vec<[u64; 64]>,
    /// The page last used, as (page number, index): consecutive ids share it.
    last: Option<(u64, u32)>,
}

impl IdSet {
    /// Adds `id`; false when it was there already.
    #[inline]
    fn insert(&mut self, id: u64) -> bool {
        let page = id >> 12;
        let i = match self.last {
            Some((p, i)) if p == page => i,
            _ => {
                let next = self.pages.len() as u32;
                let i = *self.index.entry(page).or_insert(next);
                if i == next {
                    self.pages.push([0; 64]);
                }
                self.last = Some((page, i));
                i
            }
        };
        let bit = id & 4095;
        let word = &mut self.pages[i as usize][(bit >> 6) as usize];
        let mask = 1u64 << (bit & 63);
        let new = *word & mask == 0;
        *word |= mask;
        new
    }
}

/// Goroutine ids met again. Two things repeat them: several threads crashing at once
/// interleave their dumps (a few goroutines printed twice), and an input holding several
/// dumps one after another (`curl …debug=2 >> dumps.txt`) repeats every goroutine, goroutine
/// 1 included. The first kind keeps each goroutine once, from its first copy; the second
/// is split into one snapshot per dump.
#[derive(Default)]
struct Repeats {
    /// The ids of the current stretch: a repeat within it starts the next stretch.
    seen: IdSet,
    /// Where each further stretch starts (an index into the goroutines).
    starts: Vec<usize>,
    /// How often goroutine 1, which runs main, was met.
    mains: u32,
    /// The goroutine before: its id and whether it was running, and where the current
    /// stretch starts.
    prev: Option<(u64, bool)>,
    stretch: usize,
}

/// Goroutine 0 (each thread's system goroutine in a SIGQUIT dump) and unreadable ids
/// (`u64::MAX`) may be printed any number of times.
fn may_repeat(id: u64) -> bool {
    id == 0 || id == u64::MAX
}

impl Repeats {
    /// Notes goroutine `id`, about to be stored at `index`.
    #[inline]
    fn note(&mut self, id: u64, index: usize, running: bool) {
        let prev = self.prev.replace((id, running));
        if may_repeat(id) {
            return;
        }
        self.mains += u32::from(id == 1);
        if !self.seen.insert(id) {
            // A dump starts with the goroutine that wrote it, running, and new: when the
            // repeat follows one, the next dump starts there.
            let mut at = index;
            self.seen = IdSet::default();
            if let Some((p, true)) = prev {
                if index > self.stretch + 1 && !may_repeat(p) {
                    at = index - 1;
                    self.seen.insert(p);
                }
            }
            self.starts.push(at);
            self.stretch = at;
            self.seen.insert(id);
        }
    }

    /// Settles the repeats in `snap`: goroutine 1 more than once means several dumps, whose
    /// starts are recorded; otherwise later copies are removed. Returns the warning.
    fn settle(self, snap: &mut Snapshot) -> Option<Warning> {
        if self.starts.is_empty() {
            return None;
        }
        // Dumps of one process have about the same size; a crash relayed to every thread
        // (GOTRACEBACK=crash) reprints only each thread's running goroutine, which may be 1.
        let mut bounds = vec![0];
        bounds.extend(&self.starts);
        bounds.push(snap.goroutines.len());
        let sizes: Vec<usize> = bounds.windows(2).map(|w| w[1] - w[0]).collect();
        let largest = sizes.iter().copied().max().unwrap_or(0);
        let alike = sizes.iter().all(|&n| n >= 2 && n * 4 >= largest);
        if self.mains >= 2 && alike {
            let n = self.starts.len() + 1;
            snap.dump_starts = self.starts;
            return Some(Warning {
                line: None,
                message: format!(
                    "the input holds {n} dumps one after another (goroutine 1 is printed {} times): they are read as a series of {n} snapshots, in the order they appear",
                    self.mains
                ),
            });
        }
        let mut all = IdSet::default();
        let mut ids: Vec<u64> = Vec::new();
        let mut copies = 0u64;
        snap.goroutines.retain(|g| {
            if may_repeat(g.id) || all.insert(g.id) {
                return true;
            }
            copies += 1;
            if ids.len() < 5 && !ids.contains(&g.id) {
                ids.push(g.id);
            }
            false
        });
        let listed: Vec<String> = ids.iter().map(u64::to_string).collect();
        Some(Warning {
            line: None,
            message: format!(
                "{} an id printed earlier (goroutine {}{}): several threads wrote the dump at once; each goroutine is counted once, from its first copy",
                match copies {
                    1 => "1 goroutine block repeats".to_string(),
                    n => format!("{n} goroutine blocks repeat"),
                },
                listed.join(", "),
                if copies as usize > listed.len() {
                    ", …"
                } else {
                    ""
                }
            ),
        })
    }
}

/// Builds the snapshot from chunk results handed over in order.
pub(super) struct Merger<'a> {
    b: SnapshotBuilder,
    stacks: Vec<Vec<StackId>>,
    states: Vec<Vec<StateId>>,
    labels: Vec<Vec<LabelsId>>,
    creators: Vec<Vec<CreatorId>>,
    args: ArgsTable<'a>,
    ancestry: AHashMap<Vec<(u64, u32, u32)>, u32>,
    line_base: u64,
    kept_warnings: usize,
    more_warnings: u64,
    truncated: Option<u64>,
    preamble_dropped: usize,
    repeats: Repeats,
    /// The input's length when known in advance (a mapped file), to size the goroutine
    /// table from the first chunk.
    input_len: Option<usize>,
}

impl<'a> Merger<'a> {
    pub fn new(source: &str, args_budget: usize, closed: &'a AtomicBool) -> Merger<'a> {
        Merger {
            b: SnapshotBuilder::new(source, Format::Traceback),
            stacks: Vec::new(),
            states: Vec::new(),
            labels: Vec::new(),
            creators: Vec::new(),
            args: ArgsTable {
                by_hash: AHashMap::new(),
                used: 0,
                budget: args_budget,
                closed,
                dropped: 0,
            },
            ancestry: AHashMap::new(),
            line_base: 0,
            kept_warnings: 0,
            more_warnings: 0,
            truncated: None,
            preamble_dropped: 0,
            repeats: Repeats::default(),
            input_len: None,
        }
    }

    /// Tells the merger how long the whole input is, so that the goroutine table can be
    /// allocated once, from the first chunk's density, with huge pages advised.
    pub fn expect_len(&mut self, len: usize) {
        self.input_len = Some(len);
    }

    /// Adds the next chunk's result (chunks must come in input order).
    pub fn merge(&mut self, out: ChunkOut) {
        let w = out.worker;
        if self.stacks.len() <= w {
            let n = w + 1;
            self.stacks.resize_with(n, Vec::new);
            self.states.resize_with(n, Vec::new);
            self.labels.resize_with(n, Vec::new);
            self.creators.resize_with(n, Vec::new);
        }
        for s in out.new_stacks {
            let id = self.b.stack(s);
            self.stacks[w].push(id);
        }
        for raw in out.new_states {
            let id = if self.b.snap().states.len() >= MAX_STATES {
                0
            } else {
                self.b.state(State::from_status(&raw))
            };
            self.states[w].push(id);
        }
        for l in out.new_labels {
            let id = self.b.labels(l);
            self.labels[w].push(id);
        }
        for c in out.new_creators {
            let id = self.b.creator(c);
            self.creators[w].push(id);
        }
        let chains: Vec<u32> = out
            .ancestries
            .into_iter()
            .map(|chain| {
                let key: Vec<(u64, u32, u32)> = chain
                    .into_iter()
                    .map(|(id, stack, creator)| {
                        let stack = self.b.stack(stack);
                        let creator = creator.map_or(NONE, |c| self.b.creator(c));
                        (id, stack, creator)
                    })
                    .collect();
                if let Some(&i) = self.ancestry.get(&key) {
                    return i;
                }
                let ancestry = &mut self.b.snap().ancestry;
                let i = ancestry.len() as u32;
                ancestry.push(
                    key.iter()
                        .map(|&(id, stack, creator)| Ancestor { id, stack, creator })
                        .collect(),
                );
                self.ancestry.insert(key, i);
                i
            })
            .collect();
        let (stacks, states, labels, creators) = (
            &self.stacks[w],
            &self.states[w],
            &self.labels[w],
            &self.creators[w],
        );
        let snap = self.b.snap();
        if let Some(len) = self.input_len.take().filter(|_| out.len > 0) {
            // The argument text cannot pass the budget, nor the input.
            let text = self.args.budget.min(len);
            snap.args.reserve(text, text / 16);
            for (start, bytes) in snap.args.buffers() {
                crate::parse::huge_pages::advise_buffer(start, bytes);
            }
            // A tenth more than the first chunk's density predicts: unused capacity is
            // never touched, so it costs address space, not memory.
            let expected = out.goroutines.len() as f64 * (len as f64 / out.len as f64) * 1.1;
            snap.goroutines.reserve_exact(expected as usize);
            crate::parse::huge_pages::advise(&snap.goroutines);
        }
        snap.goroutines.reserve(out.goroutines.len());
        for g in &out.goroutines {
            let state = states[g.state as usize];
            let running = snap.states[state as usize].reason == WaitReason::Running;
            self.repeats.note(g.id, snap.goroutines.len(), running);
            let args = if g.args_n == 0 {
                NONE
            } else {
                let pieces = (g.args_first != ARGS_NOT_COPIED).then(|| {
                    let first = g.args_first as usize;
                    (
                        &out.args_text[..],
                        &out.args_pieces[first..first + g.args_n as usize],
                    )
                });
                self.args.resolve(&mut snap.args, g.args_hash, pieces)
            };
            snap.goroutines.push(Goroutine {
                id: g.id,
                parent: g.parent,
                wait_minutes: g.minutes,
                stack: stacks[g.stack as usize],
                args,
                labels: if g.labels == NONE {
                    0
                } else {
                    labels[g.labels as usize]
                },
                creator: if g.creator == NONE {
                    NONE
                } else {
                    creators[g.creator as usize]
                },
                ancestors: if g.ancestors == NONE {
                    NONE
                } else {
                    chains[g.ancestors as usize]
                },
                state: states[g.state as usize],
                flags: crate::model::GFlags(g.flags),
            });
        }
        for mut warning in out.warnings {
            if self.kept_warnings < MAX_WARNINGS {
                warning.line = warning.line.map(|l| l + self.line_base);
                snap.warnings.push(warning);
                self.kept_warnings += 1;
            } else {
                self.more_warnings += 1;
            }
        }
        self.more_warnings += out.more_warnings;
        for line in out.preamble {
            if snap.preamble.len() < MAX_PREAMBLE {
                snap.preamble.push(line);
            } else {
                self.preamble_dropped += 1;
            }
        }
        if let Some(l) = out.truncated {
            self.truncated.get_or_insert(l + self.line_base);
        }
        self.line_base += out.lines;
    }

    /// The finished snapshot, or an error when no goroutine was found.
    pub fn finish(mut self) -> Result<Snapshot, ParseError> {
        let source = self.b.snap().source.clone();
        if self.b.snap().goroutines.is_empty() {
            if let Some(first) = self.b.snap().preamble.first() {
                return Err(ParseError::Malformed {
                    source_name: source,
                    line: 0,
                    message: format!(
                        "found a crash report (`{first}`) but no goroutine block after it; expected blocks starting with a header like `goroutine 1 [running]:` (was GOTRACEBACK=none set?)"
                    ),
                });
            }
            return Err(ParseError::NotEvidence {
                source_name: source,
                found: if self.line_base == 0 {
                    "the input is empty".into()
                } else {
                    format!("{} lines without a goroutine header", self.line_base)
                },
                expected: "a goroutine dump: blocks that start with a header like `goroutine 1 [running]:` followed by frames",
            });
        }
        let snap = self.b.snap();
        if let Some(line) = self.truncated {
            snap.warnings.push(Warning {
                line: Some(line),
                message: "the input ends inside the goroutine block that starts here: the dump is truncated, so that goroutine's stack is incomplete; everything before it was read".into(),
            });
        }
        if let Some(w) = std::mem::take(&mut self.repeats).settle(snap) {
            snap.warnings.push(w);
        }
        if self.more_warnings > 0 {
            snap.warnings.push(Warning {
                line: None,
                message: format!(
                    "{} more lines inside goroutine blocks did not fit the traceback grammar and were skipped (only the first {MAX_WARNINGS} are listed)",
                    self.more_warnings
                ),
            });
        }
        if self.preamble_dropped > 0 {
            snap.warnings.push(Warning {
                line: None,
                message: format!(
                    "{} further crash-report lines (`panic:`, `fatal error:`, …) were not kept; the first {MAX_PREAMBLE} were",
                    self.preamble_dropped
                ),
            });
        }
        if self.args.dropped > 0 {
            snap.warnings.push(Warning {
                line: None,
                message: format!(
                    "argument words of {} goroutines were not kept (memory budget of {} MiB for distinct argument lists reached); waits on objects are judged from the rest",
                    self.args.dropped,
                    self.args.budget >> 20
                ),
            });
        }
        Ok(self.b.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot with goroutines of these ids, in this order, after the repeats settled.
    fn settled(ids: &[u64]) -> (Snapshot, Option<Warning>) {
        settled_running(ids, &[])
    }

    /// As [`settled`], with the goroutines of ids in `running` running.
    fn settled_running(ids: &[u64], running: &[u64]) -> (Snapshot, Option<Warning>) {
        let mut r = Repeats::default();
        let mut snap = Snapshot::default();
        for (i, &id) in ids.iter().enumerate() {
            r.note(id, i, running.contains(&id));
            snap.goroutines.push(crate::model::Goroutine {
                id,
                parent: None,
                wait_minutes: None,
                stack: 0,
                args: NONE,
                labels: 0,
                creator: NONE,
                ancestors: NONE,
                state: 0,
                flags: crate::model::GFlags(0),
            });
        }
        let w = r.settle(&mut snap);
        (snap, w)
    }

    #[test]
    fn repeated_ids_are_kept_once_across_pages_and_far_apart_ids() {
        let ids = [3, 4095, 4096, 8191, 5_000_000_017, 64, 2];
        // Every thread's system goroutine is goroutine 0; an unreadable id is u64::MAX.
        let mut all: Vec<u64> = ids.iter().chain(&ids).copied().collect();
        all.extend([0, 0, u64::MAX, u64::MAX, 4097]);
        let (snap, w) = settled(&all);
        let kept: Vec<u64> = snap.goroutines.iter().map(|g| g.id).collect();
        assert_eq!(kept, [&ids[..], &[0, 0, u64::MAX, u64::MAX, 4097]].concat());
        assert!(snap.dump_starts.is_empty());
        let w = w.expect("repeats are reported");
        assert!(
            w.message.starts_with(
                "7 goroutine blocks repeat an id printed earlier (goroutine 3, 4095, 4096, 8191, 5000000017, …)"
            ),
            "{}",
            w.message
        );
        assert!(settled(&[1, 2, 3, 0, 0]).1.is_none());
    }

    #[test]
    fn dumps_one_after_another_are_split_where_ids_repeat() {
        // The second dump starts with goroutine 1; the third with its own running goroutine,
        // so it is cut at the first id it repeats.
        let (snap, w) = settled(&[1, 7, 9, 1, 7, 9, 12, 40, 1, 7]);
        assert_eq!(snap.goroutines.len(), 10);
        assert_eq!(snap.dump_starts, [3, 8]);
        let w = w.expect("the dumps are reported");
        assert!(
            w.message.starts_with(
                "the input holds 3 dumps one after another (goroutine 1 is printed 3 times)"
            ),
            "{}",
            w.message
        );
        // Each dump led by the running goroutine that wrote it: the cut goes before it.
        let (snap, _) = settled_running(&[50, 1, 7, 61, 1, 7, 72, 1, 7], &[50, 61, 72]);
        assert_eq!(snap.dump_starts, [3, 6]);
        // A crash relayed to another thread reprints goroutine 1 alone: not a second dump.
        let (snap, w) = settled_running(&[1, 7, 9, 11, 13, 0, 1], &[1]);
        assert!(snap.dump_starts.is_empty());
        assert_eq!(snap.goroutines.len(), 6);
        assert!(w.is_some_and(|w| w.message.starts_with("1 goroutine block repeats")));
    }
}
