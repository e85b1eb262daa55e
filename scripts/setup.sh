#!/usr/bin/env bash
# Installs what jwt-edge's builds and tests need, skipping whatever is present.
# Idempotent and non-interactive (safe in CI with no stdin).
#
#   scripts/setup.sh                 # everything
#   scripts/setup.sh rust wasm       # only some parts: rust wasm wasm-bindgen node chromium fuzz
#
# Environment:
#   JWT_EDGE_WASM_ROUTE=A|B   force a wasm32 route (default: A if rustup can do it, else B)
#   JWT_EDGE_TOOLS_DIR        where cargo-installed tools go (default ~/.cache/jwt-edge/tools)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
mkdir -p "$STATE_DIR"

APT_UPDATED=""

# ---------------------------------------------------------------- Rust (rustup)

require_rustup() {
  if ! have rustup; then
    die "rustup not found (looked on PATH and in ~/.cargo/bin). jwt-edge expects the machine's \
rustup-managed Rust toolchain (cargo, rustc, rustfmt, clippy); install rustup, or put its bin \
directory on PATH, and run scripts/setup.sh again."
  fi
  have cargo || die "cargo not found although rustup is: run 'rustup default stable'"
}

setup_rust() {
  step "Rust toolchain (rustup) and components rustfmt, clippy"
  require_rustup
  local missing=() c
  cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
  cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
  if [ ${#missing[@]} -eq 0 ]; then
    skip "$(rustc --version), rustfmt and clippy present"
    return 0
  fi
  note "installing components: ${missing[*]}"
  for c in "${missing[@]}"; do
    timeout 120 rustup component add "$c" || die "rustup component add $c failed or timed out"
  done
}

# ---------------------------------------------------------------- wasm32 target

record_route() {
  echo "$1" >"$WASM_ROUTE_FILE"
  note "recorded wasm32 route $1 in ${WASM_ROUTE_FILE#"$ROOT"/}"
}

recorded_route() {
  [ -f "$WASM_ROUTE_FILE" ] && tr -d '[:space:]' <"$WASM_ROUTE_FILE"
  return 0
}

rustup_has_wasm_target() {
  local installed
  installed="$(timeout 30 rustup target list --installed 2>/dev/null || true)"
  grep -qx "$WASM_TARGET" <<<"$installed"
}

debian_toolchain_linked() {
  local list
  list="$(timeout 30 rustup toolchain list 2>/dev/null || true)"
  grep -q "^$DEBIAN_TOOLCHAIN\b" <<<"$list"
}

apt_packages_installed() {
  local p status
  for p in "$@"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || return 1
  done
}

apt_install() {
  have apt-get || die "apt-get not found: cannot install $* (route B needs a Debian machine)"
  if apt_packages_installed "$@"; then
    skip "apt packages already installed: $*"
    return 0
  fi
  if [ -z "$APT_UPDATED" ]; then
    note "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive timeout 300 \
      apt-get -o DPkg::Lock::Timeout=120 update -q || die "apt-get update failed"
    APT_UPDATED=1
  fi
  note "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive timeout 900 \
    apt-get -o DPkg::Lock::Timeout=120 install -y -q "$@" </dev/null || die "apt-get install $* failed"
}

# Route B is usable: toolchain linked, std sources present, probe build passed.
route_b_ready() {
  debian_toolchain_linked || return 1
  apt_packages_installed "${ROUTE_B_PACKAGES[@]}" || return 1
  [ -f "$STATE_DIR/route-b-probe.ok" ] || return 1
}

# Builds a tiny cdylib for wasm32 with the route B environment.
route_b_probe() {
  local dir="$STATE_DIR/wasm-probe"
  mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<'EOF'
[package]
name = "jwt-edge-wasm-probe"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"

[workspace]
EOF
  cat >"$dir/src/lib.rs" <<'EOF'
#[no_mangle]
pub extern "C" fn probe(x: u32) -> u32 {
    let v: Vec<u32> = (0..x).collect();
    v.iter().sum()
}
EOF
  note "probe build of a tiny cdylib for $WASM_TARGET (builds std from source: 1-3 min the first time)"
  (cd "$dir" && route_b_env cargo build --quiet --target "$WASM_TARGET") ||
    return 1
  [ -f "$ROOT/target/wasm-debian/$WASM_TARGET/debug/jwt_edge_wasm_probe.wasm" ] || return 1
}

setup_route_b() {
  step "wasm32 route B: Debian rustc-web + rust-web-src, std built with -Zbuild-std"
  apt_install "${ROUTE_B_PACKAGES[@]}"
  if debian_toolchain_linked; then
    skip "rustup toolchain '$DEBIAN_TOOLCHAIN' already linked"
  else
    note "rustup toolchain link $DEBIAN_TOOLCHAIN /usr"
    rustup toolchain link "$DEBIAN_TOOLCHAIN" /usr || die "rustup toolchain link $DEBIAN_TOOLCHAIN /usr failed"
  fi
  note "$(RUSTUP_TOOLCHAIN="$DEBIAN_TOOLCHAIN" rustc --version)"
  rm -f "$STATE_DIR/route-b-probe.ok"
  route_b_probe || die "route B probe build failed: wasm32 cannot be built on this machine \
(neither 'rustup target add $WASM_TARGET' nor Debian's rustc-web with build-std worked)"
  touch "$STATE_DIR/route-b-probe.ok"
  record_route B
}

setup_wasm() {
  step "wasm32 target ($WASM_TARGET)"
  require_rustup
  local forced="${JWT_EDGE_WASM_ROUTE:-}"
  case "$forced" in
    "" | A | B) ;;
    *) die "JWT_EDGE_WASM_ROUTE must be A or B, not '$forced'" ;;
  esac

  if [ "$forced" != B ] && rustup_has_wasm_target; then
    skip "route A: rustup target $WASM_TARGET already installed"
    [ "$(recorded_route)" = A ] || record_route A
    return 0
  fi
  if [ "$forced" != A ] && [ "$(recorded_route)" = B ] && route_b_ready; then
    skip "route B recorded and ready (toolchain '$DEBIAN_TOOLCHAIN' linked, probe passed);" \
      "remove ${WASM_ROUTE_FILE#"$ROOT"/} to retry rustup"
    return 0
  fi
  if [ "$forced" != B ]; then
    note "timeout 60 rustup target add $WASM_TARGET"
    if timeout 60 rustup target add "$WASM_TARGET" </dev/null && rustup_has_wasm_target; then
      record_route A
      return 0
    fi
    [ "$forced" = A ] && die "JWT_EDGE_WASM_ROUTE=A but 'rustup target add $WASM_TARGET' failed"
    warn "'rustup target add $WASM_TARGET' failed or timed out: falling back to route B (Debian packages)"
  fi
  setup_route_b
}

# ---------------------------------------------------------------- wasm-bindgen-cli

installed_wasm_bindgen_version() {
  local bin="$WASM_BINDGEN_ROOT/bin/wasm-bindgen"
  [ -x "$bin" ] || return 0
  "$bin" --version 2>/dev/null | awk '{print $2; exit}'
}

setup_wasm_bindgen() {
  step "wasm-bindgen-cli (version from Cargo.lock)"
  [ -f "$ROOT/Cargo.lock" ] || die "Cargo.lock not found: it pins wasm-bindgen, and the CLI must match it"
  [ -n "$WASM_BINDGEN_VERSION" ] || die "no wasm-bindgen entry in Cargo.lock"
  local v="$WASM_BINDGEN_VERSION"
  if [ "$(installed_wasm_bindgen_version)" = "$v" ]; then
    skip "wasm-bindgen $v already in ${WASM_BINDGEN_ROOT/#"$HOME"/\~}"
    return 0
  fi
  require_rustup
  note "cargo install wasm-bindgen-cli --version =$v (about 5 minutes on 2 cores)"
  # No --locked: the CLI's own lock file pins a webpki-roots version crates.io no longer serves.
  cargo install wasm-bindgen-cli --version "=$v" --root "$WASM_BINDGEN_ROOT" </dev/null ||
    die "cargo install wasm-bindgen-cli --version =$v failed"
  [ "$(installed_wasm_bindgen_version)" = "$v" ] ||
    die "installed wasm-bindgen does not report version $v"
}

# ---------------------------------------------------------------- cargo-fuzz

setup_fuzz() {
  step "cargo-fuzz $CARGO_FUZZ_VERSION (scripts/fuzz.sh; libFuzzer is built from source by libfuzzer-sys)"
  if [ -x "$CARGO_FUZZ_ROOT/bin/cargo-fuzz" ]; then
    skip "cargo-fuzz already in ${CARGO_FUZZ_ROOT/#"$HOME"/\~}"
    return 0
  fi
  require_rustup
  have c++ || die "a C++ compiler (c++) is needed to build libFuzzer: apt-get install g++"
  note "cargo install cargo-fuzz --version =$CARGO_FUZZ_VERSION --locked (about 2 minutes on 2 cores)"
  cargo install cargo-fuzz --version "=$CARGO_FUZZ_VERSION" --locked --root "$CARGO_FUZZ_ROOT" </dev/null ||
    die "cargo install cargo-fuzz --version =$CARGO_FUZZ_VERSION failed"
}

# ---------------------------------------------------------------- Node >= 22

node_major() {
  local v
  v="$("$1" --version 2>/dev/null || true)"
  v="${v#v}"
  echo "${v%%.*}"
}

# npm ci: exactly the committed package-lock.json, never rewritten. The lock lists the
# optional per-platform packages of every platform (workerd, esbuild: linux x64/arm64,
# darwin x64/arm64, win32), so npm ci works on any of them. When it refuses (a lock out
# of sync with package.json, a registry that does not serve a locked version), set-up
# stops and says why: it never falls back to `npm install`, which rewrites the lock.
npm_ci() {
  local log="$STATE_DIR/npm-ci.log"
  note "npm ci --no-audit --no-fund"
  if timeout 900 npm ci --no-audit --no-fund </dev/null >"$log" 2>&1; then
    return 0
  fi
  local why
  why="$(grep -m1 '^npm error' "$log" || tail -n 1 "$log")"
  sed -n '/^npm error/p' "$log" | head -n 20 >&2
  die "npm ci failed (${why#npm error }); full log in ${log#"$ROOT"/}. package-lock.json must match \
package.json: after changing package.json run 'npm install --package-lock-only' and commit \
package-lock.json. Set-up does not rewrite it."
}

setup_node() {
  step "Node.js >= 22 and npm packages"
  local sys_node="" sys_major=0 stamp="$STATE_DIR/npm-ci.stamp"
  # The system node: the first one on PATH outside node_modules/.bin.
  sys_node="$(PATH="${PATH//"$ROOT/node_modules/.bin:"/}" command -v node || true)"
  if [ -n "$sys_node" ]; then
    sys_major="$(node_major "$sys_node")"
    note "system node: $sys_node ($("$sys_node" --version))"
  else
    note "no system node on PATH"
  fi
  if [ ! -f "$ROOT/package.json" ]; then
    skip "no package.json yet: nothing for npm to install"
    [ "${sys_major:-0}" -ge 22 ] 2>/dev/null || warn "node >= 22 not available (package.json, which lists node@22, is missing)"
    return 0
  fi
  have npm || die "npm not found: install Node.js and npm (Debian: apt-get install -y nodejs npm)"
  [ -f "$ROOT/package-lock.json" ] ||
    die "package-lock.json is missing: run 'npm install' once and commit package-lock.json"

  if [ ! -d "$ROOT/node_modules" ]; then
    note "node_modules missing"
  elif [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
    note "package-lock.json is newer than the last npm ci"
  else
    skip "npm ci: node_modules is up to date with package-lock.json"
  fi
  if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
    local t0
    t0="$(now_us)"
    rm -f "$stamp"
    npm_ci
    touch "$stamp"
    note "npm took $(since "$t0")"
  fi

  # PATH has node_modules/.bin first: that node is node@22 when the system one is older.
  hash -r
  local node_bin major
  node_bin="$(command -v node || true)"
  [ -n "$node_bin" ] || die "no node on PATH after npm ci"
  major="$(node_major "$node_bin")"
  if ! [ "${major:-0}" -ge 22 ] 2>/dev/null; then
    die "node >= 22 required, but $node_bin is $("$node_bin" --version 2>/dev/null || echo unknown).
    The system node is ${sys_major}; package.json should list devDependency \"node\": \"22\" so that npm ci puts Node 22 into node_modules/.bin."
  fi
  if [ "$sys_major" -ge 22 ] 2>/dev/null && [ "$node_bin" = "$sys_node" ]; then
    note "using the system node $("$node_bin" --version)"
  else
    note "using $node_bin ($("$node_bin" --version))"
  fi
}

# ---------------------------------------------------------------- Chromium (headless)

# tests/browser drives Debian's Chromium through playwright-core (no browser download).
CHROMIUM_BIN=/usr/bin/chromium

setup_chromium() {
  step "Chromium for the headless browser tests ($CHROMIUM_BIN)"
  if [ -x "$CHROMIUM_BIN" ]; then
    skip "$CHROMIUM_BIN present: $("$CHROMIUM_BIN" --version 2>/dev/null || echo 'version unknown')"
    return 0
  fi
  have apt-get || die "$CHROMIUM_BIN missing and apt-get not found: install Chromium so that \
$CHROMIUM_BIN runs it (tests/browser launches exactly that path)"
  note "$CHROMIUM_BIN missing: installing Debian's chromium (about 90 s on 2 cores)"
  local t0
  t0="$(now_us)"
  apt_install chromium
  [ -x "$CHROMIUM_BIN" ] || die "apt-get install chromium finished but $CHROMIUM_BIN is missing \
(dpkg -L chromium lists what the package installed)"
  note "installed $("$CHROMIUM_BIN" --version 2>/dev/null || echo chromium) in $(since "$t0")"
}

# ---------------------------------------------------------------- summary

summary() {
  step "summary"
  local route
  route="$(recorded_route)"
  note "rustc:        $(rustc --version 2>/dev/null || echo 'not found')"
  note "cargo:        $(cargo --version 2>/dev/null || echo 'not found')"
  if [ "$route" = B ]; then
    note "rustc (B):    $(RUSTUP_TOOLCHAIN="$DEBIAN_TOOLCHAIN" rustc --version 2>/dev/null || echo 'not found')"
  fi
  note "wasm32 route: ${route:-none} $(case "$route" in
    A) echo "(rustup target $WASM_TARGET)" ;;
    B) echo "(Debian $DEBIAN_TOOLCHAIN + build-std, target dir target/wasm-debian)" ;;
  esac)"
  note "wasm-bindgen: $(wasm-bindgen --version 2>/dev/null || echo 'not installed') (Cargo.lock: ${WASM_BINDGEN_VERSION:-none})"
  note "node:         $(node --version 2>/dev/null || echo 'not found') ($(command -v node || true))"
  note "npm:          $(npm --version 2>/dev/null || echo 'not found')"
  note "chromium:     $("$CHROMIUM_BIN" --version 2>/dev/null || echo 'not installed') ($CHROMIUM_BIN)"
  note "cargo-fuzz:   $(cargo-fuzz --version 2>/dev/null || echo 'not installed')"
  step "setup finished in $(since "$SCRIPT_T0")"
}

# ---------------------------------------------------------------- main

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(rust wasm wasm-bindgen node chromium fuzz)
for part in "${parts[@]}"; do
  case "$part" in
    rust | wasm | wasm-bindgen | node | chromium | fuzz) ;;
    *) die "unknown setup part '$part' (known: rust wasm wasm-bindgen node chromium fuzz)" ;;
  esac
done
for part in "${parts[@]}"; do
  t0="$(now_us)"
  case "$part" in
    rust) setup_rust ;;
    wasm) setup_wasm ;;
    wasm-bindgen) setup_wasm_bindgen ;;
    node) setup_node ;;
    chromium) setup_chromium ;;
    fuzz) setup_fuzz ;;
  esac
  note "($part: $(since "$t0"))"
done
summary
