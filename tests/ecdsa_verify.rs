//! jwt-edge's own ES256 and ES384 verifiers (src/ec_verify.rs) against an independent
//! reference, RustCrypto's `p256` and `p384` crates: the same verdict on genuine
//! signatures, mutated ones, random ones and crafted edge cases (r, s at the ends of
//! [1, n − 1], high s, s + n, and a signature whose x(R) lies in [n, p), the rarely
//! taken `r + n` branch), and the same public keys accepted. Keys and messages come from
//! fixed seeds.

mod common;

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

macro_rules! differential {
    ($m:ident: $krate:ident, $uint:ident, $hash:ty, $alg:literal, $algorithm:expr, $crv:literal, $bytes:literal, n = $n:literal, p = $p:literal) => {
    mod $m {
        use super::common::b64;
        use super::hex;
        use jwt_edge::{Algorithm, JwkSet, JwksOptions, Verifier, VerifyOptions};
        use $krate::ecdsa::signature::{Signer, Verifier as _};
        use $krate::ecdsa::{Signature, SigningKey, VerifyingKey};
        use $krate::elliptic_curve::ops::Reduce;
        use $krate::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
        use $krate::elliptic_curve::{Field, PrimeField};
        use $krate::{AffinePoint, EncodedPoint, FieldBytes, ProjectivePoint, Scalar, $uint};
        use rand_chacha::rand_core::{RngCore, SeedableRng};
        use rand_chacha::ChaCha20Rng;
        use serde_json::json;
        use sha2::Digest;

        const N_HEX: &str = $n;

            fn n() -> [u8; $bytes] {
                hex(N_HEX).try_into().unwrap()
            }


        fn verifier_for(point: &EncodedPoint) -> Option<Verifier> {
            let jwk = json!({"kty": "EC", "crv": $crv,
                             "x": b64(point.x()?), "y": b64(point.y()?)});
            let keys = JwkSet::parse(
                json!({ "keys": [jwk] }).to_string().as_bytes(),
                &JwksOptions::default(),
            )
            .ok()?;
            if keys.keys().is_empty() {
                return None;
            }
            let options = VerifyOptions {
                algorithms: vec![$algorithm],
                ..VerifyOptions::default()
            };
            Verifier::new(keys, options).ok()
        }

        fn input(payload: &[u8]) -> String {
            format!("{}.{}", b64(format!("{{\"alg\":\"{}\"}}", $alg).as_bytes()), b64(payload))
        }

        /// (ours, reference) for `r‖s` over `input`.
        fn both(ours: &Verifier, reference: &VerifyingKey, input: &str, rs: &[u8]) -> (bool, bool) {
            let mine = ours
                .verify_signature(&format!("{input}.{}", b64(rs)))
                .is_ok();
            let theirs = Signature::from_slice(rs)
                .map(|sig| reference.verify(input.as_bytes(), &sig).is_ok())
                .unwrap_or(false);
            (mine, theirs)
        }

        #[test]
        fn same_verdicts_as_the_p256_crate() {
            let mut rng = ChaCha20Rng::seed_from_u64(256);
            for k in 0..24 {
                let key = SigningKey::random(&mut rng);
                let reference = *key.verifying_key();
                let ours = verifier_for(&reference.to_encoded_point(false)).expect("key imported");
                for m in 0..4 {
                    let mut payload = vec![0u8; (rng.next_u32() % 100) as usize];
                    rng.fill_bytes(&mut payload);
                    let input = input(&payload);
                    let sig: Signature = key.sign(input.as_bytes());
                    let rs = sig.to_bytes().to_vec();
                    let label = format!("key {k} message {m}");
                    assert_eq!(
                        both(&ours, &reference, &input, &rs),
                        (true, true),
                        "{label}: genuine"
                    );
                    // High s (n − s) is as valid for both.
                    let high = Signature::from_scalars(sig.r(), -*sig.s())
                        .unwrap()
                        .to_bytes()
                        .to_vec();
                    assert_eq!(
                        both(&ours, &reference, &input, &high),
                        (true, true),
                        "{label}: n − s"
                    );
                    for _ in 0..4 {
                        let mut flipped = rs.clone();
                        let bit = rng.next_u32() as usize % (16 * $bytes);
                        flipped[bit / 8] ^= 1 << (bit % 8);
                        let (a, b) = both(&ours, &reference, &input, &flipped);
                        assert!(!a && a == b, "{label}: bit {bit}");
                    }
                    let mut random = [0u8; 2 * $bytes];
                    rng.fill_bytes(&mut random);
                    assert_eq!(
                        both(&ours, &reference, &input, &random),
                        (false, false),
                        "{label}: random"
                    );
                    let other = format!("{input}x");
                    assert_eq!(
                        both(&ours, &reference, &other, &rs),
                        (false, false),
                        "{label}: other input"
                    );
                }
            }
        }

        #[test]
        fn r_and_s_outside_one_to_n_minus_one_are_refused() {
            let mut rng = ChaCha20Rng::seed_from_u64(7);
            let key = SigningKey::random(&mut rng);
            let ours = verifier_for(&key.verifying_key().to_encoded_point(false)).unwrap();
            let input = input(b"{}");
            let sig: Signature = key.sign(input.as_bytes());
            let (r, s) = (sig.r().to_bytes(), sig.s().to_bytes());
            let mut n_minus_1 = n();
            n_minus_1[$bytes - 1] -= 1;
            let cases: [(&str, [u8; $bytes], [u8; $bytes]); 6] = [
                ("r = 0", [0; $bytes], s.into()),
                ("s = 0", r.into(), [0; $bytes]),
                ("r = n", n(), s.into()),
                ("s = n", r.into(), n()),
                ("r = n + r", add(&n(), &r.into()), s.into()),
                ("all ones", [0xff; $bytes], [0xff; $bytes]),
            ];
            for (what, r, s) in cases {
                let rs = [r, s].concat();
                assert!(
                    ours.verify_signature(&format!("{input}.{}", b64(&rs)))
                        .is_err(),
                    "{what}"
                );
            }
            // n − 1 is in range: refused only because it is not the signature.
            let rs = [n_minus_1, s.into()].concat();
            assert!(ours
                .verify_signature(&format!("{input}.{}", b64(&rs)))
                .is_err());
            // Wrong lengths.
            for len in [0, 2 * $bytes - 1, 2 * $bytes + 1, 2 * $bytes + 8] {
                let rs = vec![1u8; len];
                assert!(
                    ours.verify_signature(&format!("{input}.{}", b64(&rs)))
                        .is_err(),
                    "{len} bytes"
                );
            }
        }

        /// a + b mod 2^256.
        fn add(a: &[u8; $bytes], b: &[u8; $bytes]) -> [u8; $bytes] {
            let mut out = [0u8; $bytes];
            let mut carry = 0u16;
            for i in (0..$bytes).rev() {
                let v = u16::from(a[i]) + u16::from(b[i]) + carry;
                out[i] = v as u8;
                carry = v >> 8;
            }
            out
        }

        #[test]
        fn a_signature_whose_x_r_is_at_least_n_verifies() {
            // Wycheproof's construction: choose R with x(R) in [n, p), a message and s; then
            // the key Q = u2⁻¹·(R − u1·G) makes (r = x(R) − n, s) a valid signature, with no
            // private key needed.
            let mut x = n();
            let mut tries = 0;
            let r_point = loop {
                tries += 1;
                assert!(tries < 10_000, "no point with x in [n, n + 10000)");
                x = add(&x, &{
                    let mut one = [0u8; $bytes];
                    one[$bytes - 1] = 1;
                    one
                });
                let encoded = EncodedPoint::from_bytes([&[0x02u8][..], &x].concat()).unwrap();
                let candidate = AffinePoint::from_encoded_point(&encoded);
                if bool::from(candidate.is_some()) {
                    break candidate.unwrap();
                }
            };
            let x_r = $uint::from_be_slice(&x);
            let r = <Scalar as Reduce<$uint>>::reduce(x_r);
            assert_ne!(&r.to_repr()[..], &x[..], "x(R) ≥ n, so r = x(R) − n");
            let input = input(br#"{"sub":"edge"}"#);
            let e = <Scalar as Reduce<$uint>>::reduce_bytes(&FieldBytes::from(<[u8; $bytes]>::from(
                <$hash as Digest>::digest(input.as_bytes()),
            )));
            let mut rng = ChaCha20Rng::seed_from_u64(9);
            let s = Scalar::random(&mut rng);
            let w = s.invert().unwrap();
            let (u1, u2) = (e * w, r * w);
            let q =
                (ProjectivePoint::from(r_point) - ProjectivePoint::GENERATOR * u1) * u2.invert().unwrap();
            let q = q.to_affine();
            let reference = VerifyingKey::from_affine(q).unwrap();
            let ours = verifier_for(&q.to_encoded_point(false)).unwrap();
            let rs = [r.to_repr().to_vec(), s.to_repr().to_vec()].concat();
            assert_eq!(both(&ours, &reference, &input, &rs), (true, true));
            let mut bad = rs.clone();
            bad[2 * $bytes - 1] ^= 1;
            assert_eq!(both(&ours, &reference, &input, &bad), (false, false));
            // x(R) itself as r is the same residue but not below n: refused (malleability).
            let unreduced = [x.to_vec(), s.to_repr().to_vec()].concat();
            assert_eq!(
                both(&ours, &reference, &input, &unreduced),
                (false, false),
                "r = x(R) ≥ n"
            );
        }

        #[test]
        fn s_plus_n_is_refused() {
            // A small s (chosen, as in the construction above) leaves room for s + n < 2^256.
            let mut rng = ChaCha20Rng::seed_from_u64(10);
            let input = input(b"{}");
            let e = <Scalar as Reduce<$uint>>::reduce_bytes(&FieldBytes::from(<[u8; $bytes]>::from(
                <$hash as Digest>::digest(input.as_bytes()),
            )));
            let s = Scalar::from(5u64);
            let r_point = (ProjectivePoint::GENERATOR * Scalar::random(&mut rng)).to_affine();
            let r_x: [u8; $bytes] = r_point.to_encoded_point(false).x().unwrap()[..]
                .try_into()
                .unwrap();
            let r = <Scalar as Reduce<$uint>>::reduce_bytes(&r_x.into());
            let w = s.invert().unwrap();
            let q = ((ProjectivePoint::from(r_point) - ProjectivePoint::GENERATOR * (e * w))
                * (r * w).invert().unwrap())
            .to_affine();
            let reference = VerifyingKey::from_affine(q).unwrap();
            let ours = verifier_for(&q.to_encoded_point(false)).unwrap();
            let rs = [r.to_repr().to_vec(), s.to_repr().to_vec()].concat();
            assert_eq!(both(&ours, &reference, &input, &rs), (true, true), "s = 5");
            let s_plus_n = add(&n(), &s.to_repr().into());
            let rs = [r.to_repr().to_vec(), s_plus_n.to_vec()].concat();
            assert_eq!(
                both(&ours, &reference, &input, &rs),
                (false, false),
                "s + n"
            );
        }

        #[test]
        fn public_keys_are_accepted_exactly_when_they_are_on_the_curve() {
            let mut rng = ChaCha20Rng::seed_from_u64(11);
            for i in 0..200 {
                let mut x = [0u8; $bytes];
                let mut y = [0u8; $bytes];
                rng.fill_bytes(&mut x);
                rng.fill_bytes(&mut y);
                if i % 2 == 0 {
                    // A real point, sometimes with y negated or one bit of it changed.
                    let p = (ProjectivePoint::GENERATOR * Scalar::random(&mut rng)).to_affine();
                    let p = if i % 4 == 0 { -p } else { p };
                    let encoded = p.to_encoded_point(false);
                    x.copy_from_slice(encoded.x().unwrap());
                    y.copy_from_slice(encoded.y().unwrap());
                    if i % 8 == 2 {
                        y[31] ^= 1;
                    }
                }
                let encoded = EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
                let theirs = bool::from(AffinePoint::from_encoded_point(&encoded).is_some());
                let mine = verifier_for(&encoded).is_some();
                assert_eq!(mine, theirs, "point {i}");
            }
            // Coordinates ≥ p are refused even when they reduce to a curve point: a point with a
            // small x, given as x + p.
            let p_bytes: [u8; $bytes] = hex($p).try_into().unwrap();
            let small = (1u8..=255)
                .find_map(|v| {
                    let mut x = [0u8; $bytes];
                    x[$bytes - 1] = v;
                    let point = AffinePoint::from_encoded_point(
                        &EncodedPoint::from_bytes([&[0x02u8][..], &x].concat()).ok()?,
                    );
                    bool::from(point.is_some()).then(|| point.unwrap().to_encoded_point(false))
                })
                .expect("a point with x < 256");
            assert!(verifier_for(&small).is_some(), "the small point itself");
            let x: [u8; $bytes] = small.x().unwrap()[..].try_into().unwrap();
            let shifted =
                EncodedPoint::from_affine_coordinates(&add(&x, &p_bytes).into(), small.y().unwrap(), false);
            assert!(verifier_for(&shifted).is_none(), "x + p");
            // The same for y, where y + p still fits.
            let g = ProjectivePoint::GENERATOR
                .to_affine()
                .to_encoded_point(false);
            let mut gy_plus_p = [0u8; $bytes];
            let gy: [u8; $bytes] = g.y().unwrap()[..].try_into().unwrap();
            let sum = add(&gy, &p_bytes);
            if sum > gy {
                gy_plus_p = sum;
            }
            if gy_plus_p != [0u8; $bytes] {
                let encoded =
                    EncodedPoint::from_affine_coordinates(g.x().unwrap(), &gy_plus_p.into(), false);
                assert!(verifier_for(&encoded).is_none(), "y + p");
            }
        }
    }
    };
}

differential!(es256: p256, U256, sha2::Sha256, "ES256", Algorithm::Es256, "P-256", 32,
    n = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    p = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
differential!(es384: p384, U384, sha2::Sha384, "ES384", Algorithm::Es384, "P-384", 48,
    n = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    p = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff");
