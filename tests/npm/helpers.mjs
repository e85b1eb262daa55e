// Shared by the tests of the npm package (tests/npm/*.test.mjs): where the built
// package is, and a clear failure when it has not been built.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PKG_DIR = `${ROOT}target/npm/jwt-edge`;

/**
 * The 14 algorithm names the core implements, from www/reference.js (generated from the
 * core), without `Ed25519`, a 15th, fully specified alias of EdDSA.
 */
export const ALL_ALGORITHMS = (await import(pathToFileURL(`${ROOT}www/reference.js`).href)).ALL_ALGORITHMS.filter(
  (alg) => alg !== 'Ed25519',
);

/** Imports target/npm/jwt-edge/<entry>, or fails with how to build it. */
export async function loadPackage(entry = 'node.js') {
  const file = `${PKG_DIR}/${entry}`;
  if (!existsSync(file) || !existsSync(`${PKG_DIR}/wasm/jwt_edge_bg.wasm`)) {
    throw new Error(`${file} is missing: run \`bash scripts/build-npm.sh\` first`);
  }
  return import(pathToFileURL(file).href);
}

/** Asserts `err` is a JwtEdgeError with `code`, and that its message echoes no token segment. */
/** ErrorFamily::name of the core. */
export const FAMILIES = ['request', 'token', 'key', 'signature', 'claims', 'replay', 'jwks', 'config'];

export function checkError(assert, JwtEdgeError, err, code, token, label) {
  assert.ok(err instanceof JwtEdgeError, `${label}: not a JwtEdgeError: ${err?.stack ?? err}`);
  assert.ok(err instanceof Error, `${label}: not an Error`);
  assert.equal(err.name, 'JwtEdgeError', `${label}: name`);
  assert.equal(err.code, code, `${label}: code (message: ${err.message})`);
  assert.equal(typeof err.message, 'string', `${label}: message`);
  assert.ok(err.message.length > 0, `${label}: empty message`);
  // The refused verdict of src/verdict.rs, the same object the worker and the CLI answer.
  assert.ok(FAMILIES.includes(err.family), `${label}: family ${err.family}`);
  assert.deepEqual(
    err.verdict,
    { valid: false, code, family: err.family, message: err.message },
    `${label}: verdict`,
  );
  assert.deepEqual(Object.keys(err.verdict), ['valid', 'code', 'family', 'message'], `${label}: verdict members`);
  if (typeof token === 'string') {
    for (const segment of [token, ...token.split('.')]) {
      if (segment.length >= 4) {
        assert.ok(!err.message.includes(segment), `${label}: message echoes a token segment: ${err.message}`);
      }
    }
  }
}
