// Test harness for the edge worker in real workerd (Miniflare 5): the built worker
// (build/index.js + build/index_bg.wasm), a JWKS server and an origin on 127.0.0.1
// port 0, keys and tokens minted by jose at test time with the real clock.
//
// Everything started here registers itself; call `closeAll()` in `after` to stop the
// workerd processes and servers and remove the temporary directories.
//
// Run: bash scripts/build-worker.sh && npm run test:edge
//   (= node --test --test-force-exit 'tests/edge/**/*.test.mjs'; the files run in
//   parallel, each starting its own workerd instances; about 25 s in all).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WORKER_JS = path.join(ROOT, 'build/index.js');
export const WORKER_WASM = path.join(ROOT, 'build/index_bg.wasm');
export const COMPATIBILITY_DATE = '2026-11-17';

/** The issuer and audience most tests configure and mint for. */
export const ISS = 'https://issuer.edge.test';
export const AUD = 'api://edge';
/**
 * The test-only entry modules in front of the built worker (`startWorker({ entry })`):
 * tests/edge/fault-entry.mjs (fault injection) and the memory probe it imports.
 */
export const FAULT_ENTRY = ['fault-entry.mjs', 'memory-probe.mjs'].map((f) => path.join(ROOT, 'tests/edge', f));
/** The CLI binary (`JWT_EDGE_BIN`, default the debug build). */
export const CLI_BIN = process.env.JWT_EDGE_BIN || path.join(ROOT, 'target/debug/jwt-edge');

/**
 * A verdict-mode configuration with one issuer, ISS at `jwks` (a JwksServer or a URI)
 * with audience AUD, plain http on loopback allowed. `extra` is merged into the
 * configuration, `issuerExtra` into the issuer.
 */
export const verdictConfig = (jwks, extra = {}, issuerExtra = {}) => ({
  issuers: [{ issuer: ISS, jwks_uri: jwks.uri ?? jwks, audiences: [AUD], ...issuerExtra }],
  mode: 'verdict',
  dev_allow_http_loopback: true,
  ...extra,
});

/** Claims for ISS and AUD, subject user-1; `extra` overrides or adds. */
export const claimsFor = (extra = {}) => ({ iss: ISS, sub: 'user-1', aud: AUD, ...extra });

/** Unix seconds, as the worker sees them (the real clock). */
export const now = () => Math.floor(Date.now() / 1000);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ cleanup

const open = new Set();

function track(closer) {
  open.add(closer);
  return () => {
    open.delete(closer);
    return closer();
  };
}

/** Stops every worker and server and removes every temporary directory. */
export async function closeAll() {
  const closers = [...open];
  open.clear();
  const results = await Promise.allSettled(closers.map((c) => c()));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) throw failed[0].reason;
}

/** A temporary directory, removed by `closeAll`. */
export function tempDir(prefix = 'jwt-edge-test-') {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  track(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Polls `fn` until it returns a truthy value; fails after `timeout` ms. */
export async function waitFor(fn, { timeout = 3000, interval = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

// ------------------------------------------------------------------ keys and tokens

export const b64u = (data) =>
  Buffer.from(typeof data === 'string' || data instanceof Uint8Array ? data : JSON.stringify(data)).toString(
    'base64url',
  );

const GENERATE = {
  RS256: {},
  RS384: {},
  RS512: {},
  PS256: {},
  PS384: {},
  PS512: {},
  ES256: {},
  ES384: {},
  ES512: {},
  EdDSA: { crv: 'Ed25519' },
};

/** A fresh asymmetric key pair: `{ alg, kid, privateKey, jwk }` (`jwk` public, with kid/alg/use). */
export async function newKey(alg, kid = `${alg.toLowerCase()}-${randomUUID()}`) {
  assert.ok(alg in GENERATE, `no generator for ${alg}`);
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true, ...GENERATE[alg] });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, jwk };
}

/** A fresh HMAC key: `{ alg, secret (bytes), binding (base64url, the Worker secret's value) }`. */
export function newHmacKey(alg = 'HS256', bytes = 32) {
  const secret = new Uint8Array(randomBytes(bytes));
  return { alg, kid: undefined, privateKey: secret, secret, binding: b64u(secret) };
}

/**
 * Signs a token with jose. Defaults: iat now, exp now + lifetime (300 s), a random jti.
 * `claims` override the defaults (an `undefined` value removes the claim); `header`
 * overrides alg/kid (an `undefined` kid removes it).
 */
export async function mint(key, claims = {}, { header = {}, lifetime = 300 } = {}) {
  const t = now();
  const payload = { iat: t, exp: t + lifetime, jti: randomUUID(), ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  const protectedHeader = { alg: key.alg, kid: key.kid, ...header };
  for (const [k, v] of Object.entries(protectedHeader)) if (v === undefined) delete protectedHeader[k];
  return new jose.SignJWT(payload).setProtectedHeader(protectedHeader).sign(key.privateKey);
}

/** The decoded payload of a compact token (no verification). */
export const payloadOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));

/** The same token with its payload changed and the original signature kept. */
export function tamperPayload(token, change) {
  const [h, , s] = token.split('.');
  const payload = payloadOf(token);
  change(payload);
  return `${h}.${b64u(payload)}.${s}`;
}

/** An unsecured JWT (`alg: none`, empty signature). */
export const algNone = (payload) => `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(payload)}.`;

// ------------------------------------------------------------------ HTTP servers

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

function stopper(server, timers) {
  return () =>
    new Promise((resolve) => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/**
 * A JWKS endpoint that counts its requests. `mode`:
 * - 'ok': 200 with the keys, an ETag (changes with the keys), `Cache-Control` when
 *   `cacheControl` is set; 304 when If-None-Match equals the current ETag;
 * - 'down': 503; 'garbage': 200 with an HTML page;
 * - 'slow': the 'ok' answer after `delayMs`.
 */
export class JwksServer {
  static async start(keys = []) {
    const s = new JwksServer();
    s.setKeys(...keys);
    s.port = await listen(s.server);
    s.close = track(stopper(s.server, s.timers));
    return s;
  }

  constructor() {
    this.mode = 'ok';
    this.delayMs = 0;
    this.cacheControl = null;
    this.requests = [];
    this.timers = new Set();
    this.version = 0;
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  get uri() {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }

  get count() {
    return this.requests.length;
  }

  get etag() {
    return `"jwks-v${this.version}"`;
  }

  /** Replaces the published keys (key objects from newKey, or raw JWKs). */
  setKeys(...keys) {
    this.keys = keys.map((k) => k.jwk ?? k);
    this.version += 1;
  }

  handle(req, res) {
    this.requests.push({ method: req.method, url: req.url, headers: req.headers, at: Date.now() });
    req.resume();
    switch (this.mode) {
      case 'down':
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('service unavailable');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>502 Bad Gateway (not a key set)</body></html>');
        return;
      case 'huge': {
        // A valid key set padded past the worker's 256 KiB limit, with Content-Length.
        const body = JSON.stringify({ keys: this.keys, pad: 'x'.repeat(300 * 1024) });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case 'huge-chunked': {
        // 32 MiB without Content-Length (chunked), written as the reader takes it: more
        // than socket buffers hold, so a reader that stops early is seen to hang up.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"keys":${JSON.stringify(this.keys)},"pad":"`);
        // `hugeSent`: bytes of padding handed to the socket so far; `hugeClosed`: whether
        // the reader hung up before the end.
        const total = 32 * 1024 * 1024;
        const chunk = Buffer.alloc(64 * 1024, 'x');
        this.hugeSent = 0;
        this.hugeClosed = false;
        const pump = () => {
          while (this.hugeSent < total) {
            if (res.destroyed) return;
            this.hugeSent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('"}');
        };
        res.on('close', () => {
          if (this.hugeSent < total) this.hugeClosed = true;
        });
        res.on('error', () => {});
        pump();
        return;
      }
      case 'slow': {
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.answer(req, res);
        }, this.delayMs);
        this.timers.add(t);
        return;
      }
      default:
        this.answer(req, res);
    }
  }

  answer(req, res) {
    if (res.destroyed) return;
    const headers = { etag: this.etag };
    if (this.cacheControl) headers['cache-control'] = this.cacheControl;
    if (req.headers['if-none-match'] === this.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: this.keys }));
  }
}

/**
 * An origin for proxy mode: records every request (method, url, headers, body) and
 * answers 201 with `X-Origin: reached` and a fixed body, or `respond(req, body, res)`.
 */
export class Origin {
  static async start() {
    const o = new Origin();
    o.port = await listen(o.server);
    o.close = track(stopper(o.server, new Set()));
    return o;
  }

  constructor() {
    this.requests = [];
    this.respond = null;
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (this.respond) return this.respond(req, body, res);
        res.writeHead(201, { 'content-type': 'text/plain', 'x-origin': 'reached' });
        res.end(`origin got ${req.method} ${req.url}`);
      });
    });
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get last() {
    return this.requests.at(-1);
  }
}

// ------------------------------------------------------------------ the worker

/**
 * Starts the built worker in workerd. `config` is an object (JSON-encoded into
 * JWT_EDGE_CONFIG) or, with `rawConfig`, the binding's exact text (`null`: no binding).
 * `persist`: a directory for KV, shared by instances started with the same one.
 * `secretsStore`: `{ BINDING: value }`, each a Cloudflare Secrets Store binding
 * (`[[secrets_store_secrets]]`) whose secret holds `value` (`undefined`: bound, but no
 * secret stored under its name).
 * `outboundService`: a function `(request) => Response` that receives every outbound
 * fetch of the worker instead of the network (Miniflare's `outboundService`).
 * `extra`: further Miniflare options (`serviceBindings`, `analyticsEngineDatasets`, …).
 */
export async function startWorker({
  config,
  rawConfig,
  bindings = {},
  persist,
  durableObjects,
  entry,
  kvNamespaces = ['JWKS_CACHE', 'REPLAY'],
  secretsStore = {},
  outboundService,
  extra = {},
} = {}) {
  for (const f of [WORKER_JS, WORKER_WASM]) {
    if (!existsSync(f)) {
      throw new Error(`${path.relative(ROOT, f)} not found: build the worker first (bash scripts/build-worker.sh)`);
    }
  }
  const configText = rawConfig !== undefined ? rawConfig : JSON.stringify(config);
  const logs = [];
  const options = {
    rootPath: ROOT,
    compatibilityDate: COMPATIBILITY_DATE,
    // `entry`: a test-only module in front of the built worker (tests/edge/fault-entry.mjs),
    // or a list whose first is the entry and the rest the modules it imports.
    modules: [
      ...[entry ?? []].flat().map((p) => ({ type: 'ESModule', path: p })),
      { type: 'ESModule', path: WORKER_JS },
      { type: 'CompiledWasm', path: WORKER_WASM },
    ],
    kvNamespaces,
    durableObjects: durableObjects ?? { REPLAY_GUARD: 'ReplayGuard' },
    bindings: { ...(configText === null ? {} : { JWT_EDGE_CONFIG: configText }), ...bindings },
    handleStructuredLogs: (log) => logs.push(log),
    secretsStoreSecrets: Object.fromEntries(
      Object.keys(secretsStore).map((binding) => [binding, { store_id: 'jwt-edge-test', secret_name: binding }]),
    ),
  };
  if (persist) options.resourcePersistencePath = persist;
  if (outboundService) options.outboundService = outboundService;
  Object.assign(options, extra);
  const mf = new Miniflare(convertV4MiniflareOptions(options));
  const worker = new Worker(mf, logs);
  worker.dispose = track(() => mf.dispose());
  await mf.ready;
  for (const [binding, value] of Object.entries(secretsStore)) {
    if (value !== undefined) await (await mf.getSecretsStoreSecretAPI(binding))().create(value);
  }
  return worker;
}

export class Worker {
  constructor(mf, logs) {
    this.mf = mf;
    this.logs = logs;
  }

  /**
   * Sends a request; `token` goes in `Authorization: Bearer`. Returns
   * `{ status, headers, text, json, ms }` (`json` when the body parses).
   */
  async fetch(url = '/', { token, headers = {}, method = 'GET', body } = {}) {
    const h = new Headers(headers);
    if (token !== undefined) h.set('authorization', `Bearer ${token}`);
    const t0 = Date.now();
    const res = await this.mf.dispatchFetch(new URL(url, 'https://edge.test').href, {
      method,
      headers: h,
      body,
      redirect: 'manual',
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json, ms: Date.now() - t0 };
  }

  kv(name) {
    return this.mf.getKVNamespace(name);
  }

  /** console.log messages (or, with `level`, another level's) that parse as JSON objects. */
  jsonLogs(level = 'log') {
    return this.logs.flatMap((l) => {
      if (level && l.level !== level) return [];
      try {
        const v = JSON.parse(l.message);
        return v && typeof v === 'object' && !Array.isArray(v) ? [v] : [];
      } catch {
        return [];
      }
    });
  }
}

// ------------------------------------------------------------------ assertions

/** Parses `WWW-Authenticate: Bearer k="v", ...` into `{ scheme, params }`. */
export function parseChallenge(value) {
  assert.ok(value, 'no WWW-Authenticate header');
  const m = /^(\S+)(?:\s+(.*))?$/.exec(value);
  const params = {};
  const re = /([A-Za-z_]+)="((?:[^"\\]|\\.)*)"\s*(?:,\s*|$)/y;
  const rest = m[2] ?? '';
  let at = 0;
  while (at < rest.length) {
    re.lastIndex = at;
    const p = re.exec(rest);
    assert.ok(p, `unparsable WWW-Authenticate: ${value}`);
    params[p[1]] = p[2].replace(/\\(.)/g, '$1');
    at = re.lastIndex;
  }
  return { scheme: m[1], params };
}

const DEFAULT_ERROR = { 400: 'invalid_request', 401: 'invalid_token', 403: 'insufficient_scope' };

/**
 * A refusal: status, problem+json body with `code` (and `status`, `type`, `title`),
 * and for 400/401/403 `WWW-Authenticate: Bearer realm=…, error=…, error_description=…`
 * (only the realm for token_missing).
 */
export function assertRefused(res, { status, code, realm = 'jwt-edge', error }) {
  const where = `${code} (got ${res.status} ${res.text.slice(0, 300)})`;
  assert.equal(res.status, status, `status for ${where}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `content-type for ${where}`);
  assert.ok(res.json && typeof res.json === 'object', `problem body is JSON for ${where}`);
  assert.equal(res.json.code, code, `code for ${where}`);
  assert.equal(res.json.status, status, `body status for ${where}`);
  assert.equal(typeof res.json.type, 'string', `body type for ${where}`);
  assert.equal(typeof res.json.title, 'string', `body title for ${where}`);
  // RFC 9457's members plus the core's refused verdict (src/verdict.rs).
  assert.equal(res.json.detail, res.json.title, `body detail for ${where}`);
  assert.equal(res.json.valid, false, `body valid for ${where}`);
  assert.equal(typeof res.json.family, 'string', `body family for ${where}`);
  assert.equal(res.json.message, res.json.detail, `body message for ${where}`);
  if ([400, 401, 403].includes(status)) {
    const value = res.headers.get('www-authenticate');
    const { scheme, params } = parseChallenge(value);
    assert.equal(scheme, 'Bearer', `scheme for ${where}: ${value}`);
    assert.equal(params.realm, realm, `realm for ${where}: ${value}`);
    if (code === 'token_missing') {
      assert.deepEqual(Object.keys(params), ['realm'], `no error attribute without a token: ${value}`);
    } else {
      assert.equal(params.error, error ?? DEFAULT_ERROR[status], `error attribute for ${where}: ${value}`);
      assert.ok(params.error_description, `error_description for ${where}: ${value}`);
    }
  }
  return res.json;
}

/** A verdict-mode acceptance; returns the verdict. */
export function assertVerdict(res, expect = {}) {
  const where = `(got ${res.status} ${res.text.slice(0, 300)})`;
  assert.equal(res.status, 200, `status ${where}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `content-type ${where}`);
  assert.equal(res.json?.valid, true, `valid ${where}`);
  // Exactly the core's accepted verdict (src/verdict.rs), members in order.
  assert.deepEqual(Object.keys(res.json), VERDICT_MEMBERS, `verdict members ${where}`);
  assert.ok(KEY_SOURCES.includes(res.json.key_source), `key_source ${where}`);
  const { claims, ...top } = expect;
  for (const [k, v] of Object.entries(top)) assert.deepEqual(res.json[k], v, `verdict.${k} ${where}`);
  // `claims: { iss, sub, … }` checks those claims only.
  for (const [k, v] of Object.entries(claims ?? {})) assert.deepEqual(res.json.claims[k], v, `verdict.claims.${k} ${where}`);
  return res.json;
}

/** The accepted verdict's members (src/verdict.rs) and the worker's key sources. */
export const VERDICT_MEMBERS = ['valid', 'alg', 'kid', 'key_source', 'header', 'claims'];
export const KEY_SOURCES = ['memory', 'kv', 'issuer', 'stale', 'secret'];

/** The features a wasm module was built with, from its `target_features` custom section (+name, -name). */
export function wasmTargetFeatures(bytes) {
  const module = new WebAssembly.Module(bytes);
  const sections = WebAssembly.Module.customSections(module, 'target_features');
  const out = [];
  for (const section of sections) {
    const data = new Uint8Array(section);
    let at = 0;
    const leb = () => {
      let value = 0;
      let shift = 0;
      for (;;) {
        const byte = data[at++];
        value |= (byte & 0x7f) << shift;
        if (!(byte & 0x80)) return value;
        shift += 7;
      }
    };
    for (let n = leb(); n > 0; n--) {
      const prefix = String.fromCharCode(data[at++]);
      const len = leb();
      out.push(prefix + new TextDecoder().decode(data.subarray(at, at + len)));
      at += len;
    }
  }
  return out;
}
