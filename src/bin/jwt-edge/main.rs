//! `jwt-edge`: the issuer's side. Keys, JWKS files and rotation, short-lived tokens,
//! verification with a JSON verdict, and a local dev issuer. A thin front end: every
//! decision about keys and tokens is the core's.

// The same no-panic lints as the library (src/lib.rs): a bad PEM, JWK or request to the
// dev issuer gets an error message, never a panic.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod assertion_cmd;
mod check_cmd;
mod discovery;
mod fetch;
mod files;
mod jwks_cmd;
mod pem;
mod serve;
mod token_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Where exit statuses are decided: 0 success, 1 runtime failure (I/O, bad file or
/// key), 2 bad usage (clap), 10–17 a refused token by error family.
pub(crate) struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            status: 1,
            message: message.into(),
        }
    }
}

impl From<jwt_edge::Error> for Failure {
    fn from(err: jwt_edge::Error) -> Self {
        Failure::new(format!("{} ({})", err, err.code()))
    }
}

pub(crate) type CliResult<T = ()> = Result<T, Failure>;

/// Prints the core's refused verdict and gives its exit status.
pub(crate) fn refused(err: &jwt_edge::Error) -> Failure {
    println!("{}", jwt_edge::Verdict::refused(err));
    Failure {
        status: family_status(err.family()),
        message: String::new(),
    }
}

/// The exit status of a refusal of this family.
pub(crate) fn family_status(family: jwt_edge::ErrorFamily) -> u8 {
    use jwt_edge::ErrorFamily;
    match family {
        ErrorFamily::Request => 10,
        ErrorFamily::Token => 11,
        ErrorFamily::Key => 12,
        ErrorFamily::Signature => 13,
        ErrorFamily::Claims => 14,
        ErrorFamily::Replay => 15,
        ErrorFamily::Jwks => 16,
        _ => 17,
    }
}

#[derive(Parser)]
#[command(
    name = "jwt-edge",
    version,
    about = "The issuer's side of jwt-edge: keys, JWKS, rotation, short-lived tokens, a local dev issuer",
    after_help = "Workflow:\n  jwt-edge jwks rotate --jwks jwks.json --keys-dir keys --alg ES256\n  jwt-edge serve --jwks jwks.json --key keys/current.jwk --iss http://127.0.0.1:8788\n  TOKEN=$(jwt-edge sign --key keys/current.jwk --iss http://127.0.0.1:8788 --aud api --ttl 5m)\n  jwt-edge verify --jwks http://127.0.0.1:8788/.well-known/jwks.json --iss http://127.0.0.1:8788 --aud api \"$TOKEN\""
)]
struct Cli {
    /// Use this Unix time instead of the clock (tests, replaying old logs).
    #[arg(long, global = true, value_name = "UNIX")]
    now: Option<i64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a key pair (or an HMAC secret) as JWKs.
    #[command(
        after_help = "Examples:\n  jwt-edge keygen --alg ES256 --out es256.jwk\n  jwt-edge keygen --alg RS256 --bits 3072 --kid 2026-11 --out rsa.jwk --public-out rsa.pub.jwk\n  jwt-edge keygen --alg HS256 --out secret.jwk"
    )]
    Keygen(token_cmd::KeygenArgs),
    /// Convert a PEM key (SPKI, PKCS#1, PKCS#8, SEC1) into a JWK.
    #[command(
        name = "import-pem",
        after_help = "Examples:\n  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem\n  jwt-edge import-pem ec.pem                 # public JWK\n  jwt-edge import-pem ec.pem --private > ec.jwk   # private JWK, for `sign --key`\n  openssl rsa -in rsa.pem -pubout | jwt-edge import-pem -"
    )]
    ImportPem(pem::ImportArgs),
    /// Manage a JWKS file: list, add, remove, rotate.
    #[command(
        subcommand,
        after_help = "Examples:\n  jwt-edge jwks rotate --jwks jwks.json --keys-dir secrets --alg ES256\n  jwt-edge jwks add --jwks jwks.json partner.jwk\n  jwt-edge jwks list --jwks jwks.json\n  jwt-edge jwks remove --jwks jwks.json OLD_KID"
    )]
    Jwks(jwks_cmd::JwksCommand),
    /// Mint a short-lived token.
    #[command(
        after_help = "Examples:\n  jwt-edge sign --key keys/current.jwk --iss https://issuer.example --aud api --sub svc-1 --ttl 5m\n  jwt-edge sign --secret @secret.b64 --alg HS256 --sub svc-1 --claim scope=read --claim 'roles=[\"a\",\"b\"]'"
    )]
    Sign(token_cmd::SignArgs),
    /// Verify a token and print a JSON verdict; the exit status tells the error family.
    #[command(
        after_help = "Examples:\n  jwt-edge verify --jwks jwks.json --iss https://issuer.example --aud api \"$TOKEN\"\n  echo \"$TOKEN\" | jwt-edge verify --jwks https://issuer.example/.well-known/jwks.json --max-lifetime 1h -\n  jwt-edge verify --issuer-discovery https://login.example.com/ --aud api \"$TOKEN\"\n\nExit status: 0 valid; 10 request, 11 token, 12 key, 13 signature, 14 claims, 15 replay, 16 jwks, 17 config; 1 I/O or bad input; 2 usage."
    )]
    Verify(token_cmd::VerifyArgs),
    /// Check a signed assertion from the edge worker, as the origin would.
    #[command(
        name = "verify-assertion",
        after_help = "Examples:\n  jwt-edge verify-assertion --key assertion.pub.jwk --method GET --path '/api/items?x=1' \"$ASSERTION\"\n  jwt-edge verify-assertion --key assertion.pub.jwk --aud origin.example --max-age 30s --method POST --path /api/items -\n\nExit status: 0 valid; 11 token, 12 key, 13 signature, 14 claims (expired, another method or path: assertion_mismatch); 1 I/O or bad key; 2 usage."
    )]
    VerifyAssertion(assertion_cmd::VerifyAssertionArgs),
    /// Serve a JWKS (and mint test tokens) on loopback: a local dev issuer.
    #[command(
        after_help = "Examples:\n  jwt-edge serve --jwks jwks.json --addr 127.0.0.1:8788\n  jwt-edge serve --jwks jwks.json --key keys/current.jwk --iss http://127.0.0.1:8788\n  curl 'http://127.0.0.1:8788/token?sub=alice&aud=api&ttl=5m'"
    )]
    Serve(serve::ServeArgs),
    /// Check a worker's wrangler.toml before build and deploy: no key in [vars].
    #[command(
        name = "check-config",
        after_help = "Refuses a wrangler.toml whose [vars] (top level or any [env.NAME]) holds a name that a\nJWT_EDGE_CONFIG in it uses as hmac_secret, a value of hmac_secrets or assertion.key_secret,\nand a JWT_EDGE_CONFIG in [vars] that the worker would refuse.\n\nExamples:\n  jwt-edge check-config\n  jwt-edge check-config path/to/wrangler.toml\n\nExit status: 0 nothing found; 1 a problem found, or the file unreadable; 2 usage."
    )]
    CheckConfig(check_cmd::CheckConfigArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let now = cli.now.unwrap_or_else(files::unix_now);
    let result = match cli.command {
        Command::Keygen(args) => token_cmd::keygen(args),
        Command::ImportPem(args) => pem::import(args),
        Command::Jwks(cmd) => jwks_cmd::run(cmd, now),
        Command::Sign(args) => token_cmd::sign(args, now),
        Command::Verify(args) => token_cmd::verify(args, now),
        Command::VerifyAssertion(args) => assertion_cmd::verify_assertion(args, now),
        Command::Serve(args) => serve::run(args, cli.now),
        Command::CheckConfig(args) => check_cmd::check_config(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("jwt-edge: {}", failure.message);
            }
            ExitCode::from(failure.status)
        }
    }
}

#[cfg(test)]
// The crate-level no-panic lints are for the CLI's own code; a test may expect.
#[allow(clippy::expect_used)]
mod tests {
    use clap::CommandFactory;

    /// `jwt-edge verify` has a flag for every policy option, under the name the core's
    /// table gives it (the table is the one declaration; this checks clap agrees).
    #[test]
    fn verify_flags_are_the_core_tables_cli_names() {
        let command = super::Cli::command();
        let verify = command
            .get_subcommands()
            .find(|c| c.get_name() == "verify")
            .expect("a verify subcommand");
        let longs: Vec<String> = verify
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        // An empty name: the CLI has no such option (it verifies one token per run).
        for row in jwt_edge::OPTIONS.iter().filter(|row| !row.cli.is_empty()) {
            assert!(
                longs.iter().any(|l| l == row.cli),
                "{} has no flag {}",
                row.core,
                row.cli
            );
        }
    }
}
