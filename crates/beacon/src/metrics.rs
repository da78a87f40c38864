//! Per-endpoint metrics, registered in the registry the node passes in.
//!
//! Label values come from closed sets only: `endpoint` is the configured index, `route` a fixed
//! template ([`crate::Route::template`]), `outcome` one of [`OUTCOMES`].

use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

use crate::config::Route;

/// Every value of the `outcome` label.
pub const OUTCOMES: [&str; 10] = [
    "ok",
    "not_found",
    "client_error",
    "rate_limited",
    "server_error",
    "timeout",
    "connection_error",
    "truncated",
    "too_large",
    "invalid_response",
];

#[derive(Clone, Debug)]
pub(crate) struct Metrics {
    requests: IntCounterVec,
    duration: HistogramVec,
    up: IntGaugeVec,
}

impl Metrics {
    pub(crate) fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "restaked_beacon_requests_total",
                "Beacon API request attempts, by endpoint, route and outcome.",
            ),
            &["endpoint", "route", "outcome"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "restaked_beacon_request_duration_seconds",
                "Duration of Beacon API request attempts, body included, by endpoint and route.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
            ]),
            &["endpoint", "route"],
        )?;
        let up = IntGaugeVec::new(
            Opts::new(
                "restaked_beacon_endpoint_up",
                "0 while the beacon endpoint's recent attempts are failing, else 1.",
            ),
            &["endpoint"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(up.clone()))?;
        Ok(Self {
            requests,
            duration,
            up,
        })
    }

    pub(crate) fn observe(
        &self,
        endpoint: &str,
        route: Route,
        outcome: &'static str,
        took: Duration,
    ) {
        self.requests
            .with_label_values(&[endpoint, route.template(), outcome])
            .inc();
        self.duration
            .with_label_values(&[endpoint, route.template()])
            .observe(took.as_secs_f64());
    }

    /// Counts an outcome without a duration (a broken event stream).
    pub(crate) fn count(&self, endpoint: &str, route: Route, outcome: &'static str) {
        self.requests
            .with_label_values(&[endpoint, route.template(), outcome])
            .inc();
    }

    pub(crate) fn set_up(&self, endpoint: &str, up: bool) {
        self.up.with_label_values(&[endpoint]).set(i64::from(up));
    }
}
