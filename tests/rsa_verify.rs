//! jwt-edge's own RSA verification (src/algorithms/rsa_public.rs) against an independent
//! reference: the `rsa` crate through jwt-compact, on every RS/PS algorithm, keys of
//! 2048, 2049 (the PSS encoding is one octet shorter than the modulus), 2052, 3072 and
//! 4096 bits and e = 3. Both must accept every genuine signature and agree on every
//! forged or mutated one. Keys and messages come from fixed seeds.

mod common;

use common::b64;
use jwt_compact::alg::Rsa;
use jwt_compact::{Algorithm as _, AlgorithmSignature as _};
use jwt_edge::{Algorithm, JwkSet, JwksOptions, Verifier, VerifyOptions};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pss, RsaPrivateKey};
use serde_json::json;

const ALGORITHMS: [(Algorithm, fn() -> Rsa); 6] = [
    (Algorithm::Rs256, Rsa::rs256),
    (Algorithm::Rs384, Rsa::rs384),
    (Algorithm::Rs512, Rsa::rs512),
    (Algorithm::Ps256, Rsa::ps256),
    (Algorithm::Ps384, Rsa::ps384),
    (Algorithm::Ps512, Rsa::ps512),
];

struct Case {
    key: RsaPrivateKey,
    verifiers: Vec<Verifier>,
}

fn case(bits: usize, exponent: u32, seed: u64) -> Case {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let key = RsaPrivateKey::new_with_exp(&mut rng, bits, &BigUint::from(exponent)).unwrap();
    let jwk =
        json!({"kty": "RSA", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())});
    let document = json!({ "keys": [jwk] }).to_string();
    let options = JwksOptions {
        min_rsa_bits: 2048,
        ..JwksOptions::default()
    };
    let verifiers = ALGORITHMS
        .iter()
        .map(|(alg, _)| {
            let keys = JwkSet::parse(document.as_bytes(), &options).unwrap();
            assert_eq!(keys.keys().len(), 1, "{bits}-bit key imported");
            let options = VerifyOptions {
                algorithms: vec![*alg],
                ..VerifyOptions::default()
            };
            Verifier::new(keys, options).unwrap()
        })
        .collect();
    Case { key, verifiers }
}

fn signing_input(alg: Algorithm, payload: &[u8]) -> String {
    format!(
        "{}.{}",
        b64(json!({"alg": alg.name()}).to_string().as_bytes()),
        b64(payload)
    )
}

/// (ours, reference) for one signature over `input`.
fn both(case: &Case, index: usize, input: &str, signature: &[u8]) -> (bool, bool) {
    let token = format!("{input}.{}", b64(signature));
    let ours = case.verifiers[index].verify_signature(&token).is_ok();
    let reference = (ALGORITHMS[index].1)();
    let public = case.key.to_public_key();
    let reference = signature.len() == public.size()
        && <Rsa as jwt_compact::Algorithm>::Signature::try_from_slice(signature)
            .map(|sig| reference.verify_signature(&sig, &public, input.as_bytes()))
            .unwrap_or(false);
    (ours, reference)
}

fn check_key(bits: usize, exponent: u32, seed: u64, messages: usize) {
    let case = case(bits, exponent, seed);
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5eed);
    let k = case.key.size();
    for (index, (alg, reference)) in ALGORITHMS.iter().enumerate() {
        for m in 0..messages {
            let mut payload = vec![0u8; (rng.next_u32() % 200) as usize];
            rng.fill_bytes(&mut payload);
            let input = signing_input(*alg, &payload);
            let signature = reference()
                .sign(&case.key, input.as_bytes())
                .as_bytes()
                .into_owned();
            let label = format!("{bits}-bit e={exponent} {} message {m}", alg.name());
            assert_eq!(
                both(&case, index, &input, &signature),
                (true, true),
                "{label}: genuine"
            );
            // One flipped bit anywhere in the signature, or in the signed input.
            let mut flipped = signature.clone();
            let bit = rng.next_u32() as usize % (8 * flipped.len());
            flipped[bit / 8] ^= 1 << (bit % 8);
            let (ours, theirs) = both(&case, index, &input, &flipped);
            assert!(!ours && ours == theirs, "{label}: signature bit {bit}");
            let mut other = input.clone().into_bytes();
            let at = rng.next_u32() as usize % other.len();
            other[at] = if other[at] == b'A' { b'B' } else { b'A' };
            let other = String::from_utf8(other).unwrap();
            assert_eq!(
                both(&case, index, &other, &signature),
                (false, false),
                "{label}: input byte {at}"
            );
            // Random integers of the right length: agree (both refuse).
            let mut random = vec![0u8; k];
            rng.fill_bytes(&mut random);
            let (ours, theirs) = both(&case, index, &input, &random);
            assert!(!ours && ours == theirs, "{label}: random signature");
        }
        // Out of range or of the wrong length (RFC 8017 §5.2.2 step 1, §8.2.2 step 1).
        let input = signing_input(*alg, b"{}");
        let n = case.key.n().to_bytes_be();
        let n_plus_1 = (case.key.n() + BigUint::from(1u8)).to_bytes_be();
        let signature = reference()
            .sign(&case.key, input.as_bytes())
            .as_bytes()
            .into_owned();
        // s + n is the same residue: refused when it fits in k octets (malleability).
        let plus_n = (BigUint::from_bytes_be(&signature) + case.key.n()).to_bytes_be();
        if plus_n.len() == k {
            let token = format!("{input}.{}", b64(&plus_n));
            assert!(
                case.verifiers[index].verify_signature(&token).is_err(),
                "{bits}-bit {}: s + n",
                alg.name()
            );
        }
        let mut longer = vec![0u8];
        longer.extend_from_slice(&signature);
        for (what, sig) in [
            ("n", n.clone()),
            ("n + 1", n_plus_1),
            ("all ones", vec![0xff; k]),
            ("zero", vec![0; k]),
            ("one", {
                let mut one = vec![0; k];
                one[k - 1] = 1;
                one
            }),
            ("a leading zero octet more", longer),
            ("one octet short", signature[1..].to_vec()),
            ("empty", Vec::new()),
        ] {
            let token = format!("{input}.{}", b64(&sig));
            assert!(
                case.verifiers[index].verify_signature(&token).is_err(),
                "{bits}-bit {}: {what}",
                alg.name()
            );
        }
    }
}

#[test]
fn genuine_signatures_verify_and_mutations_are_refused_like_the_reference() {
    check_key(2048, 65537, 1, 12);
    check_key(2049, 65537, 2, 6);
    check_key(2052, 65537, 3, 6);
    check_key(3072, 65537, 4, 4);
    check_key(2048, 3, 5, 4);
}

#[test]
fn a_4096_bit_key_verifies() {
    check_key(4096, 65537, 6, 2);
}

#[test]
fn pss_salts_other_than_the_hash_length_are_refused() {
    // RFC 7518 §3.5: the salt is as long as the hash output. jose/WebCrypto agree.
    let case = case(2048, 65537, 7);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let input = signing_input(Algorithm::Ps256, b"{\"sub\":\"x\"}");
    let hashed = <sha2::Sha256 as sha2::Digest>::digest(input.as_bytes());
    for salt in [0usize, 20, 31, 33, 64] {
        let sig = case
            .key
            .sign_with_rng(&mut rng, Pss::new_with_salt::<sha2::Sha256>(salt), &hashed)
            .unwrap();
        let token = format!("{input}.{}", b64(&sig));
        assert!(
            case.verifiers[3].verify_signature(&token).is_err(),
            "salt {salt}"
        );
    }
    let sig = case
        .key
        .sign_with_rng(&mut rng, Pss::new_with_salt::<sha2::Sha256>(32), &hashed)
        .unwrap();
    let token = format!("{input}.{}", b64(&sig));
    assert!(
        case.verifiers[3].verify_signature(&token).is_ok(),
        "salt 32"
    );
}

#[test]
fn keys_that_are_not_rsa_keys_are_refused() {
    let n = b64(&[0xc5; 256]);
    for (jwk, reason) in [
        (
            json!({"kty": "RSA", "n": b64(&[0xc4; 256]), "e": "AQAB"}),
            "rsa_unsupported",
        ), // even n
        (json!({"kty": "RSA", "n": n, "e": "AQ"}), "rsa_unsupported"), // e = 1
        (json!({"kty": "RSA", "n": n, "e": "Ag"}), "rsa_unsupported"), // e = 2
        (
            json!({"kty": "RSA", "n": n, "e": "AQAA"}),
            "rsa_unsupported",
        ), // e even
        (
            json!({"kty": "RSA", "n": n, "e": b64(&[2, 0, 0, 0, 1])}),
            "rsa_unsupported",
        ), // e > 2^33 − 1
        (
            json!({"kty": "RSA", "n": n, "e": "AAEAAQ"}),
            "invalid_member",
        ), // leading zero
        (
            json!({"kty": "RSA", "n": b64(&[0xc5; 255]), "e": "AQAB"}),
            "rsa_too_small",
        ), // 2040 bits
        (
            json!({"kty": "RSA", "n": b64(&[0xc5; 513]), "e": "AQAB"}),
            "rsa_unsupported",
        ), // 4104 bits
    ] {
        let set = JwkSet::parse(
            json!({ "keys": [jwk] }).to_string().as_bytes(),
            &JwksOptions::default(),
        )
        .unwrap();
        assert!(set.keys().is_empty(), "{jwk}");
        assert_eq!(set.skipped()[0].reason.code(), reason, "{jwk}");
    }
}

/// MGF1 with SHA-256 (RFC 8017 §B.2.1), written again here to craft encodings.
fn mgf1_sha256(seed: &[u8], len: usize) -> Vec<u8> {
    use sha2::Digest;
    let mut out = Vec::new();
    for counter in 0u32.. {
        if out.len() >= len {
            break;
        }
        out.extend_from_slice(
            &sha2::Sha256::new()
                .chain_update(seed)
                .chain_update(counter.to_be_bytes())
                .finalize(),
        );
    }
    out.truncate(len);
    out
}

/// A PS256 encoding of `input` (RFC 8017 §9.1.1), changed by `tweak(em, db)` before and
/// after masking, "signed" with the private exponent.
fn crafted_ps256(
    key: &RsaPrivateKey,
    input: &str,
    tweak: impl Fn(&mut Vec<u8>, &mut Vec<u8>),
) -> Vec<u8> {
    use rsa::traits::PrivateKeyParts;
    use sha2::Digest;
    let em_bits = key.n().bits() - 1;
    let em_len = em_bits.div_ceil(8);
    let salt = [0x5au8; 32];
    let m_hash = sha2::Sha256::digest(input.as_bytes());
    let h = sha2::Sha256::new()
        .chain_update([0u8; 8])
        .chain_update(m_hash)
        .chain_update(salt)
        .finalize();
    let mut db = vec![0u8; em_len - 32 - 32 - 2];
    db.push(0x01);
    db.extend_from_slice(&salt);
    let mut em = Vec::new();
    tweak(&mut em, &mut db);
    let mask = mgf1_sha256(&h, db.len());
    let mut masked: Vec<u8> = db.iter().zip(&mask).map(|(d, m)| d ^ m).collect();
    masked[0] &= 0xff >> (8 * em_len - em_bits);
    let mut encoded = masked;
    encoded.extend_from_slice(&h);
    encoded.push(0xbc);
    tweak(&mut encoded, &mut Vec::new());
    let k = key.size();
    let mut full = vec![0u8; k - encoded.len()];
    full.extend_from_slice(&encoded);
    let m = BigUint::from_bytes_be(&full);
    let s = m.modpow(key.d(), key.n()).to_bytes_be();
    let mut sig = vec![0u8; k - s.len()];
    sig.extend_from_slice(&s);
    sig
}

#[test]
fn pss_encodings_that_break_the_format_are_refused_even_with_the_right_hash() {
    for (bits, seed) in [(2048, 11), (2049, 12)] {
        let case = case(bits, 65537, seed);
        let input = signing_input(Algorithm::Ps256, b"{\"sub\":\"x\"}");
        let verify = |sig: Vec<u8>| {
            case.verifiers[3]
                .verify_signature(&format!("{input}.{}", b64(&sig)))
                .is_ok()
        };
        assert!(
            verify(crafted_ps256(&case.key, &input, |_, _| {})),
            "{bits}: the crafted encoding is valid"
        );
        // The trailer octet is not 0xbc.
        assert!(
            !verify(crafted_ps256(&case.key, &input, |em, _| {
                if let Some(last) = em.last_mut() {
                    *last = 0xbd;
                }
            })),
            "{bits}: trailer"
        );
        // A non-zero octet in the zero padding of DB.
        assert!(
            !verify(crafted_ps256(&case.key, &input, |_, db| {
                if db.len() > 40 {
                    db[3] = 0x7f;
                }
            })),
            "{bits}: padding"
        );
        // The separator is not 0x01.
        assert!(
            !verify(crafted_ps256(&case.key, &input, |_, db| {
                if db.len() > 40 {
                    let at = db.len() - 33;
                    db[at] = 0x02;
                }
            })),
            "{bits}: separator"
        );
    }
}
