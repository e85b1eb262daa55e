// The package's JavaScript layer over the wasm core: objects in, objects out, and a
// JwtEdgeError with the core's stable code for every refusal. It decides nothing:
// verification, option checks, JWKS checks and cache timing are all the core's.
import { JwtEdgeError } from './errors.js';

const OPTION_NAMES = new Set([
  'jwks', 'secret', 'secrets', 'algorithms', 'issuer', 'audience', 'subject', 'typ', 'requiredClaims',
  'clockSkewSeconds', 'maxLifetimeSeconds', 'requireExp', 'requireJti', 'now', 'maxTokenBytes',
]);

/**
 * The core refuses key sets over 256 KiB (JwksOptions::max_bytes); this stops reading a
 * response there, so a huge or endless body never reaches memory first.
 */
const MAX_JWKS_BYTES = 256 * 1024;

/** The body as text, or `null` (and the body cancelled) once it passes `limit` bytes. */
async function readCapped(response, limit) {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await response.body?.cancel?.().catch(() => {});
    return null;
  }
  if (typeof response.body?.getReader !== 'function') {
    // A custom `fetch` without a WHATWG stream body: the core still enforces the limit.
    const text = await response.text();
    return text.length > limit ? null : text;
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
  return new TextDecoder().decode(bytes);
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

  /** A verifier over a set fetched from an issuer: the core skips its `oct` keys. */
  function compileRemote(optionsJson, jwks) {
    try {
      return wasm.CompiledVerifier.withRemoteJwks(optionsJson, jwks);
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

  /**
   * A remote JWKS, fetched with the platform's `fetch`, cached, and refetched for an
   * unknown `kid` at most once per cooldown, as the edge worker does.
   */
  const REMOTE_OPTION_NAMES = new Set(['cacheMaxAgeSeconds', 'cooldownSeconds', 'timeoutMs', 'fetch', 'devAllowHttpLoopback']);

  function positiveInteger(name, value, fallback) {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < 0 || (name === 'timeoutMs' && value === 0)) {
      throw new JwtEdgeError('config_invalid', `invalid configuration: \`${name}\``);
    }
    return value;
  }

  /**
   * A remote JWKS, fetched with the platform's `fetch`, cached, and refetched for an
   * unknown `kid` at most once per cooldown, as the edge worker does. The timing
   * decisions are the core's (JwksCache).
   */
  class RemoteJwks {
    constructor(url, options = {}) {
      for (const name of Object.keys(options ?? {})) {
        if (!REMOTE_OPTION_NAMES.has(name)) {
          throw new JwtEdgeError('config_invalid', `invalid configuration: unknown option \`${name}\``);
        }
      }
      let parsed;
      try {
        parsed = new URL(String(url));
      } catch {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `url`');
      }
      const devAllowHttpLoopback = options.devAllowHttpLoopback ?? false;
      if (typeof devAllowHttpLoopback !== 'boolean') {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: `devAllowHttpLoopback`');
      }
      // The core's rule, on the URL exactly as it will be fetched: https://, or http://
      // to 127.0.0.1, [::1] or localhost only with devAllowHttpLoopback; no userinfo.
      if (!wasm.jwksUriAllowed(parsed.href, devAllowHttpLoopback)) {
        throw new JwtEdgeError(
          'config_invalid',
          'invalid configuration: `url` must be https:// without userinfo (http:// only to 127.0.0.1, [::1] or localhost, with `devAllowHttpLoopback`)',
        );
      }
      this.url = parsed.href;
      const maxAge = positiveInteger('cacheMaxAgeSeconds', options.cacheMaxAgeSeconds, 600);
      const cooldown = positiveInteger('cooldownSeconds', options.cooldownSeconds, 30);
      this.timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, 5000);
      if (maxAge > 0xffffffff || cooldown > 0xffffffff) {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: duration too long');
      }
      this.fetchCount = 0;
      this.cache = new wasm.JwksCache(maxAge, cooldown);
      this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
      this.inflight = null;
    }

    /** Fetches the set once at a time; resolves to `true` on success, never rejects. */
    reload(now) {
      if (!this.inflight) {
        this.inflight = this.fetchOnce(now)
          .catch(() => false)
          .then((ok) => {
            if (!ok) this.cache.failed(now);
            return ok;
          })
          .finally(() => {
            this.inflight = null;
          });
      }
      return this.inflight;
    }

    async fetchOnce(now) {
      this.fetchCount += 1;
      const headers = { accept: 'application/json, application/jwk-set+json' };
      const etag = this.cache.etag();
      if (etag) headers['if-none-match'] = etag;
      try {
        // Redirects are not followed: the set comes from this URL or not at all (a 3xx,
        // or a `fetch` that followed one anyway, is a failed fetch).
        const response = await this.fetchImpl(this.url, {
          headers,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (response.redirected) return false;
        const cacheControl = response.headers.get('cache-control') ?? undefined;
        if (response.status === 304 && this.cache.jwks(now)) {
          this.cache.revalidated(now, cacheControl);
          return true;
        }
        if (response.status !== 200) return false;
        const text = await readCapped(response, MAX_JWKS_BYTES);
        if (text === null) return false;
        return this.cache.store(text, now, cacheControl, response.headers.get('etag') ?? undefined) === '';
      } catch {
        return false;
      }
    }

    /**
     * Verifies with the set's keys, imported once per (set, options) and then reused;
     * `source` is where the set came from for this call (the verdict's `key_source`).
     */
    verifyWith(jwks, token, options, now, source) {
      const { now: _ignored, ...rest } = options ?? {};
      const policy = toJson(rest);
      const cached = this.compiled;
      if (!cached || cached.jwks !== jwks || cached.policy !== policy) {
        this.compiled = null;
        cached?.verifier.free();
        const verifier = compileRemote(policy, jwks);
        this.compiled = { jwks, policy, verifier };
      }
      return run(this.compiled.verifier, token, now, source);
    }

    /** Verifies `token` against the remote set; the same options as `verify` but `jwks`. */
    async verify(token, options = {}) {
      if (options && 'jwks' in options) {
        throw new JwtEdgeError('config_invalid', 'invalid configuration: RemoteJwks provides `jwks`');
      }
      const now = options?.now ?? Math.floor(Date.now() / 1000);
      const state = this.cache.state(now);
      // Where this call's set comes from: held (`memory`), fetched now (`issuer`), or held
      // past its freshness because the issuer could not be reached (`stale`).
      let source = 'memory';
      if (state === 'refresh_ahead') {
        if (this.cache.fetchAllowed(now)) void this.reload(now);
      } else if (state !== 'fresh') {
        // empty, stale or expired: fetch now; a stale set keeps serving if it fails.
        const fetched = this.cache.fetchAllowed(now) && (await this.reload(now));
        source = fetched ? 'issuer' : 'stale';
      }
      const jwks = this.cache.jwks(now);
      if (!jwks) throw new JwtEdgeError('jwks_unavailable', "the issuer's keys are unavailable");
      try {
        return this.verifyWith(jwks, token, options, now, source);
      } catch (err) {
        const kid = err?.code === 'no_matching_key' ? safeKid(token) : undefined;
        if (!kid || !this.cache.mayRefetchFor(kid, now)) throw err;
        const ok = await this.reload(now);
        const retried = this.cache.jwks(now);
        let result;
        try {
          if (!retried) throw err;
          result = this.verifyWith(retried, token, options, now, ok ? 'issuer' : source);
        } catch (again) {
          this.cache.refetched(now, again?.code === 'no_matching_key' ? kid : undefined);
          throw ok ? again : err;
        }
        this.cache.refetched(now, undefined);
        return result;
      }
    }
  }

  function safeKid(token) {
    try {
      const kid = decodeUnverified(token).header.kid;
      return typeof kid === 'string' ? kid : undefined;
    } catch {
      return undefined;
    }
  }

  return { verify, Verifier, decodeUnverified, RemoteJwks, JwtEdgeError };
}
