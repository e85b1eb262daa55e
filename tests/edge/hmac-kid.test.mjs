// Shared secrets with the issuer's own `kid` (issue 14), in workerd: an unnamed
// `hmac_secret` verifies HS* tokens whatever their `kid` says (jose puts its own label,
// "hs256"); `hmac_secrets` are selected by exact `kid` (one per client), with no
// fallback to another secret; an `oct` key in a fetched JWKS stays refused. Item 12:
// a secret binding still holding a placeholder is config_invalid, never a key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { JwksServer, assertRefused, assertVerdict, closeAll, mint, newHmacKey, newKey, startWorker } from './harness.mjs';

const UNNAMED = 'https://unnamed.edge.test';
const NAMED = 'https://named.edge.test';
const MIXED = 'https://mixed.edge.test';
const REMOTE_OCT = 'https://remote-oct.edge.test';
const AUD = 'api';

let worker;
let jwks;
let rsa;
const unnamed = newHmacKey('HS256', 64);
const client7 = newHmacKey('HS256');
const client9 = newHmacKey('HS256');
const published = newHmacKey('HS256');
const every = [unnamed, client7, client9, published];

/** A jose token with the issuer's own header `kid` (undefined: none). */
const token = (key, iss, kid, alg = 'HS256') =>
  mint({ ...key, alg }, { iss, sub: 'client-app', aud: AUD }, { header: { kid } });
const refused = (res, code) => assertRefused(res, { status: 401, code });

before(async () => {
  rsa = await newKey('RS256', 'rsa-1');
  // An issuer that publishes a shared secret in its JWKS: public, so never a key.
  jwks = await JwksServer.start([rsa, { kty: 'oct', kid: 'published', k: published.binding }]);
  worker = await startWorker({
    config: {
      issuers: [
        { issuer: UNNAMED, hmac_secret: 'UNNAMED_KEY', audiences: [AUD] },
        { issuer: NAMED, hmac_secrets: { 'client-7': 'CLIENT_7_KEY', 'client-9': 'CLIENT_9_KEY' }, audiences: [AUD] },
        {
          issuer: MIXED,
          jwks_uri: jwks.uri,
          hmac_secret: 'UNNAMED_KEY',
          hmac_secrets: { 'client-7': 'CLIENT_7_KEY' },
          algorithms: ['RS256', 'HS256'],
          audiences: [AUD],
        },
        { issuer: REMOTE_OCT, jwks_uri: jwks.uri, algorithms: ['RS256'], audiences: [AUD] },
      ],
      mode: 'verdict',
      dev_allow_http_loopback: true,
    },
    bindings: { UNNAMED_KEY: unnamed.binding, CLIENT_7_KEY: client7.binding, CLIENT_9_KEY: client9.binding },
  });
});

after(closeAll);

test('hmac_secret (unnamed): a kid the issuer chose, or none, is accepted', async () => {
  for (const [kid, alg] of [['hs256', 'HS256'], ['issuer-2026', 'HS384'], ['hs512', 'HS512'], [undefined, 'HS256']]) {
    const res = await worker.fetch('/', { token: await token(unnamed, UNNAMED, kid, alg) });
    assertVerdict(res, { alg, claims: { iss: UNNAMED } });
  }
  refused(await worker.fetch('/', { token: await token(client7, UNNAMED, 'hs256') }), 'signature_invalid');
});

test('hmac_secrets: the secret named by the kid, and only it', async () => {
  assertVerdict(await worker.fetch('/', { token: await token(client7, NAMED, 'client-7') }), { kid: 'client-7' });
  assertVerdict(await worker.fetch('/', { token: await token(client9, NAMED, 'client-9') }), { kid: 'client-9' });
  // A wrong secret under the right kid, and another client's secret under it.
  refused(await worker.fetch('/', { token: await token(newHmacKey(), NAMED, 'client-7') }), 'signature_invalid');
  refused(await worker.fetch('/', { token: await token(client9, NAMED, 'client-7') }), 'signature_invalid');
  // Named secrets only: a kid that names none of them.
  refused(await worker.fetch('/', { token: await token(client7, NAMED, 'client-8') }), 'no_matching_key');
  refused(await worker.fetch('/', { token: await token(unnamed, NAMED, 'hs256') }), 'no_matching_key');
});

test('JWKS + hmac_secret + hmac_secrets: a key named by the kid comes first and alone', async () => {
  assertVerdict(await worker.fetch('/', { token: await token(client7, MIXED, 'client-7') }), { kid: 'client-7' });
  assertVerdict(await worker.fetch('/', { token: await token(unnamed, MIXED, 'hs256') }), { alg: 'HS256' });
  assertVerdict(await worker.fetch('/', { token: await mint(rsa, { iss: MIXED, aud: AUD }) }), { kid: 'rsa-1' });
  // The unnamed secret is not tried under client-7's kid.
  refused(await worker.fetch('/', { token: await token(unnamed, MIXED, 'client-7') }), 'signature_invalid');
  // An HS256 token naming the RSA key.
  refused(await worker.fetch('/', { token: await token(unnamed, MIXED, 'rsa-1') }), 'key_mismatch');
});

test('HS tokens with label kids never make the worker refetch the JWKS', async () => {
  // A fresh isolate (no earlier refetch, so no cooldown hides one).
  const fresh = await startWorker({
    config: {
      issuers: [
        { issuer: MIXED, jwks_uri: jwks.uri, hmac_secret: 'UNNAMED_KEY', algorithms: ['RS256', 'HS256'], audiences: [AUD] },
      ],
      mode: 'verdict',
      dev_allow_http_loopback: true,
    },
    bindings: { UNNAMED_KEY: unnamed.binding },
  });
  // Warm the set, then send HS256 tokens whose kids name no JWKS key.
  assertVerdict(await fresh.fetch('/', { token: await mint(rsa, { iss: MIXED, aud: AUD }) }), { kid: 'rsa-1' });
  const before = jwks.count;
  for (const kid of ['hs256', 'label-1', 'label-2']) {
    assertVerdict(await fresh.fetch('/', { token: await token(unnamed, MIXED, kid) }), { alg: 'HS256' });
  }
  assert.equal(jwks.count, before, 'no JWKS fetch for an HS token: a fetched set never holds HMAC keys');
  // An RS256 token with an unknown kid still refetches (rotation), once per cooldown.
  const rotated = await mint({ ...rsa, kid: 'rsa-new' }, { iss: MIXED, aud: AUD });
  refused(await fresh.fetch('/', { token: rotated }), 'no_matching_key');
  assert.equal(jwks.count, before + 1, 'an unknown RS256 kid refetches');
  await fresh.dispose();
});

test('an oct key in a fetched JWKS is still never a key', async () => {
  const t = await mint({ ...published, alg: 'HS256' }, { iss: MIXED, aud: AUD }, { header: { kid: 'published' } });
  // MIXED has an unnamed secret, which did not sign it.
  refused(await worker.fetch('/', { token: t }), 'signature_invalid');
  const skipped = worker.jsonLogs('warn').filter((l) => l.event === 'jwks_key_skipped');
  assert.ok(skipped.some((l) => l.reason === 'oct_not_allowed'), JSON.stringify(skipped));
});

test('no secret or token appears in the logs', () => {
  const text = worker.logs.map((l) => l.message).join('\n');
  for (const key of every) assert.ok(!text.includes(key.binding), 'a secret was logged');
});

// Item 12: the placeholder .dev.vars.example had, and the one it has now.
const OLD_PLACEHOLDER = 'replace-with-a-base64url-key-of-32-bytes-or-more';
const NEW_PLACEHOLDER = '<paste a base64url key of 32 random bytes or more here>';

for (const [name, value, field] of [
  ['the old placeholder (valid base64url, typed words)', OLD_PLACEHOLDER, 'issuers.hmac_secret'],
  ['the new placeholder (not base64url)', NEW_PLACEHOLDER, 'issuers.hmac_secret'],
  ['a placeholder in hmac_secrets', OLD_PLACEHOLDER, 'issuers.hmac_secrets'],
]) {
  test(`a secret binding holding ${name} is config_invalid, never a key`, async () => {
    const issuer = field === 'issuers.hmac_secret'
      ? { issuer: UNNAMED, hmac_secret: 'DEV_KEY' }
      : { issuer: UNNAMED, hmac_secrets: { dev: 'DEV_KEY' } };
    const w = await startWorker({ config: { issuers: [issuer], mode: 'verdict' }, bindings: { DEV_KEY: value } });
    // A token forged by someone who read the example file.
    const bytes = Buffer.from(OLD_PLACEHOLDER, 'base64url');
    const forged = await new jose.SignJWT({ iss: UNNAMED, sub: 'admin' })
      .setProtectedHeader({ alg: 'HS256', kid: 'dev' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new Uint8Array(bytes));
    const res = await w.fetch('/', { token: forged });
    assertRefused(res, { status: 500, code: 'config_invalid' });
    assert.ok(res.json.detail.includes(field), res.json.detail);
    assert.ok(!res.text.includes(value), 'the value is not echoed');
    const logged = w.jsonLogs('error').filter((l) => l.event === 'hmac_secret_refused');
    assert.ok(logged.length >= 1 && logged.every((l) => l.binding === 'DEV_KEY'), JSON.stringify(logged));
    assert.ok(!w.logs.some((l) => l.message.includes(value)), 'the value is not logged');
    await w.dispose();
  });
}
