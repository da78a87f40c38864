//! `restaked.v1.ValidatorService` and `restakectl validators` on a node without a beacon node.
//! (With a devnet beacon node, the tracked set and its events are tested end to end elsewhere.)

use std::time::{Duration, Instant};

use restake_api::v1::{
    GetTrackerStatusRequest, WatchEventsRequest, validator_service_client::ValidatorServiceClient,
};
use tonic::{Code, transport::Channel};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

use crate::process::{NodeDir, restakectl};

/// What every call says on a node without `beacon.endpoints`.
const NO_BEACON: &str = "set beacon.endpoints";

#[test]
fn restakectl_validators_without_a_beacon_node_names_the_missing_setting() {
    let dir = NodeDir::new("");
    let (_node, endpoints) = dir.start();

    let output = restakectl(endpoints.grpc, &["validators", "list"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("FailedPrecondition"), "{stderr}");
    assert!(stderr.contains(NO_BEACON), "{stderr}");

    let output = restakectl(
        endpoints.grpc,
        &["validators", "list", "--status", "active", "--json"],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(json["exit_code"], 1);
    let error = json["error"].as_str().unwrap();
    assert!(error.contains("FailedPrecondition"), "{error}");
    assert!(error.contains(NO_BEACON), "{error}");
    assert_eq!(json.as_object().unwrap().len(), 2, "{json}");

    for args in [
        &["validators", "show", "12"][..],
        &["validators", "show", &format!("0x{}", "ab".repeat(48))],
        &["validators", "watch", "--min-severity", "critical"],
    ] {
        let started = Instant::now();
        let output = restakectl(endpoints.grpc, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(NO_BEACON),
            "{args:?}: {output:?}"
        );
        // `watch` fails at once instead of waiting for events that cannot come.
        assert!(started.elapsed() < Duration::from_secs(10), "{args:?}");
    }

    let output = restakectl(endpoints.grpc, &["validators", "show", "validator-1"]);
    assert_eq!(output.status.code(), Some(64), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("neither a validator index nor a 0x public key"),
        "{output:?}"
    );
}

#[tokio::test]
async fn the_service_is_listed_by_reflection_and_refuses_calls_without_a_tracker() {
    let dir = NodeDir::new("");
    let (_node, endpoints) = dir.start();
    let channel = Channel::from_shared(format!("http://{}", endpoints.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();

    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let response = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner()
        .message()
        .await
        .unwrap()
        .unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer: {response:?}");
    };
    assert!(
        list.service
            .iter()
            .any(|s| s.name == "restaked.v1.ValidatorService"),
        "{list:?}"
    );

    let mut client = ValidatorServiceClient::new(channel);
    let status = client
        .get_tracker_status(GetTrackerStatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains(NO_BEACON), "{status:?}");
    let status = client
        .watch_events(WatchEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
}
