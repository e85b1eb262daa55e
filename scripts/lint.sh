#!/usr/bin/env bash
# Formatting and clippy (native, all targets; wasm32 with the browser front end and
# with the Cloudflare Worker front end).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# Only the parts lint needs: rustfmt/clippy and the wasm32 target (quick when present).
run_step "setup (scripts/setup.sh rust wasm)" bash "$ROOT/scripts/setup.sh" rust wasm

run_step "cargo fmt --all -- --check" cargo fmt --all -- --check
run_step "cargo clippy --locked --all-targets --features cli -- -D warnings" \
  cargo clippy --locked --all-targets --features cli -- -D warnings
run_step "wasm32: cargo clippy --locked --lib --features browser -- -D warnings" \
  wasm_cargo clippy --locked --lib --features browser -- -D warnings
run_step "wasm32: cargo clippy --locked --lib --features edge -- -D warnings" \
  wasm_cargo clippy --locked --lib --features edge -- -D warnings

step "lint passed in $(since "$SCRIPT_T0")"
