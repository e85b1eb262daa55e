// Added latency of replay protection per request, in workerd (Miniflare): the same
// ES256 verification with replay off, best-effort (KV) and strict (Durable Objects),
// each request with a fresh jti. Tokens are minted before timing. Not a test.
// Run: node bench/replay-latency.mjs [N]
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { JwksServer, closeAll, mint, newKey, startWorker } from '../tests/edge/harness.mjs';
import { p50, p99, us } from './lib/percentiles.mjs';

const N = Number(process.argv[2] ?? 200);

try {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const modes = ['off', 'best-effort', 'strict'];
  const issuers = modes.map((replay) => ({ issuer: `https://${replay}.test`, jwks_uri: jwks.uri, replay }));
  const worker = await startWorker({ config: { dev_allow_http_loopback: true, mode: 'verdict', issuers } });
  const tokens = {};
  for (const m of modes) {
    tokens[m] = await Promise.all(
      Array.from({ length: N + 50 }, () => mint(key, { iss: `https://${m}.test`, jti: randomUUID() }, { lifetime: 600 })),
    );
  }
  const times = Object.fromEntries(modes.map((m) => [m, []]));
  for (let i = 0; i < N + 50; i++) {
    for (const m of modes) {
      const t0 = performance.now();
      const res = await worker.fetch('/', { token: tokens[m][i] });
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`${m}: ${res.status} ${res.text}`);
      if (i >= 50) times[m].push(ms); // the first 50 warm up
    }
  }
  console.log(`replay modes in workerd (Miniflare), ${N} sequential requests each, fresh jti every time`);
  const base = p50(times.off);
  for (const m of modes) {
    const extra = m === 'off' ? '' : `   added ≈ ${us(p50(times[m]) - base)} (p50 − off p50)`;
    console.log(`  ${m.padEnd(12)} p50 ${us(p50(times[m]))}  p99 ${us(p99(times[m]))}${extra}`);
  }
} finally {
  await closeAll();
}
