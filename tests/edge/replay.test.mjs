// Best-effort replay protection in workerd: a jti is accepted once (also when two
// requests carry it at the same time), a missing jti is refused, the KV REPLAY entry is
// a hash with expirationTtl max(60, exp − now + skew), and a second instance on the
// same KV refuses a jti the first one saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  AUD,
  FAULT_ENTRY,
  ISS,
  JwksServer,
  assertRefused,
  assertVerdict,
  closeAll,
  mint,
  newKey,
  now,
  sleep,
  startWorker,
  tamperPayload,
  tempDir,
  waitFor,
} from './harness.mjs';

const ISS_OFF = 'https://no-replay.edge.test';
const SKEW = 5;
// The authority of each mode, made to fail for one request by tests/edge/fault-entry.mjs.
const STORE_FAULT = { 'best-effort': 'no-replay-kv', strict: 'replay-guard' };

let key;
let jwks;
let persist;
let worker;
let config;

const claims = (extra = {}) => ({ iss: ISS, sub: 'user-1', aud: AUD, jti: randomUUID(), ...extra });

before(async () => {
  key = await newKey('ES256');
  jwks = await JwksServer.start([key]);
  persist = tempDir('jwt-edge-replay-');
  config = {
    issuers: [
      { issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD], replay: 'best-effort', clock_skew: SKEW },
      { issuer: ISS_OFF, jwks_uri: jwks.uri, audiences: [AUD] },
    ],
    mode: 'verdict',
    dev_allow_http_loopback: true,
  };
  worker = await startWorker({ config, persist });
});

after(closeAll);

test('the same jti twice: 200, then 401 token_replayed', async () => {
  const token = await mint(key, claims());
  assertVerdict(await worker.fetch('/', { token }));
  assertRefused(await worker.fetch('/', { token }), { status: 401, code: 'token_replayed' });
  assertRefused(await worker.fetch('/', { token }), { status: 401, code: 'token_replayed' });
  // Another token with the same jti (re-signed, other claims) is a replay too.
  const sameJti = await mint(key, claims({ jti: payloadJti(token), sub: 'user-2' }));
  assertRefused(await worker.fetch('/', { token: sameJti }), { status: 401, code: 'token_replayed' });
  // A new jti is fine.
  assertVerdict(await worker.fetch('/', { token: await mint(key, claims()) }));
});

test('concurrent requests with the same jti: exactly one 200', async () => {
  for (let round = 0; round < 5; round++) {
    const token = await mint(key, claims());
    const n = round === 0 ? 10 : 2;
    const results = await Promise.all(Array.from({ length: n }, () => worker.fetch('/', { token })));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `round ${round}: ${n} at once → ${results.map((r) => r.status)}`);
    for (const r of results) if (r.status !== 200) assertRefused(r, { status: 401, code: 'token_replayed' });
  }
});

test('missing jti: 401 claim_missing', async () => {
  assertRefused(await worker.fetch('/', { token: await mint(key, claims({ jti: undefined })) }), {
    status: 401,
    code: 'claim_missing',
  });
});

test('a refused token does not use up its jti', async () => {
  const token = await mint(key, claims());
  const forged = tamperPayload(token, (p) => (p.sub = 'admin'));
  assertRefused(await worker.fetch('/', { token: forged }), { status: 401, code: 'signature_invalid' });
  assertVerdict(await worker.fetch('/', { token }));
});

test('replay off for the other issuer: the same token twice is accepted', async () => {
  const token = await mint(key, claims({ iss: ISS_OFF }));
  assertVerdict(await worker.fetch('/', { token }), { claims: { iss: ISS_OFF } });
  assertVerdict(await worker.fetch('/', { token }), { claims: { iss: ISS_OFF } });
  const noJti = await mint(key, claims({ iss: ISS_OFF, jti: undefined }));
  assertVerdict(await worker.fetch('/', { token: noJti }));
});

test('KV REPLAY: hashed key, expirationTtl max(60, exp − now + skew)', async () => {
  const kv = await worker.kv('REPLAY');
  const names = async () => new Map((await kv.list()).keys.map((k) => [k.name, k]));
  // Earlier writes (possibly in waitUntil) settle first.
  await sleep(300);
  let known = await names();

  async function entryFor(token) {
    const jti = payloadJti(token);
    assertVerdict(await worker.fetch('/', { token }));
    const entry = await waitFor(
      async () => {
        const all = await names();
        const fresh = [...all.values()].filter((k) => !known.has(k.name));
        return fresh.length ? fresh : null;
      },
      { what: 'a new REPLAY entry' },
    );
    known = await names();
    assert.equal(entry.length, 1, 'one KV entry per accepted jti');
    assert.ok(!entry[0].name.includes(jti), `the KV key is a hash, not the jti: ${entry[0].name}`);
    assert.equal(typeof entry[0].expiration, 'number', `the entry expires: ${JSON.stringify(entry[0])}`);
    return entry[0];
  }

  // Long-lived: exp − now + skew.
  const long = await mint(key, claims(), { lifetime: 300 });
  const exp = JSON.parse(Buffer.from(long.split('.')[1], 'base64url')).exp;
  const e1 = await entryFor(long);
  assert.ok(Math.abs(e1.expiration - (exp + SKEW)) <= 2, `expiration ${e1.expiration}, exp + skew ${exp + SKEW}`);

  // Short-lived: the 60 s floor (KV's minimum TTL).
  const t0 = now();
  const short = await mint(key, claims(), { lifetime: 20 });
  const e2 = await entryFor(short);
  assert.ok(
    e2.expiration >= t0 + 60 - 1 && e2.expiration <= now() + 60 + 1,
    `expiration ${e2.expiration}, now + 60 = ${t0 + 60}`,
  );
});

test('a second instance on the same KV refuses a jti the first one accepted', async () => {
  const kv = await worker.kv('REPLAY');
  await sleep(300);
  const before = (await kv.list()).keys.length;
  const token = await mint(key, claims());
  assertVerdict(await worker.fetch('/', { token }));
  // A waitUntil write lands before the first instance stops.
  await waitFor(async () => (await kv.list()).keys.length > before, { what: 'the REPLAY entry in KV' });
  await worker.dispose();

  const second = await startWorker({ config, persist });
  assertRefused(await second.fetch('/', { token }), { status: 401, code: 'token_replayed' });
  assertVerdict(await second.fetch('/', { token: await mint(key, claims()) }));
  await second.dispose();
});

test('a 503 does not use up the jti (REPLAY unbound once): 503, the retry 200, a third use 401', async () => {
  const w = await startWorker({ config, entry: FAULT_ENTRY });
  const token = await mint(key, claims());
  const broken = { 'x-test-fault': STORE_FAULT['best-effort'] };
  assertRefused(await w.fetch('/', { token, headers: broken }), { status: 503, code: 'replay_unavailable' });
  assertVerdict(await w.fetch('/', { token }));
  assertRefused(await w.fetch('/', { token }), { status: 401, code: 'token_replayed' });
  await w.dispose();
});

// One memory per issuer, bounded by its replay_memory; full means "ask the store".
for (const mode of ['best-effort', 'strict']) {
  test(`${mode}: issuer A's full replay memory neither blocks issuer B nor A's fresh tokens; the store refuses what memory forgot`, async () => {
    const A = 'https://a.replay.test';
    const B = 'https://b.replay.test';
    const w = await startWorker({
      config: {
        mode: 'verdict',
        dev_allow_http_loopback: true,
        issuers: [
          { issuer: A, jwks_uri: jwks.uri, audiences: [AUD], replay: mode, replay_memory: 3 },
          { issuer: B, jwks_uri: jwks.uri, audiences: [AUD], replay: mode },
        ],
      },
      entry: FAULT_ENTRY,
    });
    const storeDown = { 'x-test-fault': STORE_FAULT[mode] };
    const bToken = await mint(key, claims({ iss: B }));
    assertVerdict(await w.fetch('/', { token: bToken }), { claims: { iss: B } });
    // Eight one-time tokens of A, all expiring after B's: A's memory (3) is full after
    // the third.
    const aTokens = await Promise.all(Array.from({ length: 8 }, (_, i) => mint(key, claims({ iss: A }), { lifetime: 310 + i })));
    for (const token of aTokens) assertVerdict(await w.fetch('/', { token }), { claims: { iss: A } });
    assertVerdict(await w.fetch('/', { token: await mint(key, claims({ iss: B })) }), { claims: { iss: B } });
    assertVerdict(await w.fetch('/', { token: await mint(key, claims({ iss: A })) }), { claims: { iss: A } });
    // B's memory is B's own: A's flood did not push B's token out of it.
    assertRefused(await w.fetch('/', { token: bToken, headers: storeDown }), { status: 401, code: 'token_replayed' });
    // The first A token fell out of memory (closest to its expiry): with the store down
    // it cannot be decided (503), with the store up the store refuses it.
    assertRefused(await w.fetch('/', { token: aTokens[0], headers: storeDown }), { status: 503, code: 'replay_unavailable' });
    assertRefused(await w.fetch('/', { token: aTokens[0] }), { status: 401, code: 'token_replayed' });
    // The last one is still in memory: refused without the store.
    assertRefused(await w.fetch('/', { token: aTokens[7], headers: storeDown }), { status: 401, code: 'token_replayed' });
    await w.dispose();
  });
}

function payloadJti(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).jti;
}
