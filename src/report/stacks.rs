//! The text listing of `hangdoc stacks`: per input a summary line, then per group a header
//!
//! ```text
//! 7978  chan send  [3–62 min]  route=/api ×7000  created by main.serve
//!   runtime.chansend1                               $GOROOT/src/runtime/chan.go:161
//!   example.com/log.(*Writer).LogWrite              /src/app/log/log.go:87
//! ```
//!
//! and its frames, innermost first. The compact form (the default) shortens Go root and
//! module cache paths and shows the first frames of long stacks; `full` shows everything.
//! Text from the evidence (paths, states, labels, functions) is escaped with [`clean`]: a
//! hostile dump cannot recolour the terminal, move the cursor or hide a line.

use std::io::{self, Write};

use regex::Regex;

use super::paths::short_path;
use super::style::Style;
use super::terminal::clean;
use crate::model::{Group, Snapshot, WaitReason};

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

/// Frames shown per group in the compact form.
pub const COMPACT_FRAMES: usize = 10;

/// How the listing looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Every frame with its path as printed, instead of the compact form.
    pub full: bool,
    /// ANSI colours.
    pub color: bool,
}

/// Writes the listing of every input.
pub fn write_stacks(
    out: &mut dyn Write,
    inputs: &[StacksInput],
    opts: TextOptions,
) -> io::Result<()> {
    let paint = Style { color: opts.color };
    for (i, input) in inputs.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        summary(out, input, &paint)?;
        for g in &input.groups {
            writeln!(out)?;
            group(out, input.snap, g, opts, &paint)?;
        }
    }
    Ok(())
}

fn summary(out: &mut dyn Write, input: &StacksInput, paint: &Style) -> io::Result<()> {
    let snap = input.snap;
    let format = snap.format.map_or("unknown format", |f| f.name());
    let total = snap.goroutine_count();
    if snap.goroutines.is_empty() && snap.records.is_empty() && !snap.sockets.is_empty() {
        return writeln!(
            out,
            "{}: {format}, {} TCP sockets and no goroutines (not listed here)",
            paint.paint("1", &clean(&snap.source)),
            snap.sockets.len()
        );
    }
    let mut line = format!(
        "{}: {format}, {total} {} in {} {}",
        paint.paint("1", &clean(&snap.source)),
        plural(total, "goroutine", "goroutines"),
        input.total_groups,
        plural(input.total_groups as u64, "group", "groups"),
    );
    if input.groups.len() != input.total_groups {
        line += &format!(
            "; showing {} {} ({} goroutines)",
            input.groups.len(),
            plural(input.groups.len() as u64, "group", "groups"),
            input.shown_goroutines()
        );
    }
    writeln!(out, "{line}")
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Writes one group: its header line and its frames.
pub fn write_group(
    out: &mut dyn Write,
    snap: &Snapshot,
    g: &Group,
    opts: TextOptions,
) -> io::Result<()> {
    group(out, snap, g, opts, &Style { color: opts.color })
}

fn group(
    out: &mut dyn Write,
    snap: &Snapshot,
    g: &Group,
    opts: TextOptions,
    paint: &Style,
) -> io::Result<()> {
    let mut head = vec![paint.paint("1", &g.count.to_string())];
    if !g.state.raw.is_empty() {
        let code = if g.state.reason.is_forever() {
            "31"
        } else if g.state.reason.is_blocked() && g.state.reason != WaitReason::RuntimeIdle {
            "33"
        } else {
            "32"
        };
        head.push(paint.paint(code, &clean(&g.state.raw)));
    }
    if let Some((min, max)) = g.wait_minutes {
        head.push(match (min, max) {
            (0, max) => format!("[<1–{max} min]"),
            (min, max) if min == max => format!("[{max} min]"),
            (min, max) => format!("[{min}–{max} min]"),
        });
    }
    if g.locked > 0 {
        head.push(format!("locked ×{}", g.locked));
    }
    if g.leaked > 0 {
        head.push(paint.paint("31", &format!("leaked ×{}", g.leaked)));
    }
    for (id, n) in &g.labels {
        let set: Vec<String> = snap
            .labels(*id)
            .iter()
            .map(|(k, v)| format!("{}={}", clean(k), clean(v)))
            .collect();
        head.push(format!("{{{}}} ×{n}", set.join(", ")));
    }
    if let Some(c) = g.creator.and_then(|c| snap.creators.get(c as usize)) {
        head.push(format!("created by {}", clean(&c.function)));
    }
    if !g.ids.is_empty() && g.count > 1 {
        let ids: Vec<String> = g.ids.iter().map(u64::to_string).collect();
        let more = if g.count > g.ids.len() as u64 {
            " …"
        } else {
            ""
        };
        head.push(paint.paint("2", &format!("ids {}{more}", ids.join(" "))));
    } else if let [id] = g.ids[..] {
        head.push(paint.paint("2", &format!("id {id}")));
    }
    writeln!(out, "{}", head.join("  "))?;

    let Some(stack) = snap.stacks.get(g.stack as usize) else {
        return Ok(());
    };
    let shown = if opts.full {
        stack.frames.len()
    } else {
        stack.frames.len().min(COMPACT_FRAMES)
    };
    let frames = &stack.frames[..shown];
    let names: Vec<_> = frames.iter().map(|f| clean(&f.function)).collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .min(70);
    for (f, name) in frames.iter().zip(&names) {
        let file = if opts.full {
            std::borrow::Cow::Borrowed(&*f.file)
        } else {
            short_path(&f.file, &f.function)
        };
        let loc = match (file.is_empty(), f.line) {
            (true, _) => String::new(),
            (false, 0) => clean(&file).into_owned(),
            (false, line) => format!("{}:{line}", clean(&file)),
        };
        if loc.is_empty() {
            writeln!(out, "  {}", paint.paint("36", name))?;
            continue;
        }
        let pad = width.saturating_sub(name.chars().count());
        writeln!(
            out,
            "  {}{}  {}",
            paint.paint("36", name),
            " ".repeat(pad),
            paint.paint("2", &loc)
        )?;
    }
    let hidden = stack.frames.len() - shown;
    if hidden > 0 {
        writeln!(out, "  … {hidden} more frames (--full shows them)")?;
    }
    match stack.elided {
        Some(0) => writeln!(out, "  …additional frames elided by the runtime")?,
        Some(n) => writeln!(out, "  …{n} frames elided by the runtime")?,
        None => {}
    }
    Ok(())
}
