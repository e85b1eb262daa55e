//! P-256 and P-384 (FIPS 186-5; SP 800-186 §3.2.1.3, §3.2.1.4) as [`Curve`]s.
//!
//! `fiat_field!` binds one fiat-crypto module (32-bit limbs, Montgomery form) to
//! [`Field`]: its type, its four operations, and its constants, computed at compile
//! time. Each curve is then its two fields, its hash and its constants.

use std::sync::OnceLock;

use fiat_crypto::p256_32::{
    fiat_p256_add, fiat_p256_montgomery_domain_field_element as P256Fe, fiat_p256_mul,
    fiat_p256_square, fiat_p256_sub,
};
use fiat_crypto::p256_scalar_32::{
    fiat_p256_scalar_add, fiat_p256_scalar_montgomery_domain_field_element as P256Scalar,
    fiat_p256_scalar_mul, fiat_p256_scalar_square, fiat_p256_scalar_sub,
};
use fiat_crypto::p384_32::{
    fiat_p384_add, fiat_p384_montgomery_domain_field_element as P384Fe, fiat_p384_mul,
    fiat_p384_square, fiat_p384_sub,
};
use fiat_crypto::p384_scalar_32::{
    fiat_p384_scalar_add, fiat_p384_scalar_montgomery_domain_field_element as P384Scalar,
    fiat_p384_scalar_mul, fiat_p384_scalar_square, fiat_p384_scalar_sub,
};

use super::ecdsa::Curve;
use super::field::{hex, limbs_le, montgomery_hex, r_power, Field};
use super::point::{FixedBase, Table};

/// `impl Field` for fiat-crypto's Montgomery-domain type `$fe`, modulo `$modulus`
/// (big-endian hex of `$bytes` bytes, `$limbs` 32-bit limbs).
macro_rules! fiat_field {
    (
        $fe:ident: $bytes:literal bytes, $limbs:literal limbs, modulus $modulus:expr;
        $mul:ident, $square:ident, $add:ident, $sub:ident
    ) => {
        impl Field for $fe {
            type Bytes = [u8; $bytes];
            const MODULUS: [u8; $bytes] = hex($modulus);
            const MODULUS_LIMBS: &'static [u32] = &limbs_le::<$limbs, $bytes>(&hex($modulus));
            const ZERO: Self = $fe([0; $limbs]);
            const ONE: Self = $fe(r_power::<$limbs, $bytes>($modulus, 1));
            const R2: Self = $fe(r_power::<$limbs, $bytes>($modulus, 2));
            const R3: Self = $fe(r_power::<$limbs, $bytes>($modulus, 3));

            fn mul(&self, other: &Self) -> Self {
                let mut out = Self::ZERO;
                $mul(&mut out, self, other);
                out
            }
            fn square(&self) -> Self {
                let mut out = Self::ZERO;
                $square(&mut out, self);
                out
            }
            fn add(&self, other: &Self) -> Self {
                let mut out = Self::ZERO;
                $add(&mut out, self, other);
                out
            }
            fn sub(&self, other: &Self) -> Self {
                let mut out = Self::ZERO;
                $sub(&mut out, self, other);
                out
            }
            fn limbs(&self) -> &[u32] {
                &self.0
            }
            fn limbs_mut(&mut self) -> &mut [u32] {
                &mut self.0
            }
        }
    };
}

const P256_P: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

fiat_field! {
    P256Fe: 32 bytes, 8 limbs, modulus P256_P;
    fiat_p256_mul, fiat_p256_square, fiat_p256_add, fiat_p256_sub
}
fiat_field! {
    P256Scalar: 32 bytes, 8 limbs, modulus P256_N;
    fiat_p256_scalar_mul, fiat_p256_scalar_square, fiat_p256_scalar_add, fiat_p256_scalar_sub
}

/// P-256 (secp256r1) with SHA-256: ES256.
pub(crate) struct P256;

impl Curve for P256 {
    type Field = P256Fe;
    type Scalar = P256Scalar;
    type Hash = sha2::Sha256;
    const B: P256Fe = P256Fe(montgomery_hex::<8, 32>(
        "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
        P256_P,
    ));
    const G: [P256Fe; 2] = [
        P256Fe(montgomery_hex::<8, 32>(
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
            P256_P,
        )),
        P256Fe(montgomery_hex::<8, 32>(
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
            P256_P,
        )),
    ];

    fn generator_table() -> &'static OnceLock<Table<P256Fe>> {
        static TABLE: OnceLock<Table<P256Fe>> = OnceLock::new();
        &TABLE
    }
    fn generator_multiples() -> &'static OnceLock<FixedBase<P256Fe>> {
        static MULTIPLES: OnceLock<FixedBase<P256Fe>> = OnceLock::new();
        &MULTIPLES
    }
}

const P384_P: &str = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff";
const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";

fiat_field! {
    P384Fe: 48 bytes, 12 limbs, modulus P384_P;
    fiat_p384_mul, fiat_p384_square, fiat_p384_add, fiat_p384_sub
}
fiat_field! {
    P384Scalar: 48 bytes, 12 limbs, modulus P384_N;
    fiat_p384_scalar_mul, fiat_p384_scalar_square, fiat_p384_scalar_add, fiat_p384_scalar_sub
}

/// P-384 (secp384r1) with SHA-384: ES384.
pub(crate) struct P384;

impl Curve for P384 {
    type Field = P384Fe;
    type Scalar = P384Scalar;
    type Hash = sha2::Sha384;
    const B: P384Fe = P384Fe(montgomery_hex::<12, 48>(
        "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
        P384_P,
    ));
    const G: [P384Fe; 2] = [
        P384Fe(montgomery_hex::<12, 48>(
            "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
            P384_P,
        )),
        P384Fe(montgomery_hex::<12, 48>(
            "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f",
            P384_P,
        )),
    ];

    fn generator_table() -> &'static OnceLock<Table<P384Fe>> {
        static TABLE: OnceLock<Table<P384Fe>> = OnceLock::new();
        &TABLE
    }
    fn generator_multiples() -> &'static OnceLock<FixedBase<P384Fe>> {
        static MULTIPLES: OnceLock<FixedBase<P384Fe>> = OnceLock::new();
        &MULTIPLES
    }
}
