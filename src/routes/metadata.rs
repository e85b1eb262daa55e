//! RFC 9728 OAuth 2.0 Protected Resource Metadata: the document a client (an MCP
//! client, an agent gateway) reads to learn which authorization servers and scopes
//! this API takes, and the `resource_metadata` attribute every challenge carries to
//! point at it (RFC 9728 §5.1).

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// `Cache-Control` of the served document: public, an hour.
pub const CACHE_CONTROL: &str = "public, max-age=3600";

/// The well-known suffix (RFC 9728 §3).
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// Member → the field a refusal names.
const MEMBERS: [(&str, &str); 9] = [
    ("resource", "resource_metadata.resource"),
    (
        "authorization_servers",
        "resource_metadata.authorization_servers",
    ),
    ("jwks_uri", "resource_metadata.jwks_uri"),
    ("scopes_supported", "resource_metadata.scopes_supported"),
    (
        "bearer_methods_supported",
        "resource_metadata.bearer_methods_supported",
    ),
    ("resource_name", "resource_metadata.resource_name"),
    (
        "resource_documentation",
        "resource_metadata.resource_documentation",
    ),
    (
        "resource_policy_uri",
        "resource_metadata.resource_policy_uri",
    ),
    ("resource_tos_uri", "resource_metadata.resource_tos_uri"),
];

/// The configured metadata. Members as RFC 9728 §2 names them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceMetadata {
    /// The resource identifier: an `https` URL without query or fragment (§2).
    pub resource: String,
    /// Issuer identifiers of the authorization servers that issue tokens for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_servers: Option<Vec<String>>,
    /// The resource's own JWKS, if it signs anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Scopes used in authorization requests for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// How a token may be sent: `header`, `body`, `query` (RFC 6750 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_methods_supported: Option<Vec<String>>,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Human-readable documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    /// The resource's policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy_uri: Option<String>,
    /// The resource's terms of service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_tos_uri: Option<String>,
}

/// `scheme://authority` and path of an `https` URL without query, fragment or
/// userinfo; `None` otherwise.
fn split_https(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("https://")?;
    if url.len() > 2048
        || url.contains(['?', '#', '\\', '"', ' '])
        || url.bytes().any(|b| !(0x21..=0x7e).contains(&b))
    {
        return None;
    }
    let host_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(host_end);
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let origin_len = url.len().checked_sub(path.len())?;
    Some((url.get(..origin_len)?, path))
}

impl ResourceMetadata {
    /// Reads and checks the `resource_metadata` object.
    pub fn from_config(value: &serde_json::Value) -> Result<Self, Error> {
        let field = |name: &'static str| Error::config_invalid(name);
        let metadata = ResourceMetadata::deserialize(value).map_err(|e| {
            let message = e.to_string();
            if message.starts_with("unknown field") {
                return field("resource_metadata");
            }
            MEMBERS
                .into_iter()
                .find(|(member, _)| message.contains(&format!("`{member}`")))
                .map_or(field("resource_metadata"), |(_, name)| field(name))
        })?;
        if split_https(&metadata.resource).is_none() {
            return Err(field("resource_metadata.resource"));
        }
        let urls_ok = |list: &Option<Vec<String>>| {
            list.as_ref().is_none_or(|l| {
                !l.is_empty() && l.len() <= 32 && l.iter().all(|u| split_https(u).is_some())
            })
        };
        if !urls_ok(&metadata.authorization_servers) {
            return Err(field("resource_metadata.authorization_servers"));
        }
        let scopes_ok = metadata.scopes_supported.as_ref().is_none_or(|l| {
            l.len() <= 256
                && l.iter().all(|s| {
                    !s.is_empty()
                        && s.len() <= 256
                        && s.bytes().all(|b| {
                            b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)
                        })
                })
        });
        if !scopes_ok {
            return Err(field("resource_metadata.scopes_supported"));
        }
        let methods_ok = metadata.bearer_methods_supported.as_ref().is_none_or(|l| {
            l.iter()
                .all(|m| matches!(m.as_str(), "header" | "body" | "query"))
                && (1..=3).contains(&l.len())
        });
        if !methods_ok {
            return Err(field("resource_metadata.bearer_methods_supported"));
        }
        for (value, name) in [
            (&metadata.jwks_uri, "resource_metadata.jwks_uri"),
            (
                &metadata.resource_documentation,
                "resource_metadata.resource_documentation",
            ),
            (
                &metadata.resource_policy_uri,
                "resource_metadata.resource_policy_uri",
            ),
            (
                &metadata.resource_tos_uri,
                "resource_metadata.resource_tos_uri",
            ),
        ] {
            if value.as_deref().is_some_and(|u| split_https(u).is_none()) {
                return Err(field(name));
            }
        }
        if metadata
            .resource_name
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.len() > 256 || n.chars().any(char::is_control))
        {
            return Err(field("resource_metadata.resource_name"));
        }
        Ok(metadata)
    }

    /// The path this worker serves the document at: the well-known suffix followed by
    /// the resource's path (RFC 9728 §3.1), e.g. `/.well-known/oauth-protected-resource/v1`.
    pub fn path(&self) -> String {
        let resource_path = split_https(&self.resource)
            .map(|(_, path)| path.trim_end_matches('/'))
            .unwrap_or_default();
        format!("{WELL_KNOWN}{resource_path}")
    }

    /// The document's URL, the value of the challenges' `resource_metadata` attribute.
    pub fn url(&self) -> String {
        let origin = split_https(&self.resource)
            .map(|(origin, _)| origin)
            .unwrap_or_default();
        format!("{origin}{}", self.path())
    }

    /// The JSON document served.
    pub fn document(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_urls() {
        for (resource, path, url) in [
            (
                "https://api.example.com",
                "/.well-known/oauth-protected-resource",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com/",
                "/.well-known/oauth-protected-resource",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com:8443/v1",
                "/.well-known/oauth-protected-resource/v1",
                "https://api.example.com:8443/.well-known/oauth-protected-resource/v1",
            ),
        ] {
            let m = ResourceMetadata::from_config(&json!({"resource": resource})).unwrap();
            assert_eq!(m.path(), path);
            assert_eq!(m.url(), url);
        }
    }

    #[test]
    fn refusals_name_the_member() {
        for (value, name) in [
            (json!({}), "resource_metadata.resource"),
            (
                json!({"resource": "http://api.example.com"}),
                "resource_metadata.resource",
            ),
            (
                json!({"resource": "https://api.example.com/#x"}),
                "resource_metadata.resource",
            ),
            (
                json!({"resource": "https://api.example.com/?q"}),
                "resource_metadata.resource",
            ),
            (
                json!({"resource": "https://u@api.example.com"}),
                "resource_metadata.resource",
            ),
            (
                json!({"resource": "https://a", "extra": 1}),
                "resource_metadata",
            ),
            (
                json!({"resource": "https://a", "authorization_servers": []}),
                "resource_metadata.authorization_servers",
            ),
            (
                json!({"resource": "https://a", "authorization_servers": ["http://idp"]}),
                "resource_metadata.authorization_servers",
            ),
            (
                json!({"resource": "https://a", "scopes_supported": ["a b"]}),
                "resource_metadata.scopes_supported",
            ),
            (
                json!({"resource": "https://a", "bearer_methods_supported": ["cookie"]}),
                "resource_metadata.bearer_methods_supported",
            ),
        ] {
            assert_eq!(
                ResourceMetadata::from_config(&value),
                Err(Error::config_invalid(name)),
                "{value}"
            );
        }
    }

    #[test]
    fn document_is_the_configured_members() {
        let value = json!({
            "resource": "https://api.example.com",
            "authorization_servers": ["https://idp.example.com"],
            "scopes_supported": ["items:read", "items:write"],
            "bearer_methods_supported": ["header"]
        });
        let m = ResourceMetadata::from_config(&value).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&m.document()).unwrap();
        assert_eq!(doc, value);
    }
}
