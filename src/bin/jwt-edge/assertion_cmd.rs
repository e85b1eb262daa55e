//! `verify-assertion`: what an origin does with the worker's signed assertion, from the
//! command line (debugging an origin, checking a captured header).

use clap::Args;
use jwt_edge::{AssertionPolicy, AssertionVerifier, RequestBinding};
use serde_json::{json, Value};

use crate::files::{json_line, parse_duration, read_input, read_object};
use crate::refused;
use crate::{CliResult, Failure};

#[derive(Args)]
pub struct VerifyAssertionArgs {
    /// The worker's assertion key: its public Ed25519 JWK (a private one works too), or
    /// the shared `oct` JWK.
    #[arg(long)]
    key: String,
    /// The method the origin received.
    #[arg(long)]
    method: String,
    /// The path and query the origin received (`/api/items?x=1`).
    #[arg(long, allow_hyphen_values = true)]
    path: String,
    /// The required `iss` (the worker's `assertion.issuer`).
    #[arg(long, default_value = "jwt-edge")]
    iss: String,
    /// The required `aud` (the worker's `assertion.audience`), if it sets one.
    #[arg(long)]
    aud: Option<String>,
    /// Oldest assertion accepted.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    max_age: u64,
    /// Clock difference tolerated between the worker and here.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    skew: u64,
    /// The assertion (the header's value), or - for stdin.
    assertion: String,
}

pub fn verify_assertion(args: VerifyAssertionArgs, now: i64) -> CliResult {
    let jwk = read_object(&args.key)?;
    let policy = AssertionPolicy {
        issuer: args.iss,
        audience: args.aud,
        max_age: args.max_age,
        clock_skew: args.skew,
    };
    let verifier = AssertionVerifier::from_jwk(&jwk, policy).map_err(|err| {
        Failure::new(format!(
            "{} is not a usable assertion key ({})",
            args.key,
            err.code()
        ))
    })?;
    let assertion = if args.assertion == "-" {
        String::from_utf8(read_input("-")?).map_err(|_| Failure::new("stdin is not UTF-8"))?
    } else {
        args.assertion
    };
    let request = RequestBinding {
        method: &args.method,
        path: &args.path,
    };
    match verifier.verify(assertion.trim(), request, now) {
        Ok(verified) => {
            print!(
                "{}",
                json_line(&json!({
                    "valid": true,
                    "method": verified.method,
                    "path": verified.path,
                    "iat": verified.issued_at,
                    "jti": verified.id,
                    "claims": Value::Object(verified.claims),
                }))
            );
            Ok(())
        }
        Err(err) => Err(refused(&err)),
    }
}
