# shellcheck shell=bash
# Shared helpers for jwt-edge's build scripts. Source it, do not run it:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Everything here is safe under `set -euo pipefail`.

if [ -n "${_JWT_EDGE_LIB_LOADED:-}" ]; then
  return 0
fi
_JWT_EDGE_LIB_LOADED=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="$ROOT/.jwt-edge"          # git-ignored
WASM_TARGET=wasm32-unknown-unknown
WASM_ROUTE_FILE="$STATE_DIR/wasm-route"
TOOLS_DIR="${JWT_EDGE_TOOLS_DIR:-$HOME/.cache/jwt-edge/tools}"
DEBIAN_TOOLCHAIN=debian-web
# Debian packages for route B. rust-web-clippy is only there so that lint.sh
# can run clippy for wasm32 on route B too.
# shellcheck disable=SC2034 # used by setup.sh
ROUTE_B_PACKAGES=(rustc-web cargo-web rust-web-src lld-22 rust-web-clippy)
export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------- timing / output

# Microseconds since the epoch.
now_us() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t="${EPOCHREALTIME/[.,]/}"
    echo "$t"
  else
    date +%s%6N
  fi
}

# fmt_secs MICROSECONDS -> "12.3s"
fmt_secs() {
  local us=$1
  printf '%d.%ds' $((us / 1000000)) $(((us % 1000000) / 100000))
}

# Start time shared with child scripts (test.sh -> setup.sh), so the elapsed
# column keeps counting across them.
if [ -z "${JWT_EDGE_T0:-}" ]; then
  JWT_EDGE_T0="$(now_us)"
  export JWT_EDGE_T0
fi
# shellcheck disable=SC2034 # used by the scripts that source this file
SCRIPT_T0="$(now_us)"

since() { fmt_secs $(($(now_us) - $1)); }

# step "text": progress line with the seconds elapsed since the top-level script started.
step() {
  printf '==> [jwt-edge] [%7s] %s\n' "$(since "$JWT_EDGE_T0")" "$*" >&2
}
note() { printf '    %s\n' "$*" >&2; }
skip() { printf '    skip: %s\n' "$*" >&2; }
warn() { printf '==> [jwt-edge] WARNING: %s\n' "$*" >&2; }
die() {
  printf '==> [jwt-edge] ERROR: %s\n' "$*" >&2
  exit 1
}

# run_step "label" CMD ARGS...: runs one step and reports its duration; on
# failure stops the script with a clear message. CMD runs in a subshell with
# `set -e` in force (so shell functions fail fast too).
run_step() {
  local label=$1 t0 rc
  shift
  step "$label"
  t0="$(now_us)"
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    die "step failed: $label (exit $rc, after $(since "$t0"))"
  fi
  note "done: $label ($(since "$t0"))"
}

# ---------------------------------------------------------------- environment

have() { command -v "$1" >/dev/null 2>&1; }

# Prepend a directory to PATH (once).
path_prepend() {
  case ":$PATH:" in
    *":$1:"*) ;;
    *) PATH="$1:$PATH" ;;
  esac
}

# Run a command as root: directly when root, else via non-interactive sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif have sudo; then
    sudo -n "$@"
  else
    die "need root for: $* (not root and no sudo)"
  fi
}

# wasm-bindgen version pinned in Cargo.lock (empty when absent).
wasm_bindgen_version() {
  [ -f "$ROOT/Cargo.lock" ] || return 0
  awk '
    $0 == "name = \"wasm-bindgen\"" { want = 1; next }
    want && /^version = "/ { gsub(/^version = "|"$/, ""); print; exit }
    /^$/ { want = 0 }
  ' "$ROOT/Cargo.lock"
}

WASM_BINDGEN_VERSION="$(wasm_bindgen_version)"
WASM_BINDGEN_ROOT="$TOOLS_DIR/wasm-bindgen-${WASM_BINDGEN_VERSION:-none}"

# rustup's cargo/rustc when they are not on PATH already (e.g. a bare CI env).
[ -d "$HOME/.cargo/bin" ] && path_prepend "$HOME/.cargo/bin"
path_prepend "$WASM_BINDGEN_ROOT/bin"
# cargo-fuzz (scripts/fuzz.sh), pinned; installed by scripts/setup.sh fuzz.
CARGO_FUZZ_VERSION="0.13.2"
CARGO_FUZZ_ROOT="$TOOLS_DIR/cargo-fuzz-$CARGO_FUZZ_VERSION"
path_prepend "$CARGO_FUZZ_ROOT/bin"
path_prepend "$ROOT/node_modules/.bin"
export PATH

# ---------------------------------------------------------------- wasm32 builds

# The route setup.sh recorded: A (rustup target) or B (Debian rustc-web + build-std).
wasm_route() {
  local r=""
  if [ -f "$WASM_ROUTE_FILE" ]; then
    r="$(tr -d '[:space:]' <"$WASM_ROUTE_FILE")"
  fi
  case "$r" in
    A | B) echo "$r" ;;
    *)
      printf '==> [jwt-edge] ERROR: no wasm32 route recorded in %s: run scripts/setup.sh first\n' \
        "${WASM_ROUTE_FILE#"$ROOT"/}" >&2
      return 1
      ;;
  esac
}

# Target dir used for wasm32 builds (route B keeps its own: switching rebuilds everything).
wasm_target_dir() {
  local route
  route="$(wasm_route)" || return 1
  if [ "$route" = B ]; then
    echo "$ROOT/target/wasm-debian"
  else
    echo "${CARGO_TARGET_DIR:-$ROOT/target}"
  fi
}

# Route B environment, applied to one command.
route_b_env() {
  env RUSTUP_TOOLCHAIN="$DEBIAN_TOOLCHAIN" RUSTC_BOOTSTRAP=1 \
    CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
    CARGO_TARGET_DIR="$ROOT/target/wasm-debian" "$@"
}

# wasm_cargo SUBCOMMAND ARGS...: cargo SUBCOMMAND --target wasm32-unknown-unknown ARGS...
# (--target goes right after the subcommand so that trailing `-- ARGS` stay intact).
wasm_cargo() {
  [ $# -ge 1 ] || die "wasm_cargo: missing cargo subcommand"
  local sub=$1 route
  shift
  route="$(wasm_route)" || return 1
  if [ "$route" = B ]; then
    (cd "$ROOT" && route_b_env cargo "$sub" --target "$WASM_TARGET" "$@")
  else
    (cd "$ROOT" && cargo "$sub" --target "$WASM_TARGET" "$@")
  fi
}
