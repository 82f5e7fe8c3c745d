//! `--format markdown`: a report to paste into an incident ticket.

use std::io::{self, Write};

use crate::diagnose::{Diagnosis, Severity};

/// Escapes text from the evidence for Markdown inline use.
fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// Code span safe for any content.
fn code(s: &str) -> String {
    let ticks = if s.contains('`') { "``" } else { "`" };
    format!("{ticks}{}{ticks}", s.replace('\n', " "))
}

/// Writes the report.
pub fn write(out: &mut dyn Write, d: &Diagnosis) -> io::Result<()> {
    writeln!(out, "## hangdoc diagnosis\n")?;
    let inputs: Vec<String> = d
        .inputs
        .iter()
        .map(|i| {
            format!(
                "{} ({}, {} goroutines)",
                code(&i.source),
                i.format,
                i.goroutines
            )
        })
        .collect();
    writeln!(out, "**Evidence:** {}\n", inputs.join(", "))?;
    if d.findings.is_empty() {
        writeln!(out, "No stuck goroutines found.")?;
    }
    for (n, f) in d.findings.iter().enumerate() {
        let sev = match f.severity {
            Severity::Critical => "CRITICAL",
            Severity::Warning => "WARNING",
            Severity::Info => "INFO",
        };
        writeln!(out, "### {}. {sev} `{}`: {}\n", n + 1, f.kind, md(&f.title))?;
        if let Some(r) = f.root.first() {
            writeln!(
                out,
                "**Fix here:** {} at {}\n",
                code(&r.function),
                code(&format!("{}:{}", r.file, r.line))
            )?;
        }
        for r in f.root.iter().skip(1).take(3) {
            writeln!(
                out,
                "- also {} at {}",
                code(&r.function),
                code(&format!("{}:{}", r.file, r.line))
            )?;
        }
        if f.root.len() > 1 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "Confidence {:.2}; {} goroutines explained.\n",
            f.confidence, f.goroutines
        )?;
        if !f.victims.is_empty() {
            writeln!(out, "| goroutines | blocked in | at |\n|---:|---|---|")?;
            for v in &f.victims {
                writeln!(
                    out,
                    "| {} | {} | {} |",
                    v.goroutines,
                    code(&v.function),
                    code(&format!(
                        "{}:{}",
                        v.file.rsplit('/').next().unwrap_or(&v.file),
                        v.line
                    ))
                )?;
            }
            writeln!(out)?;
        }
        writeln!(out, "**Why:**\n")?;
        for e in &f.evidence {
            writeln!(out, "- {}", md(e))?;
        }
        writeln!(out, "\n**Advice:** {}\n", md(&f.advice))?;
        for s in &f.source {
            writeln!(out, "{} (line {}):\n\n```go", code(&s.path), s.focus_line)?;
            for (k, l) in s.lines.iter().enumerate() {
                let no = s.first_line + k as u32;
                writeln!(
                    out,
                    "{}{:>5} {}",
                    if no == s.focus_line { ">" } else { " " },
                    no,
                    l.replace("```", "`\u{200b}``")
                )?;
            }
            writeln!(out, "```\n")?;
        }
    }
    for n in &d.notes {
        writeln!(out, "> {}", md(n))?;
    }
    Ok(())
}
