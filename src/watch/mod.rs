//! Watching live processes: poll each target cheaply, notice when it starts to hang, take a
//! full bundle then and diagnose it, and keep the history in a [`store::Store`].
//!
//! [`run::run`] starts one thread per target: [`poll`] reads the aggregated goroutine
//! profile and the socket table, [`signature`] judges the recent polls, and [`incident`]
//! captures and diagnoses when one fires. The calling thread owns the store and makes every
//! write; [`metrics`] serves what the threads saw, and [`log`] writes one event per line.

pub mod config;
pub mod incident;
pub mod log;
pub mod metrics;
pub mod poll;
pub mod run;
pub mod signature;
pub mod store;
