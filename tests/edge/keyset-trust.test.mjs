// Key-set trust in workerd (issue 14, findings 6–9): KV snapshots bound to their
// jwks_uri and checked when read, answers with no usable key never replacing a good
// set, and redirects from jwks_uri never followed.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import {
  ISS,
  JwksServer,
  assertRefused,
  assertVerdict,
  claimsFor,
  closeAll,
  mint,
  newHmacKey,
  newKey,
  now,
  sleep,
  startWorker,
  tempDir,
  verdictConfig,
  waitFor,
} from './harness.mjs';

after(closeAll);

const config = (uri, extra = {}, issuerExtra = {}) =>
  verdictConfig(uri, { fetch_timeout_ms: 1000, ...extra }, issuerExtra);
const warnings = (worker, event) => worker.jsonLogs('warn').filter((l) => l.event === event);

/** The one JWKS_CACHE snapshot entry (`jwks:` keys), once written. */
async function snapshotEntry(worker) {
  const kv = await worker.kv('JWKS_CACHE');
  const { keys } = await waitFor(
    async () => {
      const list = await kv.list({ prefix: 'jwks:' });
      return list.keys.length > 0 ? list : null;
    },
    { what: 'a JWKS_CACHE snapshot in KV' },
  );
  assert.equal(keys.length, 1, `one snapshot: ${keys.map((k) => k.name)}`);
  return { kv, name: keys[0].name, value: JSON.parse(await kv.get(keys[0].name)) };
}

/** A loopback server that answers every request with `status` and `Location: location`. */
async function redirector(status, location) {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests += 1;
    req.resume();
    res.writeHead(status, { location, 'content-type': 'text/plain' });
    res.end('moved');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.uri = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

describe('KV snapshots (findings 6 and 7)', { concurrency: true, timeout: 60_000 }, () => {
  test('a new jwks_uri for the same issuer fetches the new URI, without the old ETag', async () => {
    const oldKey = await newKey('ES256');
    const newer = await newKey('ES256');
    const oldJwks = await JwksServer.start([oldKey]);
    const newJwks = await JwksServer.start([newer]);
    newJwks.setKeys(newer); // a different ETag from the old server's
    oldJwks.cacheControl = newJwks.cacheControl = 'public, max-age=3600';
    const persist = tempDir('jwt-edge-kv-');

    const a = await startWorker({ config: config(oldJwks.uri), persist });
    assertVerdict(await a.fetch('/', { token: await mint(oldKey, claimsFor()) }), { key_source: 'issuer' });
    const { value } = await snapshotEntry(a);
    assert.equal(value.jwks_uri, oldJwks.uri, 'the snapshot records its URI');
    await a.dispose();

    // Same issuer, same KV, the configuration now names another jwks_uri.
    const b = await startWorker({ config: config(newJwks.uri), persist });
    assertVerdict(await b.fetch('/', { token: await mint(newer, claimsFor()) }), { key_source: 'issuer', kid: newer.kid });
    assert.equal(newJwks.count, 1, 'the new URI was fetched');
    assert.equal(newJwks.requests[0].headers['if-none-match'], undefined, 'no If-None-Match from the old URI');
    // The old URI's keys are not this issuer's any more.
    assertRefused(await b.fetch('/', { token: await mint(oldKey, claimsFor()) }), { status: 401, code: 'no_matching_key' });
    assert.equal(oldJwks.count, 1, 'the old URI was never asked again');
    await b.dispose();
  });

  const plants = [
    ['from ten years in the future, fresh for ten years', (t) => ({ fetched_at: t + 10 * 365 * 86_400, max_age: 10 * 365 * 86_400 })],
    ['written 10 s ago, fresh for ten years (max_max_age 2 s)', (t) => ({ fetched_at: t - 10, max_age: 10 * 365 * 86_400 })],
  ];
  for (const [what, times] of plants) {
    test(`a planted snapshot ${what}: the attacker's token is refused and the issuer asked`, async () => {
      const key = await newKey('ES256');
      const attacker = await newKey('ES256');
      const jwks = await JwksServer.start([key]);
      const persist = tempDir('jwt-edge-kv-');
      const cache = { min_max_age: 1, default_max_age: 1, max_max_age: 2, max_staleness: 60 };

      const a = await startWorker({ config: config(jwks.uri, { cache }), persist });
      assertVerdict(await a.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'issuer' });
      const { kv, name, value } = await snapshotEntry(a);
      // Whoever can write JWKS_CACHE plants a snapshot of their own key, for this URI.
      await kv.put(
        name,
        JSON.stringify({ ...value, jwks: JSON.stringify({ keys: [attacker.jwk] }), etag: null, ...times(now()) }),
      );
      await a.dispose();

      const fetchesBefore = jwks.count;
      const b = await startWorker({ config: config(jwks.uri, { cache }), persist });
      const res = await b.fetch('/', { token: await mint(attacker, claimsFor()) });
      assertRefused(res, { status: 401, code: 'no_matching_key' });
      assert.ok(jwks.count > fetchesBefore, 'the issuer was asked');
      assertVerdict(await b.fetch('/', { token: await mint(key, claimsFor()) }), { kid: key.kid });
      await b.dispose();
    });
  }
});

describe('answers with no usable key (finding 8)', { concurrency: true, timeout: 60_000 }, () => {
  const rsa1024 = () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    return { ...publicKey.export({ format: 'jwk' }), kid: 'rsa-1024', alg: 'RS256', use: 'sig' };
  };
  const oct = () => ({ kty: 'oct', kid: 'hs', alg: 'HS256', k: Buffer.alloc(32, 9).toString('base64url') });
  const cases = [
    ['{"keys": []}', () => [], {}],
    ['only an RSA-1024 key', () => [rsa1024()], {}],
    ['only an oct key', () => [oct()], {}],
    // The configured secret does not make the issuer's own set usable.
    ['{"keys": []} for an issuer that also has an hmac_secret', () => [], { hmac_secret: 'ISSUER_SECRET', algorithms: ['ES256', 'HS256'] }],
  ];
  for (const [what, bad, issuerExtra] of cases) {
    test(`after a good set, ${what}: the good set keeps serving, logged`, async () => {
      const key = await newKey('ES256');
      const jwks = await JwksServer.start([key]);
      const worker = await startWorker({
        config: config(jwks.uri, { cache: { min_max_age: 1, default_max_age: 1, max_staleness: 60 } }, issuerExtra),
        bindings: issuerExtra.hmac_secret ? { ISSUER_SECRET: newHmacKey().binding } : {},
      });
      assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'issuer' });
      await sleep(150); // any refresh-ahead started by the first request lands
      jwks.setKeys(...bad());
      const fetchesBefore = jwks.count;
      await sleep(1300); // past max_age (1 s): the next request asks the issuer

      const res = await worker.fetch('/', { token: await mint(key, claimsFor()) });
      assertVerdict(res, { key_source: 'stale', kid: key.kid });
      assert.ok(jwks.count > fetchesBefore, 'the issuer was asked');
      const logged = warnings(worker, 'jwks_fetch_failed');
      assert.ok(
        logged.some((l) => l.code === 'jwks_invalid' && l.problem === 'no_usable_keys'),
        `logged: ${JSON.stringify(logged)}`,
      );
      // And again: still the good set.
      assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { kid: key.kid });
      await worker.dispose();
    });
  }

  test('with nothing cached, an answer with no usable key is 503 jwks_unavailable', async () => {
    const key = await newKey('ES256');
    const jwks = await JwksServer.start([]);
    const worker = await startWorker({ config: config(jwks.uri) });
    assertRefused(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { status: 503, code: 'jwks_unavailable' });
    assert.ok(warnings(worker, 'jwks_fetch_failed').some((l) => l.problem === 'no_usable_keys'));
    await worker.dispose();
  });
});

describe('redirects (finding 9)', { concurrency: true, timeout: 60_000 }, () => {
  for (const status of [302, 301, 307, 308]) {
    test(`a ${status} from jwks_uri to an attacker's set is not followed`, async (t) => {
      const attacker = await newKey('ES256');
      const target = await JwksServer.start([attacker]);
      const issuer = await redirector(status, target.uri);
      t.after(issuer.close);
      const worker = await startWorker({ config: config(issuer.uri) });
      const res = await worker.fetch('/', { token: await mint(attacker, claimsFor()) });
      assertRefused(res, { status: 503, code: 'jwks_unavailable' });
      assert.ok(issuer.requests >= 1, 'jwks_uri was asked');
      assert.equal(target.count, 0, 'the redirect target was never contacted');
      const logged = warnings(worker, 'jwks_redirect_refused');
      assert.ok(logged.some((l) => l.status === status && l.iss === ISS), `logged: ${JSON.stringify(worker.jsonLogs('warn'))}`);
      await worker.dispose();
    });
  }

  test('a redirect after a good set: the good set keeps serving', async () => {
    const key = await newKey('ES256');
    const attacker = await newKey('ES256');
    const target = await JwksServer.start([attacker]);
    const jwks = await JwksServer.start([key]);
    const worker = await startWorker({
      config: config(jwks.uri, { cache: { min_max_age: 1, default_max_age: 1, max_staleness: 60 } }),
    });
    assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'issuer' });
    await sleep(150);
    // The issuer now redirects every request to the attacker's set.
    jwks.handle = (req, res) => {
      jwks.requests.push({ method: req.method, url: req.url, headers: req.headers, at: Date.now() });
      req.resume();
      res.writeHead(302, { location: target.uri });
      res.end();
    };
    await sleep(1300);
    assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'stale' });
    assertRefused(await worker.fetch('/', { token: await mint(attacker, claimsFor()) }), { status: 401, code: 'no_matching_key' });
    assert.equal(target.count, 0, 'the redirect target was never contacted');
    await worker.dispose();
  });
});
