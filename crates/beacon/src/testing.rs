//! Synthetic beacon states for the benchmarks and tests of this crate and of the crates built on
//! it (cargo feature `testing`; never in a node build): a mainnet-sized registry without a
//! mainnet download, and peak-RSS readings for the benchmarks.

#![allow(clippy::expect_used)]

use std::fs;

use restake_types::ExecutionAddress;
use ssz_types::{BitVector, FixedVector, VariableList};

use crate::containers::{
    BeaconStateElectra, Validator,
    spec::{
        BeaconBlockHeader, Checkpoint, Eth1Data, ExecutionPayloadHeader, Fork, HistoricalSummary,
        SyncCommittee,
    },
};

const GWEI_PER_ETH: u64 = 1_000_000_000;
const FAR_FUTURE_EPOCH: u64 = u64::MAX;

/// SplitMix64: a deterministic stream, so every run builds the same state.
#[derive(Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fills `bytes` from the stream.
    pub fn fill(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    /// 32 bytes from the stream (a root, a hash).
    pub fn root(&mut self) -> [u8; 32] {
        let mut root = [0; 32];
        self.fill(&mut root);
        root
    }
}

/// One validator of the mix and its balance; `pod` makes its execution credentials point there.
fn validator(rng: &mut SplitMix, pod: Option<ExecutionAddress>) -> (Validator, u64) {
    let mut pubkey = [0; 48];
    rng.fill(&mut pubkey);
    let roll = rng.next_u64() % 100;
    let prefix: u8 = match roll {
        _ if pod.is_some() => 1 + (rng.next_u64() % 2) as u8,
        0..30 => 0x00,
        30..80 => 0x01,
        _ => 0x02,
    };
    let mut withdrawal_credentials = [0; 32];
    withdrawal_credentials[0] = prefix;
    if prefix == 0x00 {
        // The hash of a BLS withdrawal key: any 31 bytes.
        rng.fill(&mut withdrawal_credentials[1..]);
    } else if let Some(pod) = pod {
        withdrawal_credentials[12..].copy_from_slice(pod.as_bytes());
    } else {
        rng.fill(&mut withdrawal_credentials[12..]);
    }
    let effective_eth = match prefix {
        0x02 => 32 + rng.next_u64() % 2017,
        _ => 32,
    };
    let effective_balance = effective_eth * GWEI_PER_ETH;
    // Rewards above the effective balance, or a little below it after penalties.
    let balance =
        (effective_balance + rng.next_u64() % (2 * GWEI_PER_ETH)).saturating_sub(GWEI_PER_ETH);
    let exited = rng.next_u64().is_multiple_of(50);
    let activation_epoch = rng.next_u64() % 300_000;
    let (exit_epoch, withdrawable_epoch) = if exited {
        let exit = activation_epoch + 1 + rng.next_u64() % 50_000;
        (exit, exit + 256)
    } else {
        (FAR_FUTURE_EPOCH, FAR_FUTURE_EPOCH)
    };
    let validator = Validator {
        pubkey,
        withdrawal_credentials,
        effective_balance,
        slashed: exited && rng.next_u64().is_multiple_of(20),
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

/// A mainnet-like Electra state with `count` validators: about 30% `0x00`, 50% `0x01` and 20%
/// `0x02` credentials to pseudo-random addresses, about `pod_validators` of them (spread over
/// the registry) with execution credentials pointing at `pod`, realistic balances, a few exited
/// or slashed validators, and mainnet's sizes for the other lists. Deterministic.
pub fn mainnet_sized_state(
    count: usize,
    pod: ExecutionAddress,
    pod_validators: usize,
) -> BeaconStateElectra {
    let mut rng = SplitMix(0x7265_7374_616b_6564);
    // Every `stride`-th validator points at the pod.
    let stride = (count / pod_validators.max(1)).max(1);
    let (validators, balances): (Vec<Validator>, Vec<u64>) = (0..count)
        .map(|i| validator(&mut rng, (i % stride == stride / 2).then_some(pod)))
        .unzip();
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
        // Frozen since Capella at 758 entries on mainnet.
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

/// A `kB` line of `/proc/self/status` (`VmRSS`, `VmHWM`, ...), in bytes.
pub fn status_bytes(key: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets `VmHWM` to the current RSS (Linux 4.0+); false where that is not possible.
pub fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Bytes in MiB, for printing.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
