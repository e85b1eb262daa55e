//! `keygen`, `sign` and `verify`.

use std::path::PathBuf;

use clap::Args;
use jwt_edge::{
    Algorithm, Field, FrontEnd, Jwk, JwkSet, JwksOptions, KeyKind, KeyKinds, KeySource,
    PolicyOptions, SigningKey, Verdict, Verifier,
};
use serde_json::{json, Map, Value};

use crate::files::{
    json_line, load_signing_key, parse_duration, read_input, read_secret, write_private,
};
use crate::{refused, CliResult, Failure};

#[derive(Args)]
pub struct KeygenArgs {
    /// Algorithm the key is for (HS256 … EdDSA).
    #[arg(long, value_parser = parse_alg)]
    alg: Algorithm,
    /// Key ID. Default: the RFC 7638 thumbprint.
    #[arg(long, allow_hyphen_values = true)]
    kid: Option<String>,
    /// RSA modulus size.
    #[arg(long, default_value_t = 2048, value_parser = parse_bits)]
    bits: usize,
    /// Where to write the private JWK (mode 0600; never overwritten).
    #[arg(long)]
    out: PathBuf,
    /// Also write the public JWK here.
    #[arg(long)]
    public_out: Option<PathBuf>,
}

pub fn parse_alg(name: &str) -> Result<Algorithm, String> {
    name.parse().map_err(|_| {
        let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
        format!("unknown algorithm `{name}`; one of {}", names.join(", "))
    })
}

pub fn parse_bits(text: &str) -> Result<usize, String> {
    match text {
        "2048" | "3072" | "4096" => text.parse().map_err(|_| String::new()),
        _ => Err(format!("`{text}`: RSA keys are 2048, 3072 or 4096 bits")),
    }
}

fn parse_seconds(text: &str) -> Result<u64, String> {
    parse_duration(text)
}

pub fn keygen(args: KeygenArgs) -> CliResult {
    let key = SigningKey::generate(args.alg, args.bits, args.kid, &mut rsa::rand_core::OsRng)?;
    write_private(
        &args.out,
        &json_line(&Value::Object(key.private_jwk())),
        false,
    )?;
    if args.alg.is_symmetric() {
        eprintln!(
            "wrote the secret to {} (mode 0600); an HMAC key has no public part",
            args.out.display()
        );
        return Ok(());
    }
    let public = json_line(&Value::Object(key.public_jwk()?));
    if let Some(path) = &args.public_out {
        std::fs::write(path, &public)
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
    }
    print!("{public}");
    Ok(())
}

#[derive(Args)]
pub struct SignArgs {
    /// Private JWK to sign with.
    #[arg(long, conflicts_with = "secret", required_unless_present = "secret")]
    key: Option<String>,
    /// HMAC secret: base64url, or @FILE holding base64url text (else its raw bytes;
    /// other printable text is refused as a placeholder).
    #[arg(long, allow_hyphen_values = true)]
    secret: Option<String>,
    /// Algorithm; default: the key's own.
    #[arg(long, value_parser = parse_alg)]
    alg: Option<Algorithm>,
    /// Key ID for the header (default: the key's).
    #[arg(long, allow_hyphen_values = true)]
    kid: Option<String>,
    /// `iss`.
    #[arg(long)]
    iss: Option<String>,
    /// `aud`; repeat for several.
    #[arg(long)]
    aud: Vec<String>,
    /// `sub`.
    #[arg(long, allow_hyphen_values = true)]
    sub: Option<String>,
    /// Lifetime: `exp` = now + ttl.
    #[arg(long, default_value = "60s", value_parser = parse_seconds)]
    ttl: u64,
    /// `jti`: auto (random 128 bits), none, or a value.
    #[arg(long, default_value = "auto")]
    jti: String,
    /// Extra claim `name=value` (value parsed as JSON when it parses); repeatable.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    claims: Vec<String>,
}

pub fn sign(args: SignArgs, now: i64) -> CliResult {
    let mut key = match (&args.key, &args.secret) {
        (Some(path), _) => load_signing_key(path)?,
        (None, Some(secret)) => {
            let bytes = read_secret(secret)?;
            let alg = args.alg.unwrap_or(Algorithm::Hs256);
            if !alg.is_symmetric() {
                return Err(Failure::new("--secret signs HS256, HS384 or HS512 only"));
            }
            let jwk = json!({"kty": "oct", "k": base64url(&bytes), "alg": alg.name()});
            SigningKey::from_jwk(jwk.as_object().unwrap_or(&Map::new())).map_err(|why| {
                Failure::new(format!(
                    "--secret refused: {why} (at least {} bytes)",
                    alg.min_secret_len()
                ))
            })?
        }
        (None, None) => return Err(Failure::new("give --key or --secret")),
    };
    if let Some(kid) = args.kid {
        key.kid = Some(kid);
    }
    let mut claims = Map::new();
    for pair in &args.claims {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Failure::new(format!("--claim `{pair}` is not NAME=VALUE")))?;
        if matches!(name, "iat" | "exp" | "jti") {
            return Err(Failure::new(format!(
                "--claim cannot set `{name}`; use --ttl or --jti"
            )));
        }
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        claims.insert(name.to_owned(), value);
    }
    if let Some(iss) = args.iss {
        claims.insert("iss".into(), json!(iss));
    }
    match args.aud.as_slice() {
        [] => {}
        [one] => {
            claims.insert("aud".into(), json!(one));
        }
        _ => {
            claims.insert("aud".into(), json!(args.aud));
        }
    }
    if let Some(sub) = args.sub {
        claims.insert("sub".into(), json!(sub));
    }
    let ttl = i64::try_from(args.ttl).map_err(|_| Failure::new("--ttl too long"))?;
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now.saturating_add(ttl)));
    match args.jti.as_str() {
        "none" => {}
        "auto" => {
            let mut bytes = [0u8; 16];
            getrandom::getrandom(&mut bytes)
                .map_err(|e| Failure::new(format!("no randomness: {e}")))?;
            claims.insert("jti".into(), json!(base64url(&bytes)));
        }
        value => {
            claims.insert("jti".into(), json!(value));
        }
    }
    println!("{}", key.sign(args.alg, &Map::new(), &claims)?);
    Ok(())
}

fn base64url(bytes: &[u8]) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(bytes)
}

#[derive(Args)]
pub struct VerifyArgs {
    /// JWKS file or URL (https, or http to 127.0.0.1, [::1] or localhost; no userinfo;
    /// redirects not followed); repeatable. A file's `oct` keys (shared secrets) are
    /// used, by exact `kid`; a URL's never are.
    #[arg(long)]
    jwks: Vec<String>,
    /// HMAC secret: base64url, or @FILE holding base64url text (else its raw bytes;
    /// other printable text is refused as a placeholder).
    /// Unnamed, it verifies tokens whatever their `kid` says.
    #[arg(long, allow_hyphen_values = true)]
    secret: Option<String>,
    /// Names the --secret: then only tokens whose `kid` is exactly KID (or that have
    /// no `kid`) use it.
    #[arg(
        long,
        value_name = "KID",
        requires = "secret",
        allow_hyphen_values = true
    )]
    secret_kid: Option<String>,
    /// Allowed issuer; repeatable. Makes `iss` required.
    #[arg(long)]
    iss: Vec<String>,
    /// Allowed audience; repeatable. Makes `aud` required.
    #[arg(long)]
    aud: Vec<String>,
    /// Required subject.
    #[arg(long)]
    sub: Option<String>,
    /// Required header `typ` (RFC 8725 §3.11).
    #[arg(long)]
    typ: Option<String>,
    /// Allowed algorithm; repeatable. Default: every asymmetric one, plus HS* with a
    /// shared secret (--secret, or an `oct` key in a --jwks file).
    /// An unknown name is refused as the other front ends refuse it (`config_invalid`).
    #[arg(long, value_name = "ALG")]
    alg: Vec<String>,
    /// Longest accepted lifetime. Default: none (the library profile).
    #[arg(long, value_parser = parse_seconds)]
    max_lifetime: Option<u64>,
    /// Clock skew, at most 1d. Default 60s.
    #[arg(long, value_parser = parse_seconds)]
    skew: Option<u64>,
    /// A claim that must be present; repeatable.
    #[arg(long, value_name = "CLAIM")]
    require_claim: Vec<String>,
    /// Whether `exp` is required. Default true.
    #[arg(long, value_name = "BOOL")]
    require_exp: Option<bool>,
    /// Require a `jti` claim.
    #[arg(long)]
    require_jti: bool,
    /// Largest token accepted, in bytes (1 to 65536). Default 16384.
    #[arg(long, value_name = "BYTES")]
    max_token_bytes: Option<usize>,
    /// Find the keys through ISSUER's metadata: OpenID Connect Discovery 1.0 §4, then
    /// RFC 8414 §3 on a 404; redirects not followed. The document's `issuer` must be
    /// exactly ISSUER, and so must the token's `iss` (--iss may only repeat it).
    #[arg(
        long,
        value_name = "ISSUER",
        conflicts_with_all = ["jwks", "secret", "secret_kid"]
    )]
    issuer_discovery: Option<String>,
    /// Let the discovery document name a plain-http `jwks_uri` on 127.0.0.1, [::1] or
    /// localhost (a local issuer in development).
    // Conflicts too: clap does not report a required argument missing when it
    // conflicts with one given.
    #[arg(
        long,
        requires = "issuer_discovery",
        conflicts_with_all = ["jwks", "secret", "secret_kid"]
    )]
    dev_allow_http_loopback: bool,
    /// The token, or - for stdin.
    token: String,
}

pub fn verify(mut args: VerifyArgs, now: i64) -> CliResult {
    // Discovery only says where the key set is; from there on it is `--jwks URL` with
    // `--iss ISSUER`.
    if let Some(issuer) = &args.issuer_discovery {
        let uri = crate::discovery::jwks_uri(issuer, &args.iss, args.dev_allow_http_loopback)?;
        args.jwks = vec![uri];
        args.iss = vec![issuer.clone()];
    }
    let mut keys = JwkSet::new();
    // The same keys without those fetched from a URL: which kind verified decides the
    // verdict's `key_source` ("local" or "issuer"), asked only when both kinds are given.
    let mut local_keys = JwkSet::new();
    let mut fetched = 0usize;
    for source in &args.jwks {
        let remote = source.starts_with("https://") || source.starts_with("http://");
        let document = if remote {
            crate::fetch::fetch_jwks(source)?
        } else {
            read_input(source)?
        };
        // A key set in a local file is the user's own configuration, shared secrets
        // included; one fetched from an issuer is public, so an `oct` key there is not.
        let options = JwksOptions {
            allow_oct: !remote,
            ..JwksOptions::default()
        };
        let set = match JwkSet::parse(&document, &options) {
            Ok(set) => set,
            Err(err) => {
                eprintln!("jwt-edge: {source}: {err}");
                return Err(refused(&err));
            }
        };
        for skipped in set.skipped() {
            eprintln!(
                "jwt-edge: skipped key #{} of {source}: {}",
                skipped.index, skipped.reason
            );
        }
        if remote {
            fetched = fetched.saturating_add(set.keys().len());
        } else if let Ok(again) = JwkSet::parse(&document, &options) {
            for key in again.into_keys() {
                local_keys.push(key);
            }
        }
        for key in set.into_keys() {
            keys.push(key);
        }
    }
    let has_key_set = !args.jwks.is_empty();
    if let Some(secret) = &args.secret {
        let bytes = read_secret(secret)?;
        let secret_key = |bytes: Vec<u8>| {
            match args.secret_kid.clone() {
                Some(kid) => Jwk::named_hmac_secret(kid, bytes),
                None => Jwk::unnamed_hmac_secret(bytes),
            }
            .map_err(|why| Failure::new(format!("--secret refused: {why}")))
        };
        if fetched > 0 {
            local_keys.push(secret_key(bytes.clone())?);
        }
        keys.push(secret_key(bytes)?);
    }
    // The flags map onto the core's one policy (its name table's CLI column); every
    // default and every check of a bad value is the core's.
    let given = |list: Vec<String>| (!list.is_empty()).then_some(list);
    let policy = PolicyOptions {
        algorithms: match Algorithm::parse_all(&args.alg) {
            Ok(list) => (!list.is_empty()).then_some(list),
            Err(_) => return Err(refused(&Field::Algorithms.invalid(FrontEnd::Cli))),
        },
        issuers: given(args.iss),
        audiences: given(args.aud),
        subject: args.sub,
        typ: args.typ,
        required_claims: given(args.require_claim),
        clock_skew: args.skew,
        max_lifetime: args.max_lifetime.map(Some),
        require_exp: args.require_exp,
        require_jti: args.require_jti.then_some(true),
        max_token_bytes: args.max_token_bytes,
        token_cache_entries: None,
    };
    let kinds = KeyKinds {
        public_keys: has_key_set,
        shared_secret: keys.keys().iter().any(|k| k.kind() == KeyKind::Oct),
    };
    let options = match policy.resolve(FrontEnd::Cli, FrontEnd::Cli.profile(), kinds) {
        Ok(options) => options,
        Err(err) => return Err(refused(&err)),
    };
    let all_fetched = fetched == keys.keys().len();
    let local_only = (fetched > 0 && !all_fetched)
        .then(|| Verifier::new(local_keys, options.clone()).ok())
        .flatten();
    let verifier = Verifier::new(keys, options)?;
    let token = if args.token == "-" {
        String::from_utf8(read_input("-")?).map_err(|_| Failure::new("stdin is not UTF-8"))?
    } else {
        args.token
    };
    let token = token.trim();
    match verifier.verify(token, now) {
        Ok(verified) => {
            let source = match &local_only {
                _ if all_fetched => KeySource::Issuer,
                Some(local) if local.verify(token, now).is_err() => KeySource::Issuer,
                _ => KeySource::Local,
            };
            println!("{}", Verdict::accepted(&verified, source));
            Ok(())
        }
        Err(err) => Err(refused(&err)),
    }
}
