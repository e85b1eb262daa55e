//! The edge worker. Its configuration, forwarding rules and deploy check are pure
//! and compiled natively too (tests and fuzzing reach them); the workers-rs front
//! end (`worker/`) only with the `edge` feature.

pub(crate) mod config;
pub(crate) mod deploy_check;
pub(crate) mod forward;
pub(crate) mod metrics;
pub(crate) mod presets;
#[cfg(feature = "edge")]
mod worker;
