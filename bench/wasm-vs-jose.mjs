// The npm package's wasm verification beside jose's `jwtVerify`, in one Node process, per
// algorithm (HS256, RS256, PS256, ES256, ES384, EdDSA), on the same tokens (minted by
// jose) with the same policy: issuer, audience, a one-algorithm allow-list, a fixed `now`.
//
//   jose          `await jwtVerify(token, createLocalJWKSet(jwks) | secret, options)`: the
//                 local JWKS caches imported CryptoKeys; a Uint8Array secret is imported
//                 into WebCrypto on every call (that is jose's API for HS256)
//   wasm          `new Verifier(options)` once (keys imported there), then
//                 `verifier.verify(token, { now })`: synchronous
//   wasm 1-shot   `verify(token, { ...options, now })`: parses and imports keys per call
//
// Hot: after a warm-up, each library runs a sequential loop (one verification in flight)
// for `--time` seconds, split into `--rounds` alternating slices so a noisy neighbour on
// the shared machine hits all three alike; also capped at `--max` calls. Reported:
// verifications/s, p50/p99 latency per call, and CPU µs per verification from
// process.cpuUsage() (all threads, so jose's WebCrypto thread-pool work counts) — the
// number to trust on a busy machine. Cold: in fresh Node processes
// (bench/lib/wasm-cold-child.mjs), the time from import to the end of the first
// successful verification, median of `--cold-runs` per library and algorithm.
// Before any timing both libraries must accept every token and refuse a tampered one.
//
// A benchmark, not a test: the numbers depend on the machine. It fails (exit 1) only when
// the libraries disagree or the package is missing, because then the numbers mean nothing.
//
// Usage: node bench/wasm-vs-jose.mjs [--time 1] [--algs HS256,RS256,...] [--cold-runs 5] [--pkg DIR]
//          [--cold-algs ES256,RS256] [--rounds 4] [--warmup 0.3] [--max 300000] [--out FILE]
//   (Node 22: export PATH=$PWD/node_modules/.bin:$PATH). Build the package first:
//   bash scripts/build-npm.sh. `--pkg` (or JWT_EDGE_PKG) points at another build of it to
//   compare builds; defaults also come from BENCH_TIME, BENCH_ALGS, BENCH_COLD_RUNS.
// Writes target/bench/wasm-vs-jose.json (or `--out`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as jose from 'jose';
import { ALGORITHMS, coldFixture, joseArgs, mintFixture, tamper, wasmOptions } from './lib/wasm-fixtures.mjs';
import { loopAsync, loopSync, median, quantile } from './lib/wasm-measure.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COLD_CHILD = path.join(ROOT, 'bench/lib/wasm-cold-child.mjs');
/** A cold child that takes longer than this is killed and the run fails. */
const COLD_TIMEOUT_MS = 60_000;
const LIBS = ['jose', 'wasm', 'wasm1'];
const LIB_LABELS = { jose: 'jose', wasm: 'wasm Verifier', wasm1: 'wasm 1-shot' };

// ------------------------------------------------------------------ settings and machine

function settings() {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      time: { type: 'string', default: env.BENCH_TIME ?? '1' },
      algs: { type: 'string', default: env.BENCH_ALGS ?? ALGORITHMS.join(',') },
      'cold-runs': { type: 'string', default: env.BENCH_COLD_RUNS ?? '5' },
      'cold-algs': { type: 'string' },
      pkg: { type: 'string', default: env.JWT_EDGE_PKG ?? path.join(ROOT, 'target/npm/jwt-edge') },
      rounds: { type: 'string', default: '4' },
      warmup: { type: 'string', default: '0.3' },
      max: { type: 'string', default: '300000' },
      out: { type: 'string', default: path.join(ROOT, 'target/bench/wasm-vs-jose.json') },
    },
  });
  const number = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${values[name]}`);
    return n;
  };
  const algList = (text) => {
    const algs = text.split(',').map((a) => a.trim()).filter(Boolean);
    for (const alg of algs) {
      if (!ALGORITHMS.includes(alg)) throw new Error(`unknown algorithm ${alg} (known: ${ALGORITHMS})`);
    }
    return algs;
  };
  const algs = algList(values.algs);
  return {
    time: number('time', 0.01),
    algs,
    coldRuns: Math.round(number('cold-runs', 0)),
    coldAlgs: values['cold-algs'] === undefined ? algs : algList(values['cold-algs']),
    pkg: path.resolve(values.pkg),
    rounds: Math.max(1, Math.round(number('rounds', 1))),
    warmup: number('warmup', 0),
    max: Math.round(number('max', 1)),
    out: path.resolve(values.out),
  };
}

function machine() {
  const josePackage = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/jose/package.json'), 'utf8'));
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    node: process.version,
    v8: process.versions.v8,
    jose: josePackage.version,
    loadAvg: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}

/** The package's wasm: size raw and gzip -9, and a hash that tells builds apart. */
function packageInfo(pkgDir) {
  const wasmFile = path.join(pkgDir, 'wasm/jwt_edge_bg.wasm');
  if (!existsSync(path.join(pkgDir, 'node.js')) || !existsSync(wasmFile)) {
    throw new Error(`${pkgDir} has no built package: run \`bash scripts/build-npm.sh\` first (or pass --pkg DIR)`);
  }
  const bytes = readFileSync(wasmFile);
  return {
    dir: path.relative(ROOT, pkgDir) || '.',
    wasmBytes: bytes.length,
    wasmGzip9Bytes: gzipSync(bytes, { level: 9 }).length,
    wasmSha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

// ------------------------------------------------------------------ sanity

/** Both libraries accept `f.token` and refuse it tampered; throws on any disagreement. */
async function sanity(pkg, f) {
  const { key, options } = joseArgs(f);
  const verifier = new pkg.Verifier(wasmOptions(f));
  const outcomes = {};
  const attempt = async (lib, token) => {
    try {
      if (lib === 'jose') return { ok: true, sub: (await jose.jwtVerify(token, key, options)).payload.sub };
      if (lib === 'wasm') return { ok: true, sub: verifier.verify(token, { now: f.now }).claims.sub };
      return { ok: true, sub: pkg.verify(token, { ...wasmOptions(f), now: f.now }).claims.sub };
    } catch (err) {
      return { ok: false, code: err?.code ?? String(err) };
    }
  };
  const bad = tamper(f.token);
  for (const lib of LIBS) {
    const good = await attempt(lib, f.token);
    if (!good.ok || good.sub !== f.sub) {
      throw new Error(`${f.alg}: ${LIB_LABELS[lib]} refused a valid token (${good.code ?? `sub ${good.sub}`})`);
    }
    const refused = await attempt(lib, bad);
    if (refused.ok) throw new Error(`${f.alg}: ${LIB_LABELS[lib]} accepted a tampered token`);
    outcomes[lib] = refused.code;
  }
  verifier.free();
  return outcomes;
}

// ------------------------------------------------------------------ hot loops

/** The three calls under test for one fixture; `done()` frees the wasm verifier. */
function contenders(pkg, f) {
  const { key, options } = joseArgs(f);
  const verifier = new pkg.Verifier(wasmOptions(f));
  const oneShot = { ...wasmOptions(f), now: f.now };
  const { token, now } = f;
  return {
    calls: {
      jose: { async: true, fn: () => jose.jwtVerify(token, key, options) },
      wasm: { async: false, fn: () => verifier.verify(token, { now }) },
      wasm1: { async: false, fn: () => pkg.verify(token, oneShot) },
    },
    done: () => verifier.free(),
  };
}

function loop(call, seconds, maxCount, samples, offset) {
  return call.async
    ? loopAsync(call.fn, seconds, maxCount, samples, offset)
    : loopSync(call.fn, seconds, maxCount, samples, offset);
}

/** Warm-up, then `s.rounds` slices per library in rotating order; totals per library. */
async function measureHot(pkg, f, s) {
  const { calls, done } = contenders(pkg, f);
  for (const lib of LIBS) await loop(calls[lib], s.warmup, s.max, null, 0);
  const slice = s.time / s.rounds;
  const maxPerSlice = Math.ceil(s.max / s.rounds);
  const totals = Object.fromEntries(
    LIBS.map((lib) => [lib, { count: 0, wallMs: 0, cpuUs: 0, samples: new Float64Array(maxPerSlice * s.rounds) }]),
  );
  for (let round = 0; round < s.rounds; round++) {
    for (let i = 0; i < LIBS.length; i++) {
      const lib = LIBS[(round + i) % LIBS.length];
      const t = totals[lib];
      const r = await loop(calls[lib], slice, maxPerSlice, t.samples, t.count);
      t.count += r.count;
      t.wallMs += r.wallMs;
      t.cpuUs += r.cpuUs;
    }
  }
  done();
  const result = {};
  for (const lib of LIBS) {
    const { count, wallMs, cpuUs, samples } = totals[lib];
    const sorted = samples.subarray(0, count).sort();
    result[lib] = {
      count,
      perSecond: count / (wallMs / 1000),
      cpuUsPerVerify: cpuUs / count,
      p50Us: quantile(sorted, 0.5) * 1000,
      p99Us: quantile(sorted, 0.99) * 1000,
    };
  }
  return result;
}

// ------------------------------------------------------------------ cold starts

/** One fresh Node process: import + first verification of `lib` for fixture `f`. */
function coldChild(lib, f, pkgDir) {
  const child = spawnSync(process.execPath, [COLD_CHILD, lib, pkgDir], {
    cwd: ROOT,
    env: { ...process.env, JWT_EDGE_BENCH_FIXTURE: coldFixture(f) },
    encoding: 'utf8',
    timeout: COLD_TIMEOUT_MS,
  });
  if (child.status !== 0) {
    throw new Error(`cold ${lib} ${f.alg}: child failed (${child.status ?? child.signal}): ${child.stderr.trim()}`);
  }
  return JSON.parse(child.stdout.trim().split('\n').pop());
}

/** Medians over `runs` children per library, alternating which library goes first. */
function measureCold(f, s) {
  const runs = { jose: [], wasm: [] };
  for (let i = 0; i < s.coldRuns; i++) {
    const order = i % 2 === 0 ? ['jose', 'wasm'] : ['wasm', 'jose'];
    for (const lib of order) runs[lib].push(coldChild(lib, f, s.pkg));
  }
  const result = {};
  for (const [lib, list] of Object.entries(runs)) {
    result[lib] = {
      importMs: median(list.map((r) => r.importMs)),
      firstMs: median(list.map((r) => r.firstMs)),
      totalMs: median(list.map((r) => r.totalMs)),
      nodeStartMs: median(list.map((r) => r.startMs)),
      runs: list,
    };
  }
  return result;
}

// ------------------------------------------------------------------ report

const fixed = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const whole = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function print(report) {
  const { machine: m, package: p, settings: s, algorithms } = report;
  console.log('jwt-edge wasm vs jose jwtVerify: one Node process, one verification in flight');
  console.log(`machine  ${m.nproc} × ${m.cpuModel}, load avg ${m.loadAvg.join(' ')}`);
  console.log(`runtime  Node ${m.node} (V8 ${m.v8}), jose ${m.jose}`);
  console.log(
    `package  ${p.dir}: wasm ${whole(p.wasmBytes)} B raw, ${whole(p.wasmGzip9Bytes)} B gzip -9, sha256 ${p.wasmSha256.slice(0, 12)}`,
  );
  console.log(
    `settings ${s.time} s per library per algorithm in ${s.rounds} rotating slices, warm-up ${s.warmup} s, ` +
      `max ${whole(s.max)} calls; cold: median of ${s.coldRuns} fresh processes`,
  );

  console.log('\nsanity (tampered token refused with)');
  for (const [alg, a] of Object.entries(algorithms)) {
    console.log(`  ${alg.padEnd(6)} ${LIBS.map((lib) => `${LIB_LABELS[lib]}: ${a.tampered[lib]}`).join(', ')}`);
  }

  const hotRows = [];
  for (const [alg, a] of Object.entries(algorithms)) {
    if (!a.hot) continue;
    LIBS.forEach((lib, i) => {
      const h = a.hot[lib];
      hotRows.push([i === 0 ? alg : '', LIB_LABELS[lib], whole(h.perSecond), fixed(h.cpuUsPerVerify), fixed(h.p50Us), fixed(h.p99Us), whole(h.count)]);
    });
  }
  console.log('\nhot: sequential loop, one in flight');
  console.log(table(['alg', 'library', 'verify/s', 'CPU µs/verify', 'p50 µs', 'p99 µs', 'calls'], hotRows));

  const coldRows = [];
  for (const [alg, a] of Object.entries(algorithms)) {
    if (!a.cold) continue;
    ['jose', 'wasm'].forEach((lib, i) => {
      const c = a.cold[lib];
      coldRows.push([i === 0 ? alg : '', LIB_LABELS[lib], fixed(c.importMs), fixed(c.firstMs), fixed(c.totalMs)]);
    });
  }
  if (coldRows.length > 0) {
    console.log(`\ncold: fresh Node process, median of ${s.coldRuns} (keys + 1st = key import and the first verification)`);
    console.log(table(['alg', 'library', 'import ms', 'keys + 1st ms', 'total ms'], coldRows));
  }

  const ratioRows = Object.entries(algorithms).map(([alg, a]) => [
    alg,
    ratio(a.ratios.throughput),
    ratio(a.ratios.cpu),
    ratio(a.ratios.oneShotThroughput),
    ratio(a.ratios.oneShotCpu),
    ratio(a.ratios.cold),
  ]);
  console.log('\nratios (> 1× means wasm is better)');
  console.log(
    table(['alg', 'verify/s wasm/jose', 'CPU jose/wasm', '1-shot verify/s', '1-shot CPU', 'cold jose/wasm'], ratioRows),
  );
  if (report.warnings.length > 0) console.log(`\nWARNING: ${report.warnings.join('\nWARNING: ')}`);
  const out = path.relative(ROOT, s.out);
  console.log(`\nwrote ${out.startsWith('..') ? s.out : out}`);
}

// ------------------------------------------------------------------ main

async function main() {
  const s = settings();
  const host = machine();
  const pkgBefore = packageInfo(s.pkg);
  const pkg = await import(pathToFileURL(path.join(s.pkg, 'node.js')).href);
  const now = Math.floor(Date.now() / 1000);
  const algs = [...new Set([...s.algs, ...s.coldAlgs])];
  const fixtures = Object.fromEntries(await Promise.all(algs.map(async (alg) => [alg, await mintFixture(alg, now)])));

  const tampered = {};
  for (const alg of algs) tampered[alg] = await sanity(pkg, fixtures[alg]);

  const algorithms = {};
  for (const alg of s.algs) {
    algorithms[alg] = { tampered: tampered[alg], hot: await measureHot(pkg, fixtures[alg], s) };
    process.stderr.write(`hot ${alg} done\n`);
  }
  if (s.coldRuns > 0 && s.coldAlgs.length > 0) {
    // One discarded child per library first, so the OS file cache is warm for all runs.
    coldChild('jose', fixtures[s.coldAlgs[0]], s.pkg);
    coldChild('wasm', fixtures[s.coldAlgs[0]], s.pkg);
    for (const alg of s.coldAlgs) {
      algorithms[alg] ??= { tampered: tampered[alg] };
      algorithms[alg].cold = measureCold(fixtures[alg], s);
      process.stderr.write(`cold ${alg} done\n`);
    }
  }
  for (const a of Object.values(algorithms)) {
    const { jose: j, wasm: w, wasm1: w1 } = a.hot ?? {};
    a.ratios = {
      throughput: w?.perSecond / j?.perSecond,
      cpu: j?.cpuUsPerVerify / w?.cpuUsPerVerify,
      oneShotThroughput: w1?.perSecond / j?.perSecond,
      oneShotCpu: j?.cpuUsPerVerify / w1?.cpuUsPerVerify,
      cold: a.cold ? a.cold.jose.totalMs / a.cold.wasm.totalMs : Number.NaN,
    };
  }

  const warnings = [];
  const pkgAfter = packageInfo(s.pkg);
  if (pkgAfter.wasmSha256 !== pkgBefore.wasmSha256) {
    warnings.push(`${pkgBefore.dir} was rebuilt during the run: hot numbers are for the first build, cold ones may mix`);
  }
  const report = { machine: host, package: pkgBefore, settings: s, now, algorithms, warnings };
  mkdirSync(path.dirname(s.out), { recursive: true });
  // NaN (an unmeasured ratio) becomes null in JSON.
  writeFileSync(s.out, `${JSON.stringify(report, null, 2)}\n`);
  print(report);
}

try {
  await main();
} catch (err) {
  console.error(`wasm-vs-jose: ${err?.stack ?? err}`);
  process.exitCode = 1;
}
