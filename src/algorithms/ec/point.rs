//! Points of y² = x³ − 3x + b: Jacobian coordinates with the Explicit-Formulas Database's
//! a = −3 formulas, affine points for mixed additions, the table of odd multiples that a
//! width-5 NAF digit selects, and the NAF recoding itself.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::field::Field;

/// The longest curve's element, in bytes (P-384): sizes the NAF buffers.
pub(crate) const MAX_BYTES: usize = 48;

/// A point in Jacobian coordinates (X/Z², Y/Z³); Z = 0 is the point at infinity.
#[derive(Clone, Copy)]
pub(crate) struct Point<F> {
    pub(crate) x: F,
    pub(crate) y: F,
    pub(crate) z: F,
}

impl<F: Field> Point<F> {
    pub(crate) fn infinity() -> Self {
        Point {
            x: F::ONE,
            y: F::ONE,
            z: F::ZERO,
        }
    }

    pub(crate) fn affine(x: F, y: F) -> Self {
        Point { x, y, z: F::ONE }
    }

    pub(crate) fn is_infinity(&self) -> bool {
        self.z.is_zero()
    }

    /// 2P, "dbl-2001-b" for a = −3 (infinity stays infinity: Z3 = 2·Y·Z).
    pub(crate) fn double(&self) -> Self {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.add(&t).add(&t);
        let beta4 = beta.add(&beta).add(&beta.add(&beta));
        let beta8 = beta4.add(&beta4);
        let x3 = alpha.square().sub(&beta8);
        let yz = self.y.add(&self.z);
        let z3 = yz.square().sub(&gamma).sub(&delta);
        let gamma2 = gamma.square();
        let gamma4 = gamma2.add(&gamma2);
        let gamma8 = gamma4.add(&gamma4);
        let y3 = alpha.mul(&beta4.sub(&x3)).sub(&gamma8.add(&gamma8));
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + Q, "add-2007-bl", with the cases it does not cover handled first.
    pub(crate) fn add(&self, other: &Self) -> Self {
        if self.is_infinity() {
            return *other;
        }
        if other.is_infinity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = other.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = other.x.mul(&z1z1);
        let s1 = self.y.mul(&other.z).mul(&z2z2);
        let s2 = other.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r_half = s2.sub(&s1);
        if h.is_zero() {
            // Same x: the same point (double it) or its negation (infinity).
            return if r_half.is_zero() {
                self.double()
            } else {
                Point::infinity()
            };
        }
        let h2 = h.add(&h);
        let i = h2.square();
        let j = h.mul(&i);
        let r = r_half.add(&r_half);
        let v = u1.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.add(&v));
        let s1j = s1.mul(&j);
        let y3 = r.mul(&v.sub(&x3)).sub(&s1j.add(&s1j));
        let zz = self.z.add(&other.z);
        let z3 = zz.square().sub(&z1z1).sub(&z2z2).mul(&h);
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + A for an affine A (or −A when `negate`), "madd-2007-bl" (7M + 4S against
    /// 11M + 5S), with the cases it does not cover handled first.
    pub(crate) fn add_affine(&self, a: &Affine<F>, negate: bool) -> Self {
        let y2 = if negate { F::ZERO.sub(&a.y) } else { a.y };
        if self.is_infinity() {
            return Point::affine(a.x, y2);
        }
        let z1z1 = self.z.square();
        let u2 = a.x.mul(&z1z1);
        let s2 = y2.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r_half = s2.sub(&self.y);
        if h.is_zero() {
            return if r_half.is_zero() {
                self.double()
            } else {
                Point::infinity()
            };
        }
        let hh = h.square();
        let i = hh.add(&hh).add(&hh.add(&hh));
        let j = h.mul(&i);
        let r = r_half.add(&r_half);
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.add(&v));
        let y1j = self.y.mul(&j);
        let y3 = r.mul(&v.sub(&x3)).sub(&y1j.add(&y1j));
        let zh = self.z.add(&h);
        let z3 = zh.square().sub(&z1z1).sub(&hh);
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}

/// A point in affine coordinates, for mixed additions.
#[derive(Clone, Copy)]
pub(crate) struct Affine<F> {
    pub(crate) x: F,
    pub(crate) y: F,
}

/// Jacobian points to affine with one inversion (Montgomery's trick); `None` when one
/// of them is infinity.
fn to_affine_batch<F: Field>(points: &[Point<F>]) -> Option<Vec<Affine<F>>> {
    let mut prefix = Vec::with_capacity(points.len());
    let mut running = F::ONE;
    for p in points {
        running = running.mul(&p.z);
        prefix.push(running);
    }
    if running.is_zero() {
        return None;
    }
    let mut inverse = running.invert();
    let mut out = vec![
        Affine {
            x: F::ZERO,
            y: F::ZERO,
        };
        points.len()
    ];
    for i in (0..points.len()).rev() {
        let z_inv = if i == 0 {
            inverse
        } else {
            inverse.mul(&prefix[i - 1])
        };
        inverse = inverse.mul(&points[i].z);
        let z_inv2 = z_inv.square();
        out[i] = Affine {
            x: points[i].x.mul(&z_inv2),
            y: points[i].y.mul(&z_inv2.mul(&z_inv)),
        };
    }
    Some(out)
}

/// Bits per window of a key's [`FixedBase`]: 16 points a window.
pub(crate) const KEY_WINDOW_BITS: usize = 5;
/// Bits per window of the generator's [`FixedBase`], built once per process: 64 points a
/// window, fewer windows (52 → 37 additions on P-256).
pub(crate) const GENERATOR_WINDOW_BITS: usize = 7;
/// The window widths [`FixedBase`] and [`windows`] take: [`MAX_WINDOWS`] digits hold a
/// 384-bit scalar at the narrowest.
pub(crate) const WIDTHS: std::ops::RangeInclusive<usize> = KEY_WINDOW_BITS..=GENERATOR_WINDOW_BITS;
/// Windows of the longest curve's scalar (384 bits) at the narrowest width.
pub(crate) const MAX_WINDOWS: usize = window_count(8 * MAX_BYTES, KEY_WINDOW_BITS);

/// Windows of `width` bits for a scalar of `bits` bits: one bit more than the scalar,
/// for the carry of the top window's signed digit.
pub(crate) const fn window_count(bits: usize, width: usize) -> usize {
    (bits + 1).div_ceil(width)
}

/// A fixed base's precomputed multiples, for a scalar multiplication without
/// doublings: window j holds d·2^(w·j)·P for d = 1..=2^(w−1), in affine coordinates, so
/// k·P = Σ_j D_j(k)·2^(w·j)·P is one mixed addition per non-zero signed digit
/// ([`windows`]). For a public key that verifies many tokens (a JWKS key lives for
/// hours; w = 5: 52 windows × 16 points on P-256, about 53 KB, 77 on P-384, about
/// 118 KB) and for the generator (w = 7: 37 × 64 points, about 152 KB, on P-256).
pub(crate) struct FixedBase<F> {
    width: usize,
    /// Window j's points, d = 1..=2^(w−1), at `j·2^(w−1) + d − 1`.
    points: Vec<Affine<F>>,
}

impl<F: Field> FixedBase<F> {
    /// The multiples of `p` for scalars of `bits` bits in windows of `width` bits
    /// ([`WIDTHS`]); `None` when one of them is infinity (p is infinity: these curves
    /// have prime order) or the width is out of range.
    pub(crate) fn new(p: &Point<F>, bits: usize, width: usize) -> Option<Self> {
        if !WIDTHS.contains(&width) {
            return None;
        }
        let entries = 1usize << (width - 1);
        let count = window_count(bits, width);
        let mut jacobian = Vec::with_capacity(count * entries);
        let mut base = *p;
        for _ in 0..count {
            let mut multiple = base;
            jacobian.push(multiple);
            for _ in 1..entries {
                multiple = multiple.add(&base);
                jacobian.push(multiple);
            }
            // 2^w·base = 2·(2^(w−1)·base).
            base = multiple.double();
        }
        Some(FixedBase {
            width,
            points: to_affine_batch(&jacobian)?,
        })
    }

    /// A base no verification passes with (it has no multiples).
    pub(crate) fn zero() -> Self {
        FixedBase {
            width: KEY_WINDOW_BITS,
            points: Vec::new(),
        }
    }

    /// Its window width in bits.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// acc + D·2^(w·j)·P for window `j`'s signed digit D in [−(2^(w−1) − 1), 2^(w−1)].
    pub(crate) fn add_digit(&self, acc: &Point<F>, j: usize, digit: i8) -> Point<F> {
        if digit == 0 {
            return *acc;
        }
        let entries = 1usize << (self.width - 1);
        let index = (j * entries).saturating_add(usize::from(digit.unsigned_abs()) - 1);
        match self.points.get(index) {
            Some(point) => acc.add_affine(point, digit < 0),
            // The zero stand-in: an unusable result (Z = 0 refuses every signature).
            None => Point::infinity(),
        }
    }

    /// Bytes the table holds.
    #[cfg(test)]
    pub(crate) fn size_bytes(&self) -> usize {
        self.points.len() * std::mem::size_of::<Affine<F>>()
    }
}

/// Signed `width`-bit windows ([`WIDTHS`]) of a big-endian scalar of at most 48 bytes,
/// least significant first: digits in [−(2^(w−1) − 1), 2^(w−1)] with
/// Σ D_j·2^(w·j) = k. Windows past [`window_count`] are zero; the last one, over the
/// scalar's top bit and one more, never carries. Another width or a longer scalar
/// gives all zeros.
pub(crate) fn windows(bytes: &[u8], width: usize) -> [i8; MAX_WINDOWS] {
    let bits = 8 * bytes.len();
    if !WIDTHS.contains(&width) || bytes.len() > MAX_BYTES {
        return [0i8; MAX_WINDOWS];
    }
    let bit = |i: usize| -> u16 {
        if i >= bits {
            return 0;
        }
        u16::from((bytes[bytes.len() - 1 - i / 8] >> (i % 8)) & 1)
    };
    let half = 1u16 << (width - 1);
    let mut digits = [0i8; MAX_WINDOWS];
    let mut carry = 0u16;
    for (j, digit) in digits
        .iter_mut()
        .enumerate()
        .take(window_count(bits, width))
    {
        let mut v = carry;
        for b in 0..width {
            v += bit(j * width + b) << b;
        }
        if v > half {
            *digit = (i16::try_from(v).unwrap_or(0) - (1i16 << width)) as i8;
            carry = 1;
        } else {
            *digit = v as i8;
            carry = 0;
        }
    }
    digits
}

/// P, 3P, 5P, … 15P in affine coordinates: the odd multiples a width-5 NAF digit
/// selects.
pub(crate) struct Table<F>([Affine<F>; 8]);

impl<F: Field> Table<F> {
    /// The table of `p`, or `None` when one of its multiples is infinity (P has small
    /// order, which no point of these prime-order curves has but infinity itself).
    pub(crate) fn new(p: &Point<F>) -> Option<Self> {
        let twice = p.double();
        let mut jacobian = [*p; 8];
        for i in 1..8 {
            jacobian[i] = jacobian[i - 1].add(&twice);
        }
        // Montgomery's trick: one inversion for the eight Z.
        let mut prefix = [F::ZERO; 8];
        let mut running = jacobian[0].z;
        prefix[0] = running;
        for i in 1..8 {
            running = running.mul(&jacobian[i].z);
            prefix[i] = running;
        }
        if running.is_zero() {
            return None;
        }
        let mut inverse = running.invert();
        let mut points = [Affine {
            x: F::ZERO,
            y: F::ZERO,
        }; 8];
        for i in (0..8).rev() {
            let z_inv = if i == 0 {
                inverse
            } else {
                inverse.mul(&prefix[i - 1])
            };
            inverse = inverse.mul(&jacobian[i].z);
            let z_inv2 = z_inv.square();
            points[i] = Affine {
                x: jacobian[i].x.mul(&z_inv2),
                y: jacobian[i].y.mul(&z_inv2.mul(&z_inv)),
            };
        }
        Some(Table(points))
    }

    /// A table of zeros: a stand-in that no verification passes with.
    pub(crate) fn zero() -> Self {
        Table(
            [Affine {
                x: F::ZERO,
                y: F::ZERO,
            }; 8],
        )
    }

    /// acc + d·P for a NAF digit d (odd, |d| ≤ 15) or 0.
    pub(crate) fn add_digit(&self, acc: &Point<F>, digit: i8) -> Point<F> {
        match digit {
            0 => *acc,
            d if d > 0 => acc.add_affine(&self.0[(d / 2) as usize], false),
            d => acc.add_affine(&self.0[(-d / 2) as usize], true),
        }
    }
}

/// Digits of a width-5 NAF, for scalars up to the longest curve's length.
pub(crate) type Naf = [i8; 8 * MAX_BYTES + 1];

/// The width-5 NAF of a big-endian scalar (at most 48 bytes), least significant digit
/// first: digits odd in [−15, 15] or 0, any two non-zero ones at least 5 apart. Digits
/// past 8·len + 1 are zero.
pub(crate) fn naf5(bytes: &[u8]) -> Naf {
    // Little-endian 32-bit limbs, one more for the carry of negative digits.
    let mut scratch = [0u32; MAX_BYTES / 4 + 1];
    let k = &mut scratch[..bytes.len().div_ceil(4) + 1];
    for (i, byte) in bytes.iter().rev().enumerate() {
        k[i / 4] |= u32::from(*byte) << (8 * (i % 4));
    }
    let mut digits = [0i8; 8 * MAX_BYTES + 1];
    for digit in digits.iter_mut() {
        if k.iter().all(|limb| *limb == 0) {
            break;
        }
        if k[0] & 1 == 1 {
            let mut d = (k[0] & 31) as i32;
            if d >= 16 {
                d -= 32;
            }
            *digit = d as i8;
            // k −= d, so k becomes divisible by 32.
            if d > 0 {
                let mut borrow = d as u64;
                for limb in k.iter_mut() {
                    let v = u64::from(*limb).wrapping_sub(borrow);
                    *limb = v as u32;
                    borrow = (v >> 63) & 1;
                    if borrow == 0 {
                        break;
                    }
                }
            } else {
                let mut carry = (-d) as u64;
                for limb in k.iter_mut() {
                    let v = u64::from(*limb) + carry;
                    *limb = v as u32;
                    carry = v >> 32;
                    if carry == 0 {
                        break;
                    }
                }
            }
        }
        // k >>= 1.
        for i in 0..k.len() {
            let next = k.get(i + 1).map_or(0, |l| l << 31);
            k[i] = (k[i] >> 1) | next;
        }
    }
    digits
}
