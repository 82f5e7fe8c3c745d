//! `hangdoc watch TARGET...`: flags, and turning them into [`crate::watch::run::Settings`].

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::capture::{self, HttpOptions};
use crate::units::{parse_duration, parse_size};
use crate::watch::config::{self, Overrides, ThresholdFile};
use crate::watch::log::{Level, LogFormat, Logger};
use crate::watch::run::{self, Settings};
use crate::watch::store::Retention;

/// Log line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    /// `TIME LEVEL EVENT key=value …`.
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags of `hangdoc watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Live processes: a pprof base (`http://127.0.0.1:6060/debug/pprof/`) or the goroutine
    /// endpoint under it, optionally named `NAME=URL` (default name: `host:port`).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// A TOML file of targets and settings (see docs/watch.md); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The history directory (database and bundles). Default: `./hangdoc-watch`.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Time between polls. Default: 15s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub poll: Option<Duration>,
    /// After an incident, no other for this long on the same target. Default: 10m.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub cooldown: Option<Duration>,
    /// Deadline of each poll, connect to last byte.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub poll_timeout: Duration,
    /// Largest profile a poll reads (`32M`); a bigger one is a failed poll.
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size)]
    pub max_bytes: u64,
    /// Do not read the socket table (no CLOSE_WAIT signature, none in incident bundles).
    #[arg(long)]
    pub no_sockets: bool,
    /// A Go source tree of the watched services (repeatable): diagnoses then show the
    /// blamed lines and the return that skips a release, as `diagnose --src` does.
    #[arg(long, value_name = "DIR")]
    pub src: Vec<PathBuf>,
    /// Serve Prometheus metrics at ADDR/metrics (`9464` or `:9464` listen on 127.0.0.1).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,

    /// Polls that teach the goroutine baseline before it is used. Default: 8.
    #[arg(long, value_name = "N", help_heading = "Signatures")]
    pub warmup: Option<usize>,
    /// Goroutines above baseline × F … Default: 2.
    #[arg(long, value_name = "F", help_heading = "Signatures")]
    pub baseline_factor: Option<f64>,
    /// … and above baseline + N. Default: 100.
    #[arg(long, value_name = "N", help_heading = "Signatures")]
    pub baseline_min_extra: Option<u64>,
    /// … for K consecutive polls. Default: 3.
    #[arg(long, value_name = "K", help_heading = "Signatures")]
    pub consecutive: Option<usize>,
    /// A blocked group: at least M goroutines on one stack waiting for a lock, WaitGroup,
    /// Cond, semaphore or pool … Default: 5.
    #[arg(long, value_name = "M", help_heading = "Signatures")]
    pub group_min: Option<u64>,
    /// … none leaving for this long. Default: 60s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Signatures")]
    pub group_for: Option<Duration>,
    /// CLOSE_WAIT sockets rising by at least X … Default: 20.
    #[arg(long, value_name = "X", help_heading = "Signatures")]
    pub close_wait_rise: Option<u64>,
    /// … within this window. Default: 2m.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Signatures")]
    pub close_wait_window: Option<Duration>,

    /// Debug=2 dumps an incident takes.
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Incidents", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub capture_count: u32,
    /// Time between them.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration, help_heading = "Incidents")]
    pub capture_interval: Duration,
    /// Keep samples this long.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration, help_heading = "Incidents")]
    pub keep_samples: Duration,
    /// Keep at most N incidents per target (the oldest go, with their bundles).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 50,
        help_heading = "Incidents"
    )]
    pub keep_incidents: usize,
    /// Keep at most this much bundle data in all (`2G`).
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = parse_size, help_heading = "Incidents")]
    pub keep_bytes: u64,
    /// Stop after N incidents have been captured and diagnosed.
    #[arg(long, value_name = "N", help_heading = "Incidents")]
    pub max_incidents: Option<usize>,
    /// Stop after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Incidents")]
    pub exit_after: Option<Duration>,

    /// Log line format on standard error.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Text, help_heading = "Logging")]
    pub log_format: LogFormatArg,
    /// Only warnings and errors.
    #[arg(short, long, conflicts_with = "verbose", help_heading = "Logging")]
    pub quiet: bool,
    /// Every poll too.
    #[arg(short, long, help_heading = "Logging")]
    pub verbose: bool,

    /// Talking to the endpoints when capturing (polls use --poll-timeout).
    #[command(flatten)]
    pub http: super::capture::HttpArgs,
}

/// Runs `watch` until a signal, `--exit-after` or `--max-incidents`.
pub fn run(a: &WatchArgs) -> Result<i32> {
    let file = a
        .config
        .as_deref()
        .map(config::read_file)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let o = Overrides {
        targets: a.targets.clone(),
        store: a.store.clone(),
        poll: a.poll,
        cooldown: a.cooldown,
        metrics: a.metrics.clone(),
        no_sockets: a.no_sockets,
        src: a.src.clone(),
        thresholds: ThresholdFile {
            warmup: a.warmup,
            factor: a.baseline_factor,
            min_extra: a.baseline_min_extra,
            consecutive: a.consecutive,
            group_min: a.group_min,
            group_for: a.group_for.map(secs),
            close_wait_rise: a.close_wait_rise,
            close_wait_window: a.close_wait_window.map(secs),
        },
    };
    let r = config::resolve(file, &o).map_err(anyhow::Error::msg)?;
    let h = &a.http;
    let base = HttpOptions {
        headers: h.headers.clone(),
        insecure: h.insecure,
        ..HttpOptions::default()
    };
    let poll_http = HttpOptions {
        connect_timeout: h.connect_timeout.min(a.poll_timeout),
        read_timeout: h.read_timeout.min(a.poll_timeout),
        timeout: a.poll_timeout,
        // A poll is retried by the next poll.
        retries: 0,
        max_bytes: a.max_bytes,
        ..base.clone()
    };
    let capture_http = HttpOptions {
        connect_timeout: h.connect_timeout.min(h.timeout),
        read_timeout: h.read_timeout.min(h.timeout),
        timeout: h.timeout,
        retries: h.retries,
        ..base
    };
    let settings = Settings {
        store: r.store,
        targets: r.targets,
        poll_http,
        capture: capture::Options {
            http: capture_http,
            count: a.capture_count,
            interval: a.capture_interval,
            leak: true,
            sockets: !a.no_sockets,
        },
        retention: Retention {
            samples: a.keep_samples,
            incidents_per_target: a.keep_incidents.max(1),
            bundle_bytes: a.keep_bytes,
        },
        metrics: r.metrics,
        log: Logger {
            min: if a.quiet {
                Level::Warn
            } else if a.verbose {
                Level::Debug
            } else {
                Level::Info
            },
            format: match a.log_format {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            },
        },
        max_incidents: a.max_incidents,
        exit_after: a.exit_after,
    };
    run::run(settings).map_err(anyhow::Error::msg)?;
    Ok(0)
}

fn secs(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}
