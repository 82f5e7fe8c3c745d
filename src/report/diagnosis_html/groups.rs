//! The stack groups of the snapshot diagnosed (searchable and filtered by state in the page's
//! script) and the socket tables summarised by port and state.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::esc;
use crate::knowledge::is_library;
use crate::model::{Group, GroupLevel, Snapshot, TcpState, WaitReason, group};
use crate::report::paths::short_path;

/// Groups written into the page; a dump with more lists the largest.
pub const MAX_GROUPS: usize = 500;

/// Writes the stack groups section.
pub fn section(o: &mut String, snap: &Snapshot, roots: &[(&str, u32)]) {
    let groups = group(snap, GroupLevel::Lines);
    let total: u64 = groups.iter().map(|g| g.count).sum();
    let _ = writeln!(
        o,
        "<section id=\"groups\"><h2>Stack groups</h2><p class=\"dim\">{total} goroutines of <code>{}</code> in {} groups of identical stacks, largest first; frames where a finding says to fix are marked.</p>",
        esc(&snap.source),
        groups.len()
    );
    // The state filter lists each state once, with its goroutines.
    let mut states: BTreeMap<&str, u64> = BTreeMap::new();
    for g in &groups {
        *states.entry(&g.state.raw).or_default() += g.count;
    }
    o.push_str("<div class=\"filters\"><input type=\"search\" id=\"group-search\" placeholder=\"search functions, files, labels…\" aria-label=\"search stack groups\"> <select id=\"state-filter\" aria-label=\"filter by state\"><option value=\"*\">all states</option>");
    for (state, n) in &states {
        let shown = if state.is_empty() {
            "(no state)"
        } else {
            state
        };
        let _ = write!(
            o,
            "<option value=\"{}\">{} ({n})</option>",
            esc(state),
            esc(shown)
        );
    }
    o.push_str(
        "</select> <span id=\"group-count\" class=\"dim\"></span></div>\n<div id=\"group-list\">\n",
    );
    for g in groups.iter().take(MAX_GROUPS) {
        one(o, snap, g, roots);
    }
    o.push_str("</div>\n");
    if groups.len() > MAX_GROUPS {
        let _ = write!(
            o,
            "<p class=\"dim\">… {} smaller groups not listed (`hangdoc stacks` lists them all).</p>",
            groups.len() - MAX_GROUPS
        );
    }
    o.push_str("</section>\n");
}

fn state_class(r: WaitReason) -> &'static str {
    if r.is_forever() {
        "st-forever"
    } else if !r.is_blocked() {
        "st-running"
    } else if r == WaitReason::RuntimeIdle || r == WaitReason::Unknown {
        "st-idle"
    } else {
        "st-blocked"
    }
}

fn one(o: &mut String, snap: &Snapshot, g: &Group, roots: &[(&str, u32)]) {
    let Some(stack) = snap.stacks.get(g.stack as usize) else {
        return;
    };
    let is_root = |f: &crate::model::Frame| roots.contains(&(&*f.function, f.line));
    let blamed = stack.frames.iter().any(is_root);
    let _ = write!(
        o,
        "<details class=\"group{}\" data-state=\"{}\" data-count=\"{}\"><summary><span class=\"count\">{}</span>",
        if blamed { " blamed" } else { "" },
        esc(&g.state.raw),
        g.count,
        g.count
    );
    if !g.state.raw.is_empty() {
        let _ = write!(
            o,
            " <span class=\"state {}\">{}</span>",
            state_class(g.state.reason),
            esc(&g.state.raw)
        );
    }
    if let Some((min, max)) = g.wait_minutes {
        let _ = match (min, max) {
            (0, max) => write!(o, " <span class=\"wait\">&lt;1–{max} min</span>"),
            (min, max) if min == max => write!(o, " <span class=\"wait\">{max} min</span>"),
            (min, max) => write!(o, " <span class=\"wait\">{min}–{max} min</span>"),
        };
    }
    // The frame a reader recognises: the first outside the standard library and known
    // libraries, else the leaf.
    if let Some(f) = stack
        .frames
        .iter()
        .find(|f| !is_library(&f.function))
        .or(stack.frames.first())
    {
        let _ = write!(
            o,
            " <code class=\"fn\">{}</code> <span class=\"loc\">{}:{}</span>",
            esc(&f.function),
            esc(super::base_name(&f.file)),
            f.line
        );
    }
    if g.leaked > 0 {
        let _ = write!(o, " <span class=\"tag bad\">leaked ×{}</span>", g.leaked);
    }
    if g.locked > 0 {
        let _ = write!(o, " <span class=\"tag\">locked ×{}</span>", g.locked);
    }
    for (id, n) in &g.labels {
        let set: Vec<String> = snap
            .labels(*id)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = write!(
            o,
            " <span class=\"tag label\">{{{}}} ×{n}</span>",
            esc(&set.join(", "))
        );
    }
    if let Some(c) = g.creator.and_then(|c| snap.creators.get(c as usize)) {
        let _ = write!(
            o,
            " <span class=\"dim\">created by <code>{}</code></span>",
            esc(&c.function)
        );
    }
    o.push_str("</summary><ol class=\"frames\">");
    for f in &stack.frames {
        let loc = short_path(&f.file, &f.function);
        let _ = write!(
            o,
            "<li{}><code class=\"fn\">{}</code> <span class=\"loc\">{}{}</span></li>",
            if is_root(f) { " class=\"root\"" } else { "" },
            esc(&f.function),
            esc(&loc),
            if f.line > 0 {
                format!(":{}", f.line)
            } else {
                String::new()
            }
        );
    }
    o.push_str("</ol>");
    match stack.elided {
        Some(0) => o.push_str("<p class=\"dim\">…additional frames elided by the runtime</p>"),
        Some(n) => {
            let _ = write!(o, "<p class=\"dim\">…{n} frames elided by the runtime</p>");
        }
        None => {}
    }
    if !g.ids.is_empty() {
        let ids: Vec<String> = g.ids.iter().map(u64::to_string).collect();
        let more = if g.count > g.ids.len() as u64 {
            " …"
        } else {
            ""
        };
        let _ = write!(
            o,
            "<p class=\"dim\">goroutine ids {}{more}</p>",
            ids.join(" ")
        );
    }
    o.push_str("</details>\n");
}

/// The kernel's name of a state.
fn tcp_name(s: TcpState) -> &'static str {
    match s {
        TcpState::Established => "ESTABLISHED",
        TcpState::SynSent => "SYN_SENT",
        TcpState::SynRecv => "SYN_RECV",
        TcpState::FinWait1 => "FIN_WAIT1",
        TcpState::FinWait2 => "FIN_WAIT2",
        TcpState::TimeWait => "TIME_WAIT",
        TcpState::Close => "CLOSE",
        TcpState::CloseWait => "CLOSE_WAIT",
        TcpState::LastAck => "LAST_ACK",
        TcpState::Listen => "LISTEN",
        TcpState::Closing => "CLOSING",
        TcpState::Unknown => "UNKNOWN",
    }
}

/// Writes the socket summary: per port, how many sockets in each state. A socket counts
/// under its local port when that port listens (a connection to this process), else under
/// the remote port (a connection this process made).
pub fn sockets(o: &mut String, snaps: &[Snapshot]) {
    let socks: Vec<_> = snaps.iter().flat_map(|s| s.sockets.iter()).collect();
    if socks.is_empty() {
        return;
    }
    let listening: Vec<u16> = socks
        .iter()
        .filter(|s| s.state == TcpState::Listen)
        .map(|s| s.local.port)
        .collect();
    #[derive(Default)]
    struct Row {
        states: BTreeMap<TcpState, u64>,
        total: u64,
        recv_q: u64,
        send_q: u64,
        processes: BTreeMap<String, u64>,
    }
    let mut rows: BTreeMap<(&'static str, u16), Row> = BTreeMap::new();
    let mut columns: Vec<TcpState> = Vec::new();
    for s in &socks {
        let key = if s.state == TcpState::Listen || listening.contains(&s.local.port) {
            ("inbound", s.local.port)
        } else {
            ("outbound", s.remote.port)
        };
        let row = rows.entry(key).or_default();
        *row.states.entry(s.state).or_default() += 1;
        row.total += 1;
        row.recv_q = row.recv_q.saturating_add(s.recv_q);
        row.send_q = row.send_q.saturating_add(s.send_q);
        if let Some(p) = &s.process {
            *row.processes.entry(p.clone()).or_default() += 1;
        }
        if !columns.contains(&s.state) {
            columns.push(s.state);
        }
    }
    columns.sort();
    let mut rows: Vec<_> = rows.into_iter().collect();
    rows.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.cmp(&b.0)));

    let _ = write!(
        o,
        "<section id=\"sockets\"><h2>Sockets</h2><p class=\"dim\">{} TCP sockets by port: inbound under the local port this process listens on, outbound under the remote port.</p><table class=\"sockets\"><thead><tr><th>direction</th><th>port</th><th>process</th>",
        socks.len()
    );
    for c in &columns {
        let _ = write!(o, "<th>{}</th>", tcp_name(*c));
    }
    o.push_str("<th>total</th><th>Recv-Q</th><th>Send-Q</th></tr></thead><tbody>");
    for ((dir, port), row) in &rows {
        // The process that owns most of the row's sockets (tables may cover several).
        let process = row
            .processes
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(p, _)| p.as_str())
            .unwrap_or("");
        let _ = write!(
            o,
            "<tr><td>{dir}</td><td class=\"num\">{port}</td><td>{}</td>",
            esc(process)
        );
        for c in &columns {
            let n = row.states.get(c).copied().unwrap_or(0);
            let class = match (c, n) {
                (_, 0) => "num zero",
                (TcpState::CloseWait, _) => "num bad",
                _ => "num",
            };
            let _ = write!(o, "<td class=\"{class}\">{n}</td>");
        }
        let _ = write!(
            o,
            "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            row.total, row.recv_q, row.send_q
        );
    }
    o.push_str("</tbody></table></section>\n");
}
