//! Ed25519 verification (RFC 8032 §5.1.7) with fixed-base tables (issue 18, lever 1 for
//! EdDSA).
//!
//! `ed25519-dalek` checks [s]B − [k]A = R with one double-base multiplication: about 253
//! doublings per signature, for a key that stays the same for hours. From a key's second
//! verification on, this module uses a table of the key's multiples, built once (d·256^i·A
//! for d in 1..=8, i in 0..32: 256 points, 40 KB, about one verification's work, no field
//! inversion), and the same table of B (once per process): with both scalars in signed
//! radix-16 digits, [s]B + [−k]A is 128 additions and four doublings. Everything here is
//! public (key, signature, message), so the tables are read by index, not in constant
//! time. The first verification with a key goes through `ed25519-dalek` as before, so a
//! key used once pays nothing extra.
//!
//! The accept rule is `ed25519-dalek`'s `verify` exactly (checked in the tests below on
//! genuine, altered and crafted signatures): 64 bytes; s canonical (below ℓ, §5.1.7 step
//! 1); k = SHA-512(R ‖ A ‖ M) mod ℓ; accept when the encoding of [s]B − [k]A equals the
//! signature's R bytes (so a non-canonical R never matches). Small-order keys are refused
//! at import (`is_weak`).
//!
//! Digits index the tables directly: a signed radix-16 digit is in [−8, 8], so the index
//! |d| − 1 is below 8, and `tables` has 32 rows for the 64 digits of a scalar below 2²⁵⁵.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity as _;
use sha2::{Digest, Sha512};

use crate::algorithms::ec::USES_BEFORE_MULTIPLES;

/// d·256^i·P for i in 0..32 (rows) and d in 1..=8 (columns).
struct Multiples {
    rows: Vec<[EdwardsPoint; 8]>,
}

impl Multiples {
    fn new(point: &EdwardsPoint) -> Self {
        let mut rows = Vec::with_capacity(32);
        let mut base = *point;
        for _ in 0..32 {
            let mut row = [base; 8];
            for d in 1..8 {
                row[d] = row[d - 1] + base;
            }
            // 256·base = 2·(8·(16·base)): 16·base is 2·row[7].
            base = (row[7] + row[7]).mul_by_cofactor();
            base = base + base;
            rows.push(row);
        }
        Multiples { rows }
    }

    /// Adds digit·256^row·P to `acc` (digit in [−8, 8]).
    fn add_digit(&self, acc: &mut EdwardsPoint, row: usize, digit: i8) {
        let index = usize::from(digit.unsigned_abs());
        if index == 0 {
            return;
        }
        let entry = &self.rows[row][index - 1];
        if digit > 0 {
            *acc += entry;
        } else {
            *acc -= entry;
        }
    }
}

/// A scalar below 2²⁵⁵ as 64 signed radix-16 digits in [−8, 8), the last in [−8, 8]:
/// Σ digit_i·16^i.
fn radix_16(scalar: &Scalar) -> [i8; 64] {
    let bytes = scalar.to_bytes();
    let mut digits = [0i8; 64];
    for (i, byte) in bytes.iter().enumerate() {
        digits[2 * i] = (byte & 15) as i8;
        digits[2 * i + 1] = (byte >> 4) as i8;
    }
    for i in 0..63 {
        let carry = (digits[i] + 8) >> 4;
        digits[i] -= carry << 4;
        digits[i + 1] += carry;
    }
    digits
}

/// B's multiples, built once per process at the first verification that needs them.
fn base_multiples() -> &'static Multiples {
    static TABLE: OnceLock<Multiples> = OnceLock::new();
    TABLE.get_or_init(|| Multiples::new(&ED25519_BASEPOINT_POINT))
}

/// An imported Ed25519 public key and, from its second use, its table of multiples.
pub(crate) struct Ed25519Key {
    key: ed25519_dalek::VerifyingKey,
    uses: AtomicU32,
    multiples: OnceLock<Multiples>,
}

impl Ed25519Key {
    pub(crate) fn new(key: ed25519_dalek::VerifyingKey) -> Self {
        Ed25519Key {
            key,
            uses: AtomicU32::new(0),
            multiples: OnceLock::new(),
        }
    }

    /// Verifies an Ed25519 signature (RFC 8032 §5.1.7) over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let uses = self.uses.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if uses >= USES_BEFORE_MULTIPLES {
            self.verify_by_multiples(message, signature)
        } else {
            self.verify_once(message, signature)
        }
    }

    /// `ed25519-dalek`'s own verification (one double-base multiplication).
    fn verify_once(&self, message: &[u8], signature: &[u8]) -> bool {
        use ed25519_dalek::Verifier as _;
        <[u8; 64]>::try_from(signature).is_ok_and(|bytes| {
            self.key
                .verify(message, &ed25519_dalek::Signature::from_bytes(&bytes))
                .is_ok()
        })
    }

    /// [s]B + [−k]A from the tables, its encoding compared with R.
    fn verify_by_multiples(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        let (r, s) = bytes.split_at(32);
        let Ok(s) = <[u8; 32]>::try_from(s) else {
            return false;
        };
        // §5.1.7 step 1: s must be below ℓ.
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s)) else {
            return false;
        };
        // Step 2: k = SHA-512(dom2(F, C) ‖ R ‖ A ‖ PH(M)) mod ℓ, dom2 empty for Ed25519.
        let mut hash = Sha512::new();
        hash.update(r);
        hash.update(self.key.as_bytes());
        hash.update(message);
        let minus_k = -Scalar::from_bytes_mod_order_wide(&hash.finalize().into());
        // Step 3, as ed25519-dalek checks it: the encoding of [s]B − [k]A is R's bytes.
        // Σ d_i·16^i = Σ_even d_i·256^(i/2) + 16·Σ_odd d_i·256^((i−1)/2).
        let a = self
            .multiples
            .get_or_init(|| Multiples::new(&self.key.to_edwards()));
        let b = base_multiples();
        let (s_digits, k_digits) = (radix_16(&s), radix_16(&minus_k));
        let mut acc = EdwardsPoint::identity();
        for i in (1..64).step_by(2) {
            b.add_digit(&mut acc, i / 2, s_digits[i]);
            a.add_digit(&mut acc, i / 2, k_digits[i]);
        }
        acc = acc.mul_by_cofactor();
        acc = acc + acc;
        for i in (0..64).step_by(2) {
            b.add_digit(&mut acc, i / 2, s_digits[i]);
            a.add_digit(&mut acc, i / 2, k_digits[i]);
        }
        acc.compress().as_bytes() == r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;

    /// ℓ, little-endian.
    const ELL: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];

    fn add_le(a: &[u8], b: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(a[i]) + u16::from(b[i]) + carry;
            out[i] = v as u8;
            carry = v >> 8;
        }
        out
    }

    /// The table path decides every signature as `ed25519-dalek` does: genuine ones,
    /// every single-bit flip of R and s, s + ℓ (non-canonical), R's small-order and
    /// non-canonical encodings, all-zero and all-ones signatures, wrong lengths, and
    /// another message.
    #[test]
    fn multiples_decide_like_ed25519_dalek() {
        let mut checked = 0;
        for seed in 0u8..6 {
            let signing =
                ed25519_dalek::SigningKey::from_bytes(&[seed.wrapping_mul(37) ^ 0x5a; 32]);
            let key = Ed25519Key::new(signing.verifying_key());
            for len in [0usize, 1, 31, 64, 200] {
                let message: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed | 1)).collect();
                let genuine = signing.sign(&message).to_bytes();
                let mut signatures = vec![genuine.to_vec(), vec![0u8; 64], vec![0xff; 64]];
                for bit in (0..512).step_by(3) {
                    let mut sig = genuine;
                    sig[bit / 8] ^= 1 << (bit % 8);
                    signatures.push(sig.to_vec());
                }
                // s + ℓ: the same scalar, not canonical.
                let mut malleable = genuine;
                malleable[32..].copy_from_slice(&add_le(&genuine[32..], &ELL));
                signatures.push(malleable.to_vec());
                // R as the identity (small order), and as a non-canonical y (p + 1).
                for r in [
                    {
                        let mut r = [0u8; 32];
                        r[0] = 1;
                        r
                    },
                    {
                        let mut r = [0xffu8; 32];
                        r[0] = 0xee;
                        r[31] = 0x7f;
                        r
                    },
                ] {
                    let mut sig = genuine;
                    sig[..32].copy_from_slice(&r);
                    signatures.push(sig.to_vec());
                }
                signatures.push(genuine[..63].to_vec());
                signatures.push([genuine.as_slice(), &[0]].concat());
                for sig in &signatures {
                    for msg in [&message[..], b"another message"] {
                        let reference = key.verify_once(msg, sig);
                        assert_eq!(
                            key.verify_by_multiples(msg, sig),
                            reference,
                            "seed {seed}, len {len}"
                        );
                        checked += 1;
                    }
                }
                assert!(key.verify_by_multiples(&message, &genuine));
            }
        }
        assert!(checked > 5000);
    }

    /// The first verification goes through ed25519-dalek, the second builds the table.
    #[test]
    fn the_table_is_built_at_the_second_use() {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let key = Ed25519Key::new(signing.verifying_key());
        let sig = signing.sign(b"m").to_bytes();
        assert!(key.verify(b"m", &sig));
        assert!(key.multiples.get().is_none());
        assert!(key.verify(b"m", &sig));
        assert!(key.multiples.get().is_some());
        assert!(!key.verify(b"n", &sig));
    }
}
