// Workers Analytics Engine metrics in workerd (issue 19): one data point per decision,
// in the column order of src/edge/metrics.rs and the README's SQL. Miniflare's local
// Analytics Engine accepts writes but drops them (nothing can be read back), so the
// data points are checked through the binding's interface: a test entry
// (metrics-entry.mjs) binds JWT_EDGE_METRICS to an object with `writeDataPoint` that
// forwards each point to this process. A second worker runs with Miniflare's real local
// binding, to show the worker writes to it without failing a request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { AUD, ISS, JwksServer, ROOT, closeAll, mint, newKey, startWorker, waitFor } from './harness.mjs';

let key;
let jwks;
const points = [];

before(async () => {
  key = await newKey('ES256');
  jwks = await JwksServer.start([key]);
});

after(closeAll);

const config = () => ({
  issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD] }],
  mode: 'verdict',
  dev_allow_http_loopback: true,
  routes: [
    { name: 'health', path: '/health', auth: 'none' },
    { name: 'admin', path: '/admin/**', scopes: ['admin'] },
    { name: 'api', path: '/**' },
  ],
});

test('one data point per decision: outcome, code, issuer, route, tiers, kid, duration; indexed by issuer', async () => {
  const w = await startWorker({
    config: config(),
    entry: path.join(ROOT, 'tests/edge/metrics-entry.mjs'),
    extra: {
      serviceBindings: {
        METRICS_SINK: async (req) => {
          points.push(await req.json());
          return new Response(null, { status: 204 });
        },
      },
    },
  });
  const good = await mint(key, { iss: ISS, sub: 'u', aud: AUD, scope: 'read' });
  const expired = await mint(key, { iss: ISS, sub: 'u', aud: AUD }, { lifetime: -120 });
  const requests = [
    ['/items', good, 200],
    ['/items', good, 200],
    ['/items', expired, 401],
    ['/admin/users', good, 403],
    ['/health', undefined, 200],
    ['/items', undefined, 401],
  ];
  for (const [url, token, status] of requests) {
    const res = await w.fetch(url, { token });
    assert.equal(res.status, status, `${url}: ${res.text}`);
  }
  await waitFor(() => points.length >= requests.length, { what: 'data points', timeout: 5000 });
  assert.equal(points.length, requests.length, 'exactly one per decision');
  for (const p of points) {
    assert.equal(p.blobs.length, 8);
    assert.equal(p.doubles.length, 1);
    assert.ok(Number.isFinite(p.doubles[0]) && p.doubles[0] >= 0, 'duration in ms');
  }
  const rows = points.map((p) => ({ index: p.indexes[0], blobs: p.blobs }));
  const kid = key.jwk.kid;
  assert.deepEqual(rows[0], { index: ISS, blobs: ['accept', 'ok', ISS, 'api', 'issuer', kid, '', 'enforced'] });
  assert.deepEqual(rows[1], { index: ISS, blobs: ['accept', 'ok', ISS, 'api', 'memory', kid, '', 'enforced'] });
  assert.deepEqual(rows[2].blobs.slice(0, 4), ['refuse', 'token_expired', ISS, 'api']);
  assert.deepEqual(rows[3].blobs.slice(0, 4), ['refuse', 'insufficient_scope', ISS, 'admin']);
  assert.deepEqual(rows[4].blobs.slice(0, 4), ['public', '', '', 'health']);
  assert.deepEqual(rows[5], { index: '', blobs: ['refuse', 'token_missing', '', 'api', '', '', '', 'enforced'] });
  // No token, or any part of one, in a data point.
  const all = JSON.stringify(points);
  for (const t of [good, expired]) assert.ok(!all.includes(t.split('.')[2]));
  await w.dispose();
});

test("with Miniflare's own local Analytics Engine binding, requests are answered as without it", async () => {
  const w = await startWorker({
    config: config(),
    extra: { analyticsEngineDatasets: { JWT_EDGE_METRICS: { dataset: 'jwt_edge' } } },
  });
  const res = await w.fetch('/items', { token: await mint(key, { iss: ISS, sub: 'u', aud: AUD }) });
  assert.equal(res.status, 200, res.text);
  assert.equal(w.jsonLogs('warn').filter((l) => l.event === 'metrics_write_failed').length, 0);
  await w.dispose();
});
