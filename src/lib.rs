//! hangdoc reads the evidence a hung Go service leaves — goroutine dumps in every format the
//! Go runtime writes, series of them, socket tables — and names the root cause, the victims
//! and the line to fix.
//!
//! The pipeline reads one way: [`parse`] turns bytes into the [`model`]; [`diagnose`] turns
//! snapshots into findings, consulting [`knowledge`] about libraries; [`report`] writes them.
//! Nothing downstream of `parse` knows a format.
//!
//! ```no_run
//! let snaps = hangdoc::parse::load(&["dump.txt".to_string()], &Default::default())?;
//! let d = hangdoc::diagnose::diagnose(&snaps, &Default::default());
//! for f in &d.findings {
//!     println!("{} {}: {}", f.severity.name(), f.kind, f.title);
//! }
//! # Ok::<(), hangdoc::parse::ParseError>(())
//! ```

pub mod capture;
pub mod cli;
pub mod diagnose;
pub mod knowledge;
pub mod model;
pub mod parse;
pub mod report;
pub mod units;
pub mod watch;
pub mod web;
