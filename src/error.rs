//! One error type for every failure, a stable `code()` per variant, and the single
//! place that knows how a failure maps to HTTP (RFC 6750 §3). Beside it, the reasons
//! with codes of their own: what was malformed in a token, why a whole key set was
//! refused ([`JwksProblem`]), why one key was skipped ([`KeyRejection`]).
//!
//! No message produced here ever contains a token, a key or a claim value: hostile
//! input is described by what was wrong with it, never by echoing it.
//!
//! Why one file of more than 500 lines: the enum, its codes, families, HTTP mapping and
//! messages are one table read side by side; split, a new variant could get a code
//! without an HTTP answer. About 100 lines are the exhaustive tests that keep them in step.

use core::fmt;
use std::borrow::Cow;

/// Why a token (or a JWKS, or a configuration) was refused.
///
/// Match on [`Error::code`] rather than on the text: codes are stable across
/// releases, the text is for people.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The request carried no token at all (RFC 6750 §3.1: answer without an `error`).
    TokenMissing,
    /// The request was malformed, e.g. a token offered in two places at once.
    RequestMalformed(&'static str),
    /// The token is longer than the configured cap; nothing of it was decoded.
    TokenTooLarge {
        /// The configured cap, in bytes.
        limit: usize,
    },
    /// The token does not follow the JWS compact serialization (RFC 7515 §7.1) or
    /// its header or payload is not a strict JSON object.
    TokenMalformed(Malformed),
    /// The header lists a critical extension that is not understood (RFC 7515 §4.1.11).
    CritUnsupported,
    /// The header asks for an unencoded payload (`b64: false`, RFC 7797), which is refused.
    B64Unsupported,
    /// The header's `alg` is `none`, unknown, or not in the configured allow-list.
    AlgorithmNotAllowed,
    /// No key in the set has the token's `kid`, or no key fits its `alg`.
    NoMatchingKey,
    /// The key selected by `kid` cannot be used with the token's `alg`
    /// (other `kty`/`crv`, another `alg`, `use` other than `sig`, no `verify` in `key_ops`).
    KeyMismatch,
    /// The signature does not verify with any candidate key.
    SignatureInvalid,
    /// `exp` is at or before now minus the clock skew (RFC 7519 §4.1.4).
    TokenExpired,
    /// `nbf` is after now plus the clock skew (RFC 7519 §4.1.5).
    TokenNotYetValid,
    /// `iat` is after now plus the clock skew (RFC 7519 §4.1.6).
    IssuedInFuture,
    /// `exp − iat` or `exp − now` exceeds the configured maximum lifetime.
    LifetimeTooLong,
    /// A claim the policy requires is absent.
    ClaimMissing(&'static str),
    /// A claim has the wrong JSON type or an absurd value (e.g. a string `exp`).
    ClaimInvalid(&'static str),
    /// `iss` is none of the allowed issuers (RFC 7519 §4.1.1).
    IssuerMismatch,
    /// No `aud` value is one of the allowed audiences (RFC 7519 §4.1.3).
    AudienceMismatch,
    /// `sub` is not the expected subject (RFC 7519 §4.1.2).
    SubjectMismatch,
    /// The header's `typ` is not the expected type (RFC 8725 §3.11).
    TypeMismatch,
    /// The token is genuine but lacks a scope the route requires (`scope` or `scp`,
    /// RFC 9068 §2.2.3, RFC 8693 §4.2). Answered 403 `insufficient_scope` (RFC 6750 §3.1).
    InsufficientScope,
    /// The token is genuine but a claim rule of the route does not hold (a role, a
    /// tenant, ...). Answered 403 `insufficient_scope`.
    ClaimMismatch,
    /// A signed request assertion is genuine but was issued for another request: the
    /// method or the path differs from the request received. Names the field.
    AssertionMismatch(&'static str),
    /// The token's `jti` was already seen within its lifetime.
    TokenReplayed,
    /// The replay store could not answer; the request fails closed.
    ReplayUnavailable,
    /// No usable key set: the issuer failed and no last-known-good set is young enough.
    JwksUnavailable,
    /// The key set as a whole was refused (not JSON, too large, private key material, …).
    JwksInvalid(JwksProblem),
    /// The verifier's own configuration is invalid; names the offending field, with
    /// its position in a list where it has one (`routes[3].path`). Never a value.
    ConfigInvalid(Cow<'static, str>),
    /// The runtime could not build or send the answer (a header or response the
    /// platform refused). A server-side failure, not the token's.
    ResponseFailed,
    /// The platform's random number generator failed, so no unique value (such as a
    /// signed assertion's `jti`) could be drawn; the request is refused rather than
    /// sent on with a guessable one.
    RandomnessUnavailable,
}

/// Groups of [`Error`]s with a common cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorFamily {
    /// No token, or a malformed request.
    Request,
    /// The token's encoding or header.
    Token,
    /// Algorithm and key selection.
    Key,
    /// The signature.
    Signature,
    /// The claims policy.
    Claims,
    /// Replay protection.
    Replay,
    /// The key set.
    Jwks,
    /// The verifier's configuration.
    Config,
    /// The runtime the front end runs on (building a response, drawing random bytes).
    Runtime,
}

impl ErrorFamily {
    /// A stable lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            ErrorFamily::Request => "request",
            ErrorFamily::Token => "token",
            ErrorFamily::Key => "key",
            ErrorFamily::Signature => "signature",
            ErrorFamily::Claims => "claims",
            ErrorFamily::Replay => "replay",
            ErrorFamily::Jwks => "jwks",
            ErrorFamily::Config => "config",
            ErrorFamily::Runtime => "runtime",
        }
    }
}

/// What exactly was malformed in a token. Part of [`Error::TokenMalformed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// Not exactly three `.`-separated segments.
    SegmentCount,
    /// A segment is not strict unpadded base64url (RFC 7515 §2, RFC 4648 §5).
    Base64,
    /// A segment is not valid UTF-8 JSON.
    Json,
    /// The header or payload is JSON but not an object (RFC 7519 §7.2 step 10).
    NotObject,
    /// A JSON object repeats a member name (RFC 7515 §5.2, RFC 7519 §4).
    DuplicateMember,
    /// JSON nesting deeper than the cap.
    TooDeep,
    /// A header parameter has the wrong type or is out of bounds (`alg`, `kid`, `typ`, `crit`, `b64`).
    HeaderParameter(&'static str),
}

/// Why a whole JWKS was refused. Individual bad keys are skipped instead; see
/// [`crate::SkippedKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksProblem {
    /// More bytes than the configured cap.
    TooLarge,
    /// Not strict JSON, or not an object with a `keys` array (RFC 7517 §5).
    Malformed,
    /// More keys than the configured cap.
    TooManyKeys,
    /// A key carries private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`): the set
    /// was published by mistake and must not be trusted. For a set being published,
    /// an `oct` key's `k` counts too (RFC 7518 §6.4.1: the secret itself).
    PrivateKeyMaterial,
    /// Not one key of the set can be used (an empty `keys` array, or every key skipped:
    /// too short an RSA modulus, an `oct` key, an unsupported type). Such an answer
    /// never replaces a set that had keys: every token would fail `no_matching_key`.
    NoUsableKeys,
}

impl JwksProblem {
    /// A stable code for logs and diagnostics (the error's own code is `jwks_invalid`).
    pub fn code(self) -> &'static str {
        match self {
            JwksProblem::TooLarge => "too_large",
            JwksProblem::Malformed => "malformed",
            JwksProblem::TooManyKeys => "too_many_keys",
            JwksProblem::PrivateKeyMaterial => "private_key_material",
            JwksProblem::NoUsableKeys => "no_usable_keys",
        }
    }
}

/// Why one key of a set was skipped. The rest of the set stays usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRejection {
    /// The entry is not a JSON object.
    NotObject,
    /// `kty` is missing, not a string, or not one of `RSA`, `EC`, `OKP`, `oct`.
    UnsupportedKeyType,
    /// `crv` is missing or not a supported curve for the `kty`.
    UnsupportedCurve,
    /// A member has the wrong type, is not strict base64url, or has the wrong length.
    InvalidMember(&'static str),
    /// An RSA modulus shorter than the minimum (2048 bits by default).
    RsaTooSmall,
    /// An RSA modulus longer than [`crate::MAX_RSA_BITS`], or an unusable exponent.
    RsaUnsupported,
    /// EC coordinates that are not a point on the curve, or an Ed25519 point that does
    /// not decode.
    InvalidPoint,
    /// A key that verifies forgeries: a small-order Ed25519 point, or a secret shorter
    /// than 32 bytes.
    WeakKey,
    /// A configured secret that is not unpadded base64url text (e.g. a placeholder
    /// such as `<your key>`).
    NotBase64url,
    /// A configured secret whose text reads as typed words (lowercase letters and
    /// digits joined by `-` or `_`), not as encoded random bytes: a placeholder or a
    /// password. See [`crate::parse_secret_text`].
    TypedText,
    /// A `kid` given to a configured secret that is empty or longer than
    /// [`crate::MAX_KID_BYTES`].
    InvalidKid,
    /// A symmetric (`oct`) key in a set whose options do not allow them.
    OctNotAllowed,
    /// `key_ops` repeats a value (RFC 7517 §4.3).
    DuplicateKeyOps,
}

impl KeyRejection {
    /// A stable code for logs and diagnostics.
    pub fn code(self) -> &'static str {
        match self {
            KeyRejection::NotObject => "not_object",
            KeyRejection::UnsupportedKeyType => "unsupported_kty",
            KeyRejection::UnsupportedCurve => "unsupported_crv",
            KeyRejection::InvalidMember(_) => "invalid_member",
            KeyRejection::RsaTooSmall => "rsa_too_small",
            KeyRejection::RsaUnsupported => "rsa_unsupported",
            KeyRejection::InvalidPoint => "invalid_point",
            KeyRejection::WeakKey => "weak_key",
            KeyRejection::NotBase64url => "not_base64url",
            KeyRejection::TypedText => "typed_text",
            KeyRejection::InvalidKid => "invalid_kid",
            KeyRejection::OctNotAllowed => "oct_not_allowed",
            KeyRejection::DuplicateKeyOps => "duplicate_key_ops",
        }
    }
}

impl fmt::Display for KeyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyRejection::InvalidMember(name) => write!(f, "member `{name}` is invalid"),
            other => f.write_str(other.code()),
        }
    }
}

impl Error {
    /// One error of every kind, in declaration order: the list generated references
    /// (README, `index.d.ts`, `www/`) take codes and HTTP answers from
    /// (`crate::reference`). A test below fails to compile when a variant is missing
    /// from its exhaustive match, and fails when this list lacks the variant.
    #[doc(hidden)]
    pub const ALL_KINDS: &'static [Error] = &[
        Error::TokenMissing,
        Error::RequestMalformed("request"),
        Error::TokenTooLarge { limit: 0 },
        Error::TokenMalformed(Malformed::SegmentCount),
        Error::CritUnsupported,
        Error::B64Unsupported,
        Error::AlgorithmNotAllowed,
        Error::NoMatchingKey,
        Error::KeyMismatch,
        Error::SignatureInvalid,
        Error::TokenExpired,
        Error::TokenNotYetValid,
        Error::IssuedInFuture,
        Error::LifetimeTooLong,
        Error::ClaimMissing("exp"),
        Error::ClaimInvalid("exp"),
        Error::IssuerMismatch,
        Error::AudienceMismatch,
        Error::SubjectMismatch,
        Error::TypeMismatch,
        Error::InsufficientScope,
        Error::ClaimMismatch,
        Error::AssertionMismatch("method"),
        Error::TokenReplayed,
        Error::ReplayUnavailable,
        Error::JwksUnavailable,
        Error::JwksInvalid(JwksProblem::Malformed),
        Error::config_invalid("config"),
        Error::ResponseFailed,
        Error::RandomnessUnavailable,
    ];
}

impl Error {
    /// An error of the kind whose [`Error::code`] is `code` (its details, such as a
    /// claim's name, are placeholders): for front ends that kept the code of a refusal
    /// and need its HTTP answer. `None` for a code no error has.
    pub fn of_code(code: &str) -> Option<&'static Error> {
        Error::ALL_KINDS.iter().find(|kind| kind.code() == code)
    }

    /// [`Error::ConfigInvalid`] naming a fixed field.
    pub const fn config_invalid(field: &'static str) -> Error {
        Error::ConfigInvalid(Cow::Borrowed(field))
    }

    /// [`Error::ConfigInvalid`] naming a field of a list entry, e.g. `routes[3].path`.
    pub fn config_invalid_at(list: &str, index: usize, field: &str) -> Error {
        let name = if field.is_empty() {
            format!("{list}[{index}]")
        } else {
            format!("{list}[{index}].{field}")
        };
        Error::ConfigInvalid(Cow::Owned(name))
    }

    /// The stable, machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TokenMissing => "token_missing",
            Error::RequestMalformed(_) => "request_malformed",
            Error::TokenTooLarge { .. } => "token_too_large",
            Error::TokenMalformed(_) => "token_malformed",
            Error::CritUnsupported => "crit_unsupported",
            Error::B64Unsupported => "b64_unsupported",
            Error::AlgorithmNotAllowed => "alg_not_allowed",
            Error::NoMatchingKey => "no_matching_key",
            Error::KeyMismatch => "key_mismatch",
            Error::SignatureInvalid => "signature_invalid",
            Error::TokenExpired => "token_expired",
            Error::TokenNotYetValid => "token_not_yet_valid",
            Error::IssuedInFuture => "iat_in_future",
            Error::LifetimeTooLong => "lifetime_too_long",
            Error::ClaimMissing(_) => "claim_missing",
            Error::ClaimInvalid(_) => "claim_invalid",
            Error::IssuerMismatch => "issuer_mismatch",
            Error::AudienceMismatch => "audience_mismatch",
            Error::SubjectMismatch => "subject_mismatch",
            Error::TypeMismatch => "typ_mismatch",
            Error::InsufficientScope => "insufficient_scope",
            Error::ClaimMismatch => "claim_mismatch",
            Error::AssertionMismatch(_) => "assertion_mismatch",
            Error::TokenReplayed => "token_replayed",
            Error::ReplayUnavailable => "replay_unavailable",
            Error::JwksUnavailable => "jwks_unavailable",
            Error::JwksInvalid(_) => "jwks_invalid",
            Error::ConfigInvalid(_) => "config_invalid",
            Error::ResponseFailed => "response_failed",
            Error::RandomnessUnavailable => "randomness_unavailable",
        }
    }

    /// The family of this error, for front ends that group outcomes (the CLI's exit
    /// status, metrics).
    pub fn family(&self) -> ErrorFamily {
        use ErrorFamily as F;
        match self {
            Error::TokenMissing | Error::RequestMalformed(_) => F::Request,
            Error::TokenTooLarge { .. }
            | Error::TokenMalformed(_)
            | Error::CritUnsupported
            | Error::B64Unsupported => F::Token,
            Error::AlgorithmNotAllowed | Error::NoMatchingKey | Error::KeyMismatch => F::Key,
            Error::SignatureInvalid => F::Signature,
            Error::TokenReplayed | Error::ReplayUnavailable => F::Replay,
            Error::JwksInvalid(_) | Error::JwksUnavailable => F::Jwks,
            Error::ConfigInvalid(_) => F::Config,
            Error::ResponseFailed | Error::RandomnessUnavailable => F::Runtime,
            _ => F::Claims,
        }
    }

    /// How a front end answers this error over HTTP.
    pub fn http(&self) -> HttpError {
        use HttpError as H;
        match self {
            // RFC 6750 §3.1: a request without credentials gets no error code.
            Error::TokenMissing => H::new(401, None),
            Error::RequestMalformed(_) => H::new(400, Some("invalid_request")),
            // RFC 6750 §3.1 "insufficient_scope": the token is genuine but not for this
            // resource; Envoy's jwt_authn answers an audience mismatch the same way.
            Error::AudienceMismatch | Error::InsufficientScope | Error::ClaimMismatch => {
                H::new(403, Some("insufficient_scope"))
            }
            Error::ReplayUnavailable | Error::JwksInvalid(_) | Error::JwksUnavailable => {
                H::new(503, None)
            }
            // Server-side failures: nothing the client can fix by another token.
            Error::ConfigInvalid(_) | Error::ResponseFailed | Error::RandomnessUnavailable => {
                H::new(500, None)
            }
            _ => H::new(401, Some("invalid_token")),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TokenMissing => f.write_str("no token in the request"),
            Error::RequestMalformed(what) => write!(f, "malformed request: {what}"),
            Error::TokenTooLarge { limit } => write!(f, "token longer than {limit} bytes"),
            Error::TokenMalformed(why) => write!(f, "malformed token: {why}"),
            Error::CritUnsupported => {
                f.write_str("token header lists an unsupported critical extension")
            }
            Error::B64Unsupported => {
                f.write_str("unencoded payloads (b64: false) are not accepted")
            }
            Error::AlgorithmNotAllowed => f.write_str("token algorithm is not allowed"),
            Error::NoMatchingKey => f.write_str("no key matches the token"),
            Error::KeyMismatch => {
                f.write_str("the selected key cannot verify this token's algorithm")
            }
            Error::SignatureInvalid => f.write_str("signature verification failed"),
            Error::TokenExpired => f.write_str("token has expired"),
            Error::TokenNotYetValid => f.write_str("token is not valid yet"),
            Error::IssuedInFuture => f.write_str("token was issued in the future"),
            Error::LifetimeTooLong => f.write_str("token lifetime exceeds the allowed maximum"),
            Error::ClaimMissing(claim) => write!(f, "required claim `{claim}` is missing"),
            Error::ClaimInvalid(claim) => write!(f, "claim `{claim}` has an invalid type or value"),
            Error::IssuerMismatch => f.write_str("token issuer is not allowed"),
            Error::AudienceMismatch => f.write_str("token audience is not allowed"),
            Error::SubjectMismatch => f.write_str("token subject is not the expected one"),
            Error::TypeMismatch => f.write_str("token type (typ) is not the expected one"),
            Error::InsufficientScope => f.write_str("token lacks a scope this resource requires"),
            Error::ClaimMismatch => f.write_str("token lacks a claim value this resource requires"),
            Error::AssertionMismatch(field) => {
                write!(
                    f,
                    "assertion was issued for another request: `{field}` differs"
                )
            }
            Error::TokenReplayed => f.write_str("token was already used"),
            Error::ReplayUnavailable => f.write_str("replay protection is unavailable"),
            Error::JwksUnavailable => f.write_str("the issuer's keys are unavailable"),
            Error::JwksInvalid(why) => write!(f, "key set refused: {why}"),
            Error::ConfigInvalid(field) => write!(f, "invalid configuration: `{field}`"),
            Error::ResponseFailed => f.write_str("the answer could not be built"),
            Error::RandomnessUnavailable => f.write_str("no random bytes were available"),
        }
    }
}

impl std::error::Error for Error {}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::SegmentCount => f.write_str("not three dot-separated segments"),
            Malformed::Base64 => f.write_str("segment is not strict unpadded base64url"),
            Malformed::Json => f.write_str("segment is not valid JSON"),
            Malformed::NotObject => f.write_str("header or payload is not a JSON object"),
            Malformed::DuplicateMember => f.write_str("duplicate JSON member name"),
            Malformed::TooDeep => f.write_str("JSON nested too deeply"),
            Malformed::HeaderParameter(name) => write!(f, "header parameter `{name}` is invalid"),
        }
    }
}

impl fmt::Display for JwksProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JwksProblem::TooLarge => "larger than the allowed size",
            JwksProblem::Malformed => "not a JSON object with a `keys` array",
            JwksProblem::TooManyKeys => "more keys than allowed",
            JwksProblem::PrivateKeyMaterial => "it contains private key material",
            JwksProblem::NoUsableKeys => "it has no usable key",
        })
    }
}

/// The HTTP rendering of an [`Error`] (RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpError {
    /// The status code: 400, 401, 403, 500 or 503.
    pub status: u16,
    /// The RFC 6750 `error` attribute, when one applies.
    pub error: Option<&'static str>,
}

impl HttpError {
    const fn new(status: u16, error: Option<&'static str>) -> Self {
        Self { status, error }
    }

    /// The `WWW-Authenticate` header value for 400/401/403 answers, `None` otherwise.
    ///
    /// `realm` comes from configuration; quotes and backslashes in it are escaped
    /// (RFC 9110 §5.6.4) so it cannot break out of its quoted string.
    pub fn www_authenticate(&self, realm: &str, err: &Error) -> Option<String> {
        self.challenge(realm, err, &Challenge::default())
    }

    /// [`Self::www_authenticate`] with a route's attributes: `scope` (the scopes the
    /// route requires, RFC 6750 §3) on an [`Error::InsufficientScope`] answer, and
    /// `resource_metadata` (RFC 9728 §5.1) on every challenge.
    pub fn challenge(&self, realm: &str, err: &Error, extra: &Challenge<'_>) -> Option<String> {
        self.challenge_described(realm, err, &err.to_string(), extra)
    }

    /// [`Self::challenge`] with `description` as `error_description`: the message of an
    /// error of `err`'s kind as it was reported (a front end that kept the code and the
    /// message, not the error).
    pub fn challenge_described(
        &self,
        realm: &str,
        err: &Error,
        description: &str,
        extra: &Challenge<'_>,
    ) -> Option<String> {
        if !matches!(self.status, 400 | 401 | 403) {
            return None;
        }
        let mut value = format!("Bearer realm=\"{}\"", quote_escape(realm));
        if let Some(code) = self.error {
            value.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                quote_escape(description)
            ));
        }
        if let (Error::InsufficientScope, Some(scope)) = (err, extra.scope) {
            value.push_str(&format!(", scope=\"{}\"", quote_escape(scope)));
        }
        if let Some(url) = extra.resource_metadata {
            value.push_str(&format!(", resource_metadata=\"{}\"", quote_escape(url)));
        }
        Some(value)
    }
}

/// Attributes a route adds to a challenge (see [`HttpError::challenge`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// The scopes the route requires, space-separated.
    pub scope: Option<&'a str>,
    /// The URL of the RFC 9728 protected-resource metadata.
    pub resource_metadata: Option<&'a str>,
}

fn quote_escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The position of `e`'s variant in the enum. Exhaustive: a new variant does not
    /// compile until it is numbered here. Number it next and add it to `ALL_KINDS` at the
    /// same position: the generated references (tests/generated.rs) then list its code.
    fn ordinal(e: &Error) -> usize {
        match e {
            Error::TokenMissing => 0,
            Error::RequestMalformed(_) => 1,
            Error::TokenTooLarge { .. } => 2,
            Error::TokenMalformed(_) => 3,
            Error::CritUnsupported => 4,
            Error::B64Unsupported => 5,
            Error::AlgorithmNotAllowed => 6,
            Error::NoMatchingKey => 7,
            Error::KeyMismatch => 8,
            Error::SignatureInvalid => 9,
            Error::TokenExpired => 10,
            Error::TokenNotYetValid => 11,
            Error::IssuedInFuture => 12,
            Error::LifetimeTooLong => 13,
            Error::ClaimMissing(_) => 14,
            Error::ClaimInvalid(_) => 15,
            Error::IssuerMismatch => 16,
            Error::AudienceMismatch => 17,
            Error::SubjectMismatch => 18,
            Error::TypeMismatch => 19,
            Error::InsufficientScope => 20,
            Error::ClaimMismatch => 21,
            Error::AssertionMismatch(_) => 22,
            Error::TokenReplayed => 23,
            Error::ReplayUnavailable => 24,
            Error::JwksUnavailable => 25,
            Error::JwksInvalid(_) => 26,
            Error::ConfigInvalid(_) => 27,
            Error::ResponseFailed => 28,
            Error::RandomnessUnavailable => 29,
        }
    }

    #[test]
    fn challenges_carry_the_route_attributes() {
        let extra = Challenge {
            scope: Some("items:write admin"),
            resource_metadata: Some("https://api.example.com/.well-known/oauth-protected-resource"),
        };
        let scope = Error::InsufficientScope;
        assert_eq!(
            scope.http().challenge("api", &scope, &extra).as_deref(),
            Some(
                "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"token lacks a scope this resource requires\", scope=\"items:write admin\", resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\""
            )
        );
        // The scope attribute only on insufficient_scope; the metadata on every challenge.
        let claim = Error::ClaimMismatch;
        assert_eq!(claim.http().status, 403);
        assert_eq!(
            claim.http().challenge("api", &claim, &extra).as_deref(),
            Some(
                "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"token lacks a claim value this resource requires\", resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\""
            )
        );
        let missing = Error::TokenMissing;
        assert_eq!(
            missing.http().challenge("api", &missing, &extra).as_deref(),
            Some("Bearer realm=\"api\", resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\"")
        );
        let down = Error::JwksUnavailable;
        assert_eq!(down.http().challenge("api", &down, &extra), None);
    }

    #[test]
    fn all_kinds_lists_every_variant_once_in_order() {
        let ordinals: Vec<usize> = Error::ALL_KINDS.iter().map(ordinal).collect();
        let expected: Vec<usize> = (0..ordinals.len()).collect();
        assert_eq!(ordinals, expected);
        let mut codes: Vec<&str> = Error::ALL_KINDS.iter().map(Error::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Error::ALL_KINDS.len(), "codes are unique");
    }
}
