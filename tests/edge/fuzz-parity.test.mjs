// The worker against the native core's recorded verdicts on the fuzzers' inputs
// (tests/fixtures/fuzz/parity.json; tests/fuzz_parity.rs holds native to them, and
// tests/npm/fuzz-parity.test.mjs the npm package). Each input that can travel in an
// HTTP header goes in `Authorization: Bearer …` to the built worker in workerd, with the
// fixture's keys behind a loopback JWKS server, its HS256 secret as a Worker secret, and
// the clock set to the fixture's `now` (tests/edge/fault-entry.mjs).
//
// The worker must give the native verdict, with one rule of its own on top: a credential
// with a byte outside RFC 6750's b64token is a malformed request (400 request_malformed)
// before it is a token (src/token/extract.rs). No refusal body and no log line may carry the
// input.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FAULT_ENTRY, JwksServer, ROOT, assertRefused, closeAll, startWorker } from './harness.mjs';

after(closeAll);

const fixture = JSON.parse(readFileSync(path.join(ROOT, 'tests/fixtures/fuzz/parity.json'), 'utf8'));
const B64TOKEN = /^[A-Za-z0-9\-._~+/=]+$/;

test('the worker gives the native verdict on every fuzzer input a header can carry', async () => {
  const o = fixture.verify_options;
  const jwks = await JwksServer.start(o.jwks.keys);
  const worker = await startWorker({
    config: {
      issuers: [{
        issuer: o.issuer,
        jwks_uri: jwks.uri,
        audiences: [o.audience],
        algorithms: o.algorithms,
        clock_skew: o.clockSkewSeconds,
        hmac_secret: 'HS_SECRET',
      }],
      mode: 'verdict',
      dev_allow_http_loopback: true,
    },
    entry: FAULT_ENTRY,
    bindings: { HS_SECRET: o.secret },
  });

  // Visible ASCII only: what fetch() sends unchanged in a header value.
  const cases = fixture.verify.filter(({ input }) => /^[\x21-\x7e]+$/.test(input));
  assert.ok(cases.length >= 0.9 * fixture.verify.length, `${cases.length} of ${fixture.verify.length} inputs fit a header`);
  const mismatches = [];
  let accepted = 0;
  let extractionRule = 0;
  for (const { input, verdict } of cases) {
    const expected = B64TOKEN.test(input) ? verdict : 'request_malformed';
    extractionRule += Number(expected !== verdict);
    // Milliseconds past the fixture's second, so the whole request runs at `now`.
    const offset = (o.now + 0.1 - Date.now() / 1000).toFixed(3);
    const res = await worker.fetch('/', { headers: { authorization: `Bearer ${input}`, 'x-test-clock-offset': offset } });
    let got;
    if (res.status === 200) {
      got = `ok ${res.json.alg} ${res.json.kid ?? '-'}`;
      accepted += 1;
    } else {
      got = res.json?.code ?? `status ${res.status}`;
      try {
        assert.ok([400, 401, 403].includes(res.status), `status ${res.status}`);
        assertRefused(res, { status: res.status, code: got });
        if (input.length >= 16) assert.ok(!res.text.includes(input), 'the body echoes the token');
      } catch (err) {
        got = `${got}, badly refused: ${err.message.split('\n')[0]}`;
      }
    }
    if (got !== expected) mismatches.push(`${JSON.stringify(input.slice(0, 60))}: expected ${expected}, worker ${got}`);
  }
  console.log(`${cases.length} inputs, ${accepted} accepted, ${extractionRule} refused by the b64token rule first`);
  // Nothing the worker logged (every level) carries an input, or any of its segments
  // long enough to be more than a coincidence.
  assert.ok(worker.logs.length >= cases.length, `${worker.logs.length} log lines: one per request at least`);
  const leaks = [];
  for (const { input } of cases) {
    for (const part of new Set([input, ...input.split('.')])) {
      if (part.length >= 16 && worker.logs.some((l) => l.message.includes(part))) {
        leaks.push(`${JSON.stringify(part.slice(0, 40))} in the log`);
      }
    }
  }
  assert.deepEqual(leaks, [], `${leaks.length} inputs logged`);
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${cases.length} differ`);
  assert.ok(accepted >= 5, `${accepted} accepted`);
  // The clock stands at `now`: the first fetch, then at most one refetch for unknown kids.
  assert.ok(jwks.count <= 2, `${jwks.count} JWKS fetches`);
});
