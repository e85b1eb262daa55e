#!/usr/bin/env python3
"""Removes one check of the core at a time and confirms the tests notice.

Each mutation replaces an exact snippet of src/ (it must occur exactly once), runs
`cargo test --locked -q` and expects a failure. The tree is restored after every
mutation, also on Ctrl-C. Usage: python3 scripts/mutations.py [NAME_SUBSTRING]
Takes about 20 s per mutation on 2 cores.
"""
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

# (name, file, original, mutated)
MUTATIONS = [
    ("hardening: aud count cap", "src/claims.rs", "Some(Value::Array(items)) if items.len() <= max_audiences =>",
     "Some(Value::Array(items)) =>"),
    ("hardening: jti length cap", "src/replay.rs", "if jwt_id.is_empty() || jwt_id.len() > MAX_JTI_BYTES {",
     "if jwt_id.is_empty() {"),
    ("hardening: jwks key count cap", "src/jwks.rs", "if entries.len() > options.max_keys {", "if false {"),
    ("hardening: complete key change", "src/cache.rs",
     "!before.is_empty() && key_thumbprints(&self.jwks).is_disjoint(&before)", "false"),
    ("hardening: failure cooldown", "src/cache.rs",
     ".is_none_or(|at| at > now || now.saturating_sub(at) >= cooldown)", ".is_none_or(|_| true)"),
    # The key-source state machine (src/keysource.rs; tests/keysource.rs). Not listed: the
    # check that validators go back only to the URI that gave them — every held set is
    # this URI's (a stored snapshot of another URI is refused first, which is listed).
    ("key source: an HMAC token's kid never fetches", "src/keysource.rs",
     "may_refetch_for_kid: algorithm.is_some_and(|a| !a.is_symmetric()),", "may_refetch_for_kid: algorithm.is_some(),"),
    ("key source: a fetched set is checked as fetched", "src/keysource.rs",
     "let set = JwkSet::parse_fetched(snapshot.jwks.as_bytes(), &self.jwks)?;",
     "let set = JwkSet::parse(snapshot.jwks.as_bytes(), &self.jwks)?;"),
    ("key source: one fetch in flight", "src/keysource.rs",
     "        if self.in_flight {\n            return Step::Wait;", "        if false {\n            return Step::Wait;"),
    ("key source: stale served within the failure cooldown", "src/keysource.rs",
     "Some(Freshness::Stale) if lookup.fetched || !may_fetch =>", "Some(Freshness::Stale) if lookup.fetched =>"),
    ("key source: unknown kid cooldown", "src/keysource.rs",
     "                && self.cooldown.on_unknown(kid, &self.policy, lookup.now) == UnknownKid::Refetch\n", "\n"),
    ("key source: one fetch per token", "src/keysource.rs",
     "None | Some(Freshness::Expired) if lookup.fetched =>", "None | Some(Freshness::Expired) if false =>"),
    ("key source: If-Modified-Since sent", "src/keysource.rs",
     "if_modified_since: h.snapshot.last_modified.clone(),", "if_modified_since: None,"),
    ("key source: an expired stored snapshot is ignored", "src/keysource.rs",
     "if snapshot.freshness(&self.policy, lookup.now) == Freshness::Expired {", "if false {"),
    ("hardening: binary inversion reduces", "src/ec/field.rs", "            sub_mod(&mut x1, &x2, m);",
     "            sub_assign(&mut x1, &x2);"),
    ("token size cap", "src/token.rs", "if token.len() > max_bytes {", "if false {"),
    ("exactly three segments", "src/token.rs", "Some(signature_b64), None)", "Some(signature_b64), _)"),
    ("strict base64url", "src/encoding.rs",
     "Base64UrlUnpadded::decode_vec(text).map_err(|_| Malformed::Base64)",
     "Base64UrlUnpadded::decode_vec(text.trim_end_matches('=')).map_err(|_| Malformed::Base64)"),
    ("duplicate members", "src/encoding.rs", "if map.contains_key(&key) {", "if false {"),
    ("json depth cap", "src/encoding.rs", "if depth > self.max_depth {", "if false {"),
    ("alg must be a string", "src/token.rs", "let algorithm = string(\"alg\")?.ok_or(bad(\"alg\"))?;",
     "let algorithm = string(\"alg\").ok().flatten().unwrap_or_default();"),
    ("crit refused", "src/token.rs", "            return Err(Error::CritUnsupported);\n", ""),
    ("b64 false refused", "src/token.rs", "Some(Value::Bool(false)) => return Err(Error::B64Unsupported),",
     "Some(Value::Bool(false)) => {}"),
    ("kid length cap", "src/token.rs", "if key_id.as_ref().is_some_and(|k| k.len() > MAX_KID_BYTES) {", "if false {"),
    ("private members refuse the set", "src/jwks.rs", "if leaks_private {", "if false {"),
    ("deploy check: a key name in [vars] refused", "src/deploy_check.rs",
     "if let Some((field, config_environment)) = named.get(binding) {",
     "if let Some((field, config_environment)) = named.get(binding).filter(|_| false) {"),
    ("deploy check: every environment's [vars]", "src/deploy_check.rs",
     'out.push((format!("env.{name}"), vars));', "let _ = (name, vars);"),
    ("deploy check: hmac_secrets values are key names", "src/deploy_check.rs",
     '                    push(name, "issuers.hmac_secrets");\n', ""),
    ("deploy check: assertion.key_secret is a key name", "src/deploy_check.rs",
     '        push(name, "assertion.key_secret");\n', ""),
    ("key sets: a fetched set needs a usable key", "src/jwks.rs", "if set.keys.is_empty() {", "if false {"),
    ("key sets: a published set never holds k", "src/jwks.rs", '"qi", "oth", "k"];', '"qi", "oth", "oth"];'),
    ("key sets: stored snapshot for this uri", "src/cache.rs", "snapshot.jwks_uri.as_deref() != Some(jwks_uri) || ", ""),
    ("key sets: stored snapshot not from the future", "src/cache.rs", " || snapshot.fetched_at > now {", " {"),
    ("key sets: stored max_age clamped", "src/cache.rs",
     "snapshot.max_age = snapshot.max_age.clamp(\n            policy.min_max_age,\n            policy.max_max_age.max(policy.min_max_age),",
     "snapshot.max_age = snapshot.max_age.clamp(\n            policy.min_max_age,\n            u64::MAX,"),
    ("key sets: snapshot key binds the uri", "src/cache.rs", "for part in [issuer.as_bytes(), jwks_uri.as_bytes()] {", "for part in [issuer.as_bytes()] {"),
    # Not listed: the explicit userinfo check in src/uri.rs. Without it, `@` is still
    # refused, because it is neither a reg-name nor a port character. The table in
    # tests/edge_config.rs covers both.
    ("key sets: plain http only to loopback", "src/uri.rs", "allow_http_loopback && is_loopback(host)", "allow_http_loopback"),
    ("oct only when allowed", "src/jwk.rs", "Some(\"oct\") if !rules.allow_oct =>", "Some(\"oct\") if false =>"),
    ("rsa minimum size", "src/rsa_public.rs", "if bits < min_bits {", "if false {"),
    ("ed25519 weak keys", "src/jwk.rs", "if key.is_weak() {", "if false {"),
    ("key_ops duplicates", "src/jwk.rs", "if ops.iter().any(|o| o == op) {", "if false {"),
    ("key use must be sig", "src/jwk.rs", "if self.key_use.as_deref().is_some_and(|u| u != \"sig\") {", "if false {"),
    ("key_ops must include verify", "src/jwk.rs", "if !ops.iter().any(|op| op == \"verify\") {", "if false {"),
    ("key alg must equal", "src/jwk.rs", "if self.alg.as_deref().is_some_and(|a| a != alg.name()) {", "if false {"),
    ("hmac secret length per alg", "src/jwk.rs", "KeyMaterial::Oct(secret) => secret.len() >= alg.min_secret_len(),",
     "KeyMaterial::Oct(_) => true,"),
    ("configured secret minimum", "src/jwk.rs", "        if secret.len() < 32 {\n            return Err(KeyRejection::WeakKey);\n        }\n        if alg",
     "        if alg"),
    ("kid exact, no fallback", "src/select.rs", ".filter(|k| k.kid_match() == KidMatch::Any && k.fits(alg))",
     ".filter(|k| k.fits(alg))"),
    ("keys named by the kid alone", "src/select.rs",
     "let fitting: Vec<&Jwk> = named.into_iter().filter(|k| k.fits(alg)).collect();",
     "let fitting: Vec<&Jwk> = named.into_iter().chain(keys.iter().filter(|k| k.kid_match() == KidMatch::Any)).filter(|k| k.fits(alg)).collect();"),
    ("unnamed secrets take any kid", "src/jwk.rs", "        key.kid_match = KidMatch::Any;\n", ""),
    ("placeholder secrets refused", "src/secret.rs", "    if looks_typed(text) {", "    if false {"),
    ("candidate cap", "src/select.rs", "found.is_empty() || found.len() > max_candidates", "found.is_empty()"),
    ("allow-list", "src/verify.rs", "if !self.algorithms.contains(&algorithm) {", "if false {"),
    ("signature length before keys", "src/verify.rs",
     "if !algorithm.signature_len_possible(untrusted.signature().len()) {", "if false {"),
    ("proxy: header names folded", "src/forward.rs", "b'_' => '-',", "b'_' => '_',"),
    ("proxy: claim values with a comma withheld", "src/forward.rs", "(0x20..=0x7e).contains(&b) && b != b','",
     "(0x20..=0x7e).contains(&b)"),
    ("proxy: preflight without a body", "src/forward.rs",
     'method == "OPTIONS" && has_origin && has_request_method && !has_body',
     'method == "OPTIONS" && has_request_method'),
    ("ecdsa exact length", "src/signature.rs", "if signature.len() != len.get() {", "if false {"),
    ("exp required", "src/claims.rs", "if self.require_exp && claims.expires_at.is_none() {", "if false {"),
    ("exp == now expired", "src/claims.rs", "if now.saturating_sub(skew) >= exp {", "if now.saturating_sub(skew) > exp {"),
    ("nbf", "src/claims.rs", "if nbf > now.saturating_add(skew) {", "if false {"),
    ("iat in future", "src/claims.rs", "if iat > now.saturating_add(skew) {", "if false {"),
    ("lifetime from iat", "src/claims.rs", ".is_some_and(|iat| exp.saturating_sub(iat) > max);", ".is_some_and(|_| false);"),
    ("lifetime from now", "src/claims.rs", "let from_now = exp.saturating_sub(now) > max.saturating_add(skew);", "let from_now = false;"),
    ("issuer", "src/claims.rs", "return Err(Error::IssuerMismatch);", "{}"),
    ("audience", "src/claims.rs", "return Err(Error::AudienceMismatch);", "{}"),
    ("subject", "src/claims.rs", "if self.subject.is_some() && claims.subject != self.subject {", "if false {"),
    ("typ", "src/claims.rs", "return Err(Error::TypeMismatch);", "{}"),
    ("required claims", "src/claims.rs", "if claims.all.get(name).is_none_or(Value::is_null) {", "if false {"),
    ("numeric dates are numbers", "src/claims.rs", "let number = value.as_number().ok_or(invalid.clone())?;",
     "let Some(number) = value.as_number() else { return Ok(None) };"),
    ("numeric date range", "src/claims.rs", "if !(0..=MAX_NUMERIC_DATE).contains(&seconds) {", "if false {"),
    ("jti required for replay", "src/replay.rs", "let jwt_id = claims.jwt_id.as_deref().ok_or(Error::ClaimMissing(\"jti\"))?;",
     "let jwt_id = claims.jwt_id.as_deref().unwrap_or(\"missing\");"),
    ("replay refused", "src/replay_memory.rs", "if self.until.contains_key(&slot) {\n            return Ok(false);",
     "if self.until.contains_key(&slot) {\n            return Ok(true);"),
    ("replay memory refuses a remembered key", "src/replay_memory.rs",
     "if self.until.contains_key(&slot) || self.pending.contains(&slot) {", "if self.pending.contains(&slot) {"),
    ("replay memory refuses a pending key", "src/replay_memory.rs",
     "if self.until.contains_key(&slot) || self.pending.contains(&slot) {", "if self.until.contains_key(&slot) {"),
    ("replay memory forgets a store failure", "src/replay_memory.rs", "if answer.is_ok() {", "if true {"),
    ("replay pre-filter refuses what it has", "src/replay.rs", "if prefilter.seen(&entry.key).await? == Lookup::Seen {",
     "if prefilter.seen(&entry.key).await? == Lookup::Unknown {"),
    ("replay pre-filter records only what the authority accepted", "src/replay.rs",
     "        self.authority\n            .insert_if_absent(&entry.key, entry.expires_at, now)\n            .await\n",
     "        if let Some(p) = self.prefilter {\n            let _ = p.record(&entry.key, entry.expires_at, now).await;\n        }\n"
     "        self.authority\n            .insert_if_absent(&entry.key, entry.expires_at, now)\n            .await\n"),
    ("replay best effort accepts an unknown read", "src/replay.rs", "if self.0.seen(key).await? == Lookup::Seen {",
     "if self.0.seen(key).await? != Lookup::Unseen {"),
    ("replay pre-filter only when configured", "src/replay.rs", ".with_prefilter(kv_prefilter.then_some(self.log))",
     ".with_prefilter(Some(self.log))"),
    ("replay entry until exp + skew", "src/replay.rs", "exp.saturating_add(skew)", "exp"),
    ("403 for audience", "src/error.rs", "Error::AudienceMismatch => H::new(403, Some(\"insufficient_scope\")),", ""),
    ("400 for malformed request", "src/error.rs", "Error::RequestMalformed(_) => H::new(400, Some(\"invalid_request\")),", ""),
    ("assertion method must match", "src/assertion.rs", "if method != request.method {", "if false {"),
    ("assertion path must match", "src/assertion.rs", "if path != request.path {", "if false {"),
    ("assertion typ required", "src/assertion.rs", "typ: Some(ASSERTION_TYP.into()),", "typ: None,"),
    ("assertion algorithm from the key", "src/assertion.rs", "algorithms: vec![algorithm],",
     "algorithms: vec![algorithm, Algorithm::Hs256],"),
    ("assertion max age", "src/assertion.rs", "max_lifetime: Some(policy.max_age),", "max_lifetime: None,"),
    ("assertion claim subset", "src/assertion.rs", "let claims = match &self.config.claims {",
     "let claims = match &None::<Vec<String>> {"),
    ("rsa signature below n", "src/rsa_public.rs", "if !less_than(&sig, &self.n) {\n            return None;", "if false {\n            return None;"),
    ("rsa exact signature length", "src/rsa_public.rs", "if signature.len() != k {", "if signature.len() > k {"),
    ("rsa even or tiny exponent", "src/rsa_public.rs", "|| e < 3 || e % 2 == 0 ||", "|| e < 1 ||"),
    ("rsa even modulus", "src/rsa_public.rs", "if n.last().is_none_or(|b| b & 1 == 0) ||", "if false ||"),
    ("pss trailer 0xbc", "src/rsa_emsa.rs", "|| em.last() != Some(&0xbc)", ""),
    ("pss zero padding", "src/rsa_emsa.rs", "db[..ps_len].iter().any(|b| *b != 0) || ", ""),
    ("pss separator 0x01", "src/rsa_emsa.rs", " || db[ps_len] != 0x01", ""),
    ("es256 r and s in range", "src/ec/ecdsa.rs",
     "if *bytes >= C::Scalar::MODULUS || bytes.as_ref().iter().all(|b| *b == 0) {", "if false {"),
    ("es256 key on the curve", "src/ec/ecdsa.rs", "if !y.square().equals(&rhs) {", "if false {"),
    ("es256 mixed add doubles equal points", "src/ec/point.rs", "            return if r_half.is_zero() {\n                self.double()\n            } else {\n                Point::infinity()\n            };\n        }\n        let hh", "            return Point::infinity();\n        }\n        let hh"),
    # Not listed: coordinates below p (fiat-crypto's precondition; without the check, the
    # unreduced input fails the curve equation anyway, tests/ecdsa_verify.rs "x + p").
    ("es256 r + n branch", "src/ec/ecdsa.rs", "Some(rn) => acc.x.equals(&rn.mul(&z2)),", "Some(_) => false,"),
    ("es256 add doubles equal points", "src/ec/point.rs", "// Same x: the same point (double it) or its negation (infinity).\n            return if r_half.is_zero() {", "// Same x: the same point (double it) or its negation (infinity).\n            return if false {"),
    # Not listed: reducing the hash mod n (a hash ≥ n needs about 2^32 tries to find).
    # Not listed: the PKCS#1 minimum-padding check (unreachable with keys of 2048 bits or
    # more) and the PSS extra-octet check (needs a signature whose value lies in
    # [2^(k·8−8), n), which only the key's owner can make).
]


def main() -> int:
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    survived = []
    for name, file, original, mutated in MUTATIONS:
        if only and only not in name:
            continue
        path = ROOT / file
        text = path.read_text()
        if text.count(original) != 1:
            print(f"STALE  {name}: snippet found {text.count(original)} times in {file}")
            survived.append(name)
            continue
        path.write_text(text.replace(original, mutated))
        start = time.time()
        try:
            result = subprocess.run(
                ["cargo", "test", "--locked", "-q", "--no-fail-fast"],
                cwd=ROOT, capture_output=True, text=True, timeout=900,
            )
        finally:
            path.write_text(text)
        broken = "could not compile" in result.stderr
        caught = result.returncode != 0 and not broken
        verdict = "caught  " if caught else ("BROKEN  " if broken else "SURVIVED")
        print(f"{verdict} {name} ({time.time() - start:.0f}s)", flush=True)
        if not caught:
            survived.append(name)
    print(f"{len(survived)} survived: {survived}" if survived else "every mutation was caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
