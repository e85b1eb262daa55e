// Route rules (issue 16) in workerd, through the built worker, with loopback origins that
// record every request: auth none/optional/required, scopes (`scope` string, `scp` array
// and string), each claim matcher (nested paths, wrong types), per-route issuers,
// audiences and replay, shadow mode (per rule and top level, also over a JWKS outage),
// method matching, the path-hygiene table over raw HTTP/1.1, RFC 9728 protected-resource
// metadata and its challenge parameter, configuration errors naming their field, and the
// worker without `routes` unchanged. The contract is /work/notes/routes-design.md.
//
// What workerd does to a raw request target before the worker sees it (probed with a
// worker that echoes `request.url`, Miniflare 5.20261117):
//   normalised by workerd (WHATWG URL parsing): dot segments are removed, also encoded
//   ones (`/public/../admin`, `/public/%2e%2e/admin`, `/public/%2E%2E/admin`,
//   `/public/.%2e/admin` → `/admin`; `/public/x/..` → `/public/`), `\` becomes `/`
//   (`/public\..\admin` → `/admin`), and `/public;/../admin` → `/admin` (the `public;`
//   segment is removed by the `..`); raw non-ASCII is percent-encoded (`/café` →
//   `/caf%C3%A9`); a raw tab or space is a 400 from workerd itself; a lowercase method
//   (`patch`) is a 501 from workerd ("Unrecognized request method"), so no lowercase
//   method ever reaches the worker.
//   kept as sent: `%2F`, `%2f`, `%5C`, `%61` (and other encoded unreserved characters),
//   lowercase `%c3%a9`, `;`, `//`, `%00`, `%0A`, `%zz`, `%2`, `/Admin`, the query.
// Miniflare's dispatchFetch (undici) normalises URLs before sending (and reads `//admin`
// as a host), so the path-hygiene cases go over raw HTTP/1.1 to the worker's port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import * as jose from 'jose';
import {
  JwksServer,
  Origin,
  VERDICT_MEMBERS,
  assertVerdict,
  closeAll,
  mint,
  newKey,
  now,
  parseChallenge,
  payloadOf,
  startWorker,
  tamperPayload,
  waitFor,
} from './harness.mjs';

const ISS_A = 'https://idp.example.com';
const ISS_B = 'https://partner.example.net';
const ISS_DEAD = 'https://down.example.org';
const AUD = 'api://edge';
const AUD2 = 'api://reports';
const REALM = 'routes-test';
const META = {
  resource: 'https://api.example.com',
  authorization_servers: [ISS_A],
  scopes_supported: ['items:read', 'items:write', 'admin'],
  bearer_methods_supported: ['header'],
};
const META_PATH = '/.well-known/oauth-protected-resource';
const META_URL = `https://api.example.com${META_PATH}`;
const ASSERTION_HEADER = 'X-Edge-Assertion';

/** The issue's rule table, plus rules for each matcher, issuer, audience and replay case. */
const RULES = [
  { name: 'health', methods: ['GET', 'HEAD'], path: '/health', auth: 'none' },
  { name: 'reports', methods: ['GET'], path: '/reports/**', auth: 'none' },
  { name: 'docs-private', path: '/docs/private/*' },
  { name: 'docs', path: '/docs/**', auth: 'optional' },
  {
    name: 'admin',
    path: '/admin/**',
    issuers: [ISS_A],
    scopes: ['admin'],
    claims: { 'realm_access.roles': { contains: 'admin' } },
  },
  { name: 'write', methods: ['POST', 'PUT', 'PATCH', 'DELETE'], path: '/api/items/*', scopes: ['items:write'], replay: 'strict' },
  { name: 'item-report', methods: ['GET'], path: '/api/items/*/report', scopes: ['items:read', 'reports'] },
  { name: 'beta', path: '/beta/**', enforce: false },
  { name: 'beta-scoped', path: '/beta-scoped/**', enforce: false, scopes: ['beta'] },
  { name: 'partner', path: '/partner/**', issuers: [ISS_B] },
  { name: 'multi', path: '/multi/**', replay: 'off' },
  { name: 'once', path: '/once/**', replay: 'best-effort' },
  { name: 'pay-scoped', path: '/pay/scoped/**', scopes: ['pay'], replay: 'best-effort' },
  { name: 'aud2', path: '/aud2/**', audiences: [AUD2] },
  { name: 'internal', host: 'internal.example.com', path: '/internal/**', auth: 'none' },
  { name: 'c-equals', path: '/c/equals/**', claims: { tenant: { equals: 'acme' } } },
  { name: 'c-level', path: '/c/level/**', claims: { level: { equals: 3 } } },
  { name: 'c-one-of', path: '/c/one-of/**', claims: { plan: { one_of: ['pro', 'enterprise'] } } },
  { name: 'c-contains', path: '/c/contains/**', claims: { groups: { contains: 'ops' } } },
  { name: 'c-present', path: '/c/present/**', claims: { 'org.id': { present: true } } },
  { name: 'c-deep', path: '/c/deep/**', claims: { 'a.b.c': { equals: true } } },
  { name: 'c-url', path: '/c/url/**', claims: { 'https://example.com/roles': { contains: 'admin' } } },
];

let keyA;
let keyB;
let keyDead;
let jwksA;
let jwksB;
let deadPort;
let origin;
let main;
let edPublic;
let assertionBinding;

// ------------------------------------------------------------------ helpers

const claimsA = (extra = {}) => ({ iss: ISS_A, sub: 'user-a', aud: AUD, tenant: 'acme', ...extra });
const claimsB = (extra = {}) => ({ iss: ISS_B, sub: 'user-b', aud: AUD, tenant: 'partner', ...extra });
const adminClaims = (extra = {}) => claimsA({ scope: 'admin', realm_access: { roles: ['user', 'admin'] }, ...extra });
const expired = (claims) => {
  const t = now();
  return { ...claims, iat: t - 7200, exp: t - 3600 };
};
const tampered = async (key, claims) => tamperPayload(await mint(key, claims), (p) => (p.sub = 'admin'));
const decodeClaims = (value) => JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));

/** A port nothing listens on. */
async function closedPort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** Headers a client spoofs: the worker's own, folded spellings, a claim header, the assertion header. */
const SPOOFS = {
  'X-Jwt-Sub': 'admin',
  X_Jwt_Sub: 'admin',
  'x-jwt-claims': 'eyJzdWIiOiJhZG1pbiJ9',
  'X-Jwt-Role': 'root',
  'X-Tenant': 'evil-corp',
  X_Tenant: 'evil-corp',
  [ASSERTION_HEADER]: 'forged',
  'x_edge_assertion': 'forged',
};

/** The names, as the origin saw them, of protected headers (the worker's, a claim header, the assertion). */
const protectedSeen = (headers) =>
  Object.keys(headers).filter((h) => {
    const folded = h.toLowerCase().replaceAll('_', '-');
    return folded.startsWith('x-jwt-') || folded === 'x-tenant' || folded === ASSERTION_HEADER.toLowerCase();
  });

/** Sends through `worker` and returns the response and what the origin got (null: not reached). */
async function through(worker, url, init = {}, o = origin) {
  const before = o.requests.length;
  const res = await worker.fetch(url, init);
  const seen = o.requests.length > before ? o.requests.at(-1) : null;
  assert.ok(o.requests.length <= before + 1, 'at most one request to the origin');
  return { res, seen };
}

/** Forwarded: 201 from the origin, which saw `path` (default: the URL sent). */
function assertForwarded({ res, seen }, path) {
  assert.equal(res.status, 201, `forwarded (got ${res.status} ${res.text.slice(0, 300)})`);
  assert.ok(seen, 'the origin was reached');
  if (path !== undefined) assert.equal(seen.url, path, 'the path the origin got');
  return seen;
}

/** Forwarded anonymously: no protected header, no credential, nothing added. */
function assertAnonymous(r, path) {
  const seen = assertForwarded(r, path);
  assert.deepEqual(protectedSeen(seen.headers), [], `protected headers reached the origin: ${JSON.stringify(seen.headers)}`);
  assert.equal(seen.headers.authorization, undefined, 'the credential is stripped');
  return seen;
}

/** Forwarded with the verified claims (`sub`, X-Jwt-Claims = the payload, the assertion). */
function assertAuthenticated(r, token, path) {
  const seen = assertForwarded(r, path);
  const payload = payloadOf(token);
  assert.equal(seen.headers['x-jwt-sub'], payload.sub, 'X-Jwt-Sub is the verified sub');
  assert.deepEqual(decodeClaims(seen.headers['x-jwt-claims']), payload, 'X-Jwt-Claims is the payload');
  assert.ok(seen.headers[ASSERTION_HEADER.toLowerCase()], 'the assertion is added');
  assert.notEqual(seen.headers[ASSERTION_HEADER.toLowerCase()], 'forged');
  assert.equal(seen.headers.authorization, undefined, 'the credential is stripped');
  const folded = protectedSeen(seen.headers).filter((h) => h.includes('_'));
  assert.deepEqual(folded, [], 'no client spelling of a protected header');
  if ('tenant' in payload && typeof payload.tenant === 'string') assert.equal(seen.headers['x-tenant'], payload.tenant);
  return seen;
}

/**
 * A refusal: status, problem+json with `code` (and `route` when given), and for
 * 400/401/403 the challenge: Bearer, realm, error/error_description (only the realm for
 * token_missing), `scope` when given (absent when `scope: null`), and `resource_metadata`
 * as the last parameter when `metadata` is a URL (absent when null).
 */
function refused(res, { status, code, error, scope, route, realm = REALM, metadata = META_URL }) {
  const where = `${code} (got ${res.status} ${res.headers.get('www-authenticate')} ${res.text.slice(0, 300)})`;
  assert.equal(res.status, status, `status for ${where}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `content-type for ${where}`);
  assert.ok(res.json && typeof res.json === 'object', `problem body for ${where}`);
  assert.equal(res.json.code, code, `code for ${where}`);
  assert.equal(res.json.status, status, `body status for ${where}`);
  if (route !== undefined) assert.equal(res.json.route, route, `body route for ${where}`);
  if (![400, 401, 403].includes(status)) return res.json;
  const value = res.headers.get('www-authenticate');
  const { scheme, params } = parseChallenge(value);
  assert.equal(scheme, 'Bearer', `scheme for ${where}`);
  assert.equal(params.realm, realm, `realm for ${where}`);
  const keys = Object.keys(params);
  if (metadata) {
    assert.equal(params.resource_metadata, metadata, `resource_metadata for ${where}`);
    assert.equal(keys.at(-1), 'resource_metadata', `resource_metadata is last: ${value}`);
  } else {
    assert.ok(!('resource_metadata' in params), `no resource_metadata: ${value}`);
  }
  if (code === 'token_missing') {
    assert.deepEqual(keys, metadata ? ['realm', 'resource_metadata'] : ['realm'], `token_missing challenge: ${value}`);
  } else {
    const expected = error ?? { 400: 'invalid_request', 401: 'invalid_token', 403: 'insufficient_scope' }[status];
    assert.equal(params.error, expected, `error attribute for ${where}`);
    assert.ok(params.error_description, `error_description for ${where}`);
  }
  if (scope === null) assert.ok(!('scope' in params), `no scope parameter: ${value}`);
  else if (scope !== undefined) assert.equal(params.scope, scope, `scope parameter: ${value}`);
  return res.json;
}

/** Refused, and the origin never saw it. */
function refusedBefore({ res, seen }, expect) {
  const body = refused(res, expect);
  assert.equal(seen, null, `the origin saw a refused request (${expect.code})`);
  return body;
}

/** Decision log lines (console.log JSON with event "decision") from index `since`. */
const decisions = (worker, since = 0) => worker.jsonLogs('log').slice(since).filter((l) => l.event === 'decision');

/** Waits for a decision line after `since` matching every member of `match`. */
function decisionLine(worker, since, match, what = JSON.stringify(match)) {
  return waitFor(
    () => decisions(worker, since).find((l) => Object.entries(match).every(([k, v]) => l[k] === v)),
    { what: `a decision line ${what}; have ${JSON.stringify(decisions(worker, since))}` },
  );
}

/** Sends `url` and returns the response, what the origin saw and the request's decision line (matching `match`). */
async function throughLogged(worker, url, init, match, o = origin) {
  const since = worker.jsonLogs('log').length;
  const r = await through(worker, url, init, o);
  const line = await decisionLine(worker, since, match);
  return { ...r, line };
}

// ------------------------------------------------------------------ raw HTTP/1.1

/** Decodes a chunked body. */
function unchunk(buf) {
  const out = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0], 16);
    if (!size) break;
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/**
 * Sends `METHOD target HTTP/1.1` over a socket to the worker's port, the target byte for
 * byte; returns `{ status, headers, text, json }` like Worker.fetch.
 */
async function raw(worker, target, { method = 'GET', token, headers = {}, host = 'api.example.com' } = {}) {
  const url = await worker.mf.ready;
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  if (token !== undefined) lines.push(`Authorization: Bearer ${token}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const request = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const data = await new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(request));
    socket.setTimeout(15000, () => socket.destroy(new Error(`raw ${target}: timed out`)));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
  const split = data.indexOf('\r\n\r\n');
  assert.ok(split > 0, `raw ${target}: no response head in ${JSON.stringify(data.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...headerLines] = data.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const h = new Headers();
  for (const line of headerLines) {
    const i = line.indexOf(':');
    h.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  let body = data.subarray(split + 4);
  if ((h.get('transfer-encoding') ?? '').toLowerCase().includes('chunked')) body = unchunk(body);
  const text = body.toString('utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers: h, text, json };
}

/** `raw` plus what the origin `o` saw (null: not reached). */
async function rawThrough(worker, target, init, o) {
  const before = o.requests.length;
  const res = await raw(worker, target, init);
  return { res, seen: o.requests.length > before ? o.requests.at(-1) : null };
}

// ------------------------------------------------------------------ setup

before(async () => {
  keyA = await newKey('ES256');
  keyB = await newKey('ES256');
  keyDead = await newKey('ES256');
  jwksA = await JwksServer.start([keyA]);
  jwksB = await JwksServer.start([keyB]);
  deadPort = await closedPort();
  origin = await Origin.start();
  const pair = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  edPublic = pair.publicKey;
  assertionBinding = JSON.stringify(await jose.exportJWK(pair.privateKey));
  main = await startWorker({ config: mainConfig(), bindings: { ASSERTION_KEY: assertionBinding } });
});

after(closeAll);

function mainConfig(extra = {}) {
  return {
    issuers: [
      { issuer: ISS_A, jwks_uri: jwksA.uri, audiences: [AUD, AUD2] },
      { issuer: ISS_B, jwks_uri: jwksB.uri, audiences: [AUD], replay: 'best-effort' },
      { issuer: ISS_DEAD, jwks_uri: `http://127.0.0.1:${deadPort}/.well-known/jwks.json`, audiences: [AUD] },
    ],
    mode: 'proxy',
    origin: origin.url,
    realm: REALM,
    claim_headers: { sub: 'X-Jwt-Sub', tenant: 'X-Tenant' },
    assertion: { key_secret: 'ASSERTION_KEY', header: ASSERTION_HEADER },
    dev_allow_http_loopback: true,
    fetch_timeout_ms: 1000,
    resource_metadata: META,
    routes: RULES,
    ...extra,
  };
}

// ------------------------------------------------------------------ auth none

test('auth none (health): forwarded unverified with no token, a good one or a bad one; client X-Jwt-* stripped', async () => {
  const since = main.jsonLogs('log').length;
  assertAnonymous(await through(main, '/health', { headers: SPOOFS }), '/health');
  const good = await mint(keyA, claimsA());
  // A valid token is not verified either: nothing is added, the credential is stripped.
  assertAnonymous(await through(main, '/health?probe=1', { token: good, headers: SPOOFS }), '/health?probe=1');
  assertAnonymous(await through(main, '/health', { token: await mint(keyA, expired(claimsA())) }), '/health');
  assertAnonymous(await through(main, '/health', { token: await tampered(keyA, claimsA()) }), '/health');
  assertAnonymous(await through(main, '/health', { token: 'not-a-jwt' }), '/health');
  // HEAD is listed by the rule.
  const head = await through(main, '/health', { method: 'HEAD', headers: SPOOFS });
  assert.equal(assertAnonymous(head, '/health').method, 'HEAD');
  // The log names the route and says public.
  const line = await decisionLine(main, since, { route: 'health', outcome: 'public' });
  assert.equal(line.enforced, true);
});

test('auth none: a method the rule does not list falls to the default (token required)', async () => {
  refusedBefore(await through(main, '/health', { method: 'POST', body: 'x', headers: SPOOFS }), {
    status: 401,
    code: 'token_missing',
    route: 'default',
  });
  // A trailing slash is matched like /health: the health rule, never the default.
  assertAnonymous(await through(main, '/health/', { headers: SPOOFS }), '/health/');
  // A path the rule does not cover exactly is not public.
  refusedBefore(await through(main, '/health/deep'), { status: 401, code: 'token_missing' });
  refusedBefore(await through(main, '/healthz'), { status: 401, code: 'token_missing' });
});

// ------------------------------------------------------------------ auth optional

test('auth optional (docs): no token → anonymous; spoofed X-Jwt-*, claim and assertion headers never reach the origin', async () => {
  const since = main.jsonLogs('log').length;
  for (const path of ['/docs', '/docs/', '/docs/guide/intro?lang=en']) {
    assertAnonymous(await through(main, path, { headers: SPOOFS }), path);
  }
  const line = await decisionLine(main, since, { route: 'docs', outcome: 'anonymous' });
  assert.equal(line.enforced, true);
});

test('auth optional: a good token is verified and forwarded with claim headers and the assertion', async () => {
  const token = await mint(keyA, claimsA());
  const seen = assertAuthenticated(await through(main, '/docs/guide', { token, headers: SPOOFS }), token, '/docs/guide');
  assert.equal(seen.headers['x-tenant'], 'acme');
  // The assertion is the worker's, over the path forwarded.
  const { payload } = await jose.jwtVerify(seen.headers[ASSERTION_HEADER.toLowerCase()], edPublic, { issuer: 'jwt-edge' });
  assert.equal(payload.path, '/docs/guide');
  assert.equal(payload.claims.sub, 'user-a');
});

test('auth optional: a token present must be valid (expired, bad signature, unknown issuer refused)', async () => {
  refusedBefore(await through(main, '/docs/guide', { token: await mint(keyA, expired(claimsA())) }), {
    status: 401,
    code: 'token_expired',
    route: 'docs',
  });
  refusedBefore(await through(main, '/docs/guide', { token: await tampered(keyA, claimsA()), headers: SPOOFS }), {
    status: 401,
    code: 'signature_invalid',
    route: 'docs',
  });
  const stranger = await newKey('ES256');
  refusedBefore(await through(main, '/docs/guide', { token: await mint(stranger, claimsA({ iss: 'https://evil.example' })) }), {
    status: 401,
    code: 'issuer_mismatch',
  });
});

test('order: the first matching rule decides (docs-private before docs)', async () => {
  refusedBefore(await through(main, '/docs/private/plan'), { status: 401, code: 'token_missing', route: 'docs-private' });
  const token = await mint(keyA, claimsA());
  assertAuthenticated(await through(main, '/docs/private/plan', { token }), token, '/docs/private/plan');
  // `*` is one segment: deeper paths fall to docs (optional).
  assertAnonymous(await through(main, '/docs/private/plan/v2'), '/docs/private/plan/v2');
});

// ------------------------------------------------------------------ auth required (admin) and the default

test('auth required (admin): no token 401, good token forwarded, expired and bad signature 401', async () => {
  refusedBefore(await through(main, '/admin/users', { headers: SPOOFS }), { status: 401, code: 'token_missing', route: 'admin' });
  const token = await mint(keyA, adminClaims());
  assertAuthenticated(await through(main, '/admin/users?page=2', { token, headers: SPOOFS }), token, '/admin/users?page=2');
  // `/**` matches zero further segments too.
  assertAuthenticated(await through(main, '/admin', { token }), token, '/admin');
  refusedBefore(await through(main, '/admin/users', { token: await mint(keyA, expired(adminClaims())) }), {
    status: 401,
    code: 'token_expired',
    route: 'admin',
  });
  refusedBefore(await through(main, '/admin/users', { token: await tampered(keyA, adminClaims()) }), {
    status: 401,
    code: 'signature_invalid',
    route: 'admin',
  });
});

test('admin: the scope and the nested role are both required', async () => {
  // No admin scope → insufficient_scope naming it.
  refusedBefore(await through(main, '/admin/users', { token: await mint(keyA, adminClaims({ scope: 'items:read' })) }), {
    status: 403,
    code: 'insufficient_scope',
    error: 'insufficient_scope',
    scope: 'admin',
    route: 'admin',
  });
  // The scope but not the role → claim_mismatch, no scope parameter.
  refusedBefore(
    await through(main, '/admin/users', { token: await mint(keyA, adminClaims({ realm_access: { roles: ['user'] } })) }),
    { status: 403, code: 'claim_mismatch', error: 'insufficient_scope', scope: null, route: 'admin' },
  );
  // The role at the top level is not the nested claim.
  refusedBefore(
    await through(main, '/admin/users', {
      token: await mint(keyA, adminClaims({ realm_access: undefined, roles: ['admin'] })),
    }),
    { status: 403, code: 'claim_mismatch', scope: null },
  );
  // contains over a space-separated string.
  const words = await mint(keyA, adminClaims({ realm_access: { roles: 'user admin' } }));
  assertAuthenticated(await through(main, '/admin/users', { token: words }), words, '/admin/users');
});

test('per-route issuers: a token from the other issuer is issuer_mismatch', async () => {
  // admin accepts ISS_A only.
  refusedBefore(await through(main, '/admin/users', { token: await mint(keyB, adminClaims({ iss: ISS_B })) }), {
    status: 401,
    code: 'issuer_mismatch',
    route: 'admin',
  });
  // partner accepts ISS_B only.
  refusedBefore(await through(main, '/partner/orders', { token: await mint(keyA, claimsA()) }), {
    status: 401,
    code: 'issuer_mismatch',
    route: 'partner',
  });
  const b = await mint(keyB, claimsB());
  assertAuthenticated(await through(main, '/partner/orders', { token: b }), b, '/partner/orders');
});

test('the default route: a valid token from any issuer, no scopes; nothing without one', async () => {
  const since = main.jsonLogs('log').length;
  refusedBefore(await through(main, '/other/thing', { headers: SPOOFS }), { status: 401, code: 'token_missing', route: 'default' });
  const a = await mint(keyA, claimsA());
  assertAuthenticated(await through(main, '/other/thing', { token: a }), a, '/other/thing');
  const b = await mint(keyB, claimsB());
  assertAuthenticated(await through(main, '/other/thing', { token: b }), b, '/other/thing');
  refusedBefore(await through(main, '/other/thing', { token: await mint(keyA, expired(claimsA())) }), {
    status: 401,
    code: 'token_expired',
  });
  const accepted = await decisionLine(main, since, { route: 'default', outcome: 'accept' });
  assert.equal(accepted.enforced, true);
  assert.equal(accepted.iss, ISS_A);
  const missing = await decisionLine(main, since, { route: 'default', outcome: 'refuse', code: 'token_missing' });
  assert.equal(missing.enforced, true);
});

test('host: a rule with a host matches that host only (lowercased, port ignored)', async () => {
  assertAnonymous(await through(main, 'https://internal.example.com/internal/status'), '/internal/status');
  assertAnonymous(await through(main, 'https://INTERNAL.example.com:8443/internal/status'), '/internal/status');
  refusedBefore(await through(main, 'https://edge.test/internal/status'), { status: 401, code: 'token_missing', route: 'default' });
  refusedBefore(await through(main, 'https://other.internal.example.com/internal/status'), { status: 401, code: 'token_missing' });
});

// ------------------------------------------------------------------ scopes

test('scopes: `scope` string, `scp` array and `scp` string each grant items:write', async () => {
  for (const extra of [
    { scope: 'items:read items:write' },
    { scope: 'items:write' },
    { scp: ['items:read', 'items:write'] },
    { scp: 'items:write items:read' },
  ]) {
    const token = await mint(keyA, claimsA(extra));
    const r = await through(main, '/api/items/42', { method: 'POST', token, body: 'b' });
    const seen = assertAuthenticated(r, token, '/api/items/42');
    assert.equal(seen.method, 'POST');
    assert.equal(seen.body, 'b');
  }
});

test('scopes: missing → 403 insufficient_scope with scope="items:write", never reaching the origin', async () => {
  const wrong = [];
  for (const [what, extra] of [
    ['no scope claim', {}],
    ['another scope', { scope: 'items:read' }],
    ['a prefix of another word', { scope: 'items:writer admin' }],
    ['scp without it', { scp: ['items:read'] }],
    ['`scope` as an array (another type: no scopes)', { scope: ['items:write'] }],
    ['`scp` as a number', { scp: 7 }],
    ['`scp` an array holding a non-string (not an array of strings)', { scp: [1, 'items:write'] }],
    ['`scope` wins over `scp`', { scope: 'items:read', scp: ['items:write'] }],
    ['case differs', { scope: 'Items:Write' }],
  ]) {
    const token = await mint(keyA, claimsA(extra));
    const r = await through(main, '/api/items/42', { method: 'PUT', token, body: 'b' });
    // Every row is tried; the ones not refused are listed together.
    if (r.res.status !== 403) {
      wrong.push(`${what} ${JSON.stringify(extra)}: ${r.res.status}${r.seen ? ' (reached the origin)' : ''}`);
      continue;
    }
    const body = refusedBefore(r, { status: 403, code: 'insufficient_scope', error: 'insufficient_scope', scope: 'items:write', route: 'write' });
    assert.equal(body.code, 'insufficient_scope', what);
  }
  assert.deepEqual(wrong, [], 'tokens without items:write that were not refused');
});

test('scopes: all listed scopes are required (scope="items:read reports")', async () => {
  refusedBefore(await through(main, '/api/items/42/report', { token: await mint(keyA, claimsA({ scope: 'items:read' })) }), {
    status: 403,
    code: 'insufficient_scope',
    scope: 'items:read reports',
    route: 'item-report',
  });
  const token = await mint(keyA, claimsA({ scp: ['reports', 'items:read'] }));
  assertAuthenticated(await through(main, '/api/items/42/report', { token }), token, '/api/items/42/report');
});

test('write rule: methods and `*` (one non-empty segment) decide; other requests take the default', async () => {
  const plain = () => mint(keyA, claimsA());
  // GET is not a write method: the default (any valid token, no scopes).
  let token = await plain();
  assertAuthenticated(await through(main, '/api/items/42', { token }), token, '/api/items/42');
  // `*` is exactly one segment.
  token = await plain();
  assertAuthenticated(await through(main, '/api/items/42/parts', { method: 'POST', token, body: 'x' }), token, '/api/items/42/parts');
  token = await plain();
  assertAuthenticated(await through(main, '/api/items', { method: 'POST', token, body: 'x' }), token, '/api/items');
  // Each listed method is governed by the rule.
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    refusedBefore(await through(main, '/api/items/7', { method, token: await plain(), body: method === 'DELETE' ? undefined : 'x' }), {
      status: 403,
      code: 'insufficient_scope',
      scope: 'items:write',
    });
  }
});

// ------------------------------------------------------------------ claim matchers

/** For each [claims extra, accepted?] sends a token to `path`. */
async function matcherTable(path, rule, rows) {
  for (const [extra, accepted] of rows) {
    const token = await mint(keyA, claimsA(extra));
    const r = await through(main, path, { token });
    const what = `${rule} with ${JSON.stringify(extra)}`;
    if (accepted) {
      assert.equal(r.res.status, 201, `${what} accepted: ${r.res.text}`);
      assertAuthenticated(r, token, path);
    } else {
      assert.equal(r.res.status, 403, `${what} refused: ${r.res.status} ${r.res.text}`);
      refusedBefore(r, { status: 403, code: 'claim_mismatch', error: 'insufficient_scope', scope: null, route: rule });
    }
  }
}

test('claims equals: the value exactly; missing, another value or another type → claim_mismatch', async () => {
  await matcherTable('/c/equals/x', 'c-equals', [
    [{ tenant: 'acme' }, true],
    [{ tenant: 'acme2' }, false],
    [{ tenant: 'ACME' }, false],
    [{ tenant: undefined }, false],
    [{ tenant: ['acme'] }, false],
    [{ tenant: null }, false],
  ]);
  await matcherTable('/c/level/x', 'c-level', [
    [{ level: 3 }, true],
    [{ level: '3' }, false],
    [{ level: 4 }, false],
    [{ level: true }, false],
  ]);
});

test('claims one_of: any listed value; others, arrays and other types → claim_mismatch', async () => {
  await matcherTable('/c/one-of/x', 'c-one-of', [
    [{ plan: 'pro' }, true],
    [{ plan: 'enterprise' }, true],
    [{ plan: 'free' }, false],
    [{ plan: ['pro'] }, false],
    [{ plan: 1 }, false],
    [{}, false],
  ]);
});

test('claims contains: an array holding the value or a space-separated string with the word', async () => {
  await matcherTable('/c/contains/x', 'c-contains', [
    [{ groups: ['dev', 'ops'] }, true],
    [{ groups: 'dev ops' }, true],
    [{ groups: 'ops' }, true],
    [{ groups: ['dev'] }, false],
    [{ groups: 'devops' }, false],
    [{ groups: 'dev-ops' }, false],
    [{ groups: ['dev ops'] }, false],
    [{ groups: 5 }, false],
    [{ groups: { ops: true } }, false],
    [{}, false],
  ]);
});

test('claims present: exists and is not null (nested dotted path)', async () => {
  await matcherTable('/c/present/x', 'c-present', [
    [{ org: { id: 'o-1' } }, true],
    [{ org: { id: 0 } }, true],
    [{ org: { id: false } }, true],
    [{ org: { id: null } }, false],
    [{ org: {} }, false],
    [{ org: 'o-1' }, false],
    [{ org: ['id'] }, false],
    [{}, false],
  ]);
});

test('claims: a nested path three levels deep, and a member whose name holds dots', async () => {
  await matcherTable('/c/deep/x', 'c-deep', [
    [{ a: { b: { c: true } } }, true],
    [{ a: { b: { c: 'true' } } }, false],
    [{ a: { b: [{ c: true }] } }, false],
    [{ a: { b: true } }, false],
    [{ 'a.b.c': false, a: { b: { c: false } } }, false],
    // The member named by the whole path wins over the nested one.
    [{ 'a.b.c': true, a: { b: { c: false } } }, true],
    [{ 'a.b.c': false, a: { b: { c: true } } }, false],
    [{ a: { 'b.c': true } }, true],
  ]);
  // A member named by the whole remaining path wins over splitting at the first dot.
  await matcherTable('/c/url/x', 'c-url', [
    [{ 'https://example.com/roles': ['admin'] }, true],
    [{ 'https://example.com/roles': 'viewer admin' }, true],
    [{ 'https://example.com/roles': ['viewer'] }, false],
    [{ https: { '//example': { 'com/roles': ['admin'] } } }, false],
    // No member of the whole name: split at the first dot ('https://example' → 'com/roles').
    [{ 'https://example': { 'com/roles': ['admin'] } }, true],
  ]);
});

// ------------------------------------------------------------------ audiences

test('per-route audiences narrow the issuer’s (403 audience_mismatch)', async () => {
  // AUD is enough for the issuer (and the default route), not for /aud2.
  const plain = await mint(keyA, claimsA({ aud: AUD }));
  assertAuthenticated(await through(main, '/other/aud', { token: plain }), plain, '/other/aud');
  refusedBefore(await through(main, '/aud2/summary', { token: await mint(keyA, claimsA({ aud: AUD })) }), {
    status: 403,
    code: 'audience_mismatch',
    route: 'aud2',
  });
  for (const aud of [AUD2, [AUD, AUD2]]) {
    const token = await mint(keyA, claimsA({ aud }));
    assertAuthenticated(await through(main, '/aud2/summary', { token }), token, '/aud2/summary');
  }
  // The issuer's own check still applies: an audience neither accepts.
  refusedBefore(await through(main, '/aud2/summary', { token: await mint(keyA, claimsA({ aud: 'api://other' })) }), {
    status: 403,
    code: 'audience_mismatch',
  });
});

// ------------------------------------------------------------------ replay

test('per-route replay strict (write): a second use of the jti is refused; the same token twice on a route without replay is fine', async () => {
  const token = await mint(keyA, claimsA({ scope: 'items:write' }));
  assertAuthenticated(await through(main, '/api/items/9', { method: 'POST', token, body: '1' }), token, '/api/items/9');
  refusedBefore(await through(main, '/api/items/9', { method: 'POST', token, body: '2' }), {
    status: 401,
    code: 'token_replayed',
    route: 'write',
  });
  refusedBefore(await through(main, '/api/items/10', { method: 'DELETE', token }), { status: 401, code: 'token_replayed' });
  // ISS_A has no replay protection of its own: the same token on docs and the default.
  for (let i = 0; i < 2; i++) {
    assertAuthenticated(await through(main, '/docs/again', { token }), token, '/docs/again');
    assertAuthenticated(await through(main, '/other/again', { token }), token, '/other/again');
  }
  // Strict replay needs a jti.
  refusedBefore(await through(main, '/api/items/9', { method: 'POST', token: await mint(keyA, claimsA({ scope: 'items:write', jti: undefined })), body: '3' }), {
    status: 401,
    code: 'claim_missing',
  });
});

test('per-route replay best-effort over an issuer without replay (once)', async () => {
  const token = await mint(keyA, claimsA());
  assertAuthenticated(await through(main, '/once/pay', { token }), token, '/once/pay');
  refusedBefore(await through(main, '/once/pay', { token }), { status: 401, code: 'token_replayed', route: 'once' });
  // The default route (ISS_A: no replay) still takes it.
  assertAuthenticated(await through(main, '/other/after-once', { token }), token, '/other/after-once');
});

test('scopes and claims come before replay: a token refused for its scope keeps its jti', async () => {
  // Without the `pay` scope: refused on pay-scoped (best-effort replay) before any jti is
  // recorded, so the same token is still accepted once on `once` (the same KV tier).
  const token = await mint(keyA, claimsA());
  refusedBefore(await through(main, '/pay/scoped/1', { token }), { status: 403, code: 'insufficient_scope', route: 'pay-scoped' });
  assertAuthenticated(await through(main, '/once/after-scope', { token }), token, '/once/after-scope');
  refusedBefore(await through(main, '/once/after-scope', { token }), { status: 401, code: 'token_replayed', route: 'once' });
  // With the scope: accepted once on pay-scoped, then replayed there.
  const paying = await mint(keyA, claimsA({ scope: 'pay' }));
  assertAuthenticated(await through(main, '/pay/scoped/2', { token: paying }), paying, '/pay/scoped/2');
  refusedBefore(await through(main, '/pay/scoped/2', { token: paying }), { status: 401, code: 'token_replayed', route: 'pay-scoped' });
});

test('per-route replay off over an issuer with best-effort (multi): accepted twice, then once elsewhere', async () => {
  const token = await mint(keyB, claimsB());
  for (let i = 0; i < 3; i++) {
    assertAuthenticated(await through(main, '/multi/poll', { token }), token, '/multi/poll');
  }
  // Unused so far as far as the issuer's own replay is concerned: once, then refused.
  assertAuthenticated(await through(main, '/partner/poll', { token }), token, '/partner/poll');
  refusedBefore(await through(main, '/partner/poll', { token }), { status: 401, code: 'token_replayed', route: 'partner' });
});

// ------------------------------------------------------------------ shadow mode (rule)

test('shadow rule (beta, enforce:false): no token → forwarded anonymous, logged with the would-be code', async () => {
  const { res, seen, line } = await throughLogged(main, '/beta/feature', { headers: SPOOFS }, { route: 'beta', code: 'token_missing' });
  assertAnonymous({ res, seen }, '/beta/feature');
  assert.equal(line.enforced, false, JSON.stringify(line));
  assert.equal(line.outcome, 'refuse', JSON.stringify(line));
});

test('shadow rule: expired and bad-signature tokens → forwarded without claims, logged', async () => {
  for (const [token, code] of [
    [await mint(keyA, expired(claimsA())), 'token_expired'],
    [await tampered(keyA, claimsA()), 'signature_invalid'],
    [await mint(keyA, claimsA({ aud: 'api://other' })), 'audience_mismatch'],
  ]) {
    const { res, seen, line } = await throughLogged(main, '/beta/feature?x=1', { token, headers: SPOOFS }, { route: 'beta', code });
    assertAnonymous({ res, seen }, '/beta/feature?x=1');
    assert.equal(line.enforced, false, JSON.stringify(line));
    assert.equal(line.outcome, 'refuse', JSON.stringify(line));
  }
});

test('shadow rule: a good token is forwarded with claim headers and the assertion', async () => {
  const token = await mint(keyA, claimsA());
  const { res, seen, line } = await throughLogged(main, '/beta/feature', { token, headers: SPOOFS }, { route: 'beta', outcome: 'accept' });
  assertAuthenticated({ res, seen }, token, '/beta/feature');
  assert.equal(seen.headers['x-tenant'], 'acme');
  assert.equal(line.route, 'beta');
});

test('shadow rule with scopes: a valid token without the scope is forwarded anonymous, logged insufficient_scope', async () => {
  const token = await mint(keyA, claimsA({ scope: 'items:read' }));
  const { res, seen, line } = await throughLogged(main, '/beta-scoped/x', { token, headers: SPOOFS }, { route: 'beta-scoped', code: 'insufficient_scope' });
  assertAnonymous({ res, seen }, '/beta-scoped/x');
  assert.equal(line.enforced, false);
  const ok = await mint(keyA, claimsA({ scope: 'beta' }));
  assertAuthenticated(await through(main, '/beta-scoped/x', { token: ok }), ok, '/beta-scoped/x');
});

test('shadow rule over a JWKS outage: forwarded, never a 5xx; the same outage enforced is a 5xx', async () => {
  const token = await mint(keyDead, { iss: ISS_DEAD, sub: 'user-d', aud: AUD });
  const { res, seen, line } = await throughLogged(main, '/beta/outage', { token }, { route: 'beta', enforced: false });
  assert.ok(res.status < 500, `shadowed outage gave ${res.status} ${res.text}`);
  assertAnonymous({ res, seen }, '/beta/outage');
  assert.equal(line.outcome, 'refuse', JSON.stringify(line));
  assert.ok(line.code && line.code !== 'ok', JSON.stringify(line));
  // Control: the same issuer on an enforced route fails closed with a 5xx.
  const control = await through(main, '/other/outage', { token: await mint(keyDead, { iss: ISS_DEAD, sub: 'user-d', aud: AUD }) });
  assert.ok(control.res.status >= 500, `enforced outage: ${control.res.status} ${control.res.text}`);
  assert.equal(control.seen, null);
  assert.equal(line.code, control.res.json?.code, 'the shadow line names the code the enforced route gave');
});

// ------------------------------------------------------------------ shadow mode (top level)

test('top-level enforce:false: the default and rules without their own enforce are shadowed; enforce:true rules are not', async () => {
  const o = await Origin.start();
  const w = await startWorker({
    config: {
      issuers: [
        { issuer: ISS_A, jwks_uri: jwksA.uri, audiences: [AUD] },
        { issuer: ISS_DEAD, jwks_uri: `http://127.0.0.1:${deadPort}/.well-known/jwks.json`, audiences: [AUD] },
      ],
      mode: 'proxy',
      origin: o.url,
      realm: REALM,
      claim_headers: { sub: 'X-Jwt-Sub', tenant: 'X-Tenant' },
      assertion: { key_secret: 'ASSERTION_KEY', header: ASSERTION_HEADER },
      dev_allow_http_loopback: true,
      fetch_timeout_ms: 1000,
      enforce: false,
      routes: [
        { name: 'admin', path: '/admin/**', scopes: ['admin'], enforce: true },
        { name: 'docs', path: '/docs/**', auth: 'optional' },
      ],
    },
    bindings: { ASSERTION_KEY: assertionBinding },
  });
  // The default route, no token: forwarded, logged as the default's would-be refusal.
  let r = await throughLogged(w, '/x', { headers: SPOOFS }, { route: 'default', code: 'token_missing' }, o);
  assert.equal(r.res.status, 201, r.res.text);
  assert.deepEqual(protectedSeen(r.seen.headers), []);
  assert.equal(r.line.enforced, false);
  assert.equal(r.line.outcome, 'refuse');
  // An expired token on the default: forwarded without claims.
  r = await throughLogged(w, '/x', { token: await mint(keyA, expired(claimsA())), headers: SPOOFS }, { route: 'default', code: 'token_expired' }, o);
  assert.equal(r.res.status, 201, r.res.text);
  assert.deepEqual(protectedSeen(r.seen.headers), []);
  assert.equal(r.line.enforced, false);
  // docs inherits enforce:false: a bad token is forwarded, not refused.
  r = await throughLogged(w, '/docs/a', { token: await tampered(keyA, claimsA()) }, { route: 'docs', code: 'signature_invalid' }, o);
  assert.equal(r.res.status, 201, r.res.text);
  assert.deepEqual(protectedSeen(r.seen.headers), []);
  assert.equal(r.line.enforced, false);
  // A good token: claims forwarded.
  const good = await mint(keyA, claimsA());
  r = await through(w, '/x', { token: good }, o);
  assert.equal(r.res.status, 201, r.res.text);
  assert.equal(r.seen.headers['x-jwt-sub'], 'user-a');
  assert.equal(r.seen.headers['x-tenant'], 'acme');
  // A JWKS outage shadowed: forwarded, not a 5xx.
  const dead = await mint(keyDead, { iss: ISS_DEAD, sub: 'user-d', aud: AUD });
  r = await throughLogged(w, '/x', { token: dead }, { route: 'default', enforced: false }, o);
  assert.ok(r.res.status < 500, `shadowed outage: ${r.res.status} ${r.res.text}`);
  assert.equal(r.res.status, 201, r.res.text);
  assert.equal(r.line.outcome, 'refuse');
  // The admin rule says enforce:true: refused as usual.
  refusedBefore(await through(w, '/admin/x', {}, o), { status: 401, code: 'token_missing', route: 'admin', metadata: null });
  refusedBefore(await through(w, '/admin/x', { token: await mint(keyA, claimsA()) }, o), {
    status: 403,
    code: 'insufficient_scope',
    scope: 'admin',
    metadata: null,
  });
  const enforcedOutage = await through(w, '/admin/x', { token: await mint(keyDead, { iss: ISS_DEAD, sub: 'u', aud: AUD, scope: 'admin' }) }, o);
  assert.ok(enforcedOutage.res.status >= 500, `enforced outage: ${enforcedOutage.res.status}`);
  await w.dispose();
});

// ------------------------------------------------------------------ methods

test('HEAD on a GET-only rule matches it; other methods do not', async () => {
  const head = await through(main, '/reports/daily', { method: 'HEAD', headers: SPOOFS });
  assert.equal(assertAnonymous(head, '/reports/daily').method, 'HEAD');
  assertAnonymous(await through(main, '/reports/daily', { headers: SPOOFS }), '/reports/daily');
  refusedBefore(await through(main, '/reports/daily', { method: 'POST', body: 'x' }), { status: 401, code: 'token_missing', route: 'default' });
  refusedBefore(await through(main, '/reports/daily', { method: 'DELETE' }), { status: 401, code: 'token_missing' });
  // A lowercase method never reaches the worker: workerd answers 501 itself (probed), so
  // the origin of a write route is not reached by a raw `patch` either.
  const lower = await rawThrough(main, '/api/items/1', { method: 'patch' }, origin);
  assert.notEqual(lower.res.status, 201);
  assert.equal(lower.seen, null);
});

// ------------------------------------------------------------------ logs name the route

test('decision log lines name the route and say enforced', async () => {
  const since = main.jsonLogs('log').length;
  await main.fetch('/admin/x');
  const token = await mint(keyA, adminClaims());
  await main.fetch('/admin/x', { token });
  const refusedLine = await decisionLine(main, since, { route: 'admin', outcome: 'refuse', code: 'token_missing' });
  assert.equal(refusedLine.enforced, true);
  const acceptLine = await decisionLine(main, since, { route: 'admin', outcome: 'accept' });
  assert.equal(acceptLine.enforced, true);
  assert.equal(acceptLine.iss, ISS_A);
  for (const line of decisions(main, since)) assert.ok(!JSON.stringify(line).includes(token), 'no token in the log');
});

// ------------------------------------------------------------------ verdict mode

let verdictWorker;
async function verdicts() {
  verdictWorker ??= await startWorker({
    config: {
      issuers: [{ issuer: ISS_A, jwks_uri: jwksA.uri, audiences: [AUD] }],
      mode: 'verdict',
      realm: REALM,
      dev_allow_http_loopback: true,
      routes: [
        { name: 'health', path: '/health', auth: 'none' },
        { name: 'docs', path: '/docs/**', auth: 'optional' },
        { name: 'beta', path: '/beta/**', enforce: false },
        { name: 'admin', path: '/admin/**', scopes: ['admin'] },
      ],
    },
  });
  return verdictWorker;
}

test('verdict mode: public, anonymous and shadowed requests answer 200 {anonymous, auth, code, enforced, route}', async () => {
  const w = await verdicts();
  const rows = [
    ['/health', { token: await mint(keyA, expired(claimsA())) }, { anonymous: true, route: 'health', auth: 'none', enforced: true, code: null }],
    ['/docs/x', {}, { anonymous: true, route: 'docs', auth: 'optional', enforced: true, code: null }],
    ['/beta/x', { token: await mint(keyA, expired(claimsA())) }, { anonymous: true, route: 'beta', auth: 'required', enforced: false, code: 'token_expired' }],
    ['/beta/x', {}, { anonymous: true, route: 'beta', auth: 'required', enforced: false, code: 'token_missing' }],
  ];
  const got = [];
  for (const [url, init, want] of rows) {
    const res = await w.fetch(url, init);
    assert.equal(res.status, 200, `${url}: ${res.text}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(res.json?.[k], v, `${url}: ${k} in ${res.text}`);
    got.push([res.json, want]);
  }
  // Exactly the design's members.
  for (const [json, want] of got) assert.deepEqual(json, want, 'the anonymous verdict, exactly');
});

test('verdict mode: the accepted verdict plus "route"; refusals name the route', async () => {
  const w = await verdicts();
  const token = await mint(keyA, claimsA());
  let res = await w.fetch('/docs/x', { token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.valid, true);
  assert.equal(res.json.route, 'docs');
  assert.deepEqual(res.json.claims, payloadOf(token));
  res = await w.fetch('/x', { token: await mint(keyA, claimsA()) });
  assert.equal(res.json?.route, 'default', res.text);
  refused(await w.fetch('/admin/x', { token: await mint(keyA, claimsA()) }), {
    status: 403,
    code: 'insufficient_scope',
    scope: 'admin',
    route: 'admin',
    metadata: null,
  });
  refused(await w.fetch('/admin/x'), { status: 401, code: 'token_missing', route: 'admin', metadata: null });
  // The verdict's own members keep their order (src/verdict.rs), "route" added.
  const accepted = await w.fetch('/docs/y', { token: await mint(keyA, claimsA()) });
  assert.deepEqual(Object.keys(accepted.json).filter((k) => k !== 'route'), VERDICT_MEMBERS, `verdict members: ${Object.keys(accepted.json)}`);
});

// ------------------------------------------------------------------ RFC 9728

test('RFC 9728: GET/HEAD /.well-known/oauth-protected-resource answer the document without a token', async () => {
  const before = origin.requests.length;
  const res = await main.fetch(META_PATH);
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=3600');
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.deepEqual(res.json, META);
  const head = await main.fetch(META_PATH, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.equal(head.headers.get('cache-control'), 'public, max-age=3600');
  assert.equal(origin.requests.length, before, 'the origin is not asked');
  // Only GET and HEAD: a POST there is an ordinary request (the default route).
  refusedBefore(await through(main, META_PATH, { method: 'POST', body: '{}' }), { status: 401, code: 'token_missing' });
});

test('RFC 9728: every 400/401/403 challenge carries resource_metadata', async () => {
  // `refused` checks resource_metadata (last parameter) on each.
  refused(await main.fetch('/other/x'), { status: 401, code: 'token_missing' });
  refused(await main.fetch('/other/x', { token: await tampered(keyA, claimsA()) }), { status: 401, code: 'signature_invalid' });
  refused(await main.fetch('/admin/x', { token: await mint(keyB, adminClaims({ iss: ISS_B })) }), { status: 401, code: 'issuer_mismatch' });
  refused(await main.fetch('/api/items/1', { method: 'POST', token: await mint(keyA, claimsA()) }), {
    status: 403,
    code: 'insufficient_scope',
    scope: 'items:write',
  });
  refused(await main.fetch('/c/equals/x', { token: await mint(keyA, claimsA({ tenant: 'x' })) }), { status: 403, code: 'claim_mismatch', scope: null });
  refused(await main.fetch('/aud2/x', { token: await mint(keyA, claimsA()) }), { status: 403, code: 'audience_mismatch' });
  refused(await raw(main, '//x'), { status: 400, code: 'request_malformed', error: 'invalid_request' });
});

test('RFC 9728: a resource with a path is served under the path, and the challenge points there', async () => {
  const o = await Origin.start();
  const w = await startWorker({
    config: {
      issuers: [{ issuer: ISS_A, jwks_uri: jwksA.uri, audiences: [AUD] }],
      mode: 'proxy',
      origin: o.url,
      realm: REALM,
      dev_allow_http_loopback: true,
      resource_metadata: { ...META, resource: 'https://api.example.com/v1' },
      routes: [{ name: 'health', path: '/health', auth: 'none' }],
    },
  });
  const url = `https://api.example.com${META_PATH}/v1`;
  const res = await w.fetch(`${META_PATH}/v1`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { ...META, resource: 'https://api.example.com/v1' });
  assert.equal(res.headers.get('cache-control'), 'public, max-age=3600');
  // Without the path it is not the document: an ordinary request, refused without a token.
  refused(await w.fetch(META_PATH), { status: 401, code: 'token_missing', metadata: url });
  refused(await w.fetch('/v1/items', { token: await tampered(keyA, claimsA()) }), { status: 401, code: 'signature_invalid', metadata: url });
  assert.equal(o.requests.length, 0);
  await w.dispose();
});

// ------------------------------------------------------------------ path hygiene (raw HTTP/1.1)

/**
 * [raw request target, kind, the path (and query) the origin must get].
 * kind: 'malformed' → 400 request_malformed with any token; 'admin' → the admin rule
 * (401 without a token, 403 with an ordinary one, forwarded to exactly the normalised
 * path with an admin token); 'public' → forwarded unauthenticated; 'default' → a token
 * needed, forwarded as the (non-admin) path.
 */
const PATH_CASES = [
  // workerd removes these dot segments before the worker sees them:
  ['/public/../admin', 'admin', '/admin'],
  ['/public/%2e%2e/admin', 'admin', '/admin'],
  ['/public/%2E%2E/admin', 'admin', '/admin'],
  ['/public/.%2e/admin', 'admin', '/admin'],
  ['/public\\..\\admin', 'admin', '/admin'],
  ['/public;/../admin', 'admin', '/admin'],
  ['/public/x/..', 'public', '/public/'],
  // the worker normalises these:
  ['/%61dmin', 'admin', '/admin'],
  ['/%61dmin/%7Eops', 'admin', '/admin/~ops'],
  ['/%61dmin?next=%2F..%2Fpublic', 'admin', '/admin?next=%2F..%2Fpublic'],
  ['/admin/', 'admin', '/admin/'],
  ['/admin', 'admin', '/admin'],
  ['/admin/users/', 'admin', '/admin/users/'],
  ['/public/%41%42', 'public', '/public/AB'],
  ['/public/caf%c3%a9', 'public', '/public/caf%C3%A9'],
  ['/public/a%20b', 'public', '/public/a%20b'],
  ['/public/ok', 'public', '/public/ok'],
  ['/public?next=/../admin', 'public', '/public?next=/../admin'],
  // case-sensitive: not the admin rule, so the default (a valid token)
  ['/Admin', 'default', '/Admin'],
  ['/ADMIN/users', 'default', '/ADMIN/users'],
  // refused before any rule:
  ['/admin%2F..%2Fpublic', 'malformed'],
  ['/public%2F..%2Fadmin', 'malformed'],
  ['/public%2f..%2fadmin', 'malformed'],
  ['/public/..%2Fadmin', 'malformed'],
  ['/public%5C..%5Cadmin', 'malformed'],
  ['/public%5c..%5cadmin', 'malformed'],
  ['//admin', 'malformed'],
  ['/public//admin', 'malformed'],
  ['/admin;x', 'malformed'],
  ['/public/x;y', 'malformed'],
  ['/a%00b', 'malformed'],
  ['/public/%0Aadmin', 'malformed'],
  ['/public/%7F', 'malformed'],
  ['/a%zz', 'malformed'],
  ['/public/%2', 'malformed'],
  ['/public/%', 'malformed'],
];

let paths;
let pathOrigin;
let ordinaryToken;
const adminToken = () => mint(keyA, adminClaims());

async function pathWorker() {
  if (paths) return paths;
  pathOrigin = await Origin.start();
  paths = await startWorker({
    config: {
      issuers: [{ issuer: ISS_A, jwks_uri: jwksA.uri, audiences: [AUD] }],
      mode: 'proxy',
      origin: pathOrigin.url,
      realm: 'paths-test',
      claim_headers: { sub: 'X-Jwt-Sub' },
      dev_allow_http_loopback: true,
      routes: [
        { name: 'admin', path: '/admin/**', scopes: ['admin'], claims: { 'realm_access.roles': { contains: 'admin' } } },
        { name: 'public', path: '/public/**', auth: 'none' },
      ],
    },
  });
  ordinaryToken = await mint(keyA, claimsA({ scope: 'items:read' }));
  return paths;
}

const isAdminPath = (url) => {
  const p = url.split('?')[0];
  return p === '/admin' || p.startsWith('/admin/');
};

for (const [target, kind, normalised] of PATH_CASES) {
  test(`path hygiene: ${JSON.stringify(target)} → ${kind}${normalised ? ` ${normalised}` : ''}`, async () => {
    const w = await pathWorker();
    const expect = { realm: 'paths-test', metadata: null };
    const send = async (token) => rawThrough(w, target, { token }, pathOrigin);
    const noToken = await send(undefined);
    const ordinary = await send(ordinaryToken);
    for (const r of [noToken, ordinary]) {
      if (r.seen) assert.ok(!isAdminPath(r.seen.url), `${target} reached the admin path ${r.seen.url} without an admin token`);
    }
    switch (kind) {
      case 'malformed': {
        for (const r of [noToken, ordinary, await send(await adminToken())]) {
          refusedBefore(r, { ...expect, status: 400, code: 'request_malformed', error: 'invalid_request' });
        }
        break;
      }
      case 'admin': {
        refusedBefore(noToken, { ...expect, status: 401, code: 'token_missing', route: 'admin' });
        refusedBefore(ordinary, { ...expect, status: 403, code: 'insufficient_scope', scope: 'admin', route: 'admin' });
        const admin = await send(await adminToken());
        assert.equal(admin.res.status, 201, `${target} with an admin token: ${admin.res.status} ${admin.res.text}`);
        assert.equal(admin.seen?.url, normalised, `${target}: the origin gets exactly the normalised path`);
        assert.equal(admin.seen.headers['x-jwt-sub'], 'user-a');
        break;
      }
      case 'public': {
        assert.equal(noToken.res.status, 201, `${target}: ${noToken.res.status} ${noToken.res.text}`);
        assert.equal(noToken.seen?.url, normalised, `${target}: the origin gets exactly the normalised path`);
        assert.equal(noToken.seen.headers['x-jwt-sub'], undefined);
        break;
      }
      case 'default': {
        refusedBefore(noToken, { ...expect, status: 401, code: 'token_missing', route: 'default' });
        assert.equal(ordinary.res.status, 201, `${target}: ${ordinary.res.status} ${ordinary.res.text}`);
        assert.equal(ordinary.seen?.url, normalised);
        break;
      }
      default:
        assert.fail(kind);
    }
  });
}

test('path hygiene: malformed requests are refused before any rule, even on a public prefix', async () => {
  const w = await pathWorker();
  // Control: the same public prefix, clean, is forwarded without a token...
  const clean = await rawThrough(w, '/public/a/b', {}, pathOrigin);
  assert.equal(clean.res.status, 201, clean.res.text);
  // ...and with an encoded slash it is not, though no token would be needed.
  refusedBefore(await rawThrough(w, '/public/a%2Fb', {}, pathOrigin), {
    realm: 'paths-test',
    metadata: null,
    status: 400,
    code: 'request_malformed',
  });
});

// ------------------------------------------------------------------ without routes

test('without routes: no path hygiene, no route in the log (behaviour as before)', async () => {
  const o = await Origin.start();
  const w = await startWorker({
    config: {
      issuers: [{ issuer: ISS_A, jwks_uri: jwksA.uri, audiences: [AUD] }],
      mode: 'proxy',
      origin: o.url,
      realm: REALM,
      claim_headers: { sub: 'X-Jwt-Sub' },
      dev_allow_http_loopback: true,
    },
  });
  const since = w.jsonLogs('log').length;
  for (const target of ['//x', '/a%zz', '/admin;x', '/a%2Fb']) {
    const r = await rawThrough(w, target, { token: await mint(keyA, claimsA()) }, o);
    assert.equal(r.res.status, 201, `${target}: ${r.res.status} ${r.res.text}`);
    assert.equal(r.seen?.url, target, `${target} is forwarded as received`);
    assert.equal(r.seen.headers['x-jwt-sub'], 'user-a');
  }
  // `/%61dmin` is not rewritten either.
  const r = await rawThrough(w, '/%61dmin', { token: await mint(keyA, claimsA()) }, o);
  assert.equal(r.seen?.url, '/%61dmin');
  // Every request still needs a token.
  refused(await raw(w, '/health'), { status: 401, code: 'token_missing', metadata: null });
  await waitFor(() => decisions(w, since).length >= 6, { what: 'six decision lines' });
  for (const line of decisions(w, since)) {
    assert.ok(!('route' in line), `no route without routes: ${JSON.stringify(line)}`);
    assert.ok(!('enforced' in line), `no enforced without routes: ${JSON.stringify(line)}`);
  }
  // No RFC 9728 document without resource_metadata.
  refused(await w.fetch(META_PATH), { status: 401, code: 'token_missing', metadata: null });
  await w.dispose();
});

test('without routes: the verdict is exactly as before (members in order, no route)', async () => {
  const w = await startWorker({
    config: { issuers: [{ issuer: ISS_A, jwks_uri: jwksA.uri, audiences: [AUD] }], mode: 'verdict', dev_allow_http_loopback: true },
  });
  const token = await mint(keyA, claimsA());
  const v = assertVerdict(await w.fetch('/x', { token }), { alg: 'ES256', kid: keyA.kid });
  assert.ok(!('route' in v));
  assert.deepEqual(v.claims, payloadOf(token));
  await w.dispose();
});

// ------------------------------------------------------------------ configuration errors

const goodRule = { name: 'docs', path: '/docs/**', auth: 'optional' };
/** [name, rule at routes[1] (or a whole-config change), field, exact?]. exact false: the field or a member of it. */
const CONFIG_CASES = [
  ['`**` not last', { path: '/a/**/b' }, 'routes[1].path', true],
  ['an empty segment', { path: '/a//b' }, 'routes[1].path', true],
  ['a trailing slash', { path: '/a/' }, 'routes[1].path', true],
  ['`*` inside a segment', { path: '/a/b*' }, 'routes[1].path', true],
  ['a dot segment', { path: '/a/../b' }, 'routes[1].path', true],
  ['no path', { name: 'nopath' }, 'routes[1].path', true],
  ['an unknown issuer', { path: '/a/**', issuers: ['https://nobody.example'] }, 'routes[1].issuers', true],
  ['empty scopes', { path: '/a/**', scopes: [] }, 'routes[1].scopes', true],
  ['an unknown field in a rule', { path: '/a/**', scope: ['admin'] }, 'routes[1]', false],
  ['a rule shadowed by an earlier one', { path: '/docs/private/*' }, 'routes[1].path', true],
  ['a rule equal to an earlier one', { path: '/docs/**', auth: 'required' }, 'routes[1].path', true],
  ['auth none with scopes', { path: '/a/**', auth: 'none', scopes: ['admin'] }, 'routes[1].scopes', true],
  ['auth none with enforce', { path: '/a/**', auth: 'none', enforce: false }, 'routes[1].enforce', true],
  ['auth none with issuers', { path: '/a/**', auth: 'none', issuers: [ISS_A] }, 'routes[1].issuers', true],
  ['an unknown auth', { path: '/a/**', auth: 'maybe' }, 'routes[1].auth', true],
  ['an unknown replay mode', { path: '/a/**', replay: 'sometimes' }, 'routes[1].replay', true],
  ['empty methods', { path: '/a/**', methods: [] }, 'routes[1].methods', true],
  ['a method that is not a token', { path: '/a/**', methods: ['GET POST'] }, 'routes[1].methods', true],
  ['a repeated name', { name: 'docs', path: '/a/**' }, 'routes[1].name', true],
  ['a matcher with two operators', { path: '/a/**', claims: { tenant: { equals: 'a', present: true } } }, 'routes[1].claims', false],
  ['an empty one_of', { path: '/a/**', claims: { tenant: { one_of: [] } } }, 'routes[1].claims', false],
  ['a regex matcher', { path: '/a/**', claims: { tenant: { matches: '^a' } } }, 'routes[1].claims', false],
  ['empty routes', { config: { routes: [] } }, 'routes', true],
  ['resource_metadata over http', { config: { resource_metadata: { resource: 'http://api.example.com' } } }, 'resource_metadata', false],
  ['resource_metadata with an unknown member', { config: { resource_metadata: { ...META, colour: 'red' } } }, 'resource_metadata', false],
  // A top-level type error is named like other top-level type errors (`JWT_EDGE_CONFIG`,
  // serde names no field for them): only config_invalid is required here.
  ['enforce not a bool', { config: { enforce: 'no' } }, null, true],
];

function badConfig(change) {
  const config = {
    issuers: [
      { issuer: ISS_A, jwks_uri: jwksA.uri, audiences: [AUD] },
      { issuer: ISS_B, jwks_uri: jwksB.uri, audiences: [AUD] },
    ],
    mode: 'proxy',
    origin: origin.url,
    dev_allow_http_loopback: true,
    routes: [goodRule],
  };
  if (change.config) return { ...config, ...change.config };
  return { ...config, routes: [goodRule, change] };
}

for (const [name, change, field, exact] of CONFIG_CASES) {
  test(`config error (${name}) → 500 config_invalid${field ? ` naming ${field}` : ''}`, async () => {
    const w = await startWorker({ config: badConfig(change) });
    const before = origin.requests.length;
    const res = await w.fetch('/docs/x');
    assert.equal(res.status, 500, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(res.json?.code, 'config_invalid', res.text);
    const names = (detail) =>
      exact
        ? detail === `invalid configuration: \`${field}\``
        : detail.startsWith(`invalid configuration: \`${field}`) && /^[`.[]/.test(detail.slice(`invalid configuration: \`${field}`.length));
    const line = await waitFor(() => w.jsonLogs(null).find((l) => l.event === 'config_invalid'), { what: 'the config_invalid log line' });
    if (field) {
      assert.ok(res.json.detail.includes(field), `the body names ${field}: ${res.json.detail}`);
      assert.ok(names(line.detail), `the log names ${field}: ${JSON.stringify(line)}`);
    }
    assert.equal(origin.requests.length, before, 'nothing forwarded');
    await w.dispose();
  });
}

test('config control: the same base with a valid second rule starts and applies it', async () => {
  const w = await startWorker({
    config: badConfig({ name: 'admin', path: '/admin/**', issuers: [ISS_A], scopes: ['admin'], claims: { tenant: { equals: 'acme' } } }),
  });
  assert.equal((await w.fetch('/docs/x')).status, 201);
  const res = await w.fetch('/admin/x', { token: await mint(keyA, claimsA()) });
  assert.equal(res.status, 403, res.text);
  assert.equal(res.json?.code, 'insufficient_scope');
  assert.ok(!w.jsonLogs(null).some((l) => l.event === 'config_invalid'));
  // A narrower rule before a broader one is not shadowed.
  const narrow = await startWorker({
    config: { ...badConfig({}), routes: [{ path: '/docs/private/*' }, goodRule, { path: '/a/**', methods: ['GET'] }, { path: '/a/b', methods: ['POST'] }] },
  });
  assert.equal((await narrow.fetch('/docs/x')).status, 201);
  const unnamed = await narrow.fetch('/docs/private/x');
  assert.equal(unnamed.status, 401);
  assert.equal(unnamed.json?.route, 'routes[0]', 'an unnamed rule is named by its index');
  await w.dispose();
  await narrow.dispose();
});
