//! `hangdoc diagnose EVIDENCE...`: flags and the run.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};

use crate::diagnose::{self, Severity};
use crate::parse;
use crate::report::{
    diagnosis_html, diagnosis_json, diagnosis_markdown, diagnosis_text,
    style::Style,
    terminal::{self, clean},
};

/// Output formats of `diagnose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnoseFormat {
    /// For a person at a terminal.
    Text,
    /// The `hangdoc.diagnosis/v1` document.
    Json,
    /// For an incident ticket.
    Markdown,
    /// One self-contained page: findings, wait-for graphs, stack groups, flame graph.
    Html,
}

/// Flags of `hangdoc diagnose`.
#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Evidence: goroutine dumps and profiles in any format, socket tables, directories of
    /// them (a `hangdoc capture` bundle), `-` for standard input, or the http(s) URL of a
    /// live process's pprof endpoint. Several dumps of one process are read as a series.
    #[arg(required = true, value_name = "EVIDENCE")]
    pub inputs: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiagnoseFormat::Text)]
    pub format: DiagnoseFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A source tree (module or GOPATH) to show the blamed lines from; repeatable.
    #[arg(long, value_name = "DIR")]
    pub src: Vec<PathBuf>,
    /// Exit 1 when a finding is at or above this severity (critical, warning, info).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Show every finding in full in the text report.
    #[arg(long)]
    pub all: bool,
    /// Colour the text report.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = super::ColorChoice::Auto)]
    pub color: super::ColorChoice,
    /// Never page: by default a report longer than the terminal goes through `$PAGER`
    /// (`less -FRX`).
    #[arg(long)]
    pub no_pager: bool,
    /// For URL inputs: take N debug=2 dumps, `--interval` apart, and read them as a series.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub count: u32,
    /// For URL inputs: time between dumps.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = crate::units::parse_duration)]
    pub interval: std::time::Duration,
    /// Talking to URL inputs.
    #[command(flatten)]
    pub http: super::capture::HttpArgs,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("`{s}` is not a severity: use critical, warning or info"))
}

/// Runs `diagnose`; returns the exit code.
pub fn run(a: &DiagnoseArgs) -> anyhow::Result<i32> {
    for s in &a.src {
        if !s.is_dir() {
            bail!(
                "--src {}: not a directory (give the root of the module or GOPATH tree)",
                s.display()
            );
        }
    }
    let snaps = super::capture::load_evidence(
        &a.inputs,
        &a.http,
        a.count,
        a.interval,
        &parse::Options::default(),
    )?;
    let d = diagnose::diagnose(&snaps, &diagnose::Options { src: a.src.clone() });
    for w in d.warnings.iter().take(10) {
        eprintln!("warning: {}", clean(w));
    }
    if d.warnings.len() > 10 {
        eprintln!("warning: … and {} more warnings", d.warnings.len() - 10);
    }
    let term = super::terminal_for(a.color, a.output.is_none());
    let mut buf: Vec<u8> = Vec::new();
    match a.format {
        DiagnoseFormat::Text => diagnosis_text::write(
            &mut buf,
            &d,
            &diagnosis_text::TextOptions {
                style: Style { color: term.color },
                width: term.width,
                all: a.all,
            },
        )?,
        DiagnoseFormat::Json => diagnosis_json::write(&mut buf, &d)?,
        DiagnoseFormat::Markdown => diagnosis_markdown::write(&mut buf, &d, &snaps)?,
        DiagnoseFormat::Html => diagnosis_html::write(&mut buf, &d, &snaps)?,
    }
    match &a.output {
        Some(p) => std::fs::write(p, &buf).with_context(|| format!("writing {}", p.display()))?,
        None => terminal::emit(&buf, term.rows, !a.no_pager)?,
    }
    let tripped = a
        .fail_on
        .is_some_and(|min| d.findings.iter().any(|f| f.severity >= min));
    // The process exits next: freeing millions of interned records one by one would only
    // delay the exit.
    std::mem::forget(snaps);
    Ok(if tripped { 1 } else { 0 })
}
