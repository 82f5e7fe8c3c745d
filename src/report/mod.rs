//! Writing results for people and programs. Each report writes to a `&mut dyn Write` and
//! reads only the model (and, later, findings): no report knows an input format.
//!
//! - [`stacks`]: the text listing of `hangdoc stacks`.
//! - [`json`]: the `hangdoc.stacks/v1` JSON document and its types.

pub mod json;
pub mod stacks;

use regex::Regex;

use crate::model::{Group, Snapshot};

/// Which groups a stacks report shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep groups whose raw state text (`chan send`, `IO wait`) matches. Groups of formats
    /// that record no state never match.
    pub state: Option<Regex>,
    /// Keep groups with a frame whose function, or `file:line`, matches.
    pub frame: Option<Regex>,
    /// Keep groups of at least this many goroutines.
    pub min_count: u64,
}

impl Filter {
    /// True when `group` of `snap` passes every condition.
    pub fn keep(&self, snap: &Snapshot, group: &Group) -> bool {
        if group.count < self.min_count {
            return false;
        }
        if let Some(re) = &self.state {
            if group.state.raw.is_empty() || !re.is_match(&group.state.raw) {
                return false;
            }
        }
        if let Some(re) = &self.frame {
            let Some(stack) = snap.stacks.get(group.stack as usize) else {
                return false;
            };
            let hit = stack.frames.iter().any(|f| {
                re.is_match(&f.function) || re.is_match(&format!("{}:{}", f.file, f.line))
            });
            if !hit {
                return false;
            }
        }
        true
    }
}

/// One input's groups, as a stacks report shows them.
#[derive(Debug, Clone)]
pub struct StacksInput<'a> {
    /// The evidence.
    pub snap: &'a Snapshot,
    /// Its groups after filtering, largest first.
    pub groups: Vec<Group>,
    /// How many groups there were before filtering.
    pub total_groups: usize,
}

impl StacksInput<'_> {
    /// Goroutines in the shown groups.
    pub fn shown_goroutines(&self) -> u64 {
        self.groups.iter().map(|g| g.count).sum()
    }
}

/// Shortens a source path for reading: the Go root becomes `$GOROOT` and the module cache
/// `$GOMODCACHE`. `function` (the frame's function) tells a standard-library file from a
/// user file that happens to live under some `/src/` directory.
pub fn short_path<'a>(file: &'a str, function: &str) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow;
    if let Some(i) = file.find("/pkg/mod/") {
        return Cow::Owned(format!("$GOMODCACHE/{}", &file[i + 9..]));
    }
    let pkg = crate::model::FuncName::split(function).package;
    let std_lib = !pkg.is_empty()
        && pkg != "main"
        && !pkg
            .split('/')
            .next()
            .is_some_and(|first| first.contains('.'));
    if std_lib {
        let needle = format!("/src/{pkg}/");
        if let Some(i) = file.find(&needle) {
            return Cow::Owned(format!("$GOROOT{}", &file[i..]));
        }
    }
    Cow::Borrowed(file)
}

#[cfg(test)]
mod tests;
