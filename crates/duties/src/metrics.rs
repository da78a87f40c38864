//! The runtime's own metrics.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

/// `restaked_module_*` metrics, registered once per runtime.
#[derive(Clone, Debug)]
pub(crate) struct RuntimeMetrics {
    /// 1 for the module's current state, 0 for the others.
    pub(crate) state: IntGaugeVec,
    /// Restarts after a failure or panic.
    pub(crate) restarts: IntCounterVec,
    /// Duration of each duty a module recorded.
    pub(crate) duty_duration: HistogramVec,
    /// Duties a module recorded, by outcome.
    pub(crate) duties: IntCounterVec,
}

impl RuntimeMetrics {
    pub(crate) fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let state = IntGaugeVec::new(
            Opts::new(
                "restaked_module_state",
                "1 for the duty module's current state, 0 for the others.",
            ),
            &["module", "state"],
        )?;
        let restarts = IntCounterVec::new(
            Opts::new(
                "restaked_module_restarts_total",
                "Restarts of a duty module after it failed or panicked.",
            ),
            &["module"],
        )?;
        let duty_duration = HistogramVec::new(
            HistogramOpts::new(
                "restaked_module_duty_duration_seconds",
                "Duration of the duties a module performed.",
            )
            .buckets(vec![
                0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["module"],
        )?;
        let duties = IntCounterVec::new(
            Opts::new(
                "restaked_module_duties_total",
                "Duties a module performed, by outcome.",
            ),
            &["module", "outcome"],
        )?;
        registry.register(Box::new(state.clone()))?;
        registry.register(Box::new(restarts.clone()))?;
        registry.register(Box::new(duty_duration.clone()))?;
        registry.register(Box::new(duties.clone()))?;
        Ok(Self {
            state,
            restarts,
            duty_duration,
            duties,
        })
    }
}
