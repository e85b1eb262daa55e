//! Decisions with memory, pure over their state: the key-source state machine and its
//! cache timing (`keysource`, `cache`), and replay protection (`replay`). Front ends
//! perform the I/O these ask for.

pub(crate) mod cache;
pub(crate) mod keysource;
pub(crate) mod replay;
pub(crate) mod replay_memory;
