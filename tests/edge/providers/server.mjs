// The loopback side of the identity-provider fixtures: a `ProviderServer` (plain HTTP on
// 127.0.0.1, port 0) serving JSON documents by path, and an `Outbound` router, passed
// as `startWorker({ outboundService: outbound.handler })`, that receives every fetch the
// worker makes, records it, rewrites the origin of the provider's real https URL to that
// provider's loopback server and answers with what the server said. So the worker is
// configured with the providers' real spellings (`https://example-tenant.us.auth0.com/`)
// and never reaches the network: a host no server is routed for gets a 502 from the
// router itself (recorded with `routed: false`).
//
// Servers register themselves here (the harness's `closeAll` does not know them): call
// `closeProviders()` in `after`.
import { createHash } from 'node:crypto';
import http from 'node:http';

const open = new Set();

/** Stops every ProviderServer started. */
export async function closeProviders() {
  const closers = [...open];
  open.clear();
  await Promise.allSettled(closers.map((c) => c()));
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/**
 * JSON documents by path, each with a strong ETag over its bytes (304 on a matching
 * If-None-Match) and the Cache-Control it is given. `mode`: 'ok', or 'down' (every path
 * 503). A path nobody registered is 404. Every request is recorded in `requests`.
 */
export class ProviderServer {
  static async start(name = 'provider') {
    const s = new ProviderServer(name);
    s.port = await listen(s.server);
    const close = () =>
      new Promise((resolve) => {
        s.server.closeAllConnections();
        s.server.close(() => resolve());
      });
    open.add(close);
    return s;
  }

  constructor(name) {
    this.name = name;
    this.mode = 'ok';
    this.routes = new Map();
    this.requests = [];
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  get origin() {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Serves `body` (an object, or a function returning one, called on every request) as
   * JSON at `path`. `status` (default 200), `cacheControl`, `headers`: extra headers.
   */
  json(path, body, { status = 200, cacheControl, headers = {} } = {}) {
    this.routes.set(path, { body, status, cacheControl, headers });
    return this;
  }

  /** Stops serving `path` (404 from now on). */
  remove(path) {
    this.routes.delete(path);
    return this;
  }

  /** Requests to exactly `path` (query ignored). */
  count(path) {
    return this.requests.filter((r) => r.path === path).length;
  }

  handle(req, res) {
    const path = new URL(req.url, 'http://x').pathname;
    this.requests.push({ method: req.method, path, headers: req.headers, at: Date.now() });
    req.resume();
    if (this.mode === 'down') {
      const body = 'upstream connect error or disconnect/reset before headers';
      res.writeHead(503, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const route = this.routes.get(path);
    if (!route) {
      const body = JSON.stringify({ error: 'not_found', path });
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const value = typeof route.body === 'function' ? route.body() : route.body;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 22)}"`;
    const headers = { etag, ...route.headers };
    if (route.cacheControl) headers['cache-control'] = route.cacheControl;
    if (route.status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(route.status, {
      'content-type': 'application/json; charset=utf-8',
      ...headers,
      'content-length': Buffer.byteLength(text),
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Headers that belong to one hop, never copied across the rewrite. */
const HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'upgrade']);

/**
 * The worker's outbound network: `handler` is Miniflare's `outboundService`. `route(host,
 * server)` sends requests for `https://host/...` (host as in the URL, port included when
 * there is one) to `server`; `http://127.0.0.1:PORT/...` (dev loopback) goes as is.
 * Every request is recorded in `requests` as `{ method, url, host, path, headers,
 * routed, status, at }` (`url` as the worker sent it).
 */
export class Outbound {
  constructor() {
    this.hosts = new Map();
    this.requests = [];
    this.handler = (request) => this.forward(request);
  }

  route(host, server) {
    this.hosts.set(host.toLowerCase(), server);
    return this;
  }

  /** Requests whose URL (as the worker sent it, query included) equals `url`. */
  count(url) {
    return this.requests.filter((r) => r.url === url).length;
  }

  /** The URLs requested so far, in order (from index `since`). */
  urls(since = 0) {
    return this.requests.slice(since).map((r) => r.url);
  }

  async forward(request) {
    const url = new URL(request.url);
    const entry = {
      method: request.method,
      url: url.href,
      host: url.host,
      path: url.pathname,
      headers: Object.fromEntries(request.headers),
      routed: false,
      status: null,
      at: Date.now(),
    };
    this.requests.push(entry);
    const server = this.hosts.get(url.host.toLowerCase());
    let target;
    if (server) target = new URL(`${url.pathname}${url.search}`, server.origin);
    else if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) target = url;
    else {
      entry.status = 502;
      return new Response(`test outbound: no server for ${url.host}`, { status: 502 });
    }
    entry.routed = true;
    const headers = new Headers();
    for (const [k, v] of request.headers) if (!HOP.has(k.toLowerCase()) && !k.toLowerCase().startsWith('mf-')) headers.set(k, v);
    const hasBody = !['GET', 'HEAD'].includes(request.method);
    const res = await fetch(target, {
      method: request.method,
      headers,
      body: hasBody ? await request.arrayBuffer() : undefined,
      redirect: 'manual',
    });
    entry.status = res.status;
    const noBody = request.method === 'HEAD' || [101, 204, 205, 304].includes(res.status);
    const body = noBody ? null : await res.arrayBuffer();
    const out = new Headers();
    for (const [k, v] of res.headers) if (!HOP.has(k.toLowerCase())) out.set(k, v);
    return new Response(body, { status: res.status, statusText: res.statusText, headers: out });
  }
}
