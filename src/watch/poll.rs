//! One cheap look at a target: the aggregated goroutine profile (`goroutine?debug=1`, never
//! the full debug=2 dump), bounded in bytes and time, folded into an [`Obs`] and a stored
//! [`Sample`]; and, for a target on this machine, its CLOSE_WAIT sockets.
//!
//! debug=1 is the cheap form: the runtime groups identical stacks itself, so the body grows
//! with the number of distinct stacks, not of goroutines. It prints no wait states and hides
//! the runtime's own leaf frames, so waits are classified from the frames that remain
//! ([`crate::diagnose::waits::classify`]).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Cursor;
use std::time::Instant;

use crate::capture::{Client, FetchError, Target, sockets};
use crate::diagnose::waits::{self, WaitKind};
use crate::model::{Stack, WaitReason};
use crate::parse;

use super::signature::{GroupObs, Obs, blocking_wait};
use super::store::Sample;

/// Why a poll failed: a short class (a change of class is logged, a repeat is not) and the
/// sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `down`, `timeout`, `too-big`, `not-a-dump`, `http`, `error`.
    pub class: &'static str,
    /// What happened.
    pub message: String,
}

/// The result of a successful poll.
#[derive(Debug, Clone)]
pub struct Polled {
    /// For the signatures.
    pub obs: Obs,
    /// Goroutines by what they wait for (`mutex`, `chan receive`, `io wait`, …).
    pub by_state: Vec<(String, u64)>,
}

/// Polls one target.
pub struct Poller {
    client: Client,
    /// The URL polled.
    pub url: String,
    host: String,
    port: u16,
    /// Read the socket table: `None` until the first read tells whether the target is local.
    sockets: Option<bool>,
}

impl Poller {
    /// A poller for `target`; `sockets` false never reads the socket table.
    pub fn new(target: &Target, client: Client, sockets: bool) -> Poller {
        Poller {
            client,
            url: poll_url(target),
            host: target.host.clone(),
            port: target.port,
            sockets: if sockets { None } else { Some(false) },
        }
    }

    /// Takes one poll at `at` (milliseconds): the sample to store, and what the signatures
    /// read when it succeeded.
    pub fn poll(&mut self, at: i64) -> (Sample, Result<Polled, Failure>) {
        let t0 = Instant::now();
        let r = self.profile(at);
        let poll_ms = t0.elapsed().as_millis() as u64;
        let sample = match &r {
            Ok(p) => Sample {
                at,
                ok: true,
                goroutines: Some(p.obs.goroutines),
                by_state: p.by_state.clone(),
                close_wait: p.obs.close_wait,
                poll_ms: Some(poll_ms),
                error: None,
            },
            Err(f) => Sample {
                at,
                ok: false,
                poll_ms: Some(poll_ms),
                error: Some(f.message.clone()),
                ..Sample::default()
            },
        };
        (sample, r)
    }

    fn profile(&mut self, at: i64) -> Result<Polled, Failure> {
        let reply = self.client.get(&self.url).map_err(failure)?;
        if reply.over_limit {
            return Err(Failure {
                class: "too-big",
                message: format!(
                    "{}: the profile is larger than --max-bytes ({} bytes); raise it, or the target has more distinct stacks than a poll should read",
                    self.url,
                    reply.body.len()
                ),
            });
        }
        let not_a_dump = |why: String| Failure {
            class: "not-a-dump",
            message: format!(
                "{} answered with something that is not a goroutine profile: {why}",
                self.url
            ),
        };
        let snap = parse::parse_reader(
            Box::new(Cursor::new(reply.body)),
            &self.url,
            &parse::Options::default(),
        )
        .map_err(|e| not_a_dump(e.to_string()))?;
        if snap.goroutine_count() == 0 || snap.format == Some(crate::model::Format::Sockets) {
            return Err(not_a_dump("no goroutines in it".into()));
        }
        let (groups, by_state) = fold(&snap);
        let close_wait = self.close_wait();
        Ok(Polled {
            obs: Obs {
                at,
                goroutines: snap.goroutine_count(),
                close_wait,
                groups,
            },
            by_state,
        })
    }

    fn close_wait(&mut self) -> Option<u64> {
        if self.sockets == Some(false) {
            return None;
        }
        let cap = sockets::capture(&self.host, self.port);
        if self.sockets.is_none() {
            self.sockets = Some(cap.local);
        }
        if !cap.local || cap.tables.is_empty() {
            return None;
        }
        Some(
            cap.tables
                .iter()
                .map(|t| count_close_wait(&t.text, &cap.pids, self.port))
                .sum(),
        )
    }
}

/// The URL a poll reads: debug=1 under the pprof base when the target names one, else the
/// URL as given.
pub fn poll_url(target: &Target) -> String {
    match &target.base {
        Some(base) => format!("{base}goroutine?debug=1"),
        None => target.dump_url.clone(),
    }
}

fn failure(e: FetchError) -> Failure {
    let class = match &e {
        FetchError::Refused { .. } | FetchError::HostNotFound { .. } => "down",
        FetchError::Timeout { .. } => "timeout",
        FetchError::Status { .. }
        | FetchError::NotFound { .. }
        | FetchError::UnknownProfile { .. }
        | FetchError::Denied { .. } => "http",
        FetchError::Other { message, .. } if message.contains("closed") => "down",
        _ => "error",
    };
    Failure {
        class,
        message: e.to_string(),
    }
}

/// A stack's identity across polls: its functions, files and lines.
fn stack_key(stack: &Stack) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in &stack.frames {
        f.function.hash(&mut h);
        f.file.hash(&mut h);
        f.line.hash(&mut h);
    }
    h.finish()
}

/// The short name of a wait in metrics and samples.
pub fn wait_label(kind: WaitKind) -> &'static str {
    match kind {
        WaitKind::Mutex => "mutex",
        WaitKind::RwRead | WaitKind::RwWrite => "rwmutex",
        WaitKind::Once => "once",
        WaitKind::WaitGroup => "waitgroup",
        WaitKind::Cond => "cond",
        WaitKind::ChanSend => "chan send",
        WaitKind::ChanRecv => "chan receive",
        WaitKind::Select => "select",
        WaitKind::Forever => "forever",
        WaitKind::PoolAcquire => "pool",
        WaitKind::NetIo => "io wait",
        WaitKind::Sleep => "sleep",
        WaitKind::Syscall => "syscall",
        WaitKind::Active => "running",
        WaitKind::Idle => "idle",
        WaitKind::Other => "other",
    }
}

/// Groups a profile by stack (per-goroutine dumps too) and classifies each stack's wait:
/// the blocking groups for [`super::signature::blocked_group`], and counts by wait.
pub fn fold(snap: &crate::model::Snapshot) -> (Vec<GroupObs>, Vec<(String, u64)>) {
    // (stack id, reason) → count.
    let mut per: HashMap<(u32, WaitReason), u64> = HashMap::new();
    if snap.goroutines.is_empty() {
        for r in &snap.records {
            *per.entry((r.stack, WaitReason::Unknown)).or_default() += r.count.max(0) as u64;
        }
    } else {
        for g in &snap.goroutines {
            *per.entry((g.stack, snap.state(g).reason)).or_default() += 1;
        }
    }
    let mut groups: HashMap<u64, GroupObs> = HashMap::new();
    let mut by_state: HashMap<&'static str, u64> = HashMap::new();
    for ((stack_id, reason), count) in per {
        let Some(stack) = snap.stacks.get(stack_id as usize) else {
            continue;
        };
        let w = waits::classify(stack, reason, None);
        *by_state.entry(wait_label(w.kind)).or_default() += count;
        let sema = stack
            .frames
            .iter()
            .take(4)
            .any(|f| f.function.contains("runtime_Semacquire"));
        let Some(what) = blocking_wait(w.kind, sema) else {
            continue;
        };
        let site = w
            .site
            .or(w.lib_frame)
            .and_then(|i| stack.frames.get(i))
            .or(stack.frames.first())
            .map(|f| f.function.to_string())
            .unwrap_or_default();
        let key = stack_key(stack);
        groups
            .entry(key)
            .and_modify(|g| g.count += count)
            .or_insert(GroupObs {
                key,
                count,
                what,
                site,
            });
    }
    let mut groups: Vec<GroupObs> = groups.into_values().collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    let mut by_state: Vec<(String, u64)> = by_state
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    by_state.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (groups, by_state)
}

/// CLOSE_WAIT sockets in a kept socket table (`ss -tanp` or `/proc/net/tcp{,6}`): those of
/// the target's processes when they are known, else those whose local port is the target's.
pub fn count_close_wait(text: &str, pids: &[u32], port: u16) -> u64 {
    let mut n = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (close_wait, local_port, pid_hit) = if f.first().is_some_and(|s| s.ends_with(':')) {
            // /proc/net/tcp: "sl local rem st …"; no pids (the rows are already the
            // target's sockets or its port's).
            let lp = f
                .get(1)
                .and_then(|e| e.rsplit_once(':'))
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            (f.get(3) == Some(&"08"), lp, pids.is_empty())
        } else {
            let lp = f
                .get(3)
                .and_then(|e| e.rsplit_once(':'))
                .and_then(|(_, p)| p.parse().ok());
            let hit = pids.iter().any(|p| {
                line.contains(&format!("pid={p},")) || line.contains(&format!("pid={p})"))
            });
            (f.first() == Some(&"CLOSE-WAIT"), lp, hit)
        };
        if close_wait && (pid_hit || (pids.is_empty() && local_port == Some(port))) {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_wait_counts_the_target_process_sockets() {
        // Hand-written `ss -tanp` rows.
        let ss = "State Recv-Q Send-Q Local Peer Process
LISTEN 0 4096 127.0.0.1:6060 0.0.0.0:* users:((\"svc\",pid=42,fd=5))
CLOSE-WAIT 1 0 127.0.0.1:8080 127.0.0.1:5555 users:((\"svc\",pid=42,fd=9))
CLOSE-WAIT 1 0 127.0.0.1:8080 127.0.0.1:5556 users:((\"svc\",pid=42,fd=10))
CLOSE-WAIT 1 0 127.0.0.1:5557 127.0.0.1:6060 users:((\"other\",pid=77,fd=3))
ESTAB 0 0 127.0.0.1:8080 127.0.0.1:5558 users:((\"svc\",pid=42,fd=11))
";
        assert_eq!(count_close_wait(ss, &[42], 6060), 2);
        // Without visible processes: the target's own port only.
        assert_eq!(count_close_wait(ss, &[], 8080), 2);
        assert_eq!(count_close_wait(ss, &[], 6060), 0);
        // Hand-written /proc/net/tcp rows: state 08 is CLOSE_WAIT.
        let proc = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 0100007F:15B3 08 00000000:00000001 00:00000000 00000000     0        0 1 1
   1: 0100007F:1F90 0100007F:15B4 01 00000000:00000000 00:00000000 00000000     0        0 2 1
";
        assert_eq!(count_close_wait(proc, &[], 8080), 1);
    }

    #[test]
    fn a_debug1_profile_folds_into_blocking_groups_and_wait_counts() {
        // Hand-written debug=1 profile: 12 goroutines waiting on a mutex under main.(*Hub).Follow,
        // 8 idle workers receiving on a channel (runtime frames hidden), the profile writer.
        let text = "goroutine profile: total 21
12 @ 0x1 0x2 0x3 0x4
#\t0x1\tsync.runtime_SemacquireMutex+0x25\t/usr/local/go/src/runtime/sema.go:95
#\t0x2\tsync.(*Mutex).lockSlow+0x15d\t/usr/local/go/src/sync/mutex.go:173
#\t0x3\tsync.(*Mutex).Lock+0x48\t/usr/local/go/src/sync/mutex.go:92
#\t0x4\tmain.(*Hub).Follow+0x2e\t/src/hub.go:50

8 @ 0x5 0x6
#\t0x5\tmain.(*Pool).worker+0x40\t/src/pool.go:30

1 @ 0x7 0x8
#\t0x7\truntime/pprof.writeRuntimeProfile+0xb4\t/usr/local/go/src/runtime/pprof/pprof.go:796
#\t0x8\tmain.main+0x10\t/src/main.go:9

";
        let snap = parse::parse_reader(
            Box::new(Cursor::new(text.as_bytes().to_vec())),
            "t",
            &parse::Options::default(),
        )
        .unwrap();
        assert_eq!(snap.goroutine_count(), 21);
        let (groups, by_state) = fold(&snap);
        assert_eq!(groups.len(), 1, "{groups:?}");
        assert_eq!(groups[0].count, 12);
        assert_eq!(groups[0].what, "a mutex");
        assert_eq!(groups[0].site, "main.(*Hub).Follow");
        assert_eq!(by_state[0], ("mutex".to_string(), 12));
        assert!(by_state.iter().all(|(k, _)| k != "chan receive"));
    }
}
