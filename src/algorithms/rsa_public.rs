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
//!   the 2048-bit floor, s ≤ 128 by the 4096-bit ceiling); the Montgomery scratch has s
//!   limbs; a signature must be exactly the modulus's byte length before it becomes
//!   limbs. Column k of a product reads limbs i and k − i, both below s, through slices
//!   whose bounds are those lengths.
//! - Arithmetic: u64 on u32 limbs; a column sums at most 2s + 1 products as the sums of
//!   their low and high halves (each half below 2³²), plus the carry from the column
//!   before: below 2⁴² for s ≤ 128.
//! - Checked by: this module's tests (RSAVP1 against num-bigint's modpow on crafted
//!   moduli and values), `tests/rsa_verify.rs` (differential against the `rsa` crate,
//!   crafted encodings), and the `jwks` and `verify` fuzz targets, built with overflow
//!   checks and debug assertions, so an overflow or an out-of-bounds index is a crash
//!   there. The SIMD loop (wasm32 with simd128, set in `.cargo/config.toml`) runs only in
//!   wasm: `tests/npm/rsa.test.mjs` checks it against OpenSSL's signatures for every limb
//!   count shape.
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
    /// The modulus's limbs in reverse order (column k of m·n pairs m_j with n_(k−j)).
    n_rev: Vec<u32>,
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
            n_rev: n.iter().rev().copied().collect(),
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

    /// a·b·R⁻¹ mod n for a, b < n, by finely integrated product scanning (Koç, Acar and
    /// Kaliski's FIPS): column k of a·b and of m·n is summed at once, so no partial
    /// product is stored and no carry runs along a row; the multiple m of n that clears
    /// column k is chosen as soon as that column's low limb is known. Column k pairs x_j
    /// with y_(k−j): with y reversed (n's once at import, b's here) both run forwards, a
    /// dot product of two slices.
    fn mont_mul(&self, a: &[u32], b: &[u32], out: &mut [u32], scratch: &mut Scratch) {
        let s = self.n.len();
        let Scratch { m, rev: b_rev } = scratch.reversing(b);
        let n_rev = &self.n_rev;
        let mut col = Column::default();
        for k in 0..s {
            // j in 0..k: y_(k−j) is rev[s − 1 − k + j].
            col.add_dot(&a[..k], &b_rev[s - 1 - k..s - 1]);
            col.add_dot(&m[..k], &n_rev[s - 1 - k..s - 1]);
            col.add(u64::from(a[k]) * u64::from(b[0]));
            m[k] = self.clear_low_limb(&mut col);
        }
        for k in s..2 * s {
            // j in k + 1 − s..s.
            col.add_dot(&a[k + 1 - s..], &b_rev[..2 * s - 1 - k]);
            col.add_dot(&m[k + 1 - s..], &n_rev[..2 * s - 1 - k]);
            out[k - s] = col.low();
            col.shift();
        }
        self.reduce_once(out, col.lo != 0);
    }

    /// a²·R⁻¹ mod n for a < n: as `mont_mul`, with each cross product a_i·a_j (i ≠ j)
    /// computed once and doubled.
    fn mont_sqr(&self, a: &[u32], out: &mut [u32], scratch: &mut Scratch) {
        let s = self.n.len();
        let Scratch { m, rev: a_rev } = scratch.reversing(a);
        let n_rev = &self.n_rev;
        let mut col = Column::default();
        for k in 0..s {
            col.add_cross_and_square(a, a_rev, 0, k);
            col.add_dot(&m[..k], &n_rev[s - 1 - k..s - 1]);
            m[k] = self.clear_low_limb(&mut col);
        }
        for k in s..2 * s {
            col.add_cross_and_square(a, a_rev, k + 1 - s, k);
            col.add_dot(&m[k + 1 - s..], &n_rev[..2 * s - 1 - k]);
            out[k - s] = col.low();
            col.shift();
        }
        self.reduce_once(out, col.lo != 0);
    }

    /// Adds m·n₀ to the column, m chosen so that its low limb becomes zero (m = −t·n⁻¹
    /// mod 2³²), shifts the column down a limb and returns m.
    fn clear_low_limb(&self, col: &mut Column) -> u32 {
        let m = col.low().wrapping_mul(self.n0_inv);
        col.add(u64::from(m) * u64::from(self.n[0]));
        col.shift();
        m
    }

    /// The Montgomery result (`out` plus `top`·R) is below 2n: one conditional subtraction.
    fn reduce_once(&self, out: &mut [u32], top: bool) {
        if top || !less_than(out, &self.n) {
            sub_in_place(out, &self.n);
        }
    }

    /// base^exp (exp ≥ 1) with base and result in Montgomery form.
    fn pow_montgomery(&self, base: &[u32], exp: u64) -> Vec<u32> {
        self.pow_with_last(base, exp, base)
    }

    /// base^exp (exp ≥ 1), left to right, square and multiply, with `base` in Montgomery
    /// form and the multiplication for exp's lowest bit, when it is set, by `last` instead
    /// of `base`: given the plain base as `last` and an odd exp, the result comes out of
    /// Montgomery form in that step.
    fn pow_with_last(&self, base: &[u32], exp: u64, last: &[u32]) -> Vec<u32> {
        let mut scratch = Scratch::new(self.n.len());
        let mut acc = base.to_vec();
        let mut tmp = vec![0u32; self.n.len()];
        for bit in (0..63 - exp.leading_zeros()).rev() {
            self.mont_sqr(&acc, &mut tmp, &mut scratch);
            std::mem::swap(&mut acc, &mut tmp);
            if (exp >> bit) & 1 == 1 {
                self.mont_mul(
                    &acc,
                    if bit == 0 { last } else { base },
                    &mut tmp,
                    &mut scratch,
                );
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
        let mut scratch = Scratch::new(s);
        let mut sig_m = vec![0u32; s];
        self.mont_mul(&sig, &self.r2, &mut sig_m, &mut scratch);
        // (sig·R)^(e−1)·R^(2−e) · sig · R⁻¹ = sig^e: the last multiplication by the plain
        // signature leaves Montgomery form, so no conversion back is needed (e is odd).
        let m = self.pow_with_last(&sig_m, self.e, &sig);
        Some(be_from_limbs(&m, k))
    }
}

/// Scratch for one Montgomery product: the multiples m of n chosen column by column, and
/// the second operand reversed.
struct Scratch {
    m: Vec<u32>,
    rev: Vec<u32>,
}

impl Scratch {
    fn new(limbs: usize) -> Self {
        Scratch {
            m: vec![0u32; limbs],
            rev: vec![0u32; limbs],
        }
    }

    /// The scratch with `rev` holding `x` reversed (x has the scratch's length).
    fn reversing(&mut self, x: &[u32]) -> &mut Self {
        for (r, v) in self.rev.iter_mut().zip(x.iter().rev()) {
            *r = *v;
        }
        self
    }
}

/// One column of a product scan: a sum of 64-bit products kept as the sums of their low
/// and high halves, so adding a product carries nothing. Its value is lo + hi·2³². With at
/// most 2·limbs + 1 products per column (limbs ≤ 128) each sum stays below 2⁴², far from
/// overflow.
#[derive(Default)]
struct Column {
    lo: u64,
    hi: u64,
}

impl Column {
    fn add(&mut self, product: u64) {
        self.lo += product & 0xffff_ffff;
        self.hi += product >> 32;
    }

    /// Σ x_i·y_i over two slices of one length.
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    fn add_dot(&mut self, x: &[u32], y: &[u32]) {
        for (&xi, &yi) in x.iter().zip(y) {
            self.add(u64::from(xi) * u64::from(yi));
        }
    }

    /// Σ x_i·y_i over two slices of one length, four limbs at a time: two 32×32 → 64-bit
    /// products per instruction (`i64x2.extmul_low_i32x4_u` and `_high`), their halves
    /// summed in two 64-bit lanes each.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn add_dot(&mut self, x: &[u32], y: &[u32]) {
        use core::arch::wasm32::{
            u32x4, u64x2, u64x2_add, u64x2_extmul_high_u32x4, u64x2_extmul_low_u32x4,
            u64x2_extract_lane, u64x2_shr, u64x2_splat, v128_and,
        };
        let xs = x.chunks_exact(4);
        let ys = y.chunks_exact(4);
        let (x_rest, y_rest) = (xs.remainder(), ys.remainder());
        let mask = u64x2_splat(0xffff_ffff);
        let (mut lo, mut hi) = (u64x2(0, 0), u64x2(0, 0));
        for (xc, yc) in xs.zip(ys) {
            let vx = u32x4(xc[0], xc[1], xc[2], xc[3]);
            let vy = u32x4(yc[0], yc[1], yc[2], yc[3]);
            let p = u64x2_extmul_low_u32x4(vx, vy);
            let q = u64x2_extmul_high_u32x4(vx, vy);
            lo = u64x2_add(lo, u64x2_add(v128_and(p, mask), v128_and(q, mask)));
            hi = u64x2_add(hi, u64x2_add(u64x2_shr(p, 32), u64x2_shr(q, 32)));
        }
        self.lo += u64x2_extract_lane::<0>(lo) + u64x2_extract_lane::<1>(lo);
        self.hi += u64x2_extract_lane::<0>(hi) + u64x2_extract_lane::<1>(hi);
        for (&xi, &yi) in x_rest.iter().zip(y_rest) {
            self.add(u64::from(xi) * u64::from(yi));
        }
    }

    /// Column k of a², from limb `from` on: 2·Σ a_j·a_(k−j) over j < k − j, plus a_(k/2)²
    /// when k is even; `a_rev` is a reversed, so a_(k−j) is a_rev[s − 1 + j − k].
    fn add_cross_and_square(&mut self, a: &[u32], a_rev: &[u32], from: usize, k: usize) {
        let s = a.len();
        let half = k.div_ceil(2);
        let mut cross = Column::default();
        if from < half {
            cross.add_dot(&a[from..half], &a_rev[s - 1 + from - k..s - 1 + half - k]);
        }
        self.lo += 2 * cross.lo;
        self.hi += 2 * cross.hi;
        if k.is_multiple_of(2) {
            self.add(u64::from(a[k / 2]) * u64::from(a[k / 2]));
        }
    }

    /// The column's low limb.
    fn low(&self) -> u32 {
        self.lo as u32
    }

    /// Drops the low limb: what is left carries into the next column.
    fn shift(&mut self) {
        self.lo = (self.lo >> 32) + self.hi;
        self.hi = 0;
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
                key.mont_mul(&a, &a, &mut by_mul, &mut Scratch::new(s));
                key.mont_sqr(&a, &mut by_sqr, &mut Scratch::new(s));
                assert_eq!(by_mul, by_sqr, "{bytes}-byte modulus");
            }
        }
    }

    /// RSAVP1 against an independent big-integer library (`num-bigint-dig`, through the
    /// `rsa` crate): s^e mod n on random and crafted values, for moduli of every limb
    /// count shape (2048 to 4096 bits, lengths that are not a multiple of 32, moduli of
    /// all-ones limbs, a sparse one) and exponents from 3 to 2³³ − 1.
    #[test]
    fn public_op_matches_a_reference_modpow() {
        use rsa::BigUint;
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut moduli: Vec<Vec<u8>> = Vec::new();
        for bytes in [256usize, 257, 300, 384, 511, 512] {
            let mut n: Vec<u8> = (0..bytes).map(|_| next() as u8).collect();
            n[0] |= 0x80;
            n[bytes - 1] |= 1;
            moduli.push(n.clone());
            if bytes > 256 {
                n[0] = 1; // the top limb nearly empty
                moduli.push(n);
            }
        }
        moduli.push(vec![0xff; 256]); // 2^2048 − 1: every limb all ones
        moduli.push(vec![0xff; 512]);
        let mut sparse = vec![0u8; 256];
        sparse[0] = 0x80;
        sparse[255] = 1; // 2^2047 + 1
        moduli.push(sparse);
        for n_bytes in moduli {
            let n = BigUint::from_bytes_be(&n_bytes);
            for e in [3u64, 65537, (1 << 33) - 1, (next() % (1 << 33)) | 1] {
                let Ok(key) = RsaPublicKey::new(
                    &n_bytes,
                    &e.to_be_bytes()[e.leading_zeros() as usize / 8..],
                    2048,
                ) else {
                    panic!("key refused");
                };
                let k = key.size();
                let n_minus_1 = &n - 1u32;
                let mut values = vec![
                    BigUint::from(0u32),
                    BigUint::from(1u32),
                    BigUint::from(2u32),
                    n_minus_1.clone(),
                    &n_minus_1 - 1u32,
                    BigUint::from_bytes_be(&vec![0xff; k - 1]),
                ];
                for _ in 0..6 {
                    let bytes: Vec<u8> = (0..k).map(|_| next() as u8).collect();
                    values.push(BigUint::from_bytes_be(&bytes) % &n);
                }
                for v in values {
                    let mut sig = v.to_bytes_be();
                    if sig.len() < k {
                        sig = [vec![0u8; k - sig.len()], sig].concat();
                    }
                    let expected = v.modpow(&BigUint::from(e), &n);
                    let got = key.public_op(&sig).expect("below n");
                    assert_eq!(
                        BigUint::from_bytes_be(&got),
                        expected,
                        "{}-bit n, e = {e}",
                        key.bits()
                    );
                }
                // n itself and above are not signatures (RFC 8017 §5.2.2 step 1).
                assert!(key.public_op(&n_bytes).is_none());
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
