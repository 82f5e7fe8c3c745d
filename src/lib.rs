//! hangdoc reads the evidence a hung Go service leaves — goroutine dumps in every format the
//! Go runtime writes, series of them, socket tables — and names the root cause, the victims
//! and the line to fix.
//!
//! The pipeline reads one way: [`parse`] turns bytes into the [`model`]; `diagnose` turns
//! snapshots into findings; `report` writes them. Nothing downstream knows a format.

pub mod cli;
pub mod model;
pub mod parse;
pub mod report;
