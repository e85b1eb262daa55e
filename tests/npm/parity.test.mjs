// The npm package's `verify` (target/npm/jwt-edge/node.js) gives exactly the expected
// verdict for every jose-minted case in tests/fixtures/jose/tokens.json (and the file in
// $JWT_EDGE_FIXTURES when set), and verifies the RFC 7515 JWT vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT, ALL_ALGORITHMS, loadPackage, checkError } from './helpers.mjs';

const { verify, JwtEdgeError } = await loadPackage('node.js');

const fixturePaths = [`${ROOT}tests/fixtures/jose/tokens.json`];
if (process.env.JWT_EDGE_FIXTURES) {
  const extra = resolve(process.env.JWT_EDGE_FIXTURES);
  if (!fixturePaths.includes(extra)) fixturePaths.push(extra);
}

const b64json = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

for (const path of fixturePaths) {
  const fixture = JSON.parse(readFileSync(path, 'utf8'));
  const policy = {
    algorithms: ALL_ALGORITHMS,
    issuer: fixture.policy.issuer,
    audience: fixture.policy.audience,
    clockSkewSeconds: fixture.policy.clock_skew,
    now: fixture.now,
  };

  /** The options for one case: the fixture's JWKS, plus the secret for the case's alg when it is HS*. */
  const optionsFor = (c) => {
    const options = { jwks: fixture.jwks, ...policy };
    const secret = fixture.secrets.find((s) => s.alg === c.alg);
    if (secret) options.secret = secret.k;
    // The core refuses an allow-list naming an algorithm no configured key can verify:
    // HS* only with a secret.
    else options.algorithms = ALL_ALGORITHMS.filter((a) => !a.startsWith('HS'));
    return options;
  };

  test(`${path}: the fixture covers every algorithm and both outcomes`, () => {
    assert.ok(fixture.cases.length >= 30, `only ${fixture.cases.length} cases`);
    const validAlgs = new Set(fixture.cases.filter((c) => c.expect === 'ok').map((c) => c.alg));
    for (const alg of ALL_ALGORITHMS) assert.ok(validAlgs.has(alg), `no valid ${alg} case`);
    assert.ok(fixture.cases.some((c) => c.expect !== 'ok'));
    // Each HS secret's kid is the kid the `secret` option gets (RFC 7638 thumbprint of
    // {"k","kty":"oct"}), which is the kid in the valid HS tokens' headers.
    for (const c of fixture.cases.filter((c) => /^HS/.test(c.alg) && c.expect === 'ok')) {
      const header = b64json(c.token.split('.')[0]);
      const secret = fixture.secrets.find((s) => s.alg === c.alg);
      assert.ok(secret, `${c.name}: no secret for ${c.alg}`);
      if (header.kid !== undefined) assert.equal(header.kid, secret.kid, `${c.name}: header kid`);
    }
  });

  // One test per fixture, every case checked and every mismatch listed (per-case subtests
  // would make the report large enough for `--test-force-exit` to cut it short).
  test(`${path}: verify gives exactly the expected code for every case`, (t) => {
    const problems = [];
    for (const c of fixture.cases) {
      let result;
      let error;
      try {
        result = verify(c.token, optionsFor(c));
      } catch (err) {
        error = err;
      }
      try {
        if (c.expect === 'ok') {
          assert.equal(error, undefined, `refused with ${error?.code}: ${error?.message}`);
          assert.equal(result.algorithm, c.alg, 'algorithm');
          assert.equal(result.header.alg, c.alg, 'header.alg');
          assert.deepEqual(result.header, b64json(c.token.split('.')[0]), 'header');
          assert.deepEqual(result.claims, b64json(c.token.split('.')[1]), 'claims');
          assert.equal(result.claims.iss, fixture.policy.issuer, 'iss');
          assert.ok(!('ok' in result), "internal 'ok' leaked into the result");
          // keyId is the verifying key's kid: the header's, or (no kid in the header)
          // the kid of the one key for that alg.
          const expectedKid = result.header.kid ?? fixture.jwks.keys.find((k) => k.alg === c.alg)?.kid;
          assert.equal(result.keyId, expectedKid, 'keyId');
        } else {
          assert.equal(result, undefined, `accepted, expected ${c.expect}`);
          checkError(assert, JwtEdgeError, error, c.expect, c.token, c.name);
        }
      } catch (failure) {
        problems.push(`${c.name} (expect ${c.expect}): ${failure.message.split('\n')[0]}`);
      }
    }
    t.diagnostic(`${fixture.cases.length} cases, ${problems.length} mismatches`);
    assert.deepEqual(problems, []);
  });
}

test('RFC 7515 A.1–A.3 JWTs verify at now = 1300819000 (and expire at exp + skew)', async (t) => {
  const rfc = JSON.parse(readFileSync(`${ROOT}tests/vectors/rfc.json`, 'utf8'));
  const jwts = rfc.vectors.filter((v) => /^rfc7515-a[123]-/.test(v.name));
  assert.equal(jwts.length, 3);
  for (const v of jwts) {
    await t.test(v.name, () => {
      assert.ok(v.payload_is_json);
      const keys = v.jwk.kty === 'oct' ? { secret: v.jwk.k } : { jwks: { keys: [v.jwk] } };
      const options = { ...keys, algorithms: [v.alg], issuer: 'joe', now: 1300819000 };
      const result = verify(v.jws, options);
      assert.equal(result.algorithm, v.alg);
      assert.deepEqual(result.header, v.protected_header);
      assert.deepEqual(result.claims, v.payload_claims);
      assert.equal(result.claims['http://example.com/is_root'], true);
      // exp = 1300819380, default skew 60: accepted at exp + 59, expired at exp + 60.
      assert.equal(verify(v.jws, { ...options, now: 1300819380 + 59 }).algorithm, v.alg);
      assert.throws(() => verify(v.jws, { ...options, now: 1300819380 + 60 }), (err) => {
        checkError(assert, JwtEdgeError, err, 'token_expired', v.jws, v.name);
        return true;
      });
      // One changed payload character breaks the signature.
      const [h, p, s] = v.jws.split('.');
      const flipped = `${p.slice(0, 10)}${p[10] === 'A' ? 'B' : 'A'}${p.slice(11)}`;
      const forged = [h, flipped, s].join('.');
      assert.throws(() => verify(forged, options), (err) => {
        checkError(assert, JwtEdgeError, err, 'signature_invalid', forged, `${v.name} forged`);
        return true;
      });
    });
  }
  // RFC 7515 A.4 and RFC 8037 A.4 are valid JWS whose payload is not a claims set: not JWTs.
  for (const v of rfc.vectors.filter((v) => !v.payload_is_json)) {
    await t.test(`${v.name} (not a JWT)`, () => {
      assert.throws(() => verify(v.jws, { jwks: { keys: [v.jwk] }, now: 0 }), (err) => {
        checkError(assert, JwtEdgeError, err, 'token_malformed', v.jws, v.name);
        return true;
      });
    });
  }
});
