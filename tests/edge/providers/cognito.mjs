// Amazon Cognito user pool `us-east-1_Example`, shaped after AWS's published user-pool
// metadata: the issuer is `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example`,
// discovery at `{issuer}/.well-known/openid-configuration` (endpoints on the pool's
// hosted-UI domain), keys at `{issuer}/.well-known/jwks.json` (alg, e, kid, kty, n, use;
// two keys: one signs ID tokens, the other access tokens). An access token has
// `token_use: "access"`, `client_id` and *no `aud`*, `scope` as a string, `username`,
// `cognito:groups`, `version` 2, `origin_jti`, `event_id`; an ID token has
// `token_use: "id"`, `aud` (the client id), `cognito:username`, `email`.
import { randomBytes, randomUUID } from 'node:crypto';
import { now } from '../harness.mjs';
import { ProviderServer } from './server.mjs';

export const REGION = 'us-east-1';
export const POOL_ID = 'us-east-1_Example';
export const HOST = `cognito-idp.${REGION}.amazonaws.com`;
export const ISSUER = `https://${HOST}/${POOL_ID}`;
export const DISCOVERY_URL = `${ISSUER}/.well-known/openid-configuration`;
export const JWKS_URL = `${ISSUER}/.well-known/jwks.json`;
/** The pool's hosted-UI domain (where the OAuth endpoints live). */
export const DOMAIN = `https://example-auth.auth.${REGION}.amazoncognito.com`;
/** The two app clients the API accepts, and an app client of the same pool it does not. */
export const APP_CLIENT_WEB = '3n4b5urk1ft4fl3mg5e62d9ado';
export const APP_CLIENT_MOBILE = '6q2hv0s8k4m1c7j9t3r5e0b2ld';
export const APP_CLIENT_OTHER = '1a9z8y7x6w5v4u3t2s1r0q9p8o';
export const SUB = '94a8c4e8-1071-70e5-2b9c-4f3d2e1a0b9c';

export function discoveryDocument() {
  return {
    authorization_endpoint: `${DOMAIN}/oauth2/authorize`,
    end_session_endpoint: `${DOMAIN}/logout`,
    id_token_signing_alg_values_supported: ['RS256'],
    issuer: ISSUER,
    jwks_uri: JWKS_URL,
    response_types_supported: ['code', 'token'],
    revocation_endpoint: `${DOMAIN}/oauth2/revoke`,
    scopes_supported: ['openid', 'email', 'phone', 'profile'],
    subject_types_supported: ['public'],
    token_endpoint: `${DOMAIN}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    userinfo_endpoint: `${DOMAIN}/oauth2/userInfo`,
  };
}

/** The pool's key set: alg, e, kid, kty, n, use per key (AWS's member order). */
export function jwksDocument(keys) {
  return { keys: keys.map((key) => ({ alg: key.alg, e: key.jwk.e, kid: key.kid, kty: 'RSA', n: key.jwk.n, use: 'sig' })) };
}

/** A kid as Cognito spells them (base64 of a SHA-256, with `+`, `/` and `=`). */
export const kid = () => randomBytes(32).toString('base64');

/** Claims of an access token issued to `clientId`. */
export function accessClaims(clientId = APP_CLIENT_WEB, extra = {}) {
  const t = now();
  return {
    sub: SUB,
    'cognito:groups': ['admins', 'readers'],
    iss: ISSUER,
    version: 2,
    client_id: clientId,
    origin_jti: randomUUID(),
    event_id: randomUUID(),
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin openid profile email',
    auth_time: t - 10,
    exp: t + 3600,
    iat: t,
    jti: randomUUID(),
    username: 'alice',
    ...extra,
  };
}

/** Claims of an ID token issued to `clientId` (the same user). */
export function idClaims(clientId = APP_CLIENT_WEB, extra = {}) {
  const t = now();
  return {
    sub: SUB,
    'cognito:groups': ['admins', 'readers'],
    email_verified: true,
    iss: ISSUER,
    'cognito:username': 'alice',
    origin_jti: randomUUID(),
    aud: clientId,
    event_id: randomUUID(),
    token_use: 'id',
    auth_time: t - 10,
    exp: t + 3600,
    iat: t,
    jti: randomUUID(),
    email: 'alice@example.com',
    ...extra,
  };
}

/** Cognito's token header is kid and alg only. */
export const HEADER = {};

/** The pool on a loopback server, routed for HOST in `outbound`. `keys`: { id, access }. */
export async function start(outbound, keys) {
  const server = await ProviderServer.start('cognito');
  const state = { discovery: discoveryDocument(), keys: [keys.id, keys.access] };
  server.json(`/${POOL_ID}/.well-known/openid-configuration`, () => state.discovery);
  server.json(`/${POOL_ID}/.well-known/jwks.json`, () => jwksDocument(state.keys));
  outbound.route(HOST, server);
  return { server, state, issuer: ISSUER };
}
