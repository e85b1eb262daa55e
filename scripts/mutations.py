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
    ("hardening: aud count cap", "src/policy/claims.rs", "Some(Value::Array(items)) if items.len() <= max_audiences =>",
     "Some(Value::Array(items)) =>"),
    ("hardening: jti length cap", "src/decisions/replay.rs", "if jwt_id.is_empty() || jwt_id.len() > MAX_JTI_BYTES {",
     "if jwt_id.is_empty() {"),
    ("hardening: jwks key count cap", "src/keys/jwks.rs", "if entries.len() > options.max_keys {", "if false {"),
    ("hardening: complete key change", "src/decisions/cache.rs",
     "!before.is_empty() && key_thumbprints(&self.jwks).is_disjoint(&before)", "false"),
    ("hardening: failure cooldown", "src/decisions/cache.rs",
     ".is_none_or(|at| at > now || now.saturating_sub(at) >= cooldown)", ".is_none_or(|_| true)"),
    # The key-source state machine (src/decisions/keysource.rs; tests/keysource.rs). Not listed: the
    # check that validators go back only to the URI that gave them — every held set is
    # this URI's (a stored snapshot of another URI is refused first, which is listed).
    ("key source: an HMAC token's kid never fetches", "src/decisions/keysource.rs",
     "may_refetch_for_kid: algorithm.is_some_and(|a| !a.is_symmetric()),", "may_refetch_for_kid: algorithm.is_some(),"),
    ("key source: a fetched set is checked as fetched", "src/decisions/keysource.rs",
     "let set = JwkSet::parse_fetched(snapshot.jwks.as_bytes(), &self.jwks)?;",
     "let set = JwkSet::parse(snapshot.jwks.as_bytes(), &self.jwks)?;"),
    ("key source: one fetch in flight", "src/decisions/keysource.rs",
     "        if self.in_flight {\n            return Step::Wait;", "        if false {\n            return Step::Wait;"),
    ("key source: stale served within the failure cooldown", "src/decisions/keysource.rs",
     "Some(Freshness::Stale) if lookup.fetched || !may_fetch =>", "Some(Freshness::Stale) if lookup.fetched =>"),
    ("key source: unknown kid cooldown", "src/decisions/keysource.rs",
     "                && self.cooldown.on_unknown(kid, &self.policy, lookup.now) == UnknownKid::Refetch\n", "\n"),
    ("key source: one fetch per token", "src/decisions/keysource.rs",
     "None | Some(Freshness::Expired) if lookup.fetched =>", "None | Some(Freshness::Expired) if false =>"),
    ("key source: If-Modified-Since sent", "src/decisions/keysource.rs",
     "if_modified_since: h.snapshot.last_modified.clone(),", "if_modified_since: None,"),
    ("key source: an expired stored snapshot is ignored", "src/decisions/keysource.rs",
     "if snapshot.freshness(&self.policy, lookup.now) == Freshness::Expired {", "if false {"),
    ("hardening: binary inversion reduces", "src/algorithms/ec/field.rs", "            sub_mod(&mut x1, &x2, m);",
     "            sub_assign(&mut x1, &x2);"),
    ("token size cap", "src/token/mod.rs", "if token.len() > max_bytes {", "if false {"),
    ("exactly three segments", "src/token/mod.rs", "Some(signature_b64), None)", "Some(signature_b64), _)"),
    ("strict base64url", "src/encoding.rs",
     "Base64UrlUnpadded::decode_vec(text).map_err(|_| Malformed::Base64)",
     "Base64UrlUnpadded::decode_vec(text.trim_end_matches('=')).map_err(|_| Malformed::Base64)"),
    ("duplicate members", "src/encoding.rs", "if map.contains_key(&key) {", "if false {"),
    ("json depth cap", "src/encoding.rs", "if depth > self.max_depth {", "if false {"),
    ("alg must be a string", "src/token/mod.rs", "let algorithm = string(\"alg\")?.ok_or(bad(\"alg\"))?;",
     "let algorithm = string(\"alg\").ok().flatten().unwrap_or_default();"),
    ("crit refused", "src/token/mod.rs", "            return Err(Error::CritUnsupported);\n", ""),
    ("b64 false refused", "src/token/mod.rs", "Some(Value::Bool(false)) => return Err(Error::B64Unsupported),",
     "Some(Value::Bool(false)) => {}"),
    ("kid length cap", "src/token/mod.rs", "if key_id.as_ref().is_some_and(|k| k.len() > MAX_KID_BYTES) {", "if false {"),
    ("private members refuse the set", "src/keys/jwks.rs", "if leaks_private {", "if false {"),
    ("deploy check: a key name in [vars] refused", "src/edge/deploy_check.rs",
     "if let Some((field, config_environment)) = named.get(binding) {",
     "if let Some((field, config_environment)) = named.get(binding).filter(|_| false) {"),
    ("deploy check: every environment's [vars]", "src/edge/deploy_check.rs",
     'out.push((format!("env.{name}"), vars));', "let _ = (name, vars);"),
    ("deploy check: hmac_secrets values are key names", "src/edge/deploy_check.rs",
     '                    push(name, "issuers.hmac_secrets");\n', ""),
    ("deploy check: assertion.key_secret is a key name", "src/edge/deploy_check.rs",
     '        push(name, "assertion.key_secret");\n', ""),
    ("key sets: a fetched set needs a usable key", "src/keys/jwks.rs", "if set.keys.is_empty() {", "if false {"),
    ("key sets: a published set never holds k", "src/keys/jwks.rs", '"qi", "oth", "k"];', '"qi", "oth", "oth"];'),
    ("key sets: stored snapshot for this uri", "src/decisions/cache.rs", "snapshot.jwks_uri.as_deref() != Some(jwks_uri) || ", ""),
    ("key sets: stored snapshot not from the future", "src/decisions/cache.rs", " || snapshot.fetched_at > now {", " {"),
    ("key sets: stored max_age clamped", "src/decisions/cache.rs",
     "snapshot.max_age = snapshot.max_age.clamp(\n            policy.min_max_age,\n            policy.max_max_age.max(policy.min_max_age),",
     "snapshot.max_age = snapshot.max_age.clamp(\n            policy.min_max_age,\n            u64::MAX,"),
    ("key sets: snapshot key binds the uri", "src/decisions/cache.rs", "for part in [issuer.as_bytes(), jwks_uri.as_bytes()] {", "for part in [issuer.as_bytes()] {"),
    # Not listed: the explicit userinfo check in src/keys/uri.rs. Without it, `@` is still
    # refused, because it is neither a reg-name nor a port character. The table in
    # tests/edge_config.rs covers both.
    ("key sets: plain http only to loopback", "src/keys/uri.rs", "allow_http_loopback && is_loopback(host)", "allow_http_loopback"),
    ("oct only when allowed", "src/keys/jwk.rs", "Some(\"oct\") if !rules.allow_oct =>", "Some(\"oct\") if false =>"),
    ("rsa minimum size", "src/algorithms/rsa_public.rs", "if bits < min_bits {", "if false {"),
    ("ed25519 weak keys", "src/keys/jwk.rs", "if key.is_weak() {", "if false {"),
    ("key_ops duplicates", "src/keys/jwk.rs", "if ops.iter().any(|o| o == op) {", "if false {"),
    ("key use must be sig", "src/keys/jwk.rs", "if self.key_use.as_deref().is_some_and(|u| u != \"sig\") {", "if false {"),
    ("key_ops must include verify", "src/keys/jwk.rs", "if !ops.iter().any(|op| op == \"verify\") {", "if false {"),
    ("key alg must equal", "src/keys/jwk.rs", "if self.alg.as_deref().is_some_and(|a| a != alg.name()) {", "if false {"),
    ("hmac secret length per alg", "src/keys/jwk.rs", "KeyMaterial::Oct(secret) => secret.len() >= alg.min_secret_len(),",
     "KeyMaterial::Oct(_) => true,"),
    ("configured secret minimum", "src/keys/jwk.rs", "        if secret.len() < 32 {\n            return Err(KeyRejection::WeakKey);\n        }\n        if alg",
     "        if alg"),
    ("kid exact, no fallback", "src/keys/select.rs", ".filter(|k| k.kid_match() == KidMatch::Any && k.fits(alg))",
     ".filter(|k| k.fits(alg))"),
    ("keys named by the kid alone", "src/keys/select.rs",
     "let fitting: Vec<&Jwk> = named.into_iter().filter(|k| k.fits(alg)).collect();",
     "let fitting: Vec<&Jwk> = named.into_iter().chain(keys.iter().filter(|k| k.kid_match() == KidMatch::Any)).filter(|k| k.fits(alg)).collect();"),
    ("unnamed secrets take any kid", "src/keys/jwk.rs", "        key.kid_match = KidMatch::Any;\n", ""),
    ("placeholder secrets refused", "src/keys/secret.rs", "    if looks_typed(text) {", "    if false {"),
    ("candidate cap", "src/keys/select.rs", "found.is_empty() || found.len() > max_candidates", "found.is_empty()"),
    # The verified-token cache (src/verify.rs, src/decisions/token_cache.rs; tests/token_cache.rs).
    ("token cache: a hit re-checks the claims", "src/verify.rs",
     ".and_then(|claims| policy.check(&claims, header, now).map(|()| claims));",
     ".and_then(|claims| Ok::<Claims, Error>(claims));"),
    ("token cache: an entry ends at exp + skew", "src/decisions/token_cache.rs",
     "Some(entry) if now < entry.until => Some(entry.by.clone()),", "Some(entry) => Some(entry.by.clone()),"),
    ("token cache: keyed by the whole token", "src/verify.rs",
     "let digest = token_digest(untrusted.text());", "let digest = token_digest(untrusted.signing_input());"),
    ("token cache: bounded", "src/decisions/token_cache.rs",
     "if !self.entries.contains_key(&digest) && self.entries.len() >= self.capacity {", "if false {"),
    ("token cache: a refused hit is forgotten", "src/verify.rs",
     "                    if let Ok(mut c) = cache.lock() {\n                        c.remove(&digest);\n                    }\n", ""),
    ("allow-list", "src/verify.rs", "if !self.algorithms.contains(&algorithm) {", "if false {"),
    ("signature length before keys", "src/verify.rs",
     "if !algorithm.signature_len_possible(untrusted.signature().len()) {", "if false {"),
    ("proxy: header names folded", "src/edge/forward.rs", "b'_' => '-',", "b'_' => '_',"),
    ("proxy: claim values with a comma withheld", "src/edge/forward.rs", "(0x20..=0x7e).contains(&b) && b != b','",
     "(0x20..=0x7e).contains(&b)"),
    ("proxy: preflight without a body", "src/edge/forward.rs",
     'method == "OPTIONS" && has_origin && has_request_method && !has_body',
     'method == "OPTIONS" && has_request_method'),
    ("ecdsa exact length", "src/algorithms/signature.rs", "if signature.len() != len.get() {", "if false {"),
    ("exp required", "src/policy/claims.rs", "if self.require_exp && claims.expires_at.is_none() {", "if false {"),
    ("exp == now expired", "src/policy/claims.rs", "if now.saturating_sub(skew) >= exp {", "if now.saturating_sub(skew) > exp {"),
    ("nbf", "src/policy/claims.rs", "if nbf > now.saturating_add(skew) {", "if false {"),
    ("iat in future", "src/policy/claims.rs", "if iat > now.saturating_add(skew) {", "if false {"),
    ("lifetime from iat", "src/policy/claims.rs", ".is_some_and(|iat| exp.saturating_sub(iat) > max);", ".is_some_and(|_| false);"),
    ("lifetime from now", "src/policy/claims.rs", "let from_now = exp.saturating_sub(now) > max.saturating_add(skew);", "let from_now = false;"),
    ("issuer", "src/policy/claims.rs", "return Err(Error::IssuerMismatch);", "{}"),
    ("audience", "src/policy/claims.rs", "return Err(Error::AudienceMismatch);", "{}"),
    ("subject", "src/policy/claims.rs", "if self.subject.is_some() && claims.subject != self.subject {", "if false {"),
    ("typ", "src/policy/claims.rs", "return Err(Error::TypeMismatch);", "{}"),
    ("required claims", "src/policy/claims.rs", "if claims.all.get(name).is_none_or(Value::is_null) {", "if false {"),
    ("numeric dates are numbers", "src/policy/claims.rs", "let number = value.as_number().ok_or(invalid.clone())?;",
     "let Some(number) = value.as_number() else { return Ok(None) };"),
    ("numeric date range", "src/policy/claims.rs", "if !(0..=MAX_NUMERIC_DATE).contains(&seconds) {", "if false {"),
    ("jti required for replay", "src/decisions/replay.rs", "let jwt_id = claims.jwt_id.as_deref().ok_or(Error::ClaimMissing(\"jti\"))?;",
     "let jwt_id = claims.jwt_id.as_deref().unwrap_or(\"missing\");"),
    ("replay refused", "src/decisions/replay_memory.rs", "if self.until.contains_key(&slot) {\n            return Ok(false);",
     "if self.until.contains_key(&slot) {\n            return Ok(true);"),
    ("replay memory refuses a remembered key", "src/decisions/replay_memory.rs",
     "if self.until.contains_key(&slot) || self.pending.contains(&slot) {", "if self.pending.contains(&slot) {"),
    ("replay memory refuses a pending key", "src/decisions/replay_memory.rs",
     "if self.until.contains_key(&slot) || self.pending.contains(&slot) {", "if self.until.contains_key(&slot) {"),
    ("replay memory forgets a store failure", "src/decisions/replay_memory.rs", "if answer.is_ok() {", "if true {"),
    ("replay pre-filter refuses what it has", "src/decisions/replay.rs", "if prefilter.seen(&entry.key).await? == Lookup::Seen {",
     "if prefilter.seen(&entry.key).await? == Lookup::Unknown {"),
    ("replay pre-filter records only what the authority accepted", "src/decisions/replay.rs",
     "        self.authority\n            .insert_if_absent(&entry.key, entry.expires_at, now)\n            .await\n",
     "        if let Some(p) = self.prefilter {\n            let _ = p.record(&entry.key, entry.expires_at, now).await;\n        }\n"
     "        self.authority\n            .insert_if_absent(&entry.key, entry.expires_at, now)\n            .await\n"),
    ("replay best effort accepts an unknown read", "src/decisions/replay.rs", "if self.0.seen(key).await? == Lookup::Seen {",
     "if self.0.seen(key).await? != Lookup::Unseen {"),
    ("replay pre-filter only when configured", "src/decisions/replay.rs", ".with_prefilter(kv_prefilter.then_some(self.log))",
     ".with_prefilter(Some(self.log))"),
    ("replay entry until exp + skew", "src/decisions/replay.rs", "exp.saturating_add(skew)", "exp"),
    ("403 for audience", "src/error.rs", "Error::AudienceMismatch | Error::InsufficientScope | Error::ClaimMismatch => {",
     "Error::InsufficientScope | Error::ClaimMismatch => {"),
    ("403 for scopes and claim rules", "src/error.rs", "Error::AudienceMismatch | Error::InsufficientScope | Error::ClaimMismatch => {",
     "Error::AudienceMismatch => {"),
    # Route rules (issue 16): src/routes/; unit tests there, tests/routes.rs; the worker's
    # side in tests/edge/routes.test.mjs (not run by this script).
    ("routes: encoded / and \\ refused", "src/routes/path.rs",
     "} else if decoded == b'/' || decoded == b'\\\\' || decoded < 0x20 || decoded == 0x7f {",
     "} else if decoded < 0x20 || decoded == 0x7f {"),
    ("routes: empty segment refused", "src/routes/path.rs", "            \"\" => return Err(malformed()),", "            \"\" => continue,"),
    ("routes: encoded dot segment refused", "src/routes/path.rs", "\".\" | \"..\" if escaped => return Err(malformed()),",
     "\".\" | \"..\" if false => return Err(malformed()),"),
    ("routes: ; refused", "src/routes/path.rs", "|| b == b'\\\\' || b == b';' {", "|| b == b'\\\\' {"),
    ("routes: unreserved escapes decoded", "src/routes/path.rs", "            if is_unreserved(decoded) {", "            if false {"),
    ("routes: trailing slash ignored in matching", "src/routes/pattern.rs",
     "    let body = body.strip_suffix('/').unwrap_or(body);\n    if body.is_empty() {", "    if body.is_empty() {"),
    ("routes: HEAD follows GET", "src/routes/mod.rs", "|| (m == \"GET\" && method.eq_ignore_ascii_case(\"HEAD\"))", ""),
    ("routes: methods compared without case", "src/routes/mod.rs", "m.eq_ignore_ascii_case(method)", "m == method"),
    ("routes: a covered rule is refused", "src/routes/mod.rs", "if rules.iter().any(|earlier| earlier.covers(&rule)) {", "if false {"),
    ("routes: every scope required", "src/routes/rule.rs", ".all(|s| held.contains(&s.as_str()))", ".any(|s| held.contains(&s.as_str()))"),
    ("routes: per-route issuers", "src/routes/mod.rs", ".is_none_or(|list| list.contains(&index))", ".is_none_or(|_| true)"),
    ("routes: shadow mode", "src/routes/mod.rs", "            Err(err) if !self.enforce => Outcome::Shadowed(err.code()),\n", ""),
    ("routes: optional lets only a missing token through", "src/routes/mod.rs",
     "Err(Error::TokenMissing) if self.auth == Auth::Optional => Outcome::Anonymous,",
     "Err(_) if self.auth == Auth::Optional => Outcome::Anonymous,"),
    ("routes: contains matches whole words", "src/routes/rule.rs", "words.split(' ').any(|w| w == word.as_str())",
     "words.contains(word.as_str())"),
    ("routes: scope attribute only on insufficient_scope", "src/error.rs",
     "if let (Error::InsufficientScope, Some(scope)) = (err, extra.scope) {", "if let (_, Some(scope)) = (err, extra.scope) {"),
    ("400 for malformed request", "src/error.rs", "Error::RequestMalformed(_) => H::new(400, Some(\"invalid_request\")),", ""),
    ("assertion method must match", "src/assertion.rs", "if method != request.method {", "if false {"),
    ("assertion path must match", "src/assertion.rs", "if path != request.path {", "if false {"),
    ("assertion typ required", "src/assertion.rs", "typ: Some(ASSERTION_TYP.into()),", "typ: None,"),
    ("assertion algorithm from the key", "src/assertion.rs", "algorithms: Some(vec![algorithm]),",
     "algorithms: None,"),
    ("assertion max age", "src/assertion.rs", "max_lifetime: Some(Some(policy.max_age)),", "max_lifetime: Some(None),"),
    # The one policy (src/policy/mod.rs; its unit tests and tests/differential).
    ("policy: gateway profile's 24 h lifetime", "src/policy/mod.rs", "Profile::Gateway => Some(86_400),",
     "Profile::Gateway => None,"),
    ("policy: an algorithm no key can verify is refused", "src/policy/mod.rs",
     "if list.is_empty() || unverifiable {", "if list.is_empty() {"),
    ("policy: an explicitly empty list is refused", "src/policy/mod.rs",
     "Some(items) if items.is_empty() || items.iter().any(String::is_empty) => {",
     "Some(items) if items.iter().any(String::is_empty) => {"),
    ("policy: default allow-list follows the keys", "src/policy/mod.rs",
     "                if keys.shared_secret {\n                    all.extend([Algorithm::Hs256",
     "                if true {\n                    all.extend([Algorithm::Hs256"),
    ("assertion claim subset", "src/assertion.rs", "let claims = match &self.config.claims {",
     "let claims = match &None::<Vec<String>> {"),
    ("rsa signature below n", "src/algorithms/rsa_public.rs", "if !less_than(&sig, &self.n) {\n            return None;", "if false {\n            return None;"),
    ("rsa exact signature length", "src/algorithms/rsa_public.rs", "if signature.len() != k {", "if signature.len() > k {"),
    ("rsa even or tiny exponent", "src/algorithms/rsa_public.rs", "|| e < 3 || e % 2 == 0 ||", "|| e < 1 ||"),
    ("rsa even modulus", "src/algorithms/rsa_public.rs", "if n.last().is_none_or(|b| b & 1 == 0) ||", "if false ||"),
    # The product-scanning Montgomery arithmetic (issue 18, lever 4), against a reference modpow
    # in src/algorithms/rsa_public.rs's tests and the `rsa` crate in tests/rsa_verify.rs.
    ("rsa montgomery final subtraction", "src/algorithms/rsa_public.rs", "if top || !less_than(out, &self.n) {", "if top {"),
    ("rsa column carry", "src/algorithms/rsa_public.rs", "self.lo = (self.lo >> 32) + self.hi;", "self.lo = self.hi;"),
    ("rsa squaring doubles cross products", "src/algorithms/rsa_public.rs", "self.lo += 2 * cross.lo;", "self.lo += cross.lo;"),
    ("rsa last multiplication by the plain base", "src/algorithms/rsa_public.rs", "if bit == 0 { last } else { base }", "base"),
    # Ed25519 from fixed-base tables (issue 18, lever 1 for EdDSA), against ed25519-dalek's
    # verify in src/algorithms/ed25519.rs's tests.
    ("ed25519 s below l", "src/algorithms/ed25519.rs",
     "let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s)) else {\n            return false;\n        };",
     "let s = Scalar::from_bytes_mod_order(s);"),
    ("ed25519 signed digit carry", "src/algorithms/ed25519.rs", "digits[i + 1] += carry;", "digits[i + 1] += 0;"),
    ("ed25519 negative digits subtract", "src/algorithms/ed25519.rs", "*acc -= entry;", "*acc += entry;"),
    ("ed25519 key bound into k", "src/algorithms/ed25519.rs", "hash.update(self.key.as_bytes());", ""),
    ("token cache sweeps again when the second changes", "src/decisions/token_cache.rs",
     "if self.swept_at != Some(now) {", "if self.swept_at.is_none() {"),
    # OIDC discovery (src/decisions/discovery.rs; tests/discovery.rs) and a moved jwks_uri
    # (src/decisions/keysource.rs), issue 19.
    ("discovery: the document's issuer must be exact", "src/decisions/discovery.rs",
     'if object.get("issuer").and_then(Value::as_str) != Some(issuer) {', 'if object.get("issuer").is_none() {'),
    ("discovery: the document's jwks_uri must be fetchable", "src/decisions/discovery.rs",
     "    if !jwks_uri_allowed(jwks_uri, allow_http_loopback) {\n        return Err(DiscoveryProblem::JwksUriRefused);",
     "    if false {\n        return Err(DiscoveryProblem::JwksUriRefused);"),
    ("discovery: a stored snapshot must be this issuer's", "src/decisions/discovery.rs",
     "        if snapshot.issuer != self.issuer\n            || !from_well_known", "        if !from_well_known"),
    ("discovery: a stored snapshot's jwks_uri is checked again", "src/decisions/discovery.rs",
     "            || !jwks_uri_allowed(&snapshot.jwks_uri, self.allow_http_loopback)\n", "\n"),
    ("discovery: RFC 8414 only after a 404", "src/decisions/discovery.rs",
     "let not_found = matches!(answer, Answer::Response { status: 404, .. });",
     "let not_found = !matches!(answer, Answer::Response { status: 200, .. });"),
    ("discovery: last good document within the failure cooldown", "src/decisions/discovery.rs",
     "Some(Freshness::Stale) if lookup.fetched || !may_fetch => {", "Some(Freshness::Stale) if lookup.fetched => {"),
    ("key source: a moved jwks_uri is fetched at once", "src/decisions/keysource.rs",
     "if h.snapshot.jwks_uri.as_deref() != Some(self.uri.as_str()) =>", "if false =>"),
    ("key source: a fetch is recorded under the URI it went to", "src/decisions/keysource.rs",
     "let uri = self.fetching.take().unwrap_or_else(|| self.uri.clone());", "let uri = self.uri.clone();"),
    # Token sources, claim headers, presets (issue 19).
    ("query token removed from the forwarded URL", "src/edge/forward.rs", "    if strip_credential {\n        for source", "    if false {\n        for source"),
    ("query token parameter sent twice", "src/token/extract.rs",
     '                return Err(Error::RequestMalformed("token parameter sent twice"));\n', ""),
    ("header prefix compared", "src/token/extract.rs", "            if !head.eq_ignore_ascii_case(prefix) {", "            if false {"),
    ("claim header size limit", "src/edge/forward.rs",
     "            Ok(Some(text)) if text.len() > MAX_CLAIM_HEADER_BYTES => {", "            Ok(Some(text)) if false => {"),
    ("claim header array members checked", "src/edge/forward.rs",
     "                members.push(claim_header_value(item)?.ok_or(UNSAFE)?);",
     "                members.push(item.as_str().map_or_else(|| item.to_string(), str::to_owned));"),
    ("preset requires an audience", "src/edge/presets.rs",
     'if audience.is_none() && !entry.contains_key("audiences") {', "if false {"),
    ("pss trailer 0xbc", "src/algorithms/rsa_emsa.rs", "|| em.last() != Some(&0xbc)", ""),
    ("pss zero padding", "src/algorithms/rsa_emsa.rs", "db[..ps_len].iter().any(|b| *b != 0) || ", ""),
    ("pss separator 0x01", "src/algorithms/rsa_emsa.rs", " || db[ps_len] != 0x01", ""),
    ("es256 r and s in range", "src/algorithms/ec/ecdsa.rs",
     "if *bytes >= C::Scalar::MODULUS || bytes.as_ref().iter().all(|b| *b == 0) {", "if false {"),
    ("es256 key on the curve", "src/algorithms/ec/ecdsa.rs", "if !y.square().equals(&rhs) {", "if false {"),
    ("es256 mixed add doubles equal points", "src/algorithms/ec/point.rs", "            return if r_half.is_zero() {\n                self.double()\n            } else {\n                Point::infinity()\n            };\n        }\n        let hh", "            return Point::infinity();\n        }\n        let hh"),
    # Not listed: coordinates below p (fiat-crypto's precondition; without the check, the
    # unreduced input fails the curve equation anyway, tests/ecdsa_verify.rs "x + p").
    ("es256 r + n branch", "src/algorithms/ec/ecdsa.rs", "Some(rn) => acc.x.equals(&rn.mul(&z2)),", "Some(_) => false,"),
    ("es256 add doubles equal points", "src/algorithms/ec/point.rs", "// Same x: the same point (double it) or its negation (infinity).\n            return if r_half.is_zero() {", "// Same x: the same point (double it) or its negation (infinity).\n            return if false {"),
    # Fixed-base multiples (issue 18): src/algorithms/ec/point.rs; caught by the ec unit
    # tests (windows5 recoding, k·P against double-and-add, both methods on signatures).
    ("es256 fixed-base negative digit", "src/algorithms/ec/point.rs",
     "Some(point) => acc.add_affine(point, digit < 0),", "Some(point) => acc.add_affine(point, false),"),
    ("es256 window carry", "src/algorithms/ec/point.rs",
     "            *digit = (i16::try_from(v).unwrap_or(0) - (1i16 << width)) as i8;\n            carry = 1;",
     "            *digit = (i16::try_from(v).unwrap_or(0) - (1i16 << width)) as i8;\n            carry = 0;"),
    ("es256 multiples after the second use", "src/algorithms/ec/ecdsa.rs",
     "if uses >= USES_BEFORE_MULTIPLES {", "if uses > u32::MAX {"),
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
