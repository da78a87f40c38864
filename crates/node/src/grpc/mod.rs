//! The gRPC admin API: `restaked.v1.NodeService`, `KeyService`, `ProtectionService`,
//! `ValidatorService`, `PodService`, `ProofService`, `ModuleService` and `OracleService`,
//! `grpc.health.v1.Health` and server reflection.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use restake_api::v1::{
    self, GetStatusRequest, GetStatusResponse, ShutdownRequest, ShutdownResponse,
    key_service_server::KeyServiceServer,
    module_service_server::ModuleServiceServer,
    node_service_server::{NodeService, NodeServiceServer},
    oracle_service_server::OracleServiceServer,
    pod_service_server::PodServiceServer,
    proof_service_server::ProofServiceServer,
    protection_service_server::ProtectionServiceServer,
    validator_service_server::ValidatorServiceServer,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{
    Request, Response, Status, metadata::MetadataValue, service::Interceptor,
    transport::server::TcpIncoming,
};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    config::Secret,
    readiness::{ComponentState, Health, Readiness},
};

mod keys;
mod modules;
mod oracle;
mod pods;
mod proofs;
mod protection;
mod validators;
mod watch;

pub use keys::KeysApi;
pub use modules::ModulesApi;
pub use oracle::OracleApi;
pub use pods::PodsApi;
pub use proofs::{ProofsApi, SubmitSettings};
pub use protection::ProtectionApi;
pub use validators::ValidatorsApi;

/// Every admin service the node serves, behind the same bearer-token check.
pub struct AdminServices {
    /// `restaked.v1.NodeService`.
    pub node: NodeApi,
    /// `restaked.v1.KeyService`.
    pub keys: KeysApi,
    /// `restaked.v1.ProtectionService`.
    pub protection: ProtectionApi,
    /// `restaked.v1.ValidatorService`.
    pub validators: ValidatorsApi,
    /// `restaked.v1.PodService`.
    pub pods: PodsApi,
    /// `restaked.v1.ProofService`.
    pub proofs: ProofsApi,
    /// `restaked.v1.ModuleService`.
    pub modules: ModulesApi,
    /// `restaked.v1.OracleService`.
    pub oracle: OracleApi,
}

/// The node's answers to `NodeService`.
#[derive(Clone)]
pub struct NodeApi {
    /// When the process started.
    pub started: Instant,
    /// The same instant as Unix time.
    pub started_at: SystemTime,
    /// `node.name`.
    pub node_name: Arc<str>,
    /// The data dir, absolute.
    pub data_dir: PathBuf,
    /// Whether the node runs with `--dev`.
    pub dev_mode: bool,
    /// Component readiness.
    pub readiness: Readiness,
    /// Cancelled to start a graceful shutdown.
    pub shutdown: CancellationToken,
}

fn component_state(state: ComponentState) -> v1::ComponentState {
    match state {
        ComponentState::Starting => v1::ComponentState::Starting,
        ComponentState::Ready => v1::ComponentState::Ready,
        ComponentState::Degraded => v1::ComponentState::Degraded,
        ComponentState::Failed => v1::ComponentState::Failed,
        ComponentState::Stopping => v1::ComponentState::Stopping,
    }
}

#[tonic::async_trait]
impl NodeService for NodeApi {
    async fn get_status(
        &self,
        _request: Request<GetStatusRequest>,
    ) -> Result<Response<GetStatusResponse>, Status> {
        let components = self.readiness.snapshot();
        let ready = Readiness::health_of(&components) != Health::Unhealthy;
        Ok(Response::new(GetStatusResponse {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            node_name: self.node_name.to_string(),
            uptime_seconds: self.started.elapsed().as_secs(),
            data_dir: self.data_dir.display().to_string(),
            ready,
            components: components
                .into_iter()
                .map(|(name, status)| v1::ComponentStatus {
                    name,
                    state: component_state(status.state).into(),
                    message: status.message,
                })
                .collect(),
            dev_mode: self.dev_mode,
            started_at_unix_seconds: self
                .started_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }))
    }

    async fn shutdown(
        &self,
        request: Request<ShutdownRequest>,
    ) -> Result<Response<ShutdownResponse>, Status> {
        let peer = request
            .remote_addr()
            .map_or_else(|| "unknown peer".to_owned(), |a| a.to_string());
        let reason = request.into_inner().reason;
        tracing::warn!(%peer, reason = %reason, "shutdown requested over gRPC");
        self.shutdown.cancel();
        Ok(Response::new(ShutdownResponse {}))
    }
}

/// Requires `authorization: Bearer <token>` when a token is configured.
#[derive(Clone)]
pub struct BearerAuth {
    expected: Option<Arc<MetadataValue<tonic::metadata::Ascii>>>,
}

impl BearerAuth {
    /// An interceptor for `token`; `None` lets every call through.
    pub fn new(
        token: Option<&Secret>,
    ) -> Result<Self, tonic::metadata::errors::InvalidMetadataValue> {
        let expected = token
            .map(|t| format!("Bearer {}", t.expose()).parse())
            .transpose()?;
        Ok(Self {
            expected: expected.map(Arc::new),
        })
    }
}

impl Interceptor for BearerAuth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.expected else {
            return Ok(request);
        };
        let given = request
            .metadata()
            .get("authorization")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if constant_time_eq(given, expected.as_bytes()) {
            Ok(request)
        } else {
            Err(Status::unauthenticated(
                "missing or wrong bearer token (grpc.auth_token)",
            ))
        }
    }
}

/// Compares without an early exit on the first differing byte, so timing does not leak the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves the admin API on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    services: AdminServices,
    auth: BearerAuth,
    health: HealthReporter,
    health_service: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
    shutdown: CancellationToken,
) -> Result<(), GrpcError> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(restake_api::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    // v1alpha too: older grpcurl and grpcui releases only speak that version.
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;
    health.set_serving::<NodeServiceServer<NodeApi>>().await;
    health.set_service_status("", ServingStatus::Serving).await;
    let stopping = shutdown.clone();
    let health_on_stop = health.clone();
    tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(NodeServiceServer::with_interceptor(
            services.node,
            auth.clone(),
        ))
        .add_service(KeyServiceServer::with_interceptor(
            services.keys,
            auth.clone(),
        ))
        .add_service(ProtectionServiceServer::with_interceptor(
            services.protection,
            auth.clone(),
        ))
        .add_service(ValidatorServiceServer::with_interceptor(
            services.validators,
            auth.clone(),
        ))
        .add_service(PodServiceServer::with_interceptor(
            services.pods,
            auth.clone(),
        ))
        .add_service(ProofServiceServer::with_interceptor(
            services.proofs,
            auth.clone(),
        ))
        .add_service(ModuleServiceServer::with_interceptor(
            services.modules,
            auth.clone(),
        ))
        .add_service(OracleServiceServer::with_interceptor(services.oracle, auth))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), async move {
            stopping.cancelled().await;
            health_on_stop
                .set_service_status("", ServingStatus::NotServing)
                .await;
            health_on_stop
                .set_not_serving::<NodeServiceServer<NodeApi>>()
                .await;
        })
        .await?;
    Ok(())
}

/// Why the gRPC server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum GrpcError {
    /// The compiled-in descriptors could not be loaded for reflection (a build defect).
    #[error("gRPC reflection descriptors are invalid: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_equal_only_when_identical() {
        assert!(constant_time_eq(b"Bearer abc", b"Bearer abc"));
        assert!(!constant_time_eq(b"Bearer abd", b"Bearer abc"));
        assert!(!constant_time_eq(b"Bearer ab", b"Bearer abc"));
    }
}
