//! `import-pem`: RSA, EC and Ed25519 keys in PEM (SPKI, PKCS#1, PKCS#8, SEC1), as
//! `openssl genpkey`, `openssl genrsa`, `openssl ec` and `openssl pkey -pubout` write
//! them, into JWKs. The result is checked by importing it through the core.

use clap::Args;
use jwt_edge::{thumbprint, Algorithm, JwkSet, JwksOptions, SigningKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use serde_json::{json, Map, Value};

use crate::files::{json_line, read_input};
use crate::token_cmd::parse_alg;
use crate::{CliResult, Failure};

#[derive(Args)]
pub struct ImportArgs {
    /// PEM file, or - for stdin.
    file: String,
    /// Key ID. Default: the RFC 7638 thumbprint.
    #[arg(long, allow_hyphen_values = true)]
    kid: Option<String>,
    /// Pin the key to one algorithm (`alg` member).
    #[arg(long, value_parser = parse_alg)]
    alg: Option<Algorithm>,
    /// Print the private JWK (from a private PEM) instead of the public one.
    #[arg(long)]
    private: bool,
}

fn b64(bytes: &[u8]) -> Value {
    use base64ct::{Base64UrlUnpadded, Encoding};
    json!(Base64UrlUnpadded::encode_string(bytes))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn rsa_public(key: &rsa::RsaPublicKey) -> Map<String, Value> {
    object(
        json!({"kty": "RSA", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())}),
    )
}

fn rsa_private(key: &rsa::RsaPrivateKey) -> Map<String, Value> {
    let mut jwk = rsa_public(&key.to_public_key());
    jwk.insert("d".into(), b64(&key.d().to_bytes_be()));
    if let [p, q] = key.primes() {
        jwk.insert("p".into(), b64(&p.to_bytes_be()));
        jwk.insert("q".into(), b64(&q.to_bytes_be()));
    }
    jwk
}

fn ec_public(crv: &str, sec1_uncompressed: &[u8], len: usize) -> Map<String, Value> {
    let (x, y) = sec1_uncompressed
        .get(1..)
        .and_then(|xy| xy.split_at_checked(len))
        .unwrap_or_default();
    object(json!({"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)}))
}

macro_rules! ec_try {
    ($curve:ident, $crv:literal, $len:literal, $pem:expr, $private:expr) => {{
        use $curve::elliptic_curve::sec1::ToEncodedPoint;
        use $curve::pkcs8::{DecodePrivateKey, DecodePublicKey};
        if $private {
            let secret = $curve::SecretKey::from_pkcs8_pem($pem)
                .or_else(|_| $curve::SecretKey::from_sec1_pem($pem));
            if let Ok(secret) = secret {
                let point = secret.public_key().to_encoded_point(false);
                let mut jwk = ec_public($crv, point.as_bytes(), $len);
                jwk.insert("d".into(), b64(&secret.to_bytes()));
                return Some((jwk, true));
            }
        } else if let Ok(public) = $curve::PublicKey::from_public_key_pem($pem) {
            return Some((
                ec_public($crv, public.to_encoded_point(false).as_bytes(), $len),
                false,
            ));
        }
    }};
}

/// The JWK members of a PEM key, and whether it is private.
fn parse_pem(pem: &str) -> Option<(Map<String, Value>, bool)> {
    use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
    use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
    use rsa::{RsaPrivateKey, RsaPublicKey};

    let label = pem
        .lines()
        .find_map(|l| l.trim().strip_prefix("-----BEGIN ")?.strip_suffix("-----"))?;
    match label {
        "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_pem(pem)
            .ok()
            .map(|k| (rsa_public(&k), false)),
        "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_pem(pem)
            .ok()
            .map(|k| (rsa_private(&k), true)),
        "PUBLIC KEY" => {
            if let Ok(k) = RsaPublicKey::from_public_key_pem(pem) {
                return Some((rsa_public(&k), false));
            }
            if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
                return Some((
                    object(json!({"kty": "OKP", "crv": "Ed25519", "x": b64(k.as_bytes())})),
                    false,
                ));
            }
            ec_try!(p256, "P-256", 32, pem, false);
            ec_try!(p384, "P-384", 48, pem, false);
            ec_try!(p521, "P-521", 66, pem, false);
            ec_try!(k256, "secp256k1", 32, pem, false);
            None
        }
        "PRIVATE KEY" | "EC PRIVATE KEY" => {
            if label == "PRIVATE KEY" {
                if let Ok(k) = RsaPrivateKey::from_pkcs8_pem(pem) {
                    return Some((rsa_private(&k), true));
                }
                if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
                    let jwk = json!({"kty": "OKP", "crv": "Ed25519",
                                     "x": b64(k.verifying_key().as_bytes()), "d": b64(k.as_bytes())});
                    return Some((object(jwk), true));
                }
            }
            ec_try!(p256, "P-256", 32, pem, true);
            ec_try!(p384, "P-384", 48, pem, true);
            ec_try!(p521, "P-521", 66, pem, true);
            ec_try!(k256, "secp256k1", 32, pem, true);
            None
        }
        _ => None,
    }
}

pub fn import(args: ImportArgs) -> CliResult {
    let bytes = read_input(&args.file)?;
    let pem = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::new(format!("{} is not PEM text", args.file)))?;
    let (members, is_private) = parse_pem(pem).ok_or_else(|| {
        Failure::new(format!(
            "{}: not an RSA, EC (P-256, P-384, P-521, secp256k1) or Ed25519 key in SPKI, PKCS#1, PKCS#8 or SEC1 PEM",
            args.file
        ))
    })?;
    let kid = match args.kid {
        Some(kid) => kid,
        None => thumbprint(&members)
            .map_err(|why| Failure::new(format!("cannot compute the thumbprint: {why}")))?,
    };
    let jwk = if is_private {
        let mut key = SigningKey::from_jwk(&members)
            .map_err(|why| Failure::new(format!("key refused: {why}")))?;
        key.kid = Some(kid);
        if let Some(alg) = args.alg {
            key.algorithm(Some(alg))?;
            key.alg = Some(alg);
        }
        if args.private {
            key.private_jwk()
        } else {
            key.public_jwk()?
        }
    } else {
        if args.private {
            return Err(Failure::new(format!(
                "{} holds a public key; --private needs a private one",
                args.file
            )));
        }
        let mut jwk = members;
        jwk.insert("kid".into(), json!(kid));
        if let Some(alg) = args.alg {
            jwk.insert("alg".into(), json!(alg.name()));
        }
        jwk.insert("use".into(), json!("sig"));
        // The core decides whether the key is usable (size, curve point, weak keys).
        let doc = json!({ "keys": [jwk.clone()] }).to_string();
        let set = JwkSet::parse(doc.as_bytes(), &JwksOptions::default())?;
        if let Some(skipped) = set.skipped().first() {
            return Err(Failure::new(format!("key refused: {}", skipped.reason)));
        }
        jwk
    };
    print!("{}", json_line(&Value::Object(jwk)));
    Ok(())
}
