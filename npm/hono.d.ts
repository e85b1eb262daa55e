/**
 * jwt-edge/hono: Hono middleware verifying the request's JWT with the jwt-edge core,
 * answering refusals exactly as the jwt-edge worker does.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { JsonWebKey, JsonWebKeySet, JwtClaims, KeyValueStore, RemoteJwksOptions, Verdict, VerifyOptions } from 'jwt-edge';

/** A value given once, or computed per request from Hono's context (e.g. from `c.env`). */
export type PerRequest<T> = T | ((c: Context) => T);

/** The options of `jwtEdge`: the core's verification options plus how Hono hands them over. */
export interface JwtEdgeOptions extends Omit<VerifyOptions, 'jwks' | 'now'> {
  /**
   * The keys. A URL (or `(c) => url`, e.g. from `c.env`): fetched and cached as the worker
   * does, one cache per URL for the whole isolate. A key set, its JSON text or an array of
   * keys: imported once, when the middleware is made. Absent: `secret`/`secrets` only.
   */
  jwks?: string | URL | ((c: Context) => string | URL) | JsonWebKeySet | JsonWebKey[];
  /** How a remote `jwks` is fetched and cached (the first middleware naming a URL sets them). */
  jwksOptions?: Omit<RemoteJwksOptions, 'kv'>;
  /**
   * Find the key set of `issuer` (a string) through its metadata, as
   * `RemoteJwks.fromIssuer` does (OpenID Connect Discovery, RFC 8414 on 404), instead of
   * a `jwks` URL. One cache per issuer for the whole isolate.
   */
  discovery?: boolean;
  /** No token: the request goes on anonymously (`c.get('jwtPayload')` is undefined). A token present must be valid. */
  optional?: boolean;
  /** Also read the token from this cookie. */
  cookie?: string;
  /** Read the token from this header (its whole value) instead of `Authorization: Bearer`. */
  headerName?: string;
  /** The `realm` of the `WWW-Authenticate` challenge. Default `"jwt-edge"`. */
  realm?: string;
  /** An RFC 9728 protected-resource metadata URL, sent as the challenge's `resource_metadata`. */
  resourceMetadata?: string;
  /** A KV namespace for the remote key set, shared by isolates: `(c) => c.env.JWKS_CACHE`. */
  kv?: PerRequest<KeyValueStore>;
  /** One-time tokens (best-effort, by `jti`) through a KV namespace: `{ kv: (c) => c.env.REPLAY }`. */
  replay?: { kv: PerRequest<KeyValueStore> };
}

/** The variables the middleware sets: the claims (Hono's `jwtPayload`) and the verdict. */
export type JwtEdgeVariables<T extends object = JwtClaims> = {
  jwtPayload: T;
  jwtEdge: Omit<Verdict, 'claims'> & { claims: T };
};

/** On an `optional` route both may be undefined (no token). */
export type JwtEdgeOptionalVariables<T extends object = JwtClaims> = {
  jwtPayload: T | undefined;
  jwtEdge: (Omit<Verdict, 'claims'> & { claims: T }) | undefined;
};

/**
 * The middleware. Refusals are thrown as Hono's `HTTPException` whose response
 * (`err.getResponse()`) is the worker's: status, RFC 6750 `WWW-Authenticate` and an
 * `application/problem+json` body; `err.cause` is the `JwtEdgeError`. Bad options throw
 * a `JwtEdgeError` (`config_invalid`) when the middleware is made.
 *
 * `T` types the claims: `jwtEdge<{ sub: string; tenant: string }>({ … })`.
 */
export declare function jwtEdge<T extends object = JwtClaims>(
  options: JwtEdgeOptions & { optional: true },
): MiddlewareHandler<{ Variables: JwtEdgeOptionalVariables<T> }>;
export declare function jwtEdge<T extends object = JwtClaims>(
  options: JwtEdgeOptions,
): MiddlewareHandler<{ Variables: JwtEdgeVariables<T> }>;

declare module 'hono' {
  /** Typed `c.get('jwtPayload')` and `c.get('jwtEdge')` in every Hono app importing jwt-edge/hono. */
  interface ContextVariableMap {
    jwtPayload: JwtClaims;
    jwtEdge: Verdict;
  }
}
