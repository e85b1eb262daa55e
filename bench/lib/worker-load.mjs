// One bounded HTTP load run with autocannon, for bench/worker-vs-jose.mjs: keep-alive
// connections sending `GET /` with `Authorization: Bearer <token>`, every answer checked,
// latency measured per request (µs resolution; autocannon's own histogram keeps whole
// milliseconds), and the CPU time the target's workerd process spent. Not a test helper.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { cpuSeconds } from './worker-miniflare.mjs';

/** Seconds a run may overrun its duration (slow answers, teardown) before it is abandoned. */
const GRACE_SECONDS = 30;

/** The value at quantile `q` of sorted `xs` (nearest rank). */
const quantile = (xs, q) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] : NaN);

/**
 * Runs load against `url` until `duration` seconds have passed or `maxRequests` requests
 * were sent, whichever comes first.
 *
 * - `tokens`: an array, each token sent once, in order (the run ends when it runs out:
 *   autocannon's `amount` is its length), or a string sent with every request.
 * - `cycle`: with an array, send its tokens round and round instead (clients that each
 *   reuse their token): the run ends by the clock or `maxRequests`.
 * - `expect`: `{ status, body }`, `body` an optional predicate on the response text;
 *   any other answer, connection error or timeout counts as `wrong`.
 * - `pid`: the workerd process whose CPU time is attributed to these requests.
 *
 * Returns `{ requests, seconds, rps, latencyMs: {p50, p99, mean, max}, statuses, wrong,
 * wrongSamples, errors, timeouts, poolExhausted, cpuUsPerRequest, loadgenCpuUsPerRequest }`.
 */
export function runLoad({ url, connections, duration, tokens, cycle = false, maxRequests = 1_000_000, expect, pid }) {
  const pool = Array.isArray(tokens) ? tokens : null;
  const amount = pool && !cycle ? pool.length : maxRequests;
  if (amount < connections) throw new Error(`${amount} requests cannot feed ${connections} connections`);

  const latencies = new Float64Array(amount);
  const statuses = {};
  const wrongSamples = [];
  let received = 0;
  let wrong = 0;
  let issued = 0;
  let lastAt = 0;

  const check = (status, body) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === expect.status && (!expect.body || expect.body(body))) return;
    wrong += 1;
    if (wrongSamples.length < 3) wrongSamples.push(`${status} ${String(body).slice(0, 200)}`);
  };
  const request = pool
    ? {
        method: 'GET',
        path: '/',
        // Called once per request sent (autocannon builds each request just before it
        // writes it), so `issued` never passes `amount`; the guard is belt and braces.
        setupRequest(req) {
          const token = cycle ? pool[issued % pool.length] : pool[Math.min(issued, pool.length - 1)];
          issued += 1;
          return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
        },
        onResponse: check,
      }
    : { method: 'GET', path: '/', headers: { authorization: `Bearer ${tokens}` }, onResponse: check };

  return new Promise((resolve, reject) => {
    const cpu0 = cpuSeconds(pid);
    const node0 = process.cpuUsage();
    const t0 = performance.now();
    let stopTimer;
    let guardTimer;
    const instance = autocannon(
      {
        url,
        connections,
        pipelining: 1,
        amount,
        timeout: 10,
        // How often autocannon looks at its stop flag: a run that ends (amount reached or
        // stop()) is wound up within this many ms.
        sampleInt: 100,
        requests: [request],
      },
      (err, result) => {
        clearTimeout(stopTimer);
        clearTimeout(guardTimer);
        if (err) return reject(err);
        const cpu = cpuSeconds(pid) - cpu0;
        const node = process.cpuUsage(node0);
        const n = Math.min(received, amount);
        const sorted = latencies.subarray(0, n).sort();
        const seconds = ((lastAt || performance.now()) - t0) / 1000;
        const mean = n ? sorted.reduce((a, b) => a + b, 0) / n : NaN;
        const overrun = cycle ? 0 : Math.max(0, issued - (pool?.length ?? Infinity));
        resolve({
          requests: received,
          seconds,
          rps: received / seconds,
          latencyMs: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), mean, max: sorted[n - 1] ?? NaN },
          statuses,
          wrong: wrong + result.errors + overrun,
          wrongSamples,
          errors: result.errors,
          timeouts: result.timeouts,
          // Ended by the pool rather than the clock: still a valid measurement, only shorter.
          poolExhausted: Boolean(pool) && !cycle && received >= pool.length,
          cpuUsPerRequest: (cpu * 1e6) / received,
          loadgenCpuUsPerRequest: (node.user + node.system) / received,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => {
      if (received < amount) latencies[received] = ms;
      received += 1;
      lastAt = performance.now();
    });
    stopTimer = setTimeout(() => instance.stop(), duration * 1000);
    guardTimer = setTimeout(() => {
      instance.stop();
      reject(new Error(`load run on ${url} did not end within ${duration + GRACE_SECONDS} s`));
    }, (duration + GRACE_SECONDS) * 1000);
  });
}
