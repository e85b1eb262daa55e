//! Path patterns: `/health`, `/api/items/*`, `/docs/**`.
//!
//! A literal segment matches itself exactly (case-sensitive), `*` exactly one
//! non-empty segment, and a final `**` zero or more further segments. Patterns are
//! matched against paths in the normal form of [`super::path::normalise`], with one
//! trailing slash ignored: `/admin/` is matched as `/admin`, so the `/admin/**` and
//! `/admin` rules govern it, never the default.

use core::fmt;

/// The segments of a normalised path, one trailing slash ignored: `/` and `` give none,
/// `/admin/` gives `["admin"]`.
pub fn segments_of(path: &str) -> Vec<&str> {
    let body = path.strip_prefix('/').unwrap_or(path);
    let body = body.strip_suffix('/').unwrap_or(body);
    if body.is_empty() {
        Vec::new()
    } else {
        body.split('/').collect()
    }
}

/// One segment of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Exactly this text.
    Literal(String),
    /// `*`: any one non-empty segment.
    One,
}

/// A parsed path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    segments: Vec<Segment>,
    /// A final `**`.
    rest: bool,
}

/// Why a pattern was refused (part of the configuration error's field name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternProblem {
    /// It does not start with `/`.
    NotAbsolute,
    /// An empty segment (`//`, or a trailing `/`).
    EmptySegment,
    /// `**` anywhere but last.
    RestNotLast,
    /// `*` inside a segment, a dot segment, `;`, or a character or escape a normalised
    /// path never holds.
    BadSegment,
}

impl fmt::Display for PatternProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PatternProblem::NotAbsolute => "does not start with /",
            PatternProblem::EmptySegment => "has an empty segment",
            PatternProblem::RestNotLast => "has ** before its last segment",
            PatternProblem::BadSegment => "has a segment no normalised path can hold",
        })
    }
}

/// Whether `segment` is one a normalised path can hold: pchar (RFC 3986 §3.3) without
/// `;` and `\`, escapes only of bytes that stay escaped (upper-case hex, not
/// unreserved, not `/`, `\` or a control), and not `.` or `..`.
fn literal_ok(segment: &str) -> bool {
    if segment.is_empty() || segment == "." || segment == ".." {
        return false;
    }
    let mut parts = segment.split('%');
    // Before the first `%`: plain characters only.
    let plain_ok = |text: &str| {
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()+,=:@".contains(&b))
    };
    if !parts.next().is_some_and(plain_ok) {
        return false;
    }
    // After each `%`: two upper-case hex digits of a byte that stays escaped in a
    // normalised path, then plain characters.
    parts.all(|part| {
        let (Some(hex), Some(tail)) = (part.get(..2), part.get(2..)) else {
            return false;
        };
        let upper = hex
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c));
        let stays_escaped = u8::from_str_radix(hex, 16).is_ok_and(|v| {
            !(v.is_ascii_alphanumeric()
                || matches!(v, b'-' | b'.' | b'_' | b'~' | b'/' | b'\\')
                || v < 0x20
                || v == 0x7f)
        });
        upper && stays_escaped && plain_ok(tail)
    })
}

impl PathPattern {
    /// `/**`: every path.
    pub fn any() -> Self {
        Self {
            segments: Vec::new(),
            rest: true,
        }
    }

    /// Parses a pattern.
    pub fn parse(text: &str) -> Result<Self, PatternProblem> {
        let body = text.strip_prefix('/').ok_or(PatternProblem::NotAbsolute)?;
        if body.is_empty() {
            // `/`: the root only.
            return Ok(Self {
                segments: Vec::new(),
                rest: false,
            });
        }
        let parts: Vec<&str> = body.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        let mut rest = false;
        for (i, part) in parts.iter().enumerate() {
            if rest {
                return Err(PatternProblem::RestNotLast);
            }
            match *part {
                "" => return Err(PatternProblem::EmptySegment),
                "**" if i == parts.len().saturating_sub(1) => rest = true,
                "**" => return Err(PatternProblem::RestNotLast),
                "*" => segments.push(Segment::One),
                literal if literal_ok(literal) => segments.push(Segment::Literal(literal.into())),
                _ => return Err(PatternProblem::BadSegment),
            }
        }
        Ok(Self { segments, rest })
    }

    /// Whether the normalised `path` matches (one trailing slash ignored).
    pub fn matches(&self, path: &str) -> bool {
        self.matches_segments(&segments_of(path))
    }

    /// [`Self::matches`] over a path already split by [`segments_of`] (once per
    /// request, however many rules are tried).
    pub fn matches_segments(&self, parts: &[&str]) -> bool {
        if parts.len() < self.segments.len() || (!self.rest && parts.len() != self.segments.len()) {
            return false;
        }
        self.segments
            .iter()
            .zip(parts)
            .all(|(segment, part)| match segment {
                Segment::Literal(text) => text == part,
                Segment::One => !part.is_empty(),
            })
    }

    /// Whether every path `other` matches is matched by `self` too.
    pub fn covers(&self, other: &PathPattern) -> bool {
        if self.segments.len() > other.segments.len() {
            // `other` matches a path with exactly its own segments, too short for `self`.
            return false;
        }
        let prefix_covered =
            self.segments
                .iter()
                .zip(&other.segments)
                .all(|(mine, theirs)| match (mine, theirs) {
                    (Segment::One, _) => true,
                    (Segment::Literal(a), Segment::Literal(b)) => a == b,
                    (Segment::Literal(_), Segment::One) => false,
                });
        prefix_covered
            && (self.rest || (self.segments.len() == other.segments.len() && !other.rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> PathPattern {
        PathPattern::parse(text).unwrap()
    }

    #[test]
    fn matching() {
        let table: &[(&str, &[&str], &[&str])] = &[
            ("/", &["/"], &["/a", "/a/"]),
            ("/**", &["/", "/a", "/a/b/c", "/a/"], &[]),
            (
                "/health",
                &["/health", "/health/"],
                &["/", "/healthz", "/health/x", "/Health"],
            ),
            (
                "/admin/**",
                &["/admin", "/admin/", "/admin/users", "/admin/a/b"],
                &["/Admin", "/administrator", "/", "/x/admin"],
            ),
            (
                "/api/items/*",
                &["/api/items/1", "/api/items/1/"],
                &["/api/items", "/api/items/", "/api/items/1/2"],
            ),
            ("/a/*/c", &["/a/b/c"], &["/a/c", "/a/b/d", "/a/b/c/d"]),
            ("/caf%C3%A9", &["/caf%C3%A9"], &["/caf%c3%a9", "/cafe"]),
        ];
        for (pattern, yes, no) in table {
            let pattern_parsed = p(pattern);
            for path in *yes {
                assert!(
                    pattern_parsed.matches(path),
                    "{pattern} should match {path}"
                );
            }
            for path in *no {
                assert!(
                    !pattern_parsed.matches(path),
                    "{pattern} should not match {path}"
                );
            }
        }
    }

    #[test]
    fn bad_patterns() {
        for (text, problem) in [
            ("admin", PatternProblem::NotAbsolute),
            ("", PatternProblem::NotAbsolute),
            ("//admin", PatternProblem::EmptySegment),
            ("/admin/", PatternProblem::EmptySegment),
            ("/a//b", PatternProblem::EmptySegment),
            ("/**/admin", PatternProblem::RestNotLast),
            ("/a/**/**", PatternProblem::RestNotLast),
            ("/a*", PatternProblem::BadSegment),
            ("/a/***", PatternProblem::BadSegment),
            ("/a/..", PatternProblem::BadSegment),
            ("/a/.", PatternProblem::BadSegment),
            ("/a;b", PatternProblem::BadSegment),
            ("/a\\b", PatternProblem::BadSegment),
            ("/%61dmin", PatternProblem::BadSegment),
            ("/a%2Fb", PatternProblem::BadSegment),
            ("/a%c3", PatternProblem::BadSegment),
            ("/a%", PatternProblem::BadSegment),
            ("/a b", PatternProblem::BadSegment),
            ("/a?b", PatternProblem::BadSegment),
        ] {
            assert_eq!(PathPattern::parse(text), Err(problem), "{text:?}");
        }
    }

    #[test]
    fn coverage() {
        for (a, b, covered) in [
            ("/**", "/anything/*", true),
            ("/admin/**", "/admin", true),
            ("/admin/**", "/admin/users/*", true),
            ("/admin/**", "/admin/**", true),
            ("/admin", "/admin/**", false),
            ("/admin/*", "/admin/x", true),
            ("/admin/x", "/admin/*", false),
            ("/a/*/c", "/a/b/c", true),
            ("/a/*/c", "/a/b/**", false),
            ("/a/*", "/a", false),
            ("/a", "/b", false),
            ("/", "/", true),
            ("/", "/a", false),
        ] {
            assert_eq!(p(a).covers(&p(b)), covered, "{a} covers {b}");
        }
    }
}
