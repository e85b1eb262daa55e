//! Key selection: the token's `kid` and `alg` choose candidate keys from the
//! configured set, never from the token itself.

use crate::alg::Algorithm;
use crate::error::Error;
use crate::jwk::Jwk;

/// The keys that may verify a token with this `alg` and `kid`.
///
/// - With a `kid`: the keys whose `kid` is exactly equal (RFC 7515 §4.1.4), with no
///   fallback to other keys. If such keys exist but none fits `alg`, the error is
///   [`Error::KeyMismatch`] (e.g. an RSA key named by an HS256 token).
/// - Without a `kid`: every key that fits `alg`.
///
/// More than `max_candidates` keys is refused with [`Error::NoMatchingKey`] rather than
/// trying them all, which would let one forged token cost many signature checks.
pub(crate) fn candidates<'k>(
    keys: &'k [Jwk],
    alg: Algorithm,
    kid: Option<&str>,
    max_candidates: usize,
) -> Result<Vec<&'k Jwk>, Error> {
    let found: Vec<&Jwk> = match kid {
        Some(kid) => {
            let named: Vec<&Jwk> = keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid))
                .collect();
            if named.is_empty() {
                return Err(Error::NoMatchingKey);
            }
            let fitting: Vec<&Jwk> = named.into_iter().filter(|k| k.fits(alg)).collect();
            if fitting.is_empty() {
                return Err(Error::KeyMismatch);
            }
            fitting
        }
        None => keys.iter().filter(|k| k.fits(alg)).collect(),
    };
    if found.is_empty() || found.len() > max_candidates {
        return Err(Error::NoMatchingKey);
    }
    Ok(found)
}
