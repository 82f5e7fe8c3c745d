//! The data behind the pages, as serialisable types, and the `/api/...` documents made of
//! them. The HTML pages draw these same values, so page and API never disagree. Field by
//! field documentation is in `docs/serve.md`.

use serde::Serialize;

use super::server::{App, Reply};
use super::sources::{Evidence, RowRef};
use crate::watch::store::{IncidentRow, Sample, Store, TargetRow};

/// Samples drawn in an overview sparkline.
pub const SPARK_SAMPLES: usize = 120;
/// Samples on a target page.
pub const TARGET_SAMPLES: usize = 1000;
/// Incidents listed on a target page (and counted on the overview).
pub const TARGET_INCIDENTS: usize = 500;

/// `/api/overview`.
#[derive(Debug, Serialize)]
pub struct Overview {
    /// `hangdoc.serve.overview/v1`.
    pub schema: &'static str,
    /// Each `--store`.
    pub stores: Vec<StoreView>,
    /// Each bundle of the command line.
    pub bundles: Vec<BundleView>,
}

/// A store and its targets.
#[derive(Debug, Serialize)]
pub struct StoreView {
    /// Its position on the command line.
    pub index: usize,
    /// Its directory.
    pub dir: String,
    /// Why it could not be read.
    pub error: Option<String>,
    /// Its targets, by name.
    pub targets: Vec<TargetView>,
}

/// A target as the overview shows it.
#[derive(Debug, Serialize)]
pub struct TargetView {
    /// The id in URLs (`7`, `1-7`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The URL polled.
    pub url: String,
    /// The last poll succeeded (`None`: never polled).
    pub up: Option<bool>,
    /// The last poll.
    pub last: Option<SampleView>,
    /// Goroutine counts of the recent polls, oldest first (`null` for a failed poll).
    pub recent: Vec<Option<u64>>,
    /// Incidents recorded (at most [`TARGET_INCIDENTS`] are counted).
    pub incidents: usize,
    /// The newest incident.
    pub latest_incident: Option<IncidentView>,
    /// Why its rows could not be read.
    pub error: Option<String>,
}

/// One poll.
#[derive(Debug, Clone, Serialize)]
pub struct SampleView {
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// The poll returned a profile.
    pub ok: bool,
    /// Goroutines.
    pub goroutines: Option<u64>,
    /// Goroutines by state, as stored.
    pub by_state: Vec<(String, u64)>,
    /// CLOSE_WAIT sockets on the target's port.
    pub close_wait: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
}

impl From<&Sample> for SampleView {
    fn from(s: &Sample) -> SampleView {
        SampleView {
            at: s.at,
            ok: s.ok,
            goroutines: s.goroutines,
            by_state: s.by_state.clone(),
            close_wait: s.close_wait,
            error: s.error.clone(),
        }
    }
}

/// An incident, without its diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    /// The id in URLs.
    pub id: String,
    /// Its page.
    pub href: String,
    /// The target's name.
    pub target: String,
    /// The target's id in URLs.
    pub target_id: String,
    /// When the signature fired (milliseconds since the Unix epoch).
    pub opened_at: i64,
    /// Which signature fired.
    pub signature: String,
    /// What it saw.
    pub detail: String,
    /// `capturing`, `stored`, `diagnosed` or `failed`.
    pub status: &'static str,
    /// The top finding's kind.
    pub top_kind: Option<String>,
    /// Its severity.
    pub severity: Option<String>,
    /// Its title.
    pub headline: Option<String>,
    /// Why the capture or diagnosis failed.
    pub error: Option<String>,
    /// The bundle directory, relative to the store.
    pub bundle: String,
}

impl IncidentView {
    /// The view of `row` of store `store`.
    pub fn new(store: usize, row: &IncidentRow) -> IncidentView {
        let id = RowRef { store, id: row.id }.token();
        IncidentView {
            href: format!("/incidents/{id}"),
            id,
            target: row.target.clone(),
            target_id: RowRef {
                store,
                id: row.target_id,
            }
            .token(),
            opened_at: row.opened_at,
            signature: row.signature.clone(),
            detail: row.detail.clone(),
            status: row.status.name(),
            top_kind: row.top_kind.clone(),
            severity: row.severity.clone(),
            headline: row.headline.clone(),
            error: row.error.clone(),
            bundle: row.bundle.clone(),
        }
    }
}

/// A bundle of the command line with its top finding.
#[derive(Debug, Serialize)]
pub struct BundleView {
    /// Its number in URLs.
    pub index: usize,
    /// The path given.
    pub path: String,
    /// Why it could not be read.
    pub error: Option<String>,
    /// Goroutines in the snapshot diagnosed.
    pub goroutines: u64,
    /// Snapshots read.
    pub snapshots: usize,
    /// Findings.
    pub findings: usize,
    /// The top finding.
    pub top: Option<TopFinding>,
}

/// The first finding of a diagnosis.
#[derive(Debug, Serialize)]
pub struct TopFinding {
    /// Kind.
    pub kind: &'static str,
    /// Severity name.
    pub severity: &'static str,
    /// Title.
    pub title: String,
    /// The line to fix: `function file:line`.
    pub fix: Option<String>,
}

fn target_view(store: &Store, index: usize, t: &TargetRow) -> TargetView {
    let mut v = TargetView {
        id: RowRef {
            store: index,
            id: t.id,
        }
        .token(),
        name: t.name.clone(),
        url: t.url.clone(),
        up: None,
        last: None,
        recent: Vec::new(),
        incidents: 0,
        latest_incident: None,
        error: None,
    };
    match store.samples(t.id, i64::MIN, SPARK_SAMPLES) {
        Ok(samples) => {
            v.recent = samples
                .iter()
                .map(|s| if s.ok { s.goroutines } else { None })
                .collect();
            v.last = samples.last().map(SampleView::from);
            v.up = samples.last().map(|s| s.ok);
        }
        Err(e) => v.error = Some(e.to_string()),
    }
    match store.incidents(Some(t.id), TARGET_INCIDENTS) {
        Ok(rows) => {
            v.incidents = rows.len();
            v.latest_incident = rows.first().map(|r| IncidentView::new(index, r));
        }
        Err(e) => v.error = Some(e.to_string()),
    }
    v
}

/// The overview's data.
pub fn overview(app: &App) -> Overview {
    let stores = app
        .sources
        .stores
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            let mut sv = StoreView {
                index: i,
                dir: dir.display().to_string(),
                error: None,
                targets: Vec::new(),
            };
            match app.sources.open(i).and_then(|s| {
                let ts = s.targets().map_err(|e| e.to_string())?;
                Ok(ts.iter().map(|t| target_view(&s, i, t)).collect())
            }) {
                Ok(ts) => sv.targets = ts,
                Err(e) => sv.error = Some(e),
            }
            sv
        })
        .collect();
    let bundles = (0..app.sources.bundles.len())
        .map(|n| bundle_view(app, n))
        .collect();
    Overview {
        schema: "hangdoc.serve.overview/v1",
        stores,
        bundles,
    }
}

fn bundle_view(app: &App, n: usize) -> BundleView {
    let path = app.sources.bundles[n].clone();
    let loaded = app.cache.get(&path, &[]);
    let mut v = BundleView {
        index: n,
        path: path.display().to_string(),
        error: None,
        goroutines: 0,
        snapshots: 0,
        findings: 0,
        top: None,
    };
    match &*loaded {
        Err(e) => v.error = Some(e.clone()),
        Ok(l) => {
            v.goroutines = l.diagnosis.goroutines;
            v.snapshots = l.snaps.len();
            v.findings = l.diagnosis.findings.len();
            v.top = l.diagnosis.findings.first().map(|f| TopFinding {
                kind: f.kind,
                severity: f.severity.name(),
                title: f.title.clone(),
                fix: f
                    .root
                    .first()
                    .map(|r| format!("{} {}:{}", r.function, r.file, r.line)),
            });
        }
    }
    v
}

/// `/api/targets/ID`.
#[derive(Debug, Serialize)]
pub struct TargetDetail {
    /// `hangdoc.serve.target/v1`.
    pub schema: &'static str,
    /// The target.
    pub target: TargetView,
    /// Its samples, oldest first (at most [`TARGET_SAMPLES`], the newest).
    pub samples: Vec<SampleView>,
    /// Its incidents, newest first.
    pub incidents: Vec<IncidentView>,
}

/// The target page's data; `Err((status, message))` when there is none.
pub fn target_detail(app: &App, r: RowRef) -> Result<TargetDetail, (u16, String)> {
    let store = app.sources.open(r.store).map_err(|e| (404, e))?;
    let targets = store.targets().map_err(|e| (500, e.to_string()))?;
    let t = targets.iter().find(|t| t.id == r.id).ok_or_else(|| {
        (
            404,
            format!("there is no target {} in {}", r.id, store.dir().display()),
        )
    })?;
    let samples = store
        .samples(t.id, i64::MIN, TARGET_SAMPLES)
        .map_err(|e| (500, e.to_string()))?;
    let incidents = store
        .incidents(Some(t.id), TARGET_INCIDENTS)
        .map_err(|e| (500, e.to_string()))?;
    Ok(TargetDetail {
        schema: "hangdoc.serve.target/v1",
        target: target_view(&store, r.store, t),
        samples: samples.iter().map(SampleView::from).collect(),
        incidents: incidents
            .iter()
            .map(|i| IncidentView::new(r.store, i))
            .collect(),
    })
}

/// `/api/targets/ID`.
pub fn target(app: &App, r: RowRef) -> Reply {
    match target_detail(app, r) {
        Ok(d) => Reply::json(200, &d),
        Err((status, e)) => Reply::error(status, true, &e),
    }
}

/// `/api/incidents/ID`: the row, and the diagnosis the watcher stored (as a JSON value).
pub fn incident(app: &App, r: RowRef) -> Reply {
    let store = match app.sources.open(r.store) {
        Ok(s) => s,
        Err(e) => return Reply::error(404, true, &e),
    };
    match store.incident(r.id) {
        Ok(Some(row)) => {
            let diagnosis = row
                .diagnosis
                .as_deref()
                .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok());
            Reply::json(
                200,
                &serde_json::json!({
                    "schema": "hangdoc.serve.incident/v1",
                    "incident": IncidentView::new(r.store, &row),
                    "diagnosis": diagnosis,
                    "compare": format!("/api/compare?a={}", Evidence::Incident(r).token()),
                }),
            )
        }
        Ok(None) => Reply::error(
            404,
            true,
            &format!("there is no incident {} in {}", r.id, store.dir().display()),
        ),
        Err(e) => Reply::error(500, true, &e.to_string()),
    }
}

/// `/api/bundles/N`: the bundle's `hangdoc.diagnosis/v1` document, diagnosed now.
pub fn bundle(app: &App, n: usize) -> Reply {
    let Some(path) = app.sources.bundles.get(n) else {
        return Reply::error(404, true, &format!("there is no bundle number {n}"));
    };
    match &*app.cache.get(path, &[]) {
        Ok(l) => {
            let mut buf = Vec::new();
            match crate::report::diagnosis_json::write(&mut buf, &l.diagnosis) {
                Ok(()) => Reply {
                    status: 200,
                    content_type: "application/json",
                    body: buf,
                    policy: None,
                },
                Err(e) => Reply::error(500, true, &e.to_string()),
            }
        }
        Err(e) => Reply::error(500, true, e),
    }
}
