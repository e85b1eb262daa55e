// Last-known-good in workerd: with max_age 1 s and max_staleness 3 s, an issuer that is
// down (503), answers garbage or is slower than fetch_timeout_ms keeps being served from
// the stale set until max_age + max_staleness, then 503 jwks_unavailable; a 304 answer
// revalidates the set; with nothing cached a failing issuer gives a quick 503.
// The scenarios run concurrently (each with its own worker and JWKS server).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  JwksServer,
  assertRefused,
  assertVerdict,
  claimsFor,
  closeAll,
  mint,
  newKey,
  sleep,
  startWorker,
  verdictConfig,
  waitFor,
} from './harness.mjs';

const TIMEOUT_MS = 300;
/** A request that waited for a failing fetch must still end well within this. */
const BOUND_MS = 2000;

after(closeAll);

const config = (jwks, extra = {}) =>
  verdictConfig(jwks, {
    fetch_timeout_ms: TIMEOUT_MS,
    cache: { min_max_age: 1, default_max_age: 1, max_staleness: 3 },
    ...extra,
  });
const sleepUntil = (t) => sleep(Math.max(0, t - Date.now()));

/** A worker whose only issuer has served its keys once; returns the times around it. */
async function primed(extra) {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const worker = await startWorker({ config: config(jwks, extra) });
  const tA = Date.now();
  assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'issuer' });
  await sleep(150); // any refresh-ahead started by the first request lands
  const tB = Date.now();
  return { key, jwks, worker, tA, tB };
}

describe('last-known-good', { concurrency: true, timeout: 30_000 }, () => {
  for (const mode of ['down', 'garbage', 'slow']) {
    test(`issuer ${mode} after the first fetch: stale set until max_age + max_staleness, then 503`, async () => {
      const { key, jwks, worker, tA, tB } = await primed();
      jwks.mode = mode;
      jwks.delayMs = 10_000;
      const fetchesBefore = jwks.count;

      // Past max_age (1 s), well within max_age + max_staleness (4 s).
      await sleepUntil(tB + 1300);
      assert.ok(Date.now() - tA < 2900, 'test timing: still within the staleness window');
      const stale = await worker.fetch('/', { token: await mint(key, claimsFor()) });
      assertVerdict(stale, { key_source: 'stale', kid: key.kid });
      assert.ok(stale.ms < BOUND_MS, `served stale in ${stale.ms} ms`);
      assert.ok(jwks.count > fetchesBefore, 'the stale set made the worker try the issuer');

      // Past max_age + max_staleness: fail closed.
      await sleepUntil(tB + 4300);
      const expired = await worker.fetch('/', { token: await mint(key, claimsFor()) });
      assertRefused(expired, { status: 503, code: 'jwks_unavailable' });
      assert.ok(expired.ms < BOUND_MS, `refused in ${expired.ms} ms`);

      // The issuer is back: accepted again, from the issuer.
      jwks.mode = 'ok';
      assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'issuer' });
      await worker.dispose();
    });
  }

  for (const mode of ['down', 'slow']) {
    test(`issuer ${mode} with a stale set: asked once per failure_cooldown, the requests between served stale at once`, async () => {
      const { key, jwks, worker, tB } = await primed({
        cache: { min_max_age: 1, default_max_age: 1, max_staleness: 60, failure_cooldown: 2 },
      });
      jwks.mode = mode;
      jwks.delayMs = 10_000;
      await sleepUntil(tB + 1300); // past max_age: stale
      const before = jwks.count;
      assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'stale' });
      assert.equal(jwks.count, before + 1, 'the first stale request asks the issuer');
      const t0 = Date.now();
      for (let i = 0; i < 10; i++) {
        assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'stale' });
      }
      assert.ok(Date.now() - t0 < 1500, 'test timing: still within the failure cooldown');
      assert.equal(jwks.count, before + 1, 'not asked again within failure_cooldown');

      // After the cooldown the issuer is asked again (still failing: stale again).
      await sleepUntil(t0 + 2300);
      assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'stale' });
      assert.equal(jwks.count, before + 2, 'asked again after failure_cooldown');

      // Back, and asked after the next cooldown: the fresh set replaces the stale one.
      jwks.mode = 'ok';
      await sleepUntil(t0 + 4600);
      assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'issuer' });
      await worker.dispose();
    });
  }

  test('304 Not Modified revalidates the set (If-None-Match with the stored ETag)', async () => {
    const { key, jwks, worker, tB } = await primed();
    await sleepUntil(tB + 1300);
    const r1 = await worker.fetch('/', { token: await mint(key, claimsFor()) });
    assertVerdict(r1);
    const revalidation = jwks.requests.at(-1);
    assert.equal(revalidation.headers['if-none-match'], jwks.etag, 'If-None-Match carries the stored ETag');
    // Past the first fetch's max_age + max_staleness: still accepted, the 304s renewed it.
    await sleepUntil(tB + 4300);
    assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }));
    await worker.dispose();
  });

  test('refresh-ahead: in the last fifth of max_age the answer comes from memory, the refetch runs in the background', async () => {
    // max_age 10 s: fresh below 8 s of age, refreshed ahead from 8 s, stale from 10 s.
    const { key, jwks, worker, tA } = await primed({
      fetch_timeout_ms: 5000,
      cache: { min_max_age: 1, default_max_age: 10, max_staleness: 60 },
    });
    const fetched = (await worker.kv('JWKS_CACHE').then((kv) => kv.list())).keys.length;
    assert.equal(fetched, 1, 'the first fetch is in KV');
    const tB = jwks.requests[0].at + 50;
    jwks.mode = 'slow';
    jwks.delayMs = 800;

    const fresh = await worker.fetch('/', { token: await mint(key, claimsFor()) });
    assertVerdict(fresh, { key_source: 'memory' });
    assert.equal(jwks.count, 1, 'no refresh while fresh');

    await sleepUntil(tB + 8100);
    assert.ok(Date.now() - tA < 8950, 'test timing: still before max_age');
    const ahead = await worker.fetch('/', { token: await mint(key, claimsFor()) });
    assertVerdict(ahead, { key_source: 'memory' });
    assert.ok(ahead.ms < jwks.delayMs, `answered from memory without waiting for the refresh (${ahead.ms} ms)`);
    const refresh = await waitFor(() => jwks.requests[1], { what: 'the background refresh' });
    assert.equal(refresh.headers['if-none-match'], jwks.etag, 'the refresh revalidates with the ETag');
    // The refresh (a 304, delayed 800 ms) lands: the KV snapshot is renewed.
    const kv = await worker.kv('JWKS_CACHE');
    await waitFor(
      async () => {
        const [{ name }] = (await kv.list()).keys;
        return JSON.parse(await kv.get(name)).fetched_at >= Math.floor(tB / 1000) + 8;
      },
      { timeout: 3000, what: 'the renewed snapshot in KV' },
    );
    assert.equal(jwks.count, 2, 'one background refresh');
    await worker.dispose();
  });

  for (const mode of ['down', 'slow', 'garbage']) {
    test(`issuer ${mode} with nothing cached: 503 quickly`, async () => {
      const key = await newKey('ES256');
      const jwks = await JwksServer.start([key]);
      jwks.mode = mode;
      jwks.delayMs = 10_000;
      const worker = await startWorker({ config: config(jwks) });
      assertRefused(await worker.fetch('/'), { status: 401, code: 'token_missing' }); // warm the isolate
      const res = await worker.fetch('/', { token: await mint(key, claimsFor()) });
      assert.equal(res.status, 503, res.text);
      assertRefused(res, { status: 503, code: 'jwks_unavailable' });
      assert.ok(res.ms < BOUND_MS, `answered in ${res.ms} ms (fetch_timeout_ms ${TIMEOUT_MS})`);
      assert.ok(jwks.count >= 1, 'the issuer was asked');
      await worker.dispose();
    });
  }
});
