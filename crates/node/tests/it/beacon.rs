//! The node's beacon connection as readiness reports it.

use std::time::{Duration, Instant};

use restake_devnet::{Devnet, DevnetConfig, Drive};
use restaked::{node::Endpoints, probe};
use tokio_util::sync::CancellationToken;

use crate::process::NodeDir;

/// Polls /readyz until the `beacon` component is in `state`; returns the readiness JSON.
fn wait_for_beacon(endpoints: &Endpoints, state: &str) -> serde_json::Value {
    wait_for(endpoints, "beacon", state)
}

/// Polls /readyz until `component` is in `state`; returns the readiness JSON.
fn wait_for(endpoints: &Endpoints, component: &str, state: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = probe::http_get(endpoints.http, "/readyz", Duration::from_secs(2)).unwrap();
        let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
        if json["components"][component]["state"] == state {
            return json;
        }
        assert!(
            Instant::now() < deadline,
            "{component} never became {state}: {json}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_reachable_beacon_node_makes_the_component_ready() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let devnet = runtime
        .block_on(Devnet::start(
            DevnetConfig {
                drive: Drive::Manual,
                ..DevnetConfig::default()
            },
            "127.0.0.1:0".parse().unwrap(),
            CancellationToken::new(),
        ))
        .unwrap();
    runtime.block_on(devnet.advance()).unwrap();
    let addr = devnet.local_addr();

    let dir = NodeDir::new(&format!("beacon.endpoints = [\"http://{addr}\"]"));
    let (_node, endpoints) = dir.start();
    wait_for_beacon(&endpoints, "ready");
    wait_for(&endpoints, "tracker", "ready");
    assert_eq!(
        probe::http_get(endpoints.http, "/eigen/node/health", Duration::from_secs(2))
            .unwrap()
            .status,
        200
    );
    let metrics = probe::http_get(endpoints.http, "/metrics", Duration::from_secs(2))
        .unwrap()
        .body;
    assert!(
        metrics.contains("restaked_beacon_requests_total{"),
        "{metrics}"
    );
}

#[test]
fn an_unreachable_beacon_node_degrades_but_does_not_stop_the_node() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = NodeDir::new(&format!("beacon.endpoints = [\"http://{closed}\"]"));
    let (_node, endpoints) = dir.start();
    let json = wait_for_beacon(&endpoints, "degraded");
    assert!(
        json["components"]["beacon"]["message"]
            .as_str()
            .unwrap()
            .starts_with("no beacon endpoint answers"),
        "{json}"
    );
    assert_eq!(
        json["ready"], true,
        "a degraded beacon keeps the node ready: {json}"
    );
    assert_eq!(
        probe::http_get(endpoints.http, "/eigen/node/health", Duration::from_secs(2))
            .unwrap()
            .status,
        206
    );
}
