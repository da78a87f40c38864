//! `restaked healthcheck`, the probe the Docker image uses.

use std::process::Command;

use crate::process::{NodeDir, restaked_bin};

fn healthcheck(addr: &str) -> std::process::Output {
    Command::new(restaked_bin())
        .args(["healthcheck", "--addr", addr, "--timeout", "2s"])
        .env_clear()
        .output()
        .unwrap()
}

#[test]
fn healthcheck_passes_on_a_ready_node_and_fails_without_one() {
    let dir = NodeDir::new("");
    let (node, endpoints) = dir.start();
    let output = healthcheck(&endpoints.http.to_string());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    drop(node);
    let output = healthcheck(&endpoints.http.to_string());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot reach"),
        "{output:?}"
    );
}
