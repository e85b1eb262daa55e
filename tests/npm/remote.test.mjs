// RemoteJwks (target/npm/jwt-edge/node.js) against a local node:http JWKS server on
// 127.0.0.1 that counts requests and can rotate keys, answer 304 to a matching
// If-None-Match, go down, or be slow. Time moves through the `now` option, so the cache
// decisions (the core's JwksCache) are deterministic; only the timeout tests wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as jose from 'jose';
import { PKG_DIR, loadPackage, checkError } from './helpers.mjs';

const { RemoteJwks, JwtEdgeError } = await loadPackage('node.js');

const NOW = 1_800_000_000;
/** The servers here are plain http on 127.0.0.1: allowed only with the dev option. */
const DEV = { devAllowHttpLoopback: true };
const LONG = 100 * 86_400; // token lifetime: longer than any `now` a test moves to

async function keyPair(kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}
const k1 = await keyPair('key-1');
const k2 = await keyPair('key-2');

/** An ES256 token signed by `key`, with header kid `kid` (default: the key's). */
function token(key, kid = key.kid) {
  return new jose.SignJWT({ sub: 'user-1', iat: NOW, exp: NOW + LONG })
    .setProtectedHeader({ alg: 'ES256', kid })
    .sign(key.privateKey);
}
const t1 = await token(k1);
const t2 = await token(k2);

/**
 * A JWKS server. `mode`: 'ok'; 'slow' (headers after `delayMs`); 'stall-body' (headers at
 * once, the body never ends; also every request after the first `stallAfter`); 'error'
 * (500). 304 when If-None-Match equals the current ETag.
 */
async function jwksServer({ keys = [k1.jwk], cacheControl } = {}) {
  const state = {
    keys, version: 1, cacheControl, mode: 'ok', delayMs: 3000, stallAfter: Infinity,
    requests: 0, notModified: 0, ifNoneMatch: [], ifModifiedSince: [], accept: [],
    etags: true, lastModified: null,
  };
  const timers = new Set();
  const server = http.createServer((req, res) => {
    state.requests += 1;
    state.ifNoneMatch.push(req.headers['if-none-match'] ?? null);
    state.ifModifiedSince.push(req.headers['if-modified-since'] ?? null);
    state.accept.push(req.headers.accept ?? null);
    const etag = `"v${state.version}"`;
    const send = () => {
      if (res.destroyed) return;
      const validators = {
        ...(state.etags ? { etag } : {}),
        ...(state.lastModified ? { 'last-modified': state.lastModified } : {}),
      };
      const unchanged = state.etags
        ? req.headers['if-none-match'] === etag
        : state.lastModified !== null && req.headers['if-modified-since'] === state.lastModified;
      if (unchanged) {
        state.notModified += 1;
        res.writeHead(304, { ...validators, ...(state.cacheControl ? { 'cache-control': state.cacheControl } : {}) });
        res.end();
        return;
      }
      const headers = { 'content-type': 'application/jwk-set+json', ...validators };
      if (state.cacheControl) headers['cache-control'] = state.cacheControl;
      res.writeHead(200, headers);
      res.end(JSON.stringify({ keys: state.keys }));
    };
    if (state.mode === 'error') {
      res.writeHead(500);
      res.end('boom');
    } else if (state.mode === 'slow') {
      const timer = setTimeout(() => { timers.delete(timer); send(); }, state.delayMs);
      timers.add(timer);
    } else if (state.mode === 'huge') {
      const body = JSON.stringify({ keys: state.keys, pad: 'x'.repeat(300 * 1024) });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else if (state.mode === 'huge-chunked') {
      // 8 MiB with no Content-Length, written as the reader takes it; counts what was sent.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"keys":${JSON.stringify(state.keys)},"pad":"`);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < 8 * 1024 * 1024) {
          if (res.destroyed) return;
          sent += chunk.length;
          state.hugeSent = sent;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('"}');
      };
      res.on('error', () => {});
      pump();
    } else if (state.mode === 'stall-body' || state.requests > state.stallAfter) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":');
    } else {
      send();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const timer of timers) clearTimeout(timer);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return {
    url,
    state,
    /** New keys and a new ETag. */
    rotate(newKeys) {
      state.keys = newKeys;
      state.version += 1;
    },
    /** Stops listening: later fetches get ECONNREFUSED. */
    down: close,
    close,
  };
}

/** Waits (bounded) until `predicate()` holds. */
async function until(predicate, label, ms = 3000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs a command without blocking this process (the JWKS server lives here). */
function run(file, args, options) {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', ...options }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 'killed') : 0, stdout, stderr });
    });
  });
}

async function rejects(promise, code, tokenText, label = code) {
  await assert.rejects(promise, (err) => {
    checkError(assert, JwtEdgeError, err, code, tokenText, label);
    return true;
  });
}

test('N verifications → 1 fetch (sequential, and concurrent on an empty cache)', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const remote = new RemoteJwks(srv.url, DEV);
  assert.equal(remote.fetchCount, 0);
  for (let i = 0; i < 25; i++) {
    const result = await remote.verify(t1, { now: NOW + i });
    assert.equal(result.keyId, 'key-1');
    assert.equal(result.claims.sub, 'user-1');
  }
  assert.equal(srv.state.requests, 1);
  assert.equal(remote.fetchCount, 1);
  assert.match(srv.state.accept[0], /application\/(jwk-set\+)?json/);

  const concurrent = new RemoteJwks(new URL(srv.url), DEV);
  const results = await Promise.all(Array.from({ length: 25 }, () => concurrent.verify(t1, { now: NOW })));
  assert.ok(results.every((r) => r.keyId === 'key-1'));
  assert.equal(concurrent.fetchCount, 1);
  assert.equal(srv.state.requests, 2);
});

test('cacheMaxAgeSeconds: fresh, refresh-ahead in the background, stale → refetch; 304 revalidates', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const remote = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100 });
  await remote.verify(t1, { now: NOW });
  assert.equal(srv.state.requests, 1);
  // Fresh for the first four fifths of 100 s.
  await remote.verify(t1, { now: NOW + 79 });
  assert.equal(remote.fetchCount, 1);
  // Last fifth: answered from the cache at once, refreshed in the background.
  const result = await remote.verify(t1, { now: NOW + 80 });
  assert.equal(result.keyId, 'key-1');
  await until(() => srv.state.requests === 2, 'the background refresh');
  await until(() => srv.state.notModified === 1, 'the 304');
  assert.equal(srv.state.ifNoneMatch[1], '"v1"', 'If-None-Match carries the ETag');
  assert.equal(remote.fetchCount, 2);
  // The 304 made the set fresh again from NOW + 80.
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the refresh settle
  await remote.verify(t1, { now: NOW + 150 });
  assert.equal(srv.state.requests, 2);
  // Stale (age ≥ 100): refetched before answering; the server changed, so a 200.
  srv.rotate([k1.jwk, k2.jwk]);
  assert.equal((await remote.verify(t2, { now: NOW + 180 })).keyId, 'key-2');
  assert.equal(srv.state.requests, 3);
  assert.equal(srv.state.ifNoneMatch[2], '"v1"');
  assert.equal(srv.state.notModified, 1);
  assert.equal(remote.fetchCount, 3);
});

test('Cache-Control max-age from the server is used, floored at 60 s, capped by cacheMaxAgeSeconds', async (t) => {
  const short = await jwksServer({ cacheControl: 'public, max-age=10' });
  t.after(short.close);
  const remote = new RemoteJwks(short.url, { ...DEV, cacheMaxAgeSeconds: 100 });
  await remote.verify(t1, { now: NOW });
  await remote.verify(t1, { now: NOW + 47 });
  assert.equal(short.state.requests, 1, 'max-age=10 counts as 60 (the worker\'s floor)');
  await remote.verify(t1, { now: NOW + 60 }); // stale after 60 s → refetch (a 304)
  assert.equal(short.state.requests, 2);
  assert.equal(short.state.notModified, 1);

  const long = await jwksServer({ cacheControl: 'max-age=86400' });
  t.after(long.close);
  const capped = new RemoteJwks(long.url, { ...DEV, cacheMaxAgeSeconds: 100 });
  await capped.verify(t1, { now: NOW });
  await capped.verify(t1, { now: NOW + 79 });
  assert.equal(long.state.requests, 1);
  await capped.verify(t1, { now: NOW + 100 }); // the 100 s ceiling, not a day
  assert.equal(long.state.requests, 2);
  assert.equal(capped.fetchCount, 2);
});

test('key rotation (a new kid) → exactly one refetch', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const remote = new RemoteJwks(srv.url, { ...DEV, cooldownSeconds: 30 });
  assert.equal((await remote.verify(t1, { now: NOW })).keyId, 'key-1');
  srv.rotate([k2.jwk]); // key-1 retired, key-2 new
  assert.equal((await remote.verify(t2, { now: NOW + 1 })).keyId, 'key-2');
  assert.equal(srv.state.requests, 2);
  assert.equal(remote.fetchCount, 2);
  for (let i = 0; i < 20; i++) assert.equal((await remote.verify(t2, { now: NOW + 2 + i })).keyId, 'key-2');
  // The retired key is gone, and asking for it again within the cooldown fetches nothing.
  await rejects(remote.verify(t1, { now: NOW + 25 }), 'no_matching_key', t1, 'retired key');
  assert.equal(srv.state.requests, 2);
  assert.equal(remote.fetchCount, 2);
});

test('30 unknown kids → at most one refetch per cooldown', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const remote = new RemoteJwks(srv.url, { ...DEV, cooldownSeconds: 30 });
  await remote.verify(t1, { now: NOW });
  assert.equal(srv.state.requests, 1);
  // Sequential, at successive seconds inside the cooldown.
  const forged = await Promise.all(Array.from({ length: 30 }, (_, i) => token(k1, `unknown-${i}`)));
  for (const [i, tok] of forged.entries()) {
    await rejects(remote.verify(tok, { now: NOW + 1 + (i % 29) }), 'no_matching_key', tok, `unknown-${i}`);
  }
  assert.equal(srv.state.requests, 2, 'one refetch for 30 unknown kids');
  // Concurrent, in the next cooldown window.
  const more = await Promise.all(Array.from({ length: 30 }, (_, i) => token(k1, `other-${i}`)));
  const settled = await Promise.allSettled(more.map((tok) => remote.verify(tok, { now: NOW + 40 })));
  assert.ok(settled.every((s) => s.status === 'rejected' && s.reason.code === 'no_matching_key'));
  assert.ok(srv.state.requests <= 3, `${srv.state.requests - 2} refetches for 30 concurrent unknown kids`);
  const afterConcurrent = srv.state.requests;
  // The known key still verifies throughout, without fetching.
  assert.equal((await remote.verify(t1, { now: NOW + 41 })).keyId, 'key-1');
  assert.equal(srv.state.requests, afterConcurrent);
  // After the cooldown an unknown kid may refetch once more.
  await rejects(remote.verify(forged[0], { now: NOW + 100 }), 'no_matching_key', forged[0], 'after cooldown');
  assert.equal(srv.state.requests, afterConcurrent + 1);
  assert.equal(remote.fetchCount, srv.state.requests);
});

test('server down after the first fetch → the cached set keeps verifying', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const remote = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100, cooldownSeconds: 30, timeoutMs: 1000 });
  await remote.verify(t1, { now: NOW });
  await srv.down();
  // Fresh: no fetch at all.
  assert.equal((await remote.verify(t1, { now: NOW + 50 })).keyId, 'key-1');
  assert.equal(remote.fetchCount, 1);
  // Stale: the refetch fails, the last-known-good set answers.
  assert.equal((await remote.verify(t1, { now: NOW + 150 })).keyId, 'key-1');
  assert.equal(remote.fetchCount, 2);
  assert.equal((await remote.verify(t1, { now: NOW + 151 })).keyId, 'key-1');
  // An unknown kid while down: refused as unknown, not as unavailable.
  const unknown = await token(k1, 'unknown');
  await rejects(remote.verify(unknown, { now: NOW + 200 }), 'no_matching_key', unknown);
  assert.equal(srv.state.requests, 1, 'the server saw only the first fetch');
});

test('slow server, timeoutMs 200, nothing cached → jwks_unavailable quickly', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  srv.state.mode = 'slow';
  srv.state.delayMs = 5000;
  const remote = new RemoteJwks(srv.url, { ...DEV, timeoutMs: 200 });
  const started = Date.now();
  await rejects(remote.verify(t1, { now: NOW }), 'jwks_unavailable', t1);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 2500, `took ${elapsed} ms`);
  assert.ok(elapsed >= 150, `gave up after ${elapsed} ms, before the timeout`);
  assert.equal(remote.fetchCount, 1);
  assert.equal(srv.state.requests, 1);

  // With a stale set cached, a slow server costs the timeout and the stale set answers.
  srv.state.mode = 'ok';
  const cached = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100, timeoutMs: 200 });
  await cached.verify(t1, { now: NOW });
  srv.state.mode = 'slow';
  const again = Date.now();
  assert.equal((await cached.verify(t1, { now: NOW + 150 })).keyId, 'key-1');
  assert.ok(Date.now() - again < 2500);
  assert.equal(cached.fetchCount, 2);
});

test('error answers and invalid sets: nothing cached → jwks_unavailable; cached → kept', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  srv.state.mode = 'error';
  const remote = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100 });
  await rejects(remote.verify(t1, { now: NOW }), 'jwks_unavailable', t1, '500');
  srv.state.mode = 'ok';
  srv.rotate([{ ...k1.jwk, d: 'AAAA' }]); // private member: the core refuses the set
  await rejects(remote.verify(t1, { now: NOW + 1 }), 'jwks_unavailable', t1, 'private key in set');
  srv.rotate([k1.jwk]);
  assert.equal((await remote.verify(t1, { now: NOW + 2 })).keyId, 'key-1');
  srv.rotate([{ ...k1.jwk, d: 'AAAA' }]);
  assert.equal((await remote.verify(t1, { now: NOW + 200 })).keyId, 'key-1', 'stale good set kept over a bad one');
  assert.equal(remote.fetchCount, 4);
  assert.equal(srv.state.requests, 4);
});

test('options: the verify options apply; jwks is refused; a custom fetch is used', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const calls = [];
  const remote = new RemoteJwks(srv.url, { ...DEV,
    fetch: (url, init) => {
      calls.push(String(url));
      return fetch(url, init);
    },
  });
  await rejects(remote.verify(t1, { now: NOW, jwks: { keys: [k2.jwk] } }), 'config_invalid', t1, 'jwks');
  await rejects(remote.verify(t1, { now: NOW, audience: 'api://x' }), 'claim_missing', t1, 'aud required');
  await rejects(remote.verify(t1, { now: NOW, subject: 'admin' }), 'subject_mismatch', t1);
  await rejects(remote.verify(t1, { now: NOW, bogus: 1 }), 'config_invalid', t1, 'unknown option');
  const shortLived = await new jose.SignJWT({ iat: NOW, exp: NOW + 10 }).setProtectedHeader({ alg: 'ES256', kid: 'key-1' }).sign(k1.privateKey);
  await rejects(remote.verify(shortLived, { now: NOW + 100 }), 'token_expired', shortLived);
  assert.equal((await remote.verify(t1, { now: NOW, algorithms: ['ES256'], subject: 'user-1' })).keyId, 'key-1');
  await rejects(remote.verify('Zm9v!x.YmFy.YmF6', { now: NOW }), 'token_malformed', 'Zm9v!x.YmFy.YmF6');
  await rejects(remote.verify(42, { now: NOW }), 'token_malformed', undefined, 'not a string');
  assert.deepEqual(calls, [srv.url]);
  assert.equal(remote.fetchCount, 1);
  // Without `now`, the wall clock (the token is valid now too: iat in the past, far exp).
  const wall = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'key-1' })
    .setIssuedAt().setExpirationTime('5m').sign(k1.privateKey);
  assert.equal((await remote.verify(wall)).keyId, 'key-1');
});

// ---- Regression tests for bugs found while writing these tests (fixed).

test('a cached set past max-age + max-staleness (1 day) is not used when the issuer is down', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const remote = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100, timeoutMs: 1000 });
  await remote.verify(t1, { now: NOW });
  await srv.down();
  assert.equal((await remote.verify(t1, { now: NOW + 100 + 86_400 - 1 })).keyId, 'key-1', 'still stale');
  await rejects(remote.verify(t1, { now: NOW + 100 + 86_400 + 1 }), 'jwks_unavailable', t1, 'expired set');
});

test('a body that stalls past timeoutMs → JwtEdgeError jwks_unavailable', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  srv.state.mode = 'stall-body';
  const remote = new RemoteJwks(srv.url, { ...DEV, timeoutMs: 200 });
  const started = Date.now();
  await rejects(remote.verify(t1, { now: NOW }), 'jwks_unavailable', t1, 'stalled body');
  assert.ok(Date.now() - started < 2500);
});

test('a background refresh whose body stalls does not crash the process', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  srv.state.stallAfter = 1; // the first request is answered, the refresh's body stalls
  // In a child process: an unhandled rejection there ends the process, as in an application.
  const child = await run(process.execPath, ['--input-type=module', '-e', `
    const { RemoteJwks } = await import(${JSON.stringify(pathToFileURL(`${PKG_DIR}/node.js`).href)});
    const remote = new RemoteJwks(process.env.JWKS_URL, { devAllowHttpLoopback: true, cacheMaxAgeSeconds: 100, timeoutMs: 200 });
    await remote.verify(process.env.TOKEN, { now: ${NOW} });
    const r = await remote.verify(process.env.TOKEN, { now: ${NOW + 90} }); // refresh-ahead
    await new Promise((resolve) => setTimeout(resolve, 600));
    console.log('survived', r.keyId);
  `], { env: { ...process.env, JWKS_URL: srv.url, TOKEN: t1 }, timeout: 15_000 });
  assert.equal(srv.state.requests, 2, 'the child fetched, then refreshed in the background');
  assert.equal(child.code, 0, `child exited ${child.code}: ${child.stderr}`);
  assert.match(child.stdout, /survived key-1/);
});

test('an issuer that is down is asked again only after the cooldown, while the stale set serves', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const remote = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100, cooldownSeconds: 30, timeoutMs: 1000 });
  await remote.verify(t1, { now: NOW });
  assert.equal(remote.fetchCount, 1);
  await srv.down();
  for (let i = 0; i < 10; i++) {
    assert.equal((await remote.verify(t1, { now: NOW + 200 + i })).keyId, 'key-1', 'stale set serves');
  }
  assert.equal(remote.fetchCount, 2, 'one failed refetch, then none within the cooldown');
  await remote.verify(t1, { now: NOW + 200 + 30 });
  assert.equal(remote.fetchCount, 3, 'asked again after the cooldown');
});

test('a key set over 256 KiB, with or without Content-Length, is not read past the limit', async (t) => {
  for (const mode of ['huge', 'huge-chunked']) {
    const srv = await jwksServer();
    t.after(srv.close);
    srv.state.mode = mode;
    const remote = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100 });
    await rejects(remote.verify(t1, { now: NOW }), 'jwks_unavailable', t1, mode);
    if (mode === 'huge-chunked') {
      // The reader stopped early: far less than the 8 MiB on offer left the server.
      assert.ok(srv.state.hugeSent < 4 * 1024 * 1024, `sent ${srv.state.hugeSent} bytes`);
    }
    // A good set is then used, and a later oversize answer does not replace it.
    srv.state.mode = 'ok';
    assert.equal((await remote.verify(t1, { now: NOW + 1 })).keyId, 'key-1', mode);
    srv.state.mode = mode;
    assert.equal((await remote.verify(t1, { now: NOW + 200 })).keyId, 'key-1', `${mode}: stale good set kept`);
  }
});

// ---- Issue 14: key-set trust (findings 8 and 9).

test('an answer with no usable key never replaces the good set (empty, RSA-1024, oct)', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto');
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const rsa1024 = { ...publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'RS256' };
  const oct = { kty: 'oct', kid: 'key-1', k: Buffer.alloc(32, 9).toString('base64url') };
  for (const [what, bad] of [['empty', []], ['RSA-1024', [rsa1024]], ['oct', [oct]]]) {
    const srv = await jwksServer();
    t.after(srv.close);
    const remote = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100 });
    assert.equal((await remote.verify(t1, { now: NOW })).keyId, 'key-1', what);
    srv.rotate(bad);
    // Past max-age: refetched, refused, and the stale good set keeps serving.
    assert.equal((await remote.verify(t1, { now: NOW + 200 })).keyId, 'key-1', `${what}: good set kept`);
    assert.equal(srv.state.requests, 2, `${what}: the issuer was asked`);
    // With nothing cached, such an answer is jwks_unavailable (not no_matching_key).
    const cold = new RemoteJwks(srv.url, DEV);
    await rejects(cold.verify(t1, { now: NOW }), 'jwks_unavailable', t1, `${what}: cold`);
  }
});

test('redirects from the JWKS URL are not followed', async (t) => {
  const attacker = await keyPair('key-1'); // the same kid as the good key
  const target = await jwksServer({ keys: [attacker.jwk] });
  t.after(target.close);
  const forged = await token(attacker);
  for (const status of [301, 302, 307, 308]) {
    let asked = 0;
    const server = http.createServer((req, res) => {
      asked += 1;
      req.resume();
      res.writeHead(status, { location: target.url });
      res.end();
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
    const url = `http://127.0.0.1:${server.address().port}/jwks.json`;
    const remote = new RemoteJwks(url, DEV);
    await rejects(remote.verify(forged, { now: NOW }), 'jwks_unavailable', forged, `${status}`);
    assert.equal(asked, 1, `${status}: the JWKS URL was asked`);
    assert.equal(target.state.requests, 0, `${status}: the redirect target was never contacted`);
  }
  // A custom fetch that follows redirects anyway: the followed answer is refused.
  const srv = await jwksServer();
  t.after(srv.close);
  const calls = [];
  const following = new RemoteJwks(srv.url, {
    ...DEV,
    fetch: async (url, init) => {
      calls.push(init.redirect);
      const response = await fetch(target.url, { ...init, redirect: 'follow' });
      Object.defineProperty(response, 'redirected', { value: true });
      return response;
    },
  });
  await rejects(following.verify(forged, { now: NOW }), 'jwks_unavailable', forged, 'followed anyway');
  assert.deepEqual(calls, ['manual'], 'asked not to follow');
});

test('the URL: https only; http only to loopback with devAllowHttpLoopback; never userinfo', () => {
  const refused = (url, options) =>
    assert.throws(() => new RemoteJwks(url, options), (err) => err instanceof JwtEdgeError && err.code === 'config_invalid', `${url} ${JSON.stringify(options)}`);
  const accepted = (url, options) => assert.ok(new RemoteJwks(url, options), url);
  accepted('https://issuer.example/jwks.json');
  accepted(new URL('https://issuer.example:8443/jwks.json'));
  for (const url of ['http://127.0.0.1:8788/jwks.json', 'http://localhost/jwks.json', 'http://[::1]:8788/jwks.json']) {
    refused(url); // plain http needs the dev option, even on loopback
    refused(url, { devAllowHttpLoopback: false });
    accepted(url, DEV);
  }
  for (const url of [
    'http://issuer.example/jwks.json',
    'http://127.0.0.1:1@evil.example/jwks.json',
    'http://localhost@evil.example/jwks.json',
    'http://127.0.0.1.evil.example/jwks.json',
    'http://localhost.evil.example/jwks.json',
    'https://user:pass@issuer.example/jwks.json',
    'ftp://issuer.example/jwks.json',
  ]) {
    refused(url);
    refused(url, DEV);
  }
  refused('https://issuer.example/jwks.json', { devAllowHttpLoopback: 'yes' });
});

// ---- Issue 15: one key-source state machine, the worker's defaults.

test('If-Modified-Since carries Last-Modified; a server without ETags answers 304 to it', async (t) => {
  const srv = await jwksServer({ cacheControl: 'max-age=100' });
  t.after(srv.close);
  srv.state.etags = false;
  srv.state.lastModified = 'Tue, 01 Dec 2026 00:00:00 GMT';
  const remote = new RemoteJwks(srv.url, DEV);
  await remote.verify(t1, { now: NOW });
  assert.deepEqual([srv.state.ifNoneMatch[0], srv.state.ifModifiedSince[0]], [null, null], 'nothing held: no validators');
  assert.equal((await remote.verify(t1, { now: NOW + 100 })).keyId, 'key-1');
  assert.equal(srv.state.ifModifiedSince[1], 'Tue, 01 Dec 2026 00:00:00 GMT');
  assert.equal(srv.state.ifNoneMatch[1], null, 'no ETag was given, none is sent');
  assert.equal(srv.state.notModified, 1);
  // With both validators, both are sent.
  srv.state.etags = true;
  srv.rotate([k1.jwk, k2.jwk]);
  assert.equal((await remote.verify(t2, { now: NOW + 101 })).keyId, 'key-2', 'unknown kid → refetch (200)');
  await remote.verify(t1, { now: NOW + 201 });
  assert.equal(srv.state.ifNoneMatch[3], '"v2"');
  assert.equal(srv.state.ifModifiedSince[3], 'Tue, 01 Dec 2026 00:00:00 GMT');
  assert.equal(srv.state.notModified, 2);
  assert.equal(remote.fetchCount, 4);
});

test('the failure cooldown (30 s) is its own, not cooldownSeconds', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const remote = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100, cooldownSeconds: 5, timeoutMs: 1000 });
  await remote.verify(t1, { now: NOW });
  await srv.down();
  assert.equal((await remote.verify(t1, { now: NOW + 200 })).keyId, 'key-1', 'stale set serves');
  assert.equal(remote.fetchCount, 2);
  for (const dt of [5, 10, 29]) {
    assert.equal((await remote.verify(t1, { now: NOW + 200 + dt })).keyId, 'key-1');
  }
  assert.equal(remote.fetchCount, 2, 'not asked again 5 s later: the failure cooldown is 30 s');
  await remote.verify(t1, { now: NOW + 230 });
  assert.equal(remote.fetchCount, 3);
  // And the kid cooldown is 5 s: two unknown kids 6 s apart both refetch (failing).
  const unknown = await token(k1, 'unknown');
  const other = await token(k1, 'other');
  await rejects(remote.verify(unknown, { now: NOW + 231 }), 'no_matching_key', unknown);
  await rejects(remote.verify(other, { now: NOW + 237 }), 'no_matching_key', other);
  assert.equal(remote.fetchCount, 5);
});

test('an HS256 token with an unknown kid never fetches; bad options fetch nothing', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const secret = new Uint8Array(32).fill(7);
  const remote = new RemoteJwks(srv.url, DEV);
  const hs = await new jose.SignJWT({ iat: NOW, exp: NOW + 60 })
    .setProtectedHeader({ alg: 'HS256', kid: 'hs-client' }).sign(secret);
  await rejects(remote.verify(t1, { now: NOW, algorithms: ['none'] }), 'config_invalid', t1, 'bad options');
  assert.equal(remote.fetchCount, 0, 'refused before any fetch');
  assert.equal((await remote.verify(hs, { now: NOW, secret })).algorithm, 'HS256');
  assert.equal(remote.fetchCount, 1, 'the first fetch (nothing held)');
  assert.equal((await remote.verify(hs, { now: NOW + 1, secret })).algorithm, 'HS256', 'its kid is no reason to fetch');
  const es = await token(k1, 'es-unknown');
  await rejects(remote.verify(es, { now: NOW + 2 }), 'no_matching_key', es);
  assert.equal(remote.fetchCount, 2, 'only the ES256 token\'s unknown kid refetched');
});

test('onEvent receives the key source\'s events (refused set, skipped key, every key replaced)', async (t) => {
  const srv = await jwksServer();
  t.after(srv.close);
  const events = [];
  const remote = new RemoteJwks(srv.url, { ...DEV, cacheMaxAgeSeconds: 100, onEvent: (e) => events.push(e) });
  assert.throws(() => new RemoteJwks(srv.url, { ...DEV, onEvent: 'log' }), (e) => e.code === 'config_invalid');
  await remote.verify(t1, { now: NOW });
  assert.deepEqual(events, []);
  srv.rotate([{ ...k1.jwk, d: 'AAAA' }]);
  await remote.verify(t1, { now: NOW + 100 });
  assert.deepEqual(events.splice(0), [
    { event: 'jwks_fetch_failed', code: 'jwks_invalid', problem: 'private_key_material', action: 'serving last-known-good' },
  ]);
  const oct = { kty: 'oct', kid: 'x', k: Buffer.alloc(32, 9).toString('base64url') };
  srv.rotate([oct, k2.jwk]);
  assert.equal((await remote.verify(t2, { now: NOW + 130 })).keyId, 'key-2');
  assert.deepEqual(events.splice(0), [
    { event: 'jwks_key_skipped', index: 0, reason: 'oct_not_allowed' },
    { event: 'jwks_all_keys_changed' },
  ]);
  // A failed background refresh is reported too (it never was).
  await srv.down();
  await remote.verify(t2, { now: NOW + 130 + 85 });
  await until(() => events.length === 1, 'the refresh failure');
  assert.deepEqual(events, [
    { event: 'jwks_fetch_failed', code: 'jwks_unavailable', action: 'refresh-ahead failed' },
  ]);
});
