//! The Beacon API routes the devnet serves: every route `restake-beacon`'s client calls, plus
//! a few cheap ones (`node/version`, `node/syncing`, `node/health`, block and state roots, one
//! validator).
//!
//! Errors use the API's body, `{"code":N,"message":"..."}`: 400 for an id that does not parse,
//! 404 for one that names nothing the devnet remembers (see [`crate::DevnetConfig::history_slots`]).

use std::{collections::BTreeMap, convert::Infallible, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::get,
};
use futures_util::stream::{self, Stream};
use restake_beacon::{
    BeaconResponse, BlobSidecar, BlockHeaderData, Checkpoint, EventTopic, FinalityCheckpoints,
    ForkName, KzgCommitment, KzgProof, Root, SignedBeaconBlockHeader, StatusFilter,
    ValidatorBalance, ValidatorData, ValidatorStatus, containers::spec,
};
use restake_types::{BlsPublicKey, Epoch, Gwei, Slot, ValidatorIndex, WithdrawalCredentials};
use serde::Serialize;
use serde_json::{Value, json};
use ssz::Encode;
use tokio::sync::broadcast;

use crate::{
    blobs,
    chain::{self, GENESIS_FORK_VERSION, SLOTS_PER_EPOCH, SlotRecord},
    devnet::{ChainEvent, Shared},
    history::History,
    merkle,
};

const SSZ: &str = "application/octet-stream";

type AppState = State<Arc<Shared>>;

/// The router of every devnet route.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/eth/v1/beacon/genesis", get(genesis))
        .route("/eth/v1/config/spec", get(spec))
        .route("/eth/v1/node/version", get(version))
        .route("/eth/v1/node/syncing", get(syncing))
        .route("/eth/v1/node/health", get(health))
        .route("/eth/v1/beacon/headers/{block_id}", get(header_of))
        .route("/eth/v2/beacon/blocks/{block_id}", get(block_ssz))
        .route("/eth/v1/beacon/blocks/{block_id}/root", get(block_root))
        .route("/eth/v1/beacon/states/{state_id}/root", get(state_root))
        .route(
            "/eth/v1/beacon/states/{state_id}/finality_checkpoints",
            get(finality_checkpoints),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/validators",
            get(validators_get).post(validators_post),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/validators/{validator_id}",
            get(validator_one),
        )
        .route(
            "/eth/v1/beacon/states/{state_id}/validator_balances",
            get(balances_get).post(balances_post),
        )
        .route("/eth/v2/debug/beacon/states/{state_id}", get(state_ssz))
        .route(
            "/eth/v1/beacon/blob_sidecars/{block_id}",
            get(blob_sidecars),
        )
        .route("/eth/v1/events", get(events))
        .fallback(|| async { ApiError::not_found("no such route on the devnet") })
        .with_state(shared)
}

/// An error answer in the Beacon API's shape.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"code": self.status.as_u16(), "message": self.message});
        (self.status, Json(body)).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

fn json_data<T: Serialize>(data: T) -> Response {
    Json(json!({ "data": data })).into_response()
}

fn json_response<T: Serialize>(finalized: bool, data: T) -> Response {
    Json(BeaconResponse {
        execution_optimistic: Some(false),
        finalized: Some(finalized),
        data,
    })
    .into_response()
}

fn ssz_response(bytes: Vec<u8>, finalized: bool) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SSZ));
    headers.insert(
        "eth-consensus-version",
        HeaderValue::from_static(ForkName::Electra.as_str()),
    );
    headers.insert(
        "eth-execution-optimistic",
        HeaderValue::from_static("false"),
    );
    headers.insert(
        "eth-consensus-finalized",
        HeaderValue::from_static(if finalized { "true" } else { "false" }),
    );
    response
}

/// Refuses a request that accepts only JSON: blocks and states are served as SSZ only.
fn require_ssz(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(());
    };
    let accept = String::from_utf8_lossy(accept.as_bytes()).to_ascii_lowercase();
    if accept.contains(SSZ) || accept.contains("*/*") {
        return Ok(());
    }
    Err(ApiError {
        status: StatusCode::NOT_ACCEPTABLE,
        message: format!("the devnet serves this route as {SSZ} only, not {accept}"),
    })
}

fn parse_root(text: &str) -> Option<[u8; 32]> {
    text.parse::<Root>().ok().map(|root| *root.as_bytes())
}

/// The record a `{state_id}` names.
fn resolve_state(history: &History, id: &str) -> Result<Arc<SlotRecord>, ApiError> {
    let record = match id {
        "head" => Some(history.head()),
        "genesis" => Some(history.genesis()),
        "finalized" => history.finalized(),
        "justified" => history.justified(),
        _ if id.starts_with("0x") => {
            let root = parse_root(id)
                .ok_or_else(|| ApiError::bad_request(format!("invalid state id {id:?}")))?;
            history.by_state_root(&root)
        }
        _ => {
            let slot = id
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid state id {id:?}")))?;
            return at_slot(history, slot, "state");
        }
    };
    record
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("state {id} not found on the devnet")))
}

/// The record a `{block_id}` names.
fn resolve_block(history: &History, id: &str) -> Result<Arc<SlotRecord>, ApiError> {
    let record = match id {
        "head" => Some(history.head()),
        "genesis" => Some(history.genesis()),
        "finalized" => history.finalized(),
        _ if id.starts_with("0x") => {
            let root = parse_root(id)
                .ok_or_else(|| ApiError::bad_request(format!("invalid block id {id:?}")))?;
            history.by_block_root(&root)
        }
        _ => {
            let slot = id
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid block id {id:?}")))?;
            return at_slot(history, slot, "block");
        }
    };
    record
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("block {id} not found on the devnet")))
}

fn at_slot(history: &History, slot: u64, what: &str) -> Result<Arc<SlotRecord>, ApiError> {
    let head = history.head().slot();
    if slot > head {
        return Err(ApiError::not_found(format!(
            "no {what} at slot {slot}: the head is at slot {head}"
        )));
    }
    history.at_slot(slot).cloned().ok_or_else(|| {
        ApiError::not_found(format!(
            "{what} at slot {slot} is no longer kept: the devnet remembers genesis and slots {} to {head}",
            history.oldest_slot()
        ))
    })
}

/// Query values of `key`, comma-separated lists split.
fn query_values(query: Option<&str>, key: &str) -> Vec<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn genesis(State(shared): AppState) -> Response {
    json_data(restake_beacon::Genesis {
        genesis_time: shared.params.genesis_time,
        genesis_validators_root: Root::new(shared.params.genesis_validators_root),
        genesis_fork_version: restake_beacon::ForkVersion::new(GENESIS_FORK_VERSION),
    })
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", ::hex::encode(bytes))
}

async fn spec(State(shared): AppState) -> Response {
    let mut spec: BTreeMap<String, String> = BTreeMap::new();
    let mut put = |key: &str, value: String| spec.insert(key.to_owned(), value);
    put("CONFIG_NAME", "restake-devnet".to_owned());
    put("PRESET_BASE", "mainnet".to_owned());
    put(
        "SECONDS_PER_SLOT",
        shared.params.seconds_per_slot.to_string(),
    );
    put("SLOTS_PER_EPOCH", SLOTS_PER_EPOCH.to_string());
    put("GENESIS_FORK_VERSION", hex(&GENESIS_FORK_VERSION));
    // Every fork up to Electra at genesis; Fulu never. Versions count up the first byte.
    for (i, fork) in ["ALTAIR", "BELLATRIX", "CAPELLA", "DENEB", "ELECTRA", "FULU"]
        .into_iter()
        .enumerate()
    {
        let mut version = GENESIS_FORK_VERSION;
        // Six forks: the index fits a byte.
        version[0] = (i + 1) as u8;
        let epoch = if fork == "FULU" { u64::MAX } else { 0 };
        put(&format!("{fork}_FORK_VERSION"), hex(&version));
        put(&format!("{fork}_FORK_EPOCH"), epoch.to_string());
    }
    for (key, value) in [
        (
            "SLOTS_PER_HISTORICAL_ROOT",
            chain::SLOTS_PER_HISTORICAL_ROOT,
        ),
        (
            "EPOCHS_PER_SLASHINGS_VECTOR",
            chain::EPOCHS_PER_SLASHINGS_VECTOR,
        ),
        ("MAX_SEED_LOOKAHEAD", chain::MAX_SEED_LOOKAHEAD),
        (
            "MIN_VALIDATOR_WITHDRAWABILITY_DELAY",
            chain::MIN_VALIDATOR_WITHDRAWABILITY_DELAY,
        ),
        ("EFFECTIVE_BALANCE_INCREMENT", chain::ETH),
        ("MIN_ACTIVATION_BALANCE", chain::MIN_ACTIVATION_BALANCE),
        ("MAX_EFFECTIVE_BALANCE", chain::MIN_ACTIVATION_BALANCE),
        (
            "MAX_EFFECTIVE_BALANCE_ELECTRA",
            chain::MAX_EFFECTIVE_BALANCE,
        ),
        ("MAX_BLOBS_PER_BLOCK_ELECTRA", blobs::MAX_BLOBS_PER_BLOCK),
        ("MAX_BLOB_COMMITMENTS_PER_BLOCK", 4096),
        (
            "KZG_COMMITMENT_INCLUSION_PROOF_DEPTH",
            merkle::INCLUSION_PROOF_DEPTH as u64,
        ),
        ("FAR_FUTURE_EPOCH", u64::MAX),
    ] {
        put(key, value.to_string());
    }
    put("DOMAIN_VOLUNTARY_EXIT", "0x04000000".to_owned());
    put("DOMAIN_BLS_TO_EXECUTION_CHANGE", "0x0a000000".to_owned());
    json_data(spec)
}

async fn version() -> Response {
    json_data(json!({"version": concat!("restake-devnet/v", env!("CARGO_PKG_VERSION"))}))
}

async fn syncing(State(shared): AppState) -> Response {
    let head = shared.history().head().slot();
    json_data(json!({
        "head_slot": head.to_string(),
        "sync_distance": "0",
        "is_syncing": false,
        "is_optimistic": false,
        "el_offline": false,
    }))
}

async fn health() -> StatusCode {
    StatusCode::OK
}

fn api_header(record: &SlotRecord) -> restake_beacon::BeaconBlockHeader {
    let message = &record.block.message;
    restake_beacon::BeaconBlockHeader {
        slot: Slot(message.slot),
        proposer_index: ValidatorIndex(message.proposer_index),
        parent_root: Root::new(message.parent_root),
        state_root: Root::new(message.state_root),
        body_root: Root::new(record.snapshot.latest_block_header.body_root),
    }
}

async fn header_of(State(shared): AppState, Path(block_id): Path<String>) -> ApiResult {
    let (record, finalized) = {
        let history = shared.history();
        let record = resolve_block(&history, &block_id)?;
        let finalized = history.is_finalized(record.slot());
        (record, finalized)
    };
    Ok(json_response(
        finalized,
        BlockHeaderData {
            root: Root::new(record.block_root),
            canonical: true,
            header: SignedBeaconBlockHeader {
                message: api_header(&record),
                signature: restake_beacon::BlsSignature::new(record.block.signature),
            },
        },
    ))
}

async fn block_ssz(
    State(shared): AppState,
    Path(block_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    require_ssz(&headers)?;
    let (record, finalized) = {
        let history = shared.history();
        let record = resolve_block(&history, &block_id)?;
        let finalized = history.is_finalized(record.slot());
        (record, finalized)
    };
    Ok(ssz_response(record.block.as_ssz_bytes(), finalized))
}

async fn block_root(State(shared): AppState, Path(block_id): Path<String>) -> ApiResult {
    let history = shared.history();
    let record = resolve_block(&history, &block_id)?;
    Ok(json_response(
        history.is_finalized(record.slot()),
        json!({"root": Root::new(record.block_root)}),
    ))
}

async fn state_root(State(shared): AppState, Path(state_id): Path<String>) -> ApiResult {
    let history = shared.history();
    let record = resolve_state(&history, &state_id)?;
    Ok(json_response(
        history.is_finalized(record.slot()),
        json!({"root": Root::new(record.state_root)}),
    ))
}

fn api_checkpoint(checkpoint: &spec::Checkpoint) -> Checkpoint {
    Checkpoint {
        epoch: Epoch(checkpoint.epoch),
        root: Root::new(checkpoint.root),
    }
}

async fn finality_checkpoints(State(shared): AppState, Path(state_id): Path<String>) -> ApiResult {
    let history = shared.history();
    let record = resolve_state(&history, &state_id)?;
    let snapshot = &record.snapshot;
    Ok(json_response(
        history.is_finalized(record.slot()),
        FinalityCheckpoints {
            previous_justified: api_checkpoint(&snapshot.previous_justified),
            current_justified: api_checkpoint(&snapshot.current_justified),
            finalized: api_checkpoint(&snapshot.finalized),
        },
    ))
}

/// A parsed `{validator_id}`.
#[derive(Clone, Copy, Debug)]
enum ValidatorKey {
    Index(u64),
    PublicKey(BlsPublicKey),
}

fn parse_validator_ids(ids: &[String]) -> Result<Vec<ValidatorKey>, ApiError> {
    ids.iter()
        .map(|id| {
            if id.starts_with("0x") {
                id.parse::<BlsPublicKey>()
                    .map(ValidatorKey::PublicKey)
                    .map_err(|e| ApiError::bad_request(format!("invalid validator id {id:?}: {e}")))
            } else {
                id.parse::<u64>()
                    .map(ValidatorKey::Index)
                    .map_err(|_| ApiError::bad_request(format!("invalid validator id {id:?}")))
            }
        })
        .collect()
}

fn parse_status_filters(statuses: &[String]) -> Result<Vec<StatusFilter>, ApiError> {
    statuses
        .iter()
        .map(|status| match status.as_str() {
            "active" => Ok(StatusFilter::Active),
            "pending" => Ok(StatusFilter::Pending),
            "exited" => Ok(StatusFilter::Exited),
            "withdrawal" => Ok(StatusFilter::Withdrawal),
            exact => serde_json::from_value::<ValidatorStatus>(Value::String(exact.to_owned()))
                .map(StatusFilter::Exact)
                .map_err(|_| ApiError::bad_request(format!("invalid validator status {exact:?}"))),
        })
        .collect()
}

fn matches(filter: StatusFilter, status: ValidatorStatus) -> bool {
    use ValidatorStatus as S;
    match filter {
        StatusFilter::Exact(exact) => exact == status,
        StatusFilter::Active => matches!(
            status,
            S::ActiveOngoing | S::ActiveExiting | S::ActiveSlashed
        ),
        StatusFilter::Pending => matches!(status, S::PendingInitialized | S::PendingQueued),
        StatusFilter::Exited => matches!(status, S::ExitedUnslashed | S::ExitedSlashed),
        StatusFilter::Withdrawal => matches!(status, S::WithdrawalPossible | S::WithdrawalDone),
    }
}

/// Registry indices named by `ids` (all when empty), in registry order, without duplicates;
/// unknown ids are left out.
fn select(record: &SlotRecord, ids: &[ValidatorKey]) -> Vec<usize> {
    let validators = &record.snapshot.validators;
    if ids.is_empty() {
        return (0..validators.len()).collect();
    }
    let mut selected: Vec<usize> = ids
        .iter()
        .filter_map(|id| match id {
            ValidatorKey::Index(index) => usize::try_from(*index)
                .ok()
                .filter(|i| *i < validators.len()),
            ValidatorKey::PublicKey(key) => {
                validators.iter().position(|v| v.pubkey == *key.as_bytes())
            }
        })
        .collect();
    selected.sort_unstable();
    selected.dedup();
    selected
}

fn validator_data(record: &SlotRecord, index: usize) -> Option<ValidatorData> {
    let validator = record.snapshot.validators.get(index)?;
    let balance = *record.snapshot.balances.get(index)?;
    Some(ValidatorData {
        index: ValidatorIndex(index as u64),
        balance: Gwei(balance),
        status: chain::validator_status(validator, balance, record.snapshot.epoch()),
        validator: restake_beacon::Validator {
            pubkey: BlsPublicKey::new(validator.pubkey),
            withdrawal_credentials: WithdrawalCredentials::new(validator.withdrawal_credentials),
            effective_balance: Gwei(validator.effective_balance),
            slashed: validator.slashed,
            activation_eligibility_epoch: Epoch(validator.activation_eligibility_epoch),
            activation_epoch: Epoch(validator.activation_epoch),
            exit_epoch: Epoch(validator.exit_epoch),
            withdrawable_epoch: Epoch(validator.withdrawable_epoch),
        },
    })
}

fn validators_answer(
    shared: &Shared,
    state_id: &str,
    ids: &[String],
    statuses: &[String],
) -> ApiResult {
    let ids = parse_validator_ids(ids)?;
    let filters = parse_status_filters(statuses)?;
    let history = shared.history();
    let record = resolve_state(&history, state_id)?;
    let data: Vec<ValidatorData> = select(&record, &ids)
        .into_iter()
        .filter_map(|index| validator_data(&record, index))
        .filter(|data| filters.is_empty() || filters.iter().any(|f| matches(*f, data.status)))
        .collect();
    Ok(json_response(history.is_finalized(record.slot()), data))
}

async fn validators_get(
    State(shared): AppState,
    Path(state_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let ids = query_values(query.as_deref(), "id");
    let statuses = query_values(query.as_deref(), "status");
    validators_answer(&shared, &state_id, &ids, &statuses)
}

/// The body of `POST .../validators`: both fields optional.
#[derive(Debug, Default, serde::Deserialize)]
struct ValidatorsBody {
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    statuses: Option<Vec<String>>,
}

async fn validators_post(
    State(shared): AppState,
    Path(state_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body: ValidatorsBody = if body.is_empty() {
        ValidatorsBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?
    };
    validators_answer(
        &shared,
        &state_id,
        &body.ids.unwrap_or_default(),
        &body.statuses.unwrap_or_default(),
    )
}

async fn validator_one(
    State(shared): AppState,
    Path((state_id, validator_id)): Path<(String, String)>,
) -> ApiResult {
    let ids = parse_validator_ids(std::slice::from_ref(&validator_id))?;
    let history = shared.history();
    let record = resolve_state(&history, &state_id)?;
    let data = select(&record, &ids)
        .first()
        .and_then(|index| validator_data(&record, *index))
        .ok_or_else(|| ApiError::not_found(format!("validator {validator_id} not found")))?;
    Ok(json_response(history.is_finalized(record.slot()), data))
}

fn balances_answer(shared: &Shared, state_id: &str, ids: &[String]) -> ApiResult {
    let ids = parse_validator_ids(ids)?;
    let history = shared.history();
    let record = resolve_state(&history, state_id)?;
    let data: Vec<ValidatorBalance> = select(&record, &ids)
        .into_iter()
        .filter_map(|index| {
            Some(ValidatorBalance {
                index: ValidatorIndex(index as u64),
                balance: Gwei(*record.snapshot.balances.get(index)?),
            })
        })
        .collect();
    Ok(json_response(history.is_finalized(record.slot()), data))
}

async fn balances_get(
    State(shared): AppState,
    Path(state_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    balances_answer(&shared, &state_id, &query_values(query.as_deref(), "id"))
}

async fn balances_post(
    State(shared): AppState,
    Path(state_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let ids: Vec<String> = if body.is_empty() {
        Vec::new()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?
    };
    balances_answer(&shared, &state_id, &ids)
}

async fn state_ssz(
    State(shared): AppState,
    Path(state_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    require_ssz(&headers)?;
    let (record, finalized) = {
        let history = shared.history();
        let record = resolve_state(&history, &state_id)?;
        let finalized = history.is_finalized(record.slot());
        (record, finalized)
    };
    let bytes = tokio::task::spawn_blocking(move || {
        let state = shared.history().state(&shared.params, &record);
        state.map(|state| state.as_ssz_bytes())
    })
    .await
    .map_err(|e| ApiError::internal(format!("encoding the state failed: {e}")))?
    .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(ssz_response(bytes, finalized))
}

async fn blob_sidecars(
    State(shared): AppState,
    Path(block_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let indices = query_values(query.as_deref(), "indices")
        .iter()
        .map(|i| {
            i.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid blob index {i:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (record, finalized) = {
        let history = shared.history();
        let record = resolve_block(&history, &block_id)?;
        let finalized = history.is_finalized(record.slot());
        (record, finalized)
    };
    let sidecars = tokio::task::spawn_blocking(move || sidecars(&record, &indices))
        .await
        .map_err(|e| ApiError::internal(format!("building blob sidecars failed: {e}")))??;
    Ok(json_response(finalized, sidecars))
}

fn sidecars(record: &SlotRecord, indices: &[usize]) -> Result<Vec<BlobSidecar>, ApiError> {
    let header = SignedBeaconBlockHeader {
        message: api_header(record),
        signature: restake_beacon::BlsSignature::new(record.block.signature),
    };
    let body = &record.block.message.body;
    record
        .blobs
        .iter()
        .enumerate()
        .filter(|(index, _)| indices.is_empty() || indices.contains(index))
        .map(|(index, blob)| {
            let proof = merkle::commitment_inclusion_proof(body, index).ok_or_else(|| {
                ApiError::internal(format!(
                    "blob {index} at slot {} has no commitment in its block",
                    record.slot()
                ))
            })?;
            Ok(BlobSidecar {
                index: index as u64,
                blob: restake_beacon::Blob::new(blobs::blob_bytes(record.slot(), index)),
                kzg_commitment: KzgCommitment::new(blob.commitment),
                kzg_proof: KzgProof::new(blob.proof),
                signed_block_header: header,
                kzg_commitment_inclusion_proof: proof.into_iter().map(Root::new).collect(),
            })
        })
        .collect()
}

async fn events(State(shared): AppState, RawQuery(query): RawQuery) -> ApiResult {
    let names = query_values(query.as_deref(), "topics");
    if names.is_empty() {
        return Err(ApiError::bad_request("missing topics"));
    }
    let mut topics = Vec::new();
    for name in &names {
        let topic = EventTopic::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| ApiError::bad_request(format!("unsupported topic {name:?}")))?;
        topics.push(topic);
    }
    let stream = event_stream(shared.events.subscribe(), shared.shutdown.clone(), topics);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(5)))
        .into_response())
}

/// The subscribed events as SSE, until the devnet shuts down. A subscriber that falls more
/// than the buffer behind skips what it missed.
fn event_stream(
    receiver: broadcast::Receiver<ChainEvent>,
    shutdown: tokio_util::sync::CancellationToken,
    topics: Vec<EventTopic>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(
        (receiver, shutdown, topics),
        |(mut receiver, shutdown, topics)| async move {
            loop {
                let received = tokio::select! {
                    () = shutdown.cancelled() => return None,
                    received = receiver.recv() => received,
                };
                let event = match received {
                    Ok(event) => event,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                let (topic, data) = match event {
                    ChainEvent::Head(head) => (EventTopic::Head, serde_json::to_string(&head)),
                    ChainEvent::FinalizedCheckpoint(finalized) => (
                        EventTopic::FinalizedCheckpoint,
                        serde_json::to_string(&finalized),
                    ),
                };
                if !topics.contains(&topic) {
                    continue;
                }
                let Ok(data) = data else { continue };
                let event = Event::default().event(topic.as_str()).data(data);
                return Some((Ok(event), (receiver, shutdown, topics)));
            }
        },
    )
}
