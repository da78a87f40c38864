//! The validators and balances endpoints: filters, the POST forms, and every scenario case at
//! its slot.

use proptest::{prelude::*, test_runner::TestRunner};
use restake_beacon::{StateId, StatusFilter, ValidatorData, ValidatorId, ValidatorStatus};
use restake_devnet::{DevnetConfig, Scenario};
use restake_types::{Epoch, Gwei, Slot, ValidatorIndex, WithdrawalCredentials, WithdrawalPrefix};

use crate::support::{TestNet, manual_config, start};

async fn one(net: &TestNet, state: StateId, index: ValidatorIndex) -> ValidatorData {
    let mut data = net
        .client
        .validators(state, &[ValidatorId::Index(index)], &[])
        .await
        .unwrap()
        .data;
    assert_eq!(data.len(), 1, "validator {index} at {state}");
    data.remove(0)
}

#[tokio::test]
async fn filters_by_index_public_key_and_status() {
    let net = start(manual_config()).await;
    let scenario = net.devnet.scenario().clone();
    let key = Scenario::pubkey(ValidatorIndex(7));
    let data = net
        .client
        .validators(
            StateId::Head,
            &[
                ValidatorId::Index(ValidatorIndex(0)),
                ValidatorId::PublicKey(key),
                ValidatorId::Index(ValidatorIndex(100_000)),
            ],
            &[],
        )
        .await
        .unwrap()
        .data;
    let indices: Vec<u64> = data.iter().map(|d| d.index.get()).collect();
    assert_eq!(indices, vec![0, 7]);
    assert_eq!(data[1].validator.pubkey, key);

    let pending = net
        .client
        .validators(StateId::Head, &[], &[StatusFilter::Pending])
        .await
        .unwrap()
        .data;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].index, scenario.pending.index);
    assert_eq!(pending[0].status, ValidatorStatus::PendingInitialized);

    let done = net
        .client
        .validators(
            StateId::Genesis,
            &[],
            &[
                StatusFilter::Exact(ValidatorStatus::WithdrawalDone),
                StatusFilter::Exited,
            ],
        )
        .await
        .unwrap()
        .data;
    let indices: Vec<ValidatorIndex> = done.iter().map(|d| d.index).collect();
    assert_eq!(
        indices,
        vec![scenario.slashed_at_genesis, scenario.withdrawn]
    );

    // More ids than a GET takes: the client POSTs them.
    let ids: Vec<ValidatorId> = (0..100)
        .map(|i| ValidatorId::Index(ValidatorIndex(i)))
        .collect();
    let many = net
        .client
        .validators(StateId::Head, &ids, &[StatusFilter::Active])
        .await
        .unwrap()
        .data;
    assert_eq!(
        many.len(),
        97,
        "all but the pending, withdrawn and exited-slashed ones"
    );
    let balances = net
        .client
        .validator_balances(StateId::Head, &ids)
        .await
        .unwrap()
        .data;
    assert_eq!(balances.len(), 100);
    assert_eq!(balances[scenario.withdrawn.get() as usize].balance, Gwei(0));
    let few = net
        .client
        .validator_balances(StateId::Head, &ids[..3])
        .await
        .unwrap()
        .data;
    assert_eq!(few.len(), 3);
    assert_eq!(few[0].balance, Gwei(32_000_000_000));
}

#[test]
fn any_id_and_status_selection_matches_the_registry() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let net = runtime.block_on(start(manual_config()));
    let state = net.devnet.state_at(Slot(0)).unwrap();
    let statuses = [
        StatusFilter::Active,
        StatusFilter::Pending,
        StatusFilter::Exited,
        StatusFilter::Withdrawal,
        StatusFilter::Exact(ValidatorStatus::ActiveOngoing),
        StatusFilter::Exact(ValidatorStatus::ExitedSlashed),
    ];
    let strategy = (
        proptest::collection::vec((0u64..300, any::<bool>()), 0..80),
        proptest::sample::subsequence(statuses.to_vec(), 0..3),
    );
    let mut runner = TestRunner::new(ProptestConfig::with_cases(24));
    runner
        .run(&strategy, |(ids, filters)| {
            let request: Vec<ValidatorId> = ids
                .iter()
                .map(|(index, by_key)| {
                    let index = ValidatorIndex(*index);
                    if *by_key {
                        ValidatorId::PublicKey(Scenario::pubkey(index))
                    } else {
                        ValidatorId::Index(index)
                    }
                })
                .collect();
            let answer = runtime
                .block_on(net.client.validators(StateId::Genesis, &request, &filters))
                .unwrap()
                .data;
            let mut got: Vec<u64> = answer.iter().map(|d| d.index.get()).collect();
            got.sort_unstable();
            let wanted_status = |status: ValidatorStatus| {
                filters.is_empty()
                    || filters.iter().any(|f| match f {
                        StatusFilter::Exact(s) => *s == status,
                        group => status.as_str().starts_with(group.as_str()),
                    })
            };
            let mut expected: Vec<u64> = ids
                .iter()
                .map(|(index, _)| *index)
                .filter(|i| *i < state.validators.len() as u64)
                .filter(|i| {
                    let entry = answer.iter().find(|d| d.index.get() == *i);
                    entry.is_none_or(|d| wanted_status(d.status))
                })
                .collect();
            expected.sort_unstable();
            expected.dedup();
            // Every returned validator matches the filter and its record.
            for data in &answer {
                prop_assert!(wanted_status(data.status));
                let record = &state.validators[data.index.get() as usize];
                prop_assert_eq!(data.validator.pubkey.as_bytes(), &record.pubkey);
            }
            // Every requested, existing validator of a wanted status is returned.
            let missing: Vec<&u64> = expected.iter().filter(|i| !got.contains(i)).collect();
            for index in missing {
                let data = runtime.block_on(one(&net, StateId::Genesis, ValidatorIndex(*index)));
                prop_assert!(!wanted_status(data.status), "{index} left out");
            }
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn every_scenario_case_shows_at_its_slot() {
    let config = DevnetConfig {
        bls_change_slot: Slot(2),
        slash_slot: Slot(3),
        exit_slot: Slot(4),
        activation_epoch: Epoch(2),
        ..manual_config()
    };
    let net = start(config).await;
    let s = net.devnet.scenario().clone();
    let pod = s.pod;
    let at = |slot: u64| StateId::Slot(Slot(slot));

    // Genesis: credentials of every kind, and the cases settled before genesis.
    let genesis = net
        .client
        .validators(StateId::Genesis, &[], &[])
        .await
        .unwrap()
        .data;
    for data in &genesis {
        let credentials = data.validator.withdrawal_credentials;
        let expected_kind = [
            (&s.bls, WithdrawalPrefix::Bls, None),
            (&s.eth1_pod, WithdrawalPrefix::Eth1, Some(pod)),
            (&s.compounding_pod, WithdrawalPrefix::Compounding, Some(pod)),
            (&s.eth1_other, WithdrawalPrefix::Eth1, Some(s.other_address)),
            (
                &s.compounding_other,
                WithdrawalPrefix::Compounding,
                Some(s.other_address),
            ),
        ]
        .into_iter()
        .find(|(list, _, _)| list.contains(&data.index))
        .map(|(_, prefix, address)| (prefix, address))
        .unwrap();
        assert_eq!(
            (credentials.prefix(), credentials.execution_address()),
            expected_kind,
            "validator {}",
            data.index
        );
    }
    let status = |index: ValidatorIndex| genesis[index.get() as usize].status;
    assert_eq!(status(s.slashed_at_genesis), ValidatorStatus::ExitedSlashed);
    assert!(
        genesis[s.slashed_at_genesis.get() as usize]
            .validator
            .slashed
    );
    assert_eq!(status(s.withdrawn), ValidatorStatus::WithdrawalDone);
    assert_eq!(genesis[s.withdrawn.get() as usize].balance, Gwei(0));
    assert_eq!(status(s.pending.index), ValidatorStatus::PendingInitialized);
    assert_eq!(status(s.slashing.index), ValidatorStatus::ActiveOngoing);
    assert_eq!(status(s.exit.index), ValidatorStatus::ActiveOngoing);
    assert_eq!(status(ValidatorIndex(10)), ValidatorStatus::ActiveOngoing);

    // Slot 2: the BLS change moves validator 1 to 0x01 credentials at the pod.
    net.devnet.advance_to(Slot(2)).await.unwrap();
    let before = one(&net, at(1), s.bls_change.index).await;
    assert_eq!(
        before.validator.withdrawal_credentials.prefix(),
        WithdrawalPrefix::Bls
    );
    let after = one(&net, at(2), s.bls_change.index).await;
    assert_eq!(
        after.validator.withdrawal_credentials,
        WithdrawalCredentials::to_address(0x01, pod)
    );
    let block = net.devnet.block_at(Slot(2)).unwrap();
    assert_eq!(block.message.body.bls_to_execution_changes.len(), 1);

    // Slot 3: slashed, exit and withdrawable epochs set, 1 ETH gone.
    net.devnet.advance_to(Slot(3)).await.unwrap();
    let before = one(&net, at(2), s.slashing.index).await;
    let slashed = one(&net, at(3), s.slashing.index).await;
    assert_eq!(slashed.status, ValidatorStatus::ActiveSlashed);
    assert!(slashed.validator.slashed);
    assert_eq!(slashed.validator.exit_epoch, Epoch(5));
    assert_eq!(slashed.validator.withdrawable_epoch, Epoch(8192));
    assert_eq!(slashed.balance.get(), before.balance.get() - 1_000_000_000);
    let block = net.devnet.block_at(Slot(3)).unwrap();
    assert_eq!(block.message.body.proposer_slashings.len(), 1);

    // Slot 4: a voluntary exit.
    net.devnet.advance_to(Slot(4)).await.unwrap();
    let exiting = one(&net, at(4), s.exit.index).await;
    assert_eq!(exiting.status, ValidatorStatus::ActiveExiting);
    assert_eq!(exiting.validator.exit_epoch, Epoch(5));
    assert_eq!(exiting.validator.withdrawable_epoch, Epoch(5 + 256));
    assert_eq!(
        one(&net, at(3), s.exit.index).await.status,
        ValidatorStatus::ActiveOngoing
    );

    // Epoch 1: rewards paid, the pending validator queued; epoch 2: it is active.
    net.devnet.advance_to(Slot(64)).await.unwrap();
    let reward_before = one(&net, at(31), ValidatorIndex(10)).await.balance;
    let reward_after = one(&net, at(32), ValidatorIndex(10)).await.balance;
    assert!(
        reward_after > reward_before,
        "{reward_after} after {reward_before}"
    );
    let penalised = one(&net, at(32), s.slashing.index).await;
    assert!(penalised.balance < slashed.balance);
    assert_eq!(penalised.validator.effective_balance, Gwei(30_000_000_000));
    assert_eq!(
        one(&net, at(31), s.pending.index).await.status,
        ValidatorStatus::PendingInitialized
    );
    let queued = one(&net, at(32), s.pending.index).await;
    assert_eq!(queued.status, ValidatorStatus::PendingQueued);
    assert_eq!(queued.validator.activation_epoch, Epoch(2));
    assert_eq!(
        one(&net, at(64), s.pending.index).await.status,
        ValidatorStatus::ActiveOngoing
    );
    assert_eq!(one(&net, at(64), s.withdrawn).await.balance, Gwei(0));
}
