//! `hangdoc capture URL...`, and the URL inputs of `diagnose` and `stacks`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result, bail};
use clap::Args;

use crate::capture::{self, Client, HttpOptions, Target, is_url, manifest};
use crate::model::Snapshot;
use crate::parse;
use crate::units::parse_duration;

/// How hangdoc talks to pprof endpoints (shared by every command that takes URLs).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Fetching URLs")]
pub struct HttpArgs {
    /// An HTTP header sent with every request, `'Name: value'` (e.g. `'Authorization: Bearer
    /// …'`); repeatable.
    #[arg(long = "header", value_name = "HEADER", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Deadline for each request, connect to last byte (`60s`, `2m`, `500ms`).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Deadline for connecting.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// How long the server may stay silent while answering.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub read_timeout: Duration,
    /// Further attempts after a refused or reset connection or a 502–504 reply.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,
    /// Accept any TLS certificate (self-signed, another name).
    #[arg(long)]
    pub insecure: bool,
}

impl HttpArgs {
    fn client(&self) -> Result<Client> {
        Client::new(HttpOptions {
            connect_timeout: self.connect_timeout.min(self.timeout),
            read_timeout: self.read_timeout.min(self.timeout),
            timeout: self.timeout,
            retries: self.retries,
            headers: self.headers.clone(),
            insecure: self.insecure,
            ..HttpOptions::default()
        })
        .map_err(anyhow::Error::msg)
    }
}

/// Reads `Name: value`.
pub fn parse_header(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!("`{s}` is not a header: write 'Name: value'")),
    }
}

/// Flags of `hangdoc capture`.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Live processes: a pprof base (`http://127.0.0.1:6060/debug/pprof/`), the goroutine
    /// endpoint under it, or another URL that serves a goroutine dump.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// The bundle directory (must not exist, or be empty); with several URLs, the directory
    /// that holds one bundle per target. Default: `hangdoc-bundle-<host>-<port>-<time>`.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// How many debug=2 snapshots to take (a series shows what is stuck and what grows).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub count: u32,
    /// Time between snapshots.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Do not ask for the goroutineleak profile (each request runs a garbage collection).
    #[arg(long)]
    pub no_leak: bool,
    /// Do not take the local socket table.
    #[arg(long)]
    pub no_sockets: bool,
    /// Talking to the endpoints.
    #[command(flatten)]
    pub http: HttpArgs,
}

/// Runs `capture`; prints each bundle's directory on standard output. Exit 2 when any
/// target gave no bundle.
pub fn run(a: &CaptureArgs) -> Result<i32> {
    let targets: Vec<Target> = a
        .urls
        .iter()
        .map(|u| Target::parse(u).map_err(anyhow::Error::msg))
        .collect::<Result<_>>()?;
    let client = a.http.client()?;
    let opts = capture::Options {
        http: client.options().clone(),
        count: a.count,
        interval: a.interval,
        leak: !a.no_leak,
        sockets: !a.no_sockets,
    };
    let stamp = manifest::compact(SystemTime::now());
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    let dirs: Vec<PathBuf> = targets
        .iter()
        .map(|t| {
            let n = seen.entry(t.slug()).or_default();
            *n += 1;
            let mut name = t.slug();
            if *n > 1 {
                name = format!("{name}-{n}");
            }
            match (&a.output, targets.len()) {
                (Some(o), 1) => o.clone(),
                (Some(o), _) => o.join(name),
                (None, _) => PathBuf::from(format!("hangdoc-bundle-{name}-{stamp}")),
            }
        })
        .collect();
    let show = std::io::stderr().is_terminal();
    let many = targets.len() > 1;
    // Several targets are captured at the same time, so that their snapshots line up.
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .zip(&dirs)
            .map(|(t, dir)| {
                let (client, opts) = (&client, &opts);
                scope.spawn(move || {
                    let slug = t.slug();
                    let mut progress = |msg: &str| {
                        if show {
                            if many {
                                eprintln!("[{slug}] {msg}");
                            } else {
                                eprintln!("{msg}");
                            }
                        }
                    };
                    capture::capture(t, dir, client, opts, &mut progress)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(capture::CaptureError::BadTarget(
                        "capture thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    let mut results: Vec<Result<_, _>> = results;
    if targets.len() == 1 && results[0].is_err() {
        if let Err(e) = results.remove(0) {
            return Err(e.into());
        }
    }
    let mut failed = 0;
    let mut out = std::io::stdout().lock();
    for ((t, dir), r) in targets.iter().zip(&dirs).zip(results) {
        match r {
            Ok(m) => {
                for e in &m.errors {
                    eprintln!("warning: {}: {e}", t.url);
                }
                for n in &m.notes {
                    if n.contains("cut") {
                        eprintln!("warning: {}: {n}", t.url);
                    }
                }
                let dumps = m
                    .files
                    .iter()
                    .filter(|f| f.path.starts_with("series/"))
                    .count();
                if show {
                    eprintln!(
                        "{}: {dumps} dump{} and {} other file{}; read it with `hangdoc diagnose {}`",
                        dir.display(),
                        if dumps == 1 { "" } else { "s" },
                        m.files.len() - dumps,
                        if m.files.len() - dumps == 1 { "" } else { "s" },
                        dir.display()
                    );
                }
                writeln!(out, "{}", dir.display())?;
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    out.flush()?;
    if failed == targets.len() {
        bail!("no evidence captured from any target");
    }
    Ok(if failed > 0 { 2 } else { 0 })
}

/// Reads evidence for `diagnose` and `stacks`: files, directories and `-` through
/// [`parse::load`]; http(s) URLs are fetched (`count` debug=2 dumps, `interval` apart) and
/// parsed from memory.
pub fn load_evidence(
    inputs: &[String],
    http: &HttpArgs,
    count: u32,
    interval: Duration,
    opts: &parse::Options,
) -> Result<Vec<Snapshot>> {
    let mut client = None;
    let mut out = Vec::new();
    for input in inputs {
        if !is_url(input) {
            out.extend(parse::load(std::slice::from_ref(input), opts)?);
            continue;
        }
        let target = Target::parse(input).map_err(anyhow::Error::msg)?;
        let client = match &mut client {
            Some(c) => c,
            None => client.insert(http.client()?),
        };
        if std::io::stderr().is_terminal() {
            eprintln!(
                "fetching {}{}",
                target.dump_url,
                if count > 1 {
                    format!(" ({count} times, {:.1} s apart)", interval.as_secs_f64())
                } else {
                    String::new()
                }
            );
        }
        let snaps = capture::fetch_snapshots(client, &target, count, interval, opts, &mut |w| {
            eprintln!("warning: {w}")
        })
        .with_context(|| format!("taking a goroutine dump from {input}"))?;
        out.extend(snaps);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_split_at_the_first_colon() {
        assert_eq!(
            parse_header("Authorization: Basic a:b"),
            Ok(("Authorization".into(), "Basic a:b".into()))
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": v").is_err());
    }
}
