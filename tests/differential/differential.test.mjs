// One differential test across the four front ends (issue 15 §4): generated policies
// (valid and invalid option sets, HMAC/asymmetric mixes, empty lists, bounds) × tokens
// (minted for the policy by jose now, the jose fixtures, the fuzz parity corpus) go
// through the native core (examples/differential.rs), the npm package in Node, the
// worker in workerd (Miniflare, verdict mode) and the CLI (`jwt-edge verify`). Every
// pair must get the same verdict from each: valid or not, the error code, and for a
// valid token its algorithm and key id; for a bad policy, `config_invalid` naming the
// same option (each front end in its own spelling, mapped back through the core's name
// table, which the test reads from the core: `differential --table`).
//
// The worker applies the core's gateway profile, the others the library profile; the
// native oracle decides each pair under both.
//
// Seeded: JWT_EDGE_DIFF_SEED (default 15) chooses the policies and the foreign tokens;
// JWT_EDGE_DIFF_POLICIES (default 12) how many random policies beside the 25 fixed ones. Keys are fresh per run (the
// verdicts do not depend on their bytes). Needs: target/debug/jwt-edge and
// target/debug/examples/differential (cargo build --features cli --example differential),
// build/ (scripts/build-worker.sh), target/npm/jwt-edge (scripts/build-npm.sh).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as jose from 'jose';
import { ROOT, JwksServer, startWorker, closeAll, tempDir, newKey, b64u, algNone } from '../edge/harness.mjs';
import { loadPackage } from '../npm/helpers.mjs';

const run = promisify(execFile);
const SEED = Number(process.env.JWT_EDGE_DIFF_SEED ?? 15);
const POLICIES = Number(process.env.JWT_EDGE_DIFF_POLICIES ?? 12);
const CLI = path.join(ROOT, 'target/debug/jwt-edge');
const ORACLE = path.join(ROOT, 'target/debug/examples/differential');
const ISS = 'https://issuer.example';
const AUD = 'api://jwt-edge';

after(closeAll);

/** mulberry32: a small seeded PRNG, so a run can be repeated from its seed. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (items) => items[Math.floor(next() * items.length)];
  const chance = (p) => next() < p;
  return { next, pick, chance };
}

// ------------------------------------------------------------------ the name table

/** The core's option table: field → each front end's name. */
function nameTable() {
  const rows = JSON.parse(execFileSync(ORACLE, ['--table'], { encoding: 'utf8' }));
  const byCore = new Map(rows.map((r) => [r.core, r]));
  // A front end's reported field name → the core's name.
  const back = new Map();
  for (const r of rows) for (const f of ['core', 'edge', 'npm', 'cli']) back.set(`${f}:${r[f]}`, r.core);
  return { rows, byCore, back };
}

// ------------------------------------------------------------------ policies and tokens

async function makeKeys() {
  const rs = await newKey('RS256', 'rs');
  const es = await newKey('ES256', 'es');
  const ed = await newKey('EdDSA', 'ed');
  const ps = await newKey('PS256', 'ps');
  const secret = () => b64u(crypto.getRandomValues(new Uint8Array(32)));
  return { rs, es, ed, ps, hs: secret(), client: secret(), wrong: secret() };
}

/** Key configurations: public keys, an unnamed secret, a named one, mixes, none. */
function keyConfigs(keys, fixtures) {
  const jwks = (...ks) => ({ keys: ks.map((k) => k.jwk) });
  const fixtureSecret = fixtures.secrets[0];
  return {
    public: { jwks: jwks(keys.rs, keys.es, keys.ed) },
    secret: { secret: keys.hs },
    named: { secrets: { 'client-7': keys.client } },
    mixed: { jwks: jwks(keys.rs, keys.es), secret: keys.hs },
    mixedNamed: { jwks: jwks(keys.ed), secrets: { 'client-7': keys.client } },
    fixtures: { jwks: fixtures.jwks, secrets: { [fixtureSecret.kid]: fixtureSecret.k } },
    none: {},
  };
}

/** The bad option sets: each front end must refuse every one alike, naming the same option. */
const BAD = [
  ['algorithms', []],
  ['algorithms', ['HS512', 'RS256']],
  ['algorithms', ['none']],
  ['audiences', []],
  ['audiences', ['']],
  ['clock_skew', 100000],
  ['max_lifetime', 0],
  ['max_token_bytes', 0],
  ['max_token_bytes', 70000],
  ['typ', ''],
  ['subject', ''],
  ['required_claims', ['']],
];

/**
 * The policies: first every key configuration with defaults only, then one targeted
 * policy per check and per bad option, then POLICIES seeded random ones.
 */
function generatePolicies(r, configs) {
  const names = Object.keys(configs);
  const policies = names.map((name) => ({ keys: configs[name], issuers: [ISS] }));
  const base = () => ({ keys: configs.public, issuers: [ISS] });
  policies.push(
    { ...base(), audiences: [AUD] },
    { ...base(), audiences: ['other'] },
    { ...base(), typ: 'at+jwt', require_jti: true },
    { ...base(), max_token_bytes: 1200, max_lifetime: null },
    { keys: configs.secret, issuers: [ISS], algorithms: ['RS256'] },
    { keys: configs.public, issuers: [ISS], algorithms: ['HS256'] },
    ...BAD.map(([name, value]) => ({ ...base(), [name]: value })),
  );
  for (let i = 0; i < POLICIES; i++) {
    const keys = configs[r.pick(names.filter((n) => n !== 'none'))];
    const p = { keys, issuers: [ISS] };
    const hasPublic = !!keys.jwks;
    const hasSecret = !!(keys.secret || keys.secrets);
    if (r.chance(0.35)) {
      const pool = [
        ...(hasPublic ? ['RS256', 'ES256', 'EdDSA', 'PS256', 'ES384'] : []),
        ...(hasSecret ? ['HS256', 'HS384'] : []),
      ];
      p.algorithms = pool.filter(() => r.chance(0.5));
      if (p.algorithms.length === 0) p.algorithms = [r.pick(pool)];
    }
    if (r.chance(0.5)) p.audiences = r.pick([[AUD], [AUD, 'other'], ['other']]);
    if (r.chance(0.2)) p.subject = r.pick(['user-123', 'someone-else']);
    if (r.chance(0.2)) p.typ = r.pick(['JWT', 'at+jwt']);
    if (r.chance(0.25)) p.required_claims = r.pick([['scope'], ['jti'], ['scope', 'nope']]);
    if (r.chance(0.3)) p.clock_skew = r.pick([0, 30, 300]);
    if (r.chance(0.35)) p.max_lifetime = r.pick([600, 3600, 172800, 864000, null]);
    if (r.chance(0.2)) p.require_exp = r.pick([true, false]);
    if (r.chance(0.2)) p.require_jti = true;
    if (r.chance(0.15)) p.max_token_bytes = r.pick([1200, 4096]);
    if (r.chance(0.15)) {
      const [name, value] = r.pick(BAD);
      p[name] = value;
    }
    policies.push(p);
  }
  return policies;
}

async function hmac(secretB64, claims, header) {
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', ...header })
    .sign(Buffer.from(secretB64, 'base64url'));
}

/** Tokens minted now for the generated policies (shared by all of them). */
async function mintTokens(keys, t) {
  const base = { iss: ISS, aud: AUD, sub: 'user-123', scope: 'read', iat: t, exp: t + 300, jti: 'j-1' };
  const sign = (key, claims, header = {}) =>
    new jose.SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
  const without = (name) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== name));
  const out = {
    rs: await sign(keys.rs, base),
    es: await sign(keys.es, base, { typ: 'JWT' }),
    ed: await sign(keys.ed, base, { typ: 'at+jwt' }),
    hs_label: await hmac(keys.hs, base, { kid: 'hs256' }),
    hs_nokid: await hmac(keys.hs, base),
    client7: await hmac(keys.client, base, { kid: 'client-7' }),
    client7_wrong_secret: await hmac(keys.wrong, base, { kid: 'client-7' }),
    long_48h: await sign(keys.rs, { ...base, exp: t + 172800 }),
    long_5d: await sign(keys.es, { ...base, exp: t + 432000 }),
    expired: await sign(keys.rs, { ...base, iat: t - 7200, exp: t - 3600 }),
    nbf_future: await sign(keys.es, { ...base, nbf: t + 3600 }),
    recent_expiry: await sign(keys.ed, { ...base, iat: t - 400, exp: t - 100 }),
    wrong_iss: await sign(keys.rs, { ...base, iss: 'https://evil.example' }),
    wrong_aud: await sign(keys.es, { ...base, aud: 'another-api' }),
    aud_list: await sign(keys.ed, { ...base, aud: ['x', AUD] }),
    no_exp: await sign(keys.rs, without('exp')),
    no_jti: await sign(keys.es, without('jti')),
    no_scope: await sign(keys.ed, without('scope')),
    other_sub: await sign(keys.rs, { ...base, sub: 'someone-else' }),
    big: await sign(keys.rs, { ...base, pad: 'x'.repeat(2000) }),
    rs_unknown_kid: await sign(keys.rs, base, { kid: 'rotated-away' }),
    rs_no_kid: await new jose.SignJWT(base).setProtectedHeader({ alg: 'RS256' }).sign(keys.rs.privateKey),
    // PS256 under the RS256 key's kid (signed by another key: the key's `alg` refuses it first).
    ps256_on_rs_kid: await sign(keys.ps, base, { kid: 'rs' }),
    none: algNone(base),
    garbage: 'not.a.token',
  };
  // The signature of one token on another's header and payload.
  const [h, p] = out.rs.split('.');
  out.tampered = `${h}.${p}.${out.es.split('.')[2]}`;
  return out;
}

/** A seeded sample of tokens nobody here wrote: jose fixtures and fuzz parity inputs. */
function foreignTokens(r, fixtures, parity) {
  const fixtureTokens = fixtures.cases.map((c) => c.token).filter((tk) => typeof tk === 'string');
  const parityTokens = [...parity.jwks_tokens, ...parity.verify.map((v) => v.token ?? v.input)].filter(
    (tk) => typeof tk === 'string' && tk.length < 8000,
  );
  const sample = (items, n) => Array.from({ length: Math.min(n, items.length) }, () => r.pick(items));
  return [...sample(fixtureTokens, 10), ...sample(parityTokens, 8)];
}

// ------------------------------------------------------------------ the front ends

function npmOptions(policy, table, now) {
  const options = { now };
  for (const [name, value] of Object.entries(policy)) {
    if (name === 'keys') continue;
    options[table.byCore.get(name).npm] = value;
  }
  const { jwks, secret, secrets } = policy.keys;
  if (jwks) options.jwks = jwks;
  if (secret) options.secret = secret;
  if (secrets) options.secrets = secrets;
  return options;
}

async function runNpm(pkg, table, cases, now) {
  return cases.map(({ policy, tokens }) => {
    let verifier;
    try {
      const { now: _, ...options } = npmOptions(policy, table, now);
      verifier = new pkg.Verifier(options);
    } catch (err) {
      const refusal = npmRefusal(err, table);
      return tokens.map(() => refusal);
    }
    const verdicts = tokens.map((token) => {
      try {
        const v = verifier.verify(token, { now });
        return { valid: true, alg: v.alg ?? v.algorithm, kid: v.kid ?? v.keyId ?? null };
      } catch (err) {
        return npmRefusal(err, table);
      }
    });
    verifier.free();
    return verdicts;
  });
}

function fieldOf(message) {
  return /invalid configuration: `([^`]+)`/.exec(message ?? '')?.[1] ?? null;
}

function npmRefusal(err, table) {
  assert.ok(err?.code, `npm threw without a code: ${err?.stack ?? err}`);
  const field = err.code === 'config_invalid' ? fieldOf(err.message) : null;
  return { valid: false, code: err.code, field: field && (table.back.get(`npm:${field}`) ?? `npm:${field}`) };
}

/** The CLI's flags for a policy, or null when the CLI cannot say it (an explicitly empty list). */
function cliArgs(policy, table, dir, index) {
  const args = [];
  for (const [name, value] of Object.entries(policy)) {
    if (name === 'keys') continue;
    const flag = table.byCore.get(name).cli;
    if (Array.isArray(value)) {
      if (value.length === 0) return null;
      for (const v of value) args.push(flag, v);
    } else if (value === null) {
      // `max_lifetime: null` (no maximum) is the CLI's default.
    } else if (typeof value === 'boolean') {
      if (name === 'require_jti') {
        if (value) args.push(flag);
      } else {
        args.push(flag, String(value));
      }
    } else {
      args.push(flag, String(value));
    }
  }
  const { jwks, secret, secrets } = policy.keys;
  if (jwks) {
    const file = path.join(dir, `jwks-${index}.json`);
    writeFileSync(file, JSON.stringify(jwks));
    args.push(table.byCore.get('jwks').cli, file);
  }
  if (secret) args.push(table.byCore.get('secret').cli, secret);
  if (secrets) {
    const entries = Object.entries(secrets);
    if (entries.length !== 1 || secret) return null; // the CLI holds one secret
    args.push(table.byCore.get('secret').cli, entries[0][1], table.byCore.get('secrets').cli, entries[0][0]);
  }
  return args;
}

async function runCli(table, cases, now) {
  const dir = tempDir('jwt-edge-diff-');
  const out = [];
  for (const [index, { policy, tokens }] of cases.entries()) {
    const args = cliArgs(policy, table, dir, index);
    if (args === null) {
      out.push(tokens.map(() => null));
      continue;
    }
    const verdicts = [];
    // Bounded: a few processes at a time.
    for (let i = 0; i < tokens.length; i += 4) {
      const batch = tokens.slice(i, i + 4).map(async (token) => {
        let stdout;
        try {
          ({ stdout } = await run(CLI, ['--now', String(now), 'verify', ...args, token], { timeout: 20000 }));
        } catch (err) {
          stdout = err.stdout;
          if (!stdout) throw new Error(`jwt-edge verify failed without a verdict: ${err.stderr}`);
        }
        const v = JSON.parse(stdout);
        if (v.valid) return { valid: true, alg: v.alg, kid: v.kid ?? null };
        const field = v.code === 'config_invalid' ? fieldOf(v.message) : null;
        return { valid: false, code: v.code, field: field && (table.back.get(`cli:${field}`) ?? `cli:${field}`) };
      });
      verdicts.push(...(await Promise.all(batch)));
    }
    out.push(verdicts);
  }
  return out;
}

async function runWorker(table, cases) {
  const out = [];
  for (const { policy, tokens } of cases) {
    // The core's "no key source" is the worker's issuer without jwks_uri, secrets or
    // discovery (an issuer URL without a jwks_uri is otherwise discovered).
    const issuer = { issuer: ISS, discovery: false };
    const config = { mode: 'verdict', dev_allow_http_loopback: true, issuers: [issuer] };
    const bindings = {};
    for (const [name, value] of Object.entries(policy)) {
      if (name === 'keys' || name === 'issuers') continue;
      const edge = table.byCore.get(name).edge;
      if (edge.startsWith('issuers.')) issuer[edge.slice('issuers.'.length)] = value;
      else config[edge] = value;
    }
    const { jwks, secret, secrets } = policy.keys;
    if (jwks) {
      const server = await JwksServer.start(jwks.keys);
      issuer.jwks_uri = server.uri;
    }
    if (secret) {
      issuer.hmac_secret = 'HMAC_SECRET';
      bindings.HMAC_SECRET = secret;
    }
    if (secrets) {
      issuer.hmac_secrets = {};
      for (const [i, [kid, value]] of Object.entries(secrets).entries()) {
        issuer.hmac_secrets[kid] = `CLIENT_SECRET_${i}`;
        bindings[`CLIENT_SECRET_${i}`] = value;
      }
    }
    const worker = await startWorker({ config, bindings });
    const verdicts = [];
    for (const token of tokens) {
      const res = await worker.fetch('/verdict', { token });
      const body = res.json;
      assert.ok(body, `worker answered ${res.status} without JSON`);
      if (body.valid === true) {
        verdicts.push({ valid: true, alg: body.alg, kid: body.kid ?? null });
      } else {
        const field = body.code === 'config_invalid' ? fieldOf(body.detail ?? body.message) : null;
        verdicts.push({
          valid: false,
          code: body.code,
          field: field && (table.back.get(`edge:${field}`) ?? `edge:${field}`),
        });
      }
    }
    await worker.dispose();
    out.push(verdicts);
  }
  return out;
}

// ------------------------------------------------------------------ the test

const same = (a, b) =>
  a.valid === b.valid &&
  (a.valid ? a.alg === b.alg && (a.kid ?? null) === (b.kid ?? null) : a.code === b.code && (a.field ?? null) === (b.field ?? null));

test('native, npm, worker and CLI give the same verdict for every (policy, token) pair', { timeout: 600_000 }, async () => {
  for (const [file, how] of [
    [CLI, 'cargo build --features cli --example differential'],
    [ORACLE, 'cargo build --features cli --example differential'],
  ]) {
    assert.ok(existsSync(file), `${path.relative(ROOT, file)} is missing: run \`${how}\``);
  }
  const table = nameTable();
  const r = rng(SEED);
  const fixtures = JSON.parse(readFileSync(path.join(ROOT, 'tests/fixtures/jose/tokens.json'), 'utf8'));
  const parity = JSON.parse(readFileSync(path.join(ROOT, 'tests/fixtures/fuzz/parity.json'), 'utf8'));
  const keys = await makeKeys();
  const now = Math.floor(Date.now() / 1000);
  const minted = await mintTokens(keys, now);
  const foreign = foreignTokens(rng(SEED + 1), fixtures, parity);
  const names = [...Object.keys(minted), ...foreign.map((_, i) => `foreign-${i}`)];
  const tokenList = [...Object.values(minted), ...foreign];
  const cases = generatePolicies(r, keyConfigs(keys, fixtures)).map((policy) => ({ policy, tokens: tokenList }));

  if (process.env.JWT_EDGE_DIFF_VERBOSE) {
    for (const [i, { policy }] of cases.entries()) console.log(i, JSON.stringify({ ...policy, keys: Object.keys(policy.keys) }));
  }
  const oracle = JSON.parse(
    execFileSync(ORACLE, [], { input: JSON.stringify({ now, cases }), encoding: 'utf8', maxBuffer: 64 << 20 }),
  );
  const native = {
    library: oracle.library.map((row) => row.map((v) => ({ ...v, field: v.field && (table.back.get(`core:${v.field}`) ?? v.field) }))),
    gateway: oracle.gateway.map((row) => row.map((v) => ({ ...v, field: v.field && (table.back.get(`core:${v.field}`) ?? v.field) }))),
  };
  const pkg = await loadPackage('node.js');
  const results = {
    npm: { profile: 'library', verdicts: await runNpm(pkg, table, cases, now) },
    cli: { profile: 'library', verdicts: await runCli(table, cases, now) },
    worker: { profile: 'gateway', verdicts: await runWorker(table, cases) },
  };

  const mismatches = [];
  const compared = { npm: 0, cli: 0, worker: 0 };
  const codes = new Set();
  let valid = 0;
  for (const [front, { profile, verdicts }] of Object.entries(results)) {
    for (const [p, row] of verdicts.entries()) {
      for (const [t, got] of row.entries()) {
        if (got === null) continue; // the CLI cannot say this policy
        const want = native[profile][p][t];
        compared[front] += 1;
        codes.add(want.valid ? 'valid' : want.code);
        if (want.valid) valid += 1;
        if (!same(want, got)) {
          mismatches.push({ front, policy: p, token: names[t] ?? t, want, got, options: cases[p].policy });
        }
      }
    }
  }
  const total = cases.length * tokenList.length;
  console.log(
    `differential: seed ${SEED}, ${cases.length} policies × ${tokenList.length} tokens = ${total} pairs; compared npm ${compared.npm}, cli ${compared.cli}, worker ${compared.worker}; ${valid} valid verdicts; ${codes.size} distinct outcomes: ${[...codes].sort().join(' ')}`,
  );
  // The test can only pass by comparing: most pairs, both outcomes, many codes.
  assert.equal(compared.npm, total);
  assert.equal(compared.worker, total);
  assert.ok(compared.cli >= total * 0.6, `the CLI compared only ${compared.cli} of ${total}`);
  assert.ok(valid > 0 && codes.size >= 16, `too little variety: ${[...codes].join(' ')}`);
  const report = mismatches
    .slice(0, 15)
    .map((m) => `${m.front} policy ${m.policy} token ${m.token}: want ${JSON.stringify(m.want)} got ${JSON.stringify(m.got)} options ${JSON.stringify({ ...m.options, keys: Object.keys(m.options.keys) })}`)
    .join('\n');
  assert.equal(mismatches.length, 0, `${mismatches.length} verdicts differ:\n${report}`);
});
