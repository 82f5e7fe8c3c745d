//! Placeholder until the sockets parser lands: claims nothing.

use std::io::BufRead;

use super::{Options, ParseError};
use crate::model::Snapshot;

/// Never claims an input yet.
pub fn sniff(_head: &[u8]) -> Option<bool> {
    Some(false)
}

/// Not implemented yet.
pub fn parse(
    _input: Box<dyn BufRead + Send>,
    source: &str,
    _opts: &Options,
) -> Result<Snapshot, ParseError> {
    Err(ParseError::Malformed {
        source_name: source.into(),
        line: 0,
        message: "sockets parser not implemented yet".into(),
    })
}
