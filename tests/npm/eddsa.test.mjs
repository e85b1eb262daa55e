// EdDSA inside the wasm the package ships (issue 18): from a key's second verification on,
// the Verifier checks [s]B − [k]A = R from fixed-base tables (src/algorithms/ed25519.rs),
// so here one Verifier sees each key many times. The reference is OpenSSL, through Node's
// crypto: every genuine signature verifies, every signature with one flipped bit (in R or
// in s) and every s + ℓ (the same scalar, not canonical: RFC 8032 §5.1.7) is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { loadPackage } from './helpers.mjs';

const { Verifier, JwtEdgeError } = await loadPackage('node.js');

const NOW = 1_800_000_000;
const ISS = 'https://issuer.example';
const AUD = 'api://jwt-edge';
const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
/** ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const ELL = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

function mint(privateKey, kid, n) {
  const header = b64(JSON.stringify({ alg: 'EdDSA', kid, typ: 'JWT' }));
  const payload = b64(JSON.stringify({ iss: ISS, aud: AUD, sub: `user-${n}`, iat: NOW, exp: NOW + 600, pad: b64(randomBytes(n % 50)) }));
  const input = `${header}.${payload}`;
  return `${input}.${b64(sign(null, Buffer.from(input), privateKey))}`;
}

const withSignature = (token, sig) => `${token.split('.').slice(0, 2).join('.')}.${b64(sig)}`;
const refused = (verifier, token, label) =>
  assert.throws(
    () => verifier.verify(token, { now: NOW }),
    (err) => err instanceof JwtEdgeError && err.code === 'signature_invalid',
    label,
  );

test('EdDSA: OpenSSL signatures verify again and again with two keys; altered ones never do', () => {
  const keys = [0, 1].map((i) => ({ ...generateKeyPairSync('ed25519'), kid: `ed-${i}` }));
  const jwks = { keys: keys.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid })) };
  const verifier = new Verifier({ jwks, issuer: ISS, audience: AUD, algorithms: ['EdDSA'], tokenCacheEntries: 0 });
  for (let n = 0; n < 40; n++) {
    const key = keys[n % 2];
    const token = mint(key.privateKey, key.kid, n);
    assert.equal(verifier.verify(token, { now: NOW }).claims.sub, `user-${n}`, `token ${n}`);
    const sig = Buffer.from(token.split('.')[2], 'base64url');
    for (const bit of [n, 255 - n, 256 + n, 511 - n]) {
      const flipped = Buffer.from(sig);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      refused(verifier, withSignature(token, flipped), `token ${n}, bit ${bit}`);
    }
    // s + ℓ (below 2^253: no overflow out of 32 bytes).
    const malleable = Buffer.from(sig);
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const v = malleable[32 + i] + ELL[i] + carry;
      malleable[32 + i] = v & 0xff;
      carry = v >> 8;
    }
    refused(verifier, withSignature(token, malleable), `token ${n}, s + ℓ`);
  }
});
