//! Configured shared (HMAC) secrets given as text: strict base64url, and never a
//! placeholder. Every front end reads a secret through [`parse_secret_text`], so the
//! worker's `hmac_secret` binding, the npm `secret` option and the CLI's `--secret`
//! accept and refuse the same values.

use crate::encoding::base64url_decode;
use crate::error::KeyRejection;

/// The key bytes of a secret given as unpadded base64url text (RFC 4648 §5), with
/// surrounding ASCII whitespace ignored (a trailing newline from a file or a pipe).
///
/// Refuses, before any length check (the key constructors refuse fewer than 32 bytes):
/// - text that is not strict unpadded base64url ([`KeyRejection::NotBase64url`]): the
///   placeholders in `.dev.vars.example` contain `<`, `>` and spaces so that they fail
///   here;
/// - text that reads as typed words rather than encoded random bytes
///   ([`KeyRejection::TypedText`]): only letters of one case and digits, with at least
///   one `-` or `_` joining them, such as `replace-with-a-base64url-key-of-32-bytes`.
///   Such text is valid base64url, so without this check a placeholder left in place
///   would be a working key that anyone who read the example can forge with. The
///   base64url encoding of 32 or more random bytes (43+ characters over 64 symbols)
///   looks like that with probability below 2 × (38/64)^43 < 4 × 10⁻¹⁰; hex keys
///   (no `-` or `_`) are not affected.
pub fn parse_secret_text(text: &str) -> Result<Vec<u8>, KeyRejection> {
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if looks_typed(text) {
        return Err(KeyRejection::TypedText);
    }
    base64url_decode(text).map_err(|_| KeyRejection::NotBase64url)
}

/// Letters of one case and digits joined by `-`/`_`: words, not encoded randomness.
fn looks_typed(text: &str) -> bool {
    let separated = text.bytes().any(|b| b == b'-' || b == b'_');
    let lower = text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    let upper = text
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    separated && (lower || upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_refused_and_random_keys_pass() {
        assert_eq!(
            parse_secret_text("replace-with-a-base64url-key-of-32-bytes-or-more"),
            Err(KeyRejection::TypedText)
        );
        assert_eq!(
            parse_secret_text("REPLACE_ME_WITH_A_REAL_KEY_OF_32_BYTES_OR_MORE"),
            Err(KeyRejection::TypedText)
        );
        assert_eq!(
            parse_secret_text("<your key>"),
            Err(KeyRejection::NotBase64url)
        );
        assert_eq!(parse_secret_text("a==="), Err(KeyRejection::NotBase64url));
        // 32 random bytes (openssl rand 32), a hex key, and a key with one `-`.
        for ok in [
            "mJ1p0qZ3vW8n-Rk4bT2xY6cL9sD5fH7gA0eU3iO1wQ8",
            "8c0d3f6b1a2e4d5c9b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c",
            " bG9uZy1lbm91Z2gtcmFuZG9tLWxvb2tpbmctYnl0ZXMtaGVyZQ\n",
        ] {
            assert!(parse_secret_text(ok).is_ok(), "{ok}");
        }
    }
}
