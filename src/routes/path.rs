//! Path hygiene: one reading of a request path, or a refusal.
//!
//! A gateway that matches `/admin/**` while its origin reads the same bytes as another
//! path protects nothing. So, before any rule is consulted, the path is normalised
//! (RFC 3986 §6.2.2: percent-encoded unreserved characters decoded, the hex of other
//! escapes upper-cased; §5.2.4: dot segments removed), and every spelling that origins
//! are known to read in more than one way is refused:
//!
//! - an encoded `/` or `\` (`%2F`, `%5C`): one segment to the matcher, two to an origin
//!   that decodes before routing;
//! - an encoded dot segment (`%2E%2E`, `.%2e`): a dot segment to some origins only;
//! - a raw `\`: a separator to Windows and WHATWG parsers;
//! - an empty segment (`//`): collapsed by some origins and frameworks, not by others;
//! - `;` anywhere: Tomcat, Jetty and Spring read `/admin;x` as `/admin`;
//! - a NUL or another control character, raw or encoded, a raw byte outside ASCII, and
//!   invalid percent-encoding (`%`, `%2`, `%zz`).
//!
//! The origin then receives exactly the normalised path that was matched.

use crate::error::Error;

/// Longest request path read, in bytes (the URL limit of common origins is 8 KiB).
pub const MAX_PATH_BYTES: usize = 8192;

fn malformed() -> Error {
    Error::RequestMalformed("path")
}

/// Whether `b` is an RFC 3986 §2.3 unreserved character.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// One segment in normal form: unreserved escapes decoded, other escapes upper-cased.
/// Returns the segment and whether it held an escape.
fn normalise_segment(raw: &str) -> Result<(String, bool), Error> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut escaped = false;
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if b == b'%' {
            let (hi, lo, tail) = match rest {
                [hi, lo, tail @ ..] => (*hi, *lo, tail),
                _ => return Err(malformed()),
            };
            rest = tail;
            let (Some(h), Some(l)) = (hex_value(hi), hex_value(lo)) else {
                return Err(malformed());
            };
            let decoded = (h << 4) | l;
            escaped = true;
            if is_unreserved(decoded) {
                out.push(char::from(decoded));
            } else if decoded == b'/' || decoded == b'\\' || decoded < 0x20 || decoded == 0x7f {
                return Err(malformed());
            } else {
                out.push('%');
                for nibble in [decoded >> 4, decoded & 0x0f] {
                    let digit = HEX_UPPER.get(usize::from(nibble)).copied().unwrap_or(b'0');
                    out.push(char::from(digit));
                }
            }
            continue;
        }
        if !(0x20..0x7f).contains(&b) || b == b'\\' || b == b';' {
            return Err(malformed());
        }
        out.push(char::from(b));
    }
    Ok((out, escaped))
}

/// The normal form of a request path (the part of the URL before `?`), or
/// [`Error::RequestMalformed`]`("path")` for a path that could be read two ways.
///
/// The result starts with `/`, has no empty segment except a final one (a trailing
/// slash is kept), no dot segment and no escape of an unreserved character.
pub fn normalise(raw: &str) -> Result<String, Error> {
    if raw.len() > MAX_PATH_BYTES {
        return Err(malformed());
    }
    let Some(body) = raw.strip_prefix('/') else {
        return Err(malformed());
    };
    let raw_segments: Vec<&str> = body.split('/').collect();
    let last = raw_segments.len().saturating_sub(1);
    let mut segments: Vec<String> = Vec::with_capacity(raw_segments.len());
    // Whether the path ends in a directory (a trailing slash): after a final dot
    // segment too (`/a/..` is `/`, `/a/.` is `/a/`, RFC 3986 §5.2.4).
    let mut trailing = false;
    for (i, raw_segment) in raw_segments.iter().enumerate() {
        let (segment, escaped) = normalise_segment(raw_segment)?;
        let is_last = i == last;
        match segment.as_str() {
            "" if is_last => trailing = true,
            // `//`: some origins collapse it, some do not.
            "" => return Err(malformed()),
            "." | ".." if escaped => return Err(malformed()),
            "." => trailing = is_last,
            ".." => {
                // Above the root stays at the root (RFC 3986 §5.2.4, step 2C).
                segments.pop();
                trailing = is_last;
            }
            _ => {
                segments.push(segment);
                trailing = false;
            }
        }
    }
    let mut path = String::with_capacity(raw.len());
    for segment in &segments {
        path.push('/');
        path.push_str(segment);
    }
    if trailing || segments.is_empty() {
        path.push('/');
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        for (raw, normal) in [
            ("/", "/"),
            ("/admin", "/admin"),
            ("/admin/", "/admin/"),
            ("/%61dmin", "/admin"),
            ("/a%7eb", "/a~b"),
            ("/caf%c3%a9", "/caf%C3%A9"),
            ("/public/../admin", "/admin"),
            ("/a/./b", "/a/b"),
            ("/a/.", "/a/"),
            ("/a/..", "/"),
            ("/..", "/"),
            ("/../admin", "/admin"),
            ("/a%2Eb", "/a.b"),
            ("/items/%20x", "/items/%20x"),
        ] {
            assert_eq!(normalise(raw).as_deref(), Ok(normal), "{raw}");
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for raw in [
            "",
            "admin",
            "//admin",
            "/a//b",
            "/admin%2F..%2Fpublic",
            "/admin%2f",
            "/a%5Cb",
            "/a\\b",
            "/%2e%2e/admin",
            "/a/.%2E/b",
            "/a/%2e/b",
            "/admin;x",
            "/admin;",
            "/a%00b",
            "/a%1fb",
            "/a%7Fb",
            "/a%zz",
            "/a%2",
            "/a%",
            "/a\u{0}b",
            "/a\tb",
            "/caf\u{e9}",
            "/a/../..//b",
        ] {
            assert_eq!(
                normalise(raw),
                Err(Error::RequestMalformed("path")),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn overlong_path_is_refused() {
        let long = format!("/{}", "a".repeat(MAX_PATH_BYTES));
        assert!(normalise(&long).is_err());
    }
}
