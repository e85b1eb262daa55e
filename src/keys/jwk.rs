//! One JSON Web Key (RFC 7517 §4) imported into a verifying key: RSA (RFC 7518 §6.3),
//! EC on P-256/P-384/P-521/secp256k1 (RFC 7518 §6.2, RFC 8812 §3.1), OKP Ed25519
//! (RFC 8037 §2) and, only when asked for, `oct` (RFC 7518 §6.4).
//!
//! Import happens once, when a set is parsed; verification never re-imports.

use core::fmt;

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::algorithms::alg::{Algorithm, KeyKind};
use crate::algorithms::ec::{PublicKey as EcPublicKey, P256, P384};
use crate::algorithms::ed25519::Ed25519Key;
use crate::algorithms::rsa_public::RsaPublicKey;
use crate::encoding::base64url_decode;
use crate::error::KeyRejection;

/// Longest `kid` accepted, in bytes, in a JWK or a token header.
pub const MAX_KID_BYTES: usize = 256;

/// A verifying key with the metadata that decides which tokens it may verify.
pub struct Jwk {
    /// Key ID (RFC 7517 §4.5), matched exactly against the token's `kid`.
    pub kid: Option<String>,
    /// Intended algorithm (RFC 7517 §4.4); when present the token's `alg` must equal it.
    pub alg: Option<String>,
    /// Public key use (RFC 7517 §4.2); when present it must be `sig`.
    pub key_use: Option<String>,
    /// Key operations (RFC 7517 §4.3); when present they must include `verify`.
    pub key_ops: Option<Vec<String>>,
    /// How a token's `kid` selects this key. Private: only [`Jwk::unnamed_hmac_secret`]
    /// makes a key that ignores the token's `kid`, never a key parsed from a JWKS.
    kid_match: KidMatch,
    pub(crate) material: KeyMaterial,
}

/// How a token's `kid` header selects a key (see [`crate::Verifier`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KidMatch {
    /// The token's `kid` must equal the key's (RFC 7515 §4.1.4); a token without a
    /// `kid` may use any fitting key. Every key from a JWKS, and every named secret.
    Exact,
    /// A shared secret the user configured without naming it: it verifies tokens
    /// whatever their `kid` says (the issuer's own label, e.g. `"hs256"`), as a key
    /// given directly does in jose or PyJWT. Keys named by exactly the token's `kid`
    /// still come first, and only they are tried when there are any.
    Any,
}

/// The imported key itself.
pub(crate) enum KeyMaterial {
    Oct(Zeroizing<Vec<u8>>),
    Rsa(RsaPublicKey),
    /// Boxed: it carries its window table (1.5 KB).
    P256(Box<EcPublicKey<P256>>),
    /// Boxed: it carries its window table (2.3 KB).
    P384(Box<EcPublicKey<P384>>),
    P521(p521::ecdsa::VerifyingKey),
    Secp256k1(k256::ecdsa::VerifyingKey),
    /// Boxed: from its second use it holds its table of multiples (40 KB, on the heap).
    Ed25519(Box<Ed25519Key>),
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material stays out of logs, secrets above all.
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("kty", &self.kind().kty())
            .field("alg", &self.alg)
            .field("use", &self.key_use)
            .field("key_ops", &self.key_ops)
            .field("kid_match", &self.kid_match)
            .finish_non_exhaustive()
    }
}

/// What one key import may accept; see [`crate::JwksOptions`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImportRules {
    pub allow_oct: bool,
    pub min_rsa_bits: usize,
}

impl Jwk {
    /// A configured HMAC secret as a key. `alg` pins it to one HS algorithm.
    ///
    /// Refuses secrets shorter than 32 bytes (RFC 7518 §3.2); longer HS384/HS512
    /// minimums are checked when a token selects the key.
    pub fn hmac_secret(
        kid: Option<String>,
        secret: Vec<u8>,
        alg: Option<Algorithm>,
    ) -> Result<Jwk, KeyRejection> {
        let secret = Zeroizing::new(secret);
        if secret.len() < 32 {
            return Err(KeyRejection::WeakKey);
        }
        if alg.is_some_and(|a| !a.is_symmetric() || secret.len() < a.min_secret_len()) {
            return Err(KeyRejection::WeakKey);
        }
        if kid.as_ref().is_some_and(|k| k.len() > MAX_KID_BYTES) {
            return Err(KeyRejection::InvalidMember("kid"));
        }
        Ok(Jwk {
            kid,
            alg: alg.map(|a| a.name().to_owned()),
            key_use: Some("sig".to_owned()),
            key_ops: None,
            kid_match: KidMatch::Exact,
            material: KeyMaterial::Oct(secret),
        })
    }

    /// A shared secret the user configured without naming it (worker `hmac_secret`,
    /// npm `secret`, CLI `--secret`): it verifies HS* tokens whatever their `kid` says
    /// ([`KidMatch::Any`]), unless another key is named by exactly the token's `kid`.
    /// Its `kid`, reported as the verifying key's, is its RFC 7638 thumbprint.
    pub fn unnamed_hmac_secret(secret: Vec<u8>) -> Result<Jwk, KeyRejection> {
        let mut oct = Map::new();
        oct.insert("kty".into(), Value::String("oct".into()));
        oct.insert(
            "k".into(),
            Value::String(crate::encoding::base64url_encode(&secret)),
        );
        let kid = crate::keys::thumbprint::thumbprint(&oct)?;
        let mut key = Jwk::hmac_secret(Some(kid), secret, None)?;
        key.kid_match = KidMatch::Any;
        Ok(key)
    }

    /// A shared secret the user named with `kid` (worker `hmac_secrets`, npm `secrets`,
    /// CLI `--secret-kid`): only tokens whose `kid` is exactly `kid`, or that have no
    /// `kid`, select it. Refuses an empty `kid` or one over [`MAX_KID_BYTES`].
    pub fn named_hmac_secret(kid: String, secret: Vec<u8>) -> Result<Jwk, KeyRejection> {
        if kid.is_empty() || kid.len() > MAX_KID_BYTES {
            return Err(KeyRejection::InvalidKid);
        }
        Jwk::hmac_secret(Some(kid), secret, None)
    }

    /// How a token's `kid` selects this key.
    pub fn kid_match(&self) -> KidMatch {
        self.kid_match
    }

    /// The `kty`/`crv` of this key.
    pub fn kind(&self) -> KeyKind {
        match &self.material {
            KeyMaterial::Oct(_) => KeyKind::Oct,
            KeyMaterial::Rsa(_) => KeyKind::Rsa,
            KeyMaterial::P256(_) => KeyKind::P256,
            KeyMaterial::P384(_) => KeyKind::P384,
            KeyMaterial::P521(_) => KeyKind::P521,
            KeyMaterial::Secp256k1(_) => KeyKind::Secp256k1,
            KeyMaterial::Ed25519(_) => KeyKind::Ed25519,
        }
    }

    /// Whether this key may verify a token signed with `alg`: same `kty`/`crv`, equal
    /// `alg` when the key names one, `use` of `sig`, `key_ops` including `verify`, and
    /// for HMAC a secret at least as long as the hash output.
    pub fn fits(&self, alg: Algorithm) -> bool {
        if self.kind() != alg.key_kind() {
            return false;
        }
        if self.alg.as_deref().is_some_and(|a| a != alg.name()) {
            return false;
        }
        if self.key_use.as_deref().is_some_and(|u| u != "sig") {
            return false;
        }
        if let Some(ops) = &self.key_ops {
            if !ops.iter().any(|op| op == "verify") {
                return false;
            }
        }
        match &self.material {
            KeyMaterial::Oct(secret) => secret.len() >= alg.min_secret_len(),
            _ => true,
        }
    }

    /// Imports one JWK object. Private members are the set's concern and are checked
    /// before this is called.
    pub(crate) fn import(value: &Value, rules: ImportRules) -> Result<Jwk, KeyRejection> {
        let obj = value.as_object().ok_or(KeyRejection::NotObject)?;
        let kid = optional_string(obj, "kid")?;
        if kid.as_ref().is_some_and(|k| k.len() > MAX_KID_BYTES) {
            return Err(KeyRejection::InvalidMember("kid"));
        }
        let alg = optional_string(obj, "alg")?;
        let key_use = optional_string(obj, "use")?;
        let key_ops = match obj.get("key_ops") {
            None => None,
            Some(Value::Array(items)) => {
                let mut ops: Vec<String> = Vec::with_capacity(items.len());
                for item in items {
                    let op = item
                        .as_str()
                        .ok_or(KeyRejection::InvalidMember("key_ops"))?;
                    if ops.iter().any(|o| o == op) {
                        return Err(KeyRejection::DuplicateKeyOps);
                    }
                    ops.push(op.to_owned());
                }
                Some(ops)
            }
            Some(_) => return Err(KeyRejection::InvalidMember("key_ops")),
        };
        let material = match obj.get("kty").and_then(Value::as_str) {
            Some("RSA") => import_rsa(obj, rules.min_rsa_bits)?,
            Some("EC") => import_ec(obj)?,
            Some("OKP") => import_okp(obj)?,
            Some("oct") if !rules.allow_oct => return Err(KeyRejection::OctNotAllowed),
            Some("oct") => {
                let secret = Zeroizing::new(bytes_member(obj, "k")?);
                if secret.len() < 32 {
                    return Err(KeyRejection::WeakKey);
                }
                KeyMaterial::Oct(secret)
            }
            _ => return Err(KeyRejection::UnsupportedKeyType),
        };
        Ok(Jwk {
            kid,
            alg,
            key_use,
            key_ops,
            kid_match: KidMatch::Exact,
            material,
        })
    }
}

fn optional_string(
    obj: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, KeyRejection> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(KeyRejection::InvalidMember(name)),
    }
}

fn bytes_member(obj: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyRejection> {
    obj.get(name)
        .and_then(Value::as_str)
        .and_then(|s| base64url_decode(s).ok())
        .ok_or(KeyRejection::InvalidMember(name))
}

/// A fixed-length member, such as an EC coordinate (RFC 7518 §6.2.1.2: "MUST be the
/// full length").
fn exact_member(
    obj: &Map<String, Value>,
    name: &'static str,
    len: usize,
) -> Result<Vec<u8>, KeyRejection> {
    let bytes = bytes_member(obj, name)?;
    if bytes.len() != len {
        return Err(KeyRejection::InvalidMember(name));
    }
    Ok(bytes)
}

fn import_rsa(obj: &Map<String, Value>, min_bits: usize) -> Result<KeyMaterial, KeyRejection> {
    let n = bytes_member(obj, "n")?;
    let e = bytes_member(obj, "e")?;
    Ok(KeyMaterial::Rsa(RsaPublicKey::new(&n, &e, min_bits)?))
}

fn sec1_uncompressed(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut point = Vec::with_capacity(x.len().saturating_add(y.len()).saturating_add(1));
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    point
}

fn import_ec(obj: &Map<String, Value>) -> Result<KeyMaterial, KeyRejection> {
    let crv = obj
        .get("crv")
        .and_then(Value::as_str)
        .ok_or(KeyRejection::UnsupportedCurve)?;
    let len = match crv {
        "P-256" | "secp256k1" => 32,
        "P-384" => 48,
        "P-521" => 66,
        _ => return Err(KeyRejection::UnsupportedCurve),
    };
    let (x, y) = (exact_member(obj, "x", len)?, exact_member(obj, "y", len)?);
    match crv {
        "P-256" => {
            return EcPublicKey::<P256>::new(&x, &y)
                .map(|key| KeyMaterial::P256(Box::new(key)))
                .ok_or(KeyRejection::InvalidPoint)
        }
        "P-384" => {
            return EcPublicKey::<P384>::new(&x, &y)
                .map(|key| KeyMaterial::P384(Box::new(key)))
                .ok_or(KeyRejection::InvalidPoint)
        }
        _ => {}
    }
    let point = sec1_uncompressed(&x, &y);
    let bad = |_| KeyRejection::InvalidPoint;
    Ok(match crv {
        "P-521" => {
            KeyMaterial::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(bad)?)
        }
        _ => {
            KeyMaterial::Secp256k1(k256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(bad)?)
        }
    })
}

fn import_okp(obj: &Map<String, Value>) -> Result<KeyMaterial, KeyRejection> {
    if obj.get("crv").and_then(Value::as_str) != Some("Ed25519") {
        return Err(KeyRejection::UnsupportedCurve);
    }
    let x = exact_member(obj, "x", 32)?;
    let raw = <[u8; 32]>::try_from(x.as_slice()).map_err(|_| KeyRejection::InvalidMember("x"))?;
    let key =
        ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|_| KeyRejection::InvalidPoint)?;
    if key.is_weak() {
        return Err(KeyRejection::WeakKey);
    }
    Ok(KeyMaterial::Ed25519(Box::new(Ed25519Key::new(key))))
}
