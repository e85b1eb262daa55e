//! # jwt-edge
//!
//! Strict JWT/JWKS verification with one pure-Rust core and three thin front ends:
//! a Cloudflare Worker (`edge`), a wasm-bindgen package for browsers and Node
//! (`browser`), and an issuer-side CLI (`cli`).
//!
//! The core does no I/O and reads no clock: `now` is a parameter, storage is the
//! [`ReplayStore`] trait. The configured allow-list and the selected key decide the
//! algorithm; `none` does not exist; HMAC keys come from configuration unless a JWKS is
//! explicitly allowed to carry them.
//!
//! ```
//! use jwt_edge::{JwkSet, JwksOptions, Verifier, VerifyOptions};
//!
//! let jwks = br#"{"keys":[]}"#;
//! let verifier = Verifier::new(JwkSet::parse(jwks, &JwksOptions::default())?, VerifyOptions::default())?;
//! // {"alg":"none"}.{}. — refused before any key is looked at.
//! let err = verifier.verify("eyJhbGciOiJub25lIn0.e30.", 1_700_000_000).unwrap_err();
//! assert_eq!(err.code(), "alg_not_allowed");
//! assert_eq!(err.http().status, 401);
//! # Ok::<(), jwt_edge::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Hostile input must never reach a panic (in wasm a panic kills the request): no
// unwrap/expect/panic, no unchecked indexing or slicing, no unchecked arithmetic in the
// library outside its tests. Where a module opts out of one of these, its header says
// why that is safe there (SECURITY.md lists them).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

mod alg;
mod assertion;
mod cache;
mod claims;
mod config;
mod ec_verify;
mod edge_config;
mod encoding;
mod error;
mod extract;
mod forward;
mod jwk;
mod jwks;
mod replay;
mod replay_memory;
mod rsa_public;
mod secret;
mod select;
mod signature;
mod signing;
mod thumbprint;
mod token;
mod uri;
mod verdict;
mod verify;

#[cfg(feature = "browser")]
mod browser;
#[cfg(feature = "edge")]
mod edge;

pub use crate::alg::{Algorithm, KeyKind, UnknownAlgorithm};
pub use crate::assertion::{
    parse_private_jwk, AssertionConfig, AssertionPolicy, AssertionSigner, AssertionVerifier,
    RequestBinding, VerifiedAssertion, ASSERTION_TYP, MAX_ASSERTION_LIFETIME,
};
pub use crate::cache::{
    max_age_from_cache_control, snapshot_key, CachePolicy, FetchFailures, Freshness, JwksSnapshot,
    KidCooldown, UnknownKid, MAX_REMEMBERED_KIDS, MAX_STORED_SNAPSHOT_BYTES, SNAPSHOT_KEY_PREFIX,
};
pub use crate::claims::{Claims, ClaimsPolicy, MAX_NUMERIC_DATE};
pub use crate::config::{OneOrMany, VerifyConfig};
pub use crate::edge_config::{
    EdgeConfig, IssuerConfig, Mode, PublishJwks, ReplayMode, RESERVED_HEADER_PREFIX,
};
pub use crate::error::{Error, ErrorFamily, HttpError, JwksProblem, Malformed};
pub use crate::extract::{extract_token, TokenSource};
pub use crate::forward::{
    claim_header_value, fold_header_name, forwardable_method, is_preflight, log_safe,
    method_has_body, preflight_keeps_header, ProtectedHeaders,
};
pub use crate::jwk::{Jwk, KeyRejection, KidMatch, MAX_KID_BYTES, MAX_RSA_BITS};
pub use crate::jwks::{JwkSet, JwksOptions, SkippedKey};
pub use crate::replay::{
    check_replay, check_replay_entry, replay_entry, replay_key, replay_shard, BestEffort, Lookup,
    MemoryReplayStore, NoLog, ReplayCheck, ReplayEntry, ReplayLog, ReplayStore, ReplayTiers,
    MAX_JTI_BYTES,
};
pub use crate::replay_memory::{ReplayMemory, Reservation};
pub use crate::secret::parse_secret_text;
pub use crate::signing::SigningKey;
pub use crate::thumbprint::thumbprint;
pub use crate::token::{Header, UntrustedToken, DEFAULT_MAX_TOKEN_BYTES};
pub use crate::uri::{jwks_uri_allowed, MAX_JWKS_URI_BYTES};
pub use crate::verdict::{KeySource, Verdict};
pub use crate::verify::{SignedPayload, VerifiedToken, Verifier, VerifyOptions};
