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
//!   window table of odd multiples, width-5 NAF recoding, and fixed-base multiples
//!   (d·2^(5j)·P for every 5-bit window j, with signed-window recoding): a scalar
//!   multiplication with no doublings.
//! - [`ecdsa`]: what a curve must give ([`ecdsa::Curve`]: its two fields, its hash,
//!   b and G), the public key (checked on the curve, its table built once at import)
//!   and FIPS 186-5 verification: Shamir's trick over both NAFs for a key's first use;
//!   from its second use on, the fixed-base multiples of G (once per process) and of
//!   the key (built then, about 53 KB on P-256, 118 KB on P-384) with additions only;
//!   and the final check without an inversion (x(R) ≡ r is X = r·Z² or X = (r + n)·Z²).
//! - [`curves`]: P-256 and P-384. Its macro only binds fiat-crypto's function names to
//!   [`field::Field`]; the constants are written out per curve.
//!
//! Every file imports only the files listed above it; `tests.rs` checks them all on
//! both curves.
//!
//! The `p256`/`p384` crates cost 1.3 ms / 7.7 ms of CPU per verification in wasm: their
//! field code multiplies through 128-bit integers (a function call in WebAssembly) and
//! selects table entries in constant time, which verification does not need.
//!
//! No panics, by argument (as in `rsa_public`, whose header explains the allowance):
//! - Lengths: every array has a fixed size ([u32; limbs], [u8; bytes], tables of 8
//!   points, windows of 16, NAF and window digits for the longest curve); a width-5 NAF
//!   digit d is odd with |d| ≤ 15, so (|d| − 1)/2 indexes a table of 8; a window digit
//!   is in [−15, 16], so |d| − 1 indexes a window of 16, and a missing window (the zero
//!   stand-in) is checked with `get`; public-key coordinates and signature
//!   halves are split at fixed offsets after their lengths are checked.
//! - Arithmetic: fiat-crypto's field code is proven free of overflow; the byte and limb
//!   helpers here (carries, borrows, r + n) work in a wider type than their inputs.
//! - Checked by: `tests/ecdsa_verify.rs` (differential against the `p256`/`p384` crates,
//!   Wycheproof-style edge cases) and the `jwks`/`verify` fuzz targets with overflow checks.

mod curves;
mod ecdsa;
mod field;
mod point;

#[cfg(test)]
mod tests;

pub(crate) use curves::{P256, P384};
pub(crate) use ecdsa::{PublicKey, USES_BEFORE_MULTIPLES};
