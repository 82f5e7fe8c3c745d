//! Grouping goroutines that are doing the same thing: the tens of thousands of goroutines of a
//! hung service usually collapse into a handful of stacks, and the counts, states and wait
//! times of those groups are what tells the cause from the victims.
//!
//! Pure and linear: every per-goroutine step is a few table lookups keyed by small ids, and
//! the work per distinct stack or argument list is done once, not per goroutine.

use ahash::AHashMap;

use super::State;
use super::snapshot::{ArgsId, CreatorId, GFlags, LabelsId, NONE, Snapshot, StackId, StateId};

/// At most this many goroutine ids are kept per group.
pub const MAX_IDS: usize = 8;
/// At most this many label sets are listed per group (the most common).
pub const MAX_LABEL_SETS: usize = 5;

/// How alike goroutines must be to share a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GroupLevel {
    /// Same frames, same state and identical argument words.
    Exact,
    /// Same frames and state; argument words equal except those that look like addresses
    /// (hex words of at least 0x10000 are all alike), so small integers and lengths still
    /// tell groups apart.
    Pointers,
    /// Same function, file and line in every frame, and the same state.
    #[default]
    Lines,
}

/// Goroutines that share a stack and state (at some [`GroupLevel`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The stack of the group's first goroutine or record (all members share its lines).
    pub stack: StackId,
    /// The state; [`State::unknown`] for aggregated formats, which record none.
    pub state: State,
    /// How many goroutines: members of a per-goroutine dump, or the sum of the records'
    /// counts (negative counts of delta profiles count as 0).
    pub count: u64,
    /// Fewest and most minutes waited, over the members whose header printed minutes;
    /// `None` when none did. The runtime prints no minutes for waits under a minute, so when
    /// only some members printed them the minimum is 0.
    pub wait_minutes: Option<(u32, u32)>,
    /// The ids of the first [`MAX_IDS`] members in dump order (empty for aggregated formats).
    pub ids: Vec<u64>,
    /// The most common non-empty label sets with how many members carry each, most common
    /// first, at most [`MAX_LABEL_SETS`].
    pub labels: Vec<(LabelsId, u64)>,
    /// The most common `created by` frame among the members, if any printed one.
    pub creator: Option<CreatorId>,
    /// Members locked to their OS thread.
    pub locked: u64,
    /// Members the goroutine-leak detector marked `(leaked)`.
    pub leaked: u64,
}

/// Groups the goroutines (or records) of `snap`, largest group first, then longest wait,
/// then stack id.
pub fn group(snap: &Snapshot, level: GroupLevel) -> Vec<Group> {
    let stack_key = stack_keys(snap, level);
    let args_key = args_keys(snap, level);
    let mut index: AHashMap<(u32, StateId, u32), u32> = AHashMap::new();
    let mut groups: Vec<Acc> = Vec::new();
    let mut labels: AHashMap<(u32, LabelsId), u64> = AHashMap::new();
    let mut creators: AHashMap<(u32, CreatorId), u64> = AHashMap::new();
    // The group each stack key last went to: a dump of a million goroutines has a handful
    // of groups per stack, so this spares most lookups in `index`.
    let mut last: Vec<Option<(StateId, u32, u32)>> = vec![None; stack_key.len()];

    for g in &snap.goroutines {
        let skey = stack_key.get(g.stack as usize).copied().unwrap_or(g.stack);
        let akey = match level {
            GroupLevel::Lines => 0,
            _ => args_key(g.args),
        };
        let gi = match last.get(skey as usize) {
            Some(&Some((state, a, gi))) if state == g.state && a == akey => gi,
            _ => {
                let gi = *index.entry((skey, g.state, akey)).or_insert_with(|| {
                    groups.push(Acc::new(g.stack, Some(g.state)));
                    (groups.len() - 1) as u32
                });
                if let Some(l) = last.get_mut(skey as usize) {
                    *l = Some((g.state, akey, gi));
                }
                gi
            }
        };
        let acc = &mut groups[gi as usize];
        acc.count += 1;
        match g.wait_minutes {
            Some(m) => {
                acc.min = acc.min.min(m);
                acc.max = Some(acc.max.map_or(m, |x| x.max(m)));
            }
            None => acc.min = 0,
        }
        if acc.ids.len() < MAX_IDS {
            acc.ids.push(g.id);
        }
        acc.locked += u64::from(g.flags.has(GFlags::LOCKED));
        acc.leaked += u64::from(g.flags.has(GFlags::LEAKED));
        // The first label set and creator of a group are counted in place; only the
        // others need the maps.
        if g.labels != 0 {
            match &mut acc.labels {
                (0, _) => acc.labels = (g.labels, 1),
                (id, n) if *id == g.labels => *n += 1,
                _ => *labels.entry((gi, g.labels)).or_default() += 1,
            }
        }
        if g.creator != NONE {
            match &mut acc.creator {
                (NONE, _) => acc.creator = (g.creator, 1),
                (id, n) if *id == g.creator => *n += 1,
                _ => *creators.entry((gi, g.creator)).or_default() += 1,
            }
        }
    }

    // Aggregated records have no state; they never share a group with goroutines.
    const NO_STATE: StateId = StateId::MAX;
    for r in &snap.records {
        let skey = stack_key.get(r.stack as usize).copied().unwrap_or(r.stack);
        let gi = *index.entry((skey, NO_STATE, 0)).or_insert_with(|| {
            groups.push(Acc::new(r.stack, None));
            (groups.len() - 1) as u32
        });
        let n = r.count.max(0) as u64;
        groups[gi as usize].count += n;
        if r.labels != 0 && n > 0 {
            *labels.entry((gi, r.labels)).or_default() += n;
        }
    }

    let mut label_lists: Vec<Vec<(LabelsId, u64)>> = groups
        .iter()
        .map(|acc| match acc.labels {
            (0, _) => Vec::new(),
            first => vec![first],
        })
        .collect();
    for ((gi, id), n) in labels {
        let list = &mut label_lists[gi as usize];
        match list.iter_mut().find(|(first, _)| *first == id) {
            Some((_, count)) => *count += n,
            None => list.push((id, n)),
        }
    }
    let mut best_creator: Vec<Option<(CreatorId, u64)>> = groups
        .iter()
        .map(|acc| (acc.creator.0 != NONE).then_some(acc.creator))
        .collect();
    for ((gi, id), n) in creators {
        let best = &mut best_creator[gi as usize];
        // Ties go to the lower id, so the result does not depend on hash order.
        if best.is_none_or(|(bid, bn)| n > bn || n == bn && id < bid) {
            *best = Some((id, n));
        }
    }

    let mut out: Vec<Group> = groups
        .into_iter()
        .zip(label_lists)
        .zip(best_creator)
        .map(|((acc, mut labels), creator)| {
            labels.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            labels.truncate(MAX_LABEL_SETS);
            Group {
                stack: acc.stack,
                state: acc
                    .state
                    .and_then(|s| snap.states.get(s as usize).cloned())
                    .unwrap_or_else(State::unknown),
                count: acc.count,
                wait_minutes: acc.max.map(|max| (acc.min.min(max), max)),
                ids: acc.ids,
                labels,
                creator: creator.map(|(id, _)| id),
                locked: acc.locked,
                leaked: acc.leaked,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(
                b.wait_minutes
                    .map(|w| w.1)
                    .cmp(&a.wait_minutes.map(|w| w.1)),
            )
            .then(a.stack.cmp(&b.stack))
    });
    out
}

/// A group being filled.
struct Acc {
    stack: StackId,
    state: Option<StateId>,
    count: u64,
    min: u32,
    max: Option<u32>,
    ids: Vec<u64>,
    locked: u64,
    leaked: u64,
    /// The first label set seen and how many members carry it (0 when none yet).
    labels: (LabelsId, u64),
    /// The first creator seen and how many members name it ([`NONE`] when none yet).
    creator: (CreatorId, u64),
}

impl Acc {
    fn new(stack: StackId, state: Option<StateId>) -> Acc {
        Acc {
            stack,
            state,
            count: 0,
            min: u32::MAX,
            max: None,
            ids: Vec::new(),
            locked: 0,
            leaked: 0,
            labels: (0, 0),
            creator: (NONE, 0),
        }
    }
}

/// For each stack, the id of the first stack that is the same at `level`: itself for the
/// exact levels, the first with the same function, file and line in every frame for
/// [`GroupLevel::Lines`].
fn stack_keys(snap: &Snapshot, level: GroupLevel) -> Vec<StackId> {
    if level != GroupLevel::Lines {
        return (0..snap.stacks.len() as StackId).collect();
    }
    let mut seen: AHashMap<Vec<(&str, &str, u32)>, StackId> = AHashMap::new();
    snap.stacks
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let lines = s
                .frames
                .iter()
                .map(|f| (&*f.function, &*f.file, f.line))
                .collect();
            *seen.entry(lines).or_insert(i as StackId)
        })
        .collect()
}

/// A function from an argument-list id to a key that is equal for lists alike at `level`.
fn args_keys(snap: &Snapshot, level: GroupLevel) -> impl Fn(ArgsId) -> u32 {
    let keys: Vec<u32> = match level {
        GroupLevel::Pointers => {
            let mut seen: AHashMap<String, u32> = AHashMap::new();
            snap.args
                .iter()
                .map(|list| {
                    let mut norm = String::new();
                    for a in list.iter() {
                        mask_addresses(a, &mut norm);
                        norm.push('\x1f');
                    }
                    let next = seen.len() as u32;
                    *seen.entry(norm).or_insert(next)
                })
                .collect()
        }
        _ => (0..snap.args.len() as u32).collect(),
    };
    move |id| keys.get(id as usize).copied().unwrap_or(NONE)
}

/// Appends `args` to `out` with every hex word of at least 0x10000 replaced by `P`.
/// Addresses cannot be told by prefix (heap addresses of newer Go releases look like
/// `0x2662aec86020`), so size is the test: lengths, flags and small counts stay below it.
fn mask_addresses(args: &str, out: &mut String) {
    let bytes = args.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"0x") && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let start = i + 2;
            let end = start
                + bytes[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_hexdigit())
                    .count();
            let digits = &args[start..end];
            let big = digits.trim_start_matches('0').len() > 4;
            if end > start && big {
                out.push('P');
            } else {
                out.push_str(&args[i..end]);
            }
            i = end;
        } else {
            let c = args[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
}

#[cfg(test)]
mod tests;
