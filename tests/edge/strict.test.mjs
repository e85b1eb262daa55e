// Strict replay mode in workerd: one acceptance per jti through sharded Durable Objects,
// across isolates sharing the objects; alarms remove expired entries; an unreachable
// object fails closed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  AUD,
  FAULT_ENTRY,
  JwksServer,
  assertRefused,
  assertVerdict,
  closeAll,
  mint,
  newKey,
  startWorker,
  tempDir,
  waitFor,
} from './harness.mjs';

const ISS = 'https://strict.edge.test';

let key;
let jwks;
const config = (extra = {}) => ({
  dev_allow_http_loopback: true,
  mode: 'verdict',
  issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD], replay: 'strict', clock_skew: 0, ...extra }],
});
const claims = (extra = {}) => ({ iss: ISS, aud: AUD, sub: 'u', jti: randomUUID(), ...extra });

before(async () => {
  key = await newKey('ES256');
  jwks = await JwksServer.start([key]);
});
after(closeAll);

test('50 concurrent requests with one jti: exactly one accepted, in one isolate and across two', async () => {
  const persist = tempDir('jwt-edge-strict-');
  const a = await startWorker({ config: config(), persist });
  const token = await mint(key, claims());
  const results = await Promise.all(Array.from({ length: 50 }, () => a.fetch('/', { token })));
  const codes = results.map((r) => (r.status === 200 ? 'ok' : r.json?.code));
  assert.equal(codes.filter((c) => c === 'ok').length, 1, JSON.stringify(codes));
  assert.ok(codes.every((c) => c === 'ok' || c === 'token_replayed'));
  // Sequential replays are refused, never accepted.
  for (let i = 0; i < 5; i++) assertRefused(await a.fetch('/', { token }), { status: 401, code: 'token_replayed' });
  await a.dispose();
  // A fresh isolate has nothing in memory: the Durable Object alone refuses it.
  const b = await startWorker({ config: config(), persist });
  assertRefused(await b.fetch('/', { token }), { status: 401, code: 'token_replayed' });
  const other = await mint(key, claims());
  assert.equal((await b.fetch('/', { token: other })).status, 200);
  await b.dispose();
});

test('spread over shards: many jtis each accepted once', async () => {
  const w = await startWorker({ config: config({ replay_shards: 4 }) });
  const tokens = await Promise.all(Array.from({ length: 20 }, () => mint(key, claims())));
  const first = await Promise.all(tokens.map((token) => w.fetch('/', { token })));
  assert.ok(first.every((r) => r.status === 200), first.map((r) => r.status).join());
  const again = await Promise.all(tokens.map((token) => w.fetch('/', { token })));
  assert.ok(again.every((r) => r.json?.code === 'token_replayed'));
  await w.dispose();
});

test('entries are removed by the alarm once the token has expired', async () => {
  const w = await startWorker({ config: config({ replay_shards: 1 }) });
  const token = await mint(key, claims(), { lifetime: 2 });
  assert.equal((await w.fetch('/', { token })).status, 200);
  const ns = await w.mf.getDurableObjectNamespace('REPLAY_GUARD');
  const stub = ns.get(ns.idFromName('replay-shard-0'));
  const count = async () => Number(await (await stub.fetch('https://replay-guard/stats')).text());
  assert.equal(await count(), 1);
  await waitFor(async () => (await count()) === 0, { timeout: 8000, interval: 250, what: 'the alarm to sweep' });
  await w.dispose();
});

test('jti is required; an unreachable replay guard fails closed with 503', async () => {
  const w = await startWorker({ config: config() });
  assertRefused(await w.fetch('/', { token: await mint(key, claims({ jti: undefined })) }), {
    status: 401,
    code: 'claim_missing',
  });
  await w.dispose();
  // No REPLAY_GUARD binding at all: the object cannot be reached.
  const broken = await startWorker({ config: config(), durableObjects: {} });
  const res = await broken.fetch('/', { token: await mint(key, claims()) });
  assert.equal(res.status, 503, res.text);
  assert.equal(res.json.code, 'replay_unavailable');
  assert.ok(broken.jsonLogs('error').some((l) => l.event === 'replay_guard_unavailable'), 'the log says so');
  await broken.dispose();
});

test('the KV pre-filter refuses a jti already recorded in KV without asking the object', async () => {
  const w = await startWorker({ config: config({ replay_kv_prefilter: true }) });
  const token = await mint(key, claims());
  assert.equal((await w.fetch('/', { token })).status, 200);
  const kv = await w.kv('REPLAY');
  const keys = (await kv.list()).keys.map((k) => k.name);
  assert.equal(keys.length, 1, 'recorded in KV too');
  await w.dispose();
});

// Only what the object accepted is remembered: a 503 leaves the jti unused.
for (const prefilter of [false, true]) {
  test(`the object failing once${prefilter ? ' (with the KV pre-filter)' : ''}: 503, the retry 200, a third use 401`, async () => {
    const w = await startWorker({ config: config({ replay_kv_prefilter: prefilter }), entry: FAULT_ENTRY });
    const broken = { 'x-test-fault': 'replay-guard' };
    const token = await mint(key, claims());
    assertRefused(await w.fetch('/', { token, headers: broken }), { status: 503, code: 'replay_unavailable' });
    assert.ok(w.jsonLogs('error').some((l) => l.event === 'replay_guard_unavailable'), 'the failure is logged');
    assertVerdict(await w.fetch('/', { token }));
    assertRefused(await w.fetch('/', { token }), { status: 401, code: 'token_replayed' });
    // A replay the isolate remembers is refused without the object, even while it fails.
    assertRefused(await w.fetch('/', { token, headers: broken }), { status: 401, code: 'token_replayed' });
    if (prefilter) {
      const kv = await w.kv('REPLAY');
      assert.equal((await kv.list()).keys.length, 1, 'KV holds only the accepted use');
    }
    await w.dispose();
  });
}
