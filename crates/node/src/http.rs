//! The HTTP port: `/metrics`, `/livez`, `/readyz` and the EigenLayer AVS node API (`/eigen/node/*`).

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus::Registry;
use restake_duties::{ModuleRuntime, ModuleState};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    metrics, modules,
    readiness::{Health, Readiness},
};

/// Version of the EigenLayer AVS node API specification served under `/eigen/node`.
pub const EIGEN_NODE_SPEC_VERSION: &str = "v0.0.1";

/// What the HTTP handlers read.
#[derive(Clone)]
pub struct HttpState {
    /// The node's metrics registry.
    pub registry: Registry,
    /// Component readiness.
    pub readiness: Readiness,
    /// `node.name`.
    pub node_name: Arc<str>,
    /// The duty modules, listed as the node's services.
    pub modules: Arc<ModuleRuntime>,
}

/// The router, separate from serving so it can be tested without a socket.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/eigen/node", get(eigen_node))
        .route("/eigen/node/health", get(eigen_health))
        .route("/eigen/node/services", get(eigen_services))
        .route(
            "/eigen/node/services/{id}/health",
            get(eigen_service_health),
        )
        .with_state(state)
}

/// Serves HTTP on `listener` until `shutdown` is cancelled, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    state: HttpState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

async fn metrics_handler(State(state): State<HttpState>) -> Response {
    match metrics::encode(&state.registry) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode metrics");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot encode metrics: {e}\n"),
            )
                .into_response()
        }
    }
}

async fn readyz(State(state): State<HttpState>) -> Response {
    let components = state.readiness.snapshot();
    let ready = Readiness::health_of(&components) != Health::Unhealthy;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "ready": ready, "components": components })),
    )
        .into_response()
}

async fn eigen_node(State(state): State<HttpState>) -> Response {
    Json(json!({
        "node_name": &*state.node_name,
        "spec_version": EIGEN_NODE_SPEC_VERSION,
        "node_version": concat!("v", env!("CARGO_PKG_VERSION")),
    }))
    .into_response()
}

fn health_status(health: Health) -> StatusCode {
    match health {
        Health::Healthy => StatusCode::OK,
        Health::PartiallyHealthy => StatusCode::PARTIAL_CONTENT,
        Health::Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn eigen_health(State(state): State<HttpState>) -> StatusCode {
    health_status(Readiness::health_of(&state.readiness.snapshot()))
}

/// The node's services are its duty modules, disabled ones included (as `Down`).
async fn eigen_services(State(state): State<HttpState>) -> Response {
    let services: Vec<serde_json::Value> = state
        .modules
        .statuses()
        .into_iter()
        .map(|status| {
            json!({
                "id": status.id.as_str(),
                "name": modules::service_name(&status.id, status.kind),
                "description": status.message.as_deref().or(status.last_error.as_deref()).unwrap_or(status.state.as_str()),
                "status": modules::service_status(&status),
            })
        })
        .collect();
    Json(json!({ "services": services })).into_response()
}

/// 200 when the module runs normally, 206 when it runs degraded, 503 otherwise (starting,
/// failed, disabled, stopped); 404 for an id that is no module.
async fn eigen_service_health(State(state): State<HttpState>, Path(id): Path<String>) -> Response {
    let status = state
        .modules
        .statuses()
        .into_iter()
        .find(|status| status.id.as_str() == id);
    match status.map(|s| s.state) {
        Some(ModuleState::Running) => StatusCode::OK.into_response(),
        Some(ModuleState::Degraded) => StatusCode::PARTIAL_CONTENT.into_response(),
        Some(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no service with id {id:?}") })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::readiness::ComponentState;

    async fn get(state: &HttpState, uri: &str) -> (StatusCode, String) {
        let response = router(state.clone())
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    fn state() -> HttpState {
        let readiness = Readiness::default();
        let registry = metrics::node_registry(Instant::now(), readiness.clone()).unwrap();
        HttpState {
            registry: registry.clone(),
            readiness,
            node_name: "test-node".into(),
            modules: Arc::new(
                ModuleRuntime::new(
                    restake_duties::RuntimeConfig::default(),
                    &registry,
                    restake_duties::Resources::default(),
                    restake_duties::ModuleKv::open(std::path::Path::new(":memory:")).unwrap(),
                    tokio_util::task::TaskTracker::new(),
                )
                .unwrap(),
            ),
        }
    }

    #[tokio::test]
    async fn readyz_is_503_until_every_component_is_ready() {
        let state = state();
        state
            .readiness
            .set("store", ComponentState::Starting, "opening");
        let (status, body) = get(&state, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["ready"], false);
        assert_eq!(json["components"]["store"]["state"], "starting");
        assert_eq!(json["components"]["store"]["message"], "opening");
        state.readiness.ready("store");
        assert_eq!(get(&state, "/readyz").await.0, StatusCode::OK);
        assert_eq!(
            get(&state, "/livez").await,
            (StatusCode::OK, "ok\n".to_owned())
        );
    }

    #[tokio::test]
    async fn eigen_node_api_reports_identity_and_health_codes() {
        let state = state();
        let (status, body) = get(&state, "/eigen/node").await;
        assert_eq!(status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["node_name"], "test-node");
        assert_eq!(json["spec_version"], EIGEN_NODE_SPEC_VERSION);
        assert_eq!(
            json["node_version"],
            concat!("v", env!("CARGO_PKG_VERSION"))
        );

        assert_eq!(
            get(&state, "/eigen/node/health").await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        state.readiness.ready("store");
        assert_eq!(get(&state, "/eigen/node/health").await.0, StatusCode::OK);
        state
            .readiness
            .set("beacon", ComponentState::Degraded, "fallback only");
        assert_eq!(
            get(&state, "/eigen/node/health").await.0,
            StatusCode::PARTIAL_CONTENT
        );

        assert_eq!(
            get(&state, "/eigen/node/services").await,
            (StatusCode::OK, "{\"services\":[]}".to_owned())
        );
        assert_eq!(
            get(&state, "/eigen/node/services/oracle/health").await.0,
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn metrics_are_served_in_text_format() {
        let (status, body) = get(&state(), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("# TYPE restaked_node_uptime_seconds gauge"),
            "{body}"
        );
    }
}
