//! Two snapshots compared: which stack groups grew, shrank, appeared or went away, which
//! goroutines sat still in both (same id, same stack, same state), and the totals and state
//! mix before and after. Pure: snapshots in, a [`Comparison`] out.
//!
//! Groups are keyed by the frames' functions, files and lines plus the printed state, the
//! same key the series analysis uses, so one process's snapshots line up even though
//! argument words and goroutine ids change.

use ahash::AHashMap;
use serde::Serialize;

use crate::diagnose::series::stack_key;
use crate::model::{Format, Snapshot, Stack};

/// Frames listed per group.
const FRAMES: usize = 16;
/// Goroutine ids listed per stuck group.
const IDS: usize = 8;

/// One side of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// How the page names it (`series/01.txt of incident 4`).
    pub label: String,
    /// The snapshot's source.
    pub source: String,
    /// Its format.
    pub format: &'static str,
    /// Seconds since the Unix epoch when taken, if known.
    pub taken_at: Option<f64>,
    /// Goroutines.
    pub goroutines: u64,
    /// Goroutines by printed state, largest first (`""` for formats without states).
    pub by_state: Vec<(String, u64)>,
}

/// How a group changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// More goroutines after.
    Grown,
    /// Fewer goroutines after, but some.
    Shrunk,
    /// Only after.
    New,
    /// Only before.
    Gone,
    /// As many.
    Same,
}

impl Change {
    /// The name shown and serialised.
    pub fn name(self) -> &'static str {
        match self {
            Change::Grown => "grown",
            Change::Shrunk => "shrunk",
            Change::New => "new",
            Change::Gone => "gone",
            Change::Same => "same",
        }
    }
}

/// One frame of a group's stack.
#[derive(Debug, Clone, Serialize)]
pub struct FrameOut {
    /// Function.
    pub function: String,
    /// File.
    pub file: String,
    /// Line.
    pub line: u32,
}

/// A stack group present on either side.
#[derive(Debug, Clone, Serialize)]
pub struct GroupDelta {
    /// How it changed.
    pub change: Change,
    /// Goroutines before.
    pub before: u64,
    /// Goroutines after.
    pub after: u64,
    /// `after - before`.
    pub delta: i64,
    /// The printed state (`""` for formats without states).
    pub state: String,
    /// The first frame outside the runtime and standard synchronisation: where the
    /// program's own code waits.
    pub at: Option<FrameOut>,
    /// The innermost frames, leaf first.
    pub frames: Vec<FrameOut>,
}

/// Goroutines in the same place on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct StuckGroup {
    /// How many.
    pub goroutines: u64,
    /// Their state.
    pub state: String,
    /// Where their own code waits.
    pub at: Option<FrameOut>,
    /// The first few ids.
    pub ids: Vec<u64>,
}

/// What the comparison found.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The earlier snapshot.
    pub before: Side,
    /// The later one.
    pub after: Side,
    /// Every group of either side: changed ones first, largest change first.
    pub groups: Vec<GroupDelta>,
    /// Both sides list goroutines one by one (ids can be matched).
    pub per_goroutine: bool,
    /// Goroutines with the same id, stack and state on both sides.
    pub stuck: u64,
    /// Those goroutines grouped by stack and state, largest first.
    pub stuck_groups: Vec<StuckGroup>,
}

type Key = (u64, Box<str>);

struct Acc<'a> {
    stack: &'a Stack,
    before: u64,
    after: u64,
}

fn counts(snap: &Snapshot) -> Vec<(Key, &Stack, u64)> {
    fn add<'s>(
        idx: &mut AHashMap<Key, usize>,
        out: &mut Vec<(Key, &'s Stack, u64)>,
        key: Key,
        stack: &'s Stack,
        n: u64,
    ) {
        let i = *idx.entry(key.clone()).or_insert_with(|| {
            out.push((key, stack, 0));
            out.len() - 1
        });
        out[i].2 += n;
    }
    let mut idx: AHashMap<Key, usize> = AHashMap::new();
    let mut out: Vec<(Key, &Stack, u64)> = Vec::new();
    // The stack keys are computed once per distinct stack, not per goroutine.
    let keys: Vec<u64> = snap.stacks.iter().map(stack_key).collect();
    for g in &snap.goroutines {
        let (Some(stack), Some(state)) = (
            snap.stacks.get(g.stack as usize),
            snap.states.get(g.state as usize),
        ) else {
            continue;
        };
        add(
            &mut idx,
            &mut out,
            (keys[g.stack as usize], state.raw.clone()),
            stack,
            1,
        );
    }
    for r in &snap.records {
        let Some(stack) = snap.stacks.get(r.stack as usize) else {
            continue;
        };
        add(
            &mut idx,
            &mut out,
            (keys[r.stack as usize], "".into()),
            stack,
            r.count.max(0) as u64,
        );
    }
    out
}

fn side(label: &str, snap: &Snapshot, groups: &[(Key, &Stack, u64)]) -> Side {
    let mut by: AHashMap<&str, u64> = AHashMap::new();
    for ((_, st), _, n) in groups {
        *by.entry(st).or_default() += n;
    }
    let mut by_state: Vec<(String, u64)> =
        by.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    by_state.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Side {
        label: label.to_string(),
        source: snap.source.clone(),
        format: snap.format.map_or("unknown", Format::name),
        taken_at: snap.taken_at,
        goroutines: snap.goroutine_count(),
        by_state,
    }
}

fn frames(stack: &Stack) -> Vec<FrameOut> {
    stack
        .frames
        .iter()
        .take(FRAMES)
        .map(|f| FrameOut {
            function: f.function.to_string(),
            file: f.file.to_string(),
            line: f.line,
        })
        .collect()
}

/// Where the program's own code is: the first frame outside the runtime, the standard
/// synchronisation packages and the system-call layer; the leaf when every frame is there.
fn own_frame(stack: &Stack) -> Option<FrameOut> {
    const LIBRARY: [&str; 6] = [
        "runtime.",
        "sync.",
        "internal/",
        "syscall.",
        "sync/atomic.",
        "time.",
    ];
    let f = stack
        .frames
        .iter()
        .find(|f| !LIBRARY.iter().any(|p| f.function.starts_with(p)))
        .or(stack.frames.first())?;
    Some(FrameOut {
        function: f.function.to_string(),
        file: f.file.to_string(),
        line: f.line,
    })
}

/// Compares `before` with `after`, naming them `labels`.
pub fn compare(before: &Snapshot, after: &Snapshot, labels: (&str, &str)) -> Comparison {
    let b = counts(before);
    let a = counts(after);
    let mut merged: Vec<(Key, Acc)> = Vec::new();
    let mut idx: AHashMap<Key, usize> = AHashMap::new();
    for (key, stack, n) in &b {
        idx.insert(key.clone(), merged.len());
        merged.push((
            key.clone(),
            Acc {
                stack,
                before: *n,
                after: 0,
            },
        ));
    }
    for (key, stack, n) in &a {
        match idx.get(key) {
            Some(&i) => {
                merged[i].1.after += n;
                // Show the later stack: its frames are the ones present now.
                merged[i].1.stack = stack;
            }
            None => merged.push((
                key.clone(),
                Acc {
                    stack,
                    before: 0,
                    after: *n,
                },
            )),
        }
    }
    let mut groups: Vec<GroupDelta> = merged
        .into_iter()
        .map(|((_, state), acc)| {
            let change = match (acc.before, acc.after) {
                (0, _) => Change::New,
                (_, 0) => Change::Gone,
                (x, y) if y > x => Change::Grown,
                (x, y) if y < x => Change::Shrunk,
                _ => Change::Same,
            };
            GroupDelta {
                change,
                before: acc.before,
                after: acc.after,
                delta: acc.after as i64 - acc.before as i64,
                state: state.to_string(),
                at: own_frame(acc.stack),
                frames: frames(acc.stack),
            }
        })
        .collect();
    groups.sort_by(|x, y| {
        (x.change == Change::Same)
            .cmp(&(y.change == Change::Same))
            .then(y.delta.unsigned_abs().cmp(&x.delta.unsigned_abs()))
            .then(y.after.cmp(&x.after))
            .then(y.before.cmp(&x.before))
    });

    // Stuck: the same goroutine id in the same stack and state on both sides.
    let per_goroutine = !before.goroutines.is_empty() && !after.goroutines.is_empty();
    let mut stuck = 0;
    let mut stuck_groups: Vec<StuckGroup> = Vec::new();
    if per_goroutine {
        let bkeys: Vec<u64> = before.stacks.iter().map(stack_key).collect();
        let akeys: Vec<u64> = after.stacks.iter().map(stack_key).collect();
        let mut then: AHashMap<u64, (u64, &str)> = AHashMap::new();
        for g in &before.goroutines {
            if let (Some(k), Some(st)) = (
                bkeys.get(g.stack as usize),
                before.states.get(g.state as usize),
            ) {
                then.insert(g.id, (*k, &st.raw));
            }
        }
        let mut by_key: AHashMap<(u64, &str), usize> = AHashMap::new();
        for g in &after.goroutines {
            let (Some(k), Some(st), Some(stack)) = (
                akeys.get(g.stack as usize),
                after.states.get(g.state as usize),
                after.stacks.get(g.stack as usize),
            ) else {
                continue;
            };
            if then.get(&g.id) != Some(&(*k, &*st.raw)) {
                continue;
            }
            stuck += 1;
            let i = *by_key.entry((*k, &st.raw)).or_insert_with(|| {
                stuck_groups.push(StuckGroup {
                    goroutines: 0,
                    state: st.raw.to_string(),
                    at: own_frame(stack),
                    ids: Vec::new(),
                });
                stuck_groups.len() - 1
            });
            let sg = &mut stuck_groups[i];
            sg.goroutines += 1;
            if sg.ids.len() < IDS {
                sg.ids.push(g.id);
            }
        }
        stuck_groups.sort_by_key(|g| std::cmp::Reverse(g.goroutines));
    }

    Comparison {
        before: side(labels.0, before, &b),
        after: side(labels.1, after, &a),
        groups,
        per_goroutine,
        stuck,
        stuck_groups,
    }
}

/// The snapshots of `snaps` that form its series, in time order, as the diagnosis reads
/// them: the per-goroutine dumps when there are any, else every snapshot with goroutines;
/// ordered by their own timestamps where all have one.
pub fn series(snaps: &[Snapshot]) -> Vec<usize> {
    let mut v: Vec<usize> = (0..snaps.len())
        .filter(|&i| snaps[i].format.is_some_and(|f| f.is_per_goroutine()))
        .collect();
    if v.is_empty() {
        v = (0..snaps.len())
            .filter(|&i| snaps[i].format != Some(Format::Sockets) && snaps[i].goroutine_count() > 0)
            .collect();
    }
    if v.iter().all(|&i| snaps[i].taken_at.is_some()) {
        v.sort_by(|&a, &b| {
            snaps[a]
                .taken_at
                .partial_cmp(&snaps[b].taken_at)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SnapshotBuilder, State};

    // Hand-written snapshots: two stacks, goroutines moving between them.
    fn snap(gs: &[(u64, &str, &str)]) -> Snapshot {
        let mut b = SnapshotBuilder::new("hand-written", Format::Traceback);
        for &(id, func, state) in gs {
            let frame = b.frame(func, "/app/main.go", 10, false);
            let leaf = b.frame("runtime.gopark", "/go/src/runtime/proc.go", 400, false);
            let stack = b.stack(Stack {
                frames: vec![leaf, frame],
                elided: None,
            });
            let state = b.state(State::from_status(state));
            b.snap().goroutines.push(crate::model::Goroutine {
                id,
                parent: None,
                wait_minutes: None,
                stack,
                args: crate::model::NONE,
                labels: 0,
                creator: crate::model::NONE,
                ancestors: crate::model::NONE,
                state,
                flags: Default::default(),
            });
        }
        b.finish()
    }

    #[test]
    fn groups_grow_shrink_appear_and_go() {
        let before = snap(&[
            (1, "main.a", "chan receive"),
            (2, "main.a", "chan receive"),
            (3, "main.b", "select"),
            (4, "main.c", "IO wait"),
        ]);
        let after = snap(&[
            (1, "main.a", "chan receive"),
            (2, "main.a", "chan receive"),
            (5, "main.a", "chan receive"),
            (6, "main.d", "sleep"),
            (3, "main.b", "sync.Mutex.Lock"),
        ]);
        let c = compare(&before, &after, ("x", "y"));
        let find = |f: &str, st: &str| {
            c.groups
                .iter()
                .find(|g| g.at.as_ref().unwrap().function == f && g.state == st)
                .unwrap()
        };
        assert_eq!(
            (
                find("main.a", "chan receive").change,
                find("main.a", "chan receive").delta
            ),
            (Change::Grown, 1)
        );
        assert_eq!(find("main.c", "IO wait").change, Change::Gone);
        assert_eq!(find("main.d", "sleep").change, Change::New);
        // Same stack, another state: another group.
        assert_eq!(find("main.b", "select").change, Change::Gone);
        assert_eq!(find("main.b", "sync.Mutex.Lock").change, Change::New);
        // Goroutines 1 and 2 stayed; 3 changed state.
        assert_eq!(c.stuck, 2);
        assert_eq!(c.stuck_groups[0].ids, vec![1, 2]);
        assert_eq!((c.before.goroutines, c.after.goroutines), (4, 5));
        assert_eq!(c.after.by_state[0], ("chan receive".to_string(), 3));
    }
}
