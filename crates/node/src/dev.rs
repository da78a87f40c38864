//! The chains of `--dev`: an in-process beacon devnet whose validators cover every tracker case,
//! and, when the anvil binary is present, an anvil chain with the test EigenPodManager and pod
//! set up so that every reconciliation finding shows.

use std::{collections::BTreeMap, net::SocketAddr, str::FromStr, time::Duration};

use restake_devnet::{Devnet, DevnetConfig, Scenario};
use restake_eigenpod::{
    anvil::{Anvil, find_anvil},
    dev::{DEV_POD, DEV_POD_MANAGER, DevPodSetup, DevValidator, deploy_dev_pods},
    reconcile::PodValidatorStatus,
};
use restake_types::{Gwei, ModuleId, ValidatorIndex};
use tokio_util::sync::CancellationToken;

use crate::config::{
    BeaconValueSetting, Config, FeedSettings, ModuleKind, ModuleSettings, OracleSettings,
    SourceSettings,
};

/// Why the dev chains could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The beacon devnet could not start.
    #[error("dev beacon chain: {0}")]
    Devnet(#[from] restake_devnet::DevnetError),
    /// Anvil started but the pod contracts could not be deployed.
    #[error("dev pod contracts: {0}")]
    Pods(#[from] restake_eigenpod::Error),
}

/// Starts the dev chains and points `config` at them: the devnet as the beacon endpoint,
/// tracking every slot, the dev pod tracked; with anvil, the execution endpoint, the manager
/// and a 5-second reconciliation.
///
/// Cancelling `shutdown` stops the devnet; dropping the returned anvil (if the binary was
/// found) stops anvil.
pub(crate) async fn start(
    config: &mut Config,
    shutdown: CancellationToken,
) -> Result<Option<Anvil>, DevError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let devnet = Devnet::start(
        DevnetConfig {
            pod: DEV_POD,
            ..DevnetConfig::default()
        },
        addr,
        shutdown,
    )
    .await?;
    let scenario = devnet.scenario().clone();
    tracing::info!(url = %devnet.url(), validators = scenario.validator_count, pod = %DEV_POD, "dev beacon chain started (1-second slots)");
    config.beacon.endpoints = vec![devnet.url()];
    config.tracker.update_every = restake_beacon::tracker::UpdateEvery::Slot;
    config.tracker.pods.push(DEV_POD);
    // The one pod-verified validator that points elsewhere, tracked by index so the pod
    // reconciliation can see it.
    let verified_elsewhere = scenario.eth1_other.first().copied();
    // And one that keeps BLS credentials, so the unconverted case shows too.
    for index in verified_elsewhere.iter().chain(scenario.bls.first()) {
        config.tracker.validator_indices.push(index.0..=index.0);
    }
    if let Ok(id) = ModuleId::from_str(DEV_ORACLE)
        && !config.modules.iter().any(|m| m.id == id)
    {
        config.modules.push(dev_oracle(id));
    }

    let anvil = match find_anvil() {
        Ok(path) => {
            let anvil = Anvil::spawn_binary(&path).await?;
            deploy_dev_pods(anvil.endpoint(), &pod_setup(&scenario, verified_elsewhere)).await?;
            tracing::info!(rpc = anvil.endpoint(), manager = %DEV_POD_MANAGER, pod = %DEV_POD, "dev execution chain (anvil) started with the test pod contracts");
            config.execution.rpc_url = url::Url::parse(anvil.endpoint()).ok();
            config.eigenpod.manager = Some(DEV_POD_MANAGER);
            config.eigenpod.reconcile_interval = std::time::Duration::from_secs(5);
            Some(anvil)
        }
        Err(e) => {
            tracing::warn!(error = %e, "no anvil binary: --dev runs without an execution chain, so no pod reconciliation (scripts/test.sh installs anvil under target/tools/anvil)");
            None
        }
    };
    Ok(anvil)
}

/// The id of `--dev`'s oracle module.
const DEV_ORACLE: &str = "dev-oracle";

/// `--dev`'s oracle: proof-of-reserve feeds from the devnet through the tracker, the dev pod's
/// validators and every tracked validator, signed by the dev BN254 key every few seconds.
fn dev_oracle(id: ModuleId) -> ModuleSettings {
    let feed = |value, pod| FeedSettings {
        decimals: 9,
        quorum: 1,
        deviation_bps: 1,
        heartbeat: Duration::from_secs(10),
        interval: Duration::from_secs(2),
        max_age: Duration::from_secs(120),
        outlier_bps: 1000,
        scheme: restake_signer::Scheme::Bn254,
        key: None,
        publish_urls: Vec::new(),
        sources: BTreeMap::from([("devnet".to_owned(), SourceSettings::Beacon { value, pod })]),
    };
    ModuleSettings {
        id,
        enabled: true,
        kind: ModuleKind::Oracle(OracleSettings {
            feeds: BTreeMap::from([
                (
                    "dev-pod-reserve".to_owned(),
                    feed(BeaconValueSetting::PodBalance, Some(DEV_POD)),
                ),
                (
                    "dev-tracked-balance".to_owned(),
                    feed(BeaconValueSetting::TrackedBalance, None),
                ),
            ]),
        }),
    }
}

/// What the dev pod records, chosen so that each finding shows: the pod validators are verified
/// but one compounding validator and the one converting from `0x00` during the run
/// (`credentials_not_verified`); the validators slashed at genesis and during the run are
/// verified and never checkpointed (`stale_after_slashing`);
/// the withdrawn one and one pointing elsewhere are still active in the pod
/// (`active_in_pod_not_on_beacon`); 3 ETH sit in the pod (`unrestaked_pod_balance`).
fn pod_setup(scenario: &Scenario, verified_elsewhere: Option<ValidatorIndex>) -> DevPodSetup {
    let active = |index: ValidatorIndex| DevValidator {
        pubkey: Scenario::pubkey(index),
        index,
        status: PodValidatorStatus::Active,
        restaked_balance: Gwei(32 * Gwei::PER_ETH),
        last_checkpointed_at: 0,
    };
    // One compounding validator is left unverified besides the converted one (which becomes a
    // pod validator only during the run).
    let unverified = scenario
        .compounding_pod
        .iter()
        .find(|i| **i != scenario.exit.index);
    let mut validators: Vec<DevValidator> = scenario
        .eth1_pod
        .iter()
        .chain(&scenario.compounding_pod)
        .filter(|i| Some(*i) != unverified)
        .copied()
        .map(active)
        .collect();
    validators.extend(verified_elsewhere.map(active));
    validators.sort_by_key(|v| v.index);
    validators.dedup_by_key(|v| v.index);
    DevPodSetup {
        validators,
        last_checkpoint_timestamp: 0,
        withdrawable_restaked: Gwei(0),
        eth_to_pod: Gwei(3 * Gwei::PER_ETH),
    }
}
