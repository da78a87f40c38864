//! The tracker's metrics: aggregates over the tracked set, no per-validator labels unless the
//! operator opts in (`per_validator`).

use std::collections::BTreeMap;

use prometheus::{Histogram, HistogramOpts, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use restake_types::WithdrawalPrefix;

use super::model::{EventKind, Severity, TrackedValidator};

/// The `credentials` label value of a prefix.
const fn credentials_label(prefix: WithdrawalPrefix) -> &'static str {
    match prefix {
        WithdrawalPrefix::Bls => "0x00",
        WithdrawalPrefix::Eth1 => "0x01",
        WithdrawalPrefix::Compounding => "0x02",
        WithdrawalPrefix::Unknown(_) => "unknown",
    }
}

#[derive(Clone, Debug)]
pub(crate) struct TrackerMetrics {
    validators: IntGaugeVec,
    by_status: IntGaugeVec,
    balance: IntGauge,
    events: IntCounterVec,
    head_slot: IntGauge,
    updated_slot: IntGauge,
    finalized_epoch: IntGauge,
    following: IntGaugeVec,
    update_duration: Histogram,
    scans: IntCounterVec,
    per_validator: Option<IntGaugeVec>,
}

fn gauge(name: &str, help: &str) -> Result<IntGauge, prometheus::Error> {
    IntGauge::with_opts(Opts::new(name, help))
}

fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> Result<IntGaugeVec, prometheus::Error> {
    IntGaugeVec::new(Opts::new(name, help), labels)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl TrackerMetrics {
    pub(crate) fn register(
        registry: &Registry,
        per_validator: bool,
    ) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            validators: gauge_vec(
                "restaked_tracker_validators",
                "Tracked validators by credential type and whether they point at one of the operator's pods.",
                &["credentials", "points_at_pod"],
            )?,
            by_status: gauge_vec(
                "restaked_tracker_validators_by_status",
                "Tracked validators by Beacon API status.",
                &["status"],
            )?,
            balance: gauge(
                "restaked_tracker_balance_gwei",
                "Sum of the tracked validators' actual balances, in Gwei.",
            )?,
            events: IntCounterVec::new(
                Opts::new(
                    "restaked_tracker_events_total",
                    "Tracker events emitted, by kind and severity.",
                ),
                &["kind", "severity"],
            )?,
            head_slot: gauge(
                "restaked_tracker_head_slot",
                "The newest head slot the tracker saw.",
            )?,
            updated_slot: gauge(
                "restaked_tracker_updated_slot",
                "The slot of the state the tracked set was last updated from.",
            )?,
            finalized_epoch: gauge(
                "restaked_tracker_finalized_epoch",
                "The newest finalized epoch the tracker saw.",
            )?,
            following: gauge_vec(
                "restaked_tracker_following",
                "1 for how the tracker follows the chain now: the event stream or polling.",
                &["mode"],
            )?,
            update_duration: Histogram::with_opts(
                HistogramOpts::new(
                    "restaked_tracker_update_duration_seconds",
                    "Duration of one update of the tracked set (fetch, compare, store).",
                )
                .buckets(vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ]),
            )?,
            scans: IntCounterVec::new(
                Opts::new(
                    "restaked_tracker_scans_total",
                    "Whole-registry scans for validators pointing at the pods, by outcome.",
                ),
                &["outcome"],
            )?,
            per_validator: if per_validator {
                Some(gauge_vec(
                    "restaked_tracker_validator_balance_gwei",
                    "Actual balance of each tracked validator, in Gwei (opt-in: one series per validator).",
                    &["index"],
                )?)
            } else {
                None
            },
        };
        registry.register(Box::new(metrics.validators.clone()))?;
        registry.register(Box::new(metrics.by_status.clone()))?;
        registry.register(Box::new(metrics.balance.clone()))?;
        registry.register(Box::new(metrics.events.clone()))?;
        registry.register(Box::new(metrics.head_slot.clone()))?;
        registry.register(Box::new(metrics.updated_slot.clone()))?;
        registry.register(Box::new(metrics.finalized_epoch.clone()))?;
        registry.register(Box::new(metrics.following.clone()))?;
        registry.register(Box::new(metrics.update_duration.clone()))?;
        registry.register(Box::new(metrics.scans.clone()))?;
        if let Some(per_validator) = &metrics.per_validator {
            registry.register(Box::new(per_validator.clone()))?;
        }
        for kind in EventKind::NAMES {
            for severity in [Severity::Info, Severity::Warning, Severity::Critical] {
                metrics.events.with_label_values(&[kind, severity.as_str()]);
            }
        }
        for mode in ["events", "polling"] {
            metrics.following.with_label_values(&[mode]);
        }
        for outcome in ["ok", "error"] {
            metrics.scans.with_label_values(&[outcome]);
        }
        Ok(metrics)
    }

    /// Recomputes the set gauges from the whole tracked set.
    pub(crate) fn set_validators<'a>(
        &self,
        validators: impl IntoIterator<Item = &'a TrackedValidator>,
    ) {
        let mut by_kind: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        let mut by_status: BTreeMap<&str, i64> = BTreeMap::new();
        let mut balance = 0u64;
        self.validators.reset();
        self.by_status.reset();
        if let Some(per_validator) = &self.per_validator {
            per_validator.reset();
        }
        for v in validators {
            let pod = if v.pod.is_some() { "true" } else { "false" };
            *by_kind
                .entry((credentials_label(v.prefix()), pod))
                .or_default() += 1;
            *by_status.entry(v.status().as_str()).or_default() += 1;
            balance = balance.saturating_add(v.data.balance.0);
            if let Some(per_validator) = &self.per_validator {
                per_validator
                    .with_label_values(&[&v.index().to_string()])
                    .set(to_i64(v.data.balance.0));
            }
        }
        for ((credentials, pod), n) in by_kind {
            self.validators
                .with_label_values(&[credentials, pod])
                .set(n);
        }
        for (status, n) in by_status {
            self.by_status.with_label_values(&[status]).set(n);
        }
        self.balance.set(to_i64(balance));
    }

    pub(crate) fn event(&self, kind: &EventKind) {
        self.events
            .with_label_values(&[kind.name(), kind.severity().as_str()])
            .inc();
    }

    pub(crate) fn head(&self, slot: u64) {
        self.head_slot.set(to_i64(slot));
    }

    pub(crate) fn updated(&self, slot: u64, seconds: f64) {
        self.updated_slot.set(to_i64(slot));
        self.update_duration.observe(seconds);
    }

    pub(crate) fn finalized(&self, epoch: u64) {
        self.finalized_epoch.set(to_i64(epoch));
    }

    pub(crate) fn following(&self, mode: Option<&str>) {
        for m in ["events", "polling"] {
            self.following
                .with_label_values(&[m])
                .set(i64::from(Some(m) == mode));
        }
    }

    pub(crate) fn scan(&self, ok: bool) {
        self.scans
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }
}
