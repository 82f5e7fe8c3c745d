//! Diagnosing and reporting whatever a parser accepts never panics: arbitrary bytes are read
//! through the one entry point, diagnosed, and rendered in every report format.
#![no_main]

use hangdoc::diagnose::{Options as DiagOptions, diagnose};
use hangdoc::parse::{Options, parse_reader};
use hangdoc::report::{diagnosis_html, diagnosis_json, diagnosis_markdown, diagnosis_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    if let Ok(snap) = parse_reader(input, "fuzz", &Options::default()) {
        let snaps = [snap];
        let d = diagnose(&snaps, &DiagOptions::default());
        let mut out = Vec::new();
        let opts = diagnosis_text::TextOptions { style: Default::default(), width: 80, all: true };
        let _ = diagnosis_text::write(&mut out, &d, &opts);
        let _ = diagnosis_json::write(&mut out, &d);
        let _ = diagnosis_markdown::write(&mut out, &d, &snaps);
        let _ = diagnosis_html::write(&mut out, &d, &snaps);
    }
});
