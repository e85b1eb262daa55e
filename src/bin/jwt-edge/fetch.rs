//! The fetches behind `verify --jwks URL` and `verify --issuer-discovery ISSUER`: the
//! core's URI rule, HTTPS (plain HTTP only on loopback), no redirects, a 5 s timeout and
//! a size cap.

use std::io::Read;
use std::time::Duration;

use crate::{CliResult, Failure};

/// Largest JWKS accepted from a URL, in bytes (the core's default cap).
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Whole-request timeout of every fetch, in seconds.
const TIMEOUT_SECONDS: u64 = 5;

/// An answer to [`get`]: its status, and its body when the status is 200.
pub struct Answer {
    pub status: u16,
    /// At most the cap plus one byte, so that a larger body shows as larger.
    pub body: Vec<u8>,
}

/// One GET: 5 s timeout, redirects never followed (a 3xx is returned as it is), every
/// status returned as an answer, a 200 body read up to `cap` bytes plus one. The error
/// is the transport's, for a message.
pub fn get(url: &str, accept: Option<&str>, cap: usize) -> Result<Answer, String> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(TIMEOUT_SECONDS)))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut request = agent.get(url);
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let mut response = request.call().map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    if status == 200 {
        let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
        response
            .body_mut()
            .as_reader()
            .take(limit)
            .read_to_end(&mut body)
            .map_err(|e| format!("cannot read the body: {e}"))?;
    }
    Ok(Answer { status, body })
}

/// Fetches a JWKS over HTTPS, or HTTP on loopback only; 5 s timeout, size-capped.
pub fn fetch_jwks(url: &str) -> CliResult<Vec<u8>> {
    // The core's URI rule: parsed, never a prefix test; no userinfo.
    if !jwt_edge::internals::jwks_uri_allowed(url, true) {
        return Err(Failure::new(
            "a JWKS URL must be https:// (plain http only on 127.0.0.1, [::1] or localhost), without userinfo",
        ));
    }
    // Redirects are not followed: the set comes from this URL or not at all.
    let answer = get(url, None, MAX_JWKS_BYTES)
        .map_err(|e| Failure::new(format!("cannot fetch the JWKS: {e}")))?;
    match answer.status {
        200 => Ok(answer.body),
        status @ 300..=399 => Err(Failure::new(format!(
            "cannot fetch the JWKS: HTTP {status} (redirects are not followed)"
        ))),
        status => Err(Failure::new(format!(
            "cannot fetch the JWKS: HTTP {status}"
        ))),
    }
}
