//! The gRPC admin API over a real socket, with tonic clients.

use std::time::Duration;

use restake_api::v1::{
    ComponentState, GetStatusRequest, ShutdownRequest, node_service_client::NodeServiceClient,
};
use tonic::{Code, Request, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

use crate::process::NodeDir;

async fn channel(addr: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn health_and_status_report_a_ready_node() {
    let dir = NodeDir::new("node.name = \"it-node\"");
    let (_node, endpoints) = dir.start();
    let channel = channel(endpoints.grpc).await;

    let mut health = HealthClient::new(channel.clone());
    for service in ["", "restaked.v1.NodeService"] {
        let response = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            response.status,
            ServingStatus::Serving as i32,
            "service {service:?}"
        );
    }

    let status = NodeServiceClient::new(channel)
        .get_status(GetStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(status.node_name, "it-node");
    assert!(status.ready);
    assert!(!status.dev_mode);
    assert_eq!(
        status.data_dir,
        std::fs::canonicalize(dir.data_dir())
            .unwrap()
            .display()
            .to_string()
    );
    let components: Vec<(String, i32)> = status
        .components
        .into_iter()
        .map(|c| (c.name, c.state))
        .collect();
    let ready = ComponentState::Ready as i32;
    assert_eq!(
        components,
        [
            ("grpc".to_owned(), ready),
            ("http".to_owned(), ready),
            ("keys".to_owned(), ready),
            ("modules".to_owned(), ready),
            ("signer".to_owned(), ready),
            ("store".to_owned(), ready)
        ]
    );
}

#[tokio::test]
async fn reflection_lists_every_service_like_grpcurl_list() {
    let dir = NodeDir::new("");
    let (_node, endpoints) = dir.start();
    let mut reflection = ServerReflectionClient::new(channel(endpoints.grpc).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer: {response:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert!(
        names.contains(&"restaked.v1.NodeService".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.reflection.v1.ServerReflection".to_owned()),
        "{names:?}"
    );
}

#[tokio::test]
async fn shutdown_over_grpc_stops_the_node_cleanly() {
    let dir = NodeDir::new("");
    let (mut node, endpoints) = dir.start();
    let mut client = NodeServiceClient::new(channel(endpoints.grpc).await);
    client
        .shutdown(ShutdownRequest {
            reason: "integration test".to_owned(),
        })
        .await
        .unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let status = node.wait_exit(Duration::from_secs(5));
        (status, node.logs())
    })
    .await
    .unwrap();
    assert_eq!(status.0.code(), Some(0), "{}", status.1);
    assert!(status.1.contains("gRPC Shutdown request"), "{}", status.1);
}

#[tokio::test]
async fn admin_calls_need_the_token_when_one_is_configured() {
    let dir = NodeDir::new("grpc.auth_token = \"0123456789abcdef-token\"");
    let (_node, endpoints) = dir.start();
    let channel = channel(endpoints.grpc).await;
    let error = NodeServiceClient::new(channel.clone())
        .get_status(GetStatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::Unauthenticated);

    let mut wrong = Request::new(GetStatusRequest {});
    wrong.metadata_mut().insert(
        "authorization",
        "Bearer 0123456789abcdef-tokeX".parse().unwrap(),
    );
    let error = NodeServiceClient::new(channel.clone())
        .get_status(wrong)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::Unauthenticated);

    let mut right = Request::new(GetStatusRequest {});
    right.metadata_mut().insert(
        "authorization",
        "Bearer 0123456789abcdef-token".parse().unwrap(),
    );
    assert!(
        NodeServiceClient::new(channel.clone())
            .get_status(right)
            .await
            .unwrap()
            .into_inner()
            .ready
    );

    // Health stays open for probes.
    let health = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(health.into_inner().status, ServingStatus::Serving as i32);
}
