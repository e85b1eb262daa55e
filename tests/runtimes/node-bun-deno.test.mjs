// The packed tarball installed by package name into a scratch project, then one small
// script importing 'jwt-edge' run by Node 22, Bun and Deno (the binaries of the `bun`
// and `deno` npm packages in node_modules/.bin): each runtime resolves its own `exports`
// condition (node → node.js, bun → node.js, deno → deno.js), verifies a jose token
// with `verify`, a `Verifier` and a `RemoteJwks` (a JWKS server on 127.0.0.1), and
// refuses a tampered one with its code. Deno runs with no permission but the network
// to that one server: deno.js reads no file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AUD, ISS, JwksServer, claimsFor, closeAll, mint, newKey, tamperPayload } from '../edge/harness.mjs';
import { BIN, entryExports, packed, runAsync } from './helpers.mjs';

const CONDITIONS = ['types', 'workerd', 'worker', 'edge-light', 'deno', 'bun', 'node', 'browser', 'default'];
const ENTRIES = ['index.js', 'node.js', 'workerd.js', 'edge-light.js', 'deno.js'];

let pack;
let app;
let jwks;
let input;

const CHECK = `
import * as jwt from 'jwt-edge';

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const { jwks, token, tampered, jwksUrl, issuer, audience } = JSON.parse(args[0]);
const runtime = globalThis.Deno ? 'deno ' + Deno.version.deno
  : globalThis.Bun ? 'bun ' + Bun.version : 'node ' + process.versions.node;
const codeOf = async (fn) => {
  try {
    await fn();
    return 'accepted';
  } catch (err) {
    return err instanceof jwt.JwtEdgeError ? err.code : 'not a JwtEdgeError: ' + err;
  }
};
const policy = { issuer, audience };
const verified = jwt.verify(token, { jwks, ...policy });
const verifier = new jwt.Verifier({ jwks, ...policy });
const remote = new jwt.RemoteJwks(jwksUrl, { devAllowHttpLoopback: true });
const sources = [];
for (let i = 0; i < 5; i++) sources.push((await remote.verify(token, policy)).key_source);
console.log(JSON.stringify({
  runtime,
  resolved: import.meta.resolve('jwt-edge'),
  exports: Object.keys(jwt).sort(),
  sub: verified.claims.sub,
  alg: verified.alg,
  verifier: verifier.verify(token).kid,
  tampered: await codeOf(() => jwt.verify(tampered, { jwks, ...policy })),
  verifierTampered: await codeOf(() => verifier.verify(tampered)),
  sources,
  remoteTampered: await codeOf(() => remote.verify(tampered, policy)),
  fetches: remote.fetchCount,
  decoded: jwt.decodeUnverified(token).payload.sub,
}));
`;

before(async () => {
  pack = packed('jwt-edge-node-bun-deno-');
  app = pack.install('app');
  writeFileSync(path.join(app, 'check.mjs'), CHECK);
  const key = await newKey('ES256');
  jwks = await JwksServer.start([key]);
  const token = await mint(key, claimsFor());
  input = JSON.stringify({
    jwks: { keys: [key.jwk] },
    token,
    tampered: tamperPayload(token, (p) => {
      p.sub = 'admin';
    }),
    jwksUrl: jwks.uri,
    issuer: ISS,
    audience: AUD,
  });
});

after(async () => {
  await closeAll();
  pack?.close();
});

test('the installed manifest lists every runtime condition, in order, and every entry exports makeApi’s names', async () => {
  const installed = path.join(app, 'node_modules/jwt-edge');
  const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
  assert.deepEqual(Object.keys(pkg.exports['.']), CONDITIONS);
  assert.equal(pkg.exports['.'].worker, pkg.exports['.'].workerd, 'worker and workerd share an entry');
  assert.equal(pkg.exports['.'].bun, './node.js');
  // makeApi's answer, made here with the installed wasm, is what every entry exports.
  const wasm = await import(pathToFileURL(path.join(installed, 'wasm/jwt_edge.js')).href);
  wasm.initSync({ module: readFileSync(path.join(installed, 'wasm/jwt_edge_bg.wasm')) });
  const { makeApi } = await import(pathToFileURL(path.join(installed, 'api.js')).href);
  const names = Object.keys(makeApi(wasm)).sort();
  for (const entry of ENTRIES) {
    assert.deepEqual(entryExports(path.join(installed, entry)), names, `${entry} exports exactly makeApi’s names`);
  }
});

/** Runs check.mjs in a runtime; returns its JSON line. */
async function check(file, args, env = {}) {
  const res = await runAsync(file, [...args, input], {
    cwd: app,
    timeout: 30_000,
    env: { DENO_DIR: path.join(pack.dir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...env },
  });
  assert.equal(res.status, 0, `${path.basename(file)} exited ${res.status} (signal ${res.signal}):\n${res.stdout}\n${res.stderr}`);
  const line = res.stdout.trim().split('\n').at(-1);
  return JSON.parse(line);
}

function expectVerified(out, entry) {
  assert.match(out.resolved, new RegExp(`/node_modules/jwt-edge/${entry.replace('.', '\\.')}$`), `${out.runtime} resolves ${entry}`);
  assert.deepEqual(out.exports, entryExports(), `${out.runtime}: the same names as node.js`);
  assert.equal(out.sub, 'user-1');
  assert.equal(out.alg, 'ES256');
  assert.ok(out.verifier);
  assert.equal(out.tampered, 'signature_invalid');
  assert.equal(out.verifierTampered, 'signature_invalid');
  assert.deepEqual(out.sources, ['issuer', 'memory', 'memory', 'memory', 'memory']);
  assert.equal(out.remoteTampered, 'signature_invalid');
  assert.equal(out.fetches, 1, 'one JWKS fetch');
  assert.equal(out.decoded, 'user-1');
}

test('Node 22 (condition node → node.js)', async () => {
  const before = jwks.count;
  const out = await check(path.join(BIN, 'node'), ['check.mjs']);
  assert.match(out.runtime, /^node 22\./);
  expectVerified(out, 'node.js');
  assert.equal(jwks.count - before, 1);
});

test('Bun (condition bun → node.js)', async () => {
  const before = jwks.count;
  const out = await check(path.join(BIN, 'bun'), ['check.mjs'], { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' });
  assert.match(out.runtime, /^bun \d/);
  expectVerified(out, 'node.js');
  assert.equal(jwks.count - before, 1);
});

test('Deno (condition deno → deno.js), with no permission but the JWKS server’s address', async () => {
  const before = jwks.count;
  const host = new URL(jwks.uri).host;
  const out = await check(path.join(BIN, 'deno'), ['run', '--no-prompt', '--no-lock', `--allow-net=${host}`, 'check.mjs']);
  assert.match(out.runtime, /^deno \d/);
  expectVerified(out, 'deno.js');
  assert.equal(jwks.count - before, 1);
});
