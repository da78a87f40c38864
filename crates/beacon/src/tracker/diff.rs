//! What changed between two readings of one validator: the tracker's events, as a pure function.

use restake_types::{Gwei, WithdrawalPrefix};

use super::model::{EventKind, FAR_FUTURE_EPOCH, TrackedValidator};
use crate::ValidatorStatus;

/// Whether a status is one of the `pending_*` ones.
fn is_pending(status: ValidatorStatus) -> bool {
    matches!(
        status,
        ValidatorStatus::PendingInitialized | ValidatorStatus::PendingQueued
    )
}

/// The events for a validator seen for the first time.
///
/// Only conditions the operator must act on are reported for a newcomer (it has `0x00`
/// credentials, it is slashed, it is exiting); its history (activation, an old withdrawal) is not.
pub(crate) fn first_seen(now: &TrackedValidator) -> Vec<EventKind> {
    let mut events = Vec::new();
    if now.prefix() == WithdrawalPrefix::Bls {
        events.push(EventKind::UnconvertedCredentials);
    }
    if now.data.validator.slashed {
        events.push(EventKind::Slashed);
    } else if now.data.validator.exit_epoch != FAR_FUTURE_EPOCH
        && now.status() != ValidatorStatus::WithdrawalDone
    {
        events.push(EventKind::ExitInitiated {
            exit_epoch: now.data.validator.exit_epoch,
        });
    }
    events
}

/// The events between two readings of the same validator.
///
/// `drop_threshold` is the balance drop (in Gwei) beyond which [`EventKind::BalanceDropped`] is
/// emitted; a drop to a swept-out balance is [`EventKind::Withdrawn`] instead.
pub(crate) fn changes(
    before: &TrackedValidator,
    now: &TrackedValidator,
    drop_threshold: Gwei,
) -> Vec<EventKind> {
    let mut events = Vec::new();
    let (was, is) = (&before.data.validator, &now.data.validator);
    if was.withdrawal_credentials != is.withdrawal_credentials {
        events.push(EventKind::CredentialsChanged {
            from: was.withdrawal_credentials,
            to: is.withdrawal_credentials,
            away_from_pod: before.pod.is_some() && before.pod != now.pod,
        });
    }
    if is_pending(before.status())
        && !is_pending(now.status())
        && is.activation_epoch != FAR_FUTURE_EPOCH
    {
        events.push(EventKind::Activated {
            epoch: is.activation_epoch,
        });
    }
    if !was.slashed && is.slashed {
        events.push(EventKind::Slashed);
    } else if was.exit_epoch == FAR_FUTURE_EPOCH && is.exit_epoch != FAR_FUTURE_EPOCH {
        events.push(EventKind::ExitInitiated {
            exit_epoch: is.exit_epoch,
        });
    }
    let withdrawn = now.status() == ValidatorStatus::WithdrawalDone;
    if withdrawn && before.status() != ValidatorStatus::WithdrawalDone {
        events.push(EventKind::Withdrawn);
    } else if !withdrawn
        && before.data.balance.0.saturating_sub(now.data.balance.0) > drop_threshold.0
    {
        events.push(EventKind::BalanceDropped {
            from: before.data.balance,
            to: now.data.balance,
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use restake_types::{
        BlsPublicKey, Epoch, ExecutionAddress, Slot, ValidatorIndex, WithdrawalCredentials,
    };

    use super::*;
    use crate::{Validator, ValidatorData, tracker::TrackedBecause};

    const ETH: u64 = 1_000_000_000;
    const THRESHOLD: Gwei = Gwei(ETH / 10);

    fn pod() -> ExecutionAddress {
        ExecutionAddress::new([0xaa; 20])
    }

    fn validator(prefix: u8) -> TrackedValidator {
        let credentials = if prefix == 0 {
            WithdrawalCredentials::new([0; 32])
        } else {
            WithdrawalCredentials::to_address(prefix, pod())
        };
        TrackedValidator {
            data: ValidatorData {
                index: ValidatorIndex(7),
                balance: Gwei(32 * ETH),
                status: ValidatorStatus::ActiveOngoing,
                validator: Validator {
                    pubkey: BlsPublicKey::new([1; 48]),
                    withdrawal_credentials: credentials,
                    effective_balance: Gwei(32 * ETH),
                    slashed: false,
                    activation_eligibility_epoch: Epoch(0),
                    activation_epoch: Epoch(0),
                    exit_epoch: FAR_FUTURE_EPOCH,
                    withdrawable_epoch: FAR_FUTURE_EPOCH,
                },
            },
            pod: (prefix != 0).then(pod),
            because: TrackedBecause::Pod,
            updated_slot: Slot(64),
            slashed_seen_slot: None,
        }
    }

    #[test]
    fn a_steady_validator_yields_nothing() {
        let v = validator(1);
        assert!(first_seen(&v).is_empty());
        assert!(changes(&v, &v, THRESHOLD).is_empty());
    }

    #[test]
    fn bls_credentials_are_reported_on_first_sight() {
        assert_eq!(
            first_seen(&validator(0)),
            vec![EventKind::UnconvertedCredentials]
        );
    }

    #[test]
    fn a_conversion_to_the_pod_is_a_change_but_not_away() {
        let before = validator(0);
        let now = validator(1);
        assert_eq!(
            changes(&before, &now, THRESHOLD),
            vec![EventKind::CredentialsChanged {
                from: before.credentials(),
                to: now.credentials(),
                away_from_pod: false,
            }]
        );
    }

    #[test]
    fn credentials_leaving_the_pod_are_critical() {
        let before = validator(1);
        let mut now = validator(1);
        now.data.validator.withdrawal_credentials =
            WithdrawalCredentials::to_address(1, ExecutionAddress::new([0xbb; 20]));
        now.pod = None;
        let events = changes(&before, &now, THRESHOLD);
        assert_eq!(events.len(), 1);
        assert!(matches!(
            events[0],
            EventKind::CredentialsChanged {
                away_from_pod: true,
                ..
            }
        ));
        assert_eq!(events[0].severity(), crate::tracker::Severity::Critical);
    }

    #[test]
    fn switching_to_compounding_on_the_same_pod_is_informational() {
        let events = changes(&validator(1), &validator(2), THRESHOLD);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].severity(), crate::tracker::Severity::Info);
    }

    #[test]
    fn activation_is_reported_once() {
        let mut before = validator(1);
        before.data.status = ValidatorStatus::PendingQueued;
        before.data.validator.activation_epoch = FAR_FUTURE_EPOCH;
        let mut now = validator(1);
        now.data.validator.activation_epoch = Epoch(5);
        assert_eq!(
            changes(&before, &now, THRESHOLD),
            vec![EventKind::Activated { epoch: Epoch(5) }]
        );
        assert!(changes(&now, &now, THRESHOLD).is_empty());
    }

    #[test]
    fn a_drop_beyond_the_threshold_is_reported_and_a_small_one_is_not() {
        let before = validator(1);
        let mut now = validator(1);
        now.data.balance = Gwei(32 * ETH - THRESHOLD.0);
        assert!(changes(&before, &now, THRESHOLD).is_empty());
        now.data.balance = Gwei(31 * ETH);
        assert_eq!(
            changes(&before, &now, THRESHOLD),
            vec![EventKind::BalanceDropped {
                from: Gwei(32 * ETH),
                to: Gwei(31 * ETH)
            }]
        );
    }

    #[test]
    fn slashing_is_critical_and_implies_the_exit() {
        let before = validator(1);
        let mut now = validator(1);
        now.data.validator.slashed = true;
        now.data.validator.exit_epoch = Epoch(10);
        now.data.status = ValidatorStatus::ActiveSlashed;
        assert_eq!(changes(&before, &now, THRESHOLD), vec![EventKind::Slashed]);
        assert_eq!(first_seen(&now), vec![EventKind::Slashed]);
        assert_eq!(
            EventKind::Slashed.severity(),
            crate::tracker::Severity::Critical
        );
    }

    #[test]
    fn an_exit_is_reported() {
        let before = validator(2);
        let mut now = validator(2);
        now.data.validator.exit_epoch = Epoch(9);
        now.data.status = ValidatorStatus::ActiveExiting;
        let expected = vec![EventKind::ExitInitiated {
            exit_epoch: Epoch(9),
        }];
        assert_eq!(changes(&before, &now, THRESHOLD), expected);
        assert_eq!(first_seen(&now), expected);
    }

    #[test]
    fn the_sweep_is_a_withdrawal_not_a_drop() {
        let mut before = validator(1);
        before.data.status = ValidatorStatus::WithdrawalPossible;
        before.data.validator.exit_epoch = Epoch(3);
        let mut now = before.clone();
        now.data.status = ValidatorStatus::WithdrawalDone;
        now.data.balance = Gwei(0);
        assert_eq!(
            changes(&before, &now, THRESHOLD),
            vec![EventKind::Withdrawn]
        );
        assert!(first_seen(&now).is_empty());
    }

    #[test]
    fn every_kind_has_its_listed_name() {
        let kinds = [
            EventKind::CredentialsChanged {
                from: WithdrawalCredentials::new([0; 32]),
                to: WithdrawalCredentials::new([0; 32]),
                away_from_pod: false,
            },
            EventKind::UnconvertedCredentials,
            EventKind::Activated { epoch: Epoch(0) },
            EventKind::BalanceDropped {
                from: Gwei(1),
                to: Gwei(0),
            },
            EventKind::Slashed,
            EventKind::ExitInitiated {
                exit_epoch: Epoch(0),
            },
            EventKind::Withdrawn,
        ];
        let names: Vec<_> = kinds.iter().map(EventKind::name).collect();
        assert_eq!(names, EventKind::NAMES);
    }

    proptest! {
        #[test]
        fn identical_readings_never_yield_events(
            prefix in 0u8..3,
            balance in any::<u64>(),
            slashed in any::<bool>(),
            exit in any::<u64>(),
        ) {
            let mut v = validator(prefix);
            v.data.balance = Gwei(balance);
            v.data.validator.slashed = slashed;
            v.data.validator.exit_epoch = Epoch(exit);
            prop_assert!(changes(&v, &v, THRESHOLD).is_empty());
        }

        #[test]
        fn a_drop_event_matches_the_balances(from in any::<u64>(), to in any::<u64>()) {
            let mut before = validator(1);
            before.data.balance = Gwei(from);
            let mut now = validator(1);
            now.data.balance = Gwei(to);
            let dropped = changes(&before, &now, THRESHOLD)
                .contains(&EventKind::BalanceDropped { from: Gwei(from), to: Gwei(to) });
            prop_assert_eq!(dropped, from > to && from - to > THRESHOLD.0);
        }
    }
}
