//! The npm package's options as JSON: the key sources, `now`, and the policy options
//! read through the core's name table (camelCase). Unknown names are an error, never
//! silently ignored; every default is the policy module's.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::algorithms::alg::KeyKind;
use crate::error::Error;
use crate::keys::jwk::Jwk;
use crate::keys::jwks::{JwkSet, JwksOptions};
use crate::keys::secret::parse_secret_text;
use crate::policy::{parse_config_object, FrontEnd, KeyKinds, PolicyOptions};
use crate::routes::{read_claim_rules, read_scopes, Requirements};
use crate::verify::{Verifier, VerifyOptions};

/// Verification options as a JSON object (the npm package's `verify`, `Verifier`
/// and `RemoteJwks`). The policy options are read through the core's name table
/// ([`crate::policy::OPTIONS`], npm column); what is left are the key sources and `now`.
/// Unknown names are refused.
#[derive(Debug, Default)]
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
    /// The time to verify at, in Unix seconds. Front ends fill it from their clock
    /// when absent.
    pub now: Option<i64>,
    /// The verification policy (algorithms, issuer, audience, lifetimes, …).
    pub policy: PolicyOptions,
    /// What a verified token must also hold (`scopes`, `claims`), as a route rule of
    /// the worker does: 403 `insufficient_scope` / `claim_mismatch` otherwise.
    pub requirements: Requirements,
}

/// The members of the options that are not policy: key sources and the clock.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rest {
    jwks: Option<Value>,
    secret: Option<String>,
    secrets: Option<BTreeMap<String, String>>,
    now: Option<i64>,
    scopes: Option<Vec<String>>,
    claims: Option<serde_json::Map<String, Value>>,
}

impl VerifyConfig {
    /// Parses the configuration from JSON text, naming the offending field on error.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let mut object = parse_config_object(text).map_err(|e| {
            if e == Error::config_invalid("JWT_EDGE_CONFIG") {
                Error::config_invalid("options")
            } else {
                e
            }
        })?;
        let policy = PolicyOptions::take_from(FrontEnd::Npm, &mut object)?;
        let rest: Rest = serde_json::from_value(Value::Object(object))
            .map_err(|e| Error::config_invalid(field_of(&e.to_string())))?;
        let scopes = match rest.scopes {
            None => Vec::new(),
            Some(list) => read_scopes(list).ok_or(Error::config_invalid("scopes"))?,
        };
        let claims = match rest.claims {
            None => Vec::new(),
            Some(map) => read_claim_rules(map).ok_or(Error::config_invalid("claims"))?,
        };
        Ok(Self {
            jwks: rest.jwks,
            secret: rest.secret,
            secrets: rest.secrets,
            now: rest.now,
            policy,
            requirements: Requirements {
                audiences: None,
                scopes,
                claims,
            },
        })
    }

    /// Builds the verifier this configuration describes.
    pub fn build(&self) -> Result<Verifier, Error> {
        // A key set given in the options is the user's own: its shared secrets count.
        let local = JwksOptions {
            allow_oct: true,
            ..JwksOptions::default()
        };
        let keys = match &self.jwks {
            None => None,
            Some(Value::String(text)) => Some(JwkSet::parse(text.as_bytes(), &local)?),
            Some(doc @ Value::Object(_)) => {
                let text = serde_json::to_vec(doc).map_err(|_| Error::config_invalid("jwks"))?;
                Some(JwkSet::parse(&text, &local)?)
            }
            Some(_) => return Err(Error::config_invalid("jwks")),
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
            return Err(Error::config_invalid("jwks"));
        }
        self.build_with_keys(Some(keys))
    }

    /// The verification options for a set of keys of `public_keys` kinds (a set is
    /// given or fetched) plus this configuration's shared secrets.
    pub fn verify_options(&self, keys: Option<&JwkSet>) -> Result<VerifyOptions, Error> {
        let kinds = KeyKinds {
            public_keys: keys.is_some(),
            shared_secret: self.secret.is_some()
                || self.secrets.as_ref().is_some_and(|s| !s.is_empty())
                || keys.is_some_and(|k| k.keys().iter().any(|k| k.kind() == KeyKind::Oct)),
        };
        self.policy
            .resolve(FrontEnd::Npm, FrontEnd::Npm.profile(), kinds)
    }

    fn build_with_keys(&self, keys: Option<JwkSet>) -> Result<Verifier, Error> {
        let options = self.verify_options(keys.as_ref())?;
        let mut keys = keys.unwrap_or_default();
        if let Some(secret) = &self.secret {
            let key = parse_secret_text(secret)
                .and_then(Jwk::unnamed_hmac_secret)
                .map_err(|_| Error::config_invalid("secret"))?;
            keys.push(key);
        }
        for (kid, secret) in self.secrets.iter().flatten() {
            let key = parse_secret_text(secret)
                .and_then(|bytes| Jwk::named_hmac_secret(kid.clone(), bytes))
                .map_err(|_| Error::config_invalid("secrets"))?;
            keys.push(key);
        }
        Verifier::new(keys, options)
    }
}

/// serde's message names the field in backquotes ("unknown field `foo`"); map it to a
/// static name without echoing input.
fn field_of(message: &str) -> &'static str {
    const FIELDS: [&str; 6] = ["jwks", "secret", "secrets", "now", "scopes", "claims"];
    if message.starts_with("unknown field") {
        return "unknown option";
    }
    FIELDS
        .into_iter()
        .rev()
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
            Error::config_invalid("unknown option")
        );
        assert_eq!(
            VerifyConfig::from_json(r#"{"clockSkewSeconds":"60"}"#).unwrap_err(),
            Error::config_invalid("clockSkewSeconds")
        );
        let c = VerifyConfig::from_json(r#"{"issuer":["a","b"],"audience":"c","now":5}"#).unwrap();
        assert_eq!(c.policy.issuers, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(
            VerifyConfig::from_json(r#"{"algorithms":["none"]}"#).unwrap_err(),
            Error::config_invalid("algorithms")
        );
        assert_eq!(
            VerifyConfig::from_json(r#"{"secret":"c2hvcnQ"}"#)
                .unwrap()
                .build()
                .unwrap_err(),
            Error::config_invalid("secret")
        );
    }
}
