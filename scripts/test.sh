#!/usr/bin/env bash
# Runs every test of jwt-edge: native Rust tests, the wasm32 builds, the
# wasm-bindgen Node package with node's test runner, and interop tests against
# tokens freshly made by jose.
#
# Environment:
#   JWT_EDGE_SKIP_FRESH_FIXTURES=1   skip making fresh jose tokens (step e)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

run_step "setup (scripts/setup.sh)" bash "$ROOT/scripts/setup.sh"

# a. native core, CLI and integration tests (the cli feature builds target/debug/jwt-edge,
#    which tests/cli.rs and tests/node/cli.test.mjs run)
run_step "cargo test --locked --features cli (native)" cargo test --locked --features cli

# b. the core and the browser front end for wasm32
run_step "wasm32: cargo build --locked --lib --no-default-features" \
  wasm_cargo build --locked --lib --no-default-features
run_step "wasm32: cargo build --locked --lib --release --features browser" \
  wasm_cargo build --locked --lib --release --features browser

# c. wasm-bindgen --target nodejs -> target/pkg-node (CommonJS)
bindgen_node() {
  local wasm out="$ROOT/target/pkg-node"
  wasm="$(wasm_target_dir)/$WASM_TARGET/release/jwt_edge.wasm"
  [ -f "$wasm" ] || die "$wasm not found after the release build"
  have wasm-bindgen || die "wasm-bindgen not on PATH (scripts/setup.sh installs it)"
  # Never leave a stale package behind a failed run.
  rm -rf "$out"
  wasm-bindgen --target nodejs --out-dir "$out" "$wasm"
  printf '{"type":"commonjs"}\n' >"$out/package.json"
  note "wrote ${out#"$ROOT"/}: $(cd "$out" && echo *)"
}
run_step "wasm-bindgen --target nodejs --out-dir target/pkg-node" bindgen_node

# d. node's test runner on tests/node/**/*.test.mjs
node_tests=()
if [ -d "$ROOT/tests/node" ]; then
  while IFS= read -r -d '' f; do
    node_tests+=("$f")
  done < <(find "$ROOT/tests/node" -name '*.test.mjs' -type f -print0)
fi
if [ ${#node_tests[@]} -gt 0 ]; then
  run_step "node --test 'tests/node/**/*.test.mjs' (${#node_tests[@]} files, $(node --version))" \
    node --test 'tests/node/**/*.test.mjs'
else
  step "node tests"
  skip "no tests/node/**/*.test.mjs files"
fi

# e. interop tests against tokens jose makes now
fresh_fixtures() {
  local out="$ROOT/target/fresh-fixtures"
  rm -rf "$out"
  node tests/fixtures/make-jose-fixtures.mjs "$out"
  [ -f "$out/tokens.json" ] || die "tests/fixtures/make-jose-fixtures.mjs wrote no $out/tokens.json"
  JWT_EDGE_FIXTURES="$out/tokens.json" cargo test --locked --features cli --test interop
}
if [ -n "${JWT_EDGE_SKIP_FRESH_FIXTURES:-}" ]; then
  step "interop with fresh jose tokens"
  skip "JWT_EDGE_SKIP_FRESH_FIXTURES is set"
elif [ ! -f "$ROOT/tests/fixtures/make-jose-fixtures.mjs" ] || [ ! -f "$ROOT/tests/interop.rs" ]; then
  step "interop with fresh jose tokens"
  skip "tests/fixtures/make-jose-fixtures.mjs or tests/interop.rs not present"
else
  run_step "interop: fresh jose tokens -> cargo test --locked --test interop" fresh_fixtures
fi

step "all tests passed in $(since "$SCRIPT_T0")"
