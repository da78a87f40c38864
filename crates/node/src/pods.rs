//! EigenPod reconciliation inside the node: the operator's pods are read from the execution
//! chain every `eigenpod.reconcile_interval` and compared with the tracked validators; the
//! latest report of each pod is kept for the gRPC `PodService` and summed up in metrics.

use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use prometheus::{IntCounter, IntGaugeVec, Opts, Registry};

use restake_beacon::{
    BeaconClient,
    tracker::{Severity, Tracker},
};
use restake_eigenpod::reconcile::{FindingKind, PodReader, PodReport, ReconcilePolicy, reconcile};
use restake_types::{BlsPublicKey, ExecutionAddress, Gwei, Slot};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::readiness::{ComponentState, Readiness};

/// How long one pod read may take in all.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// The last reconciliation of one pod.
#[derive(Debug, Clone, Serialize)]
pub struct PodOutcome {
    /// The pod.
    pub pod: ExecutionAddress,
    /// When it was last read.
    #[serde(skip)]
    pub at: SystemTime,
    /// The report, if the last read succeeded.
    pub report: Option<PodReport>,
    /// Why the last read failed.
    pub error: Option<String>,
}

/// The latest outcome per pod, shared with the gRPC service. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct PodReports(Arc<RwLock<Vec<PodOutcome>>>);

impl PodReports {
    /// The latest outcome of every pod, in configuration order.
    pub fn snapshot(&self) -> Vec<PodOutcome> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, outcomes: Vec<PodOutcome>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = outcomes;
    }
}

/// What the reconciler needs besides the tracker.
#[derive(Debug, Clone)]
pub struct PodSettings {
    /// The execution endpoint's reader.
    pub reader: PodReader,
    /// The pods to reconcile (`tracker.pods`, the dev pod).
    pub pods: Vec<ExecutionAddress>,
    /// Owners whose pods are read from the EigenPodManager, tracked and reconciled too.
    pub owners: Vec<ExecutionAddress>,
    /// How often.
    pub interval: Duration,
    /// Thresholds.
    pub policy: ReconcilePolicy,
}

/// The reconciler's metrics, registered at startup.
#[derive(Debug, Clone)]
pub struct PodMetrics {
    findings: IntGaugeVec,
    unrestaked: IntGaugeVec,
    errors: IntCounter,
}

impl PodMetrics {
    /// Registers the metrics in `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            findings: IntGaugeVec::new(
                Opts::new(
                    "restaked_pod_findings",
                    "Findings of the latest pod reconciliation, by kind and severity.",
                ),
                &["kind", "severity"],
            )?,
            unrestaked: IntGaugeVec::new(
                Opts::new(
                    "restaked_pod_unrestaked_gwei",
                    "ETH in the pod, in Gwei, that a checkpoint would restake.",
                ),
                &["pod"],
            )?,
            errors: IntCounter::with_opts(Opts::new(
                "restaked_pod_reconcile_errors_total",
                "Pod reads that failed (execution endpoint down, no contract, timeout).",
            ))?,
        };
        registry.register(Box::new(metrics.findings.clone()))?;
        registry.register(Box::new(metrics.unrestaked.clone()))?;
        registry.register(Box::new(metrics.errors.clone()))?;
        for kind in FindingKind::NAMES {
            for severity in [Severity::Info, Severity::Warning, Severity::Critical] {
                metrics
                    .findings
                    .with_label_values(&[kind, severity.as_str()])
                    .set(0);
            }
        }
        Ok(metrics)
    }
}

/// Resolves each owner's pod through the manager, retrying until it answers or `shutdown`.
async fn pods_of_owners(
    reader: &PodReader,
    owners: &[ExecutionAddress],
    shutdown: &CancellationToken,
) -> Vec<ExecutionAddress> {
    let mut pods = Vec::with_capacity(owners.len());
    for owner in owners {
        let mut backoff = Duration::from_millis(500);
        loop {
            match reader.pod_of(*owner).await {
                Ok(view) => {
                    if !view.has_pod {
                        tracing::warn!(%owner, pod = %view.pod_for_owner, "the owner has no pod deployed yet; tracking its future address");
                    }
                    pods.push(view.pod_for_owner);
                    break;
                }
                Err(e) => {
                    tracing::warn!(%owner, error = %e, retry_in = ?backoff, "cannot read the owner's pod from the EigenPodManager");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return pods,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }
    pods
}

/// Resolves the owners' pods (adding them to the tracker), then reconciles every pod every
/// interval until `shutdown`.
pub(crate) async fn run(
    settings: PodSettings,
    tracker: Tracker,
    beacon: BeaconClient,
    reports: PodReports,
    metrics: PodMetrics,
    readiness: Readiness,
    shutdown: CancellationToken,
) {
    let mut pods = settings.pods.clone();
    if !settings.owners.is_empty() {
        readiness.set(
            "pods",
            ComponentState::Starting,
            "reading the owners' pods from the EigenPodManager",
        );
        let owned = pods_of_owners(&settings.reader, &settings.owners, &shutdown).await;
        tracker.add_pods(&owned);
        pods.extend(owned);
        pods.sort_unstable();
        pods.dedup();
    }
    let mut timing = None;
    // Findings already logged, by pod, kind and validators: each is logged when it appears, not
    // at every interval (the report and the metrics show it while it lasts).
    let mut logged: HashSet<(ExecutionAddress, FindingKind, Vec<BlsPublicKey>)> = HashSet::new();
    let mut interval = tokio::time::interval(settings.interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        if timing.is_none() {
            timing = chain_timing(&beacon).await;
        }
        let Some((genesis, slot_seconds)) = timing else {
            readiness.set(
                "pods",
                ComponentState::Degraded,
                "waiting for the beacon node's genesis",
            );
            continue;
        };
        let slot_to_timestamp = |slot: Slot| {
            slot.0
                .checked_mul(slot_seconds)
                .and_then(|s| s.checked_add(genesis))
        };
        let validators = tracker.validators();
        let mut outcomes = Vec::with_capacity(pods.len());
        for pod in &pods {
            let asked: Vec<_> = validators
                .iter()
                // Those pointing here, and those pointing at none of the operator's pods (the
                // pod may still count them); not those of the operator's other pods.
                .filter(|v| v.withdrawal_address() == Some(*pod) || v.pod.is_none())
                .map(|v| v.pubkey())
                .collect();
            let read = tokio::select! {
                () = shutdown.cancelled() => return,
                read = tokio::time::timeout(READ_TIMEOUT, settings.reader.read(*pod, &asked)) => read,
            };
            let outcome = match read {
                Ok(Ok(snapshot)) => {
                    let report =
                        reconcile(&snapshot, &validators, slot_to_timestamp, &settings.policy);
                    let current: HashSet<_> = report
                        .findings
                        .iter()
                        .map(|f| {
                            (
                                *pod,
                                f.kind,
                                f.validators.iter().map(|v| v.pubkey).collect::<Vec<_>>(),
                            )
                        })
                        .collect();
                    logged.retain(|key| key.0 != *pod || current.contains(key));
                    for finding in &report.findings {
                        let key = (
                            *pod,
                            finding.kind,
                            finding
                                .validators
                                .iter()
                                .map(|v| v.pubkey)
                                .collect::<Vec<_>>(),
                        );
                        if !logged.insert(key) {
                            continue;
                        }
                        let validators: Vec<String> = finding
                            .validators
                            .iter()
                            .map(|v| {
                                v.index
                                    .map_or_else(|| v.pubkey.to_string(), |i| i.to_string())
                            })
                            .collect();
                        match finding.severity {
                            Severity::Critical => {
                                tracing::error!(%pod, kind = finding.kind.name(), ?validators, action = finding.action.instruction(), "{}", finding.detail)
                            }
                            Severity::Warning => {
                                tracing::warn!(%pod, kind = finding.kind.name(), ?validators, action = finding.action.instruction(), "{}", finding.detail)
                            }
                            Severity::Info => {
                                tracing::info!(%pod, kind = finding.kind.name(), ?validators, action = finding.action.instruction(), "{}", finding.detail)
                            }
                        }
                    }
                    PodOutcome {
                        pod: *pod,
                        at: SystemTime::now(),
                        report: Some(report),
                        error: None,
                    }
                }
                Ok(Err(e)) => PodOutcome {
                    pod: *pod,
                    at: SystemTime::now(),
                    report: None,
                    error: Some(e.to_string()),
                },
                Err(_) => PodOutcome {
                    pod: *pod,
                    at: SystemTime::now(),
                    report: None,
                    error: Some(format!("reading the pod took longer than {READ_TIMEOUT:?}")),
                },
            };
            if let Some(error) = &outcome.error {
                metrics.errors.inc();
                tracing::warn!(%pod, error, "pod reconciliation failed; retrying next interval");
            }
            outcomes.push(outcome);
        }
        publish(&metrics, &readiness, &outcomes);
        reports.set(outcomes);
    }
}

/// Genesis time and seconds per slot, for mapping slots to execution timestamps.
async fn chain_timing(beacon: &BeaconClient) -> Option<(u64, u64)> {
    let genesis = beacon.genesis().await.ok()?;
    let spec = beacon.spec().await.ok()?;
    let seconds = spec.slot_duration()?.as_secs();
    (seconds > 0).then_some((genesis.genesis_time, seconds))
}

fn publish(metrics: &PodMetrics, readiness: &Readiness, outcomes: &[PodOutcome]) {
    for kind in FindingKind::NAMES {
        for severity in [Severity::Info, Severity::Warning, Severity::Critical] {
            let n = outcomes
                .iter()
                .filter_map(|o| o.report.as_ref())
                .flat_map(|r| &r.findings)
                .filter(|f| f.kind.name() == kind && f.severity == severity)
                .count();
            metrics
                .findings
                .with_label_values(&[kind, severity.as_str()])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    for outcome in outcomes {
        if let Some(report) = &outcome.report {
            let Gwei(unrestaked) = report.summary.unrestaked;
            metrics
                .unrestaked
                .with_label_values(&[&outcome.pod.to_string()])
                .set(i64::try_from(unrestaked).unwrap_or(i64::MAX));
        }
    }
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    if failed == 0 {
        readiness.ready("pods");
    } else {
        readiness.set(
            "pods",
            ComponentState::Degraded,
            format!("{failed} of {} pods could not be read", outcomes.len()),
        );
    }
}
