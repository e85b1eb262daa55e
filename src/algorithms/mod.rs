//! Signature algorithms: the names and the allow-list's vocabulary (`alg`), the one
//! dispatch from (algorithm, key) to a verifier (`signature`), this crate's own RSA
//! (`rsa_public`, `rsa_emsa`), ECDSA (`ec`), Ed25519 with per-key tables (`ed25519`), and signing for the CLI and assertions.

pub(crate) mod alg;
pub(crate) mod ec;
pub(crate) mod ed25519;
pub(crate) mod rsa_emsa;
pub(crate) mod rsa_public;
pub(crate) mod signature;
pub(crate) mod signing;
