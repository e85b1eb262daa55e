// RSA verification inside the wasm the package ships (issue 18, lever 4): the Montgomery
// products there run on the WebAssembly SIMD loop (`Column::add_dot` under simd128), which
// the native tests of src/algorithms/rsa_public.rs never execute. So here the reference is
// OpenSSL, through Node's crypto: keys of every limb-count shape (2048 to 4096 bits,
// lengths that leave 1, 2 or 3 limbs past a group of four, a modulus length that is not a
// whole number of 32-bit limbs) and public exponents 65537 and 3, each signing RS256,
// RS512 and PS256 tokens. Every genuine signature must verify and every signature with
// one flipped bit must be refused: an arithmetic slip in any column would break one or
// the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { wasmTargetFeatures } from '../edge/harness.mjs';
import { PKG_DIR, loadPackage } from './helpers.mjs';

const { Verifier, JwtEdgeError } = await loadPackage('node.js');

const NOW = 1_800_000_000;
const ISS = 'https://issuer.example';
const AUD = 'api://jwt-edge';
const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
const HASH = { RS256: 'sha256', RS512: 'sha512', PS256: 'sha256' };

/** A compact JWS signed by OpenSSL (Node's crypto), not by any code of this project. */
function mint(alg, privateKey, kid, n) {
  const header = b64(JSON.stringify({ alg, kid, typ: 'JWT' }));
  const payload = b64(JSON.stringify({ iss: ISS, aud: AUD, sub: `user-${n}`, iat: NOW, exp: NOW + 600, n: b64(randomBytes(n % 40)) }));
  const input = `${header}.${payload}`;
  const key = alg.startsWith('PS')
    ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    : privateKey;
  return `${input}.${b64(sign(HASH[alg], Buffer.from(input), key))}`;
}

function flipBit(token, bit) {
  const [h, p, s] = token.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[Math.floor(bit / 8) % sig.length] ^= 1 << (bit % 8);
  return `${h}.${p}.${b64(sig)}`;
}

// 2048 = 64 limbs (16 groups of four), 2080 = 65, 2112 = 66, 2144 = 67, 3000 = 94 limbs with
// the top one partly used, 4096 = 128.
const SIZES = [2048, 2080, 2112, 2144, 3000, 4096];

for (const bits of SIZES) {
  for (const exponent of [65537, 3]) {
    test(`RSA ${bits}-bit modulus, e = ${exponent}: OpenSSL signatures verify, flipped bits are refused`, () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: exponent });
      const kid = `rsa-${bits}-${exponent}`;
      const jwk = { ...publicKey.export({ format: 'jwk' }), kid };
      for (const alg of ['RS256', 'RS512', 'PS256']) {
        const verifier = new Verifier({
          jwks: { keys: [jwk] },
          issuer: ISS,
          audience: AUD,
          algorithms: [alg],
          tokenCacheEntries: 0,
        });
        for (let n = 0; n < 6; n++) {
          const token = mint(alg, privateKey, kid, n);
          const verdict = verifier.verify(token, { now: NOW });
          assert.equal(verdict.claims.sub, `user-${n}`, `${alg} token ${n}`);
          for (const bit of [0, 7, 8 * n + 3, bits - 1, bits - 9, (bits * (n + 1)) % bits]) {
            assert.throws(
              () => verifier.verify(flipBit(token, bit), { now: NOW }),
              (err) => err instanceof JwtEdgeError && err.code === 'signature_invalid',
              `${alg} token ${n}, bit ${bit} flipped`,
            );
          }
        }
      }
    });
  }
}

// The loop above is the SIMD one only if the package's wasm was built with simd128
// (.cargo/config.toml); a build without it would pass every check here, 1.3× slower.
test('the package wasm is built with WebAssembly SIMD (its target_features section lists +simd128)', () => {
  const features = wasmTargetFeatures(readFileSync(`${PKG_DIR}/wasm/jwt_edge_bg.wasm`));
  assert.ok(features.includes('+simd128'), `target_features: ${features.join(' ')}`);
});
