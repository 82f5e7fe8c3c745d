//! Parses evidence files and prints what was read: a bench and debugging entry point.
//!
//! `cargo run --release --example parse -- FILE... [--threads N] [--args-budget-mib N] [-v]`

use std::process::ExitCode;

use hangdoc::parse::{Options, parse_path};

fn main() -> ExitCode {
    let mut opts = Options::default();
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    let mut verbose = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => opts.threads = args.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            "--args-budget-mib" => {
                opts.args_budget = args.next().and_then(|n| n.parse().ok()).unwrap_or(0) << 20
            }
            "-v" => verbose = true,
            _ => files.push(a),
        }
    }
    let mut status = ExitCode::SUCCESS;
    for f in &files {
        let start = std::time::Instant::now();
        match parse_path(f, &opts) {
            Ok(s) => {
                let kept = s.goroutines.iter().filter(|g| g.args != u32::MAX).count();
                println!(
                    "{f}: {} goroutines, {} stacks, {} states, {} label sets, {} creators, {} argument lists ({kept} goroutines with arguments), {} preamble lines, {} warnings, {:.3}s",
                    s.goroutines.len(),
                    s.stacks.len(),
                    s.states.len(),
                    s.label_sets.len(),
                    s.creators.len(),
                    s.args.len(),
                    s.preamble.len(),
                    s.warnings.len(),
                    start.elapsed().as_secs_f64()
                );
                for w in s.warnings.iter().take(10) {
                    println!("  warning (line {:?}): {}", w.line, w.message);
                }
                if verbose {
                    for p in &s.preamble {
                        println!("  preamble: {p}");
                    }
                    for g in &s.goroutines {
                        let st = s.stack(g);
                        println!(
                            "  goroutine {} [{}] parent={:?} minutes={:?} flags={} frames={} elided={:?} labels={:?} creator={:?}",
                            g.id,
                            s.state(g).raw,
                            g.parent,
                            g.wait_minutes,
                            g.flags.0,
                            st.frames.len(),
                            st.elided,
                            s.labels(g.labels),
                            s.creator(g)
                                .map(|c| format!("{} {}:{}", c.function, c.file, c.line)),
                        );
                    }
                }
            }
            Err(e) => {
                eprintln!("{e}");
                status = ExitCode::from(2);
            }
        }
    }
    status
}
