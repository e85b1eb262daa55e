// The demo page (www/) in headless Chromium: it verifies tokens jose mints now, explains
// refusals, fetches a remote JWKS only when asked, and never sends the token anywhere.
//
// Needs /usr/bin/chromium (scripts/setup.sh installs it) and the vendored package
// (bash scripts/build-npm.sh). Run: node --test --test-force-exit 'tests/browser/**/*.test.mjs'
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const www = join(root, 'www');
const screenshotPath = join(root, 'target', 'screenshots', 'demo.png');
const CHROMIUM = '/usr/bin/chromium';
const STEP_TIMEOUT = 15_000;

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** Starts an http server on 127.0.0.1, port 0; resolves to { server, origin, log }. */
function listen(handler) {
  const log = [];
  const server = createServer((req, res) => {
    log.push({ method: req.method, url: req.url, headers: { ...req.headers } });
    handler(req, res);
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolveListen({ server, origin: `http://127.0.0.1:${port}`, log });
    });
  });
}

/** A static file server for www/ with the MIME types a module + wasm page needs. */
function staticServer(dir) {
  return listen(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      let pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (pathname.endsWith('/')) pathname += 'index.html';
      const file = resolve(dir, `.${pathname}`);
      if (file !== dir && !file.startsWith(dir + sep)) {
        res.writeHead(403).end();
        return;
      }
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
}

/** Serves one JWKS at /jwks.json, readable cross-origin (the page's origin differs). */
function jwksServer(jwks) {
  const body = JSON.stringify(jwks);
  return listen((req, res) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'accept, if-none-match',
      'access-control-expose-headers': 'etag, cache-control',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    if (new URL(req.url, 'http://x').pathname !== '/jwks.json') {
      res.writeHead(404, cors).end();
      return;
    }
    res.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    res.end(body);
  });
}

function close(server) {
  return new Promise((done) => {
    server.closeAllConnections?.();
    server.close(() => done());
  });
}

/** Every ErrorCode of the package's index.d.ts. */
async function declaredErrorCodes() {
  const dts = await readFile(join(root, 'npm', 'index.d.ts'), 'utf8');
  const union = dts.match(/export type ErrorCode =([^;]+);/);
  assert.ok(union, 'ErrorCode union not found in npm/index.d.ts');
  return [...union[1].matchAll(/'([a-z0-9_]+)'/g)].map((m) => m[1]);
}

describe('demo page (www/) in headless Chromium', { timeout: 120_000 }, () => {
  const ISSUER = 'https://issuer.example';
  const AUDIENCE = 'api://jwt-edge-demo';
  const KID = 'demo-key-1';
  let site;
  let keyHost;
  let context;
  let page;
  let userDataDir;
  let jwks;
  let privateKey;
  const tokens = [];
  const requests = []; // every request the browser made, as Playwright saw it
  const pageErrors = [];

  async function mint({ iat, exp, nbf, sub = 'user-42', extra = {} } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new jose.SignJWT({ scope: 'read:demo', ...extra })
      .setProtectedHeader({ alg: 'ES256', kid: KID, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(sub)
      .setIssuedAt(iat ?? now - 125)
      .setExpirationTime(exp ?? now + 3630);
    if (nbf !== undefined) jwt.setNotBefore(nbf);
    const token = await jwt.sign(privateKey);
    tokens.push(token);
    return token;
  }

  const byTestId = (id) => page.getByTestId(id);

  async function fillForm({ token, pasted = '', url = '', verifyAt = '' }) {
    await page.fill('#token', token);
    await page.fill('#jwks', pasted);
    await page.fill('#jwks-url', url);
    await page.fill('#issuer', ISSUER);
    await page.fill('#audience', AUDIENCE);
    await page.fill('#verify-at', verifyAt);
  }

  async function submit(expectedState) {
    await byTestId('verify').click();
    await page.waitForSelector(`[data-testid="verdict"][data-state="${expectedState}"]`, { timeout: STEP_TIMEOUT });
  }

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: run scripts/setup.sh (part chromium)`);
    assert.ok(
      existsSync(join(www, 'vendor', 'jwt-edge', 'index.js')),
      'www/vendor/jwt-edge is missing: run bash scripts/build-npm.sh',
    );
    const pair = await jose.generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    jwks = { keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid: KID, alg: 'ES256', use: 'sig' }] };

    site = await staticServer(www);
    keyHost = await jwksServer(jwks);

    userDataDir = await mkdtemp(join(tmpdir(), 'jwt-edge-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
      timeout: 30_000,
    });
    context.setDefaultTimeout(STEP_TIMEOUT);
    context.on('request', (req) => {
      requests.push({ url: req.url(), method: req.method(), headers: req.headers(), postData: req.postData() });
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await page.goto(`${site.origin}/`, { waitUntil: 'load', timeout: STEP_TIMEOUT });
    await page.waitForSelector('[data-testid="status"][data-state="ready"]', { timeout: STEP_TIMEOUT });
  });

  after(async () => {
    await context?.close().catch(() => {});
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    if (site) await close(site.server);
    if (keyHost) await close(keyHost.server);
  });

  test('the page loads, and explains every ErrorCode of index.d.ts', async () => {
    const codes = await declaredErrorCodes();
    assert.ok(codes.length >= 20, `only ${codes.length} codes parsed`);
    const explained = await page.evaluate(async (href) => {
      const app = await import(href);
      return app.EXPLANATIONS;
    }, `${site.origin}/app.js`);
    assert.deepEqual(Object.keys(explained).sort(), [...codes].sort());
    for (const [code, text] of Object.entries(explained)) assert.ok(text.length > 20, `${code}: ${text}`);
    // 15 algorithm checkboxes, each with a label.
    assert.equal(await page.locator('#algorithms input[type=checkbox]').count(), 15);
    assert.equal(await page.locator('#algorithms label').count(), 15);
    assert.equal(await byTestId('verdict').getAttribute('aria-live'), 'polite');
  });

  // The fuzzers' inputs (tests/fixtures/fuzz/parity.json; tests/fuzz_parity.rs and
  // tests/npm/fuzz-parity.test.mjs hold native and Node to the same verdicts): Chromium's
  // wasm decides each as the native core did, and never traps.
  test('the fuzzer inputs of parity.json get the native verdicts in Chromium', async () => {
    const fixture = JSON.parse(await readFile(join(root, 'tests', 'fixtures', 'fuzz', 'parity.json'), 'utf8'));
    const mismatches = await page.evaluate(async ({ href, fixture }) => {
      const { verify, Verifier, JwtEdgeError } = await import(href);
      const verdictOf = (run) => {
        try {
          const r = run();
          return `ok ${r.alg} ${r.kid ?? '-'}`;
        } catch (err) {
          return err instanceof JwtEdgeError ? err.code : `threw ${err?.name}: ${err?.message}`;
        }
      };
      const out = [];
      for (const { input, verdict } of fixture.verify) {
        const got = verdictOf(() => verify(input, fixture.verify_options));
        if (got !== verdict) out.push(`verify ${JSON.stringify(input.slice(0, 60))}: native ${verdict}, chromium ${got}`);
      }
      for (const { input, verdict } of fixture.jwks) {
        let verifier;
        const build = verdictOf(() => {
          verifier = new Verifier({ ...fixture.jwks_options, jwks: input });
          return { alg: 'built', kid: 'x' };
        });
        const got = build === 'ok built x'
          ? { build: 'ok', tokens: fixture.jwks_tokens.map((t) => verdictOf(() => verifier.verify(t))) }
          : { build };
        verifier?.free();
        if (JSON.stringify(got) !== JSON.stringify(verdict)) {
          out.push(`jwks ${JSON.stringify(input.slice(0, 60))}: native ${JSON.stringify(verdict)}, chromium ${JSON.stringify(got)}`);
        }
      }
      return out;
    }, { href: `${site.origin}/vendor/jwt-edge/index.js`, fixture });
    assert.deepEqual(mismatches, [], `${mismatches.length} of ${fixture.verify.length + fixture.jwks.length} differ`);
    assert.deepEqual(pageErrors, []);
  });

  test('a valid token with a pasted JWKS: claims, kid and times', async () => {
    const token = await mint({ extra: { name: 'Demo User' } });
    await fillForm({ token, pasted: JSON.stringify(jwks, null, 2) });
    // Decoded at once, but labelled unverified.
    await page.waitForFunction(() => document.getElementById('claims-json').textContent.includes('user-42'));
    assert.equal(await byTestId('decoded-badge').getAttribute('data-state'), 'unverified');
    assert.equal(await byTestId('verdict').getAttribute('data-state'), 'idle');

    await byTestId('alg-ES256').check();
    await submit('valid');
    assert.match(await byTestId('verdict-text').textContent(), /^Valid/);
    assert.equal(await byTestId('key-id').textContent(), KID);
    assert.equal(await byTestId('key-alg').textContent(), 'ES256');
    assert.equal(await byTestId('decoded-badge').getAttribute('data-state'), 'verified');
    assert.ok(await byTestId('verdict-code-line').isHidden());
    const claims = JSON.parse(await byTestId('claims-json').textContent());
    assert.equal(claims.sub, 'user-42');
    assert.equal(claims.name, 'Demo User');
    assert.equal(claims.iss, ISSUER);
    const header = JSON.parse(await byTestId('header-json').textContent());
    assert.equal(header.kid, KID);

    const exp = page.getByTestId('time-exp');
    assert.equal(await exp.locator('.iso').textContent(), new Date(claims.exp * 1000).toISOString().replace('.000Z', 'Z'));
    assert.equal(await exp.locator('.rel').textContent(), 'in 1 h');
    assert.equal(await page.getByTestId('time-iat').locator('.rel').textContent(), '2 min ago');
    assert.equal(await page.getByTestId('time-nbf').locator('.rel').textContent(), 'absent');

    await mkdir(join(root, 'target', 'screenshots'), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    await byTestId('alg-ES256').uncheck();
  });

  test('an expired token is refused with its code and explanation; "verify at" moves the clock', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await mint({ iat: now - 7200, exp: now - 3600 });
    await fillForm({ token, pasted: JSON.stringify(jwks) });
    await submit('refused');
    assert.equal(await byTestId('verdict-code').textContent(), 'token_expired');
    const explained = await page.evaluate(async (href) => (await import(href)).EXPLANATIONS.token_expired, `${site.origin}/app.js`);
    assert.equal(await byTestId('verdict-explanation').textContent(), explained);
    assert.ok(await byTestId('verdict-explanation').isVisible());
    assert.ok(await byTestId('key-used').isHidden());
    assert.equal(await byTestId('decoded-badge').getAttribute('data-state'), 'unverified');
    assert.equal(await page.getByTestId('time-exp').locator('.rel').textContent(), '1 h ago');
    await page.screenshot({ path: join(root, 'target', 'screenshots', 'demo-refused.png'), fullPage: true });

    // The same token, verified at a time inside its lifetime (ISO 8601), is valid.
    await page.fill('#verify-at', new Date((now - 5400) * 1000).toISOString());
    await submit('valid');
    assert.match(await byTestId('times-caption').textContent(), /verify at/);
    assert.equal(await page.getByTestId('time-exp').locator('.rel').textContent(), 'in 30 min');

    await page.fill('#verify-at', 'soon');
    await submit('refused');
    assert.ok(await byTestId('verify-at-error').isVisible());
  });

  test('a tampered token is refused as signature_invalid', async () => {
    const token = await mint();
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.sub = 'admin';
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    tokens.push(tampered);
    await fillForm({ token: tampered, pasted: JSON.stringify(jwks) });
    await submit('refused');
    assert.equal(await byTestId('verdict-code').textContent(), 'signature_invalid');
    assert.match(await byTestId('verdict-explanation').textContent(), /altered/);
    // Still shown, but as unverified.
    assert.equal(JSON.parse(await byTestId('claims-json').textContent()).sub, 'admin');
    assert.equal(await byTestId('decoded-badge').getAttribute('data-state'), 'unverified');
  });

  test('an HMAC secret verifies HS256; without it HS256 is not allowed', async () => {
    const secretBytes = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
    const now = Math.floor(Date.now() / 1000);
    const token = await new jose.SignJWT({ scope: 'hmac' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 330) // "in 5 min" while under 30 s pass
      .sign(secretBytes);
    tokens.push(token);
    // A JWKS and no secret: HS256 is not on the default allow-list.
    await fillForm({ token, pasted: JSON.stringify(jwks) });
    await submit('refused');
    assert.equal(await byTestId('verdict-code').textContent(), 'alg_not_allowed');

    await page.fill('#secret', Buffer.from(secretBytes).toString('base64url'));
    await submit('valid');
    assert.equal(await byTestId('key-alg').textContent(), 'HS256');
    assert.equal(await byTestId('key-source').textContent(), 'HMAC secret');
    assert.equal(await page.getByTestId('time-exp').locator('.rel').textContent(), 'in 5 min');
    await page.fill('#secret', '');
  });

  test('a JWKS URL is fetched with RemoteJwks, once, and carries no token', async () => {
    const token = await mint({ sub: 'remote-user' });
    const url = `${keyHost.origin}/jwks.json`;
    await fillForm({ token, url });
    await submit('valid');
    assert.equal(await byTestId('key-id').textContent(), KID);
    assert.equal(await byTestId('key-source').textContent(), `RemoteJwks ${url}`);
    assert.equal(JSON.parse(await byTestId('claims-json').textContent()).sub, 'remote-user');

    // A second verification uses the cached set.
    const other = await mint({ sub: 'remote-user-2' });
    await page.fill('#token', other);
    await submit('valid');
    const gets = keyHost.log.filter((r) => r.method === 'GET');
    assert.equal(gets.length, 1, JSON.stringify(keyHost.log));
    assert.equal(gets[0].url, '/jwks.json');

    // An unreachable JWKS URL: jwks_unavailable, explained.
    await page.fill('#jwks-url', `${keyHost.origin}/missing.json`);
    await submit('refused');
    assert.equal(await byTestId('verdict-code').textContent(), 'jwks_unavailable');
  });

  test('no request carries a token; the page loads nothing but its own files and the JWKS URL', async () => {
    assert.ok(tokens.length >= 5);
    const secrets = tokens.flatMap((t) => [t, ...t.split('.').slice(1)]).filter((s) => s.length > 10);
    const seen = [
      ...requests.map((r) => ({ where: 'browser', ...r })),
      ...site.log.map((r) => ({ where: 'site', ...r })),
      ...keyHost.log.map((r) => ({ where: 'jwks host', ...r })),
    ];
    for (const r of seen) {
      const text = JSON.stringify(r);
      for (const s of secrets) assert.ok(!text.includes(s), `a token part was sent: ${r.where} ${r.method} ${r.url}`);
    }
    const allowed = new Set([`${keyHost.origin}/jwks.json`, `${keyHost.origin}/missing.json`]);
    for (const r of requests) {
      const u = new URL(r.url);
      if (u.origin === site.origin) {
        assert.equal(r.method, 'GET', r.url);
        assert.equal(u.search, '', `a query string was sent: ${r.url}`);
        assert.ok(existsSync(join(www, u.pathname === '/' ? 'index.html' : u.pathname)), `unexpected file ${r.url}`);
      } else {
        assert.ok(allowed.has(r.url), `unexpected request ${r.method} ${r.url}`);
      }
    }
    const paths = new Set(requests.map((r) => new URL(r.url).pathname));
    for (const p of ['/', '/app.js', '/style.css', '/vendor/jwt-edge/index.js', '/vendor/jwt-edge/wasm/jwt_edge_bg.wasm']) {
      assert.ok(paths.has(p), `${p} was not loaded (saw ${[...paths].join(', ')})`);
    }
    assert.deepEqual(pageErrors, []);
  });
});
