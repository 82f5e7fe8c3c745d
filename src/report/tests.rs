//! Reports of hand-built snapshots (the parsers are tested on real dumps elsewhere).

use regex::Regex;

use super::paths::short_path;
use super::stacks::{Filter, StacksInput};
use super::{stacks, stacks_json as json};
use crate::model::{
    Format, GFlags, Goroutine, GroupLevel, NONE, Record, Snapshot, SnapshotBuilder, Stack, group,
};

/// Hand-built: 3 goroutines blocked on a mutex (two waited minutes), 1 in a channel send.
fn dump() -> Snapshot {
    let mut b = SnapshotBuilder::new("dump.txt", Format::Traceback);
    let lock = vec![
        b.frame(
            "sync.(*Mutex).Lock",
            "/usr/local/go/src/sync/mutex.go",
            81,
            false,
        ),
        b.frame("main.handle", "/src/app/main.go", 30, false),
    ];
    let lock = b.stack(Stack {
        frames: lock,
        elided: None,
    });
    let send = vec![
        b.frame("main.produce", "/src/app/main.go", 44, false),
        b.frame("main.main.func1", "/src/app/main.go", 12, false),
    ];
    let send = b.stack(Stack {
        frames: send,
        elided: Some(3),
    });
    let mutex = b.state_str("sync.Mutex.Lock");
    let chan = b.state_str("chan send");
    let route = b.labels(vec![("route".into(), "/api".into())]);
    let serve = b.frame("main.serve", "/src/app/main.go", 20, false);
    let serve = b.creator(serve);
    for (id, stack, state, minutes, labels) in [
        (7, lock, mutex, Some(6274), route),
        (8, lock, mutex, Some(6276), route),
        (9, lock, mutex, None, 0),
        (3, send, chan, None, 0),
    ] {
        b.snap().goroutines.push(Goroutine {
            id,
            parent: None,
            wait_minutes: minutes,
            stack,
            args: NONE,
            labels,
            creator: serve,
            ancestors: NONE,
            state,
            flags: GFlags::default(),
        });
    }
    b.finish()
}

fn input<'a>(snap: &'a Snapshot, filter: &Filter) -> StacksInput<'a> {
    let all = group(snap, GroupLevel::Lines);
    let total_groups = all.len();
    StacksInput {
        snap,
        groups: all.into_iter().filter(|g| filter.keep(snap, g)).collect(),
        total_groups,
    }
}

fn text(inputs: &[StacksInput], full: bool) -> String {
    let mut out = Vec::new();
    stacks::write_stacks(&mut out, inputs, stacks::TextOptions { full, color: false }).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn text_lists_groups_largest_first() {
    let snap = dump();
    let out = text(&[input(&snap, &Filter::default())], false);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "dump.txt: goroutine-debug2, 4 goroutines in 2 groups"
    );
    assert_eq!(
        lines[2],
        "3  sync.Mutex.Lock  [<1–6276 min]  {route=/api} ×2  created by main.serve  ids 7 8 9"
    );
    assert_eq!(
        lines[3],
        "  sync.(*Mutex).Lock  $GOROOT/src/sync/mutex.go:81"
    );
    assert_eq!(lines[4], "  main.handle         /src/app/main.go:30");
    assert_eq!(lines[6], "1  chan send  created by main.serve  id 3");
    assert_eq!(lines[9], "  …3 frames elided by the runtime");
    let full = text(&[input(&snap, &Filter::default())], true);
    assert!(
        full.contains("/usr/local/go/src/sync/mutex.go:81"),
        "{full}"
    );
}

#[test]
fn colour_only_when_asked() {
    let snap = dump();
    let mut out = Vec::new();
    let opts = stacks::TextOptions {
        full: false,
        color: true,
    };
    stacks::write_stacks(&mut out, &[input(&snap, &Filter::default())], opts).unwrap();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("\x1b[33mchan send\x1b[0m")
    );
    assert!(!text(&[input(&snap, &Filter::default())], false).contains('\x1b'));
}

#[test]
fn filters_by_state_frame_and_count() {
    let snap = dump();
    let f = |state: Option<&str>, frame: Option<&str>, min_count| Filter {
        state: state.map(|s| Regex::new(s).unwrap()),
        frame: frame.map(|s| Regex::new(s).unwrap()),
        min_count,
    };
    let counts = |filter: Filter| -> Vec<u64> {
        input(&snap, &filter)
            .groups
            .iter()
            .map(|g| g.count)
            .collect()
    };
    assert_eq!(counts(f(Some("chan send"), None, 0)), vec![1]);
    assert_eq!(counts(f(None, Some(r"main\.go:44$"), 0)), vec![1]);
    assert_eq!(counts(f(None, Some(r"^sync\."), 0)), vec![3]);
    assert_eq!(counts(f(None, None, 2)), vec![3]);
    assert_eq!(counts(f(Some("select"), None, 0)), Vec::<u64>::new());
    let out = text(&[input(&snap, &f(None, None, 2))], false);
    assert!(
        out.starts_with(
            "dump.txt: goroutine-debug2, 4 goroutines in 2 groups; showing 1 group (3 goroutines)"
        ),
        "{out}"
    );
}

#[test]
fn json_follows_the_schema() {
    let snap = dump();
    let mut agg = SnapshotBuilder::new("debug1.txt", Format::Debug1);
    let f = agg.frame("main.worker", "/src/app/w.go", 5, false);
    let s = agg.stack(Stack {
        frames: vec![f],
        elided: None,
    });
    agg.snap().records.push(Record {
        stack: s,
        count: 1000,
        labels: 0,
    });
    let agg = agg.finish();
    let mut out = Vec::new();
    json::write_stacks(
        &mut out,
        &[
            input(&snap, &Filter::default()),
            input(&agg, &Filter::default()),
        ],
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema"], "hangdoc.stacks/v1");
    assert_eq!(v["goroutines"], 1004);
    assert_eq!(v["inputs"][0]["format"], "goroutine-debug2");
    assert_eq!(v["inputs"][1]["goroutines"], 1000);
    let g = &v["groups"];
    assert_eq!(g.as_array().unwrap().len(), 3);
    assert_eq!(g[0]["input"], 0);
    assert_eq!(g[0]["count"], 3);
    assert_eq!(g[0]["state"], "sync.Mutex.Lock");
    assert_eq!(g[0]["wait_minutes"], serde_json::json!([0, 6276]));
    assert_eq!(
        g[0]["frames"][0],
        serde_json::json!({"function": "sync.(*Mutex).Lock", "file": "/usr/local/go/src/sync/mutex.go", "line": 81})
    );
    assert_eq!(
        g[0]["labels"],
        serde_json::json!([{"labels": {"route": "/api"}, "count": 2}])
    );
    assert_eq!(g[0]["created_by"]["function"], "main.serve");
    assert_eq!(g[0]["ids"], serde_json::json!([7, 8, 9]));
    assert_eq!(g[1]["wait_minutes"], serde_json::Value::Null);
    assert_eq!(g[1]["elided"], 3);
    assert_eq!(g[2]["input"], 1);
    assert_eq!(g[2]["count"], 1000);
    assert_eq!(g[2]["state"], serde_json::Value::Null);
    assert_eq!(g[2]["ids"], serde_json::json!([]));
}
#[test]
fn shortens_goroot_and_module_cache_only() {
    assert_eq!(
        short_path(
            "/usr/local/go/src/net/http/server.go",
            "net/http.(*conn).serve"
        ),
        "$GOROOT/src/net/http/server.go"
    );
    assert_eq!(
        short_path("C:/Program Files/Go/src/runtime/proc.go", "runtime.gopark"),
        "$GOROOT/src/runtime/proc.go"
    );
    assert_eq!(
        short_path(
            "/root/go/pkg/mod/github.com/gomodule/redigo@v1.8.9/redis/pool.go",
            "github.com/gomodule/redigo/redis.(*Pool).get"
        ),
        "$GOMODCACHE/github.com/gomodule/redigo@v1.8.9/redis/pool.go"
    );
    assert_eq!(
        short_path("/home/me/src/main/main.go", "main.main"),
        "/home/me/src/main/main.go"
    );
    assert_eq!(
        short_path("/src/example.com/app/x.go", "example.com/app.F"),
        "/src/example.com/app/x.go"
    );
}
