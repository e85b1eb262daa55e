// Timing loops and statistics for bench/wasm-vs-jose.mjs: one call in flight at a time,
// each call timed with performance.now(), CPU taken from process.cpuUsage() around the
// whole loop. process.cpuUsage() is getrusage(RUSAGE_SELF): it counts every thread of the
// process, so the libuv thread-pool work behind Node's WebCrypto (which jose awaits) and
// V8's GC and compiler threads are charged to the library that caused them.
import { performance } from 'node:perf_hooks';

/**
 * Calls the synchronous `fn` back to back until `seconds` have passed or `maxCount` calls
 * were made. Latencies (ms) go to `samples` from `offset` on, when `samples` is given.
 * Returns `{ count, wallMs, cpuUs }` for the loop.
 */
export function loopSync(fn, seconds, maxCount, samples = null, offset = 0) {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let end = start;
  let count = 0;
  while (count < maxCount && end < deadline) {
    const t0 = performance.now();
    fn();
    end = performance.now();
    if (samples) samples[offset + count] = end - t0;
    count += 1;
  }
  const cpu = process.cpuUsage(cpu0);
  return { count, wallMs: end - start, cpuUs: cpu.user + cpu.system };
}

/** `loopSync` for an async `fn`: each call is awaited before the next starts. */
export async function loopAsync(fn, seconds, maxCount, samples = null, offset = 0) {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let end = start;
  let count = 0;
  while (count < maxCount && end < deadline) {
    const t0 = performance.now();
    await fn();
    end = performance.now();
    if (samples) samples[offset + count] = end - t0;
    count += 1;
  }
  const cpu = process.cpuUsage(cpu0);
  return { count, wallMs: end - start, cpuUs: cpu.user + cpu.system };
}

/** The `q` quantile (0..1, nearest rank) of an ascending array. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** The median of plain numbers. */
export function median(values) {
  return quantile(Float64Array.from(values).sort(), 0.5);
}
