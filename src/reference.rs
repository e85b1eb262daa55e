//! The reference tables other files copy, rendered from the core: error codes with
//! their HTTP answer (from [`Error::ALL_KINDS`] and [`Error::http`]) and algorithm names
//! (from [`Algorithm::ALL`]), and the policy options as each front end names them
//! (from the name table, `crate::policy::OPTIONS`). `tests/generated.rs` writes them between marker comments
//! into the README and `npm/index.d.ts`, and as `www/reference.js` for the demo page
//! (`JWT_EDGE_BLESS=1`), and fails when a copy drifts.
//!
//! Pure text in, text out: no file is read or written here.

use crate::algorithms::alg::{Algorithm, KeyKind};
use crate::error::Error;
use crate::policy::{FrontEnd, OptionName, OPTIONS};

/// One error code and how every front end answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeRow {
    /// The stable code ([`Error::code`]).
    pub code: &'static str,
    /// The HTTP status ([`Error::http`]).
    pub status: u16,
    /// The RFC 6750 `error` attribute, when one applies.
    pub error: Option<&'static str>,
    /// The family ([`Error::family`]), which also picks the CLI's exit status.
    pub family: &'static str,
}

/// Every error code, in the enum's order.
pub fn error_codes() -> Vec<CodeRow> {
    Error::ALL_KINDS
        .iter()
        .map(|e| {
            let http = e.http();
            CodeRow {
                code: e.code(),
                status: http.status,
                error: http.error,
                family: e.family().name(),
            }
        })
        .collect()
}

/// Every algorithm name, in [`Algorithm::ALL`]'s order.
pub fn algorithms() -> Vec<&'static str> {
    Algorithm::ALL.iter().map(|a| a.name()).collect()
}

/// The default allow-list's names ([`Algorithm::ASYMMETRIC`]).
pub fn default_algorithms() -> Vec<&'static str> {
    Algorithm::ASYMMETRIC.iter().map(|a| a.name()).collect()
}

/// An HTTP status and RFC 6750 `error` attribute.
type HttpAnswer = (u16, Option<&'static str>);

/// The README's error-code table: one row per HTTP answer, its codes in the enum's
/// order, rows in the order their first code appears.
pub fn readme_error_codes() -> String {
    let mut groups: Vec<(HttpAnswer, Vec<&'static str>)> = Vec::new();
    for row in error_codes() {
        let key = (row.status, row.error);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, codes)) => codes.push(row.code),
            None => groups.push((key, vec![row.code])),
        }
    }
    let mut out = String::from("| Code | HTTP | `error=` |\n|---|---|---|\n");
    for ((status, error), codes) in groups {
        let codes: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
        let error = match error {
            Some(e) => format!("`{e}`"),
            // RFC 6750 §3.1: a challenge without an error attribute.
            None if matches!(status, 400 | 401 | 403) => "*(none)*".to_owned(),
            None => String::new(),
        };
        let error = if error.is_empty() {
            String::new()
        } else {
            format!(" {error}")
        };
        out.push_str(&format!("| {} | {status} |{error} |\n", codes.join(", ")));
    }
    out
}

/// The README's algorithm list: one row per name, with the key it needs and whether
/// the default allow-list has it.
pub fn readme_algorithms() -> String {
    let mut out = String::from("| `alg` | Key | In the default allow-list |\n|---|---|---|\n");
    for alg in Algorithm::ALL {
        let kind = alg.key_kind();
        let key = match curve(kind) {
            Some(crv) => format!("`{}` `{crv}`", kind.kty()),
            None => format!("`{}`", kind.kty()),
        };
        let default = if Algorithm::ASYMMETRIC.contains(&alg) {
            "yes"
        } else {
            "no (a configured secret)"
        };
        out.push_str(&format!("| `{}` | {key} | {default} |\n", alg.name()));
    }
    out
}

/// The JWK `crv` of a key kind (RFC 7518 §6.2.1.1, RFC 8037 §2, RFC 8812 §3.1).
fn curve(kind: KeyKind) -> Option<&'static str> {
    match kind {
        KeyKind::Oct | KeyKind::Rsa => None,
        KeyKind::P256 => Some("P-256"),
        KeyKind::P384 => Some("P-384"),
        KeyKind::P521 => Some("P-521"),
        KeyKind::Secp256k1 => Some("secp256k1"),
        KeyKind::Ed25519 => Some("Ed25519"),
    }
}

/// `npm/index.d.ts`'s `ErrorCode` type.
pub fn dts_error_codes() -> String {
    let mut out = String::from(
        "/** Every stable error code (see the README's error-code table). */\nexport type ErrorCode =\n",
    );
    let codes = error_codes();
    for (i, row) in codes.iter().enumerate() {
        let end = if i.saturating_add(1) == codes.len() {
            ";"
        } else {
            ""
        };
        out.push_str(&format!("  | '{}'{end}\n", row.code));
    }
    out
}

/// `npm/index.d.ts`'s `Algorithm` type: one line per family (HS, RS, PS, ES, Ed).
pub fn dts_algorithms() -> String {
    let mut lines: Vec<(String, Vec<&'static str>)> = Vec::new();
    for name in algorithms() {
        let family: String = name.chars().take(2).collect();
        match lines.iter_mut().find(|(f, _)| *f == family) {
            Some((_, names)) => names.push(name),
            None => lines.push((family, vec![name])),
        }
    }
    let mut out =
        String::from("/** Signature algorithms. There is no `none`. */\nexport type Algorithm =\n");
    let count = lines.len();
    for (i, (_, names)) in lines.into_iter().enumerate() {
        let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        let end = if i.saturating_add(1) == count {
            ";"
        } else {
            ""
        };
        out.push_str(&format!("  | {}{end}\n", quoted.join(" | ")));
    }
    out
}

/// `www/reference.js`, whole: the codes with their HTTP answer and the algorithm
/// names, for the demo page and the JavaScript tests.
pub fn www_reference_js() -> String {
    let mut out = String::from(
        "// Generated from the core (src/reference.rs) by `JWT_EDGE_BLESS=1 cargo test --test generated`.\n\
         // Do not edit: tests/generated.rs fails when this file differs from what the core says.\n\n\
         /** Every error code: its HTTP status, RFC 6750 `error` attribute (or null) and family. */\n\
         export const ERROR_CODES = Object.freeze([\n",
    );
    for row in error_codes() {
        let error = match row.error {
            Some(e) => format!("'{e}'"),
            None => "null".to_owned(),
        };
        out.push_str(&format!(
            "  Object.freeze({{ code: '{}', status: {}, error: {error}, family: '{}' }}),\n",
            row.code, row.status, row.family
        ));
    }
    out.push_str("]);\n\n/** Every algorithm name the core verifies. */\nexport const ALL_ALGORITHMS = Object.freeze([");
    let quoted: Vec<String> = algorithms().iter().map(|n| format!("'{n}'")).collect();
    out.push_str(&quoted.join(", "));
    out.push_str("]);\n\n/** The default allow-list: every asymmetric algorithm. */\nexport const DEFAULT_ALGORITHMS = Object.freeze([");
    let quoted: Vec<String> = default_algorithms()
        .iter()
        .map(|n| format!("'{n}'"))
        .collect();
    out.push_str(&quoted.join(", "));
    out.push_str("]);\n\n/** Every policy option as each front end names it. */\nexport const OPTIONS = Object.freeze([\n");
    for row in options() {
        out.push_str(&format!(
            "  Object.freeze({{ core: '{}', edge: '{}', npm: '{}', cli: '{}' }}),\n",
            row.core, row.edge, row.npm, row.cli
        ));
    }
    out.push_str("]);\n");
    out
}

/// Every policy option's row of the name table, in table order.
pub fn options() -> &'static [OptionName] {
    &OPTIONS
}

/// The README's option table: each policy option under the name every front end gives
/// it, with its meaning, unit and default.
pub fn readme_options() -> String {
    let mut out = String::from(
        "| Core (Rust) | Worker (`JWT_EDGE_CONFIG`) | npm | CLI `verify` | Meaning, unit, default |\n\
         |---|---|---|---|---|\n",
    );
    for row in options() {
        let names: Vec<String> = FrontEnd::ALL
            .iter()
            .map(|front| match row.name(*front) {
                // The front end has no such option.
                "" => "—".to_owned(),
                name => format!("`{name}`"),
            })
            .collect();
        out.push_str(&format!(
            "| {} | {} |\n",
            names.join(" | "),
            row.doc.replace('|', "\\|")
        ));
    }
    out
}
