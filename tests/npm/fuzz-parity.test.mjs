// The npm package's wasm against the native core's recorded verdicts on fuzzer inputs
// (tests/fixtures/fuzz/parity.json, made by scripts/fuzz-parity.sh; tests/fuzz_parity.rs
// holds the native core to the same verdicts). Every input is hostile: the wasm must
// decide exactly as native does, never trap (a Rust panic in wasm is a RuntimeError),
// and refuse with a JwtEdgeError whose message does not echo the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ROOT, loadPackage } from './helpers.mjs';

const { verify, Verifier, JwtEdgeError } = await loadPackage('node.js');
const fixture = JSON.parse(readFileSync(`${ROOT}tests/fixtures/fuzz/parity.json`, 'utf8'));

/** "ok ALG KID", or the code of a well-formed JwtEdgeError (else a description of what was thrown). */
function verdictOf(run, input) {
  let result;
  try {
    result = run();
  } catch (err) {
    if (!(err instanceof JwtEdgeError)) return `threw ${err?.name}: ${err?.message}`;
    if (typeof err.code !== 'string' || typeof err.message !== 'string' || err.message.length === 0) {
      return `malformed JwtEdgeError ${JSON.stringify(err)}`;
    }
    // Long runs of the input in the message would be an echo (short ones may be words).
    for (const part of [input, ...input.split('.')]) {
      if (part.length >= 16 && err.message.includes(part)) return `message echoes the input: ${err.message}`;
    }
    return err.code;
  }
  return `ok ${result.alg} ${result.kid ?? '-'}`;
}

const label = (input) => JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input);

test('parity.json is the fuzzers\' output, with both outcomes', () => {
  assert.ok(fixture.verify.length >= 500, `${fixture.verify.length} verify inputs`);
  assert.ok(fixture.jwks.length >= 500, `${fixture.jwks.length} jwks inputs`);
  assert.ok(fixture.verify.some((c) => c.verdict.startsWith('ok ')));
  assert.ok(fixture.jwks.some((c) => c.verdict.build === 'ok'));
  assert.ok(fixture.jwks.some((c) => c.verdict.build !== 'ok'));
});

test('verify(input, options): the native verdict on every fuzzer input', () => {
  const mismatches = [];
  for (const { input, verdict } of fixture.verify) {
    const got = verdictOf(() => verify(input, fixture.verify_options), input);
    if (got !== verdict) mismatches.push(`${label(input)}: native ${verdict}, wasm ${got}`);
  }
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${fixture.verify.length} differ`);
});

test('new Verifier(options).verify(input): the same verdicts, keys imported once', () => {
  const verifier = new Verifier(fixture.verify_options);
  const mismatches = [];
  for (const { input, verdict } of fixture.verify) {
    const got = verdictOf(() => verifier.verify(input), input);
    if (got !== verdict) mismatches.push(`${label(input)}: native ${verdict}, wasm ${got}`);
  }
  verifier.free();
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${fixture.verify.length} differ`);
});

test('new Verifier({ jwks: input }): the native import verdict, then the same verdict on every token', () => {
  const mismatches = [];
  for (const { input, verdict } of fixture.jwks) {
    let verifier;
    const build = verdictOf(() => {
      verifier = new Verifier({ ...fixture.jwks_options, jwks: input });
      return { alg: 'built', kid: 'x' };
    }, input);
    const got = build === 'ok built x'
      ? { build: 'ok', tokens: fixture.jwks_tokens.map((t) => verdictOf(() => verifier.verify(t), t)) }
      : { build };
    verifier?.free();
    try {
      assert.deepEqual(got, verdict);
    } catch {
      mismatches.push(`${label(input)}: native ${JSON.stringify(verdict)}, wasm ${JSON.stringify(got)}`);
    }
  }
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${fixture.jwks.length} differ`);
});
