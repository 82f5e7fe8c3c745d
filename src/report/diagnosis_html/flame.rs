//! A goroutine flame graph of the snapshot diagnosed, drawn top-down (an icicle): the root
//! is every goroutine, each row below splits its parent by the next function called, and the
//! last row of each stack is its state. Width is goroutine count, so a pile-up is a wide
//! column. Siblings are ordered widest first; the page's script zooms into a clicked box.

use std::fmt::Write as _;

use ahash::AHashMap;

use super::esc;
use crate::knowledge::is_std;
use crate::model::{GroupLevel, Snapshot, WaitReason, group};

/// Width of the drawing, in SVG units.
const WIDTH: f64 = 1200.0;
/// Height of a row.
const ROW: f64 = 18.0;
/// Boxes narrower than this are not drawn (with their children).
const MIN_WIDTH: f64 = 0.3;
/// Average width of a character of the box labels.
const CHAR_W: f64 = 6.6;

#[derive(Debug)]
struct Node {
    name: String,
    kind: Kind,
    value: u64,
    children: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    All,
    Std,
    App,
    Root,
    State(WaitReason),
}

/// Builds the tree of `snap`'s goroutines, outermost frame first.
fn tree(snap: &Snapshot, roots: &[(&str, u32)]) -> Vec<Node> {
    let mut nodes = vec![Node {
        name: "all goroutines".into(),
        kind: Kind::All,
        value: 0,
        children: Vec::new(),
    }];
    let mut index: AHashMap<(usize, String), usize> = AHashMap::new();
    let mut child = |nodes: &mut Vec<Node>, parent: usize, name: String, kind: Kind, n: u64| {
        let i = match index.get(&(parent, name.clone())) {
            Some(&i) => i,
            None => {
                nodes.push(Node {
                    name: name.clone(),
                    kind,
                    value: 0,
                    children: Vec::new(),
                });
                let i = nodes.len() - 1;
                nodes[parent].children.push(i);
                index.insert((parent, name), i);
                i
            }
        };
        nodes[i].value += n;
        // A function blamed at any of its lines marks the merged box.
        if kind == Kind::Root {
            nodes[i].kind = Kind::Root;
        }
        i
    };
    for g in group(snap, GroupLevel::Lines) {
        let Some(stack) = snap.stacks.get(g.stack as usize) else {
            continue;
        };
        nodes[0].value += g.count;
        let mut at = 0;
        for f in stack.frames.iter().rev() {
            let kind = if roots.contains(&(&*f.function, f.line)) {
                Kind::Root
            } else if is_std(&f.function) {
                Kind::Std
            } else {
                Kind::App
            };
            at = child(&mut nodes, at, f.function.to_string(), kind, g.count);
        }
        if !g.state.raw.is_empty() {
            child(
                &mut nodes,
                at,
                format!("[{}]", g.state.raw),
                Kind::State(g.state.reason),
                g.count,
            );
        }
    }
    nodes
}

/// A stable colour per name within the kind's palette.
fn fill(kind: Kind, name: &str) -> String {
    let h = name.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    let v = (h % 1000) as f64 / 1000.0;
    match kind {
        Kind::All => "#9aa5b1".into(),
        Kind::Root => "#d93025".into(),
        Kind::Std => format!("hsl(210, {:.0}%, {:.0}%)", 20.0 + v * 15.0, 68.0 + v * 12.0),
        Kind::App => format!("hsl({:.0}, 75%, {:.0}%)", 25.0 + v * 25.0, 58.0 + v * 10.0),
        Kind::State(r) if r.is_forever() => "#b3261e".into(),
        Kind::State(r) if !r.is_blocked() => "#6cc070".into(),
        Kind::State(WaitReason::RuntimeIdle) => "#c8ccd0".into(),
        Kind::State(_) => "#e8b04b".into(),
    }
}

/// At most what fits in `width` units of `name`.
pub fn fit(name: &str, width: f64) -> String {
    let max = ((width - 6.0) / CHAR_W).floor();
    if max < 3.0 {
        return String::new();
    }
    let max = max as usize;
    if name.chars().count() <= max {
        name.to_string()
    } else {
        let mut s: String = name.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// Writes the flame graph section.
pub fn section(o: &mut String, snap: &Snapshot, roots: &[(&str, u32)]) {
    let nodes = tree(snap, roots);
    let total = nodes[0].value;
    if total == 0 {
        return;
    }
    // Lay out breadth-first, widest sibling first.
    let mut boxes: Vec<(usize, f64, f64, u32)> = Vec::new(); // node, x, width, depth
    let mut stack = vec![(0usize, 0.0f64, WIDTH, 0u32)];
    let mut depth_max = 0;
    while let Some((i, x, w, d)) = stack.pop() {
        boxes.push((i, x, w, d));
        depth_max = depth_max.max(d);
        let mut kids = nodes[i].children.clone();
        kids.sort_by(|&a, &b| {
            nodes[b]
                .value
                .cmp(&nodes[a].value)
                .then(nodes[a].name.cmp(&nodes[b].name))
        });
        let mut cx = x;
        for k in kids {
            let kw = w * nodes[k].value as f64 / nodes[i].value.max(1) as f64;
            if kw >= MIN_WIDTH {
                stack.push((k, cx, kw, d + 1));
            }
            cx += kw;
        }
    }
    boxes.sort_by(|a, b| a.3.cmp(&b.3).then(a.1.total_cmp(&b.1)));
    let height = (depth_max + 1) as f64 * ROW;
    let _ = write!(
        o,
        "<section id=\"flame\"><h2>Flame graph</h2><p class=\"dim\">{total} goroutines of <code>{}</code>: each row is a call, outermost at the top, as wide as the goroutines under it; the last box of a stack is its state. Red: where a finding says to fix. Click a box to zoom, <button type=\"button\" id=\"flame-reset\">reset zoom</button>.</p><svg id=\"flame-svg\" class=\"flame\" viewBox=\"0 0 {WIDTH} {height}\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" aria-label=\"goroutine flame graph\">",
        esc(&snap.source)
    );
    for (i, x, w, d) in boxes {
        let n = &nodes[i];
        let pct = 100.0 * n.value as f64 / total as f64;
        let y = d as f64 * ROW;
        let _ = write!(
            o,
            "<g class=\"fb\" data-x=\"{x:.2}\" data-w=\"{w:.2}\" data-n=\"{name}\"><title>{name} — {} goroutines ({pct:.1}%)</title><rect x=\"{x:.2}\" y=\"{y}\" width=\"{w:.2}\" height=\"{}\" fill=\"{}\"/><text x=\"{:.2}\" y=\"{:.1}\">{}</text></g>",
            n.value,
            ROW - 1.0,
            fill(n.kind, &n.name),
            x + 3.0,
            y + ROW - 5.0,
            esc(&fit(&n.name, w)),
            name = esc(&n.name),
        );
    }
    o.push_str("</svg></section>\n");
}
