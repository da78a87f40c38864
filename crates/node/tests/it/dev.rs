//! `restaked run --dev` end to end: the in-process beacon devnet and anvil with the test pod
//! contracts, the tracker finding each dev case, and `restakectl validators list|watch` and
//! `restakectl pods report` showing them.
//!
//! Needs the anvil binary that `scripts/test.sh` installs under `target/tools/anvil`: without it
//! `--dev` runs without an execution chain and this test fails on the missing pod report.

use std::{
    collections::BTreeSet,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use restaked::probe;

use crate::process::{NodeDir, restakectl, restakectl_bin};

/// The devnet's fixed layout (restake-devnet's `Scenario` with its default config): 0 keeps BLS
/// credentials, 1 converts at slot 8, 2 is slashed at genesis, 3 is slashed at slot 40, 4 exits
/// at slot 48, 6 is withdrawn; from 7 on `index % 5` is 0x01 pod, 0x02 pod, 0x01 other, ...
const SLASHED_DURING_RUN: u64 = 3;
const EXITING: u64 = 4;

fn json(grpc: std::net::SocketAddr, args: &[&str]) -> Value {
    let output = restakectl(grpc, args);
    assert!(output.status.success(), "restakectl {args:?}: {output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn validator(list: &Value, index: u64) -> Option<&Value> {
    list["validators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["index"] == index)
}

#[test]
fn dev_mode_tracks_every_case_and_reports_every_pod_finding() {
    let dir = NodeDir::new("");
    let node = dir.spawn_with("dev.log", &["--dev"]);
    let endpoints = node.wait_ready(&dir.data_dir());

    // Slot 49 is after the slashing and the exit; slots last one second.
    let started = Instant::now();
    let list = loop {
        let list = json(endpoints.grpc, &["validators", "list", "--json"]);
        let exited = validator(&list, EXITING).is_some_and(|v| !v["exit_epoch"].is_null());
        let slashed = validator(&list, SLASHED_DURING_RUN).is_some_and(|v| v["slashed"] == true);
        if exited && slashed {
            break list;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the dev tracker did not see the slashing and the exit within 120 s:\n{list:#}\nlogs:\n{}",
            node.logs()
        );
        thread::sleep(Duration::from_millis(500));
    };

    let field = |index: u64, key: &str| validator(&list, index).unwrap()[key].clone();
    assert_eq!(field(0, "credentials_type"), "0x00");
    assert_eq!(field(1, "credentials_type"), "0x01", "converted at slot 8");
    assert!(
        field(1, "pod").is_string(),
        "the converted validator points at the pod"
    );
    assert_eq!(field(2, "status"), "exited_slashed");
    assert_eq!(field(6, "status"), "withdrawal_done");
    assert_eq!(
        field(7, "pod"),
        Value::Null,
        "tracked by index, points elsewhere"
    );
    let pod_types: BTreeSet<_> = list["validators"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["pod"].is_string())
        .map(|v| v["credentials_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        pod_types,
        BTreeSet::from(["0x01".to_owned(), "0x02".to_owned()])
    );

    // The event log, replayed by `validators watch` (killed once it has printed the backlog).
    let mut watch = Command::new(restakectl_bin())
        .args(["--endpoint", &format!("http://{}", endpoints.grpc)])
        .args(["validators", "watch", "--json"])
        .env_clear()
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_secs(2));
    watch.kill().unwrap();
    let lines = String::from_utf8(watch.wait_with_output().unwrap().stdout).unwrap();
    let kinds: BTreeSet<(u64, String)> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        (0, "unconverted_credentials"),
        (2, "slashed"),
        (SLASHED_DURING_RUN, "slashed"),
        (SLASHED_DURING_RUN, "balance_dropped"),
        (EXITING, "exit_initiated"),
    ] {
        assert!(
            kinds.contains(&(expected.0, expected.1.to_owned())),
            "no {expected:?} event in:\n{lines}"
        );
    }

    // The pod report, once reconciled after the slashing.
    let started = Instant::now();
    let report = loop {
        let report = json(endpoints.grpc, &["pods", "report", "--json"]);
        let stale = report["pods"][0]["findings"].as_array().is_some_and(|f| {
            f.iter().any(|f| {
                f["kind"] == "stale_after_slashing"
                    && f["validators"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|v| v["index"] == SLASHED_DURING_RUN)
            })
        });
        if stale {
            break report;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no pod report with the slashing within 30 s:\n{report:#}\nlogs:\n{}",
            node.logs()
        );
        thread::sleep(Duration::from_millis(500));
    };
    let pod = &report["pods"][0];
    assert_eq!(pod["error"], Value::Null, "{pod:#}");
    let found: BTreeSet<&str> = pod["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        found,
        BTreeSet::from([
            "active_in_pod_not_on_beacon",
            "credentials_not_verified",
            "stale_after_slashing",
            "unrestaked_pod_balance",
        ]),
        "{pod:#}"
    );
    let table = restakectl(endpoints.grpc, &["pods", "report"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("CRITICAL  stale_after_slashing"), "{table}");

    // Every metric the alert rules use is one this node exports.
    let metrics = probe::http_get(endpoints.http, "/metrics", Duration::from_secs(2))
        .unwrap()
        .body;
    for name in rule_metrics() {
        assert!(
            metrics.contains(&format!("\n{name}{{")) || metrics.contains(&format!("\n{name} ")),
            "the alert rules use {name}, which /metrics does not have"
        );
    }
}

fn rules_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/prometheus")
}

/// The `restaked_*` metric names the alert rules use.
fn rule_metrics() -> BTreeSet<String> {
    let rules = std::fs::read_to_string(rules_dir().join("restaked-alerts.yml")).unwrap();
    let mut names = BTreeSet::new();
    for (at, _) in rules.match_indices("restaked_") {
        if rules[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = rules[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if rules[at + name.len()..].starts_with(['{', '[', ')', ' ']) {
            names.insert(name);
        }
    }
    assert!(names.len() >= 5, "{names:?}");
    names
}

/// The alert rules are valid and behave as their promtool unit tests say (Debian's
/// `prometheus` package, which scripts/test.sh installs).
#[test]
fn alert_rules_pass_promtool() {
    for args in [
        ["check", "rules", "restaked-alerts.yml"],
        ["test", "rules", "restaked-alerts.test.yml"],
    ] {
        let output = Command::new("promtool")
            .args(args)
            .current_dir(rules_dir())
            .output()
            .unwrap_or_else(|e| panic!("cannot run promtool ({e}); scripts/test.sh installs it"));
        assert!(output.status.success(), "promtool {args:?}: {output:?}");
    }
}
