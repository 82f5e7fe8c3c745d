//! Reports: each writes to `&mut dyn Write` and knows nothing of input formats.
//!
//! - [`stacks`]: the text listing of `hangdoc stacks`, and which groups it shows.
//! - [`stacks_json`]: the `hangdoc.stacks/v1` JSON document and its types.
//! - [`paths`]: source paths shortened for reading.

pub mod paths;
pub mod stacks;
pub mod stacks_json;

#[cfg(test)]
mod tests;
