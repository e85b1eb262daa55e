// Per-request latency of the built worker in real workerd (Miniflare), with the JWKS
// already cached in isolate memory, for ES256 and RS256, beside a baseline request that
// the worker refuses at once (no token). The difference is what verification costs.
// Not a test: numbers depend on the machine. Run: node bench/edge-latency.mjs [N]
import { performance } from 'node:perf_hooks';
import { JwksServer, closeAll, mint, newKey, startWorker } from '../tests/edge/harness.mjs';

const N = Number(process.argv[2] ?? 300);
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: q(0.5), p99: q(0.99) };
};
const fmt = (x) => `${(x * 1000).toFixed(0)} µs`;

try {
  const keys = { ES256: await newKey('ES256'), RS256: await newKey('RS256') };
  const jwks = await JwksServer.start(Object.values(keys));
  const worker = await startWorker({
    config: {
      dev_allow_http_loopback: true,
      mode: 'verdict',
      issuers: [{ issuer: 'https://issuer.test', jwks_uri: jwks.uri, audiences: ['api'] }],
    },
  });
  const tokens = {};
  for (const [alg, key] of Object.entries(keys)) {
    tokens[alg] = await mint(key, { iss: 'https://issuer.test', aud: 'api', sub: 'bench' }, { lifetime: 3600 });
  }
  const time = async (token) => {
    const t0 = performance.now();
    const res = await worker.fetch('/', { token });
    const ms = performance.now() - t0;
    if (token && res.status !== 200) throw new Error(`unexpected ${res.status} ${res.text}`);
    return ms;
  };
  // Warm up: fills the isolate's key cache and JITs both paths.
  for (let i = 0; i < 50; i++) for (const t of [undefined, ...Object.values(tokens)]) await time(t);
  const rows = { 'baseline (no token, 401)': [], ...Object.fromEntries(Object.keys(tokens).map((a) => [a, []])) };
  for (let i = 0; i < N; i++) {
    rows['baseline (no token, 401)'].push(await time(undefined));
    for (const [alg, t] of Object.entries(tokens)) rows[alg].push(await time(t));
  }
  const base = stats(rows['baseline (no token, 401)']);
  console.log(`edge worker in workerd (Miniflare), ${N} sequential requests each, JWKS cached in memory`);
  for (const [name, xs] of Object.entries(rows)) {
    const s = stats(xs);
    const extra = name.startsWith('baseline') ? '' : `   verification ≈ ${fmt(s.p50 - base.p50)} (p50 − baseline p50)`;
    console.log(`  ${name.padEnd(26)} mean ${fmt(s.mean)}  p50 ${fmt(s.p50)}  p99 ${fmt(s.p99)}${extra}`);
  }
  console.log(`  JWKS fetches during the run: ${jwks.requests.length}`);
} finally {
  await closeAll();
}
