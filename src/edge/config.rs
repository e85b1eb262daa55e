//! The edge worker's configuration (the `JWT_EDGE_CONFIG` variable, JSON), validated
//! once per isolate. Every default is written here; every refusal names its field.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::assertion::AssertionConfig;
use crate::decisions::cache::{CachePolicy, SNAPSHOT_KEY_PREFIX};
use crate::decisions::discovery::well_known;
use crate::decisions::replay_memory::{DEFAULT_CAPACITY, MAX_CAPACITY};
use crate::edge::forward::{fold_header_name, ProtectedHeaders};
use crate::edge::presets::{expand as expand_presets, Expansion};
use crate::error::Error;
use crate::keys::jwks::JwksOptions;
use crate::keys::uri::{jwks_uri_allowed, origin_allowed};
use crate::policy::{parse_config_object, FrontEnd, KeyKinds, PolicyOptions};
use crate::routes::{ResourceMetadata, RouteTable};
use crate::token::extract::TokenSource;
use crate::verdict::DEFAULT_REALM;
use crate::verify::VerifyOptions;

/// What the worker does with a verified request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Forward to the origin with the verified claims (default).
    #[default]
    Proxy,
    /// Answer with a JSON verdict.
    Verdict,
}

/// Replay protection for one issuer: the core's replay decision names the modes.
pub use crate::decisions::replay::ReplayMode;

/// One trusted issuer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The exact `iss` value. Tokens are routed to their issuer by it.
    pub issuer: String,
    /// Where its JWKS lives: `https://`, or `http://` on loopback when
    /// `dev_allow_http_loopback` is set. Absent: found by discovery (unless only an
    /// HMAC secret is configured).
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Find `jwks_uri` in the issuer's metadata (OpenID Connect Discovery 1.0 §4,
    /// falling back to RFC 8414): `{issuer}/.well-known/openid-configuration`, whose
    /// `issuer` must equal this one exactly. Default: true when `jwks_uri` is absent and
    /// no HMAC secret is configured; `true` next to a `jwks_uri` is refused.
    #[serde(default)]
    pub discovery: Option<bool>,
    /// Whether this issuer's keys are found by discovery (resolved from `discovery`).
    #[serde(skip)]
    pub discovers: bool,
    /// The verification policy options of this issuer, read through the core's name
    /// table ([`crate::policy::OPTIONS`], `issuers.` rows): `audiences`, `algorithms`,
    /// `max_lifetime`, `clock_skew`, `required_claims`, `typ`, `subject`,
    /// `require_exp`, `require_jti`. Defaults: the core's gateway profile.
    #[serde(skip)]
    pub policy: PolicyOptions,
    /// The resolved verification options (set by [`EdgeConfig::from_json`]).
    #[serde(skip)]
    pub options: VerifyOptions,
    /// Clock skew in seconds, as resolved (for the replay entry's lifetime).
    #[serde(skip)]
    pub clock_skew: u64,
    /// Replay protection. Default off.
    #[serde(default)]
    pub replay: ReplayMode,
    /// Durable Objects the strict replay store is sharded over (each holds about 1,000
    /// requests/s). Default 16.
    #[serde(default = "default_replay_shards")]
    pub replay_shards: u32,
    /// In strict mode, also refuse a `jti` already recorded in KV `REPLAY` before asking
    /// the object, and record accepted ones there. Default false.
    #[serde(default)]
    pub replay_kv_prefilter: bool,
    /// Accepted `jti`s of this issuer each isolate remembers in front of its replay store
    /// (KV or the Durable Object), about 130 bytes each; at most 500 000. The memory
    /// refuses a replay without a round trip; when it is full the entry closest to its
    /// expiry is forgotten and the store, the authority, still refuses it. 0: every
    /// request asks the store. Default 100 000 (about 13 MB when full).
    #[serde(default = "default_replay_memory")]
    pub replay_memory: usize,
    /// Name of a Worker secret holding an HMAC key (base64url). Never the key itself.
    /// Unnamed: it verifies HS* tokens whatever their `kid` says, unless a key in
    /// `hmac_secrets` or the JWKS is named by exactly that `kid`.
    #[serde(default)]
    pub hmac_secret: Option<String>,
    /// Named HMAC keys, `kid` → name of the Worker secret holding it (one per client):
    /// a token whose `kid` names one is verified by that one only. Default none. A
    /// `kid` given twice is refused (JSON parsers disagree on which one wins).
    #[serde(default, deserialize_with = "unique_map")]
    pub hmac_secrets: BTreeMap<String, String>,
}

/// A JSON object as a map, refusing a repeated member name instead of keeping the last.
fn unique_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    struct Unique;
    impl<'de> serde::de::Visitor<'de> for Unique {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of kid to binding name")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((kid, binding)) = map.next_entry::<String, String>()? {
                if out.insert(kid, binding).is_some() {
                    // The kid is not echoed: the message names the field only.
                    return Err(serde::de::Error::custom("a kid repeats in `hmac_secrets`"));
                }
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Unique)
}

/// Most entries in one issuer's `hmac_secrets` (as a JWKS holds at most 100 keys).
pub const MAX_HMAC_SECRETS: usize = 100;

impl IssuerConfig {
    /// Whether this issuer has a shared secret (`hmac_secret` or `hmac_secrets`).
    pub fn has_hmac_secret(&self) -> bool {
        self.hmac_secret.is_some() || !self.hmac_secrets.is_empty()
    }

    /// Whether this issuer has public keys (a `jwks_uri`, or one found by discovery).
    pub fn has_public_keys(&self) -> bool {
        self.jwks_uri.is_some() || self.discovers
    }
}

fn default_replay_shards() -> u32 {
    16
}

fn default_replay_memory() -> usize {
    DEFAULT_CAPACITY
}

/// The whole worker configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeConfig {
    /// Trusted issuers; at least one.
    pub issuers: Vec<IssuerConfig>,
    /// Where to find the token, in order. Default: `Authorization: Bearer`.
    #[serde(default = "default_sources")]
    pub sources: Vec<TokenSource>,
    /// Proxy (default) or verdict.
    #[serde(default)]
    pub mode: Mode,
    /// Origin base URL for proxy mode (scheme and host; the request's path and query are
    /// kept). Default: the request's own URL (the route's origin).
    #[serde(default)]
    pub origin: Option<String>,
    /// `realm` in `WWW-Authenticate`. Default "jwt-edge".
    #[serde(default = "default_realm")]
    pub realm: String,
    /// Remove the credential before forwarding. Default true.
    #[serde(default = "default_true")]
    pub strip_credential: bool,
    /// Claim → request header for the origin, e.g. `{"sub": "X-Jwt-Sub"}`. A claim is
    /// named by a dotted path into nested objects (`realm_access.roles`; a member named
    /// by the whole path wins). Values are written by [`crate::edge::forward::claim_header`].
    #[serde(default)]
    pub claim_headers: BTreeMap<String, String>,
    /// Header carrying the whole verified payload as base64url JSON. Default
    /// "X-Jwt-Claims"; `null` disables it.
    #[serde(default = "default_claims_header")]
    pub claims_header: Option<String>,
    /// Proxy mode: sign an assertion of the verified claims, method and path for the
    /// origin with the worker's own key. Default none.
    #[serde(default)]
    pub assertion: Option<AssertionConfig>,
    /// JWKS cache timing.
    #[serde(default)]
    pub cache: CachePolicy,
    /// Timeout of a JWKS fetch, in milliseconds. Default 5000.
    #[serde(default = "default_fetch_timeout_ms")]
    pub fetch_timeout_ms: u64,
    /// The top-level policy options as given (`max_token_bytes`, `token_cache_entries`),
    /// read through the core's name table; they apply to every issuer.
    #[serde(skip)]
    top_level: PolicyOptions,
    /// Largest token accepted, in bytes, as resolved by the core's policy. Default 16 384.
    #[serde(skip)]
    pub max_token_bytes: usize,
    /// Let `OPTIONS` preflight requests (with `Access-Control-Request-Method`) through
    /// unauthenticated. Default false.
    #[serde(default)]
    pub cors_preflight_passthrough: bool,
    /// Serve the issuer's own public JWKS at `/.well-known/jwks.json` from this KV key of
    /// the `JWKS_CACHE` namespace (upload it with `wrangler kv key put`). Default none.
    #[serde(default)]
    pub publish_jwks: Option<PublishJwks>,
    /// Development only: allow `http://` JWKS URIs whose host is exactly `127.0.0.1`,
    /// `[::1]` or `localhost` (no userinfo). Default false.
    #[serde(default)]
    pub dev_allow_http_loopback: bool,
    /// Route rules, as given (`routes`): read by the core into [`Self::routes`].
    #[serde(default, rename = "routes")]
    routes_given: Option<serde_json::Value>,
    /// The route table: the first rule whose methods, host and path match decides;
    /// the default route (a valid token from any issuer) otherwise. Without `routes`,
    /// every request gets the default route and paths are not normalised.
    #[serde(skip)]
    pub routes: RouteTable,
    /// false: shadow mode for the default route and every rule without its own
    /// `enforce` (failures are logged and the request is forwarded as anonymous).
    /// Default true.
    #[serde(default = "default_true")]
    pub enforce: bool,
    /// RFC 9728 protected-resource metadata, as given (`resource_metadata`).
    #[serde(default, rename = "resource_metadata")]
    resource_metadata_given: Option<serde_json::Value>,
    /// The RFC 9728 document served at its well-known path, named by every challenge.
    /// Default none.
    #[serde(skip)]
    pub resource_metadata: Option<ResourceMetadata>,
    /// What each issuer preset expanded to (logged once per isolate).
    #[serde(skip)]
    pub presets: Vec<Expansion>,
}

/// Publishing a JWKS from KV.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishJwks {
    /// The KV key (in `JWKS_CACHE`) holding the JWKS document.
    pub kv_key: String,
    /// `Cache-Control: max-age` of the response, in seconds. Default 300.
    #[serde(default = "default_publish_max_age")]
    pub max_age: u64,
}

fn default_publish_max_age() -> u64 {
    300
}

fn default_sources() -> Vec<TokenSource> {
    vec![TokenSource::default()]
}
fn default_realm() -> String {
    DEFAULT_REALM.into()
}
fn default_true() -> bool {
    true
}
fn default_claims_header() -> Option<String> {
    Some("X-Jwt-Claims".into())
}
fn default_fetch_timeout_ms() -> u64 {
    5000
}

/// Headers a client may never send through: anything the worker sets for the origin.
pub const RESERVED_HEADER_PREFIX: &str = "x-jwt-";

impl EdgeConfig {
    /// Parses and validates the configuration. The error names the field, never a value.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let mut object = parse_config_object(text)?;
        let presets = expand_presets(&mut object)?;
        // Token sources are read on their own so that any problem in one (a missing
        // `name`, an unknown `type`) is named `sources`.
        if let Some(sources) = object.get("sources") {
            serde_json::from_value::<Vec<TokenSource>>(sources.clone())
                .map_err(|_| Error::config_invalid("sources"))?;
        }
        // A preset's token source serves when `sources` is not given.
        if !object.contains_key("sources") {
            let mut sources: Vec<TokenSource> = Vec::new();
            for source in presets.iter().map(|p| &p.source) {
                if !sources.contains(source) {
                    sources.push(source.clone());
                }
            }
            if !sources.is_empty() {
                let value =
                    serde_json::to_value(sources).map_err(|_| Error::config_invalid("sources"))?;
                object.insert("sources".into(), value);
            }
        }
        // The policy options (top-level, then each issuer's) are read through the core's
        // name table; serde then reads the rest and refuses any name left unknown.
        let top_level = PolicyOptions::take_edge_top_level(&mut object)?;
        let mut value = serde_json::Value::Object(object);
        let mut policies = Vec::new();
        if let Some(issuers) = value.get_mut("issuers").and_then(|v| v.as_array_mut()) {
            for issuer in issuers.iter_mut() {
                if let Some(object) = issuer.as_object_mut() {
                    policies.push(PolicyOptions::take_from(FrontEnd::Edge, object)?);
                }
            }
        }
        let mut config: EdgeConfig = serde_json::from_value(value)
            .map_err(|e| Error::config_invalid(field_of(&e.to_string())))?;
        for (issuer, policy) in config.issuers.iter_mut().zip(policies) {
            issuer.policy = policy;
        }
        config.top_level = top_level;
        config.presets = presets;
        config.validate()?;
        Ok(config)
    }

    fn validate(&mut self) -> Result<(), Error> {
        let bad = Error::config_invalid;
        if self.issuers.is_empty() {
            return Err(bad("issuers"));
        }
        for (i, issuer) in self.issuers.iter().enumerate() {
            if issuer.issuer.is_empty()
                || self
                    .issuers
                    .iter()
                    .take(i)
                    .any(|o| o.issuer == issuer.issuer)
            {
                return Err(bad("issuers.issuer"));
            }
            match (&issuer.jwks_uri, issuer.discovery) {
                (Some(_), Some(true)) => return Err(bad("issuers.discovery")),
                (Some(uri), _) if !self.jwks_uri_allowed(uri) => {
                    return Err(bad("issuers.jwks_uri"))
                }
                (None, Some(false)) if !issuer.has_hmac_secret() => {
                    return Err(bad("issuers.jwks_uri"))
                }
                (None, Some(true)) if !self.discoverable(&issuer.issuer) => {
                    return Err(bad("issuers.discovery"))
                }
                // Without a `jwks_uri` or a secret, the issuer must be one to discover.
                (None, None) if !issuer.has_hmac_secret() && !self.discoverable(&issuer.issuer) => {
                    return Err(bad("issuers.jwks_uri"))
                }
                _ => {}
            }
            if issuer
                .hmac_secret
                .as_ref()
                .is_some_and(|n| !is_binding_name(n))
            {
                return Err(bad("issuers.hmac_secret"));
            }
            let named_ok = issuer.hmac_secrets.len() <= MAX_HMAC_SECRETS
                && issuer.hmac_secrets.iter().all(|(kid, binding)| {
                    !kid.is_empty()
                        && kid.len() <= crate::keys::jwk::MAX_KID_BYTES
                        && is_binding_name(binding)
                });
            if !named_ok {
                return Err(bad("issuers.hmac_secrets"));
            }
            if issuer.replay_memory > MAX_CAPACITY {
                return Err(bad("issuers.replay_memory"));
            }
        }
        for issuer in &mut self.issuers {
            issuer.discovers = issuer.jwks_uri.is_none()
                && match issuer.discovery {
                    Some(explicit) => explicit,
                    None => !issuer.has_hmac_secret(),
                };
            let mut policy = issuer.policy.clone();
            // The worker routes a token by its `iss`: the issuer is always checked.
            policy.issuers = Some(vec![issuer.issuer.clone()]);
            policy.max_token_bytes = self.top_level.max_token_bytes;
            policy.token_cache_entries = self.top_level.token_cache_entries;
            let kinds = KeyKinds {
                public_keys: issuer.has_public_keys(),
                shared_secret: issuer.has_hmac_secret(),
            };
            issuer.options = policy.resolve(FrontEnd::Edge, FrontEnd::Edge.profile(), kinds)?;
            issuer.clock_skew = issuer.options.claims.clock_skew;
        }
        // One value for every issuer: the token is read before its issuer is known.
        self.max_token_bytes = self
            .issuers
            .first()
            .map_or(0, |issuer| issuer.options.max_token_bytes);
        if self.sources.is_empty() || !self.sources.iter().all(source_allowed) {
            return Err(bad("sources"));
        }
        // A claim is named by a dotted path (`realm_access.roles`), at most 256 bytes.
        if self
            .claim_headers
            .keys()
            .any(|path| path.is_empty() || path.len() > 256)
        {
            return Err(bad("claim_headers"));
        }
        let header_names = self.claim_headers.values().chain(self.claims_header.iter());
        let mut folded = std::collections::BTreeSet::new();
        for name in header_names {
            // Two names an origin may read as one (case, `_` for `-`) would let one
            // claim stand in for another.
            if !is_header_name(name) || !folded.insert(fold_header_name(name)) {
                return Err(bad("claim_headers"));
            }
        }
        if let Some(assertion) = &self.assertion {
            assertion.validate()?;
            if !is_header_name(&assertion.header)
                || folded.contains(&fold_header_name(&assertion.header))
            {
                return Err(bad("assertion.header"));
            }
            if !is_binding_name(&assertion.key_secret) {
                return Err(bad("assertion.key_secret"));
            }
            if self.mode != Mode::Proxy {
                // An assertion only exists for a forwarded request.
                return Err(bad("assertion"));
            }
        }
        if let Some(origin) = &self.origin {
            if !origin_allowed(origin) {
                return Err(bad("origin"));
            }
        }
        if let Some(publish) = &self.publish_jwks {
            // Issuers' snapshots live under "jwks:" in the same namespace: the published
            // set must never be readable as one (or overwrite one), whatever the version.
            if publish.kv_key.is_empty()
                || publish.kv_key.len() > 512
                || publish.kv_key.starts_with(SNAPSHOT_KEY_PREFIX)
            {
                return Err(bad("publish_jwks.kv_key"));
            }
        }
        if self.fetch_timeout_ms == 0 || self.fetch_timeout_ms > 30_000 {
            return Err(bad("fetch_timeout_ms"));
        }
        let issuer_names: Vec<&str> = self.issuers.iter().map(|i| i.issuer.as_str()).collect();
        self.routes = match &self.routes_given {
            Some(routes) => RouteTable::from_config(routes, &issuer_names, self.enforce)?,
            None => RouteTable::without_rules(self.enforce),
        };
        self.resource_metadata = self
            .resource_metadata_given
            .as_ref()
            .map(ResourceMetadata::from_config)
            .transpose()?;
        Ok(())
    }

    fn jwks_uri_allowed(&self, uri: &str) -> bool {
        jwks_uri_allowed(uri, self.dev_allow_http_loopback)
    }

    fn discoverable(&self, issuer: &str) -> bool {
        well_known(issuer, self.dev_allow_http_loopback).is_some()
    }

    /// The headers only the worker sets for the origin: `X-Jwt-*`, the claim headers,
    /// the claims header and the assertion header, compared as origins fold names.
    pub fn protected_headers(&self) -> ProtectedHeaders {
        let names = self
            .claim_headers
            .values()
            .chain(self.claims_header.iter())
            .chain(self.assertion.iter().map(|a| &a.header))
            .map(String::as_str);
        ProtectedHeaders::new(RESERVED_HEADER_PREFIX, names)
    }

    /// The issuer a token with this (unverified) `iss` is checked against: the one
    /// whose `issuer` equals it, or the only issuer when there is one.
    pub fn route(&self, iss: Option<&str>) -> Option<usize> {
        match (iss, self.issuers.len()) {
            (_, 1) => Some(0),
            (Some(iss), _) => self.issuers.iter().position(|i| i.issuer == iss),
            (None, _) => None,
        }
    }

    /// Verification options for one issuer: its allow-list and claims policy, as
    /// resolved by the core when the configuration was read. The issuer is always
    /// required to match.
    pub fn verify_options(&self, issuer: &IssuerConfig) -> Result<VerifyOptions, Error> {
        Ok(issuer.options.clone())
    }

    /// Options for parsing an issuer's JWKS (never `oct` keys).
    pub fn jwks_options(&self) -> JwksOptions {
        JwksOptions::default()
    }
}

/// A token source the worker can read and strip: a header name that is a field name and
/// not one of the headers the worker reads another way (`authorization`, `cookie`), a
/// prefix of printable ASCII, a query parameter name of printable ASCII without `&`,
/// `=`, `+`, `%` or `#`; each at most 64 bytes.
fn source_allowed(source: &TokenSource) -> bool {
    let bounded = |text: &str| !text.is_empty() && text.len() <= 64;
    match source {
        TokenSource::Authorization { schemes } => {
            !schemes.is_empty()
                && schemes
                    .iter()
                    .all(|s| bounded(s) && s.bytes().all(|b| b.is_ascii_graphic()))
        }
        TokenSource::Cookie { name } => {
            bounded(name)
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !br#"()<>@,;:\"/[]?={}"#.contains(&b))
        }
        TokenSource::Header { name, prefix } => {
            is_header_name(name)
                && prefix
                    .as_deref()
                    .is_none_or(|p| bounded(p) && p.bytes().all(|b| (0x20..=0x7e).contains(&b)))
        }
        TokenSource::Query { name } => {
            bounded(name)
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"&=+%#".contains(&b))
        }
    }
}

fn is_binding_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// RFC 9110 §5.1 field names, and not one of the hop-by-hop or credential headers.
fn is_header_name(name: &str) -> bool {
    let token = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let lower = name.to_ascii_lowercase();
    token
        && !matches!(
            lower.as_str(),
            "authorization"
                | "cookie"
                | "host"
                | "connection"
                | "content-length"
                | "transfer-encoding"
        )
}

fn field_of(message: &str) -> &'static str {
    const FIELDS: [&str; 41] = [
        "discovery",
        "preset",
        "team_domain",
        "prefix",
        "routes",
        "enforce",
        "resource_metadata",
        "publish_jwks",
        "kv_key",
        "assertion",
        "key_secret",
        "lifetime",
        "header",
        "audience",
        "issuers",
        "issuer",
        "jwks_uri",
        "audiences",
        "algorithms",
        "max_lifetime",
        "clock_skew",
        "required_claims",
        "typ",
        "subject",
        "replay",
        "hmac_secrets",
        "replay_memory",
        "hmac_secret",
        "sources",
        "mode",
        "origin",
        "realm",
        "strip_credential",
        "claim_headers",
        "claims_header",
        "cache",
        "fetch_timeout_ms",
        "cors_preflight_passthrough",
        "dev_allow_http_loopback",
        "schemes",
        "name",
    ];
    if message.starts_with("unknown field") {
        return "unknown field";
    }
    // serde names the expected variants, not the field, for an unknown enum value.
    if message.starts_with("unknown variant") {
        for (variant, field) in [
            ("`best-effort`", "replay"),
            ("`verdict`", "mode"),
            ("`cookie`", "sources"),
        ] {
            if message.contains(variant) {
                return field;
            }
        }
    }
    FIELDS
        .into_iter()
        .find(|f| message.contains(&format!("`{f}`")))
        .unwrap_or("JWT_EDGE_CONFIG")
}
