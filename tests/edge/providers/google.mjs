// Google (Sign in with Google ID tokens), shaped after Google's published OpenID
// Provider metadata: the issuer is `https://accounts.google.com` (discovery at
// `/.well-known/openid-configuration`), the keys live on another host,
// `https://www.googleapis.com/oauth2/v3/certs` (kty, use, n, kid, alg, e; kids are 40
// hex digits), and Google's ID tokens carry `iss` either as `https://accounts.google.com`
// or as the bare `accounts.google.com` (Google's documentation says to accept both).
// An ID token has `aud` and `azp` the OAuth client id, `sub`, `email`, `email_verified`,
// `hd` for Workspace accounts, `at_hash`, `name`, `picture`.
import { createHash, randomBytes } from 'node:crypto';
import { now } from '../harness.mjs';
import { ProviderServer } from './server.mjs';

export const ACCOUNTS_HOST = 'accounts.google.com';
export const APIS_HOST = 'www.googleapis.com';
export const ISSUER = `https://${ACCOUNTS_HOST}`;
export const BARE_ISSUER = ACCOUNTS_HOST;
export const DISCOVERY_URL = `${ISSUER}/.well-known/openid-configuration`;
export const CERTS_URL = `https://${APIS_HOST}/oauth2/v3/certs`;
export const CLIENT_ID = '730412615432-3k7d9fq2vhm0c1nlr8tq5s6b4e2a9p0u.apps.googleusercontent.com';
export const CACHE_CONTROL = 'public, max-age=20339, must-revalidate, no-transform';

export function discoveryDocument() {
  return {
    issuer: ISSUER,
    authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
    device_authorization_endpoint: 'https://oauth2.googleapis.com/device/code',
    token_endpoint: 'https://oauth2.googleapis.com/token',
    userinfo_endpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
    revocation_endpoint: 'https://oauth2.googleapis.com/revoke',
    jwks_uri: CERTS_URL,
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
    code_challenge_methods_supported: ['plain', 'S256'],
    grant_types_supported: [
      'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ],
  };
}

/** The certs document: kty, use, n, kid, alg, e per key (Google's member order). */
export function jwksDocument(keys) {
  return { keys: keys.map((key) => ({ kty: 'RSA', use: 'sig', n: key.jwk.n, kid: key.kid, alg: key.alg, e: key.jwk.e })) };
}

/** A kid as Google spells them (40 hex digits). */
export const kid = () => randomBytes(20).toString('hex');

/** Claims of an ID token for CLIENT_ID, issued with `iss` (default the https spelling). */
export function idTokenClaims(extra = {}) {
  const t = now();
  return {
    iss: ISSUER,
    azp: CLIENT_ID,
    aud: CLIENT_ID,
    sub: '110248495921238986420',
    hd: 'example.com',
    email: 'alice@example.com',
    email_verified: true,
    at_hash: createHash('sha256').update(randomBytes(16)).digest().subarray(0, 16).toString('base64url'),
    name: 'Alice Example',
    picture: 'https://lh3.googleusercontent.com/a/ACg8ocK-example=s96-c',
    given_name: 'Alice',
    family_name: 'Example',
    iat: t,
    exp: t + 3600,
    ...extra,
  };
}

export const HEADER = { typ: 'JWT' };

/** accounts.google.com and www.googleapis.com on loopback servers, routed in `outbound`. */
export async function start(outbound, keys) {
  const accounts = await ProviderServer.start('google-accounts');
  const apis = await ProviderServer.start('google-apis');
  const state = { discovery: discoveryDocument(), keys: [...keys] };
  accounts.json('/.well-known/openid-configuration', () => state.discovery, { cacheControl: 'public, max-age=3600' });
  apis.json('/oauth2/v3/certs', () => jwksDocument(state.keys), { cacheControl: CACHE_CONTROL });
  outbound.route(ACCOUNTS_HOST, accounts).route(APIS_HOST, apis);
  return { accounts, apis, state };
}
