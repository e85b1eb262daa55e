// An invalid JWT_EDGE_CONFIG in workerd: every request gets 500 application/problem+json
// with code config_invalid and a detail naming the field (never the value), and the
// worker fetches nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ISS, JwksServer, closeAll, mint, newKey, startWorker } from './harness.mjs';

let key;
let jwks;

before(async () => {
  key = await newKey('ES256');
  jwks = await JwksServer.start([key]);
});

after(closeAll);

const issuer = () => ({ issuer: ISS, jwks_uri: jwks.uri });
const valid = () => ({ issuers: [issuer()], mode: 'verdict', dev_allow_http_loopback: true });

/** name, binding text (null: no binding), the field the detail must name, a value it must not contain. */
const CASES = [
  ['not JSON', () => '{"issuers": [', 'JWT_EDGE_CONFIG'],
  ['no binding', () => null, 'JWT_EDGE_CONFIG'],
  ['no issuers', () => JSON.stringify({ ...valid(), issuers: [] }), 'issuers'],
  [
    'http jwks_uri without dev_allow_http_loopback',
    () => JSON.stringify({ ...valid(), dev_allow_http_loopback: false }),
    'jwks_uri',
    () => jwks.uri,
  ],
  ['unknown mode', () => JSON.stringify({ ...valid(), mode: 'yolo' }), 'mode', () => 'yolo'],
  ['fetch_timeout_ms 0', () => JSON.stringify({ ...valid(), fetch_timeout_ms: 0 }), 'fetch_timeout_ms'],
  ['token_cache_entries over 100000', () => JSON.stringify({ ...valid(), token_cache_entries: 100_001 }), 'token_cache_entries'],
  ['token_cache_entries negative', () => JSON.stringify({ ...valid(), token_cache_entries: -1 }), 'token_cache_entries'],
  ['max_token_bytes a string', () => JSON.stringify({ ...valid(), max_token_bytes: '4096' }), 'max_token_bytes'],
  ['token_cache_entries a string', () => JSON.stringify({ ...valid(), token_cache_entries: '10' }), 'token_cache_entries'],
  [
    'hmac_secret not a binding name',
    () => JSON.stringify({ ...valid(), issuers: [{ ...issuer(), hmac_secret: 'not a name!' }] }),
    'hmac_secret',
    () => 'not a name!',
  ],
  [
    'hmac_secrets with a binding that is not a name',
    () => JSON.stringify({ ...valid(), issuers: [{ ...issuer(), hmac_secrets: { 'client-7': 'not a name!' } }] }),
    'issuers.hmac_secrets',
    () => 'not a name!',
  ],
  [
    'hmac_secrets with an empty kid',
    () => JSON.stringify({ ...valid(), issuers: [{ ...issuer(), hmac_secrets: { '': 'CLIENT_7' } }] }),
    'issuers.hmac_secrets',
  ],
  [
    'unknown algorithm',
    () => JSON.stringify({ ...valid(), issuers: [{ ...issuer(), algorithms: ['RS256', 'none'] }] }),
    'algorithms',
  ],
  [
    'claim header that is Authorization',
    () => JSON.stringify({ ...valid(), claim_headers: { sub: 'Authorization' } }),
    'claim_headers',
  ],
];

for (const [name, text, field, secretValue] of CASES) {
  test(`invalid config (${name}) → 500 config_invalid naming ${field}, on every request`, async () => {
    const w = await startWorker({ rawConfig: text() });
    const token = await mint(key, { iss: ISS, sub: 'user-1' });
    const results = [
      await w.fetch('/'),
      await w.fetch('/x?y=1', { token }),
      await w.fetch('/', { method: 'POST', body: 'x', token }),
    ];
    for (const res of results) {
      assert.equal(res.status, 500, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.json?.code, 'config_invalid', res.text);
      assert.equal(res.json.status, 500, res.text);
      assert.equal(typeof res.json.detail, 'string', `detail: ${res.text}`);
      assert.ok(res.json.detail.includes(field), `detail names ${field}: ${res.json.detail}`);
      if (secretValue) assert.ok(!res.text.includes(secretValue()), `the value is not echoed: ${res.text}`);
    }
    assert.equal(jwks.count, 0, 'nothing fetched with an invalid configuration');
    await w.dispose();
  });
}

test('the same issuer with a valid config is accepted (control)', async () => {
  const w = await startWorker({ rawConfig: JSON.stringify(valid()) });
  const token = await mint(key, { iss: ISS, sub: 'user-1' });
  const res = await w.fetch('/', { token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.valid, true);
  await w.dispose();
});
