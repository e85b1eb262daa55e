/** jwt-edge: strict JWT/JWKS verification, the same core as the edge worker, in wasm. */

// generated:error-codes (from the core: JWT_EDGE_BLESS=1 cargo test --test generated)
/** Every stable error code (see the README's error-code table). */
export type ErrorCode =
  | 'token_missing'
  | 'request_malformed'
  | 'token_too_large'
  | 'token_malformed'
  | 'crit_unsupported'
  | 'b64_unsupported'
  | 'alg_not_allowed'
  | 'no_matching_key'
  | 'key_mismatch'
  | 'signature_invalid'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'iat_in_future'
  | 'lifetime_too_long'
  | 'claim_missing'
  | 'claim_invalid'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'subject_mismatch'
  | 'typ_mismatch'
  | 'insufficient_scope'
  | 'claim_mismatch'
  | 'assertion_mismatch'
  | 'token_replayed'
  | 'replay_unavailable'
  | 'jwks_unavailable'
  | 'jwks_invalid'
  | 'config_invalid'
  | 'response_failed'
  | 'randomness_unavailable';
// /generated:error-codes

// generated:algorithms (from the core: JWT_EDGE_BLESS=1 cargo test --test generated)
/** Signature algorithms. There is no `none`. */
export type Algorithm =
  | 'HS256' | 'HS384' | 'HS512'
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512' | 'ES256K'
  | 'EdDSA' | 'Ed25519';
// /generated:algorithms

/** A JSON Web Key (public members; private members make a set invalid). */
export interface JsonWebKey {
  kty: 'RSA' | 'EC' | 'OKP' | 'oct' | string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  [member: string]: unknown;
}

/** A JSON Web Key Set (RFC 7517 §5). */
export interface JsonWebKeySet {
  keys: JsonWebKey[];
}

/** Verification options. Unknown names are an error, never silently ignored. */
export interface VerifyOptions {
  /**
   * The key set, as an object or its JSON text. Your own configuration: its `oct` keys
   * (shared secrets) are used too, selected by exact `kid`.
   */
  jwks?: JsonWebKeySet | string;
  /**
   * An HMAC secret for HS256/384/512: base64url text or bytes (≥ 32 bytes). Unnamed, it
   * verifies tokens whatever their `kid` says, unless a key is named by exactly that `kid`.
   */
  secret?: string | Uint8Array;
  /**
   * Named HMAC secrets, `kid` → secret (base64url text or bytes): a token whose `kid`
   * names one is verified by that one only (e.g. one secret per client).
   */
  secrets?: Record<string, string | Uint8Array>;
  /** Allowed algorithms. Default: every asymmetric one, plus HS* with a shared secret (`secret`, `secrets`, or an `oct` key in `jwks`). */
  algorithms?: Algorithm[];
  /** Allowed issuer(s); makes `iss` required. */
  issuer?: string | string[];
  /** Allowed audience(s); one `aud` value must match; makes `aud` required. */
  audience?: string | string[];
  /** Required `sub`. */
  subject?: string;
  /** Required header `typ` (RFC 8725 §3.11: case-insensitive, `application/` optional). */
  typ?: string;
  /** Claims that must be present. */
  requiredClaims?: string[];
  /** Tolerated clock difference in seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Longest accepted lifetime in seconds (bounds `exp − iat` and `exp − now`). */
  maxLifetimeSeconds?: number;
  /** Whether `exp` is required. Default true. */
  requireExp?: boolean;
  /** Whether `jti` is required. Default false. */
  requireJti?: boolean;
  /** Verify at this Unix time (seconds) instead of now: for tests and old logs. */
  now?: number;
  /** Largest token accepted in bytes. Default 16384. */
  maxTokenBytes?: number;
  /**
   * Verified tokens a `Verifier` (or a `RemoteJwks` key set) remembers, by SHA-256 of the
   * exact text, until `exp` plus the clock skew: the same token again skips the signature,
   * never the time and claim checks. 0 to 100000; `0` turns it off. Default 1000.
   */
  tokenCacheEntries?: number;
  /**
   * Scopes the token must all hold (its `scope` claim, space-separated; without it, `scp`
   * as a string or an array of strings). Otherwise `insufficient_scope` (HTTP 403).
   */
  scopes?: string[];
  /**
   * Claim rules, dotted path → one matcher (`realm_access.roles`: nested objects; a member
   * named by the whole path wins). Otherwise `claim_mismatch` (HTTP 403).
   */
  claims?: Record<string, ClaimMatcher>;
}

/** One claim rule: the claim equals V, is one of the values, holds V, or is present. */
export type ClaimMatcher =
  | { equals: unknown }
  | { one_of: unknown[] }
  | { contains: string | number | boolean | null }
  | { present: true };

/** Registered claims plus anything else in the payload. */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

/** Where the key that verified came from. */
export type KeySource = 'memory' | 'kv' | 'issuer' | 'stale' | 'secret' | 'local';

/** The family of an error code (the CLI's exit status groups by it). */
export type ErrorFamily = 'request' | 'token' | 'key' | 'signature' | 'claims' | 'replay' | 'jwks' | 'config';

/**
 * A verified token: jwt-edge's one verdict shape, the same object the edge worker's
 * verdict mode and the CLI's `verify` answer.
 */
export interface Verdict {
  valid: true;
  /** The algorithm that verified. */
  alg: Algorithm;
  /** The `kid` of the key that verified, `null` when it has none. */
  kid: string | null;
  /** `'local'` for keys given in the options; a `RemoteJwks` says `'memory'`, `'issuer'` or `'stale'`. */
  key_source: KeySource;
  header: { alg: Algorithm; kid?: string; typ?: string; [member: string]: unknown };
  claims: JwtClaims;
  /** @deprecated Use `kid` (non-enumerable alias; `undefined` when the key has no `kid`). */
  readonly keyId?: string;
  /** @deprecated Use `alg` (non-enumerable alias). */
  readonly algorithm: Algorithm;
}

/** @deprecated The former name of {@link Verdict}. */
export type VerifyResult = Verdict;

/** A refusal, as the worker and the CLI answer it and as `JwtEdgeError.verdict` carries it. */
export interface RefusedVerdict {
  valid: false;
  code: ErrorCode;
  family: ErrorFamily;
  /** What went wrong, never containing a token or a key. */
  message: string;
}

/** Thrown for every refusal; `code` is stable across releases. */
export class JwtEdgeError extends Error {
  constructor(code: ErrorCode, message: string, verdict?: RefusedVerdict);
  readonly name: 'JwtEdgeError';
  readonly code: ErrorCode;
  readonly family: ErrorFamily;
  /** The refused verdict: `{ valid: false, code, family, message }`. */
  readonly verdict: RefusedVerdict;
}

/** Verifies `token` synchronously with the keys in `options`. Throws `JwtEdgeError`. */
export function verify(token: string, options: VerifyOptions): Verdict;

/**
 * A verifier built once: the JWKS parsed and its keys imported, the policy fixed. Use it
 * to verify many tokens with the same options; `verify()` does all of that per call.
 */
export class Verifier {
  /** Throws `JwtEdgeError` (`config_invalid`, `jwks_invalid`) for unusable options. */
  constructor(options: VerifyOptions);
  /** Verifies `token`; `now` (Unix seconds) replaces the clock for this call. Throws `JwtEdgeError`. */
  verify(token: string, options?: { now?: number } | null): Verdict;
  /** The verified-token cache's counters since construction (all 0 when it is off). */
  cacheStats(): { hits: number; misses: number; entries: number };
  /** Releases the wasm memory now instead of at garbage collection. */
  free(): void;
}

/** Decodes a token WITHOUT verifying it: for inspectors, never for decisions. */
export function decodeUnverified(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown> | null;
};

export interface RemoteJwksOptions {
  /**
   * Freshness when the response has no `Cache-Control: max-age`, and its ceiling. Default
   * 600. A `max-age` (or this value) below 60 counts as 60, as in the edge worker.
   */
  cacheMaxAgeSeconds?: number;
  /**
   * At most one refetch per this many seconds for unknown `kid`s. Default 30. (After a
   * failed fetch, while a stale set serves, the issuer is asked again at most every 30 s,
   * whatever this is.)
   */
  cooldownSeconds?: number;
  /** Fetch timeout in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** A `fetch` to use instead of the global one. It is called with `redirect: 'manual'`; a redirect is a failed fetch. */
  fetch?: typeof fetch;
  /**
   * Development only: accept an `http://` URL whose host is exactly `127.0.0.1`, `[::1]`
   * or `localhost`. Default false: only `https://` (never with userinfo).
   */
  devAllowHttpLoopback?: boolean;
  /**
   * Called with each key-source event, for logging: `jwks_fetch_failed` (`code`, `problem`,
   * `action`), `jwks_redirect_refused` (`status`), `jwks_key_skipped` (`index`, `reason`),
   * `jwks_all_keys_changed`. Its exceptions are ignored.
   */
  onEvent?: (event: RemoteJwksEvent) => void;
  /**
   * A KV namespace shared by isolates (Workers KV: `env.JWKS_CACHE`, or anything with
   * `get(key)` and `put(key, value, { expirationTtl })`): the set is looked up in memory,
   * then here, then at the issuer, as the edge worker does, and each fetched set is stored
   * here for as long as it may serve.
   */
  kv?: KeyValueStore;
}

/** The part of a Workers KV namespace jwt-edge uses. */
export interface KeyValueStore {
  get(key: string): Promise<string | null> | string | null;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<unknown> | unknown;
}

/** Per-call options of `RemoteJwks.verify`. */
export interface RemoteVerifyOptions extends Omit<VerifyOptions, 'jwks' | 'secret' | 'secrets'> {
  /**
   * A worker's `ctx.waitUntil`: background refreshes and KV writes are handed to it, so
   * the answer does not wait for them and the isolate keeps them alive.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** An event of a `RemoteJwks` key source (the worker logs the same ones). */
export interface RemoteJwksEvent {
  event: 'jwks_fetch_failed' | 'jwks_redirect_refused' | 'jwks_key_skipped' | 'jwks_all_keys_changed';
  code?: string;
  problem?: string;
  action?: string;
  status?: number;
  index?: number;
  reason?: string;
}

/** A JWKS fetched from a URL and cached, as the edge worker does. */
export class RemoteJwks {
  constructor(url: string | URL, options?: RemoteJwksOptions);
  /**
   * The key set of `issuer`, found through its metadata: OpenID Connect Discovery
   * (`{issuer}/.well-known/openid-configuration`), else RFC 8414
   * (`/.well-known/oauth-authorization-server{path}`) on 404. The document's `issuer`
   * must equal `issuer` exactly and its `jwks_uri` be https:// (loopback http:// with
   * `devAllowHttpLoopback`). The document is cached like the keys (memory, `kv`, the
   * issuer; last-known-good while it fails) and a moved `jwks_uri` is followed. Tokens
   * must carry `iss` equal to `issuer`; an `issuer` option that differs is refused.
   */
  static fromIssuer(issuer: string, options?: RemoteJwksOptions): RemoteJwks;
  /** Verifies `token` against the remote set. Rejects with `JwtEdgeError`. */
  verify(token: string, options?: RemoteVerifyOptions): Promise<Verdict>;
  /** How many times the set was fetched. */
  readonly fetchCount: number;
}

/** One-time tokens (best effort), as the worker's `"replay": "best-effort"`. */
export class ReplayGuard {
  /** `kv`: where accepted `jti`s are recorded; `memory`: how many this isolate remembers (default 100000, at most 500000). */
  constructor(options: { kv: KeyValueStore; memory?: number });
  /**
   * Resolves when the token (an accepted verdict, or its claims) is used for the first
   * time; rejects with `JwtEdgeError` `token_replayed`, `claim_missing` or `replay_unavailable`.
   */
  check(verdict: Verdict | JwtClaims, options?: { now?: number; clockSkewSeconds?: number }): Promise<void>;
}

/** The HTTP answer to a refusal, exactly as the edge worker answers it. */
export interface Refusal {
  status: number;
  headers: { 'content-type': 'application/problem+json'; 'cache-control': 'no-store'; 'www-authenticate'?: string };
  /** The RFC 9457 problem+json body, as text. */
  body: string;
}

/**
 * The answer to `error` (a `JwtEdgeError`): the core's RFC 6750 challenge (`scope` on
 * `insufficient_scope`, RFC 9728 `resourceMetadata` on every challenge) and body.
 */
export function refusal(
  error: { code: string; message: string },
  options?: { realm?: string; scope?: string; resourceMetadata?: string; route?: string },
): Refusal;

/** Where to look for the token, as the worker's `sources`. */
export type TokenSource =
  | { type: 'authorization'; schemes?: string[] }
  | { type: 'cookie'; name: string }
  /** The whole header value, or what follows `prefix` (compared case-insensitively). */
  | { type: 'header'; name: string; prefix?: string }
  /** Opt-in (RFC 6750 §2.3): a query parameter of `url`; strip it before passing the URL on. */
  | { type: 'query'; name: string };

/**
 * The request's token by the worker's rules. Throws `JwtEdgeError` `token_missing`, or
 * `request_malformed` for a token offered in two places.
 */
export function extractToken(options: {
  sources?: TokenSource[];
  headers: (name: string) => string | null | undefined;
  /** The request URL, read by a `query` source. */
  url?: string | URL;
  maxTokenBytes?: number;
}): string;
