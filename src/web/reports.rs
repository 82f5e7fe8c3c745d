//! `/incidents/ID` and `/bundles/N`: the full report of `hangdoc diagnose --format html`
//! over the evidence, with a navigation bar and, for an incident, what the watcher saw.
//! An incident still capturing, or whose capture failed, shows its status and error
//! instead; a bundle that cannot be read shows why.

use std::fmt::Write as _;

use super::api::IncidentView;
use super::html::{self, esc, time};
use super::pages::{incident_headline, incident_status};
use super::server::{App, Reply};
use super::sources::{Evidence, Resolved};
use crate::report::diagnosis_html;
use crate::watch::store::IncidentStatus;

/// The page of `e`.
pub fn report(app: &App, e: Evidence) -> Reply {
    let r = match app.sources.resolve(e) {
        Ok(r) => r,
        Err(msg) => return Reply::error(404, false, &msg),
    };
    let crumbs = crumbs(e, &r);
    let banner = banner(e, &r);
    if let Some(row) = &r.incident {
        if matches!(
            row.status,
            IncidentStatus::Capturing | IncidentStatus::Failed
        ) {
            let what = match row.status {
                IncidentStatus::Capturing => {
                    "The watcher is still writing this incident's bundle: reload in a moment."
                        .to_string()
                }
                _ => format!(
                    "The capture failed: {}",
                    row.error.as_deref().unwrap_or("no reason recorded")
                ),
            };
            let body = format!(
                "<main>{banner}<p class=\"error\">{}</p></main>\n",
                esc(&what)
            );
            return Reply::html(200, html::page(&r.label, &crumbs, &body));
        }
    }
    let loaded = app.cache.get(&r.path, r.src());
    let l = match &*loaded {
        Ok(l) => l,
        Err(msg) => {
            let body = format!(
                "<main>{banner}<p class=\"error\">This evidence cannot be read: {}</p></main>\n",
                esc(msg)
            );
            return Reply::html(200, html::page(&r.label, &crumbs, &body));
        }
    };
    let mut buf = Vec::new();
    if let Err(err) = diagnosis_html::write(&mut buf, &l.diagnosis, &l.snaps) {
        return Reply::error(500, false, &format!("the report could not be drawn: {err}"));
    }
    let page = String::from_utf8_lossy(&buf).into_owned();
    let top = format!("{}{}{}", html::nav_style(), html::nav(&crumbs), banner);
    // The report is one page of its own; the bar goes right after its `<body>`.
    let page = match page.find("<body>") {
        Some(i) => format!("{}{}{}", &page[..i + 6], top, &page[i + 6..]),
        None => page,
    };
    let policy = page_policy(&page);
    let mut reply = Reply::html(200, page);
    reply.policy = policy;
    reply
}

/// The policy the report declares in its `<meta>`, sent as a header too (the report pins its
/// own script by hash; the served pages have none).
fn page_policy(page: &str) -> Option<String> {
    let head = &page[..page.find("</head>")?];
    let at = head.find("http-equiv=\"Content-Security-Policy\"")?;
    let rest = &head[at..];
    let start = rest.find("content=\"")? + 9;
    let end = rest[start..].find('"')?;
    Some(format!(
        "{}; frame-ancestors 'none'",
        &rest[start..start + end]
    ))
}

fn crumbs(e: Evidence, r: &Resolved) -> Vec<(String, String)> {
    let mut c = Vec::new();
    if let (Evidence::Incident(rr), Some(row)) = (e, &r.incident) {
        let t = super::sources::RowRef {
            store: rr.store,
            id: row.target_id,
        };
        c.push((
            format!("/targets/{}", t.token()),
            format!("target {}", row.target),
        ));
    }
    c.push((String::new(), r.label.clone()));
    c.push((
        format!("/compare?a={}", html::encode(&e.token())),
        "compare first and last snapshot".to_string(),
    ));
    c
}

fn banner(e: Evidence, r: &Resolved) -> String {
    let mut o = String::from("<div class=\"incident-banner\">");
    match (e, &r.incident) {
        (Evidence::Incident(rr), Some(row)) => {
            let v = IncidentView::new(rr.store, row);
            let _ = write!(
                o,
                "<b>Incident {}</b> of <a href=\"/targets/{}\">{}</a> {} — opened {} by <code>{}</code>: {}",
                esc(&v.id),
                esc(&v.target_id),
                esc(&v.target),
                incident_status(&v),
                esc(&time(v.opened_at)),
                esc(&v.signature),
                esc(&v.detail)
            );
            if v.status == "diagnosed" {
                let _ = write!(
                    o,
                    "<br><span class=\"dim\">The watcher's diagnosis:</span> {}",
                    esc(incident_headline(&v))
                );
            }
            let _ = write!(
                o,
                "<br><span class=\"dim\">bundle</span> <code>{}</code>",
                esc(&v.bundle)
            );
        }
        _ => {
            let _ = write!(o, "<b>Bundle</b> <code>{}</code>", esc(&r.label));
        }
    }
    o.push_str("</div>\n");
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_report_policy_is_read_from_its_meta() {
        let page = "<html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-x'\"></head><body></body>";
        assert_eq!(
            super::page_policy(page).as_deref(),
            Some("default-src 'none'; script-src 'sha256-x'; frame-ancestors 'none'")
        );
    }
}
