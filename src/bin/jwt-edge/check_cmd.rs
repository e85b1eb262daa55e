//! `jwt-edge check-config`: the deploy check of a worker's `wrangler.toml` (run by
//! scripts/build-worker.sh, so `wrangler dev` and `wrangler deploy` run it too). The
//! decision is the core's (`jwt_edge::internals::check_wrangler`); this reads and parses the file.

use clap::Args;

use crate::{CliResult, Failure};

#[derive(Args)]
pub struct CheckConfigArgs {
    /// The worker's wrangler.toml.
    #[arg(default_value = "wrangler.toml")]
    pub wrangler: String,
}

pub fn check_config(args: CheckConfigArgs) -> CliResult {
    let path = &args.wrangler;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(format!("cannot read {path}: {e}")))?;
    let document: toml::Table =
        toml::from_str(&text).map_err(|e| Failure::new(format!("{path} is not TOML: {e}")))?;
    let document =
        serde_json::to_value(&document).map_err(|e| Failure::new(format!("{path}: {e}")))?;
    let violations = jwt_edge::internals::check_wrangler(&document);
    if violations.is_empty() {
        let stores = jwt_edge::internals::secrets_store_bindings(&document);
        let stores = if stores.is_empty() {
            String::new()
        } else {
            format!("; Secrets Store bindings: {}", stores.join(", "))
        };
        println!("{path}: no key in [vars]{stores}");
        return Ok(());
    }
    for violation in &violations {
        eprintln!("jwt-edge: {path}: {violation}");
    }
    Err(Failure::new(format!(
        "{path}: {} problem{} found; not deploying",
        violations.len(),
        if violations.len() == 1 { "" } else { "s" }
    )))
}
