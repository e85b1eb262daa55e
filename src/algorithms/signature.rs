//! Signature checks: one dispatch from (algorithm, imported key) to the code that
//! verifies it: jwt-compact's `Algorithm`s (HMAC, ES256K, EdDSA), the `p521` crate
//! (ES512), and jwt-edge's own RSA (`rsa_emsa`) and ECDSA (`ec`).

use jwt_compact::alg::{Es256k, Hs256, Hs256Key, Hs384, Hs384Key, Hs512, Hs512Key};
use jwt_compact::{Algorithm as JwtAlgorithm, AlgorithmSignature};
use p521::ecdsa::signature::Verifier as _;

use crate::algorithms::alg::Algorithm;
use crate::algorithms::rsa_emsa::{verify_pkcs1v15, verify_pss, RsaHash};
use crate::keys::jwk::{Jwk, KeyMaterial};

/// Verifies `signature` over `message` with `key` for `alg`.
///
/// Returns `false`, never panics, for any mismatch: a key of another kind, a signature
/// of the wrong length (RFC 7518 §3.4: ECDSA signatures are exactly `R‖S`, so DER is
/// refused), `r` or `s` outside `[1, n−1]`, or a bad signature.
pub(crate) fn verify(alg: Algorithm, key: &Jwk, message: &[u8], signature: &[u8]) -> bool {
    if !key.fits(alg) {
        return false;
    }
    match (&key.material, alg) {
        (KeyMaterial::Oct(secret), Algorithm::Hs256) => check(
            &Hs256,
            &Hs256Key::new(secret.as_slice()),
            message,
            signature,
        ),
        (KeyMaterial::Oct(secret), Algorithm::Hs384) => check(
            &Hs384,
            &Hs384Key::new(secret.as_slice()),
            message,
            signature,
        ),
        (KeyMaterial::Oct(secret), Algorithm::Hs512) => check(
            &Hs512,
            &Hs512Key::new(secret.as_slice()),
            message,
            signature,
        ),
        // RFC 8017 §8.2.2 / §8.1.2 step 1 (exactly k octets, below n) is in public_op.
        (KeyMaterial::Rsa(rsa), Algorithm::Rs256) => {
            verify_pkcs1v15(rsa, RsaHash::Sha256, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Rs384) => {
            verify_pkcs1v15(rsa, RsaHash::Sha384, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Rs512) => {
            verify_pkcs1v15(rsa, RsaHash::Sha512, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Ps256) => {
            verify_pss(rsa, RsaHash::Sha256, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Ps384) => {
            verify_pss(rsa, RsaHash::Sha384, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Ps512) => {
            verify_pss(rsa, RsaHash::Sha512, message, signature)
        }
        (KeyMaterial::P256(key), Algorithm::Es256) => key.verify(message, signature),
        (KeyMaterial::P384(key), Algorithm::Es384) => key.verify(message, signature),
        (KeyMaterial::P521(vk), Algorithm::Es512) => {
            // Exactly R‖S; `from_slice` also refuses r or s outside [1, n − 1].
            signature.len() == 132
                && p521::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| vk.verify(message, &sig).is_ok())
        }
        (KeyMaterial::Secp256k1(vk), Algorithm::Es256k) => {
            check(&Es256k::<sha2::Sha256>::default(), vk, message, signature)
        }
        (KeyMaterial::Ed25519(key), Algorithm::EdDsa | Algorithm::Ed25519) => {
            key.verify(message, signature)
        }
        _ => false,
    }
}

fn check<A: JwtAlgorithm>(
    alg: &A,
    key: &A::VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> bool {
    if let Some(len) = <A::Signature as AlgorithmSignature>::LENGTH {
        if signature.len() != len.get() {
            return false;
        }
    }
    match A::Signature::try_from_slice(signature) {
        Ok(sig) => alg.verify_signature(&sig, key, message),
        Err(_) => false,
    }
}
