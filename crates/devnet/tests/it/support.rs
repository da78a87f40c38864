//! A manual-mode devnet with a pinned genesis time, and a client for it.

use std::net::SocketAddr;

use prometheus::Registry;
use restake_beacon::{BeaconClient, BeaconClientConfig, BlockId, StateId, containers::BeaconState};
use restake_devnet::{Devnet, DevnetConfig, Drive};
use restake_types::Slot;
use tokio_util::sync::CancellationToken;

/// Genesis time of every test devnet: the roots are the same from run to run.
pub(crate) const GENESIS_TIME: u64 = 1_700_000_000;

/// The default configuration, driven by hand, with a fixed genesis time.
pub(crate) fn manual_config() -> DevnetConfig {
    DevnetConfig {
        drive: Drive::Manual,
        genesis_time: Some(GENESIS_TIME),
        ..DevnetConfig::default()
    }
}

/// A running devnet and a client pointed at it.
pub(crate) struct TestNet {
    pub(crate) devnet: Devnet,
    pub(crate) client: BeaconClient,
    _registry: Registry,
}

pub(crate) async fn start(config: DevnetConfig) -> TestNet {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let devnet = Devnet::start(config, addr, CancellationToken::new())
        .await
        .unwrap();
    let registry = Registry::new();
    let mut client_config = BeaconClientConfig::new(vec![devnet.url()]);
    // A devnet that answers 404 means it; no retries needed, and failures show at once.
    client_config.retry.max_attempts = 1;
    let client = BeaconClient::new(client_config, &registry).unwrap();
    TestNet {
        devnet,
        client,
        _registry: registry,
    }
}

impl TestNet {
    /// The state at `id`, fetched as SSZ and decoded.
    pub(crate) async fn state(&self, id: StateId) -> BeaconState {
        let ssz = self.client.state_ssz(id).await.unwrap();
        tokio::task::spawn_blocking(move || BeaconState::from_ssz_bytes(ssz.fork, &ssz.bytes))
            .await
            .unwrap()
            .unwrap()
    }

    /// The root of the block at `slot`, from its header.
    pub(crate) async fn block_root(&self, slot: u64) -> restake_beacon::Root {
        self.client
            .header(BlockId::Slot(Slot(slot)))
            .await
            .unwrap()
            .expect("a block at every slot")
            .data
            .root
    }

    /// A raw GET on the devnet: status and body.
    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::get(self.devnet.url().join(path).unwrap())
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}
