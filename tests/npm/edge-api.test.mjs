// The package's edge API (issue 17), in Node from target/npm/jwt-edge: route requirements
// as options (`scopes`, `claims`), `refusal` (the worker's HTTP answer, from the core),
// `extractToken` (the worker's token sources), `ReplayGuard` over a KV namespace and
// `RemoteJwks` with a KV tier. Tokens are minted by jose; the KV here is a Map with the
// Workers KV `get`/`put` shape that records every call; the JWKS server is node:http on
// 127.0.0.1. Time moves through `now`, so every decision is deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as jose from 'jose';
import { loadPackage } from './helpers.mjs';

const { verify, Verifier, RemoteJwks, ReplayGuard, refusal, extractToken, JwtEdgeError } = await loadPackage('node.js');

const NOW = 1_800_000_000;
const SECRET = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
const BASE = { secret: SECRET, algorithms: ['HS256'], issuer: 'https://idp.example', audience: 'api', now: NOW };

function hs(claims, header = {}) {
  return new jose.SignJWT({ iss: 'https://idp.example', aud: 'api', sub: 'u', iat: NOW, exp: NOW + 300, ...claims })
    .setProtectedHeader({ alg: 'HS256', ...header })
    .sign(SECRET);
}

function refused(run, code) {
  assert.throws(run, (err) => err instanceof JwtEdgeError && err.code === code, `expected ${code}`);
}

async function rejected(promise, code) {
  await assert.rejects(promise, (err) => err instanceof JwtEdgeError && err.code === code, `expected ${code}`);
}

/** A KV namespace in memory, recording every call. */
function memoryKv({ failGet = false, failPut = false } = {}) {
  const data = new Map();
  const calls = [];
  return {
    data,
    calls,
    async get(key) {
      calls.push(['get', key]);
      if (failGet) throw new Error('kv down');
      return data.has(key) ? data.get(key) : null;
    },
    async put(key, value, options) {
      calls.push(['put', key, options]);
      if (failPut) throw new Error('kv down');
      data.set(key, value);
    },
  };
}

test('scopes and claims: every scope and every claim rule must hold (verify and Verifier)', async () => {
  const need = { ...BASE, scopes: ['items:write'], claims: { 'realm_access.roles': { contains: 'admin' } } };
  const good = await hs({ scope: 'items:read items:write', realm_access: { roles: ['admin'] } });
  assert.equal(verify(good, need).valid, true);
  assert.equal(new Verifier(need).verify(good).valid, true);
  const scp = await hs({ scp: ['items:write'], realm_access: { roles: ['admin'] } });
  assert.equal(verify(scp, need).valid, true);
  refused(() => verify(good, { ...need, scopes: ['items:write', 'admin'] }), 'insufficient_scope');
  // `scope` must be a string: an array there holds no scope.
  const scopeArray = await hs({ scope: ['items:write'], realm_access: { roles: ['admin'] } });
  refused(() => verify(scopeArray, need), 'insufficient_scope');
  const noRole = await hs({ scope: 'items:write', realm_access: { roles: ['user'] } });
  refused(() => verify(noRole, need), 'claim_mismatch');
  refused(() => new Verifier(need).verify(noRole), 'claim_mismatch');
  // Without the options, the same token is fine; bad options are config_invalid.
  assert.equal(verify(noRole, BASE).valid, true);
  refused(() => verify(good, { ...BASE, scopes: [] }), 'config_invalid');
  refused(() => verify(good, { ...BASE, scopes: ['a b'] }), 'config_invalid');
  refused(() => verify(good, { ...BASE, claims: { x: { matches: '.*' } } }), 'config_invalid');
});

test('refusal: the worker\'s status, challenge and problem+json body, from the core', async () => {
  const token = await hs({ scope: 'items:read' });
  let error;
  try {
    verify(token, { ...BASE, scopes: ['items:write'] });
  } catch (err) {
    error = err;
  }
  assert.equal(error.code, 'insufficient_scope');
  const answer = refusal(error, {
    realm: 'api',
    scope: 'items:write',
    resourceMetadata: 'https://api.example.com/.well-known/oauth-protected-resource',
  });
  assert.equal(answer.status, 403);
  assert.deepEqual(answer.headers, {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
    'www-authenticate':
      'Bearer realm="api", error="insufficient_scope", error_description="token lacks a scope this resource requires", scope="items:write", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"',
  });
  assert.deepEqual(JSON.parse(answer.body), {
    type: 'https://jwt-edge.dev/errors/insufficient_scope',
    title: 'token lacks a scope this resource requires',
    status: 403,
    detail: 'token lacks a scope this resource requires',
    valid: false,
    code: 'insufficient_scope',
    family: 'claims',
    message: 'token lacks a scope this resource requires',
  });
  // No token: 401 without an error attribute; the scope only on insufficient_scope.
  const missing = refusal(new JwtEdgeError('token_missing', 'no token in the request'), { scope: 'items:write' });
  assert.equal(missing.status, 401);
  assert.equal(missing.headers['www-authenticate'], 'Bearer realm="jwt-edge"');
  const expired = refusal(new JwtEdgeError('token_expired', 'token has expired'), { scope: 'x' });
  assert.equal(expired.headers['www-authenticate'], 'Bearer realm="jwt-edge", error="invalid_token", error_description="token has expired"');
  const down = refusal(new JwtEdgeError('jwks_unavailable', "the issuer's keys are unavailable"));
  assert.equal(down.status, 503);
  assert.equal(down.headers['www-authenticate'], undefined);
  refused(() => refusal({ code: 'no_such_code', message: 'x' }), 'config_invalid');
});

test('extractToken: the worker\'s sources, one token or a typed refusal', () => {
  const headers = (map) => (name) => map[name] ?? null;
  assert.equal(extractToken({ headers: headers({ authorization: 'Bearer abc.def.ghi' }) }), 'abc.def.ghi');
  assert.equal(extractToken({ headers: headers({ authorization: 'bearer abc.def.ghi' }) }), 'abc.def.ghi');
  refused(() => extractToken({ headers: headers({}) }), 'token_missing');
  const both = [{ type: 'authorization', schemes: ['Bearer'] }, { type: 'cookie', name: 'session' }];
  assert.equal(extractToken({ sources: both, headers: headers({ cookie: 'a=1; session=x.y.z' }) }), 'x.y.z');
  refused(
    () => extractToken({ sources: both, headers: headers({ authorization: 'Bearer a.b.c', cookie: 'session=x.y.z' }) }),
    'request_malformed',
  );
  const custom = [{ type: 'header', name: 'X-Auth-Token' }];
  assert.equal(extractToken({ sources: custom, headers: headers({ 'x-auth-token': 'h.e.y' }) }), 'h.e.y');
  refused(() => extractToken({ headers: headers({ authorization: `Bearer ${'a'.repeat(20_000)}` }) }), 'token_too_large');
  refused(() => extractToken({ sources: [{ type: 'cookie' }], headers: headers({}) }), 'config_invalid');
  // A query source (opt-in) reads the URL's query, decoded as URLSearchParams does.
  const query = [{ type: 'query', name: 'access_token' }];
  assert.equal(extractToken({ sources: query, headers: headers({}), url: 'https://api.example/x?a=1&access%5Ftoken=h.e.y' }), 'h.e.y');
  refused(() => extractToken({ sources: query, headers: headers({}) }), 'token_missing');
  refused(() => extractToken({ sources: query, headers: headers({}), url: 'https://a.example/?access_token=a.b.c&access_token=a.b.c' }), 'request_malformed');
  refused(() => extractToken({ sources: query, headers: headers({}), url: '/relative' }), 'config_invalid');
  const prefixed = [{ type: 'header', name: 'X-Auth', prefix: 'Token ' }];
  assert.equal(extractToken({ sources: prefixed, headers: headers({ 'x-auth': 'token h.e.y' }) }), 'h.e.y');
});

test('ReplayGuard: once per jti, in memory and across guards sharing a KV', async () => {
  const kv = memoryKv();
  const first = new ReplayGuard({ kv });
  const verdict = verify(await hs({ jti: 'one-time-1' }), BASE);
  await first.check(verdict, { now: NOW });
  await rejected(first.check(verdict, { now: NOW }), 'token_replayed');
  // The entry: the worker's key format, a TTL until exp + skew (at least 60 s).
  const puts = kv.calls.filter(([op]) => op === 'put');
  assert.equal(puts.length, 1);
  assert.match(puts[0][1], /^jti:v1:[0-9a-f]{64}$/);
  assert.deepEqual(puts[0][2], { expirationTtl: 300 + 60 });
  // Another isolate (another guard) sharing the KV refuses it too.
  await rejected(new ReplayGuard({ kv }).check(verdict.claims, { now: NOW }), 'token_replayed');
  // No jti: claim_missing; a KV that cannot be asked at all: replay_unavailable.
  await rejected(first.check(verify(await hs({}), BASE), { now: NOW }), 'claim_missing');
  assert.throws(() => new ReplayGuard({ kv: {} }), (err) => err.code === 'config_invalid');
  assert.throws(() => new ReplayGuard({ kv, memory: 600_000 }), (err) => err.code === 'config_invalid');
  // Best effort: a KV whose reads and writes fail still accepts a fresh jti once per isolate.
  const flaky = new ReplayGuard({ kv: memoryKv({ failGet: true, failPut: true }) });
  const again = verify(await hs({ jti: 'one-time-2' }), BASE);
  await flaky.check(again, { now: NOW });
  await rejected(flaky.check(again, { now: NOW }), 'token_replayed');
});

/** A JWKS server on 127.0.0.1 that counts requests. */
async function jwksServer(jwks) {
  const server = http.createServer((req, res) => {
    server.count += 1;
    if (server.down) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' });
    res.end(JSON.stringify(server.jwks));
  });
  server.count = 0;
  server.jwks = jwks;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${server.address().port}/jwks.json`;
  return server;
}

test('RemoteJwks with kv: memory, then KV, then the issuer; a second instance serves from KV', async (t) => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const server = await jwksServer({ keys: [jwk] });
  t.after(() => server.close());
  const token = await new jose.SignJWT({ sub: 'u', iat: NOW, exp: NOW + 300 })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .sign(privateKey);
  const kv = memoryKv();
  const waited = [];
  const waitUntil = (p) => waited.push(p);
  const first = new RemoteJwks(server.url, { devAllowHttpLoopback: true, kv });
  const a = await first.verify(token, { now: NOW, waitUntil });
  assert.equal(a.key_source, 'issuer');
  assert.equal(server.count, 1);
  // The KV write went to waitUntil, not before the answer; once it settles the set is in KV.
  assert.equal(waited.length, 1);
  await Promise.all(waited);
  const [[, key, options]] = kv.calls.filter(([op]) => op === 'put');
  assert.match(key, /^jwks:v2:[0-9a-f]{64}$/);
  assert.ok(options.expirationTtl >= 600, `ttl ${options.expirationTtl}`);
  assert.equal((await first.verify(token, { now: NOW + 1 })).key_source, 'memory');
  // Another isolate: nothing in memory, the KV snapshot, no fetch.
  const second = new RemoteJwks(server.url, { devAllowHttpLoopback: true, kv });
  const b = await second.verify(token, { now: NOW + 2 });
  assert.equal(b.key_source, 'kv');
  assert.equal(second.fetchCount, 0);
  assert.equal(server.count, 1);
  // A stored snapshot is untrusted input: a tampered one is refused and the issuer asked.
  kv.data.set(key, '{"not":"a snapshot"}');
  const events = [];
  const third = new RemoteJwks(server.url, { devAllowHttpLoopback: true, kv, onEvent: (e) => events.push(e.event) });
  assert.equal((await third.verify(token, { now: NOW + 3 })).key_source, 'issuer');
  assert.equal(server.count, 2);
  assert.ok(events.includes('kv_snapshot_refused'), JSON.stringify(events));
  // KV down: the issuer answers; nothing breaks.
  const fourth = new RemoteJwks(server.url, { devAllowHttpLoopback: true, kv: memoryKv({ failGet: true, failPut: true }) });
  assert.equal((await fourth.verify(token, { now: NOW })).key_source, 'issuer');
  // A KV without get/put is refused at construction.
  assert.throws(() => new RemoteJwks(server.url, { devAllowHttpLoopback: true, kv: {} }), (err) => err.code === 'config_invalid');
  await assert.rejects(first.verify(token, { now: NOW, waitUntil: 'no' }), (err) => err.code === 'config_invalid');
});
