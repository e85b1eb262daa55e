//! Signed request assertions: proof, for the origin, that a request passed through
//! jwt-edge with the claims it verified, and that its method and path were not changed
//! on the way.
//!
//! An assertion is a JWT (RFC 7519) in JWS compact form, explicitly typed
//! `jwt-edge-assertion+jwt` (RFC 8725 §3.11) so it can never pass for an access token
//! or the other way round:
//!
//! ```text
//! header:  {"alg":"EdDSA","kid":"…","typ":"jwt-edge-assertion+jwt"}
//! payload: {"iss":"jwt-edge","aud":"…","iat":…,"exp":…,"jti":"…",
//!           "method":"POST","path":"/api/items?x=1","claims":{…verified claims…}}
//! ```
//!
//! `path` is the request target in origin form (RFC 9112 §3.2.1: path and query), as
//! the origin receives it; in Node that is `req.url`. Any JWT library checks it; the
//! [`AssertionVerifier`] here is what the CLI's `verify-assertion` uses.
//!
//! Time and randomness are inputs: `now` and the 16 bytes of the `jti`.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::algorithms::alg::{Algorithm, KeyKind};
use crate::algorithms::signing::SigningKey;
use crate::algorithms::signing::{
    alg_and_kid, compact_jws, ed25519_key, ed25519_sign, hmac, oct_secret,
};
use crate::encoding::{base64url_decode, base64url_encode, parse_object, MAX_JSON_DEPTH};
use crate::error::Error;
use crate::keys::jwk::Jwk;
use crate::keys::jwks::{JwkSet, JwksOptions};
use crate::policy::{FrontEnd, KeyKinds, PolicyOptions, Profile};
use crate::verify::{VerifiedToken, Verifier};

/// The header `typ` of every assertion (RFC 8725 §3.11).
pub const ASSERTION_TYP: &str = "jwt-edge-assertion+jwt";

/// Longest assertion lifetime the worker may be configured with, in seconds.
pub const MAX_ASSERTION_LIFETIME: u64 = 300;

/// The assertion settings of the edge configuration (`"assertion": {…}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionConfig {
    /// Name of the Worker secret holding the signing key as a private JWK: OKP Ed25519
    /// (`EdDSA`), or `oct` of at least 32 bytes (`HS256`, or the JWK's own HS `alg`).
    /// The name of the secret, never the key.
    pub key_secret: String,
    /// The request header carrying the assertion. Default "X-Jwt-Assertion". A client's
    /// own header of that name is always removed.
    #[serde(default = "default_header")]
    pub header: String,
    /// The verified claims copied into the assertion's `claims`. Default `null`: all.
    #[serde(default)]
    pub claims: Option<Vec<String>>,
    /// Lifetime (`exp − iat`), in seconds, 1 to 300. Default 60.
    #[serde(default = "default_lifetime")]
    pub lifetime: u64,
    /// The assertion's `iss`. Default "jwt-edge".
    #[serde(default = "default_issuer")]
    pub issuer: String,
    /// The assertion's `aud`: the origin's name for itself. Default none.
    #[serde(default)]
    pub audience: Option<String>,
}

fn default_header() -> String {
    "X-Jwt-Assertion".into()
}
fn default_lifetime() -> u64 {
    60
}
fn default_issuer() -> String {
    "jwt-edge".into()
}

impl AssertionConfig {
    /// Checks the settings that do not need the key; the error names the field.
    pub fn validate(&self) -> Result<(), Error> {
        if !(1..=MAX_ASSERTION_LIFETIME).contains(&self.lifetime) {
            return Err(Error::config_invalid("assertion.lifetime"));
        }
        if self.issuer.is_empty() || self.issuer.len() > 256 {
            return Err(Error::config_invalid("assertion.issuer"));
        }
        if self
            .audience
            .as_ref()
            .is_some_and(|a| a.is_empty() || a.len() > 256)
        {
            return Err(Error::config_invalid("assertion.audience"));
        }
        if self
            .claims
            .as_ref()
            .is_some_and(|c| c.len() > 64 || c.iter().any(String::is_empty))
        {
            return Err(Error::config_invalid("assertion.claims"));
        }
        Ok(())
    }
}

/// What the origin will see of the request: its method and its target in origin form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestBinding<'a> {
    /// The method, as sent (`GET`, `POST`, …).
    pub method: &'a str,
    /// Path and query, as sent (`/api/items?x=1`).
    pub path: &'a str,
}

/// The algorithm an assertion key signs with, or why it cannot sign assertions.
fn assertion_algorithm(kind: KeyKind, own: Option<Algorithm>) -> Result<Algorithm, Error> {
    match (kind, own) {
        (KeyKind::Ed25519, None | Some(Algorithm::EdDsa | Algorithm::Ed25519)) => {
            Ok(Algorithm::EdDsa)
        }
        (KeyKind::Oct, None) => Ok(Algorithm::Hs256),
        (KeyKind::Oct, Some(alg)) if alg.is_symmetric() => Ok(alg),
        _ => Err(Error::KeyMismatch),
    }
}

/// The assertion key: Ed25519 or an HMAC secret only. It is not a [`SigningKey`], so
/// the worker links neither RSA nor EC signing.
enum AssertionKey {
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Hmac(zeroize::Zeroizing<Vec<u8>>),
}

/// Signs assertions with the worker's own key. Build it once per isolate.
pub struct AssertionSigner {
    key: AssertionKey,
    kid: Option<String>,
    algorithm: Algorithm,
    config: AssertionConfig,
}

/// Never the key material.
impl core::fmt::Debug for AssertionSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AssertionSigner")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AssertionSigner {
    /// A signer over a private JWK (Ed25519 or an HMAC secret of 32+ bytes).
    pub fn new(private_jwk: &Map<String, Value>, config: AssertionConfig) -> Result<Self, Error> {
        config.validate()?;
        let bad_key = || Error::config_invalid("assertion.key_secret");
        let (own, kid) = alg_and_kid(private_jwk).map_err(|_| bad_key())?;
        let (key, kind) = match private_jwk.get("kty").and_then(Value::as_str) {
            Some("OKP") => (
                AssertionKey::Ed25519(Box::new(ed25519_key(private_jwk).map_err(|_| bad_key())?)),
                KeyKind::Ed25519,
            ),
            Some("oct") => (
                AssertionKey::Hmac(oct_secret(private_jwk).map_err(|_| bad_key())?),
                KeyKind::Oct,
            ),
            _ => return Err(bad_key()),
        };
        let algorithm = assertion_algorithm(kind, own).map_err(|_| bad_key())?;
        // Refuses an HMAC secret too short for its algorithm.
        if let AssertionKey::Hmac(secret) = &key {
            if secret.len() < algorithm.min_secret_len() {
                return Err(bad_key());
            }
        }
        Ok(Self {
            key,
            kid,
            algorithm,
            config,
        })
    }

    /// The settings this signer applies.
    pub fn config(&self) -> &AssertionConfig {
        &self.config
    }

    /// The algorithm assertions are signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The assertion for a verified token and the request as it will be forwarded, at
    /// `now` (Unix seconds), with `id` (16 random bytes) as its `jti`.
    pub fn sign(
        &self,
        token: &VerifiedToken,
        request: RequestBinding<'_>,
        now: i64,
        id: &[u8; 16],
    ) -> Result<String, Error> {
        let claims = match &self.config.claims {
            None => token.claims.all.clone(),
            Some(names) => names
                .iter()
                .filter_map(|name| {
                    let value = token.claims.all.get(name)?;
                    Some((name.clone(), value.clone()))
                })
                .collect(),
        };
        let lifetime = i64::try_from(self.config.lifetime).unwrap_or(60);
        let mut payload = Map::new();
        payload.insert("iss".into(), json!(self.config.issuer));
        if let Some(audience) = &self.config.audience {
            payload.insert("aud".into(), json!(audience));
        }
        payload.insert("iat".into(), json!(now));
        payload.insert("exp".into(), json!(now.saturating_add(lifetime)));
        payload.insert("jti".into(), json!(base64url_encode(id)));
        payload.insert("method".into(), json!(request.method));
        payload.insert("path".into(), json!(request.path));
        payload.insert("claims".into(), Value::Object(claims));
        let mut header = Map::new();
        header.insert("typ".into(), json!(ASSERTION_TYP));
        compact_jws(
            self.algorithm,
            self.kid.as_deref(),
            &header,
            &payload,
            |message| match &self.key {
                AssertionKey::Ed25519(key) => Ok(ed25519_sign(key, message)),
                AssertionKey::Hmac(secret) => hmac(self.algorithm, secret, message),
            },
        )
    }
}

/// What the origin requires of an assertion. Defaults written once, in `Default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionPolicy {
    /// The required `iss`. Default "jwt-edge".
    pub issuer: String,
    /// The required `aud`, if the worker is configured with one. Default none.
    pub audience: Option<String>,
    /// Oldest assertion accepted (`now − iat`, and the longest `exp − iat`), in
    /// seconds. Default 60.
    pub max_age: u64,
    /// Tolerated clock difference between the worker and the origin, in seconds.
    /// Default 5.
    pub clock_skew: u64,
}

impl Default for AssertionPolicy {
    fn default() -> Self {
        Self {
            issuer: default_issuer(),
            audience: None,
            max_age: 60,
            clock_skew: 5,
        }
    }
}

/// An assertion that verified and matches the request.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedAssertion {
    /// The method it was issued for.
    pub method: String,
    /// The path and query it was issued for.
    pub path: String,
    /// `iat`, in Unix seconds.
    pub issued_at: i64,
    /// `jti`: unique per forwarded request, for an origin that keeps its own replay log.
    pub id: String,
    /// The verified claims the worker passed on.
    pub claims: Map<String, Value>,
    /// The whole payload.
    pub payload: Map<String, Value>,
}

/// Checks assertions at the origin (or in the CLI) against the worker's public key
/// (or shared secret) and the request as received.
#[derive(Debug)]
pub struct AssertionVerifier {
    verifier: Verifier,
}

impl AssertionVerifier {
    /// A verifier over the worker's assertion key: its public Ed25519 JWK (a private one
    /// is reduced to its public part), or the shared `oct` JWK.
    pub fn from_jwk(jwk: &Map<String, Value>, policy: AssertionPolicy) -> Result<Self, Error> {
        let bad_key = || Error::config_invalid("assertion key");
        let (key, algorithm) = match jwk.get("kty").and_then(Value::as_str) {
            Some("oct") => {
                let secret = jwk
                    .get("k")
                    .and_then(Value::as_str)
                    .and_then(|k| base64url_decode(k).ok())
                    .ok_or_else(bad_key)?;
                let own = match jwk.get("alg") {
                    None => None,
                    Some(a) => Some(
                        a.as_str()
                            .and_then(|a| a.parse::<Algorithm>().ok())
                            .ok_or_else(bad_key)?,
                    ),
                };
                let algorithm = assertion_algorithm(KeyKind::Oct, own).map_err(|_| bad_key())?;
                let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
                let key = Jwk::hmac_secret(kid, secret, Some(algorithm)).map_err(|_| bad_key())?;
                (key, algorithm)
            }
            _ => {
                let public = if jwk.contains_key("d") {
                    SigningKey::from_jwk(jwk)
                        .map_err(|_| bad_key())?
                        .public_jwk()
                        .map_err(|_| bad_key())?
                } else {
                    jwk.clone()
                };
                let document = json!({ "keys": [Value::Object(public)] }).to_string();
                let set = JwkSet::parse(document.as_bytes(), &JwksOptions::default())?;
                let key = set.into_keys().into_iter().next().ok_or_else(bad_key)?;
                let algorithm = assertion_algorithm(key.kind(), None).map_err(|_| bad_key())?;
                (key, algorithm)
            }
        };
        let mut keys = JwkSet::new();
        keys.push(key);
        // The key decides: an Ed25519 key verifies EdDSA only, a secret its HS alg only.
        let kinds = KeyKinds {
            public_keys: !algorithm.is_symmetric(),
            shared_secret: algorithm.is_symmetric(),
        };
        let mut options = PolicyOptions {
            algorithms: Some(vec![algorithm]),
            issuers: Some(vec![policy.issuer]),
            audiences: policy.audience.map(|a| vec![a]),
            typ: Some(ASSERTION_TYP.into()),
            clock_skew: Some(policy.clock_skew),
            max_lifetime: Some(Some(policy.max_age)),
            require_exp: Some(true),
            required_claims: Some(vec!["iat".into(), "jti".into()]),
            ..PolicyOptions::default()
        }
        .resolve(FrontEnd::Core, Profile::Library, kinds)?;
        options.max_candidates = 1;
        Ok(Self {
            verifier: Verifier::new(keys, options)?,
        })
    }

    /// Verifies an assertion for the request as received, at `now` (Unix seconds): the
    /// signature, `typ`, `iss`, `aud`, `iat`/`exp` within the age limit, then the
    /// method (exactly) and the path with its query (exactly).
    pub fn verify(
        &self,
        assertion: &str,
        request: RequestBinding<'_>,
        now: i64,
    ) -> Result<VerifiedAssertion, Error> {
        let verified = self.verifier.verify(assertion, now)?;
        let all = verified.claims.all;
        let text = |name: &'static str| match all.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(Error::ClaimInvalid(name)),
            None => Err(Error::ClaimMissing(name)),
        };
        let method = text("method")?;
        let path = text("path")?;
        let claims = match all.get("claims") {
            Some(Value::Object(map)) => map.clone(),
            Some(_) => return Err(Error::ClaimInvalid("claims")),
            None => return Err(Error::ClaimMissing("claims")),
        };
        if method != request.method {
            return Err(Error::AssertionMismatch("method"));
        }
        if path != request.path {
            return Err(Error::AssertionMismatch("path"));
        }
        Ok(VerifiedAssertion {
            method,
            path,
            issued_at: verified.claims.issued_at.unwrap_or_default(),
            id: verified.claims.jwt_id.unwrap_or_default(),
            claims,
            payload: all,
        })
    }
}

/// Reads a private JWK from a Worker secret's text (JSON), refusing anything else.
pub fn parse_private_jwk(text: &str) -> Result<Map<String, Value>, Error> {
    parse_object(text.trim().as_bytes(), MAX_JSON_DEPTH)
        .map_err(|_| Error::config_invalid("assertion.key_secret"))
}
