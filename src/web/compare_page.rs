//! `/compare` and `/api/compare`: which two snapshots to compare, from the query, and the
//! page that shows the [`Comparison`].
//!
//! - `?a=bundle:0` (or `incident:ID`): the first and the last snapshot of its series;
//! - `?a=bundle:0@1&b=bundle:0@4`: snapshots by their position among the evidence's files;
//! - `?a=bundle:0&b=incident:7`: the snapshot each diagnosis read (the last of each series).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::cache::Entry;
use super::compare::{self, Comparison};
use super::html::{self, esc, mix};
use super::server::{App, Reply};
use super::sources::Evidence;
use crate::model::{Format, Snapshot};

/// One side as asked: evidence and, optionally, which of its snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pick {
    ev: Evidence,
    at: Option<usize>,
}

impl Pick {
    fn parse(s: &str) -> Option<Pick> {
        let (ev, at) = match s.split_once('@') {
            Some((e, n)) => (e, Some(n.parse().ok().filter(|_| n.len() <= 6)?)),
            None => (s, None),
        };
        Some(Pick {
            ev: Evidence::parse(ev)?,
            at,
        })
    }

    fn token(ev: Evidence, at: usize) -> String {
        format!("{}@{at}", ev.token())
    }
}

struct Loaded {
    ev: Evidence,
    label: String,
    root: std::path::PathBuf,
    entry: Entry,
}

/// What the page and the API show.
#[derive(Serialize)]
struct Doc {
    schema: &'static str,
    /// The `a` side, as `EVIDENCE@N`.
    a: String,
    /// The `b` side.
    b: String,
    #[serde(flatten)]
    comparison: Comparison,
    /// Notes: a single snapshot compared with itself, and the like.
    notes: Vec<String>,
    #[serde(skip)]
    options: Vec<(String, String)>,
}

fn load(app: &App, ev: Evidence) -> Result<Loaded, (u16, String)> {
    let r = app.sources.resolve(ev).map_err(|e| (404, e))?;
    let entry = app.cache.get(&r.path, r.src());
    if let Err(e) = &*entry {
        return Err((404, format!("{}: {e}", r.label)));
    }
    Ok(Loaded {
        ev,
        label: r.label,
        root: r.path,
        entry,
    })
}

fn snaps(l: &Loaded) -> &[Snapshot] {
    match &*l.entry {
        Ok(x) => &x.snaps,
        Err(_) => &[],
    }
}

/// The snapshot's name relative to its evidence (`series/01.txt`).
fn short(root: &Path, source: &str) -> String {
    let root = root.to_string_lossy();
    source
        .strip_prefix(root.as_ref())
        .map(|s| s.trim_start_matches('/'))
        .filter(|s| !s.is_empty())
        .unwrap_or(source)
        .to_string()
}

fn comparable(s: &Snapshot) -> bool {
    s.format != Some(Format::Sockets) && s.goroutine_count() > 0
}

fn build(app: &App, query: &str) -> Result<Doc, (u16, String)> {
    let bad = |what: &str, v: &str| {
        (
            400,
            format!(
                "{what} `{v}` is not a snapshot: write bundle:N or incident:ID, optionally followed by @K (the K-th file of that evidence)"
            ),
        )
    };
    let a_text = html::param(query, "a").ok_or_else(|| {
        (400, "say what to compare: /compare?a=bundle:0 compares the first and the last snapshot of bundle 0; add b=… to compare with another".to_string())
    })?;
    let a = Pick::parse(&a_text).ok_or_else(|| bad("a", &a_text))?;
    let b = match html::param(query, "b").filter(|s| !s.is_empty()) {
        Some(t) => Some(Pick::parse(&t).ok_or_else(|| bad("b", &t))?),
        None => None,
    };
    let la = load(app, a.ev)?;
    let lb = match b {
        Some(b) if b.ev != a.ev => Some(load(app, b.ev)?),
        _ => None,
    };
    let lb_ref = lb.as_ref().unwrap_or(&la);
    let (sa, sb) = (snaps(&la), snaps(lb_ref));
    let (series_a, series_b) = (compare::series(sa), compare::series(sb));
    let none = |l: &Loaded| {
        (
            404,
            format!("{} holds no goroutine dump to compare", l.label),
        )
    };
    let first_a = *series_a.first().ok_or_else(|| none(&la))?;
    let last_a = *series_a.last().ok_or_else(|| none(&la))?;
    let last_b = *series_b.last().ok_or_else(|| none(lb_ref))?;
    let (ia, ib) = match b {
        None => (a.at.unwrap_or(first_a), last_a),
        Some(b) if b.ev == a.ev => (a.at.unwrap_or(first_a), b.at.unwrap_or(last_a)),
        Some(b) => (a.at.unwrap_or(last_a), b.at.unwrap_or(last_b)),
    };
    let check = |snaps: &[Snapshot], i: usize, l: &Loaded| -> Result<(), (u16, String)> {
        match snaps.get(i) {
            Some(s) if comparable(s) => Ok(()),
            Some(s) => Err((
                400,
                format!(
                    "{} of {} holds no goroutines",
                    short(&l.root, &s.source),
                    l.label
                ),
            )),
            None => Err((
                404,
                format!(
                    "{} has {} files; there is no file @{i}",
                    l.label,
                    snaps.len()
                ),
            )),
        }
    };
    check(sa, ia, &la)?;
    check(sb, ib, lb_ref)?;
    let (x, y) = (&sa[ia], &sb[ib]);
    let label = |l: &Loaded, s: &Snapshot| format!("{} of {}", short(&l.root, &s.source), l.label);
    let comparison = compare::compare(x, y, (&label(&la, x), &label(lb_ref, y)));
    let mut notes = Vec::new();
    if lb.is_none() && ia == ib {
        notes.push(format!(
            "{} has a single goroutine dump: it is compared with itself (capture a series to see change)",
            la.label
        ));
    }
    if !comparison.per_goroutine {
        notes.push("one side is an aggregated profile: goroutine ids cannot be matched, so no goroutine is known to be stuck in both".into());
    }
    let mut options = Vec::new();
    for l in std::iter::once(&la).chain(lb.as_ref()) {
        for (i, s) in snaps(l).iter().enumerate() {
            if comparable(s) {
                options.push((
                    Pick::token(l.ev, i),
                    format!(
                        "{} ({} goroutines, {})",
                        label(l, s),
                        s.goroutine_count(),
                        s.format.map_or("unknown", Format::name)
                    ),
                ));
            }
        }
    }
    Ok(Doc {
        schema: "hangdoc.serve.compare/v1",
        a: Pick::token(la.ev, ia),
        b: Pick::token(lb_ref.ev, ib),
        comparison,
        notes,
        options,
    })
}

/// `/api/compare`.
pub fn json(app: &App, query: &str) -> Reply {
    match build(app, query) {
        Ok(d) => Reply::json(200, &d),
        Err((status, e)) => Reply::error(status, true, &e),
    }
}

/// `/compare`.
pub fn page(app: &App, query: &str) -> Reply {
    let d = match build(app, query) {
        Ok(d) => d,
        Err((status, e)) => return Reply::error(status, false, &e),
    };
    let c = &d.comparison;
    let mut o = String::from("<main>\n<h1>Compare snapshots</h1>\n");
    o.push_str(
        "<form class=\"pick\" method=\"get\" action=\"/compare\"><label>before <select name=\"a\">",
    );
    for (v, l) in &d.options {
        let sel = if *v == d.a { " selected" } else { "" };
        let _ = write!(o, "<option value=\"{}\"{sel}>{}</option>", esc(v), esc(l));
    }
    o.push_str("</select></label><label>after <select name=\"b\">");
    for (v, l) in &d.options {
        let sel = if *v == d.b { " selected" } else { "" };
        let _ = write!(o, "<option value=\"{}\"{sel}>{}</option>", esc(v), esc(l));
    }
    o.push_str("</select></label><button type=\"submit\">compare</button></form>\n");
    for n in &d.notes {
        let _ = write!(o, "<p class=\"dim note\">{}</p>", esc(n));
    }
    let _ = writeln!(
        o,
        "<table class=\"sides\"><thead><tr><th></th><th>before</th><th>after</th></tr></thead><tbody>\
<tr><th>snapshot</th><td>{}</td><td>{}</td></tr>\
<tr><th>taken</th><td>{}</td><td>{}</td></tr>\
<tr><th>goroutines</th><td class=\"num\" id=\"total-before\">{}</td><td class=\"num\" id=\"total-after\">{}</td></tr>\
<tr><th>states</th><td>{}</td><td>{}</td></tr>\
</tbody></table>",
        esc(&c.before.label),
        esc(&c.after.label),
        taken(c.before.taken_at),
        taken(c.after.taken_at),
        c.before.goroutines,
        c.after.goroutines,
        esc(&mix(&c.before.by_state)),
        esc(&mix(&c.after.by_state)),
    );
    if c.per_goroutine {
        let _ = write!(
            o,
            "<p id=\"stuck-summary\"><b>{}</b> goroutines are stuck in both: the same id in the same stack and state.</p>",
            c.stuck
        );
    }
    let changed = c.groups.iter().filter(|g| g.delta != 0).count();
    let _ = writeln!(
        o,
        "<section id=\"groups\"><h2>Stack groups <span class=\"dim\">— {changed} changed of {}</span></h2><table class=\"deltas\"><thead><tr><th>change</th><th class=\"num\">before</th><th class=\"num\">after</th><th class=\"num\">delta</th><th>state</th><th>where</th></tr></thead><tbody>",
        c.groups.len()
    );
    for g in &c.groups {
        let ch = g.change.name();
        let at =
            g.at.as_ref()
                .map(|f| {
                    format!(
                        "<code class=\"fn\">{}</code> <code class=\"loc\">{}:{}</code>",
                        esc(&f.function),
                        esc(f.file.rsplit('/').next().unwrap_or(&f.file)),
                        f.line
                    )
                })
                .unwrap_or_default();
        let _ = write!(
            o,
            "<tr class=\"delta {ch}\" data-change=\"{ch}\"><td><span class=\"change {ch}\">{ch}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num delta-{ch}\">{:+}</td><td><span class=\"state\">{}</span></td><td><details><summary>{at}</summary><ol class=\"frames\">",
            g.before,
            g.after,
            g.delta,
            esc(&g.state)
        );
        for f in &g.frames {
            let _ = write!(
                o,
                "<li><code class=\"fn\">{}</code> <code class=\"loc\">{}:{}</code></li>",
                esc(&f.function),
                esc(&f.file),
                f.line
            );
        }
        o.push_str("</ol></details></td></tr>\n");
    }
    o.push_str("</tbody></table></section>\n");
    if !c.stuck_groups.is_empty() {
        o.push_str("<section id=\"stuck\"><h2>Stuck in both</h2><table><thead><tr><th class=\"num\">goroutines</th><th>state</th><th>where</th><th>ids</th></tr></thead><tbody>");
        for s in &c.stuck_groups {
            let at =
                s.at.as_ref()
                    .map(|f| {
                        format!(
                            "<code class=\"fn\">{}</code> <code class=\"loc\">{}:{}</code>",
                            esc(&f.function),
                            esc(&f.file),
                            f.line
                        )
                    })
                    .unwrap_or_default();
            let ids: Vec<String> = s.ids.iter().map(|i| i.to_string()).collect();
            let _ = write!(
                o,
                "<tr><td class=\"num\">{}</td><td><span class=\"state\">{}</span></td><td>{at}</td><td class=\"dim\">{}{}</td></tr>",
                s.goroutines,
                esc(&s.state),
                ids.join(", "),
                if s.goroutines as usize > s.ids.len() {
                    ", …"
                } else {
                    ""
                }
            );
        }
        o.push_str("</tbody></table></section>\n");
    }
    o.push_str("</main>\n");
    let crumbs = vec![(String::new(), "compare".to_string())];
    Reply::html(200, html::page("compare — hangdoc serve", &crumbs, &o))
}

fn taken(t: Option<f64>) -> String {
    match t {
        Some(s) if s.is_finite() && s >= 0.0 => esc(&html::time((s * 1000.0) as i64)),
        _ => "<span class=\"dim\">not recorded</span>".into(),
    }
}
