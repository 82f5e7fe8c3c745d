//! Who waits for which lock, and who holds it.
//!
//! Holders are never printed by the runtime; they are inferred:
//! - *past its lock site*: a goroutine inside a function where others call `Lock` on the same
//!   object, but at another line (or, with argument words, carrying the object's owner
//!   pointer), is past its own `Lock` and holds the object;
//! - *inside `Once.Do`*: a goroutine with `sync.(*Once).doSlow` (or, before Go 1.13,
//!   `sync.(*Once).Do`) on its stack for the same `Once`, not waiting on its mutex, is
//!   running the function the others wait for;
//! - *re-locking*: a single goroutine waiting on an object it already holds further up its
//!   own stack;
//! - *same object*: failing those, the one goroutine blocked inside another method called on
//!   the object that owns the lock, since about when the waiters started (lower confidence).
//!
//! Edges waiter → holder form a graph; a cycle in it is a deadlock.

use ahash::{AHashMap, AHashSet};

use super::facts::Facts;
use super::waits::WaitKind;
use crate::knowledge;

/// Identifies a lock: its address, or (without argument words) the lock call site.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LockKey {
    /// The object's address.
    Addr(u64),
    /// The receiver of the methods that lock it, when the lock's own address is not printed
    /// (two locks of one struct are then taken for one).
    Owner(u64),
    /// The function and line calling `Lock`, when no address is known.
    Site(String, u32),
}

/// How a holder was inferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldHow {
    /// Inside a lock-site function past its `Lock`.
    PastLockSite,
    /// Running the function of the `sync.Once` others wait on.
    InsideOnce,
    /// Waiting on a lock it holds further up its own stack.
    Relock,
    /// Blocked inside another method of the object that owns the lock, since about when the
    /// waiters started to wait, with no other candidate (see [`same_object_holder`]).
    SameObject,
}

/// One inferred holder.
#[derive(Debug, Clone, Copy)]
pub struct Holder {
    /// The holder's blob.
    pub blob: usize,
    /// The frame index in the holder's stack that holds the lock.
    pub frame: usize,
    /// How it was inferred.
    pub how: HoldHow,
    /// True when argument words confirm the object.
    pub confirmed: bool,
}

/// One lock and the goroutines around it.
#[derive(Debug, Clone)]
pub struct LockObj {
    /// Which lock.
    pub key: LockKey,
    /// Mutex, RwRead/RwWrite (an RWMutex), or Once.
    pub kind: WaitKind,
    /// True when both read and write waiters exist (an RWMutex).
    pub has_writers: bool,
    /// True when read waiters exist.
    pub has_readers: bool,
    /// Blobs waiting on it.
    pub waiters: Vec<usize>,
    /// Goroutines waiting on it.
    pub waiting: u64,
    /// Inferred holders.
    pub holders: Vec<Holder>,
}

/// All locks with waiters.
pub struct LockGraph {
    /// The locks, most waiters first.
    pub locks: Vec<LockObj>,
    /// For each blob, the locks it holds (indices into `locks`).
    pub holds: AHashMap<usize, Vec<usize>>,
    /// For each blob, the lock it waits on.
    pub waits_on: AHashMap<usize, usize>,
}

impl LockGraph {
    /// Builds the graph from the facts.
    pub fn build(facts: &Facts) -> LockGraph {
        let mut index: AHashMap<LockKey, usize> = AHashMap::new();
        let mut locks: Vec<LockObj> = Vec::new();
        let mut waits_on = AHashMap::new();
        for (bi, b) in facts.blobs.iter().enumerate() {
            if !b.wait.kind.is_lock() {
                continue;
            }
            let key = match (b.wait.object, b.wait.owner) {
                (Some(a), _) => LockKey::Addr(a),
                (None, Some(o)) => LockKey::Owner(o),
                (None, None) => {
                    let site = b.site(facts);
                    LockKey::Site(
                        site.map(|f| f.function.to_string()).unwrap_or_default(),
                        site.map_or(0, |f| f.line),
                    )
                }
            };
            let li = *index.entry(key.clone()).or_insert_with(|| {
                locks.push(LockObj {
                    key,
                    kind: b.wait.kind,
                    has_writers: false,
                    has_readers: false,
                    waiters: vec![],
                    waiting: 0,
                    holders: vec![],
                });
                locks.len() - 1
            });
            let l = &mut locks[li];
            l.waiters.push(bi);
            l.waiting += b.count;
            match b.wait.kind {
                WaitKind::RwRead => l.has_readers = true,
                WaitKind::RwWrite => l.has_writers = true,
                _ => {}
            }
            if matches!(b.wait.kind, WaitKind::RwRead | WaitKind::RwWrite) {
                l.kind = WaitKind::RwWrite;
            }
            waits_on.insert(bi, li);
        }
        let holders: Vec<Vec<Holder>> = locks.iter().map(|l| infer_holders(facts, l)).collect();
        for (l, h) in locks.iter_mut().zip(holders) {
            l.holders = h;
        }
        let mut holds: AHashMap<usize, Vec<usize>> = AHashMap::new();
        for (li, l) in locks.iter().enumerate() {
            for h in &l.holders {
                holds.entry(h.blob).or_default().push(li);
            }
        }
        LockGraph {
            locks,
            holds,
            waits_on,
        }
    }

    /// A cycle through lock `li`, as the blobs on it (waiter, holder, …), if any.
    pub fn cycle_through(&self, li: usize) -> Option<Vec<usize>> {
        // Depth-first over lock → holder blob → lock it waits on.
        let mut path: Vec<usize> = Vec::new();
        let mut seen: AHashSet<usize> = AHashSet::new();
        self.dfs(li, li, &mut path, &mut seen)
    }

    fn dfs(
        &self,
        start: usize,
        li: usize,
        path: &mut Vec<usize>,
        seen: &mut AHashSet<usize>,
    ) -> Option<Vec<usize>> {
        if !seen.insert(li) {
            return None;
        }
        for h in &self.locks[li].holders {
            path.push(h.blob);
            if let Some(&next) = self.waits_on.get(&h.blob) {
                if next == start {
                    return Some(path.clone());
                }
                if let Some(c) = self.dfs(start, next, path, seen) {
                    return Some(c);
                }
            }
            path.pop();
        }
        None
    }
}

/// The frame index of the application function that calls `Lock` in a waiter blob.
fn lock_caller(facts: &Facts, bi: usize) -> Option<usize> {
    facts.blobs[bi].wait.site
}

/// The owner pointer of a lock at `addr` among `words`: the largest word at or below it,
/// within a struct's reach.
fn owner_of(words: &[u64], addr: u64) -> Option<u64> {
    words
        .iter()
        .copied()
        .filter(|&w| w <= addr && addr - w < 4096)
        .max()
}

fn infer_holders(facts: &Facts, lock: &LockObj) -> Vec<Holder> {
    let waiter_set: AHashSet<usize> = lock.waiters.iter().copied().collect();
    let addr = match lock.key {
        LockKey::Addr(a) | LockKey::Owner(a) => Some(a),
        LockKey::Site(..) => None,
    };
    let mut holders = Vec::new();

    if lock.kind == WaitKind::Once {
        for (bi, b) in facts.blobs.iter().enumerate() {
            if waiter_set.contains(&bi) {
                continue;
            }
            let frames = &facts.stack(b.stack).frames;
            // Go 1.13+ runs the function from `doSlow`; older releases from `Do` itself.
            if let Some(i) = frames.iter().position(|f| is_once_runner(&f.function)) {
                // The doSlow word itself is often stale (`?`); the holder then shows the Once's
                // owner (the struct it is a field of) in one of its frames.
                let confirmed = addr.is_some_and(|a| {
                    b.has_word(i, a) || b.words.iter().flatten().any(|&w| w <= a && a - w < 4096)
                });
                if confirmed
                    || (!b.has_args || addr.is_none()) && same_once_caller(facts, lock, bi, i)
                {
                    holders.push(Holder {
                        blob: bi,
                        frame: i,
                        how: HoldHow::InsideOnce,
                        confirmed,
                    });
                }
            }
        }
        return holders;
    }

    // Lock sites: the functions and lines where waiters call Lock, and the owner pointers
    // their frames carry there.
    let mut site_funcs: AHashSet<&str> = AHashSet::new();
    let mut site_lines: AHashSet<(&str, u32)> = AHashSet::new();
    let mut owners: AHashSet<u64> = AHashSet::new();
    for &wi in &lock.waiters {
        let b = &facts.blobs[wi];
        if let Some(si) = lock_caller(facts, wi) {
            let f = &facts.stack(b.stack).frames[si];
            site_funcs.insert(&f.function);
            site_lines.insert((&f.function, f.line));
            if let (Some(a), Some(words)) = (addr, b.words.get(si)) {
                if let Some(o) = owner_of(words, a) {
                    owners.insert(o);
                }
            }
        }
    }
    let carries = |bi: usize, i: usize| -> bool {
        let b = &facts.blobs[bi];
        match addr {
            Some(a) => b.has_word(i, a) || owners.iter().any(|&o| b.has_word(i, o)),
            None => true,
        }
    };

    for (bi, b) in facts.blobs.iter().enumerate() {
        let frames = &facts.stack(b.stack).frames;
        let start = if waiter_set.contains(&bi) {
            // A waiter can hold the lock only further up its own stack (re-locking).
            match b.wait.site {
                Some(s) => s + 1,
                None => continue,
            }
        } else {
            0
        };
        for (i, f) in frames.iter().enumerate().skip(start) {
            if knowledge::is_library_frame(f) || !site_funcs.contains(&*f.function) {
                continue;
            }
            let past_site = !site_lines.contains(&(&*f.function, f.line));
            let args_known = b.has_args && addr.is_some();
            let confirmed = args_known && carries(bi, i);
            let credible = if args_known { confirmed } else { past_site };
            if !credible {
                continue;
            }
            if waiter_set.contains(&bi) {
                // Only one goroutine can hold a mutex: a pattern shared by many waiters is
                // not re-locking (many readers can each hold a read lock, though).
                let readers = b.wait.kind == WaitKind::RwRead;
                if (b.count != 1 && !readers) || !past_site && !confirmed {
                    continue;
                }
                holders.push(Holder {
                    blob: bi,
                    frame: i,
                    how: HoldHow::Relock,
                    confirmed,
                });
            } else {
                holders.push(Holder {
                    blob: bi,
                    frame: i,
                    how: HoldHow::PastLockSite,
                    confirmed,
                });
            }
            break;
        }
    }
    if holders.is_empty() && addr.is_some() && lock.kind != WaitKind::Once {
        holders.extend(same_object_holder(facts, lock, &owners, &waiter_set));
    }
    holders
}

/// A holder found through the object that owns the lock, when no goroutine is inside a
/// function that locks it: the one goroutine blocked (on a channel, a select, another lock)
/// inside a method of the same receiver type called on the same object, that has been
/// blocked since about when the first waiter started to wait. The method that holds a lock
/// is often not the one that waits for it (`Close` holds `c.mu` while waiting for a loop that
/// needs `c.mu`). The timing rule keeps out the object's idle loops, blocked long before;
/// without printed wait times, or with two candidates, nothing is inferred.
fn same_object_holder(
    facts: &Facts,
    lock: &LockObj,
    owners: &AHashSet<u64>,
    waiter_set: &AHashSet<usize>,
) -> Option<Holder> {
    let waited = lock
        .waiters
        .iter()
        .filter_map(|&w| facts.blobs[w].max_wait)
        .max()?;
    // The receiver types of the methods that wait for the lock.
    let types: AHashSet<(&str, &str)> = lock
        .waiters
        .iter()
        .filter_map(|&w| {
            let b = &facts.blobs[w];
            let f = facts.stack(b.stack).frames.get(b.wait.site?)?;
            let n = crate::model::FuncName::split(&f.function);
            Some((n.package, n.receiver?))
        })
        .collect();
    if owners.is_empty() || types.is_empty() {
        return None;
    }
    let slack = (waited / 10).max(1);
    let mut found = None;
    for (bi, b) in facts.blobs.iter().enumerate() {
        let blocked = matches!(
            b.wait.kind,
            WaitKind::ChanSend
                | WaitKind::ChanRecv
                | WaitKind::Select
                | WaitKind::Mutex
                | WaitKind::RwRead
                | WaitKind::RwWrite
                | WaitKind::WaitGroup
                | WaitKind::Cond
                | WaitKind::PoolAcquire
        );
        if waiter_set.contains(&bi) || !blocked || !b.has_args || b.count != 1 {
            continue;
        }
        let (Some(from), Some(to)) = (b.min_wait, b.max_wait) else {
            continue;
        };
        if from < waited || to > waited + slack {
            continue;
        }
        let frames = &facts.stack(b.stack).frames;
        let at = frames.iter().enumerate().position(|(i, f)| {
            let n = crate::model::FuncName::split(&f.function);
            !knowledge::is_library_frame(f)
                && n.receiver.is_some_and(|r| types.contains(&(n.package, r)))
                && owners.iter().any(|&o| b.has_word(i, o))
        });
        if let Some(i) = at {
            if found.is_some() {
                return None;
            }
            found = Some(Holder {
                blob: bi,
                frame: i,
                how: HoldHow::SameObject,
                confirmed: false,
            });
        }
    }
    found
}

/// The frame of `sync.Once` that calls the Once's function: `doSlow` (Go 1.13+), or `Do`
/// (earlier releases, and the first of the two frames when `Do` is inlined).
fn is_once_runner(function: &str) -> bool {
    function == "sync.(*Once).doSlow" || function == "sync.(*Once).Do"
}

/// Without argument words: does the holder call `Once.Do` from the same function as the
/// waiters do?
fn same_once_caller(facts: &Facts, lock: &LockObj, holder: usize, at: usize) -> bool {
    let hf = &facts.stack(facts.blobs[holder].stack).frames;
    let caller = |frames: &[crate::model::Frame], i: usize| {
        frames[i..]
            .iter()
            .find(|f| !f.function.starts_with("sync."))
            .map(|f| f.function.clone())
    };
    let h = caller(hf, at);
    lock.waiters.iter().any(|&w| {
        let wf = &facts.stack(facts.blobs[w].stack).frames;
        wf.iter()
            .position(|f| is_once_runner(&f.function))
            .is_some_and(|i| caller(wf, i) == h)
    })
}

#[cfg(test)]
mod tests {
    use crate::diagnose::diagnose_text;

    /// Hand-written in the shape Go 1.10 prints: goroutine 105 waits for the `Once` at
    /// 0x1147818 (there is no `doSlow`); `below` is the rest of its stack.
    fn once_waiter(below: &str) -> String {
        format!(
            "goroutine 105 [semacquire, 9 minutes]:
sync.runtime_SemacquireMutex(0x114781c, 0x0)
\t/usr/local/go/src/runtime/sema.go:71 +0x3d
sync.(*Mutex).Lock(0x1147818)
\t/usr/local/go/src/sync/mutex.go:134 +0x108
sync.(*Once).Do(0x1147818, 0xc4201638b0)
\t/usr/local/go/src/sync/once.go:40 +0x44
{below}"
        )
    }

    #[test]
    fn a_goroutine_running_a_once_function_before_go_1_13_holds_it() {
        // Hand-written in the shape Go 1.10 prints: `Once.Do` calls the function itself
        // (there is no `doSlow`), and that function never returns.
        let d = diagnose_text(&format!(
            "goroutine 102 [select]:
main.loop(0xc4201b4200)
\t/src/app/main.go:78 +0x12c
main.start.func1()
\t/src/app/main.go:60 +0x2a
sync.(*Once).Do(0x1147818, 0xc420163710)
\t/usr/local/go/src/sync/once.go:44 +0xbe
created by main.start
\t/src/app/main.go:60 +0x80

{}",
            once_waiter(
                "main.start(0xc4201b4200)\n\t/src/app/main.go:60 +0x80\ncreated by main.main\n\t/src/app/main.go:20 +0x80\n"
            )
        ));
        let f = d.findings.first().expect("a finding");
        assert_eq!(
            f.kind, "lock-held-by-blocked-goroutine",
            "{:#?}",
            d.findings
        );
        let root = f.root.first().expect("a line to fix");
        assert_eq!((&*root.function, root.line), ("main.loop", 78), "{f:#?}");
    }

    #[test]
    fn a_waiter_with_only_library_frames_is_placed_at_its_creator() {
        // Hand-written in the shape Go 1.10 prints, the stack cut below `Once.Do`: no
        // application frame, so the line to open is where the goroutine was started, not
        // the runtime's semaphore.
        let d = diagnose_text(&once_waiter(
            "created by main.start\n\t/src/app/main.go:60 +0x80\n",
        ));
        let f = d.findings.first().expect("a finding");
        let root = f.root.first().expect("a line to fix");
        assert_eq!((&*root.function, root.line), ("main.start", 60), "{f:#?}");
    }

    /// Hand-written in the shape of etcd's client hang: `Close` holds `c.mu` and waits for
    /// the monitor goroutine to finish; the monitor waits for `c.mu`. `close_minutes` is how
    /// long `Close` has been blocked; `extra` adds goroutines.
    fn close_holds_mu(close_minutes: u32, extra: &str) -> crate::diagnose::Diagnosis {
        diagnose_text(&format!(
            "goroutine 1 [chan receive, 9 minutes]:
main.main()
\t/src/app/main.go:20 +0x16d

goroutine 61 [chan receive, {close_minutes} minutes]:
example.com/client.(*Client).Close(0xc4202f06e0, 0x0, 0x0)
\t/src/client/client.go:117 +0x128
main.stop(0xc4202f06e0)
\t/src/app/main.go:300 +0x16d
created by main.main
\t/src/app/main.go:19 +0x2e0

goroutine 65 [semacquire, 9 minutes]:
sync.runtime_Semacquire(0xc4202f07b8)
\t/usr/local/go/src/runtime/sema.go:56 +0x39
sync.(*RWMutex).Lock(0xc4202f07b0)
\t/usr/local/go/src/sync/rwmutex.go:98 +0x6e
example.com/client.(*Client).retryConnection(0xc4202f06e0, 0xd661a0, 0xc4200644d0)
\t/src/client/client.go:286 +0x54
example.com/client.(*Client).connMonitor(0xc4202f06e0)
\t/src/client/client.go:355 +0x396
created by example.com/client.New
\t/src/client/client.go:259 +0x34e
{extra}"
        ))
    }

    #[test]
    fn a_goroutine_blocked_in_another_method_of_the_lock_owner_since_the_wait_began_holds_it() {
        let d = close_holds_mu(9, "");
        let f = d.findings.first().expect("a finding");
        assert_eq!(
            f.kind, "lock-held-by-blocked-goroutine",
            "{:#?}",
            d.findings
        );
        assert!((f.confidence - 0.6).abs() < 1e-9, "{}", f.confidence);
        assert_eq!(
            (f.root[0].function.as_str(), f.root[0].line),
            ("example.com/client.(*Client).Close", 117)
        );
        assert!(
            f.evidence[1].starts_with("goroutine 61 probably holds it"),
            "{:?}",
            f.evidence
        );
    }

    #[test]
    fn an_older_wait_or_two_candidates_are_not_taken_for_the_holder() {
        // Blocked for an hour before anyone waited for the lock: an idle method, not the
        // holder.
        let d = close_holds_mu(60, "");
        assert_eq!(
            d.findings[0].kind, "lock-never-released",
            "{:#?}",
            d.findings
        );
        // Two goroutines fit: neither is named.
        let other = "
goroutine 70 [select, 9 minutes]:
example.com/client.(*Client).watch(0xc4202f06e0)
\t/src/client/client.go:400 +0x1
created by example.com/client.New
\t/src/client/client.go:260 +0x34e
";
        let d = close_holds_mu(9, other);
        assert_eq!(
            d.findings[0].kind, "lock-never-released",
            "{:#?}",
            d.findings
        );
    }
}
