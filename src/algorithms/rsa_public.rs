//! An RSA public key (RFC 8017 §3.1) and the public-key operation RSAVP1 (§5.2.2) in
//! Montgomery form over 32-bit limbs. The encodings a signature carries, EMSA-PKCS1-v1_5
//! and EMSA-PSS, are checked on top of it in `rsa_emsa`.
//!
//! Why not the `rsa` crate: its `num-bigint-dig` arithmetic made one RS256 verification
//! cost about 600 µs of CPU in wasm. Everything here is public (the key, the signature,
//! the message), so variable-time code is fine. 32-bit limbs with 64-bit products are
//! native WebAssembly operations. The Montgomery constants are computed once per key,
//! when the key is imported.
//!
//! No panics, by argument rather than by lint: limb code indexes and multiplies
//! directly, so clippy's `indexing_slicing` and `arithmetic_side_effects` are allowed in
//! this module (and in `rsa_emsa` and `ec`, for the same reasons) and nowhere else.
//! - Lengths: every limb vector has the modulus's length s, fixed at import (s ≥ 64 by
//!   the 2048-bit floor); the Montgomery scratch has s + 2 limbs; a signature must be
//!   exactly the modulus's byte length before it becomes limbs. Loop bounds are those
//!   lengths.
//! - Arithmetic: u64 on u32 limbs; x + a·b + c with each term below 2³² is at most
//!   (2³² − 1)² + 2·(2³² − 1) = 2⁶⁴ − 1.
//! - Checked by: `tests/rsa_verify.rs` (differential against the `rsa` crate, crafted
//!   encodings), and the `jwks` and `verify` fuzz targets, built with overflow checks and
//!   debug assertions, so an overflow or an out-of-bounds index is a crash there.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use crate::error::KeyRejection;

/// Largest RSA modulus imported, in bits: the cost of a verification grows with it
/// (about with its square: the exponent is small).
pub const MAX_RSA_BITS: usize = 4096;

/// Largest public exponent accepted: 2^33 − 1, the `rsa` crate's bound. Real keys use 65537.
const MAX_EXPONENT: u64 = (1 << 33) - 1;

/// An RSA public key with its Montgomery constants.
pub(crate) struct RsaPublicKey {
    /// The modulus, little-endian 32-bit limbs, the top limb non-zero.
    n: Vec<u32>,
    /// −n⁻¹ mod 2³².
    n0_inv: u32,
    /// R² mod n, R = 2^(32·limbs).
    r2: Vec<u32>,
    /// The public exponent.
    e: u64,
    /// Modulus length in bits.
    bits: usize,
}

impl RsaPublicKey {
    /// Imports `n` and `e` (big-endian, no leading zeros: RFC 7518 §6.3.1). Refuses a
    /// modulus under `min_bits` or over [`MAX_RSA_BITS`], an even modulus, and an
    /// exponent outside [3, 2^33 − 1] or even.
    pub(crate) fn new(n: &[u8], e: &[u8], min_bits: usize) -> Result<Self, KeyRejection> {
        if n.first().is_none_or(|b| *b == 0) {
            return Err(KeyRejection::InvalidMember("n"));
        }
        if e.first().is_none_or(|b| *b == 0) || e.len() > 8 {
            return Err(KeyRejection::InvalidMember("e"));
        }
        let bits = n.len() * 8 - n[0].leading_zeros() as usize;
        if bits < min_bits {
            return Err(KeyRejection::RsaTooSmall);
        }
        if bits > MAX_RSA_BITS {
            return Err(KeyRejection::RsaUnsupported);
        }
        let e = e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        // An even modulus or exponent is not an RSA key; e = 1 would verify anything.
        if n.last().is_none_or(|b| b & 1 == 0) || e < 3 || e % 2 == 0 || e > MAX_EXPONENT {
            return Err(KeyRejection::RsaUnsupported);
        }
        let n = limbs_from_be(n, n.len().div_ceil(4));
        let n0_inv = neg_inverse(n[0]);
        let mut key = RsaPublicKey {
            r2: Vec::new(),
            n,
            n0_inv,
            e,
            bits,
        };
        key.r2 = key.r_squared();
        Ok(key)
    }

    /// The modulus length in bytes, k (RFC 8017 §2).
    pub(crate) fn size(&self) -> usize {
        self.bits.div_ceil(8)
    }

    /// The modulus length in bits (RFC 8017 §9.1.2 uses modBits − 1).
    pub(crate) fn bits(&self) -> usize {
        self.bits
    }

    /// R² mod n, as 2 raised to 32·limbs in Montgomery form.
    fn r_squared(&self) -> Vec<u32> {
        let limbs = self.n.len();
        // 2^(bits−1) < n (n is odd, so not a power of two); doubling it up to 2^(32·limbs)
        // gives R mod n, once more 2R mod n: the number 2 in Montgomery form.
        let mut x = vec![0u32; limbs];
        let top = self.bits - 1;
        x[top / 32] = 1 << (top % 32);
        for _ in top..=32 * limbs {
            self.double_mod(&mut x);
        }
        self.pow_montgomery(&x, 32 * limbs as u64)
    }

    /// x ← 2x mod n, for x < n.
    fn double_mod(&self, x: &mut [u32]) {
        let mut carry = 0u32;
        for limb in x.iter_mut() {
            let next = *limb >> 31;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if carry == 1 || !less_than(x, &self.n) {
            sub_in_place(x, &self.n);
        }
    }

    /// a·b·R⁻¹ mod n (CIOS), for a, b < n. `t` is scratch of limbs + 2.
    fn mont_mul(&self, a: &[u32], b: &[u32], out: &mut [u32], t: &mut [u32]) {
        let n = &self.n;
        let s = n.len();
        t.fill(0);
        for &ai in a.iter().take(s) {
            let ai = u64::from(ai);
            let mut carry = 0u64;
            for (tj, &bj) in t.iter_mut().zip(b).take(s) {
                let v = u64::from(*tj) + ai * u64::from(bj) + carry;
                *tj = v as u32;
                carry = v >> 32;
            }
            let v = u64::from(t[s]) + carry;
            t[s] = v as u32;
            t[s + 1] = (v >> 32) as u32;
            let m = u64::from(t[0].wrapping_mul(self.n0_inv));
            let mut carry = (u64::from(t[0]) + m * u64::from(n[0])) >> 32;
            for j in 1..s {
                let v = u64::from(t[j]) + m * u64::from(n[j]) + carry;
                t[j - 1] = v as u32;
                carry = v >> 32;
            }
            let v = u64::from(t[s]) + carry;
            t[s - 1] = v as u32;
            t[s] = t[s + 1] + (v >> 32) as u32;
        }
        // The result is below 2n: one conditional subtraction.
        out.copy_from_slice(&t[..s]);
        if t[s] != 0 || !less_than(out, n) {
            sub_in_place(out, n);
        }
    }

    /// a²·R⁻¹ mod n for a < n: the square with each cross product computed once, then
    /// Montgomery reduction (separated operand scanning). `t` is scratch of 2·limbs + 1.
    fn mont_sqr(&self, a: &[u32], out: &mut [u32], t: &mut [u32]) {
        let n = &self.n;
        let s = n.len();
        t.fill(0);
        // Σ_{i<j} a_i·a_j·2^(32(i+j)).
        for i in 0..s {
            let ai = u64::from(a[i]);
            let mut carry = 0u64;
            for j in i + 1..s {
                let v = u64::from(t[i + j]) + ai * u64::from(a[j]) + carry;
                t[i + j] = v as u32;
                carry = v >> 32;
            }
            t[i + s] = carry as u32;
        }
        // Doubled, plus the squares a_i².
        let mut top = 0u32;
        for limb in t.iter_mut().take(2 * s) {
            let next = *limb >> 31;
            *limb = (*limb << 1) | top;
            top = next;
        }
        t[2 * s] = top;
        let mut carry = 0u64;
        for i in 0..s {
            let square = u64::from(a[i]) * u64::from(a[i]);
            let v = u64::from(t[2 * i]) + (square & 0xffff_ffff) + carry;
            t[2 * i] = v as u32;
            let v = u64::from(t[2 * i + 1]) + (square >> 32) + (v >> 32);
            t[2 * i + 1] = v as u32;
            carry = v >> 32;
        }
        t[2 * s] += carry as u32;
        // Reduction: add m·n at each position so the low s limbs become zero.
        for i in 0..s {
            let m = u64::from(t[i].wrapping_mul(self.n0_inv));
            let mut carry = 0u64;
            for j in 0..s {
                let v = u64::from(t[i + j]) + m * u64::from(n[j]) + carry;
                t[i + j] = v as u32;
                carry = v >> 32;
            }
            for limb in t.iter_mut().skip(i + s) {
                if carry == 0 {
                    break;
                }
                let v = u64::from(*limb) + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
        }
        // The result, t[s..2s] plus the top bit, is below 2n: one conditional subtraction.
        out.copy_from_slice(&t[s..2 * s]);
        if t[2 * s] != 0 || !less_than(out, n) {
            sub_in_place(out, n);
        }
    }

    /// base^exp with base and result in Montgomery form (left to right, square and multiply).
    fn pow_montgomery(&self, base: &[u32], exp: u64) -> Vec<u32> {
        let s = self.n.len();
        let mut t = vec![0u32; s + 2];
        let mut wide = vec![0u32; 2 * s + 1];
        let mut acc = base.to_vec();
        let mut tmp = vec![0u32; s];
        for bit in (0..63 - exp.leading_zeros()).rev() {
            self.mont_sqr(&acc, &mut tmp, &mut wide);
            std::mem::swap(&mut acc, &mut tmp);
            if (exp >> bit) & 1 == 1 {
                self.mont_mul(&acc, base, &mut tmp, &mut t);
                std::mem::swap(&mut acc, &mut tmp);
            }
        }
        acc
    }

    /// RSAVP1 (RFC 8017 §5.2.2) and I2OSP to k octets: `None` when the signature is not
    /// exactly k octets or its integer is not below n (§8.2.2 step 1, §5.2.2 step 1).
    pub(crate) fn public_op(&self, signature: &[u8]) -> Option<Vec<u8>> {
        let k = self.size();
        if signature.len() != k {
            return None;
        }
        let s = self.n.len();
        let sig = limbs_from_be(signature, s);
        if !less_than(&sig, &self.n) {
            return None;
        }
        let mut t = vec![0u32; s + 2];
        let mut sig_m = vec![0u32; s];
        self.mont_mul(&sig, &self.r2, &mut sig_m, &mut t);
        let m_m = self.pow_montgomery(&sig_m, self.e);
        let mut one = vec![0u32; s];
        one[0] = 1;
        let mut m = vec![0u32; s];
        self.mont_mul(&m_m, &one, &mut m, &mut t);
        Some(be_from_limbs(&m, k))
    }
}

/// Big-endian bytes into `limbs` little-endian 32-bit limbs (the bytes must fit).
fn limbs_from_be(bytes: &[u8], limbs: usize) -> Vec<u32> {
    let mut out = vec![0u32; limbs];
    for (i, byte) in bytes.iter().rev().enumerate() {
        if let Some(limb) = out.get_mut(i / 4) {
            *limb |= u32::from(*byte) << (8 * (i % 4));
        }
    }
    out
}

/// Little-endian limbs into `len` big-endian bytes (the value must fit).
fn be_from_limbs(limbs: &[u32], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for (i, byte) in out.iter_mut().rev().enumerate() {
        *byte = limbs
            .get(i / 4)
            .map_or(0, |limb| (limb >> (8 * (i % 4))) as u8);
    }
    out
}

/// a < b, both of the same length.
fn less_than(a: &[u32], b: &[u32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// a ← a − b mod 2^(32·len).
fn sub_in_place(a: &mut [u32], b: &[u32]) {
    let mut borrow = 0u64;
    for (x, y) in a.iter_mut().zip(b) {
        let v = u64::from(*x)
            .wrapping_sub(u64::from(*y))
            .wrapping_sub(borrow);
        *x = v as u32;
        borrow = (v >> 63) & 1;
    }
}

/// −x⁻¹ mod 2³² for odd x (Newton's iteration doubles the correct bits each step).
fn neg_inverse(x: u32) -> u32 {
    let mut inv = 1u32;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(x.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dedicated squaring agrees with the general product, including on values
    /// near n and with carries through every limb.
    #[test]
    fn squaring_matches_multiplication() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u32
        };
        for bytes in [256usize, 257, 384, 512] {
            let mut n: Vec<u8> = (0..bytes).map(|_| next() as u8).collect();
            n[0] |= 0x80;
            n[bytes - 1] |= 1;
            let key = RsaPublicKey::new(&n, &[1, 0, 1], 2048).unwrap();
            let s = key.n.len();
            let mut values = vec![vec![0u32; s], key.n.clone()];
            sub_in_place(&mut values[1], &[1]); // n − 1
            for _ in 0..20 {
                let mut v: Vec<u32> = (0..s).map(|_| next()).collect();
                v[s - 1] %= key.n[s - 1].max(1);
                values.push(v);
            }
            for a in values {
                let (mut by_mul, mut by_sqr) = (vec![0u32; s], vec![0u32; s]);
                key.mont_mul(&a, &a, &mut by_mul, &mut vec![0u32; s + 2]);
                key.mont_sqr(&a, &mut by_sqr, &mut vec![0u32; 2 * s + 1]);
                assert_eq!(by_mul, by_sqr, "{bytes}-byte modulus");
            }
        }
    }

    #[test]
    fn limbs_round_trip_and_inverse() {
        let bytes = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];
        let limbs = limbs_from_be(&bytes, 2);
        assert_eq!(limbs, vec![0x0405_0607, 0x0001_0203]);
        assert_eq!(be_from_limbs(&limbs, 7), bytes);
        for x in [1u32, 3, 0xffff_ffff, 0x8000_0001, 65537] {
            assert_eq!(x.wrapping_mul(neg_inverse(x)), u32::MAX, "{x}");
        }
    }
}
