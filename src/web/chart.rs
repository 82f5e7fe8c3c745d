//! Inline SVG charts of a target's samples, drawn on the server: a sparkline of the
//! goroutine count for the overview, and goroutines by state over time (stacked), with
//! CLOSE_WAIT sockets when known, for the target page. Failed polls are red ticks.

use std::fmt::Write as _;

use super::html::esc;
use crate::watch::store::Sample;

/// Colours of the states drawn, in the order of the legend; the rest is grey.
const PALETTE: [&str; 7] = [
    "#4285f4", "#f4b400", "#db4437", "#0f9d58", "#ab47bc", "#00acc1", "#ff7043",
];
const OTHER: &str = "#bdc1c6";

/// A sparkline of the goroutine count over `samples` (oldest first), `w`×`h` pixels.
pub fn sparkline(samples: &[Sample], w: u32, h: u32) -> String {
    let (w, h) = (w.max(20) as f64, h.max(10) as f64);
    let max = samples
        .iter()
        .filter_map(|s| s.goroutines)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = samples.len();
    let x = |i: usize| {
        if n <= 1 {
            w / 2.0
        } else {
            1.0 + i as f64 * (w - 2.0) / (n - 1) as f64
        }
    };
    let mut o = String::new();
    let _ = write!(
        o,
        "<svg class=\"spark\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"goroutines over the last {n} samples\"><title>goroutines over the last {n} samples (max {max})</title>"
    );
    // One polyline per run of successful polls.
    let mut run = String::new();
    let flush = |run: &mut String, o: &mut String| {
        if !run.is_empty() {
            let _ = write!(o, "<polyline points=\"{}\"/>", run.trim_end());
            run.clear();
        }
    };
    for (i, s) in samples.iter().enumerate() {
        match s.goroutines {
            Some(g) if s.ok => {
                let y = h - 1.0 - (g as f64 / max) * (h - 2.0);
                let _ = write!(run, "{:.1},{:.1} ", x(i), y);
            }
            _ => {
                flush(&mut run, &mut o);
                let _ = write!(
                    o,
                    "<line class=\"fail\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"0\" y2=\"{h}\"/>",
                    x(i)
                );
            }
        }
    }
    flush(&mut run, &mut o);
    o.push_str("</svg>");
    o
}

/// The states drawn separately: the most common over `samples` (at most the palette's
/// size); the others are summed as "other".
pub fn top_states(samples: &[Sample]) -> Vec<String> {
    let mut totals: Vec<(String, u64)> = Vec::new();
    for s in samples {
        for (st, n) in &s.by_state {
            match totals.iter_mut().find(|(k, _)| k == st) {
                Some(t) => t.1 += n,
                None => totals.push((st.clone(), *n)),
            }
        }
    }
    totals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    totals
        .into_iter()
        .take(PALETTE.len())
        .map(|(s, _)| s)
        .collect()
}

/// Goroutines by state over time, stacked, with CLOSE_WAIT as a red line on its own scale
/// when any sample has it; then a legend.
pub fn states(samples: &[Sample]) -> String {
    const W: f64 = 960.0;
    const H: f64 = 220.0;
    const L: f64 = 48.0; // left margin for the axis labels
    const B: f64 = 18.0; // bottom margin
    let n = samples.len();
    if n == 0 {
        return "<p class=\"dim\">No samples yet.</p>".into();
    }
    let tops = top_states(samples);
    let max = samples
        .iter()
        .filter_map(|s| s.goroutines)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = |i: usize| {
        if n <= 1 {
            L + (W - L) / 2.0
        } else {
            L + i as f64 * (W - L - 4.0) / (n - 1) as f64
        }
    };
    let y = |v: f64| (H - B) - v / max * (H - B - 6.0);

    // Layers: for each sample, the cumulative count below each state's band. Samples whose
    // format tells no states stack their whole count as "other".
    let layers = tops.len() + 1;
    let mut cum: Vec<Vec<f64>> = vec![vec![0.0; layers + 1]; n];
    for (i, s) in samples.iter().enumerate() {
        let total = s.goroutines.unwrap_or(0) as f64;
        let mut acc = 0.0;
        for (k, st) in tops.iter().enumerate() {
            cum[i][k] = acc;
            acc += s
                .by_state
                .iter()
                .filter(|(name, _)| name == st)
                .map(|(_, v)| *v as f64)
                .sum::<f64>();
        }
        cum[i][tops.len()] = acc;
        cum[i][layers] = acc.max(total);
    }

    let mut o = String::new();
    let _ = write!(
        o,
        "<svg class=\"chart\" id=\"state-chart\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"goroutines by state over time\">"
    );
    let _ = write!(
        o,
        "<line class=\"axis\" x1=\"{L}\" x2=\"{W}\" y1=\"{0}\" y2=\"{0}\"/><line class=\"axis\" x1=\"{L}\" x2=\"{W}\" y1=\"{1}\" y2=\"{1}\"/><text x=\"{2}\" y=\"{3}\" text-anchor=\"end\">{max}</text><text x=\"{2}\" y=\"{0}\" text-anchor=\"end\">0</text>",
        H - B,
        y(max),
        L - 4.0,
        y(max) + 4.0
    );
    let colour = |k: usize| if k < tops.len() { PALETTE[k] } else { OTHER };
    for k in 0..layers {
        let colour = colour(k);
        let mut pts = String::new();
        for (i, c) in cum.iter().enumerate() {
            let _ = write!(pts, "{:.1},{:.1} ", x(i), y(c[k + 1]));
        }
        for (i, c) in cum.iter().enumerate().rev() {
            let _ = write!(pts, "{:.1},{:.1} ", x(i), y(c[k]));
        }
        let name = tops.get(k).map_or("other", |s| s.as_str());
        let _ = write!(
            o,
            "<polygon class=\"band\" data-state=\"{}\" points=\"{}\" fill=\"{colour}\" fill-opacity=\"0.8\"><title>{}</title></polygon>",
            esc(name),
            pts.trim_end(),
            esc(name)
        );
    }
    for (i, s) in samples.iter().enumerate() {
        if !s.ok {
            let _ = write!(
                o,
                "<line class=\"fail\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"0\" y2=\"{1}\"><title>{2}</title></line>",
                x(i),
                H - B,
                esc(s.error.as_deref().unwrap_or("poll failed"))
            );
        }
    }
    let cw_max = samples.iter().filter_map(|s| s.close_wait).max();
    if let Some(cmax) = cw_max {
        let cmax = cmax.max(1) as f64;
        let mut pts = String::new();
        for (i, s) in samples.iter().enumerate() {
            if let Some(c) = s.close_wait {
                let _ = write!(
                    pts,
                    "{:.1},{:.1} ",
                    x(i),
                    (H - B) - c as f64 / cmax * (H - B - 6.0)
                );
            }
        }
        let _ = write!(
            o,
            "<polyline class=\"cw\" points=\"{}\"><title>CLOSE_WAIT sockets (max {cmax})</title></polyline><text x=\"{}\" y=\"12\" text-anchor=\"end\" fill=\"#c5221f\">CLOSE_WAIT max {cmax}</text>",
            pts.trim_end(),
            W - 4.0
        );
    }
    let _ = write!(
        o,
        "<text x=\"{L}\" y=\"{H}\">{}</text><text x=\"{W}\" y=\"{H}\" text-anchor=\"end\">{}</text></svg>",
        esc(&super::html::time(samples[0].at)),
        esc(&super::html::time(samples[n - 1].at))
    );
    o.push_str("<div class=\"legend\">");
    for k in 0..layers {
        let colour = colour(k);
        let name = tops.get(k).map_or("other / no state", |s| s.as_str());
        let _ = write!(
            o,
            "<span><svg width=\"10\" height=\"10\" class=\"sw-svg\"><rect width=\"10\" height=\"10\" fill=\"{colour}\"/></svg> {}</span>",
            esc(name)
        );
    }
    if cw_max.is_some() {
        o.push_str("<span><svg width=\"10\" height=\"10\"><rect y=\"4\" width=\"10\" height=\"2\" fill=\"#c5221f\"/></svg> CLOSE_WAIT (own scale)</span>");
    }
    o.push_str("</div>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(at: i64, g: Option<u64>, states: &[(&str, u64)]) -> Sample {
        Sample {
            at,
            ok: g.is_some(),
            goroutines: g,
            by_state: states.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            ..Sample::default()
        }
    }

    #[test]
    fn a_failed_poll_breaks_the_line() {
        let v = [
            s(0, Some(5), &[]),
            s(1, None, &[]),
            s(2, Some(9), &[]),
            s(3, Some(7), &[]),
        ];
        let svg = sparkline(&v, 100, 20);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("class=\"fail\"").count(), 1);
    }

    #[test]
    fn states_stack_and_hostile_names_are_text() {
        let v = [
            s(0, Some(3), &[("chan receive", 2), ("<b>x</b>", 1)]),
            s(1000, Some(5), &[("chan receive", 4), ("<b>x</b>", 1)]),
        ];
        let svg = states(&v);
        assert_eq!(top_states(&v), vec!["chan receive", "<b>x</b>"]);
        assert!(
            svg.contains("&lt;b&gt;x&lt;/b&gt;") && !svg.contains("<b>x"),
            "{svg}"
        );
        assert_eq!(svg.matches("<polygon").count(), 3);
    }
}
