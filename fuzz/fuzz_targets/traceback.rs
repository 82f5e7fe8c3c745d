//! Reading arbitrary bytes never panics (seeded with traceback inputs): every parser is reached
//! through the one entry point, after gzip unwrapping and sniffing.
#![no_main]

use hangdoc::parse::{Options, parse_reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    let _ = parse_reader(input, "fuzz", &Options::default());
});
