//! The aggregated-profile parsers on real output of `scenarios/formats-agg` (debug=1,
//! protobuf, `-traces`): the counts, labels and frames the program created must come back,
//! and the same profile read through different formats must agree.

use hangdoc::model::{Format, Snapshot};
use hangdoc::parse::{Options, parse_path};

const GO: &str = "go1.26";

fn load(dir: &str, name: &str) -> Snapshot {
    let path = format!(
        "{}/tests/fixtures/{dir}/agg-{GO}-{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    parse_path(&path, &Options::default()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// (count, labels as `k=v` joined by `,`, function names leaf first) per record.
fn records(s: &Snapshot) -> Vec<(i64, String, Vec<String>)> {
    s.records
        .iter()
        .map(|r| {
            let labels = s
                .labels(r.labels)
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            let funcs = s.stacks[r.stack as usize]
                .frames
                .iter()
                .map(|f| f.function.to_string())
                .collect();
            (r.count, labels, funcs)
        })
        .collect()
}

/// The record whose stack contains `func`.
fn with_func<'a>(
    recs: &'a [(i64, String, Vec<String>)],
    func: &str,
) -> &'a (i64, String, Vec<String>) {
    let found: Vec<_> = recs
        .iter()
        .filter(|r| r.2.iter().any(|f| f == func))
        .collect();
    assert_eq!(found.len(), 1, "records with {func}: {recs:#?}");
    found[0]
}

/// What the program started, by the function each group blocks in, with the names each
/// format prints for the generic ones.
fn expect_goroutine_profile(s: &Snapshot, box_name: &str, waitfn_name: &str) {
    let recs = records(s);
    assert_eq!(s.warnings, [], "{}", s.source);
    assert_eq!(with_func(&recs, "main.transient").0, 6);
    assert_eq!(with_func(&recs, "main.callsInlined").0, 5);
    assert_eq!(with_func(&recs, box_name).0, 4);
    let w = with_func(&recs, "main.waitRecv");
    assert_eq!((w.0, w.1.as_str()), (3, "handler=/api/v1,user id=a b\"c"));
    let l = with_func(&recs, "main.lockIt");
    assert_eq!((l.0, l.1.as_str()), (2, "worker=w1"));
    assert_eq!(with_func(&recs, "main.leakyWorker").0, 1);
    assert_eq!(with_func(&recs, waitfn_name).0, 1);
    assert_eq!(with_func(&recs, "main.main").0, 1, "the writer itself");
    assert_eq!(recs.len(), 8);
    assert_eq!(s.goroutine_count(), 23);
    assert!(
        recs.iter()
            .all(|r| r.2.iter().all(|f| f != "runtime.goexit")),
        "goexit is never a frame"
    );
}

fn frame<'a>(s: &'a Snapshot, func: &str) -> &'a hangdoc::model::Frame {
    s.stacks
        .iter()
        .flat_map(|st| st.frames.iter())
        .find(|f| &*f.function == func)
        .unwrap_or_else(|| panic!("no frame {func}"))
}

#[test]
fn debug1_goroutine_profile() {
    let s = load("debug1", "goroutine.txt");
    assert_eq!(s.format, Some(Format::Debug1));
    assert_eq!(s.declared_total, Some(23));
    expect_goroutine_profile(&s, "main.(*Box[...]).Wait", "main.WaitFn[...]");
    // debug=1 hides the leading runtime frames.
    let recs = records(&s);
    assert_eq!(with_func(&recs, "main.transient").2, ["main.transient"]);
    assert_eq!(
        with_func(&recs, "main.callsInlined").2,
        ["main.recvInline", "main.callsInlined"]
    );
    assert!(frame(&s, "main.recvInline").inlined);
    assert!(!frame(&s, "main.callsInlined").inlined);
    assert!(frame(&s, "sync.(*Mutex).Lock").inlined);
    assert!(!frame(&s, "internal/sync.(*Mutex).lockSlow").inlined);
    let f = frame(&s, "main.waitRecv");
    assert_eq!(
        (&*f.file, f.line),
        ("hangdoc.example/formats-agg/main.go", 40)
    );
}

#[test]
fn debug1_goroutineleak_profile() {
    let s = load("debug1", "goroutineleak.txt");
    assert_eq!(s.format, Some(Format::LeakDebug1));
    assert_eq!(s.declared_total, Some(6));
    let recs = records(&s);
    assert_eq!(with_func(&recs, "main.leakyWorker").0, 1);
    assert_eq!(with_func(&recs, "main.(*Box[...]).Wait").0, 4);
    assert_eq!(recs.len(), 3);
    assert_eq!(s.warnings, []);
}

#[test]
fn proto_goroutine_profile() {
    let s = load("proto", "goroutine.pb.gz");
    assert_eq!(s.format, Some(Format::Proto));
    assert_eq!(s.declared_total, Some(23));
    assert!(s.preamble.is_empty());
    expect_goroutine_profile(
        &s,
        "main.(*Box[go.shape.struct { A int; B string }]).Wait",
        "main.WaitFn[go.shape.func(int) error]",
    );
    // The protobuf keeps the leading runtime frames.
    let recs = records(&s);
    assert_eq!(
        with_func(&recs, "main.transient").2,
        [
            "runtime.gopark",
            "runtime.chanrecv",
            "runtime.chanrecv1",
            "main.transient"
        ]
    );
    assert!(frame(&s, "main.recvInline").inlined);
    assert!(!frame(&s, "main.callsInlined").inlined);
    assert!(frame(&s, "sync.(*Mutex).Lock").inlined);
    let f = frame(&s, "main.recvInline");
    assert_eq!(
        (&*f.file, f.line),
        ("hangdoc.example/formats-agg/main.go", 34)
    );
    assert!(s.taken_at.is_some_and(|t| t > 1.6e9));
}

#[test]
fn proto_goroutineleak_profile() {
    let s = load("proto", "goroutineleak.pb.gz");
    assert_eq!(s.format, Some(Format::Proto));
    assert_eq!(s.preamble, ["profile type: goroutineleak"]);
    assert_eq!(s.declared_total, Some(6));
    assert_eq!(with_func(&records(&s), "main.leakyWorker").0, 1);
}

#[test]
fn proto_delta_profile_keeps_negative_counts() {
    let s = load("proto", "goroutine-delta.pb.gz");
    let recs = records(&s);
    assert_eq!(with_func(&recs, "main.transient").0, -6);
    let late = with_func(&recs, "main.waitRecv");
    assert_eq!((late.0, late.1.as_str()), (2, "phase=late"));
    assert_eq!(s.declared_total, None);
    assert!(s.goroutine_count() >= 2);
}

#[test]
fn traces_goroutine_profile_matches_the_protobuf() {
    let s = load("traces", "goroutine.txt");
    assert_eq!(s.format, Some(Format::Traces));
    // The report rewrites names that look like C++ templates: `(…)` groups are removed.
    expect_goroutine_profile(
        &s,
        "main.(*Box[go.shape.struct { A int; B string }]).Wait",
        "main.WaitFn[go.shape.func error]",
    );
    assert!(frame(&s, "main.recvInline").inlined);
    assert!(frame(&s, "runtime.goparkunlock").inlined);
    let p = load("proto", "goroutine.pb.gz");
    assert_eq!(
        s.taken_at,
        p.taken_at.map(f64::floor),
        "Time: is the profile's time, in seconds"
    );
    let rp = records(&p);
    for (i, r) in records(&s).iter().enumerate() {
        assert_eq!(
            (r.0, &r.1),
            (rp[i].0, &rp[i].1),
            "record {i} in profile order"
        );
    }
}

#[test]
fn traces_variants_agree_with_the_protobuf() {
    let p = load("proto", "goroutine.pb.gz");
    let lines = load("traces", "goroutine-lines.txt");
    let addrs = load("traces", "goroutine-addresses.txt");
    let raw = load("traces", "goroutine-rawnames.txt");
    for s in [&lines, &addrs, &raw] {
        assert_eq!(s.warnings, [], "{}", s.source);
        assert_eq!(s.records.len(), p.records.len());
    }
    for (i, rp) in p.records.iter().enumerate() {
        let fp = &p.stacks[rp.stack as usize].frames;
        let fl = &lines.stacks[lines.records[i].stack as usize].frames;
        let fa = &addrs.stacks[addrs.records[i].stack as usize].frames;
        let fr = &raw.stacks[raw.records[i].stack as usize].frames;
        let at = |f: &[hangdoc::model::Frame]| -> Vec<(String, u32, bool)> {
            f.iter()
                .map(|f| (f.file.to_string(), f.line, f.inlined))
                .collect()
        };
        assert_eq!(
            at(fl),
            at(fp),
            "-lines record {i}: files, lines, inline marks"
        );
        assert_eq!(at(fa), at(fp), "-addresses record {i}");
        let names = |f: &[hangdoc::model::Frame]| -> Vec<String> {
            f.iter().map(|f| f.function.to_string()).collect()
        };
        assert_eq!(names(fr), names(fp), "-symbolize=none keeps raw names");
        assert_eq!(names(fa), names(fl));
    }
}

#[test]
fn traces_delta_and_leak() {
    let d = load("traces", "goroutine-delta.txt");
    let recs = records(&d);
    assert_eq!(with_func(&recs, "main.transient").0, -6);
    assert_eq!(d.declared_total, None);
    let l = load("traces", "goroutineleak.txt");
    assert_eq!(l.preamble, ["profile type: goroutineleak"]);
    assert_eq!(l.goroutine_count(), 6);
}

#[test]
fn debug1_and_protobuf_agree_on_every_record() {
    let d = load("debug1", "goroutine.txt");
    let p = load("proto", "goroutine.pb.gz");
    // debug=1 frames are the protobuf's with the leading runtime frames removed; compare
    // the outermost frame's position, which both print.
    let key = |s: &Snapshot| -> Vec<(i64, String, String, u32)> {
        let mut v: Vec<_> = s
            .records
            .iter()
            .map(|r| {
                let f = s.stacks[r.stack as usize].frames.last().expect("frames");
                let labels = format!("{:?}", s.labels(r.labels));
                (r.count, labels, f.file.to_string(), f.line)
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&d), key(&p));
}

fn gunzipped(name: &str) -> Vec<u8> {
    use std::io::Read;
    let path = format!(
        "{}/tests/fixtures/proto/agg-{GO}-{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("fixture"))
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}

fn read_bytes(bytes: Vec<u8>) -> Result<Snapshot, hangdoc::parse::ParseError> {
    hangdoc::parse::parse_reader(
        Box::new(std::io::Cursor::new(bytes)),
        "cut.pb",
        &Options::default(),
    )
}

#[test]
fn r_uncompressed_profile_is_recognised() {
    let s = read_bytes(gunzipped("goroutine.pb.gz")).expect("parses");
    assert_eq!(s.format, Some(Format::Proto));
    assert_eq!(s.goroutine_count(), 23);
}

#[test]
fn r_profile_cut_short() {
    let full = gunzipped("goroutine.pb.gz");
    // The runtime writes the string table near the end: a profile cut in the middle cannot
    // name anything, and says so.
    let e = read_bytes(full[..full.len() / 2].to_vec())
        .expect_err("unusable")
        .to_string();
    assert!(
        e.starts_with("cut.pb:0: the pprof profile was cut short"),
        "{e}"
    );
    // Cut inside time_nanos, the last field: every sample is still read.
    let s = read_bytes(full[..full.len() - 2].to_vec()).expect("parses");
    assert_eq!(s.goroutine_count(), 23);
    assert!(s.warnings.iter().any(|w| w.message.contains("cut short")));
}
