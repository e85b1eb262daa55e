//! `serve`: a local dev issuer on loopback. It serves the JWKS with `Cache-Control`
//! and a strong ETag, and mints test tokens for loopback clients.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use jwt_edge::{JwkSet, JwksOptions, SigningKey};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::files::{load_signing_key, parse_duration, unix_now};
use crate::{CliResult, Failure};

/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 32;

#[derive(Args)]
pub struct ServeArgs {
    /// The JWKS file to serve; re-read on every request, so rotations show up at once.
    #[arg(long)]
    jwks: PathBuf,
    /// Loopback address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8788")]
    addr: SocketAddr,
    /// Private JWK for /token; without it /token answers 404.
    #[arg(long)]
    key: Option<String>,
    /// `max-age` of the JWKS response, in seconds.
    #[arg(long, default_value_t = 300)]
    max_age: u64,
    /// `iss` of minted tokens.
    #[arg(long)]
    iss: Option<String>,
}

struct Issuer {
    jwks: PathBuf,
    key: Option<SigningKey>,
    max_age: u64,
    iss: Option<String>,
    fixed_now: Option<i64>,
}

pub fn run(args: ServeArgs, fixed_now: Option<i64>) -> CliResult {
    if !args.addr.ip().is_loopback() {
        return Err(Failure::new(format!(
            "refusing to listen on {}: the dev issuer binds loopback addresses only",
            args.addr
        )));
    }
    let key = args.key.as_deref().map(load_signing_key).transpose()?;
    let issuer = Arc::new(Issuer {
        jwks: args.jwks,
        key,
        max_age: args.max_age,
        iss: args.iss,
        fixed_now,
    });
    // Fail at start-up, not on the first request, if the set is unusable.
    issuer.load_jwks().map_err(|(_, why)| Failure::new(why))?;
    let listener = TcpListener::bind(args.addr)
        .map_err(|e| Failure::new(format!("cannot listen on {}: {e}", args.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::new(e.to_string()))?;
    eprintln!("listening on http://{local}");
    eprintln!("  JWKS:  http://{local}/.well-known/jwks.json");
    if issuer.key.is_some() {
        eprintln!("  token: http://{local}/token?sub=alice&aud=api&ttl=5m");
    }
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            drop(stream);
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (issuer, active) = (Arc::clone(&issuer), Arc::clone(&active));
        std::thread::spawn(move || {
            let _ = issuer.handle(stream);
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

struct Response {
    status: u16,
    reason: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Response {
    fn text(status: u16, reason: &'static str, body: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".into())],
            body: body.into(),
        }
    }
}

impl Issuer {
    fn now(&self) -> i64 {
        self.fixed_now.unwrap_or_else(unix_now)
    }

    /// The JWKS text and its ETag, after the core's checks.
    fn load_jwks(&self) -> Result<(String, String), (u16, String)> {
        let text = std::fs::read_to_string(&self.jwks)
            .map_err(|e| (500, format!("cannot read {}: {e}", self.jwks.display())))?;
        JwkSet::parse(text.as_bytes(), &JwksOptions::default()).map_err(|e| {
            (
                500,
                format!("refusing to serve {}: {e}", self.jwks.display()),
            )
        })?;
        let digest = Sha256::digest(text.as_bytes());
        let etag = format!(
            "\"{}\"",
            digest
                .iter()
                .take(16)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Ok((text, etag))
    }

    fn handle(&self, stream: TcpStream) -> std::io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        let peer = stream.peer_addr()?;
        let mut reader = BufReader::new(stream.try_clone()?.take(16 * 1024));
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        let mut if_none_match = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("if-none-match") {
                    if_none_match = Some(value.trim().to_owned());
                }
            }
        }
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let response = match (method, path) {
            ("GET" | "HEAD", "/.well-known/jwks.json") => {
                self.jwks_response(if_none_match.as_deref())
            }
            ("GET", "/token") => self.token_response(peer, query),
            ("GET" | "HEAD", _) => Response::text(404, "Not Found", "not found\n"),
            _ => Response::text(405, "Method Not Allowed", "method not allowed\n"),
        };
        let mut out = stream;
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nConnection: close\r\n",
            response.status, response.reason
        );
        for (name, value) in &response.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", response.body.len()));
        out.write_all(head.as_bytes())?;
        if method != "HEAD" {
            out.write_all(response.body.as_bytes())?;
        }
        out.flush()
    }

    fn jwks_response(&self, if_none_match: Option<&str>) -> Response {
        let (text, etag) = match self.load_jwks() {
            Ok(found) => found,
            Err((status, why)) => {
                eprintln!("jwt-edge: {why}");
                return Response::text(
                    status,
                    "Internal Server Error",
                    "the key set cannot be served\n",
                );
            }
        };
        let cache = format!("public, max-age={}", self.max_age);
        let matches =
            if_none_match.is_some_and(|v| v == "*" || v.split(',').any(|t| t.trim() == etag));
        let mut response = if matches {
            Response::text(304, "Not Modified", "")
        } else {
            Response {
                status: 200,
                reason: "OK",
                headers: vec![("Content-Type", "application/json".into())],
                body: text,
            }
        };
        if matches {
            response.headers.clear();
        }
        response.headers.push(("Cache-Control", cache));
        response.headers.push(("ETag", etag));
        response
    }

    /// Mints a test token. Only for loopback peers, only with a configured key.
    fn token_response(&self, peer: SocketAddr, query: &str) -> Response {
        if !peer.ip().is_loopback() {
            return Response::text(
                403,
                "Forbidden",
                "tokens are minted for loopback clients only\n",
            );
        }
        let Some(key) = &self.key else {
            return Response::text(404, "Not Found", "start serve with --key to mint tokens\n");
        };
        let mut claims = Map::new();
        let mut ttl = 300i64;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match name {
                "ttl" => match parse_duration(&value)
                    .ok()
                    .and_then(|s| i64::try_from(s).ok())
                {
                    Some(seconds) => ttl = seconds,
                    None => return Response::text(400, "Bad Request", "ttl is not a duration\n"),
                },
                "nbf" => match value.parse::<i64>() {
                    Ok(nbf) => {
                        claims.insert("nbf".into(), json!(nbf));
                    }
                    Err(_) => {
                        return Response::text(400, "Bad Request", "nbf is not a Unix time\n")
                    }
                },
                "sub" | "aud" | "scope" | "jti" => {
                    claims.insert(name.to_owned(), json!(value));
                }
                _ => {
                    return Response::text(
                        400,
                        "Bad Request",
                        "known parameters: sub, aud, scope, jti, nbf, ttl\n",
                    )
                }
            }
        }
        let now = self.now();
        if let Some(iss) = &self.iss {
            claims.insert("iss".into(), json!(iss));
        }
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now.saturating_add(ttl)));
        if !claims.contains_key("jti") {
            let mut bytes = [0u8; 16];
            if getrandom::getrandom(&mut bytes).is_err() {
                return Response::text(500, "Internal Server Error", "no randomness\n");
            }
            claims.insert(
                "jti".into(),
                Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect()),
            );
        }
        match key.sign(None, &Map::new(), &claims) {
            Ok(token) => Response::text(200, "OK", token + "\n"),
            Err(e) => Response::text(500, "Internal Server Error", format!("{}\n", e.code())),
        }
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        let hex = tail
            .get(..2)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                rest = tail.get(2..).unwrap_or_default();
            }
            (b'+', _) => {
                out.push(b' ');
                rest = tail;
            }
            _ => {
                out.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
