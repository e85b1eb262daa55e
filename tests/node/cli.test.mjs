// The native `jwt-edge` CLI against independent implementations: tokens it signs
// verify with jose; tokens jose signs verify with it; PEM keys made by the real
// `openssl` binary import to the same JWKs jose derives, and signatures made by
// openssl verify; and `jwt-edge serve` is a JWKS endpoint jose's remote key set uses.
//
// Binary: $JWT_EDGE_BIN, else target/debug/jwt-edge (cargo build --features cli).
// Every CLI run except `serve` uses a fixed clock (--now); every child process has a
// bounded lifetime and servers are killed in `after`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BIN = process.env.JWT_EDGE_BIN || join(root, 'target/debug/jwt-edge');
const NOW = 1_700_000_000;
const ISS = 'https://issuer.example';
const AUD = 'api://jwt-edge';
const at = (t) => new Date(t * 1000);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

let dir;
const servers = new Set();

before(() => {
  assert.ok(
    existsSync(BIN),
    `jwt-edge binary not found at ${BIN}: run \`cargo build --features cli\` or set JWT_EDGE_BIN`,
  );
  dir = mkdtempSync(join(tmpdir(), 'jwt-edge-cli-node-'));
});

after(() => {
  for (const child of servers) child.kill('SIGKILL');
  servers.clear();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ helpers

let fileCounter = 0;
/** A fresh path in the temp dir. */
const tmp = (name) => join(dir, `${++fileCounter}-${name}`);
const write = (name, contents) => {
  const path = tmp(name);
  writeFileSync(path, contents);
  return path;
};

/** Runs jwt-edge with a bounded wait; never a panic, never a signal. */
function cli(args, { input, timeout = 60_000 } = {}) {
  const r = spawnSync(BIN, args, {
    input,
    encoding: 'utf8',
    timeout,
    killSignal: 'SIGKILL',
    maxBuffer: 16 << 20,
  });
  if (r.error) throw new Error(`jwt-edge ${args.join(' ')}: ${r.error.message}`);
  assert.equal(r.signal, null, `jwt-edge ${args.join(' ')} killed by ${r.signal}: ${r.stderr}`);
  assert.ok(!/panicked/.test(r.stderr), `jwt-edge ${args.join(' ')} panicked: ${r.stderr}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args, options) {
  const r = cli(args, options);
  assert.equal(r.code, 0, `jwt-edge ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const json = (text) => JSON.parse(text.trim());

/** Runs openssl; returns stdout as a Buffer. */
function openssl(args, input) {
  const r = spawnSync('openssl', args, { input, timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.error) throw new Error(`openssl ${args.join(' ')}: ${r.error.message}`);
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function keygen(alg) {
  const out = tmp(`${alg}.jwk`);
  const stdout = ok(['keygen', '--alg', alg, '--out', out]);
  const priv = JSON.parse(readFileSync(out, 'utf8'));
  const pub = alg.startsWith('HS') ? null : json(stdout);
  return { path: out, priv, pub };
}

function verifyCli(token, args, now = NOW + 10) {
  const r = cli(['--now', String(now), 'verify', ...args, token]);
  let verdict;
  try {
    verdict = json(r.stdout);
  } catch {
    assert.fail(`verify printed no JSON verdict (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
  return { code: r.code, verdict, stderr: r.stderr };
}

/** The accepted verdict's members, in order (src/verdict.rs). */
const VERDICT_MEMBERS = ['valid', 'alg', 'kid', 'key_source', 'header', 'claims'];

/** Accepted, with keys from a file or secret (`local`) or, `fetched`, from a URL (`issuer`). */
function assertValid(result, what, fetched = false) {
  assert.equal(result.code, 0, `${what}: ${JSON.stringify(result.verdict)} ${result.stderr}`);
  assert.equal(result.verdict.valid, true, what);
  assert.deepEqual(Object.keys(result.verdict), VERDICT_MEMBERS, what);
  assert.equal(result.verdict.key_source, fetched ? 'issuer' : 'local', what);
}

const jwksFile = (...keys) => write('jwks.json', JSON.stringify({ keys }));
const b64u = (buf) => Buffer.from(buf).toString('base64url');
// Random base64url secrets are passed as `--secret=VALUE`: one in 64 starts with `-`
// (tests/cli.rs `values_starting_with_a_hyphen` checks the `--secret VALUE` form).
const publicOnly = (jwk) => PRIVATE_MEMBERS.every((m) => !(m in jwk));
const pick = (jwk, names) => Object.fromEntries(names.filter((n) => n in jwk).map((n) => [n, jwk[n]]));
const PUBLIC_NAMES = ['kty', 'crv', 'n', 'e', 'x', 'y'];

/** ECDSA: DER `SEQUENCE { INTEGER r, INTEGER s }` -> raw r || s of `size` bytes each. */
function derToRaw(der, size) {
  let i = 0;
  const readLen = () => {
    let len = der[i++];
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = (len << 8) | der[i++];
    }
    return len;
  };
  assert.equal(der[i++], 0x30, 'DER SEQUENCE');
  const seqLen = readLen();
  assert.equal(i + seqLen, der.length, 'DER length');
  const int = () => {
    assert.equal(der[i++], 0x02, 'DER INTEGER');
    const len = readLen();
    let bytes = der.subarray(i, i + len);
    i += len;
    while (bytes.length > 0 && bytes[0] === 0) bytes = bytes.subarray(1);
    assert.ok(bytes.length <= size, 'integer too long');
    return Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
  };
  const r = int();
  const s = int();
  return Buffer.concat([r, s]);
}

/** ECDSA: raw r || s -> DER, for openssl to verify. */
function rawToDer(raw) {
  const half = raw.length / 2;
  const int = (bytes) => {
    let b = Buffer.from(bytes);
    while (b.length > 1 && b[0] === 0) b = b.subarray(1);
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([0x02, b.length]), b]);
  };
  const body = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), len, body]);
}

/** A JWS compact token signed by `signBytes(signingInput)`. */
function compact(header, claims, signBytes) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(signBytes(input))}`;
}

const claimsAt = (t, extra = {}) => ({ iss: ISS, aud: AUD, sub: 'user-1', iat: t, exp: t + 300, ...extra });

// ------------------------------------------------------------------ (a) jwt-edge signs, jose verifies

const ALGS = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA', 'HS256'];

test('(a) tokens from `jwt-edge sign` verify with jose', { timeout: 120_000 }, async () => {
  for (const alg of ALGS) {
    const key = keygen(alg);
    const token = ok([
      '--now', String(NOW), 'sign', '--key', key.path,
      '--iss', ISS, '--aud', AUD, '--sub', 'user-1', '--ttl', '5m', '--claim', 'scope=read',
      '--claim', 'n=7',
    ]).trim();
    let verifyKey;
    if (alg === 'HS256') {
      verifyKey = Buffer.from(key.priv.k, 'base64url');
    } else {
      assert.ok(publicOnly(key.pub), `${alg}: printed JWK has private members`);
      assert.equal(key.pub.kid, await jose.calculateJwkThumbprint(key.pub), `${alg}: kid is not the thumbprint`);
      verifyKey = await jose.importJWK(key.pub, alg);
    }
    const { payload, protectedHeader } = await jose.jwtVerify(token, verifyKey, {
      issuer: ISS,
      audience: AUD,
      subject: 'user-1',
      algorithms: [alg],
      currentDate: at(NOW + 10),
      requiredClaims: ['iat', 'exp', 'jti'],
    });
    assert.equal(protectedHeader.alg, alg);
    assert.equal(protectedHeader.kid, key.priv.kid, alg);
    assert.equal(protectedHeader.typ, 'JWT', alg);
    assert.equal(payload.iat, NOW, alg);
    assert.equal(payload.exp, NOW + 300, alg);
    assert.equal(payload.scope, 'read', alg);
    assert.equal(payload.n, 7, alg);
    // jose agrees it is expired later on.
    await assert.rejects(
      jose.jwtVerify(token, verifyKey, { currentDate: at(NOW + 3600) }),
      (e) => e.code === 'ERR_JWT_EXPIRED',
      alg,
    );
  }

  // HS256 with --secret (inline base64url), no key file.
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const token = ok(['--now', String(NOW), 'sign', `--secret=${b64u(secret)}`, '--alg', 'HS256', '--aud', AUD]).trim();
  const { payload, protectedHeader } = await jose.jwtVerify(token, secret, {
    audience: AUD,
    algorithms: ['HS256'],
    currentDate: at(NOW),
  });
  assert.equal(protectedHeader.alg, 'HS256');
  assert.equal(payload.exp, NOW + 60, 'default ttl 60s');
});

// ------------------------------------------------------------------ (b) jose signs, jwt-edge verifies

test('(b) tokens minted by jose verify with `jwt-edge verify --jwks FILE`', { timeout: 120_000 }, async () => {
  const signers = [];
  for (const alg of ALGS.filter((a) => a !== 'HS256')) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: `jose-${alg}`, alg, use: 'sig' };
    signers.push({ alg, privateKey, jwk });
  }
  const file = jwksFile(...signers.map((s) => s.jwk));
  for (const { alg, privateKey, jwk } of signers) {
    const token = await new jose.SignJWT({ scope: 'read', nested: { a: [1, 2] } })
      .setProtectedHeader({ alg, kid: jwk.kid, typ: 'JWT' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setSubject('user-1')
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 300)
      .setJti(`jti-${alg}`)
      .sign(privateKey);
    const r = verifyCli(token, ['--jwks', file, '--iss', ISS, '--aud', AUD, '--sub', 'user-1']);
    assertValid(r, alg);
    assert.equal(r.verdict.alg, alg);
    assert.equal(r.verdict.kid, jwk.kid);
    assert.equal(r.verdict.header.typ, 'JWT');
    assert.deepEqual(r.verdict.claims.nested, { a: [1, 2] });
    assert.equal(r.verdict.claims.jti, `jti-${alg}`);

    // The same key, wrong audience: 14 / audience_mismatch.
    const wrong = await new jose.SignJWT({})
      .setProtectedHeader({ alg, kid: jwk.kid })
      .setIssuer(ISS)
      .setAudience('api://someone-else')
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 300)
      .sign(privateKey);
    const bad = verifyCli(wrong, ['--jwks', file, '--iss', ISS, '--aud', AUD]);
    assert.equal(bad.code, 14, `${alg}: ${JSON.stringify(bad.verdict)}`);
    assert.equal(bad.verdict.valid, false);
    assert.equal(bad.verdict.code, 'audience_mismatch');
    assert.equal(bad.verdict.family, 'claims');
    assert.deepEqual(Object.keys(bad.verdict), ['valid', 'code', 'family', 'message']);
  }

  // A token without kid: the key that fits the alg is found.
  const es = signers.find((s) => s.alg === 'ES384');
  const noKid = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES384' }).setIssuedAt(NOW).setExpirationTime(NOW + 60).sign(es.privateKey);
  assertValid(verifyCli(noKid, ['--jwks', file]), 'ES384 without kid');

  // Expired at a later --now.
  const late = verifyCli(noKid, ['--jwks', file], NOW + 3600);
  assert.equal(late.code, 14);
  assert.equal(late.verdict.code, 'token_expired');

  // HS256: jose with a random secret; jwt-edge with --secret.
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const hs = await new jose.SignJWT({ scope: 'x' })
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience(AUD)
    .setIssuedAt(NOW)
    .setExpirationTime(NOW + 60)
    .sign(secret);
  const r = verifyCli(hs, [`--secret=${b64u(secret)}`, '--aud', AUD]);
  assertValid(r, 'HS256 --secret');
  assert.equal(r.verdict.alg, 'HS256');
  const secretFile = write('secret.b64', b64u(secret));
  assertValid(verifyCli(hs, ['--secret', `@${secretFile}`, '--alg', 'HS256']), 'HS256 --secret @file');
  const wrongAud = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setAudience('nope').setIssuedAt(NOW).setExpirationTime(NOW + 60).sign(secret);
  const bad = verifyCli(wrongAud, [`--secret=${b64u(secret)}`, '--aud', AUD]);
  assert.equal(bad.code, 14);
  assert.equal(bad.verdict.code, 'audience_mismatch');
  // Without --secret, HS256 is not allowed at all.
  const noSecret = verifyCli(hs, ['--jwks', file]);
  assert.equal(noSecret.code, 12);
  assert.equal(noSecret.verdict.code, 'alg_not_allowed');
});

// ------------------------------------------------------------------ (c) openssl PEM keys

/** The PEM files of one openssl key. */
function opensslKey(kind) {
  const pkcs8 = tmp(`${kind}.pem`);
  const genArgs = {
    rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    ed25519: ['-algorithm', 'ed25519'],
  }[kind];
  openssl(['genpkey', ...genArgs, '-out', pkcs8]);
  const files = { pkcs8 };
  files.spki = tmp(`${kind}.spki.pem`);
  openssl(['pkey', '-in', pkcs8, '-pubout', '-out', files.spki]);
  if (kind === 'rsa') {
    files.pkcs1 = tmp('rsa.pkcs1.pem');
    openssl(['rsa', '-in', pkcs8, '-traditional', '-out', files.pkcs1]);
    files.rsaSpki = tmp('rsa.rsa-pubout.pem');
    openssl(['rsa', '-in', pkcs8, '-pubout', '-out', files.rsaSpki]);
    files.pkcs1Public = tmp('rsa.pkcs1-public.pem');
    openssl(['rsa', '-in', pkcs8, '-RSAPublicKey_out', '-out', files.pkcs1Public]);
  }
  if (kind === 'p256' || kind === 'p384') {
    files.sec1 = tmp(`${kind}.sec1.pem`);
    openssl(['ec', '-in', pkcs8, '-out', files.sec1]);
  }
  const label = (path) => readFileSync(path, 'utf8').split('\n')[0];
  assert.equal(label(files.pkcs8), '-----BEGIN PRIVATE KEY-----');
  assert.equal(label(files.spki), '-----BEGIN PUBLIC KEY-----');
  if (files.pkcs1) assert.equal(label(files.pkcs1), '-----BEGIN RSA PRIVATE KEY-----');
  if (files.rsaSpki) assert.equal(label(files.rsaSpki), '-----BEGIN PUBLIC KEY-----');
  if (files.pkcs1Public) assert.equal(label(files.pkcs1Public), '-----BEGIN RSA PUBLIC KEY-----');
  if (files.sec1) assert.equal(label(files.sec1), '-----BEGIN EC PRIVATE KEY-----');
  return files;
}

const importPem = (path, ...extra) => json(ok(['import-pem', path, ...extra]));

/** Imports every PEM form of a key; checks they agree with each other and with jose. */
async function importAll(kind, alg, files) {
  const publicJwk = importPem(files.spki);
  assert.ok(publicOnly(publicJwk), `${kind}: public import has private members`);
  assert.equal(publicJwk.kid, await jose.calculateJwkThumbprint(publicJwk), `${kind}: kid is not the thumbprint`);
  assert.equal(publicJwk.kid.length, 43);

  // jose's view of the same PEM files.
  const joseKeyAlg = alg;
  const josePublic = await jose.exportJWK(await jose.importSPKI(readFileSync(files.spki, 'utf8'), joseKeyAlg, { extractable: true }));
  const josePrivate = await jose.exportJWK(await jose.importPKCS8(readFileSync(files.pkcs8, 'utf8'), joseKeyAlg, { extractable: true }));
  assert.deepEqual(pick(publicJwk, PUBLIC_NAMES), pick(josePublic, PUBLIC_NAMES), `${kind}: public members differ from jose's`);

  // Every other form: the same public JWK.
  const forms = ['pkcs8', 'pkcs1', 'rsaSpki', 'pkcs1Public', 'sec1'].filter((f) => files[f]);
  for (const form of forms) {
    assert.deepEqual(importPem(files[form]), publicJwk, `${kind}: ${form} import differs from the SPKI import`);
  }
  // From stdin too.
  assert.deepEqual(json(ok(['import-pem', '-'], { input: readFileSync(files.spki) })), publicJwk, `${kind}: stdin`);

  // --private: the private JWK, whose public part is the same.
  const privateForms = ['pkcs8', 'pkcs1', 'sec1'].filter((f) => files[f]);
  let privateJwk;
  for (const form of privateForms) {
    const jwk = importPem(files[form], '--private');
    assert.equal(jwk.d, josePrivate.d, `${kind}: ${form} private d differs from jose's`);
    assert.deepEqual(pick(jwk, PUBLIC_NAMES), pick(publicJwk, PUBLIC_NAMES), `${kind}: ${form} --private public part`);
    assert.equal(jwk.kid, publicJwk.kid, `${kind}: ${form} --private kid`);
    if (privateJwk) assert.deepEqual(jwk, privateJwk, `${kind}: ${form} --private differs`);
    privateJwk = jwk;
  }
  // --private needs a private key.
  const r = cli(['import-pem', files.spki, '--private']);
  assert.ok(r.code === 1 || r.code === 2, `${kind}: --private on a public key: ${JSON.stringify(r)}`);
  assert.ok(r.stderr.trim().length > 0);
  assert.ok(!r.stdout.includes('"d"'));

  // --kid and --alg.
  const named = importPem(files.spki, '--kid', `openssl-${kind}`, '--alg', alg);
  assert.equal(named.kid, `openssl-${kind}`);
  assert.equal(named.alg, alg);
  return { publicJwk, privateJwk };
}

const OPENSSL_CASES = [
  { kind: 'rsa', alg: 'RS256' },
  { kind: 'p256', alg: 'ES256' },
  { kind: 'p384', alg: 'ES384' },
  { kind: 'ed25519', alg: 'EdDSA' },
];

test('(c) openssl PEM keys import with `jwt-edge import-pem`; jose and openssl signatures verify', { timeout: 180_000 }, async () => {
  for (const { kind, alg } of OPENSSL_CASES) {
    const files = opensslKey(kind);
    const { publicJwk, privateJwk } = await importAll(kind, alg, files);
    const file = jwksFile(publicJwk);
    const header = { alg, kid: publicJwk.kid, typ: 'JWT' };

    // jose signs with the PEM private key (importPKCS8).
    const pkcs8 = await jose.importPKCS8(readFileSync(files.pkcs8, 'utf8'), alg);
    const joseToken = await new jose.SignJWT({ via: 'jose' })
      .setProtectedHeader(header)
      .setIssuer(ISS)
      .setAudience(AUD)
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 300)
      .sign(pkcs8);
    const r = verifyCli(joseToken, ['--jwks', file, '--iss', ISS, '--aud', AUD]);
    assertValid(r, `${kind}: jose token`);
    assert.equal(r.verdict.kid, publicJwk.kid);

    // openssl signs the JWS signing input.
    const sign = {
      rsa: (input) => openssl(['dgst', '-sha256', '-sign', files.pkcs8], Buffer.from(input)),
      p256: (input) => derToRaw(openssl(['dgst', '-sha256', '-sign', files.pkcs8], Buffer.from(input)), 32),
      p384: (input) => derToRaw(openssl(['dgst', '-sha384', '-sign', files.pkcs8], Buffer.from(input)), 48),
      ed25519: (input) => {
        const inFile = write('ed-input.txt', input);
        return openssl(['pkeyutl', '-sign', '-inkey', files.pkcs8, '-rawin', '-in', inFile]);
      },
    }[kind];
    const opensslToken = compact(header, claimsAt(NOW, { via: 'openssl' }), sign);
    const sigLength = Buffer.from(opensslToken.split('.')[2], 'base64url').length;
    assert.equal(sigLength, { rsa: 256, p256: 64, p384: 96, ed25519: 64 }[kind], `${kind}: signature length`);
    const o = verifyCli(opensslToken, ['--jwks', file, '--iss', ISS, '--aud', AUD]);
    assertValid(o, `${kind}: openssl-signed token`);
    assert.equal(o.verdict.claims.via, 'openssl');
    // And the same bytes with the payload changed do not.
    const [h, , s] = opensslToken.split('.');
    const forged = `${h}.${b64u(JSON.stringify(claimsAt(NOW, { via: 'forged' })))}.${s}`;
    const f = verifyCli(forged, ['--jwks', file]);
    assert.equal(f.code, 13, `${kind}: forged: ${JSON.stringify(f.verdict)}`);
    assert.equal(f.verdict.code, 'signature_invalid');

    // The private import is usable with `sign --key`; jose and openssl verify the result.
    const keyFile = write(`${kind}.private.jwk`, JSON.stringify(privateJwk));
    const cliToken = ok(['--now', String(NOW), 'sign', '--key', keyFile, '--alg', alg, '--aud', AUD]).trim();
    const spki = await jose.importSPKI(readFileSync(files.spki, 'utf8'), alg);
    const { protectedHeader } = await jose.jwtVerify(cliToken, spki, { audience: AUD, currentDate: at(NOW + 1) });
    assert.equal(protectedHeader.kid, publicJwk.kid);
    if (kind === 'rsa' || kind === 'p256') {
      const [ch, cp, cs] = cliToken.split('.');
      let sig = Buffer.from(cs, 'base64url');
      if (kind === 'p256') sig = rawToDer(sig);
      const sigFile = write(`${kind}.sig`, sig);
      const out = openssl(['dgst', '-sha256', '-verify', files.spki, '-signature', sigFile], Buffer.from(`${ch}.${cp}`));
      assert.match(out.toString(), /Verified OK/);
    }
  }

  // PS256 from openssl (PSS, salt length = hash length, RFC 7518 §3.5).
  const rsa = opensslKey('rsa');
  const pub = importPem(rsa.spki);
  const psFile = jwksFile(pub);
  const ps = compact({ alg: 'PS256', kid: pub.kid }, claimsAt(NOW), (input) =>
    openssl(
      ['dgst', '-sha256', '-sign', rsa.pkcs8, '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'],
      Buffer.from(input),
    ),
  );
  assertValid(verifyCli(ps, ['--jwks', psFile]), 'openssl PS256');

  // `openssl genrsa -traditional` writes PKCS#1 directly.
  const genrsa = tmp('genrsa.pem');
  openssl(['genrsa', '-traditional', '-out', genrsa, '2048']);
  assert.equal(readFileSync(genrsa, 'utf8').split('\n')[0], '-----BEGIN RSA PRIVATE KEY-----');
  const fromGenrsa = importPem(genrsa);
  const genrsaSpki = tmp('genrsa.spki.pem');
  openssl(['rsa', '-in', genrsa, '-pubout', '-out', genrsaSpki]);
  assert.deepEqual(importPem(genrsaSpki), fromGenrsa);
  const genrsaPrivate = importPem(genrsa, '--private', '--alg', 'RS256');
  const genrsaKeyFile = write('genrsa.jwk', JSON.stringify(genrsaPrivate));
  const t = ok(['--now', String(NOW), 'sign', '--key', genrsaKeyFile]).trim();
  assertValid(verifyCli(t, ['--jwks', jwksFile(fromGenrsa)]), 'genrsa key');

  // Not a key: a clear error, exit 1.
  const notPem = write('not.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const bad = cli(['import-pem', notPem]);
  assert.equal(bad.code, 1, JSON.stringify(bad));
  assert.ok(bad.stderr.trim().length > 0);
});

// ------------------------------------------------------------------ (d) serve

/** Starts `jwt-edge serve` on 127.0.0.1:0; resolves once it prints its address. */
function startServer(args) {
  const child = spawn(BIN, ['serve', '--addr', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  servers.add(child);
  child.on('exit', () => servers.delete(child));
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve printed no "listening on" line within 20 s: ${stderr}`));
    }, 20_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      // Only a complete line: a chunk may end in the middle of the address.
      const m = /listening on (http:\/\/\S+)\r?\n/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: m[1], stderr: () => stderr });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening: ${stderr}`));
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function stopServer(server) {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
}

test('(d) `jwt-edge serve`: JWKS with caching headers, 304, and /token verified by jose', { timeout: 60_000 }, async () => {
  const key = keygen('ES256');
  const file = jwksFile(key.pub);
  const issuer = 'https://dev-issuer.example';
  let server;
  try {
    server = await startServer(['--jwks', file, '--key', key.path, '--iss', issuer, '--max-age', '120']);
    assert.match(server.base, /^http:\/\/127\.0\.0\.1:(\d+)$/);
    assert.notEqual(server.base, 'http://127.0.0.1:0');
    const jwksUrl = `${server.base}/.well-known/jwks.json`;
    const signal = () => AbortSignal.timeout(10_000);

    const first = await fetch(jwksUrl, { signal: signal() });
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(first.headers.get('cache-control'), 'public, max-age=120');
    const etag = first.headers.get('etag');
    assert.match(etag ?? '', /^"[^"]+"$/, 'a strong, quoted ETag');
    const body = await first.json();
    assert.equal(body.keys[0].kid, key.pub.kid);
    assert.ok(body.keys.every(publicOnly));

    const second = await fetch(jwksUrl, { headers: { 'If-None-Match': etag }, signal: signal() });
    assert.equal(second.status, 304);
    assert.equal((await second.arrayBuffer()).byteLength, 0);

    // /token mints a token jose verifies through the served JWKS.
    const minted = await fetch(`${server.base}/token?sub=alice&aud=api&ttl=60s&scope=read%20write`, { signal: signal() });
    assert.equal(minted.status, 200);
    assert.match(minted.headers.get('content-type') ?? '', /^text\/plain/);
    const token = (await minted.text()).trim();
    const keySet = jose.createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 10_000 });
    const { payload, protectedHeader } = await jose.jwtVerify(token, keySet, { issuer, audience: 'api', subject: 'alice' });
    assert.equal(protectedHeader.kid, key.pub.kid);
    assert.equal(payload.scope, 'read write');
    assert.equal(payload.exp - payload.iat, 60);

    // Rotation shows up: the file is re-read per request.
    const other = keygen('EdDSA');
    ok(['jwks', 'add', '--jwks', file, other.path]);
    const third = await fetch(jwksUrl, { headers: { 'If-None-Match': etag }, signal: signal() });
    assert.equal(third.status, 200);
    assert.notEqual(third.headers.get('etag'), etag);
    assert.deepEqual((await third.json()).keys.map((k) => k.kid).sort(), [key.pub.kid, other.pub.kid].sort());

    // jwt-edge verify against the served JWKS URL.
    const r = verifyCli(token, ['--jwks', jwksUrl, '--iss', issuer, '--aud', 'api'], payload.iat + 1);
    assertValid(r, 'verify --jwks http://127.0.0.1', true);
  } finally {
    stopServer(server);
  }

  // Without --key, /token is 404.
  let bare;
  try {
    bare = await startServer(['--jwks', file]);
    const res = await fetch(`${bare.base}/token?sub=alice`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  } finally {
    stopServer(bare);
  }

  // A non-loopback address is refused.
  const r = cli(['serve', '--jwks', file, '--addr', '0.0.0.0:0'], { timeout: 20_000 });
  assert.notEqual(r.code, 0);
  assert.ok(!r.stderr.includes('listening on'), r.stderr);
});
