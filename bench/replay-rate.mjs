// Sustained rate of one-time tokens through one isolate's replay protection, in
// workerd (Miniflare), with the issuer's replay memory far smaller than the run, so
// that most of the run goes through a full memory. Before per-issuer memories a full
// memory answered 503 to every fresh token (capped at 100 000 ÷ (lifetime + skew)
// tokens/s per isolate); now every fresh token must be accepted and every replay
// refused. Tokens are minted before timing; a bounded loop (N requests, C at once).
// Not a test. Run: bash scripts/build-worker.sh && node bench/replay-rate.mjs [N] [MEMORY] [C]
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { JwksServer, ROOT, closeAll, mint, newKey, startWorker } from '../tests/edge/harness.mjs';

const N = Number(process.argv[2] ?? 4000);
const MEMORY = Number(process.argv[3] ?? 500);
const C = Number(process.argv[4] ?? 16);
const ENTRY = ['fault-entry.mjs', 'memory-probe.mjs'].map((f) => path.join(ROOT, 'tests/edge', f));

async function run(worker, tokens) {
  const statuses = new Map();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < tokens.length) {
        const token = tokens[next++];
        const res = await worker.fetch('/', { token });
        const key = `${res.status} ${res.json?.code ?? ''}`.trim();
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  return { rate: tokens.length / s, s, statuses: Object.fromEntries(statuses) };
}

try {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  console.log(`one-time tokens through one isolate: ${N} fresh, then ${N} replays; replay_memory ${MEMORY}; ${C} at once`);
  for (const mode of ['best-effort', 'strict']) {
    const iss = `https://${mode}.rate.test`;
    const worker = await startWorker({
      config: {
        dev_allow_http_loopback: true,
        mode: 'verdict',
        issuers: [{ issuer: iss, jwks_uri: jwks.uri, replay: mode, replay_memory: MEMORY }],
      },
      entry: ENTRY,
    });
    // Warm up the isolate (keys fetched, wasm compiled).
    await worker.fetch('/', { token: await mint(key, { iss, jti: randomUUID() }, { lifetime: 3600 }) });
    const tokens = await Promise.all(
      Array.from({ length: N }, () => mint(key, { iss, jti: randomUUID() }, { lifetime: 3600 })),
    );
    const fresh = await run(worker, tokens);
    const replays = await run(worker, tokens);
    const wasm = (await worker.fetch('/__test/wasm-memory')).json.bytes;
    console.log(
      `  ${mode.padEnd(12)} fresh: ${fresh.rate.toFixed(0)}/s (${fresh.s.toFixed(1)} s) ${JSON.stringify(fresh.statuses)}` +
        `   replays: ${replays.rate.toFixed(0)}/s ${JSON.stringify(replays.statuses)}   wasm memory ${(wasm / 1048576).toFixed(1)} MiB`,
    );
    await worker.dispose();
  }
} finally {
  await closeAll();
}
