//! `chan-send-no-receiver`
//!
//! **What it detects.** Goroutines blocked sending on a channel where nothing will receive:
//! the consumer goroutine exited (on an error, a closed file, a rotation failure) or a
//! notify channel was abandoned.
//!
//! **Why it hangs.** An unbuffered channel, or a full buffered one, blocks the sender until a
//! receiver comes. With the consumer gone, every producer queues forever.
//!
//! **Example.** An async logger whose writer goroutine returns on a write error; every request
//! handler then blocks on `w.records <- rec`.
//!
//! **Fix.** Keep the consumer alive for the channel's whole life (log and continue on errors);
//! make sends that must not block use `select` with `default` or `ctx.Done()`.

use ahash::AHashMap;

use super::Detector;
use crate::diagnose::Context;
use crate::diagnose::describe::{self, frame_ref};
use crate::diagnose::finding::{Finding, Resource, Severity};
use crate::diagnose::waits::WaitKind;
use crate::model::FuncName;

/// See the module docs.
pub struct ChanSendNoReceiver;

/// True when functions `a` and `b` belong to the same component: the same package and the
/// same receiver type, or (for plain functions and closures) the same top-level function.
pub fn related(a: &str, b: &str) -> bool {
    let (fa, fb) = (FuncName::split(a), FuncName::split(b));
    if fa.package != fb.package {
        return false;
    }
    match (fa.receiver, fb.receiver) {
        (Some(ra), Some(rb)) => ra.trim_start_matches('*') == rb.trim_start_matches('*'),
        _ => {
            let top = |n: &str| n.split('.').next().unwrap_or(n).to_string();
            top(fa.name) == top(fb.name) && fa.receiver.is_none() && fb.receiver.is_none()
        }
    }
}

/// Goroutines that could be the receiver for senders in blob `bi`: not senders themselves,
/// receiving, selecting or running, with an application frame related to the sending one.
pub fn potential_receivers(cx: &Context, bi: usize) -> u64 {
    let facts = &cx.facts;
    let Some(site) = facts.blobs[bi].site(facts) else {
        return 0;
    };
    facts
        .blobs
        .iter()
        .enumerate()
        .filter(|(i, b)| {
            *i != bi
                && matches!(
                    b.wait.kind,
                    WaitKind::ChanRecv
                        | WaitKind::Select
                        | WaitKind::Active
                        | WaitKind::Sleep
                        | WaitKind::Syscall
                        | WaitKind::NetIo
                )
                && facts
                    .stack(b.stack)
                    .frames
                    .iter()
                    .any(|f| related(&site.function, &f.function))
        })
        .map(|(_, b)| b.count)
        .sum()
}

/// A sentence on the receiving side of blob `bi`'s channel.
pub fn receiver_sentence(cx: &Context, bi: usize) -> String {
    let facts = &cx.facts;
    let site = facts.blobs[bi]
        .site(facts)
        .map(|f| f.function.to_string())
        .unwrap_or_default();
    let n = potential_receivers(cx, bi);
    let mut s = if n == 0 {
        format!(
            "no goroutine of the sender's component ({}) is receiving, selecting or running: the consumer is gone",
            component(&site)
        )
    } else {
        format!(
            "{} of the sender's component ({}) could still receive, but the senders are not progressing",
            describe::goroutines(n),
            component(&site)
        )
    };
    if let Some(series) = &facts.series {
        let gone: Vec<String> = series
            .vanished
            .iter()
            .filter(|v| v.frames.iter().any(|f| related(&site, &f.function)))
            .map(|v| {
                v.frames
                    .iter()
                    .find(|f| !crate::knowledge::is_library_frame(f))
                    .map(|f| f.function.to_string())
                    .unwrap_or_default()
            })
            .collect();
        if !gone.is_empty() {
            s.push_str(&format!(
                "; a goroutine in {} was present in the first snapshot and is gone",
                gone.join(", ")
            ));
        }
    }
    s
}

fn component(function: &str) -> String {
    let f = FuncName::split(function);
    match f.receiver {
        Some(r) => format!("{}.{}", f.package, r.trim_start_matches('*')),
        None => format!(
            "{}.{}",
            f.package,
            f.name.split('.').next().unwrap_or(f.name)
        ),
    }
}

impl Detector for ChanSendNoReceiver {
    fn kind(&self) -> &'static str {
        "chan-send-no-receiver"
    }

    fn summary(&self) -> &'static str {
        "goroutines blocked sending where nothing will receive (consumer exited, notify channel abandoned)"
    }

    fn source(&self) -> &'static str {
        include_str!("chan_send_no_receiver.rs")
    }

    fn check(&self, cx: &Context) -> Vec<Finding> {
        let facts = &cx.facts;
        // Group senders by sending site (and channel, when known).
        let mut sites: AHashMap<(String, u32, u64), Vec<usize>> = AHashMap::new();
        for (bi, b) in facts.blobs.iter().enumerate() {
            let send = b.wait.kind == WaitKind::ChanSend
                || (b.wait.kind == WaitKind::Forever && b.state.contains("send"));
            if !send {
                continue;
            }
            let Some(site) = b.site(facts) else { continue };
            sites
                .entry((
                    site.function.to_string(),
                    site.line,
                    b.wait.object.unwrap_or(0),
                ))
                .or_default()
                .push(bi);
        }
        let mut out = Vec::new();
        for ((function, _line, object), blobs) in sites {
            let n = describe::count(facts, &blobs);
            let stuck = blobs.iter().any(|&b| facts.blobs[b].stuck_evidence());
            let receivers = potential_receivers(cx, blobs[0]);
            let nil_chan = blobs
                .iter()
                .any(|&b| facts.blobs[b].wait.kind == WaitKind::Forever);
            if !stuck && (n < 20 || receivers > 0) {
                continue;
            }
            let max_wait = blobs
                .iter()
                .filter_map(|&b| facts.blobs[b].max_wait)
                .max()
                .unwrap_or(0);
            let severity = if stuck && (n >= 2 || max_wait >= 5 || nil_chan) {
                Severity::Critical
            } else {
                Severity::Warning
            };
            let confidence = match (stuck, receivers == 0) {
                (true, true) => 0.9,
                (true, false) => 0.7,
                (false, true) => 0.55,
                (false, false) => 0.4,
            };
            let site = facts.blobs[blobs[0]].site(facts).cloned();
            let handoff = blobs.iter().find_map(|&b| {
                facts.blobs[b]
                    .wait
                    .entry
                    .filter(|e| e.role == crate::knowledge::Role::AsyncHandoff)
            });
            let mut evidence = vec![format!(
                "{} blocked sending on {} in {}",
                describe::n_verb(n, "is", "are"),
                if nil_chan {
                    "a nil channel".to_string()
                } else if object != 0 {
                    format!("the channel at {}", describe::hex(object))
                } else {
                    "the same channel send".to_string()
                },
                site.as_ref()
                    .map(|s| format!("{} ({})", s.function, describe::short_loc(s)))
                    .unwrap_or(function.clone())
            )];
            evidence.push(receiver_sentence(cx, blobs[0]));
            evidence.extend(describe::stuck_sentences(facts, &blobs));
            // The callers that feed the blocked send, so the victims name application code.
            let mut victim_blobs = blobs.clone();
            victim_blobs.sort();
            out.push(Finding {
                kind: self.kind(),
                severity,
                confidence,
                title: format!("{} blocked sending on a channel that nobody receives from", describe::goroutines(n)),
                goroutines: n,
                root: site.iter().map(frame_ref).collect(),
                victims: callers(cx, &blobs),
                resource: Some(Resource {
                    kind: "channel".into(),
                    address: (object != 0).then(|| describe::hex(object)),
                    name: site.as_ref().map(|s| format!("channel sent to at {}", describe::short_loc(s))),
                }),
                evidence,
                advice: match handoff {
                    Some(e) => e.advice.to_string(),
                    None if nil_chan => "A send on a nil channel blocks forever: the channel was never made (or was set to nil). Initialise it before use.".into(),
                    None => "The goroutine that receives from this channel has returned or stopped receiving. Keep the consumer alive for the channel's whole life (log errors and continue instead of returning), and make producers that must not block use `select` with `default` (drop or count) or with `ctx.Done()`.".into(),
                },
                source: vec![],
            });
        }
        out
    }
}

/// The application frames that called into the blocked send (one level above the site),
/// so that victims name the request paths that are stuck.
fn callers(cx: &Context, blobs: &[usize]) -> Vec<crate::diagnose::finding::Victim> {
    let facts = &cx.facts;
    let mut out: Vec<crate::diagnose::finding::Victim> = Vec::new();
    for &bi in blobs {
        let b = &facts.blobs[bi];
        let frames = &facts.stack(b.stack).frames;
        let start = b.wait.site.map_or(0, |s| s + 1);
        let f = frames[start.min(frames.len())..]
            .iter()
            .find(|f| !crate::knowledge::is_library_frame(f))
            .or_else(|| b.site(facts));
        let Some(f) = f else { continue };
        match out
            .iter_mut()
            .find(|v| v.function == *f.function && v.line == f.line)
        {
            Some(v) => {
                v.goroutines += b.count;
                v.wait_minutes = v.wait_minutes.max(b.max_wait);
            }
            None => out.push(crate::diagnose::finding::Victim {
                function: f.function.to_string(),
                file: f.file.to_string(),
                line: f.line,
                goroutines: b.count,
                wait_minutes: b.max_wait,
            }),
        }
    }
    out.sort_by(|a, b| {
        b.goroutines
            .cmp(&a.goroutines)
            .then_with(|| a.function.cmp(&b.function))
            .then(a.line.cmp(&b.line))
    });
    out.truncate(10);
    out
}
