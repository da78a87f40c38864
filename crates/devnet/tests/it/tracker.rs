//! The validator tracker over the devnet: it finds every scenario case, emits each event once,
//! and resumes after a restart from its store without a rescan or a repeated event.

use std::{path::Path, time::Duration};

use prometheus::Registry;
use restake_beacon::{
    BeaconClient, BeaconClientConfig, Url, ValidatorStatus,
    tracker::{EventKind, Phase, Tracker, TrackerConfig, TrackerEvent, UpdateEvery},
};
use restake_devnet::Scenario;
use restake_types::{BlsPublicKey, ExecutionAddress, Slot, ValidatorIndex, WithdrawalPrefix};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::support::{TestNet, manual_config, start};

/// A tracker running over `urls`, with its own metrics registry.
pub(crate) struct Running {
    pub(crate) tracker: Tracker,
    registry: Registry,
    shutdown: CancellationToken,
    pub(crate) task: JoinHandle<()>,
}

impl Running {
    pub(crate) fn start(urls: Vec<Url>, config: TrackerConfig, store: &Path) -> Self {
        let registry = Registry::new();
        let mut client_config = BeaconClientConfig::new(urls);
        client_config.retry.max_attempts = 2;
        client_config.retry.initial_backoff = Duration::from_millis(10);
        let client = BeaconClient::new(client_config, &registry).unwrap();
        let tracker = Tracker::new(client, config, store, &registry).unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn({
            let tracker = tracker.clone();
            let shutdown = shutdown.clone();
            async move { tracker.run(shutdown).await.unwrap() }
        });
        Self {
            tracker,
            registry,
            shutdown,
            task,
        }
    }

    /// Waits until the tracker has read the tracked set at `slot`.
    pub(crate) async fn updated_to(&self, slot: Slot) {
        for _ in 0..600 {
            let status = self.tracker.status();
            if status.updated_slot.is_some_and(|s| s >= slot) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the tracker did not update to slot {slot}: {:?}",
            self.tracker.status()
        );
    }

    pub(crate) fn metric(&self, name: &str, label: Option<(&str, &str)>) -> f64 {
        self.registry
            .gather()
            .iter()
            .filter(|f| f.name() == name)
            .flat_map(|f| f.get_metric())
            .filter(|m| {
                label.is_none_or(|(k, v)| {
                    m.get_label()
                        .iter()
                        .any(|l| l.name() == k && l.value() == v)
                })
            })
            .map(|m| m.get_counter().get_value() + m.get_gauge().get_value())
            .sum()
    }

    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap();
    }
}

fn config(scenario: &Scenario) -> TrackerConfig {
    let mut config = TrackerConfig::new();
    config.pods = vec![scenario.pod];
    // Validator 0 keeps BLS credentials: tracked by its key, it must be reported unconverted.
    config.pubkeys = vec![
        Scenario::pubkey(ValidatorIndex(0)),
        BlsPublicKey::new([0xab; 48]),
    ];
    config.update_every = UpdateEvery::Slot;
    config
}

fn events_of(events: &[TrackerEvent], index: ValidatorIndex) -> Vec<&str> {
    events
        .iter()
        .filter(|e| e.index == index)
        .map(|e| e.kind.name())
        .collect()
}

async fn advance_to(net: &TestNet, running: &Running, slot: Slot) {
    net.devnet.advance_to(slot).await.unwrap();
    running.updated_to(slot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracker_finds_every_case_and_resumes_after_a_restart() {
    let net = start(manual_config()).await;
    let scenario = net.devnet.scenario().clone();
    net.devnet.advance_to(Slot(1)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("restaked.db");

    let running = Running::start(vec![net.devnet.url()], config(&scenario), &store);
    running.updated_to(Slot(1)).await;
    let tracker = &running.tracker;
    let pointing: Vec<_> = scenario
        .eth1_pod
        .iter()
        .chain(&scenario.compounding_pod)
        .copied()
        .collect();
    for index in &pointing {
        let v = tracker
            .validator(&(*index).into())
            .unwrap_or_else(|| panic!("validator {index} not tracked"));
        assert_eq!(v.pod, Some(scenario.pod), "validator {index}");
        let prefix = if scenario.eth1_pod.contains(index) {
            WithdrawalPrefix::Eth1
        } else {
            WithdrawalPrefix::Compounding
        };
        assert_eq!(v.prefix(), prefix, "validator {index}");
    }
    for index in scenario
        .eth1_other
        .iter()
        .chain(&scenario.compounding_other)
    {
        assert!(
            tracker.validator(&(*index).into()).is_none(),
            "validator {index} points elsewhere"
        );
    }
    assert_eq!(
        tracker.validators().len(),
        pointing.len() + 1,
        "the pod's validators and validator 0"
    );
    assert_eq!(
        tracker.pending(),
        vec![(
            BlsPublicKey::new([0xab; 48]),
            restake_beacon::tracker::TrackedBecause::Pubkey
        )]
    );
    let withdrawn = tracker.validator(&scenario.withdrawn.into()).unwrap();
    assert_eq!(withdrawn.status(), ValidatorStatus::WithdrawalDone);
    let events = tracker.events(0, 1000, None).unwrap();
    assert_eq!(
        events_of(&events, ValidatorIndex(0)),
        ["unconverted_credentials"]
    );
    assert_eq!(events_of(&events, scenario.slashed_at_genesis), ["slashed"]);
    assert!(
        events_of(&events, scenario.withdrawn).is_empty(),
        "history is not reported"
    );
    assert_eq!(
        running.metric("restaked_tracker_scans_total", Some(("outcome", "ok"))),
        1.0
    );

    // The BLS change in a block brings validator 1 in; the slashing and the exit are events.
    let after_exit = Slot(scenario.exit.slot.get() + 1);
    advance_to(&net, &running, after_exit).await;
    let converted = tracker
        .validator(&scenario.bls_change.index.into())
        .expect("the converted validator is tracked");
    assert_eq!(converted.pod, Some(scenario.pod));
    let events = tracker.events(0, 1000, None).unwrap();
    assert_eq!(
        events_of(&events, scenario.slashing.index),
        ["slashed", "balance_dropped"]
    );
    let slashed = events
        .iter()
        .find(|e| e.index == scenario.slashing.index)
        .unwrap();
    assert_eq!(slashed.slot, scenario.slashing.slot);
    assert_eq!(events_of(&events, scenario.exit.index), ["exit_initiated"]);
    assert_eq!(
        tracker
            .validator(&scenario.slashing.index.into())
            .unwrap()
            .slashed_seen_slot,
        Some(scenario.slashing.slot)
    );
    assert_eq!(
        running.metric("restaked_tracker_events_total", Some(("kind", "slashed"))),
        2.0
    );
    let seen = events.len();
    let tracked = tracker.validators();
    running.stop().await;

    // A restart resumes from the store: same set at once, no rescan, no repeated event.
    let running = Running::start(vec![net.devnet.url()], config(&scenario), &store);
    running.updated_to(after_exit).await;
    assert_eq!(running.tracker.validators(), tracked);
    assert_eq!(
        running.metric("restaked_tracker_scans_total", Some(("outcome", "ok"))),
        0.0
    );
    assert_eq!(running.tracker.events(0, 1000, None).unwrap().len(), seen);

    // The pending validator activates at its epoch, seen by the restarted tracker.
    let activation = Slot(scenario.pending.activation_epoch.get() * 32);
    let mut live = running.tracker.subscribe();
    advance_to(&net, &running, activation).await;
    let events = running.tracker.events(seen as u64, 1000, None).unwrap();
    assert_eq!(events_of(&events, scenario.pending.index), ["activated"]);
    let streamed = live.recv().await.unwrap();
    assert!(streamed.seq > seen as u64);
    assert!(matches!(
        events.iter().find(|e| e.index == scenario.pending.index).unwrap().kind,
        EventKind::Activated { epoch } if epoch == scenario.pending.activation_epoch
    ));
    assert_eq!(running.tracker.status().phase, Phase::Following);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_primary_endpoint_falls_back_and_a_store_of_another_chain_is_refused() {
    let net = start(manual_config()).await;
    let scenario = net.devnet.scenario().clone();
    net.devnet.advance_to(Slot(2)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("restaked.db");
    let dead = Url::parse(&format!("http://127.0.0.1:{}/", free_port())).unwrap();
    let running = Running::start(vec![dead, net.devnet.url()], config(&scenario), &store);
    running.updated_to(Slot(2)).await;
    assert!(!running.tracker.validators().is_empty());
    running.stop().await;

    // A devnet whose validators point at another pod has another genesis validators root:
    // another chain, whose store is refused and kept.
    let other = start(restake_devnet::DevnetConfig {
        pod: ExecutionAddress::new([0x77; 20]),
        ..manual_config()
    })
    .await;
    other.devnet.advance_to(Slot(1)).await.unwrap();
    let registry = Registry::new();
    let client =
        BeaconClient::new(BeaconClientConfig::new(vec![other.devnet.url()]), &registry).unwrap();
    let tracker = Tracker::new(client, config(&scenario), &store, &registry).unwrap();
    let err = tracker.run(CancellationToken::new()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("belongs to the chain with genesis validators root"),
        "{err}"
    );
    assert_eq!(tracker.status().phase, Phase::Failed);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
