//! Route matching cost per request, as a plain timing loop that runs natively and as
//! WebAssembly (the worker runs the core as wasm): path hygiene, the first matching rule
//! of a 100-rule table, the rule's scope and claim checks — against no `routes`.
//!
//! Native: `cargo run --release --example route_cost`
//! wasm:   `cargo build --release --example route_cost --target wasm32-wasip1 &&
//!          node bench/route-cost-wasm.mjs` (Node's WASI runs the same loop)
//!
//! Prints one line per case: the median over 15 rounds of ns per request.

#[path = "../benches/common/route_table.rs"]
mod route_table;

use std::time::Instant;

use route_table::{claims, config, decide, hundred_rules, CASES};

const ROUNDS: usize = 15;
const PER_ROUND: u32 = 20_000;

fn main() {
    let (Some(none), Some(hundred), Some(claims)) =
        (config(None), config(Some(hundred_rules())), claims())
    else {
        eprintln!("configuration refused");
        std::process::exit(1);
    };
    for (name, with_rules, method, path) in CASES {
        let config = if with_rules { &hundred } else { &none };
        let mut rounds = Vec::with_capacity(ROUNDS);
        let mut kept = 0u32;
        for _ in 0..ROUNDS {
            let t0 = Instant::now();
            for _ in 0..PER_ROUND {
                kept += u32::from(decide(config, method, std::hint::black_box(path), &claims));
            }
            rounds.push(t0.elapsed().as_nanos() as f64 / f64::from(PER_ROUND));
        }
        rounds.sort_by(f64::total_cmp);
        let median = rounds[ROUNDS / 2];
        println!("{name}\t{median:.0} ns\t(decisions kept: {kept})");
    }
}
