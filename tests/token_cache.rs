//! The verified-token cache (issue 18, lever 5): a token the verifier accepted is
//! remembered by the SHA-256 of its exact text until `exp` plus the clock skew. A hit
//! skips the signature and nothing else: the time claims and the policy are checked
//! again at the new `now`. A token that differs in any byte never hits.
//!
//! Tokens: the jose fixture (`tests/fixtures/jose/tokens.json`, minted by jose's
//! `SignJWT`, see its `generator`) and HS256 tokens signed here for the time cases.

mod common;

use common::{
    claims, code, hs256, hs_header, hs_verifier, hs_verifier_with, jose_fixture, jose_verifier,
    jose_verifier_with, NOW,
};
use jwt_edge::{
    ClaimsPolicy, JwkSet, TokenCacheStats, TokenCacheUse, UntrustedToken, Verifier, VerifyOptions,
};
use serde_json::json;

fn traced(verifier: &Verifier, token: &str, now: i64) -> Result<TokenCacheUse, &'static str> {
    let untrusted = UntrustedToken::parse(token, 16_384).map_err(|e| e.code())?;
    verifier
        .verify_parsed_traced(untrusted, now)
        .map(|(_, used)| used)
        .map_err(|e| e.code())
}

fn off(options: &mut VerifyOptions) {
    options.token_cache_entries = 0;
}

#[test]
fn every_jose_case_decides_the_same_with_and_without_the_cache() {
    let fixture = jose_fixture();
    let now = fixture["now"].as_i64().unwrap();
    let cached = jose_verifier(&fixture);
    let plain = jose_verifier_with(&fixture, off);
    let cases = fixture["cases"].as_array().unwrap();
    let mut accepted = 0;
    for case in cases {
        let token = case["token"].as_str().unwrap();
        let name = case["name"].as_str().unwrap();
        let expected = code(plain.verify(token, now));
        assert_eq!(traced(&plain, token, now).err().unwrap_or("ok"), expected);
        // First sight, then again: the same answer both times.
        for round in ["first", "second"] {
            assert_eq!(code(cached.verify(token, now)), expected, "{name}, {round}");
        }
        if expected == "ok" {
            accepted += 1;
            assert_eq!(
                traced(&cached, token, now),
                Ok(TokenCacheUse::Hit),
                "{name}"
            );
        }
    }
    assert!(accepted >= 10, "the fixture has {accepted} valid tokens");
    let stats = cached.cache_stats();
    // Each valid token: one miss, then two hits (verify, traced). Refused: misses only.
    assert_eq!(stats.entries, accepted, "{stats:?}");
    assert_eq!(stats.hits, 2 * accepted as u64, "{stats:?}");
}

#[test]
fn a_hit_checks_the_time_claims_again() {
    let verifier = hs_verifier(ClaimsPolicy::default());
    let token = hs256(&hs_header(), &claims()); // iat = nbf = NOW − 10, exp = NOW + 300
    assert_eq!(traced(&verifier, &token, NOW), Ok(TokenCacheUse::Miss));
    assert_eq!(traced(&verifier, &token, NOW + 100), Ok(TokenCacheUse::Hit));
    // A clock that went back before `nbf` − skew: refused although remembered.
    assert_eq!(
        traced(&verifier, &token, NOW - 100),
        Err("token_not_yet_valid")
    );
    // Refused on a hit, the entry is gone: the next sight is a miss again.
    assert_eq!(traced(&verifier, &token, NOW), Ok(TokenCacheUse::Miss));
    // Within the skew after `exp`: still accepted (as without the cache).
    assert_eq!(
        traced(&verifier, &token, NOW + 300 + 59),
        Ok(TokenCacheUse::Hit)
    );
    // At `exp` + skew the entry is useless: a miss, and the full check refuses.
    assert_eq!(
        traced(&verifier, &token, NOW + 300 + 60),
        Err("token_expired")
    );
    assert_eq!(verifier.cache_stats().entries, 0);
}

#[test]
fn a_hit_checks_the_policy_of_this_verifier() {
    // The lifetime limit is measured from `now` too (exp − now): a hit re-checks it.
    let policy = ClaimsPolicy {
        max_lifetime: Some(3600),
        ..ClaimsPolicy::default()
    };
    let verifier = hs_verifier(policy);
    let mut long = claims();
    long["iat"] = json!(NOW);
    long["exp"] = json!(NOW + 3000);
    let token = hs256(&hs_header(), &long);
    assert_eq!(traced(&verifier, &token, NOW), Ok(TokenCacheUse::Miss));
    assert_eq!(traced(&verifier, &token, NOW + 10), Ok(TokenCacheUse::Hit));
    // Before `iat`, beyond the skew: `exp − now` is over the limit, and iat is in the future.
    assert!(traced(&verifier, &token, NOW - 1000).is_err());
}

#[test]
fn an_altered_token_never_finds_the_original() {
    let verifier = hs_verifier(ClaimsPolicy::default());
    let token = hs256(&hs_header(), &claims());
    assert_eq!(traced(&verifier, &token, NOW), Ok(TokenCacheUse::Miss));
    let before = verifier.cache_stats();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut forged = Vec::new();
    // Every character of the signature changed, one at a time.
    for (i, c) in signature.char_indices() {
        let other = if c == 'A' { 'B' } else { 'A' };
        forged.push(format!(
            "{input}.{}{other}{}",
            &signature[..i],
            &signature[i + 1..]
        ));
    }
    // The claims changed, the signature kept.
    let mut altered = claims();
    altered["sub"] = json!("admin");
    let other = hs256(&hs_header(), &altered);
    let (other_input, _) = other.rsplit_once('.').unwrap();
    forged.push(format!("{other_input}.{signature}"));
    // Trailing bytes and whitespace are other texts too (and refused by the parser).
    forged.push(format!("{token} "));
    forged.push(format!("{token}="));
    for f in &forged {
        assert!(
            traced(&verifier, f, NOW).is_err(),
            "an altered token was accepted"
        );
    }
    let after = verifier.cache_stats();
    assert_eq!(after.hits, before.hits, "an altered token hit the cache");
    assert_eq!(after.entries, 1);
    assert_eq!(traced(&verifier, &token, NOW), Ok(TokenCacheUse::Hit));
}

#[test]
fn off_without_exp_or_with_a_new_key_set() {
    let verifier = hs_verifier_with(ClaimsPolicy::default(), off);
    let token = hs256(&hs_header(), &claims());
    for _ in 0..3 {
        assert_eq!(traced(&verifier, &token, NOW), Ok(TokenCacheUse::Off));
    }
    assert_eq!(verifier.cache_stats(), TokenCacheStats::default());

    // A token without `exp` (allowed here) is never remembered.
    let verifier = hs_verifier(ClaimsPolicy {
        require_exp: false,
        ..ClaimsPolicy::default()
    });
    let mut forever = claims();
    forever.as_object_mut().unwrap().remove("exp");
    let token = hs256(&hs_header(), &forever);
    for _ in 0..3 {
        assert_eq!(traced(&verifier, &token, NOW), Ok(TokenCacheUse::Miss));
    }
    assert_eq!(verifier.cache_stats().entries, 0);

    // A new key set is a new verifier: what the old one remembered does not carry over.
    let old = hs_verifier(ClaimsPolicy::default());
    let token = hs256(&hs_header(), &claims());
    assert_eq!(traced(&old, &token, NOW), Ok(TokenCacheUse::Miss));
    assert_eq!(traced(&old, &token, NOW), Ok(TokenCacheUse::Hit));
    let rotated = Verifier::new(JwkSet::new(), old.options().clone()).expect("verifier");
    assert_eq!(traced(&rotated, &token, NOW), Err("no_matching_key"));
}

#[test]
fn bounded_by_its_capacity() {
    let verifier = hs_verifier_with(ClaimsPolicy::default(), |o| o.token_cache_entries = 16);
    let tokens: Vec<String> = (0..100)
        .map(|n| {
            let mut c = claims();
            c["jti"] = json!(format!("id-{n}"));
            hs256(&hs_header(), &c)
        })
        .collect();
    for token in &tokens {
        assert_eq!(traced(&verifier, token, NOW), Ok(TokenCacheUse::Miss));
        assert!(verifier.cache_stats().entries <= 16);
    }
    // The newest are remembered, the oldest were dropped.
    assert_eq!(traced(&verifier, &tokens[99], NOW), Ok(TokenCacheUse::Hit));
    assert_eq!(traced(&verifier, &tokens[0], NOW), Ok(TokenCacheUse::Miss));
}
