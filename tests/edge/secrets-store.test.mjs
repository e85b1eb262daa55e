// Key sources in workerd (issue 15 §7): an HMAC key or the assertion key read from a
// Cloudflare Secrets Store binding (`[[secrets_store_secrets]]`, read with `get()`)
// works as a Worker secret does; a Secrets Store binding without its secret is
// config_invalid naming the field, never a key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { Origin, assertRefused, assertVerdict, closeAll, mint, newHmacKey, startWorker } from './harness.mjs';

const STORE = 'https://store.edge.test';
const EMPTY = 'https://empty-store.edge.test';
const AUD = 'api';

const stored = newHmacKey('HS256');
const token = (key, iss) => mint(key, { iss, sub: 'svc', aud: AUD });

let verdict;

before(async () => {
  verdict = await startWorker({
    config: {
      issuers: [
        { issuer: STORE, hmac_secret: 'HMAC_FROM_STORE', audiences: [AUD] },
        { issuer: EMPTY, hmac_secret: 'HMAC_NOT_STORED', audiences: [AUD] },
      ],
      mode: 'verdict',
    },
    secretsStore: { HMAC_FROM_STORE: stored.binding, HMAC_NOT_STORED: undefined },
  });
});

after(closeAll);

test('an HMAC key from a Secrets Store binding verifies, a wrong key does not', async () => {
  assertVerdict(await verdict.fetch('/', { token: await token(stored, STORE) }), { claims: { iss: STORE } });
  const other = newHmacKey('HS256');
  assertRefused(await verdict.fetch('/', { token: await token(other, STORE) }), {
    status: 401,
    code: 'signature_invalid',
  });
});

test('a Secrets Store binding without its secret is config_invalid for its issuer only', async () => {
  const res = await verdict.fetch('/', { token: await token(stored, EMPTY) });
  assertRefused(res, { status: 500, code: 'config_invalid' });
  assert.ok(
    verdict.jsonLogs('error').some((l) => l.event === 'hmac_secret_refused' && l.binding === 'HMAC_NOT_STORED'),
    'the refusal is logged with the binding name',
  );
  // The other issuer is unaffected.
  assertVerdict(await verdict.fetch('/', { token: await token(stored, STORE) }), { claims: { iss: STORE } });
});

test('the assertion key from a Secrets Store binding signs forwarded requests', async () => {
  const origin = await Origin.start();
  const { privateKey, publicKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'edge-1', alg: 'EdDSA' };
  const proxy = await startWorker({
    config: {
      issuers: [{ issuer: STORE, hmac_secret: 'HMAC_FROM_STORE', audiences: [AUD] }],
      origin: origin.url,
      assertion: { key_secret: 'ASSERTION_FROM_STORE', audience: 'origin.test' },
    },
    secretsStore: { HMAC_FROM_STORE: stored.binding, ASSERTION_FROM_STORE: JSON.stringify(jwk) },
  });
  const res = await proxy.fetch('/api/items', { token: await token(stored, STORE) });
  assert.equal(res.status, 201, res.text);
  const assertion = origin.last.headers['x-jwt-assertion'];
  assert.ok(assertion, 'an assertion reached the origin');
  const { payload } = await jose.jwtVerify(assertion, publicKey, { audience: 'origin.test' });
  assert.equal(payload.claims.sub, 'svc');
  assert.equal(payload.path, '/api/items');
});
