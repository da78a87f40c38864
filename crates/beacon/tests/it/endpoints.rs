//! Each endpoint's happy path, with the shapes of the Beacon API specification.

use restake_beacon::{
    BlockId, EndpointHealth, ForkName, ForkVersion, Root, StateId, StatusFilter, ValidatorId,
    ValidatorStatus,
};
use restake_types::{
    BlsPublicKey, Epoch, ExecutionAddress, Gwei, Slot, ValidatorIndex, WithdrawalPrefix,
};

use crate::support::{
    BLOCK_ROOT, GENESIS_VALIDATORS_ROOT, MockBeacon, POD, SKIPPED_SLOT, client, fast_config,
    pubkey_hex, query_values,
};

#[tokio::test]
async fn genesis_and_spec_are_read_from_the_api_shapes() {
    let node = MockBeacon::start().await;
    let (client, _) = client(fast_config(&[&node.url]));

    let genesis = client.genesis().await.unwrap();
    assert_eq!(genesis.genesis_time, 1_606_824_023);
    assert_eq!(
        genesis.genesis_validators_root,
        GENESIS_VALIDATORS_ROOT.parse::<Root>().unwrap()
    );
    assert_eq!(genesis.genesis_fork_version, ForkVersion::new([0; 4]));

    let spec = client.spec().await.unwrap();
    assert_eq!(spec.slots_per_epoch(), Some(32));
    assert_eq!(spec.fork_epoch(ForkName::Electra), Some(Epoch(364_032)));
    assert_eq!(spec.fork_epoch(ForkName::Fulu), Some(Epoch(u64::MAX)));
    assert_eq!(spec.fork_at_epoch(Epoch(400_000)), ForkName::Electra);
    assert_eq!(
        spec.get_u64("MAX_EFFECTIVE_BALANCE_ELECTRA"),
        Some(2_048_000_000_000)
    );

    let requests = node.requests();
    assert_eq!(requests[0].path, "/eth/v1/beacon/genesis");
    assert_eq!(requests[0].accept, "application/json");
    assert_eq!(requests[1].path, "/eth/v1/config/spec");
}

#[tokio::test]
async fn headers_are_read_and_a_skipped_slot_is_none() {
    let node = MockBeacon::start().await;
    let (client, _) = client(fast_config(&[&node.url]));

    let header = client.header(BlockId::Head).await.unwrap().unwrap();
    assert_eq!(header.execution_optimistic, Some(false));
    assert_eq!(header.data.root, BLOCK_ROOT.parse::<Root>().unwrap());
    assert!(header.data.canonical);
    assert_eq!(header.data.header.message.slot, Slot(12_345));
    assert_eq!(header.data.header.message.proposer_index, ValidatorIndex(1));

    let by_slot = client
        .header(BlockId::Slot(Slot(77)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_slot.data.header.message.slot, Slot(77));

    assert_eq!(
        client
            .header(BlockId::Slot(Slot(SKIPPED_SLOT)))
            .await
            .unwrap(),
        None
    );
    // A 404 is an answer, not a failure of the endpoint.
    assert_eq!(
        client.endpoint_statuses()[0].health,
        EndpointHealth::Healthy
    );
    assert_eq!(
        node.requests()[2].path,
        format!("/eth/v1/beacon/headers/{SKIPPED_SLOT}")
    );
}

#[tokio::test]
async fn blocks_come_as_ssz_bytes_with_their_fork() {
    let node = MockBeacon::start().await;
    let (client, _) = client(fast_config(&[&node.url]));

    let block = client.block_ssz(BlockId::Finalized).await.unwrap().unwrap();
    assert_eq!(block.fork, ForkName::Electra);
    assert_eq!(block.bytes.len(), 1000);
    assert_eq!(block.bytes[252], 1);
    assert_eq!(block.execution_optimistic, None);

    assert!(
        client
            .block_ssz(BlockId::Slot(Slot(SKIPPED_SLOT)))
            .await
            .unwrap()
            .is_none()
    );
    let request = &node.requests()[0];
    assert_eq!(request.path, "/eth/v2/beacon/blocks/finalized");
    assert_eq!(request.accept, "application/octet-stream");
}

#[tokio::test]
async fn finality_checkpoints_are_read() {
    let node = MockBeacon::start().await;
    let (client, _) = client(fast_config(&[&node.url]));

    let finality = client.finality_checkpoints(StateId::Head).await.unwrap();
    assert_eq!(finality.data.finalized.epoch, Epoch(384));
    assert_eq!(finality.data.current_justified.epoch, Epoch(385));
    assert_eq!(
        finality.data.previous_justified.root,
        BLOCK_ROOT.parse::<Root>().unwrap()
    );
    assert_eq!(
        node.requests()[0].path,
        "/eth/v1/beacon/states/head/finality_checkpoints"
    );
}

#[tokio::test]
async fn validators_by_get_carry_ids_and_statuses_in_the_query() {
    let node = MockBeacon::start().await;
    let (client, _) = client(fast_config(&[&node.url]));
    let key: BlsPublicKey = pubkey_hex(9).parse().unwrap();

    let response = client
        .validators(
            StateId::Finalized,
            &[
                ValidatorId::Index(ValidatorIndex(3)),
                ValidatorId::PublicKey(key),
                ValidatorId::Index(ValidatorIndex(3)),
            ],
            &[
                StatusFilter::Exact(ValidatorStatus::ActiveOngoing),
                StatusFilter::Exited,
            ],
        )
        .await
        .unwrap();

    assert_eq!(response.finalized, Some(true));
    let indices: Vec<u64> = response.data.iter().map(|v| v.index.get()).collect();
    assert_eq!(indices, vec![3, 9]);
    let nine = &response.data[1];
    assert_eq!(nine.validator.pubkey, key);
    assert_eq!(nine.balance, Gwei(32_000_000_000));
    assert_eq!(nine.status, ValidatorStatus::ActiveOngoing);
    assert_eq!(nine.validator.exit_epoch, Epoch(u64::MAX));
    assert_eq!(
        nine.validator.withdrawal_credentials.prefix(),
        WithdrawalPrefix::Eth1
    );
    let pod: ExecutionAddress = format!("0x{POD}").parse().unwrap();
    assert_eq!(
        nine.validator.withdrawal_credentials.execution_address(),
        Some(pod)
    );

    let request = &node.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/eth/v1/beacon/states/finalized/validators");
    assert_eq!(
        query_values(&request.query, "id"),
        vec!["3".to_owned(), pubkey_hex(9)]
    );
    assert_eq!(
        query_values(&request.query, "status"),
        vec!["active_ongoing".to_owned(), "exited".to_owned()]
    );
}

#[tokio::test]
async fn many_validator_ids_go_in_a_post_body() {
    let node = MockBeacon::start().await;
    let (client, _) = client(fast_config(&[&node.url]));
    let ids: Vec<ValidatorId> = (0..100)
        .map(|i| ValidatorId::Index(ValidatorIndex(i)))
        .collect();

    let response = client
        .validators(StateId::Slot(Slot(64)), &ids, &[StatusFilter::Active])
        .await
        .unwrap();
    assert_eq!(response.data.len(), 100);

    let request = &node.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/eth/v1/beacon/states/64/validators");
    assert_eq!(request.query, "");
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["ids"].as_array().unwrap().len(), 100);
    assert_eq!(body["ids"][42], "42");
    assert_eq!(body["statuses"], serde_json::json!(["active"]));
}

#[tokio::test]
async fn validator_balances_by_get_and_by_post() {
    let node = MockBeacon::start().await;
    let (client, _) = client(fast_config(&[&node.url]));

    let few = client
        .validator_balances(
            StateId::Head,
            &[ValidatorIndex(5).into(), ValidatorIndex(6).into()],
        )
        .await
        .unwrap();
    assert_eq!(few.data.len(), 2);
    assert_eq!(few.data[0].index, ValidatorIndex(5));
    assert_eq!(few.data[0].balance, Gwei(32_000_000_005));

    let ids: Vec<ValidatorId> = (0..65).map(|i| ValidatorIndex(i).into()).collect();
    let many = client
        .validator_balances(StateId::Head, &ids)
        .await
        .unwrap();
    assert_eq!(many.data.len(), 65);

    let requests = node.requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].query, "id=5&id=6");
    assert_eq!(requests[1].method, "POST");
    let body: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(body.as_array().unwrap().len(), 65);
}

#[tokio::test]
async fn a_large_ssz_state_is_streamed_whole_with_its_fork() {
    let node = MockBeacon::start().await;
    node.set_state_bytes(8 << 20);
    let (client, _) = client(fast_config(&[&node.url]));

    let state = client.state_ssz(StateId::Finalized).await.unwrap();
    assert_eq!(state.fork, ForkName::Electra);
    assert_eq!(state.bytes.len(), 8 << 20);
    assert!(
        state
            .bytes
            .iter()
            .enumerate()
            .all(|(i, b)| *b == (i % 251) as u8)
    );
    let request = &node.requests()[0];
    assert_eq!(request.path, "/eth/v2/debug/beacon/states/finalized");
    assert_eq!(request.accept, "application/octet-stream");
}

#[tokio::test]
async fn blob_sidecars_are_read_whole_or_by_index() {
    let node = MockBeacon::start().await;
    let (client, _) = client(fast_config(&[&node.url]));

    let all = client
        .blob_sidecars(BlockId::Head, &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all.data.len(), 2);
    let second = &all.data[1];
    assert_eq!(second.index, 1);
    assert_eq!(second.blob.as_bytes().len(), 131_072);
    assert!(second.blob.as_bytes().iter().all(|b| *b == 1));
    assert_eq!(second.kzg_commitment_inclusion_proof.len(), 17);
    assert_eq!(second.signed_block_header.message.slot, Slot(12_345));

    let one = client
        .blob_sidecars(BlockId::Head, &[1, 1])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.data.len(), 1);
    assert_eq!(node.requests()[1].query, "indices=1");

    assert!(
        client
            .blob_sidecars(BlockId::Slot(Slot(SKIPPED_SLOT)), &[])
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn credentials_go_as_basic_auth_and_the_base_path_is_kept() {
    let node = MockBeacon::start().await;
    let mut url = node.url.join("provider/KEY123/").unwrap();
    url.set_username("operator").unwrap();
    url.set_password(Some("s3cret")).unwrap();
    let (client, _) = client(fast_config(&[&url]));

    client.genesis().await.unwrap();
    let request = &node.requests()[0];
    assert_eq!(request.path, "/provider/KEY123/eth/v1/beacon/genesis");
    // base64("operator:s3cret")
    assert_eq!(
        request.authorization.as_deref(),
        Some("Basic b3BlcmF0b3I6czNjcmV0")
    );
    let status = &client.endpoint_statuses()[0];
    assert!(!status.url.contains("s3cret") && !status.url.contains("KEY123"));
    let debug = format!("{client:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains("KEY123"),
        "{debug}"
    );

    node.set_mode(crate::support::Mode::Status(500));
    let error = client.genesis().await.unwrap_err().to_string();
    assert!(
        !error.contains("s3cret") && !error.contains("KEY123"),
        "{error}"
    );
    assert!(error.contains("HTTP 500"), "{error}");
}

/// With the `https` feature the TLS stack (rustls with ring) is set up: a handshake with a
/// server that does not speak TLS fails as a connection error, not a panic.
#[cfg(feature = "https")]
#[tokio::test]
async fn https_endpoints_fail_cleanly_against_a_plain_server() {
    let node = MockBeacon::start().await;
    let mut url = node.url.clone();
    url.set_scheme("https").unwrap();
    let mut config = fast_config(&[&url]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);
    let error = client.genesis().await.unwrap_err();
    assert!(error.to_string().contains("request failed"), "{error}");
}
