//! `--format json`: the `hangdoc.diagnosis/v1` document.
//!
//! Fields: `schema`; `inputs` (each `source`, `format`, `goroutines`, and `sockets` for
//! socket tables); `goroutines` (in the snapshot diagnosed); `diagnosed` (index of that
//! input); `findings` (most important first; each `kind`, `severity`, `confidence`,
//! `title`, `goroutines`, `root` frames, `victims` with `goroutines` and `wait_minutes`,
//! `resource` {`type`, `address`, `name`}, `evidence`, `advice`, and `source` snippets with
//! `--src`); `notes`; `warnings` (problems met reading the inputs).

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnose::Diagnosis;

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    #[serde(flatten)]
    diagnosis: &'a Diagnosis,
}

/// Writes the document, pretty-printed, with a trailing newline.
pub fn write(out: &mut dyn Write, d: &Diagnosis) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &Doc {
            schema: "hangdoc.diagnosis/v1",
            diagnosis: d,
        },
    )?;
    writeln!(out)
}
