//! Native cost of one verification per algorithm, with the key set parsed once and
//! cached in the `Verifier` (the edge worker's steady state), plus the cost of parsing a
//! JWKS. Keys come from a fixed seed and the clock is fixed. A benchmark, not a test:
//! `cargo bench --bench verify` (criterion; `-- ES256` filters).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jwt_edge::{
    Algorithm, ClaimsPolicy, Jwk, JwkSet, JwksOptions, SigningKey, Verifier, VerifyOptions,
};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Map, Value};

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://issuer.example";
const AUD: &str = "api://bench";

fn claims() -> Map<String, Value> {
    json!({"iss": ISS, "aud": AUD, "sub": "user-1", "iat": NOW - 10, "exp": NOW + 300,
           "jti": "3f1c6a0e-bench", "scope": "read write"})
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn options(alg: Algorithm) -> VerifyOptions {
    VerifyOptions {
        algorithms: vec![alg],
        claims: ClaimsPolicy {
            issuers: vec![ISS.into()],
            audiences: vec![AUD.into()],
            ..ClaimsPolicy::default()
        },
        // The same token every iteration: time the verification, not a cache hit.
        token_cache_entries: 0,
        ..VerifyOptions::default()
    }
}

/// A signed token, its verifier (keys imported once) and the JWKS text.
fn setup(alg: Algorithm, rng: &mut ChaCha20Rng) -> (String, Verifier, String) {
    let key = SigningKey::generate(alg, 2048, None, rng).expect("key");
    let token = key.sign(None, &Map::new(), &claims()).expect("token");
    let mut keys = JwkSet::new();
    let jwks = if alg.is_symmetric() {
        let k = key.private_jwk()["k"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let secret =
            <base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(&k).expect("secret");
        keys.push(Jwk::hmac_secret(key.kid.clone(), secret, Some(alg)).expect("oct"));
        String::new()
    } else {
        let text = json!({"keys": [Value::Object(key.public_jwk().expect("public"))]}).to_string();
        keys = JwkSet::parse(text.as_bytes(), &JwksOptions::default()).expect("jwks");
        text
    };
    let verifier = Verifier::new(keys, options(alg)).expect("verifier");
    verifier.verify(&token, NOW).expect("the token verifies");
    (token, verifier, jwks)
}

const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::Hs256,
    Algorithm::Rs256,
    Algorithm::Ps256,
    Algorithm::Es256,
    Algorithm::Es384,
    Algorithm::Es512,
    Algorithm::Es256k,
    Algorithm::EdDsa,
    Algorithm::Rs512,
];

fn verify(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let mut group = c.benchmark_group("verify (cached keys)");
    group.throughput(Throughput::Elements(1));
    let mut parse = Vec::new();
    for alg in ALGORITHMS {
        let (token, verifier, jwks) = setup(alg, &mut rng);
        group.bench_function(BenchmarkId::from_parameter(alg.name()), |b| {
            b.iter(|| verifier.verify(std::hint::black_box(&token), NOW))
        });
        if !jwks.is_empty() {
            parse.push((alg, jwks));
        }
    }
    group.finish();
    let mut group = c.benchmark_group("jwks parse (one key)");
    for (alg, jwks) in parse {
        group.bench_function(BenchmarkId::from_parameter(alg.name()), |b| {
            b.iter(|| {
                JwkSet::parse(
                    std::hint::black_box(jwks.as_bytes()),
                    &JwksOptions::default(),
                )
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2));
    targets = verify
}
criterion_main!(benches);
