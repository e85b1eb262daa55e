#!/usr/bin/env bash
# Runs every benchmark and rewrites BENCHMARKS.md from the results. Benchmarks are not
# tests: nothing here fails on a number. About 8 minutes on 2 cores.
#   1. set-up (scripts/setup.sh) and fresh builds of the worker and the npm package
#   2. cargo bench --bench verify        the core natively, per algorithm (criterion)
#   3. node bench/wasm-vs-jose.mjs       the npm package against jose in one Node process
#   4. node bench/worker-vs-jose.mjs     the worker against a jose worker, both in workerd
#   5. node bench/sizes.mjs              what users download and deploy
#   6. node bench/worker-profile.mjs     where the worker's CPU goes (V8 profiler, workerd)
#   7. node bench/report.mjs             BENCHMARKS.md
# Each step can also be run alone with the command shown.
#
# Environment:
#   JWT_EDGE_BENCH_QUICK=1   shorter runs (0.5 s per algorithm, 2 s per load cell,
#                            concurrency 1 and 8): a smoke run, not numbers to quote.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

quick="${JWT_EDGE_BENCH_QUICK:-0}"
run_step "setup (scripts/setup.sh)" bash "$ROOT/scripts/setup.sh"
run_step "worker: scripts/build-worker.sh" bash "$ROOT/scripts/build-worker.sh"
run_step "npm package: scripts/build-npm.sh" bash "$ROOT/scripts/build-npm.sh"

criterion_args=()
wasm_args=()
worker_args=()
profile_args=()
if [ "$quick" = 1 ]; then
  criterion_args=(-- --warm-up-time 0.5 --measurement-time 1)
  wasm_args=(--time 0.5 --cold-runs 3)
  worker_args=(--duration 2 --concurrency 1,8)
  profile_args=(--duration 1.5)
fi
run_step "cargo bench --locked --bench verify (criterion, native)" \
  cargo bench --locked --bench verify "${criterion_args[@]}"
run_step "node bench/wasm-vs-jose.mjs (npm package vs jose, Node $(node --version))" \
  timeout --kill-after=15 900 node bench/wasm-vs-jose.mjs "${wasm_args[@]}"
run_step "node bench/worker-vs-jose.mjs (worker vs jose worker, workerd)" \
  timeout --kill-after=15 1200 node bench/worker-vs-jose.mjs "${worker_args[@]}"
run_step "node bench/hono-vs-jose.mjs (Hono and plain JS workers vs jose, hono/jwk)" \
  timeout --kill-after=15 600 node bench/hono-vs-jose.mjs
run_step "node bench/sizes.mjs" node bench/sizes.mjs
# The profile needs wasm function names, which the shipped build removes: rebuild with
# them for it, then again as shipped.
run_step "worker with wasm names: KEEP_NAMES=1 scripts/build-worker.sh" env KEEP_NAMES=1 bash "$ROOT/scripts/build-worker.sh"
run_step "node bench/worker-profile.mjs (V8 CPU profile of the workers in workerd)" \
  timeout --kill-after=15 600 node bench/worker-profile.mjs "${profile_args[@]}"
run_step "worker as shipped: scripts/build-worker.sh" bash "$ROOT/scripts/build-worker.sh"
run_step "node bench/report.mjs -> BENCHMARKS.md" node bench/report.mjs
note "BENCHMARKS.md written; the JSON results are in target/bench/"
