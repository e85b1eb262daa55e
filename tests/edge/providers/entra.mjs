// Microsoft Entra ID (v2.0 endpoints of `login.microsoftonline.com`), shaped after
// Microsoft's published tenant metadata: per tenant, the issuer
// `https://login.microsoftonline.com/{tenant}/v2.0`, discovery at
// `/{tenant}/v2.0/.well-known/openid-configuration`, keys at
// `/{tenant}/discovery/v2.0/keys`. The keys are the same for every tenant (Entra signs
// for all tenants of the cloud with one set); each key has kty, use, kid (its x5t),
// x5t, n, e, x5c, `cloud_instance_name` and `issuer` (the `{tenantid}` template), and no
// `alg`. A v2.0 access token has `aud` the API's client id (a GUID), `tid`, `oid`,
// `roles`, `scp` (a space-separated string), `ver` "2.0", `uti`, `rh`, `aio`, no `jti`;
// a v1.0 one is issued by `https://sts.windows.net/{tenant}/`.
import { randomBytes, randomUUID } from 'node:crypto';
import { newKey, now } from '../harness.mjs';
import { ProviderServer } from './server.mjs';
import { certificateOf } from './x509.mjs';

export const HOST = 'login.microsoftonline.com';
/** Two tenants the API trusts, and a third one (a real tenant, but not configured). */
export const TENANT_A = '3f6c2a1e-8b4d-4e7a-9c15-2d0b7e6f4a81';
export const TENANT_B = 'a92d5e17-0c3b-46f8-b1e4-7f9a2c8d3e60';
export const TENANT_OTHER = 'c1e0f4b8-5a7d-4923-8e6f-0b1a2c3d4e5f';
export const TENANTS = [TENANT_A, TENANT_B, TENANT_OTHER];
/** The API's application (client) id: the `aud` of v2.0 access tokens for it. */
export const API_CLIENT_ID = '6e8c1f2a-9b4d-4c7e-a3f5-1d2b0c9e8f7a';
/** The calling application's client id (`azp`). */
export const CALLER_CLIENT_ID = 'd4b3a291-7e6f-4c5d-8b9a-0f1e2d3c4b5a';
export const CACHE_CONTROL = 'max-age=86400, private';

export const issuer = (tenant) => `https://${HOST}/${tenant}/v2.0`;
export const v1Issuer = (tenant) => `https://sts.windows.net/${tenant}/`;
export const discoveryUrl = (tenant) => `https://${HOST}/${tenant}/v2.0/.well-known/openid-configuration`;
export const jwksUrl = (tenant) => `https://${HOST}/${tenant}/discovery/v2.0/keys`;

/** A tenant's v2.0 OpenID Provider metadata, members as Microsoft publishes them. */
export function discoveryDocument(tenant) {
  const at = (p) => `https://${HOST}/${tenant}${p}`;
  return {
    token_endpoint: at('/oauth2/v2.0/token'),
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: jwksUrl(tenant),
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: issuer(tenant),
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    authorization_endpoint: at('/oauth2/v2.0/authorize'),
    device_authorization_endpoint: at('/oauth2/v2.0/devicecode'),
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: at('/oauth2/v2.0/logout'),
    claims_supported: [
      'sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud',
      'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email',
    ],
    kerberos_endpoint: at('/kerberos'),
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/** The key set (the same for every tenant): Microsoft's members, no `alg`. */
export function jwksDocument(keys) {
  return {
    keys: keys.map((key) => {
      const cert = certificateOf(key, 'accounts.accesscontrol.windows.net');
      return {
        kty: 'RSA',
        use: 'sig',
        kid: key.kid,
        x5t: cert.x5t,
        n: key.jwk.n,
        e: key.jwk.e,
        x5c: cert.x5c,
        cloud_instance_name: 'microsoftonline.com',
        issuer: `https://${HOST}/{tenantid}/v2.0`,
      };
    }),
  };
}

/** An RS256 key whose kid is its certificate's x5t, as Entra names its keys. */
export async function entraKey() {
  const key = await newKey('RS256', 'pending');
  const { x5t } = certificateOf(key, 'accounts.accesscontrol.windows.net');
  key.kid = x5t;
  key.jwk = { ...key.jwk, kid: x5t };
  return key;
}

/** Claims of a v2.0 access token for the API, issued in `tenant`, `extra` overriding. */
export function accessClaims(tenant, extra = {}) {
  const t = now();
  return {
    aud: API_CLIENT_ID,
    iss: issuer(tenant),
    iat: t,
    nbf: t,
    exp: t + 3899,
    aio: randomBytes(48).toString('base64url'),
    azp: CALLER_CLIENT_ID,
    azpacr: '0',
    name: 'Alice Example',
    oid: '5b8e2c41-7d3a-4f96-a0e1-c2b3d4e5f607',
    preferred_username: 'alice@contoso.example',
    rh: `0.A${randomBytes(40).toString('base64url')}.`,
    roles: ['Items.Read'],
    scp: 'access_as_user',
    sub: randomBytes(32).toString('base64url'),
    tid: tenant,
    uti: randomBytes(16).toString('base64url'),
    ver: '2.0',
    jti: undefined,
    ...extra,
  };
}

/** Claims of a v1.0 access token (issuer sts.windows.net) for the same API. */
export function v1AccessClaims(tenant, extra = {}) {
  const t = now();
  return {
    aud: API_CLIENT_ID,
    iss: v1Issuer(tenant),
    iat: t,
    nbf: t,
    exp: t + 3899,
    acr: '1',
    aio: randomBytes(48).toString('base64url'),
    amr: ['pwd'],
    appid: CALLER_CLIENT_ID,
    appidacr: '0',
    name: 'Alice Example',
    oid: '5b8e2c41-7d3a-4f96-a0e1-c2b3d4e5f607',
    scp: 'access_as_user',
    sub: randomBytes(32).toString('base64url'),
    tid: tenant,
    unique_name: 'alice@contoso.example',
    upn: 'alice@contoso.example',
    uti: randomBytes(16).toString('base64url'),
    ver: '1.0',
    jti: undefined,
    ...extra,
  };
}

export const HEADER = { typ: 'JWT' };

/**
 * login.microsoftonline.com on a loopback server, routed in `outbound`: every tenant in
 * TENANTS has its metadata and its keys path, all serving `state.keys`.
 */
export async function start(outbound, keys) {
  const server = await ProviderServer.start('entra');
  const state = { keys: [...keys] };
  for (const tenant of TENANTS) {
    server.json(`/${tenant}/v2.0/.well-known/openid-configuration`, () => discoveryDocument(tenant), { cacheControl: CACHE_CONTROL });
    server.json(`/${tenant}/discovery/v2.0/keys`, () => jwksDocument(state.keys), { cacheControl: CACHE_CONTROL });
  }
  outbound.route(HOST, server);
  return { server, state };
}
