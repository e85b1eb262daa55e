// RemoteJwks.fromIssuer (target/npm/jwt-edge/node.js) against a provider on 127.0.0.1
// serving OpenID Connect Discovery (or only RFC 8414) metadata and its key set. Time
// moves through the `now` option, so the cache decisions are the core's and
// deterministic. Tokens are minted by `jose`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as jose from 'jose';
import { loadPackage, checkError } from './helpers.mjs';


const { RemoteJwks, JwtEdgeError } = await loadPackage('node.js');
const refused = (code) => (err) => (checkError(assert, JwtEdgeError, err, code, undefined, code), true);

const NOW = 1_800_000_000;
const DEV = { devAllowHttpLoopback: true };
const LONG = 100 * 86_400;

async function keyPair(kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}
const k1 = await keyPair('k1');
const k2 = await keyPair('k2');

const sign = (key, iss) =>
  new jose.SignJWT({ sub: 'user-1', iat: NOW, exp: NOW + LONG })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setIssuer(iss)
    .sign(key.privateKey);

/**
 * A provider at http://127.0.0.1:PORT{path}. `openid`/`oauth`: serve that metadata
 * location (`null`: 404). `down`: every answer 503. `docIssuer`: the `issuer` the
 * document states (default: the real one). Records every request path.
 */
async function provider({ path = '/tenant', openid = true, oauth = false, cacheControl = 'max-age=600' } = {}) {
  const state = { openid, oauth, down: false, jwksPath: `${path}/keys`, keys: { [`${path}/keys`]: [k1.jwk] }, seen: [], docIssuer: null };
  const server = http.createServer((req, res) => {
    state.seen.push(req.url);
    if (state.down) return void res.writeHead(503).end();
    const json = (body) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': cacheControl });
      res.end(JSON.stringify(body));
    };
    const doc = () => ({
      issuer: state.docIssuer ?? state.issuer,
      jwks_uri: `${state.origin}${state.jwksPath}`,
      authorization_endpoint: `${state.issuer}/authorize`,
      token_endpoint: `${state.issuer}/token`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    if (req.url === `${path}/.well-known/openid-configuration` && state.openid) return json(doc());
    if (req.url === `/.well-known/oauth-authorization-server${path}` && state.oauth) return json(doc());
    if (state.keys[req.url]) return json({ keys: state.keys[req.url] });
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  state.origin = `http://127.0.0.1:${server.address().port}`;
  state.issuer = `${state.origin}${path}`;
  state.close = () => new Promise((r) => server.close(r));
  return state;
}

test('discovers the key set through openid-configuration, then serves from memory', async () => {
  const p = await provider();
  const remote = RemoteJwks.fromIssuer(p.issuer, DEV);
  const v = await remote.verify(await sign(k1, p.issuer), { now: NOW });
  assert.equal(v.valid, true);
  assert.equal(v.claims.sub, 'user-1');
  assert.deepEqual(p.seen, ['/tenant/.well-known/openid-configuration', '/tenant/keys']);
  await remote.verify(await sign(k1, p.issuer), { now: NOW + 10 });
  assert.equal(p.seen.length, 2, 'document and keys held');
  // Another issuer's token is refused, whatever key signed it.
  await assert.rejects(remote.verify(await sign(k1, 'https://other.example'), { now: NOW }), refused('issuer_mismatch'));
  await assert.rejects(remote.verify(await sign(k1, p.issuer), { now: NOW, issuer: 'https://other.example' }), refused('config_invalid'));
  await p.close();
});

test('falls back to RFC 8414 on 404, and refuses a document for another issuer', async () => {
  const p = await provider({ openid: false, oauth: true });
  const remote = RemoteJwks.fromIssuer(p.issuer, DEV);
  assert.equal((await remote.verify(await sign(k1, p.issuer), { now: NOW })).valid, true);
  assert.deepEqual(p.seen, ['/tenant/.well-known/openid-configuration', '/.well-known/oauth-authorization-server/tenant', '/tenant/keys']);
  await p.close();

  const q = await provider();
  q.docIssuer = `${q.issuer}/`; // trailing slash: not the same issuer (OIDC Discovery §4.3)
  const events = [];
  const strict = RemoteJwks.fromIssuer(q.issuer, { ...DEV, onEvent: (e) => events.push(e) });
  await assert.rejects(strict.verify(await sign(k1, q.issuer), { now: NOW }), refused('jwks_unavailable'));
  assert.deepEqual(q.seen, ['/tenant/.well-known/openid-configuration'], 'no keys fetched');
  assert.ok(events.some((e) => e.event === 'discovery_fetch_failed' && e.problem === 'issuer_mismatch'), JSON.stringify(events));
  await q.close();
});

test('survives the issuer going down (last good document and keys) and follows a moved jwks_uri', async () => {
  const p = await provider();
  const remote = RemoteJwks.fromIssuer(p.issuer, DEV);
  assert.equal((await remote.verify(await sign(k1, p.issuer), { now: NOW })).valid, true);
  p.down = true;
  const stale = await remote.verify(await sign(k1, p.issuer), { now: NOW + 700 });
  assert.equal(stale.valid, true);
  assert.equal(stale.key_source, 'stale');
  p.down = false;
  // The document now names another key set with a new key.
  p.jwksPath = '/tenant/keys-2';
  p.keys['/tenant/keys-2'] = [k2.jwk];
  const moved = await remote.verify(await sign(k2, p.issuer), { now: NOW + 1400 });
  assert.equal(moved.valid, true);
  assert.ok(p.seen.includes('/tenant/keys-2'));
  assert.equal(remote.url, `${p.origin}/tenant/keys-2`);
  await p.close();
});

test('the document and keys are shared through kv: a second instance asks the issuer nothing', async () => {
  const p = await provider();
  const store = new Map();
  const kv = { get: async (k) => store.get(k) ?? null, put: async (k, v) => void store.set(k, v) };
  const a = RemoteJwks.fromIssuer(p.issuer, { ...DEV, kv });
  assert.equal((await a.verify(await sign(k1, p.issuer), { now: NOW })).valid, true);
  assert.equal(store.size, 2, 'a discovery snapshot and a key set snapshot');
  const before = p.seen.length;
  const b = RemoteJwks.fromIssuer(p.issuer, { ...DEV, kv });
  const v = await b.verify(await sign(k1, p.issuer), { now: NOW + 5 });
  assert.equal(v.valid, true);
  assert.equal(v.key_source, 'kv');
  assert.equal(p.seen.length, before);
  await p.close();
});

test('fromIssuer refuses issuers that cannot be discovered', () => {
  for (const issuer of ['accounts.google.com', 'http://idp.example', 'https://u@idp.example', 'https://idp.example?x', 1]) {
    assert.throws(() => RemoteJwks.fromIssuer(issuer), (e) => e instanceof JwtEdgeError && e.code === 'config_invalid', String(issuer));
  }
  assert.throws(() => RemoteJwks.fromIssuer('https://idp.example', { bogus: 1 }), (e) => e.code === 'config_invalid');
  assert.ok(RemoteJwks.fromIssuer('https://idp.example'));
});
