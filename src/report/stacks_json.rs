//! The `hangdoc.stacks/v1` JSON document written by `hangdoc stacks --format json`.
//!
//! ```json
//! {"schema": "hangdoc.stacks/v1",
//!  "inputs": [{"source": "dump.txt", "format": "goroutine-debug2", "goroutines": 16391,
//!              "groups": 12, "sockets": 0, "warnings": []}],
//!  "goroutines": 16391, "shown": 7978,
//!  "groups": [{"input": 0, "count": 7978, "state": "chan send", "wait_minutes": [3, 62],
//!              "frames": [{"function": "runtime.chansend1", "file": "…/chan.go", "line": 161}],
//!              "elided": null, "labels": [], "created_by": null, "ids": [18, 19],
//!              "locked": 0, "leaked": 0}]}
//! ```
//!
//! Several inputs are grouped separately (goroutines of two dumps never share a group): the
//! groups of all inputs are listed input by input, each carrying the index of its input in
//! `inputs`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::stacks::StacksInput;
use crate::model::{Frame, Warning};

/// The schema name, `hangdoc.stacks/v1`.
pub const STACKS_SCHEMA: &str = "hangdoc.stacks/v1";

/// The whole document.
#[derive(Debug, Serialize)]
pub struct StacksDoc {
    /// Always [`STACKS_SCHEMA`].
    pub schema: &'static str,
    /// The inputs, in the order given (directories expanded, files sorted by name).
    pub inputs: Vec<InputJson>,
    /// Goroutines the evidence describes, summed over the inputs, before any filter (for
    /// aggregated profiles, the sum of the counts).
    pub goroutines: u64,
    /// Goroutines in the listed groups (less than `goroutines` when filters were given).
    pub shown: u64,
    /// The groups, input by input; within an input, largest first, then longest wait.
    pub groups: Vec<GroupJson>,
}

/// One input.
#[derive(Debug, Serialize)]
pub struct InputJson {
    /// The input as named on the command line (or the file found in a named directory).
    pub source: String,
    /// The detected format (`goroutine-debug2`, `goroutine-debug1`, `pprof-proto`, `sockets`, …).
    pub format: Option<&'static str>,
    /// Goroutines it describes.
    pub goroutines: u64,
    /// Stack groups it has before filtering.
    pub groups: usize,
    /// TCP sockets, for socket tables (which hold no goroutines).
    pub sockets: usize,
    /// Problems met while reading it.
    pub warnings: Vec<Warning>,
}

/// One group of goroutines with the same stack and state.
#[derive(Debug, Serialize)]
pub struct GroupJson {
    /// Index into `inputs`.
    pub input: usize,
    /// How many goroutines.
    pub count: u64,
    /// The state as the runtime printed it (`chan receive`, `sync.Mutex.Lock`); `null` for
    /// formats that record none (debug=1, protobuf, `-traces`).
    pub state: Option<String>,
    /// `[fewest, most]` minutes waited, over members whose header printed minutes (0 when
    /// some members waited under a minute); `null` when none printed minutes.
    pub wait_minutes: Option<[u32; 2]>,
    /// The stack, innermost frame first.
    pub frames: Vec<FrameJson>,
    /// Frames the runtime left out of the stack: a count, 0 when it did not say how many,
    /// `null` when none.
    pub elided: Option<u32>,
    /// The most common label sets with how many members carry each.
    pub labels: Vec<LabelsJson>,
    /// The most common `created by` frame, if any.
    pub created_by: Option<FrameJson>,
    /// Ids of the first few members (at most 8), in dump order; empty for aggregated formats.
    pub ids: Vec<u64>,
    /// Members locked to their OS thread.
    pub locked: u64,
    /// Members marked `(leaked)` by the goroutine-leak detector.
    pub leaked: u64,
}

/// A frame.
#[derive(Debug, Serialize)]
pub struct FrameJson {
    /// The function exactly as the runtime prints it (`net/http.(*conn).serve`).
    pub function: String,
    /// The source file as printed; empty when the format has none.
    pub file: String,
    /// The line; 0 when unknown.
    pub line: u32,
}

/// A label set and how many goroutines of the group carry it.
#[derive(Debug, Serialize)]
pub struct LabelsJson {
    /// Label key → value.
    pub labels: BTreeMap<String, String>,
    /// Goroutines carrying exactly this set.
    pub count: u64,
}

impl From<&Frame> for FrameJson {
    fn from(f: &Frame) -> Self {
        FrameJson {
            function: f.function.to_string(),
            file: f.file.to_string(),
            line: f.line,
        }
    }
}

/// Builds the document for `inputs`.
pub fn stacks_doc(inputs: &[StacksInput]) -> StacksDoc {
    let mut groups = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let snap = input.snap;
        for g in &input.groups {
            let stack = snap.stacks.get(g.stack as usize);
            groups.push(GroupJson {
                input: i,
                count: g.count,
                state: (!g.state.raw.is_empty()).then(|| g.state.raw.to_string()),
                wait_minutes: g.wait_minutes.map(|(a, b)| [a, b]),
                frames: stack
                    .map(|s| s.frames.iter().map(FrameJson::from).collect())
                    .unwrap_or_default(),
                elided: stack.and_then(|s| s.elided),
                labels: g
                    .labels
                    .iter()
                    .map(|(id, n)| LabelsJson {
                        labels: snap
                            .labels(*id)
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                        count: *n,
                    })
                    .collect(),
                created_by: g
                    .creator
                    .and_then(|c| snap.creators.get(c as usize))
                    .map(FrameJson::from),
                ids: g.ids.clone(),
                locked: g.locked,
                leaked: g.leaked,
            });
        }
    }
    StacksDoc {
        schema: STACKS_SCHEMA,
        inputs: inputs
            .iter()
            .map(|i| InputJson {
                source: i.snap.source.clone(),
                format: i.snap.format.map(|f| f.name()),
                goroutines: i.snap.goroutine_count(),
                groups: i.total_groups,
                sockets: i.snap.sockets.len(),
                warnings: i.snap.warnings.clone(),
            })
            .collect(),
        goroutines: inputs.iter().map(|i| i.snap.goroutine_count()).sum(),
        shown: inputs.iter().map(StacksInput::shown_goroutines).sum(),
        groups,
    }
}

/// Writes the document as pretty JSON followed by a newline.
pub fn write_stacks(out: &mut dyn Write, inputs: &[StacksInput]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &stacks_doc(inputs))?;
    writeln!(out)
}
