//! `restaked.v1.ModuleService`: the duty modules' statuses, enabling, disabling and restarting
//! them at run time, and a stream of the duties they perform.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use restake_api::v1::{
    self, DisableModuleRequest, DisableModuleResponse, EnableModuleRequest, EnableModuleResponse,
    ListModulesRequest, ListModulesResponse, RestartModuleRequest, RestartModuleResponse,
    WatchDutyResultsRequest, module_service_server::ModuleService, watch_duty_results_response,
};
use restake_duties::{
    DutyOutcome, DutyResult, ModuleRuntime, ModuleState, ModuleStatus, RuntimeError,
};
use restake_types::ModuleId;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::watch::{Watch, WatchStream, watch_stream};

/// The node's answers to `ModuleService`.
#[derive(Clone)]
pub struct ModulesApi {
    /// The duty-module runtime (without modules when none is configured).
    pub runtime: Arc<ModuleRuntime>,
    /// Cancelled when the node shuts down: open duty-result streams end with `UNAVAILABLE`.
    pub shutdown: CancellationToken,
}

/// The stream `WatchDutyResults` answers with.
pub(crate) type DutyResultStream = WatchStream<v1::WatchDutyResultsResponse>;

#[tonic::async_trait]
impl ModuleService for ModulesApi {
    async fn list_modules(
        &self,
        _request: Request<ListModulesRequest>,
    ) -> Result<Response<ListModulesResponse>, Status> {
        let runtime = &self.runtime;
        Ok(Response::new(ListModulesResponse {
            modules: runtime.statuses().iter().map(status_message).collect(),
        }))
    }

    async fn enable_module(
        &self,
        request: Request<EnableModuleRequest>,
    ) -> Result<Response<EnableModuleResponse>, Status> {
        let runtime = &self.runtime;
        let id = module_id("id", &request.into_inner().id)?;
        runtime.enable(&id).map_err(|e| runtime_error(runtime, e))?;
        Ok(Response::new(EnableModuleResponse {
            module: Some(status_of(runtime, &id)?),
        }))
    }

    async fn disable_module(
        &self,
        request: Request<DisableModuleRequest>,
    ) -> Result<Response<DisableModuleResponse>, Status> {
        let runtime = &self.runtime;
        let id = module_id("id", &request.into_inner().id)?;
        let module = stop(runtime, id, Stop::Disable).await?;
        Ok(Response::new(DisableModuleResponse {
            module: Some(module),
        }))
    }

    async fn restart_module(
        &self,
        request: Request<RestartModuleRequest>,
    ) -> Result<Response<RestartModuleResponse>, Status> {
        let runtime = &self.runtime;
        let id = module_id("id", &request.into_inner().id)?;
        let module = stop(runtime, id, Stop::Restart).await?;
        Ok(Response::new(RestartModuleResponse {
            module: Some(module),
        }))
    }

    type WatchDutyResultsStream = DutyResultStream;

    async fn watch_duty_results(
        &self,
        request: Request<WatchDutyResultsRequest>,
    ) -> Result<Response<Self::WatchDutyResultsStream>, Status> {
        let runtime = &self.runtime;
        let request = request.into_inner();
        let only = if request.module.is_empty() {
            None
        } else {
            let id = module_id("module", &request.module)?;
            if !runtime.statuses().iter().any(|s| s.id == id) {
                return Err(not_found(runtime, &id));
            }
            Some(id)
        };
        Ok(Response::new(watch(
            runtime.subscribe_results(),
            only,
            self.shutdown.clone(),
        )))
    }
}

/// Parses the module id in request field `field`.
fn module_id(field: &str, text: &str) -> Result<ModuleId, Status> {
    text.parse().map_err(|e| {
        Status::invalid_argument(format!(
            "{field}: {e} (a module id is 1 to {} lowercase letters, digits, '-' and '_', \
             starting with a letter)",
            ModuleId::MAX_LEN
        ))
    })
}

/// `NOT_FOUND` for `id`, listing the ids the node has.
fn not_found(runtime: &ModuleRuntime, id: &ModuleId) -> Status {
    let known: Vec<String> = runtime
        .statuses()
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    Status::not_found(if known.is_empty() {
        format!("no module {id} is registered: this node has no modules configured")
    } else {
        format!(
            "no module {id} is registered; this node's modules are {}",
            known.join(", ")
        )
    })
}

/// The current status of module `id`.
fn current(runtime: &ModuleRuntime, id: &ModuleId) -> Result<ModuleStatus, Status> {
    runtime
        .statuses()
        .into_iter()
        .find(|s| s.id == *id)
        .ok_or_else(|| not_found(runtime, id))
}

/// The current status of module `id`, as sent.
fn status_of(runtime: &ModuleRuntime, id: &ModuleId) -> Result<v1::ModuleStatus, Status> {
    current(runtime, id).map(|status| status_message(&status))
}

/// A refusal of the runtime as a status. `StopTimeout` is handled by [`stop`], which knows
/// what the module became.
fn runtime_error(runtime: &ModuleRuntime, error: RuntimeError) -> Status {
    match error {
        RuntimeError::Unknown(id) => not_found(runtime, &id),
        other => Status::internal(other.to_string()),
    }
}

/// What [`stop`] does once the module is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// Leave it disabled.
    Disable,
    /// Start a fresh instance if it is enabled.
    Restart,
}

/// Disables or restarts module `id` and returns its status after that. The runtime finishes
/// the stop even if the client goes away meanwhile; it lasts at most its stop deadline.
async fn stop(
    runtime: &Arc<ModuleRuntime>,
    id: ModuleId,
    what: Stop,
) -> Result<v1::ModuleStatus, Status> {
    let result = match what {
        Stop::Disable => runtime.disable(&id).await,
        Stop::Restart => runtime.restart(&id).await,
    };
    match result {
        Ok(()) => status_of(runtime, &id),
        Err(RuntimeError::StopTimeout(_)) => {
            let now = current(runtime, &id)?;
            Err(Status::aborted(format!(
                "module {id} did not stop within the stop deadline (duties.stop_deadline) and \
                 its task was aborted; it is now {}",
                now.state
            )))
        }
        Err(e) => Err(runtime_error(runtime, e)),
    }
}

fn module_state(state: ModuleState) -> v1::ModuleState {
    match state {
        ModuleState::Starting => v1::ModuleState::Starting,
        ModuleState::Running => v1::ModuleState::Running,
        ModuleState::Degraded => v1::ModuleState::Degraded,
        ModuleState::Failed => v1::ModuleState::Failed,
        ModuleState::Disabled => v1::ModuleState::Disabled,
        ModuleState::Stopped => v1::ModuleState::Stopped,
    }
}

fn duty_outcome(outcome: DutyOutcome) -> v1::DutyOutcome {
    match outcome {
        DutyOutcome::Done => v1::DutyOutcome::Done,
        DutyOutcome::Skipped => v1::DutyOutcome::Skipped,
        DutyOutcome::Failed => v1::DutyOutcome::Failed,
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, millis)
}

fn status_message(status: &ModuleStatus) -> v1::ModuleStatus {
    v1::ModuleStatus {
        id: status.id.to_string(),
        kind: status.kind.to_owned(),
        enabled: status.enabled,
        state: module_state(status.state).into(),
        last_error: status.last_error.clone().unwrap_or_default(),
        message: status.message.clone().unwrap_or_default(),
        restarts: status.restarts,
        last_duty_at_unix_ms: status.last_duty.map(unix_ms),
    }
}

fn result_message(result: &DutyResult) -> v1::DutyResult {
    v1::DutyResult {
        module: result.module.to_string(),
        at_unix_ms: unix_ms(result.at),
        outcome: duty_outcome(result.outcome).into(),
        duration_ms: millis(result.duration),
        detail: result.detail.clone(),
    }
}

/// The results received from now on, optionally of one module, until `shutdown`.
fn watch(
    results: broadcast::Receiver<DutyResult>,
    only: Option<ModuleId>,
    shutdown: CancellationToken,
) -> DutyResultStream {
    watch_stream(ResultWatcher { results, only }, shutdown)
}

/// The state of one `WatchDutyResults` stream.
struct ResultWatcher {
    results: broadcast::Receiver<DutyResult>,
    only: Option<ModuleId>,
}

impl Watch for ResultWatcher {
    type Item = v1::WatchDutyResultsResponse;

    async fn next_item(&mut self) -> Result<v1::WatchDutyResultsResponse, Status> {
        use watch_duty_results_response::Item;
        let item = |item| Ok(v1::WatchDutyResultsResponse { item: Some(item) });
        loop {
            match self.results.recv().await {
                Ok(result) if self.only.as_ref().is_none_or(|id| *id == result.module) => {
                    return item(Item::Result(result_message(&result)));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    // The runtime keeps no history of results to re-read: say what was lost.
                    tracing::debug!(missed, "a duty-result watcher fell behind the modules");
                    return item(Item::Missed(v1::MissedDutyResults { count: missed }));
                }
                Err(RecvError::Closed) => {
                    return Err(Status::unavailable("the module runtime stopped"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use prometheus::Registry;
    use restake_api::v1::{
        module_service_client::ModuleServiceClient, module_service_server::ModuleServiceServer,
    };
    use restake_duties::{
        Backoff, ModuleKv, Resources, RuntimeConfig,
        testing::{Behaviour, TestModule},
    };
    use restake_signer::{Keyring, ProtectedSigner, protection::ProtectionDb};
    use tokio_stream::StreamExt;
    use tokio_util::task::TaskTracker;
    use tonic::{Code, transport::Channel};

    use super::*;

    /// A started runtime with modules `working` (enabled), `hanging` (enabled) and `idle`
    /// (disabled, working when enabled), served over a real socket.
    struct Node {
        runtime: Arc<ModuleRuntime>,
        client: ModuleServiceClient<Channel>,
        shutdown: CancellationToken,
        _dir: tempfile::TempDir,
    }

    impl Node {
        async fn start() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let registry = Registry::new();
            let db = ProtectionDb::open(&dir.path().join("protection.db"), Duration::from_secs(1))
                .unwrap();
            let signer = ProtectedSigner::start(db, Keyring::default(), &registry).unwrap();
            let kv = ModuleKv::open(&dir.path().join("modules.db")).unwrap();
            let config = RuntimeConfig {
                backoff: Backoff {
                    base: Duration::from_millis(10),
                    max: Duration::from_millis(100),
                },
                stop_deadline: Duration::from_millis(200),
            };
            let runtime = Arc::new(
                ModuleRuntime::new(
                    config,
                    &registry,
                    Resources::default(),
                    kv,
                    TaskTracker::new(),
                )
                .unwrap(),
            );
            for (name, behaviour, enabled) in [
                ("working", Behaviour::Healthy, true),
                ("hanging", Behaviour::Hang, true),
                ("idle", Behaviour::Healthy, false),
            ] {
                let id: ModuleId = name.parse().unwrap();
                let (factory, _) = TestModule::factory(id.clone(), behaviour);
                runtime
                    .register(id, factory, signer.restricted([]), enabled)
                    .unwrap();
            }
            let shutdown = CancellationToken::new();
            runtime.start(shutdown.clone());
            let api = ModulesApi {
                runtime: runtime.clone(),
                shutdown: shutdown.clone(),
            };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let stopping = shutdown.clone();
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(ModuleServiceServer::new(api))
                    .serve_with_incoming_shutdown(
                        tonic::transport::server::TcpIncoming::from(listener),
                        async move { stopping.cancelled().await },
                    ),
            );
            let client = ModuleServiceClient::connect(format!("http://{address}"))
                .await
                .unwrap();
            Self {
                runtime,
                client,
                shutdown,
                _dir: dir,
            }
        }

        async fn list(&mut self) -> Vec<v1::ModuleStatus> {
            self.client
                .list_modules(ListModulesRequest {})
                .await
                .unwrap()
                .into_inner()
                .modules
        }

        /// Waits (10 s at most) until module `name`'s state is `state`.
        async fn wait_for_state(&mut self, name: &str, state: v1::ModuleState) {
            let mut statuses = self.runtime.subscribe();
            let want = module_state_of(state);
            tokio::time::timeout(
                Duration::from_secs(10),
                statuses.wait_for(|s| s.iter().any(|m| m.id.as_str() == name && m.state == want)),
            )
            .await
            .expect("state reached within 10 s")
            .unwrap();
        }
    }

    fn module_state_of(state: v1::ModuleState) -> ModuleState {
        *ModuleState::ALL
            .iter()
            .find(|s| module_state(**s) == state)
            .unwrap()
    }

    fn find<'a>(modules: &'a [v1::ModuleStatus], name: &str) -> &'a v1::ModuleStatus {
        modules.iter().find(|m| m.id == name).unwrap()
    }

    #[tokio::test]
    async fn lists_every_module_with_its_state_and_last_duty() {
        let mut node = Node::start().await;
        node.wait_for_state("working", v1::ModuleState::Running)
            .await;
        let mut statuses = node.runtime.subscribe();
        tokio::time::timeout(
            Duration::from_secs(10),
            statuses.wait_for(|s| s.iter().any(|m| m.last_duty.is_some())),
        )
        .await
        .unwrap()
        .unwrap();
        let modules = node.list().await;
        let ids: Vec<&str> = modules.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["hanging", "idle", "working"], "sorted by id");
        let working = find(&modules, "working");
        assert_eq!(working.kind, "test");
        assert!(working.enabled);
        assert_eq!(working.state(), v1::ModuleState::Running);
        let last = working.last_duty_at_unix_ms.expect("a duty was recorded");
        let now = unix_ms(SystemTime::now());
        assert!(last <= now && now - last < 10_000, "{last} vs {now}");
        let idle = find(&modules, "idle");
        assert!(!idle.enabled);
        assert_eq!(idle.state(), v1::ModuleState::Disabled);
        assert_eq!(idle.last_duty_at_unix_ms, None);
        assert_eq!((idle.last_error.as_str(), idle.restarts), ("", 0));
        node.shutdown.cancel();
    }

    #[tokio::test]
    async fn enable_disable_and_restart_return_the_new_status() {
        let mut node = Node::start().await;
        let enabled = node
            .client
            .enable_module(EnableModuleRequest {
                id: "idle".to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .module
            .unwrap();
        assert!(enabled.enabled);
        assert_eq!(enabled.state(), v1::ModuleState::Starting);
        node.wait_for_state("idle", v1::ModuleState::Running).await;

        let disabled = node
            .client
            .disable_module(DisableModuleRequest {
                id: "idle".to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .module
            .unwrap();
        assert!(!disabled.enabled);
        assert_eq!(disabled.state(), v1::ModuleState::Disabled);
        assert_eq!(disabled.last_error, "");

        node.wait_for_state("working", v1::ModuleState::Running)
            .await;
        let restarted = node
            .client
            .restart_module(RestartModuleRequest {
                id: "working".to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .module
            .unwrap();
        assert!(restarted.enabled);
        assert!(
            matches!(
                restarted.state(),
                v1::ModuleState::Starting | v1::ModuleState::Running
            ),
            "{restarted:?}"
        );
        assert_eq!(restarted.restarts, 0, "operator restarts are not counted");
        node.wait_for_state("working", v1::ModuleState::Running)
            .await;

        // A disabled module stays disabled through a restart.
        let still_disabled = node
            .client
            .restart_module(RestartModuleRequest {
                id: "idle".to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .module
            .unwrap();
        assert_eq!(still_disabled.state(), v1::ModuleState::Disabled);
        node.shutdown.cancel();
    }

    #[tokio::test]
    async fn a_module_that_does_not_stop_is_aborted_and_the_call_says_it_is_now_disabled() {
        let mut node = Node::start().await;
        node.wait_for_state("hanging", v1::ModuleState::Running)
            .await;
        let status = node
            .client
            .disable_module(DisableModuleRequest {
                id: "hanging".to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Aborted);
        assert_eq!(
            status.message(),
            "module hanging did not stop within the stop deadline (duties.stop_deadline) and its \
             task was aborted; it is now disabled"
        );
        let hanging = find(&node.list().await, "hanging").clone();
        assert_eq!(hanging.state(), v1::ModuleState::Disabled);
        assert_eq!(
            hanging.last_error,
            "did not stop within the deadline and was aborted"
        );
        node.shutdown.cancel();
    }

    #[tokio::test]
    async fn a_restart_of_a_module_that_does_not_stop_starts_a_new_instance_anyway() {
        let mut node = Node::start().await;
        node.wait_for_state("hanging", v1::ModuleState::Running)
            .await;
        let status = node
            .client
            .restart_module(RestartModuleRequest {
                id: "hanging".to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Aborted);
        assert!(
            status.message().ends_with("it is now starting")
                || status.message().ends_with("it is now running"),
            "{status:?}"
        );
        node.wait_for_state("hanging", v1::ModuleState::Running)
            .await;
        node.shutdown.cancel();
    }

    #[tokio::test]
    async fn a_disable_the_caller_gives_up_on_still_completes() {
        let mut node = Node::start().await;
        node.wait_for_state("hanging", v1::ModuleState::Running)
            .await;
        // The node drops the call after 20 ms, long before the 200 ms stop deadline.
        let mut request = Request::new(DisableModuleRequest {
            id: "hanging".to_owned(),
        });
        request.set_timeout(Duration::from_millis(20));
        let status = node.client.disable_module(request).await.unwrap_err();
        assert_eq!(status.code(), Code::Cancelled, "{status:?}");
        node.wait_for_state("hanging", v1::ModuleState::Disabled)
            .await;
        // Not left half-stopped: it can be enabled again.
        node.client
            .enable_module(EnableModuleRequest {
                id: "hanging".to_owned(),
            })
            .await
            .unwrap();
        node.wait_for_state("hanging", v1::ModuleState::Running)
            .await;
        node.shutdown.cancel();
    }

    #[tokio::test]
    async fn unknown_and_malformed_ids_are_refused_naming_the_known_ids_or_the_rule() {
        let mut node = Node::start().await;
        let unknown = node
            .client
            .enable_module(EnableModuleRequest {
                id: "oracle".to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);
        assert_eq!(
            unknown.message(),
            "no module oracle is registered; this node's modules are hanging, idle, working"
        );
        let unknown = node
            .client
            .disable_module(DisableModuleRequest {
                id: "oracle".to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);
        let unknown = node
            .client
            .watch_duty_results(WatchDutyResultsRequest {
                module: "oracle".to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);

        let malformed = node
            .client
            .restart_module(RestartModuleRequest {
                id: "Oracle".to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(malformed.code(), Code::InvalidArgument);
        assert_eq!(
            malformed.message(),
            "id: invalid module id \"Oracle\": must start with a lowercase letter (a module id is \
             1 to 64 lowercase letters, digits, '-' and '_', starting with a letter)"
        );
        let malformed = node
            .client
            .watch_duty_results(WatchDutyResultsRequest {
                module: "a b".to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(malformed.code(), Code::InvalidArgument);
        assert!(malformed.message().starts_with("module: "), "{malformed:?}");
        node.shutdown.cancel();
    }

    #[tokio::test]
    async fn watch_streams_the_chosen_modules_results_and_ends_unavailable_at_shutdown() {
        let mut node = Node::start().await;
        node.client
            .enable_module(EnableModuleRequest {
                id: "idle".to_owned(),
            })
            .await
            .unwrap();
        let mut stream = node
            .client
            .watch_duty_results(WatchDutyResultsRequest {
                module: "idle".to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        for _ in 0..3 {
            let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("a result within 10 s")
                .expect("the stream goes on")
                .expect("a result, not an error");
            let Some(watch_duty_results_response::Item::Result(result)) = next.item else {
                panic!("{next:?}")
            };
            assert_eq!(result.module, "idle");
            assert_eq!(result.outcome(), v1::DutyOutcome::Done);
            assert_eq!(result.duration_ms, 1, "the test module records 1 ms duties");
            assert!(result.detail.starts_with("round "), "{result:?}");
        }
        node.shutdown.cancel();
        let end = loop {
            match tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("the stream ends within 10 s")
            {
                Some(Ok(_)) => {}
                Some(Err(status)) => break status,
                None => panic!("the stream ended without a status"),
            }
        };
        assert_eq!(end.code(), Code::Unavailable);
        assert_eq!(end.message(), "restaked is shutting down");
    }

    fn result(module: &str, n: u64) -> DutyResult {
        DutyResult {
            module: module.parse().unwrap(),
            at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            outcome: DutyOutcome::Skipped,
            duration: Duration::from_micros(1_500),
            detail: format!("round {n}"),
        }
    }

    async fn next_item(stream: &mut DutyResultStream) -> watch_duty_results_response::Item {
        tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("an item within 5 s")
            .expect("the stream goes on")
            .expect("an item, not an error")
            .item
            .expect("the item is set")
    }

    #[tokio::test]
    async fn a_lagging_watcher_is_told_how_many_results_it_missed_and_goes_on() {
        let (sender, receiver) = broadcast::channel(2);
        let mut stream = watch(receiver, None, CancellationToken::new());
        for n in 1..=5 {
            sender.send(result("oracle", n)).unwrap();
        }
        assert_eq!(
            next_item(&mut stream).await,
            watch_duty_results_response::Item::Missed(v1::MissedDutyResults { count: 3 })
        );
        for n in 4..=5 {
            let watch_duty_results_response::Item::Result(r) = next_item(&mut stream).await else {
                panic!("a result")
            };
            assert_eq!(r.detail, format!("round {n}"));
        }
    }

    #[tokio::test]
    async fn a_filtered_watch_skips_other_modules_results() {
        let (sender, receiver) = broadcast::channel(16);
        let mut stream = watch(
            receiver,
            Some("bridge".parse().unwrap()),
            CancellationToken::new(),
        );
        sender.send(result("oracle", 1)).unwrap();
        sender.send(result("bridge", 2)).unwrap();
        let watch_duty_results_response::Item::Result(r) = next_item(&mut stream).await else {
            panic!("a result")
        };
        assert_eq!(
            (r.module.as_str(), r.detail.as_str()),
            ("bridge", "round 2")
        );
        drop(sender);
        let end = stream.next().await.unwrap().unwrap_err();
        assert_eq!(end.code(), Code::Unavailable);
        assert!(stream.next().await.is_none());
    }

    #[test]
    fn results_carry_unix_milliseconds_and_the_outcome() {
        let m = result_message(&result("oracle", 7));
        assert_eq!(
            m,
            v1::DutyResult {
                module: "oracle".to_owned(),
                at_unix_ms: 1_700_000_000_123,
                outcome: v1::DutyOutcome::Skipped.into(),
                duration_ms: 1,
                detail: "round 7".to_owned(),
            }
        );
    }

    #[tokio::test]
    async fn a_node_without_modules_lists_none_and_says_so_for_an_id() {
        let dir = tempfile::tempdir().unwrap();
        let api = ModulesApi {
            runtime: Arc::new(
                ModuleRuntime::new(
                    RuntimeConfig::default(),
                    &Registry::new(),
                    Resources::default(),
                    ModuleKv::open(&dir.path().join("modules.db")).unwrap(),
                    TaskTracker::new(),
                )
                .unwrap(),
            ),
            shutdown: CancellationToken::new(),
        };
        let listed = api
            .list_modules(Request::new(ListModulesRequest {}))
            .await
            .unwrap();
        assert!(listed.into_inner().modules.is_empty());
        let status = api
            .enable_module(Request::new(EnableModuleRequest { id: "a".into() }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound);
        assert!(
            status
                .message()
                .contains("this node has no modules configured"),
            "{status:?}"
        );
    }
}
