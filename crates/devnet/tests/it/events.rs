//! The event stream: a head per slot, finality at epoch boundaries, the timer, shutdown.

use std::time::Duration;

use restake_beacon::{BeaconEvent, BlockId, EventStream, EventTopic};
use restake_devnet::{DevnetConfig, DevnetError, Drive};
use restake_types::{Epoch, Slot};

use crate::support::{manual_config, start};

/// The next event; a guard against a hang, not a synchronisation.
async fn next(stream: &mut EventStream) -> BeaconEvent {
    tokio::time::timeout(Duration::from_secs(60), stream.next())
        .await
        .expect("an event within a minute")
        .unwrap()
        .expect("the stream is open")
}

#[tokio::test]
async fn a_head_event_follows_every_advance() {
    let net = start(manual_config()).await;
    let mut stream = net.client.events(&[EventTopic::Head]).await.unwrap();
    for slot in 1..=3u64 {
        net.devnet.advance().await.unwrap();
        let BeaconEvent::Head(head) = next(&mut stream).await else {
            panic!("only heads were subscribed")
        };
        assert_eq!(head.slot, Slot(slot));
        let header = net
            .client
            .header(BlockId::Slot(Slot(slot)))
            .await
            .unwrap()
            .unwrap()
            .data;
        assert_eq!(head.block, header.root);
        assert_eq!(head.state, header.header.message.state_root);
        assert!(!head.epoch_transition);
    }
}

#[tokio::test]
async fn finalized_checkpoint_events_come_at_epoch_boundaries() {
    let net = start(manual_config()).await;
    let mut stream = net
        .client
        .events(&[EventTopic::FinalizedCheckpoint])
        .await
        .unwrap();
    net.devnet.advance_to(Slot(64)).await.unwrap();
    let BeaconEvent::FinalizedCheckpoint(finalized) = next(&mut stream).await else {
        panic!("only finality was subscribed")
    };
    assert_eq!(finalized.epoch, Epoch(0));
    assert_eq!(finalized.block, net.block_root(0).await);
    let genesis = net.client.header(BlockId::Genesis).await.unwrap().unwrap();
    assert_eq!(finalized.state, genesis.data.header.message.state_root);
}

#[tokio::test]
async fn the_timer_produces_slots_on_its_own() {
    let net = start(DevnetConfig {
        drive: Drive::Timer,
        genesis_time: None,
        ..DevnetConfig::default()
    })
    .await;
    let mut stream = net.client.events(&[EventTopic::Head]).await.unwrap();
    let BeaconEvent::Head(first) = next(&mut stream).await else {
        panic!("only heads were subscribed")
    };
    let BeaconEvent::Head(second) = next(&mut stream).await else {
        panic!("only heads were subscribed")
    };
    assert!(second.slot > first.slot);
    assert_eq!(second.slot, net.devnet.head_slot().max(second.slot));
}

#[tokio::test]
async fn stopping_ends_streams_and_production() {
    let net = start(manual_config()).await;
    let mut stream = net.client.events(&[EventTopic::Head]).await.unwrap();
    let devnet = net.devnet.clone();
    net.devnet.clone().stop().await;
    let ended = tokio::time::timeout(Duration::from_secs(60), stream.next())
        .await
        .expect("the stream ends");
    assert!(matches!(ended, Ok(None) | Err(_)), "{ended:?}");
    assert!(matches!(devnet.advance().await, Err(DevnetError::Stopped)));
}
