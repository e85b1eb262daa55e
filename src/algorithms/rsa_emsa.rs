//! The encodings RSA signatures carry in JWS (RFC 8017 §9), checked on the message
//! that RSAVP1 (`rsa_public`) recovers: EMSA-PKCS1-v1_5 (§8.2.2, §9.2; RS256/384/512),
//! compared byte for byte with the expected encoding, and EMSA-PSS with MGF1 and a
//! salt as long as the hash (§8.1.2, §9.1.2; PS256/384/512, RFC 7518 §3.5).
//!
//! No panics, by argument (as in `rsa_public`, whose header explains the allowance):
//! the recovered message is exactly k octets (RSAVP1 refuses any other signature
//! length); every offset below is checked against emLen first (PSS step 3:
//! emLen ≥ hLen + sLen + 2, so the splits, the salt and `db[ps_len]` are in bounds,
//! and `db` is as long as maskedDB, which is not empty); MGF1's counter stays below
//! 2³² because the mask is shorter than k octets (at most 512).
//! Checked by `tests/rsa_verify.rs` (crafted encodings) and the `verify` fuzz target.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::algorithms::rsa_public::RsaPublicKey;

/// The hash of an RSA JWS algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RsaHash {
    Sha256,
    Sha384,
    Sha512,
}

impl RsaHash {
    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut hasher = D::new();
            for part in parts {
                hasher.update(part);
            }
            hasher.finalize().to_vec()
        }
        match self {
            RsaHash::Sha256 => run::<Sha256>(parts),
            RsaHash::Sha384 => run::<Sha384>(parts),
            RsaHash::Sha512 => run::<Sha512>(parts),
        }
    }

    fn len(self) -> usize {
        match self {
            RsaHash::Sha256 => 32,
            RsaHash::Sha384 => 48,
            RsaHash::Sha512 => 64,
        }
    }

    /// The DER prefix of DigestInfo (RFC 8017 §9.2, note 1).
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            RsaHash::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            RsaHash::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            RsaHash::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }
}

/// RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2): the recovered encoding must
/// equal `0x00 0x01 FF… 0x00 DigestInfo(H(message))` exactly.
pub(crate) fn verify_pkcs1v15(
    key: &RsaPublicKey,
    hash: RsaHash,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Some(em) = key.public_op(signature) else {
        return false;
    };
    let prefix = hash.digest_info_prefix();
    let t_len = prefix.len() + hash.len();
    let k = key.size();
    // §9.2 step 5: at least 8 octets of 0xFF padding.
    if k < t_len + 11 {
        return false;
    }
    let mut expected = Vec::with_capacity(k);
    expected.extend_from_slice(&[0x00, 0x01]);
    expected.resize(k - t_len - 1, 0xff);
    expected.push(0x00);
    expected.extend_from_slice(prefix);
    expected.extend_from_slice(&hash.digest(&[message]));
    em == expected
}

/// RSASSA-PSS verification (RFC 8017 §8.1.2, §9.1.2) with MGF1 over the same hash
/// and a salt of exactly the hash length (RFC 7518 §3.5).
pub(crate) fn verify_pss(
    key: &RsaPublicKey,
    hash: RsaHash,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Some(em) = key.public_op(signature) else {
        return false;
    };
    let h_len = hash.len();
    let s_len = h_len;
    let em_bits = key.bits() - 1;
    let em_len = em_bits.div_ceil(8);
    // §8.1.2 step 2c: EM is I2OSP(m, emLen); when k > emLen the extra octet is zero.
    let (extra, em) = em.split_at(key.size() - em_len);
    if extra.iter().any(|b| *b != 0) {
        return false;
    }
    // §9.1.2 steps 3–4.
    if em_len < h_len + s_len + 2 || em.last() != Some(&0xbc) {
        return false;
    }
    let (masked_db, rest) = em.split_at(em_len - h_len - 1);
    let h = &rest[..h_len];
    // Step 6: the leftmost 8·emLen − emBits bits must be zero.
    let unused_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8 >> unused_bits;
    if masked_db.first().is_none_or(|b| b & !top_mask != 0) {
        return false;
    }
    // Steps 7–9.
    let mut db = mgf1(hash, h, masked_db.len());
    for (d, m) in db.iter_mut().zip(masked_db) {
        *d ^= m;
    }
    db[0] &= top_mask;
    // Step 10: zeros, then 0x01, then the salt.
    let ps_len = em_len - h_len - s_len - 2;
    if db[..ps_len].iter().any(|b| *b != 0) || db[ps_len] != 0x01 {
        return false;
    }
    let salt = &db[ps_len + 1..];
    // Steps 12–14.
    let m_hash = hash.digest(&[message]);
    hash.digest(&[&[0u8; 8], &m_hash, salt]) == h
}

/// MGF1 (RFC 8017 §B.2.1).
fn mgf1(hash: RsaHash, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.len());
    let mut counter = 0u32;
    while out.len() < len {
        out.extend_from_slice(&hash.digest(&[seed, &counter.to_be_bytes()]));
        counter += 1;
    }
    out.truncate(len);
    out
}
