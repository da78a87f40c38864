//! Scanning a mainnet-sized beacon state for the validators of one pod with the zero-copy
//! [`RegistryView`], against decoding the whole state. Each figure is printed as a ratio to its
//! goal:
//!
//! - **Scan**: [`RegistryView::from_state_ssz`] (which validates the whole container) plus
//!   classifying every validator's withdrawal credentials: a count per prefix and the indices
//!   of the validators whose credentials point at the pod. The best and the median of
//!   [`SCAN_RUNS`] runs; goal: at most [`SCAN_GOAL`].
//! - **Peak RSS during the scan** (`VmHWM` of `/proc/self/status`, reset through
//!   `/proc/self/clear_refs` once the state is generated), divided by the state's size. The
//!   peak includes the state's bytes themselves, so 1.0 is the floor; goal: at most
//!   [`RSS_GOAL`].
//! - **Full decoding** with `BeaconState::from_ssz_bytes`, its time and peak RSS the same way,
//!   for comparison; it must find the same validators.
//!
//! The state is an Electra `BeaconState` with `RESTAKED_BENCH_VALIDATORS` validators (default
//! 1,100,000, about mainnet's registry) built as the container and encoded: about 30% `0x00`,
//! 50% `0x01` and 20% `0x02` credentials to pseudo-random addresses, [`POD_VALIDATORS`] of the
//! execution ones pointing at one pod, realistic balances and a few exited or slashed ones.
//!
//! Run with `scripts/bench-tracker.sh` or `cargo bench -p restake-beacon --bench registry`.
//! Not part of the test suite: timings belong in benchmarks, and nothing here asserts on them.

// A benchmark aborts on any setup failure, like a test.
#![allow(clippy::expect_used, missing_docs)]

use std::{
    fs,
    hint::black_box,
    time::{Duration, Instant},
};

use restake_beacon::{
    ForkName,
    containers::{
        BeaconState, BeaconStateElectra, RegistryView, Validator,
        spec::{
            BeaconBlockHeader, Checkpoint, Eth1Data, ExecutionPayloadHeader, Fork,
            HistoricalSummary, SyncCommittee,
        },
    },
};
use restake_types::{ExecutionAddress, ValidatorIndex, WithdrawalPrefix};
use ssz::Encode;
use ssz_types::{BitVector, FixedVector, VariableList};

const VALIDATORS_ENV: &str = "RESTAKED_BENCH_VALIDATORS";
const DEFAULT_VALIDATORS: usize = 1_100_000;
/// About how many validators have credentials pointing at the pod (spread over the registry).
const POD_VALIDATORS: usize = 3_000;
const POD: ExecutionAddress = ExecutionAddress::new([0x5a; 20]);
const SCAN_RUNS: usize = 5;
const SCAN_GOAL: Duration = Duration::from_secs(2);
const RSS_GOAL: f64 = 2.0;
const GWEI_PER_ETH: u64 = 1_000_000_000;
const FAR_FUTURE_EPOCH: u64 = u64::MAX;

/// SplitMix64: a deterministic stream, so every run scans the same state.
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
}

/// One validator of the mix; `pod` makes its execution credentials point at the pod.
fn validator(rng: &mut SplitMix, pod: bool) -> (Validator, u64) {
    let mut pubkey = [0; 48];
    rng.fill(&mut pubkey);
    let roll = rng.next() % 100;
    let prefix: u8 = match roll {
        _ if pod => 1 + (rng.next() % 2) as u8,
        0..30 => 0x00,
        30..80 => 0x01,
        _ => 0x02,
    };
    let mut withdrawal_credentials = [0; 32];
    withdrawal_credentials[0] = prefix;
    if prefix == 0x00 {
        // The hash of a BLS withdrawal key: any 31 bytes.
        rng.fill(&mut withdrawal_credentials[1..]);
    } else if pod {
        withdrawal_credentials[12..].copy_from_slice(POD.as_bytes());
    } else {
        rng.fill(&mut withdrawal_credentials[12..]);
    }
    let effective_eth = match prefix {
        0x02 => 32 + rng.next() % 2017,
        _ => 32,
    };
    let effective_balance = effective_eth * GWEI_PER_ETH;
    // Rewards above the effective balance, or a little below it after penalties.
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

/// The SSZ bytes of an Electra state with `count` validators.
fn mainnet_sized_state(count: usize) -> Vec<u8> {
    let mut rng = SplitMix(0x7265_7374_616b_6564);
    // Every `stride`-th validator points at the pod.
    let stride = (count / POD_VALIDATORS).max(1);
    let (validators, balances): (Vec<Validator>, Vec<u64>) = (0..count)
        .map(|i| validator(&mut rng, i % stride == stride / 2))
        .unzip();
    let root = |rng: &mut SplitMix| {
        let mut root = [0; 32];
        rng.fill(&mut root);
        root
    };
    let slot = 11_000_000;
    let state = BeaconStateElectra {
        genesis_time: 1_606_824_023,
        genesis_validators_root: root(&mut rng),
        slot,
        fork: Fork {
            previous_version: [4, 0, 0, 0],
            current_version: [5, 0, 0, 0],
            epoch: 364_032,
        },
        latest_block_header: BeaconBlockHeader {
            slot,
            proposer_index: 42,
            parent_root: root(&mut rng),
            state_root: [0; 32],
            body_root: root(&mut rng),
        },
        block_roots: FixedVector::from_elem(root(&mut rng)),
        state_roots: FixedVector::from_elem(root(&mut rng)),
        // Frozen since Capella at 758 entries on mainnet.
        historical_roots: VariableList::new(vec![root(&mut rng); 758]).expect("under the limit"),
        eth1_data: Eth1Data::default(),
        eth1_data_votes: VariableList::new(vec![Eth1Data::default(); 1_000])
            .expect("under the limit"),
        eth1_deposit_index: count as u64,
        validators: VariableList::new(validators).expect("under the registry limit"),
        balances: VariableList::new(balances).expect("under the registry limit"),
        randao_mixes: FixedVector::from_elem(root(&mut rng)),
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
            parent_hash: root(&mut rng),
            fee_recipient: [1; 20],
            state_root: root(&mut rng),
            receipts_root: root(&mut rng),
            logs_bloom: [0; 256],
            prev_randao: root(&mut rng),
            block_number: 21_000_000,
            gas_limit: 36_000_000,
            gas_used: 15_000_000,
            timestamp: 1_738_000_000,
            extra_data: VariableList::new(b"restaked bench".to_vec()).expect("32 bytes at most"),
            base_fee_per_gas: [0; 32],
            block_hash: root(&mut rng),
            transactions_root: root(&mut rng),
            withdrawals_root: root(&mut rng),
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
    };
    state.as_ssz_bytes()
}

/// What the tracker needs from a scan: how many validators of each credential kind, and which
/// point at the pod.
#[derive(Debug, Default, PartialEq, Eq)]
struct Classification {
    /// `0x00`, `0x01`, `0x02`, other.
    per_prefix: [usize; 4],
    pod: Vec<ValidatorIndex>,
}

impl Classification {
    fn add(&mut self, index: ValidatorIndex, credentials: restake_types::WithdrawalCredentials) {
        let kind = match credentials.prefix() {
            WithdrawalPrefix::Bls => 0,
            WithdrawalPrefix::Eth1 => 1,
            WithdrawalPrefix::Compounding => 2,
            WithdrawalPrefix::Unknown(_) => 3,
        };
        self.per_prefix[kind] += 1;
        if credentials.execution_address() == Some(POD) {
            self.pod.push(index);
        }
    }
}

fn scan(bytes: &[u8]) -> Classification {
    let view = RegistryView::from_state_ssz(ForkName::Electra, bytes).expect("the state is valid");
    let mut classification = Classification::default();
    for entry in view.iter() {
        classification.add(entry.index, entry.validator.withdrawal_credentials());
    }
    classification
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

fn main() {
    // Cargo passes `--bench`, and `--list` when listing; other arguments are ignored.
    if std::env::args().any(|a| a == "--list") {
        println!("registry: benchmark");
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

    eprintln!("registry: generating an Electra state with {count} validators");
    let started = Instant::now();
    let bytes = mainnet_sized_state(count);
    let size = bytes.len() as u64;
    println!(
        "state: Electra, {count} validators, {size} bytes ({:.1} MiB), generated in {:.1} s",
        mib(size),
        started.elapsed().as_secs_f64()
    );

    // The generating containers are gone; from here the peak counts the bytes and the scan.
    let resettable = reset_peak_rss();
    let rss_before = status_bytes("VmRSS:").unwrap_or(0);
    let mut times = Vec::with_capacity(SCAN_RUNS);
    let mut classification = Classification::default();
    for _ in 0..SCAN_RUNS {
        let started = Instant::now();
        classification = black_box(scan(black_box(&bytes)));
        times.push(started.elapsed());
    }
    let scan_peak = status_bytes("VmHWM:");
    times.sort();
    let (best, median) = (times[0], times[SCAN_RUNS / 2]);
    let [bls, eth1, compounding, other] = classification.per_prefix;
    println!(
        "scan + classify: best {:.1} ms, median {:.1} ms of {SCAN_RUNS} \
         (0x00 {bls}, 0x01 {eth1}, 0x02 {compounding}, other {other}; {} at the pod)",
        best.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        classification.pod.len(),
    );
    println!(
        "scan time / goal = {:.1} ms / {} ms = {:.4} (goal <= 1)",
        median.as_secs_f64() * 1e3,
        SCAN_GOAL.as_millis(),
        median.as_secs_f64() / SCAN_GOAL.as_secs_f64()
    );
    match scan_peak {
        Some(peak) => {
            let ratio = peak as f64 / size as f64;
            println!(
                "scan peak RSS: {:.1} MiB (RSS before the scan {:.1} MiB{}) = {ratio:.3} x state \
                 size; / goal {RSS_GOAL} = {:.3} (goal <= 1)",
                mib(peak),
                mib(rss_before),
                if resettable {
                    ""
                } else {
                    ", peak not resettable: includes generating the state"
                },
                ratio / RSS_GOAL
            );
        }
        None => println!("scan peak RSS: unavailable (no /proc/self/status)"),
    }

    // For comparison: the full decode, which must find the same validators.
    let resettable = reset_peak_rss();
    let started = Instant::now();
    let state = BeaconState::from_ssz_bytes(ForkName::Electra, &bytes).expect("the state decodes");
    let decode = started.elapsed();
    let decode_peak = status_bytes("VmHWM:");
    let mut decoded = Classification::default();
    for (i, validator) in state.validators().iter().enumerate() {
        decoded.add(ValidatorIndex(i as u64), validator.withdrawal_credentials());
    }
    assert_eq!(decoded, classification, "full decoding classifies the same");
    println!(
        "full decode (comparison): {:.1} ms = {:.1} x the scan's median; peak RSS {}",
        decode.as_secs_f64() * 1e3,
        decode.as_secs_f64() / median.as_secs_f64(),
        match decode_peak {
            Some(peak) if resettable => format!(
                "{:.1} MiB = {:.3} x state size",
                mib(peak),
                peak as f64 / size as f64
            ),
            _ => "unavailable".into(),
        }
    );
}
