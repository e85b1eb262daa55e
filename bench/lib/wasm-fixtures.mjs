// Tokens and keys for bench/wasm-vs-jose.mjs, minted by jose (an independent library), and
// the verification options both libraries get for them: the same issuer, audience,
// algorithm allow-list and fixed `now`. Each algorithm has its own key set with its one
// public key, so neither library pays for keys it does not use.
import { randomBytes } from 'node:crypto';
import * as jose from 'jose';

export const ALGORITHMS = ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const ISSUER = 'https://issuer.bench';
const AUDIENCE = 'bench-api';
const SUBJECT = 'user-42';
/** Token lifetime in seconds; verification happens at the minting time anyway. */
const LIFETIME = 3600;

/**
 * A token for `alg` issued at `now` (Unix seconds) with iss/aud/sub/iat/exp, and its key:
 * `{ alg, token, now, sub, issuer, audience, jwks?, secret? }`. HS256 uses a random
 * 32-byte secret (a Uint8Array), every other algorithm a fresh key pair whose public JWK
 * (with kid, alg, use) is the one key of `jwks`.
 */
export async function mintFixture(alg, now) {
  const claims = new jose.SignJWT({ sub: SUBJECT })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + LIFETIME);
  const base = { alg, now, sub: SUBJECT, issuer: ISSUER, audience: AUDIENCE };
  if (alg === 'HS256') {
    const secret = new Uint8Array(randomBytes(32));
    const token = await claims.setProtectedHeader({ alg, typ: 'JWT' }).sign(secret);
    return { ...base, token, secret };
  }
  const options = alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true };
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, options);
  const kid = `bench-${alg.toLowerCase()}`;
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  const token = await claims.setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(privateKey);
  return { ...base, token, jwks: { keys: [jwk] } };
}

/** jose's key argument (the secret, or a local JWKS that caches imported keys) and options. */
export function joseArgs(f) {
  return {
    key: f.secret ?? jose.createLocalJWKSet(f.jwks),
    options: { issuer: f.issuer, audience: f.audience, algorithms: [f.alg], currentDate: new Date(f.now * 1000) },
  };
}

/** jwt-edge's options: for `new Verifier(…)` and, with `now`, for one-shot `verify(…)`. */
export function wasmOptions(f) {
  return {
    ...(f.secret ? { secret: f.secret } : { jwks: f.jwks }),
    issuer: f.issuer,
    audience: f.audience,
    algorithms: [f.alg],
    // The loops verify one token again and again: without this the Verifier would answer
    // from its verified-token cache, and the table would time a hash, not a verification.
    tokenCacheEntries: 0,
  };
}

/** The fixture as JSON for wasm-cold-child.mjs (the secret as base64url). */
export function coldFixture(f) {
  const { secret, ...rest } = f;
  return JSON.stringify({ ...rest, secret: secret ? Buffer.from(secret).toString('base64url') : undefined });
}

/** The token with one character of its signature changed: well formed, wrong signature. */
export function tamper(token) {
  const [header, payload, signature] = token.split('.');
  const i = signature.length >> 1;
  const flipped = signature[i] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, i)}${flipped}${signature.slice(i + 1)}`;
}
