// The npm Verifier's verified-token cache (issue 18, lever 5): the same token again is a
// hit (`cacheStats()`), with the same verdict as a verifier without the cache; the time
// claims are checked again at each call's `now`; an altered token never hits; the cache
// is bounded, and what it costs in wasm memory per entry is measured here (the README's
// number). Tokens are minted by jose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as jose from 'jose';
import { PKG_DIR, loadPackage } from './helpers.mjs';

const { Verifier, JwtEdgeError } = await loadPackage('node.js');
// The package's wasm instance (initSync returns the one node.js made): its memory.
const bindings = await import(`${PKG_DIR}/wasm/jwt_edge.js`);
const exports = bindings.initSync({ module: readFileSync(`${PKG_DIR}/wasm/jwt_edge_bg.wasm`) });
const memoryBytes = () => exports.memory.buffer.byteLength;

const NOW = 1_800_000_000;
const ISS = 'https://issuer.example';
const AUD = 'api://jwt-edge';
const secret = crypto.getRandomValues(new Uint8Array(32));
const secretText = Buffer.from(secret).toString('base64url');
const es = await jose.generateKeyPair('ES256', { extractable: true });
const jwks = { keys: [{ ...(await jose.exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256' }] };

/** Claims shaped like an identity provider's access token: about 600 bytes as a JWT. */
const claims = (n, extra = {}) => ({
  iss: ISS,
  aud: AUD,
  sub: `auth0|${String(n).padStart(24, '0')}`,
  azp: 'k8Cq3dX0lY1bW2oPzA7sQ9eN4rT6uV5m',
  org_id: 'org_Xh2kQp9LmN4vB7sT',
  email: `user${n}@example.com`,
  scope: 'openid profile email read:items write:items',
  permissions: ['read:items', 'write:items'],
  iat: NOW - 10,
  nbf: NOW - 10,
  exp: NOW + 300,
  jti: `jti-${n}-${'x'.repeat(16)}`,
  ...extra,
});
const hs256 = (c) => new jose.SignJWT(c).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(secret);
const es256 = (c) => new jose.SignJWT(c).setProtectedHeader({ alg: 'ES256', kid: 'es-1' }).sign(es.privateKey);

const options = (extra = {}) => ({ jwks, secret: secretText, issuer: ISS, audience: AUD, ...extra });
const codeOf = (fn) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof JwtEdgeError, String(err));
    return err.code;
  }
};

test('the same verdicts with and without the cache; the second sight is a hit', async () => {
  const cached = new Verifier(options());
  const plain = new Verifier(options({ tokenCacheEntries: 0 }));
  const tokens = [
    await es256(claims(1)),
    await hs256(claims(2)),
    await es256(claims(3, { aud: 'other' })),
    await hs256(claims(4, { exp: NOW - 100 })),
    await es256(claims(5, { iss: 'https://evil.example' })),
  ];
  for (const token of tokens) {
    const expected = codeOf(() => plain.verify(token, { now: NOW }));
    for (let i = 0; i < 3; i++) {
      assert.equal(codeOf(() => cached.verify(token, { now: NOW })), expected);
    }
    if (expected === 'ok') {
      assert.deepEqual(cached.verify(token, { now: NOW }), plain.verify(token, { now: NOW }));
    }
  }
  // Two accepted tokens: one miss each, then three hits each (two loops, one deepEqual).
  // Three refused tokens: a miss on every call (3 each).
  assert.deepEqual(cached.cacheStats(), { hits: 6, misses: 2 + 9, entries: 2 });
  assert.deepEqual(plain.cacheStats(), { hits: 0, misses: 0, entries: 0 });
});

test('a hit is checked against each call\'s now; an altered token never hits', async () => {
  const v = new Verifier(options());
  const token = await es256(claims(7));
  v.verify(token, { now: NOW });
  v.verify(token, { now: NOW + 200 });
  assert.equal(v.cacheStats().hits, 1);
  assert.equal(codeOf(() => v.verify(token, { now: NOW - 1000 })), 'token_not_yet_valid');
  assert.equal(codeOf(() => v.verify(token, { now: NOW + 300 + 60 })), 'token_expired');
  assert.equal(v.cacheStats().entries, 0);

  v.verify(token, { now: NOW });
  const [h, p, s] = token.split('.');
  const hitsBefore = v.cacheStats().hits;
  for (let i = 0; i < s.length; i += 5) {
    const forged = `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
    assert.notEqual(codeOf(() => v.verify(forged, { now: NOW })), 'ok');
  }
  const otherPayload = Buffer.from(JSON.stringify(claims(7, { sub: 'admin' }))).toString('base64url');
  assert.equal(codeOf(() => v.verify(`${h}.${otherPayload}.${s}`, { now: NOW })), 'signature_invalid');
  assert.equal(v.cacheStats().hits, hitsBefore, 'an altered token hit the cache');
  assert.throws(() => new Verifier(options({ tokenCacheEntries: 100_001 })), (err) => err.code === 'config_invalid');
  assert.throws(() => new Verifier(options({ tokenCacheEntries: -1 })), (err) => err.code === 'config_invalid');
  assert.throws(() => new Verifier(options({ tokenCacheEntries: '5' })), (err) => err.code === 'config_invalid');
});

test('memory: bounded by tokenCacheEntries, and measured per entry', async (t) => {
  const N = 5_000;
  const tokens = [];
  for (let n = 0; n < 2 * N; n++) tokens.push(await hs256(claims(n)));
  const size = tokens[0].length;
  assert.ok(size >= 550 && size <= 700, `a token of ${size} bytes`);

  // Warm the allocator with a verifier that remembers nothing, then measure one that does.
  const off = new Verifier(options({ tokenCacheEntries: 0 }));
  for (const token of tokens.slice(0, N)) off.verify(token, { now: NOW });
  off.free();
  const before = memoryBytes();
  const v = new Verifier(options({ tokenCacheEntries: N }));
  for (const token of tokens.slice(0, N)) v.verify(token, { now: NOW });
  assert.equal(v.cacheStats().entries, N);
  const grown = memoryBytes() - before;
  const perEntry = grown / N;
  t.diagnostic(`wasm memory per cached ${size}-byte token: ${Math.round(perEntry)} bytes (${N} entries: +${grown} B)`);
  // Another N tokens: the oldest make room, so memory stays within a page or two.
  const full = memoryBytes();
  for (const token of tokens.slice(N)) v.verify(token, { now: NOW });
  assert.equal(v.cacheStats().entries, N);
  const more = memoryBytes() - full;
  t.diagnostic(`another ${N} tokens through the full cache: +${more} B`);
  assert.ok(more <= grown / 4, `a full cache kept growing: +${more} B after +${grown} B`);
  // An entry is a digest, the algorithm and the kid (the claims are read again from the
  // token on a hit): a few hundred bytes, never a copy of the claims (2.9 KB when it was).
  assert.ok(perEntry < 512, `${Math.round(perEntry)} bytes per entry`);
  v.free();
});
