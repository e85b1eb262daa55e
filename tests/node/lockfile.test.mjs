// package-lock.json is complete for every platform (issue 15 §7): `npm ci` on a fresh
// macOS, Windows or Linux arm64 machine finds the optional per-platform packages of
// workerd and esbuild in the lock instead of calling it out of sync, so set-up never
// needs `npm install` (which rewrites the lock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
const packages = lock.packages;

test('every optional dependency named in the lock has its own entry', () => {
  const missing = [];
  for (const [where, entry] of Object.entries(packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      // Resolved from `where` upwards, as npm does.
      const scopes = where ? where.split('/node_modules/') : [];
      let found = false;
      for (let i = scopes.length; i >= 0 && !found; i--) {
        const base = scopes.slice(0, i).join('/node_modules/');
        found = `${base ? `${base}/` : ''}node_modules/${name}` in packages;
      }
      if (!found) missing.push(`${where || '(root)'} -> ${name}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('workerd and esbuild are locked for linux, darwin and win32, x64 and arm64', () => {
  const workerd = packages['node_modules/workerd'].version;
  const esbuild = packages['node_modules/esbuild'].version;
  const expected = [
    ...['darwin-64', 'darwin-arm64', 'linux-64', 'linux-arm64', 'windows-64'].map((p) => [
      `node_modules/@cloudflare/workerd-${p}`,
      workerd,
    ]),
    ...['darwin-x64', 'darwin-arm64', 'linux-x64', 'linux-arm64', 'win32-x64'].map((p) => [
      `node_modules/@esbuild/${p}`,
      esbuild,
    ]),
  ];
  for (const [name, version] of expected) {
    const entry = packages[name];
    assert.ok(entry, `${name} is not in package-lock.json`);
    assert.equal(entry.version, version, name);
    assert.match(entry.integrity ?? '', /^sha512-/, `${name} has no integrity`);
    assert.equal(entry.optional, true, name);
  }
});
