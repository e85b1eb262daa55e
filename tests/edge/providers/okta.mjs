// Okta, a custom authorization server (`default`) of the org `example.okta.com`, shaped
// after Okta's published authorization-server metadata: the issuer is
// `https://example.okta.com/oauth2/default`, discovery at
// `/oauth2/default/.well-known/openid-configuration` (and the OAuth form at
// `/oauth2/default/.well-known/oauth-authorization-server`), keys at
// `/oauth2/default/v1/keys` (kty, alg, kid, use, e, n). An access token has `ver` 1,
// `jti` "AT.…", `cid` (client), `uid` (user), `scp` as an array, `aud` `api://default`
// and `sub` the user's login; its header has no `typ`.
import { randomBytes } from 'node:crypto';
import { now } from '../harness.mjs';
import { ProviderServer } from './server.mjs';

export const HOST = 'example.okta.com';
export const ISSUER = `https://${HOST}/oauth2/default`;
export const DISCOVERY_URL = `${ISSUER}/.well-known/openid-configuration`;
export const OAUTH_METADATA_URL = `${ISSUER}/.well-known/oauth-authorization-server`;
export const JWKS_URL = `${ISSUER}/v1/keys`;
export const AUDIENCE = 'api://default';
export const CLIENT_ID = '0oa8f3k2n1XyZ4w5v6u7';
export const USER_ID = '00u9a8b7c6D5E4f3G2h1';
export const CACHE_CONTROL = 'max-age=86400, must-revalidate';

function metadata({ oidc }) {
  const at = (p) => `${ISSUER}${p}`;
  const doc = {
    issuer: ISSUER,
    authorization_endpoint: at('/v1/authorize'),
    token_endpoint: at('/v1/token'),
    registration_endpoint: `https://${HOST}/oauth2/v1/clients`,
    jwks_uri: JWKS_URL,
    response_types_supported: ['code', 'id_token', 'code id_token', 'code token', 'id_token token', 'code id_token token'],
    response_modes_supported: ['query', 'fragment', 'form_post', 'okta_post_message'],
    grant_types_supported: [
      'authorization_code', 'implicit', 'refresh_token', 'password', 'client_credentials',
      'urn:ietf:params:oauth:grant-type:device_code',
    ],
    subject_types_supported: ['public'],
    scopes_supported: ['items.read', 'items.write', 'openid', 'profile', 'email', 'address', 'phone', 'offline_access', 'device_sso'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
    claims_supported: [
      'ver', 'jti', 'iss', 'aud', 'iat', 'exp', 'cid', 'uid', 'scp', 'sub',
      ...(oidc ? ['name', 'preferred_username', 'email', 'email_verified', 'auth_time', 'at_hash', 'c_hash'] : []),
    ],
    code_challenge_methods_supported: ['S256'],
    introspection_endpoint: at('/v1/introspect'),
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
    revocation_endpoint: at('/v1/revoke'),
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
    end_session_endpoint: at('/v1/logout'),
    request_parameter_supported: true,
    request_object_signing_alg_values_supported: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
    device_authorization_endpoint: at('/v1/device/authorize'),
    dpop_signing_alg_values_supported: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
  };
  if (oidc) {
    doc.userinfo_endpoint = at('/v1/userinfo');
    doc.id_token_signing_alg_values_supported = ['RS256'];
  }
  return doc;
}

/** `/.well-known/openid-configuration` of the authorization server. */
export const discoveryDocument = () => metadata({ oidc: true });
/** `/.well-known/oauth-authorization-server` of the authorization server. */
export const oauthMetadataDocument = () => metadata({ oidc: false });

/** The key set: kty, alg, kid, use, e, n per key (Okta's member order). */
export function jwksDocument(keys) {
  return { keys: keys.map((key) => ({ kty: 'RSA', alg: key.alg, kid: key.kid, use: 'sig', e: key.jwk.e, n: key.jwk.n })) };
}

/** A kid as Okta spells them (43 characters of base64url). */
export const kid = () => randomBytes(32).toString('base64url');

/** Claims of an access token of the `default` server, `extra` overriding. */
export function accessClaims(extra = {}) {
  const t = now();
  return {
    ver: 1,
    jti: `AT.${randomBytes(32).toString('base64url')}`,
    iss: ISSUER,
    aud: AUDIENCE,
    iat: t,
    exp: t + 3600,
    cid: CLIENT_ID,
    uid: USER_ID,
    scp: ['openid', 'items.read'],
    auth_time: t - 60,
    sub: 'alice@example.com',
    ...extra,
  };
}

/** Okta's access-token header is alg and kid only. */
export const HEADER = {};

/** The authorization server on a loopback server, routed for HOST in `outbound`. */
export async function start(outbound, keys) {
  const server = await ProviderServer.start('okta');
  const state = { discovery: discoveryDocument(), keys: [...keys] };
  server.json('/oauth2/default/.well-known/openid-configuration', () => state.discovery, { cacheControl: CACHE_CONTROL });
  server.json('/oauth2/default/.well-known/oauth-authorization-server', oauthMetadataDocument, { cacheControl: CACHE_CONTROL });
  server.json('/oauth2/default/v1/keys', () => jwksDocument(state.keys), { cacheControl: CACHE_CONTROL });
  outbound.route(HOST, server);
  return { server, state, issuer: ISSUER };
}
