//! Several snapshots of one process over time: which goroutines stay in place (stuck), which
//! stacks keep growing, which disappeared.

use std::hash::{Hash, Hasher};

use ahash::{AHashMap, AHashSet, AHasher};

use super::waits::{WaitKind, classify};
use crate::model::{Frame, Snapshot, Stack};

/// A stack whose goroutine count grows across the series.
#[derive(Debug, Clone)]
pub struct Growth {
    /// The [`growth_key`] of the site.
    pub key: u64,
    /// The frames of the stack (from the last snapshot).
    pub frames: Vec<Frame>,
    /// The state printed for it in the last snapshot.
    pub state: String,
    /// The count at the site in each snapshot, oldest first.
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
    /// What each function starts, seen in any snapshot: (creator function, the outermost
    /// application frame of a goroutine it created).
    pub started: Vec<(String, Frame)>,
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

/// Where goroutines come from, for growth: the `created by` site when printed (a fixed pool
/// of workers cannot grow, a per-request spawn can), else the stack itself.
pub fn growth_key(creator: Option<&Frame>, stack: &Stack) -> u64 {
    match creator {
        Some(c) => {
            let mut h = AHasher::default();
            c.function.hash(&mut h);
            c.file.hash(&mut h);
            c.line.hash(&mut h);
            h.finish()
        }
        None => stack_key(stack),
    }
}

/// Per growth key: goroutines parked in a way that can be a hang (not running, not a
/// server's idle wait), the most common such stack, its state, and the creator.
#[derive(Default)]
struct KeyCount {
    /// All goroutines at the key.
    total: u64,
    /// Those parked in a way that can be a hang.
    count: u64,
    stacks: AHashMap<usize, u64>,
    state: String,
    creator: Option<Frame>,
}

fn counts(s: &Snapshot) -> AHashMap<u64, KeyCount> {
    let mut parked: Vec<Option<bool>> = vec![None; s.stacks.len() * s.states.len().max(1)];
    let mut m: AHashMap<u64, KeyCount> = AHashMap::new();
    for g in &s.goroutines {
        let slot = g.stack as usize * s.states.len().max(1) + g.state as usize;
        let is_parked = *parked[slot].get_or_insert_with(|| {
            let k = classify(s.stack(g), s.state(g).reason, None).kind;
            k.is_blocking() && k != WaitKind::Idle
        });
        let e = m.entry(growth_key(s.creator(g), s.stack(g))).or_default();
        e.total += 1;
        if !is_parked {
            continue;
        }
        e.count += 1;
        *e.stacks.entry(g.stack as usize).or_default() += 1;
        if e.creator.is_none() {
            e.creator = s.creator(g).cloned();
            e.state = s.state(g).raw.to_string();
        }
    }
    for r in &s.records {
        let stack = &s.stacks[r.stack as usize];
        let k = classify(stack, crate::model::WaitReason::Unknown, None).kind;
        if !k.is_blocking() || k == WaitKind::Idle {
            continue;
        }
        let e = m.entry(stack_key(stack)).or_default();
        e.total += r.count.max(0) as u64;
        e.count += r.count.max(0) as u64;
        *e.stacks.entry(r.stack as usize).or_default() += r.count.max(0) as u64;
    }
    m
}

fn top_stack(k: &KeyCount) -> usize {
    k.stacks
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(s, _)| *s)
        .unwrap_or(0)
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
        // A place is the stack, the state and the exact argument words: a keep-alive handler
        // goroutine waiting on a new WaitGroup per request is not stuck, one waiting on the
        // same object throughout is.
        let place = |s: &Snapshot| -> AHashMap<u64, (u64, String, u64)> {
            let keys: Vec<u64> = s.stacks.iter().map(stack_key).collect();
            s.goroutines
                .iter()
                .map(|g| {
                    let mut h = AHasher::default();
                    s.args(g).hash(&mut h);
                    (
                        g.id,
                        (
                            keys[g.stack as usize],
                            s.state(g).raw.to_string(),
                            h.finish(),
                        ),
                    )
                })
                .collect()
        };
        let mut candidates = place(first);
        for s in &snaps[1..] {
            let p = place(s);
            candidates.retain(|id, v| p.get(id) == Some(v));
        }
        out.stuck_ids = candidates.into_keys().collect();
    }

    // Growth per creation site; disappearance per stack.
    let all: Vec<_> = snaps.iter().map(|s| counts(s)).collect();
    // With goroutine ids, "they do not finish" is checked: some goroutines of the site seen
    // in the earliest snapshot that has any must still be there at the end. Sites whose
    // goroutines come and go (transactions, requests in flight) are not leaks, whatever
    // their count does.
    let ids = snaps.iter().all(|s| !s.goroutines.is_empty());
    let ids_at = |s: &Snapshot, key: u64| -> AHashSet<u64> {
        s.goroutines
            .iter()
            .filter(|g| growth_key(s.creator(g), s.stack(g)) == key)
            .map(|g| g.id)
            .collect()
    };
    let last_counts = &all[all.len() - 1];
    for (key, k) in last_counts {
        // Growth: more goroutines from this site in every snapshot, and the new ones parked
        // (a fixed pool whose workers go idle, or keep-alive connections, do not count).
        let series: Vec<u64> = all
            .iter()
            .map(|m| m.get(key).map_or(0, |e| e.total))
            .collect();
        let parked: Vec<u64> = all
            .iter()
            .map(|m| m.get(key).map_or(0, |e| e.count))
            .collect();
        let nondecreasing = series.windows(2).all(|w| w[1] >= w[0]);
        let first_n = series[0];
        let grew = k.total >= first_n + (first_n / 5).max(3);
        let parked_grew =
            parked[parked.len() - 1] >= parked[0] + k.total.saturating_sub(first_n) / 2;
        let outlived = || {
            let Some(early) = series[..series.len() - 1].iter().position(|&n| n > 0) else {
                return false;
            };
            let at_end = ids_at(last, *key);
            ids_at(snaps[early], *key)
                .iter()
                .any(|id| at_end.contains(id))
        };
        if snaps.len() >= 3
            && nondecreasing
            && grew
            && parked_grew
            && k.count > 0
            && (!ids || outlived())
        {
            let persisting = first
                .goroutines
                .iter()
                .filter(|g| {
                    out.stuck_ids.contains(&g.id)
                        && growth_key(first.creator(g), first.stack(g)) == *key
                })
                .count() as u64;
            out.growth.push(Growth {
                key: *key,
                frames: last.stacks[top_stack(k)].frames.clone(),
                state: k.state.clone(),
                counts: series,
                persisting,
                creator: k.creator.clone(),
            });
        }
    }
    out.growth.sort_by(|a, b| {
        let ga = a.counts[a.counts.len() - 1] - a.counts[0];
        let gb = b.counts[b.counts.len() - 1] - b.counts[0];
        gb.cmp(&ga).then_with(|| a.frames.cmp(&b.frames))
    });
    let stacks_of = |s: &Snapshot| -> AHashMap<u64, (u64, usize, Option<Frame>)> {
        let keys: Vec<u64> = s.stacks.iter().map(stack_key).collect();
        let mut m: AHashMap<u64, (u64, usize, Option<Frame>)> = AHashMap::new();
        for g in &s.goroutines {
            m.entry(keys[g.stack as usize])
                .or_insert((0, g.stack as usize, s.creator(g).cloned()))
                .0 += 1;
        }
        m
    };
    let last_stacks = stacks_of(last);
    for (key, (n_first, stack_idx, creator)) in stacks_of(first) {
        if !last_stacks.contains_key(&key) {
            out.vanished.push(Vanished {
                frames: first.stacks[stack_idx].frames.clone(),
                count: n_first,
                creator,
            });
        }
    }
    for s in snaps {
        let mut seen: AHashSet<(u32, u32)> = AHashSet::new();
        for g in &s.goroutines {
            let Some(c) = s.creator(g) else { continue };
            if !seen.insert((g.creator, g.stack)) {
                continue;
            }
            if let Some(entry) = s
                .stack(g)
                .frames
                .iter()
                .rev()
                .find(|f| !crate::knowledge::is_library_frame(f))
            {
                if !out
                    .started
                    .iter()
                    .any(|(cf, e)| **cf == *c.function && e.function == entry.function)
                {
                    out.started.push((c.function.to_string(), entry.clone()));
                }
            }
        }
    }
    out.started
        .sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    out.vanished
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.frames.cmp(&b.frames)));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::analyse;
    use crate::model::Snapshot;
    use crate::parse::{Options, parse_reader};

    /// Hand-written dump: goroutine 1 and, for each id, one goroutine blocked in
    /// `main.fetch`, started by `main.serve`.
    fn snap(ids: &[u64]) -> Snapshot {
        let mut d = String::from("goroutine 1 [select]:\nmain.main()\n\t/src/m.go:5 +0x1\n\n");
        for id in ids {
            d.push_str(&format!(
                "goroutine {id} [chan receive]:\nmain.fetch(0xc000010000)\n\t/src/m.go:20 +0x1d\ncreated by main.serve in goroutine 1\n\t/src/m.go:10 +0x66\n\n"
            ));
        }
        let input = Box::new(std::io::Cursor::new(d.into_bytes()));
        parse_reader(input, "t.txt", &Options::default()).unwrap()
    }

    #[test]
    fn goroutines_that_come_and_go_are_not_growth_those_that_stay_are() {
        let churn = [snap(&[]), snap(&[10]), snap(&[20, 21, 22])];
        let refs: Vec<&Snapshot> = churn.iter().collect();
        assert!(analyse(&refs).unwrap().growth.is_empty());
        let leak = [snap(&[]), snap(&[10]), snap(&[10, 20, 21])];
        let refs: Vec<&Snapshot> = leak.iter().collect();
        assert_eq!(analyse(&refs).unwrap().growth.len(), 1);
    }
}
