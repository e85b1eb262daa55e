//! Strict decoders for the two encodings every hostile byte passes through:
//! unpadded base64url (RFC 7515 §2, RFC 4648 §5) and JSON objects (RFC 8259)
//! with duplicate member names and deep nesting refused.

use core::cell::Cell;
use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::Malformed;

/// Deepest JSON nesting accepted in a token header, payload or JWKS.
pub(crate) const MAX_JSON_DEPTH: usize = 32;

/// Decodes strict unpadded base64url: no `=`, nothing outside `[A-Za-z0-9_-]`, no
/// whitespace, and canonical trailing bits (a final character that carries unused
/// non-zero bits is refused, so every byte string has exactly one accepted encoding).
pub(crate) fn base64url_decode(text: &str) -> Result<Vec<u8>, Malformed> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| Malformed::Base64)
}

/// Encodes bytes as unpadded base64url.
pub(crate) fn base64url_encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Parses `bytes` as one JSON object, refusing duplicate member names at any depth
/// (RFC 7515 §5.2 asks for this or for last-wins; first-wins/last-wins disagreements
/// between parsers are a known smuggling vector) and nesting deeper than `max_depth`.
pub(crate) fn parse_object(
    bytes: &[u8],
    max_depth: usize,
) -> Result<Map<String, Value>, Malformed> {
    let why = Cell::new(None);
    let seed = Strict {
        depth: 0,
        max_depth,
        why: &why,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v)) {
        Ok(value) => value,
        Err(_) => return Err(why.get().unwrap_or(Malformed::Json)),
    };
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(Malformed::NotObject),
    }
}

/// A `DeserializeSeed` that builds a `serde_json::Value` while tracking depth and
/// refusing duplicate keys; the precise reason is left in `why`.
#[derive(Clone, Copy)]
struct Strict<'a> {
    depth: usize,
    max_depth: usize,
    why: &'a Cell<Option<Malformed>>,
}

impl<'a> Strict<'a> {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        let depth = self.depth.saturating_add(1);
        if depth > self.max_depth {
            self.why.set(Some(Malformed::TooDeep));
            return Err(E::custom("too deep"));
        }
        Ok(Strict { depth, ..self })
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                self.why.set(Some(Malformed::DuplicateMember));
                return Err(de::Error::custom("duplicate member"));
            }
            let value = access.next_value_seed(inner)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_strict() {
        assert_eq!(base64url_decode("eA").unwrap(), b"x");
        assert_eq!(base64url_decode("").unwrap(), b"");
        for bad in [
            "eB", "eA==", "eA=", "e A", "eA\n", "e+A", "e/A", "e", "eAA=", "%%",
        ] {
            assert_eq!(base64url_decode(bad), Err(Malformed::Base64), "{bad:?}");
        }
    }

    #[test]
    fn json_objects_are_strict() {
        assert!(parse_object(br#"{"a":1,"b":{"c":[1,2]}}"#, 8).is_ok());
        assert_eq!(
            parse_object(br#"{"a":1,"a":2}"#, 8),
            Err(Malformed::DuplicateMember)
        );
        assert_eq!(
            parse_object(br#"{"a":{"b":1,"b":1}}"#, 8),
            Err(Malformed::DuplicateMember)
        );
        assert_eq!(parse_object(br#"[1]"#, 8), Err(Malformed::NotObject));
        assert_eq!(parse_object(br#""x""#, 8), Err(Malformed::NotObject));
        assert_eq!(parse_object(br#"{"a":1} x"#, 8), Err(Malformed::Json));
        assert_eq!(parse_object(b"{\"a\":\"\xff\"}", 8), Err(Malformed::Json));
        assert_eq!(parse_object(br#"{"a":"\ud800"}"#, 8), Err(Malformed::Json));
        assert_eq!(parse_object(br#"{"a":1e999}"#, 8), Err(Malformed::Json));
        assert_eq!(
            parse_object(br#"{"a":[[[1]]]}"#, 3),
            Err(Malformed::TooDeep)
        );
        assert!(parse_object(br#"{"a":[[1]]}"#, 3).is_ok());
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            parse_object(format!("{{\"a\":{deep}}}").as_bytes(), MAX_JSON_DEPTH),
            Err(Malformed::TooDeep)
        );
    }
}
