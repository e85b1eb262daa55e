//! The claims of a signature-verified token (RFC 7519 §4.1) and the policy they
//! must meet. Time is an input: every check takes `now` in Unix seconds.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::token::Header;

/// Latest NumericDate accepted: 9999-12-31T23:59:59Z. Anything later is absurd.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// The claims policy. Defaults are written once, in `Default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsPolicy {
    /// Allowed `iss` values (RFC 7519 §4.1.1). Non-empty makes `iss` required. Default empty.
    pub issuers: Vec<String>,
    /// Allowed audiences (RFC 7519 §4.1.3): one `aud` value must be among them.
    /// Non-empty makes `aud` required. Default empty.
    pub audiences: Vec<String>,
    /// The required `sub` (RFC 7519 §4.1.2), if any. Default none.
    pub subject: Option<String>,
    /// The required header `typ`, compared per RFC 8725 §3.11 (case-insensitive,
    /// `application/` optional). Default none.
    pub typ: Option<String>,
    /// Tolerated clock difference, in seconds, applied to `exp`, `nbf` and `iat`. Default 60.
    pub clock_skew: u64,
    /// Longest accepted lifetime, in seconds: bounds `exp − iat` and `exp − now`
    /// (the latter plus skew). Default none.
    pub max_lifetime: Option<u64>,
    /// Whether `exp` is required. Default `true`.
    pub require_exp: bool,
    /// Claims that must be present (any JSON value but `null`). Default empty.
    pub required_claims: Vec<String>,
    /// Most `aud` entries accepted in one token. Default 64.
    pub max_audiences: usize,
}

impl Default for ClaimsPolicy {
    fn default() -> Self {
        Self {
            issuers: Vec::new(),
            audiences: Vec::new(),
            subject: None,
            typ: None,
            clock_skew: 60,
            max_lifetime: None,
            require_exp: true,
            required_claims: Vec::new(),
            max_audiences: 64,
        }
    }
}

/// The registered claims of a verified token, typed, plus every claim as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// `iss`.
    pub issuer: Option<String>,
    /// `sub`.
    pub subject: Option<String>,
    /// `aud`, normalised to a list (RFC 7519 §4.1.3 allows a string or an array).
    pub audiences: Vec<String>,
    /// `exp`, in Unix seconds, rounded down (a fractional `exp` never extends a token).
    pub expires_at: Option<i64>,
    /// `nbf`, in Unix seconds, rounded up.
    pub not_before: Option<i64>,
    /// `iat`, in Unix seconds, rounded up.
    pub issued_at: Option<i64>,
    /// `jti`.
    pub jwt_id: Option<String>,
    /// The whole payload.
    pub all: Map<String, Value>,
}

impl Claims {
    /// Reads the registered claims, refusing wrong types: NumericDates must be JSON
    /// numbers between 0 and [`MAX_NUMERIC_DATE`] (RFC 7519 §2), `iss`/`sub`/`jti`
    /// strings, `aud` a string or an array of strings.
    pub fn from_map(all: Map<String, Value>, max_audiences: usize) -> Result<Self, Error> {
        let string = |name: &'static str| match all.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::ClaimInvalid(name)),
        };
        let audiences = match all.get("aud") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) if items.len() <= max_audiences => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(Error::ClaimInvalid("aud"))?,
            Some(_) => return Err(Error::ClaimInvalid("aud")),
        };
        Ok(Claims {
            issuer: string("iss")?,
            subject: string("sub")?,
            audiences,
            expires_at: numeric_date(&all, "exp", f64::floor)?,
            not_before: numeric_date(&all, "nbf", f64::ceil)?,
            issued_at: numeric_date(&all, "iat", f64::ceil)?,
            jwt_id: string("jti")?,
            all,
        })
    }
}

fn numeric_date(
    all: &Map<String, Value>,
    name: &'static str,
    round: fn(f64) -> f64,
) -> Result<Option<i64>, Error> {
    let Some(value) = all.get(name) else {
        return Ok(None);
    };
    let invalid = Error::ClaimInvalid(name);
    let number = value.as_number().ok_or(invalid.clone())?;
    let seconds = match number.as_i64() {
        Some(i) => i,
        None => {
            let f = number.as_f64().ok_or(invalid.clone())?;
            if !f.is_finite() || !(0.0..=MAX_NUMERIC_DATE as f64).contains(&f) {
                return Err(invalid);
            }
            // In range, so the conversion is exact after rounding.
            round(f) as i64
        }
    };
    if !(0..=MAX_NUMERIC_DATE).contains(&seconds) {
        return Err(invalid);
    }
    Ok(Some(seconds))
}

impl ClaimsPolicy {
    /// Checks verified claims (and the header's `typ`) against this policy at `now`
    /// (Unix seconds).
    pub fn check(&self, claims: &Claims, header: &Header, now: i64) -> Result<(), Error> {
        let skew = i64::try_from(self.clock_skew).unwrap_or(i64::MAX);
        // Presence first, so a missing claim is reported as missing.
        if self.require_exp && claims.expires_at.is_none() {
            return Err(Error::ClaimMissing("exp"));
        }
        if !self.issuers.is_empty() && claims.issuer.is_none() {
            return Err(Error::ClaimMissing("iss"));
        }
        if !self.audiences.is_empty() && claims.audiences.is_empty() {
            return Err(Error::ClaimMissing("aud"));
        }
        if self.subject.is_some() && claims.subject.is_none() {
            return Err(Error::ClaimMissing("sub"));
        }
        if self.max_lifetime.is_some() && claims.expires_at.is_none() {
            return Err(Error::ClaimMissing("exp"));
        }
        for name in &self.required_claims {
            if claims.all.get(name).is_none_or(Value::is_null) {
                return Err(Error::ClaimMissing(registered_name(name)));
            }
        }
        // RFC 7519 §4.1.4: expired "on or after" exp, so exp == now is expired.
        if let Some(exp) = claims.expires_at {
            if now.saturating_sub(skew) >= exp {
                return Err(Error::TokenExpired);
            }
        }
        if let Some(nbf) = claims.not_before {
            if nbf > now.saturating_add(skew) {
                return Err(Error::TokenNotYetValid);
            }
        }
        if let Some(iat) = claims.issued_at {
            if iat > now.saturating_add(skew) {
                return Err(Error::IssuedInFuture);
            }
        }
        if let (Some(max), Some(exp)) = (self.max_lifetime, claims.expires_at) {
            let max = i64::try_from(max).unwrap_or(i64::MAX);
            let from_now = exp.saturating_sub(now) > max.saturating_add(skew);
            let from_iat = claims
                .issued_at
                .is_some_and(|iat| exp.saturating_sub(iat) > max);
            if from_now || from_iat {
                return Err(Error::LifetimeTooLong);
            }
        }
        if !self.issuers.is_empty()
            && !claims
                .issuer
                .as_ref()
                .is_some_and(|iss| self.issuers.contains(iss))
        {
            return Err(Error::IssuerMismatch);
        }
        if !self.audiences.is_empty()
            && !claims
                .audiences
                .iter()
                .any(|aud| self.audiences.contains(aud))
        {
            return Err(Error::AudienceMismatch);
        }
        if self.subject.is_some() && claims.subject != self.subject {
            return Err(Error::SubjectMismatch);
        }
        if let Some(expected) = &self.typ {
            if !header
                .typ
                .as_deref()
                .is_some_and(|typ| same_media_type(typ, expected))
            {
                return Err(Error::TypeMismatch);
            }
        }
        Ok(())
    }
}

/// `ClaimMissing` carries a `&'static str`; configured names are reported by the
/// registered name when they are one, otherwise as a generic "claim".
fn registered_name(name: &str) -> &'static str {
    ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"]
        .into_iter()
        .find(|r| *r == name)
        .unwrap_or("configured claim")
}

/// RFC 7515 §4.1.9 and RFC 8725 §3.11: media types compare case-insensitively, and
/// `application/` may be left out when the rest holds no `/`.
pub(crate) fn same_media_type(a: &str, b: &str) -> bool {
    fn normal(t: &str) -> String {
        let lower = t.to_ascii_lowercase();
        match lower.strip_prefix("application/") {
            Some(rest) if !rest.contains('/') => rest.to_owned(),
            _ => lower,
        }
    }
    normal(a) == normal(b)
}
