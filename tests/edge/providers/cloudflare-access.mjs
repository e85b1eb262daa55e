// Cloudflare Access (team `myteam`), shaped after Cloudflare's published Access
// documentation: the issuer is `https://myteam.cloudflareaccess.com`, the keys at
// `/cdn-cgi/access/certs` in a document that holds, besides `keys` (kid, kty, alg, use,
// e, n; two keys), `public_cert` (the current key's certificate, `{kid, cert}` with a
// PEM) and `public_certs` (all of them). There is no discovery document to rely on. The
// application token arrives in the `Cf-Access-Jwt-Assertion` header (and the
// `CF_Authorization` cookie); it has `aud` an array with the application's AUD tag (64
// hex digits), `email`, `type: "app"`, `identity_nonce`, `country`, `sub`, `nbf`.
import { randomBytes, randomUUID } from 'node:crypto';
import { now } from '../harness.mjs';
import { ProviderServer } from './server.mjs';
import { certificateOf } from './x509.mjs';

export const TEAM_DOMAIN = 'myteam.cloudflareaccess.com';
export const ISSUER = `https://${TEAM_DOMAIN}`;
export const CERTS_URL = `${ISSUER}/cdn-cgi/access/certs`;
/** The protected application's AUD tag, and another application's of the same team. */
export const AUD = '5d2e8a1f9c4b7e3a6d0f2b8c1e9a4d7f3b6c0e2a8d5f1b9c4e7a3d6f0b2c8e1a';
export const OTHER_AUD = 'b7f1c3e9a5d2f8b4c0e6a2d9f5b1c7e3a0d6f2b8c4e9a1d5f7b3c0e8a4d2f6b9';
export const HEADER_NAME = 'Cf-Access-Jwt-Assertion';
export const COOKIE_NAME = 'CF_Authorization';

/** The certs document: keys, public_cert (the first key's) and public_certs. */
export function certsDocument(keys) {
  const certs = keys.map((key) => ({ kid: key.kid, cert: certificateOf(key, TEAM_DOMAIN).pem }));
  return {
    keys: keys.map((key) => {
      const { kty } = key.jwk;
      const members = kty === 'RSA' ? { e: key.jwk.e, n: key.jwk.n } : { crv: key.jwk.crv, x: key.jwk.x, y: key.jwk.y };
      return { kid: key.kid, kty, alg: key.alg, use: 'sig', ...members };
    }),
    public_cert: certs[0],
    public_certs: certs,
  };
}

/** A kid as Access spells them (64 hex digits). */
export const kid = () => randomBytes(32).toString('hex');

/** Claims of an application token for `aud` (default the protected application's). */
export function appClaims(aud = AUD, extra = {}) {
  const t = now();
  return {
    aud: [aud],
    email: 'alice@example.com',
    exp: t + 86_400,
    iat: t,
    nbf: t,
    iss: ISSUER,
    type: 'app',
    identity_nonce: randomBytes(12).toString('base64url'),
    sub: randomUUID(),
    country: 'US',
    jti: undefined,
    ...extra,
  };
}

/** Access's token header: alg, kid, typ "JWT". */
export const HEADER = { typ: 'JWT' };

/** The team domain on a loopback server, routed in `outbound`. */
export async function start(outbound, keys) {
  const server = await ProviderServer.start('cloudflare-access');
  const state = { keys: [...keys] };
  server.json('/cdn-cgi/access/certs', () => certsDocument(state.keys), { cacheControl: 'max-age=3600' });
  outbound.route(TEAM_DOMAIN, server);
  return { server, state, issuer: ISSUER };
}
