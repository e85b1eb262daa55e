// Shared by tests/runtimes/*.test.mjs: the npm package as a user gets it. `npm pack` of
// the built package (target/npm/jwt-edge, from `bash scripts/build-npm.sh`), installed by
// package name into a scratch project with `npm install --offline <tarball>` (the tarball
// has no dependencies, so npm needs no registry and no cache), then imported as
// 'jwt-edge' by each runtime, which picks its own `exports` condition.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PKG_DIR = path.join(ROOT, 'target/npm/jwt-edge');
export const BIN = path.join(ROOT, 'node_modules/.bin');
export const FIXTURES = path.join(ROOT, 'tests/runtimes/fixtures');
/**
 * Every registry setting the tools read points here, a closed port on loopback: a test
 * that would reach a registry (npm, Bun's or Deno's npm resolution) fails at once.
 */
const NO_REGISTRY = 'http://127.0.0.1:9/';
const OFFLINE_ENV = { npm_config_registry: NO_REGISTRY, NPM_CONFIG_REGISTRY: NO_REGISTRY, BUN_CONFIG_REGISTRY: NO_REGISTRY };

/** The names every entry exports: the keys of makeApi's answer, read from npm/node.js. */
export function entryExports(file = path.join(PKG_DIR, 'node.js')) {
  const m = /export const \{([^}]*)\} = makeApi\(wasm\);/.exec(readFileSync(file, 'utf8'));
  assert.ok(m, `${file} has no \`export const { … } = makeApi(wasm)\``);
  return m[1].split(',').map((s) => s.trim()).filter(Boolean).sort();
}

/** Fails early, with how to build, when the package is missing. */
export function requirePackage() {
  for (const f of ['package.json', 'node.js', 'wasm/jwt_edge_bg.wasm']) {
    if (!existsSync(path.join(PKG_DIR, f))) {
      throw new Error(`${path.join(PKG_DIR, f)} is missing: run \`bash scripts/build-npm.sh\` first`);
    }
  }
}

/**
 * Runs a command (bounded), returning { status, stdout, stderr }; never throws for a
 * non-zero exit. npm runs with a private cache under `scratch`, quiet, with no audit.
 */
export function run(file, args, { cwd, timeout = 60_000, env = {}, scratch = tmpdir() } = {}) {
  const result = spawnSync(file, args, {
    cwd,
    timeout,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    maxBuffer: 32 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PATH: `${BIN}${path.delimiter}${process.env.PATH}`,
      npm_config_cache: path.join(scratch, 'npm-cache'),
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_loglevel: 'error',
      WRANGLER_SEND_METRICS: 'false',
      ...OFFLINE_ENV,
      ...env,
    },
  });
  if (result.error) throw result.error;
  return result;
}

/** Asserts a `run` result exited 0; returns its stdout. */
export function ok(result, label) {
  assert.equal(
    result.status,
    0,
    `${label} exited ${result.status} (signal ${result.signal}):\n${result.stdout}\n${result.stderr}`,
  );
  return result.stdout;
}

/**
 * The same as `run`, asynchronous: for commands whose output a server in this process
 * must answer (a child that fetches from a loopback JWKS server would deadlock
 * spawnSync). Resolves { status, signal, stdout, stderr }.
 */
export function runAsync(file, args, { cwd, timeout = 60_000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH}`, ...OFFLINE_ENV, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/**
 * A scratch directory with the packed package: `{ dir, tarball, install(project), close }`.
 * `install(project)` makes `project` (a fixture copied in, or an empty package.json) and
 * installs the tarball there by `npm install --offline`, as a user would.
 */
export function packed(prefix = 'jwt-edge-runtimes-') {
  requirePackage();
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const out = ok(run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PKG_DIR, scratch: dir }), 'npm pack');
  const [{ filename }] = JSON.parse(out);
  const tarball = path.join(dir, filename);
  assert.ok(existsSync(tarball), tarball);

  function install(name, { fixture } = {}) {
    const project = path.join(dir, name);
    if (fixture) {
      cpSync(path.join(FIXTURES, fixture), project, { recursive: true });
    } else {
      mkdirSync(project);
      writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
    }
    ok(run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, scratch: dir }), `npm install ${filename}`);
    const installed = path.join(project, 'node_modules/jwt-edge');
    assert.ok(existsSync(path.join(installed, 'wasm/jwt_edge_bg.wasm')), 'the tarball did not install');
    const manifest = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8'));
    assert.ok(manifest.dependencies?.['jwt-edge'], 'npm install recorded no dependency on jwt-edge');
    return project;
  }

  return { dir, tarball, install, close: () => rmSync(dir, { recursive: true, force: true }) };
}
