//! The validator tracker inside the node: its configuration from `[tracker]` and the loaded
//! keys, and its state in readiness.

use std::time::Duration;

use restake_beacon::tracker::{Phase, Tracker, TrackerConfig};
use restake_signer::{KeyInfo, Scheme};
use restake_types::{BlsPublicKey, Gwei};
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    readiness::{ComponentState, Readiness},
};

/// How often the tracker's phase is mirrored into readiness.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// The tracker's configuration: `[tracker]`, plus the loaded BLS keys when
/// `tracker.track_keystores` is on, plus the pods `extra_pods` (those of `eigenpod.owners`, or
/// the dev pod).
pub(crate) fn tracker_config(
    config: &Config,
    keys: &[KeyInfo],
    extra_pods: &[restake_types::ExecutionAddress],
) -> TrackerConfig {
    let settings = &config.tracker;
    let mut pubkeys = settings.pubkeys.clone();
    if settings.track_keystores {
        pubkeys.extend(
            keys.iter()
                .filter(|k| k.id.scheme == Scheme::Bls12381)
                .filter_map(|k| <[u8; 48]>::try_from(k.id.public_key.as_slice()).ok())
                .map(BlsPublicKey::new),
        );
    }
    pubkeys.sort_unstable();
    pubkeys.dedup();
    let mut pods = settings.pods.clone();
    pods.extend_from_slice(extra_pods);
    pods.sort_unstable();
    pods.dedup();
    TrackerConfig {
        pubkeys,
        indices: settings.validator_indices.clone(),
        pods,
        balance_drop_threshold: Gwei(settings.balance_drop_threshold_gwei),
        update_every: settings.update_every,
        rescan_every_epochs: (settings.rescan_every_epochs > 0)
            .then_some(settings.rescan_every_epochs),
        per_validator_metrics: settings.per_validator_metrics,
        busy_timeout: config.store.busy_timeout,
        ..TrackerConfig::new()
    }
}

/// Mirrors the tracker's phase into readiness: following is ready; waiting for the beacon node
/// or polling is degraded (the node still signs and serves); a stopped tracker has failed.
pub(crate) async fn watch_tracker(
    tracker: Tracker,
    readiness: Readiness,
    shutdown: CancellationToken,
) {
    let mut interval = tokio::time::interval(WATCH_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let status = tracker.status();
        let tracked = format!(
            "{} validators tracked, {} pending",
            status.tracked, status.pending
        );
        match status.phase {
            Phase::Following => readiness.set("tracker", ComponentState::Ready, ""),
            Phase::Connecting => readiness.set(
                "tracker",
                ComponentState::Degraded,
                "waiting for the beacon node",
            ),
            Phase::Scanning => readiness.set(
                "tracker",
                ComponentState::Starting,
                "scanning the registry for the pods' validators",
            ),
            Phase::Polling => readiness.set(
                "tracker",
                ComponentState::Degraded,
                format!("beacon event stream down, polling; {tracked}"),
            ),
            Phase::Failed => readiness.set(
                "tracker",
                ComponentState::Failed,
                "stopped on an error; see the log",
            ),
        }
    }
}
