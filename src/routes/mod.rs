//! Route rules: per method, host and path, whether a token is required, from which
//! issuers, with which audiences, scopes and claims, with which replay protection, and
//! whether failures are enforced or only logged (shadow mode).
//!
//! The table is built and checked once, when the configuration is read; per request
//! the front end normalises the path ([`normalise_path`]), asks [`RouteTable::select`]
//! for the first matching rule and applies what it says. The first rule whose
//! `methods`, `host` and `path` match decides; a request no rule matches gets the
//! default route: a valid token from any configured issuer, no scopes. So a rule only
//! ever relaxes where it says so.

mod metadata;
mod path;
mod pattern;
mod rule;

use serde_json::{Map, Value};

use crate::decisions::replay::ReplayMode;
use crate::error::Error;

pub use metadata::{ResourceMetadata, CACHE_CONTROL as METADATA_CACHE_CONTROL};
pub use path::{normalise as normalise_path, MAX_PATH_BYTES};
pub use pattern::{PathPattern, PatternProblem};
pub use rule::{claim_at, token_scopes, ClaimRule, Matcher, Requirements};

/// Most rules in one table.
pub const MAX_ROUTES: usize = 1000;
/// Longest route name, in bytes.
pub const MAX_ROUTE_NAME_BYTES: usize = 64;
/// Longest claim path of a claim rule, in bytes.
pub const MAX_CLAIM_PATH_BYTES: usize = 256;
/// The name of the route a request no rule matches gets.
pub const DEFAULT_ROUTE: &str = "default";

/// Whether a route needs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Auth {
    /// A valid token is required (default).
    #[default]
    Required,
    /// No token: forwarded as anonymous. A token present must be valid (Envoy's
    /// `allow_missing`).
    Optional,
    /// Not verified: forwarded as anonymous, whatever it carries.
    None,
}

impl Auth {
    /// The configuration and log name.
    pub fn name(self) -> &'static str {
        match self {
            Auth::Required => "required",
            Auth::Optional => "optional",
            Auth::None => "none",
        }
    }
}

/// What becomes of a request on its route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The token holds: forwarded with its claims.
    Accept,
    /// The route needs no token (`auth: none`): forwarded as anonymous.
    Public,
    /// No token where none is required (`auth: optional`): forwarded as anonymous.
    Anonymous,
    /// Refused with this error.
    Refuse(Error),
    /// Shadow mode: would have been refused with this code; forwarded as anonymous.
    Shadowed(&'static str),
}

impl Outcome {
    /// Whether the request goes on (to the origin, or as a 200 verdict).
    pub fn forwards(&self) -> bool {
        !matches!(self, Outcome::Refuse(_))
    }

    /// The decision log's `outcome`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Accept => "accept",
            Outcome::Public => "public",
            Outcome::Anonymous => "anonymous",
            Outcome::Refuse(_) | Outcome::Shadowed(_) => "refuse",
        }
    }
}

/// One route rule (or the default route).
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Its name in logs and verdicts: as configured, `routes[i]`, or `default`.
    pub name: String,
    /// Upper-cased methods it matches; `None`: all.
    methods: Option<Vec<String>>,
    /// The exact host it matches (lower case); `None`: any.
    host: Option<String>,
    pattern: PathPattern,
    /// Whether a token is required.
    pub auth: Auth,
    /// Indices of the configured issuers it accepts; `None`: all.
    pub issuers: Option<Vec<usize>>,
    /// What a verified token must also satisfy.
    pub requirements: Requirements,
    /// Replay protection overriding the issuer's, if set.
    pub replay: Option<ReplayMode>,
    /// false: shadow mode, failures are logged and the request goes on as anonymous.
    pub enforce: bool,
}

impl Route {
    /// The default route: any configured issuer, no scopes.
    fn default_route(enforce: bool) -> Self {
        Self {
            name: DEFAULT_ROUTE.into(),
            methods: None,
            host: None,
            pattern: PathPattern::any(),
            auth: Auth::Required,
            issuers: None,
            requirements: Requirements::default(),
            replay: None,
            enforce,
        }
    }

    /// Whether a token is looked at at all (`auth` other than `none`).
    pub fn checks_tokens(&self) -> bool {
        self.auth != Auth::None
    }

    /// What becomes of a request whose token check (extraction, verification, the
    /// route's issuers and requirements, replay) gave `checked`.
    pub fn outcome(&self, checked: Result<(), Error>) -> Outcome {
        match checked {
            _ if self.auth == Auth::None => Outcome::Public,
            Ok(()) => Outcome::Accept,
            Err(Error::TokenMissing) if self.auth == Auth::Optional => Outcome::Anonymous,
            // Never a 5xx, never a refusal, for a failure nobody enforces.
            Err(err) if !self.enforce => Outcome::Shadowed(err.code()),
            Err(err) => Outcome::Refuse(err),
        }
    }

    /// Whether the rule accepts configured issuer `index`.
    pub fn accepts_issuer(&self, index: usize) -> bool {
        self.issuers
            .as_ref()
            .is_none_or(|list| list.contains(&index))
    }

    /// The scopes it requires, space-separated (the `scope` challenge attribute,
    /// RFC 6750 §3), or `None`.
    pub fn scope_challenge(&self) -> Option<String> {
        let scopes = &self.requirements.scopes;
        (!scopes.is_empty()).then(|| scopes.join(" "))
    }

    fn matches_method(&self, method: &str) -> bool {
        let Some(methods) = &self.methods else {
            return true;
        };
        methods.iter().any(|m| {
            m.eq_ignore_ascii_case(method)
                // HEAD is GET without the body: a GET rule governs it too.
                || (m == "GET" && method.eq_ignore_ascii_case("HEAD"))
        })
    }

    fn matches(&self, method: &str, host: Option<&str>, segments: &[&str]) -> bool {
        self.matches_method(method)
            && self
                .host
                .as_deref()
                .is_none_or(|want| host.is_some_and(|h| h.eq_ignore_ascii_case(want)))
            && self.pattern.matches_segments(segments)
    }

    /// Whether every request `later` matches is matched by `self` first.
    fn covers(&self, later: &Route) -> bool {
        let methods = match (&self.methods, &later.methods) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(mine), Some(theirs)) => theirs
                .iter()
                .all(|m| mine.contains(m) || (m == "HEAD" && mine.iter().any(|x| x == "GET"))),
        };
        let host = match (&self.host, &later.host) {
            (None, _) => true,
            (Some(a), Some(b)) => a == b,
            (Some(_), None) => false,
        };
        methods && host && self.pattern.covers(&later.pattern)
    }
}

/// The route table: rules in order, then the default route.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteTable {
    rules: Vec<Route>,
    default: Route,
}

impl Default for RouteTable {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            default: Route::default_route(true),
        }
    }
}

impl RouteTable {
    /// A table without rules: every request gets the default route.
    pub fn without_rules(enforce: bool) -> Self {
        Self {
            rules: Vec::new(),
            default: Route::default_route(enforce),
        }
    }

    /// Whether rules are configured (and so path hygiene applies).
    pub fn has_rules(&self) -> bool {
        !self.rules.is_empty()
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Route] {
        &self.rules
    }

    /// The route of a request: the first rule whose methods, host and path match,
    /// else the default. `path` must be in the normal form of [`normalise_path`];
    /// `host` is the request URL's host without the port.
    pub fn select(&self, method: &str, host: Option<&str>, path: &str) -> &Route {
        if self.rules.is_empty() {
            return &self.default;
        }
        let segments = pattern::segments_of(path);
        self.rules
            .iter()
            .find(|rule| rule.matches(method, host, &segments))
            .unwrap_or(&self.default)
    }

    /// Reads the `routes` array of a configuration. `issuers` are the configured
    /// issuers' `iss` values (a rule names them); `enforce` is the top-level default.
    /// Every error names its field: `routes[3].path`.
    pub fn from_config(value: &Value, issuers: &[&str], enforce: bool) -> Result<Self, Error> {
        let Value::Array(entries) = value else {
            return Err(Error::config_invalid("routes"));
        };
        if entries.is_empty() || entries.len() > MAX_ROUTES {
            return Err(Error::config_invalid("routes"));
        }
        let mut rules: Vec<Route> = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let at = |field: &str| Error::config_invalid_at("routes", i, field);
            let rule = read_rule(entry, i, issuers, enforce)?;
            if rules.iter().any(|r| r.name == rule.name) || rule.name == DEFAULT_ROUTE {
                return Err(at("name"));
            }
            // A rule an earlier one covers entirely can never match: a mistake the
            // configuration's author should hear about, not a silent dead rule.
            if rules.iter().any(|earlier| earlier.covers(&rule)) {
                return Err(at("path"));
            }
            rules.push(rule);
        }
        Ok(Self {
            rules,
            default: Route::default_route(enforce),
        })
    }
}

/// A rule as written: each member read on its own, so a refusal names it.
struct RawRule {
    name: Option<String>,
    methods: Option<Vec<String>>,
    host: Option<String>,
    path: Option<String>,
    auth: Option<String>,
    issuers: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    claims: Option<Map<String, Value>>,
    replay: Option<ReplayMode>,
    enforce: Option<bool>,
}

/// The member `field` of `object`, read as `T`; refused as `field` when of another type.
fn member<T: serde::de::DeserializeOwned>(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<T>, &'static str> {
    match object.get(field) {
        None => Ok(None),
        Some(value) => T::deserialize(value).map(Some).map_err(|_| field),
    }
}

impl RawRule {
    const FIELDS: [&'static str; 11] = [
        "name",
        "methods",
        "host",
        "path",
        "auth",
        "issuers",
        "audiences",
        "scopes",
        "claims",
        "replay",
        "enforce",
    ];

    fn read(object: &Map<String, Value>) -> Result<Self, &'static str> {
        if object.keys().any(|k| !Self::FIELDS.contains(&k.as_str())) {
            return Err("unknown field");
        }
        Ok(Self {
            name: member(object, "name")?,
            methods: member(object, "methods")?,
            host: member(object, "host")?,
            path: member(object, "path")?,
            auth: member(object, "auth")?,
            issuers: member(object, "issuers")?,
            audiences: member(object, "audiences")?,
            scopes: member(object, "scopes")?,
            claims: member(object, "claims")?,
            replay: member(object, "replay")?,
            enforce: member(object, "enforce")?,
        })
    }
}

/// RFC 9110 §5.6.2 token characters (methods).
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 32
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`.
fn is_scope_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 256
        && text
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

fn is_route_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_ROUTE_NAME_BYTES
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

fn is_host(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

fn read_rule(entry: &Value, i: usize, issuers: &[&str], enforce: bool) -> Result<Route, Error> {
    let at = |field: &str| Error::config_invalid_at("routes", i, field);
    let Some(object) = entry.as_object() else {
        return Err(at(""));
    };
    let raw = RawRule::read(object).map_err(at)?;
    let name = match raw.name {
        Some(name) if is_route_name(&name) => name,
        Some(_) => return Err(at("name")),
        None => format!("routes[{i}]"),
    };
    let methods = match raw.methods {
        None => None,
        Some(list) => {
            let mut upper: Vec<String> = Vec::with_capacity(list.len());
            for method in &list {
                let method = method.to_ascii_uppercase();
                if !is_token(&method) || upper.contains(&method) {
                    return Err(at("methods"));
                }
                upper.push(method);
            }
            if upper.is_empty() {
                return Err(at("methods"));
            }
            Some(upper)
        }
    };
    let host = match raw.host {
        None => None,
        Some(host) if is_host(&host) => Some(host),
        Some(_) => return Err(at("host")),
    };
    let pattern = raw
        .path
        .as_deref()
        .ok_or_else(|| at("path"))
        .and_then(|text| PathPattern::parse(text).map_err(|_| at("path")))?;
    let auth = match raw.auth.as_deref() {
        None | Some("required") => Auth::Required,
        Some("optional") => Auth::Optional,
        Some("none") => Auth::None,
        Some(_) => return Err(at("auth")),
    };
    if auth == Auth::None {
        // Nothing is verified on such a route: a check written for it would be a lie.
        for (given, field) in [
            (raw.issuers.is_some(), "issuers"),
            (raw.audiences.is_some(), "audiences"),
            (raw.scopes.is_some(), "scopes"),
            (raw.claims.is_some(), "claims"),
            (raw.replay.is_some(), "replay"),
            (raw.enforce.is_some(), "enforce"),
        ] {
            if given {
                return Err(at(field));
            }
        }
    }
    let issuer_indices = match raw.issuers {
        None => None,
        Some(list) if list.is_empty() => return Err(at("issuers")),
        Some(list) => {
            let mut indices = Vec::with_capacity(list.len());
            for iss in &list {
                let index = issuers
                    .iter()
                    .position(|configured| configured == iss)
                    .ok_or_else(|| at("issuers"))?;
                if indices.contains(&index) {
                    return Err(at("issuers"));
                }
                indices.push(index);
            }
            Some(indices)
        }
    };
    let audiences = match raw.audiences {
        None => None,
        Some(list) if list.is_empty() || list.iter().any(|a| a.is_empty() || a.len() > 1024) => {
            return Err(at("audiences"))
        }
        Some(list) => Some(list),
    };
    let scopes = match raw.scopes {
        None => Vec::new(),
        Some(list) => read_scopes(list).ok_or_else(|| at("scopes"))?,
    };
    let claims = match raw.claims {
        None => Vec::new(),
        Some(map) => read_claim_rules(map).ok_or_else(|| at("claims"))?,
    };
    Ok(Route {
        name,
        methods,
        host,
        pattern,
        auth,
        issuers: issuer_indices,
        requirements: Requirements {
            audiences,
            scopes,
            claims,
        },
        replay: raw.replay,
        enforce: raw.enforce.unwrap_or(enforce),
    })
}

/// Required scopes as configured: a non-empty list of RFC 6749 §3.3 scope-tokens.
pub fn read_scopes(list: Vec<String>) -> Option<Vec<String>> {
    (!list.is_empty() && list.iter().all(|s| is_scope_token(s))).then_some(list)
}

/// Claim rules as configured: a non-empty object of dotted paths to one matcher each.
pub fn read_claim_rules(map: Map<String, Value>) -> Option<Vec<ClaimRule>> {
    if map.is_empty() {
        return None;
    }
    let mut rules = Vec::with_capacity(map.len());
    for (path, spec) in map {
        let valid_path = !path.is_empty()
            && path.len() <= MAX_CLAIM_PATH_BYTES
            && !path.split('.').any(str::is_empty);
        if !valid_path {
            return None;
        }
        rules.push(ClaimRule {
            path,
            matcher: read_matcher(&spec)?,
        });
    }
    Some(rules)
}

/// `{"equals": V}`, `{"one_of": [V, …]}`, `{"contains": V}` or `{"present": true}`:
/// exactly one member.
fn read_matcher(spec: &Value) -> Option<Matcher> {
    let object = spec.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let (kind, value) = object.iter().next()?;
    match (kind.as_str(), value) {
        ("equals", v) => Some(Matcher::Equals(v.clone())),
        ("one_of", Value::Array(values)) if !values.is_empty() => {
            Some(Matcher::OneOf(values.clone()))
        }
        ("contains", v) if !v.is_array() && !v.is_object() => Some(Matcher::Contains(v.clone())),
        ("present", Value::Bool(true)) => Some(Matcher::Present),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
