//! ES256 and ES384 verification (ECDSA over P-256 and P-384, FIPS 186-5 §6.4.2;
//! RFC 7518 §3.4), for verification only, where everything is public: variable time is
//! fine.
//!
//! Four rooms, each written once for both curves:
//! - [`field`]: arithmetic modulo a prime in Montgomery form. Multiplication, squaring,
//!   addition and subtraction are fiat-crypto's (formally verified, 32-bit limbs, 64-bit
//!   products: native WebAssembly operations); conversions and the inversion (binary
//!   extended Euclid) are here. The same code serves the field (mod p) and the scalars
//!   (mod n).
//! - [`point`]: Jacobian coordinates for a = −3 (doubling "dbl-2001-b", addition
//!   "add-2007-bl", mixed addition "madd-2007-bl", Explicit-Formulas Database), the
//!   window table of odd multiples, and width-5 NAF recoding.
//! - [`ecdsa`]: the public key (checked on the curve, its table built once at import)
//!   and FIPS 186-5 verification: Shamir's trick over both NAFs, and the final check
//!   without an inversion (x(R) ≡ r is X = r·Z² or X = (r + n)·Z²).
//! - [`curves`]: P-256 and P-384 as [`Curve`]s. Its macro only binds fiat-crypto's
//!   function names to [`field::Field`] and writes each curve's constants.
//!
//! The `p256`/`p384` crates cost 1.3 ms / 7.7 ms of CPU per verification in wasm: their
//! field code multiplies through 128-bit integers (a function call in WebAssembly) and
//! selects table entries in constant time, which verification does not need.
//!
//! No panics, by argument (as in `rsa_public`, whose header explains the allowance):
//! - Lengths: every array has a fixed size ([u32; limbs], [u8; bytes], tables of 8
//!   points, NAF digits for the longest curve); a width-5 NAF digit d is odd with
//!   |d| ≤ 15, so (|d| − 1)/2 indexes a table of 8; public-key coordinates and signature
//!   halves are split at fixed offsets after their lengths are checked.
//! - Arithmetic: fiat-crypto's field code is proven free of overflow; the byte and limb
//!   helpers here (carries, borrows, r + n) work in a wider type than their inputs.
//! - Checked by: `tests/ecdsa_verify.rs` (differential against the `p256`/`p384` crates,
//!   Wycheproof-style edge cases) and the `jwks`/`verify` fuzz targets with overflow checks.

mod curves;
mod ecdsa;
mod field;
mod point;

use std::sync::OnceLock;

use sha2::Digest;

pub(crate) use curves::{P256, P384};
pub(crate) use ecdsa::PublicKey;

use field::{ByteArray, Field};
use point::Table;

/// A short Weierstrass curve y² = x³ − 3x + b of prime order n, with the hash that ECDSA
/// pairs with it in JWS (as long as n, so a digest is never truncated).
pub(crate) trait Curve: Sized + 'static {
    /// Arithmetic modulo the field prime p.
    type Field: Field;
    /// Arithmetic modulo the group order n; its elements are as long as the field's.
    type Scalar: Field<Bytes = <Self::Field as Field>::Bytes>;
    /// SHA-256 for P-256, SHA-384 for P-384 (RFC 7518 §3.4).
    type Hash: Digest;
    /// The coefficient b, in Montgomery form.
    const B: Self::Field;
    /// The base point G (x, y), in Montgomery form.
    const G: [Self::Field; 2];
    /// Where the base point's window table is kept once it is built.
    fn generator_table() -> &'static OnceLock<Table<Self::Field>>;
}

/// The longest curve's element, in bytes (P-384): sizes the NAF buffers.
const MAX_BYTES: usize = 48;

/// The element length of `F`, in bytes.
fn bytes_of<F: Field>() -> usize {
    <F::Bytes as ByteArray>::LEN
}
