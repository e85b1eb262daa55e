// Keycloak (realm `acme` on `sso.example.com`), shaped after Keycloak's published realm
// metadata: the issuer is `https://sso.example.com/realms/acme`, discovery at
// `/realms/acme/.well-known/openid-configuration` (with `mtls_endpoint_aliases` and the
// rest), keys at `/realms/acme/protocol/openid-connect/certs`. A realm publishes its
// RS256 signing key next to an RSA-OAEP key with `"use": "enc"` (for encrypted tokens
// and request objects), each with kid, kty, alg, use, n, e, x5c, x5t, x5t#S256. An access
// token has `typ: "Bearer"` *as a claim* (the header's typ is "JWT"), `aud` "account"
// (the realm's account client, without an audience mapper), `azp` (the client),
// `realm_access.roles`, `resource_access.{client}.roles`, `scope`, `sid`, `acr`.
import { randomUUID } from 'node:crypto';
import { now } from '../harness.mjs';
import { ProviderServer } from './server.mjs';
import { certificateOf } from './x509.mjs';

export const HOST = 'sso.example.com';
export const REALM = 'acme';
export const ISSUER = `https://${HOST}/realms/${REALM}`;
export const DISCOVERY_URL = `${ISSUER}/.well-known/openid-configuration`;
export const JWKS_URL = `${ISSUER}/protocol/openid-connect/certs`;
export const CLIENT_ID = 'acme-web';
export const AUDIENCE = 'account';

export function discoveryDocument() {
  const oidc = (p) => `${ISSUER}/protocol/openid-connect${p}`;
  return {
    issuer: ISSUER,
    authorization_endpoint: oidc('/auth'),
    token_endpoint: oidc('/token'),
    introspection_endpoint: oidc('/token/introspect'),
    userinfo_endpoint: oidc('/userinfo'),
    end_session_endpoint: oidc('/logout'),
    frontchannel_logout_session_supported: true,
    frontchannel_logout_supported: true,
    jwks_uri: JWKS_URL,
    check_session_iframe: oidc('/login-status-iframe.html'),
    grant_types_supported: [
      'authorization_code', 'client_credentials', 'implicit', 'password', 'refresh_token',
      'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:uma-ticket', 'urn:openid:params:grant-type:ciba',
    ],
    acr_values_supported: ['0', '1'],
    response_types_supported: ['code', 'none', 'id_token', 'token', 'id_token token', 'code id_token', 'code token', 'code id_token token'],
    subject_types_supported: ['public', 'pairwise'],
    prompt_values_supported: ['none', 'login', 'consent'],
    id_token_signing_alg_values_supported: ['PS384', 'RS384', 'EdDSA', 'ES384', 'HS256', 'HS512', 'ES256', 'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512'],
    id_token_encryption_alg_values_supported: ['ECDH-ES+A256KW', 'ECDH-ES+A192KW', 'ECDH-ES+A128KW', 'RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5', 'ECDH-ES'],
    id_token_encryption_enc_values_supported: ['A256GCM', 'A192GCM', 'A128GCM', 'A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512'],
    userinfo_signing_alg_values_supported: ['PS384', 'RS384', 'EdDSA', 'ES384', 'HS256', 'HS512', 'ES256', 'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512', 'none'],
    request_object_signing_alg_values_supported: ['PS384', 'RS384', 'EdDSA', 'ES384', 'HS256', 'HS512', 'ES256', 'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512', 'none'],
    response_modes_supported: ['query', 'fragment', 'form_post', 'query.jwt', 'fragment.jwt', 'form_post.jwt', 'jwt'],
    registration_endpoint: `${ISSUER}/clients-registrations/openid-connect`,
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'tls_client_auth', 'client_secret_jwt'],
    claims_supported: ['aud', 'sub', 'iss', 'auth_time', 'name', 'given_name', 'family_name', 'preferred_username', 'email', 'acr'],
    claim_types_supported: ['normal'],
    claims_parameter_supported: true,
    scopes_supported: ['openid', 'microprofile-jwt', 'web-origins', 'roles', 'phone', 'address', 'basic', 'email', 'profile', 'acr', 'offline_access', 'organization'],
    request_parameter_supported: true,
    request_uri_parameter_supported: true,
    require_request_uri_registration: true,
    code_challenge_methods_supported: ['plain', 'S256'],
    tls_client_certificate_bound_access_tokens: true,
    revocation_endpoint: oidc('/revoke'),
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    device_authorization_endpoint: oidc('/auth/device'),
    backchannel_token_delivery_modes_supported: ['poll', 'ping'],
    backchannel_authentication_endpoint: oidc('/ext/ciba/auth'),
    require_pushed_authorization_requests: false,
    pushed_authorization_request_endpoint: oidc('/ext/par/request'),
    mtls_endpoint_aliases: {
      token_endpoint: oidc('/token'),
      revocation_endpoint: oidc('/revoke'),
      introspection_endpoint: oidc('/token/introspect'),
      device_authorization_endpoint: oidc('/auth/device'),
      registration_endpoint: `${ISSUER}/clients-registrations/openid-connect`,
      userinfo_endpoint: oidc('/userinfo'),
      pushed_authorization_request_endpoint: oidc('/ext/par/request'),
      backchannel_authentication_endpoint: oidc('/ext/ciba/auth'),
    },
    authorization_response_iss_parameter_supported: true,
  };
}

/** One published key, Keycloak's members and order, published for `use` with `alg`. */
function published(key, { use, alg }) {
  const cert = certificateOf(key, REALM);
  return { kid: key.kid, kty: 'RSA', alg, use, n: key.jwk.n, e: key.jwk.e, x5c: cert.x5c, x5t: cert.x5t, 'x5t#S256': cert.x5tS256 };
}

/**
 * The realm's certs: the encryption key first (as Keycloak lists them), then the signing
 * key. `encryption` is an RSA key pair from newKey (any RSA key), published as RSA-OAEP.
 */
export function jwksDocument({ signing, encryption }) {
  return {
    keys: [
      ...(encryption ? [published(encryption, { use: 'enc', alg: 'RSA-OAEP' })] : []),
      ...[signing].flat().map((key) => published(key, { use: 'sig', alg: key.alg })),
    ],
  };
}

/** A kid as Keycloak spells them (43 characters, base64url of a SHA-256). */
export const kid = () => Buffer.from(randomUUID() + randomUUID()).toString('base64url').slice(0, 43);

/** Claims of an access token for `roles` (realm roles added to Keycloak's defaults). */
export function accessClaims(roles = [], extra = {}) {
  const t = now();
  return {
    exp: t + 300,
    iat: t,
    auth_time: t - 5,
    jti: `onrtac:${randomUUID()}`,
    iss: ISSUER,
    aud: AUDIENCE,
    sub: '8d2f64a1-3c5b-4e7d-9f10-2a4b6c8d0e1f',
    typ: 'Bearer',
    azp: CLIENT_ID,
    sid: randomUUID(),
    acr: '1',
    'allowed-origins': ['https://app.example.com'],
    realm_access: { roles: ['default-roles-acme', 'offline_access', 'uma_authorization', ...roles] },
    resource_access: { account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] } },
    scope: 'openid email profile',
    email_verified: true,
    name: 'Alice Example',
    preferred_username: 'alice',
    given_name: 'Alice',
    family_name: 'Example',
    email: 'alice@example.com',
    ...extra,
  };
}

export const HEADER = { typ: 'JWT' };

/** The realm on a loopback server, routed for HOST in `outbound`. `keys`: { signing, encryption }. */
export async function start(outbound, keys) {
  const server = await ProviderServer.start('keycloak');
  const state = { discovery: discoveryDocument(), keys };
  server.json(`/realms/${REALM}/.well-known/openid-configuration`, () => state.discovery);
  server.json(`/realms/${REALM}/protocol/openid-connect/certs`, () => jwksDocument(state.keys), { cacheControl: 'no-cache' });
  outbound.route(HOST, server);
  return { server, state, issuer: ISSUER };
}
