//! `Verifier`: allow-list → key selection → signature → claims. Trust is a type:
//! [`UntrustedToken`] → [`SignedPayload`] (signature holds) → [`VerifiedToken`]
//! (claims accepted).

use crate::algorithms::alg::Algorithm;
use crate::algorithms::signature;
use crate::decisions::token_cache::{
    token_digest, TokenCache, TokenCacheStats, TokenCacheUse, VerifiedBy,
    DEFAULT_TOKEN_CACHE_ENTRIES,
};
use crate::encoding::{parse_object, MAX_JSON_DEPTH};
use crate::error::Error;
use crate::keys::jwks::JwkSet;
use crate::keys::select::candidates;
use crate::policy::claims::{Claims, ClaimsPolicy};
use crate::token::{Header, UntrustedToken, DEFAULT_MAX_TOKEN_BYTES};

use std::sync::Mutex;

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
    /// Verified tokens [`Verifier::verify`] remembers until they expire, so the same
    /// token again skips the signature (its time claims are checked again). `0`: off.
    /// Default [`DEFAULT_TOKEN_CACHE_ENTRIES`].
    pub token_cache_entries: usize,
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
            token_cache_entries: DEFAULT_TOKEN_CACHE_ENTRIES,
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
/// cheap to call per request, and remembers the tokens that verified (see
/// [`VerifyOptions::token_cache_entries`]): a new key set means a new `Verifier`, whose
/// cache starts empty.
#[derive(Debug)]
pub struct Verifier {
    keys: JwkSet,
    options: VerifyOptions,
    cache: Option<Mutex<TokenCache>>,
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
        let cache = (options.token_cache_entries > 0)
            .then(|| Mutex::new(TokenCache::new(options.token_cache_entries)));
        Ok(Self {
            keys,
            options,
            cache,
        })
    }

    /// Hits, misses and entries of the verified-token cache (all zero when it is off).
    pub fn cache_stats(&self) -> TokenCacheStats {
        self.cache
            .as_ref()
            .and_then(|cache| cache.lock().ok().map(|c| c.stats()))
            .unwrap_or_default()
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
        self.verify_parsed_traced(untrusted, now)
            .map(|(verified, _)| verified)
    }

    /// [`Verifier::verify_parsed`], also saying whether the token came from the cache
    /// (for the worker's decision log).
    ///
    /// A token this verifier accepted before, byte for byte, is taken from its cache:
    /// the claims policy (the time claims above all) is checked again at `now`, the
    /// signature is not. Whatever the cache holds, a token is accepted only if it would
    /// be accepted without it.
    pub fn verify_parsed_traced(
        &self,
        untrusted: UntrustedToken<'_>,
        now: i64,
    ) -> Result<(VerifiedToken, TokenCacheUse), Error> {
        let policy = &self.options.claims;
        let Some(cache) = &self.cache else {
            return self
                .verify_in_full(untrusted, now)
                .map(|verified| (verified, TokenCacheUse::Off));
        };
        let digest = token_digest(untrusted.text());
        let hit = cache.lock().ok().and_then(|mut c| c.get(&digest, now));
        if let Some(by) = hit {
            // Byte for byte a token this verifier accepted: its header and payload are
            // the ones whose signature verified. Everything but the signature runs again.
            let header = untrusted.header();
            let checked = self
                .claims_of(untrusted.dangerous_payload())
                .and_then(|claims| policy.check(&claims, header, now).map(|()| claims));
            return match checked {
                Ok(claims) => Ok((
                    VerifiedToken {
                        header: header.clone(),
                        algorithm: by.algorithm,
                        key_id: by.key_id,
                        claims,
                    },
                    TokenCacheUse::Hit,
                )),
                Err(err) => {
                    if let Ok(mut c) = cache.lock() {
                        c.remove(&digest);
                    }
                    Err(err)
                }
            };
        }
        let verified = self.verify_in_full(untrusted, now)?;
        // Remembered until the time checks would refuse it whatever the clock says next;
        // a token without `exp` is not remembered.
        if let Some(exp) = verified.claims.expires_at {
            let until = exp.saturating_add(i64::try_from(policy.clock_skew).unwrap_or(i64::MAX));
            let by = VerifiedBy {
                algorithm: verified.algorithm,
                key_id: verified.key_id.clone(),
            };
            if let Ok(mut c) = cache.lock() {
                c.insert(digest, by, until, now);
            }
        }
        Ok((verified, TokenCacheUse::Miss))
    }

    /// The claims of a payload whose signature verified, read under this policy.
    fn claims_of(&self, payload: &[u8]) -> Result<Claims, Error> {
        let map = parse_object(payload, MAX_JSON_DEPTH).map_err(Error::TokenMalformed)?;
        Claims::from_map(map, self.options.claims.max_audiences)
    }

    /// Signature, then claims: everything, without the cache.
    fn verify_in_full(
        &self,
        untrusted: UntrustedToken<'_>,
        now: i64,
    ) -> Result<VerifiedToken, Error> {
        let signed = self.verify_parsed_signature(untrusted)?;
        let claims = self.claims_of(&signed.payload)?;
        self.options.claims.check(&claims, &signed.header, now)?;
        Ok(VerifiedToken {
            header: signed.header,
            algorithm: signed.algorithm,
            key_id: signed.key_id,
            claims,
        })
    }
}
