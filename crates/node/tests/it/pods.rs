//! `restaked.v1.PodService` and `restakectl pods report` on a node without an execution endpoint.
//! (With a devnet, the reconciliation itself is tested end to end elsewhere.)

use restake_api::v1::{PodReportRequest, pod_service_client::PodServiceClient};
use tonic::{Code, transport::Channel};

use crate::process::{NodeDir, restakectl};

/// What every call says on a node that does not reconcile pods.
const NO_EXECUTION: &str = "set execution.rpc_url";

#[test]
fn restakectl_pods_report_without_an_execution_endpoint_names_the_missing_setting() {
    let dir = NodeDir::new("");
    let (_node, endpoints) = dir.start();

    let validators = restakectl(endpoints.grpc, &["validators", "list"]);
    let output = restakectl(endpoints.grpc, &["pods", "report"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(output.status.code(), validators.status.code(), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("FailedPrecondition"), "{stderr}");
    assert!(stderr.contains(NO_EXECUTION), "{stderr}");
    assert!(stderr.contains("eigenpod.owners"), "{stderr}");

    let output = restakectl(endpoints.grpc, &["pods", "report", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(json["exit_code"], 1);
    let error = json["error"].as_str().unwrap();
    assert!(error.contains("FailedPrecondition"), "{error}");
    assert!(error.contains(NO_EXECUTION), "{error}");
}

#[tokio::test]
async fn the_pod_service_refuses_calls_without_reconciliation() {
    let dir = NodeDir::new("");
    let (_node, endpoints) = dir.start();
    let channel = Channel::from_shared(format!("http://{}", endpoints.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status = PodServiceClient::new(channel)
        .report(PodReportRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains(NO_EXECUTION), "{status:?}");
}
