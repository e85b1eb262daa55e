//! `UntrustedToken`: a JWS compact serialization (RFC 7515 §7.1) split and decoded
//! under size caps, with its protected header parsed strictly. Nothing here is
//! trusted: the payload is kept as bytes until the signature holds.

pub(crate) mod extract;

use serde_json::{Map, Value};

use crate::encoding::{base64url_decode, parse_object, MAX_JSON_DEPTH};
use crate::error::{Error, Malformed};
use crate::keys::jwk::MAX_KID_BYTES;

/// Default cap on the whole token, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Header parameters registered by RFC 7515 §4.1; RFC 7515 §4.1.11 forbids listing them
/// in `crit`.
const REGISTERED_HEADER_NAMES: [&str; 11] = [
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
];

/// The protected header of a token (RFC 7515 §4).
///
/// `jwk`, `jku`, `x5u` and `x5c` are deliberately not represented: a key named by the
/// token itself is never used to verify it.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// `alg` (RFC 7515 §4.1.1), as written; it is matched against the allow-list later.
    pub algorithm: String,
    /// `kid` (RFC 7515 §4.1.4).
    pub key_id: Option<String>,
    /// `typ` (RFC 7515 §4.1.9).
    pub typ: Option<String>,
    /// `cty` (RFC 7515 §4.1.10).
    pub content_type: Option<String>,
    /// Every member of the header, for callers who want to show it.
    pub raw: Map<String, Value>,
}

/// A token that has been split and decoded, but whose signature has not been checked.
#[derive(Debug)]
pub struct UntrustedToken<'a> {
    text: &'a str,
    header: Header,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> UntrustedToken<'a> {
    /// Splits and decodes `token`, refusing anything longer than `max_bytes` before
    /// looking at it.
    pub fn parse(token: &'a str, max_bytes: usize) -> Result<Self, Error> {
        if token.len() > max_bytes {
            return Err(Error::TokenTooLarge { limit: max_bytes });
        }
        let malformed = Error::TokenMalformed;
        let mut segments = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(malformed(Malformed::SegmentCount));
        };
        let header_bytes = base64url_decode(header_b64).map_err(malformed)?;
        let payload = base64url_decode(payload_b64).map_err(malformed)?;
        let signature = base64url_decode(signature_b64).map_err(malformed)?;
        let header =
            Header::from_map(parse_object(&header_bytes, MAX_JSON_DEPTH).map_err(malformed)?)?;
        // The signing input is the first two segments exactly as received (RFC 7515 §5.2 step 8).
        let signing_input = token
            .get(
                ..header_b64
                    .len()
                    .saturating_add(1)
                    .saturating_add(payload_b64.len()),
            )
            .ok_or(malformed(Malformed::SegmentCount))?;
        Ok(Self {
            text: token,
            header,
            signing_input,
            payload,
            signature,
        })
    }

    /// Length of the token text, in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Always false: an empty text is not a token.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The token's exact text.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// The `iss` claim, read without verification, only to choose which issuer's keys
    /// and policy to verify against. The chosen verifier then requires the same `iss`
    /// once the signature holds. `None` when the payload is not a strict JSON object
    /// or has no string `iss`.
    pub fn routing_issuer(&self) -> Option<String> {
        let claims = parse_object(&self.payload, MAX_JSON_DEPTH).ok()?;
        match claims.get("iss") {
            Some(Value::String(iss)) => Some(iss.clone()),
            _ => None,
        }
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    pub(crate) fn signing_input(&self) -> &'a str {
        self.signing_input
    }

    pub(crate) fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The payload bytes. Reading claims from them before the signature holds is
    /// exactly what this crate exists to prevent; hence the name.
    pub fn dangerous_payload(&self) -> &[u8] {
        &self.payload
    }

    pub(crate) fn into_parts(self) -> (Header, Vec<u8>) {
        (self.header, self.payload)
    }
}

impl Header {
    fn from_map(raw: Map<String, Value>) -> Result<Self, Error> {
        let bad = |name| Error::TokenMalformed(Malformed::HeaderParameter(name));
        let string = |name: &'static str| -> Result<Option<String>, Error> {
            match raw.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(name)),
            }
        };
        let algorithm = string("alg")?.ok_or(bad("alg"))?;
        let key_id = string("kid")?;
        if key_id.as_ref().is_some_and(|k| k.len() > MAX_KID_BYTES) {
            return Err(bad("kid"));
        }
        let typ = string("typ")?;
        let content_type = string("cty")?;
        // RFC 7797 §3: `b64: false` changes what is signed; it is not supported.
        match raw.get("b64") {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return Err(Error::B64Unsupported),
            Some(_) => return Err(bad("b64")),
        }
        // RFC 7515 §4.1.11: a non-empty array of names not defined by RFC 7515; every
        // listed extension must be understood, and jwt-edge understands none.
        if let Some(crit) = raw.get("crit") {
            let names = crit
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or(bad("crit"))?;
            for name in names {
                let name = name.as_str().ok_or(bad("crit"))?;
                if REGISTERED_HEADER_NAMES.contains(&name) {
                    return Err(bad("crit"));
                }
            }
            return Err(Error::CritUnsupported);
        }
        Ok(Header {
            algorithm,
            key_id,
            typ,
            content_type,
            raw,
        })
    }
}
