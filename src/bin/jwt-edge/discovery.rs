//! `verify --issuer-discovery ISSUER`: the issuer's `jwks_uri` from its metadata. Where
//! to look and whether a document may be used are the core's
//! ([`jwt_edge::internals::discovery`]); this module does the two GETs and says why it
//! stopped.

use std::fmt;

use jwt_edge::internals::discovery::{
    discovered_issuers, read_document, well_known, DiscoveryProblem, DISCOVERY_ACCEPT,
    MAX_DISCOVERY_BYTES,
};
use jwt_edge::Error;

use crate::fetch::get;
use crate::refused;
use crate::Failure;

/// Why no key set URI came out of an issuer's metadata.
#[derive(Debug)]
pub enum DiscoveryFailure {
    /// The issuer is not a URL whose metadata may be fetched: `https://` (plain `http://`
    /// only to 127.0.0.1, [::1] or localhost), no userinfo, no query or fragment.
    IssuerNotFetchable,
    /// `--iss` names another issuer: discovered keys vouch for ISSUER only.
    OtherIssuer,
    /// The metadata could not be fetched (network, timeout, a status other than 200 or
    /// a 404 that leads on to RFC 8414).
    Unreachable { url: String, reason: String },
    /// The metadata URL answered with a redirect, which is never followed.
    Redirected { url: String, status: u16 },
    /// A 404 from both well-known URLs.
    NotFound { openid: String, oauth: String },
    /// The document was refused by the core's checks.
    Refused {
        url: String,
        issuer: String,
        problem: DiscoveryProblem,
    },
}

impl fmt::Display for DiscoveryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoveryFailure::IssuerNotFetchable => f.write_str(
                "--issuer-discovery must be an https:// issuer (plain http only on 127.0.0.1, [::1] or localhost), without userinfo, query or fragment (config_invalid)",
            ),
            DiscoveryFailure::OtherIssuer => f.write_str(
                "--iss must be the --issuer-discovery issuer, or left out: the discovered keys vouch for that issuer only (config_invalid)",
            ),
            DiscoveryFailure::Unreachable { url, reason } => {
                write!(f, "cannot fetch the discovery document {url}: {reason}")
            }
            DiscoveryFailure::Redirected { url, status } => write!(
                f,
                "discovery document {url}: HTTP {status}, and redirects are not followed (discovery_redirect_refused)"
            ),
            DiscoveryFailure::NotFound { openid, oauth } => write!(
                f,
                "no discovery document: HTTP 404 from {openid} and from {oauth} ({})",
                DiscoveryProblem::NotFound.code()
            ),
            DiscoveryFailure::Refused {
                url,
                issuer,
                problem,
            } => {
                write!(f, "discovery document {url} refused: ")?;
                match problem {
                    DiscoveryProblem::TooLarge => {
                        write!(f, "larger than {MAX_DISCOVERY_BYTES} bytes")?
                    }
                    DiscoveryProblem::Malformed => f.write_str("not a JSON object")?,
                    // OpenID Connect Discovery 1.0 §4.3, RFC 8414 §3.3.
                    DiscoveryProblem::IssuerMismatch => write!(
                        f,
                        "its `issuer` is not exactly `{issuer}` (a trailing slash counts)"
                    )?,
                    DiscoveryProblem::NoJwksUri => f.write_str("it has no `jwks_uri`")?,
                    DiscoveryProblem::JwksUriRefused => f.write_str(
                        "its `jwks_uri` is not https:// (plain http to 127.0.0.1, [::1] or localhost only with --dev-allow-http-loopback), or has userinfo",
                    )?,
                    DiscoveryProblem::NotFound => f.write_str("HTTP 404")?,
                }
                write!(f, " ({})", problem.code())
            }
        }
    }
}

impl From<DiscoveryFailure> for Failure {
    /// A bad flag is the config family (exit 17); a document refused is the issuer's keys
    /// being unavailable (exit 16), as the worker answers it; a failed fetch is I/O
    /// (exit 1), as for `--jwks URL`. The reason goes to stderr, the verdict to stdout.
    fn from(failure: DiscoveryFailure) -> Self {
        let error = match &failure {
            DiscoveryFailure::IssuerNotFetchable => Error::config_invalid("--issuer-discovery"),
            DiscoveryFailure::OtherIssuer => Error::config_invalid("--iss"),
            DiscoveryFailure::Refused { .. } | DiscoveryFailure::NotFound { .. } => {
                Error::JwksUnavailable
            }
            DiscoveryFailure::Unreachable { .. } | DiscoveryFailure::Redirected { .. } => {
                return Failure::new(failure.to_string());
            }
        };
        eprintln!("jwt-edge: {failure}");
        refused(&error)
    }
}

/// The key set URI of `issuer`, from its metadata: OpenID Connect Discovery 1.0 §4,
/// then, on a 404, RFC 8414 §3. `issuers` are the `--iss` given (each must be `issuer`);
/// `allow_http_loopback` lets the document name a plain-http loopback `jwks_uri`.
pub fn jwks_uri(
    issuer: &str,
    issuers: &[String],
    allow_http_loopback: bool,
) -> Result<String, DiscoveryFailure> {
    // The issuer is a URL the user typed, held to the rule of `--jwks URL` (loopback
    // http allowed); the `jwks_uri` comes from a document and needs the dev flag.
    let urls = well_known(issuer, true).ok_or(DiscoveryFailure::IssuerNotFetchable)?;
    if discovered_issuers(issuer, issuers).is_none() {
        return Err(DiscoveryFailure::OtherIssuer);
    }
    let mut url = urls.openid.clone();
    let mut answer = fetch(&url)?;
    // Only a 404 leads on: any other failure is an outage, not a missing document.
    if answer.status == 404 {
        url = urls.oauth.clone();
        answer = fetch(&url)?;
    }
    let problem = |problem| DiscoveryFailure::Refused {
        url: url.clone(),
        issuer: issuer.to_owned(),
        problem,
    };
    match answer.status {
        200 => read_document(&answer.body, issuer, allow_http_loopback).map_err(problem),
        404 => Err(DiscoveryFailure::NotFound {
            openid: urls.openid,
            oauth: urls.oauth,
        }),
        status @ 300..=399 => Err(DiscoveryFailure::Redirected { url, status }),
        status => Err(DiscoveryFailure::Unreachable {
            url,
            reason: format!("HTTP {status}"),
        }),
    }
}

fn fetch(url: &str) -> Result<crate::fetch::Answer, DiscoveryFailure> {
    get(url, Some(DISCOVERY_ACCEPT), MAX_DISCOVERY_BYTES).map_err(|reason| {
        DiscoveryFailure::Unreachable {
            url: url.to_owned(),
            reason,
        }
    })
}
