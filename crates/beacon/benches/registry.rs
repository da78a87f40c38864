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
    hint::black_box,
    time::{Duration, Instant},
};

use restake_beacon::{
    ForkName,
    containers::{BeaconState, RegistryView},
    testing::{mainnet_sized_state, mib, reset_peak_rss, status_bytes},
};
use restake_types::{ExecutionAddress, ValidatorIndex, WithdrawalPrefix};
use ssz::Encode;

const VALIDATORS_ENV: &str = "RESTAKED_BENCH_VALIDATORS";
const DEFAULT_VALIDATORS: usize = 1_100_000;
/// About how many validators have credentials pointing at the pod (spread over the registry).
const POD_VALIDATORS: usize = 3_000;
const POD: ExecutionAddress = ExecutionAddress::new([0x5a; 20]);
const SCAN_RUNS: usize = 5;
const SCAN_GOAL: Duration = Duration::from_secs(2);
const RSS_GOAL: f64 = 2.0;

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
    let bytes = mainnet_sized_state(count, POD, POD_VALIDATORS).as_ssz_bytes();
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
