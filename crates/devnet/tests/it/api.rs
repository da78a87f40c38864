//! Genesis, spec, headers, blocks, states, finality, and the 400/404 answers.

use restake_beacon::{
    BlockId, ForkName, StateId,
    containers::{BeaconState, SignedBeaconBlock},
};
use restake_devnet::DevnetConfig;
use restake_types::{Epoch, Slot};
use serde_json::Value;

use crate::support::{GENESIS_TIME, manual_config, start};

#[tokio::test]
async fn genesis_and_spec_describe_the_served_chain() {
    let net = start(manual_config()).await;
    let genesis = net.client.genesis().await.unwrap();
    assert_eq!(genesis, net.devnet.genesis());
    assert_eq!(genesis.genesis_time, GENESIS_TIME);

    let spec = net.client.spec().await.unwrap();
    assert_eq!(spec.slots_per_epoch(), Some(32));
    assert_eq!(
        spec.slot_duration(),
        Some(std::time::Duration::from_secs(1))
    );
    assert_eq!(spec.fork_at_epoch(Epoch(0)), ForkName::Electra);
    assert_eq!(
        spec.fork_version(ForkName::Phase0),
        Some(genesis.genesis_fork_version)
    );

    let state = net.state(StateId::Genesis).await;
    assert_eq!(state.fork_name(), ForkName::Electra);
    assert_eq!(
        state.genesis_validators_root(),
        genesis.genesis_validators_root
    );
    assert_eq!(
        spec.fork_version(ForkName::Electra).unwrap().as_bytes(),
        &state.fork().current_version
    );
    assert_eq!(state.validators().len(), 256);
}

#[tokio::test]
async fn headers_commit_to_the_states_served_as_ssz() {
    let net = start(manual_config()).await;
    net.devnet.advance_to(Slot(3)).await.unwrap();
    for id in [
        BlockId::Slot(Slot(0)),
        BlockId::Slot(Slot(1)),
        BlockId::Slot(Slot(2)),
        BlockId::Head,
    ] {
        let header = net.client.header(id).await.unwrap().unwrap().data;
        let slot = header.header.message.slot;
        let state = net.state(StateId::Slot(slot)).await;
        assert_eq!(state.slot(), slot);
        assert_eq!(
            state.hash_tree_root(),
            header.header.message.state_root,
            "{id}"
        );
        assert_eq!(
            state.latest_block_header().body_root,
            *header.header.message.body_root.as_bytes()
        );
        // The same state by its root.
        let by_root = net
            .state(StateId::Root(header.header.message.state_root))
            .await;
        assert_eq!(by_root, state);
        // And what the handle builds in process.
        let local = net.devnet.state_at(slot).unwrap();
        assert_eq!(BeaconState::Electra(Box::new(local)), state);
    }
}

#[tokio::test]
async fn blocks_chain_by_parent_root_and_fill_the_block_roots() {
    let net = start(manual_config()).await;
    net.devnet.advance_to(Slot(4)).await.unwrap();
    let mut parent = net.block_root(0).await;
    for slot in 1..=4u64 {
        let ssz = net
            .client
            .block_ssz(BlockId::Slot(Slot(slot)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ssz.fork, ForkName::Electra);
        let block = SignedBeaconBlock::from_ssz_bytes(ssz.fork, &ssz.bytes).unwrap();
        assert_eq!(block.slot(), Slot(slot));
        assert_eq!(block.parent_root(), parent);
        assert_eq!(block.proposer_index().get(), slot % 256);
        let root = net.block_root(slot).await;
        assert_eq!(block.block_root(), root);
        // By root, the same block.
        let by_root = net
            .client
            .block_ssz(BlockId::Root(root))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_root.bytes, ssz.bytes);
        let state = net.state(StateId::Slot(Slot(slot))).await;
        let BeaconState::Electra(state) = state else {
            panic!("not an Electra state")
        };
        assert_eq!(state.block_roots[(slot - 1) as usize], *parent.as_bytes());
        parent = root;
    }
}

#[tokio::test]
async fn finality_moves_two_epochs_behind_and_named_states_resolve() {
    let net = start(manual_config()).await;
    let genesis_root = net.block_root(0).await;
    let before = net
        .client
        .finality_checkpoints(StateId::Head)
        .await
        .unwrap();
    assert_eq!(before.data.finalized.epoch, Epoch(0));
    assert_eq!(before.data.finalized.root.as_bytes(), &[0; 32]);

    net.devnet.advance_to(Slot(65)).await.unwrap();
    let checkpoints = net
        .client
        .finality_checkpoints(StateId::Head)
        .await
        .unwrap()
        .data;
    assert_eq!(checkpoints.finalized.epoch, Epoch(0));
    assert_eq!(checkpoints.finalized.root, genesis_root);
    assert_eq!(checkpoints.current_justified.epoch, Epoch(1));
    assert_eq!(checkpoints.current_justified.root, net.block_root(32).await);
    assert_eq!(checkpoints.previous_justified.epoch, Epoch(0));

    let finalized = net
        .client
        .header(BlockId::Finalized)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(finalized.data.root, genesis_root);
    assert_eq!(finalized.finalized, Some(true));
    let justified = net.state(StateId::Justified).await;
    assert_eq!(justified.slot(), Slot(32));
    let head = net.client.header(BlockId::Head).await.unwrap().unwrap();
    assert_eq!(head.finalized, Some(false));
    assert_eq!(head.data.header.message.slot, Slot(65));
}

#[tokio::test]
async fn unknown_ids_are_404_and_malformed_ones_400() {
    let net = start(DevnetConfig {
        history_slots: 96,
        ..manual_config()
    })
    .await;
    assert!(
        net.client
            .header(BlockId::Slot(Slot(5)))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        net.client
            .blob_sidecars(BlockId::Slot(Slot(5)), &[])
            .await
            .unwrap()
            .is_none()
    );
    let unknown = net
        .client
        .header(BlockId::Root(restake_beacon::Root::new([0x42; 32])))
        .await
        .unwrap();
    assert!(unknown.is_none());
    let error = net
        .client
        .finality_checkpoints(StateId::Slot(Slot(9)))
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");

    for path in [
        "eth/v1/beacon/headers/nonsense",
        "eth/v1/beacon/headers/0x1234",
        "eth/v1/beacon/headers/justified",
        "eth/v1/beacon/states/-1/finality_checkpoints",
        "eth/v1/beacon/states/head/validators?id=abc",
        "eth/v1/beacon/states/head/validators?status=sleeping",
        "eth/v1/beacon/blob_sidecars/head?indices=x",
        "eth/v1/events",
        "eth/v1/events?topics=gossip",
    ] {
        let (status, body) = net.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], 400, "{path}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, body) = net.get("eth/v1/no/such/route").await;
    assert_eq!(status, 404);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["code"], 404);

    // Past the history: slots before head - 96 are forgotten, genesis is kept.
    net.devnet.advance_to(Slot(100)).await.unwrap();
    assert!(
        net.client
            .header(BlockId::Slot(Slot(3)))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        net.client
            .header(BlockId::Slot(Slot(4)))
            .await
            .unwrap()
            .is_some()
    );
    assert!(net.client.header(BlockId::Genesis).await.unwrap().is_some());
    let (status, body) = net.get("eth/v1/beacon/states/3/finality_checkpoints").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no longer kept"), "{body}");
}
