// Auth0 (tenant domain `example-tenant.us.auth0.com`), shaped after Auth0's published
// tenant metadata: the issuer ends with a slash, discovery at
// `/.well-known/openid-configuration`, keys at `/.well-known/jwks.json` with `x5c` and
// `x5t` (a certificate per key), two keys published (current and next). An access token
// for an API has `aud` [API identifier, the tenant's /userinfo], `azp` (the client),
// `scope` and, with RBAC's "Add Permissions in the Access Token", `permissions`.
import { randomBytes } from 'node:crypto';
import { now } from '../harness.mjs';
import { ProviderServer } from './server.mjs';
import { certificateOf } from './x509.mjs';

export const HOST = 'example-tenant.us.auth0.com';
export const ISSUER = `https://${HOST}/`;
export const DISCOVERY_URL = `https://${HOST}/.well-known/openid-configuration`;
export const JWKS_URL = `https://${HOST}/.well-known/jwks.json`;
/** The API's identifier (the audience an access token for it carries). */
export const API = 'https://api.example.com';
export const USERINFO = `https://${HOST}/userinfo`;
export const CLIENT_ID = 'q8VfT2nLx0cR4mW7yK1pZ5sH9jD3bG6e';
/** Auth0 answers its metadata and keys with this Cache-Control. */
export const CACHE_CONTROL = 'public, max-age=15, stale-while-revalidate=15, stale-if-error=86400';

/** The tenant's OpenID Provider metadata, members as Auth0 publishes them. */
export function discoveryDocument() {
  const at = (p) => `https://${HOST}${p}`;
  return {
    issuer: ISSUER,
    authorization_endpoint: at('/authorize'),
    token_endpoint: at('/oauth/token'),
    device_authorization_endpoint: at('/oauth/device/code'),
    userinfo_endpoint: at('/userinfo'),
    mfa_challenge_endpoint: at('/mfa/challenge'),
    jwks_uri: JWKS_URL,
    registration_endpoint: at('/oidc/register'),
    revocation_endpoint: at('/oauth/revoke'),
    scopes_supported: [
      'openid', 'profile', 'offline_access', 'name', 'given_name', 'family_name', 'nickname', 'email',
      'email_verified', 'picture', 'created_at', 'identities', 'phone', 'address',
    ],
    response_types_supported: [
      'code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token',
    ],
    code_challenge_methods_supported: ['S256', 'plain'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['public'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    claims_supported: [
      'aud', 'auth_time', 'created_at', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat',
      'identities', 'iss', 'name', 'nickname', 'phone_number', 'picture', 'sub',
    ],
    request_uri_parameter_supported: false,
    request_parameter_supported: false,
    id_token_signing_alg_values_supported: ['HS256', 'RS256', 'PS256'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'PS256'],
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    end_session_endpoint: at('/oidc/logout'),
  };
}

/** The key set: per RSA key kty, use, n, e, kid, x5t, x5c, alg (Auth0's member order). */
export function jwksDocument(keys) {
  return {
    keys: keys.map((key) => {
      const cert = certificateOf(key, HOST);
      const { kty, n, e } = key.jwk;
      return { kty, use: 'sig', n, e, kid: key.kid, x5t: cert.x5t, x5c: cert.x5c, alg: key.alg };
    }),
  };
}

/** A kid as Auth0 spells them (22 characters of base64url). */
export const kid = () => randomBytes(16).toString('base64url').slice(0, 22);

/** Claims of an access token for API (user `auth0|…`), `extra` overriding. */
export function accessClaims(extra = {}) {
  const t = now();
  return {
    iss: ISSUER,
    sub: 'auth0|64f1c2a9b8d7e6f5a4b3c2d1',
    aud: [API, USERINFO],
    iat: t,
    exp: t + 86_400,
    scope: 'openid profile email read:items',
    azp: CLIENT_ID,
    permissions: ['read:items'],
    ...extra,
  };
}

/** The token header Auth0 writes (mint adds alg and kid). */
export const HEADER = { typ: 'JWT' };

/**
 * The tenant on a loopback server, routed for HOST in `outbound`. `state.discovery` and
 * `state.keys` are read on every request (change them to change what is served).
 */
export async function start(outbound, keys) {
  const server = await ProviderServer.start('auth0');
  const state = { discovery: discoveryDocument(), keys: [...keys] };
  server.json('/.well-known/openid-configuration', () => state.discovery, { cacheControl: CACHE_CONTROL });
  server.json('/.well-known/jwks.json', () => jwksDocument(state.keys), { cacheControl: CACHE_CONTROL });
  outbound.route(HOST, server);
  return { server, state, issuer: ISSUER };
}
