//! The serde form of a verifier's configuration, shared by the front ends. Option
//! names are the JavaScript ones (camelCase); unknown names are an error, never
//! silently ignored. Every default comes from the core types' `Default`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::alg::{Algorithm, KeyKind};
use crate::claims::ClaimsPolicy;
use crate::error::Error;
use crate::jwk::Jwk;
use crate::jwks::{JwkSet, JwksOptions};
use crate::secret::parse_secret_text;
use crate::verify::{Verifier, VerifyOptions};

/// Verification options as a JSON object.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyConfig {
    /// The key set: a JWKS object, or its JSON text. Given by the user, it is their own
    /// configuration, so its `oct` keys are imported too (matched by exact `kid`).
    pub jwks: Option<Value>,
    /// An HMAC secret, base64url without padding (for HS256/384/512). Unnamed: it
    /// verifies tokens whatever their `kid` says ([`crate::KidMatch::Any`]).
    pub secret: Option<String>,
    /// Named HMAC secrets, `kid` → base64url secret: a token whose `kid` names one is
    /// verified by that one only (one secret per client).
    pub secrets: Option<BTreeMap<String, String>>,
    /// The allow-list, by name. Default: every asymmetric algorithm, plus HS256/384/512
    /// when there is a shared secret (`secret`, `secrets`, or an `oct` key in `jwks`).
    pub algorithms: Option<Vec<String>>,
    /// Allowed issuers.
    pub issuer: Option<OneOrMany>,
    /// Allowed audiences.
    pub audience: Option<OneOrMany>,
    /// Required subject.
    pub subject: Option<String>,
    /// Required header `typ`.
    pub typ: Option<String>,
    /// Claims that must be present.
    pub required_claims: Option<Vec<String>>,
    /// Clock skew in seconds (default 60).
    pub clock_skew_seconds: Option<u64>,
    /// Maximum lifetime in seconds (default none).
    pub max_lifetime_seconds: Option<u64>,
    /// Whether `exp` is required (default true).
    pub require_exp: Option<bool>,
    /// Whether `jti` is required (default false).
    pub require_jti: Option<bool>,
    /// The time to verify at, in Unix seconds. Front ends fill it from their clock
    /// when absent.
    pub now: Option<i64>,
    /// Largest token accepted, in bytes (default 16 KiB).
    pub max_token_bytes: Option<usize>,
}

/// A string or an array of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl VerifyConfig {
    /// Parses the configuration from JSON text, naming the offending field on error.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::ConfigInvalid(field_of(&e.to_string())))
    }

    /// Builds the verifier this configuration describes.
    pub fn build(&self) -> Result<Verifier, Error> {
        // A key set given in the options is the user's own: its shared secrets count.
        let local = JwksOptions {
            allow_oct: true,
            ..JwksOptions::default()
        };
        let keys = match &self.jwks {
            None => JwkSet::new(),
            Some(Value::String(text)) => JwkSet::parse(text.as_bytes(), &local)?,
            Some(doc @ Value::Object(_)) => {
                let text = serde_json::to_vec(doc).map_err(|_| Error::ConfigInvalid("jwks"))?;
                JwkSet::parse(&text, &local)?
            }
            Some(_) => return Err(Error::ConfigInvalid("jwks")),
        };
        self.build_with_keys(keys)
    }

    /// Builds the verifier with a key set fetched from an issuer (the npm
    /// `RemoteJwks`) instead of `jwks`: a published set is public, so its `oct` keys
    /// are skipped ([`JwksOptions::allow_oct`] false).
    pub fn build_with_remote_jwks(&self, document: &[u8]) -> Result<Verifier, Error> {
        self.build_with_remote_keys(JwkSet::parse(document, &JwksOptions::default())?)
    }

    /// Builds the verifier with a key set already fetched and parsed from an issuer.
    pub fn build_with_remote_keys(&self, keys: JwkSet) -> Result<Verifier, Error> {
        if self.jwks.is_some() {
            return Err(Error::ConfigInvalid("jwks"));
        }
        self.build_with_keys(keys)
    }

    fn build_with_keys(&self, mut keys: JwkSet) -> Result<Verifier, Error> {
        if let Some(secret) = &self.secret {
            let key = parse_secret_text(secret)
                .and_then(Jwk::unnamed_hmac_secret)
                .map_err(|_| Error::ConfigInvalid("secret"))?;
            keys.push(key);
        }
        for (kid, secret) in self.secrets.iter().flatten() {
            let key = parse_secret_text(secret)
                .and_then(|bytes| Jwk::named_hmac_secret(kid.clone(), bytes))
                .map_err(|_| Error::ConfigInvalid("secrets"))?;
            keys.push(key);
        }
        let algorithms = match &self.algorithms {
            Some(names) => {
                Algorithm::parse_all(names).map_err(|_| Error::ConfigInvalid("algorithms"))?
            }
            None => {
                let mut all = Algorithm::ASYMMETRIC.to_vec();
                if keys.keys().iter().any(|k| k.kind() == KeyKind::Oct) {
                    all.extend([Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512]);
                }
                all
            }
        };
        let defaults = ClaimsPolicy::default();
        let mut required_claims = self.required_claims.clone().unwrap_or_default();
        if self.require_jti == Some(true) {
            required_claims.push("jti".to_owned());
        }
        // An explicit empty list would silently turn the check off.
        if matches!(&self.issuer, Some(OneOrMany::Many(v)) if v.is_empty()) {
            return Err(Error::ConfigInvalid("issuer"));
        }
        if matches!(&self.audience, Some(OneOrMany::Many(v)) if v.is_empty()) {
            return Err(Error::ConfigInvalid("audience"));
        }
        let claims = ClaimsPolicy {
            issuers: self.issuer.as_ref().map(clone_vec).unwrap_or_default(),
            audiences: self.audience.as_ref().map(clone_vec).unwrap_or_default(),
            subject: self.subject.clone(),
            typ: self.typ.clone(),
            clock_skew: self.clock_skew_seconds.unwrap_or(defaults.clock_skew),
            max_lifetime: self.max_lifetime_seconds,
            require_exp: self.require_exp.unwrap_or(defaults.require_exp),
            required_claims,
            ..defaults
        };
        let options = VerifyOptions {
            algorithms,
            max_token_bytes: self
                .max_token_bytes
                .unwrap_or(VerifyOptions::default().max_token_bytes),
            claims,
            ..VerifyOptions::default()
        };
        Verifier::new(keys, options)
    }
}

fn clone_vec(v: &OneOrMany) -> Vec<String> {
    match v {
        OneOrMany::One(s) => vec![s.clone()],
        OneOrMany::Many(items) => items.clone(),
    }
}

/// serde's message names the field in backquotes ("unknown field `foo`"); map it to a
/// static name without echoing input.
fn field_of(message: &str) -> &'static str {
    const FIELDS: [&str; 15] = [
        "jwks",
        "secret",
        "secrets",
        "algorithms",
        "issuer",
        "audience",
        "subject",
        "typ",
        "requiredClaims",
        "clockSkewSeconds",
        "maxLifetimeSeconds",
        "requireExp",
        "requireJti",
        "now",
        "maxTokenBytes",
    ];
    if message.starts_with("unknown field") {
        return "unknown option";
    }
    FIELDS
        .into_iter()
        .find(|f| message.contains(&format!("`{f}`")))
        .unwrap_or("options")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_options_are_refused() {
        assert_eq!(
            VerifyConfig::from_json(r#"{"audiences":"x"}"#).unwrap_err(),
            Error::ConfigInvalid("unknown option")
        );
        assert_eq!(
            VerifyConfig::from_json(r#"{"clockSkewSeconds":"60"}"#).unwrap_err(),
            Error::ConfigInvalid("options")
        );
        let c = VerifyConfig::from_json(r#"{"issuer":["a","b"],"audience":"c","now":5}"#).unwrap();
        assert_eq!(
            c.issuer.as_ref().map(clone_vec),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(
            VerifyConfig::from_json(r#"{"algorithms":["none"]}"#)
                .unwrap()
                .build()
                .unwrap_err(),
            Error::ConfigInvalid("algorithms")
        );
        assert_eq!(
            VerifyConfig::from_json(r#"{"secret":"c2hvcnQ"}"#)
                .unwrap()
                .build()
                .unwrap_err(),
            Error::ConfigInvalid("secret")
        );
    }
}
