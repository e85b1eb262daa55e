//! `jwt-edge verify --issuer-discovery ISSUER`: the key set found through the issuer's
//! metadata (OpenID Connect Discovery 1.0 §4, RFC 8414 §3 after a 404), against a
//! loopback origin that serves a fixed table of answers and records what it was asked.
//!
//! Tokens are minted by the CLI itself (`sign`) with a fixed clock; every origin binds
//! 127.0.0.1 port 0 and stops after a bounded number of requests, or when the test is
//! done with it.
#![cfg(feature = "cli")]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::cli::*;
use common::TempDir;
use serde_json::{json, Value};

/// The fixed clock of these tests: 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000;

const AUD: &str = "api://jwt-edge";

/// The issuer's path: RFC 8414 puts the well-known segment before it.
const TENANT: &str = "/tenant";
const OPENID: &str = "/tenant/.well-known/openid-configuration";
const OAUTH: &str = "/.well-known/oauth-authorization-server/tenant";
const KEYS: &str = "/keys";

/// What one request asked for.
#[derive(Debug, Clone)]
struct Asked {
    path: String,
    accept: Option<String>,
}

/// A loopback origin answering from a fixed table (anything else: 404). It serves at
/// most `max_requests` connections, one request each, then stops; so does
/// [`Origin::asked`].
struct Origin {
    base: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Asked>>>,
}

impl Origin {
    /// Binds 127.0.0.1:0; `table` gets the origin's base URL (`http://127.0.0.1:PORT`)
    /// and returns (path, raw HTTP/1.1 response) rows.
    fn start(max_requests: usize, table: impl FnOnce(&str) -> Vec<(String, String)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let routes = table(&base);
        listener.set_nonblocking(true).expect("non-blocking accept");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut asked = Vec::new();
            // A hard bound too, so that a test that never stops it cannot hang.
            let deadline = Instant::now() + Duration::from_secs(60);
            while asked.len() < max_requests
                && !stopped.load(Ordering::SeqCst)
                && Instant::now() < deadline
            {
                match listener.accept() {
                    Ok((stream, _)) => asked.push(answer(stream, &routes)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
            asked
        });
        Origin {
            base,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the origin; what it was asked, in order.
    fn asked(mut self) -> Vec<Asked> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .expect("origin thread")
            .join()
            .expect("origin thread panicked")
    }

    fn paths(self) -> Vec<String> {
        self.asked().into_iter().map(|a| a.path).collect()
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request head and writes the table's answer for its path.
fn answer(mut stream: TcpStream, routes: &[(String, String)]) -> Asked {
    stream.set_nonblocking(false).expect("blocking stream");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while find(&head, b"\r\n\r\n").is_none() && head.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or("")
        .to_owned();
    let accept = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("accept"))
        .map(|(_, value)| value.trim().to_owned());
    let response = routes
        .iter()
        .find(|(p, _)| *p == path)
        .map_or_else(|| respond(404, &[], "{}"), |(_, r)| r.clone());
    let _ = stream.write_all(response.as_bytes());
    Asked { path, accept }
}

/// A raw HTTP/1.1 response that closes the connection.
fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn ok(body: &str) -> String {
    respond(200, &[], body)
}

fn document(issuer: &str, jwks_uri: &str) -> String {
    json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "id_token_signing_alg_values_supported": ["ES256"],
    })
    .to_string()
}

/// An ES256 key, its public JWKS (as served) and a token from `iss` for [`AUD`].
struct Issuer {
    _dir: TempDir,
    jwks: String,
    key: String,
}

impl Issuer {
    fn new(tag: &str) -> Self {
        let dir = TempDir::new(tag);
        let (key, jwks, _) = es256_setup(&dir);
        Issuer {
            jwks: std::fs::read_to_string(&jwks).expect("read JWKS"),
            key: p(&key).to_owned(),
            _dir: dir,
        }
    }

    fn token(&self, iss: &str) -> String {
        sign_at(T0, &["--key", &self.key, "--iss", iss, "--aud", AUD])
    }
}

/// `verify --issuer-discovery ISSUER ARGS... TOKEN` at [`T0`].
fn discover(issuer: &str, args: &[&str], token: &str) -> Run {
    let mut all = vec!["--issuer-discovery", issuer];
    all.extend_from_slice(args);
    verify_at(T0, &all, token)
}

/// Neither output carries the token's payload or signature.
fn assert_token_not_echoed(r: &Run, token: &str) {
    for part in token.split('.').skip(1) {
        assert!(
            !r.stdout.contains(part) && !r.stderr.contains(part),
            "the token is echoed: {r:?}"
        );
    }
}

// ------------------------------------------------------------------ success

#[test]
fn keys_found_through_the_openid_configuration() {
    let issuer = Issuer::new("disc-openid");
    let jwks = issuer.jwks.clone();
    let origin = Origin::start(2, |base| {
        let iss = format!("{base}{TENANT}");
        vec![
            (OPENID.into(), ok(&document(&iss, &format!("{base}{KEYS}")))),
            (KEYS.into(), ok(&jwks)),
        ]
    });
    let iss = origin.url(TENANT);
    let token = issuer.token(&iss);
    let r = discover(&iss, &["--dev-allow-http-loopback", "--aud", AUD], &token);
    assert_eq!(r.code, 0, "{r:?}");
    let verdict = r.verdict();
    assert_eq!(verdict["valid"], json!(true), "{r:?}");
    assert_eq!(verdict["claims"]["iss"], json!(iss));
    assert_eq!(verdict["key_source"], json!("issuer"), "{r:?}");
    let asked = origin.asked();
    let paths: Vec<&str> = asked.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(paths, [OPENID, KEYS]);
    assert_eq!(asked[0].accept.as_deref(), Some("application/json"));

    // The same through stdin, and with --iss repeating the issuer.
    let jwks = issuer.jwks.clone();
    let origin = Origin::start(2, |base| {
        let iss = format!("{base}{TENANT}");
        vec![
            (OPENID.into(), ok(&document(&iss, &format!("{base}{KEYS}")))),
            (KEYS.into(), ok(&jwks)),
        ]
    });
    let iss = origin.url(TENANT);
    let token = issuer.token(&iss);
    let now = now_arg(T0);
    let r = run_stdin(
        &[
            "--now",
            &now,
            "verify",
            "--issuer-discovery",
            &iss,
            "--iss",
            &iss,
            "--dev-allow-http-loopback",
            "-",
        ],
        token.as_bytes(),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(origin.paths(), [OPENID, KEYS]);
}

#[test]
fn a_404_openid_configuration_falls_back_to_rfc_8414() {
    let issuer = Issuer::new("disc-oauth");
    let jwks = issuer.jwks.clone();
    let origin = Origin::start(3, |base| {
        let iss = format!("{base}{TENANT}");
        vec![
            (OPENID.into(), respond(404, &[], "{}")),
            (OAUTH.into(), ok(&document(&iss, &format!("{base}{KEYS}")))),
            (KEYS.into(), ok(&jwks)),
        ]
    });
    let iss = origin.url(TENANT);
    let token = issuer.token(&iss);
    let r = discover(&iss, &["--dev-allow-http-loopback"], &token);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.verdict()["valid"], json!(true));
    assert_eq!(origin.paths(), [OPENID, OAUTH, KEYS]);
}

// ------------------------------------------------------------------ refused documents

#[test]
fn an_issuer_that_differs_by_a_trailing_slash_is_refused() {
    let issuer = Issuer::new("disc-slash");
    let jwks = issuer.jwks.clone();
    let origin = Origin::start(2, |base| {
        let iss = format!("{base}{TENANT}/");
        vec![
            (OPENID.into(), ok(&document(&iss, &format!("{base}{KEYS}")))),
            (KEYS.into(), ok(&jwks)),
        ]
    });
    let iss = origin.url(TENANT);
    let token = issuer.token(&iss);
    let r = discover(&iss, &["--dev-allow-http-loopback"], &token);
    assert_refused(&r, 16, "jwks_unavailable", "jwks", &token);
    assert!(r.stderr.contains("(issuer_mismatch)"), "{r:?}");
    assert!(r.stderr.contains(OPENID), "names the document: {r:?}");
    assert_token_not_echoed(&r, &token);
    assert_eq!(origin.paths(), [OPENID], "no key set fetched");
}

#[test]
fn a_plain_http_jwks_uri_needs_the_dev_flag() {
    let issuer = Issuer::new("disc-http");
    let jwks = issuer.jwks.clone();
    let table = |base: &str| {
        let iss = format!("{base}{TENANT}");
        vec![
            (OPENID.into(), ok(&document(&iss, &format!("{base}{KEYS}")))),
            (KEYS.into(), ok(&jwks)),
        ]
    };
    let origin = Origin::start(2, table);
    let iss = origin.url(TENANT);
    let token = issuer.token(&iss);
    let r = discover(&iss, &[], &token);
    assert_refused(&r, 16, "jwks_unavailable", "jwks", &token);
    assert!(r.stderr.contains("(jwks_uri_refused)"), "{r:?}");
    assert!(r.stderr.contains("--dev-allow-http-loopback"), "{r:?}");
    assert_token_not_echoed(&r, &token);
    assert_eq!(origin.paths(), [OPENID], "no key set fetched");

    // With the flag, plain http still reaches only loopback.
    let origin = Origin::start(2, |base| {
        let iss = format!("{base}{TENANT}");
        vec![(
            OPENID.into(),
            ok(&document(&iss, "http://example.com/keys")),
        )]
    });
    let iss = origin.url(TENANT);
    let token = issuer.token(&iss);
    let r = discover(&iss, &["--dev-allow-http-loopback"], &token);
    assert_refused(&r, 16, "jwks_unavailable", "jwks", &token);
    assert!(r.stderr.contains("(jwks_uri_refused)"), "{r:?}");
    assert_eq!(origin.paths(), [OPENID]);
}

#[test]
fn a_redirect_from_the_discovery_url_is_not_followed() {
    let issuer = Issuer::new("disc-302");
    let jwks = issuer.jwks.clone();
    let origin = Origin::start(4, |base| {
        let iss = format!("{base}{TENANT}");
        let moved = format!("{base}/moved");
        vec![
            (
                OPENID.into(),
                respond(302, &[("Location", moved.as_str())], ""),
            ),
            (
                "/moved".into(),
                ok(&document(&iss, &format!("{base}{KEYS}"))),
            ),
            (OAUTH.into(), ok(&document(&iss, &format!("{base}{KEYS}")))),
            (KEYS.into(), ok(&jwks)),
        ]
    });
    let iss = origin.url(TENANT);
    let token = issuer.token(&iss);
    let r = discover(&iss, &["--dev-allow-http-loopback"], &token);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!r.stdout.contains("\"valid\":true"), "{r:?}");
    assert!(r.stderr.contains("HTTP 302"), "{r:?}");
    assert!(r.stderr.contains("discovery_redirect_refused"), "{r:?}");
    assert_token_not_echoed(&r, &token);
    // Neither followed nor taken for a missing document.
    assert_eq!(origin.paths(), [OPENID]);
}

#[test]
fn other_failures_name_their_problem() {
    let issuer = Issuer::new("disc-other");
    // 404 at both places: not_found.
    let origin = Origin::start(3, |_| Vec::new());
    let iss = origin.url(TENANT);
    let token = issuer.token(&iss);
    let r = discover(&iss, &["--dev-allow-http-loopback"], &token);
    assert_refused(&r, 16, "jwks_unavailable", "jwks", &token);
    assert!(r.stderr.contains("(not_found)"), "{r:?}");
    assert_eq!(origin.paths(), [OPENID, OAUTH]);

    // An outage is not a missing document: no RFC 8414 request after a 500.
    let origin = Origin::start(3, |_| vec![(OPENID.into(), respond(500, &[], "{}"))]);
    let iss = origin.url(TENANT);
    let r = discover(&iss, &["--dev-allow-http-loopback"], &token);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("HTTP 500"), "{r:?}");
    assert_eq!(origin.paths(), [OPENID]);

    // Bodies the core refuses, each with its code.
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    for (body, code) in [
        ("[1, 2]".to_owned(), "malformed"),
        (big, "too_large"),
        (json!({"issuer": "ISSUER"}).to_string(), "no_jwks_uri"),
    ] {
        let origin = Origin::start(2, |base| {
            let body = body.replace("ISSUER", &format!("{base}{TENANT}"));
            vec![(OPENID.into(), ok(&body))]
        });
        let iss = origin.url(TENANT);
        let r = discover(&iss, &["--dev-allow-http-loopback"], &token);
        assert_refused(&r, 16, "jwks_unavailable", "jwks", &token);
        assert!(r.stderr.contains(&format!("({code})")), "{code}: {r:?}");
        assert_eq!(origin.paths(), [OPENID], "{code}");
    }
}

// ------------------------------------------------------------------ issuers

#[test]
fn a_token_from_another_issuer_is_refused() {
    let issuer = Issuer::new("disc-other-iss");
    let jwks = issuer.jwks.clone();
    let origin = Origin::start(4, |base| {
        let iss = format!("{base}{TENANT}");
        vec![
            (OPENID.into(), ok(&document(&iss, &format!("{base}{KEYS}")))),
            (KEYS.into(), ok(&jwks)),
        ]
    });
    let iss = origin.url(TENANT);
    // Signed by the very key the issuer publishes, but naming another issuer.
    for other in [format!("{iss}/"), "https://other.example".to_owned()] {
        let token = issuer.token(&other);
        let r = discover(&iss, &["--dev-allow-http-loopback"], &token);
        assert_refused(&r, 14, "issuer_mismatch", "claims", &token);
        assert_token_not_echoed(&r, &token);
    }
    assert_eq!(origin.paths(), [OPENID, KEYS, OPENID, KEYS]);
}

#[test]
fn configuration_mistakes_are_refused_before_any_request() {
    let issuer = Issuer::new("disc-config");
    let origin = Origin::start(1, |_| Vec::new());
    let iss = origin.url(TENANT);
    let token = issuer.token(&iss);

    // --iss naming another issuer: the discovered keys vouch for ISSUER only.
    let r = discover(&iss, &["--iss", "https://other.example"], &token);
    assert_refused(&r, 17, "config_invalid", "config", &token);
    assert!(r.stderr.contains("--iss must"), "{r:?}");
    assert!(r.verdict()["message"]
        .as_str()
        .is_some_and(|m| m.contains("`--iss`")));
    let r = discover(
        &iss,
        &["--iss", &iss, "--iss", "https://other.example"],
        &token,
    );
    assert_refused(&r, 17, "config_invalid", "config", &token);

    // Issuers whose metadata may not be fetched.
    for bad in [
        "http://example.com/tenant",
        "ftp://127.0.0.1/x",
        "https://user@issuer.example",
        "https://issuer.example/?tenant=1",
        "issuer.example",
    ] {
        let r = discover(bad, &[], &token);
        assert_refused(&r, 17, "config_invalid", "config", &token);
        assert!(r.stderr.contains("--issuer-discovery"), "{bad}: {r:?}");
        let verdict: Value = r.verdict();
        assert!(
            verdict["message"]
                .as_str()
                .is_some_and(|m| m.contains("--issuer-discovery")),
            "{bad}: {r:?}"
        );
    }
    assert!(origin.paths().is_empty(), "a request was made");

    // Other key sources conflict; the dev flag needs discovery (usage: exit 2).
    let dir = TempDir::new("disc-usage");
    let (_, jwks_file, _) = es256_setup(&dir);
    for extra in [
        vec!["--jwks", p(&jwks_file)],
        vec![
            "--secret",
            "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0",
        ],
    ] {
        let r = discover("https://issuer.example", &extra, &token);
        assert_eq!(r.code, 2, "{extra:?}: {r:?}");
        assert!(r.stderr.contains("cannot be used with"), "{r:?}");
    }
    for args in [
        vec!["--jwks", p(&jwks_file), "--dev-allow-http-loopback"],
        vec!["--dev-allow-http-loopback"],
    ] {
        let r = verify_at(T0, &args, &token);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
    }
}
