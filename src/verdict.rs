//! The one verdict: what every front end answers for a token, in one JSON shape.
//!
//! - Accepted: `{"valid":true,"alg":…,"kid":…|null,"key_source":…,"header":{…},"claims":{…}}`
//!   — the algorithm that verified, the `kid` of the key that verified (`null` when it
//!   has none), where that key came from ([`KeySource`]), the protected header and the
//!   claims, as verified.
//! - Refused: `{"valid":false,"code":…,"family":…,"message":…}` — the error's stable
//!   [`Error::code`], its [`ErrorFamily`] name and its `Display` (lowercase, never a
//!   token or a key).
//!
//! The worker's verdict mode answers exactly this for an accepted token, and adds these
//! members to its RFC 9457 problem body for a refusal; the npm package returns the
//! accepted verdict as an object and throws a `JwtEdgeError` carrying the refusal; the
//! CLI's `verify` prints it as one line.

use core::fmt;
use core::str::FromStr;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::algorithms::alg::Algorithm;
use crate::error::{Error, ErrorFamily};
use crate::verify::VerifiedToken;

/// Where the key that verified a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// A key set held in memory from an earlier fetch (worker isolate, npm `RemoteJwks`).
    Memory,
    /// A key set the worker read from its KV cache.
    Kv,
    /// A key set fetched from the issuer for this verification.
    Issuer,
    /// The last good key set, past its freshness, while the issuer cannot be reached.
    Stale,
    /// A configured HMAC secret (the worker's issuers without a JWKS).
    Secret,
    /// Keys given by the caller: npm `verify`/`Verifier` options, CLI files and secrets.
    Local,
}

impl KeySource {
    /// Every source, in declaration order.
    pub const ALL: [KeySource; 6] = [
        KeySource::Memory,
        KeySource::Kv,
        KeySource::Issuer,
        KeySource::Stale,
        KeySource::Secret,
        KeySource::Local,
    ];

    /// The stable name in verdicts and logs.
    pub fn name(self) -> &'static str {
        match self {
            KeySource::Memory => "memory",
            KeySource::Kv => "kv",
            KeySource::Issuer => "issuer",
            KeySource::Stale => "stale",
            KeySource::Secret => "secret",
            KeySource::Local => "local",
        }
    }
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeySource {
    type Err = Error;

    /// The source of [`KeySource::name`]; anything else is `config_invalid`.
    fn from_str(name: &str) -> Result<Self, Error> {
        KeySource::ALL
            .into_iter()
            .find(|source| source.name() == name)
            .ok_or(Error::config_invalid("key_source"))
    }
}

impl Serialize for KeySource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A verdict on one token, serialised as the module docs show. It borrows from the
/// verified token; build it with [`Verdict::accepted`] or [`Verdict::refused`].
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict<'a> {
    /// The signature and the claims hold.
    Accepted {
        /// The algorithm that verified.
        algorithm: Algorithm,
        /// The `kid` of the key that verified, if it has one.
        key_id: Option<&'a str>,
        /// Where that key came from.
        key_source: KeySource,
        /// The protected header, as sent.
        header: &'a Map<String, Value>,
        /// The claims, as sent.
        claims: &'a Map<String, Value>,
    },
    /// Refused.
    Refused {
        /// [`Error::code`].
        code: &'static str,
        /// [`Error::family`].
        family: ErrorFamily,
        /// The error's `Display`: never a token or a key.
        message: String,
    },
}

impl<'a> Verdict<'a> {
    /// The verdict on a verified token whose key came from `key_source`.
    pub fn accepted(token: &'a VerifiedToken, key_source: KeySource) -> Self {
        Verdict::Accepted {
            algorithm: token.algorithm,
            key_id: token.key_id.as_deref(),
            key_source,
            header: &token.header.raw,
            claims: &token.claims.all,
        }
    }

    /// The verdict on a refused token.
    pub fn refused(error: &Error) -> Self {
        Verdict::Refused {
            code: error.code(),
            family: error.family(),
            message: error.to_string(),
        }
    }

    /// The verdict on a verification's result.
    pub fn of(result: &'a Result<VerifiedToken, Error>, key_source: KeySource) -> Self {
        match result {
            Ok(token) => Verdict::accepted(token, key_source),
            Err(error) => Verdict::refused(error),
        }
    }

    /// Whether the token was accepted.
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Accepted { .. })
    }

    /// The verdict as a JSON object (the same members as its serialisation).
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }
}

/// One JSON object, members in the order the module docs give.
impl Serialize for Verdict<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Verdict::Accepted {
                algorithm,
                key_id,
                key_source,
                header,
                claims,
            } => {
                let mut map = serializer.serialize_map(Some(6))?;
                map.serialize_entry("valid", &true)?;
                map.serialize_entry("alg", algorithm.name())?;
                map.serialize_entry("kid", key_id)?;
                map.serialize_entry("key_source", key_source)?;
                map.serialize_entry("header", header)?;
                map.serialize_entry("claims", claims)?;
                map.end()
            }
            Verdict::Refused {
                code,
                family,
                message,
            } => {
                let mut map = serializer.serialize_map(Some(4))?;
                map.serialize_entry("valid", &false)?;
                map.serialize_entry("code", code)?;
                map.serialize_entry("family", family.name())?;
                map.serialize_entry("message", message)?;
                map.end()
            }
        }
    }
}

/// The verdict as one line of JSON text.
impl fmt::Display for Verdict<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// How a front end answers a refusal over HTTP: the status and `WWW-Authenticate` of
/// the core's one RFC 6750 mapping ([`Error::http`]) and an `application/problem+json`
/// body: RFC 9457's members (`type`, `title`, `status`, `detail`), the refused verdict's
/// (`valid`, `code`, `family`, `message`) and, with route rules, the `route`. The worker
/// and the npm package (its Hono middleware included) answer exactly this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The `WWW-Authenticate` value, for 400, 401 and 403.
    pub www_authenticate: Option<String>,
    /// The problem+json body.
    pub body: String,
}

/// What a refusal names besides the error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefusalContext<'a> {
    /// The `realm` of the challenge.
    pub realm: &'a str,
    /// The route's scopes (on `insufficient_scope`) and the RFC 9728 metadata URL.
    pub challenge: crate::error::Challenge<'a>,
    /// The route's name, when route rules are configured.
    pub route: Option<&'a str>,
}

/// The `realm` of a challenge when none is configured (the worker's `realm`, the npm
/// `refusal` and Hono middleware's).
pub const DEFAULT_REALM: &str = "jwt-edge";

/// The media type of a refusal's body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

impl Refusal {
    /// The answer to `err`.
    pub fn new(err: &Error, context: &RefusalContext<'_>) -> Self {
        Self::described(err, &err.to_string(), context)
    }

    /// The answer to an error of `kind` reported with `message` (its `Display` when it
    /// was made): what a front end that kept only the code and message answers.
    pub fn described(kind: &Error, message: &str, context: &RefusalContext<'_>) -> Self {
        let http = kind.http();
        let mut body = Map::new();
        body.insert(
            "type".into(),
            format!("https://jwt-edge.dev/errors/{}", kind.code()).into(),
        );
        body.insert("title".into(), message.into());
        body.insert("status".into(), http.status.into());
        body.insert("detail".into(), message.into());
        body.insert("valid".into(), false.into());
        body.insert("code".into(), kind.code().into());
        body.insert("family".into(), kind.family().name().into());
        body.insert("message".into(), message.into());
        if let Some(route) = context.route {
            body.insert("route".into(), route.into());
        }
        Self {
            status: http.status,
            www_authenticate: http.challenge_described(
                context.realm,
                kind,
                message,
                &context.challenge,
            ),
            body: Value::Object(body).to_string(),
        }
    }
}

impl From<crate::decisions::keysource::Tier> for KeySource {
    /// Where the key source served the keys from.
    fn from(tier: crate::decisions::keysource::Tier) -> Self {
        use crate::decisions::keysource::Tier;
        match tier {
            Tier::Memory => KeySource::Memory,
            Tier::Kv => KeySource::Kv,
            Tier::Issuer => KeySource::Issuer,
            Tier::Stale => KeySource::Stale,
            Tier::Secret => KeySource::Secret,
        }
    }
}
