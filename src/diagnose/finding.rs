//! Findings: what a detector concludes, in the shape of the `hangdoc.diagnosis/v1` contract.

use serde::Serialize;

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; not a hang by itself.
    Info,
    /// Likely a problem, or a hang in the making.
    Warning,
    /// The process (or a part of it) is stuck.
    Critical,
}

impl Severity {
    /// Parses `critical`, `warning` or `info`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "critical" => Some(Severity::Critical),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A frame named in a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameRef {
    /// The function exactly as the runtime prints it.
    pub function: String,
    /// The file as printed in the evidence.
    pub file: String,
    /// The line.
    pub line: u32,
}

/// A stack blocked because of the finding's cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Victim {
    /// The application frame where these goroutines block.
    pub function: String,
    /// Its file.
    pub file: String,
    /// Its line.
    pub line: u32,
    /// How many goroutines block there.
    pub goroutines: u64,
    /// The longest wait among them, in minutes, when printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_minutes: Option<u32>,
}

/// The object the finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// `mutex`, `rwmutex`, `once`, `channel`, `waitgroup`, `cond`, `pool`, `network`, `goroutines`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its address, when the evidence carries argument words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A human name (`redigo connection pool`, `channel sent to at log.go:87`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Source lines shown for a root frame (`--src`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceSnippet {
    /// The file on disk.
    pub path: String,
    /// The first line number of `lines`.
    pub first_line: u32,
    /// The line the finding points at.
    pub focus_line: u32,
    /// The lines.
    pub lines: Vec<String>,
    /// What the source analysis found there, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The stable kind identifier (see [`crate::diagnose::KINDS`]).
    pub kind: &'static str,
    /// How bad.
    pub severity: Severity,
    /// How sure, in [0, 1].
    pub confidence: f64,
    /// One sentence a person reads first.
    pub title: String,
    /// How many goroutines the finding explains.
    pub goroutines: u64,
    /// Where the bug is: what a developer opens to fix it.
    pub root: Vec<FrameRef>,
    /// The stacks blocked because of it.
    pub victims: Vec<Victim>,
    /// The object involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// The facts that led here, one sentence each.
    pub evidence: Vec<String>,
    /// What to do.
    pub advice: String,
    /// Source lines of the root frames (with `--src`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<SourceSnippet>,
}
