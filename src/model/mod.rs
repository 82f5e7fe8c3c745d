//! The one model every parser produces and every detector reads. No I/O, no colours.

mod args;
mod builder;
mod frame;
pub mod group;
mod snapshot;
mod socket;
mod state;

pub use args::{ArgLists, Args};
pub use builder::{DEFAULT_ARGS_BUDGET, SnapshotBuilder};
pub use frame::{Frame, FuncName};
pub use group::{Group, GroupLevel, group};
pub use snapshot::{
    Ancestor, ArgsId, CreatorId, Format, GFlags, Goroutine, Labels, LabelsId, NONE, Record,
    Snapshot, Stack, StackId, StateId, Warning,
};
pub use socket::{Endpoint, Socket, TcpState};
pub use state::{State, WaitReason};
