//! The one verification policy. Every front end reads its options into
//! [`PolicyOptions`] under its own names (declared once, in [`OPTIONS`]), and
//! [`PolicyOptions::resolve`] turns them into [`VerifyOptions`]: every default is
//! written here, every check of a bad option is made here, and a refusal names the
//! option as that front end spells it.
//!
//! Where uses deliberately differ, the difference is a named [`Profile`], not a constant
//! in a front end.
//!
//! Why one file of more than 500 lines: the name table (~130 lines of one row per
//! option and front end) and the checks of each option are read together when an option
//! is added; the unit tests at the end are ~130 lines.

pub(crate) mod claims;
pub(crate) mod config;

use serde_json::{Map, Value};

use crate::algorithms::alg::Algorithm;
use crate::decisions::token_cache::{DEFAULT_TOKEN_CACHE_ENTRIES, MAX_TOKEN_CACHE_ENTRIES};
use crate::encoding::parse_object;
use crate::error::{Error, Malformed};
use crate::policy::claims::ClaimsPolicy;
use crate::token::DEFAULT_MAX_TOKEN_BYTES;
use crate::verify::VerifyOptions;

/// A front end, for the names its users write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontEnd {
    /// The core's own names (Rust users, the assertion verifier).
    Core,
    /// The edge worker's `JWT_EDGE_CONFIG` (snake_case; issuer options under `issuers`).
    Edge,
    /// The npm package's options (camelCase).
    Npm,
    /// The CLI's `verify` flags.
    Cli,
}

impl FrontEnd {
    /// Every front end, in table order.
    pub const ALL: [FrontEnd; 4] = [FrontEnd::Core, FrontEnd::Edge, FrontEnd::Npm, FrontEnd::Cli];

    /// The profile whose defaults this front end applies.
    pub fn profile(self) -> Profile {
        match self {
            FrontEnd::Edge => Profile::Gateway,
            FrontEnd::Core | FrontEnd::Npm | FrontEnd::Cli => Profile::Library,
        }
    }
}

/// Defaults that deliberately differ between uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// A library call (the npm package, the CLI, Rust): like jose and jsonwebtoken, no
    /// maximum lifetime unless one is configured.
    Library,
    /// A gateway in front of an API (the edge worker): tokens valid for more than
    /// 24 hours are refused unless `max_lifetime` says otherwise, since a bearer
    /// token that outlives a day is a leaked credential waiting to be replayed.
    Gateway,
}

impl Profile {
    /// The profile's name, as the docs show it.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Library => "library",
            Profile::Gateway => "gateway",
        }
    }

    /// Default longest lifetime, in seconds (`None`: no maximum).
    pub fn max_lifetime(self) -> Option<u64> {
        match self {
            Profile::Library => None,
            Profile::Gateway => Some(86_400),
        }
    }
}

/// A policy option, whatever a front end calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// Where public keys come from (a key set, or its URL).
    Jwks,
    /// One unnamed shared secret (HS256/384/512).
    Secret,
    /// Shared secrets named by `kid`.
    Secrets,
    /// The algorithm allow-list.
    Algorithms,
    /// Allowed issuers (`iss`).
    Issuers,
    /// Allowed audiences (`aud`).
    Audiences,
    /// The required `sub`.
    Subject,
    /// The required header `typ`.
    Typ,
    /// Claims that must be present.
    RequiredClaims,
    /// Tolerated clock difference.
    ClockSkew,
    /// Longest token lifetime.
    MaxLifetime,
    /// Whether `exp` is required.
    RequireExp,
    /// Whether `jti` is required.
    RequireJti,
    /// Largest token accepted.
    MaxTokenBytes,
    /// Verified tokens remembered until they expire.
    TokenCacheEntries,
}

/// One row of the name table: a policy option and each front end's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionName {
    /// The option.
    pub field: Field,
    /// The core's name (a [`PolicyOptions`] field).
    pub core: &'static str,
    /// The path in `JWT_EDGE_CONFIG` (`issuers.` for per-issuer options).
    pub edge: &'static str,
    /// The npm option.
    pub npm: &'static str,
    /// The CLI flag of `jwt-edge verify`; empty when the CLI has no such option.
    pub cli: &'static str,
    /// What it means, its unit and its default (for the generated docs).
    pub doc: &'static str,
}

impl OptionName {
    /// This option's name in `front`.
    pub fn name(&self, front: FrontEnd) -> &'static str {
        match front {
            FrontEnd::Core => self.core,
            FrontEnd::Edge => self.edge,
            FrontEnd::Npm => self.npm,
            FrontEnd::Cli => self.cli,
        }
    }
}

/// The name table: every policy option and what each front end calls it. Front ends
/// read and name options through it; docs and type declarations are generated from it.
pub const OPTIONS: [OptionName; 15] = [
    OptionName {
        field: Field::Jwks,
        core: "jwks",
        edge: "issuers.jwks_uri",
        npm: "jwks",
        cli: "--jwks",
        doc: "Public keys: a JWKS (npm, CLI file) or its https:// URL (worker, CLI, npm RemoteJwks). Its `oct` keys count only when the set is the user's own (not fetched).",
    },
    OptionName {
        field: Field::Secret,
        core: "secret",
        edge: "issuers.hmac_secret",
        npm: "secret",
        cli: "--secret",
        doc: "One shared secret (base64url; the worker names a secret binding). Unnamed: it verifies HS256/384/512 tokens whatever their `kid`.",
    },
    OptionName {
        field: Field::Secrets,
        core: "secrets",
        edge: "issuers.hmac_secrets",
        npm: "secrets",
        cli: "--secret-kid",
        doc: "Shared secrets named by `kid` (one per client): a token whose `kid` names one is verified by that one only.",
    },
    OptionName {
        field: Field::Algorithms,
        core: "algorithms",
        edge: "issuers.algorithms",
        npm: "algorithms",
        cli: "--alg",
        doc: "The allow-list. Default: every asymmetric algorithm when public keys are configured, plus HS256/384/512 when a shared secret is. An algorithm no configured key can verify is refused.",
    },
    OptionName {
        field: Field::Issuers,
        core: "issuers",
        edge: "issuers.issuer",
        npm: "issuer",
        cli: "--iss",
        doc: "Allowed `iss` values; makes `iss` required. Default: not checked (the worker always checks its issuer's).",
    },
    OptionName {
        field: Field::Audiences,
        core: "audiences",
        edge: "issuers.audiences",
        npm: "audience",
        cli: "--aud",
        doc: "Allowed audiences; one `aud` value must be among them; makes `aud` required. Default: not checked. An empty list is refused.",
    },
    OptionName {
        field: Field::Subject,
        core: "subject",
        edge: "issuers.subject",
        npm: "subject",
        cli: "--sub",
        doc: "The required `sub`. Default: not checked.",
    },
    OptionName {
        field: Field::Typ,
        core: "typ",
        edge: "issuers.typ",
        npm: "typ",
        cli: "--typ",
        doc: "The required header `typ` (RFC 8725 §3.11). Default: not checked.",
    },
    OptionName {
        field: Field::RequiredClaims,
        core: "required_claims",
        edge: "issuers.required_claims",
        npm: "requiredClaims",
        cli: "--require-claim",
        doc: "Claims that must be present. Default none.",
    },
    OptionName {
        field: Field::ClockSkew,
        core: "clock_skew",
        edge: "issuers.clock_skew",
        npm: "clockSkewSeconds",
        cli: "--skew",
        doc: "Tolerated clock difference for `exp`, `nbf`, `iat`, in seconds, at most 86 400. Default 60.",
    },
    OptionName {
        field: Field::MaxLifetime,
        core: "max_lifetime",
        edge: "issuers.max_lifetime",
        npm: "maxLifetimeSeconds",
        cli: "--max-lifetime",
        doc: "Longest token lifetime (`exp − iat`, and `exp − now`), in seconds, at least 1. Default: the profile's (library: none; gateway: 86 400). `null` in the worker: none.",
    },
    OptionName {
        field: Field::RequireExp,
        core: "require_exp",
        edge: "issuers.require_exp",
        npm: "requireExp",
        cli: "--require-exp",
        doc: "Whether `exp` is required. Default true.",
    },
    OptionName {
        field: Field::RequireJti,
        core: "require_jti",
        edge: "issuers.require_jti",
        npm: "requireJti",
        cli: "--require-jti",
        doc: "Whether `jti` is required. Default false (the worker's replay modes require it).",
    },
    OptionName {
        field: Field::MaxTokenBytes,
        core: "max_token_bytes",
        edge: "max_token_bytes",
        npm: "maxTokenBytes",
        cli: "--max-token-bytes",
        doc: "Largest token accepted, in bytes, 1 to 65 536. Default 16 384.",
    },
    OptionName {
        field: Field::TokenCacheEntries,
        core: "token_cache_entries",
        edge: "token_cache_entries",
        npm: "tokenCacheEntries",
        cli: "",
        doc: "Verified tokens a verifier remembers (by SHA-256 of the exact text) until `exp` plus the clock skew, so the same token again costs the time and claim checks, not a signature; 0 to 100 000, `0` turns it off. Per key set (the worker: per issuer). Default 1 000.",
    },
];

impl Field {
    /// This option's row of [`OPTIONS`].
    pub fn row(self) -> &'static OptionName {
        // Every field has exactly one row (a unit test checks it); the first row is a
        // fallback that is never taken.
        OPTIONS
            .iter()
            .find(|row| row.field == self)
            .unwrap_or(&OPTIONS[0])
    }

    /// The option's name in `front`.
    pub fn name(self, front: FrontEnd) -> &'static str {
        self.row().name(front)
    }

    /// The refusal for a bad value of this option, named as `front` names it.
    pub fn invalid(self, front: FrontEnd) -> Error {
        Error::config_invalid(self.name(front))
    }
}

/// Largest `max_token_bytes`.
pub const MAX_TOKEN_BYTES_LIMIT: usize = 64 * 1024;
/// Largest `clock_skew`, in seconds.
pub const MAX_CLOCK_SKEW: u64 = 86_400;
/// Default `clock_skew`, in seconds.
pub const DEFAULT_CLOCK_SKEW: u64 = 60;

/// The policy options as given. `None` means "not given": the default applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyOptions {
    /// The allow-list.
    pub algorithms: Option<Vec<Algorithm>>,
    /// Allowed issuers.
    pub issuers: Option<Vec<String>>,
    /// Allowed audiences.
    pub audiences: Option<Vec<String>>,
    /// The required `sub`.
    pub subject: Option<String>,
    /// The required header `typ`.
    pub typ: Option<String>,
    /// Claims that must be present.
    pub required_claims: Option<Vec<String>>,
    /// Clock skew, in seconds.
    pub clock_skew: Option<u64>,
    /// Longest lifetime, in seconds; `Some(None)`: explicitly no maximum.
    pub max_lifetime: Option<Option<u64>>,
    /// Whether `exp` is required.
    pub require_exp: Option<bool>,
    /// Whether `jti` is required.
    pub require_jti: Option<bool>,
    /// Largest token, in bytes.
    pub max_token_bytes: Option<usize>,
    /// Verified tokens remembered.
    pub token_cache_entries: Option<u64>,
}

/// The kinds of key a policy has, known before any token arrives: they decide the
/// default allow-list, and an algorithm no such key can verify is a configuration
/// error rather than a refusal of every token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyKinds {
    /// Public keys are configured (a key set given, or a URL to fetch one from).
    pub public_keys: bool,
    /// A shared secret is configured (given, named, or an `oct` key of the user's own set).
    pub shared_secret: bool,
}

impl PolicyOptions {
    /// Reads the policy options out of a JSON object under `front`'s names, removing
    /// them from `object` so the front end can refuse whatever is left unknown. Options
    /// that the front end keeps outside this object (the worker's `max_token_bytes`,
    /// the key sources) are left for it. A wrong type is refused, naming the option.
    pub fn take_from(front: FrontEnd, object: &mut Map<String, Value>) -> Result<Self, Error> {
        let mut options = PolicyOptions::default();
        for row in &OPTIONS {
            let path = row.name(front);
            let member = match (front, path.strip_prefix("issuers.")) {
                // The worker's per-issuer options sit in each issuer object; its
                // top-level ones are read by its own config.
                (FrontEnd::Edge, Some(member)) => member,
                (FrontEnd::Edge, None) => continue,
                _ => path,
            };
            // Key sources and the worker's routing `issuer` are the front end's to read.
            let front_ends_own = matches!(row.field, Field::Jwks | Field::Secret | Field::Secrets)
                || (front == FrontEnd::Edge && row.field == Field::Issuers);
            if front_ends_own {
                continue;
            }
            let Some(value) = object.remove(member) else {
                continue;
            };
            options.set(row.field, value, front)?;
        }
        Ok(options)
    }

    /// Reads the worker's top-level policy options (`max_token_bytes`,
    /// `token_cache_entries`: the rows whose edge name has no `issuers.` prefix) out of
    /// the `JWT_EDGE_CONFIG` object, removing them; a wrong type is refused naming the
    /// option, as for the per-issuer ones.
    pub fn take_edge_top_level(object: &mut Map<String, Value>) -> Result<Self, Error> {
        let mut options = PolicyOptions::default();
        for row in &OPTIONS {
            let front_ends_own = matches!(row.field, Field::Jwks | Field::Secret | Field::Secrets);
            if front_ends_own || row.edge.starts_with("issuers.") {
                continue;
            }
            if let Some(value) = object.remove(row.edge) {
                options.set(row.field, value, FrontEnd::Edge)?;
            }
        }
        Ok(options)
    }

    /// Sets one option from a JSON value; `null` means "not given" except for
    /// `max_lifetime`, where it means "no maximum".
    fn set(&mut self, field: Field, value: Value, front: FrontEnd) -> Result<(), Error> {
        let bad = || field.invalid(front);
        if value.is_null() {
            if field == Field::MaxLifetime {
                self.max_lifetime = Some(None);
            }
            return Ok(());
        }
        match field {
            Field::Algorithms => {
                let names = string_array(value).ok_or_else(bad)?;
                self.algorithms = Some(Algorithm::parse_all(&names).map_err(|_| bad())?);
            }
            Field::Issuers => self.issuers = Some(one_or_many(value).ok_or_else(bad)?),
            Field::Audiences => self.audiences = Some(one_or_many(value).ok_or_else(bad)?),
            Field::RequiredClaims => {
                self.required_claims = Some(string_array(value).ok_or_else(bad)?);
            }
            Field::Subject => self.subject = Some(string(value).ok_or_else(bad)?),
            Field::Typ => self.typ = Some(string(value).ok_or_else(bad)?),
            Field::ClockSkew => self.clock_skew = Some(value.as_u64().ok_or_else(bad)?),
            Field::MaxLifetime => self.max_lifetime = Some(Some(value.as_u64().ok_or_else(bad)?)),
            Field::RequireExp => self.require_exp = Some(value.as_bool().ok_or_else(bad)?),
            Field::RequireJti => self.require_jti = Some(value.as_bool().ok_or_else(bad)?),
            Field::MaxTokenBytes => {
                let n = value.as_u64().ok_or_else(bad)?;
                self.max_token_bytes = Some(usize::try_from(n).map_err(|_| bad())?);
            }
            Field::TokenCacheEntries => {
                self.token_cache_entries = Some(value.as_u64().ok_or_else(bad)?);
            }
            Field::Jwks | Field::Secret | Field::Secrets => return Err(bad()),
        }
        Ok(())
    }

    /// The verification options these describe, with `profile`'s defaults, for a
    /// policy whose keys are of `keys`' kinds. Refusals name the option as `front`
    /// spells it.
    pub fn resolve(
        &self,
        front: FrontEnd,
        profile: Profile,
        keys: KeyKinds,
    ) -> Result<VerifyOptions, Error> {
        let bad = |field: Field| field.invalid(front);
        if !keys.public_keys && !keys.shared_secret {
            // Nothing could verify a token: every one would fail with no_matching_key.
            return Err(bad(Field::Jwks));
        }
        let algorithms = match &self.algorithms {
            Some(list) => {
                let unverifiable = list.iter().any(|a| {
                    if a.is_symmetric() {
                        !keys.shared_secret
                    } else {
                        !keys.public_keys
                    }
                });
                if list.is_empty() || unverifiable {
                    return Err(bad(Field::Algorithms));
                }
                let mut unique = Vec::with_capacity(list.len());
                for a in list {
                    if !unique.contains(a) {
                        unique.push(*a);
                    }
                }
                unique
            }
            None => {
                let mut all = Vec::new();
                if keys.public_keys {
                    all.extend(Algorithm::ASYMMETRIC);
                }
                if keys.shared_secret {
                    all.extend([Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512]);
                }
                all
            }
        };
        // An explicit empty list, or an empty value, would silently turn a check off.
        let non_empty_list = |list: &Option<Vec<String>>, field: Field| match list {
            Some(items) if items.is_empty() || items.iter().any(String::is_empty) => {
                Err(bad(field))
            }
            Some(items) => Ok(items.clone()),
            None => Ok(Vec::new()),
        };
        let issuers = non_empty_list(&self.issuers, Field::Issuers)?;
        let audiences = non_empty_list(&self.audiences, Field::Audiences)?;
        let mut required_claims = match &self.required_claims {
            Some(items) if items.iter().any(String::is_empty) => {
                return Err(bad(Field::RequiredClaims))
            }
            Some(items) => items.clone(),
            None => Vec::new(),
        };
        if self.subject.as_deref() == Some("") {
            return Err(bad(Field::Subject));
        }
        if self.typ.as_deref() == Some("") {
            return Err(bad(Field::Typ));
        }
        let clock_skew = self.clock_skew.unwrap_or(DEFAULT_CLOCK_SKEW);
        if clock_skew > MAX_CLOCK_SKEW {
            return Err(bad(Field::ClockSkew));
        }
        let max_lifetime = self.max_lifetime.unwrap_or(profile.max_lifetime());
        if max_lifetime == Some(0) {
            return Err(bad(Field::MaxLifetime));
        }
        let max_token_bytes = self.max_token_bytes.unwrap_or(DEFAULT_MAX_TOKEN_BYTES);
        if max_token_bytes == 0 || max_token_bytes > MAX_TOKEN_BYTES_LIMIT {
            return Err(bad(Field::MaxTokenBytes));
        }
        let token_cache_entries = match self.token_cache_entries {
            None => DEFAULT_TOKEN_CACHE_ENTRIES,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|&n| n <= MAX_TOKEN_CACHE_ENTRIES)
                .ok_or_else(|| bad(Field::TokenCacheEntries))?,
        };
        if self.require_jti == Some(true) && !required_claims.iter().any(|c| c == "jti") {
            required_claims.push("jti".to_owned());
        }
        let defaults = ClaimsPolicy::default();
        Ok(VerifyOptions {
            algorithms,
            max_token_bytes,
            token_cache_entries,
            claims: ClaimsPolicy {
                issuers,
                audiences,
                subject: self.subject.clone(),
                typ: self.typ.clone(),
                clock_skew,
                max_lifetime,
                require_exp: self.require_exp.unwrap_or(defaults.require_exp),
                required_claims,
                ..defaults
            },
            ..VerifyOptions::default()
        })
    }
}

/// Deepest nesting accepted in a configuration document.
const MAX_CONFIG_DEPTH: usize = 16;

/// A configuration document as a JSON object. A member name given twice anywhere is
/// refused (`duplicate member`), never resolved first- or last-wins: JSON parsers
/// disagree on which one counts, so a reviewer could read one policy and the worker
/// apply another. Anything else that is not a JSON object is `JWT_EDGE_CONFIG`.
pub(crate) fn parse_config_object(text: &str) -> Result<Map<String, Value>, Error> {
    parse_object(text.as_bytes(), MAX_CONFIG_DEPTH).map_err(|why| match why {
        Malformed::DuplicateMember => Error::config_invalid("duplicate member"),
        _ => Error::config_invalid("JWT_EDGE_CONFIG"),
    })
}

/// A string, or an array of strings, as a list (issuers and audiences, as RFC 7519
/// writes `aud`).
fn one_or_many(value: Value) -> Option<Vec<String>> {
    match value {
        Value::String(one) => Some(vec![one]),
        other => string_array(other),
    }
}

/// An array of strings.
fn string_array(value: Value) -> Option<Vec<String>> {
    match value {
        Value::Array(items) => items.into_iter().map(string).collect(),
        _ => None,
    }
}

fn string(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        options: &PolicyOptions,
        profile: Profile,
        public: bool,
        secret: bool,
    ) -> Result<VerifyOptions, Error> {
        let kinds = KeyKinds {
            public_keys: public,
            shared_secret: secret,
        };
        options.resolve(FrontEnd::Npm, profile, kinds)
    }

    #[test]
    fn defaults_follow_the_profile_and_the_keys() {
        let none = PolicyOptions::default();
        let gateway = resolve(&none, Profile::Gateway, true, false).unwrap();
        assert_eq!(gateway.claims.max_lifetime, Some(86_400));
        let library = resolve(&none, Profile::Library, true, false).unwrap();
        assert_eq!(library.claims.max_lifetime, None);
        assert_eq!(library.algorithms, Algorithm::ASYMMETRIC.to_vec());
        assert_eq!(library.claims.clock_skew, 60);
        assert!(library.claims.require_exp);
        let hmac = resolve(&none, Profile::Library, false, true).unwrap();
        assert_eq!(
            hmac.algorithms,
            vec![Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512]
        );
        let both = resolve(&none, Profile::Library, true, true).unwrap();
        assert_eq!(both.algorithms.len(), Algorithm::ASYMMETRIC.len() + 3);
        assert_eq!(
            resolve(&none, Profile::Library, false, false).unwrap_err(),
            Error::config_invalid("jwks")
        );
    }

    #[test]
    fn bad_options_name_the_option() {
        let bad = |options: PolicyOptions, public: bool, secret: bool, name: &str| {
            assert_eq!(
                resolve(&options, Profile::Library, public, secret).unwrap_err(),
                Error::ConfigInvalid(name.to_owned().into()),
                "{options:?}"
            );
        };
        let algorithms = |names: &[Algorithm]| PolicyOptions {
            algorithms: Some(names.to_vec()),
            ..PolicyOptions::default()
        };
        bad(algorithms(&[Algorithm::Hs256]), true, false, "algorithms");
        bad(algorithms(&[Algorithm::Rs256]), false, true, "algorithms");
        bad(algorithms(&[]), true, true, "algorithms");
        for (options, name) in [
            (
                PolicyOptions {
                    audiences: Some(vec![]),
                    ..PolicyOptions::default()
                },
                "audience",
            ),
            (
                PolicyOptions {
                    audiences: Some(vec![String::new()]),
                    ..PolicyOptions::default()
                },
                "audience",
            ),
            (
                PolicyOptions {
                    issuers: Some(vec![]),
                    ..PolicyOptions::default()
                },
                "issuer",
            ),
            (
                PolicyOptions {
                    clock_skew: Some(86_401),
                    ..PolicyOptions::default()
                },
                "clockSkewSeconds",
            ),
            (
                PolicyOptions {
                    max_lifetime: Some(Some(0)),
                    ..PolicyOptions::default()
                },
                "maxLifetimeSeconds",
            ),
            (
                PolicyOptions {
                    max_token_bytes: Some(0),
                    ..PolicyOptions::default()
                },
                "maxTokenBytes",
            ),
            (
                PolicyOptions {
                    max_token_bytes: Some(65_537),
                    ..PolicyOptions::default()
                },
                "maxTokenBytes",
            ),
            (
                PolicyOptions {
                    typ: Some(String::new()),
                    ..PolicyOptions::default()
                },
                "typ",
            ),
            (
                PolicyOptions {
                    token_cache_entries: Some(100_001),
                    ..PolicyOptions::default()
                },
                "tokenCacheEntries",
            ),
        ] {
            bad(options, true, false, name);
        }
        let cache = |n: Option<u64>| {
            let options = PolicyOptions {
                token_cache_entries: n,
                ..PolicyOptions::default()
            };
            resolve(&options, Profile::Library, true, false)
                .unwrap()
                .token_cache_entries
        };
        assert_eq!(cache(None), 1_000);
        assert_eq!(cache(Some(0)), 0, "0 turns the cache off");
        assert_eq!(cache(Some(100_000)), 100_000);
        let fine = algorithms(&[Algorithm::Hs256, Algorithm::Rs256, Algorithm::Hs256]);
        assert_eq!(
            resolve(&fine, Profile::Library, true, true)
                .unwrap()
                .algorithms,
            vec![Algorithm::Hs256, Algorithm::Rs256]
        );
    }

    #[test]
    fn every_field_has_one_row_and_names_are_unique_per_front_end() {
        for row in &OPTIONS {
            assert_eq!(OPTIONS.iter().filter(|r| r.field == row.field).count(), 1);
        }
        for front in FrontEnd::ALL {
            // An empty name: the front end has no such option.
            let given: Vec<_> = OPTIONS
                .iter()
                .map(|r| r.name(front))
                .filter(|n| !n.is_empty())
                .collect();
            let mut names = given.clone();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), given.len(), "{front:?}");
        }
    }
}
