//! The one judgement of a JWKS URI, shared by every front end: `https://` to any host,
//! or `http://` to a loopback host when development explicitly allows it.
//!
//! The URI is split by a strict subset of RFC 3986 §3 (scheme, authority, rest), never by
//! a prefix test: `http://127.0.0.1:1@evil.example/` starts like a loopback URI but its
//! host is `evil.example` (RFC 3986 §3.2.1 userinfo). Anything the subset does not
//! cover is refused rather than guessed at, so a WHATWG URL parser (the `fetch` that
//! follows) can only ever see the same host: no userinfo, no backslash (which WHATWG
//! reads as `/`), no percent-encoded or non-ASCII host, no whitespace or controls.

/// Longest JWKS URI accepted, in bytes.
pub const MAX_JWKS_URI_BYTES: usize = 2048;

/// The parts of an accepted URI that the decision needs.
struct Authority<'a> {
    https: bool,
    host: &'a str,
}

/// Whether `uri` may be fetched for a key set: `https://` with a well-formed host, or,
/// only when `allow_http_loopback`, `http://` whose host is exactly `127.0.0.1`,
/// `[::1]` or `localhost`. Userinfo is refused in every URI.
pub fn jwks_uri_allowed(uri: &str, allow_http_loopback: bool) -> bool {
    match authority(uri) {
        Some(Authority { https: true, .. }) => true,
        Some(Authority { https: false, host }) => allow_http_loopback && is_loopback(host),
        None => false,
    }
}

/// Whether `uri` may be the proxy's origin base: `https://` or `http://` (the origin is
/// the operator's own, often private) with a well-formed host and no userinfo, query or
/// fragment, under the same strict subset as a JWKS URI, so that the host the config
/// names is the host `fetch` connects to.
pub fn origin_allowed(uri: &str) -> bool {
    !uri.contains('?') && authority(uri).is_some()
}

/// Whether `host` (as written in the authority, brackets included) is loopback. Only
/// these exact spellings: other forms WHATWG would also map to 127.0.0.1 (`127.1`,
/// `0x7f.0.0.1`) are refused, which only ever errs towards refusing.
fn is_loopback(host: &str) -> bool {
    host == "127.0.0.1" || host == "[::1]" || host.eq_ignore_ascii_case("localhost")
}

fn authority(uri: &str) -> Option<Authority<'_>> {
    if uri.len() > MAX_JWKS_URI_BYTES
        || !uri.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        || uri.contains('#')
    {
        return None;
    }
    let (https, rest) = if let Some(rest) = strip_prefix_ignore_case(uri, "https://") {
        (true, rest)
    } else {
        (false, strip_prefix_ignore_case(uri, "http://")?)
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, _) = rest.split_at(end);
    // RFC 3986 §3.2.1: userinfo ends at '@'. Never accepted in a key set's URI.
    if authority.contains('@') {
        return None;
    }
    let (host, after) = if authority.starts_with('[') {
        // RFC 3986 §3.2.2 IP-literal: hex digits, ':' and '.' (no zone identifier).
        let close = authority.find(']')?;
        let (literal, after) = authority.split_at(close.checked_add(1)?);
        let inner = literal.get(1..close)?;
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        (literal, after)
    } else {
        let (host, after) = authority.split_at(authority.find(':').unwrap_or(authority.len()));
        let reg_name = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !reg_name {
            return None;
        }
        (host, after)
    };
    port_of(after)?;
    Some(Authority { https, host })
}

/// `""` (no port) or `":"` and 1 to 5 digits up to 65535 (RFC 3986 §3.2.3; an empty
/// port after the colon is refused).
fn port_of(after_host: &str) -> Option<Option<u16>> {
    if after_host.is_empty() {
        return Some(None);
    }
    let digits = after_host.strip_prefix(':')?;
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u16>().ok().map(Some)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}
