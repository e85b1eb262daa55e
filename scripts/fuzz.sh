#!/usr/bin/env bash
# Fuzzes the core with cargo-fuzz (libFuzzer): token parsing, JWKS parsing and key import,
# full verification under a fixed key set and policy, configuration parsing, and token
# extraction from Authorization/cookie/header values, and signed assertions at the origin
# (the assertion and the assertion key). The harness is fuzz/harness.rs.
#
#   scripts/fuzz.sh                      every target for 60 s each
#   scripts/fuzz.sh --time 1200 verify   one target for 20 minutes
#   scripts/fuzz.sh --time 30            the CI smoke (scripts/test.sh runs this)
#
# Builds with debug assertions and overflow checks on (a silent overflow in a release
# wasm build is a wrong answer), without AddressSanitizer: the crate forbids `unsafe`,
# so a panic is what there is to find. Stable Rust works through RUSTC_BOOTSTRAP=1.
#
# Corpus:  target/fuzz/corpus/<target> (kept between runs), seeded every run from the
#          jose fixtures (tests/fixtures/jose/tokens.json), fuzz/seeds/<target> and
#          fuzz/regressions/<target>.
# Crashes: the run fails; each crashing input is copied to fuzz/regressions/<target>/,
#          which tests/fuzz_regressions.rs replays on every `cargo test`. Commit it with
#          the fix.
# Report:  target/fuzz/<target>.tsv per target (seconds, executions, exec/s, corpus size,
#          crashes, when), gathered into target/fuzz/report.tsv. Two runs with different
#          targets may go side by side (one per core).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ALL_TARGETS=(token jwks verify config extract assertion)
seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time)
      [ $# -ge 2 ] || die "--time needs a number of seconds"
      seconds="$2"
      shift 2
      ;;
    -h | --help)
      sed -n '2,20p' "$0"
      exit 0
      ;;
    *)
      printf '%s\n' "${ALL_TARGETS[@]}" | grep -qx "$1" || die "unknown fuzz target '$1' (known: ${ALL_TARGETS[*]})"
      targets+=("$1")
      shift
      ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] || die "--time must be a whole number of seconds ≥ 1"
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

run_step "setup (scripts/setup.sh rust node fuzz)" bash "$ROOT/scripts/setup.sh" rust node fuzz

export RUSTC_BOOTSTRAP=1
# Release with debug assertions (and so overflow checks); no sanitizer; the fuzz crate's
# own target directory so the main build's flags never mix with sanitizer coverage.
FUZZ_FLAGS=(--fuzz-dir "$ROOT/fuzz" --sanitizer none --debug-assertions)
export CARGO_TARGET_DIR="$ROOT/target/fuzz/build"
run_step "cargo fuzz build (${#targets[@]} targets)" cargo fuzz build "${FUZZ_FLAGS[@]}"

work="$ROOT/target/fuzz"
seeds="$work/seeds"
for t in "${targets[@]}"; do rm -rf "${seeds:?}/$t"; done
mkdir -p "$seeds"
# Seeds from the jose fixtures: every token (token, verify, extract as a Bearer header),
# the key set whole and one key at a time, the HMAC secrets as oct keys (jwks).
step "seeds from tests/fixtures/jose/tokens.json, fuzz/seeds and fuzz/regressions"
node --input-type=module - "$seeds" <<'EOF'
import fs from 'node:fs';
import path from 'node:path';
const out = process.argv[2];
const f = JSON.parse(fs.readFileSync('tests/fixtures/jose/tokens.json', 'utf8'));
const put = (target, name, data) => {
  fs.mkdirSync(path.join(out, target), { recursive: true });
  fs.writeFileSync(path.join(out, target, name), data);
};
for (const c of f.cases) {
  put('token', c.name, c.token);
  put('verify', c.name, c.token);
  put('extract', c.name, `Bearer ${c.token}\0session=${c.token}\0`);
}
put('jwks', 'all', JSON.stringify(f.jwks));
f.jwks.keys.forEach((k, i) => put('jwks', `key-${i}`, JSON.stringify({ keys: [k] })));
put('jwks', 'secrets', JSON.stringify({ keys: f.secrets.map((s) => ({ kty: 'oct', ...s })) }));
EOF
for t in "${targets[@]}"; do
  mkdir -p "$seeds/$t"
  for extra in "$ROOT/fuzz/seeds/$t" "$ROOT/fuzz/regressions/$t"; do
    [ -d "$extra" ] && find "$extra" -type f -exec cp {} "$seeds/$t/" \;
  done
done

header=$'target\tseconds\texecutions\texec_per_s\tcorpus\tcrashes\tfinished'
failed=()
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  artifacts="$work/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$work/$t.$$.log" # per run: two runs of one target never share a log
  step "fuzz $t for ${seconds}s (corpus ${corpus#"$ROOT"/}, log ${log#"$ROOT"/})"
  status=0
  # -timeout: one input may take at most 10 s; -rss_limit_mb bounds memory. libFuzzer
  # stops by itself after -max_total_time; the outer timeout is a backstop.
  timeout --kill-after=30 $((seconds + 600)) cargo fuzz run "${FUZZ_FLAGS[@]}" "$t" "$corpus" "$seeds/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  execs="$(awk '/stat::number_of_executed_units/ { print $NF }' "$log" | tail -1)"
  rate="$(awk '/stat::average_exec_per_sec/ { print $NF }' "$log" | tail -1)"
  size="$(find "$corpus" -type f | wc -l | tr -d ' ')"
  crashes=0
  while IFS= read -r -d '' a; do
    crashes=$((crashes + 1))
    mkdir -p "$ROOT/fuzz/regressions/$t"
    cp "$a" "$ROOT/fuzz/regressions/$t/"
    note "crash kept as fuzz/regressions/$t/$(basename "$a")"
  done < <(find "$artifacts" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) -print0)
  printf '%s\n%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$header" "$t" "$seconds" "${execs:-?}" "${rate:-?}" "$size" \
    "$crashes" "$(date -u +%FT%TZ)" >"$work/$t.tsv"
  note "$t: ${execs:-?} executions (${rate:-?}/s), corpus $size, crashes $crashes, exit $status"
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    tail -n 40 "$log" >&2
    failed+=("$t")
  fi
done

report="$work/report.tsv"
{
  echo "$header"
  for t in "${ALL_TARGETS[@]}"; do [ -f "$work/$t.tsv" ] && tail -n 1 "$work/$t.tsv"; done
} >"$report"
column -t -s $'\t' "$report" 2>/dev/null || cat "$report"
[ ${#failed[@]} -eq 0 ] || die "fuzzing found problems in: ${failed[*]} (inputs in fuzz/regressions/, logs in target/fuzz/)"
step "fuzzing passed in $(since "$SCRIPT_T0")"
