// Proxy mode in workerd, to an origin on loopback: method, path, query and body kept;
// the credential stripped; spoofed X-Jwt-* and claim headers dropped; claim headers and
// X-Jwt-Claims added; the origin's answer returned as is; refusals never reach the
// origin; CORS preflight passthrough; verdict mode never contacts the origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUD,
  ISS,
  JwksServer,
  Origin,
  assertRefused,
  assertVerdict,
  closeAll,
  mint,
  newKey,
  payloadOf,
  startWorker,
  tamperPayload,
} from './harness.mjs';

const REALM = 'proxy-test';

let key;
let jwks;
let origin;
let proxy;
let baseConfig;

const claims = (extra = {}) => ({
  iss: ISS,
  sub: 'user-42',
  aud: AUD,
  tenant: 'acme',
  roles: ['reader', 'writer'],
  ...extra,
});
const decodeClaims = (value) => JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
const cookies = (header = '') =>
  header
    .split(';')
    .map((c) => c.trim())
    .filter(Boolean);

before(async () => {
  key = await newKey('ES256');
  jwks = await JwksServer.start([key]);
  origin = await Origin.start();
  baseConfig = {
    issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD] }],
    sources: [
      { type: 'authorization', schemes: ['Bearer'] },
      { type: 'cookie', name: 'jwt' },
      { type: 'header', name: 'X-Api-Token' },
    ],
    mode: 'proxy',
    origin: origin.url,
    realm: REALM,
    claim_headers: { sub: 'X-Jwt-Sub', tenant: 'X-Tenant', roles: 'X-Roles' },
    cors_preflight_passthrough: true,
    dev_allow_http_loopback: true,
  };
  proxy = await startWorker({ config: baseConfig });
});

after(closeAll);

test('a verified POST reaches the origin with claims, without the credential or spoofed headers', async () => {
  const token = await mint(key, claims());
  const before = origin.requests.length;
  const res = await proxy.fetch('/api/items?x=1&y=two%20words&z', {
    method: 'POST',
    token,
    body: 'payload-123',
    headers: {
      'content-type': 'text/plain',
      'X-Jwt-Sub': 'admin',
      'X-Jwt-Role': 'root',
      'X-Jwt-Claims': 'eyJzdWIiOiJhZG1pbiJ9',
      'X-Tenant': 'evil-corp',
      'X-Custom': 'kept',
      cookie: 'theme=dark',
    },
  });
  // The origin's answer, as is.
  assert.equal(res.status, 201, res.text);
  assert.equal(res.headers.get('x-origin'), 'reached');
  assert.equal(res.text, 'origin got POST /api/items?x=1&y=two%20words&z');

  assert.equal(origin.requests.length, before + 1, 'one request to the origin');
  const seen = origin.last;
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url, '/api/items?x=1&y=two%20words&z');
  assert.equal(seen.body, 'payload-123');
  assert.equal(seen.headers.authorization, undefined, 'no Authorization at the origin');
  assert.equal(seen.headers['x-jwt-sub'], 'user-42', 'X-Jwt-Sub is the verified sub, not the spoofed one');
  assert.equal(seen.headers['x-jwt-role'], undefined, 'a spoofed X-Jwt-* header is removed');
  assert.equal(seen.headers['x-tenant'], 'acme', 'a string claim as is');
  assert.equal(seen.headers['x-roles'], 'reader,writer', 'an array joined with commas');
  assert.equal(seen.headers['x-custom'], 'kept');
  assert.equal(seen.headers.cookie, 'theme=dark');
  assert.ok(seen.headers['x-jwt-claims'], 'X-Jwt-Claims is set');
  assert.deepEqual(decodeClaims(seen.headers['x-jwt-claims']), payloadOf(token), 'X-Jwt-Claims is the payload');
  const reserved = Object.keys(seen.headers).filter((h) => h.startsWith('x-jwt-')).sort();
  assert.deepEqual(reserved, ['x-jwt-claims', 'x-jwt-sub']);
});

test('a configured claim header is dropped when the token lacks the claim', async () => {
  const token = await mint(key, claims({ tenant: undefined, roles: undefined }));
  const res = await proxy.fetch('/t', { token, headers: { 'X-Tenant': 'evil-corp', 'X-Roles': '["admin"]' } });
  assert.equal(res.status, 201, res.text);
  assert.equal(origin.last.headers['x-tenant'], undefined);
  assert.equal(origin.last.headers['x-roles'], undefined);
  assert.equal(origin.last.headers['x-jwt-sub'], 'user-42');
});

test('cookie source: the token cookie is removed, the others kept', async () => {
  const token = await mint(key, claims());
  const res = await proxy.fetch('/c', { headers: { cookie: `a=1; jwt=${token}; b=2` } });
  assert.equal(res.status, 201, res.text);
  const sent = cookies(origin.last.headers.cookie);
  assert.ok(!sent.some((c) => c.startsWith('jwt=')), `token cookie still there: ${origin.last.headers.cookie}`);
  assert.deepEqual(sent, ['a=1', 'b=2']);
  assert.deepEqual(decodeClaims(origin.last.headers['x-jwt-claims']), payloadOf(token));
});

test('header source: the token header is removed', async () => {
  const token = await mint(key, claims());
  const res = await proxy.fetch('/h', { headers: { 'X-Api-Token': token } });
  assert.equal(res.status, 201, res.text);
  assert.equal(origin.last.headers['x-api-token'], undefined);
  assert.equal(origin.last.headers['x-jwt-sub'], 'user-42');
});

test('refusals never reach the origin', async () => {
  const before = origin.requests.length;
  assertRefused(await proxy.fetch('/x'), { status: 401, code: 'token_missing', realm: REALM });
  const forged = tamperPayload(await mint(key, claims()), (p) => (p.sub = 'admin'));
  assertRefused(await proxy.fetch('/x', { token: forged, headers: { 'X-Jwt-Sub': 'admin' } }), {
    status: 401,
    code: 'signature_invalid',
    realm: REALM,
  });
  assertRefused(await proxy.fetch('/x', { token: await mint(key, claims({ aud: 'api://other' })) }), {
    status: 403,
    code: 'audience_mismatch',
    realm: REALM,
  });
  assert.equal(origin.requests.length, before, 'the origin saw none of them');
});

test("the origin's error answer is returned as is", async () => {
  origin.respond = (req, body, res) => {
    res.writeHead(502, { 'content-type': 'text/plain', 'x-origin': 'failed' });
    res.end('origin exploded');
  };
  try {
    const res = await proxy.fetch('/boom', { token: await mint(key, claims()) });
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('x-origin'), 'failed');
    assert.equal(res.text, 'origin exploded');
  } finally {
    origin.respond = null;
  }
});

test('CORS preflight passes without a token when cors_preflight_passthrough', async () => {
  const before = origin.requests.length;
  const res = await proxy.fetch('/api/items', {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(res.status, 201, res.text);
  assert.equal(origin.requests.length, before + 1);
  assert.equal(origin.last.method, 'OPTIONS');
  assert.equal(origin.last.headers['access-control-request-method'], 'POST');
  // An OPTIONS that is not a preflight needs a token.
  assertRefused(await proxy.fetch('/api/items', { method: 'OPTIONS' }), {
    status: 401,
    code: 'token_missing',
    realm: REALM,
  });
  assert.equal(origin.requests.length, before + 1);
});

test('a passed-through preflight carries no spoofed X-Jwt-* or claim header', async () => {
  const res = await proxy.fetch('/api/items', {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'X-Jwt-Sub': 'admin',
      'X-Jwt-Claims': 'eyJzdWIiOiJhZG1pbiJ9',
      'X-Tenant': 'evil-corp',
    },
  });
  assert.equal(res.status, 201, res.text);
  assert.equal(origin.last.method, 'OPTIONS');
  // X-Jwt-* is reserved for the worker (edge_config.rs: "Headers a client may never send
  // through"), and a claim header must only ever carry a verified claim.
  const spoofed = ['x-jwt-sub', 'x-jwt-claims', 'x-tenant'].filter((h) => h in origin.last.headers);
  assert.deepEqual(spoofed, [], `spoofed headers reached the origin on a preflight: ${spoofed}`);
});

test('strip_credential false keeps Authorization; a custom claims_header; no passthrough without the flag', async () => {
  const w = await startWorker({
    config: {
      ...baseConfig,
      strip_credential: false,
      claims_header: 'X-Auth-Claims',
      cors_preflight_passthrough: false,
    },
  });
  const token = await mint(key, claims());
  const res = await w.fetch('/keep', { token, headers: { 'X-Auth-Claims': 'spoofed' } });
  assert.equal(res.status, 201, res.text);
  assert.equal(origin.last.headers.authorization, `Bearer ${token}`);
  assert.equal(origin.last.headers['x-jwt-claims'], undefined);
  assert.deepEqual(decodeClaims(origin.last.headers['x-auth-claims']), payloadOf(token));

  const before = origin.requests.length;
  const pre = await w.fetch('/api/items', {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
  });
  assertRefused(pre, { status: 401, code: 'token_missing', realm: REALM });
  assert.equal(origin.requests.length, before);
  await w.dispose();
});

test('verdict mode answers itself and never contacts the origin', async () => {
  const w = await startWorker({ config: { ...baseConfig, mode: 'verdict' } });
  const before = origin.requests.length;
  const token = await mint(key, claims());
  const v = assertVerdict(await w.fetch('/api/items', { token }), { kid: key.kid, alg: 'ES256', claims: { iss: ISS, sub: 'user-42' } });
  assert.deepEqual(v.claims, payloadOf(token));
  assert.equal(origin.requests.length, before, 'verdict mode did not proxy');
  await w.dispose();
});

// ---------------------------------------------------------------- issue 14, proxy mode

test('underscore and mixed-case variants of protected headers never reach the origin', async () => {
  // Origins that fold `_` into `-` (CGI/PHP HTTP_X_JWT_SUB, Rack, Puma) would read these
  // as the worker's own headers.
  const token = await mint(key, claims());
  const spoofs = {
    X_Jwt_Sub: 'admin',
    'X-Jwt_Role': 'root',
    X_JWT_CLAIMS: 'eyJzdWIiOiJhZG1pbiJ9',
    X_Tenant: 'evil-corp',
    'x_roles': '["admin"]',
    'X-TENANT': 'evil-corp',
  };
  const res = await proxy.fetch('/fold', { token, headers: { ...spoofs, 'X-Other_Thing': 'kept' } });
  assert.equal(res.status, 201, res.text);
  const seen = origin.last.headers;
  const folded = (h) => h.toLowerCase().replaceAll('_', '-');
  const leaked = Object.keys(seen).filter((h) => h.includes('_') && folded(h) !== 'x-other-thing');
  assert.deepEqual(leaked, [], `client variants reached the origin: ${leaked}`);
  assert.equal(seen['x-jwt-sub'], 'user-42');
  assert.equal(seen['x-tenant'], 'acme');
  assert.equal(seen['x-roles'], 'reader,writer');
  assert.deepEqual(decodeClaims(seen['x-jwt-claims']), payloadOf(token));
  assert.equal(seen['x-other_thing'], 'kept', 'an unrelated underscore header is kept');
});

test('a claim header withheld for its value cannot be replaced by a client variant', async () => {
  const token = await mint(key, claims({ tenant: ' acme ' }));
  const res = await proxy.fetch('/withheld', { token, headers: { X_Tenant: 'evil-corp', 'x-tenant': 'evil-corp' } });
  assert.equal(res.status, 201, res.text);
  const seen = origin.last.headers;
  const tenantLike = Object.keys(seen).filter((h) => h.toLowerCase().replaceAll('_', '-') === 'x-tenant');
  assert.deepEqual(tenantLike, [], 'no X-Tenant in any spelling');
  assert.equal(decodeClaims(seen['x-jwt-claims']).tenant, ' acme ', 'the claim is in X-Jwt-Claims, unchanged');
});

test('claim values that would change in transit go only in X-Jwt-Claims; hostile ones never reach a header', async () => {
  const w = await startWorker({
    config: {
      ...baseConfig,
      claim_headers: {
        a: 'X-A', b: 'X-B', c: 'X-C', d: 'X-D', e: 'X-E', f: 'X-F', g: 'X-G', n: 'X-N', sub: 'X-Jwt-Sub',
        crlf: 'X-Crlf', lf: 'X-Lf', nul: 'X-Nul', big: 'X-Big', 'list.inj': 'X-List-Inj',
        'realm_access.roles': 'X-Roles', 'realm_access': 'X-Realm', objs: 'X-Objs', 'deep.missing': 'X-Missing',
        'https://example.com/roles': 'X-Namespaced',
      },
    },
  });
  const odd = {
    a: ' admin ', // would be trimmed
    b: 'a,admin', // would read as a list
    c: 'café', // non-ASCII
    d: 'a\u0007b', // a control character
    e: ['r', 'é'], // a member that cannot be sent: the whole array is withheld
    f: 12.5,
    g: 'plain value',
    n: null,
    crlf: 'v\r\nX-Jwt-Sub: admin', // header injection
    lf: 'v\nSet-Cookie: session=evil',
    nul: 'v\u0000w',
    big: 'x'.repeat(5000), // over the 4096-byte limit
    list: { inj: ['ok', 'admin\r\nX-Admin: 1'] },
    realm_access: { roles: ['admin', 'user'] },
    objs: [{ k: 'é' }],
    'https://example.com/roles': ['editor'],
  };
  const token = await mint(key, claims(odd));
  const res = await w.fetch('/values', { token });
  assert.equal(res.status, 201, res.text);
  const seen = origin.last.headers;
  for (const h of ['x-a', 'x-b', 'x-c', 'x-d', 'x-e', 'x-n', 'x-crlf', 'x-lf', 'x-nul', 'x-big', 'x-list-inj', 'x-missing']) {
    assert.equal(seen[h], undefined, `${h} is withheld`);
  }
  // Nothing injected: no header the token's values tried to add.
  assert.equal(seen['x-admin'], undefined);
  assert.equal(seen['set-cookie'], undefined);
  assert.equal(seen['x-jwt-sub'], 'user-42');
  assert.equal(seen['x-f'], '12.5');
  assert.equal(seen['x-g'], 'plain value');
  assert.equal(seen['x-roles'], 'admin,user', 'a dotted path into a nested object, the array joined');
  assert.equal(seen['x-realm'], '{"roles":["admin","user"]}', 'an object as JSON');
  assert.equal(seen['x-objs'], '[{"k":"\\u00e9"}]', 'an array of objects as ASCII JSON');
  assert.equal(seen['x-namespaced'], 'editor', 'a claim named with dots is read whole first');
  for (const [name, value] of Object.entries(seen)) {
    assert.match(String(value), /^[\x20-\x7e]*$/, `${name} is printable ASCII`);
  }
  const all = decodeClaims(seen['x-jwt-claims']);
  for (const [k, v] of Object.entries(odd)) assert.deepEqual(all[k], v, `X-Jwt-Claims keeps ${k} exactly`);
  // Each withheld claim is logged by its configured name and the reason, never its value.
  const skipped = w.jsonLogs('warn').filter((l) => l.event === 'claim_header_skipped');
  const byClaim = Object.fromEntries(skipped.map((l) => [l.claim, l.reason]));
  assert.deepEqual(byClaim, {
    a: 'not_header_safe', b: 'not_header_safe', c: 'not_header_safe', d: 'not_header_safe', e: 'not_header_safe',
    crlf: 'not_header_safe', lf: 'not_header_safe', nul: 'not_header_safe', big: 'too_large', 'list.inj': 'not_header_safe',
  });
  const logged = w.logs.map((l) => l.message).join('\n');
  for (const secret of ['session=evil', 'X-Admin', 'xxxxxxxxxxxxxxxxxxxx', 'café']) {
    assert.ok(!logged.includes(secret), `no claim value in the logs (${secret})`);
  }
  await w.dispose();
});

test('claim header names that fold to one name are a configuration error', async () => {
  const w = await startWorker({ config: { ...baseConfig, claim_headers: { sub: 'X-User', tenant: 'x_user' } } });
  const res = await w.fetch('/x', { token: await mint(key, claims()) });
  assert.equal(res.status, 500, res.text);
  assert.equal(res.json?.code, 'config_invalid', res.text);
  assert.match(res.json?.detail ?? '', /claim_headers/);
  await w.dispose();
});

test('only a real preflight passes unauthenticated, and without credentials or overrides', async () => {
  const before = origin.requests.length;
  // An OPTIONS with a body is not a preflight: it needs a valid token.
  const withBody = await proxy.fetch('/api/items', {
    method: 'OPTIONS',
    body: 'delete everything',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      authorization: 'Bearer not-a-token',
      'x-http-method-override': 'DELETE',
    },
  });
  assert.equal(withBody.status, 401, withBody.text);
  // Without Origin it is not a preflight either.
  const noOrigin = await proxy.fetch('/api/items', {
    method: 'OPTIONS',
    headers: { 'access-control-request-method': 'POST' },
  });
  assertRefused(noOrigin, { status: 401, code: 'token_missing', realm: REALM });
  assert.equal(origin.requests.length, before, 'neither reached the origin');

  // A real preflight passes, stripped of the credential, token sources and overrides.
  const token = await mint(key, claims());
  const pre = await proxy.fetch('/api/items?q=1', {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type, authorization',
      authorization: `Bearer ${token}`,
      cookie: `jwt=${token}; theme=dark`,
      'x-api-token': token,
      'x-http-method-override': 'DELETE',
      'x-http-method': 'DELETE',
      'x-method-override': 'DELETE',
      'x-custom': 'dropped',
    },
  });
  assert.equal(pre.status, 201, pre.text);
  assert.equal(origin.requests.length, before + 1);
  const seen = origin.last;
  assert.equal(seen.method, 'OPTIONS');
  assert.equal(seen.url, '/api/items?q=1');
  assert.equal(seen.body, '');
  assert.equal(seen.headers.origin, 'https://app.example');
  assert.equal(seen.headers['access-control-request-method'], 'PUT');
  assert.equal(seen.headers['access-control-request-headers'], 'content-type, authorization');
  for (const h of ['authorization', 'cookie', 'x-api-token', 'x-http-method-override', 'x-http-method', 'x-method-override', 'x-custom']) {
    assert.equal(seen.headers[h], undefined, `${h} is not forwarded on a preflight`);
  }
});

test('methods are forwarded as received, with their body, never rewritten to GET', async () => {
  const token = await mint(key, claims());
  for (const method of ['PROPFIND', 'PURGE', 'MKCOL']) {
    const res = await proxy.fetch('/dav/folder', { method, token, body: `<${method.toLowerCase()}/>` });
    assert.equal(res.status, 201, res.text);
    assert.equal(origin.last.method, method);
    assert.equal(origin.last.body, `<${method.toLowerCase()}/>`);
  }
  const patch = await proxy.fetch('/p', { method: 'PATCH', token, body: 'x=1' });
  assert.equal(patch.status, 201, patch.text);
  assert.equal(origin.last.method, 'PATCH');
  assert.equal(origin.last.body, 'x=1');
});

test('header source: a client spelling of the token header (X_Api_Token) is removed with it', async () => {
  const token = await mint(key, claims());
  const other = await mint(key, claims({ sub: 'someone-else' }));
  const res = await proxy.fetch('/h2', { headers: { 'X-Api-Token': token, X_Api_Token: other, 'x-api_token': other } });
  assert.equal(res.status, 201, res.text);
  const left = Object.keys(origin.last.headers).filter((h) => h.replaceAll('_', '-') === 'x-api-token');
  assert.deepEqual(left, [], 'no spelling of the token header reaches the origin');
});
