// Added latency of the signed origin assertion per request, in workerd (Miniflare):
// proxy mode to an origin on 127.0.0.1, ES256 tokens, without an assertion, with an
// Ed25519 one and with an HS256 one. Requests interleave; the first 50 warm up. Not a test.
// Run: node bench/assertion-latency.mjs [N]
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import * as jose from 'jose';
import { JwksServer, Origin, b64u, closeAll, mint, newKey, startWorker } from '../tests/edge/harness.mjs';
import { p50, p99, us } from './lib/percentiles.mjs';

const N = Number(process.argv[2] ?? 300);

try {
  const key = await newKey('ES256');
  const jwks = await JwksServer.start([key]);
  const origin = await Origin.start();
  const ed = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const keys = {
    none: null,
    EdDSA: await jose.exportJWK(ed.privateKey),
    HS256: { kty: 'oct', k: b64u(new Uint8Array(randomBytes(32))) },
  };
  const workers = {};
  for (const [name, jwk] of Object.entries(keys)) {
    const config = {
      dev_allow_http_loopback: true,
      mode: 'proxy',
      origin: origin.url,
      issuers: [{ issuer: 'https://bench.test', jwks_uri: jwks.uri }],
    };
    if (jwk) config.assertion = { key_secret: 'ASSERTION_KEY' };
    workers[name] = await startWorker({ config, bindings: jwk ? { ASSERTION_KEY: JSON.stringify(jwk) } : {} });
  }
  const token = await mint(key, { iss: 'https://bench.test' }, { lifetime: 3600 });
  const times = Object.fromEntries(Object.keys(keys).map((k) => [k, []]));
  for (let i = 0; i < N + 50; i++) {
    for (const name of Object.keys(keys)) {
      const t0 = performance.now();
      const res = await workers[name].fetch('/api/items?x=1', { token });
      const ms = performance.now() - t0;
      if (res.status !== 201) throw new Error(`${name}: ${res.status} ${res.text}`);
      if (i >= 50) times[name].push(ms);
    }
  }
  console.log(`origin assertion in workerd (Miniflare), proxy mode, ${N} sequential requests each`);
  const base = p50(times.none);
  for (const name of Object.keys(keys)) {
    const extra = name === 'none' ? '' : `   added ≈ ${us(p50(times[name]) - base)} (p50 − none p50)`;
    console.log(`  ${name.padEnd(6)} p50 ${us(p50(times[name]))}  p99 ${us(p99(times[name]))}${extra}`);
  }
} finally {
  await closeAll();
}
