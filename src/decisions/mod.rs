//! Decisions with memory, pure over their state: the key-source state machine and its
//! cache timing (`keysource`, `cache`), an issuer's metadata (`discovery`), replay protection (`replay`), and the verified tokens a
//! verifier remembers (`token_cache`). Front ends
//! perform the I/O these ask for.

pub(crate) mod cache;
pub(crate) mod discovery;
pub(crate) mod keysource;
pub(crate) mod replay;
pub(crate) mod replay_memory;
pub(crate) mod token_cache;
