//! `--format html`: one self-contained page a person opens during an incident and pastes into
//! the ticket. No network: the style and script are embedded, and the page's
//! Content-Security-Policy forbids every fetch and every script but its own.
//!
//! The page, top to bottom:
//! - the findings, most important first: severity, kind, title, the line to fix, its source
//!   (with `--src`), the victims with counts and wait minutes, evidence, advice, and the
//!   wait-for chain drawn as a graph ([`chain`]);
//! - the stack groups of the snapshot diagnosed, with a text search and a state filter
//!   ([`groups`]);
//! - a flame graph of those groups weighted by goroutine count ([`flame`]);
//! - the socket tables summarised by port and state ([`groups::sockets`]);
//! - the inputs, notes and warnings, and the `hangdoc.diagnosis/v1` document as JSON.
//!
//! Every string from the evidence (function names, paths, labels, source lines) is untrusted:
//! it is written only through [`esc`] (text and quoted attributes) or [`json_script`] (data
//! for the script), never into markup or script unescaped.

mod chain;
mod csp;
mod flame;
mod groups;

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use crate::diagnose::{Diagnosis, Finding, Severity};
use crate::model::Snapshot;

const PAGE: &str = include_str!("html/page.html");
const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Escapes text for HTML element content and for double- or single-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            // Control characters other than tab and newline are not valid in HTML text.
            c if c.is_control() && c != '\n' && c != '\t' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

/// `value` as JSON inside `<script type="application/json" id="…">`: `<`, `>` and `&` are
/// written as `\u003c`, `\u003e`, `\u0026` (they only ever occur inside JSON strings, where
/// the escape means the same), so no `</script>` or `<!--` can end or bend the element.
pub fn json_script(id: &str, value: &impl Serialize) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    let mut o = String::with_capacity(json.len() + 64);
    let _ = write!(o, "<script type=\"application/json\" id=\"{}\">", esc(id));
    for c in json.chars() {
        match c {
            '<' => o.push_str("\\u003c"),
            '>' => o.push_str("\\u003e"),
            '&' => o.push_str("\\u0026"),
            '\u{2028}' => o.push_str("\\u2028"),
            '\u{2029}' => o.push_str("\\u2029"),
            c => o.push(c),
        }
    }
    o.push_str("</script>");
    o
}

/// The function name without its import path (`redis.(*Pool).get` for
/// `github.com/gomodule/redigo/redis.(*Pool).get`).
pub(crate) fn short_func(f: &str) -> &str {
    let bracket = f.find('[').unwrap_or(f.len());
    match f[..bracket].rfind('/') {
        Some(i) => &f[i + 1..],
        None => f,
    }
}

/// The file's last element.
pub(crate) fn base_name(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}

/// At most `max` characters of `s`, the start replaced by `…` when cut (the end of a Go
/// name or path is the part that tells things apart).
pub(crate) fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let skip = n - max.saturating_sub(1);
    let mut o = String::from("…");
    o.extend(s.chars().skip(skip));
    o
}

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    #[serde(flatten)]
    diagnosis: &'a Diagnosis,
}

/// Writes the page for `d`, which was diagnosed from `snaps` (the stack groups and flame graph
/// come from the snapshot diagnosed, the socket summary from every socket table).
pub fn write(out: &mut dyn Write, d: &Diagnosis, snaps: &[Snapshot]) -> io::Result<()> {
    let primary = d.diagnosed.and_then(|i| snaps.get(i));
    let roots: Vec<(&str, u32)> = d
        .findings
        .iter()
        .flat_map(|f| f.root.iter().map(|r| (r.function.as_str(), r.line)))
        .collect();

    let mut body = String::new();
    header(&mut body, d);
    body.push_str("<main>\n<section id=\"findings\">\n");
    if d.findings.is_empty() {
        body.push_str("<p class=\"none\">No stuck goroutines found.</p>\n");
    }
    for (n, f) in d.findings.iter().enumerate() {
        finding(&mut body, n, f);
    }
    body.push_str("</section>\n");
    if let Some(snap) = primary {
        groups::section(&mut body, snap, &roots);
        flame::section(&mut body, snap, &roots);
    }
    groups::sockets(&mut body, snaps);
    inputs(&mut body, d);
    body.push_str("</main>\n");
    body.push_str(&json_script(
        "hangdoc-diagnosis",
        &Doc {
            schema: "hangdoc.diagnosis/v1",
            diagnosis: d,
        },
    ));
    body.push('\n');

    let title = match d.findings.first() {
        Some(f) => format!("hangdoc: {}", f.title),
        None => "hangdoc: no stuck goroutines".to_string(),
    };
    // The template's markers are filled in one pass, so text from the evidence is never
    // scanned for markers itself.
    let mut rest = PAGE;
    while let Some(start) = rest.find("{{") {
        out.write_all(&rest.as_bytes()[..start])?;
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            rest = &rest[start..];
            break;
        };
        match &after[..end] {
            "TITLE" => out.write_all(esc(&title).as_bytes())?,
            "STYLE" => out.write_all(STYLE.as_bytes())?,
            "SCRIPT" => out.write_all(SCRIPT.as_bytes())?,
            "SCRIPT_HASH" => out.write_all(csp::script_hash(SCRIPT).as_bytes())?,
            "BODY" => out.write_all(body.as_bytes())?,
            other => write!(out, "{{{{{other}}}}}")?,
        }
        rest = &after[end + 2..];
    }
    out.write_all(rest.as_bytes())
}

fn header(o: &mut String, d: &Diagnosis) {
    let count = |s: Severity| d.findings.iter().filter(|f| f.severity == s).count();
    let (crit, warn) = (count(Severity::Critical), count(Severity::Warning));
    let _ = write!(
        o,
        "<header><h1>hangdoc diagnosis</h1><p class=\"summary\"><span class=\"sev sev-critical\">{crit} critical</span> <span class=\"sev sev-warning\">{warn} warning</span>",
    );
    if let Some(i) = d.diagnosed.and_then(|i| d.inputs.get(i)) {
        let _ = write!(
            o,
            " — {} goroutines in <code>{}</code> ({})",
            d.goroutines,
            esc(&i.source),
            esc(i.format)
        );
    }
    o.push_str("</p>\n<nav><a href=\"#findings\">Findings</a> <a href=\"#groups\">Stack groups</a> <a href=\"#flame\">Flame graph</a> <a href=\"#sockets\">Sockets</a> <a href=\"#inputs\">Inputs and notes</a></nav></header>\n");
}

fn finding(o: &mut String, n: usize, f: &Finding) {
    let sev = f.severity.name();
    let _ = write!(
        o,
        "<article class=\"finding sev-{sev}\" id=\"finding-{}\">\n<div class=\"meta\"><span class=\"badge\">{}</span> <code class=\"kind\">{}</code> <span class=\"dim\">confidence {:.2} · {} goroutines explained</span></div>\n<h2>{}. {}</h2>\n",
        n + 1,
        sev.to_uppercase(),
        esc(f.kind),
        f.confidence,
        f.goroutines,
        n + 1,
        esc(&f.title)
    );
    if let Some(r) = f.root.first() {
        let _ = write!(
            o,
            "<div class=\"fix\"><span class=\"label\">Fix here</span> <code class=\"fn\">{}</code> <code class=\"loc\">{}:{}</code>",
            esc(&r.function),
            esc(&r.file),
            r.line
        );
        for r in f.root.iter().skip(1).take(3) {
            let _ = write!(
                o,
                "<div class=\"also\">and <code class=\"fn\">{}</code> <code class=\"loc\">{}:{}</code></div>",
                esc(&r.function),
                esc(base_name(&r.file)),
                r.line
            );
        }
        if f.root.len() > 4 {
            let _ = write!(o, "<div class=\"also\">and {} more</div>", f.root.len() - 4);
        }
        o.push_str("</div>\n");
    }
    o.push_str("<div class=\"cols\">\n");
    if !f.source.is_empty() {
        o.push_str("<div class=\"sources\">");
        for s in &f.source {
            let _ = write!(
                o,
                "<figure class=\"src\"><figcaption><code>{}</code> line {}</figcaption><pre>",
                esc(&s.path),
                s.focus_line
            );
            for (k, line) in s.lines.iter().enumerate() {
                let no = s.first_line + k as u32;
                let class = if no == s.focus_line { " focus" } else { "" };
                // No newline between the lines: each is a block already.
                let _ = write!(
                    o,
                    "<span class=\"line{class}\"><span class=\"ln\">{no}</span>{}</span>",
                    esc(line)
                );
            }
            o.push_str("</pre>");
            if let Some(note) = &s.note {
                let _ = write!(o, "<p class=\"note\">{}</p>", esc(note));
            }
            o.push_str("</figure>");
        }
        o.push_str("</div>\n");
    }
    if !f.victims.is_empty() || f.resource.is_some() {
        o.push_str("<div class=\"victims\">");
        if !f.victims.is_empty() {
            // The runtime prints minutes only for waits of a minute or more.
            let minutes = f.victims.iter().any(|v| v.wait_minutes.is_some());
            let _ = write!(
                o,
                "<table><thead><tr><th>goroutines</th><th>blocked in</th><th>at</th>{}</tr></thead><tbody>",
                if minutes { "<th>waiting</th>" } else { "" }
            );
            for v in &f.victims {
                let wait = match (minutes, v.wait_minutes) {
                    (false, _) => String::new(),
                    (true, Some(m)) => format!("<td class=\"num\">{m} min</td>"),
                    (true, None) => "<td class=\"num\">&lt;1 min</td>".to_string(),
                };
                let _ = write!(
                    o,
                    "<tr><td class=\"num\">{}</td><td><code title=\"{}\">{}</code></td><td><code title=\"{}\">{}:{}</code></td>{}</tr>",
                    v.goroutines,
                    esc(&v.function),
                    esc(short_func(&v.function)),
                    esc(&v.file),
                    esc(base_name(&v.file)),
                    v.line,
                    wait
                );
            }
            o.push_str("</tbody></table>");
        }
        if let Some(r) = &f.resource {
            let _ = write!(
                o,
                "<p class=\"resource\"><span class=\"label\">resource</span> {}",
                esc(&r.kind)
            );
            if let Some(name) = &r.name {
                let _ = write!(o, " — {}", esc(name));
            }
            if let Some(addr) = &r.address {
                let _ = write!(o, " at <code>{}</code>", esc(addr));
            }
            o.push_str("</p>");
        }
        o.push_str("</div>\n");
    }
    o.push_str("</div>\n");
    if !f.evidence.is_empty() {
        o.push_str("<h3>Why</h3><ul class=\"evidence\">");
        for e in &f.evidence {
            let _ = write!(o, "<li>{}</li>", esc(e));
        }
        o.push_str("</ul>\n");
    }
    let _ = writeln!(
        o,
        "<p class=\"advice\"><span class=\"label\">Advice</span> {}</p>",
        esc(&f.advice)
    );
    chain::svg(o, n, f);
    o.push_str("</article>\n");
}

fn inputs(o: &mut String, d: &Diagnosis) {
    o.push_str("<section id=\"inputs\"><h2>Inputs and notes</h2><ul>");
    for (i, input) in d.inputs.iter().enumerate() {
        let mark = if d.diagnosed == Some(i) {
            " <span class=\"badge-small\">diagnosed</span>"
        } else {
            ""
        };
        let what = match input.sockets {
            Some(n) => format!("{n} sockets"),
            None => format!("{} goroutines", input.goroutines),
        };
        let _ = write!(
            o,
            "<li><code>{}</code> ({}, {what}){mark}</li>",
            esc(&input.source),
            esc(input.format)
        );
    }
    o.push_str("</ul>");
    if !d.notes.is_empty() {
        o.push_str("<h3>Notes</h3><ul>");
        for n in &d.notes {
            let _ = write!(o, "<li>{}</li>", esc(n));
        }
        o.push_str("</ul>");
    }
    if !d.warnings.is_empty() {
        let _ = write!(
            o,
            "<details><summary>{} warnings met while reading</summary><ul>",
            d.warnings.len()
        );
        for w in d.warnings.iter().take(200) {
            let _ = write!(o, "<li>{}</li>", esc(w));
        }
        if d.warnings.len() > 200 {
            let _ = write!(
                o,
                "<li>… {} more (the JSON report lists them all)</li>",
                d.warnings.len() - 200
            );
        }
        o.push_str("</ul></details>");
    }
    o.push_str("</section>\n");
}

#[cfg(test)]
mod tests;
