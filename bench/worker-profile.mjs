// Where the jwt-edge worker spends its CPU in workerd, per request: V8's sampling CPU
// profiler, through workerd's inspector (Chrome DevTools protocol on 127.0.0.1), while
// autocannon sends bounded load. Issue 18 asks, for each missed worker target, for "the
// profile that says why"; this is it. Self time is grouped by function (wasm functions
// keep their Rust names: the release build strips debug info, not the name section) and
// by kind: the core's wasm, other wasm (std, serde, the worker crate's glue), JavaScript
// (wasm-bindgen's glue, workerd's runtime), garbage collection, and "(program)" (V8 and
// workerd native code outside any JS or wasm frame: HTTP, KV, Durable Object I/O).
//
// Scenarios (the same requests as bench/worker-vs-jose.mjs):
//   reused  100 clients each sending its own ES256 token again and again, replay off:
//           answered from the verified-token cache
//   fresh   a fresh ES256 token per request, best-effort replay on KV
//   bad     an ES256 token with a flipped signature byte (refused before replay)
//   floor   the reused requests against bench/floor-worker/worker.mjs (no verification:
//           the same request, log line and JSON answer), for comparison
//   jose-reused, jose-fresh, jose-bad   the same against bench/jose-worker/worker.mjs
//
// A benchmark, not a test. Usage (Node 22, built worker: bash scripts/build-worker.sh):
//   node bench/worker-profile.mjs [--scenarios reused,fresh,bad] [--duration 4] [--connections 8]
//     [--interval 50] [--top 25] [--out target/bench/worker-profile.json]
// Writes the JSON and target/bench/worker-profile.md (a section BENCHMARKS.md can quote).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AUD, ISS, JwksServer, closeAll, mint, newKey, ROOT } from '../tests/edge/harness.mjs';
import { runLoad } from './lib/worker-load.mjs';
import { bundleJoseWorker, startEdgeWorker, startFloorWorker, startJoseWorker } from './lib/worker-miniflare.mjs';

const { values: args } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'reused,jose-reused,floor,fresh,jose-fresh,bad,jose-bad' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '8' },
    interval: { type: 'string', default: '50' },
    top: { type: 'string', default: '25' },
    out: { type: 'string', default: path.join(ROOT, 'target/bench/worker-profile.json') },
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const TOP = Number(args.top);
const LIFETIME = 3600;
const DESCRIBE = {
  reused: 'jwt-edge, 100 clients reusing their ES256 tokens, replay off: verified-token cache hits',
  'jose-reused': 'jose worker, the same requests',
  floor: 'floor worker, the same requests, no verification',
  fresh: 'jwt-edge, a fresh ES256 token per request, KV replay check',
  'jose-fresh': 'jose worker, the same',
  bad: 'jwt-edge, one ES256 token with a flipped signature byte',
  'jose-bad': 'jose worker, the same',
};

/** A free TCP port on 127.0.0.1. */
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

/** A minimal DevTools-protocol client over Node 22's WebSocket. */
async function inspect(port) {
  // workerd lists one target per worker at /json; take the one that is not internal.
  let targets = [];
  for (let i = 0; i < 50 && !targets.length; i++) {
    try {
      targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const target = targets.find((t) => !/^(core:|loopback)/.test(t.title ?? '')) ?? targets[0];
  if (!target) throw new Error('no inspector target');
  const ws = new WebSocket(target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${port}/${target.id}`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(msg.error.message));
      else resolve(msg.result);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      id += 1;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, title: target.title, close: () => ws.close() };
}

/** The kind of a profile node, by its call frame. */
function kindOf(frame) {
  const name = frame.functionName || '';
  if (['(program)', '(idle)', '(garbage collector)', '(root)'].includes(name)) return name;
  if (frame.url?.startsWith('wasm://')) {
    return /jwt_edge::(?!edge::)/.test(name) ? 'wasm: core (jwt_edge, not edge::)' : 'wasm: other (edge front end, std, serde, worker crate, crypto crates)';
  }
  return 'JavaScript (wasm-bindgen glue, workerd runtime)';
}

/** Self time per function and per kind from a V8 CPU profile, in µs per request. */
function summarise(profile, requests) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  const fns = new Map();
  const kinds = new Map();
  let total = 0;
  for (const [nodeId, us] of self) {
    const frame = byId.get(nodeId).callFrame;
    const kind = kindOf(frame);
    if (kind === '(idle)') continue;
    total += us;
    const key = `${frame.functionName || '(anonymous)'}\t${kind}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    kinds.set(kind, (kinds.get(kind) ?? 0) + us);
  }
  const per = (us) => us / requests;
  return {
    requests,
    busyUsPerRequest: per(total),
    kinds: [...kinds].sort((a, b) => b[1] - a[1]).map(([kind, us]) => ({ kind, usPerRequest: per(us), share: us / total })),
    functions: [...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([key, us]) => {
        const [name, kind] = key.split('\t');
        return { name, kind, usPerRequest: per(us), share: us / total };
      }),
  };
}

async function main() {
  const scenarios = args.scenarios.split(',');
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const results = {};
  const mintN = async (n) => {
    const out = [];
    while (out.length < n) out.push(...(await Promise.all(Array.from({ length: Math.min(256, n - out.length) }, () => mint(key, { iss: ISS, aud: AUD, sub: 'bench' }, { lifetime: LIFETIME })))));
    return out;
  };
  try {
    for (const scenario of scenarios) {
      const base = scenario.replace(/^jose-/, '');
      const replay = base === 'fresh' ? { replay: 'best-effort' } : { require_jti: true };
      const port = await freePort();
      let joseBundle;
      if (scenario.startsWith('jose-')) {
        joseBundle = path.join(ROOT, 'target/bench/jose-worker.js');
        await bundleJoseWorker(joseBundle);
      }
      const worker =
        scenario === 'floor'
          ? await startFloorWorker({ inspectorPort: port })
          : joseBundle
            ? await startJoseWorker(joseBundle, { jwksUri: jwks.uri, issuer: ISS, audience: AUD, replay: base === 'fresh', name: scenario }, { inspectorPort: port })
            : await startEdgeWorker(
              { issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD], ...replay }], mode: 'verdict', dev_allow_http_loopback: true },
              `jwt-edge (${scenario})`,
              { inspectorPort: port },
            );
      try {
        let tokens;
        let cycle = false;
        let status = 200;
        if (base === 'reused' || base === 'floor') {
          tokens = await mintN(100);
          cycle = true;
        } else if (base === 'fresh') {
          tokens = await mintN(Math.ceil(DURATION * 4000));
        } else {
          const t = await mint(key, { iss: ISS, aud: AUD, sub: 'bench' }, { lifetime: LIFETIME });
          const [h, p, sig] = t.split('.');
          const bytes = Buffer.from(sig, 'base64url');
          bytes[5] ^= 1;
          tokens = `${h}.${p}.${bytes.toString('base64url')}`;
          status = 401;
        }
        const expect = { status };
        // Warm-up (keys fetched, tiers compiled), then the profiled run.
        await runLoad({ url: worker.url, connections: CONNECTIONS, duration: 1.5, tokens: Array.isArray(tokens) && !cycle ? tokens.splice(0, 1500) : tokens, cycle, expect, pid: worker.pid });
        const inspector = await inspect(port);
        await inspector.send('Profiler.enable');
        await inspector.send('Profiler.setSamplingInterval', { interval: Number(args.interval) });
        await inspector.send('Profiler.start');
        const load = await runLoad({ url: worker.url, connections: CONNECTIONS, duration: DURATION, tokens, cycle, expect, pid: worker.pid });
        const { profile } = await inspector.send('Profiler.stop');
        inspector.close();
        const summary = summarise(profile, load.requests);
        results[scenario] = { load: { requests: load.requests, rps: load.rps, cpuUsPerRequest: load.cpuUsPerRequest, wrong: load.wrong }, ...summary };
        console.error(`${scenario}: ${load.requests} requests, ${load.rps.toFixed(0)} req/s, workerd CPU ${load.cpuUsPerRequest.toFixed(0)} µs/request, profiled (busy) ${summary.busyUsPerRequest.toFixed(0)} µs/request, wrong ${load.wrong}`);
      } finally {
        await worker.dispose();
      }
    }
  } finally {
    await jwks.close?.();
    await closeAll();
  }
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify({ settings: { duration: DURATION, connections: CONNECTIONS, interval: Number(args.interval) }, results }, null, 1));
  const md = [
    '## Worker CPU profile (issue 18)',
    '',
    `Command: \`node bench/worker-profile.mjs\` (after \`KEEP_NAMES=1 bash scripts/build-worker.sh\`, so wasm`,
    'functions keep their names; `scripts/bench.sh` does both, then rebuilds the worker as shipped). V8\'s',
    `sampling profiler (every ${args.interval} µs) through workerd's inspector while autocannon sends ${DURATION} s of load`,
    `over ${CONNECTIONS} connections; self time per request on the worker's thread, by kind and by function.`,
    'The same requests as the worker table above, to jwt-edge, to the jose worker and to the floor worker.',
    'The profiler costs CPU of its own (compare the /proc figure with the worker table), so read shares,',
    'not absolute values. "(program)" is native code outside any JS or wasm frame; a native call made',
    'from JS (console.log, KV, WebCrypto) counts as the self time of the JS function that made it.',
    '',
  ];
  for (const [scenario, r] of Object.entries(results)) {
    md.push(`**${scenario}** (${DESCRIBE[scenario] ?? ''}): ${r.requests} requests at ${r.load.rps.toFixed(0)} req/s; workerd CPU ${r.load.cpuUsPerRequest.toFixed(0)} µs/request (from /proc), of which the profiler saw ${r.busyUsPerRequest.toFixed(0)} µs on the worker's thread.`, '');
    md.push('| kind | µs/request | share |', '|---|---:|---:|');
    for (const k of r.kinds) md.push(`| ${k.kind} | ${k.usPerRequest.toFixed(1)} | ${(100 * k.share).toFixed(1)} % |`);
    md.push('', '| function (self time) | kind | µs/request | share |', '|---|---|---:|---:|');
    for (const f of r.functions) md.push(`| \`${f.name.replaceAll('|', '\\|').slice(0, 90)}\` | ${f.kind.split(' (')[0]} | ${f.usPerRequest.toFixed(1)} | ${(100 * f.share).toFixed(1)} % |`);
    md.push('');
  }
  writeFileSync(args.out.replace(/\.json$/, '.md'), md.join('\n'));
  console.log(md.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
