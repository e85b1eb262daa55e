// Verdict mode in workerd: every asymmetric algorithm jose signs (RS256/384/512,
// PS256/384/512, ES256/384/512, EdDSA) from a JWKS on loopback, HS256 from a secret binding, and each refusal's
// status, WWW-Authenticate and problem code. Also: one JSON log line per decision, and
// no token or secret in any log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AUD,
  ISS,
  JwksServer,
  algNone,
  assertRefused,
  assertVerdict,
  b64u,
  closeAll,
  mint,
  newHmacKey,
  newKey,
  now,
  payloadOf,
  sleep,
  startWorker,
  tamperPayload,
  waitFor,
  wasmTargetFeatures,
  WORKER_WASM,
} from './harness.mjs';

const HMAC_ISS = 'https://hmac.edge.test';
const REALM = 'edge-test';
// ES256K is not in jose 6; its tokens (from node:crypto) are verified natively in tests/interop.rs.
const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

let jwks;
let worker;
const keys = {};
let hmac;
/** Every token and secret sent, to check the logs. */
const secrets = [];

const claims = (extra = {}) => ({ iss: ISS, sub: `user-${randomUUID()}`, aud: AUD, ...extra });
const send = (token, init = {}) => {
  secrets.push(token);
  return worker.fetch('/resource?q=1', { token, ...init });
};
const refused = (res, expect) => assertRefused(res, { realm: REALM, ...expect });

before(async () => {
  for (const alg of ALGS) keys[alg] = await newKey(alg);
  hmac = newHmacKey('HS256');
  secrets.push(hmac.binding);
  jwks = await JwksServer.start(Object.values(keys));
  worker = await startWorker({
    config: {
      issuers: [
        { issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD] },
        { issuer: HMAC_ISS, hmac_secret: 'EDGE_HMAC_KEY', audiences: [AUD] },
      ],
      sources: [
        { type: 'authorization', schemes: ['Bearer'] },
        { type: 'cookie', name: 'jwt' },
      ],
      mode: 'verdict',
      realm: REALM,
      dev_allow_http_loopback: true,
    },
    bindings: { EDGE_HMAC_KEY: hmac.binding },
  });
});

after(closeAll);

for (const alg of ALGS) {
  test(`${alg}: a valid token is accepted with the verdict`, async () => {
    const key = keys[alg];
    const c = claims({ roles: ['reader'], n: 7 });
    const token = await mint(key, c);
    const v = assertVerdict(await send(token), { kid: key.kid, alg, claims: { iss: ISS, sub: c.sub } });
    assert.deepEqual(v.claims, payloadOf(token), 'claims are the verified payload');
    assert.ok(['memory', 'kv', 'issuer', 'stale'].includes(v.key_source), `key_source ${v.key_source}`);
  });

  test(`${alg}: a tampered payload is refused (signature_invalid)`, async () => {
    const token = tamperPayload(await mint(keys[alg], claims()), (p) => {
      p.sub = 'admin';
    });
    refused(await send(token), { status: 401, code: 'signature_invalid' });
  });

  test(`${alg}: a signature by another key with the same kid is refused`, async () => {
    const impostor = await newKey(alg, keys[alg].kid);
    refused(await send(await mint(impostor, claims())), { status: 401, code: 'signature_invalid' });
  });
}

test('HS256 from the hmac_secret binding: valid, wrong secret, tampered', async () => {
  const c = { iss: HMAC_ISS, sub: 'svc-1', aud: AUD };
  const token = await mint(hmac, c);
  const v = assertVerdict(await send(token), { alg: 'HS256', key_source: 'secret', claims: { iss: HMAC_ISS, sub: 'svc-1' } });
  assert.deepEqual(v.claims, payloadOf(token));
  refused(await send(await mint(newHmacKey('HS256'), c)), { status: 401, code: 'signature_invalid' });
  refused(await send(tamperPayload(token, (p) => (p.sub = 'root'))), { status: 401, code: 'signature_invalid' });
});

test('HS256 for the JWKS issuer is refused (alg_not_allowed), not verified with a public key', async () => {
  const token = await mint(hmac, claims(), { header: { kid: keys.RS256.kid } });
  refused(await send(token), { status: 401, code: 'alg_not_allowed' });
});

test('alg none is refused (alg_not_allowed)', async () => {
  const t = now();
  for (const iss of [ISS, HMAC_ISS]) {
    const token = algNone({ iss, sub: 'admin', aud: AUD, iat: t, exp: t + 300 });
    refused(await send(token), { status: 401, code: 'alg_not_allowed' });
  }
});

test('expired token: 401 token_expired', async () => {
  const t = now();
  const token = await mint(keys.ES256, claims({ iat: t - 7200, exp: t - 3600 }));
  refused(await send(token), { status: 401, code: 'token_expired' });
});

test('not yet valid (nbf beyond the skew): 401 token_not_yet_valid', async () => {
  const t = now();
  const token = await mint(keys.ES256, claims({ iat: t, nbf: t + 600, exp: t + 900 }));
  refused(await send(token), { status: 401, code: 'token_not_yet_valid' });
});

test('lifetime beyond max_lifetime (default one day): 401 lifetime_too_long', async () => {
  const token = await mint(keys.ES256, claims(), { lifetime: 3 * 86_400 });
  refused(await send(token), { status: 401, code: 'lifetime_too_long' });
});

test('wrong audience: 403 audience_mismatch, error="insufficient_scope"', async () => {
  const token = await mint(keys.RS256, claims({ aud: 'api://somebody-else' }));
  refused(await send(token), { status: 403, code: 'audience_mismatch', error: 'insufficient_scope' });
});

test('wrong issuer (not configured, two issuers): 401 issuer_mismatch, no JWKS fetch for it', async () => {
  const before = jwks.count;
  const token = await mint(keys.ES256, claims({ iss: 'https://evil.edge.test' }));
  refused(await send(token), { status: 401, code: 'issuer_mismatch' });
  const noIss = await mint(keys.ES256, claims({ iss: undefined }));
  const res = await send(noIss);
  assert.equal(res.status, 401, res.text);
  assert.ok(['issuer_mismatch', 'claim_missing'].includes(res.json?.code), `no iss: ${res.text}`);
  assert.equal(jwks.count, before, 'no JWKS fetch for an unknown issuer');
});

test('no token: 401 with only the realm in WWW-Authenticate (token_missing)', async () => {
  refused(await worker.fetch('/resource'), { status: 401, code: 'token_missing' });
  // Another scheme is not ours: still no token.
  refused(await worker.fetch('/resource', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), {
    status: 401,
    code: 'token_missing',
  });
});

test('the token from the cookie source is accepted', async () => {
  const c = claims();
  const token = await mint(keys.ES384, c);
  secrets.push(token);
  const res = await worker.fetch('/resource', { headers: { cookie: `theme=dark; jwt=${token}; lang=en` } });
  assertVerdict(res, { alg: 'ES384', claims: { sub: c.sub } });
});

test('two tokens (header and cookie): 400 request_malformed, error="invalid_request"', async () => {
  const token = await mint(keys.ES256, claims());
  const res = await send(token, { headers: { cookie: `jwt=${token}` } });
  refused(res, { status: 400, code: 'request_malformed', error: 'invalid_request' });
});

test('garbage tokens: 401 token_malformed', async () => {
  for (const garbage of ['not-a-jwt', 'a.b.c', 'eyJhbGciOiJFUzI1NiJ9.e30', 'eyJ.eyJ.sig']) {
    refused(await send(garbage), { status: 401, code: 'token_malformed' });
  }
});

test('a token longer than max_token_bytes: 401 token_too_large', async () => {
  const t = now();
  const big = await mint(keys.ES256, claims({ pad: 'x'.repeat(20_000), iat: t }));
  refused(await send(big), { status: 401, code: 'token_too_large' });
});

test('one JSON log line per decision; no token or secret in any log line', async () => {
  const before = worker.jsonLogs().length;
  const good = await mint(keys.EdDSA, claims());
  assertVerdict(await send(good));
  await waitFor(() => worker.jsonLogs().length >= before + 1, { what: 'a log line for the acceptance' });
  const bad = tamperPayload(good, (p) => (p.sub = 'x'));
  refused(await send(bad), { status: 401, code: 'signature_invalid' });
  await waitFor(() => worker.jsonLogs().length >= before + 2, { what: 'a log line for the refusal' });
  refused(await worker.fetch('/resource'), { status: 401, code: 'token_missing' });
  await waitFor(() => worker.jsonLogs().length >= before + 3, { what: 'a log line for the missing token' });
  await sleep(200);
  assert.equal(worker.jsonLogs().length, before + 3, 'exactly one JSON log line per decision');

  assert.ok(worker.logs.length > 0, 'the worker logs');
  for (const log of worker.logs) {
    for (const s of secrets) {
      // A token's signature (or the whole secret) must never reach the logs.
      const needle = s.includes('.') ? s.split('.')[2] || s : s;
      if (needle.length < 16) continue;
      assert.ok(!log.message.includes(needle), `a log line contains a credential: ${log.message.slice(0, 200)}`);
    }
  }
});

// ---------------------------------------------------------------- issue 14, items 13 and 14

test('a token that cannot verify is refused before any JWKS fetch, on a cold isolate', async () => {
  const issuerKeys = await JwksServer.start([keys.ES256]);
  const cold = await startWorker({
    config: {
      issuers: [{ issuer: ISS, jwks_uri: issuerKeys.uri, audiences: [AUD], algorithms: ['ES256', 'RS256'] }],
      mode: 'verdict',
      realm: REALM,
      dev_allow_http_loopback: true,
    },
  });
  const payload = { ...claims(), exp: now() + 300 };
  const junk = [
    // alg not on the allow-list, `none`, unknown, huge
    [`${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u(payload)}.${b64u('x'.repeat(32))}`, 'alg_not_allowed'],
    [algNone(payload), 'alg_not_allowed'],
    [`${b64u({ alg: 'XX999' })}.${b64u(payload)}.${b64u('x'.repeat(64))}`, 'alg_not_allowed'],
    [`${b64u({ alg: 'A'.repeat(11_000) })}.${b64u(payload)}.${b64u('x'.repeat(64))}`, 'alg_not_allowed'],
    // an ES256 signature must be exactly 64 bytes; an RS256 one at most 512
    [`${b64u({ alg: 'ES256', kid: keys.ES256.kid })}.${b64u(payload)}.${b64u('x'.repeat(10))}`, 'signature_invalid'],
    [`${b64u({ alg: 'RS256', kid: 'k' })}.${b64u(payload)}.${b64u('x'.repeat(600))}`, 'signature_invalid'],
  ];
  for (const [token, code] of junk) {
    const res = await cold.fetch('/junk', { token });
    assertRefused(res, { status: 401, code, realm: REALM });
  }
  assert.equal(issuerKeys.count, 0, 'no JWKS fetch for tokens that cannot verify');
  assertVerdict(await cold.fetch('/ok', { token: await mint(keys.ES256, claims()) }));
  assert.equal(issuerKeys.count, 1, 'a token that could verify fetches the keys');
  await cold.dispose();
});

test('untrusted values in the decision log are bounded and printable', async () => {
  const before = worker.jsonLogs().length;
  const payload = { ...claims(), exp: now() + 300 };
  const hugeAlg = `${b64u({ alg: 'A'.repeat(11_000) })}.${b64u(payload)}.${b64u('x'.repeat(64))}`;
  refused(await send(hugeAlg), { status: 401, code: 'alg_not_allowed' });
  const oddKid = `${b64u({ alg: 'ES256', kid: `k\u00e9${'k'.repeat(250)}` })}.${b64u(payload)}.${b64u('x'.repeat(64))}`;
  refused(await send(oddKid), { status: 401, code: 'no_matching_key' });
  await waitFor(() => worker.jsonLogs().length >= before + 2, { what: 'two decision lines' });
  const lines = worker.jsonLogs().slice(before);
  const [first, second] = lines.filter((l) => l.event === 'decision');
  assert.ok(first.alg.length <= 17, `alg logged with ${first.alg.length} characters`);
  assert.ok(second.kid.length <= 129, `kid logged with ${second.kid.length} characters`);
  assert.match(second.kid, /^[ -~]+…?$/, 'kid logged as printable ASCII');
  for (const log of worker.logs) assert.ok(log.message.length < 2048, `a log line of ${log.message.length} characters`);
});

// RSA's Montgomery products take the SIMD loop only in a simd128 build (.cargo/config.toml).
test('the worker wasm is built with WebAssembly SIMD (its target_features section lists +simd128)', () => {
  const features = wasmTargetFeatures(readFileSync(WORKER_WASM));
  assert.ok(features.includes('+simd128'), `target_features: ${features.join(' ')}`);
});
