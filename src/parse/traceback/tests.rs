//! Tests of the traceback parser. Every dump below is a hand-written snippet in the runtime's
//! format (most abridged from real Go 1.26 output), unless it says otherwise.

use std::io::Cursor;

use super::*;
use crate::model::{Format, Frame, GFlags, Goroutine, NONE, WaitReason};

fn opts(threads: usize) -> Options {
    Options {
        threads,
        ..Options::default()
    }
}

fn parse_str(s: &str) -> Snapshot {
    parse(
        Box::new(Cursor::new(s.as_bytes().to_vec())),
        "t.txt",
        &opts(1),
    )
    .unwrap()
}

fn parse_err(s: &str) -> String {
    parse(
        Box::new(Cursor::new(s.as_bytes().to_vec())),
        "t.txt",
        &opts(1),
    )
    .unwrap_err()
    .to_string()
}

fn funcs(snap: &Snapshot, g: &Goroutine) -> Vec<String> {
    snap.stack(g)
        .frames
        .iter()
        .map(|f| f.function.to_string())
        .collect()
}

fn args(snap: &Snapshot, g: &Goroutine) -> Vec<String> {
    snap.args(g)
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect()
}

fn frame(f: &Frame) -> (&str, &str, u32, bool) {
    (&f.function, &f.file, f.line, f.inlined)
}

const MUTEX_DUMP: &str = "goroutine 1 [running]:
main.main()
\t/tmp/tbgo/main.go:42 +0x25c

goroutine 7 [sync.Mutex.Lock, 6274 minutes]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
\t/usr/local/go/src/runtime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0xc000771900)
\t/usr/local/go/src/internal/sync/mutex.go:149 +0x15d
internal/sync.(*Mutex).Lock(...)
\t/usr/local/go/src/internal/sync/mutex.go:70
sync.(*Mutex).Lock(...)
\t/usr/local/go/src/sync/mutex.go:46
main.main.func1()
\t/tmp/tbgo/main.go:30 +0x2d
created by main.main in goroutine 1
\t/tmp/tbgo/main.go:30 +0x6d

goroutine 8 [sync.Mutex.Lock, 6274 minutes]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
\t/usr/local/go/src/runtime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0xc000771900)
\t/usr/local/go/src/internal/sync/mutex.go:149 +0x15d
internal/sync.(*Mutex).Lock(...)
\t/usr/local/go/src/internal/sync/mutex.go:70
sync.(*Mutex).Lock(...)
\t/usr/local/go/src/sync/mutex.go:46
main.main.func1()
\t/tmp/tbgo/main.go:30 +0x2d
created by main.main in goroutine 1
\t/tmp/tbgo/main.go:30 +0x6d
";

#[test]
fn runtime_stack_dump_maps_to_the_model() {
    let s = parse_str(MUTEX_DUMP);
    assert_eq!(s.format, Some(Format::Traceback));
    assert_eq!(s.goroutines.len(), 3);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let ids: Vec<u64> = s.goroutines.iter().map(|g| g.id).collect();
    assert_eq!(ids, [1, 7, 8]);
    let (g1, g7, g8) = (&s.goroutines[0], &s.goroutines[1], &s.goroutines[2]);
    assert_eq!(s.state(g1).reason, WaitReason::Running);
    assert_eq!(g1.creator, NONE);
    assert_eq!(g1.parent, None);
    // Identical stacks share one entry; creators too.
    assert_eq!(g7.stack, g8.stack);
    assert_ne!(g1.stack, g7.stack);
    assert_eq!(s.stacks.len(), 2);
    assert_eq!(s.state(g7).reason, WaitReason::MutexLock);
    assert_eq!(&*s.state(g7).raw, "sync.Mutex.Lock");
    assert_eq!(g7.wait_minutes, Some(6274));
    assert_eq!(g7.parent, Some(1));
    let c = s.creator(g7).unwrap();
    assert_eq!(frame(c), ("main.main", "/tmp/tbgo/main.go", 30, false));
    let st = s.stack(g7);
    assert_eq!(st.frames.len(), 5);
    assert_eq!(
        frame(&st.frames[1]),
        (
            "internal/sync.(*Mutex).lockSlow",
            "/usr/local/go/src/internal/sync/mutex.go",
            149,
            false
        )
    );
    assert_eq!(
        frame(&st.frames[2]),
        (
            "internal/sync.(*Mutex).Lock",
            "/usr/local/go/src/internal/sync/mutex.go",
            70,
            true
        )
    );
    assert_eq!(st.elided, None);
    assert_eq!(
        args(&s, g7),
        ["0x0?, 0x0?, 0x0?", "0xc000771900", "...", "...", ""]
    );
    // Same argument words: one shared list.
    assert_eq!(g7.args, g8.args);
}

#[test]
fn r_chunk_splitting_and_threads_do_not_change_the_result() {
    // Many goroutines with varied arguments, parsed whole on one thread and in tiny chunks on
    // several threads: the snapshots must agree goroutine by goroutine.
    let mut dump = String::from("panic: boom\n\n");
    for i in 0..300 {
        let status = ["chan receive", "select", "IO wait"][i % 3];
        dump.push_str(&format!(
            "goroutine {} [{status}, {} minutes]:\nmain.worker{}(0xc{:09x}, {{0x1, 0x2}})\n\t/src/app/main.go:{} +0x1d\nmain.run(...)\n\t/src/app/main.go:9\ncreated by main.main in goroutine 1\n\t/src/app/main.go:20 +0x66\n\n",
            i + 10,
            i % 7 + 1,
            i % 5,
            i * 77,
            100 + i % 5
        ));
    }
    dump.push_str(
        "noise between\ngoroutine 999 [running]:\nmain.main()\n\t/src/app/main.go:3 +0x1\n",
    );
    let whole = parse_str(&dump);
    let input = Box::new(Cursor::new(dump.clone().into_bytes()));
    let split = parse_chunked(input, "t.txt", &opts(3), 256).unwrap();
    assert_eq!(whole.goroutines.len(), 301);
    assert_eq!(split.goroutines.len(), whole.goroutines.len());
    for (a, b) in whole.goroutines.iter().zip(&split.goroutines) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.wait_minutes, b.wait_minutes);
        assert_eq!(a.parent, b.parent);
        assert_eq!(whole.stack(a), split.stack(b));
        assert_eq!(whole.state(a), split.state(b));
        assert_eq!(whole.args(a), split.args(b));
        assert_eq!(whole.creator(a), split.creator(b));
    }
    assert_eq!(whole.stacks.len(), 6);
    assert_eq!(split.stacks.len(), 6);
    assert_eq!(split.preamble, ["panic: boom"]);
}

#[test]
fn r_input_in_memory_reads_like_streamed_input() {
    // The same dump read from memory in small chunks on several threads: the snapshot must
    // be the one read as a stream, and every byte range must be handed back exactly once.
    struct Ranges(std::sync::Mutex<Vec<(usize, usize)>>);
    impl Pages for Ranges {
        fn done(&self, start: usize, end: usize) {
            self.0.lock().unwrap().push((start, end));
        }
    }
    let mut dump = String::from("noise first\n");
    for i in 0..200 {
        dump.push_str(&format!(
            "goroutine {i} [select]:\nmain.f{}(0x{i:x})\n\t/src/a.go:{} +0x1\n\n",
            i % 3,
            i % 7
        ));
    }
    dump.push_str("goroutine 1000 [select]:\nmain.cut(");
    let streamed = parse_str(&dump);
    for threads in [1, 3] {
        let ranges = Ranges(std::sync::Mutex::new(Vec::new()));
        let mem =
            parse_bytes_chunked(dump.as_bytes(), "t.txt", &opts(threads), 300, &ranges).unwrap();
        assert_eq!(format!("{mem:?}"), format!("{streamed:?}"));
        let mut r = ranges.0.into_inner().unwrap();
        r.sort();
        assert!(r.len() > 10);
        assert_eq!(r.first().map(|r| r.0), Some(0));
        assert_eq!(r.last().map(|r| r.1), Some(dump.len()));
        assert!(r.windows(2).all(|w| w[0].1 == w[1].0));
    }
}

#[test]
fn r_block_larger_than_a_chunk_stays_whole() {
    let mut dump = String::from("goroutine 5 [select]:\n");
    for i in 0..200 {
        dump.push_str(&format!("main.f{i}(0x{i:x})\n\t/src/a.go:{i} +0x1\n"));
    }
    dump.push_str("\ngoroutine 6 [select]:\nmain.g()\n\t/src/a.go:1 +0x1\n");
    let input = Box::new(Cursor::new(dump.into_bytes()));
    let s = parse_chunked(input, "t.txt", &opts(2), 128).unwrap();
    assert_eq!(s.goroutines.len(), 2);
    assert_eq!(s.stack(&s.goroutines[0]).frames.len(), 200);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn r_go127_labels_in_header() {
    let s = parse_str(
        r#"goroutine 31 [chan receive, 2 minutes] {handler: /api/v1, "user id": "a]b:c,d"}:
main.main.func15.1()
	/src/zoo1.27/main.go:109 +0x24
created by main.main in goroutine 1
	/src/zoo1.27/main.go:107 +0x5a
"#,
    );
    let g = &s.goroutines[0];
    assert_eq!(g.wait_minutes, Some(2));
    assert_eq!(s.state(g).reason, WaitReason::ChanReceive);
    let labels: Vec<(&str, &str)> = s
        .labels(g.labels)
        .iter()
        .map(|(k, v)| (&**k, &**v))
        .collect();
    assert_eq!(labels, [("handler", "/api/v1"), ("user id", "a]b:c,d")]);
}

#[test]
fn r_go126_labels_inside_brackets() {
    let s = parse_str(
        r#"goroutine 10 gp=0x2031ea3e4000 m=nil [select (no cases) labels:{"handler": "/api/v1", "user id": "a]b:c,d"}]:
runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)
	/usr/local/go/src/runtime/proc.go:462 +0xce fp=0x2031ea3d3f38 sp=0x2031ea3d3f18 pc=0x479f2e
main.main.func2.1()
	/tmp/tbgo/main.go:37 +0x18 fp=0x2031ea3d3fe0 sp=0x2031ea3d3fc8 pc=0x4b3ed8
"#,
    );
    let g = &s.goroutines[0];
    assert_eq!(s.state(g).reason, WaitReason::SelectNoCases);
    assert_eq!(s.labels(g.labels).len(), 2);
    assert_eq!(&*s.labels(g.labels)[1].1, "a]b:c,d");
    assert_eq!(s.stack(g).frames[1].line, 37);
}

#[test]
fn sigquit_with_goroutine_zero_and_register_dump() {
    let s = parse_str(
        "done
SIGQUIT: quit
PC=0x481aa1 m=0 sigcode=0

goroutine 0 gp=0x5ab660 m=0 mp=0x5ac420 [idle]:
runtime.futex(0x5ac578, 0x80, 0x0, 0x0, 0x0, 0x0)
\t/usr/local/go/src/runtime/sys_linux_amd64.s:569 +0x21 fp=0x7ffdc5cf55e8 sp=0x7ffdc5cf55e0 pc=0x481aa1
runtime.mPark(...)
\t/usr/local/go/src/runtime/proc.go:1967
runtime.mcall()
\t/usr/local/go/src/runtime/asm_amd64.s:496 +0x55 fp=0x7ffdc5cf5928 sp=0x7ffdc5cf5910 pc=0x47e495

goroutine 1 gp=0x573aa461e0 m=nil [sleep]:
runtime.gopark(0x1d3c3e4b597?, 0x573aa44048?, 0x0?, 0x60?, 0x5?)
\t/usr/local/go/src/runtime/proc.go:462 +0xce fp=0x573aab4e38 sp=0x573aab4e18 pc=0x479f2e
time.Sleep(0x34630b8a000)
\t/usr/local/go/src/runtime/time.go:363 +0x165 fp=0x573aab4e90 sp=0x573aab4e38 pc=0x47cc45

rax    0xca
rbx    0x0
rflags 0x286
gs     0x0
exit status 2
",
    );
    assert_eq!(s.preamble, ["SIGQUIT: quit", "PC=0x481aa1 m=0 sigcode=0"]);
    assert_eq!(s.goroutines.len(), 2);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let g0 = &s.goroutines[0];
    assert_eq!(g0.id, 0);
    assert_eq!(&*s.state(g0).raw, "idle");
    let f = &s.stack(g0).frames;
    assert_eq!(
        frame(&f[0]),
        (
            "runtime.futex",
            "/usr/local/go/src/runtime/sys_linux_amd64.s",
            569,
            false
        )
    );
    assert!(f[1].inlined);
    assert_eq!(s.state(&s.goroutines[1]).reason, WaitReason::Sleep);
}

#[test]
fn deadlock_fatal_error_and_nested_panics_fill_the_preamble() {
    let s = parse_str(
        "fatal error: all goroutines are asleep - deadlock!

goroutine 1 [chan receive (nil chan)]:
main.main()
\t/src/x/main.go:5 +0x1d
exit status 2
",
    );
    assert_eq!(
        s.preamble,
        ["fatal error: all goroutines are asleep - deadlock!"]
    );
    assert_eq!(s.state(&s.goroutines[0]).reason, WaitReason::ChanReceiveNil);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    let s = parse_str(
        "panic: first [recovered]
\tpanic: second
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x5259de]

goroutine 1 [running]:
panic({0x667e68?, 0x533a10?})
\t/usr/local/go/src/runtime/panic.go:791 +0x132
main.main()
\t/src/x/main.go:9 +0x1d
",
    );
    assert_eq!(s.preamble.len(), 3);
    assert_eq!(s.preamble[1], "\tpanic: second");
    assert_eq!(
        funcs(&s, &s.goroutines[0]),
        ["panic", "main.main"],
        "gopanic prints as `panic`"
    );
}

#[test]
fn go_test_timeout() {
    let s = parse_str(
        "=== RUN   TestSlow
panic: test timed out after 1s
\trunning tests:
\t\tTestSlow (1s)

goroutine 17 [running]:
testing.(*M).startAlarm.func1()
\t/usr/local/go/src/testing/testing.go:2484 +0x345
created by time.goFunc
\t/usr/local/go/src/time/sleep.go:215 +0x2d

goroutine 5 [sleep]:
time.Sleep(0x3b9aca00)
\t/usr/local/go/src/runtime/time.go:363 +0x165
example.com/x.TestSlow(0xc000003340?)
\t/src/x/x_test.go:9 +0x1d
FAIL\texample.com/x\t1.005s
FAIL
",
    );
    assert_eq!(s.preamble.len(), 3);
    assert_eq!(s.preamble[2], "\t\tTestSlow (1s)");
    assert_eq!(s.goroutines.len(), 2);
    let c = s.creator(&s.goroutines[0]).unwrap();
    assert_eq!(&*c.function, "time.goFunc");
    assert_eq!(s.goroutines[0].parent, None, "pre-1.21 style: no parent");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn r_leaked_leaked_and_other_annotations() {
    let s = parse_str(
        "goroutine 9 [leaked (leaked)]:
main.f()
\t/src/a.go:1 +0x1

goroutine 11 [chan receive (leaked), locked to thread] {worker: w1}:
main.g()
\t/src/a.go:2 +0x1

goroutine 22 [chan receive (durable), synctest bubble 1]:
main.h()
\t/src/a.go:3 +0x1
",
    );
    let g = &s.goroutines;
    assert_eq!(&*s.state(&g[0]).raw, "leaked");
    assert!(g[0].flags.has(GFlags::LEAKED));
    assert_eq!(s.state(&g[1]).reason, WaitReason::ChanReceive);
    assert!(g[1].flags.has(GFlags::LEAKED) && g[1].flags.has(GFlags::LOCKED));
    assert_eq!(&*s.labels(g[1].labels)[0].0, "worker");
    assert!(g[2].flags.has(GFlags::DURABLE) && g[2].flags.has(GFlags::BUBBLE));
    assert_eq!(s.state(&g[2]).reason, WaitReason::ChanReceive);
}

#[test]
fn r_truncated_mid_line() {
    let s = parse_str(
        "goroutine 1 [running]:
main.main()
\t/src/a.go:3 +0x1

goroutine 2 [select]:
main.a(0x1)
\t/src/a.go:10 +0x1
main.b(0x2)
\t/src/a.g",
    );
    assert_eq!(s.goroutines.len(), 2);
    let g = &s.goroutines[1];
    assert_eq!(funcs(&s, g), ["main.a"], "the cut frame is not kept");
    let w = s.warnings.iter().find(|w| w.message.contains("truncated"));
    assert_eq!(w.map(|w| w.line), Some(Some(5)), "{:?}", s.warnings);

    // Cut right after a function line, at a line boundary.
    let s = parse_str("goroutine 2 [select]:\nmain.a(0x1)\n\t/src/a.go:10 +0x1\nmain.b(0x2)\n");
    assert_eq!(funcs(&s, &s.goroutines[0]), ["main.a"]);
    assert!(s.warnings.iter().any(|w| w.message.contains("truncated")));

    // Cut inside a function line, then a newline added after the cut (a copy, a log
    // shipper): a truncation, not a malformed line.
    let s = parse_str("goroutine 2 [select]:\nmain.a(0x1)\n\t/src/a.go:10 +0x1\nruntime.note\n");
    assert_eq!(funcs(&s, &s.goroutines[0]), ["main.a"]);
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(
        s.warnings[0].message.contains("truncated"),
        "{:?}",
        s.warnings
    );
}

#[test]
fn r_no_final_newline_is_not_a_cut() {
    // Hand-written: a dump whose file lacks its final newline (pasted, or written with
    // `printf %s`). Its last frame and creator are read, and nothing is called truncated.
    for tail in ["\tmain.go:18 +0x78", "\tmain.go:18 +0x78\r\n"] {
        let s = parse_str(&format!(
            "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n\ngoroutine 7 [chan send]:\nmain.worker(0x1)\n\t/src/main.go:30 +0x25\ncreated by main.main in goroutine 1\n\t/src/{tail}"
        ));
        assert_eq!(s.goroutines.len(), 2);
        let g = &s.goroutines[1];
        assert_eq!(funcs(&s, g), ["main.worker"]);
        let creator = s.creator(g).expect("the creator is read");
        assert_eq!((&*creator.function, creator.line), ("main.main", 18));
        assert!(s.warnings.is_empty(), "{tail:?}: {:?}", s.warnings);
    }
}

#[test]
fn embedded_in_log_noise() {
    let s = parse_str(
        "2024/05/01 12:00:00 starting server on :8080
2024/05/01 12:00:01 GET /health (200)
[GIN] some line

goroutine 1 [IO wait, 3 minutes]:
internal/poll.runtime_pollWait(0x7f3c2c1b5e28, 0x72)
\t/usr/local/go/src/runtime/netpoll.go:351 +0x85
2024/05/01 12:00:02 interleaved log line
net.(*conn).Read(0xc000012345, {0xc000100000, 0x1000, 0x1000})
\t/usr/local/go/src/net/net.go:194 +0x45

2024/05/01 12:00:03 after the dump
",
    );
    assert_eq!(s.goroutines.len(), 1);
    assert_eq!(
        funcs(&s, &s.goroutines[0]),
        ["internal/poll.runtime_pollWait", "net.(*conn).Read"]
    );
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert_eq!(s.warnings[0].line, Some(8));
    assert!(s.warnings[0].message.contains("interleaved log line"));
}

#[test]
fn crlf_and_tabs_turned_into_spaces() {
    let s = parse_str(
        "goroutine 1 [running]:\r\nmain.main()\r\n        /src/a.go:3 +0x1\r\n\r\ngoroutine 2 [select]:\r\nmain.f(...)\r\n    /src/a.go:7\r\n",
    );
    assert_eq!(s.goroutines.len(), 2);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(
        frame(&s.stack(&s.goroutines[0]).frames[0]),
        ("main.main", "/src/a.go", 3, false)
    );
    assert_eq!(
        frame(&s.stack(&s.goroutines[1]).frames[0]),
        ("main.f", "/src/a.go", 7, true)
    );
}

#[test]
fn windows_paths_with_spaces_and_pseudo_files() {
    let s = parse_str(
        "goroutine 3 gp=0xc000003500 m=nil [GC worker (idle)]:
runtime.gcBgMarkWorker(0xc00001e0e0)
\tC:/Program Files/Go/src/runtime/mgc.go:1373 +0x25 fp=0xc00045bfe0 sp=0xc00045bfc0 pc=0x7ff7f65b75e5
main.(*T).Run-fm()
\t<autogenerated>:1 +0x2b
main.cgo()
\t?:0
",
    );
    let f = &s.stack(&s.goroutines[0]).frames;
    assert_eq!(
        frame(&f[0]),
        (
            "runtime.gcBgMarkWorker",
            "C:/Program Files/Go/src/runtime/mgc.go",
            1373,
            false
        )
    );
    assert_eq!(
        frame(&f[1]),
        ("main.(*T).Run-fm", "<autogenerated>", 1, false)
    );
    assert_eq!(frame(&f[2]), ("main.cgo", "?", 0, false));
    assert_eq!(s.state(&s.goroutines[0]).reason, WaitReason::RuntimeIdle);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn elision_both_spellings() {
    let s = parse_str(
        "goroutine 10 [chan receive]:
main.deep(...)
\t/tmp/tbgo/main.go:19
main.deep(0x0?, 0x0?)
\t/tmp/tbgo/main.go:22 +0x25
...21 frames elided...
main.deep(0x76?, 0x0?)
\t/tmp/tbgo/main.go:22 +0x25
created by main.main in goroutine 1
\t/tmp/tbgo/main.go:32 +0x10d

goroutine 11 [chan receive]:
main.deep(0x0?, 0x0?)
\t/tmp/tbgo/main.go:22 +0x25
...additional frames elided...
",
    );
    assert_eq!(s.stack(&s.goroutines[0]).elided, Some(21));
    assert_eq!(s.stack(&s.goroutines[0]).frames.len(), 3);
    assert_eq!(s.stack(&s.goroutines[1]).elided, Some(0));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn ancestors_sections() {
    let s = parse_str(
        "goroutine 9 [chan receive]:
main.spawnChild.func1()
\t/src/crash1.27/main.go:22 +0x25
created by main.spawnChild in goroutine 8
\t/src/crash1.27/main.go:21 +0x65
[originating from goroutine 8]:
main.spawnChild(...)
\t/src/crash1.27/main.go:21 +0x65
created by main.spawnChild
\t/src/crash1.27/main.go:23 +0xc5
[originating from goroutine 1]:
main.spawnChild(...)
\t/src/crash1.27/main.go:24 +0xc5
main.main(...)
\t/src/crash1.27/main.go:38 +0x265
",
    );
    let g = &s.goroutines[0];
    assert_eq!(g.parent, Some(8));
    assert_eq!(funcs(&s, g), ["main.spawnChild.func1"]);
    let a = s.ancestors(g);
    assert_eq!(a.len(), 2);
    assert_eq!((a[0].id, a[1].id), (8, 1));
    assert_eq!(s.stacks[a[1].stack as usize].frames.len(), 2);
    assert!(!s.stacks[a[1].stack as usize].frames[0].inlined, "has +0x");
    assert_eq!(
        &*s.creators[a[0].creator as usize].function,
        "main.spawnChild"
    );
    assert_eq!(a[1].creator, NONE);
    assert_eq!(&*s.creator(g).unwrap().function, "main.spawnChild");
}

#[test]
fn stack_unavailable_and_cgo_frames() {
    let s = parse_str(
        "goroutine 4 [running]:
\tgoroutine running on other thread; stack unavailable
created by main.main in goroutine 1
\t/src/a.go:12 +0x66

goroutine 5 [syscall]:
non-Go function at pc=0x4f4b3c
non-Go function at pc=0x4f4b3d
runtime.cgocall(0x4b3c20, 0xc00005ef50)
\t/usr/local/go/src/runtime/cgocall.go:167 +0x4b
main._Cfunc_crash()
\t_cgo_gotypes.go:56 +0x3a
myfunc_in_c
\t/src/c/lib.c:12 pc=0x4f4b3e
",
    );
    let g4 = &s.goroutines[0];
    assert!(g4.flags.has(GFlags::NO_STACK));
    assert!(s.stack(g4).frames.is_empty());
    assert_eq!(g4.parent, Some(1));
    let f = &s.stack(&s.goroutines[1]).frames;
    assert_eq!(f.len(), 5);
    assert_eq!(&*f[0].function, "non-Go function at pc=0x4f4b3c");
    assert_eq!(
        frame(&f[3]),
        ("main._Cfunc_crash", "_cgo_gotypes.go", 56, false)
    );
    assert_eq!(frame(&f[4]), ("myfunc_in_c", "/src/c/lib.c", 12, false));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn unwinder_diagnostics_race_reports_and_duplicates() {
    let s = parse_str(
        "==================
WARNING: DATA RACE
Write at 0x00c000012345 by goroutine 7:
  main.main.func1()
      /src/a.go:12 +0x3c

Goroutine 7 (running) created at:
  main.main()
      /src/a.go:10 +0x55
==================

goroutine 24 [running]:
main.f(0x1)
\t/src/a.go:3 +0x1
runtime: g 24: unexpected return pc for main.g called from 0x4b3ed8
stack: frame={sp:0xc000051f58, fp:0xc000051f80} stack=[0xc000050000,0xc000052000)
0x000000c000051e58:  0x0000000000000000  0x0000000000000000
main.g(...)
\t/src/a.go:5

goroutine 24 [running]:
main.f(0x2)
\t/src/a.go:3 +0x1
",
    );
    // Goroutine 24 printed twice (two threads crashed at once) is one goroutine, read from
    // its first copy, with a warning that says so.
    assert_eq!(s.goroutines.len(), 1);
    assert_eq!(funcs(&s, &s.goroutines[0]), ["main.f", "main.g"]);
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(
        s.warnings[0]
            .message
            .starts_with("1 goroutine block repeats an id printed earlier (goroutine 24)"),
        "{:?}",
        s.warnings
    );
    assert!(s.preamble.is_empty(), "{:?}", s.preamble);
}

#[test]
fn runtime_stack_block_is_not_a_goroutine() {
    let s = parse_str(
        "runtime: goroutine stack exceeds 1000000000-byte limit
fatal error: stack overflow

runtime stack:
runtime.throw({0x4c1c5f?, 0x0?})
\t/usr/local/go/src/runtime/panic.go:1101 +0x48 fp=0x7ffd sp=0x7ffc pc=0x433d08

goroutine 1 gp=0xc000002380 m=0 mp=0x5475e0 [running]:
main.f(...)
\t/src/a.go:3 +0x1 fp=0xc0200e0398 sp=0xc0200e0390 pc=0x47c5a5
",
    );
    assert_eq!(s.goroutines.len(), 1);
    assert_eq!(s.preamble.len(), 2);
    assert_eq!(funcs(&s, &s.goroutines[0]), ["main.f"]);
}

#[test]
fn malformed_lines_warn_with_line_numbers() {
    let s = parse_str(
        "goroutine 1 [running]:
main.main()
main.other()
\t/src/a.go:3 +0x1
\tstray indented text
goroutine 2 [chan rec
main.x()
\t/src/a.go:4 +0x1
",
    );
    assert_eq!(s.goroutines.len(), 2);
    assert_eq!(funcs(&s, &s.goroutines[0]), ["main.other"]);
    let lines: Vec<Option<u64>> = s.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [Some(2), Some(5), Some(6)], "{:?}", s.warnings);
    assert!(s.warnings[0].message.contains("expected a file line"));
    assert!(s.warnings[2].message.contains("goroutine header"));
    assert_eq!(s.goroutines[1].id, 2);
}

#[test]
fn no_goroutine_is_an_error_naming_what_was_expected() {
    let e = parse_err("just some log\nnothing here\n");
    assert!(
        e.starts_with("t.txt: 2 lines without a goroutine header"),
        "{e}"
    );
    assert!(e.contains("goroutine 1 [running]:"), "{e}");
    let e = parse_err("panic: boom\n");
    assert!(e.contains("found a crash report (`panic: boom`)"), "{e}");
    let e = parse_err("");
    assert!(e.contains("empty"), "{e}");
}

#[test]
fn args_budget_is_respected_in_dump_order() {
    let mut dump = String::new();
    for i in 0..50 {
        dump.push_str(&format!(
            "goroutine {i} [select]:\nmain.f(0x{i:x}, 0xc000000000)\n\t/src/a.go:1 +0x1\n\n"
        ));
    }
    let o = Options {
        args_budget: 1000,
        threads: 1,
    };
    let s = parse(Box::new(Cursor::new(dump.into_bytes())), "t.txt", &o).unwrap();
    let kept = s.goroutines.iter().filter(|g| g.args != NONE).count();
    assert!(kept > 0 && kept < 50, "{kept}");
    assert!(s.goroutines[..kept].iter().all(|g| g.args != NONE));
    assert!(
        s.warnings
            .iter()
            .any(|w| w.message.contains("argument words of"))
    );
}

#[test]
fn sniff_claims_headers_and_rejects_other_formats() {
    assert_eq!(sniff(b"goroutine 1 [running]:\nmain.main()\n"), Some(true));
    assert_eq!(
        sniff(b"log\r\ngoroutine 1 gp=0x1 m=nil [idle]:\r\n"),
        Some(true)
    );
    assert_eq!(sniff(b"x\rgoroutine 7 [select]:"), Some(true));
    assert_eq!(sniff(b"goroutine profile: total 4\n1 @ 0x1\n"), Some(false));
    assert_eq!(sniff(b"File: srv\nType: goroutine\n"), Some(false));
    assert_eq!(sniff(b"some log line\n"), None);
    assert_eq!(sniff(b"goroutine 12 is not a header\n"), None);
}

#[test]
fn parse_reader_routes_dumps_here() {
    let s = crate::parse::parse_reader(
        Box::new(Cursor::new(MUTEX_DUMP.as_bytes().to_vec())),
        "d.txt",
        &Options::default(),
    )
    .unwrap();
    assert_eq!(s.goroutines.len(), 3);
}

#[test]
fn never_panics_on_mangled_input() {
    // Every prefix and a few byte-flipped variants of a dump with all the odd parts.
    let base = format!(
        "{}\n{}",
        MUTEX_DUMP,
        "goroutine 3 gp=0x1 m=nil [select, 1 minutes] {a: \"x]\\\"y\", b: c}:\n[originating from goroutine 1]:\nmain.x(...)\n\t?:0\n...9 frames elided...\ncreated by main.main in goroutine 1\n"
    );
    let bytes = base.as_bytes();
    for cut in 0..bytes.len() {
        let _ = parse(Box::new(Cursor::new(bytes[..cut].to_vec())), "t", &opts(1));
    }
    for (i, b) in [b'\n', b'(', b')', b'"', b'{', b'}', b'[', b']', b':', b'\t']
        .iter()
        .enumerate()
    {
        let mut v = bytes.to_vec();
        let mut j = i;
        while j < v.len() {
            v[j] = *b;
            j += 37;
        }
        let _ = parse(Box::new(Cursor::new(v)), "t", &opts(2));
    }
}

#[test]
fn argument_text_is_kept_raw_per_frame() {
    let s = parse_str(
        "goroutine 6 [select]:
main.aggArgs({0x1, 0x2, 0x3, {0x552cf8, 0x1}}, {0x0?, 0x0?, 0x0?}, {0x527493, 0x3}, ...)
\t/src/a.go:10 +0x1d
main.empty({}, _, 0xc2b8b4288a50b158)
\t/src/a.go:20 +0x2d
main.inl(...)
\t/src/a.go:30
main.main()
\t/src/a.go:40 +0x3d
",
    );
    let g = &s.goroutines[0];
    assert_eq!(
        args(&s, g),
        [
            "{0x1, 0x2, 0x3, {0x552cf8, 0x1}}, {0x0?, 0x0?, 0x0?}, {0x527493, 0x3}, ...",
            "{}, _, 0xc2b8b4288a50b158",
            "...",
            ""
        ]
    );
    let inlined: Vec<bool> = s.stack(g).frames.iter().map(|f| f.inlined).collect();
    assert_eq!(inlined, [false, false, true, false]);
}

#[test]
fn r_unstarted_goroutine_without_offset_is_not_inlined() {
    // Go 1.21 prints a goroutine that has not started at its entry: no `+0x`, but arguments.
    let s = parse_str("goroutine 18 [runnable]:\nmain.main.func4()\n\t/src/crash1.21/main.go:30\n");
    assert!(!s.stack(&s.goroutines[0]).frames[0].inlined);
    assert_eq!(s.state(&s.goroutines[0]).reason, WaitReason::Runnable);
}

#[test]
fn r_cut_inside_the_next_header_warns() {
    // Hand-written: a complete goroutine, then the input stops inside the next header.
    for tail in ["go", "goroutine 24", "goroutine 24 [chan re"] {
        let text =
            format!("goroutine 1 [chan receive]:\nmain.main()\n\t/x/main.go:5 +0x1d\n\n{tail}");
        let s = crate::parse::parse_reader(
            Box::new(std::io::Cursor::new(text.into_bytes())),
            "cut.txt",
            &Default::default(),
        )
        .expect("parses");
        assert_eq!(s.goroutines.len(), 1, "{tail}");
        assert!(
            s.warnings.iter().any(|w| w.message.contains("truncated")),
            "{tail}: {:?}",
            s.warnings
        );
    }
}

#[test]
fn argument_bytes_that_are_not_utf8_are_replaced_in_their_frame_only() {
    // Hand-written: a string argument printed with a stray byte (0xff), then the same
    // frames with plain words; both through the first-sight reader and the templates.
    let mut dump = Vec::new();
    for (id, first) in [
        (1, &b"0xc000012345, 0x\xff"[..]),
        (2, b"0x1, 0x2"),
        (3, b"0x\xfe"),
    ] {
        dump.extend_from_slice(format!("goroutine {id} [select]:\nmain.f(").as_bytes());
        dump.extend_from_slice(first);
        dump.extend_from_slice(b")\n\t/src/a.go:1 +0x1\nmain.g(0x7)\n\t/src/a.go:2 +0x2\n\n");
    }
    for threads in [1, 2] {
        let s = parse(Box::new(Cursor::new(dump.clone())), "t.txt", &opts(threads)).unwrap();
        let all: Vec<Vec<String>> = s.goroutines.iter().map(|g| args(&s, g)).collect();
        assert_eq!(
            all,
            [
                ["0xc000012345, 0x\u{fffd}", "0x7"],
                ["0x1, 0x2", "0x7"],
                ["0x\u{fffd}", "0x7"]
            ]
        );
    }
}
