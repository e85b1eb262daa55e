// Self-signed X.509 certificates for the keys the provider fixtures publish, so that the
// `x5c`, `x5t` and `x5t#S256` members (Auth0, Entra ID, Keycloak) and Cloudflare Access's
// `public_cert(s)` PEMs are real certificates of the published key, as the providers'
// are, not placeholders. A minimal DER writer plus node:crypto's sign; the result parses
// with node:crypto's X509Certificate (checked by `certificateFor`). The worker ignores
// these members: they are here because the providers publish them.
import {
  KeyObject,
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
} from 'node:crypto';

const len = (n) => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag, ...parts) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...parts) => tlv(0x30, ...parts);
const set = (...parts) => tlv(0x31, ...parts);
const int = (bytes) => tlv(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const nul = () => Buffer.from([0x05, 0x00]);
const utf8 = (s) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bits = (bytes) => tlv(0x03, Buffer.from([0]), bytes);
const explicit = (n, ...parts) => tlv(0xa0 | n, ...parts);

function oid(text) {
  const [a, b, ...rest] = text.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const groups = [];
    let v = n;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i] |= 0x80;
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(date) {
  const p = (n) => String(n).padStart(2, '0');
  const s = `${p(date.getUTCFullYear() % 100)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(
    date.getUTCHours(),
  )}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

const SIGNATURE_ALGORITHMS = {
  rsa: seq(oid('1.2.840.113549.1.1.11'), nul()), // sha256WithRSAEncryption
  ec: seq(oid('1.2.840.10045.4.3.2')), // ecdsa-with-SHA256
};

const asKeyObject = (key, kind) => {
  if (key instanceof KeyObject) return key;
  if (typeof CryptoKey !== 'undefined' && key instanceof CryptoKey) return KeyObject.from(key);
  return kind === 'private' ? createPrivateKey(key) : createPublicKey(key);
};

/**
 * A self-signed certificate (`CN=<subject>`, valid from a day ago for a year) of the
 * public key `jwk`, signed with `privateKey` (a CryptoKey or KeyObject). Returns
 * `{ der, pem, x5c, x5t, x5tS256 }`: `x5c` is standard base64 (RFC 7517 §4.7), the
 * thumbprints base64url (§4.8, §4.9).
 */
export function certificateFor(jwk, privateKey, subject = 'jwt-edge test') {
  const publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, n: jwk.n, e: jwk.e, x: jwk.x, y: jwk.y }, format: 'jwk' });
  const kind = publicKey.asymmetricKeyType === 'ec' ? 'ec' : 'rsa';
  const signer = asKeyObject(privateKey, 'private');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  const name = seq(set(seq(oid('2.5.4.3'), utf8(subject))));
  const from = new Date(Date.now() - 86_400_000);
  const until = new Date(Date.now() + 365 * 86_400_000);
  const tbs = seq(
    explicit(0, int(Buffer.from([2]))),
    int(serial),
    SIGNATURE_ALGORITHMS[kind],
    name,
    seq(utcTime(from), utcTime(until)),
    name,
    spki,
  );
  const signature = sign('sha256', tbs, signer);
  const der = seq(tbs, SIGNATURE_ALGORITHMS[kind], bits(signature));
  const cert = new X509Certificate(der);
  if (!cert.verify(publicKey)) throw new Error('x509.mjs: the self-signed certificate does not verify');
  const b64 = der.toString('base64');
  const pem = `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
  return {
    der,
    pem,
    x5c: [b64],
    x5t: createHash('sha1').update(der).digest('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
  };
}

const issued = new WeakMap();

/**
 * `certificateFor(key.jwk, key.privateKey, subject)` for a key from the harness's
 * `newKey`, made once per key (the first subject asked for wins).
 */
export function certificateOf(key, subject) {
  let cert = issued.get(key);
  if (!cert) {
    cert = certificateFor(key.jwk, key.privateKey, subject);
    issued.set(key, cert);
  }
  return cert;
}
