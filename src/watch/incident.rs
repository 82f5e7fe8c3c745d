//! What the watcher does when a signature fires: take a full bundle (the same one
//! `hangdoc capture` writes) into the store, make it durable, and diagnose it with the same
//! code as `hangdoc diagnose DIR`.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::capture::{self, CaptureError, Client, Manifest, Target};
use crate::diagnose;
use crate::parse;
use crate::report::diagnosis_json;

use super::store::Diagnosed;

/// Takes the bundle into `dir` and syncs its files and directories (up to `store_dir`) to
/// disk, so that a row marked stored afterwards never points at data still in a cache.
pub fn take_bundle(
    target: &Target,
    dir: &Path,
    store_dir: &Path,
    client: &Client,
    opts: &capture::Options,
) -> Result<Manifest, CaptureError> {
    let manifest = capture::capture(target, dir, client, opts, &mut |_| {})?;
    sync_tree(dir).map_err(|error| CaptureError::Bundle {
        path: dir.to_path_buf(),
        error,
    })?;
    let mut up = dir.parent();
    while let Some(p) = up {
        sync_dir(p).map_err(|error| CaptureError::Bundle {
            path: p.to_path_buf(),
            error,
        })?;
        if p == store_dir {
            break;
        }
        up = p.parent();
    }
    Ok(manifest)
}

fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            sync_tree(&e.path())?;
        } else {
            File::open(e.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A diagnosed bundle, for the store and the log.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What the store keeps.
    pub diagnosed: Diagnosed,
    /// Where to fix it: the top finding's first root frame, `function (file:line)`.
    pub fix_here: Option<String>,
}

/// Diagnoses a bundle directory as `hangdoc diagnose DIR --src SRC...` does.
pub fn diagnose_bundle(dir: &Path, src: &[PathBuf]) -> Result<Outcome, String> {
    let input = dir.to_string_lossy().into_owned();
    let snaps = parse::load(&[input], &parse::Options::default()).map_err(|e| e.to_string())?;
    let d = diagnose::diagnose(&snaps, &diagnose::Options { src: src.to_vec() });
    let mut json = Vec::new();
    diagnosis_json::write(&mut json, &d).map_err(|e| e.to_string())?;
    let top = d.findings.first();
    let fix_here = top
        .and_then(|f| f.root.first())
        .map(|r| format!("{} ({}:{})", r.function, r.file, r.line));
    let headline = match top {
        Some(f) => Some(f.title.clone()),
        None => Some(
            d.notes
                .first()
                .cloned()
                .unwrap_or_else(|| "no finding: nothing in the evidence looks stuck".into()),
        ),
    };
    Ok(Outcome {
        diagnosed: Diagnosed {
            top_kind: top.map(|f| f.kind.to_string()),
            severity: top.map(|f| f.severity.name().to_string()),
            headline,
            diagnosis: String::from_utf8_lossy(&json).into_owned(),
            src: src.to_vec(),
        },
        fix_here,
    })
}
