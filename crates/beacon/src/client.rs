//! The Beacon API client: endpoint choice, retries, limits, metrics and the calls themselves.

use std::{
    collections::{HashSet, VecDeque},
    future::Future,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use prometheus::Registry;
use reqwest::{
    Method, Response,
    header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER},
};
use serde::de::DeserializeOwned;
use tracing::{debug, info, warn};

use crate::{
    config::{BeaconClientConfig, CallLimits, RetryPolicy, Route, RouteLimits},
    endpoint::{Endpoint, EndpointStatus, HealthState, Transition, attempt_order, backoff},
    error::{Error, chain, excerpt},
    events::{BeaconEvent, EventTopic},
    ids::{BlockId, StateId, StatusFilter, ValidatorId},
    metrics::Metrics,
    sse::{SseEvent, SseParser},
    types::{
        BeaconResponse, BlobSidecar, BlockHeaderData, ChainSpec, DataResponse, FinalityCheckpoints,
        ForkName, Genesis, SszResponse, ValidatorBalance, ValidatorData,
    },
};

const JSON: &str = "application/json";
const SSZ: &str = "application/octet-stream";
const EVENT_STREAM: &str = "text/event-stream";
const CONSENSUS_VERSION: &str = "eth-consensus-version";
/// Bodies larger than this are decoded on the blocking pool, off the async workers.
const INLINE_DECODE_BYTES: usize = 256 * 1024;
/// How much of an error response is read for its excerpt.
const ERROR_BODY_BYTES: usize = 4096;

/// A client for the standard Beacon API over one or more beacon nodes.
///
/// Calls go to the first healthy endpoint in configured order and fall back to the next on a
/// failure worth retrying (connection refused or reset, timeout, HTTP 429 or 5xx, a malformed,
/// truncated or wrong-fork response). After a full round over the endpoints the client pauses
/// (exponential backoff with jitter) before the next, up to [`RetryPolicy::max_attempts`] in
/// total. Other 4xx answers and bodies over the route's size limit are returned at once.
///
/// An endpoint that failed is passed over for a cooldown, then tried first again, so the
/// primary takes over once it recovers. Health is visible through
/// [`endpoint_statuses`](Self::endpoint_statuses) and the `restaked_beacon_endpoint_up` gauge.
///
/// Cloning is cheap; clones share connections, health and metrics.
#[derive(Clone, Debug)]
pub struct BeaconClient {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    http: reqwest::Client,
    endpoints: Vec<Endpoint>,
    health: Mutex<Vec<HealthState>>,
    retry: RetryPolicy,
    limits: RouteLimits,
    connect_timeout: Duration,
    event_idle_timeout: Duration,
    metrics: Metrics,
}

/// One request, independent of the endpoint it goes to.
struct Request {
    route: Route,
    method: Method,
    path: Vec<String>,
    query: Vec<(&'static str, String)>,
    json_body: Option<Vec<u8>>,
    accept: &'static str,
}

impl Request {
    fn get(route: Route, path: &[&str], accept: &'static str) -> Self {
        Self {
            route,
            method: Method::GET,
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            query: Vec::new(),
            json_body: None,
            accept,
        }
    }
}

/// Where an attempt goes, for error messages, health and metrics.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    index: usize,
    endpoint: String,
    route: Route,
    limits: CallLimits,
}

impl Context {
    fn transport(&self, error: reqwest::Error, connect_timeout: Duration) -> Error {
        if error.is_timeout() {
            return Error::Timeout {
                endpoint: self.endpoint.clone(),
                route: self.route,
                after: connect_timeout,
            };
        }
        Error::Connection {
            endpoint: self.endpoint.clone(),
            route: self.route,
            detail: chain(&error.without_url()),
        }
    }

    fn malformed(&self, reason: String, body: &[u8]) -> Error {
        Error::Malformed {
            endpoint: self.endpoint.clone(),
            route: self.route,
            reason,
            excerpt: excerpt(body),
        }
    }

    fn too_large(&self, seen: u64) -> Error {
        Error::TooLarge {
            endpoint: self.endpoint.clone(),
            route: self.route,
            limit: self.limits.max_body_bytes,
            seen,
        }
    }

    fn timeout(&self, after: Duration) -> Error {
        Error::Timeout {
            endpoint: self.endpoint.clone(),
            route: self.route,
            after,
        }
    }
}

impl BeaconClient {
    /// Validator ids up to which the GET form of the validators endpoints is used; more go in a
    /// POST body (the API caps GET at 64 ids).
    pub const MAX_GET_IDS: usize = 64;

    /// A client for the configured endpoints, with its metrics registered in `registry`.
    ///
    /// Fails with [`Error::InvalidConfig`] listing every problem of `config`, or with
    /// [`Error::Metrics`] if the metrics are already registered there. No connection is made
    /// here: an unreachable node shows as a failing endpoint on the first call.
    pub fn new(config: BeaconClientConfig, registry: &Registry) -> Result<Self, Error> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(Error::InvalidConfig { problems });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("restaked/", env!("CARGO_PKG_VERSION")))
            // The Beacon API does not redirect; following one could leak credentials elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            // Endpoints are explicit configuration: no proxy from the environment.
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::InvalidConfig {
                problems: vec![format!("building the HTTP client: {}", chain(&e))],
            })?;
        let metrics = Metrics::register(registry)?;
        let endpoints: Vec<Endpoint> = config
            .endpoints
            .into_iter()
            .enumerate()
            .map(|(index, url)| Endpoint::new(index, url))
            .collect();
        for endpoint in &endpoints {
            metrics.set_up(&endpoint.label, true);
        }
        let health = endpoints.iter().map(|_| HealthState::default()).collect();
        Ok(Self {
            shared: Arc::new(Shared {
                http,
                endpoints,
                health: Mutex::new(health),
                retry: config.retry,
                limits: config.limits,
                connect_timeout: config.connect_timeout,
                event_idle_timeout: config.event_idle_timeout,
                metrics,
            }),
        })
    }

    /// Every endpoint with its health, in configured order.
    pub fn endpoint_statuses(&self) -> Vec<EndpointStatus> {
        let health = self.shared.health();
        self.shared
            .endpoints
            .iter()
            .zip(health.iter())
            .enumerate()
            .map(|(index, (endpoint, state))| EndpointStatus {
                index,
                url: endpoint.redacted.clone(),
                health: state.health(),
            })
            .collect()
    }

    /// Whether at least one endpoint's last attempt succeeded (or none was made yet).
    pub fn any_endpoint_healthy(&self) -> bool {
        self.shared.health().iter().any(HealthState::is_healthy)
    }

    /// `GET /eth/v1/beacon/genesis`.
    pub async fn genesis(&self) -> Result<Genesis, Error> {
        let request = Request::get(Route::Genesis, &["eth", "v1", "beacon", "genesis"], JSON);
        let response: DataResponse<Genesis> = self.call_json(&request).await?;
        Ok(response.data)
    }

    /// `GET /eth/v1/config/spec`.
    pub async fn spec(&self) -> Result<ChainSpec, Error> {
        let request = Request::get(Route::Spec, &["eth", "v1", "config", "spec"], JSON);
        let response: DataResponse<ChainSpec> = self.call_json(&request).await?;
        Ok(response.data)
    }

    /// `GET /eth/v1/beacon/headers/{block_id}`; `None` if there is no such block (a skipped
    /// slot, an unknown root).
    pub async fn header(
        &self,
        block: BlockId,
    ) -> Result<Option<BeaconResponse<BlockHeaderData>>, Error> {
        let id = block.to_string();
        let request = Request::get(
            Route::BlockHeader,
            &["eth", "v1", "beacon", "headers", &id],
            JSON,
        );
        not_found_as_none(self.call_json(&request).await)
    }

    /// `GET /eth/v2/beacon/blocks/{block_id}` as SSZ: the signed block's bytes and its fork;
    /// `None` if there is no such block.
    pub async fn block_ssz(&self, block: BlockId) -> Result<Option<SszResponse>, Error> {
        let id = block.to_string();
        let request = Request::get(
            Route::BlockSsz,
            &["eth", "v2", "beacon", "blocks", &id],
            SSZ,
        );
        not_found_as_none(self.call_ssz(&request).await)
    }

    /// `GET /eth/v1/beacon/states/{state_id}/finality_checkpoints`.
    pub async fn finality_checkpoints(
        &self,
        state: StateId,
    ) -> Result<BeaconResponse<FinalityCheckpoints>, Error> {
        let id = state.to_string();
        let request = Request::get(
            Route::FinalityCheckpoints,
            &["eth", "v1", "beacon", "states", &id, "finality_checkpoints"],
            JSON,
        );
        self.call_json(&request).await
    }

    /// Validators of a state, filtered by id and status (an empty filter matches everything).
    ///
    /// Up to [`MAX_GET_IDS`](Self::MAX_GET_IDS) ids use `GET .../validators?id=..&status=..`;
    /// more use the `POST` form. Duplicate ids are sent once. Unknown ids are simply absent
    /// from the answer, in no guaranteed order. Without ids the answer is the whole registry:
    /// on mainnet that needs a raised [`Route::Validators`] limit, or the SSZ state instead.
    pub async fn validators(
        &self,
        state: StateId,
        ids: &[ValidatorId],
        statuses: &[StatusFilter],
    ) -> Result<BeaconResponse<Vec<ValidatorData>>, Error> {
        let id = state.to_string();
        let path = ["eth", "v1", "beacon", "states", &id, "validators"];
        let ids = unique_ids(ids);
        let statuses: Vec<&str> = unique(statuses.iter().map(|s| s.as_str()));
        let request = if ids.len() <= Self::MAX_GET_IDS {
            let mut request = Request::get(Route::Validators, &path, JSON);
            request.query.extend(ids.into_iter().map(|id| ("id", id)));
            request
                .query
                .extend(statuses.into_iter().map(|s| ("status", s.to_owned())));
            request
        } else {
            let mut body = serde_json::Map::new();
            body.insert("ids".into(), ids.into());
            if !statuses.is_empty() {
                body.insert("statuses".into(), statuses.into());
            }
            let mut request = Request::get(Route::ValidatorsPost, &path, JSON);
            request.method = Method::POST;
            request.json_body = Some(serde_json::Value::Object(body).to_string().into_bytes());
            request
        };
        self.call_json(&request).await
    }

    /// Balances of a state's validators, filtered by id (empty: all of them).
    ///
    /// Up to [`MAX_GET_IDS`](Self::MAX_GET_IDS) ids use `GET .../validator_balances?id=..`;
    /// more use the `POST` form.
    pub async fn validator_balances(
        &self,
        state: StateId,
        ids: &[ValidatorId],
    ) -> Result<BeaconResponse<Vec<ValidatorBalance>>, Error> {
        let id = state.to_string();
        let path = ["eth", "v1", "beacon", "states", &id, "validator_balances"];
        let ids = unique_ids(ids);
        let request = if ids.len() <= Self::MAX_GET_IDS {
            let mut request = Request::get(Route::ValidatorBalances, &path, JSON);
            request.query.extend(ids.into_iter().map(|id| ("id", id)));
            request
        } else {
            let mut request = Request::get(Route::ValidatorBalancesPost, &path, JSON);
            request.method = Method::POST;
            request.json_body = Some(serde_json::Value::from(ids).to_string().into_bytes());
            request
        };
        self.call_json(&request).await
    }

    /// `GET /eth/v2/debug/beacon/states/{state_id}` as SSZ: the whole state's bytes and its fork.
    ///
    /// A mainnet state is hundreds of megabytes: the body is streamed into one buffer and
    /// aborted past the [`Route::StateSsz`] limit.
    pub async fn state_ssz(&self, state: StateId) -> Result<SszResponse, Error> {
        let id = state.to_string();
        let request = Request::get(
            Route::StateSsz,
            &["eth", "v2", "debug", "beacon", "states", &id],
            SSZ,
        );
        self.call_ssz(&request).await
    }

    /// `GET /eth/v1/beacon/blob_sidecars/{block_id}`, optionally only the given blob indices;
    /// `None` if there is no such block. A block without blobs has an empty list.
    pub async fn blob_sidecars(
        &self,
        block: BlockId,
        indices: &[u64],
    ) -> Result<Option<BeaconResponse<Vec<BlobSidecar>>>, Error> {
        let id = block.to_string();
        let mut request = Request::get(
            Route::BlobSidecars,
            &["eth", "v1", "beacon", "blob_sidecars", &id],
            JSON,
        );
        request.query.extend(
            unique(indices.iter().copied())
                .into_iter()
                .map(|index| ("indices", index.to_string())),
        );
        not_found_as_none(self.call_json(&request).await)
    }

    /// Subscribes to `GET /eth/v1/events?topics=..` on the first endpoint that accepts (with
    /// the same fallback and retries as other calls) and returns the open stream.
    ///
    /// The stream stays on that endpoint; when it ends, subscribe again to get the best
    /// endpoint at that time.
    pub async fn events(&self, topics: &[EventTopic]) -> Result<EventStream, Error> {
        let mut request = Request::get(Route::Events, &["eth", "v1", "events"], EVENT_STREAM);
        request.query.extend(
            unique(topics.iter().map(|t| t.as_str()))
                .into_iter()
                .map(|topic| ("topics", topic.to_owned())),
        );
        let shared = Arc::clone(&self.shared);
        self.shared
            .call(&request, move |ctx, response| {
                let shared = Arc::clone(&shared);
                async move {
                    check_content_type(&ctx, response.headers(), EVENT_STREAM)?;
                    let max_event =
                        usize::try_from(ctx.limits.max_body_bytes).unwrap_or(usize::MAX);
                    Ok(EventStream {
                        idle_timeout: shared.event_idle_timeout,
                        shared,
                        ctx,
                        response,
                        parser: SseParser::new(max_event),
                        ready: VecDeque::new(),
                        received: 0,
                        closed: false,
                    })
                }
            })
            .await
    }

    async fn call_json<T: DeserializeOwned + Send + 'static>(
        &self,
        request: &Request,
    ) -> Result<T, Error> {
        self.shared
            .call(request, |ctx, response| async move {
                let body = read_body(&ctx, response).await?;
                decode_json(&ctx, body).await
            })
            .await
    }

    async fn call_ssz(&self, request: &Request) -> Result<SszResponse, Error> {
        self.shared
            .call(request, |ctx, response| async move {
                check_content_type(&ctx, response.headers(), SSZ)?;
                let headers = response.headers().clone();
                let fork = consensus_version(&ctx, &headers)?;
                let bytes = read_body(&ctx, response).await?;
                if bytes.is_empty() {
                    return Err(ctx.malformed("empty SSZ body".to_owned(), &bytes));
                }
                Ok(SszResponse {
                    fork,
                    bytes,
                    execution_optimistic: header_bool(&headers, "eth-execution-optimistic"),
                    finalized: header_bool(&headers, "eth-consensus-finalized"),
                })
            })
            .await
    }
}

impl Shared {
    fn health(&self) -> MutexGuard<'_, Vec<HealthState>> {
        // Health is plain data updated in one statement at a time: a panic elsewhere cannot
        // leave it half-written, so a poisoned lock is still good.
        self.health.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `request` with fallback and retries; `handle` turns a successful (2xx) response
    /// into the result, within the route's timeout.
    async fn call<T, H, Fut>(&self, request: &Request, handle: H) -> Result<T, Error>
    where
        H: Fn(Context, Response) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let order = attempt_order(&self.health(), &self.retry, Instant::now());
        let max_attempts = self.retry.max_attempts.max(1);
        let mut attempts: u32 = 0;
        // The longest `Retry-After` asked for since the last pause.
        let mut asked_to_wait = Duration::ZERO;
        loop {
            let index = order[attempts as usize % order.len()];
            let error = match self.attempt(index, request, &handle).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            attempts += 1;
            asked_to_wait = asked_to_wait.max(error.retry_after().unwrap_or_default());
            if !error.is_retryable() {
                return Err(error);
            }
            if attempts >= max_attempts {
                warn!(route = %request.route, attempts, error = %error, "beacon request failed on every attempt");
                return Err(Error::AllAttemptsFailed {
                    route: request.route,
                    attempts,
                    last: Box::new(error),
                });
            }
            debug!(route = %request.route, attempts, error = %error, "beacon request failed, retrying");
            if (attempts as usize).is_multiple_of(order.len()) {
                let round = attempts / u32::try_from(order.len()).unwrap_or(u32::MAX);
                // A node that says when to come back is believed, within our own patience.
                let pause =
                    backoff(&self.retry, round).max(asked_to_wait.min(self.retry.max_backoff));
                asked_to_wait = Duration::ZERO;
                tokio::time::sleep(pause).await;
            }
        }
    }

    async fn attempt<T, H, Fut>(
        &self,
        index: usize,
        request: &Request,
        handle: &H,
    ) -> Result<T, Error>
    where
        H: Fn(Context, Response) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let endpoint = &self.endpoints[index];
        let ctx = Context {
            index,
            endpoint: endpoint.name.clone(),
            route: request.route,
            limits: self.limits.get(request.route),
        };
        let started = Instant::now();
        let timeout = ctx.limits.timeout;
        let result = tokio::time::timeout(timeout, async {
            let response = self.send(endpoint, request, &ctx).await?;
            handle(ctx.clone(), response).await
        })
        .await
        .unwrap_or_else(|_| Err(ctx.timeout(timeout)));
        self.record(&ctx, result.as_ref().err(), Some(started.elapsed()));
        result
    }

    async fn send(
        &self,
        endpoint: &Endpoint,
        request: &Request,
        ctx: &Context,
    ) -> Result<Response, Error> {
        let url = endpoint.url(&request.path, &request.query);
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .header(ACCEPT, request.accept);
        if let Some(body) = &request.json_body {
            builder = builder.header(CONTENT_TYPE, JSON).body(body.clone());
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| ctx.transport(e, self.connect_timeout))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = match status.as_u16() {
            429 | 503 => response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
            _ => None,
        };
        let mut body = Vec::new();
        while body.len() < ERROR_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        Err(Error::Status {
            endpoint: ctx.endpoint.clone(),
            route: ctx.route,
            status: status.as_u16(),
            body: excerpt(&body),
            retry_after,
        })
    }

    /// Counts an attempt's outcome and updates the endpoint's health: failures worth retrying
    /// count against the endpoint; anything else shows it answering.
    fn record(&self, ctx: &Context, error: Option<&Error>, took: Option<Duration>) {
        let endpoint = &self.endpoints[ctx.index];
        let outcome = error.map_or("ok", Error::outcome);
        match took {
            Some(took) => self
                .metrics
                .observe(&endpoint.label, ctx.route, outcome, took),
            None => self.metrics.count(&endpoint.label, ctx.route, outcome),
        }
        let transition = {
            let mut health = self.health();
            match error.filter(|e| e.is_retryable()) {
                Some(error) => health[ctx.index].record_failure(error.to_string()),
                None => health[ctx.index].record_success(),
            }
        };
        match transition {
            Transition::None => {}
            Transition::BecameFailing => {
                self.metrics.set_up(&endpoint.label, false);
                warn!(
                    endpoint = %endpoint.name,
                    error = %error.map(ToString::to_string).unwrap_or_default(),
                    "beacon endpoint failing"
                );
            }
            Transition::Recovered { after_failures } => {
                self.metrics.set_up(&endpoint.label, true);
                info!(endpoint = %endpoint.name, after_failures, "beacon endpoint recovered");
            }
        }
    }
}

/// An open `GET /eth/v1/events` subscription on one endpoint.
///
/// [`next`](Self::next) is cancellation-safe: dropping its future (in a `tokio::select!`) loses
/// no event.
pub struct EventStream {
    shared: Arc<Shared>,
    ctx: Context,
    response: Response,
    parser: SseParser,
    ready: VecDeque<SseEvent>,
    received: u64,
    idle_timeout: Duration,
    closed: bool,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the response: its URL may carry an API key in the path or query.
        f.debug_struct("EventStream")
            .field("endpoint", &self.ctx.endpoint)
            .field("received", &self.received)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// The endpoint the stream is on (`#index scheme://host:port`).
    pub fn endpoint(&self) -> &str {
        &self.ctx.endpoint
    }

    /// The next event of a subscribed type.
    ///
    /// - `Ok(Some(event))`: an event; events of types the client does not know are skipped.
    /// - `Ok(None)`: the stream has ended (the node closed it, or an earlier error broke it);
    ///   subscribe again.
    /// - `Err(Error::Malformed { .. })` for one event whose data does not parse: the stream
    ///   goes on.
    /// - Any other `Err`: the stream broke (nothing for `event_idle_timeout`, connection lost,
    ///   an event over the size limit); it counts against the endpoint's health, and the next
    ///   call returns `Ok(None)`.
    pub async fn next(&mut self) -> Result<Option<BeaconEvent>, Error> {
        loop {
            while let Some(event) = self.ready.pop_front() {
                match BeaconEvent::from_sse(&event) {
                    Ok(Some(decoded)) => return Ok(Some(decoded)),
                    Ok(None) => {
                        debug!(event = %excerpt(event.event.as_bytes()), "ignoring beacon event of unknown type")
                    }
                    Err(e) => {
                        // Counted, but the stream goes on and the endpoint's health is unchanged.
                        let label = &self.shared.endpoints[self.ctx.index].label;
                        self.shared
                            .metrics
                            .count(label, self.ctx.route, "invalid_response");
                        return Err(self.ctx.malformed(
                            format!("{} event: {e}", excerpt(event.event.as_bytes())),
                            event.data.as_bytes(),
                        ));
                    }
                }
            }
            if self.closed {
                return Ok(None);
            }
            let chunk = match tokio::time::timeout(self.idle_timeout, self.response.chunk()).await {
                Err(_) => Err(self.ctx.timeout(self.idle_timeout)),
                Ok(Err(e)) => Err(Error::Truncated {
                    endpoint: self.ctx.endpoint.clone(),
                    route: self.ctx.route,
                    received: self.received,
                    detail: chain(&e.without_url()),
                }),
                Ok(Ok(None)) => {
                    debug!(endpoint = %self.ctx.endpoint, "beacon event stream closed by the node");
                    self.closed = true;
                    return Ok(None);
                }
                Ok(Ok(Some(chunk))) => Ok(chunk),
            };
            let pushed = chunk.and_then(|chunk| {
                self.received = self.received.saturating_add(chunk.len() as u64);
                let mut out = Vec::new();
                let result = self.parser.push(&chunk, &mut out);
                self.ready.extend(out);
                result.map_err(|e| self.ctx.too_large(e.limit as u64))
            });
            if let Err(error) = pushed {
                self.closed = true;
                self.shared.record(&self.ctx, Some(&error), None);
                return Err(error);
            }
        }
    }
}

fn not_found_as_none<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

fn unique<T: Eq + std::hash::Hash + Copy>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(*item))
        .collect()
}

fn unique_ids(ids: &[ValidatorId]) -> Vec<String> {
    unique(ids.iter().copied())
        .into_iter()
        .map(|id| id.to_string())
        .collect()
}

/// Reads the whole body, refusing more than the route's limit: a `Content-Length` over it is
/// refused before reading, and a body without one is cut off as soon as it passes the limit.
async fn read_body(ctx: &Context, mut response: Response) -> Result<Vec<u8>, Error> {
    let limit = ctx.limits.max_body_bytes;
    let declared = response.content_length();
    if let Some(declared) = declared.filter(|d| *d > limit) {
        return Err(ctx.too_large(declared));
    }
    let capacity = usize::try_from(declared.unwrap_or(0)).unwrap_or(0);
    let mut body = Vec::with_capacity(capacity);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let total = (body.len() as u64).saturating_add(chunk.len() as u64);
                if total > limit {
                    return Err(ctx.too_large(total));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(Error::Truncated {
                    endpoint: ctx.endpoint.clone(),
                    route: ctx.route,
                    received: body.len() as u64,
                    detail: chain(&e.without_url()),
                });
            }
        }
    }
}

async fn decode_json<T: DeserializeOwned + Send + 'static>(
    ctx: &Context,
    body: Vec<u8>,
) -> Result<T, Error> {
    fn parse<T: DeserializeOwned>(body: Vec<u8>) -> Result<T, (serde_json::Error, Vec<u8>)> {
        serde_json::from_slice(&body).map_err(|e| (e, body))
    }
    let parsed = if body.len() <= INLINE_DECODE_BYTES {
        parse(body)
    } else {
        tokio::task::spawn_blocking(move || parse(body))
            .await
            .map_err(|e| ctx.malformed(format!("JSON decoding task failed: {e}"), &[]))?
    };
    parsed.map_err(|(error, body)| ctx.malformed(format!("invalid JSON: {error}"), &body))
}

fn check_content_type(
    ctx: &Context,
    headers: &HeaderMap,
    expected: &'static str,
) -> Result<(), Error> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        // A missing type is tolerated: the body is checked anyway.
        return Ok(());
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let mime = text.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(Error::UnexpectedContentType {
        endpoint: ctx.endpoint.clone(),
        route: ctx.route,
        expected,
        actual: text.chars().take(100).collect(),
    })
}

fn consensus_version(ctx: &Context, headers: &HeaderMap) -> Result<ForkName, Error> {
    let value = headers
        .get(CONSENSUS_VERSION)
        .ok_or_else(|| Error::MissingConsensusVersion {
            endpoint: ctx.endpoint.clone(),
            route: ctx.route,
        })?;
    let text = String::from_utf8_lossy(value.as_bytes());
    text.parse().map_err(|_| Error::UnknownFork {
        endpoint: ctx.endpoint.clone(),
        route: ctx.route,
        value: text.chars().take(40).collect(),
    })
}

fn header_bool(headers: &HeaderMap, name: &str) -> Option<bool> {
    match headers.get(name)?.to_str().ok()?.trim() {
        v if v.eq_ignore_ascii_case("true") => Some(true),
        v if v.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}
