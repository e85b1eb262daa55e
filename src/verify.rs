//! `Verifier`: allow-list → key selection → signature → claims. Trust is a type:
//! [`UntrustedToken`] → [`SignedPayload`] (signature holds) → [`VerifiedToken`]
//! (claims accepted).

use crate::algorithms::alg::Algorithm;
use crate::algorithms::signature;
use crate::encoding::{parse_object, MAX_JSON_DEPTH};
use crate::error::Error;
use crate::keys::jwks::JwkSet;
use crate::keys::select::candidates;
use crate::policy::claims::{Claims, ClaimsPolicy};
use crate::token::{Header, UntrustedToken, DEFAULT_MAX_TOKEN_BYTES};

/// Verification options other than the claims policy. Defaults written once, in `Default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The algorithm allow-list. Default: every asymmetric algorithm
    /// ([`Algorithm::ASYMMETRIC`]); HMAC algorithms must be listed explicitly.
    pub algorithms: Vec<Algorithm>,
    /// Largest token accepted, in bytes. Default 16 KiB.
    pub max_token_bytes: usize,
    /// Most keys tried for one token without a `kid`. Default 4.
    pub max_candidates: usize,
    /// The claims policy.
    pub claims: ClaimsPolicy,
}

impl VerifyOptions {
    /// The checks that need no key, in the order [`Verifier`] applies them: the size
    /// cap, the header's `alg` on the allow-list (`FromStr` knows no `none`), and a
    /// signature length that algorithm can have. A front end runs this before it
    /// fetches keys, so a token that cannot verify never costs a JWKS fetch.
    pub fn admit(&self, untrusted: &UntrustedToken<'_>) -> Result<Algorithm, Error> {
        if untrusted.len() > self.max_token_bytes {
            return Err(Error::TokenTooLarge {
                limit: self.max_token_bytes,
            });
        }
        let algorithm: Algorithm = untrusted
            .header()
            .algorithm
            .parse()
            .map_err(|_| Error::AlgorithmNotAllowed)?;
        if !self.algorithms.contains(&algorithm) {
            return Err(Error::AlgorithmNotAllowed);
        }
        if !algorithm.signature_len_possible(untrusted.signature().len()) {
            return Err(Error::SignatureInvalid);
        }
        Ok(algorithm)
    }
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            algorithms: Algorithm::ASYMMETRIC.to_vec(),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            max_candidates: 4,
            claims: ClaimsPolicy::default(),
        }
    }
}

/// A JWS whose signature verified, with its payload still unparsed. Use this for JWS
/// payloads that are not JWT claims; [`Verifier::verify`] goes on to the claims.
#[derive(Debug)]
pub struct SignedPayload {
    /// The protected header.
    pub header: Header,
    /// The algorithm that verified, from the allow-list.
    pub algorithm: Algorithm,
    /// The `kid` of the key that verified, if it has one.
    pub key_id: Option<String>,
    /// The payload bytes, now authenticated.
    pub payload: Vec<u8>,
}

/// A token whose signature and claims were both accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// The protected header.
    pub header: Header,
    /// The algorithm that verified.
    pub algorithm: Algorithm,
    /// The `kid` of the key that verified, if it has one.
    pub key_id: Option<String>,
    /// The claims.
    pub claims: Claims,
}

/// Verifies tokens against one key set and one policy. Build it once; `verify` is
/// read-only and cheap to call per request.
#[derive(Debug)]
pub struct Verifier {
    keys: JwkSet,
    options: VerifyOptions,
}

impl Verifier {
    /// A verifier over `keys` (from [`JwkSet::parse`], plus any configured HMAC secrets).
    ///
    /// Refuses an empty allow-list, a zero token cap, or zero candidates.
    pub fn new(keys: JwkSet, options: VerifyOptions) -> Result<Self, Error> {
        if options.algorithms.is_empty() {
            return Err(Error::config_invalid("algorithms"));
        }
        if options.max_token_bytes == 0 {
            return Err(Error::config_invalid("max_token_bytes"));
        }
        if options.max_candidates == 0 {
            return Err(Error::config_invalid("max_candidates"));
        }
        Ok(Self { keys, options })
    }

    /// The key set this verifier uses.
    pub fn keys(&self) -> &JwkSet {
        &self.keys
    }

    /// The options this verifier applies.
    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    /// Verifies the signature of a JWS compact token: the header's `alg` must be on the
    /// allow-list, and a key chosen by `kid`/`alg` from the configured set (never from
    /// the token's `jwk`, `jku`, `x5u` or `x5c`) must verify it.
    pub fn verify_signature(&self, token: &str) -> Result<SignedPayload, Error> {
        self.verify_parsed_signature(UntrustedToken::parse(token, self.options.max_token_bytes)?)
    }

    /// [`Verifier::verify_signature`] for a token already parsed (e.g. to route it).
    pub fn verify_parsed_signature(
        &self,
        untrusted: UntrustedToken<'_>,
    ) -> Result<SignedPayload, Error> {
        let algorithm = self.options.admit(&untrusted)?;
        let header = untrusted.header();
        let keys = candidates(
            self.keys.keys(),
            algorithm,
            header.key_id.as_deref(),
            self.options.max_candidates,
        )?;
        let message = untrusted.signing_input().as_bytes();
        let key = keys
            .into_iter()
            .find(|key| signature::verify(algorithm, key, message, untrusted.signature()))
            .ok_or(Error::SignatureInvalid)?;
        let key_id = key.kid.clone();
        let (header, payload) = untrusted.into_parts();
        Ok(SignedPayload {
            header,
            algorithm,
            key_id,
            payload,
        })
    }

    /// Verifies a JWT at `now` (Unix seconds): the signature as in
    /// [`Verifier::verify_signature`], then the payload as a strict JSON object
    /// (RFC 7519 §7.2), then the claims policy.
    ///
    /// Replay protection is a separate, asynchronous step: [`crate::check_replay`].
    pub fn verify(&self, token: &str, now: i64) -> Result<VerifiedToken, Error> {
        self.verify_parsed(
            UntrustedToken::parse(token, self.options.max_token_bytes)?,
            now,
        )
    }

    /// [`Verifier::verify`] for a token already parsed (e.g. to route it by issuer).
    pub fn verify_parsed(
        &self,
        untrusted: UntrustedToken<'_>,
        now: i64,
    ) -> Result<VerifiedToken, Error> {
        let signed = self.verify_parsed_signature(untrusted)?;
        let policy = &self.options.claims;
        let map = parse_object(&signed.payload, MAX_JSON_DEPTH).map_err(Error::TokenMalformed)?;
        let claims = Claims::from_map(map, policy.max_audiences)?;
        policy.check(&claims, &signed.header, now)?;
        Ok(VerifiedToken {
            header: signed.header,
            algorithm: signed.algorithm,
            key_id: signed.key_id,
            claims,
        })
    }
}
