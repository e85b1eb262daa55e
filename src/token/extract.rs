//! Where a request carries its token: an `Authorization` scheme (RFC 6750 §2.1,
//! `Bearer` by default, or custom ones such as `Custom-Jwt`), a cookie, or a named
//! header. Offering the token in more than one place is a malformed request
//! (RFC 6750 §2: "Clients MUST NOT use more than one method").

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
    /// A request header whose whole value is the token.
    Header {
        /// The header name.
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
            TokenSource::Header { name } => header(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
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
