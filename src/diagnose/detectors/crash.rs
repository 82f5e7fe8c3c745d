//! `crash`
//!
//! **What it detects.** The dump is a crash report: the program stopped on a panic or a
//! fatal runtime error (`panic: …`, `fatal error: concurrent map writes`, `[signal SIGSEGV
//! …]`), and the runtime printed every goroutine on its way out. The finding names the
//! message and the line of the goroutine that crashed, which the runtime prints first.
//!
//! **Why it matters.** A crash is not a hang, but a service that restarts in a loop looks
//! hung from outside, and a crash report read as a hang dump sends the reader after the
//! goroutines that were merely parked when it happened. The other findings still say what
//! was stuck at that moment. A `go test` timeout (`panic: test timed out`) and the runtime's
//! own deadlock report are hangs, left to the other detectors.
//!
//! **Example.** `fatal error: concurrent map writes` in a handler that updates a shared map
//! without a lock; `panic: runtime error: invalid memory address or nil pointer dereference`.
//!
//! **Fix.** Open the line named: the message says what went wrong there.

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::model::WaitReason;

/// See the module docs.
pub struct Crash;

/// Preamble lines that announce a crash. A fault signal's own line (`SIGSEGV:
/// segmentation violation`) is one; `SIGQUIT` and `SIGABRT` are how dumps are asked for.
fn is_crash_line(line: &str) -> bool {
    (line.starts_with("panic: ") || line.starts_with("fatal error: ") || is_fault_line(line))
        && !line.starts_with("panic: test timed out after")
        && !line.contains("all goroutines are asleep")
        && !line.contains("no goroutines (main called runtime.Goexit)")
}

/// The lines that say a dump was asked for: `kill -QUIT`, `kill -ABRT`.
fn is_dump_request(line: &str) -> bool {
    line.starts_with("SIGQUIT: ") || line.starts_with("SIGABRT: ")
}

/// A fault signal's own line: the runtime may be crashing on a system goroutine, with no
/// Go goroutine running.
fn is_fault_line(line: &str) -> bool {
    FAULTS.iter().any(|f| line.starts_with(f))
}

/// The lines of fault signals.
const FAULTS: [&str; 4] = ["SIGSEGV: ", "SIGBUS: ", "SIGILL: ", "SIGFPE: "];

/// What to do about a crash with this message.
fn advice(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("concurrent map") {
        "Two goroutines used the same map at once, one of them writing. Guard the map with a sync.Mutex (or RWMutex), or use sync.Map; `go test -race` names the other goroutine."
    } else if m.contains("nil pointer") || m.contains("invalid memory address") {
        "A nil pointer was dereferenced at this line. Find what can be nil there: a value returned beside an error, a missing map entry, a field never set."
    } else if m.contains("index out of range") || m.contains("slice bounds out of range") {
        "An index or slice bound was out of range at this line: check the length before indexing."
    } else if m.contains("closed channel") {
        "A channel was closed while a goroutine still sent on it, or closed twice: let only the sending side close it, once, after every send."
    } else if m.contains("stack overflow") || m.contains("stack exceeds") {
        "Unbounded recursion: the function at this line calls itself (directly or through others) without reaching its base case."
    } else {
        "Open the line named: the message says what went wrong there. The other goroutines in the dump are only where they were when the program stopped."
    }
}

impl Detector for Crash {
    fn kind(&self) -> &'static str {
        "crash"
    }

    fn summary(&self) -> &'static str {
        "the program crashed (a panic or a fatal runtime error); the finding names the message and the line that crashed"
    }

    fn source(&self) -> &'static str {
        include_str!("crash.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        let preamble = &facts.snap.preamble;
        let Some(at) = preamble.iter().position(|l| is_crash_line(l)) else {
            return vec![];
        };
        // A dump asked for after the crash line (a log that holds an old panic, then a
        // SIGQUIT dump) is no crash report.
        if preamble[at..].iter().any(|l| is_dump_request(l)) {
            return vec![];
        }
        let message = preamble[at].trim().to_string();
        // A panic or a throw prints the goroutine that crashed first, running; a line like
        // one in the output around a dump that does not start so is not this dump's.
        let first = facts
            .snap
            .goroutines
            .first()
            .filter(|g| facts.snap.state(g).reason == WaitReason::Running);
        if first.is_none() && !is_fault_line(&message) {
            return vec![];
        }
        let mut evidence = vec![format!("the runtime stopped the program: \"{message}\"")];
        // Nested panics and the signal line follow the first message.
        for l in preamble[at + 1..].iter().take(3) {
            evidence.push(format!("then: \"{}\"", l.trim()));
        }
        let blob = first.and_then(|g| facts.blobs.iter().position(|b| b.ids.contains(&g.id)));
        let mut root = vec![];
        let mut victims = vec![];
        let mut title = format!("the program crashed: {message}");
        if let (Some(g), Some(bi)) = (first, blob) {
            if let Some(site) = facts.blobs[bi].site(facts) {
                root.push(frame_ref(site));
                title.push_str(&format!(
                    " (goroutine {} at {})",
                    g.id,
                    describe::short_loc(site)
                ));
                evidence.push(format!(
                    "goroutine {} crashed in {} ({})",
                    g.id,
                    site.function,
                    describe::short_loc(site)
                ));
            }
            victims = describe::victims(facts, &[bi]);
        }
        evidence.push(format!(
            "the other {} are where they were when it stopped; the other findings say whether any of them were stuck",
            describe::goroutines(facts.total.saturating_sub(1))
        ));
        vec![Finding {
            kind: self.kind(),
            severity: Severity::Critical,
            confidence: 1.0,
            title,
            // The crash stopped every goroutine: it ranks before what was stuck at the time.
            goroutines: facts.total,
            root,
            victims,
            resource: Some(Resource {
                kind: "process".into(),
                address: None,
                name: None,
            }),
            evidence,
            advice: advice(&message).into(),
            source: vec![],
        }]
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnose::diagnose_text;

    #[test]
    fn a_fatal_error_names_the_message_and_the_crashing_line() {
        // Hand-written in the shape Go 1.16 prints for concurrent map writes.
        let d = diagnose_text(
            "fatal error: concurrent map writes

goroutine 1123 [running]:
runtime.throw(0x1147154, 0x15)
\t/usr/local/go/src/runtime/panic.go:1117 +0x72 fp=0xc00017b730 sp=0xc00017b700 pc=0x10363b2
runtime.mapassign_faststr(0x11211c0, 0xc0000aa000, 0x1143b38, 0x3, 0xc0000ac088)
\t/usr/local/go/src/runtime/map_faststr.go:291 +0x3d8 fp=0xc00017b798 sp=0xc00017b730 pc=0x1013678
main.record(0xc0000aa000, 0xc00009c030)
\t/src/app/store.go:27 +0x50 fp=0xc00017b7d0 sp=0xc00017b798 pc=0x110a730
created by main.main
\t/src/app/main.go:26 +0xea

goroutine 1 [chan receive]:
main.main()
\t/src/app/main.go:30 +0x2da
",
        );
        let f = d
            .findings
            .iter()
            .find(|f| f.kind == "crash")
            .expect("a crash finding");
        assert_eq!(
            f.title,
            "the program crashed: fatal error: concurrent map writes (goroutine 1123 at store.go:27)"
        );
        assert_eq!(
            (f.root[0].function.as_str(), f.root[0].line),
            ("main.record", 27)
        );
        assert!(f.advice.contains("sync.Mutex"), "{}", f.advice);

        // A fault in runtime code (Go 1.1 shape): no goroutine was running Go code, so only
        // the message is named.
        let d = diagnose_text(
            "SIGSEGV: segmentation violation\nPC=0x4071dc\n\ngoroutine 0 [idle]:\nscanblock(0x7f42b0080000, 0x12de700)\n\t/go/src/pkg/runtime/mgc0.c:969 +0x8ec\n",
        );
        let f = d
            .findings
            .iter()
            .find(|f| f.kind == "crash")
            .expect("a crash");
        assert_eq!(
            f.title,
            "the program crashed: SIGSEGV: segmentation violation"
        );
        assert!(f.root.is_empty());
    }

    #[test]
    fn hangs_reported_by_the_runtime_or_go_test_are_not_crashes() {
        for preamble in [
            "panic: test timed out after 2s\nrunning tests:\n\tTestHang (2s)",
            "fatal error: all goroutines are asleep - deadlock!",
            "SIGQUIT: quit\nPC=0x4720e1 m=0 sigcode=0",
            "SIGABRT: abort\nPC=0x4720e1 m=0 sigcode=0",
            // An old panic in the log, then a dump asked for with SIGQUIT.
            "panic: boom [recovered]\nSIGQUIT: quit\nPC=0x4720e1 m=0 sigcode=0",
            // A log line that looks like a panic, but the dump is not led by a running
            // goroutine.
            "panic: this line was only logged",
        ] {
            // Led by a running goroutine, as a crash report would be, except for the line
            // that was only logged.
            let first = if preamble.contains("only logged") {
                "chan receive"
            } else {
                "running"
            };
            let d = diagnose_text(&format!(
                "{preamble}\n\ngoroutine 5 [{first}]:\nmain.work()\n\t/src/app/main.go:40 +0x2da\n\ngoroutine 1 [chan receive]:\nmain.main()\n\t/src/app/main.go:30 +0x2da\n"
            ));
            assert!(
                !d.findings.iter().any(|f| f.kind == "crash"),
                "{preamble}: {:#?}",
                d.findings
            );
        }
        // The same lines as a real crash report are one.
        let d = diagnose_text(
            "panic: boom\n\ngoroutine 5 [running]:\nmain.work()\n\t/src/app/main.go:40 +0x2da\n\ngoroutine 1 [chan receive]:\nmain.main()\n\t/src/app/main.go:30 +0x2da\n",
        );
        assert!(
            d.findings.iter().any(|f| f.kind == "crash"),
            "{:#?}",
            d.findings
        );
    }
}
