//! Duty modules in a running node: `--dev`'s oracle signing verified proof-of-reserve rounds,
//! modules disabled and enabled live over gRPC, their state in the EigenLayer node API, and a
//! module whose key is not loaded stopping startup.

use std::{
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use restaked::probe::http_get;

use crate::process::{NodeDir, restakectl};

fn json(grpc: std::net::SocketAddr, args: &[&str]) -> Value {
    let output = restakectl(grpc, args);
    assert!(output.status.success(), "restakectl {args:?}: {output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Polls `probe` every 250 ms until it gives a value, failing after `limit`.
fn wait_for<T>(
    what: &str,
    limit: Duration,
    logs: impl Fn() -> String,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "{what} did not happen within {limit:?}; logs:\n{}",
            logs()
        );
        thread::sleep(Duration::from_millis(250));
    }
}

fn latest_round(grpc: std::net::SocketAddr, feed: &str) -> Option<u64> {
    let reports = json(grpc, &["oracle", "reports", feed, "--limit", "1", "--json"]);
    reports["reports"].as_array()?.first()?["round"].as_u64()
}

fn service(http: std::net::SocketAddr, id: &str) -> Value {
    let response = http_get(http, "/eigen/node/services", Duration::from_secs(5)).unwrap();
    assert_eq!(response.status, 200);
    let services: Value = serde_json::from_str(&response.body).unwrap();
    services["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no service {id} in {services}"))
}

/// The status code of the service's health endpoint.
fn service_health(http: std::net::SocketAddr, id: &str) -> u16 {
    let path = format!("/eigen/node/services/{id}/health");
    http_get(http, &path, Duration::from_secs(5))
        .unwrap()
        .status
}

#[test]
fn dev_oracle_signs_verified_rounds_and_is_disabled_and_enabled_live() {
    let dir = NodeDir::new("");
    let node = dir.spawn_with("dev.log", &["--dev"]);
    let endpoints = node.wait_ready(&dir.data_dir());
    let grpc = endpoints.grpc;

    let first = wait_for(
        "a signed dev-pod-reserve report",
        Duration::from_secs(60),
        || node.logs(),
        || {
            let reports = json(grpc, &["oracle", "reports", "dev-pod-reserve", "--json"]);
            reports["reports"].as_array()?.first().cloned()
        },
    );
    assert_eq!(first["verified"], true, "{first}");
    assert_eq!(first["scheme"], "bn254");
    assert_eq!(first["sources"], serde_json::json!(["devnet"]));
    assert_eq!(first["decimals"], 9);
    // The dev pod's validators hold whole ETH plus rewards: some tens of ETH, not zero.
    let value: f64 = first["value"].as_str().unwrap().parse().unwrap();
    assert!(value >= 32.0, "{first}");

    let modules = json(grpc, &["modules", "list", "--json"]);
    let oracle = modules["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "dev-oracle")
        .cloned()
        .unwrap_or_else(|| panic!("{modules}"));
    assert_eq!(oracle["kind"], "oracle");
    assert_eq!(oracle["enabled"], true);
    assert_eq!(service(endpoints.http, "dev-oracle")["status"], "Up");
    assert_eq!(service_health(endpoints.http, "dev-oracle"), 200);

    let disabled = json(grpc, &["modules", "disable", "dev-oracle", "--json"]);
    assert_eq!(disabled["state"], "disabled", "{disabled}");
    assert_eq!(service(endpoints.http, "dev-oracle")["status"], "Down");
    assert_eq!(service_health(endpoints.http, "dev-oracle"), 503);
    let status = json(grpc, &["status", "--json"]);
    let component = status["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "modules")
        .cloned()
        .unwrap();
    assert!(
        component["message"]
            .as_str()
            .unwrap()
            .contains("1 disabled"),
        "{component}"
    );
    let round_when_disabled = latest_round(grpc, "dev-tracked-balance").unwrap_or(0);

    let enabled = json(grpc, &["modules", "enable", "dev-oracle", "--json"]);
    assert_eq!(enabled["enabled"], true, "{enabled}");
    // The re-enabled module goes on from its last round (heartbeat 10 s).
    let next = wait_for(
        "a round after re-enabling",
        Duration::from_secs(60),
        || node.logs(),
        || latest_round(grpc, "dev-tracked-balance").filter(|round| *round > round_when_disabled),
    );
    assert_eq!(next, round_when_disabled + 1, "rounds go on one by one");
    let history = json(
        grpc,
        &[
            "oracle",
            "reports",
            "dev-tracked-balance",
            "--limit",
            "1000",
            "--json",
        ],
    );
    let reports = history["reports"].as_array().unwrap();
    assert!(reports.iter().all(|r| r["verified"] == true), "{history}");
    let rounds: Vec<u64> = reports
        .iter()
        .map(|r| r["round"].as_u64().unwrap())
        .collect();
    assert!(
        rounds.windows(2).all(|w| w[0] == w[1] + 1),
        "newest first, no round missing or repeated: {rounds:?}"
    );

    let missing = restakectl(grpc, &["modules", "disable", "no-such-module"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("dev-oracle"),
        "an unknown id lists the known ones: {missing:?}"
    );
}

#[test]
fn a_module_whose_key_is_not_loaded_stops_startup_with_its_config_path() {
    let dir = NodeDir::new(
        r#"
[modules.reserves]
kind = "oracle"
[modules.reserves.feeds.pod.sources.beacon]
kind = "beacon"
value = "tracked_balance"
"#,
    );
    let mut node = dir.spawn("restaked.log");
    let status = node.wait_exit(Duration::from_secs(20));
    let logs = node.logs();
    assert_eq!(status.code(), Some(64), "logs:\n{logs}");
    assert!(
        logs.contains("modules.reserves.feeds.pod.key: no bn254 key is loaded"),
        "{logs}"
    );
}
