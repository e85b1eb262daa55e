//! Shared helpers for the integration tests: fixture loading, base64url, token and
//! JWK inspection (an RFC 7638 thumbprint computed here, independently of the crate),
//! temporary directories, and a test-only HS256 signer built on jwt-compact
//! (independent of the code under test, which only verifies). `cli` (feature `cli`)
//! runs the `jwt-edge` binary.
#![allow(dead_code)]

#[cfg(feature = "cli")]
pub mod cli;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{Algorithm as _, AlgorithmSignature as _};
use jwt_edge::{Algorithm, ClaimsPolicy, Jwk, JwkSet, JwksOptions, Verifier, VerifyOptions};
use serde_json::{json, Value};

/// A fixed clock for every crafted token: 2023-11-14T22:13:20Z.
pub const NOW: i64 = 1_700_000_000;

/// The HMAC secret used by crafted tokens (32 bytes).
pub const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).unwrap_or_else(|_| panic!("not base64url: {text}"))
}

/// The decoded JSON payload of a compact token (no verification).
pub fn payload_of(token: &str) -> Value {
    let segment = token.split('.').nth(1).expect("payload segment");
    serde_json::from_slice(&unb64(segment)).expect("payload JSON")
}

/// The decoded JSON header of a compact token (no verification).
pub fn header_of(token: &str) -> Value {
    let segment = token.split('.').next().expect("header segment");
    serde_json::from_slice(&unb64(segment)).expect("header JSON")
}

/// RFC 7638 §3 thumbprint (SHA-256), computed here independently of the crate: the
/// required members of the key type, in lexicographic order, no whitespace.
pub fn thumbprint_rfc7638(jwk: &Value) -> String {
    use sha2::{Digest, Sha256};
    let names: &[&str] = match jwk["kty"].as_str() {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("OKP") => &["crv", "kty", "x"],
        Some("oct") => &["k", "kty"],
        other => panic!("unexpected kty {other:?}"),
    };
    let members: Vec<String> = names
        .iter()
        .map(|n| {
            let v = jwk[*n]
                .as_str()
                .unwrap_or_else(|| panic!("member {n} missing"));
            format!("\"{n}\":\"{v}\"")
        })
        .collect();
    b64(&Sha256::digest(
        format!("{{{}}}", members.join(",")).as_bytes(),
    ))
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "jwt-edge-test-{tag}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `contents` to `name` in the directory; returns its path.
    pub fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, contents).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Signs raw header and payload bytes with HS256 over [`SECRET`].
pub fn hs256_raw(header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = Hs256.sign(&Hs256Key::new(SECRET), input.as_bytes());
    format!("{input}.{}", b64(&sig.as_bytes()))
}

/// Signs JSON header and claims with HS256 over [`SECRET`].
pub fn hs256(header: &Value, claims: &Value) -> String {
    hs256_raw(header.to_string().as_bytes(), claims.to_string().as_bytes())
}

/// Valid claims at [`NOW`].
pub fn claims() -> Value {
    json!({"iss": "https://issuer.example", "aud": "api://jwt-edge", "sub": "user-1",
           "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 300, "jti": "id-1"})
}

/// A verifier holding only the configured HS256 [`SECRET`] (kid `hs`), HS256 allowed.
pub fn hs_verifier(policy: ClaimsPolicy) -> Verifier {
    hs_verifier_with(policy, |_| {})
}

/// [`hs_verifier`] with its options changed by `change`.
pub fn hs_verifier_with(policy: ClaimsPolicy, change: impl FnOnce(&mut VerifyOptions)) -> Verifier {
    let mut keys = JwkSet::new();
    keys.push(Jwk::hmac_secret(Some("hs".into()), SECRET.to_vec(), None).expect("secret"));
    let options = VerifyOptions {
        algorithms: vec![Algorithm::Hs256],
        claims: policy,
        ..VerifyOptions::default()
    };
    let mut options = options;
    change(&mut options);
    Verifier::new(keys, options).expect("verifier")
}

pub fn hs_header() -> Value {
    json!({"alg": "HS256", "kid": "hs", "typ": "JWT"})
}

pub fn code<T: std::fmt::Debug>(r: Result<T, jwt_edge::Error>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

pub fn read_json(path: impl AsRef<Path>) -> Value {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?} is not JSON ({e}): {text}"))
}

/// The jose fixture file: `JWT_EDGE_FIXTURES` when set (fresh tokens minted by the
/// test command), the committed one otherwise.
pub fn jose_fixture() -> Value {
    let path = std::env::var("JWT_EDGE_FIXTURES").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/jose/tokens.json"
        )
        .into()
    });
    read_json(&path)
}

/// A verifier for the jose fixture: its JWKS, its HMAC secrets, every algorithm, its policy.
pub fn jose_verifier(fixture: &Value) -> Verifier {
    jose_verifier_with(fixture, |_| {})
}

/// [`jose_verifier`] with its options changed by `change` (e.g. the token cache off).
pub fn jose_verifier_with(fixture: &Value, change: impl FnOnce(&mut VerifyOptions)) -> Verifier {
    let jwks = serde_json::to_vec(&fixture["jwks"]).unwrap();
    let mut keys = JwkSet::parse(&jwks, &JwksOptions::default()).expect("fixture jwks");
    assert!(keys.skipped().is_empty(), "{:?}", keys.skipped());
    for s in fixture["secrets"].as_array().unwrap() {
        let alg: Algorithm = s["alg"].as_str().unwrap().parse().unwrap();
        let secret = unb64(s["k"].as_str().unwrap());
        keys.push(
            Jwk::hmac_secret(Some(s["kid"].as_str().unwrap().into()), secret, Some(alg)).unwrap(),
        );
    }
    let policy = &fixture["policy"];
    let options = VerifyOptions {
        algorithms: Algorithm::ALL.to_vec(),
        claims: ClaimsPolicy {
            issuers: vec![policy["issuer"].as_str().unwrap().into()],
            audiences: vec![policy["audience"].as_str().unwrap().into()],
            clock_skew: policy["clock_skew"].as_u64().unwrap(),
            ..ClaimsPolicy::default()
        },
        ..VerifyOptions::default()
    };
    let mut options = options;
    change(&mut options);
    Verifier::new(keys, options).unwrap()
}
