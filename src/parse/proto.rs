//! The pprof protobuf goroutine profile (debug=0, `goroutine` or `goroutineleak`),
//! already gunzipped by the caller.
//!
//! Each sample becomes one [`Record`]: its locations run leaf first, and each location's
//! lines are an inline expansion, innermost first, so all but a location's last line are
//! inlined frames. Delta profiles (`?seconds=N`) carry negative and zero counts; they are
//! kept as they are.

use std::io::{BufRead, Read};

use ahash::AHashMap;
use prost::Message;

use super::{Options, ParseError};
use crate::model::{Format, Frame, Record, Snapshot, SnapshotBuilder, Stack, State, Warning};

/// The generated pprof profile types (`proto/profile.proto`).
#[allow(missing_docs, clippy::all)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/perftools.profiles.rs"));
}

/// Frames kept per stack: the runtime records at most 1024 locations, each a short inline
/// expansion, so deeper stacks are hand-made and only cost memory.
const MAX_FRAMES: usize = 8192;

/// Wire types (`0` varint, `1` 64-bit, `2` length-delimited, `5` 32-bit) that each top-level
/// `Profile` field may use; `None` for unknown field numbers.
fn profile_wire_types(field: u64) -> Option<&'static [u8]> {
    match field {
        1..=6 | 11 => Some(&[2]),
        13 => Some(&[0, 2]),
        7..=10 | 12 | 14 | 15 => Some(&[0]),
        _ => None,
    }
}

fn varint(buf: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// How one top-level field at the start of `buf` ends.
enum Field {
    /// A well-formed field of this many bytes.
    Whole(usize),
    /// The buffer ends inside the field.
    Cut,
    /// Not a `Profile` field.
    Bad,
}

fn profile_field(buf: &[u8]) -> (Field, u64) {
    let Some((tag, n)) = varint(buf) else {
        return (
            if buf.len() < 10 {
                Field::Cut
            } else {
                Field::Bad
            },
            0,
        );
    };
    let (field, wt) = (tag >> 3, (tag & 7) as u8);
    match profile_wire_types(field) {
        Some(ok) if ok.contains(&wt) => {}
        _ => return (Field::Bad, field),
    }
    let rest = &buf[n..];
    let body = match wt {
        0 => match varint(rest) {
            Some((_, m)) => m,
            None if rest.len() < 10 => return (Field::Cut, field),
            None => return (Field::Bad, field),
        },
        _ => match varint(rest) {
            Some((len, m)) => match usize::try_from(len).ok().and_then(|l| l.checked_add(m)) {
                Some(total) if total <= rest.len() => total,
                Some(_) => return (Field::Cut, field),
                None => return (Field::Bad, field),
            },
            None if rest.len() < 10 => return (Field::Cut, field),
            None => return (Field::Bad, field),
        },
    };
    (Field::Whole(n + body), field)
}

/// `Some(true)` when `head` is the start of a pprof `Profile` message: every top-level field
/// has a `Profile` field number and wire type, the value types decode, and a sample type
/// is among them. (The runtime writes `period_type` and `period` first, and interleaves
/// locations and functions, so field order proves nothing.)
pub fn sniff(head: &[u8]) -> Option<bool> {
    let mut pos = 0;
    let mut sample_type = false;
    while pos < head.len() {
        match profile_field(&head[pos..]) {
            (Field::Whole(n), field) => {
                if (field == 1 || field == 11) && !is_value_type(value_of(&head[pos..pos + n])) {
                    return Some(false);
                }
                sample_type |= field == 1;
                pos += n;
            }
            // The head ends inside a field: of a larger input, or of a profile cut short
            // (which parse reads as far as it is whole).
            (Field::Cut, _) if sample_type => return Some(true),
            (Field::Cut, _) if head.len() >= super::HEAD_LEN => return None,
            (Field::Cut | Field::Bad, _) => return Some(false),
        }
    }
    Some(sample_type)
}

/// True when `buf` is a `ValueType`: only varint fields.
fn is_value_type(mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        let Some((tag, n)) = varint(buf) else {
            return false;
        };
        if tag & 7 != 0 || tag >> 3 == 0 {
            return false;
        }
        let Some((_, m)) = varint(&buf[n..]) else {
            return false;
        };
        buf = &buf[n + m..];
    }
    true
}

/// The payload of a length-delimited field whose whole encoding is `field`.
fn value_of(field: &[u8]) -> &[u8] {
    let Some((_, n)) = varint(field) else {
        return &[];
    };
    match varint(&field[n..]) {
        Some((_, m)) => &field[n + m..],
        None => &[],
    }
}

/// Reads a profile.
pub fn parse(
    mut input: Box<dyn BufRead + Send>,
    source: &str,
    opts: &Options,
) -> Result<Snapshot, ParseError> {
    let mut bytes = Vec::new();
    let mut warnings = Vec::new();
    if let Err(error) = input.read_to_end(&mut bytes) {
        if bytes.is_empty() {
            return Err(ParseError::Io {
                source_name: source.into(),
                error,
            });
        }
        warnings.push(Warning {
            line: None,
            message: format!(
                "reading stopped after {} bytes ({error}): the profile was probably cut short; what was complete is used",
                bytes.len()
            ),
        });
    }
    let whole = whole_fields_len(&bytes);
    if whole < bytes.len() {
        warnings.push(Warning {
            line: None,
            message: format!(
                "the profile ends inside a field after {} of {} bytes: it was cut short; what was complete is used",
                whole,
                bytes.len()
            ),
        });
    }
    let profile = pb::Profile::decode(&bytes[..whole]).map_err(|e| ParseError::Malformed {
        source_name: source.into(),
        line: 0,
        message: format!("not a readable pprof profile ({e})"),
    })?;
    let max_ref = max_string_ref(&profile);
    if !warnings.is_empty() && max_ref >= profile.string_table.len() as i64 {
        return Err(ParseError::Malformed {
            source_name: source.into(),
            line: 0,
            message: format!(
                "the pprof profile was cut short after {} bytes, before the end of its string table: functions and labels cannot be named; fetch it again",
                bytes.len()
            ),
        });
    }
    let mut snap = convert(&profile, source, opts)?;
    warnings.append(&mut snap.warnings);
    snap.warnings = warnings;
    Ok(snap)
}

/// The largest string table index the profile refers to for names, labels and types.
fn max_string_ref(p: &pb::Profile) -> i64 {
    let types = p.sample_type.iter().flat_map(|t| [t.r#type, t.unit]);
    let funcs = p
        .function
        .iter()
        .flat_map(|f| [f.name, f.system_name, f.filename]);
    let labels = p
        .sample
        .iter()
        .flat_map(|s| s.label.iter().flat_map(|l| [l.key, l.str, l.num_unit]));
    types.chain(funcs).chain(labels).max().unwrap_or(0)
}

/// The length of the leading run of well-formed top-level fields.
fn whole_fields_len(bytes: &[u8]) -> usize {
    let mut pos = 0;
    while pos < bytes.len() {
        match profile_field(&bytes[pos..]) {
            (Field::Whole(n), _) => pos += n,
            _ => break,
        }
    }
    pos
}

/// The string table, tolerating bad indices (they read as empty and are counted).
struct Strings<'a>(&'a [Vec<u8>], std::cell::Cell<u64>);

impl Strings<'_> {
    fn get(&self, i: i64) -> String {
        match usize::try_from(i).ok().and_then(|i| self.0.get(i)) {
            Some(s) => String::from_utf8_lossy(s).into_owned(),
            None => {
                self.1.set(self.1.get() + 1);
                String::new()
            }
        }
    }
}

fn convert(p: &pb::Profile, source: &str, opts: &Options) -> Result<Snapshot, ParseError> {
    let strings = Strings(&p.string_table, Default::default());
    let types: Vec<String> = p
        .sample_type
        .iter()
        .map(|t| strings.get(t.r#type))
        .collect();
    let Some(vi) = types
        .iter()
        .position(|t| t == "goroutine" || t == "goroutineleak")
    else {
        let found = match types.first() {
            Some(t) if !t.is_empty() => format!("a pprof profile of {t} samples"),
            _ if p.sample.is_empty() && p.location.is_empty() => {
                "a protobuf message that is not a pprof profile".into()
            }
            _ => "a pprof profile with no sample type".into(),
        };
        return Err(ParseError::NotEvidence {
            source_name: source.into(),
            found,
            expected: "a goroutine or goroutineleak profile (pprof debug=0)",
        });
    };
    let mut b = SnapshotBuilder::new(source, Format::Proto).with_args_budget(opts.args_budget);
    b.state(State::unknown());
    if types[vi] == "goroutineleak" {
        b.snap().preamble.push("profile type: goroutineleak".into());
    }
    if p.time_nanos > 0 {
        b.snap().taken_at = Some(p.time_nanos as f64 / 1e9);
    }

    let functions: AHashMap<u64, &pb::Function> = p.function.iter().map(|f| (f.id, f)).collect();
    let mut frames_of: AHashMap<u64, Vec<Frame>> = AHashMap::with_capacity(p.location.len());
    for loc in &p.location {
        let mut frames = Vec::with_capacity(loc.line.len().max(1));
        let last = loc.line.len().saturating_sub(1);
        for (i, line) in loc.line.iter().enumerate() {
            let (name, file) = match functions.get(&line.function_id) {
                Some(f) => {
                    let mut name = strings.get(f.name);
                    if name.is_empty() {
                        name = strings.get(f.system_name);
                    }
                    (name, strings.get(f.filename))
                }
                None => (String::new(), String::new()),
            };
            if name == "runtime.goexit" {
                continue;
            }
            let name = if name.is_empty() {
                format!("{:#x}", loc.address)
            } else {
                name
            };
            let lineno = u32::try_from(line.line.max(0)).unwrap_or(u32::MAX);
            frames.push(b.frame(&name, &file, lineno, i < last));
        }
        if loc.line.is_empty() {
            frames.push(b.frame(&format!("{:#x}", loc.address), "", 0, false));
        }
        frames_of.insert(loc.id, frames);
    }

    let mut missing_locations = 0u64;
    let mut cut_stacks = 0u64;
    let mut missing_values = 0u64;
    let mut sum: i64 = 0;
    for s in &p.sample {
        let mut frames = Vec::new();
        let mut dropped = 0usize;
        for id in &s.location_id {
            match frames_of.get(id) {
                Some(f) if frames.len() + f.len() <= MAX_FRAMES => frames.extend_from_slice(f),
                Some(f) => dropped += f.len(),
                None => missing_locations += 1,
            }
        }
        cut_stacks += u64::from(dropped > 0);
        let count = match s.value.get(vi) {
            Some(&v) => v,
            None => {
                missing_values += 1;
                0
            }
        };
        let mut labels = Vec::with_capacity(s.label.len());
        for l in &s.label {
            let value = if l.str != 0 {
                strings.get(l.str)
            } else {
                let unit = strings.get(l.num_unit);
                if unit.is_empty() {
                    l.num.to_string()
                } else {
                    format!("{}{unit}", l.num)
                }
            };
            labels.push((strings.get(l.key).into_boxed_str(), value.into_boxed_str()));
        }
        sum = sum.saturating_add(count);
        let stack = b.stack(Stack {
            frames,
            elided: (dropped > 0).then(|| u32::try_from(dropped).unwrap_or(u32::MAX)),
        });
        let labels = b.labels(labels);
        b.snap().records.push(Record {
            stack,
            count,
            labels,
        });
    }
    if missing_locations > 0 {
        b.snap().warnings.push(Warning {
            line: None,
            message: format!(
                "{missing_locations} frames refer to locations the profile does not define; they are left out"
            ),
        });
    }
    if cut_stacks > 0 {
        b.snap().warnings.push(Warning {
            line: None,
            message: format!(
                "{cut_stacks} stacks are deeper than {MAX_FRAMES} frames (the runtime records at most 1024); their outer frames are left out"
            ),
        });
    }
    if missing_values > 0 {
        b.snap().warnings.push(Warning {
            line: None,
            message: format!(
                "{missing_values} samples have no {} value; counted as 0",
                types[vi]
            ),
        });
    }
    if strings.1.get() > 0 {
        b.snap().warnings.push(Warning {
            line: None,
            message: format!(
                "{} names or labels refer past the end of the string table; they read as empty",
                strings.1.get()
            ),
        });
    }
    // A delta profile's counts are differences, not a population, so it declares no total.
    if p.duration_nanos == 0 {
        b.snap().declared_total = u64::try_from(sum).ok();
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built profile: one sample whose leaf location expands two inlined lines.
    fn sample_profile() -> pb::Profile {
        let st = |s: &str| s.as_bytes().to_vec();
        pb::Profile {
            sample_type: vec![pb::ValueType { r#type: 1, unit: 2 }],
            sample: vec![
                pb::Sample {
                    location_id: vec![10, 20, 30],
                    value: vec![3],
                    label: vec![pb::Label {
                        key: 6,
                        str: 7,
                        ..Default::default()
                    }],
                },
                pb::Sample {
                    location_id: vec![20],
                    value: vec![-1],
                    label: vec![],
                },
            ],
            location: vec![
                pb::Location {
                    id: 10,
                    address: 0x1000,
                    line: vec![
                        pb::Line {
                            function_id: 1,
                            line: 54,
                            column: 0,
                        },
                        pb::Line {
                            function_id: 2,
                            line: 57,
                            column: 0,
                        },
                    ],
                    ..Default::default()
                },
                pb::Location {
                    id: 20,
                    address: 0x2000,
                    line: vec![],
                    ..Default::default()
                },
                pb::Location {
                    id: 30,
                    address: 0x3000,
                    line: vec![pb::Line {
                        function_id: 3,
                        line: 1,
                        column: 0,
                    }],
                    ..Default::default()
                },
            ],
            function: vec![
                pb::Function {
                    id: 1,
                    name: 3,
                    system_name: 3,
                    filename: 5,
                    start_line: 50,
                },
                pb::Function {
                    id: 2,
                    name: 4,
                    system_name: 4,
                    filename: 5,
                    start_line: 50,
                },
                pb::Function {
                    id: 3,
                    name: 8,
                    system_name: 8,
                    filename: 5,
                    start_line: 0,
                },
            ],
            string_table: vec![
                st(""),
                st("goroutine"),
                st("count"),
                st("main.Wait[go.shape.struct { A int; B string }]"),
                st("main.caller"),
                st("/src/main.go"),
                st("user id"),
                st("a b\"c"),
                st("runtime.goexit"),
            ],
            time_nanos: 1_700_000_000_500_000_000,
            period: 1,
            ..Default::default()
        }
    }

    fn read(bytes: Vec<u8>) -> Result<Snapshot, ParseError> {
        parse(
            Box::new(std::io::Cursor::new(bytes)),
            "p.pb",
            &Options::default(),
        )
    }

    #[test]
    fn sniffs_profiles_and_rejects_text() {
        let bytes = sample_profile().encode_to_vec();
        assert_eq!(sniff(&bytes), Some(true));
        assert_eq!(sniff(b"goroutine profile: total 3\n"), Some(false));
        assert_eq!(sniff(b"\ngoroutine 1 [running]:\n"), Some(false));
        assert_eq!(sniff(b"\n\n\n"), Some(false));
        assert_eq!(sniff(b""), Some(false));
    }

    #[test]
    fn converts_inline_expansions_labels_and_counts() {
        let s = read(sample_profile().encode_to_vec()).expect("parses");
        assert_eq!(s.format, Some(Format::Proto));
        assert_eq!(s.records.len(), 2);
        let st = &s.stacks[s.records[0].stack as usize];
        let got: Vec<(&str, u32, bool)> = st
            .frames
            .iter()
            .map(|f| (&*f.function, f.line, f.inlined))
            .collect();
        assert_eq!(
            got,
            [
                ("main.Wait[go.shape.struct { A int; B string }]", 54, true),
                ("main.caller", 57, false),
                ("0x2000", 0, false),
            ],
            "goexit dropped, unsymbolized location named by address"
        );
        assert_eq!(s.records[0].count, 3);
        assert_eq!(s.records[1].count, -1);
        assert_eq!(
            s.labels(s.records[0].labels),
            &vec![("user id".into(), "a b\"c".into())]
        );
        assert_eq!(s.taken_at, Some(1_700_000_000.5));
        assert_eq!(s.goroutine_count(), 3);
        assert_eq!(s.declared_total, Some(2));
        assert!(s.preamble.is_empty());
    }

    #[test]
    fn leak_profile_is_named_in_the_preamble() {
        let mut p = sample_profile();
        p.string_table[1] = b"goroutineleak".to_vec();
        let s = read(p.encode_to_vec()).expect("parses");
        assert_eq!(s.preamble, ["profile type: goroutineleak"]);
    }

    #[test]
    fn other_profile_types_are_not_evidence() {
        let mut p = sample_profile();
        p.string_table[1] = b"alloc_space".to_vec();
        let e = read(p.encode_to_vec()).unwrap_err().to_string();
        assert!(
            e.starts_with("p.pb: a pprof profile of alloc_space samples"),
            "{e}"
        );
    }

    #[test]
    fn r_truncated_profile_keeps_whole_fields() {
        // Fields are written in field-number order, so a cut of 3 bytes ends inside
        // time_nanos: the samples still read, the time is lost.
        let bytes = sample_profile().encode_to_vec();
        let s = read(bytes[..bytes.len() - 3].to_vec()).expect("parses");
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.taken_at, None);
        assert!(s.warnings.iter().any(|w| w.message.contains("cut short")));
        let e = read(vec![0x0a, 0x05, 0x08]).unwrap_err().to_string();
        assert!(
            e.starts_with("p.pb:0: the pprof profile was cut short"),
            "{e}"
        );
    }

    #[test]
    fn r_absurdly_deep_stack_is_capped() {
        let mut p = sample_profile();
        p.sample[1].location_id = vec![30; MAX_FRAMES + 10];
        p.location[2].line[0].function_id = 2;
        let s = read(p.encode_to_vec()).expect("parses");
        let st = &s.stacks[s.records[1].stack as usize];
        assert_eq!(st.frames.len(), MAX_FRAMES);
        assert_eq!(st.elided, Some(10));
        assert!(s.warnings.iter().any(|w| w.message.contains("deeper than")));
    }

    #[test]
    fn r_invalid_utf8_label_does_not_reject_the_profile() {
        let mut p = sample_profile();
        p.string_table[7] = vec![b'a', 0xff, b'b'];
        let s = read(p.encode_to_vec()).expect("parses");
        assert_eq!(&*s.labels(s.records[0].labels)[0].1, "a\u{fffd}b");
    }
}
