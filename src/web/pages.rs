//! The overview (`/`) and a target's page (`/targets/ID`), drawn from the same data as
//! their `/api/` documents. Every string from a store or a dump goes through [`esc`].

use std::fmt::Write as _;

use super::api::{self, IncidentView, TargetView};
use super::chart;
use super::html::{self, ago, esc, mix, now_ms, time};
use super::server::{App, Reply};
use super::sources::{Evidence, RowRef};
use crate::watch::store::Sample;

/// `/`.
pub fn overview(app: &App) -> Reply {
    let data = api::overview(app);
    let now = now_ms();
    let mut o = String::from("<main>\n");
    if app.sources.stores.is_empty() && app.sources.bundles.is_empty() {
        o.push_str("<p class=\"none\">Nothing to show: start with <code>--store DIR</code> (a <code>hangdoc watch</code> history) or name bundles and dumps.</p>");
    }
    for s in &data.stores {
        let _ = writeln!(
            o,
            "<section class=\"store\"><h2>Targets <span class=\"dim\">— <code>{}</code></span></h2>",
            esc(&s.dir)
        );
        if let Some(e) = &s.error {
            let _ = write!(o, "<p class=\"error\">{}</p>", esc(e));
        } else if s.targets.is_empty() {
            o.push_str("<p class=\"dim\">No targets watched yet.</p>");
        }
        o.push_str("<div class=\"cards\">\n");
        for t in &s.targets {
            target_card(&mut o, t, now);
        }
        o.push_str("</div></section>\n");
    }
    if !data.bundles.is_empty() {
        o.push_str("<section id=\"bundles\"><h2>Bundles and dumps</h2><table class=\"bundles\"><thead><tr><th>#</th><th>evidence</th><th class=\"num\">goroutines</th><th>top finding</th><th>fix here</th><th></th></tr></thead><tbody>\n");
        for b in &data.bundles {
            let ev = Evidence::Bundle(b.index);
            let _ = write!(
                o,
                "<tr class=\"bundle\"><td class=\"num\">{}</td><td><a href=\"{}\"><code>{}</code></a></td>",
                b.index,
                ev.href(),
                esc(&b.path)
            );
            match (&b.error, &b.top) {
                (Some(e), _) => {
                    let _ = write!(
                        o,
                        "<td></td><td colspan=\"3\" class=\"error\">{}</td>",
                        esc(e)
                    );
                }
                (None, Some(f)) => {
                    let _ = write!(
                        o,
                        "<td class=\"num\">{}</td><td><span class=\"sev sev-{}\">{}</span> <code class=\"kind\">{}</code> {}</td><td><code>{}</code></td>",
                        b.goroutines,
                        esc(f.severity),
                        esc(f.severity),
                        esc(f.kind),
                        esc(&f.title),
                        esc(f.fix.as_deref().unwrap_or(""))
                    );
                }
                (None, None) => {
                    let _ = write!(
                        o,
                        "<td class=\"num\">{}</td><td class=\"dim\">no stuck goroutines found</td><td></td>",
                        b.goroutines
                    );
                }
            }
            if b.error.is_none() {
                let _ = write!(
                    o,
                    "<td><a href=\"/compare?a={}\">compare</a></td>",
                    html::encode(&ev.token())
                );
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</tbody></table></section>\n");
    }
    o.push_str("</main>\n");
    Reply::html(200, html::page("hangdoc serve", &[], &o))
}

fn status_badge(up: Option<bool>) -> &'static str {
    match up {
        Some(true) => "<span class=\"status up\">up</span>",
        Some(false) => "<span class=\"status down\">down</span>",
        None => "<span class=\"status unknown\">no polls</span>",
    }
}

/// The target's URL as a link when it is an http(s) URL, else as text.
fn url_markup(url: &str) -> String {
    if crate::capture::target::is_url(url) {
        format!("<a href=\"{0}\" rel=\"noreferrer\">{0}</a>", esc(url))
    } else {
        esc(url)
    }
}

fn target_card(o: &mut String, t: &TargetView, now: i64) {
    let _ = write!(
        o,
        "<article class=\"card target\" data-target=\"{}\"><h3><a href=\"/targets/{}\">{}</a> {}</h3><div class=\"url\">{}</div>",
        esc(&t.id),
        esc(&t.id),
        esc(&t.name),
        status_badge(t.up),
        url_markup(&t.url)
    );
    if let Some(e) = &t.error {
        let _ = write!(o, "<p class=\"error\">{}</p>", esc(e));
    }
    if let Some(s) = &t.last {
        let _ = write!(o, "<div class=\"numbers\">");
        match s.goroutines {
            Some(g) => {
                let _ = write!(o, "<b class=\"goroutines\">{g}</b> goroutines");
            }
            None => o.push_str("<b>—</b>"),
        }
        if let Some(cw) = s.close_wait {
            let _ = write!(o, " · <b>{cw}</b> CLOSE_WAIT");
        }
        let _ = write!(
            o,
            " <span class=\"dim\">· polled {}</span></div>",
            esc(&ago(s.at, now))
        );
        if !s.ok {
            let _ = write!(
                o,
                "<div class=\"error\">{}</div>",
                esc(s.error.as_deref().unwrap_or("the last poll failed"))
            );
        } else if !s.by_state.is_empty() {
            let _ = write!(o, "<div class=\"mix\">{}</div>", esc(&mix(&s.by_state)));
        }
    }
    let samples: Vec<Sample> = t
        .recent
        .iter()
        .map(|g| Sample {
            ok: g.is_some(),
            goroutines: *g,
            ..Sample::default()
        })
        .collect();
    if !samples.is_empty() {
        o.push_str(&chart::sparkline(&samples, 340, 36));
    }
    let _ = write!(
        o,
        "<div class=\"latest\">{} incident{}",
        t.incidents,
        if t.incidents == 1 { "" } else { "s" }
    );
    if let Some(i) = &t.latest_incident {
        let _ = write!(
            o,
            " — latest <a href=\"{}\">{}</a> {}: {}",
            esc(&i.href),
            esc(&time(i.opened_at)),
            incident_status(i),
            esc(incident_headline(i))
        );
    }
    o.push_str("</div></article>\n");
}

/// The status badge of an incident.
pub fn incident_status(i: &IncidentView) -> String {
    format!("<span class=\"status {0}\">{0}</span>", esc(i.status))
}

/// What to say about an incident in one line.
pub fn incident_headline(i: &IncidentView) -> &str {
    i.headline
        .as_deref()
        .or(i.error.as_deref())
        .unwrap_or(&i.detail)
}

/// `/targets/ID`.
pub fn target(app: &App, r: RowRef) -> Reply {
    let d = match api::target_detail(app, r) {
        Ok(d) => d,
        Err((status, e)) => return Reply::error(status, false, &e),
    };
    let now = now_ms();
    let t = &d.target;
    let mut o = String::from("<main>\n");
    let _ = write!(
        o,
        "<h1>{} {}</h1><div class=\"url\">{}</div>",
        esc(&t.name),
        status_badge(t.up),
        url_markup(&t.url)
    );
    if let Some(s) = &t.last {
        let _ = write!(
            o,
            "<p>Last poll {} ({}): {}{}</p>",
            esc(&time(s.at)),
            esc(&ago(s.at, now)),
            match s.goroutines {
                Some(g) => format!("<b>{g}</b> goroutines"),
                None => esc(s.error.as_deref().unwrap_or("failed")),
            },
            if s.by_state.is_empty() {
                String::new()
            } else {
                format!(" — {}", esc(&mix(&s.by_state)))
            }
        );
    }
    let samples: Vec<Sample> = d
        .samples
        .iter()
        .map(|s| Sample {
            at: s.at,
            ok: s.ok,
            goroutines: s.goroutines,
            by_state: s.by_state.clone(),
            close_wait: s.close_wait,
            poll_ms: None,
            error: s.error.clone(),
        })
        .collect();
    let _ = writeln!(
        o,
        "<section id=\"samples\"><h2>Goroutines by state <span class=\"dim\">— {} samples</span></h2>{}</section>",
        samples.len(),
        chart::states(&samples)
    );
    o.push_str("<section id=\"incidents\"><h2>Incidents</h2>");
    if d.incidents.is_empty() {
        o.push_str("<p class=\"dim\">None recorded.</p>");
    } else {
        o.push_str("<table><thead><tr><th>opened</th><th>signature</th><th>status</th><th>top finding</th><th>headline</th><th></th></tr></thead><tbody>\n");
        for i in &d.incidents {
            let _ = writeln!(
                o,
                "<tr class=\"incident\"><td><a href=\"{}\">{}</a></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/compare?a={}\">compare</a></td></tr>",
                esc(&i.href),
                esc(&time(i.opened_at)),
                esc(&i.signature),
                incident_status(i),
                match (&i.top_kind, &i.severity) {
                    (Some(k), Some(s)) => format!(
                        "<span class=\"sev sev-{0}\">{0}</span> <code class=\"kind\">{1}</code>",
                        esc(s),
                        esc(k)
                    ),
                    (Some(k), None) => format!("<code class=\"kind\">{}</code>", esc(k)),
                    _ => String::new(),
                },
                esc(incident_headline(i)),
                html::encode(&format!("incident:{}", i.id))
            );
        }
        o.push_str("</tbody></table>");
    }
    o.push_str("</section>\n</main>\n");
    Reply::html(
        200,
        html::page(
            &format!("{} — hangdoc serve", t.name),
            &[(String::new(), format!("target {}", t.name))],
            &o,
        ),
    )
}
