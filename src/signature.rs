//! Signature checks: one dispatch from (algorithm, imported key) to its verifier. RSA
//! (`rsa_public`) and ES256/ES384 (`ec_verify`) are this crate's own; HMAC, ES512,
//! ES256K and EdDSA go through `jwt_compact::Algorithm`. The ES384 and ES512
//! `jwt_compact::Algorithm` types below, which jwt-compact lacks, verify ES512 and
//! sign ES384/ES512 (`signing`).

use core::num::NonZeroUsize;
use std::borrow::Cow;

use jwt_compact::alg::{Ed25519, Es256k, Hs256, Hs256Key, Hs384, Hs384Key, Hs512, Hs512Key};
use jwt_compact::{Algorithm as JwtAlgorithm, AlgorithmSignature};

use crate::alg::Algorithm;
use crate::jwk::{Jwk, KeyMaterial};
use crate::rsa_public::RsaHash;

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
            rsa.verify_pkcs1v15(RsaHash::Sha256, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Rs384) => {
            rsa.verify_pkcs1v15(RsaHash::Sha384, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Rs512) => {
            rsa.verify_pkcs1v15(RsaHash::Sha512, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Ps256) => {
            rsa.verify_pss(RsaHash::Sha256, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Ps384) => {
            rsa.verify_pss(RsaHash::Sha384, message, signature)
        }
        (KeyMaterial::Rsa(rsa), Algorithm::Ps512) => {
            rsa.verify_pss(RsaHash::Sha512, message, signature)
        }
        (KeyMaterial::P256(key), Algorithm::Es256) => key.verify(message, signature),
        (KeyMaterial::P384(key), Algorithm::Es384) => key.verify(message, signature),
        (KeyMaterial::P521(vk), Algorithm::Es512) => check(&Es512, vk, message, signature),
        (KeyMaterial::Secp256k1(vk), Algorithm::Es256k) => {
            check(&Es256k::<sha2::Sha256>::default(), vk, message, signature)
        }
        (KeyMaterial::Ed25519(vk), Algorithm::EdDsa | Algorithm::Ed25519) => {
            check(&Ed25519, vk, message, signature)
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

macro_rules! ecdsa_algorithm {
    ($(#[$doc:meta])* $alg:ident, $sig:ident, $curve:ident, $name:literal, $len:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub(crate) struct $alg;

        /// A fixed-length `R‖S` signature whose scalars are both in `[1, n−1]`.
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct $sig($curve::ecdsa::Signature);

        impl AlgorithmSignature for $sig {
            const LENGTH: Option<NonZeroUsize> = NonZeroUsize::new($len);

            fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
                // `from_slice` checks the length and that r and s are non-zero scalars
                // below the group order.
                $curve::ecdsa::Signature::from_slice(slice)
                    .map($sig)
                    .map_err(anyhow::Error::from)
            }

            fn as_bytes(&self) -> Cow<'_, [u8]> {
                Cow::Owned(self.0.to_vec())
            }
        }

        impl JwtAlgorithm for $alg {
            type SigningKey = $curve::ecdsa::SigningKey;
            type VerifyingKey = $curve::ecdsa::VerifyingKey;
            type Signature = $sig;

            fn name(&self) -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn sign(&self, key: &Self::SigningKey, message: &[u8]) -> Self::Signature {
                use $curve::ecdsa::signature::Signer as _;
                $sig(key.sign(message))
            }

            fn verify_signature(&self, sig: &Self::Signature, key: &Self::VerifyingKey, message: &[u8]) -> bool {
                use $curve::ecdsa::signature::Verifier;
                key.verify(message, &sig.0).is_ok()
            }
        }
    };
}

ecdsa_algorithm!(
    /// `ES384`: ECDSA on P-384 with SHA-384 (RFC 7518 §3.4).
    Es384, Es384Signature, p384, "ES384", 96
);
ecdsa_algorithm!(
    /// `ES512`: ECDSA on P-521 with SHA-512 (RFC 7518 §3.4).
    Es512, Es512Signature, p521, "ES512", 132
);
