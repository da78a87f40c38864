//! Typed answers of the protection rules: the caller must handle each case.

use std::fmt;

/// What the store decided about a request to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Safe: the request was recorded in this transaction.
    Recorded,
    /// The identical message was signed before; for generic requests this carries the recorded
    /// signature so the caller returns exactly what was released the first time.
    SameData {
        /// The recorded signature (empty for Ethereum records, which store no signature).
        signature: Vec<u8>,
    },
    /// Not safe: signing would conflict with history.
    Refused(Refusal),
}

/// Why a request was refused. Every variant is a fixed metric `reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A different message was already signed for this (key, domain, conflict key).
    #[error(
        "conflicting message in domain {domain:?}: recorded {} but asked to sign {}",
        hex32(recorded_hash),
        hex32(requested_hash)
    )]
    ConflictingMessage {
        /// The duty domain.
        domain: String,
        /// SHA-256 of the message signed before.
        recorded_hash: [u8; 32],
        /// SHA-256 of the message asked for now.
        requested_hash: [u8; 32],
    },
    /// The ordering of a domain that must advance did not.
    #[error(
        "ordering in domain {domain:?} must advance: latest signed {latest}, asked {requested}"
    )]
    OrderingNotAdvanced {
        /// The duty domain.
        domain: String,
        /// Highest ordering signed so far.
        latest: u64,
        /// Ordering of this request.
        requested: u64,
    },
    /// A request without ordering in a domain signed with ordering, or the reverse: the module's
    /// idea of the domain changed, which the store cannot reconcile safely.
    #[error("domain {domain:?} mixes ordered and unordered requests")]
    OrderingMismatch {
        /// The duty domain.
        domain: String,
    },
    /// The clock reads earlier than a signature already recorded: time went backwards (a
    /// wrong NTP step, a restored VM snapshot), so duties that depend on time cannot be trusted.
    #[error(
        "the clock reads {now} (Unix seconds) but a signature was recorded at {latest}: the clock went backwards; fix it before signing"
    )]
    ClockWentBackwards {
        /// The time of this request.
        now: i64,
        /// The latest recorded signing time.
        latest: i64,
    },
    /// A value does not fit the store's 63-bit integers.
    #[error("{what} {value} is out of range")]
    OutOfRange {
        /// Which value.
        what: &'static str,
        /// The value.
        value: u64,
    },
    /// A different block was already signed at this slot.
    #[error("double block proposal at slot {slot}")]
    DoubleProposal {
        /// The slot.
        slot: u64,
    },
    /// A block at or below the latest signed slot.
    #[error("block at slot {slot} is not after the latest signed block (slot {latest})")]
    ProposalNotAfterLatest {
        /// The slot asked for.
        slot: u64,
        /// The latest signed slot.
        latest: u64,
    },
    /// Source epoch after target epoch.
    #[error("attestation source {source_epoch} is after its target {target_epoch}")]
    SourceAfterTarget {
        /// Source epoch.
        source_epoch: u64,
        /// Target epoch.
        target_epoch: u64,
    },
    /// A different attestation was already signed for this target.
    #[error("double vote for target epoch {target_epoch}")]
    DoubleVote {
        /// The target epoch.
        target_epoch: u64,
    },
    /// The attestation surrounds one signed before.
    #[error(
        "attestation {source_epoch}->{target_epoch} surrounds the signed {prior_source}->{prior_target}"
    )]
    SurroundsExisting {
        /// Source epoch asked for.
        source_epoch: u64,
        /// Target epoch asked for.
        target_epoch: u64,
        /// Source of the surrounded attestation.
        prior_source: u64,
        /// Target of the surrounded attestation.
        prior_target: u64,
    },
    /// The attestation is surrounded by one signed before.
    #[error(
        "attestation {source_epoch}->{target_epoch} is surrounded by the signed {prior_source}->{prior_target}"
    )]
    SurroundedByExisting {
        /// Source epoch asked for.
        source_epoch: u64,
        /// Target epoch asked for.
        target_epoch: u64,
        /// Source of the surrounding attestation.
        prior_source: u64,
        /// Target of the surrounding attestation.
        prior_target: u64,
    },
    /// Source below the highest signed source, or target not above the highest signed target.
    #[error(
        "attestation {source_epoch}->{target_epoch} is not after the latest signed (source {max_source}, target {max_target})"
    )]
    AttestationNotAfterLatest {
        /// Source epoch asked for.
        source_epoch: u64,
        /// Target epoch asked for.
        target_epoch: u64,
        /// Highest signed source.
        max_source: u64,
        /// Highest signed target.
        max_target: u64,
    },
}

impl Refusal {
    /// A short, fixed name for the metric label `reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::ConflictingMessage { .. } => "conflicting_message",
            Self::OrderingNotAdvanced { .. } => "ordering_not_advanced",
            Self::OrderingMismatch { .. } => "ordering_mismatch",
            Self::ClockWentBackwards { .. } => "clock_inconsistent",
            Self::OutOfRange { .. } => "out_of_range",
            Self::DoubleProposal { .. } => "double_proposal",
            Self::ProposalNotAfterLatest { .. } => "proposal_not_after_latest",
            Self::SourceAfterTarget { .. } => "source_after_target",
            Self::DoubleVote { .. } => "double_vote",
            Self::SurroundsExisting { .. } => "surrounds_existing",
            Self::SurroundedByExisting { .. } => "surrounded_by_existing",
            Self::AttestationNotAfterLatest { .. } => "attestation_not_after_latest",
        }
    }
}

fn hex32(bytes: &[u8; 32]) -> impl fmt::Display + '_ {
    struct Hex<'a>(&'a [u8; 32]);
    impl fmt::Display for Hex<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "0x{}", hex::encode(self.0))
        }
    }
    Hex(bytes)
}

/// Converts a u64 to the store's i64, or a refusal.
pub(crate) fn to_sql(what: &'static str, value: u64) -> Result<i64, Refusal> {
    i64::try_from(value).map_err(|_| Refusal::OutOfRange { what, value })
}

/// Reads a stored i64 back as u64 (the store only ever holds values written by [`to_sql`]).
pub(crate) fn from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
