// jwt-edge/hono: Hono middleware over the package's API. It decides nothing itself:
// where the token is read from, verification, scope and claim checks, replay, and the
// refusal's status, challenge and problem+json body are all the core's, exactly what the
// jwt-edge worker answers. This file only wires Hono's context to the package.
//
// The core is imported by the package's own name (a self-reference through "exports"),
// never from a relative file, so each runtime gets its own entry: `workerd` under
// wrangler, `node` under Node and Bun, `deno` under Deno, `edge-light` under Next.js.
import { HTTPException } from 'hono/http-exception';
import { JwtEdgeError, RemoteJwks, ReplayGuard, Verifier, extractToken, refusal } from 'jwt-edge';

/** The options this middleware reads itself; every other option goes to the core as is. */
const OWN_OPTIONS = new Set([
  'jwks', 'jwksOptions', 'discovery', 'optional', 'cookie', 'headerName', 'realm', 'kv', 'replay', 'resourceMetadata',
]);

/**
 * One `RemoteJwks` per JWKS URL for the whole isolate: a key set is fetched once and
 * served to every request (and every middleware naming the same URL) from memory, then
 * from the KV namespace when one is given, as in the worker.
 */
const remotes = new Map();

/** One `ReplayGuard` per KV namespace, so its isolate-memory tier lasts across requests. */
const guards = new WeakMap();

function configError(message) {
  return new JwtEdgeError('config_invalid', `invalid configuration: ${message}`);
}

/** A value that may be given as `(c) => value`. */
const resolve = (value, c) => (typeof value === 'function' ? value(c) : value);

/** Whether `jwks` names a remote set (a URL, or a function returning one per request). */
function isRemote(jwks) {
  if (jwks instanceof URL || typeof jwks === 'function') return true;
  return typeof jwks === 'string' && !jwks.trimStart().startsWith('{');
}

/**
 * The module-level `RemoteJwks` for `url`, or for the issuer whose key set is found by
 * discovery (`issuer`), made on first use with the KV this request sees.
 */
function remoteFor({ url, issuer }, jwksOptions, kv) {
  const key = issuer === undefined ? String(url) : `discovery ${issuer}`;
  let remote = remotes.get(key);
  if (!remote) {
    const options = kv === undefined ? { ...jwksOptions } : { ...jwksOptions, kv };
    remote = issuer === undefined ? new RemoteJwks(url, options) : RemoteJwks.fromIssuer(issuer, options);
    remotes.set(key, remote);
  }
  return remote;
}

function guardFor(kv) {
  let guard = guards.get(kv);
  if (!guard) {
    guard = new ReplayGuard({ kv });
    guards.set(kv, guard);
  }
  return guard;
}

/** The request's `ctx.waitUntil`, when Hono has an execution context (Workers do). */
function waitUntilOf(c) {
  let ctx;
  try {
    ctx = c.executionCtx;
  } catch {
    return undefined; // Hono throws when the runtime gave none (Node, app.request)
  }
  return typeof ctx?.waitUntil === 'function' ? ctx.waitUntil.bind(ctx) : undefined;
}

/** The token sources, in the worker's `sources` format. */
function tokenSources({ headerName, cookie }) {
  if (headerName !== undefined && (typeof headerName !== 'string' || headerName === '')) throw configError('`headerName`');
  if (cookie !== undefined && (typeof cookie !== 'string' || cookie === '')) throw configError('`cookie`');
  const sources = [];
  if (headerName === undefined || headerName.toLowerCase() === 'authorization') {
    sources.push({ type: 'authorization', schemes: ['Bearer'] });
  } else {
    sources.push({ type: 'header', name: headerName });
  }
  if (cookie !== undefined) sources.push({ type: 'cookie', name: cookie });
  return sources;
}

/**
 * `app.use('/api/*', jwtEdge({ jwks: 'https://issuer.example/.well-known/jwks.json',
 * issuer, audience }))`: verifies the request's token; the claims go to
 * `c.get('jwtPayload')`, the verdict to `c.get('jwtEdge')`. A refusal is thrown as
 * Hono's `HTTPException` whose `res` is the worker's answer (RFC 6750 challenge,
 * problem+json body) and whose `cause` is the `JwtEdgeError`.
 */
export function jwtEdge(options = {}) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw configError('`options` must be an object');
  }
  const policy = {};
  for (const [name, value] of Object.entries(options)) {
    if (!OWN_OPTIONS.has(name) && value !== undefined) policy[name] = value;
  }
  // `realm` absent: the core's default (the worker's).
  const { jwks, jwksOptions = {}, discovery = false, optional = false, realm, kv, replay, resourceMetadata } = options;
  if (typeof optional !== 'boolean') throw configError('`optional`');
  // `discovery: true`: the key set of `issuer`, found through its OpenID Connect (or
  // RFC 8414) metadata by the core, instead of a `jwks` URL.
  if (typeof discovery !== 'boolean') throw configError('`discovery`');
  if (discovery && (jwks !== undefined || typeof policy.issuer !== 'string')) {
    throw configError('`discovery` finds the key set of one `issuer` (a string), without `jwks`');
  }
  if (realm !== undefined && typeof realm !== 'string') throw configError('`realm`');
  if (resourceMetadata !== undefined && typeof resourceMetadata !== 'string') throw configError('`resourceMetadata`');
  if (jwksOptions === null || typeof jwksOptions !== 'object' || 'kv' in jwksOptions) {
    throw configError('`jwksOptions` (an object; the KV namespace is the `kv` option)');
  }
  if (kv !== undefined && !discovery && !isRemote(jwks)) {
    throw configError('`kv` caches a remote key set: `jwks` must be its URL');
  }
  if (replay !== undefined && (replay === null || typeof replay !== 'object' || replay.kv === undefined)) {
    throw configError('`replay` must be `{ kv: (c) => c.env.REPLAY }`');
  }
  const sources = tokenSources(options);
  const scope = Array.isArray(policy.scopes) ? policy.scopes.join(' ') : undefined;
  const challenge = { realm, scope, resourceMetadata };

  // Keys given in the options: imported once, here, with the policy fixed (the core
  // refuses unusable options now, at set-up, with a JwtEdgeError).
  const local = discovery || isRemote(jwks) ? null : new Verifier(jwks === undefined ? policy : { ...policy, jwks: Array.isArray(jwks) ? { keys: jwks } : jwks });

  function refuse(err) {
    const answer = refusal(err, challenge);
    throw new HTTPException(answer.status, {
      message: err.message,
      cause: err,
      res: new Response(answer.body, { status: answer.status, headers: answer.headers }),
    });
  }

  return async function jwtEdgeMiddleware(c, next) {
    let verdict;
    try {
      let token;
      try {
        token = extractToken({ sources, headers: (name) => c.req.header(name) ?? null, maxTokenBytes: policy.maxTokenBytes });
      } catch (err) {
        // No token at all on an optional route: the request goes on anonymously. A token
        // that is there must be valid, as on the worker's `auth: optional` routes.
        if (optional && err instanceof JwtEdgeError && err.code === 'token_missing') return next();
        throw err;
      }
      if (local) {
        verdict = local.verify(token);
      } else {
        const source = discovery ? { issuer: policy.issuer } : { url: resolve(jwks, c) };
        const remote = remoteFor(source, jwksOptions, resolve(kv, c));
        const waitUntil = waitUntilOf(c);
        verdict = await remote.verify(token, waitUntil ? { ...policy, waitUntil } : policy);
      }
      if (replay) {
        await guardFor(resolve(replay.kv, c)).check(verdict, {
          now: Math.floor(Date.now() / 1000),
          clockSkewSeconds: policy.clockSkewSeconds,
        });
      }
    } catch (err) {
      if (err instanceof JwtEdgeError) refuse(err);
      throw err;
    }
    c.set('jwtPayload', verdict.claims);
    c.set('jwtEdge', verdict);
    await next();
  };
}
