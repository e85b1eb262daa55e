// The npm package in a plain JavaScript Cloudflare Worker, as a user gets it: the packed
// tarball installed by package name into a copy of tests/runtimes/fixtures/plain-worker,
// bundled by the local `wrangler deploy --dry-run --outdir dist` (which picks the
// `workerd` condition and keeps the wasm a separate CompiledWasm module), and the output
// run in workerd through Miniflare, with a JWKS server on 127.0.0.1 and tokens minted by
// jose: acceptance, refusals (also compared with the Rust worker's answers for the same
// tokens), one JWKS fetch for many requests, rotation, the issuer down, the KV tier shared
// by two instances, and the KV write handed to ctx.waitUntil.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import {
  AUD,
  COMPATIBILITY_DATE,
  ISS,
  JwksServer,
  WORKER_JS,
  WORKER_WASM,
  Worker,
  algNone,
  assertRefused,
  claimsFor,
  closeAll,
  mint,
  newKey,
  now,
  startWorker,
  tamperPayload,
  tempDir,
  verdictConfig,
  waitFor,
} from '../edge/harness.mjs';
import { BIN, ok, packed, run } from './helpers.mjs';

let pack;
let dist;
const started = new Set();

before(() => {
  pack = packed('jwt-edge-workerd-');
  const app = pack.install('plain-worker', { fixture: 'plain-worker' });
  ok(
    run(path.join(BIN, 'wrangler'), ['deploy', '--dry-run', '--outdir', 'dist'], { cwd: app, timeout: 120_000, scratch: pack.dir }),
    'wrangler deploy --dry-run',
  );
  dist = path.join(app, 'dist');
});

after(async () => {
  await Promise.allSettled([...started].map((mf) => mf.dispose()));
  await closeAll();
  pack?.close();
});

/**
 * The dry-run output in workerd: index.js first, every .wasm as CompiledWasm (module
 * names relative to `dist`, as the bundle imports them). `persist`: a directory for KV,
 * shared by the instances started with the same one.
 */
async function startPlain({ jwks, persist, staticJwks = { keys: [] } }) {
  const wasm = readdirSync(dist).filter((f) => f.endsWith('.wasm'));
  const logs = [];
  const options = {
    rootPath: dist,
    compatibilityDate: COMPATIBILITY_DATE,
    modules: [
      { type: 'ESModule', path: path.join(dist, 'index.js') },
      ...wasm.map((f) => ({ type: 'CompiledWasm', path: path.join(dist, f) })),
    ],
    kvNamespaces: ['JWKS_CACHE'],
    bindings: {
      JWKS_URL: jwks.uri,
      ISSUER: ISS,
      AUDIENCE: AUD,
      STATIC_JWKS: JSON.stringify(staticJwks),
      DEV_ALLOW_HTTP_LOOPBACK: 'true',
    },
    handleStructuredLogs: (log) => logs.push(log),
  };
  if (persist) options.resourcePersistencePath = persist;
  const mf = new Miniflare(convertV4MiniflareOptions(options));
  started.add(mf);
  await mf.ready;
  const worker = new Worker(mf, logs);
  worker.dispose = async () => {
    started.delete(mf);
    await mf.dispose();
  };
  return worker;
}

/** An accepted answer of /api/*: `{ verdict, waitUntil, fetches }`. */
function accepted(res, expect = {}) {
  assert.equal(res.status, 200, `accepted (got ${res.status} ${res.text.slice(0, 300)})`);
  assert.equal(res.json.verdict.valid, true);
  for (const [k, v] of Object.entries(expect)) assert.deepEqual(res.json.verdict[k], v, `verdict.${k}`);
  return res.json;
}

/** The JWKS_CACHE keys once at least one has landed (the write may be a waitUntil). */
async function kvKeys(worker) {
  const kv = await worker.kv('JWKS_CACHE');
  const { keys } = await waitFor(async () => {
    const list = await kv.list();
    return list.keys.length > 0 ? list : null;
  }, { what: 'a JWKS_CACHE entry in KV' });
  return keys.map((k) => k.name);
}

test('wrangler bundles the workerd entry with the wasm as a separate module; it starts in workerd', async () => {
  const files = readdirSync(dist);
  const wasm = files.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one .wasm module in ${files}`);
  assert.match(wasm[0], /^[0-9a-f]{40}-jwt_edge_bg\.wasm$/);
  const bytes = readFileSync(path.join(dist, wasm[0]));
  assert.deepEqual([...bytes.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d]);
  const bundle = readFileSync(path.join(dist, 'index.js'), 'utf8');
  assert.ok(bundle.includes('// node_modules/jwt-edge/workerd.js'), 'the workerd entry is bundled');
  for (const other of ['index.js', 'node.js', 'edge-light.js', 'deno.js']) {
    assert.ok(!bundle.includes(`// node_modules/jwt-edge/${other}`), `${other} is not bundled`);
  }
  assert.ok(bundle.includes(`from "./${wasm[0]}"`), 'the bundle imports the wasm module');
  assert.ok(!/node:fs|readFileSync/.test(bundle), 'nothing of the node entry');
  // Starting is the real check: a fetch or a wasm compile at global scope kills workerd.
  const jwks = await JwksServer.start([]);
  const w = await startPlain({ jwks });
  assert.equal((await w.fetch('/nowhere')).status, 404);
  assert.equal(jwks.count, 0, 'nothing fetched at start-up');
  await w.dispose();
});

test('a valid jose token is accepted, a tampered one refused (signature_invalid); 30 requests → one JWKS fetch', async () => {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  jwks.cacheControl = 'public, max-age=600';
  const w = await startPlain({ jwks });
  const token = await mint(key, claimsFor());
  const first = accepted(await w.fetch('/api/me', { token }), { alg: 'ES256', kid: key.kid, key_source: 'issuer' });
  assert.equal(first.verdict.claims.sub, 'user-1');

  const tampered = tamperPayload(token, (p) => {
    p.sub = 'admin';
  });
  const refused = assertRefused(await w.fetch('/api/me', { token: tampered }), { status: 401, code: 'signature_invalid' });
  assert.equal(refused.family, 'signature');

  const sources = [];
  for (let i = 0; i < 28; i++) {
    sources.push(accepted(await w.fetch('/api/me', { token: await mint(key, claimsFor({ n: i })) })).verdict.key_source);
  }
  assert.deepEqual(new Set(sources), new Set(['memory']), 'later requests served from the isolate');
  assert.equal(jwks.count, 1, 'exactly one JWKS fetch for 30 requests');
  assert.equal((await w.fetch('/api/me')).status, 401, 'no token');
  assertRefused(await w.fetch('/api/me'), { status: 401, code: 'token_missing' });
  assert.equal(jwks.count, 1);
  await w.dispose();
});

test('rotation: a new kid → exactly one refetch (If-None-Match sent), then served from memory', async () => {
  const oldKey = await newKey('RS256');
  const jwks = await JwksServer.start([oldKey]);
  const w = await startPlain({ jwks });
  accepted(await w.fetch('/api/me', { token: await mint(oldKey, claimsFor()) }), { kid: oldKey.kid });
  assert.equal(jwks.count, 1);
  const firstEtag = jwks.etag;

  const rotated = await newKey('RS256');
  jwks.setKeys(oldKey, rotated);
  accepted(await w.fetch('/api/me', { token: await mint(rotated, claimsFor()) }), { kid: rotated.kid, key_source: 'issuer' });
  assert.equal(jwks.count, 2, 'exactly one refetch for the new kid');
  assert.equal(jwks.requests[1].headers['if-none-match'], firstEtag);
  for (const key of [rotated, oldKey, rotated]) {
    accepted(await w.fetch('/api/me', { token: await mint(key, claimsFor()) }), { key_source: 'memory' });
  }
  // Unknown kids inside the cooldown: refused, and no more than one more fetch.
  const stranger = await newKey('RS256');
  for (let i = 0; i < 10; i++) {
    const token = await mint(stranger, claimsFor(), { header: { kid: `unknown-${i}` } });
    assertRefused(await w.fetch('/api/me', { token }), { status: 401, code: 'no_matching_key' });
  }
  assert.ok(jwks.count <= 3, `at most one fetch for 10 unknown kids (fetches: ${jwks.count})`);
  await w.dispose();
});

test('KV: the fetched set is written through ctx.waitUntil; a second instance on the same KV serves with no fetch', async () => {
  const key = await newKey('EdDSA');
  const jwks = await JwksServer.start([key]);
  jwks.cacheControl = 'max-age=1200';
  const persist = tempDir('jwt-edge-plain-kv-');

  const a = await startPlain({ jwks, persist });
  const first = accepted(await a.fetch('/api/me', { token: await mint(key, claimsFor()) }), { key_source: 'issuer' });
  assert.equal(first.waitUntil, 1, 'the KV write of the fetched set went to ctx.waitUntil');
  assert.equal(first.fetches, 1);
  const second = accepted(await a.fetch('/api/me', { token: await mint(key, claimsFor()) }), { key_source: 'memory' });
  assert.equal(second.waitUntil, 0, 'nothing to write when served from memory');
  const names = await kvKeys(a);
  assert.equal(names.length, 1, `one KV entry for the issuer: ${names}`);
  await a.dispose();

  const b = await startPlain({ jwks, persist });
  const fromKv = accepted(await b.fetch('/api/me', { token: await mint(key, claimsFor()) }), { kid: key.kid, key_source: 'kv' });
  assert.equal(fromKv.fetches, 0, 'the second instance made no fetch');
  accepted(await b.fetch('/api/me', { token: await mint(key, claimsFor()) }), { key_source: 'memory' });
  assert.equal(jwks.count, 1, 'one JWKS fetch across both instances');
  await b.dispose();
});

test('issuer down: the cached set still serves, unknown kids are refused; a new instance serves from KV', async () => {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const persist = tempDir('jwt-edge-plain-down-');
  const a = await startPlain({ jwks, persist });
  accepted(await a.fetch('/api/me', { token: await mint(key, claimsFor()) }), { key_source: 'issuer' });
  await kvKeys(a);

  jwks.mode = 'down'; // 503
  for (let i = 0; i < 5; i++) {
    accepted(await a.fetch('/api/me', { token: await mint(key, claimsFor({ n: i })) }), { key_source: 'memory' });
  }
  const stranger = await newKey('ES256');
  const res = await a.fetch('/api/me', { token: await mint(stranger, claimsFor(), { header: { kid: 'rotated-while-down' } }) });
  assert.equal(res.status, 401, `an unknown kid while the issuer is down is refused (${res.text.slice(0, 200)})`);
  assert.match(res.headers.get('content-type'), /^application\/problem\+json/);
  accepted(await a.fetch('/api/me', { token: await mint(key, claimsFor()) }), { key_source: 'memory' });
  await a.dispose();

  const before = jwks.count;
  await jwks.close(); // nothing listens any more
  const b = await startPlain({ jwks, persist });
  const fromKv = accepted(await b.fetch('/api/me', { token: await mint(key, claimsFor()) }), { key_source: 'kv' });
  assert.equal(fromKv.fetches, 0);
  assert.equal(jwks.count, before, 'the closed issuer was not asked');
  await b.dispose();
});

test('Verifier over a static key set (/static/*); scopes (/api/admin); an optional route (/public)', async () => {
  const remoteKey = await newKey('ES256');
  const staticKey = await newKey('EdDSA');
  const jwks = await JwksServer.start([remoteKey]);
  const w = await startPlain({ jwks, staticJwks: { keys: [staticKey.jwk] } });

  const staticToken = await mint(staticKey, claimsFor());
  const v = await w.fetch('/static/me', { token: staticToken });
  assert.equal(v.status, 200, v.text);
  assert.deepEqual([v.json.verdict.kid, v.json.verdict.key_source], [staticKey.kid, 'local']);
  assertRefused(await w.fetch('/static/me', { token: await mint(remoteKey, claimsFor()) }), { status: 401, code: 'no_matching_key' });
  assertRefused(await w.fetch('/static/me', { token: await mint(staticKey, claimsFor({ aud: 'other' })) }), {
    status: 403,
    code: 'audience_mismatch',
  });

  accepted(await w.fetch('/api/admin', { token: await mint(remoteKey, claimsFor({ scope: 'read admin' })) }));
  const denied = await w.fetch('/api/admin', { token: await mint(remoteKey, claimsFor({ scope: 'read' })) });
  assertRefused(denied, { status: 403, code: 'insufficient_scope', error: 'insufficient_scope' });
  assert.match(denied.headers.get('www-authenticate'), /scope="admin"/);

  const anonymous = await w.fetch('/public');
  assert.deepEqual([anonymous.status, anonymous.json], [200, { anonymous: true }]);
  const known = await w.fetch('/public', { token: await mint(remoteKey, claimsFor({ sub: 'user-9' })) });
  assert.deepEqual([known.status, known.json], [200, { anonymous: false, sub: 'user-9' }]);
  assertRefused(await w.fetch('/public', { token: 'not-a-token' }), { status: 401, code: 'token_malformed' });
  await w.dispose();
});

test('refusals: status, challenge and problem+json body equal to the Rust worker’s for the same tokens', async (t) => {
  if (!existsSync(WORKER_JS) || !existsSync(WORKER_WASM)) {
    t.skip('build/index.js not built (bash scripts/build-worker.sh)');
    return;
  }
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const plain = await startPlain({ jwks });
  const rust = await startWorker({ config: verdictConfig(jwks) });
  const t0 = now();
  const good = await mint(key, claimsFor());
  const stranger = await newKey('ES256');
  const cases = {
    'no token': {},
    'valid': { token: good },
    'tampered payload': { token: tamperPayload(good, (p) => { p.sub = 'root'; }) },
    'not a JWT': { token: 'abc' },
    'alg none': { token: algNone(claimsFor({ exp: t0 + 60 })) },
    'expired': { token: await mint(key, claimsFor({ iat: t0 - 7200, exp: t0 - 3600 })) },
    'not yet valid': { token: await mint(key, claimsFor({ nbf: t0 + 3600 })) },
    'wrong audience': { token: await mint(key, claimsFor({ aud: 'api://other' })) },
    'wrong issuer': { token: await mint(key, claimsFor({ iss: 'https://other.test' })) },
    'unknown kid': { token: await mint(stranger, claimsFor(), { header: { kid: 'nobody' } }) },
    'Basic scheme': { headers: { authorization: 'Basic dXNlcjpwYXNz' } },
    'empty Bearer': { headers: { authorization: 'Bearer ' } },
  };
  const differences = [];
  for (const [name, request] of Object.entries(cases)) {
    const [p, r] = [await plain.fetch('/api/me', request), await rust.fetch('/', request)];
    if (name === 'valid') {
      assert.equal(p.status, 200, p.text);
      assert.equal(r.status, 200, r.text);
      const { key_source: _a, ...pv } = p.json.verdict;
      const { key_source: _b, ...rv } = r.json;
      assert.deepEqual(pv, rv, 'the same accepted verdict');
      continue;
    }
    const seen = (res) => ({
      status: res.status,
      'content-type': res.headers.get('content-type'),
      'www-authenticate': res.headers.get('www-authenticate'),
      'cache-control': res.headers.get('cache-control'),
      body: res.json ?? res.text,
    });
    const [ps, rs] = [seen(p), seen(r)];
    assert.notEqual(ps.status, 200, `${name}: refused by the plain worker`);
    try {
      assert.deepEqual(ps, rs);
    } catch {
      differences.push(`${name}:\n  plain ${JSON.stringify(ps)}\n  rust  ${JSON.stringify(rs)}`);
    }
  }
  assert.deepEqual(differences, [], `answers differ:\n${differences.join('\n')}`);
  await plain.dispose();
  await rust.dispose();
});
