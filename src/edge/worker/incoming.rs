//! The incoming request as workerd hands it to the fetch handler.
//!
//! Not `worker::Request`: workers-rs converts the raw request into one by reading
//! `request.cf`, which workerd builds from JSON on every access (30–55 µs of CPU per
//! request in Miniflare, by `node bench/worker-profile.mjs`), and nothing here uses `cf`.
//! This wrapper reads only what the worker uses.

use worker::web_sys;
use worker::{Headers, Url};

/// The client's request.
pub struct Incoming(pub web_sys::Request);

impl Incoming {
    /// The request's headers (a live view, not a copy).
    pub fn headers(&self) -> Headers {
        Headers(self.0.headers())
    }

    /// The request's URL, parsed.
    pub fn url(&self) -> Result<Url, worker::Error> {
        Url::parse(&self.0.url()).map_err(|_| worker::Error::BadEncoding)
    }

    /// The request's method exactly as received. (workers-rs's `Method` reads every
    /// method it does not know as `GET`; a proxy must never change the method.)
    pub fn method(&self) -> String {
        self.0.method()
    }

    /// The request's body stream, when it has one.
    pub fn body(&self) -> Option<web_sys::ReadableStream> {
        self.0.body()
    }
}
