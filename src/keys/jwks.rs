//! A JSON Web Key Set (RFC 7517 §5) parsed once into verifying keys, with set-level
//! hygiene: size and count caps, and refusal of any set that leaks private keys.

use serde_json::Value;

use crate::encoding::{parse_object, MAX_JSON_DEPTH};
use crate::error::KeyRejection;
use crate::error::{Error, JwksProblem};
use crate::keys::jwk::{ImportRules, Jwk};

/// Private members of RSA and EC/OKP keys (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/// What a set served as one's own published JWKS must not hold: the private members,
/// and `k`, the secret of a symmetric key (RFC 7518 §6.4.1), which is as private as `d`.
const UNPUBLISHABLE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What a key set may contain. Defaults are written once, here.
#[derive(Debug, Clone)]
pub struct JwksOptions {
    /// Largest JWKS document accepted, in bytes. Default 256 KiB.
    pub max_bytes: usize,
    /// Most keys accepted in one set. Default 100.
    pub max_keys: usize,
    /// Whether symmetric `oct` keys are imported. Default `false`: an HMAC secret in a
    /// published JWKS is public, so it is skipped unless the operator opts in. Sets the
    /// user gives locally opt in (the npm `jwks` option, CLI `--jwks FILE`); fetched
    /// sets never do. Imported `oct` keys are matched by exact `kid`.
    pub allow_oct: bool,
    /// Smallest RSA modulus accepted, in bits. Default 2048 (RFC 7518 §3.3).
    pub min_rsa_bits: usize,
}

impl Default for JwksOptions {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024,
            max_keys: 100,
            allow_oct: false,
            min_rsa_bits: 2048,
        }
    }
}

/// A key that was left out of a set, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    /// Position in the `keys` array.
    pub index: usize,
    /// The key's `kid`, when it had a string one (bounded in length).
    pub kid: Option<String>,
    /// Why it was skipped.
    pub reason: KeyRejection,
}

/// Imported verifying keys, plus a record of the ones that were skipped.
#[derive(Debug, Default)]
pub struct JwkSet {
    keys: Vec<Jwk>,
    skipped: Vec<SkippedKey>,
}

impl JwkSet {
    /// An empty set, e.g. to hold only configured HMAC secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses and imports a JWKS document.
    ///
    /// The whole set is refused when it is too large, not strict JSON, not an object
    /// with a `keys` array, has too many keys, or any key carries a private member.
    /// A single malformed or unusable key is skipped and recorded instead.
    pub fn parse(document: &[u8], options: &JwksOptions) -> Result<Self, Error> {
        Self::parse_refusing(document, options, &PRIVATE_MEMBERS)
    }

    /// Parses a set an issuer serves (fetched, or read back from a cache of a fetched
    /// one) as [`JwkSet::parse`] does, and also refuses a set with no usable key
    /// ([`JwksProblem::NoUsableKeys`]): an empty `keys` array, or one whose every key is
    /// skipped, would make every token fail, so it must never replace a set that worked.
    /// Configured HMAC secrets do not count: the issuer's own set must stand alone.
    pub fn parse_fetched(document: &[u8], options: &JwksOptions) -> Result<Self, Error> {
        let set = Self::parse(document, options)?;
        if set.keys.is_empty() {
            return Err(Error::JwksInvalid(JwksProblem::NoUsableKeys));
        }
        Ok(set)
    }

    /// Parses a set about to be published (served to others as one's own JWKS) as
    /// [`JwkSet::parse`] does, and also refuses any key carrying `k`, the secret of an
    /// `oct` key ([`JwksProblem::PrivateKeyMaterial`]): publishing it hands out the key.
    pub fn parse_publishable(document: &[u8], options: &JwksOptions) -> Result<Self, Error> {
        Self::parse_refusing(document, options, &UNPUBLISHABLE_MEMBERS)
    }

    fn parse_refusing(
        document: &[u8],
        options: &JwksOptions,
        private_members: &[&str],
    ) -> Result<Self, Error> {
        if document.len() > options.max_bytes {
            return Err(Error::JwksInvalid(JwksProblem::TooLarge));
        }
        let root = parse_object(document, MAX_JSON_DEPTH)
            .map_err(|_| Error::JwksInvalid(JwksProblem::Malformed))?;
        let Some(Value::Array(entries)) = root.get("keys") else {
            return Err(Error::JwksInvalid(JwksProblem::Malformed));
        };
        if entries.len() > options.max_keys {
            return Err(Error::JwksInvalid(JwksProblem::TooManyKeys));
        }
        let leaks_private = entries
            .iter()
            .filter_map(Value::as_object)
            .any(|key| private_members.iter().any(|m| key.contains_key(*m)));
        if leaks_private {
            return Err(Error::JwksInvalid(JwksProblem::PrivateKeyMaterial));
        }
        let rules = ImportRules {
            allow_oct: options.allow_oct,
            min_rsa_bits: options.min_rsa_bits,
        };
        let mut set = JwkSet::new();
        for (index, entry) in entries.iter().enumerate() {
            match Jwk::import(entry, rules) {
                Ok(key) => set.keys.push(key),
                Err(reason) => set.skipped.push(SkippedKey {
                    index,
                    kid: entry
                        .get("kid")
                        .and_then(Value::as_str)
                        .filter(|k| k.len() <= crate::keys::jwk::MAX_KID_BYTES)
                        .map(str::to_owned),
                    reason,
                }),
            }
        }
        Ok(set)
    }

    /// Adds a key, e.g. a configured HMAC secret from [`Jwk::hmac_secret`].
    pub fn push(&mut self, key: Jwk) {
        self.keys.push(key);
    }

    /// The usable keys, in document order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The usable keys, consumed (e.g. to merge several sets).
    pub fn into_keys(self) -> Vec<Jwk> {
        self.keys
    }

    /// The keys that were skipped, with reasons.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }
}
