// Throughput, latency and CPU per request of the built jwt-edge worker beside a reference
// JavaScript worker that does the same job with jose (bench/jose-worker/worker.mjs), both
// in real workerd (Miniflare 5), each in its own workerd process, under a bounded HTTP
// load (autocannon over keep-alive connections on 127.0.0.1).
//
// Both workers verify the same tokens against the same local JWKS server with the same
// policy (issuer, audience, ES256/RS256, exp and jti required, 60 s skew), refuse a `jti`
// already seen (best-effort replay on KV: every valid request carries a fresh token from
// a pool minted before timing) and answer 200 with a JSON verdict or 401. Scenarios:
//   es256  valid ES256 tokens          rs256  valid RS256 tokens
//   bad    an ES256 token with one signature byte flipped (refused before replay)
//   reused a pool of 100 clients, each sending its own valid ES256 token again and again,
//          as real clients do until it expires; both workers with replay off (a second
//          pair of workerd processes), everything else the same. jwt-edge answers these
//          from its verified-token cache; jose verifies each request in full.
// For each scenario × concurrency both workers get one warm run (JWKS cached, code hot)
// of `--duration` seconds; which goes first alternates. Reported per worker: requests/s,
// p50/p99 latency seen by the client, CPU time of its workerd process per request
// (/proc/PID/stat utime+stime), and every answer that was not the expected one.
//
// A benchmark, not a test: the numbers depend on the machine, and on a small machine the
// load generator (this Node process) competes with workerd for the same cores. It still
// fails (exit 1) when any answer was wrong, because then the numbers mean nothing.
//
// Run: bash scripts/build-worker.sh   (once; the bench runs build/index.js as it is)
//      node bench/worker-vs-jose.mjs [--duration 5] [--concurrency 1,8,32]
//                                    [--scenarios es256,rs256,bad] [--warmup 1] [--max-pool 20000]
//   (Node 22: export PATH=$PWD/node_modules/.bin:$PATH). Defaults also come from
//   BENCH_DURATION, BENCH_CONCURRENCY, BENCH_SCENARIOS, BENCH_WARMUP, BENCH_MAX_POOL.
// Writes target/bench/worker-vs-jose.json; the jose worker is bundled there first.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { JwksServer, ROOT, closeAll, mint, newKey } from '../tests/edge/harness.mjs';
import { runLoad } from './lib/worker-load.mjs';
import { bundleJoseWorker, startEdgeWorker, startFloorWorker, startJoseWorker } from './lib/worker-miniflare.mjs';

const ISS = 'https://issuer.bench';
const AUD = 'bench-api';
/** Token lifetime: long enough to outlive minting and the whole benchmark. */
const LIFETIME = 3600;
/** Requests/s a token pool is sized for at least: minting is cheap (jose here: ≈ 20k ES256/s, ≈ 4k RS256/s). */
const MIN_POOL_RATE = 1000;
const OUT_DIR = path.join(ROOT, 'target/bench');
const JOSE_BUNDLE = path.join(OUT_DIR, 'jose-worker.js');
const JSON_OUT = path.join(OUT_DIR, 'worker-vs-jose.json');

const SCENARIOS = {
  es256: { label: 'valid ES256', alg: 'ES256', fresh: true, status: 200 },
  rs256: { label: 'valid RS256', alg: 'RS256', fresh: true, status: 200 },
  bad: { label: 'bad sig ES256', alg: 'ES256', fresh: false, status: 401 },
  reused: { label: 'reused ES256', alg: 'ES256', fresh: false, reused: true, status: 200 },
};
/** Clients in the reused-token scenario, each with its own token. */
const REUSED_CLIENTS = 100;

// ------------------------------------------------------------------ settings

function settings() {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: env.BENCH_DURATION ?? '5' },
      concurrency: { type: 'string', default: env.BENCH_CONCURRENCY ?? '1,8,32' },
      scenarios: { type: 'string', default: env.BENCH_SCENARIOS ?? 'es256,rs256,bad,reused' },
      warmup: { type: 'string', default: env.BENCH_WARMUP ?? '1' },
      'max-pool': { type: 'string', default: env.BENCH_MAX_POOL ?? '20000' },
    },
  });
  const positive = (name, v) => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  const s = {
    duration: positive('duration', values.duration),
    concurrency: values.concurrency.split(',').map((c) => Math.round(positive('concurrency', c))),
    scenarios: values.scenarios.split(',').map((x) => x.trim().toLowerCase()),
    warmup: positive('warmup', values.warmup),
    maxPool: Math.round(positive('max-pool', values['max-pool'])),
  };
  for (const name of s.scenarios) {
    if (!(name in SCENARIOS)) throw new Error(`unknown scenario ${name} (known: ${Object.keys(SCENARIOS)})`);
  }
  if (Math.max(...s.concurrency) * 4 > s.maxPool) throw new Error('--max-pool is too small for --concurrency');
  return s;
}

function machine() {
  const version = (pkg) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'))).version;
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    node: process.version,
    loadAvg: os.loadavg().map((x) => Number(x.toFixed(2))),
    versions: Object.fromEntries(['miniflare', 'workerd', 'jose', 'autocannon', 'esbuild'].map((p) => [p, version(p)])),
  };
}

// ------------------------------------------------------------------ workers and tokens

/** `n` fresh tokens (each with its own jti), signed a few hundred at a time. */
async function mintPool(key, n) {
  const tokens = [];
  while (tokens.length < n) {
    const batch = Math.min(256, n - tokens.length);
    tokens.push(
      ...(await Promise.all(
        Array.from({ length: batch }, () => mint(key, { iss: ISS, aud: AUD, sub: 'bench' }, { lifetime: LIFETIME })),
      )),
    );
  }
  return tokens;
}

/** The token with one byte of its signature flipped: well formed, wrong signature. */
function flipSignature(token) {
  const [h, p, s] = token.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[sig.length >> 1] ^= 0x01;
  return `${h}.${p}.${sig.toString('base64url')}`;
}

const isVerdict = (body) => body.includes('"valid":true');

/**
 * One request of each kind before any timing, through the same HTTP listener the load
 * uses: valid → 200 verdict, the same token again → 401 (replay), bad signature → 401,
 * no token → 401. Throws on any other answer.
 */
async function sanityCheck(worker, keys, algs, replay = true) {
  const send = async (token) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const res = await fetch(worker.url, { headers });
    return { status: res.status, body: await res.text() };
  };
  const failures = [];
  const expect = (what, res, status, body) => {
    if (res.status !== status || (body && !body(res.body))) {
      failures.push(`${what}: expected ${status}, got ${res.status} ${res.body.slice(0, 200)}`);
    }
  };
  for (const alg of algs) {
    const [token] = await mintPool(keys[alg], 1);
    expect(`valid ${alg}`, await send(token), 200, isVerdict);
    if (replay) expect(`replayed ${alg}`, await send(token), 401);
    else expect(`sent again ${alg} (replay off)`, await send(token), 200, isVerdict);
  }
  const [token] = await mintPool(keys.ES256, 1);
  expect('bad signature', await send(flipSignature(token)), 401);
  expect('no token', await send(undefined), 401);
  if (failures.length) throw new Error(`${worker.name} answers wrongly before the benchmark:\n  ${failures.join('\n  ')}`);
}

// ------------------------------------------------------------------ report

const num = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

function table(rows, s) {
  const cell = (r) =>
    [num(r.rps), num(r.latencyMs.p50, 2), num(r.latencyMs.p99, 2), num(r.cpuUsPerRequest)].map((v, i) =>
      v.padStart([8, 7, 7, 9][i]),
    );
  const mark = (r) => (r.wrong ? '!' : r.poolExhausted ? '*' : ' ');
  const lines = [
    `${'scenario'.padEnd(14)} ${'conc'.padStart(4)}  ${'jwt-edge'.padEnd(34)}  ${'jose'.padEnd(34)}  jwt-edge vs jose`,
    `${''.padEnd(19)}  ${['req/s', 'p50 ms', 'p99 ms', 'CPU µs/r'].map((h, i) => h.padStart([8, 7, 7, 9][i])).join(' ')}   ` +
      `${['req/s', 'p50 ms', 'p99 ms', 'CPU µs/r'].map((h, i) => h.padStart([8, 7, 7, 9][i])).join(' ')}   ` +
      `${'rps ×'.padStart(6)} ${'p99 ×'.padStart(6)} ${'CPU ×'.padStart(6)}`,
  ];
  for (const row of rows) {
    const { edge, jose, ratios } = row;
    lines.push(
      `${SCENARIOS[row.scenario].label.padEnd(14)} ${String(row.concurrency).padStart(4)}  ` +
        `${cell(edge).join(' ')}${mark(edge)}  ${cell(jose).join(' ')}${mark(jose)}  ` +
        `${num(ratios.rps, 2).padStart(6)} ${num(ratios.p99, 2).padStart(6)} ${num(ratios.cpu, 2).padStart(6)}`,
    );
  }
  for (const row of rows.filter((r) => r.floor)) {
    const f = row.floor;
    const above = (r) => num(r.cpuUsPerRequest - f.cpuUsPerRequest);
    lines.push(
      `  floor at ${row.concurrency}: ${num(f.rps)} req/s, ${num(f.cpuUsPerRequest)} µs CPU/r with no verification; ` +
        `above it: jwt-edge ${above(row.edge)} µs, jose ${above(row.jose)} µs`,
    );
  }
  lines.push(
    '',
    `rps × = jwt-edge req/s ÷ jose req/s; p99 × = jose p99 ÷ jwt-edge p99; CPU × = jose CPU ÷ jwt-edge CPU`,
    `(above 1: jwt-edge better). CPU µs/r: user+system time of that worker's workerd process per`,
    `answered request. * the token pool ran out before ${s.duration} s (shorter run, still valid); ! wrong answers.`,
  );
  return lines.join('\n');
}

// ------------------------------------------------------------------ main

async function main() {
  const s = settings();
  const info = machine();
  const log = (...a) => console.error(...a);
  const algs = [...new Set(s.scenarios.map((n) => SCENARIOS[n].alg))];
  const workers = [];
  const wrongRuns = [];
  const record = (what, r) => {
    if (r.wrong) wrongRuns.push({ what, wrong: r.wrong, statuses: r.statuses, samples: r.wrongSamples });
  };
  try {
    await bundleJoseWorker(JOSE_BUNDLE);
    const keys = { ES256: await newKey('ES256'), RS256: await newKey('RS256') };
    const jwks = await JwksServer.start(Object.values(keys));
    // Started one after the other, so each new workerd child is attributed to its worker.
    const edge = await startEdgeWorker({
      issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD], replay: 'best-effort' }],
      mode: 'verdict',
      dev_allow_http_loopback: true,
    });
    workers.push(edge);
    const jose = await startJoseWorker(JOSE_BUNDLE, { jwksUri: jwks.uri, issuer: ISS, audience: AUD });
    workers.push(jose);
    const pairs = { replay: { edge, jose } };
    if (s.scenarios.includes('reused')) {
      const reusedEdge = await startEdgeWorker(
        {
          issuers: [{ issuer: ISS, jwks_uri: jwks.uri, audiences: [AUD], require_jti: true }],
          mode: 'verdict',
          dev_allow_http_loopback: true,
        },
        'jwt-edge (replay off)',
      );
      workers.push(reusedEdge);
      const reusedJose = await startJoseWorker(JOSE_BUNDLE, {
        jwksUri: jwks.uri,
        issuer: ISS,
        audience: AUD,
        replay: false,
        name: 'jose (replay off)',
      });
      workers.push(reusedJose);
      const floor = await startFloorWorker();
      workers.push(floor);
      pairs.reused = { edge: reusedEdge, jose: reusedJose, floor };
    }
    for (const w of workers) {
      log(`${w.name}: ${w.url} (workerd pid ${w.pid ?? 'unknown: no CPU figures'})`);
      if (w === pairs.reused?.floor) continue;
      await sanityCheck(w, keys, ['ES256', 'RS256'], w !== pairs.reused?.edge && w !== pairs.reused?.jose);
    }
    const reusedTokens = s.scenarios.includes('reused') ? await mintPool(keys.ES256, REUSED_CLIENTS) : [];
    if (pairs.reused) {
      for (const w of [pairs.reused.edge, pairs.reused.jose, pairs.reused.floor]) {
        const r = await runLoad({
          url: w.url,
          connections: Math.max(...s.concurrency),
          duration: s.warmup,
          tokens: reusedTokens,
          cycle: true,
          expect: { status: 200, body: isVerdict },
          pid: w.pid,
        });
        record(`warm-up ${w.name} reused`, r);
        log(`warm-up ${w.name} reused: ${num(r.rps)} req/s`);
      }
    }

    // Warm-up at the highest concurrency: fills both isolates' key caches, gets the hot
    // code compiled, and gives each algorithm's rate, which sizes the token pools.
    const top = Math.max(...s.concurrency);
    const badToken = flipSignature((await mintPool(keys.ES256, 1))[0]);
    const rate = {};
    for (const alg of algs.filter((a) => s.scenarios.some((n) => SCENARIOS[n].alg === a && !SCENARIOS[n].reused))) {
      const warm = await mintPool(keys[alg], Math.min(s.maxPool, alg === 'RS256' ? 2000 : 4000));
      rate[alg] = 0;
      for (const w of [edge, jose]) {
        const r = await runLoad({
          url: w.url,
          connections: top,
          duration: s.warmup,
          tokens: warm,
          expect: { status: 200, body: isVerdict },
          pid: w.pid,
        });
        record(`warm-up ${w.name} ${alg}`, r);
        rate[alg] = Math.max(rate[alg], r.rps);
        log(`warm-up ${w.name} ${alg}: ${num(r.rps)} req/s`);
      }
    }
    if (s.scenarios.includes('bad')) {
      for (const w of [edge, jose]) {
        const r = await runLoad({
          url: w.url,
          connections: top,
          duration: Math.min(1, s.warmup),
          tokens: badToken,
          expect: { status: 401 },
          pid: w.pid,
        });
        record(`warm-up ${w.name} bad`, r);
      }
    }

    const warmupRate = { ...rate };
    const rows = [];
    let turn = 0;
    for (const name of s.scenarios) {
      const scenario = SCENARIOS[name];
      for (const connections of s.concurrency) {
        // Three times the best rate seen so far (warm rates beat the warm-up's; at least
        // MIN_POOL_RATE) for the whole run, bounded by --max-pool. Both workers get the
        // same tokens: each keeps its own replay memory and KV, so neither sees the other's.
        const expected = Math.max(rate[scenario.alg], MIN_POOL_RATE);
        const size = Math.min(s.maxPool, Math.ceil(expected * s.duration * 3) + connections * 4);
        let tokens = scenario.reused ? reusedTokens : badToken;
        if (scenario.fresh) {
          const t = Date.now();
          tokens = await mintPool(keys[scenario.alg], size);
          log(`${name} c=${connections}: minted ${size} tokens in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        }
        const results = {};
        // Alternate which worker goes first, so drift (thermal, other load) is shared.
        const pair = scenario.reused ? pairs.reused : pairs.replay;
        const order = turn++ % 2 ? [pair.jose, pair.edge] : [pair.edge, pair.jose];
        if (pair.floor) order.push(pair.floor);
        for (const w of order) {
          const r = await runLoad({
            url: w.url,
            connections,
            duration: s.duration,
            tokens,
            cycle: Boolean(scenario.reused),
            maxRequests: s.maxPool * 50,
            expect: { status: scenario.status, body: scenario.status === 200 ? isVerdict : undefined },
            pid: w.pid,
          });
          record(`${name} c=${connections} ${w.name}`, r);
          if (scenario.fresh) rate[scenario.alg] = Math.max(rate[scenario.alg], r.rps);
          results[w === pair.edge ? 'edge' : w === pair.floor ? 'floor' : 'jose'] = r;
          log(
            `${name} c=${connections} ${w.name}: ${num(r.rps)} req/s, p50 ${num(r.latencyMs.p50, 2)} ms, ` +
              `p99 ${num(r.latencyMs.p99, 2)} ms, ${num(r.cpuUsPerRequest)} µs CPU/req` +
              `${r.poolExhausted ? ' (pool ran out)' : ''}${r.wrong ? `, ${r.wrong} WRONG` : ''}`,
          );
        }
        rows.push({
          scenario: name,
          concurrency: connections,
          poolSize: scenario.fresh ? size : null,
          edge: results.edge,
          jose: results.jose,
          floor: results.floor ?? null,
          ratios: {
            rps: results.edge.rps / results.jose.rps,
            p99: results.jose.latencyMs.p99 / results.edge.latencyMs.p99,
            cpu: results.jose.cpuUsPerRequest / results.edge.cpuUsPerRequest,
          },
        });
      }
    }

    const workerErrors = Object.fromEntries(workers.map((w) => [w.name, w.logs.errors]));
    const report = {
      benchmark: 'worker-vs-jose',
      at: new Date().toISOString(),
      machine: info,
      settings: s,
      warmupRate,
      jwksFetches: jwks.count,
      workerdPids: Object.fromEntries(workers.map((w) => [w.name, w.pid])),
      logLines: Object.fromEntries(workers.map((w) => [w.name, w.logs.count])),
      workerErrors,
      wrongRuns,
      rows,
    };
    writeFileSync(JSON_OUT, `${JSON.stringify(report, null, 2)}\n`);

    console.log(
      `jwt-edge (build/index.js) vs jose ${info.versions.jose} in workerd ${info.versions.workerd} ` +
        `(Miniflare ${info.versions.miniflare}), autocannon ${info.versions.autocannon} over HTTP on 127.0.0.1, ` +
        `${s.duration} s per run`,
    );
    console.log(
      `machine: ${info.cpus} × ${info.cpuModel}, node ${info.node}, load average at start ${info.loadAvg.join(' ')}; ` +
        `JWKS fetches: ${jwks.count}`,
    );
    console.log('');
    console.log(table(rows, s));
    console.log(`\nJSON: ${path.relative(ROOT, JSON_OUT)}`);
    const errorLines = Object.entries(workerErrors).filter(([, e]) => e.length);
    for (const [name, errors] of errorLines) console.log(`\n${name} logged errors, e.g.: ${errors.slice(0, 3).join(' | ')}`);
    if (wrongRuns.length) {
      const banner = '!'.repeat(78);
      console.log(`\n${banner}\nWRONG ANSWERS: these numbers are not a valid comparison.`);
      for (const w of wrongRuns) {
        console.log(`  ${w.what}: ${w.wrong} wrong, statuses ${JSON.stringify(w.statuses)}; e.g. ${w.samples[0] ?? ''}`);
      }
      console.log(banner);
      process.exitCode = 1;
    }
  } finally {
    await Promise.allSettled(workers.map((w) => w.dispose()));
    await closeAll();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
