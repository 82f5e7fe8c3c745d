//! Parsed and diagnosed evidence, kept between requests. An entry is keyed by the path and a
//! stamp of its files (how many, their total size, the newest modification time), so a
//! bundle that changes on disk is read again; at most [`CAPACITY`] entries are kept, the
//! least recently used going first.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::diagnose::{self, Diagnosis};
use crate::model::Snapshot;
use crate::parse;

/// Entries kept.
pub const CAPACITY: usize = 8;

/// Evidence read and diagnosed.
#[derive(Debug)]
pub struct Loaded {
    /// The snapshots, in the order read.
    pub snaps: Vec<Snapshot>,
    /// Their diagnosis.
    pub diagnosis: Diagnosis,
}

/// What a lookup returns: the evidence, or why it could not be read.
pub type Entry = Arc<Result<Loaded, String>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    files: u64,
    bytes: u64,
    newest: Option<SystemTime>,
}

struct Slot {
    path: PathBuf,
    src: Vec<PathBuf>,
    stamp: Stamp,
    used: u64,
    value: Entry,
}

/// The cache.
pub struct Cache {
    slots: Mutex<(u64, Vec<Slot>)>,
    opts: diagnose::Options,
}

impl Cache {
    /// An empty cache whose diagnoses read source lines from `opts.src`.
    pub fn new(opts: diagnose::Options) -> Cache {
        Cache {
            slots: Mutex::new((0, Vec::new())),
            opts,
        }
    }

    /// The evidence at `path`, read and diagnosed now unless a current copy is kept; the
    /// diagnosis also reads the source trees `src` (those an incident was diagnosed with).
    pub fn get(&self, path: &Path, src: &[PathBuf]) -> Entry {
        let stamp = stamp(path);
        {
            let mut g = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            let (clock, slots) = &mut *g;
            *clock += 1;
            if let Some(s) = slots
                .iter_mut()
                .find(|s| s.path == path && s.src == src && s.stamp == stamp)
            {
                s.used = *clock;
                return s.value.clone();
            }
        }
        // Read outside the lock: a large bundle must not stall other pages.
        let mut opts = self.opts.clone();
        for p in src {
            if !opts.src.contains(p) {
                opts.src.push(p.clone());
            }
        }
        let value: Entry = Arc::new(load(path, &opts));
        let mut g = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let (clock, slots) = &mut *g;
        slots.retain(|s| s.path != path || s.src != src);
        if slots.len() >= CAPACITY {
            let oldest = slots
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.used)
                .map(|(i, _)| i);
            if let Some(i) = oldest {
                slots.swap_remove(i);
            }
        }
        slots.push(Slot {
            path: path.to_path_buf(),
            src: src.to_vec(),
            stamp,
            used: *clock,
            value: value.clone(),
        });
        value
    }
}

fn load(path: &Path, opts: &diagnose::Options) -> Result<Loaded, String> {
    if !path.exists() {
        return Err(format!("{}: not found (moved or pruned?)", path.display()));
    }
    let snaps = parse::load(
        &[path.to_string_lossy().into_owned()],
        &parse::Options::default(),
    )
    .map_err(|e| e.to_string())?;
    if snaps.is_empty() {
        return Err(format!("{}: holds no evidence files", path.display()));
    }
    let diagnosis = diagnose::diagnose(&snaps, opts);
    Ok(Loaded { snaps, diagnosis })
}

fn stamp(path: &Path) -> Stamp {
    let mut s = Stamp {
        files: 0,
        bytes: 0,
        newest: None,
    };
    walk(path, &mut s, 0);
    s
}

fn walk(path: &Path, s: &mut Stamp, depth: u32) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        if depth > 8 {
            return;
        }
        if let Ok(rd) = std::fs::read_dir(path) {
            for e in rd.flatten() {
                walk(&e.path(), s, depth + 1);
            }
        }
        return;
    }
    s.files += 1;
    s.bytes += meta.len();
    if let Ok(t) = meta.modified() {
        s.newest = Some(s.newest.map_or(t, |n| n.max(t)));
    }
}
