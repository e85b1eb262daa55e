// jwt-edge demo page: decodes and verifies a token in the browser with the npm package
// (vendored by scripts/build-npm.sh into ./vendor/jwt-edge). The token never leaves the
// page: the only network request this script makes is for a JWKS URL the user gives.

// Codes and algorithm names come from the core, generated into ./reference.js.
import { ALL_ALGORITHMS, DEFAULT_ALGORITHMS } from './reference.js';

/** Every ErrorCode (index.d.ts, www/reference.js's ERROR_CODES), in plain language. */
export const EXPLANATIONS = Object.freeze({
  token_missing: 'No token was given. Paste a compact JWT: three base64url parts separated by dots.',
  request_malformed:
    'The request carrying the token was malformed, for example an Authorization header that is not “Bearer <token>”.',
  token_too_large: 'The token is larger than the size limit (16 KiB by default), so it was refused before being parsed.',
  token_malformed:
    'The token is not a well-formed JWS: it needs three base64url parts, a JSON header with a string “alg”, and a JSON object as payload.',
  crit_unsupported:
    'The header lists “crit” extensions that must be understood. jwt-edge understands none, so it has to refuse the token (RFC 7515 §4.1.11).',
  b64_unsupported: 'The header sets “b64”: false (an unencoded payload, RFC 7797), which jwt-edge never accepts.',
  alg_not_allowed:
    'The header’s “alg” is not one of the allowed algorithms. “none” is never allowed, and HS256/384/512 need an HMAC secret.',
  no_matching_key:
    'No key in the set matches the token’s “kid” and algorithm. The issuer may have rotated its keys, or the token comes from another issuer.',
  key_mismatch:
    'A key was found, but it cannot be used with the token’s algorithm (wrong key type, curve, “use” or “alg”), so it was not tried.',
  signature_invalid: 'The signature does not match: the token was altered after signing, or it was signed with a different key.',
  token_expired: 'The token has expired: its “exp” time has passed, beyond the allowed clock skew.',
  token_not_yet_valid: 'The token is not valid yet: its “nbf” (not before) time is still ahead, beyond the allowed clock skew.',
  iat_in_future:
    'The token says it was issued (“iat”) in the future, beyond the allowed clock skew: the issuer’s clock or the token is wrong.',
  lifetime_too_long: 'The token lives longer than the maximum lifetime allowed (exp − iat, or exp − now, is too large).',
  claim_missing:
    'A required claim is missing: “exp” by default, “iss” or “aud” when an issuer or audience is set, “jti” when required.',
  claim_invalid:
    'A claim has the wrong type or value, for example a date that is not a number or an “aud” that is not a string or a list of strings.',
  issuer_mismatch: 'The “iss” claim is not one of the accepted issuers.',
  audience_mismatch: 'None of the token’s “aud” values is an accepted audience: the token was issued for another service.',
  insufficient_scope: 'The token is genuine but its “scope” (or “scp”) lacks a scope this resource requires (answered 403 with the required scopes).',
  claim_mismatch: 'The token is genuine but a claim rule of this resource does not hold: a role, a tenant or another claim has another value.',
  subject_mismatch: 'The “sub” claim is not the required subject.',
  typ_mismatch: 'The header’s “typ” is not the required type (compared case-insensitively; “application/” is optional).',
  assertion_mismatch: 'A signed assertion from the edge worker was issued for another request (method or path). (Checked at the origin.)',
  token_replayed: 'This token’s “jti” was already accepted once, and a token can be used only once. (Replay checks run in the edge worker.)',
  replay_unavailable: 'The replay store could not be reached, so reuse of the token could not be ruled out and it was refused.',
  jwks_unavailable:
    'The issuer’s key set could not be fetched (network error, CORS, timeout or a non-200 response) and no copy is cached.',
  jwks_invalid:
    'The key set is not a valid JWKS: not JSON, no “keys” array, a malformed key, or private key material that must never be published.',
  config_invalid:
    'The verification options are invalid, for example no key at all, an HMAC secret shorter than 32 bytes, or an out-of-range value.',
  response_failed:
    'The edge worker could not build its answer (the platform refused a header or a response). A server-side failure, not the token’s.',
  randomness_unavailable:
    'The edge worker could not draw random bytes for the signed assertion it forwards, so it refused the request rather than send a guessable one.',
});

/** Every algorithm the core verifies, the default allow-list first (www/reference.js). */
export const ALGORITHMS = Object.freeze([
  ...DEFAULT_ALGORITHMS,
  ...ALL_ALGORITHMS.filter((alg) => !DEFAULT_ALGORITHMS.includes(alg)),
]);

const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------------ formatting

/** "in 4 min", "2 h ago", "now": `seconds` relative to `reference` (both Unix seconds). */
export function relativeTime(seconds, reference) {
  const diff = Math.round(seconds - reference);
  if (diff === 0) return 'now';
  const abs = Math.abs(diff);
  let text;
  if (abs < 60) text = `${abs} s`;
  else if (abs < 3600) text = `${Math.floor(abs / 60)} min`;
  else if (abs < 86400) text = `${Math.floor(abs / 3600)} h`;
  else if (abs < 86400 * 365) text = `${Math.floor(abs / 86400)} d`;
  else text = `${Math.floor(abs / (86400 * 365))} y`;
  return diff > 0 ? `in ${text}` : `${text} ago`;
}

function isNumericDate(value) {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 253402300799;
}

function isoDate(seconds) {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Parses the "verify at" field: empty → undefined; Unix seconds or an ISO 8601 date. */
export function parseVerifyAt(text) {
  const value = text.trim();
  if (value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error('Not a date: use Unix seconds (1767225600) or ISO 8601 (2026-01-01T00:00:00Z).');
  return Math.floor(ms / 1000);
}

function list(text) {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) return undefined;
  return items.length === 1 ? items[0] : items;
}

function integer(text) {
  const value = text.trim();
  return value === '' ? undefined : Number(value);
}

// ------------------------------------------------------------------------ rendering

function setHidden(el, hidden) {
  el.hidden = hidden;
}

function showDecoded(decoded, verified) {
  const badge = $('decoded-badge');
  badge.textContent = verified ? 'verified' : 'unverified';
  badge.dataset.state = verified ? 'verified' : 'unverified';
  badge.className = `badge ${verified ? 'verified' : 'unverified'}`;
  $('header-json').textContent = decoded ? JSON.stringify(decoded.header, null, 2) : '—';
  $('claims-json').textContent = decoded
    ? decoded.payload === null ? '(the payload is not a JSON object)' : JSON.stringify(decoded.payload, null, 2)
    : '—';
}

function showTimes(claims, reference, overridden) {
  $('times-caption').textContent = overridden
    ? `Relative to the “verify at” time, ${isoDate(reference)}`
    : 'Relative to now';
  for (const name of ['iat', 'nbf', 'exp']) {
    const row = document.querySelector(`[data-testid="time-${name}"]`);
    const value = claims?.[name];
    const iso = row.querySelector('.iso');
    const rel = row.querySelector('.rel');
    if (value === undefined) {
      iso.textContent = '—';
      rel.textContent = claims ? 'absent' : '—';
    } else if (!isNumericDate(value)) {
      iso.textContent = JSON.stringify(value);
      rel.textContent = 'not a NumericDate';
    } else {
      iso.textContent = isoDate(value);
      rel.textContent = relativeTime(value, reference);
    }
    row.dataset.value = value === undefined ? '' : String(value);
  }
}

function showVerdict(state, { text, code, message, result, source } = {}) {
  const verdict = $('verdict');
  verdict.dataset.state = state;
  $('verdict-text').textContent = text;
  setHidden($('verdict-code-line'), !code);
  $('verdict-code').textContent = code ?? '';
  const explanation = code ? EXPLANATIONS[code] ?? 'An error code this page does not know yet.' : '';
  $('verdict-explanation').textContent = explanation;
  setHidden($('verdict-explanation'), !code);
  $('verdict-message').textContent = message ? `Details: ${message}` : '';
  setHidden($('verdict-message'), !message);
  setHidden($('key-used'), !result);
  if (result) {
    $('key-id').textContent = result.kid ?? '(the key has no kid)';
    $('key-alg').textContent = result.alg;
    $('key-source').textContent = source;
  }
}

function decodeInput(lib) {
  const token = $('token').value.trim();
  const error = $('decode-error');
  if (token === '') {
    setHidden(error, true);
    showDecoded(null, false);
    showTimes(null, Math.floor(Date.now() / 1000), false);
    return;
  }
  try {
    const decoded = lib.decodeUnverified(token);
    setHidden(error, true);
    showDecoded(decoded, false);
    showTimes(decoded.payload, Math.floor(Date.now() / 1000), false);
  } catch (err) {
    error.textContent = `Cannot decode: ${err.message}`;
    setHidden(error, false);
    showDecoded(null, false);
    showTimes(null, Math.floor(Date.now() / 1000), false);
  }
}

// ------------------------------------------------------------------------ verification

/** The options of the form, as VerifyOptions (without `jwks`). */
function readOptions() {
  const options = {};
  const secret = $('secret').value.trim();
  if (secret) options.secret = secret;
  const algorithms = ALGORITHMS.filter((alg) => $(`alg-${alg}`).checked);
  if (algorithms.length > 0) options.algorithms = algorithms;
  const issuer = list($('issuer').value);
  if (issuer !== undefined) options.issuer = issuer;
  const audience = list($('audience').value);
  if (audience !== undefined) options.audience = audience;
  const typ = $('typ').value.trim();
  if (typ) options.typ = typ;
  const skew = integer($('clock-skew').value);
  if (skew !== undefined) options.clockSkewSeconds = skew;
  const lifetime = integer($('max-lifetime').value);
  if (lifetime !== undefined) options.maxLifetimeSeconds = lifetime;
  if ($('require-jti').checked) options.requireJti = true;
  const now = parseVerifyAt($('verify-at').value);
  if (now !== undefined) options.now = now;
  return options;
}

const remoteSets = new Map(); // JWKS URL -> RemoteJwks, so its cache works across clicks

async function runVerify(lib) {
  const token = $('token').value.trim();
  const atError = $('verify-at-error');
  let options;
  try {
    options = readOptions();
    setHidden(atError, true);
  } catch (err) {
    atError.textContent = err.message;
    setHidden(atError, false);
    $('verify-at').setAttribute('aria-invalid', 'true');
    showVerdict('refused', { text: 'Not verified: fix the “verify at” field.' });
    return;
  }
  $('verify-at').removeAttribute('aria-invalid');
  const reference = options.now ?? Math.floor(Date.now() / 1000);
  const url = $('jwks-url').value.trim();
  const source = url ? `RemoteJwks ${url}` : options.secret && !$('jwks').value.trim() ? 'HMAC secret' : 'pasted JWKS';

  showVerdict('pending', { text: url ? 'Verifying (fetching the JWKS)…' : 'Verifying…' });
  try {
    let result;
    if (url) {
      let remote = remoteSets.get(url);
      if (!remote) {
        // A local inspection page: a dev issuer on loopback (`jwt-edge serve`) is allowed.
        remote = new lib.RemoteJwks(url, { devAllowHttpLoopback: true });
        remoteSets.set(url, remote);
      }
      result = await remote.verify(token, options);
    } else {
      const jwks = $('jwks').value.trim();
      result = lib.verify(token, jwks ? { ...options, jwks } : options);
    }
    const keySource = result.alg.startsWith('HS') ? 'HMAC secret' : source;
    showVerdict('valid', { text: 'Valid: signature and claims verified.', result, source: keySource });
    setHidden($('decode-error'), true);
    showDecoded({ header: result.header, payload: result.claims }, true);
    showTimes(result.claims, reference, options.now !== undefined);
  } catch (err) {
    if (err instanceof lib.JwtEdgeError) {
      showVerdict('refused', { text: 'Refused.', code: err.code, message: err.message });
    } else {
      showVerdict('refused', { text: 'Refused: unexpected error.', message: String(err?.message ?? err) });
    }
    // The decoded view stays, labelled unverified.
    decodeInput(lib);
    const decoded = safeDecode(lib, token);
    showTimes(decoded?.payload ?? null, reference, options.now !== undefined);
  }
}

function safeDecode(lib, token) {
  try {
    return lib.decodeUnverified(token);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------ start

function buildAlgorithmCheckboxes() {
  const box = $('algorithms');
  for (const alg of ALGORITHMS) {
    const wrap = document.createElement('div');
    wrap.className = 'check';
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.id = `alg-${alg}`;
    input.value = alg;
    input.dataset.testid = `alg-${alg}`;
    const label = document.createElement('label');
    label.htmlFor = input.id;
    label.textContent = alg;
    wrap.append(input, label);
    box.append(wrap);
  }
}

async function main() {
  buildAlgorithmCheckboxes();
  const status = $('status');
  let lib;
  try {
    lib = await import('./vendor/jwt-edge/index.js');
  } catch (err) {
    status.dataset.state = 'error';
    status.textContent =
      `The verifier could not be loaded (${err.message}). Build it with: bash scripts/build-npm.sh`;
    return;
  }
  status.dataset.state = 'ready';
  status.textContent = 'Verifier ready (WebAssembly loaded). Nothing you paste leaves this page.';

  const markStale = () => {
    decodeInput(lib);
    showVerdict('idle', { text: 'Not verified yet.' });
  };
  $('token').addEventListener('input', markStale);
  for (const id of ['jwks', 'jwks-url', 'secret', 'issuer', 'audience', 'clock-skew', 'max-lifetime', 'typ', 'verify-at']) {
    $(id).addEventListener('input', () => showVerdict('idle', { text: 'Not verified yet.' }));
  }
  $('verify-form').addEventListener('change', (event) => {
    if (event.target.type === 'checkbox') showVerdict('idle', { text: 'Not verified yet.' });
  });
  $('verify-form').addEventListener('submit', (event) => {
    event.preventDefault();
    runVerify(lib);
  });
  $('clear').addEventListener('click', () => {
    $('verify-form').reset();
    setHidden($('verify-at-error'), true);
    markStale();
  });
  $('verify').disabled = false;
  decodeInput(lib);
}

main();
