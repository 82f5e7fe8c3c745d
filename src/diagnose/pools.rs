//! Pools: goroutines waiting to acquire a pooled resource, the goroutines visibly using one,
//! and whether the waiters are themselves the holders (nested acquisition).

use ahash::{AHashMap, AHashSet};

use super::facts::Facts;
use super::waits::WaitKind;
use crate::knowledge::{self, Entry, Role};

/// One pool under pressure.
#[derive(Debug, Clone)]
pub struct PoolState {
    /// The library entry of the acquire.
    pub entry: &'static Entry,
    /// The pool's address, when argument words name it.
    pub object: Option<u64>,
    /// Blobs waiting to acquire.
    pub waiters: Vec<usize>,
    /// Goroutines waiting.
    pub waiting: u64,
    /// Blobs using a resource of the same kind (queries in flight, commands on a connection).
    pub users: Vec<usize>,
    /// Waiter blobs that already hold a resource from the pool, with the frame index of the
    /// outer function that took it.
    pub nested: Vec<(usize, usize)>,
    /// How the nesting was established.
    pub nested_by: Option<&'static str>,
    /// ESTABLISHED sockets to the library's server ports.
    pub open_conns: Option<(u16, usize)>,
}

/// Waiters under one outer function: their count and (blob, frame) pairs.
type OuterGroup = (u64, Vec<(usize, usize)>);

/// Groups the pool waiters of the facts.
pub fn pools(facts: &Facts) -> Vec<PoolState> {
    let mut by: AHashMap<(&'static str, u64), PoolState> = AHashMap::new();
    for (bi, b) in facts.blobs.iter().enumerate() {
        if b.wait.kind != WaitKind::PoolAcquire {
            continue;
        }
        let Some(entry) = b.wait.entry else { continue };
        let key = (entry.resource, b.wait.object.unwrap_or(0));
        let p = by.entry(key).or_insert_with(|| PoolState {
            entry,
            object: b.wait.object,
            waiters: vec![],
            waiting: 0,
            users: vec![],
            nested: vec![],
            nested_by: None,
            open_conns: None,
        });
        p.waiters.push(bi);
        p.waiting += b.count;
    }
    let mut out: Vec<PoolState> = by.into_values().collect();
    for p in &mut out {
        // Users: goroutines inside the same library's "using" frames.
        p.users = facts
            .blobs
            .iter()
            .enumerate()
            .filter(|(_, b)| b.wait.kind != WaitKind::PoolAcquire && b.wait.kind != WaitKind::Idle)
            .filter(|(_, b)| {
                facts.stack(b.stack).frames.iter().any(|f| {
                    knowledge::lookup(&f.function, Role::PoolUse)
                        .is_some_and(|e| e.resource == p.entry.resource)
                })
            })
            .map(|(i, _)| i)
            .collect();
        if !p.entry.ports.is_empty() {
            p.open_conns = facts
                .established_to(p.entry.ports)
                .into_iter()
                .max_by_key(|(_, n)| *n);
            if p.open_conns.is_none() {
                // The server is not on the library's default port: the largest outbound group.
                p.open_conns = facts.outbound_by_port().into_iter().next();
            }
        }
        // Nested acquisition: a waiter whose stack, above its acquire site, runs through a
        // function that itself acquires from this pool (seen as the acquire site of others).
        let acquire_sites: AHashSet<&str> = p
            .waiters
            .iter()
            .filter_map(|&w| facts.blobs[w].site(facts))
            .map(|f| &*f.function)
            .collect();
        for &w in &p.waiters {
            let b = &facts.blobs[w];
            let frames = &facts.stack(b.stack).frames;
            let Some(site) = b.wait.site else { continue };
            if let Some(j) = frames
                .iter()
                .enumerate()
                .skip(site + 1)
                .find(|(_, f)| {
                    acquire_sites.contains(&*f.function) && f.function != frames[site].function
                })
                .map(|(j, _)| j)
            {
                p.nested.push((w, j));
                p.nested_by = Some("call sites");
            }
        }
        // Without such a sighting: a group of waiters under one outer application function
        // that matches the number of open connections holds them all.
        if p.nested.is_empty() && p.users.is_empty() {
            if let Some((_, open)) = p.open_conns {
                let mut outer: AHashMap<&str, OuterGroup> = AHashMap::new();
                for &w in &p.waiters {
                    let b = &facts.blobs[w];
                    let frames = &facts.stack(b.stack).frames;
                    let Some(site) = b.wait.site else { continue };
                    if let Some((j, f)) = frames
                        .iter()
                        .enumerate()
                        .skip(site + 1)
                        .find(|(_, f)| !knowledge::is_library_frame(f))
                    {
                        let e = outer.entry(&*f.function).or_default();
                        e.0 += b.count;
                        e.1.push((w, j));
                    }
                }
                if let Some((_, (n, list))) = outer
                    .into_iter()
                    .find(|(_, (n, _))| open > 0 && (*n as usize) == open)
                {
                    let _ = n;
                    p.nested = list;
                    p.nested_by = Some("socket count");
                }
            }
        }
    }
    out.sort_by(|a, b| {
        b.waiting
            .cmp(&a.waiting)
            .then(a.entry.resource.cmp(b.entry.resource))
            .then(a.object.cmp(&b.object))
    });
    out
}
