//! The node's Prometheus registry: build info, process metrics, uptime and component readiness.
//!
//! One `Registry` is made here and passed to whoever registers metrics; there are no globals.

use std::time::Instant;

use prometheus::{
    Encoder, Gauge, GaugeVec, IntGaugeVec, Opts, Registry, TextEncoder,
    core::{Collector, Desc},
    proto::MetricFamily,
};

use crate::readiness::{ComponentState, Readiness};

/// Metrics computed when scraped from the node's live state.
struct NodeCollector {
    started: Instant,
    readiness: Readiness,
    uptime: Gauge,
    component_up: IntGaugeVec,
    performance: Gauge,
}

impl NodeCollector {
    fn new(started: Instant, readiness: Readiness) -> prometheus::Result<Self> {
        Ok(Self {
            started,
            readiness,
            uptime: Gauge::with_opts(Opts::new(
                "restaked_node_uptime_seconds",
                "Seconds since the node process started.",
            ))?,
            component_up: IntGaugeVec::new(
                Opts::new(
                    "restaked_node_component_ready",
                    "1 when the component is ready or degraded, 0 otherwise.",
                ),
                &["component"],
            )?,
            performance: Gauge::with_opts(Opts::new(
                "eigen_performance_score",
                "EigenLayer AVS node spec performance score (0-100): the percentage of node components that are ready.",
            ))?,
        })
    }
}

impl Collector for NodeCollector {
    fn desc(&self) -> Vec<&Desc> {
        [
            self.uptime.desc(),
            self.component_up.desc(),
            self.performance.desc(),
        ]
        .concat()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.uptime.set(self.started.elapsed().as_secs_f64());
        let components = self.readiness.snapshot();
        let mut up = 0usize;
        for (name, status) in &components {
            let is_up = matches!(
                status.state,
                ComponentState::Ready | ComponentState::Degraded
            );
            up += usize::from(is_up);
            self.component_up
                .with_label_values(&[name.as_str()])
                .set(i64::from(is_up));
        }
        let score = if components.is_empty() {
            0.0
        } else {
            100.0 * up as f64 / components.len() as f64
        };
        self.performance.set(score);
        [
            self.uptime.collect(),
            self.component_up.collect(),
            self.performance.collect(),
        ]
        .concat()
    }
}

/// Builds the node's registry with its own metrics registered.
pub fn node_registry(started: Instant, readiness: Readiness) -> prometheus::Result<Registry> {
    let registry = Registry::new();
    let build_info = GaugeVec::new(
        Opts::new(
            "restaked_build_info",
            "Build information; the value is always 1.",
        ),
        &["version", "arch"],
    )?;
    build_info
        .with_label_values(&[env!("CARGO_PKG_VERSION"), std::env::consts::ARCH])
        .set(1.0);
    registry.register(Box::new(build_info))?;
    registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;
    registry.register(Box::new(NodeCollector::new(started, readiness)?))?;
    Ok(registry)
}

/// The registry's metrics in the Prometheus text format.
pub fn encode(registry: &Registry) -> Result<String, prometheus::Error> {
    let mut buffer = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut buffer)?;
    String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_build_info_uptime_readiness_and_process_metrics() {
        let readiness = Readiness::default();
        readiness.ready("store");
        readiness.set("grpc", ComponentState::Starting, "binding");
        let registry = node_registry(Instant::now(), readiness).unwrap();
        let text = encode(&registry).unwrap();
        assert!(
            text.contains(&format!(
                "restaked_build_info{{arch=\"{}\",version=\"{}\"}} 1",
                std::env::consts::ARCH,
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        assert!(text.contains("restaked_node_uptime_seconds "), "{text}");
        assert!(
            text.contains("restaked_node_component_ready{component=\"store\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("restaked_node_component_ready{component=\"grpc\"} 0"),
            "{text}"
        );
        assert!(text.contains("eigen_performance_score 50"), "{text}");
        assert!(text.contains("process_resident_memory_bytes "), "{text}");
    }
}
