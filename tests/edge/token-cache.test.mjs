// The verified-token cache in workerd (issue 18, lever 5): the same token again is a
// cache hit (the decision log says `"token_cache":"hit"`); a token altered in any byte
// never hits; a hit still goes through the time claims, the route's rules and the replay
// check; a rotated key set starts with an empty cache; `token_cache_entries: 0` turns it
// off. Keys and tokens are minted by jose at test time; the JWKS server is on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUD,
  ISS,
  JwksServer,
  assertRefused,
  assertVerdict,
  claimsFor,
  closeAll,
  mint,
  newKey,
  now,
  sleep,
  startWorker,
  tamperPayload,
  verdictConfig,
  waitFor,
} from './harness.mjs';

let key;
let jwks;

before(async () => {
  key = await newKey('ES256');
  jwks = await JwksServer.start([key]);
});

after(closeAll);

/** Sends `token` and returns the response with the decision line it produced. */
async function decide(worker, token, url = '/') {
  const before = worker.jsonLogs().filter((l) => l.event === 'decision').length;
  const res = await worker.fetch(url, { token });
  await waitFor(() => worker.jsonLogs().filter((l) => l.event === 'decision').length > before, {
    what: 'a decision line',
  });
  const line = worker.jsonLogs().filter((l) => l.event === 'decision').at(-1);
  return { res, line };
}

/** One character of the signature changed at `at` (counted from the end). */
function alterSignature(token, at) {
  const [h, p, s] = token.split('.');
  const i = s.length - 1 - at;
  const other = s[i] === 'A' ? 'B' : 'A';
  return `${h}.${p}.${s.slice(0, i)}${other}${s.slice(i + 1)}`;
}

test('the same token again is a hit; an altered one never is', async () => {
  const w = await startWorker({ config: verdictConfig(jwks) });
  const token = await mint(key, claimsFor());
  let d = await decide(w, token);
  assertVerdict(d.res, { kid: key.kid });
  assert.equal(d.line.token_cache, 'miss');
  for (let i = 0; i < 3; i++) {
    d = await decide(w, token);
    assertVerdict(d.res, { kid: key.kid });
    assert.equal(d.line.token_cache, 'hit', `round ${i}`);
    assert.equal(d.line.outcome, 'accept');
  }
  // Every signature position near the end, a changed claim with the signature kept, and
  // trailing bytes: each is another text, verified in full, and refused.
  const altered = [
    ...[0, 1, 2, 10, 40, 80].map((at) => alterSignature(token, at)),
    tamperPayload(token, (p) => (p.sub = 'admin')),
    `${token}A`,
  ];
  for (const bad of altered) {
    d = await decide(w, bad);
    assert.equal(d.res.status, 401, d.res.text);
    assert.ok(['signature_invalid', 'token_malformed'].includes(d.res.json?.code), d.res.text);
    assert.equal(d.line.token_cache ?? null, null, 'a refused token is not logged as a hit');
  }
  // The original is still remembered.
  d = await decide(w, token);
  assert.equal(d.line.token_cache, 'hit');
  await w.dispose();
});

test('a hit is refused once the token expires (the time claims are checked again)', async () => {
  const w = await startWorker({ config: verdictConfig(jwks, {}, { clock_skew: 0 }) });
  const t = now();
  const token = await mint(key, claimsFor({ iat: t, exp: t + 2 }));
  assert.equal((await decide(w, token)).line.token_cache, 'miss');
  assert.equal((await decide(w, token)).line.token_cache, 'hit');
  await sleep((t + 2 - Date.now() / 1000) * 1000 + 1100);
  assertRefused(await w.fetch('/', { token }), { status: 401, code: 'token_expired', error: 'invalid_token' });
  await w.dispose();
});

test("a hit goes through the route's rules and the replay check", async () => {
  const w = await startWorker({
    config: verdictConfig(
      jwks,
      {
        routes: [
          { name: 'admin', path: '/admin/**', scopes: ['admin'] },
          { name: 'once', path: '/once/**', replay: 'best-effort' },
        ],
      },
      { require_jti: true },
    ),
  });
  const token = await mint(key, claimsFor({ scope: 'read', jti: `jti-${Math.random()}` }));
  assert.equal((await decide(w, token, '/items')).line.token_cache, 'miss');
  // Remembered, and still refused where the route asks for more.
  const admin = await decide(w, token, '/admin/users');
  assertRefused(admin.res, { status: 403, code: 'insufficient_scope', error: 'insufficient_scope' });
  assert.equal(admin.line.token_cache, 'hit');
  // Remembered, and still used up once where the route refuses replays.
  const first = await decide(w, token, '/once/a');
  assert.equal(first.res.status, 200, first.res.text);
  assert.equal(first.res.json?.valid, true);
  assert.equal(first.res.json?.route, 'once');
  assert.equal(first.line.token_cache, 'hit');
  const second = await decide(w, token, '/once/b');
  assertRefused(second.res, { status: 401, code: 'token_replayed', error: 'invalid_token' });
  assert.equal(second.line.token_cache, 'hit');
  await w.dispose();
});

test('a rotated key set starts empty: a remembered token of the removed key is refused', async () => {
  const oldKey = await newKey('ES256');
  const server = await JwksServer.start([oldKey]);
  const w = await startWorker({ config: verdictConfig(server) });
  const oldToken = await mint(oldKey, claimsFor());
  assert.equal((await decide(w, oldToken)).line.token_cache, 'miss');
  assert.equal((await decide(w, oldToken)).line.token_cache, 'hit');
  // The issuer rotates; a token of the new key makes the worker refetch.
  const newKeyPair = await newKey('ES256');
  server.setKeys(newKeyPair);
  const d = await decide(w, await mint(newKeyPair, claimsFor()));
  assertVerdict(d.res, { kid: newKeyPair.kid, key_source: 'issuer' });
  assert.equal(server.count, 2);
  // The old token was remembered by the old set's verifier, which is gone.
  const again = await decide(w, oldToken);
  assertRefused(again.res, { status: 401, code: 'no_matching_key', error: 'invalid_token' });
  await w.dispose();
});

test('token_cache_entries: 0 turns it off; a small cache keeps the newest', async () => {
  const off = await startWorker({ config: verdictConfig(jwks, { token_cache_entries: 0 }) });
  const token = await mint(key, claimsFor());
  for (let i = 0; i < 3; i++) {
    const d = await decide(off, token);
    assertVerdict(d.res);
    assert.equal(d.line.token_cache, 'off');
  }
  await off.dispose();

  const small = await startWorker({ config: verdictConfig(jwks, { token_cache_entries: 2 }) });
  const tokens = [];
  for (let i = 0; i < 3; i++) tokens.push(await mint(key, claimsFor({ n: i })));
  for (const t of tokens) assert.equal((await decide(small, t)).line.token_cache, 'miss');
  assert.equal((await decide(small, tokens[2])).line.token_cache, 'hit');
  assert.equal((await decide(small, tokens[0])).line.token_cache, 'miss', 'the oldest was dropped');
  await small.dispose();
});

test('the decision log never carries the token or its digest', async () => {
  const w = await startWorker({ config: verdictConfig(jwks) });
  const token = await mint(key, claimsFor({ aud: AUD, iss: ISS }));
  await decide(w, token);
  await decide(w, token);
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha256').update(token).digest();
  const needles = [token.split('.')[2], digest.toString('hex'), digest.toString('base64url'), digest.toString('base64')];
  for (const log of w.logs) {
    for (const n of needles) assert.ok(!log.message.includes(n), `a log line carries the token or its digest: ${log.message.slice(0, 120)}`);
  }
  await w.dispose();
});
