//! ES256 and ES384 verification (ECDSA over P-256 and P-384, FIPS 186-5 §6.4.2;
//! RFC 7518 §3.4), for verification only, where everything is public: variable time is
//! fine.
//!
//! The field and scalar arithmetic is fiat-crypto's (formally verified, 32-bit limbs,
//! 64-bit products: native WebAssembly operations). On top of it, written once for both
//! curves by `ecdsa_curve!`: Jacobian coordinates (a = −3 doubling "dbl-2001-b",
//! addition "add-2007-bl", Explicit-Formulas Database), Shamir's trick with 4-bit
//! windows, and the final check without an inversion (x(R) ≡ r is X = r·Z² or
//! X = (r + n)·Z²). A public key's window table is built once, when the key is imported.
//! Inversions (the table's, and s⁻¹ mod n) use the binary extended Euclidean algorithm.
//! The `p256`/`p384` crates cost 1.3 ms / 7.7 ms of CPU per verification in wasm: their
//! field code multiplies through 128-bit integers (a function call in WebAssembly) and
//! selects table entries in constant time, which verification does not need.
//!
//! No panics, by argument (as in `rsa_public`, whose header explains the allowance):
//! - Lengths: every array has a fixed size ([u32; limbs], [u8; bytes], tables of 8
//!   points); a width-5 NAF digit d is odd with |d| ≤ 15, so (|d| − 1)/2 indexes a table
//!   of 8; public-key coordinates and signature halves are split at fixed offsets after
//!   their lengths are checked.
//! - Arithmetic: fiat-crypto's field code is proven free of overflow; the byte and limb
//!   helpers here (carries, borrows, r + n) work in a wider type than their inputs.
//! - Checked by: `tests/ecdsa_verify.rs` (differential against the `p256`/`p384` crates,
//!   Wycheproof-style edge cases) and the `jwks`/`verify` fuzz targets with overflow checks.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::sync::OnceLock;

use sha2::Digest;

// Only ever evaluated at compile time, on the curve constants below: a bad literal
// fails the build, never a request.
#[allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
const fn hex<const L: usize>(text: &str) -> [u8; L] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not hex"),
        }
    }
    let bytes = text.as_bytes();
    let mut out = [0u8; L];
    let mut i = 0;
    while i < L {
        out[i] = (nibble(bytes[2 * i]) << 4) | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

/// Big-endian bytes as little-endian 32-bit limbs (`B` = 4·`L`).
const fn limbs_le<const L: usize, const B: usize>(be: &[u8; B]) -> [u32; L] {
    let mut out = [0u32; L];
    let mut i = 0;
    while i < B {
        out[i / 4] |= (be[B - 1 - i] as u32) << (8 * (i % 4));
        i += 1;
    }
    out
}

/// a⁻¹ mod m, for odd m and 0 < a < m, by the binary extended Euclidean algorithm
/// (HAC 14.61 in its modular form). Variable time, which is fine: verification
/// handles public values only. About 2·log₂m cheap steps instead of Fermat's
/// log₂m squarings and multiplications; `None` when a is not invertible.
fn inverse_mod<const L: usize>(a: &[u32; L], m: &[u32; L]) -> Option<[u32; L]> {
    let mut out = [0u32; L];
    inverse_mod_limbs(a, m, &mut out).then_some(out)
}

/// `inverse_mod` over slices of one length, so that both curves share one copy.
fn inverse_mod_limbs(a: &[u32], m: &[u32], out: &mut [u32]) -> bool {
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

/// One curve's verifier, over fiat-crypto's modules for its field and its scalars.
macro_rules! ecdsa_curve {
    (
        mod $name:ident: $bytes:literal bytes, $limbs:literal limbs, $hash:ty;
        p = $p:literal, n = $n:literal, b = $b:literal, gx = $gx:literal, gy = $gy:literal;
        field $field:ident {
            $fe:ident, $f_mul:ident, $f_square:ident, $f_add:ident,
            $f_sub:ident, $f_nonzero:ident, $f_from_bytes:ident, $f_set_one:ident
        }
        scalar $scalar:ident {
            $sc:ident, $s_mul:ident, $s_add:ident, $s_from_bytes:ident, $s_to_bytes:ident,
            $s_set_one:ident
        }
    ) => {
        pub(crate) mod $name {
            use super::*;
            use fiat_crypto::$field::{
                $f_add as f_add, $f_from_bytes as f_from_bytes, $f_mul as f_mul,
                $f_nonzero as f_nonzero, $f_set_one as f_set_one, $f_square as f_square,
                $f_sub as f_sub, $fe as Fe,
            };
            use fiat_crypto::$scalar::{
                $s_add as s_add, $s_from_bytes as s_from_bytes, $s_mul as s_mul,
                $s_set_one as s_set_one, $s_to_bytes as s_to_bytes, $sc as Sc,
            };

            /// The field prime p, big-endian.
            const P: [u8; $bytes] = hex($p);
            /// The group order n.
            const N: [u8; $bytes] = hex($n);
            /// The curve coefficient b (a = −3).
            const B: [u8; $bytes] = hex($b);
            /// The base point G.
            const GX: [u8; $bytes] = hex($gx);
            const GY: [u8; $bytes] = hex($gy);

            // ---------------------------------------------------------------- field

            fn reversed(bytes: &[u8; $bytes]) -> [u8; $bytes] {
                let mut out = *bytes;
                out.reverse();
                out
            }

            /// A field element from big-endian bytes, or `None` when it is not below p.
            fn fe(bytes: &[u8; $bytes]) -> Option<Fe> {
                if *bytes >= P {
                    return None;
                }
                let mut limbs = [0u32; $limbs];
                f_from_bytes(&mut limbs, &reversed(bytes));
                // limbs·R²·R⁻¹ = limbs·R: Montgomery form through the one multiplication.
                let out = mul(&Fe(limbs), field_r2());
                Some(out)
            }

            trait Zero {
                fn from_zero() -> Self;
            }
            impl Zero for Fe {
                fn from_zero() -> Self {
                    Fe([0; $limbs])
                }
            }
            impl Zero for Sc {
                fn from_zero() -> Self {
                    Sc([0; $limbs])
                }
            }

            fn mul(a: &Fe, b: &Fe) -> Fe {
                let mut out = Fe::from_zero();
                f_mul(&mut out, a, b);
                out
            }
            fn sqr(a: &Fe) -> Fe {
                let mut out = Fe::from_zero();
                f_square(&mut out, a);
                out
            }
            fn add(a: &Fe, b: &Fe) -> Fe {
                let mut out = Fe::from_zero();
                f_add(&mut out, a, b);
                out
            }
            fn sub(a: &Fe, b: &Fe) -> Fe {
                let mut out = Fe::from_zero();
                f_sub(&mut out, a, b);
                out
            }
            /// R² mod p (R = 2^(32·limbs)): R mod p, Montgomery's one, doubled log₂R times.
            /// Multiplying by it enters Montgomery form, so fiat's separate conversion
            /// routine (as large as a multiplication, unrolled) is not linked.
            fn field_r2() -> &'static Fe {
                static R2: OnceLock<Fe> = OnceLock::new();
                R2.get_or_init(|| {
                    let mut acc = Fe::from_zero();
                    f_set_one(&mut acc);
                    for _ in 0..32 * $limbs {
                        acc = add(&acc, &acc);
                    }
                    acc
                })
            }
            fn is_zero(a: &Fe) -> bool {
                let mut nonzero = 0u32;
                f_nonzero(&mut nonzero, &a.0);
                nonzero == 0
            }
            fn equal(a: &Fe, b: &Fe) -> bool {
                is_zero(&sub(a, b))
            }

            /// The constants in Montgomery form, computed once.
            struct Constants {
                b: Fe,
                g: Table,
            }

            fn constants() -> &'static Constants {
                static CONSTANTS: OnceLock<Constants> = OnceLock::new();
                CONSTANTS.get_or_init(|| {
                    // The constants are below p: `fe` cannot fail on them.
                    let b = fe(&B).unwrap_or_else(Fe::from_zero);
                    let g = Point::affine(
                        fe(&GX).unwrap_or_else(Fe::from_zero),
                        fe(&GY).unwrap_or_else(Fe::from_zero),
                    );
                    Constants {
                        b,
                        g: Table::new(&g).unwrap_or(Table(
                            [Affine {
                                x: Fe::from_zero(),
                                y: Fe::from_zero(),
                            }; 8],
                        )),
                    }
                })
            }

            // ---------------------------------------------------------------- points

            /// A point in Jacobian coordinates (X/Z², Y/Z³); Z = 0 is the point at infinity.
            #[derive(Clone, Copy)]
            struct Point {
                x: Fe,
                y: Fe,
                z: Fe,
            }

            impl Point {
                fn infinity() -> Self {
                    let mut one = Fe::from_zero();
                    f_set_one(&mut one);
                    Point {
                        x: one,
                        y: one,
                        z: Fe::from_zero(),
                    }
                }

                fn affine(x: Fe, y: Fe) -> Self {
                    let mut one = Fe::from_zero();
                    f_set_one(&mut one);
                    Point { x, y, z: one }
                }

                fn is_infinity(&self) -> bool {
                    is_zero(&self.z)
                }

                /// 2P, "dbl-2001-b" for a = −3 (infinity stays infinity: Z3 = 2·Y·Z).
                fn double(&self) -> Self {
                    let delta = sqr(&self.z);
                    let gamma = sqr(&self.y);
                    let beta = mul(&self.x, &gamma);
                    let t = mul(&sub(&self.x, &delta), &add(&self.x, &delta));
                    let alpha = add(&add(&t, &t), &t);
                    let beta4 = add(&add(&beta, &beta), &add(&beta, &beta));
                    let beta8 = add(&beta4, &beta4);
                    let x3 = sub(&sqr(&alpha), &beta8);
                    let yz = add(&self.y, &self.z);
                    let z3 = sub(&sub(&sqr(&yz), &gamma), &delta);
                    let gamma2 = sqr(&gamma);
                    let gamma4 = add(&gamma2, &gamma2);
                    let gamma8 = add(&gamma4, &gamma4);
                    let y3 = sub(&mul(&alpha, &sub(&beta4, &x3)), &add(&gamma8, &gamma8));
                    Point {
                        x: x3,
                        y: y3,
                        z: z3,
                    }
                }

                /// P + Q, "add-2007-bl", with the cases it does not cover handled first.
                fn add(&self, other: &Point) -> Self {
                    if self.is_infinity() {
                        return *other;
                    }
                    if other.is_infinity() {
                        return *self;
                    }
                    let z1z1 = sqr(&self.z);
                    let z2z2 = sqr(&other.z);
                    let u1 = mul(&self.x, &z2z2);
                    let u2 = mul(&other.x, &z1z1);
                    let s1 = mul(&mul(&self.y, &other.z), &z2z2);
                    let s2 = mul(&mul(&other.y, &self.z), &z1z1);
                    let h = sub(&u2, &u1);
                    let r_half = sub(&s2, &s1);
                    if is_zero(&h) {
                        // Same x: the same point (double it) or its negation (infinity).
                        return if is_zero(&r_half) {
                            self.double()
                        } else {
                            Point::infinity()
                        };
                    }
                    let h2 = add(&h, &h);
                    let i = sqr(&h2);
                    let j = mul(&h, &i);
                    let r = add(&r_half, &r_half);
                    let v = mul(&u1, &i);
                    let x3 = sub(&sub(&sqr(&r), &j), &add(&v, &v));
                    let s1j = mul(&s1, &j);
                    let y3 = sub(&mul(&r, &sub(&v, &x3)), &add(&s1j, &s1j));
                    let zz = add(&self.z, &other.z);
                    let z3 = mul(&sub(&sub(&sqr(&zz), &z1z1), &z2z2), &h);
                    Point {
                        x: x3,
                        y: y3,
                        z: z3,
                    }
                }
            }

            /// A point in affine coordinates, for mixed additions.
            #[derive(Clone, Copy)]
            struct Affine {
                x: Fe,
                y: Fe,
            }

            impl Point {
                /// P + A for an affine A, "madd-2007-bl" (7M + 4S against 11M + 5S), with
                /// the cases it does not cover handled first.
                fn add_affine(&self, a: &Affine, negate: bool) -> Self {
                    let y2 = if negate {
                        sub(&Fe::from_zero(), &a.y)
                    } else {
                        a.y
                    };
                    if self.is_infinity() {
                        return Point::affine(a.x, y2);
                    }
                    let z1z1 = sqr(&self.z);
                    let u2 = mul(&a.x, &z1z1);
                    let s2 = mul(&mul(&y2, &self.z), &z1z1);
                    let h = sub(&u2, &self.x);
                    let r_half = sub(&s2, &self.y);
                    if is_zero(&h) {
                        return if is_zero(&r_half) {
                            self.double()
                        } else {
                            Point::infinity()
                        };
                    }
                    let hh = sqr(&h);
                    let i = add(&add(&hh, &hh), &add(&hh, &hh));
                    let j = mul(&h, &i);
                    let r = add(&r_half, &r_half);
                    let v = mul(&self.x, &i);
                    let x3 = sub(&sub(&sqr(&r), &j), &add(&v, &v));
                    let y1j = mul(&self.y, &j);
                    let y3 = sub(&mul(&r, &sub(&v, &x3)), &add(&y1j, &y1j));
                    let zh = add(&self.z, &h);
                    let z3 = sub(&sub(&sqr(&zh), &z1z1), &hh);
                    Point {
                        x: x3,
                        y: y3,
                        z: z3,
                    }
                }
            }

            /// a⁻¹ for a ≠ 0 (zero for zero). The limbs of a hold a·R; their inverse
            /// mod p is a⁻¹·R⁻¹, and a Montgomery product with R³ makes it a⁻¹·R.
            fn invert(a: &Fe) -> Fe {
                const P_LIMBS: [u32; $limbs] = limbs_le(&P);
                static R3: OnceLock<Fe> = OnceLock::new();
                let r3 = R3.get_or_init(|| mul(field_r2(), field_r2()));
                match inverse_mod(&a.0, &P_LIMBS) {
                    Some(inverse) => mul(&Fe(inverse), r3),
                    None => Fe::from_zero(),
                }
            }

            /// P, 3P, 5P, … 15P in affine coordinates: the odd multiples a width-5 NAF
            /// digit selects. `None` when one of them is infinity (P has small order,
            /// which no point of these prime-order curves has but infinity itself).
            #[derive(Clone)]
            struct Table([Affine; 8]);

            impl Table {
                fn new(p: &Point) -> Option<Self> {
                    let twice = p.double();
                    let mut jacobian = [*p; 8];
                    for i in 1..8 {
                        jacobian[i] = jacobian[i - 1].add(&twice);
                    }
                    // Montgomery's trick: one inversion for the eight Z.
                    let mut prefix = [Fe::from_zero(); 8];
                    let mut running = jacobian[0].z;
                    prefix[0] = running;
                    for i in 1..8 {
                        running = mul(&running, &jacobian[i].z);
                        prefix[i] = running;
                    }
                    if is_zero(&running) {
                        return None;
                    }
                    let mut inverse = invert(&running);
                    let mut points = [Affine {
                        x: Fe::from_zero(),
                        y: Fe::from_zero(),
                    }; 8];
                    for i in (0..8).rev() {
                        let z_inv = if i == 0 {
                            inverse
                        } else {
                            mul(&inverse, &prefix[i - 1])
                        };
                        inverse = mul(&inverse, &jacobian[i].z);
                        let z_inv2 = sqr(&z_inv);
                        points[i] = Affine {
                            x: mul(&jacobian[i].x, &z_inv2),
                            y: mul(&jacobian[i].y, &mul(&z_inv2, &z_inv)),
                        };
                    }
                    Some(Table(points))
                }

                /// acc + d·P for a NAF digit d (odd, |d| ≤ 15) or 0.
                fn add_digit(&self, acc: &Point, digit: i8) -> Point {
                    match digit {
                        0 => *acc,
                        d if d > 0 => acc.add_affine(&self.0[(d / 2) as usize], false),
                        d => acc.add_affine(&self.0[(-d / 2) as usize], true),
                    }
                }
            }

            /// The width-5 NAF of a big-endian scalar, least significant digit first:
            /// digits odd in [−15, 15] or 0, any two non-zero ones at least 5 apart.
            fn naf5(bytes: &[u8; $bytes]) -> [i8; 8 * $bytes + 1] {
                // Little-endian 32-bit limbs, one more for the carry of negative digits.
                let mut k = [0u32; $limbs + 1];
                for (i, byte) in bytes.iter().rev().enumerate() {
                    k[i / 4] |= u32::from(*byte) << (8 * (i % 4));
                }
                let mut digits = [0i8; 8 * $bytes + 1];
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

            /// A validated public key with its table of odd multiples.
            #[derive(Clone)]
            pub(crate) struct PublicKey {
                table: Table,
            }

            impl PublicKey {
                /// The key (x, y), big-endian, of the curve's length each: both below p and on the curve
                /// y² = x³ − 3x + b (SP 800-186 §3.2.1.3). `None` otherwise.
                pub fn new(x: &[u8], y: &[u8]) -> Option<Self> {
                    let x = fe(x.try_into().ok()?)?;
                    let y = fe(y.try_into().ok()?)?;
                    let x3 = mul(&sqr(&x), &x);
                    let three_x = add(&add(&x, &x), &x);
                    let rhs = add(&sub(&x3, &three_x), &constants().b);
                    if !equal(&sqr(&y), &rhs) {
                        return None;
                    }
                    Some(PublicKey {
                        table: Table::new(&Point::affine(x, y))?,
                    })
                }

                /// Verifies a signature (`R‖S`, twice the curve's length) over `message`.
                pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
                    let Some((r, s)) = signature.split_at_checked($bytes) else {
                        return false;
                    };
                    let (Ok(r), Ok(s)) = (<[u8; $bytes]>::try_from(r), <[u8; $bytes]>::try_from(s))
                    else {
                        return false;
                    };
                    // FIPS 186-5 §6.4.2 step 1: r and s in [1, n − 1].
                    let (Some(r_sc), Some(s_sc)) = (scalar(&r), scalar(&s)) else {
                        return false;
                    };
                    // Steps 2–3: e is the hash (as long as n: no truncation), reduced mod n.
                    let mut digest = [0u8; $bytes];
                    digest.copy_from_slice(&<$hash as Digest>::digest(message));
                    let e = scalar_reduced(&digest);
                    // Steps 4–5: w = s⁻¹, u1 = e·w, u2 = r·w.
                    let w = scalar_invert(&s_sc);
                    let u1 = scalar_bytes(&scalar_mul(&e, &w));
                    let u2 = scalar_bytes(&scalar_mul(&r_sc, &w));
                    // Step 6: R = u1·G + u2·Q, Shamir's trick over width-5 NAFs, high to low.
                    let g = &constants().g;
                    let (d1, d2) = (naf5(&u1), naf5(&u2));
                    let mut acc = Point::infinity();
                    for i in (0..d1.len()).rev() {
                        acc = acc.double();
                        acc = g.add_digit(&acc, d1[i]);
                        acc = self.table.add_digit(&acc, d2[i]);
                    }
                    // Steps 7–8: R ≠ ∞ and x(R) mod n = r. x(R) = X/Z² < p < 2n, so x(R) mod n = r
                    // means x(R) = r or x(R) = r + n (when that is below p).
                    if acc.is_infinity() {
                        return false;
                    }
                    let z2 = sqr(&acc.z);
                    // r < n < p: a field element as it is.
                    let Some(r_fe) = fe(&r) else {
                        return false;
                    };
                    if equal(&acc.x, &mul(&r_fe, &z2)) {
                        return true;
                    }
                    match add_n(&r).and_then(|rn| fe(&rn)) {
                        Some(rn) => equal(&acc.x, &mul(&rn, &z2)),
                        None => false,
                    }
                }
            }

            // ---------------------------------------------------------------- scalars

            /// A scalar from big-endian bytes in [1, n − 1], in Montgomery form.
            fn scalar(bytes: &[u8; $bytes]) -> Option<Sc> {
                if *bytes >= N || bytes.iter().all(|b| *b == 0) {
                    return None;
                }
                Some(scalar_from_canonical(bytes))
            }

            /// Bytes below n into Montgomery form.
            fn scalar_from_canonical(bytes: &[u8; $bytes]) -> Sc {
                let mut limbs = [0u32; $limbs];
                s_from_bytes(&mut limbs, &reversed(bytes));
                scalar_mul(&Sc(limbs), scalar_r2())
            }

            /// Any value of the curve's length reduced mod n (one subtraction: the value is below 2n).
            fn scalar_reduced(bytes: &[u8; $bytes]) -> Sc {
                if *bytes < N {
                    return scalar_from_canonical(bytes);
                }
                let mut out = [0u8; $bytes];
                let mut borrow = 0i16;
                for i in (0..$bytes).rev() {
                    let v = i16::from(bytes[i]) - i16::from(N[i]) - borrow;
                    out[i] = v.rem_euclid(256) as u8;
                    borrow = i16::from(v < 0);
                }
                scalar_from_canonical(&out)
            }

            /// r + n, or `None` when it does not fit (then it is not below p either).
            fn add_n(r: &[u8; $bytes]) -> Option<[u8; $bytes]> {
                let mut out = [0u8; $bytes];
                let mut carry = 0u16;
                for i in (0..$bytes).rev() {
                    let v = u16::from(r[i]) + u16::from(N[i]) + carry;
                    out[i] = v as u8;
                    carry = v >> 8;
                }
                (carry == 0).then_some(out)
            }

            fn scalar_mul(a: &Sc, b: &Sc) -> Sc {
                let mut out = Sc::from_zero();
                s_mul(&mut out, a, b);
                out
            }

            /// R² mod n, as `field_r2` for p.
            fn scalar_r2() -> &'static Sc {
                static R2: OnceLock<Sc> = OnceLock::new();
                R2.get_or_init(|| {
                    let mut acc = Sc::from_zero();
                    s_set_one(&mut acc);
                    for _ in 0..32 * $limbs {
                        let mut doubled = Sc::from_zero();
                        s_add(&mut doubled, &acc, &acc);
                        acc = doubled;
                    }
                    acc
                })
            }

            /// a⁻¹ mod n for a ≠ 0 (zero for zero), in Montgomery form as `invert`.
            fn scalar_invert(a: &Sc) -> Sc {
                const N_LIMBS: [u32; $limbs] = limbs_le(&N);
                static R3: OnceLock<Sc> = OnceLock::new();
                let r3 = R3.get_or_init(|| scalar_mul(scalar_r2(), scalar_r2()));
                match inverse_mod(&a.0, &N_LIMBS) {
                    Some(inverse) => scalar_mul(&Sc(inverse), r3),
                    None => Sc::from_zero(),
                }
            }

            /// A scalar out of Montgomery form, as big-endian bytes.
            fn scalar_bytes(a: &Sc) -> [u8; $bytes] {
                // a·R·1·R⁻¹ = a: out of Montgomery form through the one multiplication.
                let mut one = [0u32; $limbs];
                one[0] = 1;
                let plain = scalar_mul(a, &Sc(one));
                let mut le = [0u8; $bytes];
                s_to_bytes(&mut le, &plain.0);
                reversed(&le)
            }

            #[cfg(test)]
            mod tests {
                use super::*;

                /// x·x⁻¹ = 1 in the field and mod n, from 1 and n − 1 through
                /// pseudo-random values; zero has no inverse.
                #[test]
                fn inverses_multiply_to_one() {
                    let mut one_fe = Fe::from_zero();
                    f_set_one(&mut one_fe);
                    let mut one_sc = Sc::from_zero();
                    s_set_one(&mut one_sc);
                    let mut n_minus_1 = N;
                    n_minus_1[$bytes - 1] -= 1;
                    let mut one = [0u8; $bytes];
                    one[$bytes - 1] = 1;
                    let mut seeds = vec![one, n_minus_1];
                    let mut x = 0x2545_f491_4f6c_dd1du64;
                    for _ in 0..64 {
                        let mut bytes = [0u8; $bytes];
                        for b in bytes.iter_mut() {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            *b = x as u8;
                        }
                        bytes[0] &= 0x7f;
                        seeds.push(bytes);
                    }
                    for bytes in seeds {
                        let f = fe(&bytes).expect("below p");
                        assert!(equal(&mul(&f, &invert(&f)), &one_fe));
                        let s = scalar(&bytes).expect("in [1, n - 1]");
                        assert_eq!(scalar_mul(&s, &scalar_invert(&s)).0, one_sc.0);
                    }
                    assert!(is_zero(&invert(&Fe::from_zero())));
                    let n: [u32; $limbs] = limbs_le(&N);
                    assert!(inverse_mod(&[0u32; $limbs], &n).is_none());
                    assert!(inverse_mod(&n, &n).is_none());
                }

                /// n·G = ∞ and (n − 1)·G = −G: the constants and the arithmetic agree.
                /// Σ dᵢ·2ⁱ = k, digits odd in [−15, 15] or 0, non-zero ones ≥ 5 apart.
                #[test]
                fn naf5_recodes_exactly() {
                    let mut seeds = vec![[0xffu8; $bytes], N, [0u8; $bytes]];
                    let mut x = 0x9e37_79b9_7f4a_7c15u64;
                    for _ in 0..200 {
                        let mut k = [0u8; $bytes];
                        for byte in k.iter_mut() {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            *byte = x as u8;
                        }
                        seeds.push(k);
                    }
                    for k in seeds {
                        let digits = naf5(&k);
                        // Rebuild k as little-endian bytes from the digits, high to low.
                        let mut value = vec![0i64; $bytes + 2];
                        for d in digits.iter().rev() {
                            let mut carry = 0i64;
                            for limb in value.iter_mut() {
                                let v = *limb * 2 + carry;
                                *limb = v.rem_euclid(256);
                                carry = v.div_euclid(256);
                            }
                            value[0] += i64::from(*d);
                            let mut carry = 0i64;
                            for limb in value.iter_mut() {
                                let v = *limb + carry;
                                *limb = v.rem_euclid(256);
                                carry = v.div_euclid(256);
                            }
                        }
                        let rebuilt: Vec<u8> =
                            value.iter().take($bytes).rev().map(|b| *b as u8).collect();
                        assert_eq!(rebuilt, k.to_vec());
                        assert!(value[$bytes..].iter().all(|b| *b == 0));
                        let mut last: Option<usize> = None;
                        for (i, d) in digits.iter().enumerate() {
                            if *d != 0 {
                                assert!(d % 2 != 0 && d.abs() <= 15, "digit {d}");
                                assert!(last.is_none_or(|l| i - l >= 5), "spacing at {i}");
                                last = Some(i);
                            }
                        }
                    }
                }

                #[test]
                fn the_group_order_annihilates_the_base_point() {
                    let g = Point::affine(fe(&GX).unwrap(), fe(&GY).unwrap());
                    let times = |k: &[u8; $bytes]| {
                        let mut acc = Point::infinity();
                        for byte in k {
                            for bit in (0..8).rev() {
                                acc = acc.double();
                                if (byte >> bit) & 1 == 1 {
                                    acc = acc.add(&g);
                                }
                            }
                        }
                        acc
                    };
                    assert!(times(&N).is_infinity());
                    let mut n_minus_1 = N;
                    n_minus_1[$bytes - 1] -= 1;
                    let minus_g = times(&n_minus_1);
                    assert!(!minus_g.is_infinity());
                    assert!(minus_g.add(&g).is_infinity());
                    assert!(PublicKey::new(&GX, &GY).is_some());
                    // P + P is 2P and P + (−P) is infinity, through add's special cases.
                    let two_g = g.double();
                    let sum = g.add(&g);
                    let same = |a: &Point, b: &Point| {
                        // Equal in Jacobian coordinates: X1·Z2² = X2·Z1² and Y1·Z2³ = Y2·Z1³.
                        let (z1, z2) = (sqr(&a.z), sqr(&b.z));
                        equal(&mul(&a.x, &z2), &mul(&b.x, &z1))
                            && equal(&mul(&a.y, &mul(&z2, &b.z)), &mul(&b.y, &mul(&z1, &a.z)))
                    };
                    assert!(same(&sum, &two_g));
                    // The mixed addition's special cases: G + G, G + (−G), ∞ + G.
                    let g_affine = Affine { x: g.x, y: g.y };
                    assert!(same(&g.add_affine(&g_affine, false), &two_g));
                    assert!(g.add_affine(&g_affine, true).is_infinity());
                    assert!(same(&Point::infinity().add_affine(&g_affine, false), &g));
                    assert!(same(&two_g.add_affine(&g_affine, false), &two_g.add(&g)));
                    assert!(two_g.add(&minus_g).add(&minus_g).is_infinity());
                    assert!(
                        same(&Point::infinity().add(&g), &g)
                            && same(&g.add(&Point::infinity()), &g)
                    );
                    let mut off = GY;
                    off[$bytes - 1] ^= 1;
                    assert!(PublicKey::new(&GX, &off).is_none());
                }
            }
        }
    };
}

ecdsa_curve! {
    mod p256: 32 bytes, 8 limbs, sha2::Sha256;
    p = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
    n = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    b = "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
    gx = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    gy = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
    field p256_32 {
        fiat_p256_montgomery_domain_field_element, fiat_p256_mul, fiat_p256_square, fiat_p256_add,
        fiat_p256_sub, fiat_p256_nonzero, fiat_p256_from_bytes, fiat_p256_set_one
    }
    scalar p256_scalar_32 {
        fiat_p256_scalar_montgomery_domain_field_element, fiat_p256_scalar_mul,
        fiat_p256_scalar_add, fiat_p256_scalar_from_bytes, fiat_p256_scalar_to_bytes,
        fiat_p256_scalar_set_one
    }
}

ecdsa_curve! {
    mod p384: 48 bytes, 12 limbs, sha2::Sha384;
    p = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
    n = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    b = "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
    gx = "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
    gy = "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f";
    field p384_32 {
        fiat_p384_montgomery_domain_field_element, fiat_p384_mul, fiat_p384_square, fiat_p384_add,
        fiat_p384_sub, fiat_p384_nonzero, fiat_p384_from_bytes, fiat_p384_set_one
    }
    scalar p384_scalar_32 {
        fiat_p384_scalar_montgomery_domain_field_element, fiat_p384_scalar_mul,
        fiat_p384_scalar_add, fiat_p384_scalar_from_bytes, fiat_p384_scalar_to_bytes,
        fiat_p384_scalar_set_one
    }
}
