//! Route matching per request (issue 16): path hygiene, then the first matching rule of
//! a 100-rule table, then what the rule requires of verified claims — side by side with
//! no `routes` at all (the worker then neither normalises nor scans). The table is built
//! once, as the worker builds it once per isolate. A benchmark, not a test:
//! `cargo bench --bench routes`.

#[path = "common/route_table.rs"]
mod route_table;

use criterion::{criterion_group, criterion_main, Criterion};
use route_table::{claims, config, decide, hundred_rules, CASES};

fn bench(c: &mut Criterion) {
    let none = config(None).expect("configuration");
    let hundred = config(Some(hundred_rules())).expect("configuration");
    let claims = claims().expect("claims");
    let mut group = c.benchmark_group("route");
    for (name, with_rules, method, path) in CASES {
        let config = if with_rules { &hundred } else { &none };
        group.bench_function(name, |b| {
            b.iter(|| decide(config, method, std::hint::black_box(path), &claims))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
