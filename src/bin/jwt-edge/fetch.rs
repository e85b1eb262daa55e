//! The JWKS fetch behind `verify --jwks URL`: the core's URI rule, HTTPS (plain HTTP
//! only on loopback), no redirects, a 5 s timeout and a size cap.

use std::io::Read;
use std::time::Duration;

use crate::{CliResult, Failure};

/// Largest JWKS accepted from a URL, in bytes (the core's default cap).
const MAX_JWKS_BYTES: u64 = 256 * 1024;

/// Fetches a JWKS over HTTPS, or HTTP on loopback only; 5 s timeout, size-capped.
pub fn fetch_jwks(url: &str) -> CliResult<Vec<u8>> {
    // The core's URI rule: parsed, never a prefix test; no userinfo.
    if !jwt_edge::internals::jwks_uri_allowed(url, true) {
        return Err(Failure::new(
            "a JWKS URL must be https:// (plain http only on 127.0.0.1, [::1] or localhost), without userinfo",
        ));
    }
    // Redirects are not followed: the set comes from this URL or not at all.
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .max_redirects(0)
        .build()
        .new_agent();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|e| Failure::new(format!("cannot fetch the JWKS: {e}")))?;
    if response.status() != 200 {
        return Err(Failure::new(format!(
            "cannot fetch the JWKS: HTTP {} (redirects are not followed)",
            response.status().as_u16()
        )));
    }
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .take(MAX_JWKS_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| Failure::new(format!("cannot read the JWKS: {e}")))?;
    Ok(body)
}
