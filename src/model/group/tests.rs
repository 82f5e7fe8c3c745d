//! Hand-built snapshots: the parsers of each format are tested on real dumps elsewhere.

use super::*;
use crate::model::{Format, Goroutine, Record, SnapshotBuilder, Stack};

struct G<'a> {
    id: u64,
    frames: &'a [(&'a str, &'a str, u32)],
    state: &'a str,
    args: &'a [&'a str],
    minutes: Option<u32>,
    labels: &'a [(&'a str, &'a str)],
    creator: Option<&'a str>,
    flags: u8,
}

const HANDLER: &[(&str, &str, u32)] = &[
    ("sync.(*Mutex).Lock", "/go/src/sync/mutex.go", 81),
    ("main.handle", "/src/app/main.go", 30),
];
const WORKER: &[(&str, &str, u32)] = &[
    ("runtime.chanrecv1", "/go/src/runtime/chan.go", 442),
    ("main.worker", "/src/app/main.go", 50),
];

fn g(id: u64, frames: &'static [(&'static str, &'static str, u32)]) -> G<'static> {
    G {
        id,
        frames,
        state: "sync.Mutex.Lock",
        args: &[],
        minutes: None,
        labels: &[],
        creator: None,
        flags: 0,
    }
}

fn build(gs: &[G]) -> Snapshot {
    let mut b = SnapshotBuilder::new("t", Format::Traceback);
    for x in gs {
        let frames = x
            .frames
            .iter()
            .map(|(f, file, line)| b.frame(f, file, *line, false))
            .collect();
        let stack = b.stack(Stack {
            frames,
            elided: None,
        });
        let state = b.state_str(x.state);
        let args = if x.args.is_empty() {
            NONE
        } else {
            b.args(x.args)
        };
        let labels = b.labels(
            x.labels
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        );
        let creator = match x.creator {
            Some(c) => {
                let f = b.frame(c, "/src/app/main.go", 10, false);
                b.creator(f)
            }
            None => NONE,
        };
        b.snap().goroutines.push(Goroutine {
            id: x.id,
            parent: None,
            wait_minutes: x.minutes,
            stack,
            args,
            labels,
            creator,
            ancestors: NONE,
            state,
            flags: GFlags(x.flags),
        });
    }
    b.finish()
}

#[test]
fn largest_first_with_wait_range_and_ids() {
    let mut gs: Vec<G> = (1..=12)
        .map(|i| G {
            minutes: (i % 3 != 0).then_some(i as u32 * 10),
            ..g(i, HANDLER)
        })
        .collect();
    gs.push(G {
        state: "chan receive",
        minutes: Some(6274),
        ..g(100, WORKER)
    });
    let groups = group(&build(&gs), GroupLevel::Lines);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].count, 12);
    assert_eq!(&*groups[0].state.raw, "sync.Mutex.Lock");
    // Goroutines 3, 6, 9 and 12 printed no minutes: waited under one.
    assert_eq!(groups[0].wait_minutes, Some((0, 110)));
    assert_eq!(groups[0].ids, vec![1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(groups[1].count, 1);
    assert_eq!(groups[1].wait_minutes, Some((6274, 6274)));
}

#[test]
fn no_minutes_anywhere_is_none() {
    let groups = group(&build(&[g(1, HANDLER), g(2, HANDLER)]), GroupLevel::Lines);
    assert_eq!(groups[0].wait_minutes, None);
}

#[test]
fn equal_counts_order_by_wait_then_stack() {
    let gs = [
        G {
            minutes: Some(5),
            ..g(1, HANDLER)
        },
        G {
            state: "chan receive",
            minutes: Some(9),
            ..g(2, WORKER)
        },
    ];
    let groups = group(&build(&gs), GroupLevel::Lines);
    assert_eq!(&*groups[0].state.raw, "chan receive");
    let gs = [
        g(1, HANDLER),
        G {
            state: "chan receive",
            ..g(2, WORKER)
        },
    ];
    let groups = group(&build(&gs), GroupLevel::Lines);
    assert!(groups[0].stack < groups[1].stack);
}

#[test]
fn state_splits_groups() {
    let gs = [
        g(1, HANDLER),
        G {
            state: "semacquire",
            ..g(2, HANDLER)
        },
    ];
    assert_eq!(group(&build(&gs), GroupLevel::Lines).len(), 2);
}

#[test]
fn levels_differ_on_arguments() {
    // Two goroutines on the same mutex address, one on another, one with a different length.
    let gs = [
        G {
            args: &["0xc000771900", "0x2662aec86020, 0x3"],
            ..g(1, HANDLER)
        },
        G {
            args: &["0xc000771900", "0x2662aec86020, 0x3"],
            ..g(2, HANDLER)
        },
        G {
            args: &["0xc000aa0000", "0x1000e71301e0, 0x3"],
            ..g(3, HANDLER)
        },
        G {
            args: &["0xc000aa0000", "0x1000e71301e0, 0x4"],
            ..g(4, HANDLER)
        },
    ];
    let snap = build(&gs);
    let counts = |level| -> Vec<u64> { group(&snap, level).iter().map(|g| g.count).collect() };
    assert_eq!(counts(GroupLevel::Exact), vec![2, 1, 1]);
    assert_eq!(counts(GroupLevel::Pointers), vec![3, 1]);
    assert_eq!(counts(GroupLevel::Lines), vec![4]);
}

#[test]
fn lines_merges_stacks_that_differ_only_in_inlining() {
    let mut b = SnapshotBuilder::new("t", Format::Traceback);
    let state = b.state_str("select");
    for (id, inlined) in [(1, false), (2, true)] {
        let frames = vec![b.frame("main.loop", "/src/app/main.go", 7, inlined)];
        let stack = b.stack(Stack {
            frames,
            elided: None,
        });
        b.snap().goroutines.push(Goroutine {
            id,
            parent: None,
            wait_minutes: None,
            stack,
            args: NONE,
            labels: 0,
            creator: NONE,
            ancestors: NONE,
            state,
            flags: GFlags::default(),
        });
    }
    let snap = b.finish();
    assert_eq!(snap.stacks.len(), 2);
    assert_eq!(group(&snap, GroupLevel::Lines).len(), 1);
    assert_eq!(group(&snap, GroupLevel::Exact).len(), 2);
}

#[test]
fn labels_creator_and_flags() {
    let gs = [
        G {
            labels: &[("route", "/a")],
            creator: Some("main.serve"),
            flags: GFlags::LOCKED,
            ..g(1, HANDLER)
        },
        G {
            labels: &[("route", "/b")],
            creator: Some("main.serve"),
            ..g(2, HANDLER)
        },
        G {
            labels: &[("route", "/b")],
            creator: Some("main.other"),
            flags: GFlags::LEAKED,
            ..g(3, HANDLER)
        },
        g(4, HANDLER),
    ];
    let snap = build(&gs);
    let groups = group(&snap, GroupLevel::Lines);
    let gr = &groups[0];
    let labels: Vec<(String, u64)> = gr
        .labels
        .iter()
        .map(|(id, n)| (snap.labels(*id)[0].1.to_string(), *n))
        .collect();
    assert_eq!(labels, vec![("/b".to_string(), 2), ("/a".to_string(), 1)]);
    let creator = &snap.creators[gr.creator.unwrap() as usize];
    assert_eq!(&*creator.function, "main.serve");
    assert_eq!((gr.locked, gr.leaked), (1, 1));
}

#[test]
fn records_add_counts_and_clamp_negative() {
    let mut b = SnapshotBuilder::new("t", Format::Debug1);
    let f = b.frame("main.worker", "/src/app/main.go", 50, false);
    let s1 = b.stack(Stack {
        frames: vec![f.clone()],
        elided: None,
    });
    let f2 = b.frame("main.other", "/src/app/main.go", 60, false);
    let s2 = b.stack(Stack {
        frames: vec![f2],
        elided: None,
    });
    let l = b.labels(vec![("k".into(), "v".into())]);
    for (stack, count, labels) in [(s1, 1000, 0), (s1, 300, l), (s2, -5, 0), (s2, 7, 0)] {
        b.snap().records.push(Record {
            stack,
            count,
            labels,
        });
    }
    let snap = b.finish();
    let groups = group(&snap, GroupLevel::Lines);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].count, 1300);
    assert_eq!(groups[0].state, State::unknown());
    assert_eq!(groups[0].labels, vec![(l, 300)]);
    assert!(groups[0].ids.is_empty() && groups[0].wait_minutes.is_none());
    assert_eq!(groups[1].count, 7);
}

#[test]
fn masks_only_large_hex_words() {
    let mut out = String::new();
    mask_addresses("{0x2662aec86020?, 0x10}, 0xffff, 0x10000, _, ...", &mut out);
    assert_eq!(out, "{P?, 0x10}, 0xffff, P, _, ...");
}

#[test]
fn a_million_goroutines_group_quickly() {
    let mut b = SnapshotBuilder::new("t", Format::Traceback);
    let state = b.state_str("semacquire");
    let stacks: Vec<StackId> = (0..100)
        .map(|i| {
            let frames = vec![b.frame("main.f", "/src/app/main.go", i, false)];
            b.stack(Stack {
                frames,
                elided: None,
            })
        })
        .collect();
    let l = b.labels(vec![("k".into(), "v".into())]);
    for id in 0..1_000_000u64 {
        b.snap().goroutines.push(Goroutine {
            id,
            parent: None,
            wait_minutes: Some((id % 50) as u32),
            stack: stacks[(id % 100) as usize],
            args: NONE,
            labels: if id % 2 == 0 { l } else { 0 },
            creator: NONE,
            ancestors: NONE,
            state,
            flags: GFlags::default(),
        });
    }
    let snap = b.finish();
    let t = std::time::Instant::now();
    let groups = group(&snap, GroupLevel::Lines);
    let took = t.elapsed();
    assert_eq!(groups.len(), 100);
    assert!(
        groups
            .iter()
            .all(|g| g.count == 10_000 && g.ids.len() == MAX_IDS)
    );
    // Generous for an unoptimised build on a shared machine.
    assert!(took.as_secs() < 5, "{took:?}");
}
