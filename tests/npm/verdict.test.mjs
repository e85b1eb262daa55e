// The one verdict shape (src/verdict.rs) from the npm package: `verify`, `Verifier` and
// `RemoteJwks` return the core's accepted verdict, members in order, equal to the golden
// JSON of tests/fixtures/verdict.json (written by tests/verdict.rs from the core, and
// printed byte for byte by the CLI, tests/cli.rs); a refusal throws a JwtEdgeError whose
// `verdict` is the golden refusal. `keyId`/`algorithm` stay as deprecated,
// non-enumerable aliases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as jose from 'jose';
import { ROOT, loadPackage, checkError } from './helpers.mjs';

const { verify, Verifier, RemoteJwks, JwtEdgeError } = await loadPackage('node.js');
const golden = JSON.parse(readFileSync(`${ROOT}tests/fixtures/verdict.json`, 'utf8'));
const MEMBERS = ['valid', 'alg', 'kid', 'key_source', 'header', 'claims'];
const options = { secrets: { [golden.kid]: golden.secret }, algorithms: ['HS256'] };

function sameVerdict(actual, expectedText, label) {
  const expected = JSON.parse(expectedText);
  assert.deepEqual(Object.keys(actual), Object.keys(expected), `${label}: members in order`);
  assert.deepEqual({ ...actual }, expected, label);
  assert.equal(JSON.stringify(actual), expectedText, `${label}: the same JSON text`);
}

test('verify and Verifier.verify return the golden verdict; refusals carry the golden refusal', () => {
  sameVerdict(verify(golden.token, { ...options, now: golden.now }), golden.accepted, 'verify');
  const verifier = new Verifier(options);
  sameVerdict(verifier.verify(golden.token, { now: golden.now }), golden.accepted, 'Verifier');
  for (const call of [
    () => verify(golden.token, { ...options, now: golden.later }),
    () => verifier.verify(golden.token, { now: golden.later }),
  ]) {
    assert.throws(call, (err) => {
      checkError(assert, JwtEdgeError, err, 'token_expired', golden.token, 'expired');
      assert.equal(err.family, 'claims');
      assert.equal(JSON.stringify(err.verdict), golden.refused);
      return true;
    });
  }
  verifier.free();
});

test('keyId and algorithm: deprecated aliases, not enumerable, not serialised', () => {
  const v = verify(golden.token, { ...options, now: golden.now });
  assert.equal(v.keyId, golden.kid);
  assert.equal(v.algorithm, 'HS256');
  assert.ok(!Object.keys(v).includes('keyId') && !Object.keys(v).includes('algorithm'));
  assert.ok(!JSON.stringify(v).includes('keyId'));
  const copy = { ...v };
  assert.deepEqual(Object.keys(copy), MEMBERS);
  assert.equal(copy.keyId, undefined, 'a spread copy does not carry the aliases');
  assert.equal(copy.algorithm, undefined);
});

test('a key without a kid: kid null, keyId undefined', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), alg: 'ES256' };
  const now = 1_800_000_000;
  const token = await new jose.SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt(now).setExpirationTime(now + 60).sign(privateKey);
  const v = verify(token, { jwks: { keys: [jwk] }, now });
  assert.deepEqual(Object.keys(v), MEMBERS);
  assert.equal(v.kid, null);
  assert.equal(v.keyId, undefined);
  assert.equal(v.key_source, 'local');
});

test('RemoteJwks: key_source says where this call\'s keys came from (issuer, memory, stale)', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const now = 1_800_000_000;
  const token = await new jose.SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt(now).setExpirationTime(now + 86_400).sign(privateKey);
  let up = true;
  const fetch = async () => (up
    ? new Response(JSON.stringify({ keys: [jwk] }), { status: 200, headers: { 'cache-control': 'max-age=100' } })
    : new Response('down', { status: 503 }));
  const remote = new RemoteJwks('https://issuer.example/jwks.json', { fetch, cacheMaxAgeSeconds: 100 });
  const first = await remote.verify(token, { now });
  assert.deepEqual(Object.keys(first), MEMBERS);
  assert.equal(first.key_source, 'issuer', 'fetched for this call');
  assert.equal((await remote.verify(token, { now: now + 1 })).key_source, 'memory');
  up = false;
  const stale = await remote.verify(token, { now: now + 150 });
  assert.equal(stale.key_source, 'stale', 'past its freshness, the issuer down');
  assert.equal(stale.kid, 'k1');
  up = true;
  assert.equal((await remote.verify(token, { now: now + 400 })).key_source, 'issuer', 'refetched');
});
