// Several builds of the npm package side by side with jose, in one Node process: each
// build's `Verifier` (keys imported once, token cache off) and jose's `jwtVerify` with a
// local JWKS verify the same jose-minted token with the same policy, in alternating slices
// of 250 ms so that a noisy neighbour hits all alike. Prints, per algorithm, CPU µs per
// verification (process.cpuUsage, all threads) and jose ÷ each build. For before/after
// tables (BENCHMARKS.md "RSA and EdDSA, before and after"): build each commit with
// `bash scripts/build-npm.sh` and copy target/npm/jwt-edge somewhere first.
//
// Usage (Node 22): node bench/wasm-builds.mjs [--algs RS256,PS256,EdDSA] [--rounds 10] DIR...
// A benchmark, not a test.
import { parseArgs } from 'node:util';
import path from 'node:path';
import * as jose from 'jose';
import { joseArgs, mintFixture, wasmOptions } from './lib/wasm-fixtures.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    algs: { type: 'string', default: 'RS256,PS256,EdDSA,ES256,ES384' },
    rounds: { type: 'string', default: '10' },
  },
});
if (!positionals.length) throw new Error('give one or more package directories (target/npm/jwt-edge copies)');
const SLICE_MS = 250;
const now = 1796591769;
const builds = await Promise.all(positionals.map((dir) => import(path.resolve(dir, 'node.js'))));
const names = [...positionals.map((dir) => path.basename(path.resolve(dir))), 'jose'];

for (const alg of values.algs.split(',')) {
  const f = await mintFixture(alg, now);
  const { key, options } = joseArgs(f);
  const runs = [
    ...builds.map((m) => {
      const verifier = new m.Verifier(wasmOptions(f));
      return async () => verifier.verify(f.token, { now });
    }),
    async () => jose.jwtVerify(f.token, key, options),
  ];
  const totals = runs.map(() => ({ cpu: 0, n: 0 }));
  for (const run of runs) for (let i = 0; i < 300; i++) await run();
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [k, run] of runs.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < SLICE_MS) {
        await run();
        n++;
      }
      const c = process.cpuUsage(c0);
      totals[k].cpu += c.user + c.system;
      totals[k].n += n;
    }
  }
  const us = totals.map((t) => t.cpu / t.n);
  const cells = names.map((name, k) => `${name} ${us[k].toFixed(1)} µs${k < builds.length ? ` (${(us.at(-1) / us[k]).toFixed(2)}×)` : ''}`);
  console.log(`${alg}: ${cells.join(', ')}`);
}
