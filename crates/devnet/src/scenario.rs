//! The genesis registry: which validator plays which part, and its deterministic keys and
//! credentials.
//!
//! Public keys are not real BLS keys: each is two SHA-256 digests of the index cut to 48 bytes,
//! with the compressed-point flag set so it looks like one. Nothing in the devnet verifies a
//! signature, so nothing needs the secret keys.

use restake_beacon::containers::spec::Validator;
use restake_types::{
    BlsPublicKey, Epoch, ExecutionAddress, Slot, ValidatorIndex, WithdrawalCredentials,
};
use sha2::{Digest, Sha256};

use crate::{
    chain::{ETH, FAR_FUTURE_EPOCH, MAX_EFFECTIVE_BALANCE, MIN_ACTIVATION_BALANCE},
    config::DevnetConfig,
};

/// A validator and the slot of the block that changes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduledChange {
    /// The validator.
    pub index: ValidatorIndex,
    /// The slot whose block carries the change; the state at this slot shows it.
    pub slot: Slot,
}

/// The validator that is pending at genesis, and when it activates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingActivation {
    /// The validator.
    pub index: ValidatorIndex,
    /// `pending_initialized` before `activation_epoch - 1`, `pending_queued` in that epoch,
    /// `active_ongoing` from `activation_epoch`.
    pub activation_epoch: Epoch,
}

/// Which validator of the devnet plays which part, so tests and the node can name them.
///
/// The five credential lists partition the registry by the credentials each validator has at
/// genesis (the special cases below are in them too). Pod validators point at
/// [`pod`](Self::pod), the others at [`other_address`](Self::other_address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The pod address.
    pub pod: ExecutionAddress,
    /// The address the non-pod execution credentials point at.
    pub other_address: ExecutionAddress,
    /// The number of validators.
    pub validator_count: u64,
    /// `0x00` (BLS) credentials at genesis, including [`bls_change`](Self::bls_change).
    pub bls: Vec<ValidatorIndex>,
    /// `0x01` credentials pointing at the pod.
    pub eth1_pod: Vec<ValidatorIndex>,
    /// `0x02` (compounding) credentials pointing at the pod.
    pub compounding_pod: Vec<ValidatorIndex>,
    /// `0x01` credentials pointing at the other address.
    pub eth1_other: Vec<ValidatorIndex>,
    /// `0x02` credentials pointing at the other address.
    pub compounding_other: Vec<ValidatorIndex>,
    /// A pod validator slashed before genesis: `exited_slashed` from the start, 31 ETH.
    pub slashed_at_genesis: ValidatorIndex,
    /// A pod validator exited and fully withdrawn before genesis: `withdrawal_done`, balance 0.
    pub withdrawn: ValidatorIndex,
    /// A pod validator slashed by a proposer slashing in the block at `slot`: `active_slashed`
    /// from then on (exit and withdrawable epochs set, balance down 1 ETH).
    pub slashing: ScheduledChange,
    /// A compounding pod validator whose voluntary exit is in the block at `slot`:
    /// `active_exiting` from then on, with its exit epoch set.
    pub exit: ScheduledChange,
    /// A `0x00` validator whose BLS-to-execution change in the block at `slot` makes it a `0x01`
    /// pod validator.
    pub bls_change: ScheduledChange,
    /// A pod validator not yet active at genesis.
    pub pending: PendingActivation,
}

impl Scenario {
    /// The layout for `config` (which must be valid: see [`DevnetConfig::problems`]).
    ///
    /// Indices 0 to 6 are fixed: 0 stays BLS, 1 converts, 2 slashed at genesis, 3 slashed
    /// during the run, 4 exits, 5 pending, 6 withdrawn. From 7 on, `index % 5` picks 0x01 pod,
    /// 0x02 pod, 0x01 other, 0x02 other, BLS.
    pub(crate) fn new(config: &DevnetConfig) -> Self {
        let mut scenario = Self {
            pod: config.pod,
            other_address: config.other_address,
            validator_count: config.validators,
            bls: vec![ValidatorIndex(0), ValidatorIndex(1)],
            eth1_pod: vec![
                ValidatorIndex(2),
                ValidatorIndex(3),
                ValidatorIndex(5),
                ValidatorIndex(6),
            ],
            compounding_pod: vec![ValidatorIndex(4)],
            eth1_other: Vec::new(),
            compounding_other: Vec::new(),
            slashed_at_genesis: ValidatorIndex(2),
            withdrawn: ValidatorIndex(6),
            slashing: ScheduledChange {
                index: ValidatorIndex(3),
                slot: config.slash_slot,
            },
            exit: ScheduledChange {
                index: ValidatorIndex(4),
                slot: config.exit_slot,
            },
            bls_change: ScheduledChange {
                index: ValidatorIndex(1),
                slot: config.bls_change_slot,
            },
            pending: PendingActivation {
                index: ValidatorIndex(5),
                activation_epoch: config.activation_epoch,
            },
        };
        for index in 7..config.validators {
            let list = match index % 5 {
                0 => &mut scenario.eth1_pod,
                1 => &mut scenario.compounding_pod,
                2 => &mut scenario.eth1_other,
                3 => &mut scenario.compounding_other,
                _ => &mut scenario.bls,
            };
            list.push(ValidatorIndex(index));
        }
        scenario
    }

    /// The public key of validator `index` (deterministic; not a real BLS key).
    pub fn pubkey(index: ValidatorIndex) -> BlsPublicKey {
        BlsPublicKey::new(fake_bls_key(b"restake-devnet validator", index.get()))
    }

    /// The (fake) BLS withdrawal key behind the `0x00` credentials of validator `index`.
    pub fn withdrawal_pubkey(index: ValidatorIndex) -> BlsPublicKey {
        BlsPublicKey::new(fake_bls_key(b"restake-devnet withdrawal", index.get()))
    }

    /// The `0x00` credentials of validator `index`: `0x00 || sha256(withdrawal key)[1..]`.
    pub fn bls_credentials(index: ValidatorIndex) -> WithdrawalCredentials {
        let mut credentials: [u8; 32] =
            Sha256::digest(Self::withdrawal_pubkey(index).as_bytes()).into();
        credentials[0] = 0x00;
        WithdrawalCredentials::new(credentials)
    }

    /// The credentials validator `index` has at genesis.
    pub fn genesis_credentials(&self, index: ValidatorIndex) -> WithdrawalCredentials {
        let has = |list: &[ValidatorIndex]| list.contains(&index);
        if has(&self.eth1_pod) {
            WithdrawalCredentials::to_address(0x01, self.pod)
        } else if has(&self.compounding_pod) {
            WithdrawalCredentials::to_address(0x02, self.pod)
        } else if has(&self.eth1_other) {
            WithdrawalCredentials::to_address(0x01, self.other_address)
        } else if has(&self.compounding_other) {
            WithdrawalCredentials::to_address(0x02, self.other_address)
        } else {
            Self::bls_credentials(index)
        }
    }

    /// The genesis registry record and balance of every validator, in index order.
    pub(crate) fn genesis_registry(&self) -> Vec<(Validator, u64)> {
        (0..self.validator_count)
            .map(|i| self.genesis_validator(ValidatorIndex(i)))
            .collect()
    }

    fn genesis_validator(&self, index: ValidatorIndex) -> (Validator, u64) {
        let credentials = self.genesis_credentials(index);
        let compounding = credentials.as_bytes()[0] == 0x02;
        // Compounding validators hold more than 32 ETH, as they may since Electra.
        let balance = if compounding {
            40 * ETH
        } else {
            MIN_ACTIVATION_BALANCE
        };
        let mut validator = Validator {
            pubkey: *Self::pubkey(index).as_bytes(),
            withdrawal_credentials: *credentials.as_bytes(),
            effective_balance: balance.min(MAX_EFFECTIVE_BALANCE),
            slashed: false,
            activation_eligibility_epoch: 0,
            activation_epoch: 0,
            exit_epoch: FAR_FUTURE_EPOCH,
            withdrawable_epoch: FAR_FUTURE_EPOCH,
        };
        let mut balance = balance;
        if index == self.slashed_at_genesis {
            validator.slashed = true;
            validator.exit_epoch = 0;
            validator.withdrawable_epoch = crate::chain::EPOCHS_PER_SLASHINGS_VECTOR;
            balance -= ETH;
            validator.effective_balance = balance;
        } else if index == self.withdrawn {
            validator.exit_epoch = 0;
            validator.withdrawable_epoch = 0;
            validator.effective_balance = 0;
            balance = 0;
        } else if index == self.pending.index {
            validator.activation_eligibility_epoch = FAR_FUTURE_EPOCH;
            validator.activation_epoch = FAR_FUTURE_EPOCH;
        }
        (validator, balance)
    }
}

/// 48 deterministic bytes from `domain` and `index`, flagged as a compressed G1 point.
fn fake_bls_key(domain: &[u8], index: u64) -> [u8; 48] {
    let digest = |part: u8| -> [u8; 32] {
        Sha256::new()
            .chain_update(domain)
            .chain_update(index.to_le_bytes())
            .chain_update([part])
            .finalize()
            .into()
    };
    let mut key = [0u8; 48];
    key[..32].copy_from_slice(&digest(0));
    key[32..].copy_from_slice(&digest(1)[..16]);
    // Compression flag set, infinity flag clear: what a compressed public key starts with.
    key[0] = (key[0] & 0x1f) | 0x80;
    key
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use restake_types::WithdrawalPrefix;

    use super::*;

    #[test]
    fn credential_lists_partition_the_registry() {
        let scenario = Scenario::new(&DevnetConfig::default());
        let lists = [
            &scenario.bls,
            &scenario.eth1_pod,
            &scenario.compounding_pod,
            &scenario.eth1_other,
            &scenario.compounding_other,
        ];
        let mut seen = HashSet::new();
        for list in lists {
            assert!(!list.is_empty());
            for index in list {
                assert!(seen.insert(*index), "{index} in two lists");
            }
        }
        assert_eq!(seen.len() as u64, scenario.validator_count);
    }

    #[test]
    fn genesis_credentials_follow_the_lists() {
        let scenario = Scenario::new(&DevnetConfig::default());
        for index in &scenario.compounding_other {
            let credentials = scenario.genesis_credentials(*index);
            assert_eq!(credentials.prefix(), WithdrawalPrefix::Compounding);
            assert_eq!(
                credentials.execution_address(),
                Some(scenario.other_address)
            );
        }
        let bls = scenario.genesis_credentials(scenario.bls_change.index);
        assert_eq!(bls.prefix(), WithdrawalPrefix::Bls);
        assert_eq!(bls, Scenario::bls_credentials(scenario.bls_change.index));
    }

    #[test]
    fn keys_are_distinct_and_look_compressed() {
        let keys: HashSet<_> = (0..256)
            .map(|i| Scenario::pubkey(ValidatorIndex(i)))
            .collect();
        assert_eq!(keys.len(), 256);
        assert!(keys.iter().all(|k| k.as_bytes()[0] & 0xe0 == 0x80));
    }
}
