#!/usr/bin/env bash
# Makes tests/fixtures/fuzz/parity.json: coverage-distinct fuzzer inputs for the verify
# and jwks targets, with the native core's verdict on each. tests/fuzz_parity.rs holds
# the native core to those verdicts and tests/npm/fuzz-parity.test.mjs the npm package's
# wasm, so the front ends are compared on what the fuzzers found, not only on what we
# wrote.
#
#   scripts/fuzz.sh --time 1200 verify jwks   # grow target/fuzz/corpus first
#   scripts/fuzz-parity.sh
#
# Steps: `cargo fuzz cmin` of target/fuzz/corpus/{verify,jwks} (a copy) keeps the
# inputs that each add coverage; of those, the valid UTF-8 ones are kept (the npm API
# takes strings), verify inputs up to 64 KiB and jwks inputs up to 2 KiB (to keep the
# file small), in byte order, with the seeds the fuzzers started from. The options come from tests/fixtures/jose/tokens.json.
# Then `JWT_EDGE_BLESS=1 cargo test --test fuzz_parity` records the verdicts.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

for t in verify jwks; do
  [ -d "target/fuzz/corpus/$t" ] || die "target/fuzz/corpus/$t is missing: run scripts/fuzz.sh $t first"
done
run_step "setup (scripts/setup.sh rust node fuzz)" bash "$ROOT/scripts/setup.sh" rust node fuzz

export RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$ROOT/target/fuzz/build"
work="$ROOT/target/fuzz/parity"
rm -rf "$work"
mkdir -p "$work"
for t in verify jwks; do
  cp -r "target/fuzz/corpus/$t" "$work/$t"
  run_step "cargo fuzz cmin $t ($(find "$work/$t" -type f | wc -l | tr -d ' ') inputs)" \
    cargo fuzz cmin --fuzz-dir "$ROOT/fuzz" --sanitizer none --debug-assertions "$t" "$work/$t"
done
unset CARGO_TARGET_DIR

step "select inputs into tests/fixtures/fuzz/parity.json"
mkdir -p tests/fixtures/fuzz
node --input-type=module - "$work" <<'JS'
import fs from 'node:fs';
import path from 'node:path';
const work = process.argv[2];
const f = JSON.parse(fs.readFileSync('tests/fixtures/jose/tokens.json', 'utf8'));
const decoder = new TextDecoder('utf-8', { fatal: true });
// The corpus holds what the fuzzer found; the seeds it started from (the fixture's
// tokens, its key set whole and key by key) are added, as libFuzzer does not copy them.
const seeds = {
  verify: f.cases.map((c) => c.token),
  jwks: [JSON.stringify(f.jwks), ...f.jwks.keys.map((k) => JSON.stringify({ keys: [k] }))],
};
const pick = (target, maxBytes) =>
  [...new Set([
    ...fs.readdirSync(path.join(work, target)).map((name) => fs.readFileSync(path.join(work, target, name)).toString('latin1')),
    ...seeds[target].map((s) => Buffer.from(s).toString('latin1')),
  ])]
    .map((s) => Buffer.from(s, 'latin1'))
    .filter((b) => b.length <= maxBytes)
    .sort(Buffer.compare)
    .flatMap((b) => {
      try {
        return [{ input: decoder.decode(b), verdict: null }];
      } catch {
        return [];
      }
    });
const algorithms = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA'];
const policy = { issuer: f.policy.issuer, audience: f.policy.audience, clockSkewSeconds: f.policy.clock_skew, now: f.now };
const hs256 = f.secrets.find((s) => s.alg === 'HS256');
const out = {
  made: 'scripts/fuzz-parity.sh: cargo fuzz cmin of the verify and jwks corpora of scripts/fuzz.sh, valid UTF-8 only; verdicts by JWT_EDGE_BLESS=1 cargo test --test fuzz_parity',
  made_at: new Date().toISOString().slice(0, 10),
  // verify inputs: verify(input, verify_options)
  verify_options: { jwks: f.jwks, secret: hs256.k, algorithms, ...policy },
  // jwks inputs: new Verifier({ ...jwks_options, jwks: input }), then each of jwks_tokens
  jwks_options: { algorithms: algorithms.filter((a) => !a.startsWith('HS')), ...policy },
  jwks_tokens: f.cases.filter((c) => c.expect === 'ok' && !c.alg.startsWith('HS')).map((c) => c.token),
  verify: pick('verify', 64 * 1024),
  jwks: pick('jwks', 2 * 1024),
};
fs.writeFileSync('tests/fixtures/fuzz/parity.json', JSON.stringify(out, null, 2) + '\n');
console.log(`    ${out.verify.length} verify inputs, ${out.jwks.length} jwks inputs, ${out.jwks_tokens.length} tokens per key set`);
JS
run_step "record the native verdicts" env JWT_EDGE_BLESS=1 cargo test --locked -q --test fuzz_parity
