//! What a route demands of a verified token beyond its issuer's policy: audiences,
//! scopes and claim rules. Pure decisions over the verified claims.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::policy::claims::Claims;

/// One claim rule's matcher. No regular expressions: each is a plain comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// The claim equals this JSON value.
    Equals(Value),
    /// The claim equals one of these values.
    OneOf(Vec<Value>),
    /// The claim is an array holding this value, or a string whose space-separated
    /// words include it.
    Contains(Value),
    /// The claim is present and not `null`.
    Present,
}

impl Matcher {
    /// Whether `claim` (absent: `None`) satisfies the matcher.
    pub fn holds(&self, claim: Option<&Value>) -> bool {
        let Some(claim) = claim else {
            return false;
        };
        match self {
            Matcher::Equals(value) => claim == value,
            Matcher::OneOf(values) => values.iter().any(|v| v == claim),
            Matcher::Contains(value) => match (claim, value) {
                (Value::Array(items), _) => items.iter().any(|item| item == value),
                (Value::String(words), Value::String(word)) => {
                    words.split(' ').any(|w| w == word.as_str())
                }
                _ => false,
            },
            Matcher::Present => !claim.is_null(),
        }
    }
}

/// One claim rule: a dotted path into the claims and its matcher.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRule {
    /// The path as configured, e.g. `realm_access.roles`.
    pub path: String,
    /// What the claim must satisfy.
    pub matcher: Matcher,
}

/// The value at a dotted `path` in `claims`. At each level a member named by the whole
/// remaining path wins (`"https://example.com/roles"` is one claim, as Auth0 names
/// them); otherwise the path splits at its first `.` into a nested object.
pub fn claim_at<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut object = claims;
    let mut rest = path;
    // Bounded by the number of dots in the path (configuration, at most 256 bytes).
    loop {
        if let Some(value) = object.get(rest) {
            return Some(value);
        }
        let (head, tail) = rest.split_once('.')?;
        object = object.get(head)?.as_object()?;
        rest = tail;
    }
}

/// The token's scopes: the `scope` claim (a space-separated string, RFC 8693 §4.2,
/// RFC 9068 §2.2.3) when present, else `scp` (a space-separated string or an array of
/// strings, as Entra ID and Okta issue it). Anything else (a `scope` that is not a
/// string, an `scp` array with a member that is not one) holds no scope.
pub fn token_scopes(claims: &Map<String, Value>) -> Vec<&str> {
    fn words(text: &str) -> Vec<&str> {
        text.split(' ').filter(|w| !w.is_empty()).collect()
    }
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(text)), _) => words(text),
        (Some(_), _) => Vec::new(),
        (None, Some(Value::String(text))) => words(text),
        (None, Some(Value::Array(items))) => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<Vec<&str>>>()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// What a route requires of a verified token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Requirements {
    /// One `aud` value must be among these (besides the issuer's own audience check).
    pub audiences: Option<Vec<String>>,
    /// Every one of these scopes.
    pub scopes: Vec<String>,
    /// Every claim rule.
    pub claims: Vec<ClaimRule>,
}

impl Requirements {
    /// Checks verified `claims`: audiences (403 `audience_mismatch`), then scopes
    /// (403 `insufficient_scope`), then claim rules (403 `claim_mismatch`).
    pub fn check(&self, claims: &Claims) -> Result<(), Error> {
        if let Some(audiences) = &self.audiences {
            if !claims.audiences.iter().any(|aud| audiences.contains(aud)) {
                return Err(Error::AudienceMismatch);
            }
        }
        if !self.scopes.is_empty() {
            let held = token_scopes(&claims.all);
            if !self.scopes.iter().all(|s| held.contains(&s.as_str())) {
                return Err(Error::InsufficientScope);
            }
        }
        for rule in &self.claims {
            if !rule.matcher.holds(claim_at(&claims.all, &rule.path)) {
                return Err(Error::ClaimMismatch);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Claims {
        let Value::Object(map) = value else {
            panic!("object")
        };
        Claims::from_map(map, 64).unwrap()
    }

    #[test]
    fn scopes_from_scope_or_scp() {
        let need = |scopes: &[&str]| Requirements {
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            ..Requirements::default()
        };
        let write = need(&["items:write"]);
        let both = need(&["items:write", "admin"]);
        for (payload, write_ok, both_ok) in [
            (json!({"scope": "items:read items:write"}), true, false),
            (json!({"scope": "items:write admin"}), true, true),
            (json!({"scope": "items:write  admin"}), true, true),
            (json!({"scp": ["admin", "items:write"]}), true, true),
            (json!({"scp": "items:write"}), true, false),
            (json!({"scope": "items:writer"}), false, false),
            (json!({"scope": ["items:write"]}), false, false),
            (json!({"scope": 1}), false, false),
            (json!({"scp": [1, "items:write"]}), false, false),
            (json!({"scope": 1, "scp": "items:write"}), false, false),
            // `scope` present decides; `scp` is not merged in.
            (
                json!({"scope": "admin", "scp": "items:write"}),
                false,
                false,
            ),
            (json!({}), false, false),
        ] {
            let c = claims(payload.clone());
            assert_eq!(write.check(&c).is_ok(), write_ok, "{payload}");
            let expected = if both_ok {
                Ok(())
            } else {
                Err(Error::InsufficientScope)
            };
            assert_eq!(both.check(&c), expected, "{payload}");
        }
    }

    #[test]
    fn claim_matchers() {
        let payload = claims(json!({
            "realm_access": {"roles": ["admin", "user"]},
            "tenant": "acme",
            "level": 3,
            "groups": "eng ops",
            "https://example.com/roles": ["editor"],
            "a": {"b": {"c": true}},
            "nothing": null,
        }));
        for (path, matcher, holds) in [
            (
                "realm_access.roles",
                Matcher::Contains(json!("admin")),
                true,
            ),
            (
                "realm_access.roles",
                Matcher::Contains(json!("root")),
                false,
            ),
            ("tenant", Matcher::Equals(json!("acme")), true),
            ("tenant", Matcher::Equals(json!("ACME")), false),
            ("level", Matcher::Equals(json!(3)), true),
            ("level", Matcher::Equals(json!("3")), false),
            (
                "tenant",
                Matcher::OneOf(vec![json!("x"), json!("acme")]),
                true,
            ),
            ("tenant", Matcher::OneOf(vec![json!("x")]), false),
            ("groups", Matcher::Contains(json!("ops")), true),
            ("groups", Matcher::Contains(json!("op")), false),
            ("level", Matcher::Contains(json!(3)), false),
            (
                "https://example.com/roles",
                Matcher::Contains(json!("editor")),
                true,
            ),
            ("a.b.c", Matcher::Equals(json!(true)), true),
            ("a.b", Matcher::Present, true),
            ("a.x", Matcher::Present, false),
            ("tenant.x", Matcher::Present, false),
            ("nothing", Matcher::Present, false),
            ("missing", Matcher::Equals(Value::Null), false),
        ] {
            let requirements = Requirements {
                claims: vec![ClaimRule {
                    path: path.into(),
                    matcher: matcher.clone(),
                }],
                ..Requirements::default()
            };
            let expected = if holds {
                Ok(())
            } else {
                Err(Error::ClaimMismatch)
            };
            assert_eq!(requirements.check(&payload), expected, "{path} {matcher:?}");
        }
    }

    #[test]
    fn audiences_narrow() {
        let requirements = Requirements {
            audiences: Some(vec!["api://admin".into()]),
            ..Requirements::default()
        };
        assert!(requirements
            .check(&claims(json!({"aud": ["api://edge", "api://admin"]})))
            .is_ok());
        assert_eq!(
            requirements.check(&claims(json!({"aud": "api://edge"}))),
            Err(Error::AudienceMismatch)
        );
        assert_eq!(
            requirements.check(&claims(json!({}))),
            Err(Error::AudienceMismatch)
        );
    }
}
