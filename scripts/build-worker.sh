#!/usr/bin/env bash
# Builds the Cloudflare Worker (feature `edge`) into build/index.js + build/index_bg.wasm,
# offline and without worker-build (it would download wasm-bindgen and wasm-opt). Same
# pipeline as `worker-build --release` 0.8.7, after a deploy check:
#
#   0. `jwt-edge check-config wrangler.toml` (native, feature `cli`): refuses a
#      wrangler.toml whose [vars] (top level or any [env.*]) holds a binding that a
#      JWT_EDGE_CONFIG in it reads a key from (hmac_secret, hmac_secrets,
#      assertion.key_secret), or a JWT_EDGE_CONFIG the worker would refuse. Keys
#      belong in Worker secrets or [[secrets_store_secrets]] bindings.
#   1. cargo build --lib --release --features edge for wasm32 (scripts/lib.sh's
#      wasm_cargo: route A, rustup's target, or route B, Debian's rustc-web + build-std)
#   2. wasm-bindgen --target module --out-name index --no-typescript
#        --experimental-reset-state-function --force-enable-abort-handler --remove-name-section
#      (the CLI must be exactly the wasm-bindgen version in Cargo.lock)
#   3. `import source x from "./index_bg.wasm"` -> `import x from ...` (worker-build's
#      fix_wasm_import; workerd treats a .wasm default import as the WebAssembly.Module)
#   4. esbuild bundles js/shim.js (worker-build's entry module, with panic recovery)
#      and wasm-bindgen's index.js into build/index.js; index_bg.wasm is copied
#
# Run by `wrangler dev` / `wrangler deploy` through wrangler.toml's [build], by
# scripts/test.sh and scripts/run.sh. It does not install anything: run
# scripts/setup.sh first. A failed build removes build/, so nothing (tests,
# `wrangler dev` reloads) ever runs stale output.
#
# Environment:
#   WASM_BINDGEN_BIN   wasm-bindgen CLI (default: the one scripts/setup.sh installed, on PATH)
#   ESBUILD_BIN        esbuild (default: node_modules/.bin/esbuild)
#   KEEP_NAMES=1       keep the wasm name section (readable Rust frames in panics, ~50% larger)
#   NO_MINIFY=1        do not minify build/index.js
#   JWT_EDGE_WRANGLER_TOML   the wrangler.toml the deploy check reads (default: ./wrangler.toml)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

OUT="$ROOT/build"
SHIM="$ROOT/js/shim.js"
CRATE=jwt_edge
stage=""

cleanup() {
  local rc=$?
  [ -n "$stage" ] && rm -rf "$stage"
  if [ "$rc" -ne 0 ]; then
    rm -rf "$OUT"
    printf '==> [jwt-edge] build-worker.sh FAILED (exit %s): build/ removed\n' "$rc" >&2
  fi
}
trap cleanup EXIT

fail() {
  printf '==> [jwt-edge] build-worker.sh: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- tools

[ -f "$SHIM" ] || fail "js/shim.js is missing"
[ -n "$WASM_BINDGEN_VERSION" ] || fail "no wasm-bindgen entry in Cargo.lock (is the edge feature's worker dependency there?)"

WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen || true)}"
if [ -z "$WASM_BINDGEN_BIN" ] || [ ! -x "$WASM_BINDGEN_BIN" ]; then
  fail "wasm-bindgen CLI not found: run scripts/setup.sh (it installs wasm-bindgen-cli $WASM_BINDGEN_VERSION into ${WASM_BINDGEN_ROOT/#"$HOME"/\~}), or set WASM_BINDGEN_BIN"
fi
cli_version="$("$WASM_BINDGEN_BIN" --version 2>/dev/null | awk '$1 == "wasm-bindgen" {print $2; exit}' || true)"
# The CLI reads a schema the macro embedded in the wasm: versions must be identical.
[ "$cli_version" = "$WASM_BINDGEN_VERSION" ] ||
  fail "wasm-bindgen CLI ${cli_version:-of unknown version} ($WASM_BINDGEN_BIN) != wasm-bindgen $WASM_BINDGEN_VERSION in Cargo.lock: run scripts/setup.sh"

ESBUILD_BIN="${ESBUILD_BIN:-$ROOT/node_modules/.bin/esbuild}"
[ -x "$ESBUILD_BIN" ] || fail "esbuild not found at $ESBUILD_BIN: run scripts/setup.sh (npm packages)"

t0="$(now_us)"

# ---------------------------------------------------------------- 0. deploy check

wrangler_toml="${JWT_EDGE_WRANGLER_TOML:-$ROOT/wrangler.toml}"
step "worker: jwt-edge check-config ${wrangler_toml#"$ROOT"/} (no key in [vars])"
cargo run --quiet --locked --features cli --bin jwt-edge -- check-config "$wrangler_toml" ||
  fail "deploy check refused ${wrangler_toml#"$ROOT"/} (see above)"

# ---------------------------------------------------------------- 1. cargo

step "worker: cargo build --locked --lib --release --features edge (wasm32, route $(wasm_route))"
# worker-build sets WASM_BINDGEN_USE_JS_SYS=1: the #[wasm_bindgen] macros then name
# js_sys's futures re-export (the same code); kept for parity with worker-build.
WASM_BINDGEN_USE_JS_SYS=1 wasm_cargo build --locked --lib --release --features edge
wasm_in="$(wasm_target_dir)/$WASM_TARGET/release/$CRATE.wasm"
[ -f "$wasm_in" ] || fail "$wasm_in missing after cargo build"
t1="$(now_us)"

# ---------------------------------------------------------------- 2. wasm-bindgen

stage="$(mktemp -d "$ROOT/target/.worker-stage.XXXXXX" 2>/dev/null || mktemp -d)"
bg="$stage/bindgen"
step "worker: wasm-bindgen $cli_version --target module"
wb_args=(--target module --out-name index --no-typescript
  --experimental-reset-state-function --force-enable-abort-handler)
[ "${KEEP_NAMES:-0}" = 1 ] || wb_args+=(--remove-name-section)
"$WASM_BINDGEN_BIN" "$wasm_in" --out-dir "$bg" "${wb_args[@]}"
if [ ! -f "$bg/index.js" ] || [ ! -f "$bg/index_bg.wasm" ]; then
  fail "wasm-bindgen wrote no index.js/index_bg.wasm"
fi

# 3. worker-build's fix_wasm_import.
sed -i 's/^import source \(.*\.wasm"\);$/import \1;/' "$bg/index.js"
if grep -q '^import source ' "$bg/index.js"; then
  fail "an 'import source' line was left in wasm-bindgen's index.js (new output format?)"
fi

# The shim must list exactly what the wasm exports (what worker-build would generate).
# Exported functions other than wasm-bindgen's own are #[event] handlers; exported
# classes are #[durable_object] structs.
exported_functions="$(
  {
    grep -oE '^export (async )?function [A-Za-z_$][A-Za-z0-9_$]*' "$bg/index.js" | awk '{print $NF}'
    grep -oE '^export \{[^}]* as [A-Za-z_$][A-Za-z0-9_$]* *\}' "$bg/index.js" |
      sed -E 's/.* as ([A-Za-z0-9_$]+) *\}/\1/'
  } | grep -vxE '__wbg_reset_state|__worker_init_state' | sort -u || true
)"
# workers-rs's own #[wasm_bindgen] types are exported classes too; they are not Durable
# Objects and need no entry (worker-build re-exports them anyway; nothing uses them).
WORKER_LIBRARY_CLASSES='ContainerStartupOptions|MinifyConfig|R2Range'
exported_classes="$(grep -oE '^export class [A-Za-z_$][A-Za-z0-9_$]*' "$bg/index.js" | awk '{print $3}' |
  grep -vxE "$WORKER_LIBRARY_CLASSES" | sort -u || true)"
for f in __wbg_reset_state __worker_init_state; do
  grep -qE "^export function $f *\(" "$bg/index.js" ||
    fail "wasm-bindgen output lacks $f (needs --experimental-reset-state-function and worker 0.8.x)"
done
shim_handlers="$(grep -oE '^Entrypoint\.prototype\.[A-Za-z0-9_$]+' "$SHIM" | sed 's/.*\.//' | sort -u || true)"
shim_classes="$(grep -oE '^export const [A-Za-z0-9_$]+ = new Proxy\(exports\.' "$SHIM" | awk '{print $3}' | sort -u || true)"
problems=()
for f in $exported_functions; do
  grep -qxF "$f" <<<"$shim_handlers" || case "$f" in
    fetch | scheduled | queue | email | connect)
      problems+=("js/shim.js lacks: Entrypoint.prototype.$f = function $f(arg) { return exports.$f.call(this, arg, this.env, this.ctx); };") ;;
    *) problems+=("js/shim.js lacks: Entrypoint.prototype.$f = exports.$f;") ;;
  esac
done
for c in $exported_classes; do
  grep -qxF "$c" <<<"$shim_classes" ||
    problems+=("js/shim.js lacks: export const $c = new Proxy(exports.$c, classProxyHooks);"
      "(if $c is a type of workers-rs itself, not a Durable Object, add it to WORKER_LIBRARY_CLASSES in scripts/build-worker.sh)")
done
for f in $shim_handlers; do
  grep -qxF "$f" <<<"$exported_functions" ||
    problems+=("js/shim.js wires '$f', which the wasm does not export (no #[event($f)] in the edge feature?)")
done
for c in $shim_classes; do
  grep -qxF "$c" <<<"$exported_classes" ||
    problems+=("js/shim.js exports class '$c', which the wasm does not export (no #[durable_object] struct $c?)")
done
if [ ${#problems[@]} -gt 0 ]; then
  printf '    %s\n' "${problems[@]}" >&2
  fail "js/shim.js does not match the worker's exports (functions: ${exported_functions//$'\n'/ }; classes: ${exported_classes//$'\n'/ })"
fi
t2="$(now_us)"

# ---------------------------------------------------------------- 4. esbuild

step "worker: esbuild $("$ESBUILD_BIN" --version) bundle js/shim.js -> build/index.js"
out="$stage/out"
mkdir -p "$out"
cp "$SHIM" "$bg/shim.js"
minify=(--minify)
[ -n "${NO_MINIFY:-}" ] && minify=()
(cd "$bg" && "$ESBUILD_BIN" ./shim.js --bundle --format=esm \
  --external:./index_bg.wasm '--external:cloudflare:*' \
  "${minify[@]}" --outfile="$out/index.js" --log-level=warning)
cp "$bg/index_bg.wasm" "$out/index_bg.wasm"
grep -q 'import source' "$out/index.js" && fail "build/index.js still contains 'import source'"
grep -qE 'from *"\./index_bg\.wasm"' "$out/index.js" || fail "build/index.js does not import ./index_bg.wasm"
t3="$(now_us)"

# ---------------------------------------------------------------- 5. replace build/

rm -rf "$OUT"
mv -T "$out" "$OUT"

raw="$(stat -c %s "$OUT/index_bg.wasm")"
gz="$(gzip -9c "$OUT/index_bg.wasm" | wc -c)"
js="$(stat -c %s "$OUT/index.js")"
jsgz="$(gzip -9c "$OUT/index.js" | wc -c)"
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
step "worker built: build/index_bg.wasm $raw B ($(kib "$raw")) raw, $gz B ($(kib "$gz")) gzip -9;" \
  "build/index.js $js B raw, $jsgz B gzip -9"
note "cargo $(fmt_secs $((t1 - t0))), wasm-bindgen $(fmt_secs $((t2 - t1))), esbuild $(fmt_secs $((t3 - t2))); total $(since "$t0")"
note "handlers: ${exported_functions//$'\n'/ }; durable objects: ${exported_classes:-none}"
