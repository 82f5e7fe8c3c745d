//! Several snapshots of one process over time: which goroutines stay in place (stuck), which
//! stacks keep growing, which disappeared.

use std::hash::{Hash, Hasher};

use ahash::{AHashMap, AHashSet, AHasher};

use crate::model::{Frame, Snapshot, Stack};

/// A stack whose goroutine count grows across the series.
#[derive(Debug, Clone)]
pub struct Growth {
    /// The frames of the stack (from the last snapshot).
    pub frames: Vec<Frame>,
    /// The state printed for it in the last snapshot.
    pub state: String,
    /// The count in each snapshot, oldest first.
    pub counts: Vec<u64>,
    /// How many goroutines of the first snapshot's group are still there at the end.
    pub persisting: u64,
    /// The `created by` function, when printed.
    pub creator: Option<Frame>,
}

/// A stack present in the first snapshot and absent in the last.
#[derive(Debug, Clone)]
pub struct Vanished {
    /// The frames of the stack (from the first snapshot).
    pub frames: Vec<Frame>,
    /// How many goroutines had it.
    pub count: u64,
    /// Its creator.
    pub creator: Option<Frame>,
}

/// What the series says.
#[derive(Debug, Clone, Default)]
pub struct SeriesFacts {
    /// How many snapshots.
    pub snapshots: usize,
    /// Seconds between the first and the last, when the snapshots carry times.
    pub span_seconds: Option<f64>,
    /// Goroutine ids in the same stack and state in every snapshot.
    pub stuck_ids: AHashSet<u64>,
    /// Goroutines in the first snapshot (per-goroutine dumps).
    pub first_total: u64,
    /// Stacks growing across the series, largest growth first.
    pub growth: Vec<Growth>,
    /// Stacks that disappeared.
    pub vanished: Vec<Vanished>,
}

/// A hash of a stack's functions, files and lines: equal across snapshots of one process.
pub fn stack_key(stack: &Stack) -> u64 {
    let mut h = AHasher::default();
    for f in &stack.frames {
        f.function.hash(&mut h);
        f.file.hash(&mut h);
        f.line.hash(&mut h);
    }
    h.finish()
}

/// Counts per stack key (with a representative frame list, state and creator).
fn counts(s: &Snapshot) -> AHashMap<u64, (u64, usize, String, Option<Frame>)> {
    let keys: Vec<u64> = s.stacks.iter().map(stack_key).collect();
    let mut m: AHashMap<u64, (u64, usize, String, Option<Frame>)> = AHashMap::new();
    for g in &s.goroutines {
        let e = m.entry(keys[g.stack as usize]).or_insert((
            0,
            g.stack as usize,
            s.state(g).raw.to_string(),
            s.creator(g).cloned(),
        ));
        e.0 += 1;
    }
    for r in &s.records {
        let e =
            m.entry(keys[r.stack as usize])
                .or_insert((0, r.stack as usize, String::new(), None));
        e.0 += r.count.max(0) as u64;
    }
    m
}

/// Analyses snapshots of one process, oldest first. `None` for fewer than two.
pub fn analyse(snaps: &[&Snapshot]) -> Option<SeriesFacts> {
    if snaps.len() < 2 {
        return None;
    }
    let mut out = SeriesFacts {
        snapshots: snaps.len(),
        ..Default::default()
    };
    if let (Some(a), Some(b)) = (snaps[0].taken_at, snaps[snaps.len() - 1].taken_at) {
        out.span_seconds = Some(b - a);
    }
    let first = snaps[0];
    let last = snaps[snaps.len() - 1];
    out.first_total = first.goroutine_count();

    // Stuck: same id, same stack key and state in every snapshot.
    if snaps.iter().all(|s| !s.goroutines.is_empty()) {
        let place = |s: &Snapshot| -> AHashMap<u64, (u64, String)> {
            let keys: Vec<u64> = s.stacks.iter().map(stack_key).collect();
            s.goroutines
                .iter()
                .map(|g| (g.id, (keys[g.stack as usize], s.state(g).raw.to_string())))
                .collect()
        };
        let mut candidates = place(first);
        for s in &snaps[1..] {
            let p = place(s);
            candidates.retain(|id, v| p.get(id) == Some(v));
        }
        out.stuck_ids = candidates.into_keys().collect();
    }

    // Growth and disappearance per stack.
    let all: Vec<_> = snaps.iter().map(|s| counts(s)).collect();
    let last_counts = &all[all.len() - 1];
    for (key, (n_last, stack_idx, state, creator)) in last_counts {
        let series: Vec<u64> = all.iter().map(|m| m.get(key).map_or(0, |e| e.0)).collect();
        let nondecreasing = series.windows(2).all(|w| w[1] >= w[0]);
        let first_n = series[0];
        if snaps.len() >= 3 && nondecreasing && *n_last >= first_n + (first_n / 5).max(3) {
            let persisting = first
                .goroutines
                .iter()
                .filter(|g| out.stuck_ids.contains(&g.id) && stack_key(first.stack(g)) == *key)
                .count() as u64;
            out.growth.push(Growth {
                frames: last.stacks[*stack_idx].frames.clone(),
                state: state.clone(),
                counts: series,
                persisting,
                creator: creator.clone(),
            });
        }
    }
    out.growth.sort_by(|a, b| {
        let ga = a.counts[a.counts.len() - 1] - a.counts[0];
        let gb = b.counts[b.counts.len() - 1] - b.counts[0];
        gb.cmp(&ga).then_with(|| a.frames.cmp(&b.frames))
    });
    for (key, (n_first, stack_idx, _, creator)) in &all[0] {
        if !last_counts.contains_key(key) {
            out.vanished.push(Vanished {
                frames: first.stacks[*stack_idx].frames.clone(),
                count: *n_first,
                creator: creator.clone(),
            });
        }
    }
    out.vanished
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.frames.cmp(&b.frames)));
    Some(out)
}
