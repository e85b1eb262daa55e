// JWKS caching in workerd: one fetch for many requests, the KV copy shared by a second
// instance (no fetch at all), key rotation (one refetch) and the unknown-kid cooldown.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  JwksServer,
  assertRefused,
  assertVerdict,
  claimsFor,
  closeAll,
  mint,
  newKey,
  now,
  startWorker,
  tempDir,
  verdictConfig,
  waitFor,
} from './harness.mjs';

after(closeAll);

const config = (jwks, extra = {}) => verdictConfig(jwks, extra);

/** The JWKS_CACHE entries, once the (possibly waitUntil) write has landed. */
async function kvSnapshots(worker) {
  const kv = await worker.kv('JWKS_CACHE');
  const { keys } = await waitFor(
    async () => {
      const list = await kv.list();
      return list.keys.length > 0 ? list : null;
    },
    { what: 'a JWKS_CACHE entry in KV' },
  );
  return Promise.all(keys.map(async (k) => ({ name: k.name, value: JSON.parse(await kv.get(k.name)) })));
}

test('20 requests → one JWKS fetch; a second instance on the same KV serves from KV with no fetch', async () => {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  jwks.cacheControl = 'public, max-age=1200';
  const persist = tempDir('jwt-edge-kv-');

  const t0 = now();
  const a = await startWorker({ config: config(jwks), persist });
  const sources = [];
  for (let i = 0; i < 20; i++) {
    const v = assertVerdict(await a.fetch('/', { token: await mint(key, claimsFor({ n: i })) }), { kid: key.kid });
    sources.push(v.key_source);
  }
  assert.equal(jwks.count, 1, 'exactly one JWKS fetch for 20 requests');
  assert.equal(sources[0], 'issuer', 'the first request fetched from the issuer');
  assert.deepEqual(new Set(sources.slice(1)), new Set(['memory']), `later requests from memory: ${sources}`);

  // 20 more at once: still from memory.
  const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => mint(key, claimsFor({ n: 100 + i }))));
  const burst = await Promise.all(tokens.map((token) => a.fetch('/', { token })));
  for (const r of burst) assertVerdict(r, { key_source: 'memory' });
  assert.equal(jwks.count, 1, 'still one fetch after a concurrent burst');

  const snapshots = await kvSnapshots(a);
  assert.equal(snapshots.length, 1, `one KV entry per issuer: ${snapshots.map((s) => s.name)}`);
  const [{ name, value }] = snapshots;
  assert.ok(name.length > 0);
  for (const field of ['jwks', 'fetched_at', 'max_age', 'etag', 'last_modified']) {
    assert.ok(field in value, `KV value has ${field}: ${JSON.stringify(value).slice(0, 300)}`);
  }
  const doc = typeof value.jwks === 'string' ? JSON.parse(value.jwks) : value.jwks;
  assert.deepEqual(doc.keys.map((k) => k.kid), [key.kid], 'the stored JWKS is the issuer’s');
  assert.ok(value.fetched_at >= t0 - 1 && value.fetched_at <= now() + 1, `fetched_at ${value.fetched_at}`);
  assert.equal(value.max_age, 1200, 'max_age from Cache-Control: max-age=1200');
  assert.equal(value.etag, jwks.etag, 'the ETag is stored');
  await a.dispose();

  const b = await startWorker({ config: config(jwks), persist });
  const v = assertVerdict(await b.fetch('/', { token: await mint(key, claimsFor()) }), { kid: key.kid });
  assert.equal(v.key_source, 'kv', 'the second instance found the keys in KV');
  assert.equal(jwks.count, 1, 'the second instance made no JWKS fetch');
  const v2 = assertVerdict(await b.fetch('/', { token: await mint(key, claimsFor()) }));
  assert.equal(v2.key_source, 'memory', 'then from its own memory');
  assert.equal(jwks.count, 1);
});

test('a cold isolate hit by 20 concurrent requests: one JWKS fetch, every request accepted', async () => {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const w = await startWorker({ config: config(jwks) });
  const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => mint(key, claimsFor({ n: i }))));
  const results = await Promise.all(tokens.map((token) => w.fetch('/', { token })));
  const summary = results.map((r) => `${r.status} ${r.json?.key_source ?? r.json?.code ?? r.text.slice(0, 120)}`);
  assert.equal(jwks.count, 1, 'one JWKS fetch shared by the burst');
  assert.deepEqual(
    results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text.slice(0, 160)}`),
    [],
    `every request of the burst accepted: ${JSON.stringify(countBy(summary))}`,
  );
  for (const r of results) assertVerdict(r, { kid: key.kid });
  await w.dispose();
});

function countBy(items) {
  const counts = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

test('max-age below min_max_age is clamped up (default floor 60)', async () => {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  jwks.cacheControl = 'max-age=5';
  const w = await startWorker({ config: config(jwks) });
  assertVerdict(await w.fetch('/', { token: await mint(key, claimsFor()) }));
  const [{ value }] = await kvSnapshots(w);
  assert.equal(value.max_age, 60);
  await w.dispose();
});

test('rotation: a new kid causes exactly one refetch; then 50 unknown kids at most one more; all no_matching_key', async () => {
  const oldKey = await newKey('RS256');
  const jwks = await JwksServer.start([oldKey]);
  const w = await startWorker({ config: config(jwks) });

  assertVerdict(await w.fetch('/', { token: await mint(oldKey, claimsFor()) }), { kid: oldKey.kid });
  assert.equal(jwks.count, 1);
  const firstEtag = jwks.etag;

  const rotated = await newKey('RS256');
  jwks.setKeys(rotated);
  const v = assertVerdict(await w.fetch('/', { token: await mint(rotated, claimsFor()) }), { kid: rotated.kid });
  assert.equal(v.key_source, 'issuer');
  assert.equal(jwks.count, 2, 'exactly one refetch for the new kid');
  assert.equal(jwks.requests[1].headers['if-none-match'], firstEtag, 'the refetch sends If-None-Match with the stored ETag');
  for (let i = 0; i < 3; i++) {
    assertVerdict(await w.fetch('/', { token: await mint(rotated, claimsFor()) }), { key_source: 'memory' });
  }
  assert.equal(jwks.count, 2);

  const stranger = await newKey('RS256');
  for (let i = 0; i < 50; i++) {
    const token = await mint(stranger, claimsFor(), { header: { kid: `unknown-${i}-${Math.random().toString(36).slice(2)}` } });
    assertRefused(await w.fetch('/', { token }), { status: 401, code: 'no_matching_key' });
  }
  assert.ok(jwks.count <= 3, `at most one fetch for 50 unknown kids (fetches: ${jwks.count - 2})`);

  // The rotated-out key is gone too (and asks for nothing within the cooldown).
  const before = jwks.count;
  assertRefused(await w.fetch('/', { token: await mint(oldKey, claimsFor()) }), { status: 401, code: 'no_matching_key' });
  assert.equal(jwks.count, before, 'no fetch within the cooldown');
  await w.dispose();
});

test('50 concurrent tokens with unknown kids → at most one refetch', async () => {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const w = await startWorker({ config: config(jwks) });
  assertVerdict(await w.fetch('/', { token: await mint(key, claimsFor()) }));
  assert.equal(jwks.count, 1);

  const stranger = await newKey('ES256');
  const tokens = await Promise.all(
    Array.from({ length: 50 }, (_, i) => mint(stranger, claimsFor(), { header: { kid: `burst-${i}` } })),
  );
  const results = await Promise.all(tokens.map((token) => w.fetch('/', { token })));
  const summary = results.map((r) => `${r.status} ${r.json?.code ?? r.text.slice(0, 120)}`);
  assert.deepEqual(countBy(summary), { '401 no_matching_key': 50 }, 'every unknown kid refused with no_matching_key');
  for (const r of results) assertRefused(r, { status: 401, code: 'no_matching_key' });
  assert.ok(jwks.count <= 2, `at most one refetch for a concurrent burst of unknown kids (fetches: ${jwks.count - 1})`);
  // The known key still works, from memory.
  assertVerdict(await w.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'memory' });
  await w.dispose();
});
