//! Throughput of every other parser, and of the diagnosis, on inputs grown from real
//! fixtures: a debug=1 profile, `-traces` output and a socket table repeated to a few MB, a
//! protobuf profile with its samples repeated, and a captured scenario bundle.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hangdoc::parse::{Options, parse_reader};
use prost::Message;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel),
    )
    .expect("fixture")
}

/// Keeps the first `head` lines, then repeats the rest until the text reaches `size` bytes.
fn grow(text: &[u8], head: usize, size: usize) -> Vec<u8> {
    let split = text
        .split_inclusive(|&b| b == b'\n')
        .take(head)
        .map(<[u8]>::len)
        .sum::<usize>();
    let (h, body) = text.split_at(split);
    let mut out = h.to_vec();
    while out.len() < size {
        out.extend_from_slice(body);
        if !body.ends_with(b"\n\n") {
            out.push(b'\n');
        }
    }
    out
}

/// The protobuf profile with its samples repeated `times` times, gzipped again.
fn grow_proto(gz: &[u8], times: usize) -> Vec<u8> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut raw)
        .expect("gunzip");
    let mut p = hangdoc::parse::proto::pb::Profile::decode(&raw[..]).expect("profile");
    let samples = p.sample.clone();
    for _ in 1..times {
        p.sample.extend(samples.iter().cloned());
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&p.encode_to_vec()).expect("gzip");
    enc.finish().expect("gzip")
}

fn parse(c: &mut Criterion) {
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        (
            "debug1",
            grow(&fixture("debug1/go1.27.3-zoo.txt"), 1, 8 << 20),
        ),
        (
            "traces",
            grow(&fixture("traces/go1.27.3-zoo.txt"), 6, 8 << 20),
        ),
        (
            "proto",
            grow_proto(&fixture("proto/go1.27.3-zoo.pb.gz"), 2000),
        ),
        ("sockets", grow(&fixture("sockets/ss-tanp.txt"), 1, 8 << 20)),
    ];
    let mut g = c.benchmark_group("parse");
    g.sample_size(10);
    for (name, data) in &inputs {
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| {
                parse_reader(
                    Box::new(Cursor::new(data.clone())),
                    name,
                    &Options::default(),
                )
                .expect("parses")
            })
        });
    }
    g.finish();
}

fn diagnose(c: &mut Criterion) {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/redis-nested-pool");
    let snaps = hangdoc::parse::load(&[dir.to_string_lossy().into_owned()], &Options::default())
        .expect("bundle");
    let bytes: u64 = snaps
        .iter()
        .map(|s| std::fs::metadata(&s.source).map_or(0, |m| m.len()))
        .sum();
    let mut g = c.benchmark_group("diagnose");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("redis-nested-pool bundle", |b| {
        b.iter(|| hangdoc::diagnose::diagnose(&snaps, &Default::default()))
    });
    g.finish();
}

criterion_group!(benches, parse, diagnose);
criterion_main!(benches);
