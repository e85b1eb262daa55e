//! Arithmetic modulo a prime m in Montgomery form (an element a is held as a·R mod m,
//! R = 2^(32·limbs)), for a curve's field (m = p) and its scalars (m = n).
//!
//! The four operations that cost are fiat-crypto's, bound to [`Field`] by `curves.rs`;
//! everything else is written once here: entering and leaving Montgomery form through a
//! multiplication (so fiat's separate conversion routines, each as large as a
//! multiplication, are not linked), the constants R mod m, R² and R³ computed at compile
//! time, and the inversion by the binary extended Euclidean algorithm.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

/// `[u8; N]`: an element's big-endian encoding.
pub(crate) trait ByteArray:
    Copy + Ord + AsRef<[u8]> + AsMut<[u8]> + for<'a> TryFrom<&'a [u8]>
{
    /// N.
    const LEN: usize;
    /// N zero bytes.
    const ZERO: Self;
}

impl<const N: usize> ByteArray for [u8; N] {
    const LEN: usize = N;
    const ZERO: Self = [0; N];
}

/// A prime field in Montgomery form over 32-bit limbs. The required items are bound to
/// fiat-crypto by `curves.rs`; the provided ones build on them.
pub(crate) trait Field: Copy + 'static {
    /// An element's big-endian encoding, `[u8; 4·limbs]`.
    type Bytes: ByteArray;
    /// The modulus m, big-endian.
    const MODULUS: Self::Bytes;
    /// The modulus m, little-endian limbs.
    const MODULUS_LIMBS: &'static [u32];
    /// Zero.
    const ZERO: Self;
    /// One: R mod m.
    const ONE: Self;
    /// R² mod m: a Montgomery product with it enters Montgomery form.
    const R2: Self;
    /// R³ mod m: a Montgomery product with it turns the plain inverse of a's limbs
    /// (a⁻¹·R⁻¹) into a⁻¹ in Montgomery form.
    const R3: Self;

    /// a·b (fiat-crypto).
    fn mul(&self, other: &Self) -> Self;
    /// a² (fiat-crypto).
    fn square(&self) -> Self;
    /// a + b (fiat-crypto).
    fn add(&self, other: &Self) -> Self;
    /// a − b (fiat-crypto).
    fn sub(&self, other: &Self) -> Self;
    /// The limbs, little-endian.
    fn limbs(&self) -> &[u32];
    /// The limbs, little-endian, to write.
    fn limbs_mut(&mut self) -> &mut [u32];

    /// a = 0 (elements are always fully reduced).
    fn is_zero(&self) -> bool {
        self.limbs().iter().all(|limb| *limb == 0)
    }

    /// a = b.
    fn equals(&self, other: &Self) -> bool {
        self.sub(other).is_zero()
    }

    /// An element from big-endian bytes, or `None` when they are not below m.
    fn from_be(bytes: &Self::Bytes) -> Option<Self> {
        (*bytes < Self::MODULUS).then(|| Self::from_canonical(bytes))
    }

    /// An element from big-endian bytes already below m.
    fn from_canonical(bytes: &Self::Bytes) -> Self {
        let mut plain = Self::ZERO;
        let limbs = plain.limbs_mut();
        for (i, byte) in bytes.as_ref().iter().rev().enumerate() {
            limbs[i / 4] |= u32::from(*byte) << (8 * (i % 4));
        }
        // plain·R²·R⁻¹ = plain·R: Montgomery form through the one multiplication.
        plain.mul(&Self::R2)
    }

    /// The element as big-endian bytes, out of Montgomery form.
    fn to_be(&self) -> Self::Bytes {
        // a·R·1·R⁻¹ = a: out of Montgomery form through the one multiplication.
        let mut one = Self::ZERO;
        one.limbs_mut()[0] = 1;
        let plain = self.mul(&one);
        let mut out = Self::Bytes::ZERO;
        let limbs = plain.limbs();
        for (i, byte) in out.as_mut().iter_mut().rev().enumerate() {
            *byte = (limbs[i / 4] >> (8 * (i % 4))) as u8;
        }
        out
    }

    /// a⁻¹ for a ≠ 0 (zero for zero). The limbs of a hold a·R; their inverse mod m is
    /// a⁻¹·R⁻¹, and a Montgomery product with R³ makes it a⁻¹·R.
    fn invert(&self) -> Self {
        let mut inverse = Self::ZERO;
        if inverse_mod(self.limbs(), Self::MODULUS_LIMBS, inverse.limbs_mut()) {
            inverse.mul(&Self::R3)
        } else {
            Self::ZERO
        }
    }
}

/// a⁻¹ mod m into `out`, for odd m and 0 < a < m, all of one length, by the binary
/// extended Euclidean algorithm (HAC 14.61 in its modular form). Variable time, which is
/// fine: verification handles public values only. About 2·log₂m cheap steps instead of
/// Fermat's log₂m squarings and multiplications; `false` when a is not invertible.
pub(crate) fn inverse_mod(a: &[u32], m: &[u32], out: &mut [u32]) -> bool {
    fn is_zero(x: &[u32]) -> bool {
        x.iter().all(|&w| w == 0)
    }
    fn is_one(x: &[u32]) -> bool {
        x.split_first()
            .is_some_and(|(low, rest)| *low == 1 && is_zero(rest))
    }
    fn is_even(x: &[u32]) -> bool {
        x.first().is_some_and(|low| low & 1 == 0)
    }
    /// x ≥ y, for equal lengths.
    fn at_least(x: &[u32], y: &[u32]) -> bool {
        for (xi, yi) in x.iter().zip(y).rev() {
            if xi != yi {
                return xi > yi;
            }
        }
        true
    }
    /// x −= y, returning the borrow.
    fn sub_assign(x: &mut [u32], y: &[u32]) -> bool {
        let mut borrow = 0u64;
        for (xi, &yi) in x.iter_mut().zip(y) {
            let v = u64::from(*xi)
                .wrapping_sub(u64::from(yi))
                .wrapping_sub(borrow);
            *xi = v as u32;
            borrow = (v >> 63) & 1;
        }
        borrow == 1
    }
    /// x += y, returning the carry.
    fn add_assign(x: &mut [u32], y: &[u32]) -> bool {
        let mut carry = 0u64;
        for (xi, &yi) in x.iter_mut().zip(y) {
            let v = u64::from(*xi) + u64::from(yi) + carry;
            *xi = v as u32;
            carry = v >> 32;
        }
        carry == 1
    }
    /// x / 2, with `top` as the bit shifted in from above.
    fn halve(x: &mut [u32], top: bool) {
        let mut high = u32::from(top);
        for w in x.iter_mut().rev() {
            let low = *w & 1;
            *w = (*w >> 1) | (high << 31);
            high = low;
        }
    }
    /// x / 2 mod m, for x < m.
    fn halve_mod(x: &mut [u32], m: &[u32]) {
        let carry = !is_even(x) && add_assign(x, m);
        halve(x, carry);
    }
    /// x − y mod m, for x, y < m.
    fn sub_mod(x: &mut [u32], y: &[u32], m: &[u32]) {
        if sub_assign(x, y) {
            add_assign(x, m);
        }
    }

    let limbs = m.len();
    if a.len() != limbs || out.len() != limbs || is_zero(a) || !at_least(m, a) || is_even(m) {
        return false;
    }
    let (mut u, mut v) = (a.to_vec(), m.to_vec());
    let mut x1 = vec![0u32; limbs];
    if let Some(low) = x1.first_mut() {
        *low = 1;
    }
    let mut x2 = vec![0u32; limbs];
    while !is_one(&u) && !is_one(&v) {
        if is_zero(&u) || is_zero(&v) {
            return false;
        }
        while is_even(&u) {
            halve(&mut u, false);
            halve_mod(&mut x1, m);
        }
        while is_even(&v) {
            halve(&mut v, false);
            halve_mod(&mut x2, m);
        }
        if at_least(&u, &v) {
            sub_assign(&mut u, &v);
            sub_mod(&mut x1, &x2, m);
        } else {
            sub_assign(&mut v, &u);
            sub_mod(&mut x2, &x1, m);
        }
    }
    out.copy_from_slice(if is_one(&u) { &x1 } else { &x2 });
    true
}

// ---------------------------------------------------------------- compile-time constants
//
// Only ever evaluated at compile time, on the curve constants in `curves.rs`: a bad
// literal fails the build, never a request.

/// Big-endian hex text as bytes.
#[allow(clippy::panic)]
pub(crate) const fn hex<const B: usize>(text: &str) -> [u8; B] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not hex"),
        }
    }
    let bytes = text.as_bytes();
    assert!(bytes.len() == 2 * B, "hex of the wrong length");
    let mut out = [0u8; B];
    let mut i = 0;
    while i < B {
        out[i] = (nibble(bytes[2 * i]) << 4) | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

/// Big-endian bytes as little-endian 32-bit limbs (`B` = 4·`L`).
pub(crate) const fn limbs_le<const L: usize, const B: usize>(be: &[u8; B]) -> [u32; L] {
    assert!(B == 4 * L, "bytes and limbs disagree");
    let mut out = [0u32; L];
    let mut i = 0;
    while i < B {
        out[i / 4] |= (be[B - 1 - i] as u32) << (8 * (i % 4));
        i += 1;
    }
    out
}

/// The Montgomery form of a big-endian hex value below the modulus (also hex):
/// value·R mod m.
pub(crate) const fn montgomery_hex<const L: usize, const B: usize>(
    value: &str,
    modulus: &str,
) -> [u32; L] {
    times_r(
        limbs_le::<L, B>(&hex(value)),
        &limbs_le::<L, B>(&hex(modulus)),
        1,
    )
}

/// R^k mod m for the modulus in big-endian hex: k = 1 is the Montgomery form of one,
/// k = 2 and 3 are the R² and R³ of [`Field`].
pub(crate) const fn r_power<const L: usize, const B: usize>(modulus: &str, k: usize) -> [u32; L] {
    let mut one = [0u32; L];
    one[0] = 1;
    times_r(one, &limbs_le::<L, B>(&hex(modulus)), k)
}

/// x·R^k mod m for x < m (R = 2^(32·L)), as 32·L·k modular doublings.
const fn times_r<const L: usize>(x: [u32; L], m: &[u32; L], k: usize) -> [u32; L] {
    let mut x = x;
    // x < m, or the doublings below would not reduce it.
    let mut below = false;
    let mut i = L;
    while i > 0 {
        i -= 1;
        if x[i] != m[i] {
            below = x[i] < m[i];
            break;
        }
    }
    assert!(below, "not below the modulus");
    let mut step = 0;
    while step < 32 * L * k {
        // 2x < 2m: at most one subtraction brings it below m.
        let mut carry = 0u32;
        let mut i = 0;
        while i < L {
            let next = x[i] >> 31;
            x[i] = (x[i] << 1) | carry;
            carry = next;
            i += 1;
        }
        let mut at_least_m = carry == 1;
        if !at_least_m {
            at_least_m = true;
            let mut i = L;
            while i > 0 {
                i -= 1;
                if x[i] != m[i] {
                    at_least_m = x[i] > m[i];
                    break;
                }
            }
        }
        if at_least_m {
            let mut borrow = 0u64;
            let mut i = 0;
            while i < L {
                let v = (x[i] as u64).wrapping_sub(m[i] as u64).wrapping_sub(borrow);
                x[i] = v as u32;
                borrow = (v >> 63) & 1;
                i += 1;
            }
        }
        step += 1;
    }
    x
}
