// The npm tarball: `npm pack` in target/npm/jwt-edge holds exactly the package's files,
// installs offline into a scratch project, works from Node 22 by its package name, and
// its types check with `tsc --strict --module nodenext` (and refuse what they should).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { ROOT, PKG_DIR, loadPackage } from './helpers.mjs';

await loadPackage('node.js'); // fails early, with how to build, when the package is missing

const NODE22 = `${ROOT}node_modules/.bin/node`;
const TSC = `${ROOT}node_modules/.bin/tsc`;
const EXPECTED_FILES = [
  'README.md', 'api.js', 'errors.js', 'index.d.ts', 'index.js', 'node.js', 'package.json',
  'workerd.js', 'edge-light.js', 'deno.js', 'hono.js', 'hono.d.ts',
  'wasm/jwt_edge.js', 'wasm/jwt_edge_bg.wasm',
];

let tmp;
let tarball;
let app;

/** Runs a command (bounded), returning { status, stdout, stderr }. */
function run(file, args, { cwd, timeout = 120_000, env = {} } = {}) {
  const result = spawnSync(file, args, {
    cwd,
    timeout,
    encoding: 'utf8',
    env: {
      ...process.env,
      npm_config_cache: join(tmp, 'npm-cache'),
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_loglevel: 'error',
      ...env,
    },
  });
  if (result.error) throw result.error;
  return result;
}

function ok(result, label) {
  assert.equal(result.status, 0, `${label} exited ${result.status} (signal ${result.signal}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'jwt-edge-pack-'));
  const packed = JSON.parse(ok(run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: PKG_DIR }), 'npm pack'));
  assert.equal(packed.length, 1);
  tarball = join(tmp, packed[0].filename);
  assert.ok(existsSync(tarball), tarball);
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the tarball holds exactly the package files', () => {
  const listed = ok(run('tar', ['-tzf', tarball]), 'tar -t').trim().split('\n');
  assert.ok(listed.every((p) => p.startsWith('package/')), listed.join(', '));
  assert.deepEqual(listed.map((p) => p.slice('package/'.length)).sort(), [...EXPECTED_FILES].sort());

  const extracted = join(tmp, 'extracted');
  mkdirSync(extracted);
  ok(run('tar', ['-xzf', tarball, '-C', extracted]), 'tar -x');
  const pkg = JSON.parse(readFileSync(join(extracted, 'package/package.json'), 'utf8'));
  assert.equal(pkg.name, 'jwt-edge');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.types, './index.d.ts');
  assert.deepEqual([...pkg.files].sort(), EXPECTED_FILES.filter((f) => f !== 'package.json').sort());
  const root = pkg.exports['.'];
  assert.equal(Object.keys(root)[0], 'types', '"types" must come first in the conditions');
  // The order is the resolution order: the first condition a runtime has wins.
  assert.deepEqual(Object.entries(root), [
    ['types', './index.d.ts'],
    ['workerd', './workerd.js'],
    ['worker', './workerd.js'],
    ['edge-light', './edge-light.js'],
    ['deno', './deno.js'],
    ['bun', './node.js'],
    ['node', './node.js'],
    ['browser', './index.js'],
    ['default', './index.js'],
  ]);
  assert.deepEqual(pkg.exports['./hono'], { types: './hono.d.ts', default: './hono.js' });
  assert.equal(pkg.exports['./package.json'], './package.json');
  // Every path the manifest names is in the tarball.
  for (const target of [pkg.main, pkg.browser, pkg.types, ...Object.values(root)]) {
    assert.ok(existsSync(join(extracted, 'package', target)), `${target} is not in the tarball`);
  }
  // The wasm is a real module, not a Git LFS pointer or an empty file.
  const wasm = readFileSync(join(extracted, 'package/wasm/jwt_edge_bg.wasm'));
  assert.deepEqual([...wasm.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d]);
  assert.ok(wasm.length > 10_000);
});

test('installs offline into a scratch project and verifies a jose token from Node 22 by package name', async () => {
  app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  ok(run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app }), 'npm install');
  assert.ok(existsSync(join(app, 'node_modules/jwt-edge/wasm/jwt_edge_bg.wasm')));
  const installed = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  assert.ok(installed.dependencies?.['jwt-edge'], 'npm install recorded no dependency');

  const now = Math.floor(Date.now() / 1000);
  const { publicKey, privateKey } = await jose.generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'ed-1', alg: 'EdDSA' };
  const token = await new jose.SignJWT({ scope: 'read' })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'ed-1', typ: 'JWT' })
    .setIssuer('https://issuer.example').setAudience('api').setSubject('user-1')
    .setIssuedAt(now).setExpirationTime(now + 300)
    .sign(privateKey);

  writeFileSync(join(app, 'check.mjs'), `
    import { verify, Verifier, decodeUnverified, RemoteJwks, JwtEdgeError } from 'jwt-edge';
    import pkg from 'jwt-edge/package.json' with { type: 'json' };
    const jwks = JSON.parse(process.env.JWKS);
    const token = process.env.TOKEN;
    const result = verify(token, { jwks, issuer: 'https://issuer.example', audience: 'api' });
    let code;
    try { verify(token, { jwks, audience: 'other' }); } catch (err) { code = err instanceof JwtEdgeError && err.code; }
    let deep;
    try { await import('jwt-edge/api.js'); deep = 'importable'; } catch (err) { deep = err.code; }
    console.log(JSON.stringify({
      node: process.version,
      resolved: import.meta.resolve('jwt-edge'),
      version: pkg.version,
      result,
      aliases: [result.algorithm, result.keyId],
      code,
      decoded: decodeUnverified(token).payload.scope,
      remote: typeof RemoteJwks,
      deep,
    }));
  `);
  const out = JSON.parse(ok(run(NODE22, ['check.mjs'], { cwd: app, timeout: 30_000, env: { TOKEN: token, JWKS: JSON.stringify({ keys: [jwk] }) } }), 'node check.mjs'));
  assert.match(out.node, /^v22\./);
  assert.match(out.resolved, /\/node_modules\/jwt-edge\/node\.js$/, 'Node resolves the "node" condition');
  assert.equal(out.version, JSON.parse(readFileSync(`${PKG_DIR}/package.json`, 'utf8')).version);
  assert.equal(out.result.alg, 'EdDSA');
  assert.equal(out.result.kid, 'ed-1');
  assert.equal(out.result.key_source, 'local');
  assert.deepEqual(out.aliases, ['EdDSA', 'ed-1'], 'the deprecated keyId/algorithm still read');
  assert.equal(out.result.claims.sub, 'user-1');
  assert.equal(out.code, 'audience_mismatch');
  assert.equal(out.decoded, 'read');
  assert.equal(out.remote, 'function');
  assert.equal(out.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'files outside "exports" are not importable');
});

/** Runs tsc over `files` in the scratch project. */
function tsc(files) {
  return run(NODE22, [TSC, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--typeRoots', join(app, 'node_modules/@types'), '--pretty', 'false', ...files], { cwd: app, timeout: 120_000 });
}

test('the types check under tsc --strict --module nodenext, and refuse misuse', () => {
  assert.ok(app && existsSync(join(app, 'node_modules/jwt-edge/index.d.ts')), 'the install test did not run');
  writeFileSync(join(app, 'good.ts'), `
    import { verify, Verifier, decodeUnverified, RemoteJwks, JwtEdgeError } from 'jwt-edge';
    import type { Algorithm, ErrorCode, JsonWebKeySet, JwtClaims, RemoteJwksOptions, VerifyOptions, VerifyResult } from 'jwt-edge';

    const jwks: JsonWebKeySet = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', kid: 'ed-1', alg: 'EdDSA' }] };
    const options: VerifyOptions = {
      jwks, secret: new Uint8Array(32), algorithms: ['EdDSA', 'Ed25519', 'ES256K', 'HS256'],
      issuer: ['https://issuer.example'], audience: 'api', subject: 'user-1', typ: 'JWT',
      requiredClaims: ['scope'], clockSkewSeconds: 0, maxLifetimeSeconds: 3600, requireExp: false,
      requireJti: true, now: 1, maxTokenBytes: 4096,
    };
    const textual: VerifyOptions = { jwks: JSON.stringify(jwks), secret: 'c2VjcmV0', issuer: 'x', audience: ['a', 'b'] };
    const result: VerifyResult = verify('a.b.c', options);
    verify('a.b.c', textual);
    const alg: Algorithm = result.algorithm;
    const kid: string | undefined = result.keyId;
    const claims: JwtClaims = result.claims;
    const sub: string | undefined = claims.sub;
    const aud: string | string[] | undefined = claims.aud;
    const exp: number | undefined = claims.exp;
    const custom: unknown = claims['scope'];
    const compiled = new Verifier(textual);
    const again: VerifyResult = compiled.verify('a.b.c');
    compiled.verify('a.b.c', { now: 1 });
    compiled.free();
    const decoded = decodeUnverified('a.b.c');
    const header: Record<string, unknown> = decoded.header;
    const payload: Record<string, unknown> | null = decoded.payload;

    const remoteOptions: RemoteJwksOptions = { cacheMaxAgeSeconds: 600, cooldownSeconds: 30, timeoutMs: 5000, fetch };
    const remote = new RemoteJwks('https://issuer.example/jwks.json', remoteOptions);
    new RemoteJwks(new URL('https://issuer.example/jwks.json'));
    const fetches: number = remote.fetchCount;

    export async function check(token: string): Promise<string> {
      try {
        const r: VerifyResult = await remote.verify(token, { audience: 'api', now: 1 });
        await remote.verify(token);
        return r.algorithm;
      } catch (err) {
        if (err instanceof JwtEdgeError) {
          const code: ErrorCode = err.code;
          const name: 'JwtEdgeError' = err.name;
          const message: string = err.message;
          const isError: Error = err;
          return code + name + message + String(isError);
        }
        throw err;
      }
    }
    export { alg, kid, sub, aud, exp, custom, header, payload, fetches, again };
  `);
  const good = tsc(['good.ts']);
  assert.equal(good.status, 0, `good.ts does not type-check:\n${good.stdout}${good.stderr}`);

  // Each bad file must fail on its marked line and nowhere else.
  const bad = {
    'bad-unknown-option.ts': `verify('a.b.c', { jwks: { keys: [] }, audiences: 'api' }); // error`,
    'bad-algorithm.ts': `verify('a.b.c', { algorithms: ['none'] }); // error`,
    'bad-remote-jwks-option.ts': `new RemoteJwks('https://x.example/').verify('a.b.c', { jwks: { keys: [] } }); // error`,
    'bad-token-type.ts': `verify(42, {}); // error`,
    'bad-no-options.ts': `verify('a.b.c'); // error`,
    'bad-error-code.ts': `const code: ErrorCode = 'token_invalid'; // error`,
    'bad-option-type.ts': `verify('a.b.c', { clockSkewSeconds: '60' }); // error`,
    'bad-remote-option.ts': `new RemoteJwks('https://x.example/', { cacheMaxAge: 60 }); // error`,
    'bad-fetch-count.ts': `new RemoteJwks('https://x.example/').fetchCount = 0; // error`,
  };
  for (const [file, line] of Object.entries(bad)) {
    writeFileSync(join(app, file), [
      `import { verify, RemoteJwks } from 'jwt-edge';`,
      `import type { ErrorCode } from 'jwt-edge';`,
      line,
      `export { verify, RemoteJwks };`,
      `export type { ErrorCode };`,
      '',
    ].join('\n'));
  }
  const refused = tsc(Object.keys(bad));
  assert.notEqual(refused.status, 0, 'tsc accepted the bad files');
  const errors = [...refused.stdout.matchAll(/^(\S+\.ts)\((\d+),\d+\): error (TS\d+): (.*)$/gm)]
    .map(([, file, line, code, message]) => ({ file, line: Number(line), code, message }));
  assert.ok(!errors.some((e) => e.code === 'TS2307'), `jwt-edge not found:\n${refused.stdout}`);
  for (const file of Object.keys(bad)) {
    const mine = errors.filter((e) => e.file === file);
    assert.ok(mine.length > 0, `${file} type-checks but must not`);
    assert.deepEqual([...new Set(mine.map((e) => e.line))], [3], `${file}: errors elsewhere than the marked line:\n${refused.stdout}`);
  }
  assert.deepEqual([...new Set(errors.map((e) => e.file))].sort(), Object.keys(bad).sort(), refused.stdout);
});
