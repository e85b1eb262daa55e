#!/usr/bin/env bash
# Runs every test of jwt-edge: native Rust tests, the wasm32 builds, the
# wasm-bindgen Node package with node's test runner, interop tests against
# tokens freshly made by jose, and the Cloudflare Worker: its build, its tests in
# workerd (Miniflare), `wrangler deploy --dry-run` and a `wrangler dev` smoke test; then
# the npm package (its build, tests/npm, the tarball in every runtime: tests/runtimes, and
# in a Hono app: tests/hono) and the demo page in headless Chromium.
#
# Environment:
#   JWT_EDGE_SKIP_FRESH_FIXTURES=1   skip making fresh jose tokens (step e)
#   JWT_EDGE_FUZZ_SECONDS=N          seconds per fuzz target in the smoke (default 30)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

run_step "setup (scripts/setup.sh)" bash "$ROOT/scripts/setup.sh"

# a. native core, CLI and integration tests (the cli feature builds target/debug/jwt-edge,
#    which tests/cli.rs and tests/node/cli.test.mjs run)
run_step "cargo test --locked --features cli (native)" cargo test --locked --features cli

# a2. fuzz smoke: every cargo-fuzz target for a short while (scripts/fuzz.sh; long runs are
#     `bash scripts/fuzz.sh --time 1200`). A crash fails the run and is kept in fuzz/regressions.
run_step "fuzz smoke: scripts/fuzz.sh --time ${JWT_EDGE_FUZZ_SECONDS:-30} (6 targets)" \
  bash "$ROOT/scripts/fuzz.sh" --time "${JWT_EDGE_FUZZ_SECONDS:-30}"

# b. the core and the browser front end for wasm32
run_step "wasm32: cargo build --locked --lib --no-default-features" \
  wasm_cargo build --locked --lib --no-default-features
run_step "wasm32: cargo build --locked --lib --release --features browser" \
  wasm_cargo build --locked --lib --release --features browser

# c. node's test runner on tests/node/**/*.test.mjs (the CLI against jose and openssl)
node_tests=()
if [ -d "$ROOT/tests/node" ]; then
  while IFS= read -r -d '' f; do
    node_tests+=("$f")
  done < <(find "$ROOT/tests/node" -name '*.test.mjs' -type f -print0)
fi
if [ ${#node_tests[@]} -gt 0 ]; then
  run_step "node --test 'tests/node/**/*.test.mjs' (${#node_tests[@]} files, $(node --version))" \
    timeout --kill-after=15 600 node --test 'tests/node/**/*.test.mjs'
else
  step "node tests"
  skip "no tests/node/**/*.test.mjs files"
fi

# d. interop tests against tokens jose makes now
fresh_fixtures() {
  local out="$ROOT/target/fresh-fixtures"
  rm -rf "$out"
  timeout --kill-after=15 120 node tests/fixtures/make-jose-fixtures.mjs "$out"
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

# f. the Cloudflare Worker (feature edge): build/index.js + build/index_bg.wasm
run_step "worker: scripts/build-worker.sh (wasm32 --features edge, wasm-bindgen, esbuild)" \
  bash "$ROOT/scripts/build-worker.sh"

# g. the worker in workerd through Miniflare: tests/edge/**/*.test.mjs
edge_tests=()
if [ -d "$ROOT/tests/edge" ]; then
  while IFS= read -r -d '' f; do
    edge_tests+=("$f")
  done < <(find "$ROOT/tests/edge" -name '*.test.mjs' -type f -print0)
fi
if [ ${#edge_tests[@]} -gt 0 ]; then
  run_step "node --test 'tests/edge/**/*.test.mjs' (${#edge_tests[@]} files, Miniflare/workerd)" \
    timeout --kill-after=15 900 node --test --test-force-exit 'tests/edge/**/*.test.mjs'
else
  step "worker tests in Miniflare"
  skip "no tests/edge/**/*.test.mjs files"
fi

# h. what `wrangler deploy` would upload, offline (runs wrangler.toml's [build] again)
dry_run() {
  local out="$ROOT/target/wrangler-dry-run"
  rm -rf "$out"
  WRANGLER_SEND_METRICS=false timeout --kill-after=15 300 \
    wrangler deploy --dry-run --outdir "$out" </dev/null
  [ -f "$out/index.js" ] || die "wrangler deploy --dry-run wrote no $out/index.js"
  compgen -G "$out/*.wasm" >/dev/null || die "wrangler deploy --dry-run wrote no .wasm module to $out"
}
run_step "wrangler deploy --dry-run --outdir target/wrangler-dry-run" dry_run

# i. smoke test: dev issuer + `wrangler dev --env dev`, one accepted and one refused curl
run_step "smoke test: scripts/run.sh --check (wrangler dev + curl)" \
  timeout --kill-after=30 1200 bash "$ROOT/scripts/run.sh" --check

# j. the npm package (wasm-bindgen --target web) -> target/npm/jwt-edge and www/vendor/jwt-edge
run_step "npm package: scripts/build-npm.sh" bash "$ROOT/scripts/build-npm.sh"

# k. the npm package in Node: tests/npm/**/*.test.mjs
npm_tests=()
if [ -d "$ROOT/tests/npm" ]; then
  while IFS= read -r -d '' f; do
    npm_tests+=("$f")
  done < <(find "$ROOT/tests/npm" -name '*.test.mjs' -type f -print0)
fi
if [ ${#npm_tests[@]} -gt 0 ]; then
  run_step "node --test 'tests/npm/**/*.test.mjs' (${#npm_tests[@]} files, npm package)" \
    timeout --kill-after=15 600 node --test --test-force-exit 'tests/npm/**/*.test.mjs'
else
  step "npm package tests"
  skip "no tests/npm/**/*.test.mjs files"
fi

# k1. the packed tarball in every runtime, installed by package name into scratch projects
#     (npm install --offline): a plain JS worker bundled by `wrangler deploy --dry-run` and
#     run in workerd (Miniflare), Node 22, Bun and Deno (their npm packages), Vercel's
#     edge-runtime with the edge-light condition. JWKS servers on 127.0.0.1 only.
run_step "node --test 'tests/runtimes/**/*.test.mjs' (tarball in workerd, Node, Bun, Deno, edge-runtime)" \
  timeout --kill-after=15 300 node --test --test-force-exit 'tests/runtimes/**/*.test.mjs'

# k1b. jwt-edge/hono: a real Hono app installed from the tarball, bundled by wrangler, run in
#     workerd (Miniflare, KV); its refusals compared with the built worker's on one token
#     table; the same middleware under Node; its types checked by tsc.
run_step "node --test 'tests/hono/**/*.test.mjs' (Hono app from the tarball in workerd, parity with the worker)" \
  timeout --kill-after=15 300 node --test --test-force-exit 'tests/hono/**/*.test.mjs'

# k2. one differential test across the four front ends (issue 15): generated policies ×
#     tokens through the native core, the npm package, the worker in workerd and the CLI;
#     every pair must get the same verdict. Seeded (JWT_EDGE_DIFF_SEED, JWT_EDGE_DIFF_POLICIES).
run_step "cargo build --locked --features cli --example differential" \
  cargo build --locked --features cli --example differential
run_step "node --test tests/differential (native = npm = worker = CLI, seed ${JWT_EDGE_DIFF_SEED:-15})" \
  timeout --kill-after=15 900 node --test --test-force-exit 'tests/differential/**/*.test.mjs'

# l. the demo page (www/) in headless Chromium: tests/browser/**/*.test.mjs
run_step "node --test 'tests/browser/**/*.test.mjs' (demo page, headless Chromium)" \
  timeout --kill-after=15 600 node --test --test-force-exit 'tests/browser/**/*.test.mjs'

step "all tests passed in $(since "$SCRIPT_T0")"
