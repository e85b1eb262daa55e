//! The arithmetic checked on both curves: inverses, the compile-time constants, NAF
//! recoding, the group law on the base point, and the range checks of ECDSA.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use super::curves::{P256, P384};
use super::ecdsa::{scalar, scalar_reduced, Bytes, Curve, Method, PublicKey};
use super::field::{inverse_mod, ByteArray, Field};
use super::point::{naf5, window_count, windows, Affine, FixedBase, Point};

/// x·x⁻¹ = 1 modulo `F`'s prime, from 1 and m − 1 through pseudo-random values
/// below m; zero has no inverse.
fn inverses_multiply_to_one<F: Field>() {
    let len = F::Bytes::LEN;
    let mut m_minus_1 = F::MODULUS;
    m_minus_1.as_mut()[len - 1] -= 1;
    let mut one = F::Bytes::ZERO;
    one.as_mut()[len - 1] = 1;
    let mut seeds = vec![one, m_minus_1];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..64 {
        let mut bytes = F::Bytes::ZERO;
        for b in bytes.as_mut().iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        bytes.as_mut()[0] &= 0x7f;
        seeds.push(bytes);
    }
    for bytes in seeds {
        let a = F::from_be(&bytes).expect("below m");
        assert!(a.mul(&a.invert()).equals(&F::ONE));
        assert_eq!(a.to_be().as_ref(), bytes.as_ref(), "round trip");
    }
    assert!(F::ZERO.invert().is_zero());
    let mut out = vec![0u32; F::MODULUS_LIMBS.len()];
    let zero = vec![0u32; F::MODULUS_LIMBS.len()];
    assert!(!inverse_mod(&zero, F::MODULUS_LIMBS, &mut out));
    assert!(!inverse_mod(F::MODULUS_LIMBS, F::MODULUS_LIMBS, &mut out));
    assert!(F::from_be(&F::MODULUS).is_none());
}

#[test]
fn inverses_multiply_to_one_in_every_field() {
    inverses_multiply_to_one::<<P256 as Curve>::Field>();
    inverses_multiply_to_one::<<P256 as Curve>::Scalar>();
    inverses_multiply_to_one::<<P384 as Curve>::Field>();
    inverses_multiply_to_one::<<P384 as Curve>::Scalar>();
}

/// The compile-time constants agree with fiat-crypto's own one and with R² computed
/// at run time.
#[test]
fn montgomery_constants() {
    fn check<F: Field>(fiat_one: F) {
        assert_eq!(F::ONE.limbs(), fiat_one.limbs());
        let mut r2 = F::ONE;
        for _ in 0..32 * F::MODULUS_LIMBS.len() {
            r2 = r2.add(&r2);
        }
        assert_eq!(F::R2.limbs(), r2.limbs());
        assert_eq!(F::R3.limbs(), r2.mul(&r2).limbs());
    }
    let mut one = fiat_crypto::p256_32::fiat_p256_montgomery_domain_field_element([0; 8]);
    fiat_crypto::p256_32::fiat_p256_set_one(&mut one);
    check(one);
    let mut one =
        fiat_crypto::p256_scalar_32::fiat_p256_scalar_montgomery_domain_field_element([0; 8]);
    fiat_crypto::p256_scalar_32::fiat_p256_scalar_set_one(&mut one);
    check(one);
    let mut one = fiat_crypto::p384_32::fiat_p384_montgomery_domain_field_element([0; 12]);
    fiat_crypto::p384_32::fiat_p384_set_one(&mut one);
    check(one);
    let mut one =
        fiat_crypto::p384_scalar_32::fiat_p384_scalar_montgomery_domain_field_element([0; 12]);
    fiat_crypto::p384_scalar_32::fiat_p384_scalar_set_one(&mut one);
    check(one);
}

/// Σ dᵢ·2ⁱ = k, digits odd in [−15, 15] or 0, non-zero ones ≥ 5 apart.
fn naf5_recodes_exactly<C: Curve>() {
    let len = Bytes::<C>::LEN;
    let mut seeds = vec![
        vec![0xffu8; len],
        C::Scalar::MODULUS.as_ref().to_vec(),
        vec![0u8; len],
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..200 {
        let mut k = vec![0u8; len];
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
        assert!(digits[8 * len + 1..].iter().all(|d| *d == 0));
        // Rebuild k as little-endian bytes from the digits, high to low.
        let mut value = vec![0i64; len + 2];
        for d in digits[..8 * len + 1].iter().rev() {
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
        let rebuilt: Vec<u8> = value.iter().take(len).rev().map(|b| *b as u8).collect();
        assert_eq!(rebuilt, k);
        assert!(value[len..].iter().all(|b| *b == 0));
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
fn naf5_recodes_exactly_on_both_curves() {
    naf5_recodes_exactly::<P256>();
    naf5_recodes_exactly::<P384>();
}

/// n·G = ∞ and (n − 1)·G = −G: the constants and the arithmetic agree; and the
/// special cases of both additions.
fn the_group_order_annihilates_the_base_point<C: Curve>() {
    let [gx, gy] = C::G;
    let g = Point::affine(gx, gy);
    let times = |k: &[u8]| {
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
    let n = C::Scalar::MODULUS;
    assert!(times(n.as_ref()).is_infinity());
    let mut n_minus_1 = n;
    let len = n.as_ref().len();
    n_minus_1.as_mut()[len - 1] -= 1;
    let minus_g = times(n_minus_1.as_ref());
    assert!(!minus_g.is_infinity());
    assert!(minus_g.add(&g).is_infinity());
    // P + P is 2P and P + (−P) is infinity, through add's special cases.
    let two_g = g.double();
    let sum = g.add(&g);
    let same = |a: &Point<C::Field>, b: &Point<C::Field>| {
        // Equal in Jacobian coordinates: X1·Z2² = X2·Z1² and Y1·Z2³ = Y2·Z1³.
        let (z1, z2) = (a.z.square(), b.z.square());
        a.x.mul(&z2).equals(&b.x.mul(&z1)) && a.y.mul(&z2.mul(&b.z)).equals(&b.y.mul(&z1.mul(&a.z)))
    };
    assert!(same(&sum, &two_g));
    // The mixed addition's special cases: G + G, G + (−G), ∞ + G.
    let g_affine = Affine { x: g.x, y: g.y };
    assert!(same(&g.add_affine(&g_affine, false), &two_g));
    assert!(g.add_affine(&g_affine, true).is_infinity());
    assert!(same(&Point::infinity().add_affine(&g_affine, false), &g));
    assert!(same(&two_g.add_affine(&g_affine, false), &two_g.add(&g)));
    assert!(two_g.add(&minus_g).add(&minus_g).is_infinity());
    assert!(same(&Point::infinity().add(&g), &g) && same(&g.add(&Point::infinity()), &g));
}

#[test]
fn the_group_order_annihilates_the_base_point_on_both_curves() {
    the_group_order_annihilates_the_base_point::<P256>();
    the_group_order_annihilates_the_base_point::<P384>();
}

/// The base point is a public key; one bit off y is not on the curve.
fn base_point_is_a_key<C: Curve>() {
    let [gx, gy] = C::G;
    let (x, y) = (gx.to_be(), gy.to_be());
    assert!(PublicKey::<C>::new(x.as_ref(), y.as_ref()).is_some());
    let mut off = y;
    let len = off.as_ref().len();
    off.as_mut()[len - 1] ^= 1;
    assert!(PublicKey::<C>::new(x.as_ref(), off.as_ref()).is_none());
    // Scalars: zero and n are out of range, n − 1 is in; n reduces to zero.
    let n = C::Scalar::MODULUS;
    assert!(scalar::<C>(&n).is_none());
    assert!(scalar::<C>(&Bytes::<C>::ZERO).is_none());
    let mut n_minus_1 = n;
    n_minus_1.as_mut()[len - 1] -= 1;
    assert!(scalar::<C>(&n_minus_1).is_some());
    assert!(scalar_reduced::<C>(&n).is_zero());
}

#[test]
fn base_point_is_a_key_on_both_curves() {
    base_point_is_a_key::<P256>();
    base_point_is_a_key::<P384>();
}

/// Σ D_j·2^(w·j) = k with every digit in [−(2^(w−1) − 1), 2^(w−1)], for every width,
/// random and extreme scalars.
fn windows_recode_exactly<C: Curve>() {
    let len = Bytes::<C>::LEN;
    let mut seeds = vec![
        vec![0xffu8; len],
        C::Scalar::MODULUS.as_ref().to_vec(),
        vec![0u8; len],
    ];
    let mut x = 0x517c_c1b7_2722_0a95_u64;
    for _ in 0..300 {
        let mut k = vec![0u8; len];
        for byte in k.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = x as u8;
        }
        seeds.push(k);
    }
    for (width, k) in (5..=7).flat_map(|w| seeds.iter().map(move |k| (w, k.clone()))) {
        let digits = windows(&k, width);
        let count = window_count(8 * len, width);
        let half = 1i8 << (width - 1);
        assert!(digits[count..].iter().all(|d| *d == 0));
        assert!(
            digits.iter().all(|d| (1 - half..=half).contains(d)),
            "{digits:?}"
        );
        // Rebuild k (little-endian base-256 limbs), high window to low: v = 2^w·v + D.
        let mut value = vec![0i64; len + 2];
        for d in digits[..count].iter().rev() {
            let mut carry = 0i64;
            for limb in value.iter_mut() {
                let v = *limb * (1i64 << width) + carry;
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
        let rebuilt: Vec<u8> = value.iter().take(len).rev().map(|b| *b as u8).collect();
        assert_eq!(rebuilt, k);
        assert!(value[len..].iter().all(|b| *b == 0));
    }
}

#[test]
fn windows_recode_exactly_on_both_curves() {
    windows_recode_exactly::<P256>();
    windows_recode_exactly::<P384>();
}

/// k·P from the fixed-base multiples equals double-and-add, for P = G and P = 7G and
/// scalars including 0, 1, n − 1 and n (∞ through the additions' special cases).
fn fixed_base_multiplies_like_double_and_add<C: Curve>() {
    let [gx, gy] = C::G;
    let g = Point::affine(gx, gy);
    let len = Bytes::<C>::LEN;
    let times = |p: &Point<C::Field>, k: &[u8]| {
        let mut acc = Point::infinity();
        for byte in k {
            for bit in (0..8).rev() {
                acc = acc.double();
                if (byte >> bit) & 1 == 1 {
                    acc = acc.add(p);
                }
            }
        }
        acc
    };
    let same = |a: &Point<C::Field>, b: &Point<C::Field>| {
        if a.is_infinity() || b.is_infinity() {
            return a.is_infinity() && b.is_infinity();
        }
        let (z1, z2) = (a.z.square(), b.z.square());
        a.x.mul(&z2).equals(&b.x.mul(&z1)) && a.y.mul(&z2.mul(&b.z)).equals(&b.y.mul(&z1.mul(&a.z)))
    };
    let n = C::Scalar::MODULUS;
    let mut n_minus_1 = n;
    n_minus_1.as_mut()[len - 1] -= 1;
    let mut one = Bytes::<C>::ZERO;
    one.as_mut()[len - 1] = 1;
    let mut seeds: Vec<Vec<u8>> = vec![
        vec![0u8; len],
        one.as_ref().to_vec(),
        n_minus_1.as_ref().to_vec(),
        n.as_ref().to_vec(),
        vec![0x10u8; len],
    ];
    let mut x = 0x2f69_1d3b_8a44_c0e7u64;
    for _ in 0..12 {
        let mut k = vec![0u8; len];
        for byte in k.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = x as u8;
        }
        seeds.push(k);
    }
    let seven_g = times(&g, &[7]);
    for (base, width) in [(g, 5), (seven_g, 5), (g, 7), (seven_g, 6)] {
        let multiples = FixedBase::new(&base, 8 * len, width).expect("multiples");
        let count = window_count(8 * len, width);
        assert_eq!(multiples.size_bytes(), count * (1 << (width - 1)) * 2 * len);
        for k in &seeds {
            let digits = windows(k, width);
            let mut acc = Point::infinity();
            for (j, d) in digits.iter().enumerate().take(count) {
                acc = multiples.add_digit(&acc, j, *d);
            }
            assert!(same(&acc, &times(&base, k)), "w = {width}, k = {k:02x?}");
        }
    }
    assert!(FixedBase::new(&g, 8 * len, 8).is_none());
    assert!(FixedBase::new(&g, 8 * len, 4).is_none());
    assert!(windows(&seeds[5], 4).iter().all(|d| *d == 0));
    // The zero stand-in passes nothing: a non-zero digit gives infinity.
    let zero = FixedBase::<C::Field>::zero();
    assert!(zero.add_digit(&g, 0, 3).is_infinity());
}

#[test]
fn fixed_base_multiplies_like_double_and_add_on_both_curves() {
    fixed_base_multiplies_like_double_and_add::<P256>();
    fixed_base_multiplies_like_double_and_add::<P384>();
}

/// Both ways to compute u1·G + u2·Q give the same verdict: genuine signatures from the
/// `p256`/`p384` crates, the same with one bit flipped, and (r, s) pairs from a
/// generator; and `Auto` builds a key's multiples at its second use.
#[test]
fn both_methods_agree_on_both_curves() {
    use p256::ecdsa::signature::Signer;
    let mut x = 0x7a3c_91e5_03bd_24f1u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..12u8 {
        let mut seed = [0u8; 32];
        seed.iter_mut().for_each(|b| *b = next() as u8);
        seed[0] = 0x40;
        let sk = p256::ecdsa::SigningKey::from_bytes(&seed.into()).expect("key");
        let point = sk.verifying_key().to_encoded_point(false);
        let key = PublicKey::<P256>::new(point.x().unwrap(), point.y().unwrap()).expect("on curve");
        let message = [b'm', i];
        let sig: p256::ecdsa::Signature = sk.sign(&message);
        let mut bytes = sig.to_bytes().to_vec();
        for method in [Method::Naf, Method::Multiples] {
            assert!(key.verify_by(&message, &bytes, method), "{method:?}");
        }
        bytes[40] ^= 1;
        for method in [Method::Naf, Method::Multiples] {
            assert!(
                !key.verify_by(&message, &bytes, method),
                "{method:?} flipped"
            );
        }
        for _ in 0..8 {
            let mut junk = [0u8; 64];
            junk.iter_mut().for_each(|b| *b = next() as u8);
            assert_eq!(
                key.verify_by(&message, &junk, Method::Naf),
                key.verify_by(&message, &junk, Method::Multiples)
            );
        }
    }
    let seed = [0x33u8; 48];
    let sk = p384::ecdsa::SigningKey::from_bytes(&seed.into()).expect("key");
    let point = sk.verifying_key().to_encoded_point(false);
    let key = PublicKey::<P384>::new(point.x().unwrap(), point.y().unwrap()).expect("on curve");
    let sig: p384::ecdsa::Signature = sk.sign(b"p384");
    let bytes = sig.to_bytes().to_vec();
    assert_eq!(key.multiples_bytes(), 0);
    // Auto: the first use by NAF (nothing built), the second builds the key's multiples.
    assert!(key.verify(b"p384", &bytes));
    assert_eq!(key.multiples_bytes(), 0);
    assert!(key.verify(b"p384", &bytes));
    assert_eq!(key.multiples_bytes(), window_count(384, 5) * 16 * 96);
    assert!(key.verify_by(b"p384", &bytes, Method::Naf));
    assert!(!key.verify(b"p385", &bytes));
}
