//! Configuration errors as the process reports them.

use std::{fs, process::Command, time::Duration};

use crate::process::{NodeDir, restaked_bin};

#[test]
fn a_bad_config_exits_64_listing_every_error_before_touching_anything() {
    let dir = NodeDir::new("node.name = \"\"\nlog.format = \"xml\"\nhtp.listen = \"x\"");
    let config = fs::read_to_string(dir.config_path())
        .unwrap()
        .replace("drain_timeout = \"5s\"", "drain_timeout = \"soon\"");
    fs::write(dir.config_path(), config).unwrap();
    let mut node = dir.spawn("restaked.log");
    let status = node.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(64), "logs:\n{}", node.logs());
    let logs = node.logs();
    assert!(
        logs.contains("invalid configuration (4 problems)"),
        "{logs}"
    );
    for expected in [
        "htp: unknown key (did you mean `http`?)",
        "log.format: \"xml\" is not one of: human, json",
        "node.name: must not be empty",
        "shutdown.drain_timeout: \"soon\" is not a duration",
    ] {
        assert!(logs.contains(expected), "missing {expected:?} in:\n{logs}");
    }
    assert!(
        !dir.data_dir().exists(),
        "nothing is created or bound before the config is valid"
    );
}

#[test]
fn environment_and_flags_override_the_file() {
    let dir = NodeDir::new("node.name = \"from-file\"");
    let output = Command::new(restaked_bin())
        .args(["config", "dump", "--config"])
        .arg(dir.config_path())
        .args(["--log-format", "json", "--set", "store.busy_timeout=2s"])
        .env_clear()
        .env("RESTAKED_NODE__NAME", "from-env")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dump = String::from_utf8(output.stdout).unwrap();
    assert!(dump.contains("name = \"from-env\""), "{dump}");
    assert!(dump.contains("format = \"json\""), "{dump}");
    assert!(dump.contains("busy_timeout = \"2s\""), "{dump}");
}

#[test]
fn config_check_validates_without_starting() {
    let good = NodeDir::new("");
    let output = Command::new(restaked_bin())
        .args(["config", "check"])
        .arg(good.config_path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!good.data_dir().exists());

    let bad = NodeDir::new("store.integrity_check = \"never\"");
    let output = Command::new(restaked_bin())
        .args(["config", "check"])
        .arg(bad.config_path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("store.integrity_check: \"never\" is not one of: quick, full"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&bad.config_path().display().to_string()),
        "the error names the file: {stderr}"
    );
    assert!(!bad.data_dir().exists());
}

#[test]
fn config_dump_redacts_the_auth_token() {
    let output = Command::new(restaked_bin())
        .args([
            "config",
            "dump",
            "--set",
            "grpc.auth_token=very-secret-admin-token",
        ])
        .env_clear()
        .output()
        .unwrap();
    assert!(output.status.success());
    let dump = String::from_utf8(output.stdout).unwrap();
    assert!(!dump.contains("very-secret-admin-token"), "{dump}");
    assert!(dump.contains("auth_token = \"<redacted>\""), "{dump}");
}
