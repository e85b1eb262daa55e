// Token sources in workerd (issue 19): a query parameter (opt-in, removed from the URL
// the origin receives and never logged), a header with a prefix, and what happens when
// more than one configured source carries a token (refused: RFC 6750 §2).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AUD, ISS, JwksServer, Origin, assertRefused, closeAll, mint, newKey, startWorker } from './harness.mjs';

let key;
let jwks;
let origin;
let worker;
let token;

const claims = { iss: ISS, sub: 'user-7', aud: AUD };

before(async () => {
  key = await newKey('ES256');
  jwks = await JwksServer.start([key]);
  origin = await Origin.start();
  worker = await startWorker({
    config: {
      issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD] }],
      sources: [
        { type: 'authorization' },
        { type: 'header', name: 'X-Auth', prefix: 'Token ' },
        { type: 'query', name: 'access_token' },
      ],
      origin: origin.url,
      dev_allow_http_loopback: true,
    },
  });
  token = await mint(key, claims);
});

after(closeAll);

/** Every place a token could have reached the origin or the logs. */
function assertNowhere(w, value) {
  const last = origin.last;
  assert.ok(!last.url.includes(value), 'not in the URL the origin received');
  for (const [name, v] of Object.entries(last.headers)) assert.ok(!String(v).includes(value), `not in ${name}`);
  assert.ok(!w.logs.map((l) => l.message).join('\n').includes(value), 'not in the logs');
}

test('a query-parameter token is accepted and removed from the forwarded URL; the other parameters are kept as sent', async () => {
  for (const [query, expected] of [
    [`?a=1&access_token=${token}&b=%2F+x`, '/items?a=1&b=%2F+x'],
    [`?access_token=${token}`, '/items'],
    // The name as an origin decodes it (`URLSearchParams`): removed too.
    [`?access%5Ftoken=${token}&z=9`, '/items?z=9'],
  ]) {
    const res = await worker.fetch(`/items${query}`);
    assert.equal(res.status, 201, `${query.slice(0, 20)}: ${res.text}`);
    assert.equal(origin.last.url, expected);
    assertNowhere(worker, token.split('.')[2]);
  }
});

test('a query token sent twice, or beside another source, is refused as ambiguous; a bad one is refused without echoing it', async () => {
  const twice = await worker.fetch(`/items?access_token=${token}&access_token=${token}`);
  assertRefused(twice, { status: 400, code: 'request_malformed', error: 'invalid_request' });
  const beside = await worker.fetch(`/items?access_token=${token}`, { token });
  assertRefused(beside, { status: 400, code: 'request_malformed', error: 'invalid_request' });
  const same = await worker.fetch('/items', { headers: { authorization: `Bearer ${token}`, 'x-auth': `Token ${token}` } });
  assertRefused(same, { status: 400, code: 'request_malformed', error: 'invalid_request' });
  const forged = `${token.slice(0, -6)}AAAAAA`;
  const bad = await worker.fetch(`/items?access_token=${forged}`);
  assertRefused(bad, { status: 401, code: 'signature_invalid', error: 'invalid_token' });
  assert.ok(!bad.text.includes(forged.split('.')[2]));
  assert.ok(!worker.logs.map((l) => l.message).join('\n').includes(forged.split('.')[2]));
});

test('a header with a prefix: the token after it (prefix compared case-insensitively); other values are not a token', async () => {
  for (const value of [`Token ${token}`, `token ${token}`, `TOKEN   ${token}  `]) {
    const res = await worker.fetch('/h', { headers: { 'x-auth': value } });
    assert.equal(res.status, 201, res.text);
    assert.equal(origin.last.headers['x-auth'], undefined, 'the token header is removed');
  }
  // Origins fold `_` to `-`: the underscore spelling is removed too.
  const folded = await worker.fetch('/h', { headers: { 'x-auth': `Token ${token}`, x_auth: 'spoof' } });
  assert.equal(folded.status, 201, folded.text);
  assert.equal(origin.last.headers.x_auth, undefined);
  for (const value of [`Bearer ${token}`, token, 'Token', 'Tokens x']) {
    const res = await worker.fetch('/h', { headers: { 'x-auth': value } });
    assertRefused(res, { status: 401, code: 'token_missing' });
  }
});

test('the query source is opt-in: without it, ?access_token= is not read', async () => {
  const w = await startWorker({
    config: {
      issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD] }],
      origin: origin.url,
      dev_allow_http_loopback: true,
    },
  });
  const res = await w.fetch(`/items?access_token=${token}`);
  assertRefused(res, { status: 401, code: 'token_missing' });
  await w.dispose();
});

test('token sources are validated, each refusal naming `sources`', async () => {
  for (const sources of [
    [{ type: 'query', name: '' }],
    [{ type: 'query', name: 'a&b' }],
    [{ type: 'header', name: 'X-Auth', prefix: '' }],
    [{ type: 'header', name: 'X-Auth', prefix: 'Tok\nen ' }],
    [{ type: 'header', name: 'Authorization' }],
    [{ type: 'header', name: 'Bad Name' }],
    [{ type: 'query' }],
    [],
  ]) {
    const w = await startWorker({ config: { issuers: [{ issuer: ISS, jwks_uri: jwks.uri }], sources, dev_allow_http_loopback: true } });
    const res = await w.fetch('/', { token });
    assert.equal(res.status, 500, JSON.stringify(sources));
    assert.equal(res.json?.code, 'config_invalid');
    assert.match(res.json?.detail ?? '', /sources/, JSON.stringify(sources));
    await w.dispose();
  }
});
