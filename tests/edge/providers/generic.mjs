// A plain OpenID Provider / OAuth 2.0 authorization server for the discovery behaviour
// tests, where each test decides what is served: the metadata at the OpenID location
// (`{issuer}/.well-known/openid-configuration`, OpenID Connect Discovery 1.0 §4) and at
// the RFC 8414 location (`https://host/.well-known/oauth-authorization-server{issuer
// path}`, RFC 8414 §3.1), and key sets at any path, all with the Cache-Control asked for.
import { now } from '../harness.mjs';
import { ProviderServer } from './server.mjs';

/** Metadata members every document gets (RFC 8414 §2 and OIDC Discovery §3). */
export function metadataDocument(issuer, jwksUri, extra = {}) {
  const origin = new URL(issuer).origin;
  return {
    issuer,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    jwks_uri: jwksUri,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256', 'RS256'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    code_challenge_methods_supported: ['S256'],
    ...extra,
  };
}

export function jwksDocument(keys) {
  return { keys: keys.map((key) => key.jwk ?? key) };
}

/**
 * A provider whose issuer is `https://{host}{path}` on a loopback server routed in
 * `outbound`. Nothing is served until asked: `openid(doc)`, `rfc8414(doc)`,
 * `keys(path, keys)`; each takes a function or a value, read on every request.
 */
export class GenericProvider {
  static async start(outbound, { host = 'idp.example.net', path = '', cacheControl } = {}) {
    const p = new GenericProvider(host, path, cacheControl);
    p.server = await ProviderServer.start(`generic ${host}`);
    outbound.route(host, p.server);
    return p;
  }

  constructor(host, path, cacheControl) {
    this.host = host;
    this.path = path;
    this.cacheControl = cacheControl;
    this.issuer = `https://${host}${path}`;
  }

  /** Where the worker asks first, and where RFC 8414 says to ask. */
  get openidPath() {
    return `${this.path}/.well-known/openid-configuration`;
  }
  get rfc8414Path() {
    return `/.well-known/oauth-authorization-server${this.path}`;
  }
  get openidUrl() {
    return `https://${this.host}${this.openidPath}`;
  }
  get rfc8414Url() {
    return `https://${this.host}${this.rfc8414Path}`;
  }
  /** The https URL of `path` on this host. */
  url(path) {
    return `https://${this.host}${path}`;
  }

  /** Serves `doc` at the OpenID location (`status` other than 200: an error body). */
  openid(doc, { status = 200, cacheControl = this.cacheControl } = {}) {
    this.server.json(this.openidPath, doc, { status, cacheControl });
    return this;
  }

  rfc8414(doc, { status = 200, cacheControl = this.cacheControl } = {}) {
    this.server.json(this.rfc8414Path, doc, { status, cacheControl });
    return this;
  }

  /** Serves the key set of `keys` (a function or a list) at `path`. */
  keys(path, keys, { cacheControl = this.cacheControl } = {}) {
    this.server.json(path, () => jwksDocument(typeof keys === 'function' ? keys() : keys), { cacheControl });
    return this;
  }

  /** Claims for this issuer (audience `aud`), `extra` overriding. */
  claims(aud, extra = {}) {
    const t = now();
    return { iss: this.issuer, sub: 'user-1', aud, iat: t, exp: t + 300, ...extra };
  }
}
