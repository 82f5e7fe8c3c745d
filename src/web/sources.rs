//! What the server may show: the stores and the bundles named on the command line, and the
//! short ids that name their parts in URLs. No path is ever read from a URL: a URL names a
//! bundle by its position on the command line and an incident or target by its row id.

use std::path::{Component, Path, PathBuf};

use crate::watch::store::{IncidentRow, Store};

/// The stores and bundles given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Watch histories (`--store DIR`), in command-line order.
    pub stores: Vec<PathBuf>,
    /// Bundles, bundle-like directories and single dumps, in command-line order.
    pub bundles: Vec<PathBuf>,
    /// Source trees to show blamed lines from (`--src`).
    pub src: Vec<PathBuf>,
}

/// A row of one of the stores, as written in URLs: `7` (row 7 of the first store) or `2-7`
/// (row 7 of the third store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRef {
    /// Index of the store on the command line.
    pub store: usize,
    /// Row id in that store.
    pub id: i64,
}

impl RowRef {
    /// Reads `7` or `2-7`; `None` for anything else.
    pub fn parse(s: &str) -> Option<RowRef> {
        let digits =
            |t: &str| !t.is_empty() && t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit());
        match s.split_once('-') {
            None if digits(s) => Some(RowRef {
                store: 0,
                id: s.parse().ok()?,
            }),
            Some((a, b)) if digits(a) && digits(b) => Some(RowRef {
                store: a.parse().ok()?,
                id: b.parse().ok()?,
            }),
            _ => None,
        }
    }

    /// The form [`RowRef::parse`] reads.
    pub fn token(self) -> String {
        if self.store == 0 {
            self.id.to_string()
        } else {
            format!("{}-{}", self.store, self.id)
        }
    }
}

/// Evidence a report or a comparison reads: a bundle from the command line or an incident's
/// bundle from a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The n-th bundle of the command line.
    Bundle(usize),
    /// An incident of a store.
    Incident(RowRef),
}

impl Evidence {
    /// Reads `bundle:N` or `incident:ID`.
    pub fn parse(s: &str) -> Option<Evidence> {
        let (kind, id) = s.split_once(':')?;
        match kind {
            "bundle"
                if !id.is_empty() && id.len() <= 9 && id.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(Evidence::Bundle(id.parse().ok()?))
            }
            "incident" => RowRef::parse(id).map(Evidence::Incident),
            _ => None,
        }
    }

    /// The form [`Evidence::parse`] reads.
    pub fn token(self) -> String {
        match self {
            Evidence::Bundle(n) => format!("bundle:{n}"),
            Evidence::Incident(r) => format!("incident:{}", r.token()),
        }
    }

    /// The page that shows its report.
    pub fn href(self) -> String {
        match self {
            Evidence::Bundle(n) => format!("/bundles/{n}"),
            Evidence::Incident(r) => format!("/incidents/{}", r.token()),
        }
    }
}

/// Evidence resolved to a directory or file on disk.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// What to read.
    pub path: PathBuf,
    /// How to name it to a person (`incident 4 of api`, the path given on the command line).
    pub label: String,
    /// The incident row, for incidents.
    pub incident: Option<IncidentRow>,
}

impl Resolved {
    /// The source trees the watcher diagnosed an incident with (none for a bundle).
    pub fn src(&self) -> &[PathBuf] {
        self.incident.as_ref().map_or(&[], |i| &i.src)
    }
}

impl Sources {
    /// Opens store `n` read-only.
    pub fn open(&self, n: usize) -> Result<Store, String> {
        let dir = self.stores.get(n).ok_or_else(|| {
            format!(
                "there is no store number {n} (this server reads {})",
                self.stores.len()
            )
        })?;
        Store::open_read_only(dir).map_err(|e| e.to_string())
    }

    /// Finds `e` on disk; `Err` says what is missing, in a sentence.
    pub fn resolve(&self, e: Evidence) -> Result<Resolved, String> {
        match e {
            Evidence::Bundle(n) => {
                let path = self.bundles.get(n).ok_or_else(|| {
                    format!(
                        "there is no bundle number {n} (this server was given {})",
                        self.bundles.len()
                    )
                })?;
                Ok(Resolved {
                    path: path.clone(),
                    label: path.display().to_string(),
                    incident: None,
                })
            }
            Evidence::Incident(r) => {
                let store = self.open(r.store)?;
                let row = store
                    .incident(r.id)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| {
                        format!("there is no incident {} in {}", r.id, store.dir().display())
                    })?;
                let path = inside(store.dir(), &row.bundle).ok_or_else(|| {
                    format!(
                        "incident {}: its bundle path `{}` leaves the store directory; it is not read",
                        row.id, row.bundle
                    )
                })?;
                Ok(Resolved {
                    path,
                    label: format!("incident {} of {}", row.id, row.target),
                    incident: Some(row),
                })
            }
        }
    }
}

/// `dir/rel` when `rel` is a relative path of plain names (no `..`, no root): a store's rows
/// name bundles inside the store, and a row that does not is not followed.
pub fn inside(dir: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(dir.join(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_refs_read_both_forms_and_nothing_else() {
        assert_eq!(RowRef::parse("7"), Some(RowRef { store: 0, id: 7 }));
        assert_eq!(RowRef::parse("2-7"), Some(RowRef { store: 2, id: 7 }));
        for bad in [
            "",
            "-7",
            "7-",
            "a",
            "1-2-3",
            "../7",
            "7 ",
            "99999999999999999999",
        ] {
            assert_eq!(RowRef::parse(bad), None, "{bad}");
        }
        assert_eq!(RowRef { store: 2, id: 7 }.token(), "2-7");
    }

    #[test]
    fn evidence_tokens_round_trip() {
        for e in [
            Evidence::Bundle(3),
            Evidence::Incident(RowRef { store: 1, id: 9 }),
        ] {
            assert_eq!(Evidence::parse(&e.token()), Some(e));
        }
        assert_eq!(Evidence::parse("bundle:../x"), None);
        assert_eq!(Evidence::parse("file:/etc/passwd"), None);
    }

    #[test]
    fn store_rows_cannot_name_paths_outside_the_store() {
        let d = Path::new("/s");
        assert_eq!(
            inside(d, "bundles/a/b"),
            Some(PathBuf::from("/s/bundles/a/b"))
        );
        for bad in ["", "/etc", "../x", "bundles/../../x", "./x"] {
            assert_eq!(inside(d, bad), None, "{bad}");
        }
    }
}
