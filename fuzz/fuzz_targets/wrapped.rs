//! Reading a dump wrapped in other text never panics (seeded with traceback inputs): the
//! input is read as it is, then wrapped each way hangdoc unwraps (an indent, a log prefix,
//! an escaped log field) and read again, so that the unwrapping sees dump-like text.
#![no_main]

use hangdoc::parse::{Options, parse_reader};
use libfuzzer_sys::fuzz_target;

fn read(data: Vec<u8>) {
    let _ = parse_reader(Box::new(std::io::Cursor::new(data)), "fuzz", &Options::default());
}

fuzz_target!(|data: &[u8]| {
    read(data.to_vec());
    let lines = || data.split(|&b| b == b'\n');
    let prefixed = |p: &[u8]| -> Vec<u8> {
        lines()
            .flat_map(|l| [p, l, b"\n"].concat())
            .collect()
    };
    read(prefixed(b"  "));
    read(prefixed(b"> "));
    read(prefixed(b"Jul 08 11:45:46 host app[42]: "));
    let mut escaped = b"time=\"x\" level=info msg=\"".to_vec();
    for l in lines() {
        for &b in l {
            match b {
                b'\t' => escaped.extend_from_slice(b"\\t"),
                b'"' => escaped.extend_from_slice(b"\\\""),
                b'\\' => escaped.extend_from_slice(b"\\\\"),
                b => escaped.push(b),
            }
        }
        escaped.extend_from_slice(b"\\n");
    }
    escaped.extend_from_slice(b"\"\n");
    read(escaped);
});
