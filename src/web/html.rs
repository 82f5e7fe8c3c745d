//! The frame of the served pages (not the reports, which bring their own): the report's
//! style plus a few rules of the UI's own, a navigation bar, and no script at all — the
//! pages are drawn on the server, charts included, so the policy forbids every script.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

pub use crate::report::diagnosis_html::esc;

const REPORT_STYLE: &str = include_str!("../report/html/report.css");
const WEB_STYLE: &str = include_str!("assets/web.css");

/// The Content-Security-Policy of the served pages: no script, nothing fetched, forms only
/// to this server, no framing.
pub const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The style rules added to the reports served, for the navigation bar.
pub fn nav_style() -> String {
    format!("<style>{WEB_STYLE}</style>")
}

/// A whole page: `title` (text, escaped here) and `body` (markup, already escaped).
pub fn page(title: &str, crumbs: &[(String, String)], body: &str) -> String {
    let mut o = String::with_capacity(body.len() + REPORT_STYLE.len() + WEB_STYLE.len() + 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n<meta name=\"generator\" content=\"hangdoc serve\">\n<title>{}</title>\n<style>{REPORT_STYLE}\n{WEB_STYLE}</style>\n</head>\n<body>\n",
        esc(title)
    );
    o.push_str(&nav(crumbs));
    o.push_str(body);
    o.push_str("</body>\n</html>\n");
    o
}

/// The navigation bar: the overview, then `crumbs` (href, text), the last one being this
/// page (an empty href is not linked).
pub fn nav(crumbs: &[(String, String)]) -> String {
    let mut o =
        String::from("<nav class=\"served-nav\"><a href=\"/\">hangdoc serve — overview</a>");
    for (href, text) in crumbs {
        if href.is_empty() {
            let _ = write!(o, "<span class=\"here\">{}</span>", esc(text));
        } else {
            let _ = write!(o, "<a href=\"{}\">{}</a>", esc(href), esc(text));
        }
    }
    o.push_str("</nav>\n");
    o
}

/// A plain page saying what went wrong (404s, 500s, a missing bundle).
pub fn error_page(title: &str, message: &str) -> String {
    page(
        title,
        &[],
        &format!(
            "<main><h1>{}</h1><p class=\"error\">{}</p></main>\n",
            esc(title),
            esc(message)
        ),
    )
}

/// `2026-11-22 04:23:42Z` for milliseconds since the epoch.
pub fn time(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    let s = crate::capture::manifest::rfc3339(t);
    // 2026-11-22T04:23:42.123Z → 2026-11-22 04:23:42Z
    match (s.get(..10), s.get(11..19)) {
        (Some(d), Some(h)) => format!("{d} {h}Z"),
        _ => s,
    }
}

/// "3 min ago", relative to `now` (both in milliseconds).
pub fn ago(ms: i64, now: i64) -> String {
    let s = (now - ms).max(0) / 1000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=172_799 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A state mix as text: `12 chan receive · 3 IO wait · 1 running` (largest first).
pub fn mix(by_state: &[(String, u64)]) -> String {
    let mut v: Vec<&(String, u64)> = by_state.iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.iter()
        .map(|(s, n)| format!("{n} {}", if s.is_empty() { "(no state)" } else { s }))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Percent-decodes a query value (`+` is a space); invalid escapes are kept as written.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// The value of `key` in a query string.
pub fn param(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| decode(k) == key)
        .map(|(_, v)| decode(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode() {
        assert_eq!(
            param("a=bundle%3A1&b=x+y", "a").as_deref(),
            Some("bundle:1")
        );
        assert_eq!(param("a=bundle%3A1&b=x+y", "b").as_deref(), Some("x y"));
        assert_eq!(param("a=1", "c"), None);
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%e2%9c%93"), "✓");
        assert_eq!(decode(&encode("incident:2-7 ü")), "incident:2-7 ü");
    }

    #[test]
    fn times_read_as_utc() {
        assert_eq!(time(0), "1970-01-01 00:00:00Z");
        assert_eq!(ago(0, 125_000), "2 min ago");
    }
}
