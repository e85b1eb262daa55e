//! The issuer's side: private keys as JWKs, key generation, and token signing.
//! Randomness is an input (`rng`); nothing here reads a clock or does I/O.

use rsa::rand_core::CryptoRngCore;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use jwt_compact::alg::{
    Ed25519, Es256, Es256k, Hs256, Hs256Key, Hs384, Hs384Key, Hs512, Hs512Key, Rsa,
};
use jwt_compact::{Algorithm as JwtAlgorithm, AlgorithmSignature};
use p384::ecdsa::signature::Signer as _;

use crate::algorithms::alg::{Algorithm, KeyKind};
use crate::encoding::{base64url_decode, base64url_encode};
use crate::error::Error;
use crate::error::KeyRejection;
use crate::keys::thumbprint::thumbprint;

/// A private key able to sign tokens.
pub struct SigningKey {
    /// The key's `kid`, written into token headers.
    pub kid: Option<String>,
    /// The key's `alg`, if it is pinned to one.
    pub alg: Option<Algorithm>,
    material: PrivateMaterial,
}

enum PrivateMaterial {
    Oct(Zeroizing<Vec<u8>>),
    Rsa(Box<RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Secp256k1(k256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("kty", &self.kind().kty())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a key for `alg`. `rsa_bits` (2048, 3072 or 4096) applies to RS*/PS*.
    /// The `kid` is the RFC 7638 thumbprint unless one is given.
    pub fn generate(
        alg: Algorithm,
        rsa_bits: usize,
        kid: Option<String>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, Error> {
        let material = match alg.key_kind() {
            KeyKind::Oct => {
                let mut secret = Zeroizing::new(vec![0u8; alg.min_secret_len()]);
                rng.fill_bytes(&mut secret);
                PrivateMaterial::Oct(secret)
            }
            KeyKind::Rsa => {
                if !matches!(rsa_bits, 2048 | 3072 | 4096) {
                    return Err(Error::config_invalid("bits"));
                }
                let key =
                    RsaPrivateKey::new(rng, rsa_bits).map_err(|_| Error::config_invalid("bits"))?;
                PrivateMaterial::Rsa(Box::new(key))
            }
            KeyKind::P256 => PrivateMaterial::P256(p256::ecdsa::SigningKey::random(rng)),
            KeyKind::P384 => PrivateMaterial::P384(p384::ecdsa::SigningKey::random(rng)),
            KeyKind::P521 => PrivateMaterial::P521(p521::ecdsa::SigningKey::random(rng)),
            KeyKind::Secp256k1 => PrivateMaterial::Secp256k1(k256::ecdsa::SigningKey::random(rng)),
            KeyKind::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                rng.fill_bytes(seed.as_mut());
                PrivateMaterial::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
        };
        let mut key = SigningKey {
            kid: None,
            alg: Some(alg),
            material,
        };
        key.kid = match kid {
            Some(kid) => Some(kid),
            None => {
                Some(thumbprint(&key.public_members()).map_err(|_| Error::config_invalid("key"))?)
            }
        };
        Ok(key)
    }

    /// Imports a private JWK (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
    pub fn from_jwk(jwk: &Map<String, Value>) -> Result<Self, KeyRejection> {
        let text = |name: &'static str| {
            jwk.get(name)
                .and_then(Value::as_str)
                .ok_or(KeyRejection::InvalidMember(name))
        };
        let bytes = |name: &'static str| {
            text(name)
                .and_then(|t| base64url_decode(t).map_err(|_| KeyRejection::InvalidMember(name)))
        };
        let uint = |name: &'static str| bytes(name).map(|b| BigUint::from_bytes_be(&b));
        let (alg, kid) = alg_and_kid(jwk)?;
        let bad_point = |_| KeyRejection::InvalidPoint;
        let material = match text("kty")? {
            "oct" => PrivateMaterial::Oct(oct_secret(jwk)?),
            "RSA" => {
                let primes = vec![uint("p")?, uint("q")?];
                let mut key =
                    RsaPrivateKey::from_components(uint("n")?, uint("e")?, uint("d")?, primes)
                        .map_err(|_| KeyRejection::RsaUnsupported)?;
                key.validate().map_err(|_| KeyRejection::RsaUnsupported)?;
                key.precompute().map_err(|_| KeyRejection::RsaUnsupported)?;
                if key.n().bits() < 2048 {
                    return Err(KeyRejection::RsaTooSmall);
                }
                PrivateMaterial::Rsa(Box::new(key))
            }
            "EC" => {
                let d = Zeroizing::new(bytes("d")?);
                match text("crv")? {
                    "P-256" => PrivateMaterial::P256(
                        p256::ecdsa::SigningKey::from_slice(&d).map_err(bad_point)?,
                    ),
                    "P-384" => PrivateMaterial::P384(
                        p384::ecdsa::SigningKey::from_slice(&d).map_err(bad_point)?,
                    ),
                    "P-521" => PrivateMaterial::P521(
                        p521::ecdsa::SigningKey::from_slice(&d).map_err(bad_point)?,
                    ),
                    "secp256k1" => PrivateMaterial::Secp256k1(
                        k256::ecdsa::SigningKey::from_slice(&d).map_err(bad_point)?,
                    ),
                    _ => return Err(KeyRejection::UnsupportedCurve),
                }
            }
            "OKP" => PrivateMaterial::Ed25519(ed25519_key(jwk)?),
            _ => return Err(KeyRejection::UnsupportedKeyType),
        };
        let key = SigningKey { kid, alg, material };
        // The public members given must be those of the private key.
        let derived = key.public_members();
        for (name, value) in derived
            .iter()
            .filter(|(n, _)| !matches!(n.as_str(), "kid" | "alg" | "use"))
        {
            if jwk.get(name).is_some_and(|given| given != value) {
                return Err(KeyRejection::InvalidMember("public part"));
            }
        }
        Ok(key)
    }

    /// The `kty`/`crv` of this key.
    pub fn kind(&self) -> KeyKind {
        match &self.material {
            PrivateMaterial::Oct(_) => KeyKind::Oct,
            PrivateMaterial::Rsa(_) => KeyKind::Rsa,
            PrivateMaterial::P256(_) => KeyKind::P256,
            PrivateMaterial::P384(_) => KeyKind::P384,
            PrivateMaterial::P521(_) => KeyKind::P521,
            PrivateMaterial::Secp256k1(_) => KeyKind::Secp256k1,
            PrivateMaterial::Ed25519(_) => KeyKind::Ed25519,
        }
    }

    /// The public JWK (`kty`, key members, `kid`, `alg`, `use: sig`). For a symmetric key
    /// there is no public part: this returns an error rather than the secret.
    pub fn public_jwk(&self) -> Result<Map<String, Value>, Error> {
        if self.kind() == KeyKind::Oct {
            return Err(Error::KeyMismatch);
        }
        let mut jwk = self.public_members();
        if let Some(kid) = &self.kid {
            jwk.insert("kid".into(), json!(kid));
        }
        if let Some(alg) = self.alg {
            jwk.insert("alg".into(), json!(alg.name()));
        }
        jwk.insert("use".into(), json!("sig"));
        Ok(jwk)
    }

    /// The private JWK: the public JWK plus the private members.
    pub fn private_jwk(&self) -> Map<String, Value> {
        let mut jwk = self.public_jwk().unwrap_or_else(|_| {
            let mut m = Map::new();
            m.insert("kty".into(), json!("oct"));
            if let Some(kid) = &self.kid {
                m.insert("kid".into(), json!(kid));
            }
            if let Some(alg) = self.alg {
                m.insert("alg".into(), json!(alg.name()));
            }
            m
        });
        let mut put = |name: &str, bytes: &[u8]| {
            jwk.insert(name.into(), json!(base64url_encode(bytes)));
        };
        match &self.material {
            PrivateMaterial::Oct(secret) => put("k", secret),
            PrivateMaterial::Rsa(key) => {
                put("d", &key.d().to_bytes_be());
                if let [p, q] = key.primes() {
                    put("p", &p.to_bytes_be());
                    put("q", &q.to_bytes_be());
                }
                if let (Some(dp), Some(dq), Some(qi)) = (key.dp(), key.dq(), key.crt_coefficient())
                {
                    put("dp", &dp.to_bytes_be());
                    put("dq", &dq.to_bytes_be());
                    put("qi", &qi.to_bytes_be());
                }
            }
            PrivateMaterial::P256(k) => put("d", &k.to_bytes()),
            PrivateMaterial::P384(k) => put("d", &k.to_bytes()),
            PrivateMaterial::P521(k) => put("d", &k.to_bytes()),
            PrivateMaterial::Secp256k1(k) => put("d", &k.to_bytes()),
            PrivateMaterial::Ed25519(k) => put("d", k.as_bytes()),
        }
        jwk
    }

    /// `kty` and the public key members only (what RFC 7638 hashes, and more).
    fn public_members(&self) -> Map<String, Value> {
        fn ec(crv: &str, point: &[u8], len: usize) -> Map<String, Value> {
            // Uncompressed SEC1: 0x04 ‖ x ‖ y.
            let (x, y) = point
                .get(1..)
                .and_then(|xy| xy.split_at_checked(len))
                .unwrap_or_default();
            let mut m = Map::new();
            m.insert("kty".into(), json!("EC"));
            m.insert("crv".into(), json!(crv));
            m.insert("x".into(), json!(base64url_encode(x)));
            m.insert("y".into(), json!(base64url_encode(y)));
            m
        }
        match &self.material {
            PrivateMaterial::Oct(secret) => {
                let mut m = Map::new();
                m.insert("kty".into(), json!("oct"));
                m.insert("k".into(), json!(base64url_encode(secret)));
                m
            }
            PrivateMaterial::Rsa(key) => {
                let mut m = Map::new();
                m.insert("kty".into(), json!("RSA"));
                m.insert("n".into(), json!(base64url_encode(&key.n().to_bytes_be())));
                m.insert("e".into(), json!(base64url_encode(&key.e().to_bytes_be())));
                m
            }
            PrivateMaterial::P256(k) => ec(
                "P-256",
                k.verifying_key().to_encoded_point(false).as_bytes(),
                32,
            ),
            PrivateMaterial::P384(k) => ec(
                "P-384",
                k.verifying_key().to_encoded_point(false).as_bytes(),
                48,
            ),
            PrivateMaterial::P521(k) => ec(
                "P-521",
                p521::ecdsa::VerifyingKey::from(k)
                    .to_encoded_point(false)
                    .as_bytes(),
                66,
            ),
            PrivateMaterial::Secp256k1(k) => ec(
                "secp256k1",
                k.verifying_key().to_encoded_point(false).as_bytes(),
                32,
            ),
            PrivateMaterial::Ed25519(k) => {
                let mut m = Map::new();
                m.insert("kty".into(), json!("OKP"));
                m.insert("crv".into(), json!("Ed25519"));
                m.insert(
                    "x".into(),
                    json!(base64url_encode(k.verifying_key().as_bytes())),
                );
                m
            }
        }
    }

    /// The algorithm a token is signed with: `alg` when given (it must fit the key),
    /// else the key's own `alg`, else the natural one for its curve.
    pub fn algorithm(&self, requested: Option<Algorithm>) -> Result<Algorithm, Error> {
        let alg = match (requested, self.alg) {
            (Some(r), Some(own)) if r != own => return Err(Error::KeyMismatch),
            (Some(r), _) | (None, Some(r)) => r,
            (None, None) => match self.kind() {
                KeyKind::Oct => Algorithm::Hs256,
                KeyKind::Rsa => Algorithm::Rs256,
                KeyKind::P256 => Algorithm::Es256,
                KeyKind::P384 => Algorithm::Es384,
                KeyKind::P521 => Algorithm::Es512,
                KeyKind::Secp256k1 => Algorithm::Es256k,
                KeyKind::Ed25519 => Algorithm::EdDsa,
            },
        };
        if alg.key_kind() != self.kind() {
            return Err(Error::KeyMismatch);
        }
        if let PrivateMaterial::Oct(secret) = &self.material {
            if secret.len() < alg.min_secret_len() {
                return Err(Error::KeyMismatch);
            }
        }
        Ok(alg)
    }

    /// Signs `claims` as a JWS compact token. The header holds `alg`, the key's `kid`
    /// when it has one, `typ: "JWT"` and any `extra_header` members.
    pub fn sign(
        &self,
        alg: Option<Algorithm>,
        extra_header: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<String, Error> {
        let alg = self.algorithm(alg)?;
        compact_jws(alg, self.kid.as_deref(), extra_header, claims, |message| {
            self.signature(alg, message)
        })
    }

    fn signature(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(match (&self.material, alg) {
            (PrivateMaterial::Oct(s), _) => hmac(alg, s, message)?,
            (PrivateMaterial::Rsa(key), _) => {
                let rsa: Rsa = alg.name().parse().map_err(|_| Error::KeyMismatch)?;
                sign_with(&rsa, key, message)
            }
            (PrivateMaterial::P256(k), Algorithm::Es256) => sign_with(&Es256, k, message),
            // R‖S with deterministic nonces (RFC 6979), as jwt-compact signs ES256.
            (PrivateMaterial::P384(k), Algorithm::Es384) => {
                let signature: p384::ecdsa::Signature = k.sign(message);
                signature.to_vec()
            }
            (PrivateMaterial::P521(k), Algorithm::Es512) => {
                let signature: p521::ecdsa::Signature = k.sign(message);
                signature.to_vec()
            }
            (PrivateMaterial::Secp256k1(k), Algorithm::Es256k) => {
                sign_with(&Es256k::<sha2::Sha256>::default(), k, message)
            }
            (PrivateMaterial::Ed25519(k), Algorithm::EdDsa | Algorithm::Ed25519) => {
                ed25519_sign(k, message)
            }
            _ => return Err(Error::KeyMismatch),
        })
    }
}

// The pieces below are shared with the assertion signer (`crate::assertion`), which
// holds only Ed25519 and HMAC keys so that the worker does not link RSA or EC signing.

/// A private JWK's `alg` and `kid`, both optional.
pub(crate) fn alg_and_kid(
    jwk: &Map<String, Value>,
) -> Result<(Option<Algorithm>, Option<String>), KeyRejection> {
    let alg = match jwk.get("alg") {
        None => None,
        Some(Value::String(a)) => Some(
            a.parse::<Algorithm>()
                .map_err(|_| KeyRejection::InvalidMember("alg"))?,
        ),
        Some(_) => return Err(KeyRejection::InvalidMember("alg")),
    };
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(k)) if k.len() <= crate::keys::jwk::MAX_KID_BYTES => Some(k.clone()),
        Some(_) => return Err(KeyRejection::InvalidMember("kid")),
    };
    Ok((alg, kid))
}

fn member_bytes(jwk: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyRejection> {
    jwk.get(name)
        .and_then(Value::as_str)
        .and_then(|t| base64url_decode(t).ok())
        .ok_or(KeyRejection::InvalidMember(name))
}

/// An `oct` JWK's secret (`k`), refused under 32 bytes.
pub(crate) fn oct_secret(jwk: &Map<String, Value>) -> Result<Zeroizing<Vec<u8>>, KeyRejection> {
    let secret = Zeroizing::new(member_bytes(jwk, "k")?);
    if secret.len() < 32 {
        return Err(KeyRejection::WeakKey);
    }
    Ok(secret)
}

/// An `OKP` JWK's Ed25519 private key (`d`, RFC 8037 §2); `x`, when given, must be its
/// public key.
pub(crate) fn ed25519_key(
    jwk: &Map<String, Value>,
) -> Result<ed25519_dalek::SigningKey, KeyRejection> {
    if jwk.get("crv").and_then(Value::as_str) != Some("Ed25519") {
        return Err(KeyRejection::UnsupportedCurve);
    }
    let d = Zeroizing::new(member_bytes(jwk, "d")?);
    let seed = Zeroizing::new(
        <[u8; 32]>::try_from(d.as_slice()).map_err(|_| KeyRejection::InvalidMember("d"))?,
    );
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    if jwk.contains_key("x") && member_bytes(jwk, "x")? != key.verifying_key().as_bytes() {
        return Err(KeyRejection::InvalidMember("public part"));
    }
    Ok(key)
}

/// An HMAC tag (HS256/HS384/HS512) over `message`.
pub(crate) fn hmac(alg: Algorithm, secret: &[u8], message: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match alg {
        Algorithm::Hs256 => sign_with(&Hs256, &Hs256Key::new(secret), message),
        Algorithm::Hs384 => sign_with(&Hs384, &Hs384Key::new(secret), message),
        Algorithm::Hs512 => sign_with(&Hs512, &Hs512Key::new(secret), message),
        _ => return Err(Error::KeyMismatch),
    })
}

/// Ed25519 (RFC 8037) over `message`.
pub(crate) fn ed25519_sign(key: &ed25519_dalek::SigningKey, message: &[u8]) -> Vec<u8> {
    sign_with(&Ed25519, key, message)
}

/// A JWS in compact form: the header holds `alg`, `kid` when given, `typ: "JWT"` and the
/// `extra_header` members (which may replace `typ`, never `alg`); `sign` makes the
/// signature over the signing input.
pub(crate) fn compact_jws(
    alg: Algorithm,
    kid: Option<&str>,
    extra_header: &Map<String, Value>,
    claims: &Map<String, Value>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, Error>,
) -> Result<String, Error> {
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg.name()));
    if let Some(kid) = kid {
        header.insert("kid".into(), json!(kid));
    }
    header.insert("typ".into(), json!("JWT"));
    for (name, value) in extra_header {
        if name != "alg" {
            header.insert(name.clone(), value.clone());
        }
    }
    let input = format!(
        "{}.{}",
        base64url_encode(Value::Object(header).to_string().as_bytes()),
        base64url_encode(Value::Object(claims.clone()).to_string().as_bytes())
    );
    let signature = sign(input.as_bytes())?;
    Ok(format!("{input}.{}", base64url_encode(&signature)))
}

fn sign_with<A: JwtAlgorithm>(alg: &A, key: &A::SigningKey, message: &[u8]) -> Vec<u8> {
    alg.sign(key, message).as_bytes().into_owned()
}
