//! The HTTP port of a running node, checked with the tools an operator's monitoring uses.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::Duration,
};

use restaked::probe;

use crate::process::NodeDir;

/// `promtool check metrics` on `text`; `promtool` comes with Debian's `prometheus` package,
/// which `scripts/test.sh` installs.
fn promtool_check(text: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run promtool ({e}); install Debian's `prometheus` package (scripts/test.sh does)"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), report)
}

#[test]
fn metrics_pass_promtool_and_carry_build_process_and_uptime() {
    let dir = NodeDir::new("");
    let (_node, endpoints) = dir.start();
    let metrics = probe::http_get(endpoints.http, "/metrics", Duration::from_secs(5)).unwrap();
    assert_eq!(metrics.status, 200);
    let (ok, report) = promtool_check(&metrics.body);
    assert!(
        ok,
        "promtool rejected /metrics:\n{report}\n{}",
        metrics.body
    );
    for name in [
        "restaked_build_info{",
        "restaked_node_uptime_seconds ",
        "restaked_node_component_ready{component=\"store\"} 1",
        "process_resident_memory_bytes ",
        "process_start_time_seconds ",
        "eigen_performance_score 100",
    ] {
        assert!(
            metrics.body.contains(name),
            "missing {name:?} in:\n{}",
            metrics.body
        );
    }
}

#[test]
fn promtool_check_is_not_a_rubber_stamp() {
    let (ok, report) = promtool_check("# TYPE bad_metric counter\nbad_metric 1\n");
    assert!(
        !ok,
        "promtool should flag a counter without _total: {report}"
    );
}

#[test]
fn health_endpoints_and_the_eigen_node_api_answer_on_the_real_port() {
    let dir = NodeDir::new("node.name = \"it-node\"");
    let (_node, endpoints) = dir.start();
    let get = |path: &str| probe::http_get(endpoints.http, path, Duration::from_secs(5)).unwrap();

    assert_eq!(get("/livez").status, 200);
    let ready = get("/readyz");
    assert_eq!(ready.status, 200);
    let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(json["ready"], true);
    for component in ["store", "http", "grpc"] {
        assert_eq!(json["components"][component]["state"], "ready", "{json}");
    }
    let node: serde_json::Value = serde_json::from_str(&get("/eigen/node").body).unwrap();
    assert_eq!(node["node_name"], "it-node");
    assert_eq!(get("/eigen/node/health").status, 200);
    assert_eq!(get("/eigen/node/services").body, "{\"services\":[]}");
    assert_eq!(get("/eigen/node/services/nope/health").status, 404);
    assert_eq!(get("/no/such/path").status, 404);
}
