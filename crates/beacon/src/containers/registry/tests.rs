//! The view against full decoding: on the synthetic states of every fork, on random
//! registries, and on truncated, corrupted and re-spliced bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use ssz_types::{VariableList, typenum::U2};

use super::*;
use crate::containers::{
    BeaconState,
    tests::{deneb_state, electra_state, fulu_state, states},
};

const FORKS: [ForkName; 3] = [ForkName::Deneb, ForkName::Electra, ForkName::Fulu];

/// Asserts the view reads exactly what full decoding produced.
fn assert_agrees(view: &RegistryView<'_>, state: &BeaconState) {
    assert_eq!(view.fork(), state.fork_name());
    assert_eq!(view.slot(), state.slot());
    assert_eq!(view.len(), state.validators().len());
    assert_eq!(view.is_empty(), state.validators().is_empty());
    let entries: Vec<RegistryEntry<'_>> = view.iter().collect();
    assert_eq!(entries.len(), view.len());
    for (i, (decoded, balance)) in state.validators().iter().zip(state.balances()).enumerate() {
        let index = ValidatorIndex(i as u64);
        let record = view.validator(index).unwrap();
        assert_eq!(record.to_validator(), *decoded, "validator {i}");
        assert_eq!(record.pubkey(), decoded.pubkey());
        assert_eq!(
            record.withdrawal_credentials(),
            decoded.withdrawal_credentials()
        );
        assert_eq!(record.effective_balance(), decoded.effective_balance());
        assert_eq!(record.slashed(), decoded.slashed());
        assert_eq!(
            record.activation_eligibility_epoch(),
            decoded.activation_eligibility_epoch()
        );
        assert_eq!(record.activation_epoch(), decoded.activation_epoch());
        assert_eq!(record.exit_epoch(), decoded.exit_epoch());
        assert_eq!(record.withdrawable_epoch(), decoded.withdrawable_epoch());
        assert_eq!(view.balance(index), Some(Gwei(*balance)));
        assert_eq!(
            entries[i],
            RegistryEntry {
                index,
                validator: record,
                balance: Gwei(*balance),
            }
        );
    }
    let past = ValidatorIndex(view.len() as u64);
    assert_eq!(view.validator(past), None);
    assert_eq!(view.balance(past), None);
    assert_eq!(view.validator(ValidatorIndex(u64::MAX)), None);
}

/// The bytes of a state whose field `name` holds `value` instead, offsets rewritten: how to
/// build encodings the containers themselves refuse to hold (too many items, a part item).
fn with_field(fork: ForkName, bytes: &[u8], name: &str, value: &[u8]) -> Vec<u8> {
    let fields = state_fields(fork).unwrap();
    let spans = field_spans(&fields, bytes).unwrap();
    assert!(fields.iter().any(|field| field.name == name), "{name}");
    let fixed_len: usize = fields.iter().map(|field| field.fixed_len).sum();
    let (mut fixed, mut variable) = (Vec::new(), Vec::new());
    for (field, span) in fields.iter().zip(spans) {
        let value = if field.name == name {
            value
        } else {
            &bytes[span]
        };
        if field.variable {
            let offset = u32::try_from(fixed_len + variable.len()).unwrap();
            fixed.extend_from_slice(&offset.to_le_bytes());
            variable.extend_from_slice(value);
        } else {
            fixed.extend_from_slice(value);
        }
    }
    fixed.extend(variable);
    fixed
}

/// The bytes of field `name` in a valid state's encoding.
fn field_bytes<'a>(fork: ForkName, bytes: &'a [u8], name: &str) -> &'a [u8] {
    let fields = state_fields(fork).unwrap();
    let spans = field_spans(&fields, bytes).unwrap();
    let i = fields.iter().position(|field| field.name == name).unwrap();
    &bytes[spans[i].clone()]
}

/// The position in the fixed-size part of field `name` (its value, or its offset).
fn fixed_position(fork: ForkName, name: &str) -> usize {
    let fields = state_fields(fork).unwrap();
    let i = fields.iter().position(|field| field.name == name).unwrap();
    fields[..i].iter().map(|field| field.fixed_len).sum()
}

/// The view's error, which must be `SszDecode` for this fork and a `BeaconState`; its reason.
fn rejection(fork: ForkName, bytes: &[u8]) -> String {
    match RegistryView::from_state_ssz(fork, bytes) {
        Err(Error::SszDecode {
            fork: f,
            container,
            len,
            reason,
        }) => {
            assert_eq!((f, container, len), (fork, "BeaconState", bytes.len()));
            reason
        }
        other => panic!("expected SszDecode, got {other:?}"),
    }
}

#[test]
fn view_agrees_with_full_decoding_for_every_fork() {
    for state in states() {
        let bytes = state.as_ssz_bytes();
        let view = RegistryView::from_state_ssz(state.fork_name(), &bytes).unwrap();
        assert_agrees(&view, &state);
        assert_eq!(view.len(), 4);
        assert!(view.validator(ValidatorIndex(2)).unwrap().slashed());
    }
}

#[test]
fn layout_matches_the_containers() {
    assert_eq!(<Validator as Decode>::ssz_fixed_len(), VALIDATOR_LEN);
    // The first offset (historical_roots) follows the fixed fields before it; this is the
    // position `garbage_with_a_wild_offset_is_an_error` computes by hand.
    for fork in FORKS {
        assert_eq!(
            fixed_position(fork, "historical_roots"),
            8 + 32 + 8 + 16 + 112 + 2 * 8192 * 32
        );
    }
    for state in states() {
        let bytes = state.as_ssz_bytes();
        let fields = state_fields(state.fork_name()).unwrap();
        let fixed_len: usize = fields.iter().map(|field| field.fixed_len).sum();
        let first = fixed_position(state.fork_name(), "historical_roots");
        assert_eq!(
            u32::from_le_bytes(bytes[first..first + 4].try_into().unwrap()) as usize,
            fixed_len,
            "{}",
            state.fork_name()
        );
        // Re-splicing every field unchanged reproduces the encoding.
        for field in &fields {
            let value = field_bytes(state.fork_name(), &bytes, field.name).to_vec();
            assert_eq!(
                with_field(state.fork_name(), &bytes, field.name, &value),
                bytes
            );
        }
    }
    // Electra adds 6 u64s and 3 offsets, Fulu 64 u64s more.
    let fixed = |fork| -> usize {
        state_fields(fork)
            .unwrap()
            .iter()
            .map(|field| field.fixed_len)
            .sum()
    };
    assert_eq!(
        fixed(ForkName::Electra) - fixed(ForkName::Deneb),
        6 * 8 + 3 * 4
    );
    assert_eq!(fixed(ForkName::Fulu) - fixed(ForkName::Electra), 64 * 8);
}

#[test]
fn forks_before_deneb_are_unsupported() {
    let bytes = states()[0].as_ssz_bytes();
    for fork in [
        ForkName::Phase0,
        ForkName::Altair,
        ForkName::Bellatrix,
        ForkName::Capella,
    ] {
        assert!(matches!(
            RegistryView::from_state_ssz(fork, &bytes),
            Err(Error::UnsupportedFork {
                container: "BeaconState",
                ..
            })
        ));
    }
}

#[test]
fn a_state_of_another_fork_is_rejected() {
    for state in states() {
        let bytes = state.as_ssz_bytes();
        for fork in FORKS {
            if fork != state.fork_name() {
                rejection(fork, &bytes);
            }
        }
    }
}

#[test]
fn truncations_are_rejected() {
    for state in states() {
        let fork = state.fork_name();
        let bytes = state.as_ssz_bytes();
        let fixed_len = fixed_position(fork, "historical_roots");
        for cut in [0, 1, fixed_len, bytes.len() / 2, bytes.len() - 1] {
            let reason = rejection(fork, &bytes[..cut]);
            assert!(!reason.is_empty());
        }
        assert!(rejection(fork, &bytes[..100]).contains("fixed-size part"));
    }
}

#[test]
fn bad_offsets_are_rejected_naming_the_field() {
    for state in states() {
        let fork = state.fork_name();
        let bytes = state.as_ssz_bytes();
        let set_offset = |name: &str, offset: u32| {
            let mut bytes = bytes.clone();
            let at = fixed_position(fork, name);
            bytes[at..at + 4].copy_from_slice(&offset.to_le_bytes());
            bytes
        };
        let at = |name| fixed_position(fork, name);
        let offset = |name| u32::from_le_bytes(bytes[at(name)..at(name) + 4].try_into().unwrap());

        let reason = rejection(fork, &set_offset("validators", u32::MAX));
        assert!(
            reason.contains("`validators`") && reason.contains("past the end"),
            "{reason}"
        );
        let reason = rejection(
            fork,
            &set_offset("historical_roots", offset("historical_roots") + 1),
        );
        assert!(
            reason.contains("`historical_roots`") && reason.contains("fixed-size part"),
            "{reason}"
        );
        let reason = rejection(fork, &set_offset("balances", offset("validators") - 1));
        assert!(
            reason.contains("`balances`") && reason.contains("before"),
            "{reason}"
        );
        // One byte moved from the end of the validators to the balances: neither is whole.
        let reason = rejection(fork, &set_offset("balances", offset("balances") - 1));
        assert!(
            reason.contains("`validators`") && reason.contains("121"),
            "{reason}"
        );
        for corrupted in [
            set_offset("validators", u32::MAX),
            set_offset("balances", offset("balances") - 1),
        ] {
            assert!(BeaconState::from_ssz_bytes(fork, &corrupted).is_err());
        }
    }
}

#[test]
fn a_slashed_byte_other_than_0_or_1_is_rejected() {
    for state in states() {
        let fork = state.fork_name();
        let mut bytes = state.as_ssz_bytes();
        let validators = u32::from_le_bytes(
            bytes[fixed_position(fork, "validators")..][..4]
                .try_into()
                .unwrap(),
        ) as usize;
        bytes[validators + 3 * VALIDATOR_LEN + SLASHED] = 2;
        let reason = rejection(fork, &bytes);
        assert!(
            reason.contains("`validators`") && reason.contains("validator 3 has slashed byte 0x02"),
            "{reason}"
        );
        assert!(BeaconState::from_ssz_bytes(fork, &bytes).is_err());
    }
}

#[test]
fn balances_must_match_the_registry() {
    for state in states() {
        let fork = state.fork_name();
        let bytes = state.as_ssz_bytes();
        let balances = field_bytes(fork, &bytes, "balances");
        for value in [&balances[..24], &[balances, &[0; 8]].concat()[..]] {
            let spliced = with_field(fork, &bytes, "balances", value);
            // The decoder does not relate the two lists; the view does.
            assert!(BeaconState::from_ssz_bytes(fork, &spliced).is_ok());
            let reason = rejection(fork, &spliced);
            assert!(reason.contains("`balances`"), "{reason}");
        }
        let spliced = with_field(fork, &bytes, "balances", &balances[..31]);
        assert!(rejection(fork, &spliced).contains("`balances`: 31 bytes"));
    }
}

#[test]
fn every_field_is_validated_as_the_decoder_does() {
    let state = BeaconState::Electra(Box::new(electra_state()));
    let fork = ForkName::Electra;
    let bytes = state.as_ssz_bytes();
    let votes = field_bytes(fork, &bytes, "eth1_data_votes").to_vec();
    let too_many_votes = votes.repeat(2049);
    let header = field_bytes(fork, &bytes, "latest_execution_payload_header").to_vec();
    let mut justification_bits = field_bytes(fork, &bytes, "justification_bits").to_vec();
    justification_bits[0] = 0xff;
    for (name, value) in [
        ("eth1_data_votes", &too_many_votes[..]),
        ("pending_consolidations", &[0; 17][..]),
        // Cut inside its fixed-size part (its end is `extra_data`, which may be shorter).
        ("latest_execution_payload_header", &header[..100]),
        ("justification_bits", &justification_bits[..]),
        ("previous_epoch_participation", &[0; 1][..]),
    ] {
        let spliced = with_field(fork, &bytes, name, value);
        let view = RegistryView::from_state_ssz(fork, &spliced);
        let decoded = BeaconState::from_ssz_bytes(fork, &spliced);
        match name {
            // Participation is not related to the registry's length by either.
            "previous_epoch_participation" => {
                assert!(view.is_ok() && decoded.is_ok());
            }
            _ => {
                let reason = rejection(fork, &spliced);
                assert!(reason.contains(&format!("`{name}`")), "{reason}");
                assert!(decoded.is_err(), "{name}");
            }
        }
    }
    assert!(
        rejection(
            fork,
            &with_field(fork, &bytes, "eth1_data_votes", &too_many_votes)
        )
        .contains("exceed the limit of 2048")
    );
}

#[test]
fn list_lengths_respect_item_size_and_limit() {
    assert_eq!(list_len::<u64, U2>(&[]), Ok(0));
    assert_eq!(list_len::<u64, U2>(&[0; 16]), Ok(2));
    assert!(
        list_len::<u64, U2>(&[0; 24])
            .unwrap_err()
            .contains("limit of 2")
    );
    assert!(
        list_len::<u64, U2>(&[0; 9])
            .unwrap_err()
            .contains("8-byte items")
    );
}

#[test]
fn types_said_to_accept_any_bytes_do() {
    fn decodes<T: AnyBytesValid>(fill: u8) {
        assert!(T::from_ssz_bytes(&vec![fill; T::ssz_fixed_len()]).is_ok());
    }
    for fill in [0, 1, 0x80, 0xff] {
        decodes::<u8>(fill);
        decodes::<u64>(fill);
        decodes::<[u8; 32]>(fill);
        decodes::<Fork>(fill);
        decodes::<BeaconBlockHeader>(fill);
        decodes::<Eth1Data>(fill);
        decodes::<Checkpoint>(fill);
        decodes::<SyncCommittee>(fill);
        decodes::<HistoricalSummary>(fill);
        decodes::<PendingDeposit>(fill);
        decodes::<PendingPartialWithdrawal>(fill);
        decodes::<PendingConsolidation>(fill);
    }
}

#[test]
fn debug_shows_the_size_not_the_registry() {
    let bytes = states()[1].as_ssz_bytes();
    let view = RegistryView::from_state_ssz(ForkName::Electra, &bytes).unwrap();
    assert_eq!(
        format!("{view:?}"),
        "RegistryView { fork: Electra, slot: Slot(42), validators: 4 }"
    );
}

fn arb_validator() -> impl Strategy<Value = Validator> {
    (
        proptest::array::uniform::<_, 48>(any::<u8>()),
        (0u8..4, proptest::array::uniform::<_, 31>(any::<u8>())),
        any::<u64>(),
        any::<bool>(),
        [any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()],
    )
        .prop_map(
            |(pubkey, (prefix, rest), effective_balance, slashed, epochs)| {
                let mut withdrawal_credentials = [0; 32];
                withdrawal_credentials[0] = prefix;
                withdrawal_credentials[1..].copy_from_slice(&rest);
                let [
                    activation_eligibility_epoch,
                    activation_epoch,
                    exit_epoch,
                    withdrawable_epoch,
                ] = epochs;
                Validator {
                    pubkey,
                    withdrawal_credentials,
                    effective_balance,
                    slashed,
                    activation_eligibility_epoch,
                    activation_epoch,
                    exit_epoch,
                    withdrawable_epoch,
                }
            },
        )
}

/// A state of `fork` with the given registry, slot and lengths of the lists before and after
/// the registry, which move its offsets.
fn state_with(
    fork: ForkName,
    validators: Vec<Validator>,
    slot: u64,
    historical_roots: usize,
    pending_deposits: usize,
) -> BeaconState {
    let balances: Vec<u64> = validators
        .iter()
        .map(|v| v.effective_balance ^ 0x5a5a)
        .collect();
    let n = validators.len();
    let mut state = electra_state();
    state.slot = slot;
    state.historical_roots = VariableList::new(vec![[9; 32]; historical_roots]).unwrap();
    state.validators = VariableList::new(validators).unwrap();
    state.balances = VariableList::new(balances).unwrap();
    state.previous_epoch_participation = VariableList::new(vec![1; n]).unwrap();
    state.inactivity_scores = VariableList::new(vec![2; n]).unwrap();
    state.pending_deposits =
        VariableList::new(vec![state.pending_deposits[0]; pending_deposits]).unwrap();
    match fork {
        ForkName::Electra => BeaconState::Electra(Box::new(state)),
        ForkName::Fulu => {
            let mut fulu = fulu_state();
            fulu.slot = state.slot;
            fulu.historical_roots = state.historical_roots;
            fulu.validators = state.validators;
            fulu.balances = state.balances;
            fulu.previous_epoch_participation = state.previous_epoch_participation;
            fulu.inactivity_scores = state.inactivity_scores;
            fulu.pending_deposits = state.pending_deposits;
            BeaconState::Fulu(Box::new(fulu))
        }
        _ => {
            let mut deneb = deneb_state();
            deneb.slot = state.slot;
            deneb.historical_roots = state.historical_roots;
            deneb.validators = state.validators;
            deneb.balances = state.balances;
            deneb.previous_epoch_participation = state.previous_epoch_participation;
            deneb.inactivity_scores = state.inactivity_scores;
            BeaconState::Deneb(Box::new(deneb))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn view_agrees_on_random_registries(
        fork in proptest::sample::select(FORKS.to_vec()),
        validators in proptest::collection::vec(arb_validator(), 0..40),
        slot in any::<u64>(),
        historical_roots in 0usize..3,
        pending_deposits in 0usize..3,
    ) {
        let state = state_with(fork, validators, slot, historical_roots, pending_deposits);
        let bytes = state.as_ssz_bytes();
        let view = RegistryView::from_state_ssz(fork, &bytes).unwrap();
        assert_agrees(&view, &state);
    }

    #[test]
    fn viewing_arbitrary_bytes_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        fork in proptest::sample::select(ForkName::ALL.to_vec()),
    ) {
        let _ = RegistryView::from_state_ssz(fork, &bytes);
    }

    /// Any byte changed anywhere, or any offset rewritten: no panic, and the view accepts
    /// exactly what the decoder accepts (with one balance per validator), agreeing with it.
    #[test]
    fn corruptions_are_rejected_exactly_when_the_decoder_rejects_them(
        which in 0usize..3,
        index in any::<proptest::sample::Index>(),
        value in any::<u8>(),
        offset_field in any::<proptest::sample::Index>(),
        offset in prop_oneof![any::<u32>(), 2_000_000u32..3_000_000],
        cut in any::<proptest::sample::Index>(),
    ) {
        let state = &states()[which];
        let fork = state.fork_name();
        let valid = state.as_ssz_bytes();
        let mut byte_changed = valid.clone();
        byte_changed[index.index(valid.len())] = value;
        let variable: Vec<&str> = state_fields(fork)
            .unwrap()
            .iter()
            .filter(|field| field.variable)
            .map(|field| field.name)
            .collect();
        let mut offset_changed = valid.clone();
        let at = fixed_position(fork, offset_field.get::<&str>(&variable));
        offset_changed[at..at + 4].copy_from_slice(&offset.to_le_bytes());
        let truncated = valid[..cut.index(valid.len())].to_vec();
        for bytes in [byte_changed, offset_changed, truncated] {
            let view = RegistryView::from_state_ssz(fork, &bytes);
            let decoded = BeaconState::from_ssz_bytes(fork, &bytes);
            match (&view, &decoded) {
                (Ok(view), Ok(decoded)) => assert_agrees(view, decoded),
                (Err(_), Ok(decoded)) => {
                    prop_assert_ne!(decoded.validators().len(), decoded.balances().len());
                }
                (Ok(_), Err(e)) => prop_assert!(false, "the view accepted what decoding refused: {e}"),
                (Err(Error::SszDecode { .. }), Err(_)) => {}
                (Err(e), Err(_)) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
