//! The JWS algorithms jwt-edge verifies (RFC 7518 §3, RFC 8037 §3.1, RFC 8812 §3.2,
//! RFC 9864 §2.2) and the kind of key each one needs.

use core::fmt;
use core::str::FromStr;

/// A JWS signature algorithm. `none` is not one of them and never will be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256 (RFC 7518 §3.2).
    Hs256,
    /// HMAC with SHA-384 (RFC 7518 §3.2).
    Hs384,
    /// HMAC with SHA-512 (RFC 7518 §3.2).
    Hs512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (RFC 7518 §3.3).
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (RFC 7518 §3.3).
    Rs512,
    /// RSASSA-PSS with SHA-256, MGF1 and a 32-byte salt (RFC 7518 §3.5).
    Ps256,
    /// RSASSA-PSS with SHA-384, MGF1 and a 48-byte salt (RFC 7518 §3.5).
    Ps384,
    /// RSASSA-PSS with SHA-512, MGF1 and a 64-byte salt (RFC 7518 §3.5).
    Ps512,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
    Es256,
    /// ECDSA on P-384 with SHA-384 (RFC 7518 §3.4).
    Es384,
    /// ECDSA on P-521 with SHA-512 (RFC 7518 §3.4).
    Es512,
    /// ECDSA on secp256k1 with SHA-256 (RFC 8812 §3.2).
    Es256k,
    /// EdDSA; jwt-edge accepts only the Ed25519 curve (RFC 8037 §3.1).
    EdDsa,
    /// Ed25519, the fully specified name (RFC 9864 §2.2).
    Ed25519,
}

/// The kind of key an [`Algorithm`] needs: `kty` plus `crv` (RFC 7518 §6, RFC 8037 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `kty: "oct"`, a shared secret.
    Oct,
    /// `kty: "RSA"`.
    Rsa,
    /// `kty: "EC"`, `crv: "P-256"`.
    P256,
    /// `kty: "EC"`, `crv: "P-384"`.
    P384,
    /// `kty: "EC"`, `crv: "P-521"`.
    P521,
    /// `kty: "EC"`, `crv: "secp256k1"`.
    Secp256k1,
    /// `kty: "OKP"`, `crv: "Ed25519"`.
    Ed25519,
}

/// The `alg` is not a supported signature algorithm (this includes every spelling of `none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownAlgorithm;

impl fmt::Display for UnknownAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unsupported algorithm")
    }
}

impl std::error::Error for UnknownAlgorithm {}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 15] = [
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::Es256k,
        Algorithm::EdDsa,
        Algorithm::Ed25519,
    ];

    /// The default allow-list: every asymmetric algorithm. HMAC must be asked for by name,
    /// so a verifier never accepts a shared-secret token unless configured to.
    pub const ASYMMETRIC: [Algorithm; 12] = [
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::Es256k,
        Algorithm::EdDsa,
        Algorithm::Ed25519,
    ];

    /// The registered name, as it appears in a header's `alg` (RFC 7515 §4.1.1).
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
            Algorithm::Es256k => "ES256K",
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Ed25519 => "Ed25519",
        }
    }

    /// Parses a list of names, all or nothing.
    pub fn parse_all<S: AsRef<str>>(names: &[S]) -> Result<Vec<Algorithm>, UnknownAlgorithm> {
        names.iter().map(|n| n.as_ref().parse()).collect()
    }

    /// The kind of key this algorithm verifies with.
    pub const fn key_kind(self) -> KeyKind {
        match self {
            Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => KeyKind::Oct,
            Algorithm::Rs256
            | Algorithm::Rs384
            | Algorithm::Rs512
            | Algorithm::Ps256
            | Algorithm::Ps384
            | Algorithm::Ps512 => KeyKind::Rsa,
            Algorithm::Es256 => KeyKind::P256,
            Algorithm::Es384 => KeyKind::P384,
            Algorithm::Es512 => KeyKind::P521,
            Algorithm::Es256k => KeyKind::Secp256k1,
            Algorithm::EdDsa | Algorithm::Ed25519 => KeyKind::Ed25519,
        }
    }

    /// Whether this is an HMAC algorithm (a shared secret, never taken from a JWKS
    /// unless explicitly allowed).
    pub const fn is_symmetric(self) -> bool {
        matches!(self.key_kind(), KeyKind::Oct)
    }

    /// Whether a signature of `len` bytes could be one of this algorithm's, before any
    /// key is looked at: HMAC gives the hash length (RFC 7518 §3.2), ECDSA exactly
    /// `R‖S` (§3.4), Ed25519 64 bytes (RFC 8032 §5.1.6), RSA the modulus length, at
    /// most [`crate::MAX_RSA_BITS`] bits (the key decides the exact length).
    pub const fn signature_len_possible(self, len: usize) -> bool {
        match self {
            Algorithm::Hs256 => len == 32,
            Algorithm::Hs384 => len == 48,
            Algorithm::Es384 => len == 96,
            Algorithm::Hs512 => len == 64,
            Algorithm::Es256 | Algorithm::Es256k | Algorithm::EdDsa | Algorithm::Ed25519 => {
                len == 64
            }
            Algorithm::Es512 => len == 132,
            Algorithm::Rs256
            | Algorithm::Rs384
            | Algorithm::Rs512
            | Algorithm::Ps256
            | Algorithm::Ps384
            | Algorithm::Ps512 => len > 0 && len <= crate::algorithms::rsa_public::MAX_RSA_BITS / 8,
        }
    }

    /// For HMAC, the smallest secret accepted: the hash output length
    /// (RFC 7518 §3.2: "a key of the same size as the hash output or larger MUST be used").
    pub const fn min_secret_len(self) -> usize {
        match self {
            Algorithm::Hs384 => 48,
            Algorithm::Hs512 => 64,
            _ => 32,
        }
    }
}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Exact, case-sensitive match on the registered name (RFC 7515 §4.1.1):
    /// `"none"`, `"None"`, `"rs256"` and anything else unknown are refused.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.name() == name)
            .ok_or(UnknownAlgorithm)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl KeyKind {
    /// The JWK `kty` of this kind.
    pub const fn kty(self) -> &'static str {
        match self {
            KeyKind::Oct => "oct",
            KeyKind::Rsa => "RSA",
            KeyKind::P256 | KeyKind::P384 | KeyKind::P521 | KeyKind::Secp256k1 => "EC",
            KeyKind::Ed25519 => "OKP",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_lengths_each_algorithm_can_have() {
        let exact = [
            (Algorithm::Hs256, 32),
            (Algorithm::Hs384, 48),
            (Algorithm::Hs512, 64),
            (Algorithm::Es256, 64),
            (Algorithm::Es256k, 64),
            (Algorithm::Es384, 96),
            (Algorithm::Es512, 132),
            (Algorithm::EdDsa, 64),
            (Algorithm::Ed25519, 64),
        ];
        for (alg, len) in exact {
            assert!(alg.signature_len_possible(len), "{alg}");
            assert!(!alg.signature_len_possible(len - 1), "{alg}");
            assert!(!alg.signature_len_possible(len + 1), "{alg}");
            assert!(!alg.signature_len_possible(0), "{alg}");
        }
        for alg in [Algorithm::Rs256, Algorithm::Ps512] {
            assert!(alg.signature_len_possible(256) && alg.signature_len_possible(512));
            assert!(!alg.signature_len_possible(0) && !alg.signature_len_possible(513));
        }
    }

    #[test]
    fn names_round_trip_and_none_is_refused() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.name().parse::<Algorithm>(), Ok(alg));
        }
        for bad in [
            "none", "None", "NONE", "nOnE", "", "rs256", "HS256 ", "ES256k", "Ed448",
        ] {
            assert_eq!(bad.parse::<Algorithm>(), Err(UnknownAlgorithm), "{bad:?}");
        }
        assert!(Algorithm::ASYMMETRIC.iter().all(|a| !a.is_symmetric()));
    }
}
