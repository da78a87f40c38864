//! The state tree cache on a mainnet-sized Electra state. Each figure is printed next to its
//! goal:
//!
//! - **Full hash**: [`StateTree::new`], best and median of [`HASH_RUNS`], against the time
//!   plain SHA-256 (`sha2::Sha256::digest`, one thread) takes for as many 64-byte inputs as the
//!   hash needs: the internal nodes actually hashed, counted field by field below (zero
//!   subtrees are not counted, they are precomputed). Goal: at most [`HASH_RATIO_GOAL`] times
//!   that, using both cores.
//! - **1,000 validator branches** from the hashed tree, each with its field branch: goal at
//!   most [`BRANCHES_GOAL`].
//! - **Update** after changing 1% of the balances (spread over the registry).
//! - **Peak RSS** (`VmHWM` of `/proc/self/status`, reset once the state is generated): the
//!   state plus the tree.
//!
//! The state is the one of `crates/beacon/benches/registry.rs` (`restake_beacon::testing`):
//! `RESTAKED_BENCH_VALIDATORS` validators (default 1,100,000, about mainnet's registry).
//!
//! Run with `scripts/bench-proofs.sh` or `cargo bench -p restake-eigenpod --bench tree`.
//! Not part of the test suite: timings belong in benchmarks, and nothing here asserts on them.

// A benchmark aborts on any setup failure, like a test.
#![allow(clippy::expect_used, missing_docs)]

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use restake_beacon::{
    containers::{BeaconState, BeaconStateElectra},
    testing::{mainnet_sized_state, mib, reset_peak_rss, status_bytes},
};
use restake_eigenpod::tree::StateTree;
use restake_types::{ExecutionAddress, ValidatorIndex};
use sha2::{Digest, Sha256};

const VALIDATORS_ENV: &str = "RESTAKED_BENCH_VALIDATORS";
const DEFAULT_VALIDATORS: usize = 1_100_000;
const HASH_RUNS: usize = 3;
const HASH_RATIO_GOAL: f64 = 1.5;
const BRANCHES: usize = 1_000;
const BRANCHES_GOAL: Duration = Duration::from_millis(50);
/// The registry benchmark's pod, so both benchmarks build the very same state.
const POD: ExecutionAddress = ExecutionAddress::new([0x5a; 20]);
const POD_VALIDATORS: usize = 3_000;
/// The state's fields, in container order, for the count of the nodes hashed.
const VALIDATORS_FIELD: usize = 11;
const BALANCES_FIELD: usize = 12;

/// The internal nodes hashed to merkleize `chunks` leaves into a tree of `depth` levels: every
/// node with at least one non-padding leaf below it (those over padding alone are
/// precomputed zero hashes).
fn tree_hashes(chunks: u64, depth: u32) -> u64 {
    let mut hashes = 0;
    let mut width = chunks;
    for _ in 0..depth {
        width = width.div_ceil(2);
        hashes += width;
    }
    hashes
}

/// The same for a list: its data tree, then the length mixed in.
fn list_hashes(chunks: u64, depth: u32) -> u64 {
    tree_hashes(chunks, depth) + 1
}

/// The 64-byte inputs hashing the bench state takes, field by field (`n` validators).
fn hashes_needed(state: &BeaconStateElectra) -> u64 {
    let n = state.validators.len() as u64;
    let count = |len: usize| len as u64;
    // Fixed-size containers: their fields' roots, then the container's tree.
    let fork = tree_hashes(3, 2);
    let header = tree_hashes(5, 3);
    let eth1_data = tree_hashes(3, 2);
    let checkpoint = tree_hashes(2, 1);
    // 512 pubkeys of two chunks each, their vector, the aggregate key, the container.
    let sync_committee = 512 + tree_hashes(512, 9) + 1 + tree_hashes(2, 1);
    // logs_bloom (8 chunks), extra_data (a one-chunk list), then 17 fields.
    let payload_header = tree_hashes(8, 3) + list_hashes(1, 0) + tree_hashes(17, 5);
    let historical_summary = tree_hashes(2, 1);
    // One for the pubkey, seven for the container's eight leaves.
    let validator = 8;
    let fields = [
        0,
        0,
        0,
        fork,
        header,
        tree_hashes(8192, 13),
        tree_hashes(8192, 13),
        list_hashes(count(state.historical_roots.len()), 24),
        eth1_data,
        count(state.eth1_data_votes.len()) * eth1_data
            + list_hashes(count(state.eth1_data_votes.len()), 11),
        0,
        n * validator + list_hashes(n, 40),
        list_hashes(n.div_ceil(4), 38),
        tree_hashes(65_536, 16),
        tree_hashes(8192 / 4, 11),
        list_hashes(n.div_ceil(32), 35),
        list_hashes(n.div_ceil(32), 35),
        0,
        checkpoint,
        checkpoint,
        checkpoint,
        list_hashes(n.div_ceil(4), 38),
        sync_committee,
        sync_committee,
        payload_header,
        0,
        0,
        count(state.historical_summaries.len()) * historical_summary
            + list_hashes(count(state.historical_summaries.len()), 24),
        0,
        0,
        0,
        0,
        0,
        0,
        // The three pending queues, empty: a zero data root with the length mixed in.
        list_hashes(0, 27),
        list_hashes(0, 27),
        list_hashes(0, 18),
    ];
    assert_eq!(fields.len(), 37, "one count per Electra field");
    assert!(fields[VALIDATORS_FIELD] > fields[BALANCES_FIELD]);
    fields.iter().sum::<u64>() + tree_hashes(37, 6)
}

/// The time plain SHA-256 takes for `count` 64-byte inputs, one after the other on one thread
/// (each input is the previous digest twice, so none can be skipped).
fn raw_sha256(count: u64) -> Duration {
    let started = Instant::now();
    let mut input = [0u8; 64];
    for _ in 0..count {
        let digest = Sha256::digest(input);
        input[..32].copy_from_slice(&digest);
        input[32..].copy_from_slice(&digest);
    }
    black_box(input);
    started.elapsed()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn main() {
    // Cargo passes `--bench`, and `--list` when listing; other arguments are ignored.
    if std::env::args().any(|a| a == "--list") {
        println!("tree: benchmark");
        return;
    }
    let count = match std::env::var(VALIDATORS_ENV) {
        Ok(value) => value
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("{VALIDATORS_ENV} must be a positive number, got {value:?}")),
        Err(_) => DEFAULT_VALIDATORS,
    };

    eprintln!("tree: generating an Electra state with {count} validators");
    let started = Instant::now();
    let electra = mainnet_sized_state(count, POD, POD_VALIDATORS);
    let needed = hashes_needed(&electra);
    let mut state = BeaconState::Electra(Box::new(electra));
    let rss_state = status_bytes("VmRSS:").unwrap_or(0);
    println!(
        "state: Electra, {count} validators, generated in {:.1} s (RSS {:.1} MiB)",
        started.elapsed().as_secs_f64(),
        mib(rss_state),
    );
    let resettable = reset_peak_rss();

    // Full hash.
    let mut times = Vec::with_capacity(HASH_RUNS);
    let mut tree = None;
    for _ in 0..HASH_RUNS {
        // The previous run's tree goes first, so the peak holds one tree.
        drop(tree.take());
        let started = Instant::now();
        tree = Some(black_box(StateTree::new(black_box(&state))));
        times.push(started.elapsed());
    }
    let mut tree = tree.expect("at least one run");
    times.sort();
    let (best, median) = (times[0], times[HASH_RUNS / 2]);
    let raw = raw_sha256(needed);
    println!(
        "full hash: best {:.1} ms, median {:.1} ms of {HASH_RUNS} (2 threads)",
        ms(best),
        ms(median)
    );
    println!(
        "raw SHA-256 of the {needed} 64-byte inputs it needs: {:.1} ms (1 thread, {:.0} ns each)",
        ms(raw),
        raw.as_secs_f64() * 1e9 / needed as f64
    );
    println!(
        "full hash / raw SHA-256 = {:.1} ms / {:.1} ms = {:.3} (goal <= {HASH_RATIO_GOAL})",
        ms(median),
        ms(raw),
        median.as_secs_f64() / raw.as_secs_f64()
    );
    // Not timed: a correctness check against the tree_hash crate.
    assert_eq!(
        tree.root(),
        state.hash_tree_root(),
        "the tree's root is the state's"
    );

    // Validator branches, through the registry and then the fields.
    let stride = (count / BRANCHES).max(1);
    let started = Instant::now();
    let mut nodes = 0;
    for k in 0..BRANCHES {
        let index = ValidatorIndex(((k * stride) % count) as u64);
        let mut branch = tree.validator_branch(index).expect("in the registry");
        branch.extend(tree.field_branch(VALIDATORS_FIELD).expect("a field"));
        nodes += black_box(branch).len();
    }
    let branches = started.elapsed();
    println!(
        "{BRANCHES} validator branches ({} nodes each): {:.3} ms; / goal {} ms = {:.4} (goal <= 1)",
        nodes / BRANCHES,
        ms(branches),
        BRANCHES_GOAL.as_millis(),
        branches.as_secs_f64() / BRANCHES_GOAL.as_secs_f64()
    );

    // 1% of the balances change, spread over the registry.
    let changed = (count / 100).max(1);
    if let BeaconState::Electra(s) = &mut state {
        let step = count / changed;
        for k in 0..changed {
            if let Some(balance) = s.balances.get_mut(k * step) {
                *balance += 1_000 + k as u64;
            }
        }
    }
    let started = Instant::now();
    tree.update(&state);
    let update = started.elapsed();
    assert_eq!(
        tree.root(),
        state.hash_tree_root(),
        "the updated root is the state's"
    );
    println!(
        "update after changing {changed} balances (1%): {:.1} ms = {:.3} x the full hash",
        ms(update),
        update.as_secs_f64() / median.as_secs_f64()
    );

    match status_bytes("VmHWM:") {
        Some(peak) => println!(
            "peak RSS: {:.1} MiB (state alone {:.1} MiB, so {:.1} MiB for the tree and hashing){}",
            mib(peak),
            mib(rss_state),
            mib(peak.saturating_sub(rss_state)),
            if resettable {
                ""
            } else {
                "; peak not resettable: includes generating the state"
            }
        ),
        None => println!("peak RSS: unavailable (no /proc/self/status)"),
    }
}
