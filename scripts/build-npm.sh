#!/usr/bin/env bash
# Builds the npm package `jwt-edge` into target/npm/jwt-edge (and a copy for the demo page
# in www/vendor/jwt-edge), offline: cargo (feature browser, wasm32) → wasm-bindgen
# --target web → the JavaScript layer and types from npm/. No tool that downloads its
# own binaries. `npm pack` in target/npm/jwt-edge makes the tarball.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

out="$ROOT/target/npm/jwt-edge"
step "npm package: cargo build --release --features browser (wasm32)"
wasm_cargo build --locked --lib --release --features browser
wasm="$(wasm_target_dir)/$WASM_TARGET/release/jwt_edge.wasm"
[ -f "$wasm" ] || die "$wasm not found after the build"
have wasm-bindgen || die "wasm-bindgen not on PATH (scripts/setup.sh installs it)"
rm -rf "$out"
mkdir -p "$out/wasm"
step "npm package: wasm-bindgen --target web"
wasm-bindgen --target web --out-dir "$out/wasm" --out-name jwt_edge --no-typescript --remove-name-section "$wasm"
cp npm/package.json npm/README.md npm/index.js npm/node.js npm/workerd.js npm/edge-light.js npm/deno.js \
  npm/api.js npm/errors.js npm/index.d.ts npm/hono.js npm/hono.d.ts "$out/"
raw=$(wc -c <"$out/wasm/jwt_edge_bg.wasm")
gz=$(gzip -9c "$out/wasm/jwt_edge_bg.wasm" | wc -c)
note "wrote ${out#"$ROOT"/}: jwt_edge_bg.wasm $raw B raw, $gz B gzip -9"
rm -rf "$ROOT/www/vendor/jwt-edge"
mkdir -p "$ROOT/www/vendor"
cp -r "$out" "$ROOT/www/vendor/jwt-edge"
