// Signed assertions for the origin (issue 6), in workerd. The worker signs the verified
// claims with the method and path it forwards; the origin checks it with jose (not our
// code): it verifies as sent and fails when the path, a claim or the timestamp is
// changed. The README's ten-line origin (examples/origin.mjs) runs as its own process
// behind the worker, and the CLI's `verify-assertion` agrees with jose.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as jose from 'jose';
import {
  CLI_BIN,
  ISS,
  JwksServer,
  Origin,
  ROOT,
  assertRefused,
  b64u,
  closeAll,
  mint,
  newKey,
  payloadOf,
  startWorker,
  tamperPayload,
  tempDir,
  waitFor,
} from './harness.mjs';

const TYP = 'jwt-edge-assertion+jwt';
const EXAMPLE = path.join(ROOT, 'examples/origin.mjs');

let issuerKey;
let jwks;
let origin;
let edPrivate;
let edPublic;
let proxy;

const baseConfig = (originUrl, assertion = {}) => ({
  issuers: [{ issuer: ISS, jwks_uri: jwks.uri }],
  mode: 'proxy',
  origin: originUrl,
  assertion: { key_secret: 'ASSERTION_KEY', ...assertion },
  dev_allow_http_loopback: true,
});

const claims = (extra = {}) => ({ iss: ISS, sub: 'user-42', tenant: 'acme', roles: ['reader'], ...extra });

/** What the README's origin does, with jose; `currentDate` moves the origin's clock. */
async function originCheck(assertion, { method, url }, key = edPublic, options = {}) {
  const { payload, protectedHeader } = await jose.jwtVerify(assertion, key, {
    issuer: 'jwt-edge',
    typ: TYP,
    maxTokenAge: 60,
    clockTolerance: 5,
    ...options,
  });
  if (payload.method !== method) throw Object.assign(new Error('method differs'), { code: 'MISMATCH' });
  if (payload.path !== url) throw Object.assign(new Error('path differs'), { code: 'MISMATCH' });
  return { payload, protectedHeader };
}

async function refusedBy(promise) {
  try {
    await promise;
  } catch (err) {
    return err.code;
  }
  assert.fail('the origin accepted it');
}

before(async () => {
  issuerKey = await newKey('ES256');
  jwks = await JwksServer.start([issuerKey]);
  origin = await Origin.start();
  const pair = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  edPrivate = await jose.exportJWK(pair.privateKey);
  edPublic = pair.publicKey;
  proxy = await startWorker({
    config: baseConfig(origin.url),
    bindings: { ASSERTION_KEY: JSON.stringify(edPrivate) },
  });
});

after(closeAll);

/** Sends one request through the worker and returns the assertion the origin got. */
async function forwardOnce(url, { method = 'GET', body, headers = {} } = {}) {
  const token = await mint(issuerKey, claims());
  const before = origin.requests.length;
  const res = await proxy.fetch(url, { token, method, body, headers });
  assert.equal(res.status, 201, res.text);
  assert.equal(origin.requests.length, before + 1);
  const seen = origin.last;
  const assertion = seen.headers['x-jwt-assertion'];
  assert.ok(assertion, 'the origin got an assertion');
  return { token, seen, assertion };
}

test('the origin verifies the assertion with jose: method, path with query, and the verified claims', async () => {
  const { token, seen, assertion } = await forwardOnce('/api/items?x=1&y=two%20words', {
    method: 'POST',
    body: '{"n":1}',
    headers: { 'X-Jwt-Assertion': 'forged-by-the-client', 'content-type': 'application/json' },
  });
  assert.notEqual(assertion, 'forged-by-the-client', "the client's header never reaches the origin");
  const { payload, protectedHeader } = await originCheck(assertion, seen);
  assert.equal(protectedHeader.alg, 'EdDSA');
  assert.equal(protectedHeader.typ, TYP);
  assert.equal(payload.method, 'POST');
  assert.equal(payload.path, '/api/items?x=1&y=two%20words');
  assert.equal(seen.url, payload.path);
  assert.deepEqual(payload.claims, payloadOf(token));
  assert.equal(payload.iss, 'jwt-edge');
  assert.equal(payload.exp - payload.iat, 60);
  assert.match(payload.jti, /^[A-Za-z0-9_-]{22}$/);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 10, 'iat is now');
  // A fresh jti per forwarded request.
  const again = await forwardOnce('/api/items?x=1&y=two%20words', { method: 'POST', body: '{}' });
  assert.notEqual(payloadOf(again.assertion).jti, payload.jti);
});

test('the assertion fails at the origin when the path, a claim or the timestamp is changed', async () => {
  const { seen, assertion } = await forwardOnce('/api/orders/7?expand=lines');
  await originCheck(assertion, seen);
  // Another path, query or method than the one signed.
  for (const request of [
    { method: 'GET', url: '/api/orders/8?expand=lines' },
    { method: 'GET', url: '/api/orders/7' },
    { method: 'GET', url: '/api/orders/7?expand=lines&admin=1' },
    { method: 'DELETE', url: '/api/orders/7?expand=lines' },
  ]) {
    assert.equal(await refusedBy(originCheck(assertion, request)), 'MISMATCH', JSON.stringify(request));
  }
  // A claim, the path or the timestamp changed inside the assertion: the signature breaks.
  for (const change of [
    (p) => (p.claims.sub = 'admin'),
    (p) => (p.claims.roles = ['admin']),
    (p) => (p.path = '/api/admin'),
    (p) => (p.iat += 3600),
    (p) => (p.exp += 3600),
  ]) {
    const forged = tamperPayload(assertion, change);
    const p = payloadOf(forged);
    const code = await refusedBy(originCheck(forged, { method: p.method, url: p.path }));
    assert.equal(code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', change.toString());
  }
  // The same assertion later than its lifetime (60 s) plus the skew (5 s).
  const late = new Date(Date.now() + 70_000);
  assert.equal(await refusedBy(originCheck(assertion, seen, edPublic, { currentDate: late })), 'ERR_JWT_EXPIRED');
  // Another key does not verify it.
  const stranger = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
  assert.equal(
    await refusedBy(originCheck(assertion, seen, stranger.publicKey)),
    'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  );
});

test('the CLI verify-assertion agrees with jose', { skip: !existsSync(CLI_BIN) && 'no target/debug/jwt-edge' }, async () => {
  const { seen, assertion } = await forwardOnce('/cli/check?q=1');
  const dir = tempDir();
  const keyFile = path.join(dir, 'assertion.pub.jwk');
  const { d, ...pub } = edPrivate;
  assert.ok(d);
  writeFileSync(keyFile, JSON.stringify(pub));
  const run = (...args) => {
    const r = spawnSync(CLI_BIN, ['verify-assertion', '--key', keyFile, ...args, assertion], { encoding: 'utf8' });
    return { status: r.status, verdict: JSON.parse(r.stdout || '{}'), stderr: r.stderr };
  };
  const ok = run('--method', 'GET', '--path', seen.url);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.verdict.valid, true);
  assert.equal(ok.verdict.claims.sub, 'user-42');
  const otherPath = run('--method', 'GET', '--path', '/cli/check?q=2');
  assert.deepEqual([otherPath.status, otherPath.verdict.code], [14, 'assertion_mismatch']);
  const otherMethod = run('--method', 'POST', '--path', seen.url);
  assert.deepEqual([otherMethod.status, otherMethod.verdict.code], [14, 'assertion_mismatch']);
  const later = run('--method', 'GET', '--path', seen.url, '--now', String(Math.floor(Date.now() / 1000) + 70));
  assert.deepEqual([later.status, later.verdict.code], [14, 'token_expired']);
  const forged = spawnSync(
    CLI_BIN,
    ['verify-assertion', '--key', keyFile, '--method', 'GET', '--path', seen.url, tamperPayload(assertion, (p) => (p.claims.sub = 'x'))],
    { encoding: 'utf8' },
  );
  assert.deepEqual([forged.status, JSON.parse(forged.stdout).code], [13, 'signature_invalid']);
});

test("the README's ten-line origin, as its own process behind the worker, accepts what passed and refuses what changed", async () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const example = readFileSync(EXAMPLE, 'utf8');
  assert.ok(readme.includes(example.trim()), 'README shows examples/origin.mjs verbatim');
  assert.ok(example.trim().split('\n').length <= 12, 'about ten lines');

  const port = await freePort();
  const { d, ...pub } = edPrivate;
  const child = spawn(process.execPath, [EXAMPLE], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), ASSERTION_PUBLIC_JWK: JSON.stringify(pub) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor(() => fetch(`${url}/`).then(() => true, () => false), { timeout: 10_000, what: `example origin (${stderr})` });
    const worker = await startWorker({
      config: baseConfig(url),
      bindings: { ASSERTION_KEY: JSON.stringify(edPrivate) },
    });
    const token = await mint(issuerKey, claims());
    const through = await worker.fetch('/hello?lang=en', { token });
    assert.equal(through.status, 200, through.text);
    assert.equal(through.text, 'hello user-42\n');
    // Straight to the origin: nothing, or a client's own header, is refused.
    assert.equal((await fetch(`${url}/hello?lang=en`)).status, 401);
    assert.equal((await fetch(`${url}/hello?lang=en`, { headers: { 'x-jwt-assertion': token } })).status, 401);
    // A genuine assertion (captured at the recording origin), replayed elsewhere or altered.
    const { seen, assertion } = await forwardOnce('/hello?lang=en');
    const at = (p, a, method = 'GET') => fetch(`${url}${p}`, { method, headers: { 'x-jwt-assertion': a } }).then((r) => r.status);
    assert.equal(await at(seen.url, assertion), 200, 'the captured assertion, for its own request');
    assert.equal(await at('/admin?lang=en', assertion), 401, 'another path');
    assert.equal(await at('/hello?lang=fr', assertion), 401, 'another query');
    assert.equal(await at(seen.url, assertion, 'DELETE'), 401, 'another method');
    assert.equal(await at(seen.url, tamperPayload(assertion, (p) => (p.claims.sub = 'admin'))), 401, 'a changed claim');
    assert.equal(await at(seen.url, tamperPayload(assertion, (p) => (p.iat += 30))), 401, 'a changed timestamp');
  } finally {
    child.kill();
  }
});

test('an HMAC assertion key (oct JWK) verifies at the origin with the shared secret', async () => {
  const secret = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
  const hmacOrigin = await Origin.start();
  const worker = await startWorker({
    config: baseConfig(hmacOrigin.url, { audience: 'orders', claims: ['sub'] }),
    bindings: { ASSERTION_KEY: JSON.stringify({ kty: 'oct', k: b64u(secret) }) },
  });
  const res = await worker.fetch('/orders', { token: await mint(issuerKey, claims()) });
  assert.equal(res.status, 201, res.text);
  const seen = hmacOrigin.last;
  const { payload, protectedHeader } = await originCheck(seen.headers['x-jwt-assertion'], seen, secret, {
    audience: 'orders',
    algorithms: ['HS256'],
  });
  assert.equal(protectedHeader.alg, 'HS256');
  assert.deepEqual(payload.claims, { sub: 'user-42' }, 'only the configured claims');
  assert.equal(
    await refusedBy(originCheck(seen.headers['x-jwt-assertion'], seen, new Uint8Array(32), { audience: 'orders' })),
    'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  );
});

test('without a usable assertion key every request fails closed and nothing is forwarded', async () => {
  const quiet = await Origin.start();
  for (const bindings of [
    {},
    { ASSERTION_KEY: 'not json' },
    { ASSERTION_KEY: JSON.stringify({ kty: 'oct', k: b64u(new Uint8Array(16)) }) },
    { ASSERTION_KEY: JSON.stringify({ ...edPrivate, d: undefined }) },
    { ASSERTION_KEY: JSON.stringify((await newKey('ES256')).jwk) },
  ]) {
    const worker = await startWorker({ config: baseConfig(quiet.url), bindings });
    const res = await worker.fetch('/x', { token: await mint(issuerKey, claims()) });
    assertRefused(res, { status: 500, code: 'config_invalid' });
    assert.ok(!res.text.includes(edPrivate.d), 'the key is never echoed');
    const logged = worker.logs.map((l) => l.message).join('\n');
    assert.ok(!logged.includes(edPrivate.d), 'the key is never logged');
    await worker.dispose();
  }
  assert.equal(quiet.requests.length, 0, 'the origin saw nothing');
});

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

test('issue 14: a custom assertion header has no client spelling at the origin; the assertion binds unknown methods as sent', async () => {
  const w = await startWorker({
    config: baseConfig(origin.url, { header: 'Edge-Assertion' }),
    bindings: { ASSERTION_KEY: JSON.stringify(edPrivate) },
  });
  const token = await mint(issuerKey, claims());
  const res = await w.fetch('/dav/item', {
    token,
    method: 'PROPFIND',
    body: '<propfind/>',
    headers: { Edge_Assertion: 'forged-by-the-client', 'edge-assertion': 'forged-too' },
  });
  assert.equal(res.status, 201, res.text);
  const seen = origin.last;
  assert.equal(seen.method, 'PROPFIND');
  const spellings = Object.keys(seen.headers).filter((h) => h.replaceAll('_', '-') === 'edge-assertion');
  assert.deepEqual(spellings, ['edge-assertion'], 'only the worker’s own header');
  const { payload } = await originCheck(seen.headers['edge-assertion'], seen);
  assert.equal(payload.method, 'PROPFIND', 'the assertion binds the method as forwarded');
  await w.dispose();
});
