//! Reports: each writes to `&mut dyn Write` and knows nothing of input formats.
//!
//! - [`stacks`]: the text listing of `hangdoc stacks`, and which groups it shows.
//! - [`stacks_json`]: the `hangdoc.stacks/v1` JSON document and its types.
//! - [`diagnosis_text`], [`diagnosis_json`], [`diagnosis_markdown`], [`diagnosis_html`]:
//!   `hangdoc diagnose`.
//! - [`paths`]: source paths shortened for reading; [`style`]: terminal colours.

pub mod diagnosis_html;
pub mod diagnosis_json;
pub mod diagnosis_markdown;
pub mod diagnosis_text;
pub mod paths;
pub mod stacks;
pub mod stacks_json;
pub mod style;
pub mod terminal;

#[cfg(test)]
mod tests;
