//! Hang signatures: small pure functions over a target's recent polls that say "this looks
//! like the start of a hang, take the full evidence now". They are cheap on purpose — the
//! diagnosis that follows reads the full bundle; a signature only has to be right about
//! *when* to look.
//!
//! - [`above_baseline`]: the goroutine count stays far above what the service normally runs.
//! - [`blocked_group`]: goroutines pile up on one stack that waits for a lock, a WaitGroup, a
//!   Cond, a semaphore or a pool, and none leave.
//! - [`close_wait_growth`]: sockets the peer closed but the process never did accumulate.

use std::collections::VecDeque;
use std::time::Duration;

use crate::diagnose::waits::WaitKind;

/// Signature names, as stored and shown.
pub const ABOVE_BASELINE: &str = "goroutines-above-baseline";
/// See [`blocked_group`].
pub const BLOCKED_GROUP: &str = "blocked-group";
/// See [`close_wait_growth`].
pub const CLOSE_WAIT_GROWTH: &str = "close-wait-growth";

/// When a signature fires.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Polls that teach the baseline before [`above_baseline`] may fire.
    pub warmup: usize,
    /// How far back the baseline looks.
    pub baseline_window: Duration,
    /// The baseline's percentile, in (0, 1].
    pub baseline_quantile: f64,
    /// Fire above `baseline × factor` …
    pub factor: f64,
    /// … and above `baseline + min_extra`, whichever is higher.
    pub min_extra: u64,
    /// For this many consecutive polls.
    pub consecutive: usize,
    /// A blocked group needs at least this many goroutines …
    pub group_min: u64,
    /// … present, and never fewer from one poll to the next, for this long.
    pub group_for: Duration,
    /// CLOSE_WAIT sockets must rise by at least this many …
    pub close_wait_rise: u64,
    /// … within this window.
    pub close_wait_window: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warmup: 8,
            baseline_window: Duration::from_secs(3600),
            baseline_quantile: 0.95,
            factor: 2.0,
            min_extra: 100,
            consecutive: 3,
            group_min: 5,
            group_for: Duration::from_secs(60),
            close_wait_rise: 20,
            close_wait_window: Duration::from_secs(120),
        }
    }
}

/// A signature that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// Which ([`ABOVE_BASELINE`], [`BLOCKED_GROUP`], [`CLOSE_WAIT_GROWTH`]).
    pub signature: &'static str,
    /// What it saw, in a sentence.
    pub detail: String,
}

/// One stack of a poll that waits in a way that can hang (kept only for those).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupObs {
    /// Identifies the stack across polls (a hash of its frames).
    pub key: u64,
    /// Goroutines on it.
    pub count: u64,
    /// What they wait for.
    pub what: &'static str,
    /// The application function where they wait.
    pub site: String,
}

/// What one successful poll saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Obs {
    /// Milliseconds since the epoch.
    pub at: i64,
    /// Goroutines.
    pub goroutines: u64,
    /// CLOSE_WAIT sockets of the target, when read.
    pub close_wait: Option<u64>,
    /// Stacks waiting on locks, WaitGroups, Conds, semaphores or pools.
    pub groups: Vec<GroupObs>,
}

/// What a stack's wait is called in a [`GroupObs`], when it is one a blocked group may be
/// made of; `None` for channel waits, I/O, sleeps, idle servers and running code, which a
/// healthy service also parks in for minutes (idle worker pools receive on a channel).
pub fn blocking_wait(kind: WaitKind, semaphore_leaf: bool) -> Option<&'static str> {
    match kind {
        WaitKind::Mutex => Some("a mutex"),
        WaitKind::RwRead | WaitKind::RwWrite => Some("an RWMutex"),
        WaitKind::Once => Some("a sync.Once"),
        WaitKind::WaitGroup => Some("a WaitGroup"),
        WaitKind::Cond => Some("a sync.Cond"),
        WaitKind::PoolAcquire => Some("a pooled resource"),
        WaitKind::Other if semaphore_leaf => Some("a semaphore"),
        _ => None,
    }
}

/// The goroutine baseline: a high percentile of the recent healthy polls, learned from the
/// first [`Thresholds::warmup`] polls and rolling after that. Bounded in memory.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    counts: VecDeque<(i64, u64)>,
}

/// At most this many polls are kept for the baseline (an hour at the default 15 s poll is 240).
pub const BASELINE_MAX: usize = 2000;

impl Baseline {
    /// A baseline resumed from saved `(at, goroutines)` polls.
    pub fn from_saved(mut saved: Vec<(i64, u64)>) -> Baseline {
        saved.sort_unstable();
        let skip = saved.len().saturating_sub(BASELINE_MAX);
        Baseline {
            counts: saved.into_iter().skip(skip).collect(),
        }
    }

    /// Adds a poll taken while no signature was firing, and forgets what is older than the
    /// window.
    pub fn push(&mut self, at: i64, goroutines: u64, th: &Thresholds) {
        self.counts.push_back((at, goroutines));
        let oldest = at.saturating_sub(th.baseline_window.as_millis() as i64);
        while self.counts.len() > BASELINE_MAX
            || self.counts.front().is_some_and(|&(t, _)| t < oldest)
        {
            self.counts.pop_front();
        }
    }

    /// The polls it holds, oldest first.
    pub fn saved(&self) -> Vec<(i64, u64)> {
        self.counts.iter().copied().collect()
    }

    /// The baseline, once at least `warmup` polls are known.
    pub fn value(&self, th: &Thresholds) -> Option<f64> {
        if self.counts.is_empty() || self.counts.len() < th.warmup.max(1) {
            return None;
        }
        let mut v: Vec<u64> = self.counts.iter().map(|&(_, n)| n).collect();
        v.sort_unstable();
        let q = th.baseline_quantile.clamp(0.0, 1.0);
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Some(v[rank - 1] as f64)
    }
}

/// The count above which [`above_baseline`] counts a poll.
pub fn baseline_limit(baseline: f64, th: &Thresholds) -> u64 {
    (baseline * th.factor)
        .max(baseline + th.min_extra as f64)
        .floor() as u64
}

/// Fires when each of the last [`Thresholds::consecutive`] polls counted more goroutines
/// than `max(baseline × factor, baseline + min_extra)`.
pub fn above_baseline(recent: &[Obs], baseline: Option<f64>, th: &Thresholds) -> Option<Fired> {
    let b = baseline?;
    let k = th.consecutive.max(1);
    if recent.len() < k {
        return None;
    }
    let limit = baseline_limit(b, th);
    let last = &recent[recent.len() - k..];
    if !last.iter().all(|o| o.goroutines > limit) {
        return None;
    }
    let now = last[k - 1].goroutines;
    Some(Fired {
        signature: ABOVE_BASELINE,
        detail: format!(
            "{now} goroutines, above {limit} (baseline {b:.0}) for {k} consecutive polls"
        ),
    })
}

/// Fires when one stack that waits on a lock, WaitGroup, Cond, semaphore or pool has held at
/// least [`Thresholds::group_min`] goroutines at every poll for [`Thresholds::group_for`],
/// never fewer than at the poll before: goroutines join and none leave. A contended but
/// working lock lets waiters go, so its count drops now and then.
pub fn blocked_group(recent: &[Obs], th: &Thresholds) -> Option<Fired> {
    let last = recent.last()?;
    let need = th.group_for.as_millis() as i64;
    let mut best: Option<(&GroupObs, i64, u64)> = None;
    for g in last.groups.iter().filter(|g| g.count >= th.group_min) {
        let mut later = g.count;
        let mut since = last.at;
        let mut first = g.count;
        for o in recent[..recent.len() - 1].iter().rev() {
            match o.groups.iter().find(|h| h.key == g.key) {
                Some(h) if h.count >= th.group_min && h.count <= later => {
                    later = h.count;
                    first = h.count;
                    since = o.at;
                }
                _ => break,
            }
        }
        let held = last.at - since;
        if held >= need && best.is_none_or(|(b, _, _)| g.count > b.count) {
            best = Some((g, held, first));
        }
    }
    let (g, held, first) = best?;
    Some(Fired {
        signature: BLOCKED_GROUP,
        detail: format!(
            "{} goroutines waiting for {} in {} (from {first}, none left) for {:.0} s",
            g.count,
            g.what,
            g.site,
            held as f64 / 1000.0
        ),
    })
}

/// Fires when the target's CLOSE_WAIT sockets rose by at least
/// [`Thresholds::close_wait_rise`] within [`Thresholds::close_wait_window`]: peers gave up
/// on requests the process is still not answering.
pub fn close_wait_growth(recent: &[Obs], th: &Thresholds) -> Option<Fired> {
    let last = recent.last()?;
    let now = last.close_wait?;
    let from = last.at - th.close_wait_window.as_millis() as i64;
    let low = recent
        .iter()
        .filter(|o| o.at >= from)
        .filter_map(|o| o.close_wait)
        .min()?;
    let rise = now.saturating_sub(low);
    if rise < th.close_wait_rise.max(1) {
        return None;
    }
    Some(Fired {
        signature: CLOSE_WAIT_GROWTH,
        detail: format!(
            "CLOSE_WAIT sockets rose from {low} to {now} within {:.0} s",
            th.close_wait_window.as_secs_f64()
        ),
    })
}

/// Every signature that holds now, in a fixed order.
pub fn evaluate(recent: &[Obs], baseline: Option<f64>, th: &Thresholds) -> Vec<Fired> {
    [
        blocked_group(recent, th),
        above_baseline(recent, baseline, th),
        close_wait_growth(recent, th),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-made poll sequences, 10 s apart.
    fn obs(i: i64, goroutines: u64) -> Obs {
        Obs {
            at: i * 10_000,
            goroutines,
            ..Obs::default()
        }
    }

    fn with_group(mut o: Obs, key: u64, count: u64) -> Obs {
        o.groups.push(GroupObs {
            key,
            count,
            what: "a mutex",
            site: "main.(*Hub).Follow".into(),
        });
        o
    }

    fn th() -> Thresholds {
        Thresholds {
            warmup: 3,
            consecutive: 3,
            group_min: 5,
            group_for: Duration::from_secs(30),
            ..Thresholds::default()
        }
    }

    #[test]
    fn baseline_waits_for_warmup_then_takes_a_high_percentile() {
        let t = Thresholds { warmup: 4, ..th() };
        let mut b = Baseline::default();
        for (i, n) in [40, 42, 41].into_iter().enumerate() {
            b.push(i as i64 * 1000, n, &t);
        }
        assert_eq!(b.value(&t), None, "three polls are not a baseline yet");
        b.push(3000, 60, &t);
        assert_eq!(b.value(&t), Some(60.0));
        for i in 4..40 {
            b.push(i * 1000, 40, &t);
        }
        // 40 polls: the spike of 60 (and the 42) lie above the 95th percentile.
        assert_eq!(b.value(&t), Some(41.0));
    }

    #[test]
    fn baseline_forgets_polls_older_than_its_window() {
        let t = Thresholds {
            warmup: 1,
            baseline_window: Duration::from_secs(60),
            ..th()
        };
        let mut b = Baseline::default();
        b.push(0, 500, &t);
        b.push(120_000, 50, &t);
        assert_eq!(b.value(&t), Some(50.0));
        let resumed = Baseline::from_saved(b.saved());
        assert_eq!(resumed.value(&t), Some(50.0));
    }

    #[test]
    fn above_baseline_needs_k_consecutive_polls_over_both_limits() {
        let t = th();
        // baseline 100: limit max(200, 200) = 200.
        let seq: Vec<Obs> = [150, 250, 260, 190, 300, 310]
            .into_iter()
            .enumerate()
            .map(|(i, n)| obs(i as i64, n))
            .collect();
        for end in 1..=seq.len() {
            assert_eq!(
                above_baseline(&seq[..end], Some(100.0), &t),
                None,
                "fired after {end} polls"
            );
        }
        let mut more = seq.clone();
        more.push(obs(6, 320));
        let f = above_baseline(&more, Some(100.0), &t).expect("three in a row");
        assert_eq!(f.signature, ABOVE_BASELINE);
        assert!(
            f.detail.starts_with("320 goroutines, above 200"),
            "{}",
            f.detail
        );
        // A small service: doubling 10 goroutines is not enough, min_extra holds it back.
        let small: Vec<Obs> = (0..5).map(|i| obs(i, 30)).collect();
        assert_eq!(above_baseline(&small, Some(10.0), &t), None);
        assert_eq!(above_baseline(&more, None, &t), None, "no baseline yet");
    }

    #[test]
    fn a_group_that_only_grows_for_long_enough_fires() {
        let t = th();
        let seq: Vec<Obs> = [5, 8, 8, 12]
            .into_iter()
            .enumerate()
            .map(|(i, n)| with_group(obs(i as i64, 100), 7, n))
            .collect();
        let f = blocked_group(&seq, &t).expect("30 s without shrinking");
        assert_eq!(f.signature, BLOCKED_GROUP);
        assert!(
            f.detail.contains("12 goroutines waiting for a mutex"),
            "{}",
            f.detail
        );
        assert!(f.detail.contains("main.(*Hub).Follow"), "{}", f.detail);
        assert_eq!(blocked_group(&seq[..3], &t), None, "only 20 s so far");
    }

    #[test]
    fn a_contended_lock_whose_waiters_come_and_go_does_not_fire() {
        let t = th();
        let seq: Vec<Obs> = [9, 12, 7, 11, 10, 14]
            .into_iter()
            .enumerate()
            .map(|(i, n)| with_group(obs(i as i64, 100), 7, n))
            .collect();
        // The count dropped at poll 4 (11 → 10): the span since is only 10 s.
        assert_eq!(blocked_group(&seq, &t), None);
        // Absent for a poll, or below the minimum: the run starts again.
        let gap = vec![
            with_group(obs(0, 100), 7, 6),
            with_group(obs(1, 100), 7, 6),
            obs(2, 100),
            with_group(obs(3, 100), 7, 6),
            with_group(obs(4, 100), 7, 6),
        ];
        assert_eq!(blocked_group(&gap, &t), None);
        let small: Vec<Obs> = (0..6).map(|i| with_group(obs(i, 100), 7, 4)).collect();
        assert_eq!(blocked_group(&small, &t), None);
    }

    #[test]
    fn idle_channel_waits_are_not_blocking_groups() {
        assert_eq!(blocking_wait(WaitKind::ChanRecv, false), None);
        assert_eq!(blocking_wait(WaitKind::Select, false), None);
        assert_eq!(blocking_wait(WaitKind::Idle, false), None);
        assert_eq!(blocking_wait(WaitKind::Other, false), None);
        assert_eq!(blocking_wait(WaitKind::Other, true), Some("a semaphore"));
        assert_eq!(
            blocking_wait(WaitKind::PoolAcquire, false),
            Some("a pooled resource")
        );
    }

    #[test]
    fn close_wait_rising_within_the_window_fires_and_old_lows_do_not_count() {
        let t = Thresholds {
            close_wait_rise: 20,
            close_wait_window: Duration::from_secs(30),
            ..th()
        };
        let cw = |i: i64, n: u64| Obs {
            close_wait: Some(n),
            ..obs(i, 10)
        };
        let seq = vec![cw(0, 0), cw(1, 3), cw(2, 10), cw(3, 25)];
        let f = close_wait_growth(&seq, &t).expect("0 to 25 within 30 s");
        assert!(f.detail.contains("from 0 to 25"), "{}", f.detail);
        // The low of 0 is 40 s old by poll 4; within the window the rise is 25 - 10 = 15.
        let seq = vec![cw(0, 0), cw(1, 20), cw(2, 10), cw(3, 20), cw(4, 25)];
        assert_eq!(close_wait_growth(&seq, &t), None);
        // No socket table (a remote target): nothing to say.
        assert_eq!(close_wait_growth(&[obs(0, 1), obs(1, 1)], &t), None);
    }
}
