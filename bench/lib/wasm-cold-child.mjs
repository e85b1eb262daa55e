// One cold start, in a fresh Node process spawned by bench/wasm-vs-jose.mjs: the time
// from just before the library is imported to the end of its first successful
// verification. Nothing but Node built-ins is loaded before the clock starts, so the
// import includes module loading and, for jwt-edge, reading, compiling and instantiating
// the wasm (node.js does that synchronously at import).
//
//   import      `import('jose')` / `import('<pkg>/node.js')`
//   first       keys + the first verification: `createLocalJWKSet` and the first
//               `jwtVerify` (jose imports the key lazily, in that call) / `new Verifier`
//               (imports the keys) and the first `verify`
//
// Internal: node bench/lib/wasm-cold-child.mjs jose|wasm PKG_DIR, with the fixture (one
// token and its keys, see wasm-fixtures.mjs `coldFixture`) as JSON in
// JWT_EDGE_BENCH_FIXTURE. Prints one JSON line; exits non-zero if verification fails.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [lib, pkgDir] = process.argv.slice(2);
const fixture = JSON.parse(process.env.JWT_EDGE_BENCH_FIXTURE ?? 'null');
if (!fixture || !['jose', 'wasm'].includes(lib) || !pkgDir) {
  throw new Error('usage: wasm-cold-child.mjs jose|wasm PKG_DIR (fixture in JWT_EDGE_BENCH_FIXTURE)');
}
// Decoded before the clock starts: it is the caller's data, not library work.
const secret = fixture.secret ? new Uint8Array(Buffer.from(fixture.secret, 'base64url')) : undefined;
const moduleUrl = lib === 'jose' ? 'jose' : pathToFileURL(`${pkgDir}/node.js`).href;

const t0 = performance.now();
const mod = await import(moduleUrl);
const t1 = performance.now();
let sub;
if (lib === 'jose') {
  const key = secret ?? mod.createLocalJWKSet(fixture.jwks);
  const { payload } = await mod.jwtVerify(fixture.token, key, {
    issuer: fixture.issuer,
    audience: fixture.audience,
    algorithms: [fixture.alg],
    currentDate: new Date(fixture.now * 1000),
  });
  sub = payload.sub;
} else {
  const verifier = new mod.Verifier({
    ...(secret ? { secret } : { jwks: fixture.jwks }),
    issuer: fixture.issuer,
    audience: fixture.audience,
    algorithms: [fixture.alg],
  });
  sub = verifier.verify(fixture.token, { now: fixture.now }).claims.sub;
}
const t2 = performance.now();
if (sub !== fixture.sub) throw new Error(`${lib} ${fixture.alg}: verified, but sub is ${sub}`);
// `startMs`: from process start to the clock starting (Node itself; the same for both).
console.log(JSON.stringify({ startMs: t0, importMs: t1 - t0, firstMs: t2 - t1, totalMs: t2 - t0 }));
