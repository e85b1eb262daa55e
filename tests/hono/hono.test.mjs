// jwt-edge/hono in a real Hono app (npm `hono`), as a user gets it: the packed tarball of
// target/npm/jwt-edge installed by package name, offline, into a scratch project (hono
// copied from the root node_modules), bundled by the local `wrangler deploy --dry-run`,
// and run in workerd through Miniflare with KV namespaces. Proves:
// - the claims in c.get('jwtPayload') and the verdict in c.get('jwtEdge');
// - the JWKS fetched once across requests, and once across two instances sharing the KV
//   persistence directory (the second serves from KV with no fetch, also with the issuer
//   down); rotation; the issuer down with a cached set;
// - scopes (403 insufficient_scope with `scope="…"`), claim matchers, optional routes,
//   cookie and custom-header tokens, realm and RFC 9728 metadata, static keys, an HMAC
//   secret, one-time tokens (replay through KV);
// - parity: the built Rust worker (build/index.js, verdict mode with equivalent route
//   rules) and the Hono app answer the same token table with the same status,
//   WWW-Authenticate and problem+json body (the worker's `route` member aside);
// - the same middleware under Node (the `node` entry) through Hono's app.request;
// - the types: `c.get('jwtPayload')` typed in user code, checked by the local tsc.
//
// Run: bash scripts/build-npm.sh && bash scripts/build-worker.sh &&
//      node --test --test-force-exit tests/hono/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import {
  AUD,
  COMPATIBILITY_DATE,
  ISS,
  JwksServer,
  ROOT,
  WORKER_JS,
  Worker,
  algNone,
  closeAll,
  mint,
  newHmacKey,
  newKey,
  now,
  parseChallenge,
  payloadOf,
  startWorker,
  tamperPayload,
  tempDir,
  waitFor,
} from '../edge/harness.mjs';

const PKG_DIR = path.join(ROOT, 'target/npm/jwt-edge');
const execFileAsync = promisify(execFile);
const FIXTURE = path.join(ROOT, 'tests/hono/fixtures/app');
const BIN = path.join(ROOT, 'node_modules/.bin');
const NODE = path.join(BIN, 'node');
const SCOPES = ['items:read', 'items:write'];
const CLAIMS = { tenant: { equals: 'acme' }, 'org.id': { present: true } };
const METADATA = 'https://api.example.com/.well-known/oauth-protected-resource';

let tmp;
let project;
let dist;
let jwks;
let key1;
let staticKey;
let hmac;
let app; // the instance most tests use (its own KV, in memory)
const instances = new Set();

/** Runs a command, bounded; returns { status, stdout, stderr }. */
function run(file, args, { cwd, timeout = 120_000, env = {} } = {}) {
  const result = spawnSync(file, args, {
    cwd,
    timeout,
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${BIN}:${process.env.PATH}`,
      npm_config_cache: path.join(tmp, 'npm-cache'),
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_loglevel: 'error',
      WRANGLER_SEND_METRICS: 'false',
      XDG_CONFIG_HOME: path.join(tmp, 'config'),
      ...env,
    },
  });
  if (result.error) throw result.error;
  return result;
}

function ok(result, label) {
  assert.equal(result.status, 0, `${label} exited ${result.status} (signal ${result.signal}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The bundled Hono app in workerd; `persist`: a KV directory shared with other instances. */
async function startApp({ persist, jwksUrl = jwks.uri } = {}) {
  const files = readdirSync(dist).filter((f) => f.endsWith('.js') || f.endsWith('.wasm'));
  files.sort((a, b) => (a === 'index.js' ? -1 : b === 'index.js' ? 1 : a.localeCompare(b)));
  const logs = [];
  const options = {
    compatibilityDate: COMPATIBILITY_DATE,
    rootPath: dist,
    modules: files.map((f) => ({ type: f.endsWith('.wasm') ? 'CompiledWasm' : 'ESModule', path: path.join(dist, f) })),
    kvNamespaces: ['JWKS_CACHE', 'REPLAY'],
    bindings: { JWKS_URL: jwksUrl },
    handleStructuredLogs: (log) => logs.push(log),
  };
  if (persist) options.resourcePersistencePath = persist;
  const mf = new Miniflare(convertV4MiniflareOptions(options));
  const instance = new Worker(mf, logs);
  instance.dispose = async () => {
    if (!instances.delete(instance)) return;
    await mf.dispose();
  };
  instances.add(instance);
  await mf.ready;
  return instance;
}

/** The handler's answer on an accepted request: `{ anonymous, payload, verdict }`. */
function accepted(res, what = '') {
  assert.equal(res.status, 200, `${what} accepted (got ${res.status} ${res.headers.get('www-authenticate')} ${res.text.slice(0, 300)})`);
  return res.json;
}

/** A refusal as the worker answers it; returns the problem body and the challenge's parameters. */
function refused(res, { status, code, realm = 'jwt-edge', error }) {
  const where = `${code} (got ${res.status} ${res.headers.get('www-authenticate')} ${res.text.slice(0, 300)})`;
  assert.equal(res.status, status, `status for ${where}`);
  assert.equal(res.headers.get('content-type'), 'application/problem+json', `content-type for ${where}`);
  assert.equal(res.headers.get('cache-control'), 'no-store', `cache-control for ${where}`);
  assert.equal(res.json?.code, code, `code for ${where}`);
  assert.equal(res.json.status, status, `body status for ${where}`);
  assert.equal(res.json.valid, false, `body valid for ${where}`);
  assert.equal(res.json.type, `https://jwt-edge.dev/errors/${code}`, `body type for ${where}`);
  let params = {};
  if ([400, 401, 403].includes(status)) {
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    assert.equal(challenge.scheme, 'Bearer', `scheme for ${where}`);
    params = challenge.params;
    assert.equal(params.realm, realm, `realm for ${where}`);
    if (code !== 'token_missing') {
      const expected = error ?? { 400: 'invalid_request', 401: 'invalid_token', 403: 'insufficient_scope' }[status];
      assert.equal(params.error, expected, `error attribute for ${where}`);
    }
  }
  return { body: res.json, params };
}

const claims = (extra = {}) => ({ iss: ISS, sub: 'user-1', aud: AUD, ...extra });
const expired = (extra = {}) => {
  const t = now();
  return claims({ iat: t - 7200, exp: t - 3600, ...extra });
};

before(async () => {
  for (const [file, how] of [
    [path.join(PKG_DIR, 'hono.js'), 'bash scripts/build-npm.sh'],
    [path.join(PKG_DIR, 'wasm/jwt_edge_bg.wasm'), 'bash scripts/build-npm.sh'],
    [WORKER_JS, 'bash scripts/build-worker.sh'],
    [path.join(ROOT, 'node_modules/hono/package.json'), 'npm ci (hono is a root devDependency)'],
  ]) {
    if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} not found: run \`${how}\` first`);
  }
  tmp = tempDir('jwt-edge-hono-');

  // The tarball, as `npm publish` would upload it.
  const packed = JSON.parse(ok(run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: PKG_DIR }), 'npm pack'));
  const tarball = path.join(tmp, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  assert.ok(files.includes('hono.js') && files.includes('hono.d.ts'), `hono.js and hono.d.ts in the tarball: ${files}`);

  // The scratch project: the fixture app, jwt-edge from the tarball, hono from node_modules.
  project = path.join(tmp, 'app');
  cpSync(FIXTURE, project, { recursive: true });
  key1 = await newKey('ES256');
  staticKey = await newKey('EdDSA');
  hmac = newHmacKey('HS256');
  writeFileSync(
    path.join(project, 'src/keys.js'),
    `// Written by tests/hono/hono.test.mjs.\nexport const JWKS = ${JSON.stringify({ keys: [staticKey.jwk] })};\nexport const SECRET = ${JSON.stringify(hmac.binding)};\n`,
  );
  ok(run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: project }), 'npm install');
  cpSync(path.join(ROOT, 'node_modules/hono'), path.join(project, 'node_modules/hono'), { recursive: true });
  assert.ok(existsSync(path.join(project, 'node_modules/jwt-edge/hono.js')));

  // Bundled by wrangler, as `wrangler deploy` would upload it.
  dist = path.join(project, 'dist');
  const bundled = run(path.join(BIN, 'wrangler'), ['deploy', '--dry-run', '--outdir', dist], { cwd: project, timeout: 180_000 });
  ok(bundled, 'wrangler deploy --dry-run');
  assert.match(bundled.stdout + bundled.stderr, /Total Upload/);

  jwks = await JwksServer.start([key1]);
  jwks.cacheControl = 'public, max-age=600';
  app = await startApp();
});

after(async () => {
  await Promise.allSettled([...instances].map((i) => i.dispose()));
  await closeAll();
});

// ------------------------------------------------------------------ the bundle

test('wrangler bundles the workerd entry: the wasm is a separate module imported by the bundle', () => {
  const wasm = readdirSync(dist).filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one wasm module in ${readdirSync(dist)}`);
  assert.match(wasm[0], /^[0-9a-f]{40}-jwt_edge_bg\.wasm$/);
  const bundle = readFileSync(path.join(dist, 'index.js'), 'utf8');
  assert.ok(bundle.includes(`./${wasm[0]}`), 'the bundle imports the wasm module');
  assert.ok(!bundle.includes('readFileSync'), 'not the node entry');
  assert.ok(!bundle.includes('await __wbg_init') && !/await init\(\{ module_or_path/.test(bundle), 'not the browser entry (no top-level fetch of the wasm)');
});

// ------------------------------------------------------------------ verification, JWKS tiers

test('claims in c.get("jwtPayload"), the verdict in c.get("jwtEdge"); the JWKS fetched once for many requests', async () => {
  const before = jwks.count;
  const sources = [];
  for (let i = 0; i < 6; i++) {
    const token = await mint(key1, claims({ n: i, tenant: 'acme' }));
    const body = accepted(await app.fetch(`/api/items/${i}`, { token }));
    assert.equal(body.anonymous, false);
    assert.deepEqual(body.payload, payloadOf(token), 'jwtPayload is the verified payload');
    assert.deepEqual(Object.keys(body.verdict), ['valid', 'alg', 'kid', 'key_source', 'header', 'claims'], 'the core verdict');
    assert.equal(body.verdict.valid, true);
    assert.equal(body.verdict.alg, 'ES256');
    assert.equal(body.verdict.kid, key1.kid);
    assert.deepEqual(body.verdict.claims, payloadOf(token));
    sources.push(body.verdict.key_source);
  }
  assert.equal(jwks.count - before, 1, 'one JWKS fetch for six requests');
  assert.equal(sources[0], 'issuer');
  assert.deepEqual([...new Set(sources.slice(1))], ['memory'], `later requests from memory: ${sources}`);
  // Every middleware naming the same URL shares the one cached set.
  for (const route of ['/scoped/x', '/claims/x', '/optional/x', '/realm/x']) {
    const token = await mint(key1, claims({ scope: SCOPES.join(' '), tenant: 'acme', org: { id: 7 } }));
    assert.equal(accepted(await app.fetch(route, { token }), route).verdict.key_source, 'memory', route);
  }
  assert.equal(jwks.count - before, 1, 'still one fetch across middlewares');
});

test('two instances sharing the KV persistence: the second serves from KV with no fetch, also with the issuer down', async () => {
  const key = await newKey('ES256');
  const server = await JwksServer.start([key]);
  server.cacheControl = 'public, max-age=1200';
  const persist = tempDir('jwt-edge-hono-kv-');

  const a = await startApp({ persist, jwksUrl: server.uri });
  for (let i = 0; i < 3; i++) accepted(await a.fetch('/api/a', { token: await mint(key, claims({ n: i })) }));
  assert.equal(server.count, 1, 'one fetch in the first instance');
  const kv = await a.kv('JWKS_CACHE');
  const listed = await waitFor(async () => {
    const list = await kv.list();
    return list.keys.length > 0 ? list : null;
  }, { what: 'the key set stored in JWKS_CACHE' });
  assert.equal(listed.keys.length, 1, `one KV entry: ${listed.keys.map((k) => k.name)}`);
  await a.dispose();

  const b = await startApp({ persist, jwksUrl: server.uri });
  const first = accepted(await b.fetch('/api/b', { token: await mint(key, claims()) }));
  assert.equal(first.verdict.key_source, 'kv', 'the second instance found the set in KV');
  assert.equal(accepted(await b.fetch('/api/b', { token: await mint(key, claims()) })).verdict.key_source, 'memory');
  assert.equal(server.count, 1, 'the second instance made no JWKS fetch');
  await b.dispose();

  server.mode = 'down';
  const c = await startApp({ persist, jwksUrl: server.uri });
  const third = accepted(await c.fetch('/api/c', { token: await mint(key, claims()) }));
  assert.equal(third.verdict.key_source, 'kv', 'the issuer down: served from KV');
  assert.equal(server.count, 1, 'the issuer was not even asked');
  await c.dispose();
});

test('rotation: a token signed by a new key is accepted after one refetch', async () => {
  const key2 = await newKey('ES256');
  jwks.setKeys(key1, key2);
  const before = jwks.count;
  const body = accepted(await app.fetch('/api/rotated', { token: await mint(key2, claims()) }));
  assert.equal(body.verdict.kid, key2.kid);
  assert.equal(body.verdict.key_source, 'issuer');
  assert.equal(jwks.count - before, 1, 'one refetch for the unknown kid');
  accepted(await app.fetch('/api/old', { token: await mint(key1, claims()) }));
  assert.equal(jwks.count - before, 1, 'the old key still served from memory');
});

test('issuer down with a cached set: known keys still verify; an unknown kid is refused', async () => {
  jwks.mode = 'down';
  try {
    const before = jwks.count;
    const body = accepted(await app.fetch('/api/down', { token: await mint(key1, claims()) }));
    assert.equal(body.verdict.key_source, 'memory');
    assert.equal(jwks.count, before, 'no fetch while the set is fresh');
    const stranger = await newKey('ES256');
    const res = await app.fetch('/api/down', { token: await mint(stranger, claims()) });
    assert.ok(['no_matching_key', 'jwks_unavailable'].includes(res.json?.code), `unknown kid refused: ${res.status} ${res.text}`);
    refused(res, { status: res.status, code: res.json.code });
    accepted(await app.fetch('/api/down', { token: await mint(key1, claims()) }), 'known key after the failed refetch');
  } finally {
    jwks.mode = 'ok';
  }
});

// ------------------------------------------------------------------ route options

test('scopes: all required scopes (scope string or scp array) → 200; missing → 403 insufficient_scope with scope="…"', async () => {
  accepted(await app.fetch('/scoped/items', { token: await mint(key1, claims({ scope: 'items:write items:read other' })) }));
  accepted(await app.fetch('/scoped/items', { token: await mint(key1, claims({ scp: ['items:read', 'items:write'] })) }));
  for (const extra of [{ scope: 'items:read' }, {}, { scope: 'items:read items:writer' }]) {
    const { params, body } = refused(await app.fetch('/scoped/items', { token: await mint(key1, claims(extra)) }), {
      status: 403,
      code: 'insufficient_scope',
    });
    assert.equal(params.scope, 'items:read items:write', `scope attribute for ${JSON.stringify(extra)}`);
    assert.equal(body.family, 'claims');
  }
});

test('claims: matchers by dotted path → 200, a mismatch → 403 claim_mismatch (no scope attribute)', async () => {
  const body = accepted(await app.fetch('/claims/x', { token: await mint(key1, claims({ tenant: 'acme', org: { id: 1 } })) }));
  assert.equal(body.payload.tenant, 'acme');
  for (const extra of [{ tenant: 'evil', org: { id: 1 } }, { tenant: 'acme' }, { tenant: ['acme'], org: { id: 1 } }]) {
    const { params } = refused(await app.fetch('/claims/x', { token: await mint(key1, claims(extra)) }), {
      status: 403,
      code: 'claim_mismatch',
    });
    assert.ok(!('scope' in params), `no scope attribute: ${JSON.stringify(params)}`);
  }
});

test('optional: no token → anonymous (jwtPayload undefined); a good token → claims; a bad or malformed one → refused', async () => {
  const anon = accepted(await app.fetch('/optional/page'));
  assert.deepEqual(anon, { anonymous: true, payload: null, verdict: null });
  // An Authorization header with another scheme is not a token.
  assert.equal(accepted(await app.fetch('/optional/page', { headers: { authorization: 'Basic dXNlcjpwdw==' } })).anonymous, true);
  const token = await mint(key1, claims());
  const known = accepted(await app.fetch('/optional/page', { token }));
  assert.equal(known.anonymous, false);
  assert.equal(known.payload.sub, 'user-1');
  refused(await app.fetch('/optional/page', { token: await mint(key1, expired()) }), { status: 401, code: 'token_expired' });
  refused(await app.fetch('/optional/page', { token: tamperPayload(token, (p) => (p.sub = 'admin')) }), {
    status: 401,
    code: 'signature_invalid',
  });
  refused(await app.fetch('/optional/page', { headers: { authorization: 'Bearer a b' } }), { status: 400, code: 'request_malformed' });
});

test('cookie and custom header: the token read where configured; in two places → 400 request_malformed', async () => {
  const token = await mint(key1, claims());
  assert.equal(accepted(await app.fetch('/cookie/x', { headers: { cookie: `theme=dark; session=${token}` } })).payload.sub, 'user-1');
  assert.equal(accepted(await app.fetch('/cookie/x', { token })).payload.sub, 'user-1', 'Authorization still read');
  refused(await app.fetch('/cookie/x', { token, headers: { cookie: `session=${token}` } }), { status: 400, code: 'request_malformed' });
  refused(await app.fetch('/cookie/x'), { status: 401, code: 'token_missing' });

  assert.equal(accepted(await app.fetch('/header/x', { headers: { 'x-token': token } })).payload.sub, 'user-1');
  refused(await app.fetch('/header/x', { token }), { status: 401, code: 'token_missing' });
  refused(await app.fetch('/header/x', { headers: { 'x-token': `Bearer ${token}` } }), { status: 400, code: 'request_malformed' });
});

test('realm and resourceMetadata go into the challenge', async () => {
  const none = refused(await app.fetch('/realm/x'), { status: 401, code: 'token_missing', realm: 'hono-test' });
  assert.deepEqual(Object.keys(none.params), ['realm', 'resource_metadata']);
  assert.equal(none.params.resource_metadata, METADATA);
  const bad = refused(await app.fetch('/realm/x', { token: await mint(key1, expired()) }), {
    status: 401,
    code: 'token_expired',
    realm: 'hono-test',
  });
  assert.equal(bad.params.resource_metadata, METADATA);
});

test('static keys and an HMAC secret: verified locally (key_source local)', async () => {
  const body = accepted(await app.fetch('/static/x', { token: await mint(staticKey, claims()) }));
  assert.equal(body.verdict.key_source, 'local');
  assert.equal(body.verdict.alg, 'EdDSA');
  refused(await app.fetch('/static/x', { token: await mint(key1, claims()) }), { status: 401, code: 'no_matching_key' });
  const secret = accepted(await app.fetch('/secret/x', { token: await mint(hmac, claims()) }));
  assert.equal(secret.verdict.alg, 'HS256');
  refused(await app.fetch('/secret/x', { token: await mint(key1, claims()) }), { status: 401, code: 'alg_not_allowed' });
});

test('replay: a one-time token is accepted once, then token_replayed; no jti → claim_missing', async () => {
  const token = await mint(key1, claims());
  accepted(await app.fetch('/once/pay', { token }));
  refused(await app.fetch('/once/pay', { token }), { status: 401, code: 'token_replayed' });
  refused(await app.fetch('/once/pay', { token: await mint(key1, claims({ jti: undefined })) }), { status: 401, code: 'claim_missing' });
  // Another token is its own.
  accepted(await app.fetch('/once/pay', { token: await mint(key1, claims()) }));
});

// ------------------------------------------------------------------ parity with the Rust worker

test('parity: the worker and the Hono app answer the same token table with the same status, challenge and body', async () => {
  const worker = await startWorker({
    config: {
      issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD] }],
      mode: 'verdict',
      dev_allow_http_loopback: true,
      routes: [
        { name: 'scoped', path: '/scoped/**', scopes: SCOPES },
        { name: 'claims', path: '/claims/**', claims: CLAIMS },
      ],
    },
  });
  const stranger = await newKey('ES256');
  const good = await mint(key1, claims({ scope: SCOPES.join(' '), tenant: 'acme', org: { id: 1 } }));
  const t = now();
  const table = [
    ['valid', '/api/x', { token: good }],
    ['valid, scoped', '/scoped/x', { token: good }],
    ['expired', '/api/x', { token: await mint(key1, expired()) }],
    ['not yet valid', '/api/x', { token: await mint(key1, claims({ nbf: t + 3600 })) }],
    ['bad signature', '/api/x', { token: tamperPayload(good, (p) => (p.sub = 'admin')) }],
    ['wrong audience', '/api/x', { token: await mint(key1, claims({ aud: 'api://other' })) }],
    ['no audience', '/api/x', { token: await mint(key1, claims({ aud: undefined })) }],
    ['unknown kid', '/api/x', { token: await mint(stranger, claims()) }],
    ['missing scope', '/scoped/x', { token: await mint(key1, claims({ scope: 'items:read' })) }],
    ['no scope claim', '/scoped/x', { token: await mint(key1, claims()) }],
    ['claim mismatch', '/claims/x', { token: await mint(key1, claims({ tenant: 'evil', org: { id: 1 } })) }],
    ['no token', '/api/x', {}],
    ['no token, scoped', '/scoped/x', {}],
    ['another scheme', '/api/x', { headers: { authorization: 'Basic dXNlcjpwdw==' } }],
    ['malformed token', '/api/x', { token: 'not-a-jwt' }],
    ['two-part token', '/api/x', { token: 'eyJhbGciOiJFUzI1NiJ9.e30' }],
    ['malformed header', '/api/x', { headers: { authorization: 'Bearer a b' } }],
    ['alg none', '/api/x', { token: algNone(claims({ exp: t + 300 })) }],
  ];
  const seen = new Set();
  for (const [name, url, init] of table) {
    const w = await worker.fetch(url, init);
    const h = await app.fetch(url, init);
    const where = `${name}: worker ${w.status} ${w.text.slice(0, 200)} | hono ${h.status} ${h.text.slice(0, 200)}`;
    assert.equal(h.status, w.status, `status, ${where}`);
    seen.add(w.status === 200 ? 'accepted' : w.json?.code);
    if (w.status === 200) {
      // The same verdict, where the keys came from aside (each has its own cache).
      const { route, key_source: _w, ...fromWorker } = w.json;
      const { key_source: _h, ...fromHono } = h.json.verdict;
      assert.deepEqual(fromHono, fromWorker, `verdict, ${where}`);
      assert.deepEqual(Object.keys(fromHono), Object.keys(fromWorker), `verdict members, ${where}`);
      continue;
    }
    for (const header of ['www-authenticate', 'content-type', 'cache-control']) {
      assert.equal(h.headers.get(header), w.headers.get(header), `${header}, ${where}`);
    }
    // Byte for byte, but for the `route` member the worker adds when route rules are configured.
    const { route, ...workerBody } = w.json;
    assert.equal(typeof route, 'string', `the worker names the route, ${where}`);
    assert.equal(w.text, JSON.stringify(w.json), `the worker's body is compact JSON, ${where}`);
    assert.equal(h.text, JSON.stringify(workerBody), `problem+json body, ${where}`);
  }
  for (const code of ['accepted', 'token_expired', 'signature_invalid', 'audience_mismatch', 'insufficient_scope',
    'claim_mismatch', 'token_missing', 'token_malformed', 'request_malformed']) {
    assert.ok(seen.has(code), `the table covers ${code}: ${[...seen]}`);
  }
  await worker.dispose();
});

// ------------------------------------------------------------------ Node, set-up errors, types

test('under Node the same middleware runs on the node entry (app.request); bad options fail at set-up', async () => {
  const token = await mint(staticKey, claims());
  writeFileSync(path.join(project, 'node-check.mjs'), `
    import { Hono } from 'hono';
    import { jwtEdge } from 'jwt-edge/hono';
    import { JwtEdgeError } from 'jwt-edge';
    import { JWKS } from './src/keys.js';
    const app = new Hono();
    app.use('/api/*', jwtEdge({ jwks: JWKS, issuer: ${JSON.stringify(ISS)}, audience: ${JSON.stringify(AUD)} }));
    app.get('/api/me', (c) => c.json({ sub: c.get('jwtPayload').sub, source: c.get('jwtEdge').key_source }));
    const ok = await app.request('/api/me', { headers: { authorization: 'Bearer ' + process.env.TOKEN } });
    const no = await app.request('/api/me');
    const setup = {};
    for (const [name, options] of Object.entries({
      unknownOption: { jwks: JWKS, audiences: 'x' },
      badRealm: { jwks: JWKS, realm: 7 },
      kvWithoutUrl: { jwks: JWKS, kv: () => null },
      badReplay: { jwks: JWKS, replay: {} },
    })) {
      try { jwtEdge(options); setup[name] = 'accepted'; } catch (err) { setup[name] = err instanceof JwtEdgeError ? err.code : String(err); }
    }
    console.log(JSON.stringify({
      resolved: import.meta.resolve('jwt-edge'),
      ok: [ok.status, await ok.json()],
      no: [no.status, no.headers.get('www-authenticate'), (await no.json()).code],
      setup,
    }));
  `);
  const out = JSON.parse(ok(run(NODE, ['node-check.mjs'], { cwd: project, timeout: 30_000, env: { TOKEN: token } }), 'node node-check.mjs'));
  assert.match(out.resolved, /\/node_modules\/jwt-edge\/node\.js$/, 'Node resolves the "node" entry');
  assert.deepEqual(out.ok, [200, { sub: 'user-1', source: 'local' }]);
  assert.deepEqual(out.no, [401, 'Bearer realm="jwt-edge"', 'token_missing']);
  assert.deepEqual(out.setup, { unknownOption: 'config_invalid', badRealm: 'config_invalid', kvWithoutUrl: 'config_invalid', badReplay: 'config_invalid' });
});

test('under Node, discovery: the issuer\'s key set found through its metadata, fetched once for many requests', async () => {
  // A provider on 127.0.0.1 shaped like Keycloak: metadata at {issuer}/.well-known/openid-configuration,
  // keys at {issuer}/protocol/openid-connect/certs. The app runs in a child process (async, so
  // this process keeps answering).
  const key = await newKey('RS256');
  const seen = [];
  let issuer;
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    const json = (body) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify(body));
    if (req.url === '/realms/acme/.well-known/openid-configuration') {
      return json({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs`, response_types_supported: ['code'] });
    }
    if (req.url === '/realms/acme/protocol/openid-connect/certs') return json({ keys: [key.jwk] });
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${server.address().port}/realms/acme`;
  try {
    const token = await mint(key, { iss: issuer, sub: 'user-1', aud: AUD });
    const other = await mint(key, { iss: `${issuer}-other`, sub: 'user-1', aud: AUD });
    writeFileSync(path.join(project, 'node-discovery.mjs'), `
      import { Hono } from 'hono';
      import { jwtEdge } from 'jwt-edge/hono';
      import { JwtEdgeError } from 'jwt-edge';
      const issuer = process.env.ISSUER;
      const app = new Hono();
      app.use('/api/*', jwtEdge({ discovery: true, issuer, audience: ${JSON.stringify(AUD)}, jwksOptions: { devAllowHttpLoopback: true } }));
      app.get('/api/me', (c) => c.json({ sub: c.get('jwtPayload').sub, source: c.get('jwtEdge').key_source }));
      const bearer = (t) => ({ headers: { authorization: 'Bearer ' + t } });
      const answers = [];
      for (const t of [process.env.TOKEN, process.env.TOKEN, process.env.TOKEN, process.env.OTHER]) {
        const res = await app.request('/api/me', bearer(t));
        answers.push([res.status, res.status === 200 ? (await res.json()).source : (await res.json()).code]);
      }
      const setup = {};
      for (const [name, options] of Object.entries({
        withJwks: { discovery: true, issuer, jwks: 'https://idp.example/keys' },
        noIssuer: { discovery: true },
        issuerList: { discovery: true, issuer: [issuer] },
        notBoolean: { discovery: 'yes', issuer },
      })) {
        try { jwtEdge(options); setup[name] = 'accepted'; } catch (err) { setup[name] = err instanceof JwtEdgeError ? err.code : String(err); }
      }
      console.log(JSON.stringify({ answers, setup }));
    `);
    const { stdout } = await execFileAsync(NODE, ['node-discovery.mjs'], {
      cwd: project,
      timeout: 30_000,
      env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, TOKEN: token, OTHER: other, ISSUER: issuer },
    });
    const out = JSON.parse(stdout.trim().split('\n').pop());
    assert.deepEqual(out.answers, [[200, 'issuer'], [200, 'memory'], [200, 'memory'], [401, 'issuer_mismatch']]);
    assert.deepEqual(seen, ['/realms/acme/.well-known/openid-configuration', '/realms/acme/protocol/openid-connect/certs']);
    assert.deepEqual(out.setup, { withJwks: 'config_invalid', noIssuer: 'config_invalid', issuerList: 'config_invalid', notBoolean: 'config_invalid' });
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('types: c.get("jwtPayload") and c.get("jwtEdge") are typed in user code (tsc --strict), misuse refused', () => {
  const tsc = (files) =>
    run(NODE, [path.join(BIN, 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--skipLibCheck', 'false', '--typeRoots', path.join(project, 'node_modules/@types'),
      '--pretty', 'false', ...files], { cwd: project, timeout: 120_000 });
  mkdirSync(path.join(project, 'types'), { recursive: true });
  writeFileSync(path.join(project, 'types/good.ts'), `
    import { Hono } from 'hono';
    import { jwt } from 'hono/jwt';
    import { jwtEdge } from 'jwt-edge/hono';
    import type { JwtEdgeOptions, JwtEdgeVariables } from 'jwt-edge/hono';
    import type { Algorithm, JwtClaims, KeySource } from 'jwt-edge';

    type Env = { Bindings: { JWKS_CACHE: KVNamespaceStub; REPLAY: KVNamespaceStub; JWKS_URL: string } };
    // The shape of Cloudflare's KVNamespace (@cloudflare/workers-types), overloads included.
    interface KVNamespaceStub {
      get(key: string, options?: { cacheTtl?: number }): Promise<string | null>;
      get(key: string, type: 'json'): Promise<unknown>;
      put(key: string, value: string | ArrayBuffer, options?: { expiration?: number; expirationTtl?: number; metadata?: unknown }): Promise<void>;
    }

    // An app that never types its variables: the module augmentation types them.
    const app = new Hono<Env>();
    const options: JwtEdgeOptions = {
      jwks: 'https://issuer.example/.well-known/jwks.json', issuer: 'https://issuer.example', audience: ['api'],
      algorithms: ['ES256', 'EdDSA'], scopes: ['items:read'], claims: { tenant: { equals: 'acme' }, 'org.id': { present: true }, plan: { one_of: ['pro'] }, groups: { contains: 'ops' } },
      cookie: 'session', realm: 'api', resourceMetadata: 'https://api.example/.well-known/oauth-protected-resource',
      kv: (c) => c.env.JWKS_CACHE, replay: { kv: (c) => c.env.REPLAY }, clockSkewSeconds: 30, maxLifetimeSeconds: 3600,
      requiredClaims: ['jti'], typ: 'at+jwt', subject: 'user-1', jwksOptions: { timeoutMs: 2000, cacheMaxAgeSeconds: 600 },
    };
    app.use('/api/*', jwtEdge(options));
    app.use('/env/*', jwtEdge({ jwks: (c) => c.env.JWKS_URL, issuer: 'x' }));
    app.use('/static/*', jwtEdge({ jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', kid: 'k' }] }, secret: new Uint8Array(32) }));
    app.use('/optional/*', jwtEdge({ jwks: 'https://issuer.example/jwks.json', optional: true }));
    app.get('/api/me', (c) => {
      const payload: JwtClaims = c.get('jwtPayload');
      const sub: string | undefined = payload.sub;
      const exp: number | undefined = c.get('jwtPayload').exp;
      const verdict = c.get('jwtEdge');
      const alg: Algorithm = verdict.alg;
      const source: KeySource = verdict.key_source;
      const kid: string | null = verdict.kid;
      const viaVar: JwtClaims = c.var.jwtPayload;
      return c.json({ sub, exp, alg, source, kid, viaVar });
    });

    // Typed claims: through the app's Variables, or through the chained middleware.
    type Claims = { sub: string; tenant: string; scope?: string };
    const typed = new Hono<{ Variables: JwtEdgeVariables<Claims> }>();
    typed.get('/', (c) => {
      const tenant: string = c.get('jwtPayload').tenant;
      const same: string = c.get('jwtEdge').claims.tenant;
      return c.text(tenant + same);
    });
    const chained = new Hono()
      .use(jwtEdge<Claims>({ jwks: 'https://issuer.example/jwks.json' }))
      .get('/', (c) => c.text(c.get('jwtPayload').tenant));
    const optionalChain = new Hono()
      .use(jwtEdge<Claims>({ jwks: 'https://issuer.example/jwks.json', optional: true }))
      .get('/', (c) => c.text(c.get('jwtPayload')?.tenant ?? 'anonymous'));

    // Hono's own jwt middleware imported in the same program: its augmentation agrees.
    app.use('/legacy/*', jwt({ secret: 'it-is-very-secret', alg: 'HS256' }));
    export { app, typed, chained, optionalChain };
  `);
  const bad = {
    'bad-payload-type.ts': `new Hono().get('/', (c) => { const n: number = c.get('jwtPayload').sub; return c.text(String(n)); }); // error`,
    'bad-verdict-type.ts': `new Hono().get('/', (c) => { const v: string = c.get('jwtEdge').claims; return c.text(v); }); // error`,
    'bad-option.ts': `jwtEdge({ jwks: 'https://x.example/', audiences: 'api' }); // error`,
    'bad-scopes.ts': `jwtEdge({ jwks: 'https://x.example/', scopes: 'items:read' }); // error`,
    'bad-matcher.ts': `jwtEdge({ jwks: 'https://x.example/', claims: { tenant: { is: 'acme' } } }); // error`,
    'bad-present.ts': `jwtEdge({ jwks: 'https://x.example/', claims: { tenant: { present: false } } }); // error`,
    'bad-algorithm.ts': `jwtEdge({ jwks: 'https://x.example/', algorithms: ['none'] }); // error`,
    'bad-typed-claim.ts': `new Hono().use(jwtEdge<{ tenant: string }>({ jwks: 'https://x.example/' })).get('/', (c) => { const n: number = c.get('jwtPayload').tenant; return c.text(String(n)); }); // error`,
    'bad-optional-claims.ts': `new Hono().use(jwtEdge<{ tenant: string }>({ jwks: 'https://x.example/', optional: true })).get('/', (c) => c.text(c.get('jwtPayload').tenant)); // error`,
  };
  for (const [file, line] of Object.entries(bad)) {
    writeFileSync(path.join(project, 'types', file), `import { Hono } from 'hono';\nimport { jwtEdge } from 'jwt-edge/hono';\n${line}\nexport {};\n`);
  }
  // One program: good.ts without an error; each bad file with errors on its marked line only.
  const r = tsc(['types/good.ts', ...Object.keys(bad).map((f) => `types/${f}`)]);
  const errors = (r.stdout + r.stderr).split('\n').filter((l) => /error TS\d+/.test(l));
  assert.deepEqual(errors.filter((e) => !e.startsWith('types/bad-')), [], 'types/good.ts (and the libraries) type-check');
  for (const file of Object.keys(bad)) {
    const mine = errors.filter((e) => e.startsWith(`types/${file}(`));
    assert.ok(mine.length > 0, `${file} should not type-check`);
    for (const e of mine) assert.ok(e.startsWith(`types/${file}(3,`), `${file}: an error off the marked line: ${e}`);
  }
});
