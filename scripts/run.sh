#!/usr/bin/env bash
# The main command: the worker in real workerd (`wrangler dev --env dev`) in front of a
# local dev issuer, with curl commands to try it.
#
#   scripts/run.sh           set up, build, start both, show an accepted and a refused
#                            request, then keep running until Ctrl-C
#   scripts/run.sh --check   the same, but exit after the two requests: status 0 only
#                            when the first answers 200 and the second 401 (CI smoke test)
#
# Steps: scripts/setup.sh; `cargo build --release --features cli` (target/release/jwt-edge)
# and scripts/build-worker.sh (build/); a dev key set in .jwt-edge/dev-issuer/ when
# missing (`jwt-edge jwks rotate`); `jwt-edge serve` on 127.0.0.1:8788 (the JWKS and
# /token); `wrangler dev --env dev` on 127.0.0.1:8787 (wrangler.toml's [env.dev] trusts
# the issuer on 127.0.0.1:8788); a token from /token; the two curl requests.
# Logs: .jwt-edge/dev-issuer.log, .jwt-edge/wrangler-dev.log.
#
# Environment:
#   JWT_EDGE_WORKER_PORT   port of wrangler dev (default 8787). The issuer's port, 8788,
#                          is fixed: wrangler.toml's [env.dev] names it.
#   JWT_EDGE_START_TIMEOUT seconds to wait for both servers (default 120)
# shellcheck disable=SC2317 # functions run through traps and run_step
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

CHECK=""
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    -h | --help)
      sed -n "2,/^# shellcheck disable/p" "${BASH_SOURCE[0]}" | sed "\$d; s/^# \\{0,1\\}//"
      exit 0
      ;;
    *) die "unknown argument '$arg' (known: --check, --help)" ;;
  esac
done

HOST=127.0.0.1
ISSUER_PORT=8788
WORKER_PORT="${JWT_EDGE_WORKER_PORT:-8787}"
ISSUER="http://$HOST:$ISSUER_PORT"
WORKER="http://$HOST:$WORKER_PORT"
START_TIMEOUT="${JWT_EDGE_START_TIMEOUT:-120}"
DEV_DIR="$STATE_DIR/dev-issuer"
ISSUER_LOG="$STATE_DIR/dev-issuer.log"
WRANGLER_LOG="$STATE_DIR/wrangler-dev.log"
CLI="$ROOT/target/release/jwt-edge"

# ---------------------------------------------------------------- children

ISSUER_PID=""
WRANGLER_PID=""
TAIL_PID=""

# Each server runs in its own session (setsid), so that it can be stopped with
# everything it started (wrangler runs workerd) by its process-group id.
stop_child() {
  local pid=$1 name=$2 i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  note "stopped $name (pid $pid)"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$TAIL_PID" ]; then
    kill "$TAIL_PID" 2>/dev/null || true
    wait "$TAIL_PID" 2>/dev/null || true
  fi
  if [ -n "$WRANGLER_PID$ISSUER_PID" ]; then
    step "stopping the servers"
    stop_child "$WRANGLER_PID" "wrangler dev"
    stop_child "$ISSUER_PID" "jwt-edge serve"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() {
  # A successful connect means something listens there.
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

check_port_free() {
  local port=$1 what=$2 hint=$3 who=""
  if port_busy "$port"; then
    if have ss; then
      who="$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'users:(([^)]*' | head -n 1 || true)"
      who="${who#users:((}"
    fi
    die "port $port on $HOST is busy${who:+ (held by $who)}: $what cannot start there.
    Stop whatever listens on it (ss -ltnp 'sport = :$port' shows it)$hint, then run scripts/run.sh again."
  fi
}

# wait_http NAME URL PID: waits until URL answers any HTTP status, or PID dies.
wait_http() {
  local name=$1 url=$2 pid=$3 log=$4 t0 code
  t0="$(now_us)"
  while :; do
    code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" || true)"
    if [ -n "$code" ] && [ "$code" != 000 ]; then
      note "$name answers at $url (HTTP $code, after $(since "$t0"))"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      warn "$name exited before answering; last lines of ${log#"$ROOT"/}:"
      tail -n 30 "$log" >&2 || true
      return 1
    fi
    if [ $(($(now_us) - t0)) -gt $((START_TIMEOUT * 1000000)) ]; then
      warn "$name did not answer at $url within ${START_TIMEOUT}s; last lines of ${log#"$ROOT"/}:"
      tail -n 30 "$log" >&2 || true
      return 1
    fi
    sleep 0.3
  done
}

# ---------------------------------------------------------------- set-up and builds

have curl || die "curl not found (Debian: apt-get install -y curl)"
have setsid || die "setsid not found (util-linux)"

# Fail early, before minutes of building, when a port is taken.
check_port_free "$ISSUER_PORT" "the dev issuer (jwt-edge serve)" \
  " (the port is fixed: wrangler.toml's [env.dev] trusts $ISSUER)"
check_port_free "$WORKER_PORT" "wrangler dev" " or pick another port with JWT_EDGE_WORKER_PORT=..."

run_step "setup (scripts/setup.sh)" bash "$ROOT/scripts/setup.sh"
run_step "CLI: cargo build --locked --release --features cli" \
  cargo build --locked --release --features cli
run_step "worker: scripts/build-worker.sh" bash "$ROOT/scripts/build-worker.sh"

make_dev_keys() {
  mkdir -p "$DEV_DIR"
  local kid
  kid="$("$CLI" jwks rotate --jwks "$DEV_DIR/jwks.json" --keys-dir "$DEV_DIR/keys" --alg ES256)"
  note "new ES256 key, kid $kid"
}
if [ -f "$DEV_DIR/jwks.json" ] && [ -f "$DEV_DIR/keys/current.jwk" ]; then
  step "dev key set"
  skip "${DEV_DIR#"$ROOT"/}/jwks.json and keys/current.jwk exist (delete the folder for new keys)"
else
  run_step "dev key set: jwt-edge jwks rotate --alg ES256 -> ${DEV_DIR#"$ROOT"/}" make_dev_keys
fi

# ---------------------------------------------------------------- servers

# The ports again: a build takes minutes, something may have started meanwhile.
check_port_free "$ISSUER_PORT" "the dev issuer (jwt-edge serve)" \
  " (the port is fixed: wrangler.toml's [env.dev] trusts $ISSUER)"
check_port_free "$WORKER_PORT" "wrangler dev" " or pick another port with JWT_EDGE_WORKER_PORT=..."

step "starting the dev issuer: jwt-edge serve --iss $ISSUER --addr $HOST:$ISSUER_PORT"
setsid "$CLI" serve --jwks "$DEV_DIR/jwks.json" --key "$DEV_DIR/keys/current.jwk" \
  --iss "$ISSUER" --addr "$HOST:$ISSUER_PORT" </dev/null >"$ISSUER_LOG" 2>&1 &
ISSUER_PID=$!
note "pid $ISSUER_PID, log ${ISSUER_LOG#"$ROOT"/}"

wrangler_args=(dev --env dev --ip "$HOST" --port "$WORKER_PORT" --show-interactive-dev-session=false)
if [ -n "$CHECK" ]; then
  # A fresh local KV for the smoke test: no JWKS cached or jti seen by earlier runs.
  rm -rf "$STATE_DIR/wrangler-check-state"
  wrangler_args+=(--persist-to "$STATE_DIR/wrangler-check-state")
fi
step "starting the worker: wrangler ${wrangler_args[*]}"
have wrangler || die "wrangler not found in node_modules/.bin: run scripts/setup.sh"
setsid env X_LOCAL_OBSERVABILITY=false X_LOCAL_EXPLORER=false WRANGLER_SEND_METRICS=false \
  wrangler "${wrangler_args[@]}" </dev/null >"$WRANGLER_LOG" 2>&1 &
WRANGLER_PID=$!
note "pid $WRANGLER_PID, log ${WRANGLER_LOG#"$ROOT"/}"

step "waiting for both to answer (up to ${START_TIMEOUT}s)"
wait_http "jwt-edge serve" "$ISSUER/.well-known/jwks.json" "$ISSUER_PID" "$ISSUER_LOG" ||
  die "the dev issuer did not start"
wait_http "wrangler dev" "$WORKER/" "$WRANGLER_PID" "$WRANGLER_LOG" ||
  die "wrangler dev did not start"

# ---------------------------------------------------------------- tokens and requests

TOKEN_URL="$ISSUER/token?sub=alice&aud=api&ttl=10m"
mint() {
  local t
  t="$(curl -sf -m 10 "$TOKEN_URL")" || die "could not mint a token at $TOKEN_URL (see ${ISSUER_LOG#"$ROOT"/})"
  t="$(printf '%s' "$t" | tr -d '[:space:]')"
  [[ "$t" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] || die "/token answered something that is not a JWS: $t"
  printf '%s' "$t"
}

# The same token with one signature character changed (not the last one, whose low
# bits may not count): a genuine header and payload, a wrong signature.
tamper() {
  local t=$1 i c
  i=$((${#t} - 10))
  c="${t:i:1}"
  if [ "$c" = A ]; then c=B; else c=A; fi
  printf '%s' "${t:0:i}$c${t:i+1}"
}

step "minting a token: curl '$TOKEN_URL'"
TOKEN="$(mint)"
BAD_TOKEN="$(tamper "$TOKEN")"
note "token: ${TOKEN:0:24}...${TOKEN: -8} (${#TOKEN} bytes; ES256, iss $ISSUER, aud api, sub alice, 10 min)"

# request LABEL TOKEN: one request; prints the status line, WWW-Authenticate and the
# body; sets LAST_STATUS.
LAST_STATUS=""
request() {
  local label=$1 token=$2 out headers body
  out="$(mktemp)"
  headers="$(curl -s -m 30 -D - -o "$out" -H "Authorization: Bearer $token" "$WORKER/" | tr -d '\r' || true)"
  body="$(head -c 600 "$out")"
  rm -f "$out"
  LAST_STATUS="$(awk 'NR == 1 {print $2}' <<<"$headers")"
  printf '  %s\n' "$label"
  printf '    %s\n' "$(head -n 1 <<<"$headers")"
  grep -i '^www-authenticate:' <<<"$headers" | sed 's/^/    /' || true
  [ -n "$body" ] && printf '    %s\n' "$body"
  return 0
}

step "requests to the worker"
request "with the token (expect 200):" "$TOKEN"
STATUS_OK="$LAST_STATUS"
request "with the tampered token (expect 401):" "$BAD_TOKEN"
STATUS_BAD="$LAST_STATUS"
# The public route of [env.dev] (routes[0], "auth": "none"): no token needed.
STATUS_PUBLIC="$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$WORKER/health" || true)"
printf '  %s\n    HTTP %s\n' "GET /health without a token (public route, expect 200):" "$STATUS_PUBLIC"

if [ -n "$CHECK" ]; then
  if [ "$STATUS_OK" = 200 ] && [ "$STATUS_BAD" = 401 ] && [ "$STATUS_PUBLIC" = 200 ]; then
    step "check passed: 200 with the token, 401 with the tampered one, 200 on the public route ($(since "$SCRIPT_T0"))"
    exit 0
  fi
  warn "check FAILED: expected 200, 401, 200; got ${STATUS_OK:-no answer}, ${STATUS_BAD:-no answer}, ${STATUS_PUBLIC:-no answer}"
  note "last lines of ${WRANGLER_LOG#"$ROOT"/}:"
  tail -n 30 "$WRANGLER_LOG" >&2 || true
  exit 1
fi

# Interactive: fresh tokens for the commands shown (the dev config has replay
# protection on, so each token is accepted once: the one above is used up).
FRESH="$(mint)"
cat <<EOF

==> jwt-edge is running (Ctrl-C stops both servers)
    worker (wrangler dev --env dev): $WORKER/
    dev issuer:                      $ISSUER/.well-known/jwks.json   $TOKEN_URL

  Accepted (200): a token from the dev issuer, not used yet. [env.dev] has
  "replay": "best-effort", so it is accepted once; a second try answers 401 token_replayed.

curl -i -H 'Authorization: Bearer $FRESH' $WORKER/

  Refused (401): the same token with one signature character changed.

curl -i -H 'Authorization: Bearer $(tamper "$FRESH")' $WORKER/

  A new token on every call:

curl -i -H "Authorization: Bearer \$(curl -s '$TOKEN_URL')" $WORKER/

  A public route (routes[0] in [env.dev], "auth": "none"): 200 without a token.

curl -i $WORKER/health

  Logs follow (${WRANGLER_LOG#"$ROOT"/}, ${ISSUER_LOG#"$ROOT"/}).

EOF

tail -n 0 -F "$WRANGLER_LOG" "$ISSUER_LOG" &
TAIL_PID=$!
# Returns when either server exits (or on Ctrl-C, through the traps).
set +e
wait -n "$ISSUER_PID" "$WRANGLER_PID"
rc=$?
set -e
kill -0 "$ISSUER_PID" 2>/dev/null || warn "the dev issuer exited (status $rc); see ${ISSUER_LOG#"$ROOT"/}"
kill -0 "$WRANGLER_PID" 2>/dev/null || warn "wrangler dev exited (status $rc); see ${WRANGLER_LOG#"$ROOT"/}"
exit 1
