// The npm package's JavaScript API (target/npm/jwt-edge/node.js): option names exactly
// as declared in index.d.ts, each option's effect, `decodeUnverified`, and JwtEdgeError
// for every refusal. Tokens are minted by jose, at a fixed `now`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as jose from 'jose';
import { ROOT, PKG_DIR, loadPackage, checkError } from './helpers.mjs';

const { verify, Verifier, decodeUnverified, JwtEdgeError, RemoteJwks } = await loadPackage('node.js');

const NOW = 1_800_000_000;
const ISS = 'https://issuer.example';
const AUD = 'api://jwt-edge';

const es = await jose.generateKeyPair('ES256', { extractable: true });
const esJwk = { ...(await jose.exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' };
const jwks = { keys: [esJwk] };
const secretBytes = crypto.getRandomValues(new Uint8Array(32));
const secretText = Buffer.from(secretBytes).toString('base64url');
const secretKid = await jose.calculateJwkThumbprint({ kty: 'oct', k: secretText });

const standard = () => ({ iss: ISS, aud: AUD, sub: 'user-1', iat: NOW - 10, nbf: NOW - 10, exp: NOW + 300, jti: 'jti-1', scope: 'read' });

/** An ES256 token over `claims` (JSON object, used as is) with header {alg, kid, ...header}. */
const es256 = (claims = standard(), header = {}) =>
  new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'ES256', kid: 'es-1', ...header })
    .sign(es.privateKey);
/** An HS256 token with the test secret. */
const hs256 = (claims = standard(), header = {}) =>
  new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'HS256', ...header })
    .sign(secretBytes);

/** Asserts verify(token, options) throws JwtEdgeError `code` (and echoes no token segment). */
function refuses(token, options, code, label = code) {
  assert.throws(() => verify(token, options), (err) => {
    checkError(assert, JwtEdgeError, err, code, token, label);
    return true;
  });
}

const base = { jwks, now: NOW };

// The property names of an `export interface NAME { ... }` in index.d.ts.
function declaredNames(interfaceName) {
  const dts = readFileSync(`${PKG_DIR}/index.d.ts`, 'utf8');
  const body = dts.match(new RegExp(`export interface ${interfaceName} \\{([\\s\\S]*?)\\n\\}`))?.[1];
  assert.ok(body, `interface ${interfaceName} not found in index.d.ts`);
  const noComments = body.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...noComments.matchAll(/^\s*(\w+)\??\s*:/gm)].map((m) => m[1]);
}

const OPTION_NAMES = [
  'jwks', 'secret', 'secrets', 'algorithms', 'issuer', 'audience', 'subject', 'typ', 'requiredClaims',
  'clockSkewSeconds', 'maxLifetimeSeconds', 'requireExp', 'requireJti', 'now', 'maxTokenBytes',
  'tokenCacheEntries', 'scopes', 'claims',
];

test('VerifyOptions in index.d.ts has exactly the 18 option names, as the README lists them', () => {
  assert.deepEqual([...declaredNames('VerifyOptions')].sort(), [...OPTION_NAMES].sort());
  const readme = readFileSync(`${PKG_DIR}/README.md`, 'utf8');
  const listed = readme.match(/Options:([\s\S]*?)\. Unknown options/)?.[1];
  assert.ok(listed, 'README has no "Options:" list');
  assert.deepEqual([...listed.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort(), [...OPTION_NAMES].sort());
});

test('every declared option is accepted, all at once, and each has its effect', async () => {
  const token = await es256(standard(), { typ: 'JWT' });
  const hs = await hs256();
  const all = {
    jwks,
    secret: secretText,
    secrets: { 'client-7': crypto.getRandomValues(new Uint8Array(32)) },
    algorithms: ['ES256', 'HS256'],
    issuer: ISS,
    audience: AUD,
    subject: 'user-1',
    typ: 'JWT',
    requiredClaims: ['scope'],
    clockSkewSeconds: 0,
    maxLifetimeSeconds: 310,
    requireExp: true,
    requireJti: true,
    now: NOW,
    maxTokenBytes: token.length,
    tokenCacheEntries: 10,
    scopes: ['read'],
    claims: { sub: { equals: 'user-1' } },
  };
  assert.deepEqual(Object.keys(all).sort(), [...OPTION_NAMES].sort());
  // The route requirements each have their effect.
  refuses(token, { ...all, scopes: ['write'] }, 'insufficient_scope', 'scopes');
  refuses(token, { ...all, claims: { sub: { equals: 'user-2' } } }, 'claim_mismatch', 'claims');
  const result = verify(token, all);
  // The one verdict shape (src/verdict.rs), members in order; keyId/algorithm are the
  // deprecated, non-enumerable names of 0.1.
  assert.deepEqual(Object.keys(result), ['valid', 'alg', 'kid', 'key_source', 'header', 'claims']);
  assert.equal(result.valid, true);
  assert.equal(result.alg, 'ES256');
  assert.equal(result.kid, 'es-1');
  assert.equal(result.key_source, 'local');
  assert.equal(result.algorithm, 'ES256');
  assert.equal(result.keyId, 'es-1');
  assert.deepEqual(JSON.parse(JSON.stringify(result)), { ...result });
  assert.deepEqual(result.header, { alg: 'ES256', kid: 'es-1', typ: 'JWT' });
  assert.deepEqual(result.claims, standard());
  // The HS256 token passes everything but typ (its header has none), then requireJti etc.
  refuses(hs, all, 'typ_mismatch', 'HS256 without typ');
  assert.equal(verify(hs, { ...all, typ: undefined, maxTokenBytes: undefined }).algorithm, 'HS256');
  // Undefined values are the same as absent ones.
  assert.equal(verify(token, { ...base, issuer: undefined, audience: undefined }).algorithm, 'ES256');
});

test('unknown or misspelt options → config_invalid, never ignored', async () => {
  const token = await es256();
  for (const name of ['audiences', 'issuers', 'aud', 'iss', 'clockSkew', 'clock_skew_seconds', 'clockTolerance',
    'maxAge', 'maxTokenAge', 'algorithm', 'Jwks', 'JWKS', 'key', 'keys', 'Secrets', 'hmacSecrets', 'requiredclaims', 'currentDate', 'foo']) {
    refuses(token, { ...base, [name]: 'x' }, 'config_invalid', name);
    refuses(token, { ...base, [name]: undefined }, 'config_invalid', `${name}: undefined`);
  }
  for (const options of [undefined, null, 'jwks', 42, [], [jwks]]) {
    refuses(token, options, 'config_invalid', `options ${JSON.stringify(options)}`);
  }
  // Bad values for known names are refused too.
  for (const [name, value] of [
    ['algorithms', ['none']], ['algorithms', []], ['algorithms', 'ES256'], ['algorithms', ['es256']],
    ['clockSkewSeconds', -1], ['clockSkewSeconds', '60'], ['requireExp', 'false'], ['requireJti', 1],
    ['now', '1800000000'], ['maxTokenBytes', 0], ['issuer', 42], ['audience', [42]], ['requiredClaims', 'scope'],
    ['jwks', 42], ['jwks', true], ['secret', 42], ['secrets', 'x'], ['secrets', [secretText]],
    ['secrets', { '': secretText }], ['secrets', { k: 42 }], ['secrets', { k: 'c2hvcnQ' }],
  ]) {
    refuses(token, { ...base, [name]: value }, 'config_invalid', `${name}: ${JSON.stringify(value)}`);
  }
  // An option inherited through the prototype is not an option.
  assert.equal(verify(token, Object.assign(Object.create({ issuer: 'https://evil.example' }), base)).algorithm, 'ES256');
});

test('secret: Uint8Array, Buffer and base64url text; wrong, short or padded secrets', async () => {
  const token = await hs256();
  const withKid = await hs256(standard(), { kid: secretKid });
  for (const secret of [secretBytes, Buffer.from(secretBytes), secretText]) {
    const label = secret instanceof Buffer ? 'Buffer' : typeof secret;
    const result = verify(token, { secret, now: NOW });
    assert.equal(result.algorithm, 'HS256', label);
    // The secret's kid is its RFC 7638 thumbprint, so a token naming it verifies too.
    assert.equal(result.keyId, secretKid, label);
    assert.equal(verify(withKid, { secret, now: NOW }).keyId, secretKid, label);
  }
  // Unnamed, it verifies whatever kid the issuer put (jose, PyJWT: "hs256", "client-7").
  for (const kid of ['other-kid', 'hs256']) {
    assert.equal(verify(await hs256(standard(), { kid }), { secret: secretBytes, now: NOW }).keyId, secretKid, kid);
  }
  const other = crypto.getRandomValues(new Uint8Array(32));
  refuses(token, { secret: other, now: NOW }, 'signature_invalid', 'other secret');
  refuses(token, { secret: new Uint8Array(31), now: NOW }, 'config_invalid', '31 bytes');
  refuses(token, { secret: '', now: NOW }, 'config_invalid', 'empty');
  refuses(token, { secret: `${Buffer.from(secretBytes).toString('base64')}`, now: NOW }, 'config_invalid', 'padded base64');
  refuses(token, { secret: new ArrayBuffer(32), now: NOW }, 'config_invalid', 'ArrayBuffer');
  // HMAC is off without a secret, and the secret does not switch it on against `algorithms`.
  refuses(token, { jwks, now: NOW }, 'alg_not_allowed', 'no secret');
  refuses(token, { secret: secretBytes, jwks, algorithms: ['ES256'], now: NOW }, 'alg_not_allowed', 'HS256 not listed');
  // An allow-list naming an algorithm no configured key can verify is a configuration
  // error, as in the worker and the CLI: ES256 with a secret only, HS256 without one.
  refuses(token, { secret: secretBytes, algorithms: ['ES256'], now: NOW }, 'config_invalid', 'ES256 without public keys');
  refuses(token, { jwks, algorithms: ['HS256'], now: NOW }, 'config_invalid', 'HS256 without a secret');
  // Longer secrets work for HS384/HS512.
  const long = crypto.getRandomValues(new Uint8Array(64));
  const hs512 = await new jose.SignJWT(standard()).setProtectedHeader({ alg: 'HS512' }).sign(long);
  assert.equal(verify(hs512, { secret: long, now: NOW }).algorithm, 'HS512');
});

test('secrets (named, one per client), an oct key in jwks, and RemoteJwks skipping oct keys', async () => {
  const c7 = crypto.getRandomValues(new Uint8Array(32));
  const c9 = crypto.getRandomValues(new Uint8Array(32));
  const c7Text = Buffer.from(c7).toString('base64url');
  const hs = (key, kid) =>
    new jose.SignJWT(standard()).setProtectedHeader(kid === undefined ? { alg: 'HS256' } : { alg: 'HS256', kid }).sign(key);
  const options = { secrets: { 'client-7': c7, 'client-9': Buffer.from(c9).toString('base64url') }, now: NOW };
  assert.equal(verify(await hs(c7, 'client-7'), options).keyId, 'client-7');
  assert.equal(verify(await hs(c9, 'client-9'), options).keyId, 'client-9');
  // A wrong secret under the right kid; another client's secret under it.
  refuses(await hs(crypto.getRandomValues(new Uint8Array(32)), 'client-7'), options, 'signature_invalid', 'wrong secret');
  refuses(await hs(c9, 'client-7'), options, 'signature_invalid', "client-9's secret as client-7");
  // Named secrets only: a kid that names none.
  refuses(await hs(c7, 'client-8'), options, 'no_matching_key', 'unknown kid');
  // With an unnamed secret beside them: it takes the other kids, never a named one.
  const both = { ...options, secret: secretBytes };
  assert.equal(verify(await hs(secretBytes, 'hs256'), both).keyId, secretKid);
  refuses(await hs(secretBytes, 'client-7'), both, 'signature_invalid', 'unnamed secret under a named kid');
  // The user's own jwks with an oct key: used by exact kid, HS* on by default.
  const local = { jwks: { keys: [esJwk, { kty: 'oct', kid: 'client-7', k: c7Text }] }, now: NOW };
  assert.equal(verify(await hs(c7, 'client-7'), local).keyId, 'client-7');
  refuses(await hs(c7, 'hs256'), local, 'no_matching_key', 'jwks oct key under another kid');
  refuses(await hs(c7, 'es-1'), local, 'key_mismatch', 'HS256 naming the ES256 key');
  // The same set fetched by RemoteJwks is an issuer's published set: its oct key is skipped.
  const remote = new RemoteJwks('https://issuer.example/jwks.json', {
    fetch: async () => new Response(JSON.stringify(local.jwks), { headers: { 'content-type': 'application/json' } }),
  });
  const remoteToken = await hs(c7, 'client-7');
  // Without a configured secret HS256 is not even allowed (the fetched oct key never counts)…
  await assert.rejects(remote.verify(remoteToken, { algorithms: ['ES256', 'HS256'], now: NOW }), (err) => {
    checkError(assert, JwtEdgeError, err, 'config_invalid', remoteToken, 'remote oct, HS256 listed');
    return true;
  });
  await assert.rejects(remote.verify(remoteToken, { now: NOW }), (err) => {
    checkError(assert, JwtEdgeError, err, 'alg_not_allowed', remoteToken, 'remote oct');
    return true;
  });
  assert.equal((await remote.verify(await es256(), { now: NOW })).keyId, 'es-1');
  // ...while a secret given beside it still verifies.
  assert.equal((await remote.verify(remoteToken, { secrets: { 'client-7': c7 }, now: NOW })).keyId, 'client-7');
});

test('jwks: object or JSON text; invalid sets → jwks_invalid', async () => {
  const token = await es256();
  assert.equal(verify(token, { jwks, now: NOW }).keyId, 'es-1');
  assert.equal(verify(token, { jwks: JSON.stringify(jwks), now: NOW }).keyId, 'es-1');
  refuses(token, { jwks: '{not json', now: NOW }, 'jwks_invalid', 'bad JSON text');
  refuses(token, { jwks: {}, now: NOW }, 'jwks_invalid', 'no keys');
  refuses(token, { jwks: { keys: [{ ...esJwk, d: 'AAAA' }] }, now: NOW }, 'jwks_invalid', 'private member');
  // A key set without the token's kid.
  refuses(token, { jwks: { keys: [{ ...esJwk, kid: 'es-2' }] }, now: NOW }, 'no_matching_key');
  // No keys at all: nothing could verify a token, so the options are refused.
  refuses(token, { now: NOW }, 'config_invalid', 'no keys');
});

test('issuer and audience: a string or an array; they make iss/aud required', async () => {
  const token = await es256();
  assert.ok(verify(token, { ...base, issuer: ISS }));
  assert.ok(verify(token, { ...base, issuer: ['https://other.example', ISS] }));
  refuses(token, { ...base, issuer: 'https://other.example' }, 'issuer_mismatch');
  refuses(token, { ...base, issuer: ['https://a.example', 'https://b.example'] }, 'issuer_mismatch');
  assert.ok(verify(token, { ...base, audience: AUD }));
  assert.ok(verify(token, { ...base, audience: ['api://other', AUD] }));
  refuses(token, { ...base, audience: 'api://other' }, 'audience_mismatch');
  refuses(token, { ...base, audience: ['api://a', 'api://b'] }, 'audience_mismatch');
  // aud as an array in the token: one value must match.
  const multi = await es256({ ...standard(), aud: ['api://x', AUD] });
  assert.ok(verify(multi, { ...base, audience: AUD }));
  refuses(multi, { ...base, audience: 'api://y' }, 'audience_mismatch', 'aud array');
  const { iss, aud, ...bare } = standard();
  const anonymous = await es256(bare);
  assert.ok(verify(anonymous, base));
  refuses(anonymous, { ...base, issuer: ISS }, 'claim_missing', 'no iss');
  refuses(anonymous, { ...base, audience: AUD }, 'claim_missing', 'no aud');
});

test('subject, typ, requiredClaims, requireJti', async () => {
  const token = await es256(standard(), { typ: 'JWT' });
  assert.ok(verify(token, { ...base, subject: 'user-1' }));
  refuses(token, { ...base, subject: 'admin' }, 'subject_mismatch');

  // typ: case-insensitive, `application/` optional (RFC 8725 §3.11).
  for (const typ of ['JWT', 'jwt', 'application/jwt', 'APPLICATION/JWT']) assert.ok(verify(token, { ...base, typ }), typ);
  refuses(token, { ...base, typ: 'at+jwt' }, 'typ_mismatch');
  const at = await es256(standard(), { typ: 'application/at+JWT' });
  assert.ok(verify(at, { ...base, typ: 'at+jwt' }));
  refuses(at, { ...base, typ: 'JWT' }, 'typ_mismatch', 'at+jwt is not JWT');
  refuses(await es256(), { ...base, typ: 'JWT' }, 'typ_mismatch', 'no typ header');

  assert.ok(verify(token, { ...base, requiredClaims: ['scope', 'sub', 'jti'] }));
  refuses(token, { ...base, requiredClaims: ['scope', 'tenant'] }, 'claim_missing', 'tenant');

  const { jti, ...noJti } = standard();
  const withoutJti = await es256(noJti);
  assert.ok(verify(withoutJti, base));
  assert.ok(verify(withoutJti, { ...base, requireJti: false }));
  refuses(withoutJti, { ...base, requireJti: true }, 'claim_missing', 'requireJti');
  assert.ok(verify(token, { ...base, requireJti: true }));
});

test('maxLifetimeSeconds, maxTokenBytes, requireExp: false, clockSkewSeconds, now', async () => {
  // exp − iat = 310.
  const token = await es256();
  assert.ok(verify(token, { ...base, maxLifetimeSeconds: 310 }));
  refuses(token, { ...base, maxLifetimeSeconds: 309 }, 'lifetime_too_long');
  // Without iat, exp − now is bounded (plus the skew, 60 s by default).
  const { iat, ...noIat } = standard();
  const longLived = await es256({ ...noIat, exp: NOW + 1000 });
  assert.ok(verify(longLived, { ...base, maxLifetimeSeconds: 940 }));
  refuses(longLived, { ...base, maxLifetimeSeconds: 939 }, 'lifetime_too_long', 'exp − now');
  refuses(longLived, { ...base, maxLifetimeSeconds: 999, clockSkewSeconds: 0 }, 'lifetime_too_long', 'exp − now, no skew');

  assert.ok(verify(token, { ...base, maxTokenBytes: token.length }));
  refuses(token, { ...base, maxTokenBytes: token.length - 1 }, 'token_too_large');
  // Default: 16384 bytes.
  const big = await es256({ ...standard(), pad: 'x'.repeat(16384) });
  refuses(big, base, 'token_too_large', 'default limit');
  assert.ok(verify(big, { ...base, maxTokenBytes: big.length }));

  const { exp, ...noExp } = standard();
  const forever = await es256(noExp);
  refuses(forever, base, 'claim_missing', 'exp required by default');
  refuses(forever, { ...base, requireExp: true }, 'claim_missing', 'requireExp: true');
  assert.deepEqual(verify(forever, { ...base, requireExp: false }).claims, noExp);

  // Expired 10 s ago: inside the default 60 s skew, outside a 5 s one.
  const recent = await es256({ ...standard(), exp: NOW - 10, nbf: NOW - 100, iat: NOW - 100 });
  assert.ok(verify(recent, base));
  refuses(recent, { ...base, clockSkewSeconds: 5 }, 'token_expired');
  refuses(token, { ...base, now: NOW + 300 + 60 }, 'token_expired', 'now past exp + skew');
  refuses(token, { ...base, now: NOW - 200 }, 'token_not_yet_valid', 'now before nbf − skew');
});

test('algorithms: the allow-list decides, and there is no none', async () => {
  const token = await es256();
  assert.ok(verify(token, { ...base, algorithms: ['ES256'] }));
  refuses(token, { ...base, algorithms: ['RS256', 'EdDSA'] }, 'alg_not_allowed');
  for (const none of ['none', 'None', 'NONE']) refuses(token, { ...base, algorithms: [none] }, 'config_invalid', none);
  // Every name in the Algorithm type is accepted as a name.
  const dts = readFileSync(`${PKG_DIR}/index.d.ts`, 'utf8');
  const names = [...dts.match(/export type Algorithm =([^;]*);/)[1].matchAll(/'(\w+)'/g)].map((m) => m[1]);
  assert.equal(names.length, 15);
  for (const name of names) {
    try {
      verify(token, { ...base, secret: secretBytes, algorithms: [name] });
    } catch (err) {
      assert.notEqual(err.code, 'config_invalid', `${name} refused as a name`);
    }
  }
});

test('decodeUnverified: header and payload of any well-formed token, whatever its signature', async () => {
  const token = await es256();
  const [h, p, s] = token.split('.');
  const expected = { header: { alg: 'ES256', kid: 'es-1' }, payload: standard() };
  assert.deepEqual(decodeUnverified(token), expected);
  // Wrong signature, no signature, someone else's key, expired, alg none: still decoded.
  const flipped = `${s.slice(0, 5)}${s[5] === 'A' ? 'B' : 'A'}${s.slice(6)}`;
  assert.deepEqual(decodeUnverified(`${h}.${p}.${flipped}`), expected);
  assert.deepEqual(decodeUnverified(`${h}.${p}.`), expected);
  const stranger = await jose.generateKeyPair('ES256');
  const foreign = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(standard())))
    .setProtectedHeader({ alg: 'ES256', kid: 'es-1' }).sign(stranger.privateKey);
  assert.deepEqual(decodeUnverified(foreign), expected);
  refuses(foreign, base, 'signature_invalid', 'foreign key');
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
  assert.deepEqual(decodeUnverified(none), { header: { alg: 'none' }, payload: standard() });
  refuses(none, base, 'alg_not_allowed', 'alg none');
  // A payload that is not a JSON object decodes as null.
  const text = `${h}.${Buffer.from('Payload').toString('base64url')}.${s}`;
  assert.deepEqual(decodeUnverified(text), { header: expected.header, payload: null });

  for (const garbage of ['', 'garbage', 'a.b', 'a.b.c', 'a.b.c.d', `${h}.${p}.${s}.${s}`, '!!!.@@@.###',
    `${h}==.${p}.${s}`, `${Buffer.from('not json').toString('base64url')}.${p}.${s}`,
    `${Buffer.from('[]').toString('base64url')}.${p}.${s}`, 'e30.e30.']) {
    assert.throws(() => decodeUnverified(garbage), (err) => {
      checkError(assert, JwtEdgeError, err, 'token_malformed', garbage, `decodeUnverified(${JSON.stringify(garbage)})`);
      return true;
    });
  }
});

test('a token that is not a string → JwtEdgeError token_malformed, from verify and decodeUnverified', async () => {
  const token = await es256();
  for (const value of [undefined, null, 42, {}, [token], Buffer.from(token), new String(token)]) {
    for (const [name, call] of [['verify', () => verify(value, base)], ['decodeUnverified', () => decodeUnverified(value)]]) {
      assert.throws(call, (err) => {
        checkError(assert, JwtEdgeError, err, 'token_malformed', undefined, `${name}(${typeof value})`);
        return true;
      });
    }
  }
});

test('ErrorCode in index.d.ts lists exactly the core\'s codes (www/reference.js, generated from the core)', async () => {
  const dts = readFileSync(`${PKG_DIR}/index.d.ts`, 'utf8');
  const declared = [...dts.match(/export type ErrorCode =([^;]*);/)[1].matchAll(/'(\w+)'/g)].map((m) => m[1]);
  const { ERROR_CODES } = await import(pathToFileURL(`${ROOT}www/reference.js`).href);
  const core = ERROR_CODES.map((row) => row.code);
  assert.ok(core.length >= 20, `only ${core.length} codes in www/reference.js`);
  assert.deepEqual(declared, core);
});

test('JwtEdgeError is one exported class; errors carry a stack and no token text', async () => {
  assert.equal(typeof JwtEdgeError, 'function');
  assert.equal(typeof RemoteJwks, 'function');
  const token = await es256({ ...standard(), aud: 'api://secret-audience-value' });
  try {
    verify(token, { ...base, audience: AUD });
    assert.fail('accepted');
  } catch (err) {
    checkError(assert, JwtEdgeError, err, 'audience_mismatch', token, 'audience');
    assert.ok(!err.message.includes('secret-audience-value'), err.message);
    assert.ok(typeof err.stack === 'string' && err.stack.includes('JwtEdgeError'));
    assert.equal(Object.prototype.toString.call(err), '[object Error]');
  }
});

test('a refusal carries the refused verdict; families agree between the core and the JS layer', async () => {
  const token = await es256();
  const cases = [
    // [call, code, family]: from the core …
    [() => verify(token, { ...base, audience: 'api://other' }), 'audience_mismatch', 'claims'],
    [() => verify(token, { ...base, now: NOW + 3600 }), 'token_expired', 'claims'],
    [() => verify(token.slice(0, -3) + 'AAA', base), 'signature_invalid', 'signature'],
    [() => verify('not.a.token', base), 'token_malformed', 'token'],
    [() => verify(token, { ...base, algorithms: ['none'] }), 'config_invalid', 'config'],
    // … and from the JavaScript layer itself.
    [() => verify(token, { ...base, colour: 'blue' }), 'config_invalid', 'config'],
    [() => verify(42, base), 'token_malformed', 'token'],
  ];
  for (const [call, code, family] of cases) {
    assert.throws(call, (err) => {
      checkError(assert, JwtEdgeError, err, code, token, code);
      assert.equal(err.family, family, code);
      assert.equal(err.verdict.family, family, code);
      return true;
    });
  }
});

// ---- Regression tests for bugs found while writing these tests (fixed).

test('issuer: [] and audience: [] do not mean "any issuer/audience"', {
}, async () => {
  const token = await es256({ ...standard(), iss: 'https://evil.example', aud: 'api://anything' });
  for (const [name, value] of [['issuer', []], ['audience', []]]) {
    assert.throws(() => verify(token, { ...base, [name]: value }), (err) => {
      assert.ok(err instanceof JwtEdgeError, String(err));
      assert.ok(['config_invalid', 'issuer_mismatch', 'audience_mismatch'].includes(err.code), err.code);
      return true;
    }, `${name}: [] accepted a token from anyone`);
  }
});

test('Verifier: keys imported once, the same verdict as verify() for every token and option', async () => {
  const policy = { jwks, secret: secretBytes, issuer: ISS, audience: AUD, requireJti: true, maxLifetimeSeconds: 3600 };
  const compiled = new Verifier({ ...policy, now: NOW });
  const cases = [
    await es256(),
    await hs256(),
    await es256({ ...standard(), aud: 'other' }),
    await es256({ ...standard(), jti: undefined }),
    await es256({ ...standard(), exp: NOW + 7200 }),
    await es256(standard(), { kid: 'unknown' }),
    (await es256()).slice(0, -3) + 'AAA',
    'not.a.token',
    '',
  ];
  const outcome = (f) => {
    try {
      return f();
    } catch (err) {
      assert.ok(err instanceof JwtEdgeError, String(err));
      return { code: err.code };
    }
  };
  for (const token of cases) {
    assert.deepEqual(outcome(() => compiled.verify(token)), outcome(() => verify(token, { ...policy, now: NOW })), token);
  }
  // `now` per call, else the options' `now`, else the clock.
  assert.equal(outcome(() => compiled.verify(cases[0], { now: NOW + 400 })).code, 'token_expired');
  const realNow = Math.floor(Date.now() / 1000);
  const live = await es256({ ...standard(), iat: realNow - 10, nbf: realNow - 10, exp: realNow + 300 });
  assert.equal(new Verifier(policy).verify(live).claims.sub, 'user-1', 'no now anywhere: the clock');
  assert.equal(compiled.verify(live, { now: realNow }).claims.sub, 'user-1');
  assert.equal(outcome(() => compiled.verify(cases[0], { now: 1.5 })).code, 'config_invalid');
  assert.equal(outcome(() => compiled.verify(42)).code, 'token_malformed');
  // Per-call options: null, undefined and {} mean no per-call `now`; anything else that
  // is not `{ now }` is a JwtEdgeError, never a TypeError.
  const clocked = new Verifier(policy);
  for (const none of [null, undefined, {}]) assert.equal(clocked.verify(live, none).claims.sub, 'user-1');
  const later = new Verifier({ ...policy, now: realNow + 3600 });
  assert.equal(outcome(() => later.verify(live, null)).code, 'token_expired', "null: the options' now");
  for (const bad of [5, 'now', [NOW], { now: NOW, issuer: 'x' }, { clock: NOW }]) {
    assert.equal(outcome(() => compiled.verify(cases[0], bad)).code, 'config_invalid', JSON.stringify(bad));
  }
  // Bad options fail at construction, with the core's codes.
  assert.equal(outcome(() => new Verifier({ jwks, nope: 1 })).code, 'config_invalid');
  assert.equal(outcome(() => new Verifier({ jwks: '{"keys":' })).code, 'jwks_invalid');
  assert.equal(outcome(() => new Verifier({ jwks, algorithms: ['none'] })).code, 'config_invalid');
  // Freed: refused, never a crash.
  compiled.free();
  compiled.free();
  assert.equal(outcome(() => compiled.verify(cases[0])).code, 'config_invalid');
});
