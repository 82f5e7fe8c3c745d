//! The watcher's structured log: one event per line on standard error, as `key=value` text
//! or as one JSON object, with a level that `-q`/`-v` move.

use std::io::Write;
use std::time::SystemTime;

/// How important an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Every poll.
    Debug,
    /// What changed: a target came up, an incident was stored or diagnosed.
    Info,
    /// Something to look at: a target down, a signature fired.
    Warn,
    /// The watcher could not do its job (the store failed, a capture failed).
    Error,
}

impl Level {
    /// The name printed.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `2025-01-02T03:04:05.678Z warn  target-down target=api reason="…"`.
    Text,
    /// `{"ts":"…","level":"warn","event":"target-down","target":"api","reason":"…"}`.
    Json,
}

/// Writes events at or above a level.
#[derive(Debug, Clone, Copy)]
pub struct Logger {
    /// The least important level written.
    pub min: Level,
    /// The line format.
    pub format: LogFormat,
}

/// A field value.
#[derive(Debug, Clone)]
pub enum Val {
    /// Text.
    S(String),
    /// A whole number.
    N(i64),
    /// A fraction.
    F(f64),
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::S(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::S(s)
    }
}
impl From<&String> for Val {
    fn from(s: &String) -> Val {
        Val::S(s.clone())
    }
}
impl From<i64> for Val {
    fn from(n: i64) -> Val {
        Val::N(n)
    }
}
impl From<u64> for Val {
    fn from(n: u64) -> Val {
        Val::N(n.min(i64::MAX as u64) as i64)
    }
}
impl From<usize> for Val {
    fn from(n: usize) -> Val {
        Val::N(n.min(i64::MAX as usize) as i64)
    }
}
impl From<f64> for Val {
    fn from(n: f64) -> Val {
        Val::F(n)
    }
}

impl Logger {
    /// Whether events at `level` are written.
    pub fn enabled(&self, level: Level) -> bool {
        level >= self.min
    }

    /// Writes one event with its fields (in order).
    pub fn event(&self, level: Level, event: &str, fields: &[(&str, Val)]) {
        if !self.enabled(level) {
            return;
        }
        let line = self.line(
            &crate::capture::manifest::rfc3339(SystemTime::now()),
            level,
            event,
            fields,
        );
        // One write per line: threads' events never interleave within a line.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn line(&self, ts: &str, level: Level, event: &str, fields: &[(&str, Val)]) -> String {
        match self.format {
            LogFormat::Json => {
                let mut m = serde_json::Map::new();
                m.insert("ts".into(), ts.into());
                m.insert("level".into(), level.name().into());
                m.insert("event".into(), event.into());
                for (k, v) in fields {
                    let v = match v {
                        Val::S(s) => serde_json::Value::from(s.as_str()),
                        Val::N(n) => serde_json::Value::from(*n),
                        Val::F(f) => serde_json::Value::from(*f),
                    };
                    m.insert((*k).into(), v);
                }
                let mut s = serde_json::Value::Object(m).to_string();
                s.push('\n');
                s
            }
            LogFormat::Text => {
                let mut s = format!("{ts} {:<5} {event}", level.name());
                for (k, v) in fields {
                    s.push(' ');
                    s.push_str(k);
                    s.push('=');
                    match v {
                        Val::S(t) => s.push_str(&quote(t)),
                        Val::N(n) => s.push_str(&n.to_string()),
                        Val::F(f) => s.push_str(&format!("{f:.3}")),
                    }
                }
                s.push('\n');
                s
            }
        }
    }
}

/// A text value as is when it is one plain word, else quoted with `"` and `\` escaped and
/// line breaks written as `\n`, so an event is always one line.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '=' && c != '\\');
    if plain {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_quote_values_with_spaces_and_stay_on_one_line() {
        let l = Logger {
            min: Level::Info,
            format: LogFormat::Text,
        };
        let s = l.line(
            "T",
            Level::Warn,
            "target-down",
            &[
                ("target", "api".into()),
                ("reason", "refused \"x\"\nnext".into()),
                ("n", 3u64.into()),
            ],
        );
        assert_eq!(
            s,
            "T warn  target-down target=api reason=\"refused \\\"x\\\"\\nnext\" n=3\n"
        );
    }

    #[test]
    fn json_lines_are_one_object_each() {
        let l = Logger {
            min: Level::Info,
            format: LogFormat::Json,
        };
        let s = l.line("T", Level::Info, "stored", &[("id", 4i64.into())]);
        assert_eq!(s.lines().count(), 1);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["event"], "stored");
        assert_eq!(v["id"], 4);
        assert!(!l.enabled(Level::Debug));
    }
}
