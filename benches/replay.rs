//! The isolate's replay memory at capacity: how many one-time tokens per second it
//! takes when it is full of unexpired entries (each new entry then pushes out the one
//! closest to its expiry), and its heap per entry. Before per-issuer memories, a full
//! memory refused every fresh token with 503, which capped an isolate at
//! capacity ÷ (lifetime + skew) tokens per second (100 000 ÷ 3660 s ≈ 27/s for 1-hour
//! tokens). A benchmark, not a test: `cargo bench --bench replay [-- CAPACITY]`.

use std::time::Instant;

use jwt_edge::internals::{replay_key, ReplayMemory, Reservation};
use jwt_edge::Error;

/// Resident memory of this process in bytes (Linux `/proc`), for the bytes per entry
/// (`unsafe_code` is forbidden, so no counting allocator).
fn resident() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

const NOW: i64 = 1_800_000_000;
/// 1-hour tokens with 60 s of skew.
const ENTRY_LIFE: i64 = 3600 + 60;

fn accept(memory: &mut ReplayMemory, key: &str, now: i64) {
    assert_eq!(memory.reserve(key, now), Ok(Reservation::Reserved));
    memory.settle(key, now + ENTRY_LIFE, now, &Ok(true));
}

fn main() {
    let capacity: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    // Keys as the worker makes them (hex SHA-256), prepared outside the timing.
    let total = capacity * 3;
    let keys: Vec<String> = (0..total)
        .map(|i| replay_key(Some("https://issuer.example"), &format!("jti-{i}")))
        .collect();

    let before = resident();
    let mut memory = ReplayMemory::new(capacity);
    let t0 = Instant::now();
    for (i, key) in keys.iter().take(capacity).enumerate() {
        // One token per millisecond of token time: none expires during the run.
        accept(&mut memory, key, NOW + (i / 1000) as i64);
    }
    let fill = t0.elapsed();
    let bytes = resident()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before));
    assert_eq!(memory.len(), capacity);

    // Full of unexpired entries: every further token is accepted (the store would be
    // asked) and pushes out the entry closest to its expiry.
    let t1 = Instant::now();
    for (i, key) in keys.iter().enumerate().skip(capacity) {
        accept(&mut memory, key, NOW + (i / 1000) as i64);
    }
    let full = t1.elapsed();
    let full_ops = (total - capacity) as f64;
    assert_eq!(memory.len(), capacity);

    // A replay of a remembered token: refused from memory.
    let last = &keys[total - 1];
    let t2 = Instant::now();
    let n = 1_000_000;
    for _ in 0..n {
        assert_eq!(memory.reserve(last, NOW + 1000), Err(Error::TokenReplayed));
    }
    let replay = t2.elapsed();

    println!("replay memory, capacity {capacity}, entries of 1-hour tokens (+60 s skew)");
    println!(
        "  fill to capacity:         {:>8.0} ns per token",
        fill.as_nanos() as f64 / capacity as f64
    );
    println!(
        "  at capacity (evicting):   {:>8.0} ns per token = {:.2} M tokens/s sustained, never refused",
        full.as_nanos() as f64 / full_ops,
        full_ops / full.as_secs_f64() / 1e6
    );
    println!(
        "  replay refused in memory: {:>8.0} ns",
        replay.as_nanos() as f64 / n as f64
    );
    if let Some(bytes) = bytes {
        println!(
            "  resident memory: +{bytes} B for {capacity} entries = {:.0} B per entry (64-bit)",
            bytes as f64 / capacity as f64
        );
    }
    println!(
        "  before (one 100 000-entry memory per isolate, full = 503): at most {:.1} tokens/s sustained",
        100_000.0 / ENTRY_LIFE as f64
    );
}
