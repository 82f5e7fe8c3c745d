//! Reading damaged evidence never panics: every fixture of the aggregated formats, cut,
//! with bytes changed, and with whitespace mangled, goes through the whole reading path.
//! (The fuzz targets under `fuzz/` do this at length; this keeps a cheap version in `cargo
//! test`.)

use std::path::Path;

use hangdoc::parse::{Options, parse_reader};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(d.len() + 1);
        match rng.below(6) {
            0 => d.truncate(at),
            1 if at < d.len() => d[at] = rng.next() as u8,
            2 => {
                const SPECIAL: &[u8] = b"\t \n\r:@#{}\"\\0x-+";
                d.insert(at, SPECIAL[rng.below(SPECIAL.len())]);
            }
            3 if at < d.len() => {
                let end = (at + rng.below(64)).min(d.len());
                d.drain(at..end);
            }
            4 if at < d.len() => {
                let end = (at + rng.below(256)).min(d.len());
                let chunk = d[at..end].to_vec();
                let to = rng.below(d.len() + 1);
                d.splice(to..to, chunk);
            }
            _ => {
                for b in d.iter_mut().filter(|b| **b == b'\t') {
                    *b = b' ';
                }
            }
        }
    }
    d
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for dir in ["debug1", "proto", "traces"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "md") {
                continue;
            }
            let mut bytes = std::fs::read(&p).expect("fixture");
            if p.extension().is_some_and(|x| x == "gz") {
                use std::io::Read;
                let mut raw = Vec::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_end(&mut raw)
                    .expect("gunzip");
                bytes = raw;
            }
            out.push((p.display().to_string(), bytes));
        }
    }
    out
}

#[test]
fn damaged_aggregated_profiles_never_panic() {
    let fx = fixtures();
    assert!(fx.len() >= 3, "fixtures present");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (name, data) in &fx {
        for i in 0..200 {
            let m = mutate(&mut rng, data);
            let r = std::panic::catch_unwind(|| {
                let _ = parse_reader(
                    Box::new(std::io::Cursor::new(m.clone())),
                    "m",
                    &Options::default(),
                );
            });
            assert!(r.is_ok(), "{name}: mutation {i} panicked");
        }
    }
}
