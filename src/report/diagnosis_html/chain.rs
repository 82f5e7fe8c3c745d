//! A finding's wait-for chain as an inline SVG, laid out in three columns: the victims (the
//! stacks that wait, with counts and minutes), the resource they wait for, and the root frames
//! where the bug is. Edges are as thick as the log of the goroutines they carry.

use std::fmt::Write as _;

use super::{base_name, esc, short_func, tail};
use crate::diagnose::Finding;

const W: u32 = 300;
const H: u32 = 58;
const GAP_X: u32 = 90;
const GAP_Y: u32 = 14;
const PAD: u32 = 10;
/// Characters that fit on a node line at the font size the style sheet gives.
const CHARS: usize = 38;
/// Victim stacks drawn; the rest share one node.
const MAX_VICTIMS: usize = 8;
/// Root frames drawn.
const MAX_ROOTS: usize = 4;

struct Node {
    class: &'static str,
    lines: [String; 3],
    /// The full text, for the tooltip.
    title: String,
    /// Goroutines on the edge leaving (victims) the node.
    weight: u64,
}

/// Writes the chain of finding `n` (numbered for unique ids), or nothing when the finding
/// names no victims and no resource (a single node is no chain).
pub fn svg(o: &mut String, n: usize, f: &Finding) {
    if f.victims.is_empty() && f.resource.is_none() {
        return;
    }
    let mut victims: Vec<Node> = f
        .victims
        .iter()
        .take(MAX_VICTIMS)
        .map(|v| {
            let wait = v
                .wait_minutes
                .map(|m| format!(", waiting {m} min"))
                .unwrap_or_default();
            Node {
                class: "victim",
                lines: [
                    format!("{} goroutines{wait}", v.goroutines),
                    tail(short_func(&v.function), CHARS),
                    tail(&format!("{}:{}", base_name(&v.file), v.line), CHARS),
                ],
                title: format!(
                    "{} goroutines blocked in {} at {}:{}{wait}",
                    v.goroutines, v.function, v.file, v.line
                ),
                weight: v.goroutines,
            }
        })
        .collect();
    if f.victims.len() > MAX_VICTIMS {
        let rest = &f.victims[MAX_VICTIMS..];
        let count: u64 = rest.iter().map(|v| v.goroutines).sum();
        victims.push(Node {
            class: "victim",
            lines: [
                format!("{count} goroutines"),
                format!("in {} more stacks", rest.len()),
                String::new(),
            ],
            title: format!("{count} goroutines in {} more stacks", rest.len()),
            weight: count,
        });
    }
    let resource = f.resource.as_ref().map(|r| {
        let name = r.name.as_deref().unwrap_or("");
        let addr = r.address.as_deref().unwrap_or("");
        Node {
            class: "resource",
            lines: [
                format!("waits for: {}", r.kind),
                tail(name, CHARS),
                tail(addr, CHARS),
            ],
            title: format!("{} {name} {addr}", r.kind).trim_end().to_string(),
            weight: f.goroutines,
        }
    });
    let roots: Vec<Node> = f
        .root
        .iter()
        .take(MAX_ROOTS)
        .map(|r| Node {
            class: "root",
            lines: [
                "fix here".to_string(),
                tail(short_func(&r.function), CHARS),
                tail(&format!("{}:{}", base_name(&r.file), r.line), CHARS),
            ],
            title: format!("fix here: {} at {}:{}", r.function, r.file, r.line),
            weight: 0,
        })
        .collect();

    let mut columns: Vec<Vec<Node>> = Vec::new();
    if !victims.is_empty() {
        columns.push(victims);
    }
    if let Some(r) = resource {
        columns.push(vec![r]);
    }
    if !roots.is_empty() {
        columns.push(roots);
    }
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let height = PAD * 2 + tallest * H + tallest.saturating_sub(1) * GAP_Y;
    let width = PAD * 2 + columns.len() as u32 * W + (columns.len() as u32 - 1) * GAP_X;
    // Top-left corner of every node, per column, each column centred vertically.
    let pos: Vec<Vec<(u32, u32)>> = columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            let n = col.len() as u32;
            let h = n * H + n.saturating_sub(1) * GAP_Y;
            let top = (height - h) / 2;
            (0..n)
                .map(|i| (PAD + c as u32 * (W + GAP_X), top + i * (H + GAP_Y)))
                .collect()
        })
        .collect();

    let _ = write!(
        o,
        "<details class=\"chain\" open><summary>Wait-for chain</summary><svg class=\"chain-svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" role=\"img\" aria-label=\"wait-for chain of finding {}\"><defs><marker id=\"arrow-{n}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"12\" markerHeight=\"12\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" class=\"arrowhead\"/></marker></defs>",
        n + 1
    );
    // Edges first, under the nodes: every node of a column points at every node of the next
    // (a victim waits for the resource; the resource is held or withheld at the roots).
    for c in 1..columns.len() {
        for (from, &(x1, y1)) in columns[c - 1].iter().zip(&pos[c - 1]) {
            for &(x2, y2) in &pos[c] {
                let (sx, sy) = (x1 + W, y1 + H / 2);
                let (ex, ey) = (x2, y2 + H / 2);
                let mid = (sx + ex) / 2;
                let stroke = if from.weight > 0 {
                    1.0 + (from.weight as f64).log10() * 1.5
                } else {
                    1.5
                };
                let _ = write!(
                    o,
                    "<path class=\"edge\" d=\"M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}\" stroke-width=\"{stroke:.1}\" marker-end=\"url(#arrow-{n})\"/>"
                );
            }
        }
    }
    for (col, ps) in columns.iter().zip(&pos) {
        for (node, &(x, y)) in col.iter().zip(ps) {
            let _ = write!(
                o,
                "<g class=\"node {}\"><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"6\"/>",
                node.class,
                esc(&node.title)
            );
            for (i, line) in node.lines.iter().enumerate() {
                if line.is_empty() {
                    continue;
                }
                let class = if i == 0 { "head" } else { "body" };
                let _ = write!(
                    o,
                    "<text class=\"{class}\" x=\"{}\" y=\"{}\">{}</text>",
                    x + 10,
                    y + 17 + i as u32 * 16,
                    esc(line)
                );
            }
            o.push_str("</g>");
        }
    }
    o.push_str("</svg></details>\n");
}
