#!/usr/bin/env bash
# The main job at this stage: set up, build the core natively and for wasm32
# (plain and with the browser front end), then verify sample tokens minted by jose
# and print the answer the edge would give for each.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

run_step "setup (scripts/setup.sh)" bash "$ROOT/scripts/setup.sh"
run_step "native build (cargo build --locked --release)" cargo build --locked --release --examples
run_step "wasm32: core" wasm_cargo build --locked --lib --release --no-default-features
run_step "wasm32: browser front end" wasm_cargo build --locked --lib --release --features browser
step "verifying sample tokens (cargo run --release --example demo)"
cargo run --locked --release --quiet --example demo
step "done in $(since "$SCRIPT_T0")"
