//! The worker's I/O for its key sources and discovery: one GET within the fetch timeout
//! (no redirects followed, the body read up to a cap), a KV read, and the wait for
//! another request's fetch. What to fetch and what an answer means are the core's.

use std::time::Duration;

use worker::{
    AbortController, Delay, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

use crate::decisions::keysource::{Answer, Conditional};
use crate::error::{Error, JwksProblem};

use super::Isolate;

/// How often a request waiting for another request's fetch looks again.
const WAIT_STEP: Duration = Duration::from_millis(5);

/// Waits, in steps of `WAIT_STEP` up to the fetch timeout, for another request's fetch
/// to end (`generation` changes). False when it did not.
pub(super) async fn wait_for_change(isolate: &Isolate, generation: impl Fn() -> u64) -> bool {
    let start = generation();
    let limit = isolate
        .config
        .fetch_timeout_ms
        .checked_div(WAIT_STEP.as_millis() as u64)
        .unwrap_or(0)
        .saturating_add(2);
    for _ in 0..limit {
        Delay::from(WAIT_STEP).await;
        if generation() != start {
            return true;
        }
    }
    false
}

/// The stored snapshot's text (the key source checks it), if KV has one.
pub(super) async fn read_kv(env: &Env, key: &str) -> Option<String> {
    let kv = env.kv("JWKS_CACHE").ok()?;
    match kv.get(key).text().await {
        Ok(text) => text,
        Err(_) => {
            worker::console_warn!("{{\"event\":\"kv_read_failed\",\"binding\":\"JWKS_CACHE\"}}");
            None
        }
    }
}

/// Stores `text` under `key` in KV `JWKS_CACHE` (when bound) for `ttl` seconds; a
/// failed write is logged (the worker goes on without the shared copy).
pub(super) async fn write_kv(env: &Env, key: &str, text: String, ttl: u64) {
    let Ok(kv) = env.kv("JWKS_CACHE") else {
        return;
    };
    let stored = match kv.put(key, text) {
        Ok(put) => put.expiration_ttl(ttl).execute().await.is_ok(),
        Err(_) => false,
    };
    if !stored {
        worker::console_warn!("{{\"event\":\"kv_write_failed\",\"binding\":\"JWKS_CACHE\"}}");
    }
}

/// What a fetch brought back, owned until the key source reads it.
pub(super) enum Fetched {
    Response {
        status: u16,
        body: Vec<u8>,
        cache_control: Option<String>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    Failed(Error),
}

impl Fetched {
    pub(super) fn answer(&self) -> Answer<'_> {
        match self {
            Fetched::Response {
                status,
                body,
                cache_control,
                etag,
                last_modified,
            } => Answer::Response {
                status: *status,
                body,
                cache_control: cache_control.as_deref(),
                etag: etag.as_deref(),
                last_modified: last_modified.as_deref(),
            },
            Fetched::Failed(err) => Answer::Failed(err.clone()),
        }
    }
}

/// GETs `uri` with these validators within the fetch timeout, never following a
/// redirect, reading at most `max_bytes` of a 200's body.
pub(super) async fn fetch_document(
    isolate: &Isolate,
    uri: &str,
    conditional: &Conditional,
    accept: &str,
    max_bytes: usize,
) -> Fetched {
    match fetch_inner(isolate, uri, conditional, accept, max_bytes).await {
        Ok(fetched) => fetched,
        Err(err) => Fetched::Failed(err),
    }
}

async fn fetch_inner(
    isolate: &Isolate,
    uri: &str,
    conditional: &Conditional,
    accept: &str,
    max_bytes: usize,
) -> Result<Fetched, Error> {
    let headers = Headers::new();
    let _ = headers.set("accept", accept);
    if let Some(etag) = &conditional.if_none_match {
        let _ = headers.set("if-none-match", etag);
    }
    if let Some(modified) = &conditional.if_modified_since {
        let _ = headers.set("if-modified-since", modified);
    }
    let mut init = RequestInit::new();
    // Redirects are not followed: a key set comes from the configured URI only, never
    // from wherever an answer points (another host, or `http://`). A 3xx is a failure.
    init.with_method(Method::Get)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    let request = Request::new_with_init(uri, &init).map_err(|_| Error::JwksUnavailable)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let send = fetch.send_with_signal(&signal);
    let timeout = Delay::from(Duration::from_millis(isolate.config.fetch_timeout_ms));
    futures_util::pin_mut!(send);
    futures_util::pin_mut!(timeout);
    let mut response = match futures_util::future::select(send, timeout).await {
        futures_util::future::Either::Left((Ok(response), _)) => response,
        futures_util::future::Either::Left((Err(_), _)) => return Err(Error::JwksUnavailable),
        futures_util::future::Either::Right(_) => {
            controller.abort();
            return Err(Error::JwksUnavailable);
        }
    };
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let status = response.status_code();
    let (cache_control, etag, last_modified) = (
        header("cache-control"),
        header("etag"),
        header("last-modified"),
    );
    let mut body = Vec::new();
    if status == 200 {
        let declared = header("content-length").and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > max_bytes) {
            return Err(Error::JwksInvalid(JwksProblem::TooLarge));
        }
        // Read at most `max_bytes`, whatever the length header said (or did not).
        let mut stream = response.stream().map_err(|_| Error::JwksUnavailable)?;
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(|_| Error::JwksUnavailable)?;
            if body.len().saturating_add(chunk.len()) > max_bytes {
                return Err(Error::JwksInvalid(JwksProblem::TooLarge));
            }
            body.extend_from_slice(&chunk);
        }
    }
    Ok(Fetched::Response {
        status,
        body,
        cache_control,
        etag,
        last_modified,
    })
}
