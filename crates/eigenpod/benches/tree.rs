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
//! The state is the one of `crates/beacon/benches/registry.rs`, built the same way:
//! `RESTAKED_BENCH_VALIDATORS` validators (default 1,100,000, about mainnet's registry).
//!
//! Run with `scripts/bench-proofs.sh` or `cargo bench -p restake-eigenpod --bench tree`.
//! Not part of the test suite: timings belong in benchmarks, and nothing here asserts on them.

// A benchmark aborts on any setup failure, like a test.
#![allow(clippy::expect_used, missing_docs)]

use std::{
    fs,
    hint::black_box,
    time::{Duration, Instant},
};

use restake_beacon::containers::{
    BeaconState, BeaconStateElectra, Validator,
    spec::{
        BeaconBlockHeader, Checkpoint, Eth1Data, ExecutionPayloadHeader, Fork, HistoricalSummary,
        SyncCommittee,
    },
};
use restake_eigenpod::tree::StateTree;
use restake_types::ValidatorIndex;
use sha2::{Digest, Sha256};
use ssz_types::{BitVector, FixedVector, VariableList};

const VALIDATORS_ENV: &str = "RESTAKED_BENCH_VALIDATORS";
const DEFAULT_VALIDATORS: usize = 1_100_000;
const HASH_RUNS: usize = 3;
const HASH_RATIO_GOAL: f64 = 1.5;
const BRANCHES: usize = 1_000;
const BRANCHES_GOAL: Duration = Duration::from_millis(50);
const GWEI_PER_ETH: u64 = 1_000_000_000;
const FAR_FUTURE_EPOCH: u64 = u64::MAX;
/// The state's fields, in container order, for the count of the nodes hashed.
const VALIDATORS_FIELD: usize = 11;
const BALANCES_FIELD: usize = 12;

/// SplitMix64: a deterministic stream, so every run hashes the same state.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    fn root(&mut self) -> [u8; 32] {
        let mut root = [0; 32];
        self.fill(&mut root);
        root
    }
}

/// One validator of the mix of the registry benchmark: 30% `0x00`, 50% `0x01`, 20% `0x02`.
fn validator(rng: &mut SplitMix) -> (Validator, u64) {
    let mut pubkey = [0; 48];
    rng.fill(&mut pubkey);
    let prefix: u8 = match rng.next() % 100 {
        0..30 => 0x00,
        30..80 => 0x01,
        _ => 0x02,
    };
    let mut withdrawal_credentials = [0; 32];
    withdrawal_credentials[0] = prefix;
    if prefix == 0x00 {
        rng.fill(&mut withdrawal_credentials[1..]);
    } else {
        rng.fill(&mut withdrawal_credentials[12..]);
    }
    let effective_eth = match prefix {
        0x02 => 32 + rng.next() % 2017,
        _ => 32,
    };
    let effective_balance = effective_eth * GWEI_PER_ETH;
    let balance =
        (effective_balance + rng.next() % (2 * GWEI_PER_ETH)).saturating_sub(GWEI_PER_ETH);
    let exited = rng.next().is_multiple_of(50);
    let activation_epoch = rng.next() % 300_000;
    let (exit_epoch, withdrawable_epoch) = if exited {
        let exit = activation_epoch + 1 + rng.next() % 50_000;
        (exit, exit + 256)
    } else {
        (FAR_FUTURE_EPOCH, FAR_FUTURE_EPOCH)
    };
    let validator = Validator {
        pubkey,
        withdrawal_credentials,
        effective_balance,
        slashed: exited && rng.next().is_multiple_of(20),
        activation_eligibility_epoch: activation_epoch.saturating_sub(5),
        activation_epoch,
        exit_epoch,
        withdrawable_epoch,
    };
    (validator, if exited { 0 } else { balance })
}

fn sync_committee(rng: &mut SplitMix) -> SyncCommittee {
    let mut key = [0; 48];
    rng.fill(&mut key);
    SyncCommittee {
        pubkeys: FixedVector::from_elem(key),
        aggregate_pubkey: key,
    }
}

/// An Electra state with `count` validators, as the registry benchmark builds it.
fn mainnet_sized_state(count: usize) -> BeaconStateElectra {
    let mut rng = SplitMix(0x7265_7374_616b_6564);
    let (validators, balances): (Vec<Validator>, Vec<u64>) =
        (0..count).map(|_| validator(&mut rng)).unzip();
    let slot = 11_000_000;
    BeaconStateElectra {
        genesis_time: 1_606_824_023,
        genesis_validators_root: rng.root(),
        slot,
        fork: Fork {
            previous_version: [4, 0, 0, 0],
            current_version: [5, 0, 0, 0],
            epoch: 364_032,
        },
        latest_block_header: BeaconBlockHeader {
            slot,
            proposer_index: 42,
            parent_root: rng.root(),
            state_root: [0; 32],
            body_root: rng.root(),
        },
        block_roots: FixedVector::from_elem(rng.root()),
        state_roots: FixedVector::from_elem(rng.root()),
        historical_roots: VariableList::new(vec![rng.root(); 758]).expect("under the limit"),
        eth1_data: Eth1Data::default(),
        eth1_data_votes: VariableList::new(vec![Eth1Data::default(); 1_000])
            .expect("under the limit"),
        eth1_deposit_index: count as u64,
        validators: VariableList::new(validators).expect("under the registry limit"),
        balances: VariableList::new(balances).expect("under the registry limit"),
        randao_mixes: FixedVector::from_elem(rng.root()),
        slashings: FixedVector::from_elem(0),
        previous_epoch_participation: VariableList::new(vec![7; count]).expect("registry size"),
        current_epoch_participation: VariableList::new(vec![3; count]).expect("registry size"),
        justification_bits: BitVector::new(),
        previous_justified_checkpoint: Checkpoint::default(),
        current_justified_checkpoint: Checkpoint::default(),
        finalized_checkpoint: Checkpoint::default(),
        inactivity_scores: VariableList::new(vec![0; count]).expect("registry size"),
        current_sync_committee: sync_committee(&mut rng),
        next_sync_committee: sync_committee(&mut rng),
        latest_execution_payload_header: ExecutionPayloadHeader {
            parent_hash: rng.root(),
            fee_recipient: [1; 20],
            state_root: rng.root(),
            receipts_root: rng.root(),
            logs_bloom: [0; 256],
            prev_randao: rng.root(),
            block_number: 21_000_000,
            gas_limit: 36_000_000,
            gas_used: 15_000_000,
            timestamp: 1_738_000_000,
            extra_data: VariableList::new(b"restaked bench".to_vec()).expect("32 bytes at most"),
            base_fee_per_gas: [0; 32],
            block_hash: rng.root(),
            transactions_root: rng.root(),
            withdrawals_root: rng.root(),
            blob_gas_used: 0,
            excess_blob_gas: 0,
        },
        next_withdrawal_index: 80_000_000,
        next_withdrawal_validator_index: 123_456,
        historical_summaries: VariableList::new(vec![HistoricalSummary::default(); 1_400])
            .expect("under the limit"),
        deposit_requests_start_index: u64::MAX,
        deposit_balance_to_consume: 0,
        exit_balance_to_consume: 0,
        earliest_exit_epoch: 0,
        consolidation_balance_to_consume: 0,
        earliest_consolidation_epoch: 0,
        pending_deposits: VariableList::default(),
        pending_partial_withdrawals: VariableList::default(),
        pending_consolidations: VariableList::default(),
    }
}

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

/// A `kB` line of `/proc/self/status`, in bytes.
fn status_bytes(key: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets `VmHWM` to the current RSS (Linux 4.0+); false where that is not possible.
fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
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
    let electra = mainnet_sized_state(count);
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
