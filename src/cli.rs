//! The command line: clap types, and one function per subcommand that turns flags into
//! library calls. It lives in the library so that each subcommand can sit in its own file
//! under `src/cli/` and reach the whole crate; `src/main.rs` only calls [`run`].
//!
//! To add a subcommand: a variant of [`Command`] holding its `Args` struct, and an arm in
//! [`run`] calling its function.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use regex::Regex;

mod capture;
mod diagnose;
mod serve;
mod watch;

use crate::model::{Format, GroupLevel, Snapshot, group};
use crate::parse::Options;
use crate::report::stacks::{self as stacks_text, Filter, StacksInput, TextOptions};
use crate::report::stacks_json;
use crate::report::terminal::{self, ColorWhen, Terminal};

/// Tells why a Go service is stuck, from its goroutine dumps and socket tables.
#[derive(Debug, Parser)]
#[command(name = "hangdoc", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Name the root cause, the victims and the line to fix (the main job).
    Diagnose(diagnose::DiagnoseArgs),
    /// Take evidence from live processes over their pprof endpoints (goroutine dumps, a
    /// series of them, the socket table) into a bundle directory that `diagnose` reads.
    Capture(capture::CaptureArgs),
    /// Explain a finding kind: what it detects, why it hangs, an example, the fix.
    Explain(ExplainArgs),
    /// Poll live processes cheaply, and when one starts to hang, capture a bundle and
    /// diagnose it; keep the history in a store directory.
    Watch(Box<watch::WatchArgs>),
    /// List goroutines grouped by identical stack, largest group first, with states, counts
    /// and wait times.
    Stacks(StacksArgs),
    /// A read-only web UI over `watch` histories and bundles: targets, incidents, reports,
    /// snapshots compared.
    Serve(serve::ServeArgs),
}

/// Output formats of `stacks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StacksFormat {
    /// For people.
    Text,
    /// The `hangdoc.stacks/v1` document.
    Json,
}

/// How alike goroutines must be to share a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    /// Same function, file and line in every frame, and the same state.
    Lines,
    /// Also the same argument words, except those that look like addresses.
    Pointers,
    /// Also identical argument words.
    Exact,
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (`CLICOLOR_FORCE=1`: also when piped).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Flags of `hangdoc stacks`.
#[derive(Debug, Args)]
pub struct StacksArgs {
    /// Evidence: files, directories (every file in them), `-` for standard input, or the
    /// http(s) URL of a live process's pprof endpoint (a debug=2 dump is taken).
    #[arg(required = true, value_name = "EVIDENCE")]
    pub inputs: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StacksFormat::Text)]
    pub format: StacksFormat,
    /// How alike goroutines must be to share a group.
    #[arg(long = "group", value_enum, default_value_t = GroupBy::Lines)]
    pub group_by: GroupBy,
    /// Only groups whose state matches this regular expression (`'chan send'`, `IO wait`,
    /// `^semacquire$`).
    #[arg(long, value_name = "REGEX")]
    pub state: Option<String>,
    /// Only groups with a frame whose function or `file:line` matches this regular expression.
    #[arg(long = "match", value_name = "REGEX")]
    pub frame: Option<String>,
    /// Only groups of at least N goroutines.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_count: u64,
    /// Colour text output.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Never page: by default a listing longer than the terminal goes through `$PAGER`
    /// (`less -FRX`).
    #[arg(long)]
    pub no_pager: bool,
    /// Show every frame with its full path (text output).
    #[arg(long)]
    pub full: bool,
    /// Write to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<String>,
    /// Talking to URL inputs.
    #[command(flatten)]
    pub http: capture::HttpArgs,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Diagnose(args) => Ok(ExitCode::from(diagnose::run(&args)? as u8)),
        Command::Capture(args) => Ok(ExitCode::from(capture::run(&args)? as u8)),
        Command::Explain(args) => explain(args),
        Command::Watch(args) => Ok(ExitCode::from(watch::run(&args)? as u8)),
        Command::Stacks(args) => stacks(args),
        Command::Serve(args) => Ok(ExitCode::from(serve::run(&args)? as u8)),
    }
}

/// How text output looks, decided once for every command: colour (`--color`, `NO_COLOR`,
/// `CLICOLOR_FORCE`, a terminal or not), width (the terminal's, else `COLUMNS`, else 100)
/// and the terminal's height for paging. `to_stdout` is false with `-o FILE`.
fn terminal_for(color: ColorChoice, to_stdout: bool) -> Terminal {
    let when = match color {
        ColorChoice::Auto => ColorWhen::Auto,
        ColorChoice::Always => ColorWhen::Always,
        ColorChoice::Never => ColorWhen::Never,
    };
    Terminal::decide(when, &terminal::Env::detect(to_stdout))
}

/// Flags of `hangdoc explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A finding kind (`lock-cycle`, …); without one, all kinds are listed.
    pub kind: Option<String>,
}

fn explain(args: ExplainArgs) -> Result<ExitCode> {
    use crate::diagnose::{DETECTORS, by_kind};
    let mut out = io::stdout().lock();
    match args.kind {
        None => {
            for d in DETECTORS {
                writeln!(out, "{:<32} {}", d.kind(), d.summary())?;
            }
        }
        Some(k) => match by_kind(&k) {
            Some(d) => write!(out, "{}", d.doc())?,
            None => bail!(
                "`{k}` is not a finding kind; the kinds are: {}",
                DETECTORS
                    .iter()
                    .map(|d| d.kind())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn regex(flag: &str, pattern: &Option<String>) -> Result<Option<Regex>> {
    pattern
        .as_deref()
        .map(|p| {
            Regex::new(p)
                .with_context(|| format!("--{flag} `{p}` is not a valid regular expression"))
        })
        .transpose()
}

/// Prints a snapshot's warnings to standard error, at most ten of them.
fn print_warnings(snap: &Snapshot) {
    const SHOWN: usize = 10;
    let mut err = io::stderr().lock();
    for w in snap.warnings.iter().take(SHOWN) {
        let _ = match w.line {
            Some(line) => writeln!(
                err,
                "warning: {}:{line}: {}",
                terminal::clean(&snap.source),
                terminal::clean(&w.message)
            ),
            None => writeln!(
                err,
                "warning: {}: {}",
                terminal::clean(&snap.source),
                terminal::clean(&w.message)
            ),
        };
    }
    if snap.warnings.len() > SHOWN {
        let _ = writeln!(
            err,
            "warning: {}: {} more warnings (`--format json` lists them all)",
            snap.source,
            snap.warnings.len() - SHOWN
        );
    }
}

fn stacks(args: StacksArgs) -> Result<ExitCode> {
    let filter = Filter {
        state: regex("state", &args.state)?,
        frame: regex("match", &args.frame)?,
        min_count: args.min_count,
    };
    let level = match args.group_by {
        GroupBy::Lines => GroupLevel::Lines,
        GroupBy::Pointers => GroupLevel::Pointers,
        GroupBy::Exact => GroupLevel::Exact,
    };
    let snaps = capture::load_evidence(
        &args.inputs,
        &args.http,
        1,
        std::time::Duration::ZERO,
        &Options::default(),
    )?;
    snaps.iter().for_each(print_warnings);
    if snaps.is_empty() {
        bail!("no evidence found in {}", args.inputs.join(", "));
    }
    let no_goroutines = |s: &Snapshot| s.goroutines.is_empty() && s.records.is_empty();
    if snaps.iter().all(no_goroutines) {
        let s = &snaps[0];
        if s.format == Some(Format::Sockets) {
            bail!(
                "{}: a socket table ({} TCP sockets) holds no goroutines; `hangdoc stacks` lists goroutine dumps (give it a dump, or both)",
                s.source,
                s.sockets.len()
            );
        }
        bail!("{}: no goroutines found", s.source);
    }

    let inputs: Vec<StacksInput> = snaps
        .iter()
        .map(|snap| {
            let all = group(snap, level);
            let total_groups = all.len();
            let groups = all.into_iter().filter(|g| filter.keep(snap, g)).collect();
            StacksInput {
                snap,
                groups,
                total_groups,
            }
        })
        .collect();

    let term = terminal_for(args.color, args.output.is_none());
    let mut buf: Vec<u8> = Vec::new();
    match args.format {
        StacksFormat::Json => stacks_json::write_stacks(&mut buf, &inputs)?,
        StacksFormat::Text => stacks_text::write_stacks(
            &mut buf,
            &inputs,
            TextOptions {
                full: args.full,
                color: term.color,
            },
        )?,
    }
    match &args.output {
        Some(path) => {
            let mut f = BufWriter::new(
                File::create(path).with_context(|| format!("cannot create {path}"))?,
            );
            f.write_all(&buf)?;
            f.flush()?;
        }
        None => terminal::emit(&buf, term.rows, !args.no_pager)?,
    }
    // The process exits next: freeing millions of interned records one by one would only
    // delay the exit.
    std::mem::forget(snaps);
    Ok(ExitCode::SUCCESS)
}
