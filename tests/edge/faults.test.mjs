// Faults at the edge, in workerd: an issuer that replaces every key at once (a warning),
// a key set larger than the 256 KiB limit (with and without Content-Length), KV that
// fails to read or write or is not bound at all, clock jumps both ways, and 10,000
// requests with random unknown kids (at most one fetch per cooldown). KV failures and
// clock jumps go through tests/edge/fault-entry.mjs, a test-only entry module.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  AUD,
  FAULT_ENTRY,
  ISS,
  JwksServer,
  assertRefused,
  assertVerdict,
  b64u,
  claimsFor,
  closeAll,
  mint,
  newKey,
  now,
  sleep,
  startWorker,
  verdictConfig,
  waitFor,
} from './harness.mjs';

after(closeAll);

const config = (jwks, extra = {}) => verdictConfig(jwks, { fetch_timeout_ms: 2000, ...extra });
const warnings = (worker, event) => worker.jsonLogs('warn').filter((l) => l.event === event);

test('every key replaced at once: the new set is used, and it is logged as a warning', async () => {
  const a = await newKey('ES256');
  const b = await newKey('ES256');
  const c = await newKey('EdDSA');
  const jwks = await JwksServer.start([a]);
  const worker = await startWorker({ config: config(jwks, { cache: { unknown_kid_cooldown: 0 } }) });
  assertVerdict(await worker.fetch('/', { token: await mint(a, claimsFor()) }), { key_source: 'issuer' });

  // Ordinary rotation overlaps: b is published next to a. No warning.
  jwks.setKeys(a, b);
  assertVerdict(await worker.fetch('/', { token: await mint(b, claimsFor()) }), { key_source: 'issuer' });
  assert.equal(warnings(worker, 'jwks_all_keys_changed').length, 0);

  // Then every key at once.
  jwks.setKeys(c);
  assertVerdict(await worker.fetch('/', { token: await mint(c, claimsFor()) }), { key_source: 'issuer' });
  await waitFor(() => warnings(worker, 'jwks_all_keys_changed').length === 1, { what: 'the warning' });
  const [warning] = warnings(worker, 'jwks_all_keys_changed');
  assert.equal(warning.iss, ISS);
  assertRefused(await worker.fetch('/', { token: await mint(a, claimsFor()) }), { status: 401, code: 'no_matching_key' });
});

for (const mode of ['huge', 'huge-chunked']) {
  test(`a key set over 256 KiB (${mode === 'huge' ? 'Content-Length' : 'chunked, 32 MiB'}) is refused; a cached set keeps serving`, async () => {
    const key = await newKey('ES256');

    // Nothing cached: the request fails closed, and the log says why.
    const fresh = await JwksServer.start([key]);
    fresh.mode = mode;
    const cold = await startWorker({ config: config(fresh) });
    const t0 = Date.now();
    assertRefused(await cold.fetch('/', { token: await mint(key, claimsFor()) }), { status: 503, code: 'jwks_unavailable' });
    assert.ok(Date.now() - t0 < 2000, 'refused without waiting for the whole body');
    assert.ok(warnings(cold, 'jwks_fetch_failed').some((w) => w.code === 'jwks_invalid'), 'logged as jwks_invalid');
    if (mode === 'huge-chunked') {
      // The worker stops reading at 256 KiB and drops the connection; what the server
      // could write before that is 256 KiB plus the socket buffers on both sides.
      await waitFor(() => fresh.hugeClosed, { what: 'the worker hanging up before the end of the body' });
      console.log(`chunked: ${fresh.hugeSent} B of 32 MiB written before the worker hung up`);
    }

    // A good set cached: past max_age the refetch fails the size check, the stale set serves.
    const jwks = await JwksServer.start([key]);
    const worker = await startWorker({
      config: config(jwks, { cache: { min_max_age: 1, default_max_age: 1, max_staleness: 60 } }),
    });
    assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'issuer' });
    jwks.mode = mode;
    await sleep(1300);
    assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }));
    await waitFor(
      () => warnings(worker, 'jwks_fetch_failed').some((w) => w.code === 'jwks_invalid'),
      { what: 'jwks_fetch_failed with jwks_invalid' },
    );
  });
}

for (const fault of ['reads', 'writes', 'both']) {
  test(`KV ${fault} failing: the worker fetches from the issuer and keeps serving`, async () => {
    const key = await newKey('ES256');
    const jwks = await JwksServer.start([key]);
    const worker = await startWorker({ config: config(jwks), entry: FAULT_ENTRY, bindings: { FAULT_KV: fault } });
    for (let i = 0; i < 20; i++) {
      assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }));
    }
    // Isolate memory carries the set: one fetch for all 20.
    assert.equal(jwks.count, 1, 'one fetch from the issuer');
    if (fault !== 'writes') assert.ok(warnings(worker, 'kv_read_failed').length >= 1, 'kv_read_failed logged');
    if (fault !== 'reads') {
      await waitFor(() => warnings(worker, 'kv_write_failed').length >= 1, { what: 'kv_write_failed logged' });
      const kv = await worker.kv('JWKS_CACHE');
      assert.equal((await kv.list()).keys.length, 0, 'nothing was stored');
    }
  });
}

// Best-effort replay with its KV failing: it stays best effort. A fresh jti is accepted
// (KV cannot say it was seen) and the failure is logged; the isolate's memory still
// refuses a second use here. Strict mode fails closed instead (tests/edge/strict.test.mjs).
for (const fault of ['reads', 'writes', 'both']) {
  test(`REPLAY KV ${fault} failing (best-effort): fresh jtis accepted and logged, a replay in the isolate refused`, async () => {
    const key = await newKey('ES256');
    const jwks = await JwksServer.start([key]);
    const worker = await startWorker({
      config: config(jwks, { issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD], replay: 'best-effort' }] }),
      entry: FAULT_ENTRY,
      bindings: { FAULT_KV: fault, FAULT_KV_BINDING: 'REPLAY' },
    });
    const replayWarnings = (event) => warnings(worker, event).filter((w) => w.binding === 'REPLAY');
    const tokens = await Promise.all(Array.from({ length: 5 }, () => mint(key, claimsFor({ jti: randomUUID() }))));
    for (const token of tokens) assertVerdict(await worker.fetch('/', { token }));
    for (const token of tokens) {
      assertRefused(await worker.fetch('/', { token }), { status: 401, code: 'token_replayed' });
    }
    if (fault !== 'writes') assert.equal(replayWarnings('kv_read_failed').length, 5, 'one kv_read_failed per fresh jti');
    if (fault !== 'reads') {
      assert.equal(replayWarnings('kv_write_failed').length, 5, 'one kv_write_failed per fresh jti');
      assert.equal((await (await worker.kv('REPLAY')).list()).keys.length, 0, 'nothing was stored');
    } else {
      assert.equal((await (await worker.kv('REPLAY')).list()).keys.length, 5, 'writes still land');
    }
    // A token without jti is still refused: the mode requires one.
    assertRefused(await worker.fetch('/', { token: await mint(key, claimsFor({ jti: undefined })) }), { status: 401, code: 'claim_missing' });
  });
}

test('no JWKS_CACHE binding at all: keys come from the issuer and memory', async () => {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const worker = await startWorker({ config: config(jwks), kvNamespaces: ['REPLAY'] });
  for (let i = 0; i < 5; i++) assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }));
  assert.equal(jwks.count, 1);
});

test('clock jumps: back a day serves the cached set without refetching; forward two days refetches', async () => {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const worker = await startWorker({ config: config(jwks), entry: FAULT_ENTRY });
  const at = (offset, token) => worker.fetch('/', { token, headers: { 'x-test-clock-offset': String(offset) } });
  const mintAt = (offset, extra) => mint(key, claimsFor({ iat: now() + offset, exp: now() + offset + 300, ...extra }));

  assertVerdict(await at(0, await mintAt(0)), { key_source: 'issuer' });
  assert.equal(jwks.count, 1);

  // A day back: the snapshot looks fetched in the future; it is used as if just fetched.
  const back = -86_400;
  assertVerdict(await at(back, await mintAt(back)), { key_source: 'memory' });
  // A token issued "now" is a day in the future for the jumped clock.
  assertRefused(await at(back, await mintAt(0)), { status: 401, code: 'iat_in_future' });
  // Unknown kids while the clock is back: still at most one refetch per cooldown.
  for (let i = 0; i < 20; i++) {
    const other = await mint(key, claimsFor({ iat: now() + back, exp: now() + back + 300 }), { header: { kid: randomUUID() } });
    assertRefused(await at(back, other), { status: 401, code: 'no_matching_key' });
  }
  assert.ok(jwks.count <= 2, `at most one refetch for 20 unknown kids (fetches: ${jwks.count})`);
  const beforeForward = jwks.count;

  // Two days forward: past max_age + max_staleness (600 s + 1 day): refetched, not trusted.
  const forward = 2 * 86_400;
  assertVerdict(await at(forward, await mintAt(forward)), { key_source: 'issuer' });
  assert.equal(jwks.count, beforeForward + 1);
  // And back to the real clock: the set fetched "in two days" serves as just fetched.
  assertVerdict(await at(0, await mintAt(0)), { key_source: 'memory' });
});

test('10,000 requests with random unknown kids: at most one fetch per cooldown, wasm memory flat, then valid tokens still pass', async () => {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const cooldown = 30;
  const worker = await startWorker({ config: config(jwks, { cache: { unknown_kid_cooldown: cooldown } }), entry: FAULT_ENTRY });
  const wasmMemory = async () => (await worker.fetch('/__test/wasm-memory')).json.bytes;
  assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }));
  const before = jwks.count;

  // Unsigned-by-anyone tokens that name a random kid: refused before any signature check.
  const payload = b64u(claimsFor({ iat: now(), exp: now() + 300 }));
  const forged = () => `${b64u({ alg: 'ES256', kid: randomBytes(12).toString('base64url') })}.${payload}.${b64u(randomBytes(64))}`;
  const TOTAL = 10_000;
  const CONCURRENCY = 32;
  const deadline = Date.now() + 120_000;
  const t0 = Date.now();
  let sent = 0;
  const codes = new Map();
  const flood = (upTo) =>
    Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < upTo && Date.now() < deadline) {
          sent += 1;
          const res = await worker.fetch('/', { token: forged() });
          codes.set(`${res.status} ${res.json?.code}`, (codes.get(`${res.status} ${res.json?.code}`) ?? 0) + 1);
        }
      }),
    );
  // Memory after the first 1,000 (past MAX_REMEMBERED_KIDS = 256 remembered kids, and
  // past the allocator's warm-up), then after all 10,000. Linear memory never shrinks,
  // so the second reading is the high-water mark of the whole flood.
  await flood(1_000);
  const warm = await wasmMemory();
  await flood(TOTAL);
  const after = await wasmMemory();
  const elapsedS = (Date.now() - t0) / 1000;
  assert.equal(sent, TOTAL, `all ${TOTAL} requests sent within the bound (${sent} in ${elapsedS.toFixed(1)} s)`);
  assert.deepEqual([...codes.keys()], ['401 no_matching_key'], JSON.stringify([...codes]));
  const allowed = 1 + Math.floor(elapsedS / cooldown);
  assert.ok(jwks.count - before <= allowed, `${jwks.count - before} fetches for ${TOTAL} unknown kids in ${elapsedS.toFixed(1)} s (allowed ${allowed})`);

  // Remembering all 9,000 further kids (12 bytes base64url each) would take well over
  // 256 KiB in a BTreeMap<String, i64>; the bound keeps the heap where it was.
  console.log(`wasm memory: ${warm} B after 1,000 unknown kids, ${after} B after ${TOTAL}`);
  assert.ok(warm > 0, 'the probe sees the worker\'s wasm memory');
  assert.ok(after - warm <= 128 * 1024, `wasm memory grew by ${after - warm} B from 1,000 to ${TOTAL} unknown kids`);

  // The worker is unharmed: a valid token is accepted from memory.
  assertVerdict(await worker.fetch('/', { token: await mint(key, claimsFor()) }), { key_source: 'memory' });
});
