// The wasm build of the core, loaded in Node through wasm-bindgen, gives the same
// verdicts as the native core on the jose fixtures, and verifies tokens jose mints
// right now. Run by scripts/test.sh after `wasm-bindgen --target nodejs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const { verifyJson } = require(`${root}/target/pkg-node/jwt_edge.js`);

const fixturePath = process.env.JWT_EDGE_FIXTURES ?? `${root}/tests/fixtures/jose/tokens.json`;
const fixture = JSON.parse(readFileSync(fixturePath, 'utf8'));

const verify = (token, options) => JSON.parse(verifyJson(token, JSON.stringify(options)));

const baseOptions = {
  jwks: fixture.jwks,
  algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA', 'HS256'],
  issuer: fixture.policy.issuer,
  audience: fixture.policy.audience,
  clockSkewSeconds: fixture.policy.clock_skew,
  now: fixture.now,
};

test('wasm verdicts equal the expected codes for every asymmetric jose case', () => {
  // HMAC cases carry a kid bound to the fixture's secrets; the single `secret`
  // option has none, so they are covered by the freshly minted test below.
  const cases = fixture.cases.filter((c) => !/^valid_HS/.test(c.name));
  assert.ok(cases.length >= 30);
  for (const c of cases) {
    const verdict = verify(c.token, baseOptions);
    assert.equal(verdict.ok ? 'ok' : verdict.code, c.expect, c.name);
    if (!verdict.ok) {
      assert.ok(!verdict.message.includes(c.token.split('.')[1] || '\u0000'), `${c.name} echoes the token`);
    }
  }
});

test('a token jose mints now verifies, and fails once expired', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'fresh', alg: 'ES256', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const token = await new jose.SignJWT({ scope: 'read' })
    .setProtectedHeader({ alg: 'ES256', kid: 'fresh' })
    .setIssuer('https://issuer.example')
    .setAudience('api://jwt-edge')
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(privateKey);
  const options = { jwks: { keys: [jwk] }, issuer: 'https://issuer.example', audience: 'api://jwt-edge', now };
  const ok = verify(token, options);
  assert.equal(ok.ok, true, JSON.stringify(ok));
  assert.equal(ok.claims.scope, 'read');
  assert.equal(ok.keyId, 'fresh');
  assert.equal(verify(token, { ...options, now: now + 120 }).code, 'token_expired');
  assert.equal(verify(token, { ...options, audience: 'other' }).code, 'audience_mismatch');
  // The JWKS may be given as JSON text too.
  assert.equal(verify(token, { ...options, jwks: JSON.stringify({ keys: [jwk] }) }).ok, true);
});

test('HS256 from jose with a configured secret; HMAC is off unless a secret is given', async () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const now = Math.floor(Date.now() / 1000);
  const token = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 60).sign(secret);
  const k = Buffer.from(secret).toString('base64url');
  assert.equal(verify(token, { secret: k, now }).ok, true);
  assert.equal(verify(token, { jwks: fixture.jwks, now }).code, 'alg_not_allowed');
  assert.equal(verify(token, { secret: Buffer.from(new Uint8Array(32)).toString('base64url'), now }).code, 'signature_invalid');
});

test('unknown options and bad values are refused with config_invalid', () => {
  assert.equal(verify('a.b.c', { audiences: 'x' }).code, 'config_invalid');
  assert.equal(verify('a.b.c', { algorithms: ['none'] }).code, 'config_invalid');
  assert.equal(verify('a.b.c', { secret: 'short' }).code, 'config_invalid');
});
