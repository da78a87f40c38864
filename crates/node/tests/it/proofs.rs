//! `restaked.v1.ProofService` and `restakectl proofs`: generated on a `restaked run --dev` node
//! from its devnet's states and verified against the beacon node's block roots, and refused on
//! a node without a beacon node.

use std::{
    thread,
    time::{Duration, Instant},
};

use restake_api::v1::{
    GenerateCheckpointProofsRequest, VerifyProofsRequest, proof_service_client::ProofServiceClient,
    verify_proofs_request::Against,
};
use restake_eigenpod::dev::DEV_POD;
use serde_json::Value;
use tonic::{Code, transport::Channel};

use crate::process::{NodeDir, restakectl};

fn json(grpc: std::net::SocketAddr, args: &[&str]) -> Value {
    let output = restakectl(grpc, args);
    assert!(output.status.success(), "restakectl {args:?}: {output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn dev_credential_and_checkpoint_proofs_verify_against_the_beacon_nodes_roots() {
    let dir = NodeDir::new("");
    let node = dir.spawn_with("proofs-dev.log", &["--dev"]);
    let endpoints = node.wait_ready(&dir.data_dir());
    let pod = DEV_POD.to_string();

    // The tracker has found the pod's active validators.
    let started = Instant::now();
    loop {
        let list = json(
            endpoints.grpc,
            &[
                "validators",
                "list",
                "--pod",
                &pod,
                "--status",
                "active_ongoing",
                "--json",
            ],
        );
        // A few slots in, so that the head has a parent and the parent a parent of its own.
        let following = list["validators"]
            .as_array()
            .is_some_and(|v| !v.is_empty() && v[0]["updated_slot"].as_u64() >= Some(4));
        if following {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no active validator of the dev pod tracked within 30 s:\n{list:#}\nlogs:\n{}",
            node.logs()
        );
        thread::sleep(Duration::from_millis(500));
    }

    let files = tempfile::tempdir().unwrap();
    for kind in ["credentials", "checkpoint"] {
        let file = files.path().join(format!("{kind}.json"));
        let file = file.to_str().unwrap();
        let summary = json(
            endpoints.grpc,
            &["proofs", kind, "--pod", &pod, "--out", file, "--json"],
        );
        let indices = summary["validator_indices"].as_array().unwrap();
        assert!(!indices.is_empty(), "{summary:#}");
        assert!(
            summary["calldata"].as_str().unwrap().starts_with("0x"),
            "{summary:#}"
        );
        let bundle: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(bundle["block_root"], summary["block_root"], "{bundle:#}");
        if kind == "credentials" {
            assert!(summary["beacon_timestamp"].as_u64().unwrap() > 0);
            assert_eq!(bundle["beacon_timestamp"], summary["beacon_timestamp"]);
        }

        let slot = summary["slot"].as_u64().unwrap().to_string();
        let output = restakectl(endpoints.grpc, &["proofs", "verify", file, "--slot", &slot]);
        assert!(output.status.success(), "verify {kind}: {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.starts_with("valid: "), "{stdout}");

        // Against another block's root, the same file is invalid (exit 1, saying why).
        let other = (summary["slot"].as_u64().unwrap() - 1).to_string();
        let output = restakectl(
            endpoints.grpc,
            &["proofs", "verify", file, "--slot", &other],
        );
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("do not verify against block root"),
            "{stderr}"
        );
    }

    // Submitted to the dev pod on anvil with the dev ECDSA key (the pod's owner): a dry run
    // plans without sending, then the real one is mined.
    let planned = json(
        endpoints.grpc,
        &[
            "proofs",
            "credentials",
            "--pod",
            &pod,
            "--submit",
            "--dry-run",
            "--json",
            "--timeout",
            "2m",
        ],
    );
    assert_eq!(planned["dry_run"], true, "{planned:#}");
    let first = &planned["transactions"][0];
    assert_eq!(
        first["function"], "verifyWithdrawalCredentials",
        "{planned:#}"
    );
    assert_eq!(first["tx_hash"], Value::Null, "{planned:#}");
    let sent = json(
        endpoints.grpc,
        &[
            "proofs",
            "credentials",
            "--pod",
            &pod,
            "--submit",
            "--json",
            "--timeout",
            "2m",
        ],
    );
    let transactions = sent["transactions"].as_array().unwrap();
    assert!(!transactions.is_empty(), "{sent:#}");
    for tx in transactions {
        assert!(
            tx["tx_hash"].as_str().is_some_and(|h| h.starts_with("0x")),
            "{sent:#}"
        );
        assert!(tx["block_number"].as_u64().is_some(), "{sent:#}");
    }

    // A validator that does not point at the pod is refused, naming the field.
    let output = restakectl(
        endpoints.grpc,
        &["proofs", "credentials", "--pod", &pod, "--validators", "0"],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("InvalidArgument"), "{stderr}");
    assert!(
        stderr.contains("validator_indices: validator 0"),
        "{stderr}"
    );
}

#[tokio::test]
async fn without_a_beacon_node_the_proof_service_is_failed_precondition() {
    let dir = NodeDir::new("");
    let (_node, endpoints) = dir.start();

    let output = restakectl(
        endpoints.grpc,
        &["proofs", "credentials", "--pod", &DEV_POD.to_string()],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("FailedPrecondition"), "{stderr}");
    assert!(stderr.contains("set beacon.endpoints"), "{stderr}");

    let channel = Channel::from_shared(format!("http://{}", endpoints.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = ProofServiceClient::new(channel);
    let status = client
        .generate_checkpoint_proofs(GenerateCheckpointProofsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    // Verifying against a given root needs no beacon node: a malformed bundle is the
    // caller's error, not a missing dependency.
    let status = client
        .verify(VerifyProofsRequest {
            bundle_json: "{}".to_owned(),
            against: Some(Against::BlockRoot(format!("0x{}", "11".repeat(32)))),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().starts_with("bundle_json: "), "{status:?}");
}
