//! JWK thumbprints (RFC 7638): the default `kid` of keys jwt-edge makes.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::encoding::base64url_encode;
use crate::error::KeyRejection;

/// The RFC 7638 §3 SHA-256 thumbprint of a JWK (public or private: only the required
/// public members are hashed), base64url-encoded.
pub fn thumbprint(jwk: &Map<String, Value>) -> Result<String, KeyRejection> {
    let required: &[&'static str] = match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("OKP") => &["crv", "kty", "x"],
        Some("oct") => &["k", "kty"],
        _ => return Err(KeyRejection::UnsupportedKeyType),
    };
    // RFC 7638 §3.2: required members only, lexicographic order, no whitespace.
    // `Map` is ordered by key, and the list above is already sorted.
    let mut members = Map::new();
    for name in required {
        let value = jwk
            .get(*name)
            .and_then(Value::as_str)
            .ok_or(KeyRejection::InvalidMember(name))?;
        members.insert((*name).to_owned(), Value::String(value.to_owned()));
    }
    let canonical = Value::Object(members).to_string();
    Ok(base64url_encode(&Sha256::digest(canonical.as_bytes())))
}
