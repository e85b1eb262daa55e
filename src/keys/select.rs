//! Key selection: the token's `kid` and `alg` choose candidate keys from the
//! configured set, never from the token itself.

use crate::algorithms::alg::Algorithm;
use crate::error::Error;
use crate::keys::jwk::{Jwk, KidMatch};

/// The keys that may verify a token with this `alg` and `kid`.
///
/// - With a `kid` that names keys: the keys whose `kid` is exactly equal
///   (RFC 7515 §4.1.4), and only them. If none of them fits `alg`, the error is
///   [`Error::KeyMismatch`] (e.g. an RSA key named by an HS256 token); a wrong secret
///   under the right `kid` is a bad signature, never a fallback to another key.
/// - With a `kid` that names no key: the configured secrets that ignore the token's
///   `kid` ([`KidMatch::Any`], given without a name) and fit `alg`. Keys from a JWKS
///   and named secrets are never chosen for a `kid` that is not theirs.
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
                keys.iter()
                    .filter(|k| k.kid_match() == KidMatch::Any && k.fits(alg))
                    .collect()
            } else {
                let fitting: Vec<&Jwk> = named.into_iter().filter(|k| k.fits(alg)).collect();
                if fitting.is_empty() {
                    return Err(Error::KeyMismatch);
                }
                fitting
            }
        }
        None => keys.iter().filter(|k| k.fits(alg)).collect(),
    };
    if found.is_empty() || found.len() > max_candidates {
        return Err(Error::NoMatchingKey);
    }
    Ok(found)
}
