//! The `jwt-edge` binary, run as a user would: keys, JWKS files, rotation, signing,
//! verification verdicts and exit statuses, the local dev issuer, and bad input.
//!
//! Every run uses a fixed clock (`--now`), its own temporary directory, and a bounded
//! wait; servers bind 127.0.0.1 port 0 and are killed when their guard drops.
#![cfg(feature = "cli")]

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::cli::*;
use common::{
    b64, header_of, payload_of, read_json, thumbprint_rfc7638 as thumbprint, unb64, TempDir,
};
use serde_json::{json, Value};

/// The fixed clock of these tests: 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000;

const ISS: &str = "https://issuer.example";
const AUD: &str = "api://jwt-edge";

/// Every algorithm `keygen` and `sign` accept.
const ALGS: [&str; 15] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "ES512", "ES256K", "EdDSA", "Ed25519",
];

/// JWK members that are private key material (RFC 7518 §6, RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

// ------------------------------------------------------------------ helpers

fn is_thumbprint_shaped(kid: &str) -> bool {
    kid.len() == 43
        && kid
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

fn assert_public_only(jwk: &Value, what: &str) {
    for m in PRIVATE_MEMBERS {
        assert!(
            jwk.get(m).is_none(),
            "{what} has private member `{m}`: {jwk}"
        );
    }
}

/// The (kty, crv) a key for `alg` has.
fn expected_kind(alg: &str) -> (&'static str, Option<&'static str>) {
    match alg {
        "HS256" | "HS384" | "HS512" => ("oct", None),
        a if a.starts_with("RS") || a.starts_with("PS") => ("RSA", None),
        "ES256" => ("EC", Some("P-256")),
        "ES384" => ("EC", Some("P-384")),
        "ES512" => ("EC", Some("P-521")),
        "ES256K" => ("EC", Some("secp256k1")),
        "EdDSA" | "Ed25519" => ("OKP", Some("Ed25519")),
        other => panic!("unknown alg {other}"),
    }
}

// ------------------------------------------------------------------ help

#[test]
fn help_for_every_command_has_an_example() {
    let commands: [&[&str]; 11] = [
        &[],
        &["keygen"],
        &["import-pem"],
        &["jwks"],
        &["jwks", "list"],
        &["jwks", "add"],
        &["jwks", "remove"],
        &["jwks", "rotate"],
        &["sign"],
        &["verify"],
        &["serve"],
    ];
    let mut missing = Vec::new();
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        assert!(
            r.stdout.to_lowercase().contains("usage"),
            "{args:?} help has no usage: {r:?}"
        );
        // An example: an indented invocation of this very command, not the usage line.
        let invocation = format!("jwt-edge {}", command.join(" "));
        let shown = r.stdout.lines().any(|line| {
            line.starts_with(char::is_whitespace)
                && !line.trim_start().to_lowercase().starts_with("usage")
                && line.contains(invocation.trim_end())
        });
        if !shown {
            missing.push(format!("{args:?}:\n{}", r.stdout));
        }
    }
    assert!(
        missing.is_empty(),
        "help without an example:\n{}",
        missing.join("\n")
    );
    // `help` as a subcommand and no arguments at all are not panics.
    let r = run(&[]);
    assert!(r.code == 0 || r.code == 2, "{r:?}");
}

// ------------------------------------------------------------------ keygen

#[test]
fn keygen_every_algorithm() {
    let dir = TempDir::new("keygen");
    for alg in ALGS {
        let name = format!("{alg}.jwk");
        let public_out = dir.join(&format!("{alg}.pub.jwk"));
        let out = dir.join(&name);
        let r = run(&[
            "keygen",
            "--alg",
            alg,
            "--out",
            p(&out),
            "--public-out",
            p(&public_out),
        ])
        .ok();
        assert_eq!(mode(&out), 0o600, "{alg}: private key file mode");
        let private = read_json(&out);
        let (kty, crv) = expected_kind(alg);
        assert_eq!(private["kty"], json!(kty), "{alg}: {private}");
        if let Some(crv) = crv {
            assert_eq!(private["crv"], json!(crv), "{alg}: {private}");
        }
        assert_eq!(private["alg"], json!(alg), "{alg}: {private}");
        let kid = private["kid"]
            .as_str()
            .unwrap_or_else(|| panic!("{alg}: no kid"));
        assert!(is_thumbprint_shaped(kid), "{alg}: kid {kid:?}");
        assert_eq!(
            kid,
            thumbprint(&private),
            "{alg}: kid is not the RFC 7638 thumbprint"
        );

        if is_hmac(alg) {
            assert!(
                r.stdout.trim().is_empty(),
                "{alg}: secret printed on stdout: {r:?}"
            );
            let k = unb64(private["k"].as_str().expect("k"));
            let min = match alg {
                "HS256" => 32,
                "HS384" => 48,
                _ => 64,
            };
            assert!(k.len() >= min, "{alg}: secret of {} bytes", k.len());
            continue;
        }
        assert!(private.get("d").is_some(), "{alg}: private JWK without d");
        let public: Value = serde_json::from_str(r.stdout.trim())
            .unwrap_or_else(|e| panic!("{alg}: stdout is not one JSON JWK ({e}): {r:?}"));
        assert_eq!(
            r.stdout.trim().lines().count(),
            1,
            "{alg}: not one line: {r:?}"
        );
        assert_public_only(&public, alg);
        assert_eq!(public["kid"], json!(kid), "{alg}");
        assert_eq!(public["alg"], json!(alg), "{alg}");
        assert_eq!(public["kty"], json!(kty), "{alg}");
        for member in ["n", "e", "x", "y", "crv"] {
            assert_eq!(public.get(member), private.get(member), "{alg}: {member}");
        }
        assert_eq!(thumbprint(&public), kid, "{alg}");
        let written = read_json(&public_out);
        assert_eq!(written, public, "{alg}: --public-out differs from stdout");
        if kty == "RSA" {
            // 2048 bits by default.
            assert_eq!(unb64(public["n"].as_str().unwrap()).len(), 256, "{alg}");
        }
    }
}

#[test]
fn keygen_kid_bits_and_refusals() {
    let dir = TempDir::new("keygen-opts");
    let out = dir.join("named.jwk");
    let r = run(&[
        "keygen",
        "--alg",
        "ES256",
        "--kid",
        "my-key",
        "--out",
        p(&out),
    ])
    .ok();
    let public: Value = serde_json::from_str(r.stdout.trim()).expect("public JWK");
    assert_eq!(public["kid"], json!("my-key"));
    assert_eq!(read_json(&out)["kid"], json!("my-key"));

    let rsa = dir.join("rsa3072.jwk");
    let r = run(&[
        "keygen",
        "--alg",
        "PS256",
        "--bits",
        "3072",
        "--out",
        p(&rsa),
    ])
    .ok();
    let public: Value = serde_json::from_str(r.stdout.trim()).expect("public JWK");
    assert_eq!(unb64(public["n"].as_str().unwrap()).len(), 384);

    // Refuses to overwrite an existing file, and leaves it alone.
    let before = fs::read(&out).unwrap();
    let r = run(&["keygen", "--alg", "ES256", "--out", p(&out)]);
    assert_usage_or_io_error(&r, "keygen over an existing file");
    assert_eq!(
        fs::read(&out).unwrap(),
        before,
        "existing key file was changed"
    );
    let other = dir.file("not-a-key.txt", b"keep me");
    let r = run(&["keygen", "--alg", "HS256", "--out", p(&other)]);
    assert_usage_or_io_error(&r, "keygen over an existing file");
    assert_eq!(fs::read(&other).unwrap(), b"keep me");

    // Weak or unknown parameters.
    let r = run(&[
        "keygen",
        "--alg",
        "RS256",
        "--bits",
        "1024",
        "--out",
        p(&dir.join("weak.jwk")),
    ]);
    assert_usage_or_io_error(&r, "--bits 1024");
    assert!(!dir.join("weak.jwk").exists());
    for alg in ["XX256", "none", "HS128", "es256"] {
        let path = dir.join("unknown.jwk");
        let r = run(&["keygen", "--alg", alg, "--out", p(&path)]);
        assert_usage_or_io_error(&r, &format!("--alg {alg}"));
        assert!(!path.exists(), "--alg {alg} wrote a file");
    }
    let r = run(&["keygen", "--alg", "XX256", "--out", p(&dir.join("x.jwk"))]);
    assert!(
        r.stderr.contains("XX256") || r.stderr.to_lowercase().contains("alg"),
        "{r:?}"
    );
}

// ------------------------------------------------------------------ sign / verify

#[test]
fn sign_verify_round_trip_every_asymmetric_algorithm() {
    let dir = TempDir::new("roundtrip");
    for alg in ALGS.iter().filter(|a| !is_hmac(a)) {
        let (key, public) = keygen(&dir, alg, &format!("{alg}.jwk"));
        let kid = public["kid"].as_str().unwrap().to_owned();
        let jwks = write_jwks(&dir, &format!("{alg}.jwks.json"), &[&public]);
        let token = sign_at(
            T0,
            &[
                "--key",
                p(&key),
                "--iss",
                ISS,
                "--aud",
                AUD,
                "--sub",
                "user-1",
                "--ttl",
                "5m",
                "--claim",
                "scope=read write",
            ],
        );
        let header = header_of(&token);
        assert_eq!(header["alg"], json!(alg), "{alg}: {header}");
        assert_eq!(header["kid"], json!(kid), "{alg}: {header}");
        let r = verify_at(
            T0 + 10,
            &[
                "--jwks",
                p(&jwks),
                "--iss",
                ISS,
                "--aud",
                AUD,
                "--sub",
                "user-1",
            ],
            &token,
        );
        assert_eq!(r.code, 0, "{alg}: {r:?}");
        let v = r.verdict();
        assert_eq!(v["valid"], json!(true), "{alg}: {v}");
        assert_eq!(v["alg"], json!(alg), "{alg}: {v}");
        assert_eq!(v["kid"], json!(kid), "{alg}: {v}");
        assert_eq!(v["header"]["alg"], json!(alg), "{alg}: {v}");
        let claims = &v["claims"];
        assert_eq!(claims["iss"], json!(ISS), "{alg}: {v}");
        assert_eq!(claims["aud"], json!(AUD), "{alg}: {v}");
        assert_eq!(claims["sub"], json!("user-1"), "{alg}: {v}");
        assert_eq!(claims["iat"], json!(T0), "{alg}: {v}");
        assert_eq!(claims["exp"], json!(T0 + 300), "{alg}: {v}");
        assert_eq!(claims["scope"], json!("read write"), "{alg}: {v}");
        assert!(
            claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
            "{alg}: {v}"
        );
    }
}

#[test]
fn sign_verify_round_trip_hmac_with_secret_file() {
    let dir = TempDir::new("roundtrip-hs");
    let (_, es_jwks, _) = es256_setup(&dir);
    for alg in ["HS256", "HS384", "HS512"] {
        let (key, _) = keygen(&dir, alg, &format!("{alg}.jwk"));
        let k = read_json(&key)["k"].as_str().expect("k").to_owned();
        let secret_file = dir.file(&format!("{alg}.secret"), k.as_bytes());
        let secret_arg = format!("@{}", p(&secret_file));
        let token = sign_at(
            T0,
            &[
                "--secret",
                &secret_arg,
                "--alg",
                alg,
                "--iss",
                ISS,
                "--aud",
                AUD,
            ],
        );
        assert_eq!(header_of(&token)["alg"], json!(alg));
        let r = verify_at(
            T0 + 1,
            &[
                "--secret",
                &secret_arg,
                "--alg",
                alg,
                "--iss",
                ISS,
                "--aud",
                AUD,
            ],
            &token,
        );
        assert_eq!(r.code, 0, "{alg} --secret @file: {r:?}");
        assert_eq!(r.verdict()["valid"], json!(true));
        assert_eq!(r.verdict()["alg"], json!(alg));

        // The same secret given inline, base64url. (`--secret=` because a random secret
        // may start with `-`; see `values_starting_with_a_hyphen`.)
        let inline = format!("--secret={k}");
        let r = verify_at(T0 + 1, &[&inline, "--alg", alg], &token);
        assert_eq!(r.code, 0, "{alg} --secret B64URL: {r:?}");

        // Another secret: signature_invalid.
        let other = b64(&[7u8; 64]);
        let r = verify_at(T0 + 1, &["--secret", &other, "--alg", alg], &token);
        assert_refused(&r, 13, "signature_invalid", "signature", &token);

        // Without --secret, an HMAC token cannot verify against a public JWKS.
        let r = verify_at(T0 + 1, &["--jwks", p(&es_jwks)], &token);
        assert_refused(&r, 12, "alg_not_allowed", "key", &token);
    }
}

#[test]
fn sign_with_oct_jwk_verifies_with_its_secret() {
    // `keygen --alg HS256` gives an oct JWK with a thumbprint kid; a token signed with
    // it must verify with the same secret given to `verify --secret`.
    let dir = TempDir::new("oct");
    for alg in ["HS256", "HS384", "HS512"] {
        let (key, _) = keygen(&dir, alg, &format!("{alg}.jwk"));
        let k = read_json(&key)["k"].as_str().expect("k").to_owned();
        let token = sign_at(T0, &["--key", p(&key), "--aud", AUD]);
        assert_eq!(header_of(&token)["alg"], json!(alg));
        let inline = format!("--secret={k}");
        let r = verify_at(T0 + 1, &[&inline, "--alg", alg, "--aud", AUD], &token);
        assert_eq!(r.code, 0, "{alg}: oct JWK token with its secret: {r:?}");
        assert_eq!(r.verdict()["valid"], json!(true));
    }
}

#[test]
fn sign_claims_ttl_and_jti() {
    let dir = TempDir::new("claims");
    let (key, _, _) = es256_setup(&dir);
    let key = p(&key).to_owned();
    let token = sign_at(
        T0,
        &[
            "--key",
            &key,
            "--aud",
            "a1",
            "--aud",
            "a2",
            "--jti",
            "fixed-id",
            "--claim",
            "n=5",
            "--claim",
            "flag=true",
            "--claim",
            "list=[1,\"x\"]",
            "--claim",
            "obj={\"a\":{\"b\":null}}",
            "--claim",
            "s=hello world",
            "--claim",
            "quoted=\"5\"",
            "--claim",
            "eq=a=b",
        ],
    );
    let c = payload_of(&token);
    assert_eq!(c["aud"], json!(["a1", "a2"]), "{c}");
    assert_eq!(c["jti"], json!("fixed-id"), "{c}");
    assert_eq!(c["n"], json!(5), "{c}");
    assert_eq!(c["flag"], json!(true), "{c}");
    assert_eq!(c["list"], json!([1, "x"]), "{c}");
    assert_eq!(c["obj"], json!({"a": {"b": null}}), "{c}");
    assert_eq!(c["s"], json!("hello world"), "{c}");
    assert_eq!(c["quoted"], json!("5"), "{c}");
    assert_eq!(c["eq"], json!("a=b"), "{c}");
    assert_eq!(c["iat"], json!(T0), "{c}");
    assert_eq!(c["exp"], json!(T0 + 60), "default ttl is 60s: {c}");
    assert_eq!(header_of(&token)["typ"], json!("JWT"));

    for (ttl, seconds) in [
        ("90", 90),
        ("90s", 90),
        ("5m", 300),
        ("1h", 3600),
        ("7d", 604_800),
    ] {
        let token = sign_at(T0, &["--key", &key, "--ttl", ttl]);
        assert_eq!(
            payload_of(&token)["exp"],
            json!(T0 + seconds),
            "--ttl {ttl}"
        );
    }

    let none = sign_at(T0, &["--key", &key, "--jti", "none"]);
    assert!(payload_of(&none).get("jti").is_none(), "--jti none");
    let a = payload_of(&sign_at(T0, &["--key", &key]));
    let b = payload_of(&sign_at(T0, &["--key", &key, "--jti", "auto"]));
    let (ja, jb) = (
        a["jti"].as_str().expect("jti"),
        b["jti"].as_str().expect("jti"),
    );
    assert!(
        ja.len() >= 16 && jb.len() >= 16,
        "short random jti: {ja} {jb}"
    );
    assert_ne!(ja, jb, "jti auto is not random");

    // --claim cannot set iat, exp or jti; a claim needs `=`.
    for bad in ["iat=5", "exp=99999999999", "jti=x", "novalue"] {
        let r = run(&["--now", "1700000000", "sign", "--key", &key, "--claim", bad]);
        assert_usage_or_io_error(&r, &format!("--claim {bad}"));
        assert!(
            r.stdout.trim().is_empty(),
            "--claim {bad} printed a token: {r:?}"
        );
    }
    // --alg that does not fit the key.
    let r = run(&[
        "--now",
        "1700000000",
        "sign",
        "--key",
        &key,
        "--alg",
        "ES384",
    ]);
    assert!(r.code != 0 && r.stdout.trim().is_empty(), "{r:?}");
    let r = run(&[
        "--now",
        "1700000000",
        "sign",
        "--key",
        &key,
        "--alg",
        "HS256",
    ]);
    assert!(r.code != 0 && r.stdout.trim().is_empty(), "{r:?}");
}

#[test]
fn verify_verdicts_and_exit_statuses() {
    let dir = TempDir::new("verify");
    let (key, jwks, public) = es256_setup(&dir);
    let (key, jwks) = (p(&key).to_owned(), p(&jwks).to_owned());
    let kid = public["kid"].as_str().unwrap().to_owned();
    let token = sign_at(
        T0,
        &[
            "--key", &key, "--iss", ISS, "--aud", AUD, "--sub", "user-1", "--ttl", "60s",
        ],
    );
    let base = ["--jwks", jwks.as_str()];

    // Valid, also from stdin.
    let r = verify_at(
        T0 + 5,
        &["--jwks", &jwks, "--iss", ISS, "--aud", AUD],
        &token,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.verdict()["kid"], json!(kid));
    let r = run_stdin(
        &["--now", "1700000005", "verify", "--jwks", &jwks, "-"],
        format!("{token}\n").as_bytes(),
    );
    assert_eq!(r.code, 0, "token on stdin: {r:?}");
    assert_eq!(r.verdict()["valid"], json!(true));

    // One row per run: the clock, the options after `--jwks FILE`, the token, and the
    // refusal expected (exit status, code, family), or `None` for a valid verdict.
    let (_, other_public) = keygen(&dir, "ES256", "other.jwk");
    let other_jwks = write_jwks(&dir, "other.jwks.json", &[&other_public]);
    let no_jti = sign_at(T0, &["--key", &key, "--jti", "none"]);
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = payload_of(&token);
    claims["sub"] = json!("admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    let mut sig = unb64(parts[2]);
    sig[5] ^= 0x01;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], b64(&sig));
    const VALID: Option<(i32, &str, &str)> = None;
    let claims_refusal = |code| Some((14, code, "claims"));
    type Row<'a> = (i64, Vec<&'a str>, &'a str, Option<(i32, &'a str, &'a str)>);
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        // Claims: 14.
        (T0 + 3600, vec![], &token, claims_refusal("token_expired")),
        (T0 - 3600, vec![], &token, claims_refusal("iat_in_future")),
        (T0 + 5, vec!["--aud", "api://other"], &token, claims_refusal("audience_mismatch")),
        (T0 + 5, vec!["--iss", "https://evil.example"], &token, claims_refusal("issuer_mismatch")),
        // Several --iss / --aud: one must match.
        (T0 + 5, vec!["--iss", "https://x", "--iss", ISS, "--aud", "x", "--aud", AUD], &token, VALID),
        (T0 + 5, vec!["--sub", "user-2"], &token, claims_refusal("subject_mismatch")),
        (T0 + 5, vec!["--typ", "at+jwt"], &token, claims_refusal("typ_mismatch")),
        (T0 + 5, vec!["--max-lifetime", "30s"], &token, claims_refusal("lifetime_too_long")),
        (T0 + 5, vec!["--max-lifetime", "2m"], &token, VALID),
        (T0 + 5, vec!["--require-jti"], &no_jti, claims_refusal("claim_missing")),
        // jti is not required by default.
        (T0 + 5, vec![], &no_jti, VALID),
        // Clock skew: 60 s by default, configurable.
        (T0 + 100, vec![], &token, VALID),
        (T0 + 100, vec!["--skew", "0"], &token, claims_refusal("token_expired")),
        // Signature: 13.
        (T0 + 5, vec![], &tampered, Some((13, "signature_invalid", "signature"))),
        (T0 + 5, vec![], &flipped, Some((13, "signature_invalid", "signature"))),
        // Key: 12.
        (T0 + 5, vec!["--jwks", p(&other_jwks)], &token, Some((12, "no_matching_key", "key"))),
        (T0 + 5, vec!["--alg", "RS256"], &token, Some((12, "alg_not_allowed", "key"))),
        (T0 + 5, vec!["--alg", "RS256", "--alg", "ES256"], &token, VALID),
    ];
    for (at, options, token, expected) in rows {
        // A later `--jwks` (another file) replaces the first.
        let args: Vec<&str> = if options.first() == Some(&"--jwks") {
            options.clone()
        } else {
            base.iter()
                .copied()
                .chain(options.iter().copied())
                .collect()
        };
        let r = verify_at(at, &args, token);
        match expected {
            None => assert_eq!(r.code, 0, "{args:?} at {at}: {r:?}"),
            Some((exit, code, family)) => assert_refused(&r, exit, code, family, token),
        }
    }
    let claims_b64 = b64(payload_of(&token).to_string().as_bytes());
    for none_header in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"NONE"}"#,
    ] {
        let unsigned = format!("{}.{claims_b64}.", b64(none_header.as_bytes()));
        let r = verify_at(T0 + 5, &base, &unsigned);
        assert_refused(&r, 12, "alg_not_allowed", "key", &unsigned);
    }

    // Token: 11.
    for garbage in [
        "garbage",
        "a.b.c",
        "a.b",
        "....",
        "eyJhbGciOiJFUzI1NiJ9.e30",
    ] {
        let r = verify_at(T0 + 5, &base, garbage);
        assert_refused(&r, 11, "token_malformed", "token", garbage);
    }
    let huge = format!("{}.{}.{}", parts[0], "A".repeat(20_000), parts[2]);
    let r = run_stdin(
        &["--now", "1700000005", "verify", "--jwks", &jwks, "-"],
        huge.as_bytes(),
    );
    assert_refused(&r, 11, "token_too_large", "token", &huge);
    let crit = format!(
        "{}.{}.{}",
        b64(
            json!({"alg": "ES256", "kid": kid, "crit": ["exp"], "exp": 1})
                .to_string()
                .as_bytes()
        ),
        parts[1],
        parts[2]
    );
    let r = verify_at(T0 + 5, &base, &crit);
    assert_refused(&r, 11, "crit_unsupported", "token", &crit);
    let unencoded = format!(
        "{}.{}.{}",
        b64(
            json!({"alg": "ES256", "kid": kid, "b64": false, "crit": ["b64"]})
                .to_string()
                .as_bytes()
        ),
        parts[1],
        parts[2]
    );
    let r = verify_at(T0 + 5, &base, &unencoded);
    assert_refused(&r, 11, "b64_unsupported", "token", &unencoded);

    // JWKS: 16. A published set holding private key material is refused whole.
    let private_jwks = dir.file(
        "private.jwks.json",
        json!({"keys": [read_json(Path::new(&key))]})
            .to_string()
            .as_bytes(),
    );
    let r = verify_at(T0 + 5, &["--jwks", p(&private_jwks)], &token);
    assert_refused(&r, 16, "jwks_invalid", "jwks", &token);
}

#[test]
fn verify_refuses_rsa_to_hmac_confusion() {
    // An HS256 token naming an RSA key's kid, "signed" with the RSA public key's bytes:
    // the key named by kid cannot verify HS256.
    let dir = TempDir::new("confusion");
    let rsa = dir.join("rsa.jwk");
    let r = run(&[
        "keygen",
        "--alg",
        "RS256",
        "--kid",
        "rsa-1",
        "--out",
        p(&rsa),
    ])
    .ok();
    let public: Value = serde_json::from_str(r.stdout.trim()).expect("public JWK");
    let kid = public["kid"].as_str().unwrap();
    let jwks = write_jwks(&dir, "rsa.jwks.json", &[&public]);
    let secret = b64(public["n"].as_str().unwrap().as_bytes());
    let token = sign_at(T0, &["--secret", &secret, "--alg", "HS256", "--kid", kid]);
    assert_eq!(header_of(&token)["kid"], json!(kid));
    let r = verify_at(
        T0 + 1,
        &[
            "--jwks",
            p(&jwks),
            "--secret",
            &secret,
            "--alg",
            "HS256",
            "--alg",
            "RS256",
        ],
        &token,
    );
    assert_refused(&r, 12, "key_mismatch", "key", &token);
    let r = verify_at(T0 + 1, &["--jwks", p(&jwks)], &token);
    assert_refused(&r, 12, "alg_not_allowed", "key", &token);
}

// ------------------------------------------------------------------ jwks files

#[test]
fn jwks_add_list_remove() {
    let dir = TempDir::new("jwks");
    let file = dir.join("jwks.json");
    let f = p(&file).to_owned();
    // An explicit kid for the key removed below: a thumbprint may start with `-`, which
    // `values_starting_with_a_hyphen` covers on its own.
    let key1 = dir.join("k1.jwk");
    let r = run(&[
        "keygen",
        "--alg",
        "ES256",
        "--kid",
        "es256-k1",
        "--out",
        p(&key1),
    ])
    .ok();
    let pub1: Value = serde_json::from_str(r.stdout.trim()).expect("public JWK");
    let (key2, pub2) = keygen(&dir, "EdDSA", "k2.jwk");
    let (_, pub3) = keygen(&dir, "RS256", "k3.jwk");
    let kid1 = pub1["kid"].as_str().unwrap().to_owned();
    let kid2 = pub2["kid"].as_str().unwrap().to_owned();
    let kid3 = pub3["kid"].as_str().unwrap().to_owned();
    let pub1_file = dir.file("k1.pub.jwk", pub1.to_string().as_bytes());
    let pub3_file = dir.file("k3.pub.jwk", pub3.to_string().as_bytes());

    // Creates the file when missing.
    run(&["jwks", "add", "--jwks", &f, p(&pub1_file)]).ok();
    let set = read_json(&file);
    assert_eq!(set["keys"].as_array().map(Vec::len), Some(1), "{set}");
    assert_eq!(set["keys"][0]["kid"], json!(kid1));

    // A private JWK contributes only its public part.
    run(&["jwks", "add", "--jwks", &f, p(&key2)]).ok();
    run(&["jwks", "add", "--jwks", &f, p(&pub3_file)]).ok();
    let text = fs::read_to_string(&file).unwrap();
    let set: Value = serde_json::from_str(&text).unwrap();
    let keys = set["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 3, "{set}");
    for key in keys {
        assert_public_only(key, "JWKS entry");
    }
    assert!(
        !text.contains("\"d\""),
        "JWKS file holds a private member: {text}"
    );
    let added2 = keys
        .iter()
        .find(|k| k["kid"] == json!(kid2))
        .expect("key 2");
    assert_eq!(added2["x"], pub2["x"]);
    assert_eq!(added2["crv"], json!("Ed25519"));

    // A token from key 2 verifies against the file.
    let token = sign_at(T0, &["--key", p(&key2)]);
    let r = verify_at(T0 + 1, &["--jwks", &f], &token);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.verdict()["kid"], json!(kid2));

    // list: one line per key, with kid, kty/crv, alg and use.
    let r = run(&["jwks", "list", "--jwks", &f]).ok();
    let lines: Vec<&str> = r.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 3, "{r:?}");
    let line_of = |kid: &str| {
        *lines
            .iter()
            .find(|l| l.contains(kid))
            .unwrap_or_else(|| panic!("no line for {kid}: {r:?}"))
    };
    let l1 = line_of(&kid1);
    assert!(
        l1.contains("EC") && l1.contains("P-256") && l1.contains("ES256") && l1.contains("sig"),
        "{l1}"
    );
    let l2 = line_of(&kid2);
    assert!(
        l2.contains("OKP") && l2.contains("Ed25519") && l2.contains("EdDSA") && l2.contains("sig"),
        "{l2}"
    );
    let l3 = line_of(&kid3);
    assert!(
        l3.contains("RSA") && l3.contains("RS256") && l3.contains("sig"),
        "{l3}"
    );

    // A duplicate kid is refused, and the file is unchanged.
    let before = fs::read(&file).unwrap();
    let r = run(&["jwks", "add", "--jwks", &f, p(&key1)]);
    assert_usage_or_io_error(&r, "duplicate kid");
    assert_eq!(fs::read(&file).unwrap(), before);

    // A symmetric key has no public part: never published.
    let (oct, _) = keygen(&dir, "HS256", "oct.jwk");
    let r = run(&["jwks", "add", "--jwks", &f, p(&oct)]);
    assert_usage_or_io_error(&r, "adding an oct key");
    assert_eq!(fs::read(&file).unwrap(), before, "oct key changed the JWKS");

    // remove.
    run(&["jwks", "remove", "--jwks", &f, &kid1]).ok();
    let set = read_json(&file);
    let kids: Vec<&Value> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert_eq!(kids.len(), 2, "{set}");
    assert!(!kids.contains(&&json!(kid1)), "{set}");
    let r = run(&["jwks", "list", "--jwks", &f]).ok();
    assert!(!r.stdout.contains(&kid1), "{r:?}");
    let r = run(&["jwks", "remove", "--jwks", &f, "no-such-kid"]);
    assert!(r.code != 0 && !r.stderr.trim().is_empty(), "{r:?}");
    let r = verify_at(T0 + 1, &["--jwks", &f], &sign_at(T0, &["--key", p(&key1)]));
    assert_eq!(r.code, 12, "removed key still verifies: {r:?}");
}

#[test]
fn values_starting_with_a_hyphen() {
    // base64url secrets and RFC 7638 kids start with `-` one time in 64: such values
    // must be accepted as option values and as the kid of `jwks remove`.
    let dir = TempDir::new("hyphen");
    let mut problems = Vec::new();
    let secret = b64(&[0xf8; 32]);
    assert!(secret.starts_with('-'));
    // Mint with the `=` form so the verify check below does not depend on the sign one.
    let token = sign_at(T0, &[&format!("--secret={secret}"), "--alg", "HS256"]);
    let r = run(&[
        "--now",
        "1700000000",
        "sign",
        "--secret",
        &secret,
        "--alg",
        "HS256",
    ]);
    if r.code != 0 {
        problems.push(format!("sign --secret {secret}: {r:?}"));
    }
    let r = verify_at(T0 + 1, &["--secret", &secret, "--alg", "HS256"], &token);
    if r.code != 0 {
        problems.push(format!("verify --secret {secret}: {r:?}"));
    }

    let key = dir.join("hyphen.jwk");
    let out = p(&key);
    run(&[
        "keygen",
        "--alg",
        "ES256",
        "--kid=-hyphen-kid",
        "--out",
        out,
    ])
    .ok();
    let r = run(&[
        "--now",
        "1700000000",
        "sign",
        "--key",
        out,
        "--kid",
        "-other-kid",
    ]);
    if r.code != 0 {
        problems.push(format!("sign --kid -other-kid: {r:?}"));
    }
    let jwks = dir.join("jwks.json");
    run(&["jwks", "add", "--jwks", p(&jwks), out]).ok();
    let r = run(&["jwks", "remove", "--jwks", p(&jwks), "-hyphen-kid"]);
    if r.code != 0 || !kids_of(&jwks).is_empty() {
        problems.push(format!("jwks remove --jwks FILE -hyphen-kid: {r:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------ rotation

fn rotate_at(t: i64, jwks: &Path, keys: &Path, extra: &[&str]) -> Run {
    let now = now_arg(t);
    let mut args = vec![
        "--now",
        now.as_str(),
        "jwks",
        "rotate",
        "--jwks",
        p(jwks),
        "--keys-dir",
        p(keys),
        "--alg",
        "ES256",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn kids_of(jwks: &Path) -> Vec<String> {
    read_json(jwks)["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

const POLICY: [&str; 4] = ["--retention", "2h", "--max-token-lifetime", "1h"];

#[test]
fn rotation_keeps_retired_keys_for_the_retention_period() {
    let dir = TempDir::new("rotate");
    let jwks = dir.join("jwks.json");
    let keys = dir.join("keys");
    let verify_args = ["--jwks", p(&jwks)];

    let r = rotate_at(T0, &jwks, &keys, &POLICY).ok();
    let kid1 = r.stdout.trim().to_owned();
    assert!(
        !kid1.is_empty() && !kid1.contains(char::is_whitespace),
        "{r:?}"
    );
    assert_eq!(kids_of(&jwks), [kid1.as_str()]);
    let key1_file = keys.join(format!("{kid1}.jwk"));
    let current = keys.join("current.jwk");
    assert_eq!(mode(&key1_file), 0o600);
    assert_eq!(mode(&current), 0o600);
    assert_eq!(read_json(&current)["kid"], json!(kid1));
    assert!(read_json(&current).get("d").is_some());
    assert!(keys.join("rotation.json").exists(), "no rotation state");
    for key in read_json(&jwks)["keys"].as_array().unwrap() {
        assert_public_only(key, "rotated JWKS entry");
    }

    let token = sign_at(T0, &["--key", p(&current), "--ttl", "1h"]);
    assert_eq!(header_of(&token)["kid"], json!(kid1));
    let r = verify_at(T0, &verify_args, &token);
    assert_eq!(r.code, 0, "{r:?}");

    // Rotation 2: the new key comes first, the old one stays.
    let r = rotate_at(T0 + 100, &jwks, &keys, &POLICY).ok();
    let kid2 = r.stdout.trim().to_owned();
    assert_ne!(kid2, kid1);
    assert_eq!(kids_of(&jwks), [kid2.clone(), kid1.clone()]);
    assert_eq!(read_json(&current)["kid"], json!(kid2));
    assert_eq!(mode(&current), 0o600);
    assert_eq!(mode(&keys.join(format!("{kid2}.jwk"))), 0o600);
    let r = verify_at(T0 + 200, &verify_args, &token);
    assert_eq!(
        r.code, 0,
        "token of the retired key within retention: {r:?}"
    );
    assert_eq!(r.verdict()["kid"], json!(kid1));

    // Rotation 3, retention (2 h) passed since key 1 was retired: key 1 is gone.
    let r = rotate_at(T0 + 100 + 7300, &jwks, &keys, &POLICY).ok();
    let kid3 = r.stdout.trim().to_owned();
    assert_eq!(kids_of(&jwks), [kid3.clone(), kid2.clone()]);
    assert!(
        !key1_file.exists(),
        "private file of the dropped key is still there"
    );
    assert!(keys.join(format!("{kid2}.jwk")).exists());
    assert!(keys.join(format!("{kid3}.jwk")).exists());
    assert_eq!(read_json(&current)["kid"], json!(kid3));
    let r = verify_at(T0 + 200, &verify_args, &token);
    assert_refused(&r, 12, "no_matching_key", "key", &token);
}

#[test]
fn rotation_does_not_drop_a_key_before_retention() {
    let dir = TempDir::new("rotate-early");
    let jwks = dir.join("jwks.json");
    let keys = dir.join("keys");
    let kid1 = rotate_at(T0, &jwks, &keys, &POLICY)
        .ok()
        .stdout
        .trim()
        .to_owned();
    let kid2 = rotate_at(T0 + 100, &jwks, &keys, &POLICY)
        .ok()
        .stdout
        .trim()
        .to_owned();
    // Key 1 retired at T0+100; at T0+5000 that is 4900 s < 2 h.
    let kid3 = rotate_at(T0 + 5000, &jwks, &keys, &POLICY)
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert_eq!(kids_of(&jwks), [kid3.clone(), kid2.clone(), kid1.clone()]);
    assert!(keys.join(format!("{kid1}.jwk")).exists());
    // At T0+7400 key 1 (retired 7300 s ago) goes; key 2 (retired 2400 s ago) stays.
    let kid4 = rotate_at(T0 + 7400, &jwks, &keys, &POLICY)
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert_eq!(kids_of(&jwks), [kid4, kid3, kid2]);
    assert!(!keys.join(format!("{kid1}.jwk")).exists());
}

#[test]
fn rotation_refuses_retention_shorter_than_token_lifetime() {
    let dir = TempDir::new("rotate-bad");
    let jwks = dir.join("jwks.json");
    let keys = dir.join("keys");
    let r = rotate_at(
        T0,
        &jwks,
        &keys,
        &["--retention", "30m", "--max-token-lifetime", "1h"],
    );
    assert_usage_or_io_error(&r, "retention < max-token-lifetime");
    assert!(r.stdout.trim().is_empty(), "{r:?}");
    assert!(!jwks.exists(), "JWKS written despite the refusal");
    let key_files = fs::read_dir(&keys)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "jwk"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(key_files, 0, "key written despite the refusal");
    // Defaults (24 h retention, 1 h lifetime) are fine.
    let r = rotate_at(T0, &jwks, &keys, &[]).ok();
    assert_eq!(kids_of(&jwks), [r.stdout.trim().to_owned()]);
}

/// README "The issuer's side", step 1, on a fresh directory: `public/` does not exist yet.
#[test]
fn rotation_in_a_fresh_directory_creates_the_jwks_directory() {
    let dir = TempDir::new("rotate-fresh");
    let jwks = dir.join("public/jwks.json");
    let keys = dir.join("secrets");
    let r = rotate_at(
        T0,
        &jwks,
        &keys,
        &["--retention", "24h", "--max-token-lifetime", "1h"],
    )
    .ok();
    let kid = r.stdout.trim().to_owned();
    assert_eq!(kids_of(&jwks), [kid.as_str()]);
    assert_eq!(read_json(keys.join("current.jwk"))["kid"], json!(kid));
    assert_eq!(mode(&keys.join(format!("{kid}.jwk"))), 0o600);
    let files: Vec<String> = tree(&dir.0).into_keys().collect();
    let mut expected = vec![
        "public".to_owned(),
        "public/jwks.json".to_owned(),
        "secrets".to_owned(),
        format!("secrets/{kid}.jwk"),
        "secrets/current.jwk".to_owned(),
        "secrets/rotation.json".to_owned(),
    ];
    expected.sort();
    assert_eq!(files, expected, "no temporary files left");
}

/// A rotation that fails at any step leaves the key directory and the JWKS exactly as
/// they were: no orphan private key, no half-updated `current.jwk` or state.
#[test]
fn a_failed_rotation_changes_nothing() {
    // Fresh: the JWKS's parent is a regular file. Nothing is created, not even the key dir.
    let dir = TempDir::new("rotate-fail-fresh");
    dir.file("public", b"not a directory");
    let before = tree(&dir.0);
    let r = rotate_at(T0, &dir.join("public/jwks.json"), &dir.join("secrets"), &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.trim().is_empty(), "{r:?}");
    assert_eq!(tree(&dir.0), before, "files changed by a failed rotation");

    // After one good rotation, make each later step fail in turn: the JWKS write (its
    // temporary file's name is taken by a directory) and the state write (the same).
    for blocked in ["public/jwks.tmp-jwt-edge", "secrets/rotation.tmp-jwt-edge"] {
        let dir = TempDir::new("rotate-fail");
        let jwks = dir.join("public/jwks.json");
        let keys = dir.join("secrets");
        let kid1 = rotate_at(T0, &jwks, &keys, &POLICY)
            .ok()
            .stdout
            .trim()
            .to_owned();
        // The second rotation retires kid1; a third at T0 + 7400 (past the 2 h retention)
        // would also drop it and delete its private file.
        rotate_at(T0 + 100, &jwks, &keys, &POLICY).ok();
        fs::create_dir(dir.join(blocked)).expect("block a temporary file");
        let before = tree(&dir.0);
        let r = rotate_at(T0 + 7400, &jwks, &keys, &POLICY);
        assert_eq!(r.code, 1, "{blocked}: {r:?}");
        assert!(r.stdout.trim().is_empty(), "{blocked}: {r:?}");
        assert_eq!(
            tree(&dir.0),
            before,
            "{blocked}: files changed by a failed rotation: {}",
            r.stderr
        );
        assert!(keys.join(format!("{kid1}.jwk")).exists());
        // Unblocked, the same rotation goes through.
        fs::remove_dir(dir.join(blocked)).expect("unblock");
        let kid3 = rotate_at(T0 + 7400, &jwks, &keys, &POLICY)
            .ok()
            .stdout
            .trim()
            .to_owned();
        assert_eq!(kids_of(&jwks).first(), Some(&kid3));
        assert!(!keys.join(format!("{kid1}.jwk")).exists());
    }
}

// ------------------------------------------------------------------ serve

#[test]
fn serve_jwks_with_caching_headers_and_local_tokens() {
    let dir = TempDir::new("serve");
    let (key, jwks, public) = es256_setup(&dir);
    let kid = public["kid"].as_str().unwrap().to_owned();
    let server = serve(&[
        "--jwks",
        p(&jwks),
        "--key",
        p(&key),
        "--iss",
        ISS,
        "--max-age",
        "120",
    ]);

    let r = http_get(&server.addr, "/.well-known/jwks.json", &[]);
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json")));
    assert_eq!(r.header("cache-control"), Some("public, max-age=120"));
    let etag = r.header("etag").expect("ETag").to_owned();
    assert!(
        etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );
    let served: Value = serde_json::from_slice(&r.body).expect("JWKS JSON");
    assert_eq!(served["keys"][0]["kid"], json!(kid));
    let r = http_get(
        &server.addr,
        "/.well-known/jwks.json",
        &[("If-None-Match", &etag)],
    );
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());

    // The file is re-read per request: a rotation shows up with a new ETag.
    let (other_key, other) = keygen(&dir, "ES384", "other.jwk");
    let other_file = dir.file("other.pub.jwk", other.to_string().as_bytes());
    run(&["jwks", "add", "--jwks", p(&jwks), p(&other_file)]).ok();
    let r = http_get(
        &server.addr,
        "/.well-known/jwks.json",
        &[("If-None-Match", &etag)],
    );
    assert_eq!(r.status, 200, "stale JWKS after the file changed");
    assert_ne!(r.header("etag"), Some(etag.as_str()));
    let served: Value = serde_json::from_slice(&r.body).expect("JWKS JSON");
    assert_eq!(served["keys"].as_array().map(Vec::len), Some(2));

    // A token from the local issuer verifies through the served JWKS.
    let r = http_get(
        &server.addr,
        "/token?sub=alice&aud=api%3A%2F%2Fjwt-edge&ttl=60s&scope=read",
        &[],
    );
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .is_some_and(|v| v.starts_with("text/plain")));
    let token = String::from_utf8(r.body).unwrap().trim().to_owned();
    let claims = payload_of(&token);
    assert_eq!(claims["sub"], json!("alice"));
    assert_eq!(claims["iss"], json!(ISS));
    assert_eq!(claims["scope"], json!("read"));
    let url = format!("http://{}/.well-known/jwks.json", server.addr);
    let iat = claims["iat"].as_i64().expect("iat");
    let r = verify_at(
        iat + 1,
        &["--jwks", &url, "--iss", ISS, "--aud", AUD, "--sub", "alice"],
        &token,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.verdict()["kid"], json!(kid));
    assert_eq!(
        r.verdict()["key_source"],
        json!("issuer"),
        "fetched from the URL"
    );
    // Both kinds given: the kind of the key that verified.
    let other_set = write_jwks(&dir, "other.jwks.json", &[&other]);
    let both = ["--jwks", p(&other_set), "--jwks", &url];
    let r = verify_at(iat + 1, &both, &token);
    assert_eq!(r.verdict()["key_source"], json!("issuer"), "{r:?}");
    let local_token = sign_at(iat, &["--key", p(&other_key), "--iss", ISS]);
    let r = verify_at(iat + 1, &both, &local_token);
    assert_eq!(r.verdict()["key_source"], json!("local"), "{r:?}");
    // `localhost` is loopback too.
    let url = url.replace("127.0.0.1", "localhost");
    let r = verify_at(iat + 1, &["--jwks", &url], &token);
    assert_eq!(r.code, 0, "{r:?}");

    let r = http_get(&server.addr, "/nope", &[]);
    assert_eq!(r.status, 404);
}

#[test]
fn serve_without_key_has_no_token_endpoint_and_refuses_public_addresses() {
    let dir = TempDir::new("serve-nokey");
    let (_, jwks, _) = es256_setup(&dir);
    {
        let server = serve(&["--jwks", p(&jwks)]);
        assert_eq!(http_get(&server.addr, "/token?sub=a", &[]).status, 404);
        assert_eq!(
            http_get(&server.addr, "/.well-known/jwks.json", &[]).status,
            200
        );
    }
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let r = run_full(
            &["serve", "--jwks", p(&jwks), "--addr", addr],
            None,
            Duration::from_secs(20),
        );
        assert!(r.code != 0, "serve bound {addr}: {r:?}");
        assert!(!r.stderr.trim().is_empty(), "{r:?}");
        assert!(!r.stderr.contains("listening on"), "{r:?}");
    }
}

#[test]
fn verify_refuses_plain_http_to_other_hosts() {
    let dir = TempDir::new("http-url");
    let (key, _, _) = es256_setup(&dir);
    let token = sign_at(T0, &["--key", p(&key)]);
    for url in [
        "http://192.0.2.1/jwks.json",
        "http://example.com/jwks.json",
        "ftp://127.0.0.1/x",
    ] {
        let now = now_arg(T0);
        let r = run_full(
            &["--now", &now, "verify", "--jwks", url, &token],
            None,
            Duration::from_secs(20),
        );
        assert!(r.code != 0, "{url} accepted: {r:?}");
        assert!(!r.stdout.contains("\"valid\":true"), "{r:?}");
    }
}

/// Issue 14 finding 9: a JWKS URL is parsed, not prefix-matched. With userinfo,
/// `http://127.0.0.1:1@localhost:PORT/…` starts like a loopback URL, but its host is
/// whatever follows the `@` (here a real server, so only the check can refuse it).
/// And a redirect from the JWKS URL is not followed.
#[test]
fn verify_refuses_userinfo_and_redirects_in_a_jwks_url() {
    let dir = TempDir::new("userinfo-url");
    let (key, jwks, _) = es256_setup(&dir);
    let token = sign_at(T0, &["--key", p(&key)]);
    let server = serve(&["--jwks", p(&jwks)]);
    let port = server.addr.rsplit(':').next().unwrap().to_owned();
    let direct = format!("http://localhost:{port}/.well-known/jwks.json");
    assert_eq!(verify_at(T0, &["--jwks", &direct], &token).code, 0);
    for url in [
        format!("http://127.0.0.1:1@localhost:{port}/.well-known/jwks.json"),
        format!("http://localhost@localhost:{port}/.well-known/jwks.json"),
    ] {
        let r = verify_at(T0, &["--jwks", &url], &token);
        assert!(r.code != 0, "{url} accepted: {r:?}");
        assert!(!r.stdout.contains("\"valid\":true"), "{r:?}");
        assert!(r.stderr.contains("userinfo"), "{r:?}");
    }

    // A loopback server that answers 302 to the real JWKS: not followed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let redirect = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let location = direct.clone();
    let asked = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let answer = format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(answer.as_bytes()).unwrap();
    });
    let r = run_full(
        &["--now", &now_arg(T0), "verify", "--jwks", &redirect, &token],
        None,
        Duration::from_secs(20),
    );
    asked.join().unwrap();
    assert!(r.code != 0, "redirect followed: {r:?}");
    assert!(!r.stdout.contains("\"valid\":true"), "{r:?}");
}

// ------------------------------------------------------------------ bad input

#[test]
fn bad_inputs_are_clear_errors_not_panics() {
    let dir = TempDir::new("bad");
    let (key, jwks, _) = es256_setup(&dir);
    let (key, jwks) = (p(&key).to_owned(), p(&jwks).to_owned());
    let token = sign_at(T0, &["--key", &key]);
    let missing = dir.join("does-not-exist.json");
    let missing = p(&missing).to_owned();
    let not_json = dir.file("not-json.jwk", b"this is not JSON {");
    let not_json = p(&not_json).to_owned();
    let not_a_key = dir.file("not-a-key.jwk", br#"{"kty":"XYZ","d":"AAAA"}"#);
    let not_a_key = p(&not_a_key).to_owned();
    let binary = dir.file("binary.jwk", &[0xff, 0xfe, 0x00, 0x80, 0x81]);
    let binary = p(&binary).to_owned();
    let missing_secret = format!("@{missing}");
    let fresh = dir.join("fresh.jwk");
    let fresh = p(&fresh).to_owned();

    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "verify, missing JWKS file",
            vec!["verify", "--jwks", &missing, &token],
        ),
        ("sign, missing key file", vec!["sign", "--key", &missing]),
        (
            "sign, missing secret file",
            vec!["sign", "--secret", &missing_secret],
        ),
        ("sign, non-JSON key", vec!["sign", "--key", &not_json]),
        ("sign, binary key", vec!["sign", "--key", &binary]),
        ("sign, unknown key type", vec!["sign", "--key", &not_a_key]),
        (
            "jwks add, non-JSON key",
            vec!["jwks", "add", "--jwks", &jwks, &not_json],
        ),
        (
            "jwks add, missing key",
            vec!["jwks", "add", "--jwks", &jwks, &missing],
        ),
        (
            "jwks list, missing file",
            vec!["jwks", "list", "--jwks", &missing],
        ),
        ("import-pem, missing file", vec!["import-pem", &missing]),
        ("import-pem, not PEM", vec!["import-pem", &not_json]),
        (
            "sign, bad --ttl",
            vec!["sign", "--key", &key, "--ttl", "5x"],
        ),
        (
            "sign, negative --ttl",
            vec!["sign", "--key", &key, "--ttl", "-5s"],
        ),
        (
            "sign, empty --ttl",
            vec!["sign", "--key", &key, "--ttl", ""],
        ),
        (
            "sign, unknown --alg",
            vec!["sign", "--key", &key, "--alg", "XX256"],
        ),
        ("sign, no key", vec!["sign"]),
        (
            "verify, unknown --alg",
            vec!["verify", "--jwks", &jwks, "--alg", "XX256", &token],
        ),
        (
            "verify, --alg none",
            vec!["verify", "--jwks", &jwks, "--alg", "none", &token],
        ),
        (
            "verify, bad --skew",
            vec!["verify", "--jwks", &jwks, "--skew", "soon", &token],
        ),
        (
            "keygen, unknown --alg",
            vec!["keygen", "--alg", "XX256", "--out", &fresh],
        ),
        ("unknown command", vec!["frobnicate"]),
        (
            "bad --now",
            vec!["--now", "yesterday", "sign", "--key", &key],
        ),
    ];
    for (what, args) in &cases {
        let r = run(args);
        assert!(r.code != 0, "{what}: succeeded: {r:?}");
        assert!(
            r.code == 1 || r.code == 2 || (args[0] == "verify" && r.code == 17),
            "{what}: exit {} is neither 1 nor 2: {r:?}",
            r.code
        );
        if r.code == 17 {
            // The core refused the options (config_invalid naming the flag): a verdict
            // on stdout, like every refusal of `verify`.
            assert_eq!(
                r.verdict()["code"],
                json!("config_invalid"),
                "{what}: {r:?}"
            );
        } else {
            assert!(
                !r.stderr.trim().is_empty(),
                "{what}: no message on stderr: {r:?}"
            );
        }
        assert!(
            !r.stdout.contains("\"valid\":true") && !r.stdout.contains("eyJ"),
            "{what}: printed a result: {r:?}"
        );
    }
    // Messages say what was wrong.
    let r = run(&["verify", "--jwks", &missing, &token]);
    assert!(
        r.stderr.contains("does-not-exist.json"),
        "missing file not named: {r:?}"
    );
    let r = run(&["sign", "--key", &key, "--ttl", "5x"]);
    assert!(r.stderr.contains("5x") || r.stderr.contains("ttl"), "{r:?}");
    let r = run(&["sign", "--key", &key, "--alg", "XX256"]);
    assert!(
        r.stderr.contains("XX256") || r.stderr.to_lowercase().contains("alg"),
        "{r:?}"
    );
    let r = run(&["sign", "--key", &not_json]);
    assert!(
        r.stderr.contains("not-json.jwk") || r.stderr.to_lowercase().contains("json"),
        "{r:?}"
    );
    // No key material in an error message.
    let private = read_json(Path::new(&key));
    let d = private["d"].as_str().unwrap();
    let r = run(&["jwks", "add", "--jwks", &not_json, &key]);
    assert!(
        !r.stderr.contains(d) && !r.stdout.contains(d),
        "private key echoed: {r:?}"
    );
}

/// Issue 14: shared secrets with the issuer's own `kid`, over tokens minted by jose and
/// PyJWT (tests/fixtures/hmac-kid): an unnamed `--secret` verifies whatever the `kid`
/// says; `--secret-kid` names it; a JWKS file's `oct` keys are used by exact `kid`.
#[test]
fn verify_shared_secrets_with_the_issuers_own_kid() {
    let fixture: Value = serde_json::from_str(
        &fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/hmac-kid/tokens.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let now = fixture["now"].as_i64().unwrap();
    let token = |name: &str| -> String {
        fixture["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let secret = |name: &str| fixture["secrets"][name].as_str().unwrap().to_owned();
    let unnamed = format!("--secret={}", secret("unnamed"));
    for name in [
        "jose_hs256_kid_hs256",
        "jose_hs512_kid_issuer",
        "jose_hs256_no_kid",
        "pyjwt_hs256_kid_hs256",
        "pyjwt_hs512_no_kid",
    ] {
        let r = verify_at(now, &[&unnamed, "--aud", "api"], &token(name));
        assert_eq!(r.code, 0, "{name}: {r:?}");
    }
    // Named: exact kid only, no other secret behind it.
    let client7 = format!("--secret={}", secret("client7"));
    let named = [client7.as_str(), "--secret-kid", "client-7"];
    let r = verify_at(now, &named, &token("pyjwt_hs256_client7"));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.verdict()["kid"], json!("client-7"));
    for (name, exit, code, family) in [
        (
            "jose_hs256_client7_wrong_secret",
            13,
            "signature_invalid",
            "signature",
        ),
        (
            "pyjwt_hs256_client7_wrong_secret",
            13,
            "signature_invalid",
            "signature",
        ),
        ("jose_hs256_unknown_kid", 12, "no_matching_key", "key"),
        ("jose_hs256_kid_hs256", 12, "no_matching_key", "key"),
    ] {
        let t = token(name);
        assert_refused(&verify_at(now, &named, &t), exit, code, family, &t);
    }
    // Several named secrets: a JWKS file of oct keys (with an RSA key named rsa-1).
    let dir = TempDir::new("hmac-kid");
    let oct7 = json!({"kty": "oct", "kid": "client-7", "k": secret("client7")});
    let oct9 = json!({"kty": "oct", "kid": "client-9", "k": secret("client9")});
    let clients = write_jwks(&dir, "clients.json", &[&oct7, &oct9, &fixture["rsa_jwk"]]);
    let jwks = ["--jwks", p(&clients)];
    for name in [
        "jose_hs256_client7",
        "jose_hs256_client9",
        "pyjwt_hs256_client7",
    ] {
        let r = verify_at(now, &jwks, &token(name));
        assert_eq!(r.code, 0, "{name}: {r:?}");
    }
    for (name, exit, code, family) in [
        (
            "jose_hs256_client7_wrong_secret",
            13,
            "signature_invalid",
            "signature",
        ),
        (
            "jose_hs256_client7_as_client9",
            13,
            "signature_invalid",
            "signature",
        ),
        ("jose_hs256_unknown_kid", 12, "no_matching_key", "key"),
        ("jose_hs256_kid_rsa", 12, "key_mismatch", "key"),
    ] {
        let t = token(name);
        assert_refused(&verify_at(now, &jwks, &t), exit, code, family, &t);
    }
    // A JWKS file plus an unnamed secret: the file's keys first, the secret for the rest.
    let both = ["--jwks", p(&clients), unnamed.as_str()];
    assert_eq!(
        verify_at(now, &both, &token("jose_hs256_kid_hs256")).code,
        0
    );
    let t = token("jose_hs256_unnamed_as_client7");
    assert_refused(
        &verify_at(now, &both, &t),
        13,
        "signature_invalid",
        "signature",
        &t,
    );
    // `sign` with the issuer's own kid agrees with every way `verify` takes the secret.
    let k = secret("client7");
    let with_secret = format!("--secret={k}");
    let signed = sign_at(now, &[&with_secret, "--kid", "client-7", "--aud", "api"]);
    assert_eq!(header_of(&signed)["kid"], json!("client-7"));
    for args in [
        vec![with_secret.as_str()],
        vec![with_secret.as_str(), "--secret-kid", "client-7"],
        vec!["--jwks", p(&clients)],
    ] {
        assert_eq!(verify_at(now, &args, &signed).code, 0, "{args:?}");
    }
    let own = json!({"kty": "oct", "kid": "hs256", "alg": "HS256", "k": k});
    let own = dir.file("own.jwk", own.to_string().as_bytes());
    let signed = sign_at(now, &["--key", p(&own)]);
    assert_eq!(header_of(&signed)["kid"], json!("hs256"));
    assert_eq!(verify_at(now, &[&with_secret], &signed).code, 0);
    // --secret-kid needs --secret.
    let r = verify_at(
        now,
        &["--secret-kid", "client-7", "--jwks", p(&clients)],
        &t,
    );
    assert_eq!(r.code, 2, "{r:?}");
}

/// Item 12: a placeholder secret is refused by `sign` and `verify`, never used as a key.
#[test]
fn placeholder_secrets_are_refused() {
    let bytes = unb64("replace-with-a-base64url-key-of-32-bytes-or-more");
    assert!(
        bytes.len() >= 32,
        "the old placeholder decodes to a usable length"
    );
    let dir = TempDir::new("raw-key");
    // A binary key file is still its raw bytes.
    let raw = dir.file(
        "raw.key",
        &[0x9c, 0x01, 0xff, 0x80, 0x7f, 0x00, 0xfe, 0x10].repeat(4),
    );
    let r = run(&[
        "--now",
        "1700000000",
        "sign",
        &format!("--secret=@{}", p(&raw)),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let dir = TempDir::new("placeholder");
    for placeholder in [
        "replace-with-a-base64url-key-of-32-bytes-or-more",
        "<paste a base64url key of 32 random bytes or more here>",
    ] {
        let file = dir.file("placeholder.b64", format!("{placeholder}\n").as_bytes());
        for arg in [
            format!("--secret={placeholder}"),
            format!("--secret=@{}", p(&file)),
        ] {
            let r = run(&["--now", "1700000000", "sign", &arg, "--alg", "HS256"]);
            assert_eq!(r.code, 1, "sign {arg}: {r:?}");
            assert!(r.stderr.contains("--secret"), "{r:?}");
            assert!(!r.stderr.contains(placeholder), "echoes the value: {r:?}");
            let r = verify_at(T0, &[&arg], "a.b.c");
            assert_eq!(r.code, 1, "verify {arg}: {r:?}");
        }
    }
}

// ------------------------------------------------------------------ the one verdict

/// `verify` prints exactly the golden verdict lines of `tests/fixtures/verdict.json`
/// (written by `tests/verdict.rs` from the core's `Verdict`).
#[test]
fn verify_prints_the_golden_verdict_lines() {
    let golden: Value = serde_json::from_str(
        &fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/verdict.json"
        ))
        .expect("tests/fixtures/verdict.json"),
    )
    .expect("JSON");
    let field = |name: &str| golden[name].as_str().expect(name).to_owned();
    let time = |name: &str| golden[name].as_i64().expect(name);
    let (secret, kid, token) = (field("secret"), field("kid"), field("token"));
    let args = ["--secret", secret.as_str(), "--secret-kid", kid.as_str()];
    let r = verify_at(time("now"), &args, &token);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("{}\n", field("accepted")));
    let r = verify_at(time("later"), &args, &token);
    assert_eq!(r.code, 14, "claims family: {r:?}");
    assert_eq!(r.stdout, format!("{}\n", field("refused")));
}
