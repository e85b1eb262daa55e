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

mod algorithms;
mod assertion;
mod decisions;
mod edge;
mod encoding;
mod error;
mod keys;
mod policy;
#[doc(hidden)]
pub mod reference;
mod routes;
mod token;
mod verdict;
mod verify;

#[cfg(feature = "browser")]
mod browser;

pub use crate::algorithms::alg::{Algorithm, KeyKind, UnknownAlgorithm};
pub use crate::algorithms::rsa_public::MAX_RSA_BITS;
pub use crate::algorithms::signing::SigningKey;
pub use crate::assertion::{
    parse_private_jwk, AssertionConfig, AssertionPolicy, AssertionSigner, AssertionVerifier,
    RequestBinding, VerifiedAssertion, ASSERTION_TYP, MAX_ASSERTION_LIFETIME,
};
pub use crate::decisions::cache::{CachePolicy, Freshness, JwksSnapshot};
pub use crate::decisions::replay::{check_replay, MemoryReplayStore, ReplayStore, MAX_JTI_BYTES};
pub use crate::decisions::token_cache::{
    TokenCacheStats, TokenCacheUse, DEFAULT_TOKEN_CACHE_ENTRIES, MAX_TOKEN_CACHE_ENTRIES,
};
pub use crate::error::{
    Challenge, Error, ErrorFamily, HttpError, JwksProblem, KeyRejection, Malformed,
};
pub use crate::keys::jwk::{Jwk, KidMatch, MAX_KID_BYTES};
pub use crate::keys::jwks::{JwkSet, JwksOptions, SkippedKey};
pub use crate::keys::secret::parse_secret_text;
pub use crate::keys::thumbprint::thumbprint;
pub use crate::policy::claims::{Claims, ClaimsPolicy, MAX_NUMERIC_DATE};
pub use crate::policy::config::VerifyConfig;
pub use crate::policy::{Field, FrontEnd, KeyKinds, OptionName, PolicyOptions, Profile, OPTIONS};
pub use crate::token::extract::{
    extract_token, extract_token_from, strip_query_parameter, TokenSource,
};
pub use crate::token::{Header, UntrustedToken, DEFAULT_MAX_TOKEN_BYTES};
pub use crate::verdict::{KeySource, Refusal, RefusalContext, Verdict, PROBLEM_CONTENT_TYPE};
pub use crate::verify::{SignedPayload, VerifiedToken, Verifier, VerifyOptions};

/// Plumbing that the crate's own front ends (the worker, the npm package, the CLI), its
/// tests, benches and fuzz targets share. **Not a stable API**: hidden from the docs,
/// and anything in it may change or disappear in any release. Use the crate root.
#[doc(hidden)]
pub mod internals {
    pub use crate::decisions::cache::{
        max_age_from_cache_control, snapshot_key, FetchFailures, KidCooldown, UnknownKid,
        MAX_REMEMBERED_KIDS, MAX_STORED_SNAPSHOT_BYTES, SNAPSHOT_KEY_PREFIX,
    };
    pub use crate::decisions::replay::{
        check_replay_entry, replay_entry, replay_key, replay_kv_key, replay_kv_ttl, replay_shard,
        BestEffort, Lookup, NoLog, ReplayCheck, ReplayEntry, ReplayLog, ReplayTiers, KV_MIN_TTL,
    };
    pub use crate::decisions::replay_memory::{ReplayMemory, Reservation};
    pub use crate::edge::config::{
        EdgeConfig, IssuerConfig, Mode, PublishJwks, ReplayMode, RESERVED_HEADER_PREFIX,
    };
    pub use crate::edge::deploy_check::{
        check_wrangler, key_bindings, secrets_store_bindings, DeployViolation, KeyBinding,
    };
    pub use crate::edge::forward::{
        claim_header, claim_header_value, fold_header_name, forwardable_method, forwarded_query,
        is_preflight, log_safe, method_has_body, preflight_keeps_header, ClaimHeader,
        ProtectedHeaders, MAX_CLAIM_HEADER_BYTES,
    };
    pub use crate::edge::metrics::{DataPoint, DecisionMetrics, MAX_INDEX_BYTES, METRICS_BINDING};
    pub use crate::edge::presets::{expand as expand_presets, Expansion, ACCESS_HEADER};
    pub use crate::keys::uri::{jwks_uri_allowed, MAX_JWKS_URI_BYTES};

    /// Route rules: path hygiene, matching, what a route requires (issue 16).
    pub mod routes {
        pub use crate::routes::{
            claim_at, normalise_path, token_scopes, Auth, ClaimRule, Matcher, Outcome, PathPattern,
            PatternProblem, Requirements, ResourceMetadata, Route, RouteTable, DEFAULT_ROUTE,
            MAX_PATH_BYTES, MAX_ROUTES, METADATA_CACHE_CONTROL,
        };
    }

    /// An issuer's discovery document (OIDC Discovery, RFC 8414) as a state machine.
    pub mod discovery {
        pub use crate::decisions::discovery::{
            discovered_issuers, discovery_key, read_document, well_known, Discovery,
            DiscoveryEvent, DiscoveryLookup, DiscoveryProblem, DiscoveryReport, DiscoverySnapshot,
            DiscoveryStep, DocumentFetch, WellKnown, DISCOVERY_ACCEPT, MAX_DISCOVERY_BYTES,
        };
    }

    /// The key-source state machine (the worker and npm `RemoteJwks` drive it).
    pub mod keysource {
        pub use crate::decisions::keysource::{
            storage_ttl, Answer, Conditional, Event, FetchReason, KeySource, Lookup, Report, Step,
            Tier,
        };
    }
}
