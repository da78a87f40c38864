//! What the devnet simulates: registry size, slot time, the pod address, when each scenario
//! event happens, how it is driven and how much history it keeps.

use restake_types::{Epoch, ExecutionAddress, Slot};

use crate::chain::SLOTS_PER_EPOCH;

/// How slots advance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drive {
    /// One slot every `seconds_per_slot`, on the wall clock from genesis (`restaked run --dev`).
    /// A producer that falls behind catches up at once.
    Timer,
    /// Only when [`Devnet::advance`](crate::Devnet::advance) or
    /// [`Devnet::advance_to`](crate::Devnet::advance_to) is called (deterministic tests).
    Manual,
}

/// The devnet's configuration. [`Default`] gives 256 validators, 1-second slots, timer mode,
/// and every scenario event within the first three epochs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevnetConfig {
    /// Number of validators in the genesis registry (at least [`DevnetConfig::MIN_VALIDATORS`]).
    pub validators: u64,
    /// `SECONDS_PER_SLOT`, at least 1.
    pub seconds_per_slot: u64,
    /// The EigenPod address the pod validators' `0x01`/`0x02` credentials point at.
    pub pod: ExecutionAddress,
    /// The address the other execution-credential validators point at (must differ from `pod`).
    pub other_address: ExecutionAddress,
    /// Genesis time in seconds since the Unix epoch; `None`: now. Pin it for reproducible roots.
    pub genesis_time: Option<u64>,
    /// How slots advance.
    pub drive: Drive,
    /// The slot whose block carries the BLS-to-execution change of
    /// [`Scenario::bls_change`](crate::Scenario::bls_change) (at least 1).
    pub bls_change_slot: Slot,
    /// The slot whose block slashes [`Scenario::slashing`](crate::Scenario::slashing) (at least 1).
    pub slash_slot: Slot,
    /// The slot whose block carries the voluntary exit of
    /// [`Scenario::exit`](crate::Scenario::exit) (at least 1).
    pub exit_slot: Slot,
    /// The epoch [`Scenario::pending`](crate::Scenario::pending) activates at (at least 2): it is
    /// `pending_initialized` until the epoch before, `pending_queued` during that epoch.
    pub activation_epoch: Epoch,
    /// How many slots before the head stay queryable (at least three epochs, so the finalized
    /// and justified states always resolve). Genesis stays queryable regardless.
    pub history_slots: u64,
}

impl DevnetConfig {
    /// The smallest registry that holds every scenario case.
    pub const MIN_VALIDATORS: u64 = 16;
    /// The largest registry accepted: the registry is rehashed every slot, which must stay well
    /// under a second even in unoptimized builds.
    pub const MAX_VALIDATORS: u64 = 1 << 14;

    /// Every problem of this configuration, each naming the field; empty when it is valid.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(Self::MIN_VALIDATORS..=Self::MAX_VALIDATORS).contains(&self.validators) {
            problems.push(format!(
                "validators: {} is outside {}..={}",
                self.validators,
                Self::MIN_VALIDATORS,
                Self::MAX_VALIDATORS
            ));
        }
        if self.seconds_per_slot == 0 {
            problems.push("seconds_per_slot: must be at least 1".to_owned());
        }
        if self.pod == self.other_address {
            problems.push(format!(
                "other_address: must differ from pod ({})",
                self.pod
            ));
        }
        for (name, slot) in [
            ("bls_change_slot", self.bls_change_slot),
            ("slash_slot", self.slash_slot),
            ("exit_slot", self.exit_slot),
        ] {
            if slot.get() == 0 {
                problems.push(format!(
                    "{name}: must be at least 1 (slot 0 is genesis, without operations)"
                ));
            }
        }
        if self.activation_epoch.get() < 2 {
            problems.push(format!(
                "activation_epoch: {} must be at least 2",
                self.activation_epoch
            ));
        }
        if self.history_slots < 3 * SLOTS_PER_EPOCH {
            problems.push(format!(
                "history_slots: {} must be at least {} (three epochs)",
                self.history_slots,
                3 * SLOTS_PER_EPOCH
            ));
        }
        problems
    }
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self {
            validators: 256,
            seconds_per_slot: 1,
            pod: ExecutionAddress::new([0x90; 20]),
            other_address: ExecutionAddress::new([0xee; 20]),
            genesis_time: None,
            drive: Drive::Timer,
            bls_change_slot: Slot(8),
            slash_slot: Slot(40),
            exit_slot: Slot(48),
            activation_epoch: Epoch(2),
            history_slots: 4 * SLOTS_PER_EPOCH,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_its_events_fall_in_the_first_three_epochs() {
        let config = DevnetConfig::default();
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        for slot in [config.bls_change_slot, config.slash_slot, config.exit_slot] {
            assert!(slot.get() < 3 * SLOTS_PER_EPOCH);
        }
        assert!(config.activation_epoch.get() < 3);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let config = DevnetConfig {
            validators: 3,
            seconds_per_slot: 0,
            other_address: DevnetConfig::default().pod,
            slash_slot: Slot(0),
            activation_epoch: Epoch(1),
            history_slots: 10,
            ..DevnetConfig::default()
        };
        let problems = config.problems();
        for field in [
            "validators",
            "seconds_per_slot",
            "other_address",
            "slash_slot",
            "activation_epoch",
            "history_slots",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(field)),
                "{field} missing from {problems:?}"
            );
        }
    }
}
