//! The terminal report of `hangdoc diagnose`: the first screen says what is stuck, why, and
//! which line to open; the rest follows.
//!
//! ```text
//!  1. CRITICAL lock-never-released  (confidence 0.85)
//!     218 goroutines wait for a mutex that nothing holds: a path returned without Unlock
//!     fix here:  main.(*ScoreHub).Follow
//!                scenarios/incidents/mutex-unlock-missed/hub.go:50
//!     victims:   180  main.(*ScoreHub).Follow  (hub.go:47)
//!     why:
//!       - 218 goroutines wait to lock the same mutex (0xc34c1cc02c0), …
//! ```
//!
//! Prose is wrapped at the width only between words, so a `file:line` or an identifier is
//! never split; continuation lines align with the text they continue. Every string that
//! comes from the evidence passes through [`clean`] first: a dump cannot drive the terminal.

use std::io::{self, Write};

use super::style::{Style, visible_len};
use super::terminal::{clean, clean_code};
use crate::diagnose::{Diagnosis, Finding, Severity};
use crate::model::FuncName;

/// Options of the text report.
#[derive(Debug, Clone)]
pub struct TextOptions {
    /// Colours on or off.
    pub style: Style,
    /// Wrap width.
    pub width: usize,
    /// Show every finding in full (default: the first three in full, the rest as one line).
    pub all: bool,
}

/// Findings shown in full without `all`.
const FULL: usize = 3;
/// Victim stacks listed per finding.
const VICTIMS: usize = 5;
/// Where a field's value starts, after `    fix here:  `.
const VALUE: &str = "               ";

/// Writes the report.
pub fn write(out: &mut dyn Write, d: &Diagnosis, o: &TextOptions) -> io::Result<()> {
    let s = &o.style;
    let count = |sev| d.findings.iter().filter(|f| f.severity == sev).count();
    let diagnosed = d.diagnosed.and_then(|i| d.inputs.get(i));
    let what = diagnosed
        .map(|i| {
            format!(
                "{} {} in {} ({})",
                i.goroutines,
                plural(i.goroutines as usize, "goroutine", "goroutines"),
                clean(&i.source),
                i.format
            )
        })
        .unwrap_or_else(|| "no goroutine evidence".into());
    let head = if d.findings.is_empty() {
        format!("{what}: nothing stuck found")
    } else {
        let mut counts = Vec::new();
        for (sev, one, many) in [
            (Severity::Critical, "critical", "critical"),
            (Severity::Warning, "warning", "warnings"),
            (Severity::Info, "info", "info"),
        ] {
            let n = count(sev);
            if n > 0 {
                counts.push(format!("{n} {}", plural(n, one, many)));
            }
        }
        let t = counts.join(", ");
        format!("{t} — {what}")
    };
    wrap(
        out,
        &format!("{} ", s.bold("hangdoc:")),
        "         ",
        &head,
        o.width,
        None,
    )?;
    let full = if o.all { d.findings.len() } else { FULL };
    for (i, f) in d.findings.iter().enumerate() {
        writeln!(out)?;
        if i < full {
            finding(out, i + 1, f, o)?;
        } else {
            let lead = format!("{:>2}. {} {} ", i + 1, sev(s, f.severity), s.dim(f.kind));
            wrap(out, &lead, "    ", &clean(&f.title), o.width, None)?;
        }
    }
    if d.findings.len() > full {
        writeln!(
            out,
            "\n{}",
            s.dim(&format!(
                "({} more findings above in short form; --all shows them in full)",
                d.findings.len() - full
            ))
        )?;
    }
    if !d.notes.is_empty() {
        writeln!(out)?;
        for n in &d.notes {
            wrap(out, "  note: ", "        ", &clean(n), o.width, None)?;
        }
    }
    Ok(())
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn sev(s: &Style, v: Severity) -> String {
    match v {
        Severity::Critical => s.red_bold("CRITICAL"),
        Severity::Warning => s.yellow_bold("WARNING"),
        Severity::Info => s.bold("INFO"),
    }
}

/// `label` padded to the value column (`    fix here:  `), dim.
fn field(s: &Style, label: &str) -> String {
    let pad = VALUE.len().saturating_sub(4 + label.len());
    format!("    {}{}", s.dim(label), " ".repeat(pad))
}

fn finding(out: &mut dyn Write, n: usize, f: &Finding, o: &TextOptions) -> io::Result<()> {
    let s = &o.style;
    let head = format!(
        "{} {} {}",
        s.bold(f.kind),
        s.dim("(confidence"),
        s.dim(&format!("{:.2})", f.confidence))
    );
    let lead = format!("{:>2}. {} ", n, sev(s, f.severity));
    wrap(out, &lead, "    ", &head, o.width, None)?;
    wrap(out, "    ", "    ", &clean(&f.title), o.width, Some(s))?;
    if let Some(r) = f.root.first() {
        writeln!(
            out,
            "{}{}",
            field(s, "fix here:"),
            s.bold(&clean(short_func(&r.function)))
        )?;
        // The file to open: the one on disk when `--src` found it, else as printed in the
        // evidence. Kept whole, and moved out of the value column rather than past the edge
        // when it is long.
        let file = f
            .source
            .iter()
            .find(|sn| sn.focus_line == r.line && base(&sn.path) == base(&r.file))
            .map_or(r.file.as_str(), |sn| sn.path.as_str());
        let at = clean(&format!("{file}:{}", r.line)).into_owned();
        let indent = if VALUE.len() + at.chars().count() > o.width {
            "    "
        } else {
            VALUE
        };
        writeln!(out, "{indent}{}", s.bold(&at))?;
        for r in f.root.iter().skip(1).take(3) {
            let lead = format!("{:>13}  ", "and");
            let name = clean(short_func(&r.function)).into_owned();
            let at = format!("{}:{}", clean(base(&r.file)), r.line);
            pair(out, &lead, &name, &at, o.width)?;
        }
    }
    if !f.victims.is_empty() {
        let w = f
            .victims
            .iter()
            .map(|v| v.goroutines.to_string().len())
            .max()
            .unwrap_or(1);
        for (i, v) in f.victims.iter().take(VICTIMS).enumerate() {
            let lead = if i == 0 {
                field(s, "victims:")
            } else {
                VALUE.to_string()
            };
            let wait = v
                .wait_minutes
                .filter(|&m| m > 0)
                .map(|m| format!(", {m} min"))
                .unwrap_or_default();
            let lead = format!("{lead}{:>w$}  ", v.goroutines);
            let name = clean(short_func(&v.function)).into_owned();
            let at = s.dim(&format!("({}:{}{wait})", clean(base(&v.file)), v.line));
            pair(out, &lead, &name, &at, o.width)?;
        }
        if f.victims.len() > VICTIMS {
            writeln!(
                out,
                "{VALUE}{}",
                s.dim(&format!("… {} more stacks", f.victims.len() - VICTIMS))
            )?;
        }
    }
    if let Some(r) = &f.resource {
        let mut t = clean(&r.kind).into_owned();
        if let Some(n) = &r.name {
            t.push_str(&format!(" — {}", clean(n)));
        }
        if let Some(a) = &r.address {
            t.push_str(&format!(" at {}", clean(a)));
        }
        wrap(out, &field(s, "resource:"), VALUE, &t, o.width, None)?;
    }
    writeln!(out, "    {}", s.dim("why:"))?;
    for e in &f.evidence {
        wrap(out, "      - ", "        ", &clean(e), o.width, None)?;
    }
    for snip in &f.source {
        writeln!(out, "    {}", s.dim(&format!("{}:", clean(&snip.path))))?;
        for (k, l) in snip.lines.iter().enumerate() {
            let no = snip.first_line + k as u32;
            let code = clean_code(l);
            let line = if no == snip.focus_line {
                format!("    {} {:>5} | {}", s.red_bold(">"), no, s.bold(&code))
            } else {
                format!("      {:>5} | {}", no, code)
            };
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    wrap(
        out,
        &field(s, "advice:"),
        VALUE,
        &clean(&f.advice),
        o.width,
        None,
    )?;
    Ok(())
}

/// Writes `lead`, `name` and `at` on one line, or `at` on the next line under `name` when
/// the line would pass `width`.
fn pair(out: &mut dyn Write, lead: &str, name: &str, at: &str, width: usize) -> io::Result<()> {
    let col = visible_len(lead);
    if col + visible_len(name) + 2 + visible_len(at) <= width {
        writeln!(out, "{lead}{name}  {at}")
    } else {
        writeln!(out, "{lead}{name}\n{}{at}", " ".repeat(col))
    }
}

/// The function without its import path's directories: `tracelog.(*FileSink).Emit` for
/// `example.com/app/tracelog.(*FileSink).Emit`. The file beside it says where it lives.
fn short_func(full: &str) -> &str {
    let pkg = FuncName::split(full).package;
    match pkg.rfind('/') {
        Some(i) if full.starts_with(pkg) => &full[i + 1..],
        _ => full,
    }
}

fn base(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// Writes `text` word-wrapped at `width`: the first line after `first`, the others after
/// `cont` (prefixes and words may hold colour codes). Lines break only at spaces; a word longer
/// than a line gets a line of its own. `bold` paints each line's text.
fn wrap(
    out: &mut dyn Write,
    first: &str,
    cont: &str,
    text: &str,
    width: usize,
    bold: Option<&Style>,
) -> io::Result<()> {
    let mut prefix = first;
    let mut line = String::new();
    let mut used = visible_len(first);
    let emit = |out: &mut dyn Write, prefix: &str, line: &str| {
        let line = line.trim_end();
        match bold {
            Some(s) if !line.is_empty() => writeln!(out, "{prefix}{}", s.bold(line)),
            _ => writeln!(out, "{}", format!("{prefix}{line}").trim_end()),
        }
    };
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = visible_len(word);
        if !line.is_empty() && used + 1 + len > width {
            emit(out, prefix, &line)?;
            prefix = cont;
            line.clear();
            used = visible_len(cont);
        }
        if !line.is_empty() {
            line.push(' ');
            used += 1;
        }
        line.push_str(word);
        used += len;
    }
    emit(out, prefix, &line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(first: &str, cont: &str, text: &str, width: usize) -> Vec<String> {
        let mut out = Vec::new();
        wrap(&mut out, first, cont, text, width, None).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    #[test]
    fn wraps_between_words_and_aligns_continuations() {
        let text = "goroutines in main.(*ScoreHub).Follow (hub.go:47) grew across 4 snapshots";
        let lines = wrapped("      - ", "        ", text, 40);
        assert_eq!(
            lines,
            [
                "      - goroutines in",
                "        main.(*ScoreHub).Follow",
                "        (hub.go:47) grew across 4",
                "        snapshots",
            ]
        );
        let long = "see example.com/a/very/long/package/path/name.(*Type).Method:123 now";
        let lines = wrapped("    ", "    ", long, 30);
        assert_eq!(lines[0], "    see");
        assert_eq!(
            lines[1],
            "    example.com/a/very/long/package/path/name.(*Type).Method:123"
        );
        assert_eq!(lines[2], "    now");
    }

    #[test]
    fn shortens_function_to_the_last_package_element() {
        assert_eq!(
            short_func("example.com/app/tracelog.(*FileSink).Emit"),
            "tracelog.(*FileSink).Emit"
        );
        assert_eq!(short_func("main.main.func1"), "main.main.func1");
        assert_eq!(
            short_func("example.com/g.Map[go.shape.string]"),
            "g.Map[go.shape.string]"
        );
        assert_eq!(short_func("net/http.(*conn).serve"), "http.(*conn).serve");
    }
}
