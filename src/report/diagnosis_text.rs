//! The terminal report of `hangdoc diagnose`: the first screen says what is stuck, why, and
//! which line to open; the rest follows.

use std::io::{self, Write};

use super::style::Style;
use crate::diagnose::{Diagnosis, Finding, Severity};

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

/// Writes the report.
pub fn write(out: &mut dyn Write, d: &Diagnosis, o: &TextOptions) -> io::Result<()> {
    let s = &o.style;
    let crit = d
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let warn = d
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let diagnosed = d.diagnosed.and_then(|i| d.inputs.get(i));
    let what = diagnosed
        .map(|i| format!("{} goroutines in {} ({})", d.goroutines, i.source, i.format))
        .unwrap_or_else(|| "no goroutine evidence".into());
    if d.findings.is_empty() {
        writeln!(out, "{} {what}: nothing stuck found", s.bold("hangdoc:"))?;
    } else {
        writeln!(
            out,
            "{} {} critical, {} warning — {what}",
            s.bold("hangdoc:"),
            crit,
            warn
        )?;
    }
    let full = if o.all { d.findings.len() } else { 3 };
    for (i, f) in d.findings.iter().enumerate() {
        writeln!(out)?;
        if i < full {
            finding(out, i + 1, f, o)?;
        } else {
            writeln!(
                out,
                "{:>2}. {} {}  {}",
                i + 1,
                sev(s, f.severity),
                s.dim(f.kind),
                f.title
            )?;
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
            wrap(out, &format!("note: {n}"), "  ", o.width, s, false)?;
        }
    }
    Ok(())
}

fn sev(s: &Style, v: Severity) -> String {
    match v {
        Severity::Critical => s.red_bold("CRITICAL"),
        Severity::Warning => s.yellow_bold("WARNING"),
        Severity::Info => s.bold("INFO"),
    }
}

fn finding(out: &mut dyn Write, n: usize, f: &Finding, o: &TextOptions) -> io::Result<()> {
    let s = &o.style;
    writeln!(
        out,
        "{:>2}. {} {}  {}",
        n,
        sev(s, f.severity),
        s.bold(f.kind),
        s.dim(&format!("(confidence {:.2})", f.confidence))
    )?;
    wrap(out, &f.title, "    ", o.width, s, true)?;
    if let Some(r) = f.root.first() {
        writeln!(
            out,
            "    {}  {}",
            s.green_bold("fix here:"),
            s.bold(&r.function)
        )?;
        writeln!(out, "               {}:{}", r.file, r.line)?;
        for r in f.root.iter().skip(1).take(3) {
            writeln!(
                out,
                "         and  {}  {}:{}",
                r.function,
                short(&r.file),
                r.line
            )?;
        }
    }
    if !f.victims.is_empty() {
        let w = f
            .victims
            .iter()
            .map(|v| v.goroutines.to_string().len())
            .max()
            .unwrap_or(1);
        for (i, v) in f.victims.iter().take(5).enumerate() {
            let label = if i == 0 { "victims: " } else { "         " };
            let wait = v
                .wait_minutes
                .filter(|&m| m > 0)
                .map(|m| format!(", {m} min"))
                .unwrap_or_default();
            writeln!(
                out,
                "    {}  {:>w$}  {}  {}",
                s.dim(label),
                v.goroutines,
                v.function,
                s.dim(&format!("({}:{}{wait})", short(&v.file), v.line))
            )?;
        }
        if f.victims.len() > 5 {
            writeln!(
                out,
                "               {}",
                s.dim(&format!("… {} more stacks", f.victims.len() - 5))
            )?;
        }
    }
    if let Some(r) = &f.resource {
        let mut t = r.kind.clone();
        if let Some(n) = &r.name {
            t.push_str(&format!(" — {n}"));
        }
        if let Some(a) = &r.address {
            t.push_str(&format!(" at {a}"));
        }
        writeln!(out, "    {}  {t}", s.dim("resource:"))?;
    }
    writeln!(out, "    {}", s.dim("why:"))?;
    for e in &f.evidence {
        wrap(out, &format!("- {e}"), "      ", o.width, s, false)?;
    }
    wrap(
        out,
        &format!("{} {}", s.dim("advice:"), f.advice),
        "    ",
        o.width,
        s,
        false,
    )?;
    for snip in &f.source {
        writeln!(out, "    {}", s.dim(&format!("{}:", snip.path)))?;
        for (k, l) in snip.lines.iter().enumerate() {
            let no = snip.first_line + k as u32;
            if no == snip.focus_line {
                writeln!(out, "    {} {:>5} | {}", s.red_bold(">"), no, s.bold(l))?;
            } else {
                writeln!(out, "      {:>5} | {}", no, l)?;
            }
        }
    }
    Ok(())
}

fn short(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// Word-wraps `text` at `width`, indenting every line by `indent`.
fn wrap(
    out: &mut dyn Write,
    text: &str,
    indent: &str,
    width: usize,
    s: &Style,
    bold: bool,
) -> io::Result<()> {
    let avail = width.saturating_sub(indent.len()).max(30);
    let mut line = String::new();
    let mut visible = 0usize;
    let mut first = true;
    let cont = format!("{indent}  ");
    for word in text.split(' ') {
        let wlen = super::style::visible_len(word);
        if visible > 0 && visible + 1 + wlen > avail {
            let ind = if first { indent } else { &cont };
            writeln!(
                out,
                "{ind}{}",
                if bold { s.bold(&line) } else { line.clone() }
            )?;
            line.clear();
            visible = 0;
            first = false;
        }
        if visible > 0 {
            line.push(' ');
            visible += 1;
        }
        line.push_str(word);
        visible += wlen;
    }
    if !line.is_empty() {
        let ind = if first { indent } else { &cont };
        writeln!(out, "{ind}{}", if bold { s.bold(&line) } else { line })?;
    }
    Ok(())
}
