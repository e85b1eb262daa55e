//! Replay policy: `jti` required, one acceptance per (iss, jti) until exp + skew.

mod common;

use common::{claims, hs256, hs_header, hs_verifier, NOW};
use jwt_edge::{check_replay, replay_key, Claims, ClaimsPolicy, Error, MemoryReplayStore};
use pollster::block_on;
use serde_json::{json, Value};

fn verified(patch: Value) -> Claims {
    let mut c = claims();
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    hs_verifier(ClaimsPolicy::default())
        .verify(&hs256(&hs_header(), &c), NOW)
        .unwrap()
        .claims
}

#[test]
fn a_jti_is_accepted_once() {
    let store = MemoryReplayStore::new(100);
    let c = verified(json!({}));
    assert_eq!(block_on(check_replay(&store, &c, NOW, 60)), Ok(()));
    assert_eq!(
        block_on(check_replay(&store, &c, NOW, 60)),
        Err(Error::TokenReplayed)
    );
    assert_eq!(
        block_on(check_replay(&store, &c, NOW + 299, 60)),
        Err(Error::TokenReplayed)
    );
    // The same jti from another issuer is another token.
    let other = verified(json!({"iss": "https://other.example"}));
    assert_eq!(block_on(check_replay(&store, &other, NOW, 60)), Ok(()));
    assert_eq!(store.len(), 2);
}

#[test]
fn entries_live_until_exp_plus_skew() {
    let store = MemoryReplayStore::new(100);
    let c = verified(json!({"exp": NOW + 100}));
    block_on(check_replay(&store, &c, NOW, 60)).unwrap();
    assert_eq!(
        block_on(check_replay(&store, &c, NOW + 159, 60)),
        Err(Error::TokenReplayed)
    );
    // At exp + skew the entry has lapsed (and the claims check refuses the token anyway).
    assert_eq!(block_on(check_replay(&store, &c, NOW + 160, 60)), Ok(()));
}

#[test]
fn jti_and_exp_are_required() {
    let store = MemoryReplayStore::new(100);
    assert_eq!(
        block_on(check_replay(
            &store,
            &verified(json!({"jti": null})),
            NOW,
            60
        )),
        Err(Error::ClaimMissing("jti"))
    );
    assert_eq!(
        block_on(check_replay(&store, &verified(json!({"jti": ""})), NOW, 60)),
        Err(Error::ClaimInvalid("jti"))
    );
    assert_eq!(
        block_on(check_replay(
            &store,
            &verified(json!({"jti": "j".repeat(257)})),
            NOW,
            60
        )),
        Err(Error::ClaimInvalid("jti"))
    );
    let no_exp = ClaimsPolicy {
        require_exp: false,
        ..ClaimsPolicy::default()
    };
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    let c = hs_verifier(no_exp)
        .verify(&hs256(&hs_header(), &c), NOW)
        .unwrap()
        .claims;
    assert_eq!(
        block_on(check_replay(&store, &c, NOW, 60)),
        Err(Error::ClaimMissing("exp"))
    );
    assert!(store.is_empty());
}

#[test]
fn a_full_store_fails_closed_and_reclaims_expired_entries() {
    let store = MemoryReplayStore::new(2);
    for jti in ["a", "b"] {
        block_on(check_replay(
            &store,
            &verified(json!({"jti": jti, "exp": NOW + 10})),
            NOW,
            0,
        ))
        .unwrap();
    }
    let c = verified(json!({"jti": "c", "exp": NOW + 10}));
    assert_eq!(
        block_on(check_replay(&store, &c, NOW, 0)),
        Err(Error::ReplayUnavailable)
    );
    // Once the others expire, their room is reused.
    assert_eq!(block_on(check_replay(&store, &c, NOW + 11, 0)), Ok(()));
    assert_eq!(store.len(), 1);
}

#[test]
fn storage_keys_hide_the_values_and_do_not_collide() {
    let k = replay_key(Some("https://issuer.example"), "secret-jti");
    assert_eq!(k.len(), 64);
    assert!(!k.contains("secret") && !k.contains("issuer"));
    assert_ne!(replay_key(Some("ab"), "c"), replay_key(Some("a"), "bc"));
    assert_eq!(replay_key(None, "x"), replay_key(Some(""), "x"));
}
