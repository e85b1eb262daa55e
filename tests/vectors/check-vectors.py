#!/usr/bin/env python3
"""Independently check the RFC test vectors in tests/vectors/rfc.json.

Uses only the Python standard library, the `cryptography` package
(pip install cryptography) and, as a second opinion, the `openssl` command
line tool if it is on PATH. No code from jwt-edge is used.

For every entry of "vectors" it:
  * strictly base64url-decodes the three segments of the compact JWS
    (no padding, no non-alphabet characters, canonical trailing bits);
  * checks the decoded protected header against "protected_header" and "alg";
  * checks the payload against "payload_claims" (JSON) or "payload_text"
    (non-JSON, and confirms it really does not parse as JSON);
  * validates the public JWK (kty/crv for the alg, coordinate and key sizes);
  * verifies the signature over ASCII(segment0 "." segment1) with the JWK;
  * runs negative controls (one flipped signature bit, one changed signing
    input octet) which must FAIL to verify, so a vacuous checker is caught;
  * re-verifies with the openssl CLI (unless --no-openssl / not installed);
  * recomputes any RFC 7638 thumbprint given.
For every entry of "thumbprints" it recomputes the RFC 7638 thumbprint.

Exits 0 only if every check passes; prints one line per check.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as c_hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

B64URL_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

# alg -> (kty, crv or None, hash name for openssl, coordinate/half-signature octets)
ALGS = {
    "HS256": ("oct", None, "sha256", None),
    "RS256": ("RSA", None, "sha256", None),
    "ES256": ("EC", "P-256", "sha256", 32),
    "ES512": ("EC", "P-521", "sha512", 66),
    "EdDSA": ("OKP", "Ed25519", None, 32),
}
EC_CURVES = {"P-256": ec.SECP256R1(), "P-521": ec.SECP521R1()}
HASHES = {"sha256": hashes.SHA256(), "sha512": hashes.SHA512()}

# RFC 7638 section 3.2: required members per kty.
THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "oct": ("k", "kty"),
    "OKP": ("crv", "kty", "x"),  # RFC 8037 section 2
}


class CheckError(Exception):
    pass


def b64url_decode(s, what):
    """Strict base64url without padding (RFC 7515 section 2 / Appendix C)."""
    if not isinstance(s, str):
        raise CheckError(f"{what}: not a string")
    bad = set(s) - B64URL_ALPHABET
    if bad:
        raise CheckError(f"{what}: characters outside base64url alphabet: {sorted(bad)!r}")
    if len(s) % 4 == 1:
        raise CheckError(f"{what}: impossible base64url length {len(s)}")
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError) as e:
        raise CheckError(f"{what}: base64url decode failed: {e}")
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != s:
        raise CheckError(f"{what}: non-canonical base64url (stray trailing bits)")
    return raw


def b64url_encode(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def uint_from_b64(s, what):
    raw = b64url_decode(s, what)
    if not raw:
        raise CheckError(f"{what}: empty")
    return raw, int.from_bytes(raw, "big")


def strict_json(raw, what):
    def no_dupes(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise CheckError(f"{what}: duplicate member names {keys}")
        return dict(pairs)

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CheckError(f"{what}: not UTF-8: {e}")
    return json.loads(text, object_pairs_hook=no_dupes)


def same_json(a, b):
    """Equality that does not let True == 1 or 1 == 1.0 slip through."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b


def rfc7638_thumbprint(jwk):
    kty = jwk.get("kty")
    if kty not in THUMBPRINT_MEMBERS:
        raise CheckError(f"thumbprint: unsupported kty {kty!r}")
    members = THUMBPRINT_MEMBERS[kty]
    missing = [m for m in members if m not in jwk]
    if missing:
        raise CheckError(f"thumbprint: JWK lacks required members {missing}")
    canonical = "{" + ",".join(
        json.dumps(m) + ":" + json.dumps(jwk[m], ensure_ascii=False) for m in members
    ) + "}"
    return canonical, b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def load_public_key(alg, jwk):
    """Build a cryptography key object from the JWK, validating it for alg."""
    kty, crv, _, size = ALGS[alg]
    if jwk.get("kty") != kty:
        raise CheckError(f"jwk.kty is {jwk.get('kty')!r}, {alg} needs {kty!r}")
    if crv is not None and jwk.get("crv") != crv:
        raise CheckError(f"jwk.crv is {jwk.get('crv')!r}, {alg} needs {crv!r}")
    private = {"d", "p", "q", "dp", "dq", "qi", "oth"} & set(jwk)
    if kty != "oct" and private:
        raise CheckError(f"public JWK carries private members {sorted(private)}")
    if kty == "oct":
        k = b64url_decode(jwk["k"], "jwk.k")
        if len(k) < 32:
            raise CheckError(f"HMAC key only {len(k)} octets")
        return k
    if kty == "RSA":
        n_raw, n = uint_from_b64(jwk["n"], "jwk.n")
        e_raw, e = uint_from_b64(jwk["e"], "jwk.e")
        if n_raw[0] == 0 or e_raw[0] == 0:
            raise CheckError("RSA n/e has a leading zero octet (RFC 7518 6.3.1)")
        if n.bit_length() < 2048:
            raise CheckError(f"RSA modulus only {n.bit_length()} bits")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if kty == "EC":
        x_raw, x = uint_from_b64(jwk["x"], "jwk.x")
        y_raw, y = uint_from_b64(jwk["y"], "jwk.y")
        if len(x_raw) != size or len(y_raw) != size:
            raise CheckError(
                f"{crv} coordinates must be {size} octets, got x={len(x_raw)} y={len(y_raw)}")
        # from_encoded_point checks the point is on the curve.
        return ec.EllipticCurvePublicKey.from_encoded_point(
            EC_CURVES[crv], b"\x04" + x_raw + y_raw)
    if kty == "OKP":
        x_raw = b64url_decode(jwk["x"], "jwk.x")
        if len(x_raw) != 32:
            raise CheckError(f"Ed25519 x must be 32 octets, got {len(x_raw)}")
        return ed25519.Ed25519PublicKey.from_public_bytes(x_raw)
    raise CheckError(f"unsupported kty {kty!r}")


def py_verify(alg, key, signing_input, sig):
    """True iff `cryptography` accepts sig over signing_input."""
    _, _, hname, size = ALGS[alg]
    try:
        if alg == "HS256":
            h = c_hmac.HMAC(key, hashes.SHA256())
            h.update(signing_input)
            h.verify(sig)  # constant-time compare, raises on mismatch
        elif alg == "RS256":
            key.verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg in ("ES256", "ES512"):
            if len(sig) != 2 * size:
                return False
            r = int.from_bytes(sig[:size], "big")
            s = int.from_bytes(sig[size:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(HASHES[hname]))
        elif alg == "EdDSA":
            key.verify(sig, signing_input)
        else:
            raise CheckError(f"unsupported alg {alg}")
    except InvalidSignature:
        return False
    return True


def openssl_verify(openssl, alg, key, signing_input, sig):
    """True iff the openssl CLI accepts sig over signing_input."""
    _, _, hname, size = ALGS[alg]
    with tempfile.TemporaryDirectory(prefix="jwt-edge-vectors-") as d:
        msg = os.path.join(d, "input")
        with open(msg, "wb") as f:
            f.write(signing_input)
        if alg == "HS256":
            out = subprocess.run(
                [openssl, "dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:" + key.hex(),
                 "-binary", msg],
                capture_output=True, check=True).stdout
            return hmac.compare_digest(out, sig)
        pub = os.path.join(d, "pub.pem")
        with open(pub, "wb") as f:
            f.write(key.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo))
        sigf = os.path.join(d, "sig")
        if alg in ("ES256", "ES512"):
            if len(sig) != 2 * size:
                return False
            der = encode_dss_signature(int.from_bytes(sig[:size], "big"),
                                       int.from_bytes(sig[size:], "big"))
            with open(sigf, "wb") as f:
                f.write(der)
        else:
            with open(sigf, "wb") as f:
                f.write(sig)
        if alg == "EdDSA":
            cmd = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin",
                   "-in", msg, "-sigfile", sigf]
        else:
            cmd = [openssl, "dgst", "-" + hname, "-verify", pub, "-signature", sigf, msg]
        res = subprocess.run(cmd, capture_output=True)
        out = (res.stdout + res.stderr).decode("utf-8", "replace")
        return res.returncode == 0 and (
            "Verified OK" in out or "Signature Verified Successfully" in out)


def check_vector(v, openssl, report):
    name = v["name"]
    alg = v["alg"]
    if alg not in ALGS:
        raise CheckError(f"unknown alg {alg!r}")
    jws = v["jws"]
    if jws != jws.strip() or any(c.isspace() for c in jws):
        raise CheckError("jws contains whitespace")
    parts = jws.split(".")
    if len(parts) != 3:
        raise CheckError(f"jws has {len(parts)} segments, want 3")
    header_raw = b64url_decode(parts[0], "jws header")
    payload_raw = b64url_decode(parts[1], "jws payload")
    sig = b64url_decode(parts[2], "jws signature")

    header = strict_json(header_raw, "protected header")
    if header.get("alg") != alg:
        raise CheckError(f"header alg {header.get('alg')!r} != vector alg {alg!r}")
    if "protected_header" in v and not same_json(header, v["protected_header"]):
        raise CheckError(f"decoded header {header!r} != protected_header {v['protected_header']!r}")
    report(name, "header", f"ok {header_raw!r}")

    if v["payload_is_json"]:
        claims = strict_json(payload_raw, "payload")
        if not same_json(claims, v["payload_claims"]):
            raise CheckError(f"decoded claims {claims!r} != payload_claims {v['payload_claims']!r}")
        report(name, "payload", f"ok JSON claims {json.dumps(claims, sort_keys=True)}")
    else:
        if "payload_claims" in v:
            raise CheckError("payload_is_json is false but payload_claims is present")
        if payload_raw != v["payload_text"].encode("utf-8"):
            raise CheckError(f"payload octets {payload_raw!r} != payload_text {v['payload_text']!r}")
        try:
            json.loads(payload_raw)
        except ValueError:
            pass
        else:
            raise CheckError("payload_is_json is false but the payload parses as JSON")
        report(name, "payload", f"ok non-JSON text {payload_raw.decode()!r}")

    key = load_public_key(alg, v["jwk"])
    signing_input = (parts[0] + "." + parts[1]).encode("ascii")

    if not py_verify(alg, key, signing_input, sig):
        raise CheckError("signature does NOT verify with the JWK (cryptography)")
    report(name, "signature", f"ok verified with cryptography ({len(sig)}-octet {alg} signature)")

    # Negative controls: the same checker must reject tampered data.
    bad_sig = bytearray(sig)
    bad_sig[len(bad_sig) // 2] ^= 0x01
    bad_input = bytearray(signing_input)
    bad_input[-1] ^= 0x01
    if py_verify(alg, key, signing_input, bytes(bad_sig)):
        raise CheckError("negative control: a bit-flipped signature still verified")
    if py_verify(alg, key, bytes(bad_input), sig):
        raise CheckError("negative control: a modified signing input still verified")
    report(name, "negative", "ok tampered signature and tampered input both rejected")

    if openssl:
        if not openssl_verify(openssl, alg, key, signing_input, sig):
            raise CheckError("signature does NOT verify with the openssl CLI")
        if openssl_verify(openssl, alg, key, signing_input, bytes(bad_sig)):
            raise CheckError("openssl negative control: a bit-flipped signature still verified")
        report(name, "openssl", "ok verified with openssl CLI; tampered signature rejected")

    if "thumbprint_sha256" in v:
        canonical, tp = rfc7638_thumbprint(v["jwk"])
        if tp != v["thumbprint_sha256"]:
            raise CheckError(f"thumbprint {tp} != published {v['thumbprint_sha256']}")
        report(name, "thumbprint", f"ok {tp} over {canonical}")


def check_thumbprint(t, report):
    if t.get("hash", "SHA-256") != "SHA-256":
        raise CheckError(f"unsupported hash {t['hash']!r}")
    canonical, tp = rfc7638_thumbprint(t["jwk"])
    if tp != t["thumbprint"]:
        raise CheckError(f"thumbprint {tp} != published {t['thumbprint']}")
    shown = canonical if len(canonical) < 100 else canonical[:60] + "..." + canonical[-12:]
    report(t["name"], "thumbprint", f"ok {tp} over {shown}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default=os.path.join(here, "rfc.json"))
    ap.add_argument("--no-openssl", action="store_true", help="skip the openssl CLI cross-check")
    ap.add_argument("--require-openssl", action="store_true",
                    help="fail if the openssl CLI is not available")
    args = ap.parse_args()

    openssl = None if args.no_openssl else shutil.which("openssl")
    if openssl:
        ver = subprocess.run([openssl, "version"], capture_output=True, text=True).stdout.strip()
        print(f"openssl cross-check: {ver}")
    elif args.require_openssl:
        print("FAIL: openssl CLI not found and --require-openssl given")
        return 1
    else:
        print("openssl cross-check: skipped")
    import cryptography
    print(f"cryptography {cryptography.__version__}, python {sys.version.split()[0]}")

    with open(args.file, "rb") as f:
        doc = strict_json(f.read(), args.file)

    failures = 0
    checks = 0

    def report(name, what, msg):
        nonlocal checks
        checks += 1
        print(f"PASS {name:<22} {what:<10} {msg}")

    names = [v["name"] for v in doc["vectors"]] + [t["name"] for t in doc.get("thumbprints", [])]
    if len(names) != len(set(names)):
        print("FAIL duplicate vector names")
        failures += 1

    for v in doc["vectors"]:
        try:
            for field in ("name", "section", "alg", "jwk", "jws", "payload_is_json", "notes"):
                if field not in v:
                    raise CheckError(f"missing field {field!r}")
            check_vector(v, openssl, report)
        except (CheckError, KeyError, ValueError, subprocess.CalledProcessError) as e:
            failures += 1
            print(f"FAIL {v.get('name', '?'):<22} {type(e).__name__}: {e}")
    for t in doc.get("thumbprints", []):
        try:
            check_thumbprint(t, report)
        except (CheckError, KeyError, ValueError) as e:
            failures += 1
            print(f"FAIL {t.get('name', '?'):<22} {type(e).__name__}: {e}")

    total = len(doc["vectors"]) + len(doc.get("thumbprints", []))
    if failures:
        print(f"FAILED: {failures} failure(s) across {total} vectors")
        return 1
    print(f"OK: {len(doc['vectors'])} JWS vectors and {len(doc.get('thumbprints', []))} "
          f"thumbprint vectors, {checks} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
