//! From snapshots to findings: who waits for what, who holds it, what is missing.
//!
//! [`diagnose`] picks the snapshot to explain (the latest per-goroutine dump, else the latest
//! profile), folds its goroutines into [`facts::Blob`]s, infers lock holders
//! ([`locks::LockGraph`]), reads a series if there is one ([`series`]), then runs every
//! detector in [`detectors::DETECTORS`] and ranks what they find: severity first, then how
//! many goroutines a finding explains.

pub mod describe;
pub mod detectors;
pub mod facts;
pub mod finding;
pub mod locks;
pub mod pools;
pub mod series;
pub mod source;
pub mod waits;

use serde::Serialize;

pub use detectors::{DETECTORS, Detector, by_kind, docs_markdown};
pub use finding::{Finding, FrameRef, Resource, Severity, SourceSnippet, Victim};

use crate::model::{Format, Snapshot};

/// What the diagnosis was asked to consider.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Source trees to read blamed lines from (`--src`).
    pub src: Vec<std::path::PathBuf>,
}

/// What every detector reads.
pub struct Context<'a> {
    /// The folded facts.
    pub facts: facts::Facts<'a>,
    /// Locks, waiters and holders.
    pub locks: locks::LockGraph,
}

impl<'a> Context<'a> {
    /// Folds `primary` into facts and infers lock holders.
    pub fn new(
        primary: &'a Snapshot,
        sockets: Vec<&'a crate::model::Socket>,
        series: Option<series::SeriesFacts>,
    ) -> Context<'a> {
        let facts = facts::Facts::build(primary, sockets, series);
        let locks = locks::LockGraph::build(&facts);
        Context { facts, locks }
    }
}

/// One input as listed in the report.
#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    /// As the user named it.
    pub source: String,
    /// The detected format.
    pub format: &'static str,
    /// Goroutines it describes (0 for socket tables).
    pub goroutines: u64,
    /// Rows, for socket tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sockets: Option<usize>,
}

/// The result.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// The inputs, in the order read.
    pub inputs: Vec<InputSummary>,
    /// Goroutines in the snapshot diagnosed.
    pub goroutines: u64,
    /// Which input was diagnosed (index into `inputs`).
    pub diagnosed: Option<usize>,
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// Informational notes (series summary, what could not be judged).
    pub notes: Vec<String>,
    /// Warnings met while reading the inputs.
    pub warnings: Vec<String>,
}

/// Every finding kind, from the registry.
pub fn kinds() -> Vec<&'static str> {
    DETECTORS.iter().map(|d| d.kind()).collect()
}

/// Diagnoses the evidence.
pub fn diagnose(snaps: &[Snapshot], opts: &Options) -> Diagnosis {
    let inputs: Vec<InputSummary> = snaps
        .iter()
        .map(|s| InputSummary {
            source: s.source.clone(),
            format: s.format.map_or("unknown", |f| f.name()),
            goroutines: s.goroutine_count(),
            sockets: (s.format == Some(Format::Sockets)).then_some(s.sockets.len()),
        })
        .collect();
    let mut warnings = Vec::new();
    for s in snaps {
        for w in &s.warnings {
            match w.line {
                Some(l) => warnings.push(format!("{}:{}: {}", s.source, l, w.message)),
                None => warnings.push(format!("{}: {}", s.source, w.message)),
            }
        }
    }
    let mut notes = Vec::new();

    // The series: per-goroutine dumps if there are several, else aggregated ones; ordered
    // by their own timestamps where all have one, else as given.
    let mut dumps: Vec<(usize, &Snapshot)> = snaps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.format.is_some_and(|f| f.is_per_goroutine()))
        .collect();
    if dumps.is_empty() {
        dumps = snaps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.format != Some(Format::Sockets) && s.goroutine_count() > 0)
            .collect();
    }
    if dumps.iter().all(|(_, s)| s.taken_at.is_some()) {
        dumps.sort_by(|a, b| {
            a.1.taken_at
                .partial_cmp(&b.1.taken_at)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let sockets: Vec<_> = snaps.iter().flat_map(|s| s.sockets.iter()).collect();
    let Some(&(primary_idx, primary)) = dumps.last() else {
        notes.push("no goroutine evidence among the inputs: nothing to diagnose (socket tables alone do not say what is stuck)".into());
        return Diagnosis {
            inputs,
            goroutines: 0,
            diagnosed: None,
            findings: vec![],
            notes,
            warnings,
        };
    };
    let series_snaps: Vec<&Snapshot> = dumps.iter().map(|(_, s)| *s).collect();
    let series = series::analyse(&series_snaps);
    if let Some(s) = &series {
        notes.push(format!(
            "series of {} snapshots{}: {} goroutines stayed in place throughout; {} → {} goroutines",
            s.snapshots,
            s.span_seconds.map(|x| format!(" over {x:.0} s")).unwrap_or_default(),
            s.stuck_ids.len(),
            s.first_total,
            primary.goroutine_count()
        ));
    }
    if !primary.format.is_some_and(|f| f.is_per_goroutine()) {
        notes.push(format!(
            "{} is an aggregated profile: it has no goroutine states, wait times or argument words, so waits are judged from call sites and counts (lower confidence); a debug=2 dump says more",
            primary.source
        ));
    }
    let cx = Context::new(primary, sockets, series);
    let mut findings: Vec<Finding> = DETECTORS.iter().flat_map(|d| d.check(&cx)).collect();
    fold_symptoms(&mut findings);
    if let Some(why) = partial_dump(primary) {
        temper_absences(&mut findings);
        notes.push(why);
    }
    rank(&mut findings);
    if findings.is_empty() {
        notes.extend(pile_up(&cx.facts));
    }
    if !opts.src.is_empty() {
        let idx = source::SourceIndex::new(&opts.src);
        for f in &mut findings {
            source::attach(&idx, f);
        }
    }
    Diagnosis {
        inputs,
        goroutines: cx.facts.total,
        diagnosed: Some(primary_idx),
        findings,
        notes,
        warnings,
    }
}

/// Findings that rest on something being absent from the dump (no holder, no sender, no
/// worker left): a dump that shows only some goroutines cannot prove them.
const ABSENCE_KINDS: &[&str] = &[
    "lock-never-released",
    "chan-send-no-receiver",
    "chan-recv-no-sender",
    "waitgroup-never-done",
    "cond-never-signaled",
    "pool-exhausted-leak",
];

/// Why a per-goroutine dump shows only some of the program's goroutines, if it does:
/// goroutine 1 runs `main` for the whole life of a program, so every full dump has it. A
/// goroutineleak profile lists only the leaked goroutines on purpose, and the runtime has
/// proved them unreachable: it is not partial in this sense.
fn partial_dump(snap: &Snapshot) -> Option<String> {
    if snap.format != Some(Format::Traceback) || snap.goroutines.is_empty() {
        return None;
    }
    let leak_profile = snap
        .goroutines
        .iter()
        .any(|g| g.flags.has(crate::model::GFlags::LEAKED));
    if leak_profile || snap.goroutines.iter().any(|g| g.id == 1) {
        return None;
    }
    Some(format!(
        "{} shows only some of the program's goroutines ({} of them; goroutine 1, which runs main, is not there): an excerpt, one goroutine's stack, or a crash printed with GOTRACEBACK=single",
        snap.source,
        snap.goroutines.len()
    ))
}

/// Lowers findings that rest on an absence when the dump is partial: what they call missing
/// may only be missing from the dump.
fn temper_absences(findings: &mut [Finding]) {
    for f in findings
        .iter_mut()
        .filter(|f| ABSENCE_KINDS.contains(&f.kind))
    {
        f.confidence = (f.confidence / 2.0).min(0.45);
        if f.severity == Severity::Critical {
            f.severity = Severity::Warning;
        }
        f.evidence.push(
            "but the dump is partial (goroutine 1 is not in it): what this finding calls missing may only be missing from the dump; capture every goroutine (debug=2, or SIGQUIT with GOTRACEBACK=all) to confirm".into(),
        );
    }
}

/// When nothing was found stuck: the application line where most goroutines are, if one
/// holds most of them. No detector could say what they wait for, but a pile-up that large
/// is where a reader of the dump would look first.
fn pile_up(facts: &facts::Facts<'_>) -> Option<String> {
    const MIN_GOROUTINES: u64 = 100;
    let mut at: ahash::AHashMap<(&str, &str, u32), (&crate::model::Frame, u64)> =
        ahash::AHashMap::new();
    for b in &facts.blobs {
        let Some(i) = b.wait.site else {
            continue;
        };
        let f = &facts.stack(b.stack).frames[i];
        at.entry((&f.function, &f.file, f.line)).or_insert((f, 0)).1 += b.count;
    }
    let (_, &(frame, n)) = at.iter().max_by_key(|(k, (_, n))| (*n, *k))?;
    if n < MIN_GOROUTINES || n * 2 <= facts.total {
        return None;
    }
    // Tenths of a percent, rounded down: 97,908 of 97,911 is 99.9%, not 100%.
    let tenths = n * 1000 / facts.total;
    Some(format!(
        "{n} of {} goroutines ({}.{}%) are at one line, {} ({}); no detector could tell what they wait for, but a pile-up that large is the place to look (`hangdoc stacks --min-count {n}` shows their stack)",
        facts.total,
        tenths / 10,
        tenths % 10,
        frame.function,
        describe::short_loc(frame)
    ))
}

/// Growth of goroutines already explained by another finding (they pile up behind a stuck
/// lock or channel) is a symptom, not a second cause: it becomes a line of evidence there.
fn fold_symptoms(findings: &mut Vec<Finding>) {
    // A finding about the goroutines another finding already names as its root (the holder
    // of a lock, stuck on a channel) is a link in that chain.
    rank(findings);
    let mut i = 0;
    while i < findings.len() {
        let inside = (0..i).find(|&j| {
            findings[j].goroutines > findings[i].goroutines
                && !findings[i].root.is_empty()
                && findings[i]
                    .root
                    .iter()
                    .all(|r| findings[j].root.contains(r))
        });
        if let Some(j) = inside {
            let link = findings.remove(i);
            findings[j].evidence.push(format!(
                "this link is also a {} finding: {}",
                link.kind, link.title
            ));
            continue;
        }
        i += 1;
    }
    let mut i = 0;
    while i < findings.len() {
        if findings[i].kind == "goroutine-growth" {
            let at: Vec<(String, u32)> = findings[i]
                .victims
                .iter()
                .map(|v| (v.function.clone(), v.line))
                .collect();
            let site = findings[i].root.first().cloned();
            let cause = findings.iter().position(|f| {
                f.kind != "goroutine-growth"
                    && f.severity >= Severity::Warning
                    && (f
                        .victims
                        .iter()
                        .any(|v| at.contains(&(v.function.clone(), v.line)))
                        || site.as_ref().is_some_and(|s| f.root.contains(s)))
            });
            if let Some(c) = cause {
                let growth = findings.remove(i);
                let c = if c > i { c - 1 } else { c };
                if let Some(line) = growth.evidence.first() {
                    findings[c]
                        .evidence
                        .push(format!("{line}: the pile-up grows while the cause stays"));
                }
                continue;
            }
        }
        i += 1;
    }
}

/// Orders findings: severity, then goroutines explained, then confidence, then kind.
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.goroutines.cmp(&a.goroutines))
            .then(
                b.confidence
                    .partial_cmp(&a.confidence)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
            .then(a.kind.cmp(b.kind))
            .then_with(|| a.title.cmp(&b.title))
            .then_with(|| {
                let f = |x: &Finding| x.root.first().map(|r| (r.function.clone(), r.line));
                f(a).cmp(&f(b))
            })
    });
}

/// Diagnoses dump text named `t.txt`, for tests.
#[cfg(test)]
pub(crate) fn diagnose_text(text: &str) -> Diagnosis {
    let snap = crate::parse::parse_reader(
        Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        "t.txt",
        &crate::parse::Options::default(),
    )
    .expect("parses");
    diagnose(&[snap], &Options::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-written debug=1 profile: `n` goroutines at one application line (the runtime
    /// frames that would say what they wait for are hidden, as debug=1 hides them), and
    /// 10 elsewhere.
    fn profile(n: u64) -> String {
        format!(
            "goroutine profile: total {}\n{n} @ 0x4aa18e 0x43e1ab 0xad1d2b 0x4b2001\n#\t0xad1d2a\tmain.(*limiter).Do+0x8a\t/src/app/limit.go:172\n\n10 @ 0x4aa18e 0x4b2001\n#\t0x4b2000\tmain.poll+0x20\t/src/app/poll.go:9\n\n",
            n + 10
        )
    }

    #[test]
    fn a_pile_up_at_one_line_is_noted_when_nothing_is_found() {
        let d = diagnose_text(&profile(150));
        assert!(d.findings.is_empty(), "{:#?}", d.findings);
        let note = d
            .notes
            .iter()
            .find(|n| n.contains("at one line"))
            .expect("a pile-up note");
        assert!(
            note.starts_with(
                "150 of 160 goroutines (93.7%) are at one line, main.(*limiter).Do (limit.go:172);"
            ),
            "{note}"
        );
        // Below 100 goroutines, or under half of them, it is not worth a note.
        for n in [60, 9] {
            let d = diagnose_text(&profile(n));
            assert!(!d.notes.iter().any(|x| x.contains("at one line")), "{n}");
        }
    }

    #[test]
    fn absences_in_a_partial_dump_are_warnings_with_low_confidence() {
        // Hand-written in the shape of a dump pasted into a bug report: one goroutine waiting
        // for days on a read lock, the rest of the dump left out.
        let waiter = "goroutine 115 [semacquire, 5611 minutes]:
sync.runtime_Semacquire(0xc421056a74)
\t/usr/local/go/src/runtime/sema.go:56 +0x3b
sync.(*RWMutex).RLock(0xc421056a68)
\t/usr/local/go/src/sync/rwmutex.go:50 +0x4b
example.com/app/exec.(*Store).List(0xc421056a60, 0x0, 0x0, 0x0)
\t/src/app/exec/exec.go:140 +0x4d
created by example.com/app.New
\t/src/app/daemon.go:980 +0x2b17
";
        let main =
            "goroutine 1 [select, 5611 minutes]:\nmain.main()\n\t/src/app/main.go:30 +0x2da\n\n";
        let full = diagnose_text(&format!("{main}{waiter}"));
        let f = &full.findings[0];
        assert_eq!(
            (f.kind, f.severity),
            ("lock-never-released", Severity::Critical)
        );
        assert!(f.confidence > 0.8, "{}", f.confidence);
        assert!(
            !full
                .notes
                .iter()
                .any(|n| n.contains("partial") || n.contains("only some"))
        );

        let part = diagnose_text(waiter);
        let f = &part.findings[0];
        assert_eq!(
            (f.kind, f.severity),
            ("lock-never-released", Severity::Warning)
        );
        assert!(f.confidence <= 0.45, "{}", f.confidence);
        assert!(
            f.evidence
                .last()
                .is_some_and(|e| e.starts_with("but the dump is partial")),
            "{:?}",
            f.evidence
        );
        assert!(
            part.notes
                .iter()
                .any(|n| n
                    .starts_with("t.txt shows only some of the program's goroutines (1 of them;")),
            "{:?}",
            part.notes
        );
    }
}
