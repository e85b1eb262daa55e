//! Answers: RFC 6750 refusals with an RFC 9457 problem body, verdicts, and proxying
//! to the origin with verified claims (and nothing a client could have spoofed).

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{json, Value};
use worker::{Fetch, Headers, Request, RequestInit, RequestRedirect, Response};

use sha2::{Digest, Sha256};

use crate::assertion::{AssertionSigner, RequestBinding};
use crate::edge_config::{EdgeConfig, PublishJwks, RESERVED_HEADER_PREFIX};
use crate::error::Error;
use crate::extract::TokenSource;
use crate::jwks::{JwkSet, JwksOptions};
use crate::verify::VerifiedToken;

use super::keys::Tier;

fn internal(_: worker::Error) -> Error {
    Error::ConfigInvalid("response")
}

/// The refusal for `err`: status and `WWW-Authenticate` from the core's single
/// mapping, and `application/problem+json` with the stable code.
pub fn refusal(err: &Error, realm: &str) -> worker::Result<Response> {
    let http = err.http();
    let body = json!({
        "type": format!("https://jwt-edge.dev/errors/{}", err.code()),
        "title": err.to_string(),
        "status": http.status,
        "code": err.code(),
        "detail": err.to_string(),
    });
    let headers = Headers::new();
    headers.set("content-type", "application/problem+json")?;
    headers.set("cache-control", "no-store")?;
    if let Some(value) = http.www_authenticate(realm, err) {
        headers.set("www-authenticate", &value)?;
    }
    Ok(Response::builder()
        .with_status(http.status)
        .with_headers(headers)
        .fixed(body.to_string().into_bytes()))
}

/// Verdict mode: the verified token as JSON.
pub fn verdict(token: &VerifiedToken, tier: Tier) -> Result<Response, Error> {
    let body = json!({
        "valid": true,
        "iss": token.claims.issuer,
        "sub": token.claims.subject,
        "kid": token.key_id,
        "alg": token.algorithm.name(),
        "claims": token.claims.all,
        "jwks_source": tier.name(),
    });
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .map_err(internal)?;
    headers.set("cache-control", "no-store").map_err(internal)?;
    Ok(Response::builder()
        .with_status(200)
        .with_headers(headers)
        .fixed(body.to_string().into_bytes()))
}

pub fn is_preflight(req: &Request) -> bool {
    req.method() == worker::Method::Options
        && req
            .headers()
            .has("access-control-request-method")
            .unwrap_or(false)
}

/// A CORS preflight: forwarded untouched in proxy mode, answered 204 otherwise.
pub async fn passthrough(req: Request, config: &EdgeConfig) -> Result<Response, Error> {
    match config.mode {
        crate::edge_config::Mode::Verdict => {
            Ok(Response::empty().map_err(internal)?.with_status(204))
        }
        crate::edge_config::Mode::Proxy => {
            let url = origin_url(&req, config)?;
            let headers = req_headers_copy(&req, config)?;
            send(req, &url, headers).await
        }
    }
}

/// The request's headers minus anything that could pass for a verified claim.
fn req_headers_copy(req: &Request, config: &EdgeConfig) -> Result<Headers, Error> {
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if !is_reserved(&name.to_ascii_lowercase(), config) {
            headers.append(&name, &value).map_err(internal)?;
        }
    }
    Ok(headers)
}

/// `X-Jwt-*` and every configured claim header are the worker's to set, never the client's.
fn is_reserved(lower: &str, config: &EdgeConfig) -> bool {
    lower.starts_with(RESERVED_HEADER_PREFIX)
        || config
            .claim_headers
            .values()
            .chain(config.claims_header.iter())
            .chain(config.assertion.iter().map(|a| &a.header))
            .any(|h| h.eq_ignore_ascii_case(lower))
}

fn origin_url(req: &Request, config: &EdgeConfig) -> Result<String, Error> {
    let url = req
        .url()
        .map_err(|_| Error::RequestMalformed("request url"))?;
    Ok(match &config.origin {
        Some(base) => {
            let mut target = base.trim_end_matches('/').to_owned();
            target.push_str(url.path());
            if let Some(query) = url.query() {
                target.push('?');
                target.push_str(query);
            }
            target
        }
        None => url.to_string(),
    })
}

/// Proxy mode: forward to the origin with the verified claims and, when configured, an
/// assertion signed at `now` for the request as forwarded.
pub async fn forward(
    req: Request,
    config: &EdgeConfig,
    token: &VerifiedToken,
    assertion: Option<(&AssertionSigner, i64)>,
) -> Result<Response, Error> {
    let url = origin_url(&req, config)?;
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        let lower = name.to_ascii_lowercase();
        // Nothing the client sends may pass for a verified claim.
        if is_reserved(&lower, config) {
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
    for (claim, header) in &config.claim_headers {
        if let Some(value) = token.claims.all.get(claim) {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // Header values cannot carry control characters; such claims are not sent.
            if !text.chars().any(char::is_control) {
                headers.set(header, &text).map_err(internal)?;
            }
        }
    }
    if let Some(name) = &config.claims_header {
        let payload = Value::Object(token.claims.all.clone()).to_string();
        headers
            .set(name, &Base64UrlUnpadded::encode_string(payload.as_bytes()))
            .map_err(internal)?;
    }
    if let Some((signer, now)) = assertion {
        let value = sign_assertion(signer, &req, &url, token, now)?;
        headers
            .set(&signer.config().header, &value)
            .map_err(internal)?;
    }
    send(req, &url, headers).await
}

/// The assertion for the request exactly as it goes to the origin: the outbound URL's
/// path and query, as the origin will read them.
fn sign_assertion(
    signer: &AssertionSigner,
    req: &Request,
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
    getrandom::getrandom(&mut id).map_err(|_| Error::ConfigInvalid("randomness"))?;
    let method = req.method();
    signer.sign(
        token,
        RequestBinding {
            method: method.as_ref(),
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
        TokenSource::Header { name } => lower == name.to_ascii_lowercase(),
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

async fn send(req: Request, url: &str, headers: Headers) -> Result<Response, Error> {
    let mut init = RequestInit::new();
    init.with_method(req.method())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !matches!(req.method(), worker::Method::Get | worker::Method::Head) {
        init.with_body(req.inner().body().map(Into::into));
    }
    let outbound =
        Request::new_with_init(url, &init).map_err(|_| Error::RequestMalformed("origin url"))?;
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
    req: &Request,
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
    let body = if req.method() == worker::Method::Head {
        Vec::new()
    } else {
        text.into_bytes()
    };
    Ok(Response::builder()
        .with_status(200)
        .with_headers(headers)
        .fixed(body))
}
