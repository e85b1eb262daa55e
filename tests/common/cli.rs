//! Runs the `jwt-edge` binary as a user would, for tests/cli.rs and the other tests
//! that need the CLI: a bounded wait, no panic message tolerated, verdicts parsed; the
//! local dev issuer (`serve`) on 127.0.0.1 port 0, killed when its guard drops; a small
//! HTTP/1.1 client for it.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_jwt-edge");

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success: {self:?}");
        self
    }

    /// The verdict `verify` prints on stdout.
    pub fn verdict(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not a JSON verdict ({e}): {self:?}"))
    }
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

pub fn run(args: &[&str]) -> Run {
    run_full(args, None, Duration::from_secs(120))
}

pub fn run_stdin(args: &[&str], stdin: &[u8]) -> Run {
    run_full(args, Some(stdin), Duration::from_secs(120))
}

/// Runs the binary with a bounded wait; fails on a timeout, a signal or a panic message.
pub fn run_full(args: &[&str], stdin: Option<&[u8]>, timeout: Duration) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let data = input.to_vec();
        thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    let mut out = child.stdout.take().expect("stdout pipe");
    let mut err = child.stderr.take().expect("stderr pipe");
    let out_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(status) => break status,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("jwt-edge {args:?} did not finish within {timeout:?}");
            }
            None => thread::sleep(Duration::from_millis(10)),
        }
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    let code = status
        .code()
        .unwrap_or_else(|| panic!("jwt-edge {args:?} killed by a signal; stderr: {stderr}"));
    assert!(
        !stderr.contains("panicked") && !stdout.contains("panicked"),
        "jwt-edge {args:?} panicked: {stderr}"
    );
    Run {
        code,
        stdout,
        stderr,
    }
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {path:?}: {e}"))
        .permissions()
        .mode()
        & 0o777
}

/// `keygen --alg ALG --out DIR/NAME`: returns the private key path and the printed
/// public JWK (`Value::Null` for HS*).
pub fn keygen(dir: &TempDir, alg: &str, name: &str) -> (PathBuf, Value) {
    let out = dir.join(name);
    let r = run(&["keygen", "--alg", alg, "--out", p(&out)]).ok();
    let public = if is_hmac(alg) {
        Value::Null
    } else {
        serde_json::from_str(r.stdout.trim())
            .unwrap_or_else(|e| panic!("keygen {alg} stdout is not a JWK ({e}): {r:?}"))
    };
    (out, public)
}

pub fn write_jwks(dir: &TempDir, name: &str, keys: &[&Value]) -> PathBuf {
    dir.file(name, json!({ "keys": keys }).to_string().as_bytes())
}

pub fn now_arg(t: i64) -> String {
    t.to_string()
}

/// `--now T sign ARGS...`, returning the token.
pub fn sign_at(t: i64, args: &[&str]) -> String {
    let now = now_arg(t);
    let mut all = vec!["--now", now.as_str(), "sign"];
    all.extend_from_slice(args);
    let r = run(&all).ok();
    let token = r.stdout.trim().to_owned();
    assert_eq!(
        token.split('.').count(),
        3,
        "sign printed no compact JWS: {r:?}"
    );
    token
}

/// `--now T verify ARGS... TOKEN`.
pub fn verify_at(t: i64, args: &[&str], token: &str) -> Run {
    let now = now_arg(t);
    let mut all = vec!["--now", now.as_str(), "verify"];
    all.extend_from_slice(args);
    all.push(token);
    run(&all)
}

/// Asserts a refusal: exit status, `valid: false`, code and family; the message never
/// echoes the token's payload.
pub fn assert_refused(r: &Run, exit: i32, code: &str, family: &str, token: &str) {
    assert_eq!(r.code, exit, "exit status for {code}: {r:?}");
    let v = r.verdict();
    assert_eq!(v["valid"], json!(false), "{r:?}");
    assert_eq!(v["code"], json!(code), "{r:?}");
    assert_eq!(v["family"], json!(family), "{r:?}");
    let message = v["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message: {r:?}"));
    assert!(!message.is_empty(), "{r:?}");
    if let Some(payload) = token.split('.').nth(1) {
        if payload.len() > 8 {
            assert!(
                !message.contains(payload),
                "message echoes the token: {r:?}"
            );
        }
    }
}

pub fn assert_usage_or_io_error(r: &Run, what: &str) {
    assert!(
        r.code == 1 || r.code == 2,
        "{what}: expected exit 1 or 2: {r:?}"
    );
    assert!(
        !r.stderr.trim().is_empty(),
        "{what}: no message on stderr: {r:?}"
    );
}

/// An ES256 key, its public JWKS file and its private JWK path, in `dir`.
pub fn es256_setup(dir: &TempDir) -> (PathBuf, PathBuf, Value) {
    let (key, public) = keygen(dir, "ES256", "es256.jwk");
    let jwks = write_jwks(dir, "es256.jwks.json", &[&public]);
    (key, jwks, public)
}

/// Every file and directory under `root` (relative path → SHA-256 of the bytes and the
/// mode, `None` for a directory), to compare a tree before and after a command.
pub fn tree(root: &Path) -> std::collections::BTreeMap<String, Option<(String, u32)>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("dir entry").path();
            let name = path
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string();
            if path.is_dir() {
                out.insert(name, None);
                todo.push(path);
            } else {
                let digest = Sha256::digest(fs::read(&path).expect("read file"));
                let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
                out.insert(name, Some((hex, mode(&path))));
            }
        }
    }
    out
}

/// A running `jwt-edge serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(args: &[&str]) -> Server {
    let mut all = vec!["serve", "--addr", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut child = Command::new(BIN)
        .args(&all)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    let mut server = Server {
        child,
        addr: String::new(),
    };
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(addr) => server.addr = addr,
        Err(_) => panic!("serve {args:?} printed no `listening on http://` line within 30 s"),
    }
    assert!(
        server.addr.starts_with("127.0.0.1:"),
        "addr {}",
        server.addr
    );
    assert_ne!(server.addr, "127.0.0.1:0", "the actual port is not shown");
    server
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn http_get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    // Read until the server closes, or until a complete Content-Length body is in.
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read from {addr}{path}: {e}"),
        }
        if let Some(end) = find(&raw, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            let bodyless = head.starts_with("http/1.1 304") || head.starts_with("http/1.0 304");
            if bodyless || len.is_some_and(|len| raw.len() >= end + 4 + len) {
                break;
            }
        }
    }
    let end = find(&raw, b"\r\n\r\n").expect("HTTP head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    } else if let Some(len) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Response {
        status,
        headers,
        body,
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(data, b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("chunk size");
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

pub fn is_hmac(alg: &str) -> bool {
    alg.starts_with("HS")
}
