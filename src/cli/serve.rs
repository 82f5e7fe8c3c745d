//! `hangdoc serve [--store DIR]... [BUNDLE...]`: flags and the run.

use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Args;

use crate::web::{Config, Server, sources::Sources};

/// Flags of `hangdoc serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Bundles (`hangdoc capture` directories) and dump files to show, numbered in this
    /// order (`/bundles/0`, …).
    #[arg(value_name = "BUNDLE")]
    pub bundles: Vec<PathBuf>,
    /// A `hangdoc watch` history to show (opened read-only); repeatable. Without `--store`
    /// and bundles, `./hangdoc-watch` (where `hangdoc watch` writes by default) when it
    /// holds a history.
    #[arg(long = "store", value_name = "DIR")]
    pub stores: Vec<PathBuf>,
    /// Address to listen on: `HOST:PORT`, or `:PORT` for 127.0.0.1 (`:0` picks a free port;
    /// the URL is printed). An address other than loopback makes the pages, which show stack
    /// traces, paths and target URLs, reachable from other machines: give one only on
    /// purpose.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7777")]
    pub listen: String,
    /// A source tree (module or GOPATH) to show the blamed lines from; repeatable.
    #[arg(long, value_name = "DIR")]
    pub src: Vec<PathBuf>,
    /// Worker threads drawing pages.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
}

fn listen_addr(s: &str) -> anyhow::Result<SocketAddr> {
    let text = if s.starts_with(':') {
        format!("127.0.0.1{s}")
    } else {
        s.to_string()
    };
    let mut addrs = text
        .to_socket_addrs()
        .with_context(|| format!("--listen {s}: not an address (write HOST:PORT or :PORT)"))?;
    addrs
        .next()
        .with_context(|| format!("--listen {s}: the name resolves to no address"))
}

/// Runs `serve` until the process is stopped.
pub fn run(a: &ServeArgs) -> anyhow::Result<i32> {
    for s in &a.src {
        if !s.is_dir() {
            bail!(
                "--src {}: not a directory (give the root of the module or GOPATH tree)",
                s.display()
            );
        }
    }
    for b in &a.bundles {
        if !b.exists() {
            bail!("{}: no such bundle or dump", b.display());
        }
    }
    let listen = listen_addr(&a.listen)?;
    let mut stores = a.stores.clone();
    if stores.is_empty() && a.bundles.is_empty() {
        let default = PathBuf::from(crate::watch::config::DEFAULT_STORE);
        if !default.join(crate::watch::store::DB_FILE).is_file() {
            bail!(
                "nothing to serve: give bundles or dumps, or --store DIR (the history `hangdoc watch` writes; ./{} holds none)",
                crate::watch::config::DEFAULT_STORE
            );
        }
        stores.push(default);
    }
    for s in &stores {
        // Refuse a wrong path now rather than show an error page forever; a store that
        // exists but cannot be read is shown with its error.
        if !s.is_dir() {
            bail!(
                "--store {}: not a directory (the directory `hangdoc watch --store` writes)",
                s.display()
            );
        }
    }
    if !listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {listen}: every machine that can reach it can read these stack traces, paths and target URLs (there is no authentication)"
        );
    }
    let server = Server::bind(Config {
        sources: Sources {
            stores,
            bundles: a.bundles.clone(),
            src: a.src.clone(),
        },
        listen,
        workers: usize::from(a.workers),
    })
    .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = server.addr();
    let host = if addr.ip().is_loopback() && addr.is_ipv4() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "hangdoc serve: listening on http://{host}/")?;
    out.flush()?;
    drop(out);
    server.run()?;
    Ok(0)
}
