// Sizes of what users download and deploy: the worker bundle (build/) and the npm
// package's wasm (target/npm/jwt-edge), raw and gzip -9, and the packed tarball.
// Build them first (scripts/build-worker.sh, scripts/build-npm.sh); scripts/bench.sh does.
// Writes target/bench/sizes.json. Not a test.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const files = {
  'worker wasm (build/index_bg.wasm)': 'build/index_bg.wasm',
  'worker JS (build/index.js)': 'build/index.js',
  'npm wasm (jwt_edge_bg.wasm)': 'target/npm/jwt-edge/wasm/jwt_edge_bg.wasm',
  'npm JS glue (jwt_edge.js)': 'target/npm/jwt-edge/wasm/jwt_edge.js',
};
const rows = [];
for (const [name, rel] of Object.entries(files)) {
  const file = path.join(ROOT, rel);
  if (!existsSync(file)) throw new Error(`${rel} not found: build it first (scripts/bench.sh builds everything)`);
  const bytes = readFileSync(file);
  rows.push({ name, path: rel, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
}
const worker = rows.filter((r) => r.path.startsWith('build/'));
rows.push({
  name: 'worker bundle (wasm + JS)',
  path: 'build/',
  raw: worker.reduce((a, r) => a + r.raw, 0),
  gzip: worker.reduce((a, r) => a + r.gzip, 0),
});
// Lever 6 of issue 18: what binaryen's `wasm-opt -Oz` (a dev dependency) would save on
// each wasm, measured, not applied by the builds.
const wasmOpt = path.join(ROOT, 'node_modules/.bin/wasm-opt');
for (const rel of ['build/index_bg.wasm', 'target/npm/jwt-edge/wasm/jwt_edge_bg.wasm']) {
  if (!existsSync(wasmOpt)) break;
  const out = path.join(ROOT, 'target/bench', `${path.basename(path.dirname(rel))}-Oz.wasm`);
  mkdirSync(path.dirname(out), { recursive: true });
  try {
    execFileSync(wasmOpt, ['-Oz', '--all-features', path.join(ROOT, rel), '-o', out], { stdio: 'ignore', timeout: 120_000 });
    const bytes = readFileSync(out);
    rows.push({ name: `${rel} after wasm-opt -Oz (not shipped)`, path: `${rel}#wasm-opt-Oz`, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
  } catch {
    // Not measured: the row is absent.
  }
}
let tarball = null;
try {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: path.join(ROOT, 'target/npm/jwt-edge'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [info] = JSON.parse(out);
  tarball = { size: info.size, unpackedSize: info.unpackedSize, files: info.entryCount };
} catch {
  tarball = null;
}
const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
console.log('sizes (kB = 1000 B)');
for (const r of rows) console.log(`  ${r.name.padEnd(36)} ${kb(r.raw).padStart(10)} raw ${kb(r.gzip).padStart(10)} gzip -9`);
if (tarball) console.log(`  ${'npm pack tarball'.padEnd(36)} ${kb(tarball.size).padStart(10)} (${tarball.files} files, ${kb(tarball.unpackedSize)} unpacked)`);
mkdirSync(path.join(ROOT, 'target/bench'), { recursive: true });
writeFileSync(path.join(ROOT, 'target/bench/sizes.json'), JSON.stringify({ rows, tarball }, null, 2));
