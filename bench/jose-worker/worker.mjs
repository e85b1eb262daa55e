// The reference worker for bench/worker-vs-jose.mjs: what a jose user would write to do
// the jwt-edge worker's verdict-mode job with best-effort replay, and nothing more.
//
// - The remote key set is created once per isolate (lazily, on the first request), so
//   its keys stay cached in memory across requests like jwt-edge's.
// - `jwtVerify` with the same policy as the jwt-edge issuer in the benchmark: issuer,
//   audience, ES256/RS256 only, 60 s clock tolerance, `exp` and `jti` required (jose
//   requires no claim by default).
// - Replay: a `jti` already in the REPLAY KV namespace is refused, otherwise recorded
//   with expirationTtl = max(60, exp − now) (KV refuses shorter TTLs).
// - One JSON log line per decision, as jwt-edge writes, so both workers pay for one
//   console.log per request.
// - 200 JSON verdict; 401 problem+json with `WWW-Authenticate: Bearer` on any failure.
//
// Bindings: JWKS_URI, ISS, AUD (text), REPLAY (KV); REPLAY_OFF "1" skips the replay
// check (the benchmark's reused-token scenario, where clients send their token again). The benchmark bundles it with
// esbuild (jose's web build) into target/bench/jose-worker.js; not part of jwt-edge.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const REALM = 'jose-bench';
const ALGORITHMS = ['ES256', 'RS256'];
const KV_MIN_TTL = 60;

/** The isolate's remote key set: jose caches the keys and rate-limits refetches. */
let jwks;

class Refusal extends Error {
  constructor(code, description) {
    super(description);
    this.code = code;
  }
}

/** The token from `Authorization: Bearer …` (RFC 6750 §2.1). */
function bearer(request) {
  const value = request.headers.get('authorization');
  if (!value) throw new Refusal('token_missing', 'no bearer token');
  const m = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(value);
  if (!m) throw new Refusal('token_malformed', 'malformed Authorization header');
  return m[1];
}

/** Best-effort replay check on KV: no insert-if-absent, eventually consistent. */
async function checkReplay(env, payload) {
  const key = `jti:${payload.iss}:${payload.jti}`;
  if ((await env.REPLAY.get(key)) !== null) throw new Refusal('token_replayed', 'token already used');
  const ttl = Math.max(KV_MIN_TTL, payload.exp - Math.floor(Date.now() / 1000));
  await env.REPLAY.put(key, '1', { expirationTtl: ttl });
}

function verdict(payload, header) {
  const body = { valid: true, iss: payload.iss, sub: payload.sub, kid: header.kid, alg: header.alg, claims: payload };
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}

function refusal(code, description) {
  const challenge =
    code === 'token_missing'
      ? `Bearer realm="${REALM}"`
      : `Bearer realm="${REALM}", error="invalid_token", error_description="${description.replace(/["\\]/g, '')}"`;
  const body = { type: 'about:blank', title: 'Unauthorized', status: 401, code };
  return new Response(JSON.stringify(body), {
    status: 401,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'www-authenticate': challenge },
  });
}

export default {
  async fetch(request, env) {
    const started = Date.now();
    jwks ??= createRemoteJWKSet(new URL(env.JWKS_URI));
    let response;
    let code = 'ok';
    let header = {};
    let iss = null;
    try {
      const token = bearer(request);
      const verified = await jwtVerify(token, jwks, {
        issuer: env.ISS,
        audience: env.AUD,
        algorithms: ALGORITHMS,
        clockTolerance: 60,
        requiredClaims: ['exp', 'jti'],
      });
      header = verified.protectedHeader;
      iss = verified.payload.iss;
      if (env.REPLAY_OFF !== '1') await checkReplay(env, verified.payload);
      response = verdict(verified.payload, header);
    } catch (err) {
      // jose's errors carry a stable code (ERR_JWS_SIGNATURE_VERIFICATION_FAILED, …).
      code = err.code ?? 'internal';
      response = refusal(code, err instanceof Refusal || err.code ? err.message : 'verification failed');
    }
    console.log(
      JSON.stringify({
        event: 'decision',
        outcome: code === 'ok' ? 'accept' : 'refuse',
        code,
        iss,
        kid: header.kid ?? null,
        alg: header.alg ?? null,
        duration_us: (Date.now() - started) * 1000,
      }),
    );
    return response;
  },
};
