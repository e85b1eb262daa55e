//! Answers: RFC 6750 refusals with an RFC 9457 problem body, verdicts, and proxying
//! to the origin with verified claims (and nothing a client could have spoofed).

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::Value;
use worker::{Fetch, Headers, Request, RequestInit, RequestRedirect, Response};

use super::incoming::Incoming;

use sha2::{Digest, Sha256};

use crate::assertion::{AssertionSigner, RequestBinding};
use crate::edge::config::{EdgeConfig, Mode, PublishJwks};
use crate::edge::forward::{
    claim_header, fold_header_name, forwardable_method, forwarded_query,
    is_preflight as preflight_shape, method_has_body, preflight_keeps_header, ClaimHeader,
    ProtectedHeaders,
};
use crate::error::{Challenge, Error};
use crate::keys::jwks::{JwkSet, JwksOptions};
use crate::routes::{ResourceMetadata, Route};
use crate::token::extract::TokenSource;
use crate::verdict::{
    KeySource, Refusal, RefusalContext as CoreRefusalContext, Verdict, PROBLEM_CONTENT_TYPE,
};
use crate::verify::VerifiedToken;

use super::keys::Tier;

fn internal(_: worker::Error) -> Error {
    Error::ResponseFailed
}

/// What a refusal names besides the error: the realm, and the route's attributes.
pub struct RefusalContext<'a> {
    /// `realm` in `WWW-Authenticate`.
    pub realm: &'a str,
    /// The scopes the route requires (on `insufficient_scope`).
    pub scope: Option<&'a str>,
    /// The RFC 9728 metadata URL, named by every challenge.
    pub resource_metadata: Option<String>,
    /// The route's name, added to the body when routes are configured.
    pub route: Option<&'a str>,
}

impl<'a> RefusalContext<'a> {
    /// A refusal before any configuration is known.
    pub fn bare(realm: &'a str) -> Self {
        Self {
            realm,
            scope: None,
            resource_metadata: None,
            route: None,
        }
    }
}

/// The refusal for `err`: the core's [`Refusal`], as a response.
pub fn refusal(err: &Error, context: &RefusalContext<'_>) -> worker::Result<Response> {
    let answer = Refusal::new(
        err,
        &CoreRefusalContext {
            realm: context.realm,
            challenge: Challenge {
                scope: context.scope,
                resource_metadata: context.resource_metadata.as_deref(),
            },
            route: context.route,
        },
    );
    let headers = Headers::new();
    headers.set("content-type", PROBLEM_CONTENT_TYPE)?;
    headers.set("cache-control", "no-store")?;
    if let Some(value) = &answer.www_authenticate {
        headers.set("www-authenticate", value)?;
    }
    Ok(Response::builder()
        .with_status(answer.status)
        .with_headers(headers)
        .fixed(answer.body.into_bytes()))
}

fn json_response(body: String, cache_control: &str) -> Result<Response, Error> {
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .map_err(internal)?;
    headers
        .set("cache-control", cache_control)
        .map_err(internal)?;
    Ok(Response::builder()
        .with_status(200)
        .with_headers(headers)
        .fixed(body.into_bytes()))
}

/// Verdict mode: the core's accepted [`Verdict`], exactly, with the route's name when
/// routes are configured.
pub fn verdict(
    token: &VerifiedToken,
    tier: Tier,
    route: Option<&Route>,
) -> Result<Response, Error> {
    let mut body = Verdict::accepted(token, KeySource::from(tier)).to_string();
    if let Some(route) = route {
        // The verdict's members keep their order; the route comes last.
        if body.ends_with('}') {
            body.pop();
            body.push_str(",\"route\":");
            body.push_str(&Value::String(route.name.clone()).to_string());
            body.push('}');
        }
    }
    json_response(body, "no-store")
}

/// `GET`/`HEAD` of the RFC 9728 protected-resource metadata document.
pub fn resource_metadata(method: &str, metadata: &ResourceMetadata) -> Result<Response, Error> {
    let body = if method == "HEAD" {
        String::new()
    } else {
        metadata.document()
    };
    let response = json_response(body, crate::routes::METADATA_CACHE_CONTROL)?;
    response
        .headers()
        .set("access-control-allow-origin", "*")
        .map_err(internal)?;
    Ok(response)
}

/// Where the request goes at the origin: with routes, the normalised path that was
/// matched (never the raw one); without, the request's own path.
#[derive(Clone, Copy, Default)]
pub struct Target<'a> {
    /// The normalised path, when routes are configured.
    pub path: Option<&'a str>,
}

/// A request that goes on without verified claims: a route without authentication,
/// an optional route without a token, or a shadowed failure (`would_be`: the code it
/// would have been refused with). In proxy mode it is forwarded with nothing a client
/// could pass off as verified; in verdict mode answered 200 `{"anonymous":true,…}`.
pub async fn anonymous(
    req: Incoming,
    config: &EdgeConfig,
    route: &Route,
    would_be: Option<&str>,
    target: Target<'_>,
) -> Result<Response, Error> {
    match config.mode {
        Mode::Verdict => {
            let body = serde_json::json!({
                "anonymous": true,
                "route": route.name,
                "auth": route.auth.name(),
                "enforced": route.enforce,
                "code": would_be,
            });
            json_response(body.to_string(), "no-store")
        }
        Mode::Proxy => forward(req, config, None, None, target).await,
    }
}

/// Whether the request is a real CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`, and no body.
pub fn is_preflight(req: &Incoming) -> bool {
    let headers = req.headers();
    let has = |name: &str| headers.has(name).unwrap_or(false);
    let declared_empty = headers
        .get("content-length")
        .ok()
        .flatten()
        .is_some_and(|v| v.trim() == "0");
    let has_body = has("transfer-encoding") || (req.body().is_some() && !declared_empty);
    preflight_shape(
        &req.method(),
        has("origin"),
        has("access-control-request-method"),
        has_body,
    )
}

/// A CORS preflight: answered 204 in verdict mode; in proxy mode forwarded with only
/// the headers a browser's preflight has (no credential, no method override, nothing
/// that could pass for a verified claim) and no body.
pub async fn passthrough(
    req: Incoming,
    config: &EdgeConfig,
    target: Target<'_>,
) -> Result<Response, Error> {
    match config.mode {
        Mode::Verdict => Ok(Response::empty().map_err(internal)?.with_status(204)),
        Mode::Proxy => {
            let url = origin_url(&req, config, target)?;
            let protected = config.protected_headers();
            let headers = Headers::new();
            for (name, value) in req.headers().entries() {
                if preflight_keeps_header(&name) && !protected.contains(&name) {
                    headers.append(&name, &value).map_err(internal)?;
                }
            }
            send(req, "OPTIONS", &url, headers, false).await
        }
    }
}

fn origin_url(req: &Incoming, config: &EdgeConfig, target: Target<'_>) -> Result<String, Error> {
    let mut url = req
        .url()
        .map_err(|_| Error::RequestMalformed("request url"))?;
    if let Some(path) = target.path {
        // The normal form is a valid path: setting it changes no byte of it.
        url.set_path(path);
        if url.path() != path {
            return Err(Error::RequestMalformed("path"));
        }
    }
    // A query-parameter token never reaches the origin (nor its logs).
    let query = forwarded_query(url.query(), &config.sources, config.strip_credential);
    url.set_query(query.as_deref());
    Ok(match &config.origin {
        Some(base) => {
            let mut outbound = base.trim_end_matches('/').to_owned();
            outbound.push_str(url.path());
            if let Some(query) = url.query() {
                outbound.push('?');
                outbound.push_str(query);
            }
            outbound
        }
        None => url.to_string(),
    })
}

/// Proxy mode: forward to the origin with the verified claims (none for an anonymous
/// request) and, when configured, an assertion signed at `now` for the request as
/// forwarded.
pub async fn forward(
    req: Incoming,
    config: &EdgeConfig,
    token: Option<&VerifiedToken>,
    assertion: Option<(&AssertionSigner, i64)>,
    target: Target<'_>,
) -> Result<Response, Error> {
    let method = req.method();
    if !forwardable_method(&method) {
        return Err(Error::RequestMalformed("method"));
    }
    let url = origin_url(&req, config, target)?;
    let protected: ProtectedHeaders = config.protected_headers();
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        let lower = name.to_ascii_lowercase();
        // Nothing the client sends may pass for a verified claim, in any spelling an
        // origin may fold to a protected name (`X_Jwt_Sub`, `x-jwt_sub`, ...).
        if protected.contains(&lower) {
            continue;
        }
        if config.strip_credential && is_credential(&lower, config) {
            if lower == "cookie" {
                if let Some(rest) = strip_cookies(&value, config) {
                    headers.append("cookie", &rest).map_err(internal)?;
                }
            }
            continue;
        }
        headers.append(&name, &value).map_err(internal)?;
    }
    let Some(token) = token else {
        // Anonymous: nothing added; every protected name was stripped above.
        return send(req, &method, &url, headers, method_has_body(&method)).await;
    };
    for (claim, header) in &config.claim_headers {
        // One encoding (`claim_header`): a value that would change in transit is not
        // sent in its plain header, only in the claims header. No client variant of the
        // name got through above, so a header not sent is absent at the origin.
        match claim_header(&token.claims.all, claim) {
            ClaimHeader::Send(text) => headers.set(header, &text).map_err(internal)?,
            ClaimHeader::Absent => {}
            // Logged by the claim's configured name, never its value.
            ClaimHeader::Skipped(reason) => worker::console_warn!(
                "{}",
                serde_json::json!({
                    "event": "claim_header_skipped",
                    "claim": claim,
                    "header": header,
                    "reason": reason,
                })
            ),
        }
    }
    if let Some(name) = &config.claims_header {
        let payload = Value::Object(token.claims.all.clone()).to_string();
        headers
            .set(name, &Base64UrlUnpadded::encode_string(payload.as_bytes()))
            .map_err(internal)?;
    }
    if let Some((signer, now)) = assertion {
        let value = sign_assertion(signer, &method, &url, token, now)?;
        headers
            .set(&signer.config().header, &value)
            .map_err(internal)?;
    }
    send(req, &method, &url, headers, method_has_body(&method)).await
}

/// The assertion for the request exactly as it goes to the origin: the outbound URL's
/// path and query, as the origin will read them.
fn sign_assertion(
    signer: &AssertionSigner,
    method: &str,
    url: &str,
    token: &VerifiedToken,
    now: i64,
) -> Result<String, Error> {
    let outbound = worker::Url::parse(url).map_err(|_| Error::RequestMalformed("origin url"))?;
    let mut path = outbound.path().to_owned();
    if let Some(query) = outbound.query() {
        path.push('?');
        path.push_str(query);
    }
    let mut id = [0u8; 16];
    // No randomness, no unique `jti`: refuse rather than forward a guessable one.
    getrandom::getrandom(&mut id).map_err(|_| Error::RandomnessUnavailable)?;
    signer.sign(
        token,
        RequestBinding {
            method,
            path: &path,
        },
        now,
        &id,
    )
}

fn is_credential(lower: &str, config: &EdgeConfig) -> bool {
    config.sources.iter().any(|source| match source {
        TokenSource::Authorization { .. } => lower == "authorization",
        TokenSource::Cookie { .. } => lower == "cookie",
        // Any spelling an origin may fold to the token header is a credential too.
        TokenSource::Header { name, .. } => fold_header_name(lower) == fold_header_name(name),
        TokenSource::Query { .. } => false,
    })
}

/// The Cookie header without the token cookies; `None` when nothing is left.
fn strip_cookies(value: &str, config: &EdgeConfig) -> Option<String> {
    let names: Vec<&str> = config
        .sources
        .iter()
        .filter_map(|s| match s {
            TokenSource::Cookie { name } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let kept: Vec<&str> = value
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            !names
                .iter()
                .any(|n| pair.split_once('=').is_some_and(|(k, _)| k.trim() == *n))
        })
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

/// Sends to the origin with `method` as received (never rewritten) and, when
/// `with_body`, the request's body; redirects come back to the client as they are.
async fn send(
    req: Incoming,
    method: &str,
    url: &str,
    headers: Headers,
    with_body: bool,
) -> Result<Response, Error> {
    let mut init = RequestInit::new();
    init.with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if with_body {
        init.with_body(req.body().map(Into::into));
    }
    let raw: worker::web_sys::RequestInit = (&init).into();
    raw.set_method(method);
    let outbound = worker::web_sys::Request::new_with_str_and_init(url, &raw)
        .map(Request::from)
        .map_err(|_| Error::RequestMalformed("origin request"))?;
    match Fetch::Request(outbound).send().await {
        Ok(response) => Ok(response),
        // The origin is unreachable: a 502, not an authentication error.
        Err(_) => Response::error("origin unreachable", 502).map_err(internal),
    }
}

/// `GET /.well-known/jwks.json` when publishing is configured: the issuer's own set from
/// KV, checked by the core first (a set with private members is never served), with
/// `Cache-Control` and a strong ETag.
pub async fn published_jwks(
    req: &Incoming,
    env: &worker::Env,
    publish: &PublishJwks,
) -> Result<Response, Error> {
    let kv = env.kv("JWKS_CACHE").map_err(|_| Error::JwksUnavailable)?;
    let text = kv
        .get(&publish.kv_key)
        .text()
        .await
        .map_err(|_| Error::JwksUnavailable)?
        .ok_or(Error::JwksUnavailable)?;
    // Never a set with private members, an `oct` secret (`k`) included.
    JwkSet::parse_publishable(text.as_bytes(), &JwksOptions::default())?;
    let digest = Sha256::digest(text.as_bytes());
    let etag = format!(
        "\"{}\"",
        Base64UrlUnpadded::encode_string(digest.get(..16).unwrap_or_default())
    );
    let headers = Headers::new();
    headers
        .set(
            "cache-control",
            &format!("public, max-age={}", publish.max_age),
        )
        .map_err(internal)?;
    headers.set("etag", &etag).map_err(internal)?;
    let matches = req
        .headers()
        .get("if-none-match")
        .ok()
        .flatten()
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok(Response::builder()
            .with_status(304)
            .with_headers(headers)
            .fixed(Vec::new()));
    }
    headers
        .set("content-type", "application/jwk-set+json")
        .map_err(internal)?;
    let body = if req.method() == "HEAD" {
        Vec::new()
    } else {
        text.into_bytes()
    };
    Ok(Response::builder()
        .with_status(200)
        .with_headers(headers)
        .fixed(body))
}
