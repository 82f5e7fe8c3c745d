//! Reports: each writes to `&mut dyn Write` and knows nothing of input formats.

pub mod diagnosis_json;
pub mod diagnosis_markdown;
pub mod diagnosis_text;
pub mod style;
