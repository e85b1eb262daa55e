// Publishing keys at the edge: the worker serves an issuer's own JWKS from KV at
// /.well-known/jwks.json with Cache-Control and an ETag, and never a set with private
// members. The set is made by the real CLI (`jwt-edge jwks rotate`), as the README shows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as jose from 'jose';
import { CLI_BIN, closeAll, startWorker, tempDir } from './harness.mjs';

after(closeAll);

const config = {
  issuers: [{ issuer: 'https://issuer.test', jwks_uri: 'https://issuer.test/jwks.json' }],
  publish_jwks: { kv_key: 'published-jwks', max_age: 120 },
};

test('a set made by `jwt-edge jwks rotate` is served with Cache-Control and an ETag', async () => {
  assert.ok(existsSync(CLI_BIN), `${CLI_BIN} missing: cargo build --features cli`);
  const dir = tempDir();
  const jwksPath = path.join(dir, 'jwks.json');
  execFileSync(CLI_BIN, ['jwks', 'rotate', '--jwks', jwksPath, '--keys-dir', path.join(dir, 'keys'), '--alg', 'ES256']);
  const text = readFileSync(jwksPath, 'utf8');
  const worker = await startWorker({ config });
  await (await worker.kv('JWKS_CACHE')).put('published-jwks', text);
  const res = await worker.fetch('/.well-known/jwks.json');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=120');
  assert.match(res.headers.get('content-type'), /json/);
  const etag = res.headers.get('etag');
  assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
  assert.deepEqual(JSON.parse(res.text), JSON.parse(text));
  // The served set works with jose: a token signed with the private key verifies.
  const priv = JSON.parse(readFileSync(path.join(dir, 'keys', 'current.jwk'), 'utf8'));
  const token = await new jose.SignJWT({ sub: 'x' })
    .setProtectedHeader({ alg: 'ES256', kid: priv.kid })
    .setExpirationTime('5m')
    .sign(await jose.importJWK(priv, 'ES256'));
  const { payload } = await jose.jwtVerify(token, jose.createLocalJWKSet(JSON.parse(res.text)));
  assert.equal(payload.sub, 'x');
  const again = await worker.fetch('/.well-known/jwks.json', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');
  // Other paths still need a token.
  assert.equal((await worker.fetch('/other')).status, 401);
  await worker.dispose();
});

test('a set with private members or no set at all is never served', async () => {
  const worker = await startWorker({ config });
  let res = await worker.fetch('/.well-known/jwks.json');
  assert.equal(res.status, 503);
  assert.equal(res.json.code, 'jwks_unavailable');
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const leaked = { keys: [{ ...(await jose.exportJWK(privateKey)), kid: 'k' }] };
  await (await worker.kv('JWKS_CACHE')).put('published-jwks', JSON.stringify(leaked));
  res = await worker.fetch('/.well-known/jwks.json');
  assert.equal(res.status, 503);
  assert.equal(res.json.code, 'jwks_invalid');
  assert.ok(!res.text.includes(leaked.keys[0].d), 'private key material never echoed');
  await worker.dispose();
});

test('a set holding an HMAC secret (oct with k) is never served (issue 14 finding 5)', async () => {
  const worker = await startWorker({ config });
  const { publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const secret = Buffer.alloc(32, 7).toString('base64url');
  const withSecret = {
    keys: [
      { ...(await jose.exportJWK(publicKey)), kid: 'es', alg: 'ES256', use: 'sig' },
      { kty: 'oct', kid: 'hs', alg: 'HS256', k: secret },
    ],
  };
  const kv = await worker.kv('JWKS_CACHE');
  await kv.put('published-jwks', JSON.stringify(withSecret));
  const res = await worker.fetch('/.well-known/jwks.json');
  assert.equal(res.status, 503, res.text);
  assert.equal(res.json.code, 'jwks_invalid');
  assert.ok(!res.text.includes(secret), 'the secret is never echoed');
  // Without the secret the same set is served.
  await kv.put('published-jwks', JSON.stringify({ keys: [withSecret.keys[0]] }));
  assert.equal((await worker.fetch('/.well-known/jwks.json')).status, 200);
  await worker.dispose();
});
