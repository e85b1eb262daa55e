// The floor for bench/worker-vs-jose.mjs: a worker that does everything the two
// verifying workers do per request except verify — reads the bearer token, writes one
// JSON decision line, answers a 200 JSON verdict of the token's (unverified) payload.
// Its CPU per request is what workerd, Miniflare's entry worker and HTTP cost on this
// machine; what a verifying worker costs above it is the verifier's share.
export default {
  async fetch(request) {
    const started = Date.now();
    const token = (request.headers.get('authorization') ?? '').replace(/^Bearer +/i, '');
    let payload = null;
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      payload = JSON.parse(atob(part));
    } catch {
      payload = null;
    }
    const ok = payload !== null;
    console.log(
      JSON.stringify({ event: 'decision', outcome: ok ? 'accept' : 'refuse', code: ok ? 'ok' : 'token_malformed', duration_us: (Date.now() - started) * 1000 }),
    );
    return new Response(JSON.stringify({ valid: ok, claims: payload }), {
      status: ok ? 200 : 401,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
  },
};
