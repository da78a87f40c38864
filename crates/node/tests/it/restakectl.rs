//! `restakectl` against a running node, as an operator and as a script use it.

use std::process::{Command, Output};

use crate::process::{NodeDir, restakectl_bin};

fn restakectl(endpoint: &str, args: &[&str]) -> Output {
    Command::new(restakectl_bin())
        .arg("--endpoint")
        .arg(endpoint)
        .args(args)
        .env_clear()
        .output()
        .unwrap()
}

#[test]
fn status_prints_a_table_and_json() {
    let dir = NodeDir::new("node.name = \"ctl-node\"");
    let (_node, endpoints) = dir.start();
    let endpoint = format!("http://{}", endpoints.grpc);

    let output = restakectl(&endpoint, &["status"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.starts_with(&format!(
            "Node      ctl-node (restaked {})\nReady     yes\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{table}"
    );
    let data_dir = std::fs::canonicalize(dir.data_dir()).unwrap();
    assert!(
        table.contains(&format!("Data dir  {}\n", data_dir.display())),
        "{table}"
    );
    assert!(
        table.contains(
            "COMPONENT  STATE  MESSAGE\ngrpc       ready\nhttp       ready\nkeys       ready  0 key(s) loaded\nmodules    ready  0 module(s) enabled, 0 disabled\nsigner     ready\nstore      ready\n"
        ),
        "{table}"
    );

    let output = restakectl(&endpoint, &["status", "--json"]);
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["node_name"], "ctl-node");
    assert_eq!(json["ready"], true);
    assert_eq!(json["data_dir"], data_dir.display().to_string());
    assert_eq!(json["components"].as_array().unwrap().len(), 6);
    assert_eq!(json["components"][5]["name"], "store");
    assert_eq!(json["components"][5]["state"], "ready");
}

#[test]
fn an_unreachable_node_is_a_clear_error_with_exit_69() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let output = restakectl(&endpoint, &["status"]);
    assert_eq!(output.status.code(), Some(69));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot reach restaked at {endpoint}")),
        "{stderr}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = restakectl(&endpoint, &["status", "--json"]);
    assert_eq!(output.status.code(), Some(69));
    let json: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(json["exit_code"], 69);
}

#[test]
fn a_missing_token_is_named_and_a_given_one_works() {
    let dir = NodeDir::new("grpc.auth_token = \"0123456789abcdef-token\"");
    let (_node, endpoints) = dir.start();
    let endpoint = format!("http://{}", endpoints.grpc);
    let output = restakectl(&endpoint, &["status"]);
    assert_eq!(output.status.code(), Some(77));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--token"),
        "{output:?}"
    );
    let output = restakectl(
        &endpoint,
        &["--token", "0123456789abcdef-token", "status", "--json"],
    );
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn shutdown_stops_the_node() {
    let dir = NodeDir::new("");
    let (mut node, endpoints) = dir.start();
    let output = restakectl(
        &format!("http://{}", endpoints.grpc),
        &["shutdown", "--json"],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        node.wait_exit(std::time::Duration::from_secs(5)).code(),
        Some(0)
    );
}
