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
//! The `p256`/`p384` crates cost 1.3 ms / 7.7 ms of CPU per verification in wasm: their
//! field code multiplies through 128-bit integers (a function call in WebAssembly) and
//! selects table entries in constant time, which verification does not need.

use std::sync::OnceLock;

use sha2::Digest;

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

/// One curve's verifier, over fiat-crypto's modules for its field and its scalars.
macro_rules! ecdsa_curve {
    (
        mod $name:ident: $bytes:literal bytes, $limbs:literal limbs, $hash:ty;
        p = $p:literal, n = $n:literal, b = $b:literal, gx = $gx:literal, gy = $gy:literal;
        field $field:ident {
            $fe:ident, $fe_plain:ident, $f_mul:ident, $f_square:ident, $f_add:ident,
            $f_sub:ident, $f_nonzero:ident, $f_from_bytes:ident, $f_to_montgomery:ident,
            $f_set_one:ident
        }
        scalar $scalar:ident {
            $sc:ident, $sc_plain:ident, $s_mul:ident, $s_square:ident, $s_from_bytes:ident,
            $s_to_bytes:ident, $s_to_montgomery:ident, $s_from_montgomery:ident,
            $s_set_one:ident
        }
    ) => {
        pub(crate) mod $name {
            use super::*;
            use fiat_crypto::$field::{
                $f_add as f_add, $f_from_bytes as f_from_bytes, $f_mul as f_mul,
                $f_nonzero as f_nonzero, $f_set_one as f_set_one, $f_square as f_square,
                $f_sub as f_sub, $f_to_montgomery as f_to_montgomery, $fe as Fe,
                $fe_plain as FePlain,
            };
            use fiat_crypto::$scalar::{
                $s_from_bytes as s_from_bytes, $s_from_montgomery as s_from_montgomery,
                $s_mul as s_mul, $s_set_one as s_set_one, $s_square as s_square,
                $s_to_bytes as s_to_bytes, $s_to_montgomery as s_to_montgomery, $sc as Sc,
                $sc_plain as ScPlain,
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
                let mut out = Fe::from_zero();
                f_to_montgomery(&mut out, &FePlain(limbs));
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
                        g: Table::new(&g),
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

            /// 0·P … 15·P, for 4-bit windows.
            #[derive(Clone)]
            struct Table([Point; 16]);

            impl Table {
                fn new(p: &Point) -> Self {
                    let mut points = [Point::infinity(); 16];
                    points[1] = *p;
                    for i in 2..16 {
                        points[i] = if i % 2 == 0 {
                            points[i / 2].double()
                        } else {
                            points[i - 1].add(p)
                        };
                    }
                    Table(points)
                }
            }

            /// A validated public key with its window table.
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
                        table: Table::new(&Point::affine(x, y)),
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
                    // Step 6: R = u1·G + u2·Q, Shamir's trick over 4-bit windows, high to low.
                    let g = &constants().g;
                    let mut acc = Point::infinity();
                    for i in 0..2 * $bytes {
                        if i > 0 {
                            acc = acc.double().double().double().double();
                        }
                        let byte = i / 2;
                        let shift = if i % 2 == 0 { 4 } else { 0 };
                        let a = usize::from((u1[byte] >> shift) & 0x0f);
                        let b = usize::from((u2[byte] >> shift) & 0x0f);
                        if a != 0 {
                            acc = acc.add(&g.0[a]);
                        }
                        if b != 0 {
                            acc = acc.add(&self.table.0[b]);
                        }
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
                let mut out = Sc::from_zero();
                s_to_montgomery(&mut out, &ScPlain(limbs));
                out
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

            /// a⁻¹ = a^(n−2) mod n (Fermat), square and multiply over n − 2, high bit first.
            fn scalar_invert(a: &Sc) -> Sc {
                let mut exponent = N;
                // n − 2: the last octet of n is at least 2 for both curves, so no borrow.
                exponent[$bytes - 1] -= 2;
                let mut acc = Sc::from_zero();
                s_set_one(&mut acc);
                for byte in exponent {
                    for bit in (0..8).rev() {
                        let mut squared = Sc::from_zero();
                        s_square(&mut squared, &acc);
                        acc = squared;
                        if (byte >> bit) & 1 == 1 {
                            acc = scalar_mul(&acc, a);
                        }
                    }
                }
                acc
            }

            /// A scalar out of Montgomery form, as big-endian bytes.
            fn scalar_bytes(a: &Sc) -> [u8; $bytes] {
                let mut plain = ScPlain([0; $limbs]);
                s_from_montgomery(&mut plain, a);
                let mut le = [0u8; $bytes];
                s_to_bytes(&mut le, &plain.0);
                reversed(&le)
            }

            #[cfg(test)]
            mod tests {
                use super::*;

                /// n·G = ∞ and (n − 1)·G = −G: the constants and the arithmetic agree.
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
        fiat_p256_montgomery_domain_field_element, fiat_p256_non_montgomery_domain_field_element,
        fiat_p256_mul, fiat_p256_square, fiat_p256_add, fiat_p256_sub, fiat_p256_nonzero,
        fiat_p256_from_bytes, fiat_p256_to_montgomery, fiat_p256_set_one
    }
    scalar p256_scalar_32 {
        fiat_p256_scalar_montgomery_domain_field_element,
        fiat_p256_scalar_non_montgomery_domain_field_element, fiat_p256_scalar_mul,
        fiat_p256_scalar_square, fiat_p256_scalar_from_bytes, fiat_p256_scalar_to_bytes,
        fiat_p256_scalar_to_montgomery, fiat_p256_scalar_from_montgomery,
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
        fiat_p384_montgomery_domain_field_element, fiat_p384_non_montgomery_domain_field_element,
        fiat_p384_mul, fiat_p384_square, fiat_p384_add, fiat_p384_sub, fiat_p384_nonzero,
        fiat_p384_from_bytes, fiat_p384_to_montgomery, fiat_p384_set_one
    }
    scalar p384_scalar_32 {
        fiat_p384_scalar_montgomery_domain_field_element,
        fiat_p384_scalar_non_montgomery_domain_field_element, fiat_p384_scalar_mul,
        fiat_p384_scalar_square, fiat_p384_scalar_from_bytes, fiat_p384_scalar_to_bytes,
        fiat_p384_scalar_to_montgomery, fiat_p384_scalar_from_montgomery,
        fiat_p384_scalar_set_one
    }
}
