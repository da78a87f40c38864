//! What the tracker knows about each validator, and the events it emits when that changes.

use restake_types::{
    BlsPublicKey, Epoch, ExecutionAddress, Gwei, Slot, ValidatorIndex, WithdrawalCredentials,
    WithdrawalPrefix,
};
use serde::{Deserialize, Serialize};

use crate::{ValidatorData, ValidatorStatus};

/// The consensus spec's "never" epoch (`FAR_FUTURE_EPOCH`).
pub const FAR_FUTURE_EPOCH: Epoch = Epoch(u64::MAX);

/// Why a validator is in the tracked set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackedBecause {
    /// Its public key is configured (`tracker.pubkeys`) or belongs to a loaded keystore.
    Pubkey,
    /// Its index is in a configured range (`tracker.validator_indices`).
    Index,
    /// Its `0x01`/`0x02` credentials point at one of the operator's pods.
    Pod,
}

/// One tracked validator as of the tracker's last update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedValidator {
    /// Registry index, status, actual balance and the registry record.
    pub data: ValidatorData,
    /// The operator's pod these credentials point at, if any.
    pub pod: Option<ExecutionAddress>,
    /// Why the validator is tracked.
    pub because: TrackedBecause,
    /// The slot of the state this record was read from.
    pub updated_slot: Slot,
    /// The slot of the first state in which the tracker saw the validator slashed.
    pub slashed_seen_slot: Option<Slot>,
}

impl TrackedValidator {
    /// The registry index.
    pub fn index(&self) -> ValidatorIndex {
        self.data.index
    }

    /// The BLS public key.
    pub fn pubkey(&self) -> BlsPublicKey {
        self.data.validator.pubkey
    }

    /// The withdrawal credentials.
    pub fn credentials(&self) -> WithdrawalCredentials {
        self.data.validator.withdrawal_credentials
    }

    /// The credential kind (`0x00`, `0x01`, `0x02`).
    pub fn prefix(&self) -> WithdrawalPrefix {
        self.credentials().prefix()
    }

    /// The execution address the credentials withdraw to (`0x01`/`0x02` only).
    pub fn withdrawal_address(&self) -> Option<ExecutionAddress> {
        self.credentials().execution_address()
    }

    /// The API status at the last update.
    pub fn status(&self) -> ValidatorStatus {
        self.data.status
    }
}

/// How urgently the operator must act on an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; nothing to do.
    Info,
    /// Something is left on the table or needs attention soon.
    Warning,
    /// Money is at risk now.
    Critical,
}

impl Severity {
    /// The lower-case name used in logs, metrics and the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// What changed for a validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The withdrawal credentials changed (a BLS-to-execution change, a switch to compounding).
    CredentialsChanged {
        /// The credentials before.
        from: WithdrawalCredentials,
        /// The credentials now.
        to: WithdrawalCredentials,
        /// The credentials pointed at one of the operator's pods and no longer do.
        away_from_pod: bool,
    },
    /// The validator still has `0x00` (BLS) credentials: it cannot be restaked until converted.
    UnconvertedCredentials,
    /// The validator became active.
    Activated {
        /// Its activation epoch.
        epoch: Epoch,
    },
    /// The actual balance dropped by more than the configured threshold since the last update.
    BalanceDropped {
        /// The balance before.
        from: Gwei,
        /// The balance now.
        to: Gwei,
    },
    /// The validator was slashed.
    Slashed,
    /// An exit was initiated (voluntary, by a withdrawal request, or forced).
    ExitInitiated {
        /// The epoch it exits at.
        exit_epoch: Epoch,
    },
    /// The validator is withdrawable and its balance has been swept.
    Withdrawn,
}

impl EventKind {
    /// Every kind's name, as used in metrics labels and the API.
    pub const NAMES: [&'static str; 7] = [
        "credentials_changed",
        "unconverted_credentials",
        "activated",
        "balance_dropped",
        "slashed",
        "exit_initiated",
        "withdrawn",
    ];

    /// This kind's name (one of [`EventKind::NAMES`]).
    pub const fn name(&self) -> &'static str {
        match self {
            Self::CredentialsChanged { .. } => "credentials_changed",
            Self::UnconvertedCredentials => "unconverted_credentials",
            Self::Activated { .. } => "activated",
            Self::BalanceDropped { .. } => "balance_dropped",
            Self::Slashed => "slashed",
            Self::ExitInitiated { .. } => "exit_initiated",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// How urgent this event is.
    pub const fn severity(&self) -> Severity {
        match self {
            Self::CredentialsChanged {
                away_from_pod: true,
                ..
            }
            | Self::Slashed => Severity::Critical,
            Self::UnconvertedCredentials
            | Self::BalanceDropped { .. }
            | Self::ExitInitiated { .. } => Severity::Warning,
            Self::CredentialsChanged { .. } | Self::Activated { .. } | Self::Withdrawn => {
                Severity::Info
            }
        }
    }
}

/// One event, as stored and streamed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerEvent {
    /// Position in the store's event log (increasing, never reused).
    pub seq: u64,
    /// The slot of the state in which the change was seen.
    pub slot: Slot,
    /// The validator's index.
    pub index: ValidatorIndex,
    /// The validator's public key.
    pub pubkey: BlsPublicKey,
    /// What happened.
    pub kind: EventKind,
}

impl TrackerEvent {
    /// How urgent the event is.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}
