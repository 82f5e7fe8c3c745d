//! The watcher: one thread per target polls and judges; one owner (the calling thread)
//! holds the store and performs every write, in the order the threads ask. A SIGINT or
//! SIGTERM lets each thread finish what it is doing, the owner finish the writes asked of
//! it, and the watcher return.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};

use super::config::TargetSpec;
use super::incident;
use super::log::{Level, Logger, Val};
use super::metrics::{self, Shared};
use super::poll::{Failure, Poller};
use super::signature::{self, Baseline, Fired, Obs, Thresholds};
use super::store::{Retention, Store, StoreError};
use crate::capture::{self, Client, HttpOptions, Target};

/// How the watcher runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The store directory.
    pub store: PathBuf,
    /// The targets.
    pub targets: Vec<TargetSpec>,
    /// Requests of a poll (short deadlines, `max_bytes` per poll).
    pub poll_http: HttpOptions,
    /// What an incident takes (its `http` makes the requests).
    pub capture: capture::Options,
    /// What the store keeps.
    pub retention: Retention,
    /// `/metrics` address.
    pub metrics: Option<String>,
    /// The log.
    pub log: Logger,
    /// Stop after this many incidents have been captured and diagnosed (or failed).
    pub max_incidents: Option<usize>,
    /// Stop after this long.
    pub exit_after: Option<Duration>,
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A store write, run by the owner; its result goes back when someone waits for it.
type Op = Box<dyn FnOnce(&Store) -> Result<i64, StoreError> + Send>;

enum Msg {
    Write(Op, Option<Sender<Result<i64, String>>>),
    IncidentDone,
    Prune,
    ThreadDone,
}

/// How often the baseline's polls are saved.
const SAVE_BASELINE_EVERY: u32 = 4;
/// How often retention runs besides after each incident.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Runs until stopped (a signal, `exit_after`, `max_incidents`). Errors only when it cannot
/// start (the store, the metrics address, a target's client).
pub fn run(s: Settings) -> Result<(), String> {
    let log = s.log;
    let store = Store::open(&s.store).map_err(|e| e.to_string())?;
    let start = now_ms();
    let recovered = store.recover(start).map_err(|e| e.to_string())?;
    if recovered > 0 {
        log.event(
            Level::Warn,
            "recovered",
            &[
                ("incidents", recovered.into()),
                (
                    "why",
                    "left capturing by a watcher that stopped; marked failed".into(),
                ),
            ],
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while stopping ends the process at once.
        signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()))
            .map_err(|e| format!("installing the signal handler: {e}"))?;
    }

    let shared: Shared = Default::default();
    let mut metrics_server = None;
    if let Some(addr) = &s.metrics {
        let server = metrics::serve(addr, shared.clone())?;
        log.event(
            Level::Info,
            "metrics-listening",
            &[("url", format!("http://{}/metrics", server.addr()).into())],
        );
        metrics_server = Some(server);
    }

    let (tx, rx) = crossbeam_channel::unbounded::<Msg>();
    let mut threads = Vec::new();
    for spec in &s.targets {
        let row = store
            .target(&spec.name, &spec.target.url, start)
            .map_err(|e| e.to_string())?;
        let saved = store.baseline(row.id).map_err(|e| e.to_string())?;
        // The cooldown holds across a restart: it counts from the last incident stored.
        let last_incident = store
            .incidents(Some(row.id), 1)
            .map_err(|e| e.to_string())?
            .first()
            .and_then(|i| {
                let ago = Duration::from_millis(start.saturating_sub(i.opened_at).max(0) as u64);
                Instant::now().checked_sub(ago)
            });
        metrics::update(&shared, &spec.name, |_| {});
        let w = Watcher {
            spec: spec.clone(),
            target_id: row.id,
            poller: Poller::new(
                &spec.target,
                Client::new(s.poll_http.clone())?,
                spec.sockets,
            ),
            capture_target: capture_target(&spec.target),
            capture_client: Client::new(s.capture.http.clone())?,
            capture: s.capture.clone(),
            store_dir: s.store.clone(),
            baseline: Baseline::from_saved(saved),
            recent: VecDeque::new(),
            active: HashSet::new(),
            last_incident,
            failing: None,
            seen_ok: false,
            baseline_known: false,
            polls: 0,
            tx: tx.clone(),
            stop: stop.clone(),
            shared: shared.clone(),
            log,
        };
        log.event(
            Level::Info,
            "watching",
            &[
                ("target", (&spec.name).into()),
                ("url", (&w.poller.url).into()),
                ("poll_s", spec.poll.as_secs_f64().into()),
            ],
        );
        threads.push(
            std::thread::Builder::new()
                .name(format!("watch {}", spec.name))
                .spawn(move || w.run())
                .map_err(|e| e.to_string())?,
        );
    }
    drop(tx);

    owner(&store, &rx, &s, &stop, threads.len(), log);

    for t in threads {
        let _ = t.join();
    }
    drop(metrics_server);
    log.event(Level::Info, "stopped", &[]);
    Ok(())
}

/// The store's owner: performs writes until every target thread is done.
fn owner(
    store: &Store,
    rx: &Receiver<Msg>,
    s: &Settings,
    stop: &AtomicBool,
    threads: usize,
    log: Logger,
) {
    let started = Instant::now();
    let mut last_prune = Instant::now();
    let mut done_threads = 0;
    let incidents = AtomicUsize::new(0);
    prune(store, &s.retention, log);
    while done_threads < threads {
        if s.exit_after.is_some_and(|d| started.elapsed() >= d) {
            stop.store(true, Ordering::Relaxed);
        }
        if last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = Instant::now();
            prune(store, &s.retention, log);
        }
        let msg = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(m) => m,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        match msg {
            Msg::Write(op, reply) => {
                let r = op(store).map_err(|e| e.to_string());
                if let Err(e) = &r {
                    log.event(Level::Error, "store-failed", &[("error", e.into())]);
                }
                if let Some(reply) = reply {
                    let _ = reply.send(r);
                }
            }
            Msg::Prune => prune(store, &s.retention, log),
            Msg::IncidentDone => {
                let n = incidents.fetch_add(1, Ordering::Relaxed) + 1;
                if s.max_incidents.is_some_and(|m| n >= m) {
                    stop.store(true, Ordering::Relaxed);
                }
            }
            Msg::ThreadDone => done_threads += 1,
        }
    }
}

fn prune(store: &Store, keep: &Retention, log: Logger) {
    match store.prune(keep, now_ms()) {
        Ok(removed) if !removed.is_empty() => log.event(
            Level::Info,
            "pruned",
            &[
                ("bundles", removed.len().into()),
                (
                    "oldest",
                    removed
                        .first()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                        .into(),
                ),
            ],
        ),
        Ok(_) => {}
        Err(e) => log.event(
            Level::Error,
            "prune-failed",
            &[("error", e.to_string().into())],
        ),
    }
}

/// The URL an incident captures from: the full debug=2 dump under the pprof base when the
/// target names one (its poll URL may be debug=1), else the URL as given.
fn capture_target(t: &Target) -> Target {
    t.base
        .as_deref()
        .and_then(|b| Target::parse(b).ok())
        .map(|mut c| {
            c.url = t.url.clone();
            c
        })
        .unwrap_or_else(|| t.clone())
}

/// One target's thread.
struct Watcher {
    spec: TargetSpec,
    target_id: i64,
    poller: Poller,
    capture_target: Target,
    capture_client: Client,
    capture: capture::Options,
    store_dir: PathBuf,
    baseline: Baseline,
    /// Successful polls of the last window only.
    recent: VecDeque<Obs>,
    /// Signatures that opened an incident (or were held back by the cooldown) and still
    /// hold: not opened again until they clear.
    active: HashSet<&'static str>,
    last_incident: Option<Instant>,
    /// The failure class of the last poll, if it failed.
    failing: Option<&'static str>,
    seen_ok: bool,
    baseline_known: bool,
    polls: u32,
    tx: Sender<Msg>,
    stop: Arc<AtomicBool>,
    shared: Shared,
    log: Logger,
}

impl Watcher {
    fn run(mut self) {
        let mut next = Instant::now();
        while !self.stopping() {
            let now = Instant::now();
            if now < next {
                std::thread::sleep((next - now).min(Duration::from_millis(100)));
                continue;
            }
            next = (next + self.spec.poll).max(now);
            self.tick();
        }
        self.save_baseline();
        let _ = self.tx.send(Msg::ThreadDone);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn write(&self, op: impl FnOnce(&Store) -> Result<i64, StoreError> + Send + 'static) {
        let _ = self.tx.send(Msg::Write(Box::new(op), None));
    }

    fn write_wait(
        &self,
        op: impl FnOnce(&Store) -> Result<i64, StoreError> + Send + 'static,
    ) -> Result<i64, String> {
        let (rtx, rrx) = crossbeam_channel::bounded(1);
        self.tx
            .send(Msg::Write(Box::new(op), Some(rtx)))
            .map_err(|_| "the store's owner stopped".to_string())?;
        rrx.recv()
            .map_err(|_| "the store's owner stopped".to_string())?
    }

    fn name(&self) -> Val {
        (&self.spec.name).into()
    }

    fn tick(&mut self) {
        let at = now_ms();
        let (sample, result) = self.poller.poll(at);
        let id = self.target_id;
        let poll_s = sample.poll_ms.unwrap_or(0) as f64 / 1000.0;
        self.write(move |st| st.record_sample(id, &sample).map(|_| 0));
        self.polls += 1;
        match result {
            Err(f) => {
                metrics::update(&self.shared, &self.spec.name, |m| {
                    m.up = false;
                    m.polls += 1;
                    m.poll_seconds += poll_s;
                });
                self.failed(f);
            }
            Ok(p) => {
                let th = &self.spec.thresholds;
                let baseline = self.baseline.value(th);
                metrics::update(&self.shared, &self.spec.name, |m| {
                    m.up = true;
                    m.polls += 1;
                    m.poll_seconds += poll_s;
                    m.by_state = p.by_state.clone();
                    m.close_wait = p.obs.close_wait;
                    m.baseline = baseline;
                });
                if self.failing.take().is_some() || !self.seen_ok {
                    self.log.event(
                        Level::Info,
                        "target-up",
                        &[
                            ("target", self.name()),
                            ("goroutines", p.obs.goroutines.into()),
                            ("poll_ms", ((poll_s * 1000.0).round() as i64).into()),
                        ],
                    );
                }
                self.seen_ok = true;
                self.log.event(
                    Level::Debug,
                    "poll",
                    &[
                        ("target", self.name()),
                        ("goroutines", p.obs.goroutines.into()),
                        ("blocking_groups", p.obs.groups.len().into()),
                        (
                            "close_wait",
                            p.obs.close_wait.map_or(Val::S("-".into()), Val::from),
                        ),
                        ("poll_ms", ((poll_s * 1000.0).round() as i64).into()),
                    ],
                );
                self.observe(p.obs);
            }
        }
    }

    fn failed(&mut self, f: Failure) {
        if self.failing != Some(f.class) {
            self.log.event(
                Level::Warn,
                "target-down",
                &[
                    ("target", self.name()),
                    ("class", f.class.into()),
                    ("reason", f.message.into()),
                ],
            );
        }
        self.failing = Some(f.class);
    }

    fn observe(&mut self, obs: Obs) {
        let th = self.spec.thresholds.clone();
        let at = obs.at;
        let goroutines = obs.goroutines;
        self.recent.push_back(obs);
        trim(&mut self.recent, &th, self.spec.poll);
        let recent: Vec<Obs> = self.recent.iter().cloned().collect();
        let baseline = self.baseline.value(&th);
        let fired = signature::evaluate(&recent, baseline, &th);
        let now: HashSet<&'static str> = fired.iter().map(|f| f.signature).collect();
        // A signature that cleared re-arms.
        for gone in self.active.difference(&now).copied().collect::<Vec<_>>() {
            self.active.remove(gone);
            self.log.event(
                Level::Info,
                "signature-cleared",
                &[("target", self.name()), ("signature", gone.into())],
            );
        }
        // The baseline learns only from polls outside a hang.
        if fired.is_empty() && self.active.is_empty() {
            self.baseline.push(at, goroutines, &th);
            if self.polls % SAVE_BASELINE_EVERY == 0 {
                self.save_baseline();
            }
            let b = self.baseline.value(&th);
            if b.is_some() && !self.baseline_known {
                self.baseline_known = true;
                let b = b.unwrap_or_default();
                self.log.event(
                    Level::Info,
                    "baseline-learned",
                    &[
                        ("target", self.name()),
                        ("goroutines", (b.round() as i64).into()),
                        ("fires_above", signature::baseline_limit(b, &th).into()),
                    ],
                );
            }
        }
        for f in fired {
            if self.active.contains(f.signature) || self.stopping() {
                continue;
            }
            self.active.insert(f.signature);
            let cooling = self
                .last_incident
                .is_some_and(|t| t.elapsed() < self.spec.cooldown);
            if cooling {
                self.log.event(
                    Level::Info,
                    "signature-held",
                    &[
                        ("target", self.name()),
                        ("signature", f.signature.into()),
                        ("detail", f.detail.into()),
                        ("why", "within the cooldown of the last incident".into()),
                    ],
                );
                continue;
            }
            self.last_incident = Some(Instant::now());
            self.incident(&f);
        }
    }

    fn save_baseline(&self) {
        let polls = self.baseline.saved();
        if polls.is_empty() {
            return;
        }
        let id = self.target_id;
        self.write(move |st| st.save_baseline(id, &polls, now_ms()).map(|_| 0));
    }

    fn incident(&mut self, f: &Fired) {
        let at = now_ms();
        let rel = Store::new_bundle_rel(&self.spec.name, at);
        self.log.event(
            Level::Warn,
            "signature",
            &[
                ("target", self.name()),
                ("signature", f.signature.into()),
                ("detail", (&f.detail).into()),
            ],
        );
        let (tid, sig, detail, rel2) = (self.target_id, f.signature, f.detail.clone(), rel.clone());
        let id = match self.write_wait(move |st| st.open_incident(tid, at, sig, &detail, &rel2)) {
            Ok(id) => id,
            Err(e) => {
                self.log.event(
                    Level::Error,
                    "incident-failed",
                    &[("target", self.name()), ("error", e.into())],
                );
                return;
            }
        };
        metrics::update(&self.shared, &self.spec.name, |m| {
            *m.incidents.entry(f.signature.to_string()).or_default() += 1;
        });
        let dir = self.store_dir.join(&rel);
        let taken = incident::take_bundle(
            &self.capture_target,
            &dir,
            &self.store_dir,
            &self.capture_client,
            &self.capture,
        );
        match taken {
            Err(e) => {
                let why = e.to_string();
                let w = why.clone();
                let _ = self.write_wait(move |st| st.mark_failed(id, &w, now_ms()).map(|_| 0));
                self.log.event(
                    Level::Error,
                    "incident-failed",
                    &[
                        ("target", self.name()),
                        ("incident", id.into()),
                        ("error", why.into()),
                    ],
                );
            }
            Ok(m) => {
                let stored = self.write_wait(move |st| st.mark_stored(id, now_ms()).map(|_| 0));
                if stored.is_ok() {
                    let dumps = m
                        .files
                        .iter()
                        .filter(|f| f.path.starts_with("series/"))
                        .count();
                    self.log.event(
                        Level::Info,
                        "incident-stored",
                        &[
                            ("target", self.name()),
                            ("incident", id.into()),
                            ("bundle", dir.display().to_string().into()),
                            ("dumps", dumps.into()),
                            ("files", m.files.len().into()),
                        ],
                    );
                    self.diagnose(id, &dir);
                }
            }
        }
        let _ = self.tx.send(Msg::Prune);
        let _ = self.tx.send(Msg::IncidentDone);
    }

    fn diagnose(&mut self, id: i64, dir: &std::path::Path) {
        match incident::diagnose_bundle(dir, &self.spec.src) {
            Ok(o) => {
                let d = o.diagnosed.clone();
                let _ = self.write_wait(move |st| st.mark_diagnosed(id, &d, now_ms()).map(|_| 0));
                let d = &o.diagnosed;
                if let (Some(k), Some(s)) = (&d.top_kind, &d.severity) {
                    let (k, s) = (k.clone(), s.clone());
                    metrics::update(&self.shared, &self.spec.name, |m| {
                        m.finding = Some((k, s));
                    });
                }
                let mut fields = vec![
                    ("target", self.name()),
                    ("incident", id.into()),
                    (
                        "kind",
                        d.top_kind.clone().unwrap_or_else(|| "none".into()).into(),
                    ),
                    (
                        "severity",
                        d.severity.clone().unwrap_or_else(|| "none".into()).into(),
                    ),
                    ("headline", d.headline.clone().unwrap_or_default().into()),
                ];
                if let Some(fix) = o.fix_here {
                    fields.push(("fix_here", fix.into()));
                }
                let level = if d.severity.as_deref() == Some("critical") {
                    Level::Warn
                } else {
                    Level::Info
                };
                self.log.event(level, "incident-diagnosed", &fields);
            }
            Err(e) => self.log.event(
                Level::Error,
                "diagnosis-failed",
                &[
                    ("target", self.name()),
                    ("incident", id.into()),
                    ("error", e.into()),
                ],
            ),
        }
    }
}

/// Keeps only the polls the signatures can read: the longest window any of them looks at,
/// and at least the consecutive polls the baseline signature needs.
fn trim(recent: &mut VecDeque<Obs>, th: &Thresholds, poll: Duration) {
    const MAX: usize = 1000;
    let span = th.group_for.max(th.close_wait_window) + poll * 2;
    let Some(last) = recent.back().map(|o| o.at) else {
        return;
    };
    let oldest = last - span.as_millis() as i64;
    let keep = th.consecutive.max(2);
    while recent.len() > MAX
        || (recent.len() > keep && recent.front().is_some_and(|o| o.at < oldest))
    {
        recent.pop_front();
    }
}
