//! `jwks list|add|remove|rotate`: a JWKS file managed so that it never carries private
//! members or duplicate `kid`s, with rotation that keeps retired public keys for a
//! retention period.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use jwt_edge::{Algorithm, JwkSet, JwksOptions, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::files::{json_line, parse_duration, read_object, write_atomic, Changes};
use crate::token_cmd::parse_alg;
use crate::{CliResult, Failure};

#[derive(Subcommand)]
pub enum JwksCommand {
    /// List the keys: kid, key type, alg, use.
    #[command(after_help = "Example:\n  jwt-edge jwks list --jwks jwks.json")]
    List {
        /// The JWKS file.
        #[arg(long)]
        jwks: PathBuf,
    },
    /// Add the public part of a JWK (public or private) to the set.
    #[command(after_help = "Example:\n  jwt-edge jwks add --jwks jwks.json es256.jwk")]
    Add {
        /// The JWKS file (created when missing).
        #[arg(long)]
        jwks: PathBuf,
        /// The JWK file to add.
        key: String,
    },
    /// Remove the key with this kid.
    #[command(after_help = "Example:\n  jwt-edge jwks remove --jwks jwks.json 2026-10")]
    Remove {
        /// The JWKS file.
        #[arg(long)]
        jwks: PathBuf,
        /// The kid to remove.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Add a new signing key; retire the current one; drop keys retired longer than the retention.
    #[command(
        after_help = "Example (run it on a schedule, e.g. weekly):\n  jwt-edge jwks rotate --jwks public/jwks.json --keys-dir secrets --alg ES256 --retention 24h --max-token-lifetime 1h\n  # then sign with secrets/current.jwk and publish public/jwks.json"
    )]
    Rotate(RotateArgs),
}

#[derive(Args)]
pub struct RotateArgs {
    /// The public JWKS file (created when missing).
    #[arg(long)]
    jwks: PathBuf,
    /// Directory for private keys (mode 0600 files) and rotation.json.
    #[arg(long)]
    keys_dir: PathBuf,
    /// Algorithm of the new key.
    #[arg(long, value_parser = parse_alg)]
    alg: Algorithm,
    /// RSA modulus size for RS*/PS*.
    #[arg(long, default_value_t = 2048, value_parser = crate::token_cmd::parse_bits)]
    bits: usize,
    /// How long a retired public key stays published. Must be ≥ --max-token-lifetime.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    retention: u64,
    /// The longest lifetime of tokens signed with these keys.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    max_token_lifetime: u64,
}

/// `rotation.json`: which key signs now, and when the others were retired.
#[derive(Default, Serialize, Deserialize)]
struct RotationState {
    current: Option<String>,
    /// kid → Unix time it stopped signing.
    retired: BTreeMap<String, i64>,
}

pub fn run(command: JwksCommand, now: i64) -> CliResult {
    match command {
        JwksCommand::List { jwks } => {
            for key in load(&jwks, false)? {
                let get = |name: &str| {
                    key.get(name)
                        .and_then(Value::as_str)
                        .unwrap_or("-")
                        .to_owned()
                };
                let kind = match key.get("crv").and_then(Value::as_str) {
                    Some(crv) => format!("{}/{crv}", get("kty")),
                    None => get("kty"),
                };
                println!("{}\t{kind}\t{}\t{}", get("kid"), get("alg"), get("use"));
            }
            Ok(())
        }
        JwksCommand::Add { jwks, key } => {
            let public = public_part(&read_object(&key)?, &key)?;
            let mut keys = load(&jwks, true)?;
            keys.push(public);
            store(&jwks, &keys)
        }
        JwksCommand::Remove { jwks, kid } => {
            let mut keys = load(&jwks, false)?;
            let before = keys.len();
            keys.retain(|k| k.get("kid").and_then(Value::as_str) != Some(kid.as_str()));
            if keys.len() == before {
                return Err(Failure::new(format!(
                    "no key with kid `{kid}` in {}",
                    jwks.display()
                )));
            }
            store(&jwks, &keys)
        }
        JwksCommand::Rotate(args) => rotate(args, now),
    }
}

/// The public JWK of a public or private JWK file.
fn public_part(jwk: &Map<String, Value>, origin: &str) -> CliResult<Map<String, Value>> {
    let private = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
        .iter()
        .any(|m| jwk.contains_key(*m));
    if !private {
        return Ok(jwk.clone());
    }
    let key = SigningKey::from_jwk(jwk)
        .map_err(|why| Failure::new(format!("{origin}: not a usable JWK: {why}")))?;
    key.public_jwk().map_err(|_| {
        Failure::new(format!(
            "{origin}: a symmetric key has no public part and never goes in a JWKS"
        ))
    })
}

fn load(path: &Path, missing_ok: bool) -> CliResult<Vec<Map<String, Value>>> {
    if missing_ok && !path.exists() {
        return Ok(Vec::new());
    }
    let doc = read_object(&path.display().to_string())?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| Failure::new(format!("{} has no `keys` array", path.display())))?;
    keys.iter()
        .map(|k| {
            k.as_object()
                .cloned()
                .ok_or_else(|| Failure::new(format!("{}: a key is not an object", path.display())))
        })
        .collect()
}

/// Writes the set after the same checks a verifier makes, plus: no duplicate kids, no
/// private members, every key usable.
fn store(path: &Path, keys: &[Map<String, Value>]) -> CliResult {
    write_atomic(path, &render(path, keys)?)
}

/// The text of a set that passes [`store`]'s checks.
fn render(path: &Path, keys: &[Map<String, Value>]) -> CliResult<String> {
    let mut seen = std::collections::BTreeSet::new();
    for key in keys {
        let kid = key
            .get("kid")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::new("every key in a managed JWKS needs a kid"))?;
        if !seen.insert(kid.to_owned()) {
            return Err(Failure::new(format!(
                "refusing to write {}: duplicate kid `{kid}`",
                path.display()
            )));
        }
    }
    let text = serde_json::to_string_pretty(&json!({ "keys": keys }))
        .map_err(|e| Failure::new(e.to_string()))?;
    let set = JwkSet::parse(text.as_bytes(), &JwksOptions::default())
        .map_err(|e| Failure::new(format!("refusing to write {}: {e}", path.display())))?;
    if let Some(skipped) = set.skipped().first() {
        return Err(Failure::new(format!(
            "refusing to write {}: key #{} is not usable ({})",
            path.display(),
            skipped.index,
            skipped.reason
        )));
    }
    Ok(text + "\n")
}

/// A rotation: everything is read and checked first, then the files change together
/// ([`Changes`]): a failure at any step (an unwritable JWKS directory, a full disk)
/// leaves the key directory and the JWKS as they were. Retired private keys are
/// deleted only after everything else is written.
fn rotate(args: RotateArgs, now: i64) -> CliResult {
    if args.retention < args.max_token_lifetime {
        return Err(Failure::new(
            "--retention must be at least --max-token-lifetime, or tokens signed just before a rotation would stop verifying",
        ));
    }
    let state_path = args.keys_dir.join("rotation.json");
    let mut state: RotationState = if state_path.exists() {
        serde_json::from_value(Value::Object(read_object(
            &state_path.display().to_string(),
        )?))
        .map_err(|e| Failure::new(format!("{}: {e}", state_path.display())))?
    } else {
        RotationState::default()
    };
    let mut keys = load(&args.jwks, true)?;
    let key = SigningKey::generate(args.alg, args.bits, None, &mut rsa::rand_core::OsRng)?;
    let kid = key.kid.clone().unwrap_or_default();
    let private = json_line(&Value::Object(key.private_jwk()));

    if let Some(previous) = state.current.replace(kid.clone()) {
        state.retired.insert(previous, now);
    }
    let retention = i64::try_from(args.retention).unwrap_or(i64::MAX);
    let expired: Vec<String> = state
        .retired
        .iter()
        .filter(|(_, retired_at)| now.saturating_sub(**retired_at) >= retention)
        .map(|(kid, _)| kid.clone())
        .collect();
    for old in &expired {
        state.retired.remove(old);
        keys.retain(|k| k.get("kid").and_then(Value::as_str) != Some(old.as_str()));
    }
    keys.insert(0, key.public_jwk()?);
    let jwks_text = render(&args.jwks, &keys)?;
    let state_text =
        serde_json::to_string_pretty(&state).map_err(|e| Failure::new(e.to_string()))? + "\n";

    let mut changes = Changes::default();
    changes.create_dir_all(&args.keys_dir)?;
    if let Some(parent) = args.jwks.parent() {
        changes.create_dir_all(parent)?;
    }
    changes.write_private(&args.keys_dir.join(format!("{kid}.jwk")), &private, false)?;
    changes.write_atomic(&args.jwks, &jwks_text)?;
    changes.write_private(&args.keys_dir.join("current.jwk"), &private, true)?;
    changes.write_atomic(&state_path, &state_text)?;
    changes.commit();

    for old in &expired {
        // Kids made here are thumbprints; anything else in rotation.json is not a file name.
        if old
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            let _ = std::fs::remove_file(args.keys_dir.join(format!("{old}.jwk")));
        }
        eprintln!(
            "jwt-edge: dropped key {old} (retired more than {}s ago)",
            args.retention
        );
    }
    println!("{kid}");
    Ok(())
}
