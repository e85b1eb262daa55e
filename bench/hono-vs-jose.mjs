// jwt-edge in JavaScript workers beside what a Hono user would otherwise reach for: the
// upload size of four apps that do the same job, bundled by the local wrangler, and the
// CPU per request of three of them in one Node process (issue 17).
//
// The job: verify an `Authorization: Bearer` token (ES256, RS256 or EdDSA) against a
// remote JWKS with issuer and audience checks, answer 200 `{"sub": …}` or 401.
//   hono+jwt-edge  Hono + `jwtEdge(...)` from `jwt-edge/hono` (one RemoteJwks per isolate)
//   plain+jwt-edge a plain JS worker: `RemoteJwks` + `extractToken` + `refusal`, no Hono
//   hono+jose      Hono + a small middleware: `createRemoteJWKSet` (made once per isolate,
//                  cached by jose) + `jwtVerify`
//   hono/jwk       Hono + its own `jwk({ jwks_uri, alg, verification })` middleware, as is:
//                  it fetches the JWKS, parses it and imports the key on every request
// Their sources are written below (APPS) into a scratch project where jwt-edge is
// installed by package name from the packed tarball of target/npm/jwt-edge (`npm pack`,
// `npm install --offline`) and hono and jose are copied from node_modules.
//
// 1. Sizes: `wrangler deploy --dry-run --outdir …` of each app (and of the two test
//    fixtures, tests/hono/fixtures/app and tests/runtimes/fixtures/plain-worker), as
//    wrangler uploads it and with `--minify`. Total upload = every .js and .wasm module in
//    the output (no source map): raw bytes and gzip -9 of each module, summed.
// 2. CPU per request, in this Node process: each app's `fetch(request, env, ctx)` called
//    directly with `new Request(...)` (no HTTP in front); jwt-edge resolves to the package's
//    `node` entry. The JWKS server runs in a child process on 127.0.0.1 (Cache-Control
//    max-age=600), so serving the key set is not counted as the app's CPU; the fetches the
//    apps make are. First every app is checked on every algorithm (valid → 200 with the
//    subject, flipped signature → 401, no token → 401) and warmed up on each (up to
//    `--warmup` requests, at most `--slice` seconds: V8 tiers the wasm and the JavaScript
//    up); then, per algorithm, `--rounds` rounds, in each of which every app (in rotating
//    order) answers up to `--requests` requests one at a time, at most `--slice` seconds.
//    CPU = process.cpuUsage() user + system (all threads, so WebCrypto's thread pool and
//    undici count) per request; wall = elapsed per request; median of the rounds.
//    Ratios: other ÷ jwt-edge/hono, above 1 favours jwt-edge.
//
// A benchmark, not a test: the numbers depend on the machine. It fails (exit 1) when an
// app answers wrongly, because then the numbers mean nothing. Bounded: about a minute here.
//
// Run: bash scripts/build-npm.sh   (once: target/npm/jwt-edge with hono.js)
//      node bench/hono-vs-jose.mjs [--rounds 9] [--requests 300] [--slice 1] [--warmup 1000]
//                                  [--algs ES256,RS256,EdDSA] [--keep]
//   (Node 22: export PATH=$PWD/node_modules/.bin:$PATH). Prints a Markdown section for
//   BENCHMARKS.md; writes target/bench/hono-vs-jose.json and target/bench/hono-vs-jose.md.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as jose from 'jose';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'node_modules/.bin');
const PKG_DIR = path.join(ROOT, 'target/npm/jwt-edge');
const OUT_DIR = path.join(ROOT, 'target/bench');
const ISS = 'https://issuer.bench';
const AUD = 'bench-api';
const SUB = 'bench-user';
const COMPATIBILITY_DATE = '2026-11-17';
/** The whole run is cut off here, whatever the settings: a benchmark must not hang. */
const DEADLINE_MS = 170_000;

// ------------------------------------------------------------------ the apps

/** Shared head of every app source: the policy, the same for all four. */
const POLICY = (algs) => `const ISS = ${JSON.stringify(ISS)};
const AUD = ${JSON.stringify(AUD)};
const ALGS = ${JSON.stringify(algs)};
`;

const APPS = {
  'hono+jwt-edge': {
    label: 'Hono + `jwt-edge/hono`',
    source: (algs) => `import { Hono } from 'hono';
import { jwtEdge } from 'jwt-edge/hono';
${POLICY(algs)}
const app = new Hono();
// The JWKS URL comes from the environment; the bench serves it over http on 127.0.0.1.
app.use('/api/*', jwtEdge({
  jwks: (c) => c.env.JWKS_URL,
  jwksOptions: { devAllowHttpLoopback: true },
  issuer: ISS,
  audience: AUD,
  algorithms: ALGS,
  // Every request verified in full, as jose does: the benchmark compares verification
  // (its 256 tokens repeat, which the verified-token cache would answer).
  tokenCacheEntries: 0,
}));
app.get('/api/me', (c) => c.json({ sub: c.get('jwtPayload').sub }));
export default app;
`,
  },
  'plain+jwt-edge': {
    label: 'plain worker + `RemoteJwks`',
    source: (algs) => `import { JwtEdgeError, RemoteJwks, extractToken, refusal } from 'jwt-edge';
${POLICY(algs)}
let remote; // one per isolate: the key set it holds serves every later request

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname !== '/api/me') return new Response('not found', { status: 404 });
    remote ??= new RemoteJwks(env.JWKS_URL, { devAllowHttpLoopback: true });
    try {
      const token = extractToken({ headers: (name) => request.headers.get(name) });
      const { claims } = await remote.verify(token, {
        issuer: ISS,
        audience: AUD,
        algorithms: ALGS,
        tokenCacheEntries: 0, // every request verified in full, as jose does
        waitUntil: (p) => ctx.waitUntil(p),
      });
      return Response.json({ sub: claims.sub });
    } catch (err) {
      if (!(err instanceof JwtEdgeError)) throw err;
      const { status, headers, body } = refusal(err);
      return new Response(body, { status, headers });
    }
  },
};
`,
  },
  'hono+jose': {
    label: 'Hono + jose',
    source: (algs) => `import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { createRemoteJWKSet, jwtVerify } from 'jose';
${POLICY(algs)}
let jwks; // one per isolate: jose caches the fetched set (10 min) and the imported keys

const unauthorized = (error) =>
  new HTTPException(401, {
    res: new Response('Unauthorized', { status: 401, headers: { 'www-authenticate': \`Bearer error="\${error}"\` } }),
  });

const joseAuth = () => async (c, next) => {
  jwks ??= createRemoteJWKSet(new URL(c.env.JWKS_URL));
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(c.req.header('authorization') ?? '');
  if (!match) throw unauthorized('invalid_request');
  try {
    const { payload } = await jwtVerify(match[1], jwks, { issuer: ISS, audience: AUD, algorithms: ALGS });
    c.set('jwtPayload', payload);
  } catch {
    throw unauthorized('invalid_token');
  }
  await next();
};

const app = new Hono();
app.use('/api/*', joseAuth());
app.get('/api/me', (c) => c.json({ sub: c.get('jwtPayload').sub }));
export default app;
`,
  },
  'hono/jwk': {
    label: 'Hono + `hono/jwk`',
    source: (algs) => `import { Hono } from 'hono';
import { jwk } from 'hono/jwk';
${POLICY(algs)}
const app = new Hono();
// As documented; no caching option exists (it fetches jwks_uri on every request).
app.use('/api/*', jwk({ jwks_uri: (c) => c.env.JWKS_URL, alg: ALGS, verification: { iss: ISS, aud: AUD } }));
app.get('/api/me', (c) => c.json({ sub: c.get('jwtPayload').sub }));
export default app;
`,
  },
};
/** The apps timed in Node (the plain worker too, to show what Hono itself adds). */
const TIMED = ['hono+jwt-edge', 'plain+jwt-edge', 'hono+jose', 'hono/jwk'];
const BASE = 'hono+jwt-edge';

// ------------------------------------------------------------------ settings, machine

function settings() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '9' },
      requests: { type: 'string', default: '300' },
      slice: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '1000' },
      algs: { type: 'string', default: 'ES256,RS256,EdDSA' },
      keep: { type: 'boolean', default: false },
    },
  });
  const positive = (name, max) => {
    const n = Number(values[name]);
    if (!(n > 0) || n > max) throw new Error(`--${name} must be in (0, ${max}], got ${values[name]}`);
    return n;
  };
  const algs = values.algs.split(',').map((a) => a.trim());
  for (const alg of algs) if (!(alg in GENERATE)) throw new Error(`unsupported --algs ${alg} (known: ${Object.keys(GENERATE)})`);
  return {
    rounds: Math.round(positive('rounds', 25)),
    requests: Math.round(positive('requests', 5000)),
    sliceMs: positive('slice', 5) * 1000,
    warmup: Math.round(positive('warmup', 1000)),
    algs,
    keep: values.keep,
  };
}

function versionOf(dir) {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

function machine() {
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    node: process.version,
    v8: process.versions.v8,
    loadAvg: os.loadavg().map((x) => Number(x.toFixed(2))),
    versions: {
      // hono exports no ./package.json: read the file.
      hono: versionOf(path.join(ROOT, 'node_modules/hono')),
      jose: versionOf(path.join(ROOT, 'node_modules/jose')),
      wrangler: versionOf(path.join(ROOT, 'node_modules/wrangler')),
      'jwt-edge': versionOf(PKG_DIR),
    },
  };
}

// ------------------------------------------------------------------ processes

let scratch;

/** Runs a command to the end, bounded; throws with its output when it fails. */
function run(file, args, { cwd, timeout = 90_000, env = {} } = {}) {
  const result = spawnSync(file, args, {
    cwd,
    timeout,
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${BIN}:${process.env.PATH}`,
      npm_config_cache: path.join(scratch, 'npm-cache'),
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_loglevel: 'error',
      WRANGLER_SEND_METRICS: 'false',
      XDG_CONFIG_HOME: path.join(scratch, 'config'),
      ...env,
    },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${path.basename(file)} ${args.join(' ')} exited ${result.status} (signal ${result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/**
 * The JWKS server, in a child process on 127.0.0.1 (its CPU is not the apps'): serves the
 * key set with Cache-Control: public, max-age=600 and counts the fetches (GET /count).
 */
async function startJwksServer(jwks) {
  const code = `
    const http = require('node:http');
    const body = process.env.JWKS_BODY;
    let fetches = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/count') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(String(fetches)); return; }
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=600' });
      res.end(body);
    });
    server.keepAliveTimeout = 30000;
    server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
    process.stdin.on('end', () => process.exit(0)); // the parent went away
    process.stdin.resume();
  `;
  const child = spawn(process.execPath, ['-e', code], {
    env: { ...process.env, JWKS_BODY: JSON.stringify(jwks) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('JWKS server did not start in 10 s')), 10_000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`JWKS server exited ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    uri: `${base}/.well-known/jwks.json`,
    count: async () => Number(await (await fetch(`${base}/count`)).text()),
    stop: () => {
      child.stdin.end();
      child.kill('SIGTERM');
    },
  };
}

// ------------------------------------------------------------------ keys and tokens

const GENERATE = { ES256: {}, RS256: {}, EdDSA: { crv: 'Ed25519' } };

async function newKey(alg) {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true, ...GENERATE[alg] });
  const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  return { alg, kid, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** `n` distinct tokens (each its own jti) valid for an hour. */
async function mintPool(key, n) {
  const t = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: n }, () =>
      new jose.SignJWT({ iss: ISS, aud: AUD, sub: SUB, iat: t, exp: t + 3600, jti: randomUUID() })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey),
    ),
  );
}

function flipSignature(token) {
  const [h, p, s] = token.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[sig.length >> 1] ^= 0x01;
  return `${h}.${p}.${sig.toString('base64url')}`;
}

// ------------------------------------------------------------------ the scratch project

/** The packed tarball installed by name, hono and jose copied, each app in apps/<dir>. */
function makeProject(algs) {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: PKG_DIR }).stdout);
  const tarball = path.join(scratch, packed[0].filename);
  const project = path.join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), '{ "name": "hono-vs-jose-bench", "private": true, "type": "module" }\n');
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: project });
  // After the install (npm would prune what its package.json does not name).
  for (const dep of ['hono', 'jose']) {
    cpSync(path.join(ROOT, 'node_modules', dep), path.join(project, 'node_modules', dep), { recursive: true });
  }
  if (!existsSync(path.join(project, 'node_modules/jwt-edge/hono.js'))) throw new Error('jwt-edge/hono.js is not in the tarball');

  const apps = {};
  for (const [name, app] of Object.entries(APPS)) {
    const dir = path.join(project, 'apps', name.replace(/[^a-z0-9]+/g, '-'));
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
    writeFileSync(
      path.join(dir, 'wrangler.toml'),
      `name = "bench-${path.basename(dir)}"\nmain = "src/index.js"\ncompatibility_date = "${COMPATIBILITY_DATE}"\n\n` +
        `[vars]\nJWKS_URL = "https://issuer.bench/.well-known/jwks.json"\n`,
    );
    writeFileSync(path.join(dir, 'src/index.js'), `// Written by bench/hono-vs-jose.mjs.\n${app.source(algs)}`);
    apps[name] = dir;
  }
  // The two test fixtures as the tests bundle them (the Hono app's keys.js is the test's).
  const fixtures = {
    'tests/hono/fixtures/app': path.join(project, 'apps/fixture-hono'),
    'tests/runtimes/fixtures/plain-worker': path.join(project, 'apps/fixture-plain'),
  };
  for (const [from, dir] of Object.entries(fixtures)) {
    cpSync(path.join(ROOT, from), dir, { recursive: true, filter: (src) => !/node_modules|[/\\]dist$/.test(src) });
  }
  writeFileSync(
    path.join(fixtures['tests/hono/fixtures/app'], 'src/keys.js'),
    'export const JWKS = { keys: [] };\nexport const SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg";\n',
  );
  return { project, tarball: packed[0], apps, fixtures };
}

// ------------------------------------------------------------------ 1. sizes

/** `wrangler deploy --dry-run` of `dir`: the modules it would upload, raw and gzip -9. */
function bundle(dir, minify) {
  const outdir = path.join(dir, minify ? 'dist-min' : 'dist');
  const args = ['deploy', '--dry-run', '--outdir', outdir];
  if (minify) args.push('--minify');
  const t = Date.now();
  const r = run(path.join(BIN, 'wrangler'), args, { cwd: dir, timeout: 60_000 });
  const ms = Date.now() - t;
  const said = /Total Upload:\s*([\d.]+ KiB)\s*\/\s*gzip:\s*([\d.]+ KiB)/.exec(r.stdout + r.stderr);
  const modules = readdirSync(outdir)
    .filter((f) => f.endsWith('.js') || f.endsWith('.mjs') || f.endsWith('.wasm'))
    .map((f) => {
      const bytes = readFileSync(path.join(outdir, f));
      return { file: f, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
  if (!modules.some((m) => m.file === 'index.js')) throw new Error(`no index.js in ${outdir}`);
  const sum = (k) => modules.reduce((a, m) => a + m[k], 0);
  return {
    modules,
    raw: sum('raw'),
    gzip: sum('gzip'),
    js: modules.filter((m) => !m.file.endsWith('.wasm')).reduce((a, m) => a + m.raw, 0),
    wasm: modules.filter((m) => m.file.endsWith('.wasm')).reduce((a, m) => a + m.raw, 0),
    wrangler: said ? `${said[1]} / gzip ${said[2]}` : null,
    ms,
  };
}

function sizes({ apps, fixtures }, log) {
  const rows = [];
  const targets = [
    ...Object.entries(apps).map(([name, dir]) => ({ name, label: APPS[name].label, dir })),
    { name: 'fixture-hono', label: 'the Hono test app (tests/hono/fixtures/app)', dir: fixtures['tests/hono/fixtures/app'] },
    { name: 'fixture-plain', label: 'the plain test worker (tests/runtimes/fixtures/plain-worker)', dir: fixtures['tests/runtimes/fixtures/plain-worker'] },
  ];
  for (const t of targets) {
    const plain = bundle(t.dir, false);
    const min = bundle(t.dir, true);
    log(`size ${t.name}: ${plain.raw} B raw, ${plain.gzip} B gzip -9; minified ${min.raw} / ${min.gzip} (wrangler: ${plain.wrangler}; ${plain.ms} + ${min.ms} ms)`);
    rows.push({ name: t.name, label: t.label, plain, minified: min });
  }
  return rows;
}

// ------------------------------------------------------------------ 2. CPU per request

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** What each app is handed as `env` and `ctx` (waitUntil promises are awaited later). */
function harness(jwksUri) {
  const pending = [];
  return {
    env: { JWKS_URL: jwksUri },
    ctx: {
      waitUntil: (p) => pending.push(Promise.resolve(p).catch(() => {})),
      passThroughOnException: () => {},
    },
    settle: async () => {
      const all = pending.splice(0);
      await Promise.all(all);
      return all.length;
    },
  };
}

const URL_ME = 'https://app.bench/api/me';

async function call(app, h, token) {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await app.fetch(new Request(URL_ME, { headers }), h.env, h.ctx);
  return { status: res.status, body: await res.text() };
}

const okBody = (body) => {
  try {
    return JSON.parse(body).sub === SUB;
  } catch {
    return false;
  }
};

/** Every app must accept a valid token and refuse a bad one before anything is timed. */
async function check(name, app, h, token) {
  const failures = [];
  const valid = await call(app, h, token);
  if (valid.status !== 200 || !okBody(valid.body)) failures.push(`valid: ${valid.status} ${valid.body.slice(0, 200)}`);
  const bad = await call(app, h, flipSignature(token));
  if (bad.status !== 401) failures.push(`flipped signature: ${bad.status} ${bad.body.slice(0, 200)}`);
  const none = await call(app, h, undefined);
  if (none.status !== 401) failures.push(`no token: ${none.status} ${none.body.slice(0, 200)}`);
  if (failures.length) throw new Error(`${name} answers wrongly:\n  ${failures.join('\n  ')}`);
}

/** Up to `n` requests one at a time, at most `sliceMs`: CPU and wall µs per request. */
async function slice(app, h, tokens, start, n, sliceMs) {
  let wrong = 0;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const stopAt = t0 + BigInt(Math.round(sliceMs * 1e6));
  while (done < n) {
    const r = await call(app, h, tokens[(start + done) % tokens.length]);
    if (r.status !== 200 || !okBody(r.body)) wrong += 1;
    done += 1;
    if ((done & 7) === 0 && process.hrtime.bigint() > stopAt) break;
  }
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  return { n: done, wrong, cpuUs: (cpu.user + cpu.system) / done, wallUs: wallNs / 1000 / done };
}

async function cpuBench(s, project, keys, jwksServer, log) {
  const h = harness(jwksServer.uri);
  const apps = {};
  for (const name of TIMED) {
    const file = path.join(project.apps[name], 'src/index.js');
    apps[name] = (await import(pathToFileURL(file).href)).default;
  }
  // jwt-edge resolved from the scratch project as Node resolves it: the `node` entry.
  const probe = path.join(project.apps[BASE], 'src/resolve-probe.js');
  writeFileSync(probe, "export const entry = import.meta.resolve('jwt-edge');\n");
  const { entry } = await import(pathToFileURL(probe).href);

  const rows = [];
  const wrongs = [];
  let turn = 0;
  // Every app checked and warmed up on every algorithm before anything is timed, so the
  // first algorithm measured does not also pay for compiling Hono, undici and the glue.
  const pools = {};
  for (const alg of s.algs) {
    const tokens = (pools[alg] = await mintPool(keys[alg], 256));
    for (const name of TIMED) await check(`${name} (${alg})`, apps[name], h, tokens[0]);
  }
  for (const alg of s.algs) {
    for (const name of TIMED) {
      const w = await slice(apps[name], h, pools[alg], 1, s.warmup, s.sliceMs);
      if (w.wrong) wrongs.push(`${name} ${alg} warm-up: ${w.wrong} wrong`);
    }
  }
  for (const alg of s.algs) {
    const tokens = pools[alg];
    const per = Object.fromEntries(TIMED.map((n) => [n, { cpu: [], wall: [], n: 0, fetches: 0 }]));
    for (let round = 0; round < s.rounds; round++) {
      // Rotate the order, so drift and a noisy neighbour are shared.
      const order = TIMED.map((_, i) => TIMED[(i + turn) % TIMED.length]);
      turn += 1;
      for (const name of order) {
        const before = await jwksServer.count();
        const r = await slice(apps[name], h, tokens, round * 37, s.requests, s.sliceMs);
        per[name].fetches += (await jwksServer.count()) - before;
        per[name].cpu.push(r.cpuUs);
        per[name].wall.push(r.wallUs);
        per[name].n += r.n;
        if (r.wrong) wrongs.push(`${name} ${alg} round ${round}: ${r.wrong} wrong of ${r.n}`);
      }
    }
    const result = Object.fromEntries(
      TIMED.map((n) => [
        n,
        { cpuUs: median(per[n].cpu), wallUs: median(per[n].wall), requests: per[n].n, jwksFetches: per[n].fetches, cpuRounds: per[n].cpu },
      ]),
    );
    const row = {
      alg,
      apps: result,
      ratios: {
        cpu: Object.fromEntries(TIMED.map((n) => [n, result[n].cpuUs / result[BASE].cpuUs])),
        wall: Object.fromEntries(TIMED.map((n) => [n, result[n].wallUs / result[BASE].wallUs])),
      },
    };
    rows.push(row);
    log(
      `${alg}: ` +
        TIMED.map((n) => `${n} ${result[n].cpuUs.toFixed(0)} µs CPU / ${result[n].wallUs.toFixed(0)} µs wall (${result[n].requests} req, ${result[n].jwksFetches} JWKS fetches)`).join('; '),
    );
  }
  const waited = await h.settle();
  return { rows, wrongs, entry, waitUntil: waited };
}

// ------------------------------------------------------------------ report

const int = (n) => Math.round(n).toLocaleString('en-US');
const x = (r) => `${r.toFixed(2)}×`;

function markdown(info, s, project, sizeRows, cpu, elapsedS) {
  const v = info.versions;
  const L = [];
  L.push(
    '## Hono and plain JS workers (issue 17)',
    '',
    'Command: `node bench/hono-vs-jose.mjs` (after `bash scripts/build-npm.sh`; one run, everything below',
    `from it, ${elapsedS.toFixed(0)} s). Machine: ${info.cpus}-core ${info.cpuModel}, Node ${info.node} (V8 ${info.v8}),`,
    `load average at start ${info.loadAvg.join(' ')}; hono ${v.hono}, jose ${v.jose}, wrangler ${v.wrangler}, jwt-edge ${v['jwt-edge']}`,
    `(the packed tarball, ${project.tarball.files.length} files, installed by name with \`npm install --offline\`).`,
    '',
    'Four apps doing the same job: verify a bearer token (ES256, RS256 or EdDSA) against a remote JWKS',
    'with issuer and audience checks, answer 200 with the subject or 401. Hono + `jwt-edge/hono`;',
    'a plain worker with `RemoteJwks`, `extractToken` and `refusal`; Hono + jose (a small middleware:',
    '`createRemoteJWKSet` made once per isolate + `jwtVerify`); Hono + its own `hono/jwk` middleware.',
    'Their sources are in the script.',
    '',
    '**Upload size.** `wrangler deploy --dry-run --outdir …` (and with `--minify`); total upload = every',
    '`.js` and `.wasm` module wrangler writes (no source map), raw bytes and gzip -9 of each module, summed.',
    "wrangler's own \"Total Upload\" line is shown for the default build. The two test fixtures (more routes:",
    'scopes, cookie, KV, replay, a static `Verifier`) are bundled the same way for reference.',
    '',
    '| app | JS raw B | wasm raw B | total raw B | total gzip -9 B | `--minify` raw B | `--minify` gzip -9 B | wrangler says |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const r of sizeRows) {
    L.push(
      `| ${r.label} | ${int(r.plain.js)} | ${r.plain.wasm ? int(r.plain.wasm) : '–'} | ${int(r.plain.raw)} | ${int(r.plain.gzip)} | ` +
        `${int(r.minified.raw)} | ${int(r.minified.gzip)} | ${r.plain.wrangler ?? '–'} |`,
    );
  }
  const byName = Object.fromEntries(sizeRows.map((r) => [r.name, r]));
  const j = byName['hono+jwt-edge'].plain;
  const jo = byName['hono+jose'].plain;
  const hj = byName['hono/jwk'].plain;
  const pl = byName['plain+jwt-edge'].plain;
  L.push(
    '',
    `The jwt-edge apps carry the wasm core (${int(j.wasm)} B, one \`CompiledWasm\` module): gzipped, Hono +`,
    `jwt-edge uploads ${(j.gzip / jo.gzip).toFixed(1)}× what Hono + jose does and ${(j.gzip / hj.gzip).toFixed(1)}× Hono + \`hono/jwk\`; the plain worker`,
    `is ${int(j.gzip - pl.gzip)} B (gzip) smaller than the Hono one.`,
    '',
    "**CPU per request.** In this Node process: each app's `fetch(request, env, ctx)` called directly",
    "with `new Request(...)` (no HTTP in front; jwt-edge through the package's `node` entry), tokens minted",
    'by jose (256 distinct per algorithm, cycled), the JWKS from a server in a child process on 127.0.0.1',
    "answering `Cache-Control: public, max-age=600` (serving it is not counted; the apps' fetching is).",
    'First every app is checked on every algorithm (valid → 200 with the subject, flipped signature → 401,',
    `no token → 401) and warmed up on each (${s.warmup} requests or ${s.sliceMs / 1000} s); then, per algorithm, ${s.rounds} rounds, in`,
    `each of which every app (order rotating) answers up to ${s.requests} requests one at a time (at most ${s.sliceMs / 1000} s).`,
    "CPU = `process.cpuUsage()` user + system per request (all threads: WebCrypto's pool and undici count),",
    'wall = elapsed per request; medians of the rounds. Ratios are other ÷ jwt-edge/hono: above 1× favours',
    'jwt-edge. `hono/jwk` is measured as it is: it has no cache, so **every request fetches** the JWKS (over',
    'loopback here), parses it and imports the key; the last column counts the JWKS fetches during the timed',
    'rounds.',
    '',
    'CPU per request (µs, user + system; medians of the rounds):',
    '',
    '| alg | Hono + jwt-edge/hono | plain + jwt-edge | Hono + jose | Hono + hono/jwk | jose ÷ jwt-edge | hono/jwk ÷ jwt-edge | JWKS fetches while timed (jwt-edge / plain / jose / hono/jwk) |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  );
  const cells = (r, k) => TIMED.map((n) => int(r.apps[n][k])).join(' | ');
  for (const r of cpu.rows) {
    const a = r.apps;
    const fetches = TIMED.map((n) => int(a[n].jwksFetches)).join(' / ');
    L.push(
      `| ${r.alg} | ${cells(r, 'cpuUs')} | ${x(r.ratios.cpu['hono+jose'])} | ${x(r.ratios.cpu['hono/jwk'])} | ` +
        `${fetches} (of ${TIMED.map((n) => int(a[n].requests)).join(' / ')} requests) |`,
    );
  }
  L.push(
    '',
    'Wall time per request (µs, medians of the same rounds):',
    '',
    '| alg | Hono + jwt-edge/hono | plain + jwt-edge | Hono + jose | Hono + hono/jwk | jose ÷ jwt-edge | hono/jwk ÷ jwt-edge |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of cpu.rows) {
    L.push(`| ${r.alg} | ${cells(r, 'wallUs')} | ${x(r.ratios.wall['hono+jose'])} | ${x(r.ratios.wall['hono/jwk'])} |`);
  }
  L.push(
    '',
    'Read with the other tables: the CPU is that of Node (V8, like workerd, but WebCrypto and `fetch` are',
    "Node's here, workerd's there). Per request, jose and `hono/jwk` verify with WebCrypto (native code) and",
    'jwt-edge in wasm, so the per-algorithm picture of "The npm package against jose" carries over, plus what',
    'each middleware adds around it; `hono/jwk` also pays a JWKS fetch, a JSON parse and a key import per',
    'request, and in production that fetch goes to the issuer (or, with `init.cf.cacheTtl`, to the edge cache),',
    'so its wall time per request includes a network round trip that loopback hides here.',
    '',
  );
  return L.join('\n');
}

// ------------------------------------------------------------------ main

async function main() {
  const started = Date.now();
  const watchdog = setTimeout(() => {
    console.error(`hono-vs-jose: over ${DEADLINE_MS / 1000} s, giving up`);
    process.exit(2);
  }, DEADLINE_MS);
  watchdog.unref();
  const s = settings();
  const log = (...a) => console.error(...a);
  for (const [file, how] of [
    [path.join(PKG_DIR, 'hono.js'), 'bash scripts/build-npm.sh'],
    [path.join(PKG_DIR, 'wasm/jwt_edge_bg.wasm'), 'bash scripts/build-npm.sh'],
    [path.join(ROOT, 'node_modules/hono/package.json'), 'npm ci'],
    [path.join(ROOT, 'node_modules/wrangler/package.json'), 'npm ci'],
  ]) {
    if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run ${how}`);
  }
  const info = machine();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'jwt-edge-hono-bench-'));
  let jwksServer;
  try {
    const project = makeProject(s.algs);
    log(`scratch project ${project.project} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    const sizeRows = sizes(project, log);

    const keys = {};
    for (const alg of s.algs) keys[alg] = await newKey(alg);
    jwksServer = await startJwksServer({ keys: Object.values(keys).map((k) => k.jwk) });
    const cpu = await cpuBench(s, project, keys, jwksServer, log);
    if (!cpu.entry.endsWith('/node.js')) throw new Error(`jwt-edge resolved to ${cpu.entry}, not the node entry`);

    const elapsedS = (Date.now() - started) / 1000;
    const md = markdown(info, s, project, sizeRows, cpu, elapsedS);
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(
      path.join(OUT_DIR, 'hono-vs-jose.json'),
      `${JSON.stringify({ benchmark: 'hono-vs-jose', at: new Date().toISOString(), machine: info, settings: s, elapsedS, jwtEdgeEntry: cpu.entry, tarball: { filename: project.tarball.filename, size: project.tarball.size, unpackedSize: project.tarball.unpackedSize, files: project.tarball.files.length }, sizes: sizeRows, cpu: cpu.rows, wrong: cpu.wrongs }, null, 2)}\n`,
    );
    writeFileSync(path.join(OUT_DIR, 'hono-vs-jose.md'), md);
    console.log(md);
    log(`JSON: target/bench/hono-vs-jose.json; Markdown: target/bench/hono-vs-jose.md; ${elapsedS.toFixed(1)} s`);
    if (cpu.wrongs.length) {
      console.log(`\nWRONG ANSWERS: these numbers are not a valid comparison.\n  ${cpu.wrongs.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    jwksServer?.stop();
    if (s.keep) log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
