// The `edge-light` entry (Vercel Edge Functions, Next.js middleware) from the packed
// tarball installed by package name: a middleware importing 'jwt-edge' is bundled by
// esbuild with the `edge-light` condition, `*.wasm?module` becoming a global the host
// compiles and injects, as Next's middleware wasm loader and sandbox do; then run in
// Vercel's edge-runtime (EdgeRuntime = @edge-runtime/vm's EdgeVM, a node:vm context with
// its own `WebAssembly`), with code generation from strings and of wasm refused as in
// production. This is a simulation of Next's sandbox: Next itself is not built here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { EdgeRuntime } from 'edge-runtime';
import { AUD, ISS, JwksServer, claimsFor, closeAll, mint, newKey, tamperPayload } from '../edge/harness.mjs';
import { entryExports, packed } from './helpers.mjs';

let pack;
let app;
let bundle;
let inputs;
/** `{ [global name]: path }` of every `*.wasm?module` the bundle imports. */
const wasmGlobals = {};

const MIDDLEWARE = `
import * as jwt from 'jwt-edge';
import { RemoteJwks, Verifier, JwtEdgeError, refusal } from 'jwt-edge';

let remote;
let verifier;

export async function middleware(request) {
  const env = globalThis.TEST_ENV;
  const url = new URL(request.url);
  if (url.pathname === '/exports') return Response.json(Object.keys(jwt).sort());
  const token = (request.headers.get('authorization') ?? '').replace(/^Bearer /, '');
  const policy = { issuer: env.issuer, audience: env.audience };
  try {
    if (url.pathname === '/static') {
      verifier ??= new Verifier({ jwks: env.jwks, ...policy });
      return Response.json(verifier.verify(token));
    }
    remote ??= new RemoteJwks(env.jwksUrl, { devAllowHttpLoopback: true });
    const verdict = await remote.verify(token, policy);
    return Response.json({ ...verdict, fetches: remote.fetchCount });
  } catch (err) {
    if (!(err instanceof JwtEdgeError)) return new Response(String(err?.stack ?? err), { status: 500 });
    const { status, headers, body } = refusal(err);
    return new Response(body, { status, headers });
  }
}

// What Next's edge adapter does with a middleware: answer each fetch event with it.
addEventListener('fetch', (event) => event.respondWith(middleware(event.request)));
`;

/** Next's middleware wasm loader: `x.wasm?module` → a global `wasm_<sha1>` the sandbox defines. */
const nextWasmLoader = {
  name: 'next-middleware-wasm-loader',
  setup(b) {
    b.onResolve({ filter: /\.wasm\?module$/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path.slice(0, -'?module'.length)),
      namespace: 'wasm-module',
    }));
    b.onLoad({ filter: /.*/, namespace: 'wasm-module' }, (args) => {
      const name = `wasm_${createHash('sha1').update(readFileSync(args.path)).digest('hex')}`;
      wasmGlobals[name] = args.path;
      return { contents: `export default globalThis[${JSON.stringify(name)}];`, loader: 'js' };
    });
  },
};

let jwks;
let key;
let env;

before(async () => {
  pack = packed('jwt-edge-edge-light-');
  app = pack.install('app');
  writeFileSync(path.join(app, 'middleware.js'), MIDDLEWARE);
  const result = await build({
    absWorkingDir: app,
    entryPoints: ['middleware.js'],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    conditions: ['edge-light'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [nextWasmLoader],
  });
  bundle = result.outputFiles[0].text;
  inputs = Object.keys(result.metafile.inputs);
  key = await newKey('ES256');
  jwks = await JwksServer.start([key]);
  env = { jwksUrl: jwks.uri, jwks: { keys: [key.jwk] }, issuer: ISS, audience: AUD };
});

after(async () => {
  await closeAll();
  pack?.close();
});

/** A runtime with the bundle evaluated; the wasm compiled in the host realm and injected. */
async function runtime(codeGeneration) {
  const compiled = {};
  for (const [name, file] of Object.entries(wasmGlobals)) compiled[name] = await WebAssembly.compile(readFileSync(file));
  const vm = new EdgeRuntime({
    ...(codeGeneration ? { codeGeneration } : {}),
    extend: (context) => Object.assign(context, compiled, { TEST_ENV: env }),
  });
  const [name] = Object.keys(compiled);
  assert.equal(vm.evaluate(`globalThis[${JSON.stringify(name)}] instanceof WebAssembly.Module`), false,
    'the injected Module is from another realm, as in Next’s sandbox');
  vm.evaluate(bundle);
  return vm;
}

async function send(vm, pathname, token) {
  const res = await vm.dispatchFetch(`https://edge.test${pathname}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  await res.waitUntil?.();
  return { status: res.status, headers: res.headers, json: JSON.parse(text), text };
}

test('esbuild with the edge-light condition bundles edge-light.js and imports the wasm with ?module', () => {
  assert.ok(inputs.includes('node_modules/jwt-edge/edge-light.js'), `inputs: ${inputs.join(' ')}`);
  for (const other of ['index.js', 'node.js', 'workerd.js', 'deno.js']) {
    assert.ok(!inputs.includes(`node_modules/jwt-edge/${other}`), `${other} is not bundled`);
  }
  assert.equal(Object.keys(wasmGlobals).length, 1);
  assert.ok(!/node:fs|readFileSync/.test(bundle));
});

for (const [label, codeGeneration] of [
  ['wasm and strings code generation refused (Vercel production)', { strings: false, wasm: false }],
  ['edge-runtime’s defaults (next dev)', undefined],
]) {
  test(`in EdgeRuntime, ${label}: accepted, tampered refused, one JWKS fetch`, async () => {
    const vm = await runtime(codeGeneration);
    assert.deepEqual((await send(vm, '/exports')).json, entryExports(), 'the same names as node.js');
    const token = await mint(key, claimsFor());
    const tampered = tamperPayload(token, (p) => {
      p.sub = 'admin';
    });

    const local = await send(vm, '/static', token);
    assert.equal(local.status, 200, local.text);
    assert.deepEqual([local.json.kid, local.json.key_source, local.json.claims.sub], [key.kid, 'local', 'user-1']);
    const refusedLocal = await send(vm, '/static', tampered);
    assert.equal(refusedLocal.status, 401);
    assert.equal(refusedLocal.json.code, 'signature_invalid');
    assert.match(refusedLocal.headers.get('www-authenticate'), /^Bearer realm="jwt-edge", error="invalid_token"/);

    const before = jwks.count;
    const sources = [];
    for (let i = 0; i < 10; i++) {
      const res = await send(vm, '/remote', await mint(key, claimsFor({ n: i })));
      assert.equal(res.status, 200, res.text);
      sources.push(res.json.key_source);
    }
    assert.deepEqual(sources, ['issuer', ...Array(9).fill('memory')]);
    assert.equal(jwks.count - before, 1, 'one JWKS fetch for 10 requests');
    const refused = await send(vm, '/remote', tampered);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.code, 'signature_invalid');
    assert.match(refused.headers.get('content-type'), /^application\/problem\+json/);
  });
}
