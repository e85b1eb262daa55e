// Workers in workerd (Miniflare 5) that listen on 127.0.0.1 for a load generator, each
// in its own Miniflare instance, hence its own workerd process whose CPU time can be
// read from /proc. Used by bench/worker-vs-jose.mjs; not a test helper.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { COMPATIBILITY_DATE, ROOT, WORKER_JS, WORKER_WASM } from '../../tests/edge/harness.mjs';

/** Clock ticks per second of /proc/PID/stat's utime and stime (`getconf CLK_TCK`). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Pids of this process's `workerd` children (Miniflare spawns the binary directly). */
function workerdChildren() {
  const pids = new Set();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat && stat.comm === 'workerd' && stat.ppid === process.pid) pids.add(Number(name));
  }
  return pids;
}

/**
 * `{ comm, ppid, utime, stime }` of /proc/PID/stat (man 5 proc: fields 2, 4, 14, 15; the
 * times are the whole thread group's, in clock ticks), or null once the process is gone.
 */
function procStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm is in parentheses and may itself contain spaces or ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' '); // rest[0] is field 3 (state)
  return { comm: text.slice(open + 1, close), ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
}

/** CPU seconds (user + system) the process has used so far, or NaN if it is gone. */
export function cpuSeconds(pid) {
  const stat = pid ? procStat(pid) : null;
  return stat ? (stat.utime + stat.stime) / CLK_TCK : NaN;
}

/**
 * Starts one worker in its own workerd, listening on 127.0.0.1 (a free port). Returns
 * `{ name, mf, url, pid, logs, dispose }`; `logs` counts the structured log lines (the
 * workers write one per decision), which are otherwise dropped. Request logging is off:
 * with it on, every request would also make a round trip to this Node process.
 */
async function startHttpWorker(name, options) {
  const before = workerdChildren();
  const logs = { count: 0, errors: [] };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      rootPath: ROOT,
      compatibilityDate: COMPATIBILITY_DATE,
      host: '127.0.0.1',
      port: 0,
      logRequests: false,
      handleStructuredLogs: (log) => {
        logs.count += 1;
        if (log.level === 'error' && logs.errors.length < 20) logs.errors.push(log.message);
      },
      ...options,
    }),
  );
  const worker = { name, mf, url: null, pid: null, logs, dispose: () => mf.dispose() };
  try {
    worker.url = (await mf.ready).href;
    const fresh = [...workerdChildren()].filter((pid) => !before.has(pid));
    // One new workerd per instance; if that cannot be told apart, CPU is not reported.
    worker.pid = fresh.length === 1 ? fresh[0] : null;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  return worker;
}

/**
 * The built jwt-edge worker (build/index.js + build/index_bg.wasm), as the edge tests run it.
 * `extra`: more Miniflare options (bench/worker-profile.mjs adds `inspectorPort`).
 */
export function startEdgeWorker(config, name = 'jwt-edge', extra = {}) {
  return startHttpWorker(name, {
    ...extra,
    modules: [
      { type: 'ESModule', path: WORKER_JS },
      { type: 'CompiledWasm', path: WORKER_WASM },
    ],
    kvNamespaces: ['JWKS_CACHE', 'REPLAY'],
    durableObjects: { REPLAY_GUARD: 'ReplayGuard' },
    bindings: { JWT_EDGE_CONFIG: JSON.stringify(config) },
  });
}

/** Bundles the jose reference worker into `outfile` with jose's web build (workerd has no Node built-ins here). */
export async function bundleJoseWorker(outfile) {
  mkdirSync(path.dirname(outfile), { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'bench/jose-worker/worker.mjs')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    logLevel: 'warning',
  });
}

/** The bundled jose reference worker (bench/jose-worker/worker.mjs). */
export function startJoseWorker(bundlePath, { jwksUri, issuer, audience, replay = true, name = 'jose' }, extra = {}) {
  return startHttpWorker(name, {
    ...extra,
    modules: [{ type: 'ESModule', path: bundlePath }],
    kvNamespaces: ['REPLAY'],
    bindings: { JWKS_URI: jwksUri, ISS: issuer, AUD: audience, REPLAY_OFF: replay ? '' : '1' },
  });
}

/** The floor worker (bench/floor-worker/worker.mjs): the same request and answer, no verification. */
export function startFloorWorker(extra = {}) {
  return startHttpWorker('floor (no verification)', {
    ...extra,
    modules: [{ type: 'ESModule', path: `${ROOT}/bench/floor-worker/worker.mjs` }],
  });
}
