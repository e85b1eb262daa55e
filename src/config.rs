//! The serde form of a verifier's configuration, shared by the front ends. Option
//! names are the JavaScript ones (camelCase); unknown names are an error, never
//! silently ignored. Every default comes from the core types' `Default`.

use serde::Deserialize;
use serde_json::Value;

use crate::alg::Algorithm;
use crate::claims::ClaimsPolicy;
use crate::encoding::base64url_decode;
use crate::error::Error;
use crate::jwk::Jwk;
use crate::jwks::{JwkSet, JwksOptions};
use crate::verify::{Verifier, VerifyOptions};

/// Verification options as a JSON object.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyConfig {
    /// The key set: a JWKS object, or its JSON text.
    pub jwks: Option<Value>,
    /// An HMAC secret, base64url without padding (for HS256/384/512).
    pub secret: Option<String>,
    /// The allow-list, by name. Default: every asymmetric algorithm, plus HS256/384/512
    /// when a `secret` is given.
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
        let mut keys = match &self.jwks {
            None => JwkSet::new(),
            Some(Value::String(text)) => JwkSet::parse(text.as_bytes(), &JwksOptions::default())?,
            Some(doc @ Value::Object(_)) => {
                let text = serde_json::to_vec(doc).map_err(|_| Error::ConfigInvalid("jwks"))?;
                JwkSet::parse(&text, &JwksOptions::default())?
            }
            Some(_) => return Err(Error::ConfigInvalid("jwks")),
        };
        if let Some(secret) = &self.secret {
            let bytes = base64url_decode(secret).map_err(|_| Error::ConfigInvalid("secret"))?;
            let key = Jwk::hmac_secret_with_thumbprint(bytes)
                .map_err(|_| Error::ConfigInvalid("secret"))?;
            keys.push(key);
        }
        let algorithms = match &self.algorithms {
            Some(names) => {
                Algorithm::parse_all(names).map_err(|_| Error::ConfigInvalid("algorithms"))?
            }
            None => {
                let mut all = Algorithm::ASYMMETRIC.to_vec();
                if self.secret.is_some() {
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
    const FIELDS: [&str; 14] = [
        "jwks",
        "secret",
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
