//! Small helpers that turn facts into the words and frames of a finding.

use ahash::AHashMap;

use super::facts::{Blob, Facts};
use super::finding::{FrameRef, Victim};
use super::waits::WaitKind;
use crate::model::Frame;

/// A frame as named in findings.
pub fn frame_ref(f: &Frame) -> FrameRef {
    FrameRef {
        function: f.function.to_string(),
        file: f.file.to_string(),
        line: f.line,
    }
}

/// `file.go:12` with the directory dropped.
pub fn short_loc(f: &Frame) -> String {
    let base = f.file.rsplit(['/', '\\']).next().unwrap_or(&f.file);
    format!("{base}:{}", f.line)
}

/// "1 goroutine" / "12 goroutines".
pub fn goroutines(n: u64) -> String {
    if n == 1 {
        "1 goroutine".into()
    } else {
        format!("{n} goroutines")
    }
}

/// "1 goroutine waits" / "3 goroutines wait": `n` goroutines and the verb agreeing with it.
pub fn n_verb(n: u64, singular: &str, plural: &str) -> String {
    format!(
        "{} {}",
        goroutines(n),
        if n == 1 { singular } else { plural }
    )
}

/// ", for up to 6776 minutes" or "".
pub fn waited(b: &Blob) -> String {
    match b.max_wait {
        Some(m) if m > 0 => format!(", waiting up to {m} minutes"),
        _ => String::new(),
    }
}

/// The victims among `blobs`, merged by blocking site, largest first (at most 10).
pub fn victims(facts: &Facts, blobs: &[usize]) -> Vec<Victim> {
    let mut by_site: AHashMap<(String, String, u32), (u64, Option<u32>)> = AHashMap::new();
    for &bi in blobs {
        let b = &facts.blobs[bi];
        let Some(site) = b.site(facts) else { continue };
        let e = by_site
            .entry((site.function.to_string(), site.file.to_string(), site.line))
            .or_insert((0, None));
        e.0 += b.count;
        e.1 = e.1.max(b.max_wait);
    }
    let mut v: Vec<Victim> = by_site
        .into_iter()
        .map(
            |((function, file, line), (goroutines, wait_minutes))| Victim {
                function,
                file,
                line,
                goroutines,
                wait_minutes,
            },
        )
        .collect();
    v.sort_by(|a, b| {
        b.goroutines
            .cmp(&a.goroutines)
            .then(a.function.cmp(&b.function))
            .then(a.line.cmp(&b.line))
    });
    v.truncate(10);
    v
}

/// Total goroutines in `blobs`.
pub fn count(facts: &Facts, blobs: &[usize]) -> u64 {
    blobs.iter().map(|&b| facts.blobs[b].count).sum()
}

/// One sentence on what the goroutines of blob `bi` are doing.
pub fn what_it_does(facts: &Facts, bi: usize) -> String {
    let b = &facts.blobs[bi];
    let site = b
        .site(facts)
        .map(|f| format!(" in {} ({})", f.function, short_loc(f)))
        .unwrap_or_default();
    let what = match (b.wait.kind, b.wait.entry) {
        (WaitKind::PoolAcquire, Some(e)) => {
            format!("waiting for a connection from the {}", e.resource)
        }
        (WaitKind::NetIo, Some(e)) => format!("blocked in network I/O ({})", e.resource),
        (k, _) => k.phrase().to_string(),
    };
    let ids = if b.ids.is_empty() {
        String::new()
    } else if b.count == 1 {
        format!("goroutine {} is ", b.ids[0])
    } else {
        format!("{} (e.g. goroutine {}) are ", goroutines(b.count), b.ids[0])
    };
    let state = if b.state.is_empty() {
        String::new()
    } else {
        format!(
            " [{}{}]",
            b.state,
            b.max_wait
                .filter(|&m| m > 0)
                .map(|m| format!(", {m} minutes"))
                .unwrap_or_default()
        )
    };
    format!("{ids}{what}{site}{state}")
}

/// "0xc000771900" for an address.
pub fn hex(a: u64) -> String {
    format!("{a:#x}")
}

/// Stuck-evidence sentences for a set of blobs (printed waits, series, leak marks).
pub fn stuck_sentences(facts: &Facts, blobs: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    let max_wait = blobs.iter().filter_map(|&b| facts.blobs[b].max_wait).max();
    if let Some(m) = max_wait.filter(|&m| m > 0) {
        out.push(format!("the runtime reports waits of up to {m} minutes"));
    }
    let stuck: u64 = blobs.iter().map(|&b| facts.blobs[b].stuck).sum();
    if let Some(s) = &facts.series {
        if stuck > 0 {
            let span = s
                .span_seconds
                .map(|x| format!(" over {x:.0} s"))
                .unwrap_or_default();
            out.push(format!(
                "{} stayed in the same place in all {} snapshots{span}",
                goroutines(stuck),
                s.snapshots
            ));
        }
    }
    let leaked: u64 = blobs.iter().map(|&b| facts.blobs[b].leaked).sum();
    if leaked > 0 {
        out.push(format!("the runtime's leak detector marked {} as leaked: blocked on an object nothing else can reach", goroutines(leaked)));
    }
    out
}
