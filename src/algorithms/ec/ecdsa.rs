//! ECDSA verification (FIPS 186-5 §6.4.2) with a public key imported once: checked on
//! the curve (SP 800-186 §3.2.1.3) and its window table built at import.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use sha2::Digest;

use super::field::{ByteArray, Field};
use super::point::{
    naf5, window_count, windows, FixedBase, Point, Table, GENERATOR_WINDOW_BITS, KEY_WINDOW_BITS,
};

/// A short Weierstrass curve y² = x³ − 3x + b of prime order n, with the hash that ECDSA
/// pairs with it in JWS (as long as n, so a digest is never truncated).
pub(crate) trait Curve: Sized + 'static {
    /// Arithmetic modulo the field prime p.
    type Field: Field;
    /// Arithmetic modulo the group order n; its elements are as long as the field's.
    type Scalar: Field<Bytes = <Self::Field as Field>::Bytes>;
    /// SHA-256 for P-256, SHA-384 for P-384 (RFC 7518 §3.4).
    type Hash: Digest;
    /// The coefficient b, in Montgomery form.
    const B: Self::Field;
    /// The base point G (x, y), in Montgomery form.
    const G: [Self::Field; 2];
    /// Where the base point's window table is kept once it is built.
    fn generator_table() -> &'static OnceLock<Table<Self::Field>>;
    /// Where the base point's fixed-base multiples are kept once built (once per
    /// process or isolate, at the first verification with a key that has its own).
    fn generator_multiples() -> &'static OnceLock<FixedBase<Self::Field>>;
}

/// Verifications with one key before its fixed-base multiples are built: a key used
/// once (a token from a key set fetched for it) never pays for them; a key used again
/// pays once (about five verifications' worth of work) and then verifies with no
/// doublings.
pub(crate) const USES_BEFORE_MULTIPLES: u32 = 2;

/// How `u1·G + u2·Q` is computed. (The library only asks for `Auto`; the tests hold the
/// other two to one another.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Method {
    /// Shamir's trick over width-5 NAFs: 8·len doublings.
    Naf,
    /// Fixed-base multiples of G and Q: additions only.
    Multiples,
    /// `Naf` until the key was used [`USES_BEFORE_MULTIPLES`] times, then `Multiples`.
    Auto,
}

/// An element's big-endian encoding on curve `C`.
pub(crate) type Bytes<C> = <<C as Curve>::Field as Field>::Bytes;

/// A validated public key with its table of odd multiples and, once it has been used
/// [`USES_BEFORE_MULTIPLES`] times, its fixed-base multiples.
pub(crate) struct PublicKey<C: Curve> {
    point: Point<C::Field>,
    table: Table<C::Field>,
    uses: AtomicU32,
    multiples: OnceLock<FixedBase<C::Field>>,
}

impl<C: Curve> PublicKey<C> {
    /// The key (x, y), big-endian, of the curve's length each: both below p and on the
    /// curve y² = x³ − 3x + b (SP 800-186 §3.2.1.3). `None` otherwise.
    pub(crate) fn new(x: &[u8], y: &[u8]) -> Option<Self> {
        let x = C::Field::from_be(&Bytes::<C>::try_from(x).ok()?)?;
        let y = C::Field::from_be(&Bytes::<C>::try_from(y).ok()?)?;
        let x3 = x.square().mul(&x);
        let three_x = x.add(&x).add(&x);
        let rhs = x3.sub(&three_x).add(&C::B);
        if !y.square().equals(&rhs) {
            return None;
        }
        let point = Point::affine(x, y);
        Some(PublicKey {
            point,
            table: Table::new(&point)?,
            uses: AtomicU32::new(0),
            multiples: OnceLock::new(),
        })
    }

    /// Bytes of the fixed-base multiples this key holds (0 until built).
    #[cfg(test)]
    pub(crate) fn multiples_bytes(&self) -> usize {
        self.multiples.get().map_or(0, FixedBase::size_bytes)
    }

    /// Verifies a signature (`R‖S`, twice the curve's length) over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_by(message, signature, Method::Auto)
    }

    /// [`Self::verify`] computing `u1·G + u2·Q` by `method` (tests hold the methods to
    /// one another).
    pub(crate) fn verify_by(&self, message: &[u8], signature: &[u8], method: Method) -> bool {
        let len = Bytes::<C>::LEN;
        let Some((r, s)) = signature.split_at_checked(len) else {
            return false;
        };
        let (Ok(r), Ok(s)) = (Bytes::<C>::try_from(r), Bytes::<C>::try_from(s)) else {
            return false;
        };
        // FIPS 186-5 §6.4.2 step 1: r and s in [1, n − 1].
        let (Some(r_sc), Some(s_sc)) = (scalar::<C>(&r), scalar::<C>(&s)) else {
            return false;
        };
        // Steps 2–3: e is the hash (as long as n: no truncation), reduced mod n.
        let mut digest = Bytes::<C>::ZERO;
        digest
            .as_mut()
            .copy_from_slice(&<C::Hash as Digest>::digest(message));
        let e = scalar_reduced::<C>(&digest);
        // Steps 4–5: w = s⁻¹, u1 = e·w, u2 = r·w.
        let w = s_sc.invert();
        let u1 = e.mul(&w).to_be();
        let u2 = r_sc.mul(&w).to_be();
        // Step 6: R = u1·G + u2·Q.
        let acc = match method {
            Method::Naf => self.shamir(u1.as_ref(), u2.as_ref()),
            Method::Multiples => self.by_multiples(u1.as_ref(), u2.as_ref()),
            Method::Auto => {
                let uses = self.uses.fetch_add(1, Ordering::Relaxed).saturating_add(1);
                if uses >= USES_BEFORE_MULTIPLES {
                    self.by_multiples(u1.as_ref(), u2.as_ref())
                } else {
                    self.shamir(u1.as_ref(), u2.as_ref())
                }
            }
        };
        // Steps 7–8: R ≠ ∞ and x(R) mod n = r. x(R) = X/Z² < p < 2n, so x(R) mod n = r
        // means x(R) = r or x(R) = r + n (when that is below p).
        if acc.is_infinity() {
            return false;
        }
        let z2 = acc.z.square();
        // r < n < p: a field element as it is.
        let Some(r_fe) = C::Field::from_be(&r) else {
            return false;
        };
        if acc.x.equals(&r_fe.mul(&z2)) {
            return true;
        }
        match add_n::<C>(&r).and_then(|rn| C::Field::from_be(&rn)) {
            Some(rn) => acc.x.equals(&rn.mul(&z2)),
            None => false,
        }
    }
}

impl<C: Curve> PublicKey<C> {
    /// u1·G + u2·Q by Shamir's trick over width-5 NAFs, high to low: 8·len doublings and
    /// about 8·len/3 mixed additions.
    fn shamir(&self, u1: &[u8], u2: &[u8]) -> Point<C::Field> {
        let g = C::generator_table().get_or_init(|| {
            let [gx, gy] = C::G;
            Table::new(&Point::affine(gx, gy)).unwrap_or_else(Table::zero)
        });
        let (d1, d2) = (naf5(u1), naf5(u2));
        let mut acc = Point::infinity();
        for i in (0..8 * Bytes::<C>::LEN + 1).rev() {
            acc = acc.double();
            acc = g.add_digit(&acc, d1[i]);
            acc = self.table.add_digit(&acc, d2[i]);
        }
        acc
    }

    /// u1·G + u2·Q from the fixed-base multiples of G and Q (built here when missing):
    /// one mixed addition per non-zero window of each scalar, no doubling.
    fn by_multiples(&self, u1: &[u8], u2: &[u8]) -> Point<C::Field> {
        let bits = 8 * Bytes::<C>::LEN;
        let g = C::generator_multiples().get_or_init(|| {
            let [gx, gy] = C::G;
            FixedBase::new(&Point::affine(gx, gy), bits, GENERATOR_WINDOW_BITS)
                .unwrap_or_else(FixedBase::zero)
        });
        let q = self.multiples.get_or_init(|| {
            FixedBase::new(&self.point, bits, KEY_WINDOW_BITS).unwrap_or_else(FixedBase::zero)
        });
        let mut acc = Point::infinity();
        for (base, scalar) in [(g, u1), (q, u2)] {
            let width = base.width();
            let digits = windows(scalar, width);
            for (j, digit) in digits.iter().enumerate().take(window_count(bits, width)) {
                acc = base.add_digit(&acc, j, *digit);
            }
        }
        acc
    }
}

/// A scalar from big-endian bytes in [1, n − 1], in Montgomery form.
pub(crate) fn scalar<C: Curve>(bytes: &Bytes<C>) -> Option<C::Scalar> {
    if *bytes >= C::Scalar::MODULUS || bytes.as_ref().iter().all(|b| *b == 0) {
        return None;
    }
    Some(C::Scalar::from_canonical(bytes))
}

/// Any value of the curve's length reduced mod n (one subtraction: the value is below 2n).
pub(crate) fn scalar_reduced<C: Curve>(bytes: &Bytes<C>) -> C::Scalar {
    if *bytes < C::Scalar::MODULUS {
        return C::Scalar::from_canonical(bytes);
    }
    let n = C::Scalar::MODULUS;
    let mut out = Bytes::<C>::ZERO;
    let mut borrow = 0i16;
    for ((o, b), n) in out
        .as_mut()
        .iter_mut()
        .zip(bytes.as_ref())
        .zip(n.as_ref())
        .rev()
    {
        let v = i16::from(*b) - i16::from(*n) - borrow;
        *o = v.rem_euclid(256) as u8;
        borrow = i16::from(v < 0);
    }
    C::Scalar::from_canonical(&out)
}

/// r + n, or `None` when it does not fit (then it is not below p either).
fn add_n<C: Curve>(r: &Bytes<C>) -> Option<Bytes<C>> {
    let n = C::Scalar::MODULUS;
    let mut out = Bytes::<C>::ZERO;
    let mut carry = 0u16;
    for ((o, r), n) in out
        .as_mut()
        .iter_mut()
        .zip(r.as_ref())
        .zip(n.as_ref())
        .rev()
    {
        let v = u16::from(*r) + u16::from(*n) + carry;
        *o = v as u8;
        carry = v >> 8;
    }
    (carry == 0).then_some(out)
}
