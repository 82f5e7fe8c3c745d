//! `--format markdown`: a report to paste into an issue or incident ticket (GitHub and
//! GitLab flavour). A headline, then per finding: a summary line, the line to fix as inline
//! code, the victims as a table, the reasons as a list, the source in a `go` block with line
//! numbers, the advice; the long evidence (stacks of the victims, every stack group, the
//! inputs) is folded in `<details>` blocks.
//!
//! Every string from the evidence is escaped for where it lands: Markdown punctuation and
//! `<`, `>`, `&` in prose, `|` in table cells, backtick runs in code spans and fenced blocks
//! (the fence is longer than any run inside), control characters everywhere. A hostile label
//! or function name can neither break the table nor inject HTML. The only raw HTML is the
//! `<details>` and `<summary>` tags written here, around text escaped for HTML.
//!
//! The folded stacks are capped so that the whole report stays well under the 65,536
//! characters an issue comment may hold.

use std::io::{self, Write};

use super::stacks::{self, TextOptions};
use super::terminal::{clean, clean_code};
use crate::diagnose::{Diagnosis, Finding, Severity};
use crate::model::{GroupLevel, Snapshot, group};

/// Victim rows shown in a finding's table; the rest are folded.
const VICTIM_ROWS: usize = 10;
/// Victims whose stacks are folded under a finding.
const VICTIM_STACKS: usize = 5;
/// Stack groups folded at the end.
const ALL_GROUPS: usize = 20;

/// Escapes text from the evidence for Markdown prose (also inside table cells and list
/// items): Markdown punctuation gets a backslash, `<`, `>` and `&` become entities, control
/// characters are written as escapes, and line breaks cannot start a new block.
pub fn md(s: &str) -> String {
    let s = clean(s);
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '$' => {
                o.push('\\');
                o.push(c);
            }
            c => o.push(c),
        }
    }
    // At the start of a list item or paragraph, `- `, `+ `, `= ` or `1. ` would open a block.
    let digits = o.len() - o.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let lead = o[digits..].chars().next();
    if (digits == 0 && matches!(lead, Some('-' | '+' | '=')))
        || (digits > 0 && matches!(lead, Some('.' | ')')))
    {
        o.insert(digits, '\\');
    }
    o
}

/// An inline code span holding `s` verbatim, whatever backticks it contains: the delimiter
/// is one backtick longer than the longest run inside. For table cells, see [`cell_code`].
pub fn code(s: &str) -> String {
    let s = clean(s);
    let ticks = "`".repeat(longest_run(&s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// [`code`] for a table cell: a `|` must be escaped even inside a code span there.
pub fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// Text for HTML (the `<summary>` of a folded block).
fn html(s: &str) -> String {
    clean(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in s.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Writes a fenced block of `lang` around `body`, with a fence longer than any backtick
/// run in it.
fn fenced(out: &mut dyn Write, lang: &str, body: &str) -> io::Result<()> {
    let fence = "`".repeat((longest_run(body, '`') + 1).max(3));
    writeln!(out, "{fence}{lang}")?;
    write!(out, "{body}")?;
    if !body.is_empty() && !body.ends_with('\n') {
        writeln!(out)?;
    }
    writeln!(out, "{fence}")
}

/// Opens a folded block; Markdown inside it needs the blank line after the summary.
fn details(out: &mut dyn Write, summary: &str) -> io::Result<()> {
    writeln!(out, "<details><summary>{}</summary>\n", html(summary))
}

fn end_details(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "</details>\n")
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn sev_name(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}

/// Writes the report. `snaps` are the inputs the diagnosis was made from, for the folded
/// stacks; with none, the report has everything else.
pub fn write(out: &mut dyn Write, d: &Diagnosis, snaps: &[Snapshot]) -> io::Result<()> {
    headline(out, d)?;
    let primary = d.diagnosed.and_then(|i| snaps.get(i));
    let groups = primary.map(|s| group(s, GroupLevel::Lines));
    for (n, f) in d.findings.iter().enumerate() {
        finding(out, n + 1, f)?;
        if let (Some(snap), Some(groups)) = (primary, &groups) {
            victim_stacks(out, f, snap, groups)?;
        }
    }
    if !d.notes.is_empty() {
        writeln!(out, "**Notes**\n")?;
        for n in &d.notes {
            writeln!(out, "- {}", md(n))?;
        }
        writeln!(out)?;
    }
    if let (Some(snap), Some(groups)) = (primary, &groups) {
        all_groups(out, snap, groups)?;
    }
    inputs(out, d)?;
    if !d.warnings.is_empty() {
        details(
            out,
            &format!(
                "{} {} while reading",
                d.warnings.len(),
                plural(d.warnings.len(), "warning", "warnings")
            ),
        )?;
        for w in &d.warnings {
            writeln!(out, "- {}", md(w))?;
        }
        writeln!(out)?;
        end_details(out)?;
    }
    Ok(())
}

/// `## hangdoc: 1 critical, 2 warnings in 270 goroutines (goroutine-debug2)`.
fn headline(out: &mut dyn Write, d: &Diagnosis) -> io::Result<()> {
    let mut counts = Vec::new();
    for (sev, one, many) in [
        (Severity::Critical, "critical", "critical"),
        (Severity::Warning, "warning", "warnings"),
        (Severity::Info, "info", "info"),
    ] {
        let n = d.findings.iter().filter(|f| f.severity == sev).count();
        if n > 0 {
            counts.push(format!("{n} {}", plural(n, one, many)));
        }
    }
    let what = if counts.is_empty() {
        "nothing stuck found".to_string()
    } else {
        counts.join(", ")
    };
    match d.diagnosed.and_then(|i| d.inputs.get(i)) {
        Some(i) => writeln!(
            out,
            "## hangdoc: {what} in {} {} ({})\n",
            i.goroutines,
            plural(i.goroutines as usize, "goroutine", "goroutines"),
            i.format
        )?,
        None => writeln!(out, "## hangdoc: no goroutine evidence\n")?,
    }
    if let Some(i) = d.diagnosed.and_then(|i| d.inputs.get(i)) {
        writeln!(out, "Diagnosed {}.\n", code(&i.source))?;
    }
    Ok(())
}

fn finding(out: &mut dyn Write, n: usize, f: &Finding) -> io::Result<()> {
    writeln!(out, "### {n}. {}: {}\n", sev_name(f.severity), md(&f.title))?;
    writeln!(
        out,
        "{} · confidence {:.2} · {} {} explained\n",
        code(f.kind),
        f.confidence,
        f.goroutines,
        plural(f.goroutines as usize, "goroutine", "goroutines")
    )?;
    if let Some(r) = f.root.first() {
        writeln!(
            out,
            "**Fix here:** {} in {}\n",
            code(&format!("{}:{}", source_path(f, r), r.line)),
            code(&r.function)
        )?;
        if f.root.len() > 1 {
            for r in f.root.iter().skip(1) {
                writeln!(
                    out,
                    "- also {} in {}",
                    code(&format!("{}:{}", r.file, r.line)),
                    code(&r.function)
                )?;
            }
            writeln!(out)?;
        }
    }
    if let Some(r) = &f.resource {
        let mut t = md(&r.kind);
        if let Some(n) = &r.name {
            t.push_str(&format!(" — {}", md(n)));
        }
        if let Some(a) = &r.address {
            t.push_str(&format!(" at {}", code(a)));
        }
        writeln!(out, "**Resource:** {t}\n")?;
    }
    if !f.victims.is_empty() {
        victims_table(out, &f.victims[..f.victims.len().min(VICTIM_ROWS)])?;
        if f.victims.len() > VICTIM_ROWS {
            let rest = &f.victims[VICTIM_ROWS..];
            details(out, &format!("{} more blocked stacks", rest.len()))?;
            victims_table(out, rest)?;
            end_details(out)?;
        }
    }
    writeln!(out, "**Why**\n")?;
    for e in &f.evidence {
        writeln!(out, "- {}", md(e))?;
    }
    writeln!(out)?;
    for s in &f.source {
        writeln!(out, "{}, line {}:\n", code(&s.path), s.focus_line)?;
        let width = (s.first_line as usize + s.lines.len()).to_string().len();
        let mut body = String::new();
        for (k, l) in s.lines.iter().enumerate() {
            let no = s.first_line + k as u32;
            let mark = if no == s.focus_line { '>' } else { ' ' };
            let line = format!("{mark} {no:>width$}  {}", clean_code(l));
            body.push_str(line.trim_end());
            body.push('\n');
        }
        fenced(out, "go", &body)?;
        writeln!(out)?;
    }
    writeln!(out, "**Advice:** {}\n", md(&f.advice))
}

/// The file of a root frame as on disk when `--src` found it, else as in the evidence.
fn source_path<'a>(f: &'a Finding, r: &'a crate::diagnose::FrameRef) -> &'a str {
    let base = |p: &str| p.rsplit(['/', '\\']).next().unwrap_or("").to_string();
    f.source
        .iter()
        .find(|s| s.focus_line == r.line && base(&s.path) == base(&r.file))
        .map_or(r.file.as_str(), |s| s.path.as_str())
}

fn victims_table(out: &mut dyn Write, victims: &[crate::diagnose::Victim]) -> io::Result<()> {
    let waits = victims.iter().any(|v| v.wait_minutes.is_some());
    if waits {
        writeln!(
            out,
            "| goroutines | blocked in | at | longest wait |\n|---:|---|---|---:|"
        )?;
    } else {
        writeln!(out, "| goroutines | blocked in | at |\n|---:|---|---|")?;
    }
    for v in victims {
        write!(
            out,
            "| {} | {} | {} |",
            v.goroutines,
            cell_code(&v.function),
            cell_code(&format!("{}:{}", v.file, v.line)),
        )?;
        match v.wait_minutes {
            Some(m) => writeln!(out, " {m} min |")?,
            None if waits => writeln!(out, "  |")?,
            None => writeln!(out)?,
        }
    }
    writeln!(out)
}

/// The stacks the victims block in, as `hangdoc stacks` lists them, folded.
fn victim_stacks(
    out: &mut dyn Write,
    f: &Finding,
    snap: &Snapshot,
    groups: &[crate::model::Group],
) -> io::Result<()> {
    let mut shown = Vec::new();
    for v in f.victims.iter().take(VICTIM_STACKS) {
        let hit = groups.iter().position(|g| {
            snap.stacks.get(g.stack as usize).is_some_and(|s| {
                s.frames
                    .iter()
                    .any(|fr| fr.line == v.line && fr.function.as_ref() == v.function)
            })
        });
        if let Some(i) = hit.filter(|i| !shown.contains(i)) {
            shown.push(i);
        }
    }
    if shown.is_empty() {
        return Ok(());
    }
    let mut body = Vec::new();
    for (k, &i) in shown.iter().enumerate() {
        if k > 0 {
            writeln!(body)?;
        }
        stacks::write_group(&mut body, snap, &groups[i], TextOptions::default())?;
    }
    details(
        out,
        &format!(
            "Stacks of the blocked goroutines ({} {})",
            shown.len(),
            plural(shown.len(), "group", "groups")
        ),
    )?;
    fenced(out, "text", &String::from_utf8_lossy(&body))?;
    writeln!(out)?;
    end_details(out)
}

/// The largest stack groups of the diagnosed snapshot, folded.
fn all_groups(
    out: &mut dyn Write,
    snap: &Snapshot,
    groups: &[crate::model::Group],
) -> io::Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    let shown = groups.len().min(ALL_GROUPS);
    let mut body = Vec::new();
    for (k, g) in groups.iter().take(shown).enumerate() {
        if k > 0 {
            writeln!(body)?;
        }
        stacks::write_group(&mut body, snap, g, TextOptions::default())?;
    }
    let summary = if shown < groups.len() {
        format!(
            "The {shown} largest of {} stack groups ({} goroutines; `hangdoc stacks` lists all)",
            groups.len(),
            snap.goroutine_count()
        )
    } else {
        format!(
            "All {} stack {} ({} goroutines)",
            groups.len(),
            plural(groups.len(), "group", "groups"),
            snap.goroutine_count()
        )
    };
    details(out, &summary)?;
    fenced(out, "text", &String::from_utf8_lossy(&body))?;
    writeln!(out)?;
    end_details(out)
}

/// The inputs as a table, folded.
fn inputs(out: &mut dyn Write, d: &Diagnosis) -> io::Result<()> {
    if d.inputs.is_empty() {
        return Ok(());
    }
    details(
        out,
        &format!(
            "Evidence: {} {}",
            d.inputs.len(),
            plural(d.inputs.len(), "input", "inputs")
        ),
    )?;
    writeln!(out, "| input | format | goroutines |\n|---|---|---:|")?;
    for i in &d.inputs {
        let n = match i.sockets {
            Some(s) => format!("{s} sockets"),
            None => i.goroutines.to_string(),
        };
        writeln!(out, "| {} | {} | {n} |", cell_code(&i.source), i.format)?;
    }
    writeln!(out)?;
    end_details(out)
}
