//! Watching live processes: poll each target cheaply, notice when it starts to hang, take a
//! full bundle then and diagnose it, and keep the history in a [`store::Store`].

pub mod store;
