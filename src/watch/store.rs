//! The watch history: one SQLite database (`history.db`, WAL) beside the bundles it
//! records, in a store directory:
//!
//! ```text
//! STORE/history.db                      targets, samples (one per poll), incidents
//! STORE/bundles/<target>/<stamp>/       one capture bundle per incident (`hangdoc capture` layout)
//! ```
//!
//! `hangdoc watch` writes it; `hangdoc serve` reads it while the watcher runs (WAL lets one
//! writer and many readers work at once). An incident is inserted as `capturing` before its
//! bundle is written and marked `stored` only after the bundle's files are on disk, so a
//! watcher killed at any moment leaves no row claiming a bundle that is not there.
//!
//! Times are milliseconds since the Unix epoch, UTC. The schema version is kept in
//! `PRAGMA user_version`; a database written by a newer hangdoc is refused, not altered.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

/// The schema this hangdoc writes.
pub const SCHEMA_VERSION: i64 = 1;

/// The database's file name inside the store directory.
pub const DB_FILE: &str = "history.db";

/// The bundles' directory inside the store directory.
pub const BUNDLES_DIR: &str = "bundles";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS targets (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    added_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS samples (
    id          INTEGER PRIMARY KEY,
    target_id   INTEGER NOT NULL REFERENCES targets(id),
    at          INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    goroutines  INTEGER,
    by_state    TEXT,
    close_wait  INTEGER,
    poll_ms     INTEGER,
    error       TEXT
);
CREATE INDEX IF NOT EXISTS samples_target_at ON samples(target_id, at);
CREATE TABLE IF NOT EXISTS incidents (
    id          INTEGER PRIMARY KEY,
    target_id   INTEGER NOT NULL REFERENCES targets(id),
    opened_at   INTEGER NOT NULL,
    signature   TEXT NOT NULL,
    detail      TEXT NOT NULL,
    bundle      TEXT NOT NULL,
    status      TEXT NOT NULL,
    top_kind    TEXT,
    severity    TEXT,
    headline    TEXT,
    diagnosis   TEXT,
    error       TEXT,
    updated_at  INTEGER NOT NULL,
    src         TEXT
);
CREATE INDEX IF NOT EXISTS incidents_target_opened ON incidents(target_id, opened_at);
CREATE TABLE IF NOT EXISTS baselines (
    target_id   INTEGER PRIMARY KEY REFERENCES targets(id),
    polls       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
";

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory could not be created or read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// SQLite refused.
    #[error("{}: {error}", path.display())]
    Db {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        error: rusqlite::Error,
    },
    /// The database was written by a newer hangdoc.
    #[error(
        "{}: written by a newer hangdoc (schema {found}, this one knows {SCHEMA_VERSION}); use that version or another --store",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
    },
    /// There is no history at that path (read-only open).
    #[error("{}: no watch history here (expected {DB_FILE} written by `hangdoc watch --store`)", path.display())]
    Missing {
        /// The store directory.
        path: PathBuf,
    },
}

/// A watched process, by the name the watcher gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRow {
    /// Row id.
    pub id: i64,
    /// Short name (unique in the store), used in bundle paths and metrics labels.
    pub name: String,
    /// The URL polled.
    pub url: String,
    /// When it was first watched.
    pub added_at: i64,
}

/// One poll of a target.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sample {
    /// When the poll began.
    pub at: i64,
    /// The poll returned a goroutine profile.
    pub ok: bool,
    /// Goroutines in the profile.
    pub goroutines: Option<u64>,
    /// Goroutines by wait state (`[("chan receive", 12), …]`), when the format tells states.
    pub by_state: Vec<(String, u64)>,
    /// Sockets in CLOSE_WAIT on the target's port, when the socket table was read.
    pub close_wait: Option<u64>,
    /// Milliseconds the poll took.
    pub poll_ms: Option<u64>,
    /// Why the poll failed, in a sentence.
    pub error: Option<String>,
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentStatus {
    /// A signature fired; the bundle is being written.
    Capturing,
    /// The bundle is complete on disk; not yet diagnosed.
    Stored,
    /// The bundle is stored and diagnosed.
    Diagnosed,
    /// The capture failed (the reason is in `error`); the bundle may be partial or absent.
    Failed,
}

impl IncidentStatus {
    /// The name stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            IncidentStatus::Capturing => "capturing",
            IncidentStatus::Stored => "stored",
            IncidentStatus::Diagnosed => "diagnosed",
            IncidentStatus::Failed => "failed",
        }
    }

    fn from_name(s: &str) -> IncidentStatus {
        match s {
            "stored" => IncidentStatus::Stored,
            "diagnosed" => IncidentStatus::Diagnosed,
            "failed" => IncidentStatus::Failed,
            _ => IncidentStatus::Capturing,
        }
    }
}

/// One hang the watcher saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    /// Row id.
    pub id: i64,
    /// The target's row id.
    pub target_id: i64,
    /// The target's name.
    pub target: String,
    /// When the signature fired.
    pub opened_at: i64,
    /// Which signature fired (`goroutines-above-baseline`, `blocked-group`, `close-wait-growth`).
    pub signature: String,
    /// What it saw, in a sentence.
    pub detail: String,
    /// The bundle directory, relative to the store directory.
    pub bundle: String,
    /// Where the incident is.
    pub status: IncidentStatus,
    /// The top finding's kind, once diagnosed (`None`: no finding, or not diagnosed yet).
    pub top_kind: Option<String>,
    /// The top finding's severity name.
    pub severity: Option<String>,
    /// The top finding's title, or what the diagnosis said when it found nothing.
    pub headline: Option<String>,
    /// The whole diagnosis as `hangdoc.diagnosis/v1` JSON (only from [`Store::incident`]).
    pub diagnosis: Option<String>,
    /// Why the capture or diagnosis failed.
    pub error: Option<String>,
    /// When the row last changed.
    pub updated_at: i64,
    /// The Go source trees the diagnosis read (`--src`), so a reader can diagnose the
    /// bundle again the same way.
    pub src: Vec<PathBuf>,
}

/// The outcome of diagnosing an incident's bundle.
#[derive(Debug, Clone, Default)]
pub struct Diagnosed {
    /// The top finding's kind.
    pub top_kind: Option<String>,
    /// Its severity name.
    pub severity: Option<String>,
    /// Its title.
    pub headline: Option<String>,
    /// The diagnosis JSON.
    pub diagnosis: String,
    /// The Go source trees it read.
    pub src: Vec<PathBuf>,
}

/// How much history to keep.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Samples older than this are deleted.
    pub samples: Duration,
    /// At most this many incidents per target; the oldest go first, with their bundles.
    pub incidents_per_target: usize,
    /// At most this many bytes of bundles in all; the oldest incidents go first.
    pub bundle_bytes: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            samples: Duration::from_secs(7 * 24 * 3600),
            incidents_per_target: 50,
            bundle_bytes: 2 << 30,
        }
    }
}

/// The history database and its bundle directory.
pub struct Store {
    conn: Connection,
    dir: PathBuf,
    db: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    /// Opens the store in `dir` for writing, creating the directory, the database and its
    /// tables when missing.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let io = |error| StoreError::Io {
            path: dir.to_path_buf(),
            error,
        };
        std::fs::create_dir_all(dir.join(BUNDLES_DIR)).map_err(io)?;
        let db = dir.join(DB_FILE);
        let conn = Connection::open(&db).map_err(|error| StoreError::Db {
            path: db.clone(),
            error,
        })?;
        let store = Store {
            conn,
            dir: dir.to_path_buf(),
            db,
        };
        store.check_version()?;
        // WAL: readers (`serve`) never block the watcher. FULL: a committed row survives a
        // power cut, not only a killed process; the watcher writes a few rows a minute.
        store
            .conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| store.err(e))?;
        store
            .conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| store.err(e))?;
        store
            .conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| store.err(e))?;
        store.conn.execute_batch(SCHEMA).map_err(|e| store.err(e))?;
        store.add_missing_columns()?;
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(|e| store.err(e))?;
        Ok(store)
    }

    /// Opens an existing store for reading only (`hangdoc serve`): nothing is created or
    /// changed, and a missing database is an error.
    pub fn open_read_only(dir: &Path) -> Result<Store, StoreError> {
        let db = dir.join(DB_FILE);
        if !db.is_file() {
            return Err(StoreError::Missing {
                path: dir.to_path_buf(),
            });
        }
        let conn = Connection::open_with_flags(
            &db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|error| StoreError::Db {
            path: db.clone(),
            error,
        })?;
        let store = Store {
            conn,
            dir: dir.to_path_buf(),
            db,
        };
        store
            .conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| store.err(e))?;
        store.check_version()?;
        Ok(store)
    }

    fn err(&self, error: rusqlite::Error) -> StoreError {
        StoreError::Db {
            path: self.db.clone(),
            error,
        }
    }

    /// Columns added since schema 1 was first written, added to an older database.
    fn add_missing_columns(&self) -> Result<(), StoreError> {
        let has_src = self
            .conn
            .prepare("SELECT 1 FROM pragma_table_info('incidents') WHERE name = 'src'")
            .and_then(|mut st| st.exists([]))
            .map_err(|e| self.err(e))?;
        if !has_src {
            self.conn
                .execute_batch("ALTER TABLE incidents ADD COLUMN src TEXT")
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn check_version(&self) -> Result<(), StoreError> {
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.db.clone(),
                found,
            });
        }
        Ok(())
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// An incident's bundle directory, from its relative path.
    pub fn bundle_path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// The relative path for a new bundle of `target` opened at `at` (milliseconds):
    /// `bundles/<target>/<UTC stamp>`; the caller creates it.
    pub fn new_bundle_rel(target: &str, at: i64) -> String {
        let safe: String = target
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let stamp = crate::capture::manifest::rfc3339(
            std::time::UNIX_EPOCH + Duration::from_millis(at.max(0) as u64),
        )
        .replace([':', '.'], "");
        format!("{BUNDLES_DIR}/{safe}/{stamp}")
    }

    /// The target named `name`, added when new; a changed URL is updated.
    pub fn target(&self, name: &str, url: &str, now: i64) -> Result<TargetRow, StoreError> {
        self.conn
            .execute(
                "INSERT INTO targets(name, url, added_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET url = excluded.url",
                params![name, url, now],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .query_row(
                "SELECT id, name, url, added_at FROM targets WHERE name = ?1",
                params![name],
                target_row,
            )
            .map_err(|e| self.err(e))
    }

    /// Every target, by name.
    pub fn targets(&self) -> Result<Vec<TargetRow>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id, name, url, added_at FROM targets ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], target_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Records one poll.
    pub fn record_sample(&self, target_id: i64, s: &Sample) -> Result<(), StoreError> {
        let by_state = if s.by_state.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&s.by_state).unwrap_or_default())
        };
        self.conn
            .execute(
                "INSERT INTO samples(target_id, at, ok, goroutines, by_state, close_wait, poll_ms, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    target_id,
                    s.at,
                    s.ok,
                    s.goroutines.map(|n| n as i64),
                    by_state,
                    s.close_wait.map(|n| n as i64),
                    s.poll_ms.map(|n| n as i64),
                    s.error
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A target's samples taken at or after `since`, oldest first, at most `limit`
    /// (the newest ones when there are more).
    pub fn samples(
        &self,
        target_id: i64,
        since: i64,
        limit: usize,
    ) -> Result<Vec<Sample>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT at, ok, goroutines, by_state, close_wait, poll_ms, error FROM samples
                 WHERE target_id = ?1 AND at >= ?2 ORDER BY at DESC LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![target_id, since, limit as i64], |r| {
                let by_state: Option<String> = r.get(3)?;
                Ok(Sample {
                    at: r.get(0)?,
                    ok: r.get(1)?,
                    goroutines: r.get::<_, Option<i64>>(2)?.map(|n| n.max(0) as u64),
                    by_state: by_state
                        .and_then(|j| serde_json::from_str(&j).ok())
                        .unwrap_or_default(),
                    close_wait: r.get::<_, Option<i64>>(4)?.map(|n| n.max(0) as u64),
                    poll_ms: r.get::<_, Option<i64>>(5)?.map(|n| n.max(0) as u64),
                    error: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out: Vec<Sample> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        out.reverse();
        Ok(out)
    }

    /// The newest sample of a target.
    pub fn last_sample(&self, target_id: i64) -> Result<Option<Sample>, StoreError> {
        Ok(self.samples(target_id, i64::MIN, 1)?.pop())
    }

    /// Saves the polls a target's goroutine baseline is learned from (`(at, goroutines)`,
    /// oldest first), replacing what was saved before, so that a restarted watcher resumes
    /// the baseline instead of learning it again.
    pub fn save_baseline(
        &self,
        target_id: i64,
        polls: &[(i64, u64)],
        now: i64,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(polls).unwrap_or_else(|_| "[]".into());
        self.conn
            .execute(
                "INSERT INTO baselines(target_id, polls, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(target_id) DO UPDATE SET polls = excluded.polls, updated_at = excluded.updated_at",
                params![target_id, json, now],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The baseline polls saved by [`save_baseline`](Self::save_baseline) (empty when none).
    pub fn baseline(&self, target_id: i64) -> Result<Vec<(i64, u64)>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT polls FROM baselines WHERE target_id = ?1",
                params![target_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    /// Opens an incident in `capturing` status; returns its id.
    pub fn open_incident(
        &self,
        target_id: i64,
        at: i64,
        signature: &str,
        detail: &str,
        bundle_rel: &str,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO incidents(target_id, opened_at, signature, detail, bundle, status, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'capturing', ?2)",
                params![target_id, at, signature, detail, bundle_rel],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Marks an incident's bundle complete on disk. Call it only after the bundle's files
    /// are written and synced: from then on the row promises the bundle exists.
    pub fn mark_stored(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.set_status(id, IncidentStatus::Stored, None, now)
    }

    /// Records an incident's diagnosis.
    pub fn mark_diagnosed(&self, id: i64, d: &Diagnosed, now: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE incidents SET status = 'diagnosed', top_kind = ?2, severity = ?3,
                 headline = ?4, diagnosis = ?5, updated_at = ?6, src = ?7 WHERE id = ?1",
                params![
                    id,
                    d.top_kind,
                    d.severity,
                    d.headline,
                    d.diagnosis,
                    now,
                    paths_json(&d.src)
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Marks an incident failed, with the reason.
    pub fn mark_failed(&self, id: i64, why: &str, now: i64) -> Result<(), StoreError> {
        self.set_status(id, IncidentStatus::Failed, Some(why), now)
    }

    fn set_status(
        &self,
        id: i64,
        status: IncidentStatus,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE incidents SET status = ?2, error = COALESCE(?3, error), updated_at = ?4 WHERE id = ?1",
                params![id, status.name(), error, now],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Incidents left `capturing` by a watcher that died mid-capture become `failed`, so
    /// no row claims a bundle still being written. Returns how many. Call it on start.
    pub fn recover(&self, now: i64) -> Result<usize, StoreError> {
        self.conn
            .execute(
                "UPDATE incidents SET status = 'failed',
                 error = 'the watcher stopped while capturing; the bundle may be incomplete',
                 updated_at = ?1 WHERE status = 'capturing'",
                params![now],
            )
            .map_err(|e| self.err(e))
    }

    /// Incidents, newest first, optionally of one target, at most `limit`; without the
    /// diagnosis JSON.
    pub fn incidents(
        &self,
        target_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<IncidentRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {INCIDENT_COLUMNS}, NULL FROM incidents i JOIN targets t ON t.id = i.target_id
                 WHERE ?1 IS NULL OR i.target_id = ?1 ORDER BY i.opened_at DESC, i.id DESC LIMIT ?2"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![target_id, limit as i64], incident_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// One incident with its diagnosis JSON.
    pub fn incident(&self, id: i64) -> Result<Option<IncidentRow>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {INCIDENT_COLUMNS}, i.diagnosis FROM incidents i JOIN targets t ON t.id = i.target_id
                     WHERE i.id = ?1"
                ),
                params![id],
                incident_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Applies `keep` at time `now`: deletes old samples, and the oldest incidents beyond
    /// the per-target count or the total bundle size, bundles first. Returns the bundle
    /// directories removed.
    pub fn prune(&self, keep: &Retention, now: i64) -> Result<Vec<PathBuf>, StoreError> {
        let cutoff = now.saturating_sub(keep.samples.as_millis() as i64);
        self.conn
            .execute("DELETE FROM samples WHERE at < ?1", params![cutoff])
            .map_err(|e| self.err(e))?;
        let all = self.incidents(None, usize::MAX >> 1)?;
        let mut per_target: std::collections::HashMap<i64, usize> = Default::default();
        let mut bytes = 0u64;
        let mut removed = Vec::new();
        // Newest first: keep while within both limits. An incident still capturing is
        // never removed from under its writer.
        for inc in &all {
            let n = per_target.entry(inc.target_id).or_default();
            let path = self.bundle_path(&inc.bundle);
            let size = dir_size(&path);
            let over = *n >= keep.incidents_per_target || bytes + size > keep.bundle_bytes;
            if over && inc.status != IncidentStatus::Capturing {
                if path.exists() {
                    std::fs::remove_dir_all(&path).map_err(|error| StoreError::Io {
                        path: path.clone(),
                        error,
                    })?;
                    removed.push(path);
                }
                self.conn
                    .execute("DELETE FROM incidents WHERE id = ?1", params![inc.id])
                    .map_err(|e| self.err(e))?;
            } else {
                *n += 1;
                bytes += size;
            }
        }
        Ok(removed)
    }
}

const INCIDENT_COLUMNS: &str = "i.id, i.target_id, t.name, i.opened_at, i.signature, i.detail, i.bundle, i.status, i.top_kind, i.severity, i.headline, i.error, i.updated_at, i.src";

/// Paths as a JSON array (`None` when there are none).
fn paths_json(paths: &[PathBuf]) -> Option<String> {
    if paths.is_empty() {
        return None;
    }
    let v: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    serde_json::to_string(&v).ok()
}

fn target_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TargetRow> {
    Ok(TargetRow {
        id: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        added_at: r.get(3)?,
    })
}

fn incident_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
    Ok(IncidentRow {
        id: r.get(0)?,
        target_id: r.get(1)?,
        target: r.get(2)?,
        opened_at: r.get(3)?,
        signature: r.get(4)?,
        detail: r.get(5)?,
        bundle: r.get(6)?,
        status: IncidentStatus::from_name(&r.get::<_, String>(7)?),
        top_kind: r.get(8)?,
        severity: r.get(9)?,
        headline: r.get(10)?,
        error: r.get(11)?,
        updated_at: r.get(12)?,
        src: r
            .get::<_, Option<String>>(13)?
            .and_then(|j| serde_json::from_str::<Vec<String>>(&j).ok())
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        diagnosis: r.get(14)?,
    })
}

/// Bytes of the regular files under `path` (0 when missing).
fn dir_size(path: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(path) else {
        return std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests;
