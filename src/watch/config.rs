//! What to watch and how: the `--config` TOML file, command-line overrides, and the
//! resolved settings per target. A flag given on the command line wins over the file; a
//! target's own table in the file wins over the file's defaults.
//!
//! ```toml
//! store = "/var/lib/hangdoc"
//! poll = "15s"
//! cooldown = "10m"
//! metrics = "127.0.0.1:9464"
//!
//! [thresholds]                 # every target
//! group_min = 5
//! group_for = "60s"
//!
//! [[target]]
//! name = "api"
//! url = "http://127.0.0.1:6060/debug/pprof/"
//! poll = "5s"
//! [target.thresholds]          # this target only
//! min_extra = 500
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::signature::Thresholds;
use crate::capture::Target;
use crate::units::parse_duration;

/// The file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The store directory.
    pub store: Option<PathBuf>,
    /// Time between polls.
    pub poll: Option<String>,
    /// Quiet time after an incident.
    pub cooldown: Option<String>,
    /// `/metrics` address.
    pub metrics: Option<String>,
    /// Read each target's socket table for CLOSE_WAIT (default true).
    pub sockets: Option<bool>,
    /// Go source trees for every target's diagnoses (as `diagnose --src`).
    #[serde(default)]
    pub src: Vec<PathBuf>,
    /// Thresholds for every target.
    #[serde(default)]
    pub thresholds: ThresholdFile,
    /// The targets.
    #[serde(default, rename = "target")]
    pub targets: Vec<TargetFile>,
}

/// One `[[target]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// Short name (default `host:port`).
    pub name: Option<String>,
    /// The pprof base or goroutine endpoint.
    pub url: String,
    /// Time between polls.
    pub poll: Option<String>,
    /// Quiet time after an incident.
    pub cooldown: Option<String>,
    /// Read the socket table.
    pub sockets: Option<bool>,
    /// Go source trees of this target's service (added to the file-wide `src`).
    #[serde(default)]
    pub src: Vec<PathBuf>,
    /// This target's thresholds.
    #[serde(default)]
    pub thresholds: ThresholdFile,
}

/// Thresholds as written in the file or given as flags; unset fields fall through.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdFile {
    /// [`Thresholds::warmup`].
    pub warmup: Option<usize>,
    /// [`Thresholds::factor`].
    pub factor: Option<f64>,
    /// [`Thresholds::min_extra`].
    pub min_extra: Option<u64>,
    /// [`Thresholds::consecutive`].
    pub consecutive: Option<usize>,
    /// [`Thresholds::group_min`].
    pub group_min: Option<u64>,
    /// [`Thresholds::group_for`].
    pub group_for: Option<String>,
    /// [`Thresholds::close_wait_rise`].
    pub close_wait_rise: Option<u64>,
    /// [`Thresholds::close_wait_window`].
    pub close_wait_window: Option<String>,
}

impl ThresholdFile {
    /// `self` over `base`, field by field.
    fn apply(&self, mut t: Thresholds) -> Result<Thresholds, String> {
        if let Some(v) = self.warmup {
            t.warmup = v.max(1);
        }
        if let Some(v) = self.factor {
            if !(v.is_finite() && v >= 1.0) {
                return Err(format!("factor {v}: must be at least 1"));
            }
            t.factor = v;
        }
        if let Some(v) = self.min_extra {
            t.min_extra = v;
        }
        if let Some(v) = self.consecutive {
            t.consecutive = v.max(1);
        }
        if let Some(v) = self.group_min {
            t.group_min = v.max(1);
        }
        if let Some(v) = &self.group_for {
            t.group_for = duration("group_for", v)?;
        }
        if let Some(v) = self.close_wait_rise {
            t.close_wait_rise = v.max(1);
        }
        if let Some(v) = &self.close_wait_window {
            t.close_wait_window = duration("close_wait_window", v)?;
        }
        Ok(t)
    }
}

fn duration(what: &str, s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| format!("{what}: {e}"))
}

/// Command-line settings that override the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `TARGET...` (`URL` or `name=URL`).
    pub targets: Vec<String>,
    /// `--store`.
    pub store: Option<PathBuf>,
    /// `--poll`.
    pub poll: Option<Duration>,
    /// `--cooldown`.
    pub cooldown: Option<Duration>,
    /// `--metrics`.
    pub metrics: Option<String>,
    /// `--no-sockets`.
    pub no_sockets: bool,
    /// `--src`, for every target.
    pub src: Vec<PathBuf>,
    /// Threshold flags.
    pub thresholds: ThresholdFile,
}

/// One target, resolved.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    /// Its name in the store, logs and metrics.
    pub name: String,
    /// The URL as given.
    pub target: Target,
    /// Time between polls.
    pub poll: Duration,
    /// After an incident, no other for this long.
    pub cooldown: Duration,
    /// Read the socket table for CLOSE_WAIT.
    pub sockets: bool,
    /// When signatures fire.
    pub thresholds: Thresholds,
    /// Go source trees its diagnoses read (`diagnose --src`).
    pub src: Vec<PathBuf>,
}

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The store directory.
    pub store: PathBuf,
    /// `/metrics` address, when served.
    pub metrics: Option<String>,
    /// The targets.
    pub targets: Vec<TargetSpec>,
}

/// The default store directory.
pub const DEFAULT_STORE: &str = "hangdoc-watch";
/// The default time between polls.
pub const DEFAULT_POLL: Duration = Duration::from_secs(15);
/// The default quiet time after an incident.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(600);

/// Reads a config file.
pub fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Splits `name=URL`; a bare URL is named `host:port`.
pub fn split_target(arg: &str) -> Result<(Option<String>, String), String> {
    if crate::capture::is_url(arg) {
        return Ok((None, arg.to_string()));
    }
    match arg.split_once('=') {
        Some((name, url)) if !name.is_empty() && crate::capture::is_url(url) => {
            Ok((Some(name.to_string()), url.to_string()))
        }
        _ => Err(format!(
            "`{arg}` is not a target: give a URL (http://127.0.0.1:6060/debug/pprof/) or NAME=URL"
        )),
    }
}

/// `host:port`, the name of a target given without one.
pub fn default_name(t: &Target) -> String {
    if t.host.contains(':') {
        format!("[{}]:{}", t.host, t.port)
    } else {
        format!("{}:{}", t.host, t.port)
    }
}

/// Merges the file (if any) and the command line.
pub fn resolve(file: Option<FileConfig>, o: &Overrides) -> Result<Resolved, String> {
    let file = file.unwrap_or_default();
    let file_poll = file
        .poll
        .as_deref()
        .map(|s| duration("poll", s))
        .transpose()?;
    let file_cooldown = file
        .cooldown
        .as_deref()
        .map(|s| duration("cooldown", s))
        .transpose()?;
    let base_th = file.thresholds.apply(Thresholds::default())?;

    let mut raw: Vec<(Option<String>, String, Option<&TargetFile>)> = Vec::new();
    for t in &file.targets {
        raw.push((t.name.clone(), t.url.clone(), Some(t)));
    }
    for a in &o.targets {
        let (name, url) = split_target(a)?;
        raw.push((name, url, None));
    }
    if raw.is_empty() {
        return Err(
            "nothing to watch: give one or more URLs (http://127.0.0.1:6060/debug/pprof/), or --config FILE with [[target]] tables".into(),
        );
    }
    let mut targets = Vec::new();
    for (name, url, tf) in raw {
        let target = Target::parse(&url)?;
        let name = name.unwrap_or_else(|| default_name(&target));
        if targets.iter().any(|t: &TargetSpec| t.name == name) {
            return Err(format!(
                "two targets are named `{name}`: name them apart with NAME=URL"
            ));
        }
        let own_poll = tf
            .and_then(|t| t.poll.as_deref())
            .map(|s| duration("poll", s))
            .transpose()?;
        let own_cooldown = tf
            .and_then(|t| t.cooldown.as_deref())
            .map(|s| duration("cooldown", s))
            .transpose()?;
        let mut th = base_th.clone();
        if let Some(tf) = tf {
            th = tf
                .thresholds
                .apply(th)
                .map_err(|e| format!("target {name}: {e}"))?;
        }
        th = o.thresholds.apply(th)?;
        let poll = o
            .poll
            .or(own_poll)
            .or(file_poll)
            .unwrap_or(DEFAULT_POLL)
            .max(Duration::from_millis(100));
        let sockets = !o.no_sockets && tf.and_then(|t| t.sockets).or(file.sockets).unwrap_or(true);
        let src = o
            .src
            .iter()
            .chain(tf.map_or(&[][..], |t| &t.src[..]))
            .chain(&file.src)
            .cloned()
            .collect();
        targets.push(TargetSpec {
            name,
            target,
            poll,
            cooldown: o
                .cooldown
                .or(own_cooldown)
                .or(file_cooldown)
                .unwrap_or(DEFAULT_COOLDOWN),
            sockets,
            thresholds: th,
            src,
        });
    }
    Ok(Resolved {
        store: o
            .store
            .clone()
            .or(file.store)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE)),
        metrics: o.metrics.clone().or(file.metrics).map(|a| metrics_addr(&a)),
        targets,
    })
}

/// `9464` or `:9464` → `127.0.0.1:9464`: the metrics listen on loopback unless an address
/// is given.
pub fn metrics_addr(a: &str) -> String {
    let a = a.trim();
    if a.parse::<u16>().is_ok() {
        format!("127.0.0.1:{a}")
    } else if let Some(port) = a.strip_prefix(':') {
        format!("127.0.0.1:{port}")
    } else {
        a.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
store = "/tmp/s"
poll = "20s"
[thresholds]
group_min = 9
[[target]]
name = "api"
url = "http://127.0.0.1:6060/debug/pprof/"
poll = "5s"
[target.thresholds]
min_extra = 500
[[target]]
url = "http://10.0.0.2:7000/debug/pprof/"
"#;

    #[test]
    fn file_defaults_target_tables_and_flags_layer_in_that_order() {
        let f: FileConfig = toml::from_str(FILE).unwrap();
        let r = resolve(Some(f), &Overrides::default()).unwrap();
        assert_eq!(r.store, PathBuf::from("/tmp/s"));
        assert_eq!(r.targets[0].name, "api");
        assert_eq!(r.targets[0].poll, Duration::from_secs(5));
        assert_eq!(r.targets[0].thresholds.min_extra, 500);
        assert_eq!(r.targets[0].thresholds.group_min, 9);
        assert_eq!(r.targets[1].name, "10.0.0.2:7000");
        assert_eq!(r.targets[1].poll, Duration::from_secs(20));
        assert_eq!(r.targets[1].thresholds.min_extra, 100);

        let o = Overrides {
            poll: Some(Duration::from_secs(1)),
            store: Some("/x".into()),
            thresholds: ThresholdFile {
                group_min: Some(3),
                ..ThresholdFile::default()
            },
            targets: vec!["db=http://127.0.0.1:6061/".into()],
            ..Overrides::default()
        };
        let f: FileConfig = toml::from_str(FILE).unwrap();
        let r = resolve(Some(f), &o).unwrap();
        assert_eq!(r.store, PathBuf::from("/x"));
        assert!(r.targets.iter().all(|t| t.poll == Duration::from_secs(1)));
        assert!(r.targets.iter().all(|t| t.thresholds.group_min == 3));
        assert_eq!(r.targets[2].name, "db");
    }

    #[test]
    fn mistakes_are_refused_with_what_to_write() {
        let e = resolve(None, &Overrides::default()).unwrap_err();
        assert!(e.contains("nothing to watch"), "{e}");
        let dup = Overrides {
            targets: vec!["http://h:1/".into(), "http://h:1/debug/pprof/".into()],
            ..Overrides::default()
        };
        assert!(resolve(None, &dup).unwrap_err().contains("NAME=URL"));
        assert!(split_target("api").unwrap_err().contains("NAME=URL"));
        assert!(toml::from_str::<FileConfig>("pol = \"1s\"").is_err());
        assert_eq!(metrics_addr(":9464"), "127.0.0.1:9464");
        assert_eq!(metrics_addr("0.0.0.0:9464"), "0.0.0.0:9464");
    }
}
