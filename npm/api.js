// The package's JavaScript layer over the wasm core: objects in, objects out, and a
// JwtEdgeError with the core's stable code for every refusal. It decides nothing:
// verification, option checks, JWKS checks and cache timing are all the core's.
import { JwtEdgeError } from './errors.js';

const OPTION_NAMES = new Set([
  'jwks', 'secret', 'secrets', 'algorithms', 'issuer', 'audience', 'subject', 'typ', 'requiredClaims',
  'clockSkewSeconds', 'maxLifetimeSeconds', 'requireExp', 'requireJti', 'now', 'maxTokenBytes',
  'tokenCacheEntries', 'scopes', 'claims',
]);

/**
 * The core refuses key sets over 256 KiB (JwksOptions::max_bytes); this stops reading a
 * response there, so a huge or endless body never reaches memory first.
 */
const MAX_JWKS_BYTES = 256 * 1024;

/** The body's bytes, or `null` (and the body cancelled) once it passes `limit` bytes. */
async function readCapped(response, limit) {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await response.body?.cancel?.().catch(() => {});
    return null;
  }
  if (typeof response.body?.getReader !== 'function') {
    // A custom `fetch` without a WHATWG stream body: the core still enforces the limit.
    const bytes = typeof response.arrayBuffer === 'function'
      ? new Uint8Array(await response.arrayBuffer())
      : new TextEncoder().encode(await response.text());
    return bytes.byteLength > limit ? null : bytes;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

function base64url(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A secret as the core reads it: bytes become base64url text; text passes as is. */
function secretText(value) {
  return value instanceof Uint8Array ? base64url(value) : value;
}

/** Options as the core reads them: secret bytes become base64url; unknown names are refused. */
function toJson(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new JwtEdgeError('config_invalid', 'invalid configuration: `options` must be an object');
  }
  const out = {};
  for (const [name, value] of Object.entries(options)) {
    if (!OPTION_NAMES.has(name)) {
      throw new JwtEdgeError('config_invalid', `invalid configuration: unknown option \`${name}\``);
    }
    if (value === undefined) continue;
    if (name === 'secret') {
      out[name] = secretText(value);
    } else if (name === 'secrets' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out[name] = Object.fromEntries(Object.entries(value).map(([kid, secret]) => [kid, secretText(secret)]));
    } else {
      out[name] = value;
    }
  }
  return JSON.stringify(out);
}

/** The core's answer as an object; a refused verdict is thrown as a JwtEdgeError. */
function unwrap(json) {
  const result = JSON.parse(json);
  if (result.valid === false) throw new JwtEdgeError(result.code, result.message, result);
  return result;
}

/**
 * An accepted verdict `{ valid, alg, kid, key_source, header, claims }`, with the names
 * of 0.1 kept as non-enumerable aliases (deprecated): `keyId` (`kid`, `undefined` for
 * none) and `algorithm` (`alg`).
 */
function accepted(verdict) {
  return Object.defineProperties(verdict, {
    keyId: { value: verdict.kid ?? undefined, enumerable: false, configurable: true },
    algorithm: { value: verdict.alg, enumerable: false, configurable: true },
  });
}

export function makeApi(wasm) {
  /**
   * Verifies `token` synchronously with the keys in `options` (`jwks`, `secret`, `secrets`).
   * Returns the verdict `{ valid: true, alg, kid, key_source: 'local', header, claims }`;
   * throws a JwtEdgeError.
   */
  function verify(token, options) {
    if (typeof token !== 'string') throw new JwtEdgeError('token_malformed', 'malformed token: not a string');
    return accepted(unwrap(wasm.verifyJson(token, toJson(options))));
  }

  /** A failure thrown by the wasm constructor (JSON text) as a JwtEdgeError. */
  function rethrow(thrown) {
    let parsed;
    try {
      parsed = typeof thrown === 'string' ? JSON.parse(thrown) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed && parsed.valid === false) throw new JwtEdgeError(parsed.code, parsed.message, parsed);
    throw thrown;
  }

  function compile(optionsJson) {
    try {
      return new wasm.CompiledVerifier(optionsJson);
    } catch (thrown) {
      return rethrow(thrown);
    }
  }

  /** Verifies with a compiled verifier; `keySource` names the keys' origin (default 'local'). */
  function run(compiled, token, now, keySource) {
    if (typeof token !== 'string') throw new JwtEdgeError('token_malformed', 'malformed token: not a string');
    if (now !== undefined && !Number.isSafeInteger(now)) {
      throw new JwtEdgeError('config_invalid', 'invalid configuration: `now`');
    }
    return accepted(unwrap(compiled.verify(token, now ?? Number.NaN, keySource)));
  }

  /**
   * Keys imported once, the policy fixed once: for verifying many tokens with the same
   * options (the JWKS is parsed and its keys imported only here, never per token).
   */
  class Verifier {
    constructor(options) {
      this.compiled = compile(toJson(options));
    }

    /**
     * Verifies `token`; `{ now }` replaces the clock for this call (absent, `undefined`
     * or `null` options: the clock). Throws a JwtEdgeError, also for bad options.
     */
    verify(token, options) {
      if (!this.compiled) throw new JwtEdgeError('config_invalid', 'invalid configuration: verifier was freed');
      if (options !== undefined && options !== null) {
        if (typeof options !== 'object' || Array.isArray(options)) {
          throw new JwtEdgeError('config_invalid', 'invalid configuration: `options` must be an object');
        }
        for (const name of Object.keys(options)) {
          if (name !== 'now') {
            throw new JwtEdgeError('config_invalid', `invalid configuration: unknown option \`${name}\` (only \`now\` is per call)`);
          }
        }
      }
      return run(this.compiled, token, options?.now);
    }

    /**
     * The verified-token cache's counters since construction: `{ hits, misses, entries }`
     * (all 0 with `tokenCacheEntries: 0`).
     */
    cacheStats() {
      if (!this.compiled) throw new JwtEdgeError('config_invalid', 'invalid configuration: verifier was freed');
      return JSON.parse(this.compiled.cacheStatsJson());
    }

    /** Releases the wasm memory now rather than at garbage collection. */
    free() {
      this.compiled?.free();
      this.compiled = null;
    }
  }

  /** Decodes a token WITHOUT verifying anything: for inspectors, never for decisions. */
  function decodeUnverified(token) {
    if (typeof token !== 'string') throw new JwtEdgeError('token_malformed', 'malformed token: not a string');
    return unwrap(wasm.decodeUnverifiedJson(token));
  }

  const REMOTE_OPTION_NAMES = new Set(['cacheMaxAgeSeconds', 'cooldownSeconds', 'timeoutMs', 'fetch', 'devAllowHttpLoopback', 'onEvent', 'kv']);

  /** Refuses an option name `RemoteJwks` does not know. */
  function readRemoteOptionNames(options) {
    for (const name of Object.keys(options ?? {})) {
      if (!REMOTE_OPTION_NAMES.has(name)) {
        throw new JwtEdgeError('config_invalid', `invalid configuration: unknown option \`${name}\``);
      }
    }
  }

  function readDevAllowHttpLoopback(options) {
    const allow = options?.devAllowHttpLoopback ?? false;
    if (typeof allow !== 'boolean') {
      throw new JwtEdgeError('config_invalid', 'invalid configuration: `devAllowHttpLoopback`');
    }
    return allow;
  }

  /** Whether `kv` can serve as a KV namespace: `get(key)` and `put(key, value, options)`. */
  function isKv(kv) {
    return kv !== null && typeof kv === 'object' && typeof kv.get === 'function' && typeof kv.put === 'function';
  }

  function positiveInteger(name, value, fallback) {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < 0 || (name === 'timeoutMs' && value === 0)) {
      throw new JwtEdgeError('config_invalid', `invalid configuration: \`${name}\``);
    }
    return value;
  }

  /**
   * A remote JWKS, fetched with the platform's `fetch`, cached, and refetched for an
   * unknown `kid` at most once per cooldown, as the edge worker does. Every decision is
   * the core's key source (wasm `RemoteKeys`), with the edge's defaults; this class
   * only performs the fetches it asks for. The set's keys stay in wasm: each answer's
   * body is handed over once, as bytes, and parsed once.
   */
  class RemoteJwks {
    constructor(url, options = {}) {
      readRemoteOptionNames(options);
      let parsed;
      try {
        parsed = new URL(String(url));
      } catch {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `url`');
      }
      const devAllowHttpLoopback = readDevAllowHttpLoopback(options);
      // The core's rule, on the URL exactly as it will be fetched: https://, or http://
      // to 127.0.0.1, [::1] or localhost only with devAllowHttpLoopback; no userinfo.
      if (!wasm.jwksUriAllowed(parsed.href, devAllowHttpLoopback)) {
        throw new JwtEdgeError(
          'config_invalid',
          'invalid configuration: `url` must be https:// without userinfo (http:// only to 127.0.0.1, [::1] or localhost, with `devAllowHttpLoopback`)',
        );
      }
      this.init(parsed.href, options);
    }

    /**
     * A remote JWKS found through the issuer's metadata (OpenID Connect Discovery, with
     * the RFC 8414 location on 404): the document's `issuer` must equal `issuer` exactly
     * and its `jwks_uri` be https://. The document is cached like the keys (memory,
     * then `kv`, then the issuer; last-known-good while the issuer fails), a moved
     * `jwks_uri` is followed, and tokens must carry `iss` equal to `issuer`.
     */
    static fromIssuer(issuer, options = {}) {
      readRemoteOptionNames(options);
      const devAllowHttpLoopback = readDevAllowHttpLoopback(options);
      if (typeof issuer !== 'string') {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `issuer`');
      }
      const remote = Object.create(RemoteJwks.prototype);
      remote.init(null, options);
      remote.issuer = issuer;
      try {
        // The issuer exactly as given (no URL normalisation: `iss` is compared as text).
        remote.discovery = new wasm.RemoteDiscovery(issuer, devAllowHttpLoopback, remote.maxAge, remote.kv !== undefined);
      } catch (thrown) {
        rethrow(thrown);
      }
      return remote;
    }

    /** Options shared by both constructors; `url` null until discovery names it. */
    init(url, options = {}) {
      options = options ?? {};
      if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `onEvent`');
      }
      this.url = url;
      // cacheMaxAgeSeconds: the core's default_max_age and max_max_age; cooldownSeconds:
      // its unknown_kid_cooldown. The rest (max-age floor, failure cooldown, staleness)
      // are the core's defaults, as in the worker.
      // Absent: undefined, and the core applies its defaults (600 s, 30 s).
      const maxAge = positiveInteger('cacheMaxAgeSeconds', options.cacheMaxAgeSeconds, undefined);
      const cooldown = positiveInteger('cooldownSeconds', options.cooldownSeconds, undefined);
      this.timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, 5000);
      if (maxAge > 0xffffffff || cooldown > 0xffffffff) {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: duration too long');
      }
      if (options.kv !== undefined && !isKv(options.kv)) {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `kv` must have get and put');
      }
      // A KV namespace shared by isolates (and instances): memory, then KV, then the
      // issuer, as the worker's tiers; the key source decides when each is asked.
      this.kv = options.kv;
      this.fetchCount = 0;
      this.maxAge = maxAge;
      this.cooldown = cooldown;
      this.keys = url === null ? null : new wasm.RemoteKeys(url, maxAge, cooldown, this.kv !== undefined);
      this.issuer = null;
      this.discovery = null;
      this.discoveryInflight = null;
      this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
      this.onEvent = options.onEvent;
      this.inflight = null;
    }

    /** One fetch of the key set with the validators the key source gave. */
    request(ifNoneMatch, ifModifiedSince) {
      const accept = 'application/json, application/jwk-set+json';
      return this.get(this.keys.url, accept, MAX_JWKS_BYTES, ifNoneMatch, ifModifiedSince);
    }

    /** One GET with these validators: an answer, never a rejection. */
    async get(url, accept, maxBytes, ifNoneMatch, ifModifiedSince) {
      this.fetchCount += 1;
      const headers = { accept };
      if (ifNoneMatch) headers['if-none-match'] = ifNoneMatch;
      if (ifModifiedSince) headers['if-modified-since'] = ifModifiedSince;
      try {
        // Redirects are not followed: the set comes from this URL or not at all (a 3xx,
        // or a `fetch` that followed one anyway, is a failed fetch).
        const response = await this.fetchImpl(url, {
          headers,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (response.redirected) return { failed: true, tooLarge: false };
        let body = new Uint8Array(0);
        if (response.status === 200) {
          body = await readCapped(response, maxBytes);
          if (body === null) return { failed: true, tooLarge: true };
        }
        const header = (name) => response.headers.get(name) ?? undefined;
        return {
          status: response.status,
          body,
          cacheControl: header('cache-control'),
          etag: header('etag'),
          lastModified: header('last-modified'),
        };
      } catch {
        return { failed: true, tooLarge: false };
      }
    }

    /** The key source's events (JSON) to `onEvent`, if given; its errors are ignored. */
    emit(json) {
      if (!this.onEvent) return;
      for (const event of JSON.parse(json)) {
        try {
          this.onEvent(event);
        } catch {
          // a logger's failure is not the verification's
        }
      }
    }

    /** The shared snapshot's text from `kv`, or `undefined` (nothing, or a failed read). */
    async readStored(key = this.keys.storeKey) {
      try {
        const text = await this.kv.get(key);
        return typeof text === 'string' ? text : undefined;
      } catch {
        this.emit(JSON.stringify([{ event: 'kv_read_failed', binding: 'kv' }]));
        return undefined;
      }
    }

    /**
     * Stores the snapshot the last fetch gave, if any, for as long as it may serve as
     * last-known-good: through `waitUntil` when given (the answer does not wait for it).
     */
    store(waitUntil, source = this.keys) {
      const pending = source.takeStore();
      if (!pending || !this.kv) return undefined;
      const { key, value, ttl } = JSON.parse(pending);
      const write = Promise.resolve()
        .then(() => this.kv.put(key, value, { expirationTtl: ttl }))
        .catch(() => this.emit(JSON.stringify([{ event: 'kv_write_failed', binding: 'kv' }])));
      if (waitUntil) {
        waitUntil(write);
        return undefined;
      }
      return write;
    }

    /** Remembers the fetch in flight, for the lookups told to wait for it. */
    track(promise) {
      const settled = promise.catch(() => this.keys.abandoned());
      this.inflight = settled;
      settled.finally(() => {
        if (this.inflight === settled) this.inflight = null;
      });
      return settled;
    }

    /** The fetch a lookup was told to make, its answer handed to the key source. */
    fetchFor(lookup, waitUntil) {
      const answered = this.request(lookup.ifNoneMatch, lookup.ifModifiedSince).then((a) => {
        this.emit(a.failed
          ? this.keys.fetchFailed(lookup, a.tooLarge)
          : this.keys.fetched(lookup, a.status, a.body, a.cacheControl, a.etag, a.lastModified));
        return this.store(waitUntil);
      });
      return this.track(answered);
    }

    /** A background refresh: its outcome lands in the key source, never as a rejection. */
    refresh(lookup, policy, now, waitUntil) {
      const answered = this.request(lookup.ifNoneMatch, lookup.ifModifiedSince).then((a) => {
        this.emit(a.failed
          ? this.keys.refreshFailed(now, a.tooLarge)
          : this.keys.refreshed(now, policy, a.status, a.body, a.cacheControl, a.etag, a.lastModified));
        return this.store(undefined);
      });
      const tracked = this.track(answered);
      // A worker's isolate may stop once the answer is sent: keep it for the refresh.
      if (waitUntil) waitUntil(tracked);
    }

    /**
     * The issuer's `jwks_uri` at `now` from its discovery document (`fromIssuer`), the
     * key source pointed at it; the core decides every step.
     */
    async discover(now, waitUntil) {
      const lookup = this.discovery.lookup(now);
      try {
        for (;;) {
          const step = JSON.parse(this.discovery.step(lookup));
          if (step.step === 'readStored') {
            this.emit(this.discovery.stored(lookup, await this.readStored(this.discovery.storeKey)));
          } else if (step.step === 'fetch') {
            const answered = this.getDocument(step).then((a) => {
              this.emit(a.failed
                ? this.discovery.fetchFailed(lookup, a.tooLarge)
                : this.discovery.fetched(lookup, a.status, a.body, a.cacheControl, a.etag, a.lastModified));
              return this.store(waitUntil, this.discovery);
            });
            await this.trackDiscovery(answered);
          } else if (step.step === 'wait') {
            await this.discoveryInflight;
            lookup.waited();
          } else if (step.step === 'use') {
            if (step.refresh) {
              const refreshed = this.getDocument(step.refresh).then((a) => {
                this.emit(this.discovery.refreshed(step.refresh.url, now, a.failed ? 0 : a.status, a.body ?? new Uint8Array(0),
                  a.cacheControl, a.etag, a.lastModified));
                return this.store(undefined, this.discovery);
              });
              const tracked = this.trackDiscovery(refreshed);
              if (waitUntil) waitUntil(tracked);
            }
            if (this.keys === null) {
              this.keys = new wasm.RemoteKeys(step.jwksUri, this.maxAge, this.cooldown, this.kv !== undefined);
            } else {
              this.keys.retarget(step.jwksUri);
            }
            this.url = step.jwksUri;
            return;
          } else {
            const failure = step.failure;
            throw new JwtEdgeError(failure.code, failure.message, failure);
          }
        }
      } finally {
        lookup.free();
      }
    }

    getDocument(fetch) {
      return this.get(fetch.url, 'application/json', this.discovery.maxDocumentBytes, fetch.ifNoneMatch, fetch.ifModifiedSince);
    }

    trackDiscovery(promise) {
      const settled = promise.catch(() => this.discovery.abandoned());
      this.discoveryInflight = settled;
      settled.finally(() => {
        if (this.discoveryInflight === settled) this.discoveryInflight = null;
      });
      return settled;
    }

    /** Verifies `token` against the remote set; the same options as `verify` but `jwks`. */
    async verify(token, options = {}) {
      if (options && 'jwks' in options) {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: RemoteJwks provides `jwks`');
      }
      if (typeof token !== 'string') throw new JwtEdgeError('token_malformed', 'malformed token: not a string');
      const now = options?.now ?? Math.floor(Date.now() / 1000);
      if (!Number.isSafeInteger(now)) throw new JwtEdgeError('config_invalid', 'invalid configuration: `now`');
      const { now: _ignored, waitUntil, ...rest } = options ?? {};
      if (waitUntil !== undefined && typeof waitUntil !== 'function') {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `waitUntil`');
      }
      if (this.discovery) {
        // A discovered key set is the issuer's: its tokens only (the core's rule).
        try {
          rest.issuer = this.discovery.issuerOption(rest.issuer === undefined ? undefined : JSON.stringify(rest.issuer));
        } catch (thrown) {
          rethrow(thrown);
        }
        await this.discover(now, waitUntil);
      }
      const policy = toJson(rest);
      let lookup;
      try {
        lookup = this.keys.lookup(token, policy, now);
      } catch (thrown) {
        rethrow(thrown);
      }
      try {
        for (;;) {
          const step = this.keys.step(lookup);
          if (step === 'readStored') {
            this.emit(this.keys.stored(lookup, await this.readStored()));
          } else if (step === 'fetch') {
            await this.fetchFor(lookup, waitUntil);
          } else if (step === 'wait') {
            await this.inflight;
            lookup.waited();
          } else {
            if (step === 'refresh') this.refresh(lookup, policy, now, waitUntil);
            break;
          }
        }
        return accepted(unwrap(this.keys.verify(lookup, token)));
      } finally {
        lookup.free();
      }
    }
  }

  /**
   * One-time tokens (best effort), as the worker's `"replay": "best-effort"`: this
   * isolate's memory of accepted `jti`s in front of a KV namespace (`kv`: Workers KV or
   * anything with `get`/`put`). The core decides; this only passes the namespace.
   */
  class ReplayGuard {
    constructor(options = {}) {
      for (const name of Object.keys(options ?? {})) {
        if (name !== 'kv' && name !== 'memory') {
          throw new JwtEdgeError('config_invalid', `invalid configuration: unknown option \`${name}\``);
        }
      }
      if (!isKv(options.kv)) throw new JwtEdgeError('config_invalid', 'invalid configuration: `kv` must have get and put');
      if (options.memory !== undefined && (!Number.isSafeInteger(options.memory) || options.memory < 0)) {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `memory`');
      }
      this.kv = options.kv;
      try {
        this.guard = new wasm.ReplayGuard(options.memory);
      } catch (thrown) {
        rethrow(thrown);
      }
    }

    /**
     * Resolves when the verified token (an accepted verdict, or its claims) is used for
     * the first time; rejects with a JwtEdgeError (`token_replayed`, `claim_missing`,
     * `replay_unavailable`). `clockSkewSeconds` (default 60) keeps the entry past `exp`.
     */
    async check(verdict, options = {}) {
      const claims = verdict?.claims ?? verdict;
      if (claims === null || typeof claims !== 'object') {
        throw new JwtEdgeError('claim_invalid', 'claim `claims` has an invalid type or value');
      }
      const now = options?.now ?? Math.floor(Date.now() / 1000);
      // Absent: the core's default skew.
      const skew = options?.clockSkewSeconds;
      const skewOk = skew === undefined || (Number.isSafeInteger(skew) && skew >= 0 && skew <= 0xffffffff);
      if (!Number.isSafeInteger(now) || !skewOk) {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `now` or `clockSkewSeconds`');
      }
      try {
        await this.guard.check(JSON.stringify(claims), this.kv, skew, now);
      } catch (thrown) {
        rethrow(thrown);
      }
    }
  }

  /**
   * The HTTP answer to a refusal, exactly as the worker answers it: `{ status, headers,
   * body }` with the RFC 6750 challenge (`scope` on insufficient_scope, RFC 9728
   * `resourceMetadata` on every challenge) and the problem+json body.
   */
  function refusal(error, options = {}) {
    const code = error?.code ?? 'response_failed';
    const message = error?.message ?? '';
    const answer = JSON.parse(wasm.refusalJson(
      String(code), String(message), options.realm ?? undefined,
      options.scope ?? undefined, options.resourceMetadata ?? undefined, options.route ?? undefined,
    ));
    if (answer.valid === false) throw new JwtEdgeError(answer.code, answer.message, answer);
    const headers = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
    if (answer.wwwAuthenticate) headers['www-authenticate'] = answer.wwwAuthenticate;
    return { status: answer.status, headers, body: answer.body };
  }

  /**
   * The request's token by the worker's rules: `sources` as its `sources` (default
   * `Authorization: Bearer`), `headers(name)` the request's header values. Throws
   * `token_missing`, or `request_malformed` for a token offered in two places.
   */
  function extractToken({ sources, headers, url, maxTokenBytes } = {}) {
    if (typeof headers !== 'function') throw new JwtEdgeError('config_invalid', 'invalid configuration: `headers`');
    // A `query` source reads the request URL's query, as sent (the core decodes it).
    let query;
    if (url !== undefined) {
      try {
        query = new URL(String(url)).search.replace(/^\?/, '');
      } catch {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `url`');
      }
    }
    // The core decides which headers each source reads, and asks for them by name.
    const read = (name) => {
      const value = headers(name);
      return typeof value === 'string' ? value : undefined;
    };
    const json = sources === undefined ? undefined : JSON.stringify(sources);
    return unwrap(wasm.extractTokenJson(json, read, maxTokenBytes, query)).token;
  }

  return { verify, Verifier, decodeUnverified, RemoteJwks, ReplayGuard, refusal, extractToken, JwtEdgeError };
}
