// Identity providers in workerd: OIDC discovery (and the RFC 8414 fallback) and the
// Cloudflare Access preset, against loopback servers shaped like Auth0, Okta, Microsoft
// Entra ID, Google, Keycloak, Amazon Cognito and Cloudflare Access (tests/edge/providers/,
// provenance in tests/fixtures/providers/README.md), with tokens shaped like theirs.
//
// The worker is configured with each provider's real https spelling: every fetch it makes
// goes to Miniflare's `outboundService`, the `Outbound` router of
// tests/edge/providers/server.mjs, which records it and sends it to that provider's
// loopback server (never to the network). Tests count discovery and key-set fetches from
// that record.
//
// Then the discovery behaviours: last good document and keys while the provider is down
// (a new isolate on persisted KV; the same isolate past freshness), a document that moves
// its jwks_uri, a document whose `issuer` differs, a document with an http jwks_uri, and
// the RFC 8414 fallback on 404.
//
// Run: bash scripts/build-worker.sh && node --test --test-force-exit tests/edge/providers.test.mjs
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertRefused,
  assertVerdict,
  closeAll,
  mint,
  newKey,
  parseChallenge,
  sleep,
  startWorker,
  tempDir,
  waitFor,
} from './harness.mjs';
import { Outbound, closeProviders } from './providers/server.mjs';
import { GenericProvider, metadataDocument } from './providers/generic.mjs';
import * as auth0 from './providers/auth0.mjs';
import * as okta from './providers/okta.mjs';
import * as entra from './providers/entra.mjs';
import * as google from './providers/google.mjs';
import * as keycloak from './providers/keycloak.mjs';
import * as cognito from './providers/cognito.mjs';
import * as access from './providers/cloudflare-access.mjs';

after(async () => {
  await closeAll();
  await closeProviders();
});

// ------------------------------------------------------------------ helpers

const verdictMode = (config) => ({ ...config, mode: 'verdict' });
const sleepUntil = (t) => sleep(Math.max(0, t - Date.now()));

/**
 * A worker on `config` (verdict mode added) whose outbound fetches go to `outbound`.
 * `answered` counts the requests it has answered (each logs one decision line).
 */
async function workerFor(outbound, config, extra = {}) {
  const w = await startWorker({ config: verdictMode(config), outboundService: outbound.handler, ...extra });
  const send = w.fetch.bind(w);
  w.answered = 0;
  w.fetch = async (...args) => {
    try {
      return await send(...args);
    } finally {
      w.answered += 1;
    }
  };
  return w;
}

/**
 * An accepted verdict. With route rules the verdict ends with `route` (checked equal to
 * `route`); the rest is checked by the harness's assertVerdict.
 */
function accepted(res, expect = {}, route) {
  if (route === undefined) return assertVerdict(res, expect);
  assert.equal(res.json?.route, route, `route (got ${res.status} ${res.text.slice(0, 300)})`);
  const { route: _, ...verdict } = res.json;
  return assertVerdict({ ...res, json: verdict }, expect);
}

/** The decision log lines (console.log JSON, event "decision"), in order. */
const decisions = (worker) => worker.jsonLogs('log').filter((l) => l.event === 'decision');

/**
 * Sends `init` to `path` (a worker from workerFor) and returns the response with its
 * decision line: the earlier requests' lines are awaited first, so a late one is never
 * taken for this request's.
 */
async function logged(worker, path, init) {
  const earlier = worker.answered;
  await waitFor(() => decisions(worker).length >= earlier, { what: `the decision lines of ${earlier} earlier requests` });
  const since = decisions(worker).length;
  const res = await worker.fetch(path, init);
  const line = await waitFor(() => decisions(worker)[since], {
    what: `the decision line of ${path} (got ${res.status} ${res.text.slice(0, 200)})`,
  });
  return { res, line };
}

/** Waits until the JWKS_CACHE namespace has entries and their number stops changing. */
async function kvSettled(worker) {
  const kv = await worker.kv('JWKS_CACHE');
  let last = -1;
  let same = 0;
  await waitFor(
    async () => {
      const n = (await kv.list()).keys.length;
      same = n > 0 && n === last ? same + 1 : 0;
      last = n;
      return same >= 3;
    },
    { timeout: 5000, interval: 100, what: 'the KV writes of the first request' },
  );
  return last;
}

/** The config_invalid answer naming `field`, on two requests; nothing fetched. */
async function assertConfigInvalid(outbound, rawConfig, field) {
  const w = await startWorker({ rawConfig, outboundService: outbound.handler });
  for (const res of [await w.fetch('/'), await w.fetch('/x', { token: 'a.b.c' })]) {
    assert.equal(res.status, 500, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(res.json?.code, 'config_invalid', res.text);
    assert.ok(res.json.detail.includes(field), `detail names ${field}: ${res.json.detail}`);
  }
  assert.deepEqual(outbound.urls(), [], 'nothing fetched with an invalid configuration');
  await w.dispose();
}

// ------------------------------------------------------------------ 1. Auth0

const AUTH0_CONFIG = {
  issuers: [{ issuer: auth0.ISSUER, audiences: [auth0.API], algorithms: ['RS256'] }],
  routes: [{ name: 'items-read', methods: ['GET'], path: '/items/**', claims: { permissions: { contains: 'read:items' } } }],
};

describe('Auth0', () => {
  test('issuer with its trailing slash, no jwks_uri: discovered; aud [API, userinfo] accepted; one discovery and one key-set fetch for many requests', async () => {
    const outbound = new Outbound();
    const current = await newKey('RS256', auth0.kid());
    const next = await newKey('RS256', auth0.kid());
    await auth0.start(outbound, [current, next]);
    const w = await workerFor(outbound, AUTH0_CONFIG);

    const token = await mint(current, auth0.accessClaims(), { header: auth0.HEADER });
    const first = await logged(w, '/', { token });
    accepted(
      first.res,
      {
        kid: current.kid,
        key_source: 'issuer',
        claims: {
          iss: auth0.ISSUER,
          aud: [auth0.API, auth0.USERINFO],
          azp: auth0.CLIENT_ID,
          scope: 'openid profile email read:items',
          permissions: ['read:items'],
        },
      },
      'default',
    );
    // The discovery URL drops the issuer's trailing slash before /.well-known.
    assert.deepEqual(outbound.urls(), [auth0.DISCOVERY_URL, auth0.JWKS_URL], 'discovery, then the jwks_uri it names');
    assert.equal(first.line.discovery, 'issuer'); // the decision line's `discovery` tier on the fetching request
    assert.equal(first.line.jwks, 'issuer');

    // Both published keys (current and next) verify; all from memory.
    for (let i = 0; i < 6; i++) {
      const key = i % 2 ? next : current;
      const { res, line } = await logged(w, '/', { token: await mint(key, auth0.accessClaims(), { header: auth0.HEADER }) });
      accepted(res, { kid: key.kid, key_source: 'memory' }, 'default');
      assert.equal(line.discovery, 'memory'); // a fresh document held by the isolate is `memory`
    }
    assert.equal(outbound.count(auth0.DISCOVERY_URL), 1, 'one discovery fetch');
    assert.equal(outbound.count(auth0.JWKS_URL), 1, 'one key-set fetch');
    await w.dispose();
  });

  test('a token whose iss lacks the trailing slash is refused (issuer_mismatch): the issuer is compared exactly', async () => {
    const outbound = new Outbound();
    const key = await newKey('RS256', auth0.kid());
    await auth0.start(outbound, [key]);
    const w = await workerFor(outbound, AUTH0_CONFIG);
    assertRefused(await w.fetch('/', { token: await mint(key, auth0.accessClaims({ iss: `https://${auth0.HOST}` })) }), {
      status: 401,
      code: 'issuer_mismatch',
    });
    // The right spelling from the same key is accepted (control).
    accepted(await w.fetch('/', { token: await mint(key, auth0.accessClaims(), { header: auth0.HEADER }) }), { kid: key.kid }, 'default');
    await w.dispose();
  });

  test('route /items/** needs permission read:items (claim rule on `permissions`)', async () => {
    const outbound = new Outbound();
    const key = await newKey('RS256', auth0.kid());
    await auth0.start(outbound, [key]);
    const w = await workerFor(outbound, AUTH0_CONFIG);
    const mintA = (extra) => mint(key, auth0.accessClaims(extra), { header: auth0.HEADER });

    accepted(await w.fetch('/items/42', { token: await mintA() }), { claims: { permissions: ['read:items'] } }, 'items-read');
    // A machine-to-machine token (client credentials) with the permission: accepted too.
    const m2m = await mintA({
      sub: `${auth0.CLIENT_ID}@clients`,
      aud: auth0.API,
      gty: 'client-credentials',
      scope: 'read:items',
      permissions: ['read:items'],
    });
    accepted(await w.fetch('/items', { token: m2m }), { claims: { gty: 'client-credentials' } }, 'items-read');

    // Only write:items, or no permissions claim at all (RBAC off): refused.
    const writer = await mintA({ permissions: ['write:items'], scope: 'openid write:items' });
    const body = assertRefused(await w.fetch('/items/42', { token: writer }), { status: 403, code: 'claim_mismatch' });
    assert.equal(body.route, 'items-read');
    assertRefused(await w.fetch('/items/42', { token: await mintA({ permissions: undefined }) }), {
      status: 403,
      code: 'claim_mismatch',
    });
    // The scope string does not stand in for the permission.
    assertRefused(await w.fetch('/items/42', { token: await mintA({ permissions: [], scope: 'read:items' }) }), {
      status: 403,
      code: 'claim_mismatch',
    });
    // Elsewhere no permission is needed.
    accepted(await w.fetch('/profile', { token: writer }), {}, 'default');
    // Another API's token: the audience is the API identifier.
    assertRefused(await w.fetch('/items/42', { token: await mintA({ aud: ['https://other-api.example.com', auth0.USERINFO] }) }), {
      status: 403,
      code: 'audience_mismatch',
    });
    await w.dispose();
  });
});

// ------------------------------------------------------------------ 2. Okta

const OKTA_CONFIG = {
  issuers: [{ issuer: okta.ISSUER, discovery: true, audiences: [okta.AUDIENCE], algorithms: ['RS256'] }],
  routes: [{ name: 'items', path: '/items/**', scopes: ['items.read'] }],
};

describe('Okta (custom authorization server)', () => {
  test('"discovery": true on /oauth2/default: keys from /oauth2/default/v1/keys; ver, cid, uid, scp array accepted; the route needs scope items.read', async () => {
    const outbound = new Outbound();
    const key = await newKey('RS256', okta.kid());
    const { server } = await okta.start(outbound, [key]);
    const w = await workerFor(outbound, OKTA_CONFIG);
    const mintO = (extra) => mint(key, okta.accessClaims(extra), { header: okta.HEADER });

    const v = accepted(
      await w.fetch('/items/7', { token: await mintO() }),
      {
        kid: key.kid,
        key_source: 'issuer',
        claims: { ver: 1, cid: okta.CLIENT_ID, uid: okta.USER_ID, scp: ['openid', 'items.read'], aud: okta.AUDIENCE },
      },
      'items',
    );
    assert.equal(v.header.typ, undefined, 'Okta writes no typ');
    assert.deepEqual(outbound.urls(), [okta.DISCOVERY_URL, okta.JWKS_URL]);
    assert.equal(server.count('/oauth2/default/.well-known/oauth-authorization-server'), 0, 'no fallback when OpenID metadata exists');

    // scp without items.read: 403 insufficient_scope, the challenge names the scope.
    const res = await w.fetch('/items/7', { token: await mintO({ scp: ['openid', 'profile'] }) });
    assertRefused(res, { status: 403, code: 'insufficient_scope' });
    assert.equal(parseChallenge(res.headers.get('www-authenticate')).params.scope, 'items.read');
    // Another authorization server's audience; a token of the Okta org server (iss without /oauth2/default).
    assertRefused(await w.fetch('/items/7', { token: await mintO({ aud: 'api://reports' }) }), { status: 403, code: 'audience_mismatch' });
    assertRefused(await w.fetch('/items/7', { token: await mintO({ iss: `https://${okta.HOST}` }) }), { status: 401, code: 'issuer_mismatch' });
    assert.equal(outbound.count(okta.DISCOVERY_URL), 1, 'still one discovery fetch');
    await w.dispose();
  });
});

// ------------------------------------------------------------------ 3. Microsoft Entra ID

/** Multi-tenant: one entry per trusted tenant, never a wildcard. */
const ENTRA_CONFIG = {
  issuers: [entra.TENANT_A, entra.TENANT_B].map((tenant) => ({
    issuer: entra.issuer(tenant),
    audiences: [entra.API_CLIENT_ID],
    algorithms: ['RS256'],
  })),
  // `scp` is a space-separated string (delegated permissions); `roles` the app roles.
  routes: [{ name: 'items', path: '/items/**', scopes: ['access_as_user'], claims: { roles: { contains: 'Items.Read' } } }],
};

describe('Microsoft Entra ID (v2.0)', () => {
  test('two tenants listed: both accepted, each discovered at /{tenant}/v2.0; keys carry x5c, issuer template, no alg', async () => {
    const outbound = new Outbound();
    const key = await entra.entraKey();
    await entra.start(outbound, [key]);
    const w = await workerFor(outbound, ENTRA_CONFIG);
    for (const tenant of [entra.TENANT_A, entra.TENANT_B]) {
      const token = await mint(key, entra.accessClaims(tenant), { header: entra.HEADER });
      accepted(
        await w.fetch('/items/1', { token }),
        {
          kid: key.kid,
          claims: {
            iss: entra.issuer(tenant),
            aud: entra.API_CLIENT_ID,
            tid: tenant,
            roles: ['Items.Read'],
            scp: 'access_as_user',
            ver: '2.0',
          },
        },
        'items',
      );
      assert.equal(outbound.count(entra.discoveryUrl(tenant)), 1, `${tenant}: discovered once`);
      assert.equal(outbound.count(entra.jwksUrl(tenant)), 1, `${tenant}: its jwks_uri fetched once`);
    }
    // The route: the delegated scope (in the `scp` string) and the app role.
    const mintA = (extra) => mint(key, entra.accessClaims(entra.TENANT_A, extra), { header: entra.HEADER });
    assertRefused(await w.fetch('/items/1', { token: await mintA({ scp: 'User.Read Mail.Read' }) }), {
      status: 403,
      code: 'insufficient_scope',
    });
    assertRefused(await w.fetch('/items/1', { token: await mintA({ roles: ['Items.Write'] }) }), { status: 403, code: 'claim_mismatch' });
    // A token for another API of the tenant (Microsoft Graph's audience).
    assertRefused(await w.fetch('/items/1', { token: await mintA({ aud: '00000003-0000-0000-c000-000000000000' }) }), {
      status: 403,
      code: 'audience_mismatch',
    });
    await w.dispose();
  });

  test("a third tenant's token, signed with the same (shared) keys, is refused 401 issuer_mismatch; so is a v1.0 token (sts.windows.net)", async () => {
    const outbound = new Outbound();
    const key = await entra.entraKey();
    await entra.start(outbound, [key]);
    const w = await workerFor(outbound, ENTRA_CONFIG);
    // Warm both tenants, so the shared key is in memory.
    for (const tenant of [entra.TENANT_A, entra.TENANT_B]) {
      accepted(await w.fetch('/items/1', { token: await mint(key, entra.accessClaims(tenant), { header: entra.HEADER }) }), {}, 'items');
    }
    const other = await mint(key, entra.accessClaims(entra.TENANT_OTHER), { header: entra.HEADER });
    assertRefused(await w.fetch('/items/1', { token: other }), { status: 401, code: 'issuer_mismatch' });
    // The same token claiming a trusted tenant's id in `tid` is still another issuer.
    const spoofedTid = await mint(key, entra.accessClaims(entra.TENANT_OTHER, { tid: entra.TENANT_A }), { header: entra.HEADER });
    assertRefused(await w.fetch('/items/1', { token: spoofedTid }), { status: 401, code: 'issuer_mismatch' });
    const v1 = await mint(key, entra.v1AccessClaims(entra.TENANT_A), { header: { ...entra.HEADER, x5t: key.kid } });
    assertRefused(await w.fetch('/items/1', { token: v1 }), { status: 401, code: 'issuer_mismatch' });
    assert.deepEqual(
      outbound.urls().filter((u) => u.includes(entra.TENANT_OTHER) || u.includes('sts.windows.net')),
      [],
      'nothing fetched for an issuer that is not configured',
    );
    await w.dispose();
  });
});

// ------------------------------------------------------------------ 4. Google

const GOOGLE_CONFIG = {
  issuers: [
    { issuer: google.ISSUER, audiences: [google.CLIENT_ID], algorithms: ['RS256'] },
    { issuer: google.BARE_ISSUER, jwks_uri: google.CERTS_URL, audiences: [google.CLIENT_ID], algorithms: ['RS256'] },
  ],
  // Any Google account can sign in to the client: only the Workspace domain's users pass.
  routes: [{ name: 'workspace', path: '/**', claims: { hd: { equals: 'example.com' }, email_verified: { equals: true } } }],
};

describe('Google', () => {
  test('https://accounts.google.com (discovered, keys on www.googleapis.com) and bare accounts.google.com (explicit jwks_uri) both accepted; http:// refused; hd route', async () => {
    const outbound = new Outbound();
    const key = await newKey('RS256', google.kid());
    const other = await newKey('RS256', google.kid());
    await google.start(outbound, [key, other]);
    const w = await workerFor(outbound, GOOGLE_CONFIG);

    const https = await logged(w, '/', { token: await mint(key, google.idTokenClaims(), { header: google.HEADER }) });
    accepted(
      https.res,
      { kid: key.kid, claims: { iss: google.ISSUER, aud: google.CLIENT_ID, email_verified: true, hd: 'example.com' } },
      'workspace',
    );
    assert.deepEqual(outbound.urls(), [google.DISCOVERY_URL, google.CERTS_URL], 'discovery, then the certs on the other host');
    assert.equal(https.line.discovery, 'issuer'); // `discovery` tier on the fetching request

    const bare = await logged(w, '/', {
      token: await mint(other, google.idTokenClaims({ iss: google.BARE_ISSUER }), { header: google.HEADER }),
    });
    accepted(bare.res, { kid: other.kid, claims: { iss: google.BARE_ISSUER } }, 'workspace');
    assert.equal(bare.line.discovery ?? null, null, 'no discovery tier for an issuer with a jwks_uri'); // null or absent
    assert.equal(outbound.count(google.DISCOVERY_URL), 1, 'the bare spelling never asks for discovery');

    for (const iss of ['http://accounts.google.com', 'https://accounts.google.com/', 'accounts.google.com/']) {
      const token = await mint(key, google.idTokenClaims({ iss }), { header: google.HEADER });
      assertRefused(await w.fetch('/', { token }), { status: 401, code: 'issuer_mismatch' });
    }
    // An ID token for another OAuth client.
    const foreign = await mint(key, google.idTokenClaims({ aud: '999-other.apps.googleusercontent.com' }), { header: google.HEADER });
    assertRefused(await w.fetch('/', { token: foreign }), { status: 403, code: 'audience_mismatch' });
    // A consumer account (no `hd`), and an unverified address: valid Google tokens, not the domain's users.
    const gmail = await mint(key, google.idTokenClaims({ hd: undefined, email: 'someone@gmail.com' }), { header: google.HEADER });
    assertRefused(await w.fetch('/', { token: gmail }), { status: 403, code: 'claim_mismatch' });
    const unverified = await mint(key, google.idTokenClaims({ email_verified: false }), { header: google.HEADER });
    assertRefused(await w.fetch('/', { token: unverified }), { status: 403, code: 'claim_mismatch' });
    await w.dispose();
  });
});

// ------------------------------------------------------------------ 5. Keycloak

const KEYCLOAK_CONFIG = {
  issuers: [{ issuer: keycloak.ISSUER, audiences: [keycloak.AUDIENCE], algorithms: ['RS256'] }],
  routes: [{ name: 'admin', path: '/admin/**', claims: { 'realm_access.roles': { contains: 'admin' } } }],
};

describe('Keycloak', () => {
  test('realm discovered; certs with an RSA-OAEP "use":"enc" key next to the signing key; admin role route', async () => {
    const outbound = new Outbound();
    const signing = await newKey('RS256', keycloak.kid());
    const encryption = await newKey('RS256', keycloak.kid()); // an RSA key pair, published as RSA-OAEP / enc
    await keycloak.start(outbound, { signing, encryption });
    const w = await workerFor(outbound, KEYCLOAK_CONFIG);
    const mintK = (roles, extra) => mint(signing, keycloak.accessClaims(roles, extra), { header: keycloak.HEADER });

    const v = accepted(
      await w.fetch('/admin/users', { token: await mintK(['admin']) }),
      {
        kid: signing.kid,
        key_source: 'issuer',
        claims: { typ: 'Bearer', azp: keycloak.CLIENT_ID, aud: 'account' },
      },
      'admin',
    );
    assert.ok(v.claims.realm_access.roles.includes('admin'));
    assert.deepEqual(v.claims.resource_access.account.roles, ['manage-account', 'manage-account-links', 'view-profile']);
    assert.deepEqual(outbound.urls(), [keycloak.DISCOVERY_URL, keycloak.JWKS_URL]);

    // A user without the realm role: 403 claim_mismatch on /admin, accepted elsewhere.
    const user = await mintK([]);
    assertRefused(await w.fetch('/admin/users', { token: user }), { status: 403, code: 'claim_mismatch' });
    accepted(await w.fetch('/account', { token: user }), {}, 'default');
    // The role only as a client role (resource_access) does not count as the realm role.
    const clientRole = await mintK([], { resource_access: { 'acme-web': { roles: ['admin'] } } });
    assertRefused(await w.fetch('/admin/users', { token: clientRole }), { status: 403, code: 'claim_mismatch' });

    // A token signed with the encryption key pair, naming it: the enc key never verifies.
    const viaEnc = await mint(encryption, keycloak.accessClaims(['admin']), { header: keycloak.HEADER });
    assertRefused(await w.fetch('/admin/users', { token: viaEnc }), { status: 401, code: 'key_mismatch' });
    await w.dispose();
  });
});

// ------------------------------------------------------------------ 6. Amazon Cognito

const COGNITO_APP_CLIENTS = [cognito.APP_CLIENT_WEB, cognito.APP_CLIENT_MOBILE];
const COGNITO_ACCESS = { token_use: { equals: 'access' }, client_id: { one_of: COGNITO_APP_CLIENTS } };
const COGNITO_CONFIG = {
  // No `audiences`: Cognito access tokens have no `aud`; the route rules check client_id.
  issuers: [{ issuer: cognito.ISSUER, algorithms: ['RS256'] }],
  routes: [
    { name: 'admin', path: '/admin/**', claims: { ...COGNITO_ACCESS, 'cognito:groups': { contains: 'admins' } } },
    { name: 'api', path: '/**', claims: COGNITO_ACCESS },
  ],
};

describe('Amazon Cognito', () => {
  test('user pool discovered; access tokens (no aud) of the listed app clients accepted; an ID token or another client refused 403', async () => {
    const outbound = new Outbound();
    const idKey = await newKey('RS256', cognito.kid());
    const accessKey = await newKey('RS256', cognito.kid());
    await cognito.start(outbound, { id: idKey, access: accessKey });
    const w = await workerFor(outbound, COGNITO_CONFIG);
    const accessToken = (client, extra) => mint(accessKey, cognito.accessClaims(client, extra), { header: cognito.HEADER });

    for (const client of COGNITO_APP_CLIENTS) {
      const v = accepted(
        await w.fetch('/orders', { token: await accessToken(client) }),
        { kid: accessKey.kid, claims: { token_use: 'access', client_id: client, username: 'alice' } },
        'api',
      );
      assert.ok(!('aud' in v.claims), 'a Cognito access token has no aud');
    }
    assert.deepEqual(outbound.urls(), [cognito.DISCOVERY_URL, cognito.JWKS_URL]);

    // The ID token of the same sign-in (token_use "id", aud = client id): not an access token.
    const idToken = await mint(idKey, cognito.idClaims(cognito.APP_CLIENT_WEB), { header: cognito.HEADER });
    assertRefused(await w.fetch('/orders', { token: idToken }), { status: 403, code: 'claim_mismatch' });
    // An access token of an app client the API does not list.
    assertRefused(await w.fetch('/orders', { token: await accessToken(cognito.APP_CLIENT_OTHER) }), { status: 403, code: 'claim_mismatch' });

    // Groups: `cognito:groups` (a claim name with a colon) on /admin.
    accepted(await w.fetch('/admin/report', { token: await accessToken(cognito.APP_CLIENT_WEB) }), {}, 'admin');
    const reader = await accessToken(cognito.APP_CLIENT_WEB, { 'cognito:groups': ['readers'] });
    assertRefused(await w.fetch('/admin/report', { token: reader }), { status: 403, code: 'claim_mismatch' });
    accepted(await w.fetch('/orders', { token: reader }), {}, 'api');
    await w.dispose();
  });
});

// ------------------------------------------------------------------ 7. Cloudflare Access preset

const ACCESS_PRESET = { preset: 'cloudflare-access', team_domain: access.TEAM_DOMAIN, audience: access.AUD };
const inHeader = (token) => ({ headers: { [access.HEADER_NAME]: token } });

/** The worker's `preset_expanded` line (the isolate starts on the first request). */
async function presetLine(worker) {
  await worker.fetch('/');
  return waitFor(() => worker.jsonLogs('log').find((l) => l.event === 'preset_expanded'), {
    what: `a preset_expanded log line; have ${JSON.stringify(worker.jsonLogs('log'))}`,
  });
}

describe('Cloudflare Access preset', () => {
  test('team_domain + audience: the token in Cf-Access-Jwt-Assertion accepted, keys from /cdn-cgi/access/certs (keys, public_cert, public_certs); no discovery', async () => {
    const outbound = new Outbound();
    const current = await newKey('RS256', access.kid());
    const previous = await newKey('RS256', access.kid());
    await access.start(outbound, [current, previous]);
    const w = await workerFor(outbound, { issuers: [ACCESS_PRESET] });

    const token = await mint(current, access.appClaims(), { header: access.HEADER });
    const { res, line } = await logged(w, '/', inHeader(token));
    accepted(res, {
      kid: current.kid,
      key_source: 'issuer',
      claims: { iss: access.ISSUER, aud: [access.AUD], email: 'alice@example.com', type: 'app', country: 'US' },
    });
    assert.equal(typeof res.json.claims.identity_nonce, 'string');
    assert.deepEqual(outbound.urls(), [access.CERTS_URL], 'only the certs: the preset names the jwks_uri');
    assert.equal(line.discovery ?? null, null); // no discovery tier for the preset (null or absent)
    // The previous (rotated-out) key still verifies.
    accepted(await w.fetch('/', inHeader(await mint(previous, access.appClaims(), { header: access.HEADER }))), {
      kid: previous.kid,
      key_source: 'memory',
    });
    // The preset's only source is the header: the same token as a Bearer token is not looked at.
    assertRefused(await w.fetch('/', { token }), { status: 401, code: 'token_missing' }); // preset sources = the header only
    await w.dispose();
  });

  test("another application's AUD, another team, RS256 only: refused", async () => {
    const outbound = new Outbound();
    const key = await newKey('RS256', access.kid());
    const ec = await newKey('ES256', access.kid());
    await access.start(outbound, [key, ec]);
    const w = await workerFor(outbound, { issuers: [ACCESS_PRESET] });
    const other = await mint(key, access.appClaims(access.OTHER_AUD), { header: access.HEADER });
    // The core answers every audience_mismatch 403 insufficient_scope (src/error.rs,
    // Error::http): the token is valid, but not for this application.
    assertRefused(await w.fetch('/', inHeader(other)), { status: 403, code: 'audience_mismatch' });
    const otherTeam = await mint(key, access.appClaims(access.AUD, { iss: 'https://otherteam.cloudflareaccess.com' }), {
      header: access.HEADER,
    });
    assertRefused(await w.fetch('/', inHeader(otherTeam)), { status: 401, code: 'issuer_mismatch' });
    // An ES256 token, although the certs hold an EC key: the preset allows RS256 only.
    assertRefused(await w.fetch('/', inHeader(await mint(ec, access.appClaims(), { header: access.HEADER }))), {
      status: 401,
      code: 'alg_not_allowed',
    });
    accepted(await w.fetch('/', inHeader(await mint(key, access.appClaims(), { header: access.HEADER }))), { kid: key.kid });
    await w.dispose();
  });

  test('preset_expanded log line; an override (algorithms) is reflected in it and applied', async () => {
    const outbound = new Outbound();
    const key = await newKey('RS256', access.kid());
    const ec = await newKey('ES256', access.kid());
    await access.start(outbound, [key, ec]);

    const plain = await workerFor(outbound, { issuers: [ACCESS_PRESET] });
    const line = await presetLine(plain);
    const { sources, ...rest } = line;
    assert.deepEqual(rest, {
      event: 'preset_expanded',
      preset: 'cloudflare-access',
      issuer: access.ISSUER,
      jwks_uri: access.CERTS_URL,
      algorithms: ['RS256'],
      audiences: [access.AUD],
      overridden: [],
    }); // exactly these members besides `sources` (no extra ones such as team_domain)
    // each source serialised as the config spells it ({"type":"header","name":…}, maybe `prefix`).
    assert.equal(sources.length, 1, JSON.stringify(sources));
    assert.equal(sources[0].type, 'header');
    assert.equal(sources[0].name.toLowerCase(), access.HEADER_NAME.toLowerCase());
    assert.ok(!JSON.stringify(line).includes('BEGIN CERTIFICATE'));
    await plain.dispose();

    const overridden = await workerFor(outbound, { issuers: [{ ...ACCESS_PRESET, algorithms: ['RS256', 'ES256'] }] });
    const line2 = await presetLine(overridden);
    assert.deepEqual(line2.algorithms, ['RS256', 'ES256']);
    assert.deepEqual(line2.overridden, ['algorithms']);
    assert.equal(line2.jwks_uri, access.CERTS_URL, 'the rest of the expansion is kept');
    assert.deepEqual(line2.audiences, [access.AUD]);
    accepted(await overridden.fetch('/', inHeader(await mint(ec, access.appClaims(), { header: access.HEADER }))), { alg: 'ES256', kid: ec.kid });
    await overridden.dispose();
  });

  test('top-level `sources` replaces the preset header: the CF_Authorization cookie is read, the header is not', async () => {
    const outbound = new Outbound();
    const key = await newKey('RS256', access.kid());
    await access.start(outbound, [key]);
    const w = await workerFor(outbound, {
      issuers: [ACCESS_PRESET],
      sources: [{ type: 'cookie', name: access.COOKIE_NAME }],
    });
    const token = await mint(key, access.appClaims(), { header: access.HEADER });
    accepted(await w.fetch('/', { headers: { cookie: `${access.COOKIE_NAME}=${token}; theme=dark` } }), { kid: key.kid });
    assertRefused(await w.fetch('/', inHeader(token)), { status: 401, code: 'token_missing' });
    await w.dispose();
  });

  test('the preset without `audience` is config_invalid naming issuers.audience; nothing fetched', async () => {
    const outbound = new Outbound();
    await access.start(outbound, [await newKey('RS256', access.kid())]);
    const { audience: _, ...noAudience } = ACCESS_PRESET;
    await assertConfigInvalid(outbound, JSON.stringify(verdictMode({ issuers: [noAudience] })), 'issuers.audience');
  });
});

// ------------------------------------------------------------------ discovery configuration

describe('discovery configuration', () => {
  test('`jwks_uri` with `"discovery": true` is config_invalid naming issuers.discovery', async () => {
    const outbound = new Outbound();
    await okta.start(outbound, [await newKey('RS256', okta.kid())]);
    const config = { issuers: [{ issuer: okta.ISSUER, jwks_uri: okta.JWKS_URL, discovery: true, audiences: [okta.AUDIENCE] }] };
    await assertConfigInvalid(outbound, JSON.stringify(verdictMode(config)), 'issuers.discovery');
  });
});

// ------------------------------------------------------------------ discovery behaviour

const AUD = 'api://edge';

describe('discovery behaviour', { concurrency: true, timeout: 60_000 }, () => {
  test('(a) provider down after warm-up: a new isolate on the same KV accepts from the stored document and keys', async () => {
    const outbound = new Outbound();
    const p = await GenericProvider.start(outbound, { host: 'idp-a.example.net', path: '/tenant-a', cacheControl: 'public, max-age=3600' });
    const key = await newKey('ES256');
    const jwksPath = '/tenant-a/keys';
    p.openid(metadataDocument(p.issuer, p.url(jwksPath))).keys(jwksPath, [key]);
    const config = { issuers: [{ issuer: p.issuer, audiences: [AUD] }] };
    const persist = tempDir('jwt-edge-discovery-kv-');

    const a = await workerFor(outbound, config, { persist });
    accepted(await a.fetch('/', { token: await mint(key, p.claims(AUD)) }), { key_source: 'issuer' });
    assert.deepEqual(outbound.urls(), [p.openidUrl, p.url(jwksPath)]);
    await kvSettled(a);
    await a.dispose();

    p.server.mode = 'down';
    const before = outbound.requests.length;
    const b = await workerFor(outbound, config, { persist });
    const { res, line } = await logged(b, '/', { token: await mint(key, p.claims(AUD)) });
    accepted(res, { key_source: 'kv', kid: key.kid }); // keys found in KV once the document (from KV) names the jwks_uri
    assert.equal(line.discovery, 'kv'); // the document came from KV
    assert.deepEqual(outbound.urls(before), [], 'the new isolate asked the provider nothing (document and keys fresh in KV)');
    await b.dispose();
  });

  test('(a) provider down after warm-up: the same isolate past the freshness of document and keys accepts from the last good ones (stale)', async () => {
    const outbound = new Outbound();
    const p = await GenericProvider.start(outbound, { host: 'idp-b.example.net', cacheControl: 'max-age=1' });
    const key = await newKey('ES256');
    p.openid(metadataDocument(p.issuer, p.url('/keys'))).keys('/keys', [key]);
    const w = await workerFor(outbound, {
      issuers: [{ issuer: p.issuer, audiences: [AUD] }],
      fetch_timeout_ms: 500,
      cache: { min_max_age: 1, default_max_age: 1, max_staleness: 60, failure_cooldown: 1 },
    });
    accepted(await w.fetch('/', { token: await mint(key, p.claims(AUD)) }), { key_source: 'issuer' });
    await sleep(150); // a refresh-ahead started by the first request lands
    const warm = Date.now();

    p.server.mode = 'down';
    await sleepUntil(warm + 2300); // past both max-ages (1 s), well within max_staleness
    const before = outbound.requests.length;
    const { res, line } = await logged(w, '/', { token: await mint(key, p.claims(AUD)) });
    accepted(res, { key_source: 'stale', kid: key.kid });
    assert.equal(line.discovery, 'stale'); // the last good document, past its freshness
    assert.ok(res.ms < 2000, `answered in ${res.ms} ms`);
    assert.ok(outbound.requests.length > before, 'the worker asked the provider again (and was refused)');

    // Back up: a later request gets a fresh document (after failure_cooldown, 1 s).
    p.server.mode = 'ok';
    const back = Date.now();
    await waitFor(
      async () => {
        const { res: r, line: l } = await logged(w, '/', { token: await mint(key, p.claims(AUD)) });
        accepted(r, { kid: key.kid });
        // 200, or 304 to the validators of the last good document: both renew it.
        const refetched = outbound.requests.some((q) => q.url === p.openidUrl && [200, 304].includes(q.status) && q.at >= back);
        return refetched && ['issuer', 'memory'].includes(l.discovery);
      },
      { timeout: 6000, interval: 250, what: 'a fresh discovery document after the provider is back' },
    );
    await w.dispose();
  });

  test('(b) the document moves jwks_uri to a new path with a new key: after its freshness the new key set is used', async () => {
    const outbound = new Outbound();
    const p = await GenericProvider.start(outbound, { host: 'idp-c.example.net', cacheControl: 'max-age=1' });
    const oldKey = await newKey('ES256');
    const newKeyB = await newKey('ES256');
    let doc = metadataDocument(p.issuer, p.url('/keys/2025-01'));
    p.openid(() => doc)
      .keys('/keys/2025-01', [oldKey], { cacheControl: 'max-age=3600' })
      .keys('/keys/2025-07', [newKeyB], { cacheControl: 'max-age=3600' });
    const w = await workerFor(outbound, {
      issuers: [{ issuer: p.issuer, audiences: [AUD] }],
      cache: { min_max_age: 1, default_max_age: 1, max_staleness: 60, unknown_kid_cooldown: 1, failure_cooldown: 1 },
    });
    accepted(await w.fetch('/', { token: await mint(oldKey, p.claims(AUD)) }), { kid: oldKey.kid, key_source: 'issuer' });
    assert.deepEqual(outbound.urls(), [p.openidUrl, p.url('/keys/2025-01')]);

    doc = metadataDocument(p.issuer, p.url('/keys/2025-07'));
    const changed = Date.now();
    await sleepUntil(changed + 2200); // past the document's max-age (1 s)
    const res = await waitFor(
      async () => {
        const r = await w.fetch('/', { token: await mint(newKeyB, p.claims(AUD)) });
        return r.status === 200 ? r : null;
      },
      { timeout: 5000, interval: 200, what: 'the new key accepted through the new jwks_uri' },
    );
    accepted(res, { kid: newKeyB.kid });
    assert.ok(outbound.count(p.url('/keys/2025-07')) >= 1, 'the new jwks_uri was fetched');
    assert.ok(outbound.count(p.openidUrl) >= 2, 'the document was fetched again');
    // The old path's key is no longer the issuer's.
    assertRefused(await w.fetch('/', { token: await mint(oldKey, p.claims(AUD)) }), { status: 401, code: 'no_matching_key' });
    await w.dispose();
  });

  test('(c) a document whose issuer differs (Auth0 configured without its trailing slash): refused 503, no keys fetched, no fallback', async () => {
    const outbound = new Outbound();
    const key = await newKey('RS256', auth0.kid());
    await auth0.start(outbound, [key]);
    const issuer = `https://${auth0.HOST}`; // the document says `https://${HOST}/`
    const w = await workerFor(outbound, { issuers: [{ issuer, audiences: [auth0.API] }], fetch_timeout_ms: 1000 });
    const res = await w.fetch('/', { token: await mint(key, auth0.accessClaims({ iss: issuer }), { header: auth0.HEADER }) });
    assertRefused(res, { status: 503, code: 'jwks_unavailable' }); // code for an unusable discovery document
    assert.ok(outbound.count(auth0.DISCOVERY_URL) >= 1, 'the document was fetched');
    assert.deepEqual(
      outbound.urls().filter((u) => u !== auth0.DISCOVERY_URL),
      [],
      'neither the jwks_uri the document names nor the RFC 8414 location was asked',
    );
    await w.dispose();
  });

  test('(d) a document with an http:// jwks_uri: refused unless loopback with dev_allow_http_loopback; never fetched', async () => {
    const key = await newKey('ES256');
    const rows = [
      // [what, jwks_uri (p: the provider), dev_allow_http_loopback, accepted]
      ['http on a public host, loopback allowed', () => 'http://idp-d.example.net/keys', true, false],
      ['http on loopback, loopback not allowed', (p) => `${p.server.origin}/keys`, false, false],
      ['https with userinfo', () => 'https://user@idp-d.example.net/keys', false, false], // the jwks_uri rules of the config apply to a discovered one
      ['http on loopback, loopback allowed', (p) => `${p.server.origin}/keys`, true, true],
    ];
    for (const [what, jwksUri, loopback, ok] of rows) {
      const outbound = new Outbound();
      const p = await GenericProvider.start(outbound, { host: 'idp-d.example.net' });
      const uri = jwksUri(p);
      p.openid(metadataDocument(p.issuer, uri)).keys('/keys', [key]);
      const w = await workerFor(outbound, {
        issuers: [{ issuer: p.issuer, audiences: [AUD] }],
        dev_allow_http_loopback: loopback,
        fetch_timeout_ms: 1000,
      });
      const res = await w.fetch('/', { token: await mint(key, p.claims(AUD)) });
      if (ok) {
        accepted(res, { kid: key.kid, key_source: 'issuer' });
        assert.deepEqual(outbound.urls(), [p.openidUrl, uri], what);
      } else {
        assertRefused(res, { status: 503, code: 'jwks_unavailable' }); // code for a refused discovered jwks_uri
        assert.deepEqual(outbound.urls().filter((u) => u !== p.openidUrl), [], `${what}: the jwks_uri was never fetched`);
        assert.equal(p.server.count('/keys'), 0, what);
      }
      await w.dispose();
    }
  });

  test('(e) openid-configuration 404 → RFC 8414 oauth-authorization-server (issuer path appended); a 503 is an outage, not a fallback', async () => {
    const key = await newKey('ES256');
    for (const path of ['/tenant-1', '']) {
      const outbound = new Outbound();
      const p = await GenericProvider.start(outbound, { host: `as${path.replace('/', '-')}.example.com`, path });
      // Nothing at the OpenID location (404); RFC 8414 metadata, with OAuth members only.
      p.rfc8414(metadataDocument(p.issuer, p.url(`${path}/jwks`), { grant_types_supported: ['client_credentials'] })).keys(`${path}/jwks`, [key]);
      const w = await workerFor(outbound, { issuers: [{ issuer: p.issuer, audiences: [AUD] }] });
      const { res, line } = await logged(w, '/', { token: await mint(key, p.claims(AUD)) });
      accepted(res, { kid: key.kid, key_source: 'issuer' });
      const expected = path ? `https://${p.host}/.well-known/oauth-authorization-server/tenant-1` : `https://${p.host}/.well-known/oauth-authorization-server`;
      assert.equal(p.rfc8414Url, expected);
      assert.deepEqual(outbound.urls(), [p.openidUrl, expected, p.url(`${path}/jwks`)], `issuer path "${path}"`);
      assert.equal(line.discovery, 'issuer');
      await w.dispose();
    }

    // The OpenID location answers 503: the provider is failing; RFC 8414 is not asked.
    const outbound = new Outbound();
    const p = await GenericProvider.start(outbound, { host: 'as-down.example.com', path: '/tenant-2' });
    p.openid({ error: 'temporarily_unavailable' }, { status: 503 })
      .rfc8414(metadataDocument(p.issuer, p.url('/tenant-2/jwks')))
      .keys('/tenant-2/jwks', [key]);
    const w = await workerFor(outbound, { issuers: [{ issuer: p.issuer, audiences: [AUD] }], fetch_timeout_ms: 1000 });
    assertRefused(await w.fetch('/', { token: await mint(key, p.claims(AUD)) }), { status: 503, code: 'jwks_unavailable' }); // code for a failing discovery
    assert.equal(outbound.count(p.rfc8414Url), 0, 'no RFC 8414 request on a 5xx'); // fallback on 404 only
    await w.dispose();
  });
});
