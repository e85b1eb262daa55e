//! What the origin receives in proxy mode, decided without I/O: which client headers
//! never reach it (anything that could pass for a verified claim, in every spelling an
//! origin may fold to the same name), how a claim value is written into a header, what
//! counts as a CORS preflight and what of one goes through, and which methods are sent.
//!
//! The edge front end applies these decisions to real requests; tests drive them here.

use std::collections::BTreeSet;

use serde_json::Value;

/// A header name as an origin may compare it: ASCII case folded and `_` read as `-`.
///
/// CGI and PHP expose `X-Jwt-Sub` and `X_Jwt_Sub` both as `HTTP_X_JWT_SUB`; Rack, Puma
/// and other stacks fold the same way (the class of CVE-2024-45614). A client header
/// that folds to a protected name is as good as the protected name to such an origin.
pub fn fold_header_name(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'_' => '-',
            other => char::from(other.to_ascii_lowercase()),
        })
        .collect()
}

/// The header names the worker alone sets for the origin, compared after
/// [`fold_header_name`]: a reserved prefix (`X-Jwt-`) and the configured names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectedHeaders {
    prefix: String,
    names: BTreeSet<String>,
}

impl ProtectedHeaders {
    /// Protects every name starting with `prefix` and every name in `names`, in every
    /// case and with `_` for `-`.
    pub fn new<'a>(prefix: &str, names: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            prefix: fold_header_name(prefix),
            names: names.into_iter().map(fold_header_name).collect(),
        }
    }

    /// Whether a client header called `name` must be removed before forwarding.
    pub fn contains(&self, name: &str) -> bool {
        let folded = fold_header_name(name);
        (!self.prefix.is_empty() && folded.starts_with(&self.prefix))
            || self.names.contains(&folded)
    }
}

/// Longest claim header value sent, in bytes (origins commonly cap a header at 4–8 KiB).
pub const MAX_CLAIM_HEADER_BYTES: usize = 4096;

/// What goes into a claim's plain request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimHeader {
    /// Send this text.
    Send(String),
    /// The claim is absent, `null` or an empty array: no header.
    Absent,
    /// The claim is present but cannot be sent unchanged (the reason, as logged:
    /// `not_header_safe` or `too_large`). It is still in the base64url claims header.
    Skipped(&'static str),
}

/// The header for the claim at `path` (a dotted path into nested objects, as route
/// claim rules read it: [`crate::routes::claim_at`]) of verified `claims`.
pub fn claim_header(claims: &serde_json::Map<String, Value>, path: &str) -> ClaimHeader {
    match crate::routes::claim_at(claims, path) {
        None => ClaimHeader::Absent,
        Some(value) => match claim_header_value(value) {
            Ok(Some(text)) if text.len() > MAX_CLAIM_HEADER_BYTES => {
                ClaimHeader::Skipped("too_large")
            }
            Ok(Some(text)) => ClaimHeader::Send(text),
            Ok(None) => ClaimHeader::Absent,
            Err(reason) => ClaimHeader::Skipped(reason),
        },
    }
}

/// The text of a verified claim for its plain request header: `Ok(None)` when there is
/// nothing to send, `Err(reason)` when the value cannot be sent unchanged.
///
/// One encoding, so that what the origin reads is what the token said, and a header can
/// never carry anything but printable ASCII (no CR, LF or NUL: no header injection):
/// - a string is sent as is when it is non-empty printable ASCII (0x20–0x7E) with no
///   leading or trailing space and no `,`. Anything else would change in transit:
///   proxies trim spaces (RFC 9110 §5.5), a `,` turns one value into a list (§5.6.1),
///   non-ASCII has no agreed encoding, control characters are not allowed at all;
/// - a number or a boolean is sent as its JSON text;
/// - an array of strings, numbers and booleans is sent as its members joined with `,`
///   (RFC 9110 §5.6.1 list syntax), each member under the rules above; an empty array
///   is not sent; an array holding an array, an object or `null` is sent as JSON;
/// - an object is sent as compact JSON with every non-ASCII character escaped
///   (`\uXXXX`), so the header is printable ASCII;
/// - `null` is not sent.
pub fn claim_header_value(value: &Value) -> Result<Option<String>, &'static str> {
    const UNSAFE: &str = "not_header_safe";
    match value {
        Value::Null => Ok(None),
        Value::String(text) => plain_header_text(text)
            .then(|| Some(text.clone()))
            .ok_or(UNSAFE),
        Value::Bool(_) | Value::Number(_) => Ok(Some(value.to_string())),
        Value::Array(items) if items.is_empty() => Ok(None),
        Value::Array(items) if items.iter().all(is_scalar) => {
            let mut members = Vec::with_capacity(items.len());
            for item in items {
                members.push(claim_header_value(item)?.ok_or(UNSAFE)?);
            }
            Ok(Some(members.join(",")))
        }
        Value::Array(_) | Value::Object(_) => Ok(Some(ascii_json(value))),
    }
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// The query string the origin receives: without the token's parameter when a query
/// source is configured and credentials are stripped (the default). `None`: no query.
pub fn forwarded_query(
    query: Option<&str>,
    sources: &[crate::token::extract::TokenSource],
    strip_credential: bool,
) -> Option<String> {
    let mut query = query.map(str::to_owned);
    if strip_credential {
        for source in sources {
            if let (crate::token::extract::TokenSource::Query { name }, Some(text)) =
                (source, &query)
            {
                query = crate::token::extract::strip_query_parameter(text, name);
            }
        }
    }
    query
}

/// Whether `text` survives as a header value unchanged and unambiguous.
fn plain_header_text(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b',')
        && !text.starts_with(' ')
        && !text.ends_with(' ')
}

/// Compact JSON with every character outside printable ASCII escaped as `\uXXXX`
/// (UTF-16, surrogate pairs beyond the BMP), as RFC 8259 §7 allows.
fn ascii_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Whether a request is a CORS preflight (Fetch standard, "CORS-preflight request"):
/// `OPTIONS`, with `Origin` and `Access-Control-Request-Method`, and no body. Only such
/// a request may pass unauthenticated under `cors_preflight_passthrough`.
pub fn is_preflight(
    method: &str,
    has_origin: bool,
    has_request_method: bool,
    has_body: bool,
) -> bool {
    method == "OPTIONS" && has_origin && has_request_method && !has_body
}

/// Request headers a passed-through preflight keeps (lowercase, exact names). A browser
/// sends nothing else on a preflight; everything else is dropped, credentials and
/// method overrides (`X-HTTP-Method-Override`) first of all.
const PREFLIGHT_HEADERS: [&str; 8] = [
    "origin",
    "accept",
    "accept-encoding",
    "accept-language",
    "user-agent",
    "referer",
    "cache-control",
    "pragma",
];

/// Whether a passed-through preflight keeps the header `name` (case-insensitive; an
/// `_` spelling is a different header and is dropped).
pub fn preflight_keeps_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    PREFLIGHT_HEADERS.contains(&lower.as_str())
        || lower.starts_with("access-control-request-")
        || lower.starts_with("sec-fetch-")
}

/// Whether `method` may be forwarded as it is: an RFC 9110 §9.1 token that the Fetch
/// standard allows a worker to send (not `CONNECT`, `TRACE` or `TRACK`). Methods are
/// never rewritten: one that may not be forwarded is refused.
pub fn forwardable_method(method: &str) -> bool {
    let token = !method.is_empty()
        && method.len() <= 32
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let forbidden = ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(method));
    token && !forbidden
}

/// Whether a request with this method carries its body to the origin.
pub fn method_has_body(method: &str) -> bool {
    !(method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD"))
}

/// A value from the request (an `alg`, a `kid`) made safe for a log line: at most `max`
/// characters of printable ASCII, others replaced by `?`, and `…` when cut.
pub fn log_safe(value: &str, max: usize) -> String {
    let mut out: String = value
        .chars()
        .take(max)
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    if value.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn folding_matches_what_origins_do() {
        let p = ProtectedHeaders::new("X-Jwt-", ["X-Tenant"]);
        for name in [
            "X_Jwt_Sub",
            "x-jwt_role",
            "X_JWT_CLAIMS",
            "x_tenant",
            "X-TENANT",
        ] {
            assert!(p.contains(name), "{name}");
        }
        for name in ["X-Tenants", "XJwt-Sub", "X-Custom", "Tenant"] {
            assert!(!p.contains(name), "{name}");
        }
    }

    fn sent(value: Value) -> Option<String> {
        claim_header_value(&value).ok().flatten()
    }

    #[test]
    fn claim_values_never_change_in_transit() {
        assert_eq!(sent(json!("user-42")).as_deref(), Some("user-42"));
        assert_eq!(sent(json!("a b")).as_deref(), Some("a b"));
        for v in [
            " admin ",
            "admin ",
            "a,admin",
            "",
            "caf\u{e9}",
            "a\tb",
            "a\r\nX: y",
            "\u{7f}",
        ] {
            assert_eq!(
                claim_header_value(&json!(v)),
                Err("not_header_safe"),
                "{v:?}"
            );
        }
        assert_eq!(sent(json!(7)).as_deref(), Some("7"));
        assert_eq!(sent(json!(true)).as_deref(), Some("true"));
        assert_eq!(claim_header_value(&Value::Null), Ok(None));
        assert_eq!(claim_header_value(&json!([])), Ok(None));
        assert_eq!(
            sent(json!(["r", "admin", 3, true])).as_deref(),
            Some("r,admin,3,true")
        );
        // A member that would change (or split the list) makes the whole array unsent.
        for bad in [
            json!(["r", "caf\u{e9}"]),
            json!(["a,b"]),
            json!(["x\r\nSet-Cookie: y"]),
            json!([""]),
        ] {
            assert_eq!(claim_header_value(&bad), Err("not_header_safe"), "{bad}");
        }
        assert_eq!(
            sent(json!([["r"], {"k": "caf\u{e9}"}])).as_deref(),
            Some("[[\"r\"],{\"k\":\"caf\\u00e9\"}]")
        );
        let round: Value =
            serde_json::from_str(&sent(json!({"a": "caf\u{e9}\n"})).unwrap()).unwrap();
        assert_eq!(round, json!({"a": "caf\u{e9}\n"}));
    }

    #[test]
    fn claim_headers_follow_dotted_paths_and_limits() {
        let claims = json!({
            "realm_access": {"roles": ["admin", "user"]},
            "https://example.com/roles": ["a"],
            "big": "x".repeat(MAX_CLAIM_HEADER_BYTES + 1),
            "inj": "v\r\nX-Jwt-Sub: admin",
            "n": null
        });
        let claims = claims.as_object().unwrap();
        assert_eq!(
            claim_header(claims, "realm_access.roles"),
            ClaimHeader::Send("admin,user".into())
        );
        assert_eq!(
            claim_header(claims, "https://example.com/roles"),
            ClaimHeader::Send("a".into())
        );
        assert_eq!(
            claim_header(claims, "big"),
            ClaimHeader::Skipped("too_large")
        );
        assert_eq!(
            claim_header(claims, "inj"),
            ClaimHeader::Skipped("not_header_safe")
        );
        assert_eq!(claim_header(claims, "n"), ClaimHeader::Absent);
        assert_eq!(
            claim_header(claims, "realm_access.missing"),
            ClaimHeader::Absent
        );
        assert_eq!(
            claim_header(claims, "realm_access"),
            ClaimHeader::Send("{\"roles\":[\"admin\",\"user\"]}".into())
        );
    }

    #[test]
    fn query_tokens_never_reach_the_origin() {
        use crate::token::extract::TokenSource;
        let q = [TokenSource::Query {
            name: "access_token".into(),
        }];
        let cases = [
            ("access_token=abc", None),
            ("a=1&access_token=abc&b=2", Some("a=1&b=2")),
            ("access%5Ftoken=abc&b=%2F", Some("b=%2F")),
            ("access_token&x", Some("x")),
            ("b=access_token", Some("b=access_token")),
        ];
        for (query, expect) in cases {
            assert_eq!(
                forwarded_query(Some(query), &q, true).as_deref(),
                expect,
                "{query}"
            );
        }
        assert_eq!(
            forwarded_query(Some("access_token=abc"), &q, false).as_deref(),
            Some("access_token=abc")
        );
        assert_eq!(
            forwarded_query(Some("access_token=abc"), &[TokenSource::default()], true).as_deref(),
            Some("access_token=abc")
        );
        assert_eq!(forwarded_query(None, &q, true), None);
    }

    #[test]
    fn preflights_and_methods() {
        assert!(is_preflight("OPTIONS", true, true, false));
        assert!(!is_preflight("OPTIONS", true, true, true));
        assert!(!is_preflight("OPTIONS", false, true, false));
        assert!(!is_preflight("OPTIONS", true, false, false));
        assert!(!is_preflight("GET", true, true, false));
        assert!(preflight_keeps_header("Access-Control-Request-Headers"));
        for h in [
            "authorization",
            "cookie",
            "x-http-method-override",
            "x-api-token",
            "access_control_request_method",
        ] {
            assert!(!preflight_keeps_header(h), "{h}");
        }
        for m in ["GET", "PROPFIND", "PURGE", "patch"] {
            assert!(forwardable_method(m), "{m}");
        }
        for m in ["", "TRACE", "connect", "GE T", "G\u{e9}T"] {
            assert!(!forwardable_method(m), "{m}");
        }
        assert!(method_has_body("PROPFIND") && !method_has_body("head"));
    }

    #[test]
    fn log_values_are_bounded() {
        assert_eq!(log_safe("RS256", 32), "RS256");
        let long = "A".repeat(11_000);
        assert_eq!(log_safe(&long, 32).chars().count(), 33);
        assert_eq!(log_safe("a\nb\u{e9}", 32), "a?b?");
    }
}
