//! The proto parser never panics: its sniffer and parser on arbitrary bytes, and the whole
//! reading path (gzip, sniffing, dispatch) on the same bytes.
#![no_main]

use hangdoc::parse::{Options, proto, parse_reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = proto::sniff(data);
    let opts = Options::default();
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    if let Ok(snap) = proto::parse(input, "fuzz", &opts) {
        // Every record points into the snapshot's own tables.
        for r in &snap.records {
            assert!((r.stack as usize) < snap.stacks.len());
            assert!((r.labels as usize) < snap.label_sets.len());
        }
        let _ = snap.goroutine_count();
    }
    let _ = parse_reader(Box::new(std::io::Cursor::new(data.to_vec())), "fuzz", &opts);
});
