//! Where a request carries its token: an `Authorization` scheme (RFC 6750 §2.1,
//! `Bearer` by default, or custom ones such as `Custom-Jwt`), a cookie, a named header
//! (optionally after a fixed prefix such as `Token `), or, only when configured, a
//! query parameter (RFC 6750 §2.3). Offering a token in more than one configured place
//! is a malformed request, even the same token twice (RFC 6750 §2: "Clients MUST NOT
//! use more than one method"): which one would win is exactly what a confused client
//! or a smuggling intermediary would exploit.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One place to look for the token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenSource {
    /// `Authorization: <scheme> <token>`; schemes compare case-insensitively (RFC 9110 §11.1).
    Authorization {
        /// Accepted schemes. Default `["Bearer"]`.
        #[serde(default = "default_schemes")]
        schemes: Vec<String>,
    },
    /// A cookie with this name.
    Cookie {
        /// The cookie name.
        name: String,
    },
    /// A request header: its whole value is the token, or, with `prefix`, what follows
    /// the prefix (compared case-insensitively; a value without it is not a token for
    /// this source and is ignored, as an unconfigured `Authorization` scheme is).
    Header {
        /// The header name.
        name: String,
        /// Text before the token, e.g. `"Token "`. Default none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    /// A query parameter (RFC 6750 §2.3), e.g. `access_token`. Opt-in only: URLs end up
    /// in browser history, proxy and server logs and `Referer` headers. The worker
    /// removes the parameter from the URL it forwards.
    Query {
        /// The parameter name (compared after form-urlencoded decoding, as origins read it).
        name: String,
    },
}

fn default_schemes() -> Vec<String> {
    vec!["Bearer".to_owned()]
}

impl Default for TokenSource {
    fn default() -> Self {
        TokenSource::Authorization {
            schemes: default_schemes(),
        }
    }
}

/// Finds the token. `header(name)` returns a request header's value (case-insensitive
/// name lookup is the caller's, as in every HTTP library).
///
/// An `Authorization` header with a scheme that is not configured is not ours (it may
/// be for the origin) and is ignored. A configured scheme with an empty or malformed
/// credential, a duplicated cookie, or tokens in two places give
/// [`Error::RequestMalformed`]; no token at all gives [`Error::TokenMissing`].
pub fn extract_token<F>(
    sources: &[TokenSource],
    max_bytes: usize,
    header: F,
) -> Result<String, Error>
where
    F: Fn(&str) -> Option<String>,
{
    extract_token_from(sources, max_bytes, header, None)
}

/// [`extract_token`] for a request whose URL has this `query` (the text after `?`,
/// without the fragment), read by [`TokenSource::Query`] sources. The same parameter
/// given twice is [`Error::RequestMalformed`].
pub fn extract_token_from<F>(
    sources: &[TokenSource],
    max_bytes: usize,
    header: F,
    query: Option<&str>,
) -> Result<String, Error>
where
    F: Fn(&str) -> Option<String>,
{
    let mut found: Option<String> = None;
    for source in sources {
        let token = match source {
            TokenSource::Authorization { schemes } => header("authorization")
                .map(|value| from_authorization(&value, schemes))
                .transpose()?
                .flatten(),
            TokenSource::Cookie { name } => header("cookie")
                .map(|value| from_cookie(&value, name))
                .transpose()?
                .flatten(),
            TokenSource::Header { name, prefix } => header(name)
                .and_then(|v| after_prefix(&v, prefix.as_deref()))
                .filter(|v| !v.is_empty()),
            TokenSource::Query { name } => {
                query.map(|q| from_query(q, name)).transpose()?.flatten()
            }
        };
        let Some(token) = token else { continue };
        if token.len() > max_bytes {
            return Err(Error::TokenTooLarge { limit: max_bytes });
        }
        if !token.bytes().all(is_token_byte) {
            return Err(Error::RequestMalformed(
                "credential has characters a JWT cannot contain",
            ));
        }
        if found.is_some() {
            return Err(Error::RequestMalformed(
                "token offered in more than one place",
            ));
        }
        found = Some(token);
    }
    found.ok_or(Error::TokenMissing)
}

/// RFC 6750 §2.1 `b64token` characters (a JWT uses a subset of them).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

fn from_authorization(value: &str, schemes: &[String]) -> Result<Option<String>, Error> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Ok(None);
    }
    let credential = rest.trim_start_matches(' ');
    if credential.is_empty() || credential.contains(' ') {
        return Err(Error::RequestMalformed(
            "authorization credential is empty or has spaces",
        ));
    }
    Ok(Some(credential.to_owned()))
}

fn from_cookie(value: &str, name: &str) -> Result<Option<String>, Error> {
    let mut found = None;
    for pair in value.split(';') {
        let Some((key, val)) = pair.split_once('=') else {
            continue;
        };
        if key.trim() == name {
            if found.is_some() {
                return Err(Error::RequestMalformed("token cookie sent twice"));
            }
            found = Some(val.trim().trim_matches('"').to_owned());
        }
    }
    Ok(found.filter(|v| !v.is_empty()))
}

/// The value after `prefix` (ASCII case-insensitive), trimmed; `None` when the value
/// does not start with it.
fn after_prefix(value: &str, prefix: Option<&str>) -> Option<String> {
    let value = value.trim();
    let rest = match prefix {
        None => value,
        Some(prefix) => {
            let head = value.get(..prefix.len())?;
            if !head.eq_ignore_ascii_case(prefix) {
                return None;
            }
            value.get(prefix.len()..)?
        }
    };
    Some(rest.trim().to_owned())
}

fn from_query(query: &str, name: &str) -> Result<Option<String>, Error> {
    let mut found = None;
    for (key, value) in query_pairs(query) {
        if key == name {
            if found.is_some() {
                return Err(Error::RequestMalformed("token parameter sent twice"));
            }
            found = Some(value);
        }
    }
    Ok(found.filter(|v| !v.is_empty()))
}

/// The query's `name=value` pairs, each decoded as `application/x-www-form-urlencoded`
/// (WHATWG URL §5.1: `+` is a space, `%XX` a byte, a malformed `%` kept as is, then
/// UTF-8 with replacement), which is how `URLSearchParams` and origins read them.
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(key), form_decode(value))
        })
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|h| char::from(*h).to_digit(16));
        match (b, hex(i.saturating_add(1)), hex(i.saturating_add(2))) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(((hi << 4) | lo) as u8);
                i = i.saturating_add(3);
            }
            (b'+', _, _) => {
                out.push(b' ');
                i = i.saturating_add(1);
            }
            (other, _, _) => {
                out.push(other);
                i = i.saturating_add(1);
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query without the parameters named `name` (compared decoded, as
/// [`TokenSource::Query`] reads them); the other pairs are kept byte for byte, in order.
/// `None` when nothing is left.
pub fn strip_query_parameter(query: &str, name: &str) -> Option<String> {
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            form_decode(key) != name
        })
        .collect();
    let joined = kept.join("&");
    (!joined.is_empty()).then_some(joined)
}
