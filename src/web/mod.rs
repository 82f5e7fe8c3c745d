//! `hangdoc serve`: a small read-only web UI over what `hangdoc watch` stored and over the
//! bundles and dumps named on the command line.
//!
//! - [`server`]: the Host check, routing and the UI's kinds of response, over
//!   [`http`]: the listener, per-connection deadlines and worker threads (the watcher's
//!   `/metrics` uses it too);
//! - [`pages`]: the overview and the target pages; [`reports`]: an incident's or a bundle's
//!   full report (the `diagnose --format html` page with a navigation bar);
//! - [`compare`]: two snapshots side by side (pure: snapshots in, a [`compare::Comparison`]
//!   out), and [`compare_page`] which picks them and draws it;
//! - [`api`]: the same data as JSON under `/api/`;
//! - [`cache`]: parsed and diagnosed bundles, keyed by path and modification times;
//! - [`chart`]: the inline SVG sparkline and state chart; [`html`]: the page frame.
//!
//! Nothing served comes from a path in the URL: bundles are numbered in command-line order,
//! incidents and targets are row ids of a store given with `--store`, and a store's bundle
//! paths are checked to stay inside it. Stores are opened read-only on every request, so a
//! store a watcher is writing shows its new rows on reload.

pub mod api;
pub mod cache;
pub mod chart;
pub mod compare;
pub mod compare_page;
pub mod html;
pub mod http;
pub mod pages;
pub mod reports;
pub mod server;
pub mod sources;

pub use server::{Config, Server};
