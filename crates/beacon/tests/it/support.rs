//! Local beacon nodes for the tests: an axum server answering like the Beacon API (with
//! switchable misbehaviour), a raw TCP server for byte-exact responses, and client helpers.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use prometheus::Registry;
use restake_beacon::{BeaconClient, BeaconClientConfig, RetryPolicy, Route, Url};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

pub const FAR_FUTURE: &str = "18446744073709551615";
pub const GENESIS_VALIDATORS_ROOT: &str =
    "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
pub const BLOCK_ROOT: &str = "0x9a2fefd2fdb57f74993c7780ea5b9030d2897b615b89f808011ca5aebed54eaf";
pub const STATE_ROOT: &str = "0x600e852a08c1200654ddf11025f1ceacb3c2e74bdd5c630cde0838b2591b69f9";
/// A slot the mock chain skipped: headers, blocks and blobs there are 404.
pub const SKIPPED_SLOT: u64 = 13;
/// The pod address the mock validators' 0x01 credentials point at.
pub const POD: &str = "00000000000000000000000000000000000000aa";

/// How the mock answers a request.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Like a healthy beacon node.
    Normal,
    /// This status with a Beacon API error body.
    Status(u16),
    /// 429 with `Retry-After: <seconds>`.
    Throttled(u64),
    /// Never answer.
    Hang,
    /// Exactly this body, content type and (optional) `Eth-Consensus-Version`.
    Raw {
        content_type: &'static str,
        fork: Option<&'static str>,
        body: Vec<u8>,
    },
}

/// A request the mock received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub accept: String,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct MockState {
    mode: Mutex<Option<Mode>>,
    once: Mutex<VecDeque<Mode>>,
    requests: Mutex<Vec<Recorded>>,
    state_bytes: Mutex<usize>,
}

/// An axum server speaking the Beacon API on 127.0.0.1.
pub struct MockBeacon {
    pub url: Url,
    state: Arc<MockState>,
}

impl MockBeacon {
    pub async fn start() -> Self {
        let state = Arc::new(MockState::default());
        *state.state_bytes.lock().unwrap() = 4096;
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: Url::parse(&format!("http://{addr}/")).unwrap(),
            state,
        }
    }

    /// Answers every following request this way.
    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = Some(mode);
    }

    /// Answers the next request this way, then goes back to the standing mode.
    pub fn push_once(&self, mode: Mode) {
        self.state.once.lock().unwrap().push_back(mode);
    }

    /// The size of the SSZ state served.
    pub fn set_state_bytes(&self, len: usize) {
        *self.state.state_bytes.lock().unwrap() = len;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }
}

async fn handle(
    State(state): State<Arc<MockState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_owned())
    };
    let recorded = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        accept: text(header::ACCEPT).unwrap_or_default(),
        authorization: text(header::AUTHORIZATION),
        body: body.to_vec(),
    };
    state.requests.lock().unwrap().push(recorded.clone());
    let once = state.once.lock().unwrap().pop_front();
    let mode = once
        .or_else(|| state.mode.lock().unwrap().clone())
        .unwrap_or(Mode::Normal);
    match mode {
        Mode::Normal => normal(&state, &recorded),
        Mode::Status(code) => error(code, "mock failure"),
        Mode::Throttled(seconds) => {
            let mut response = error(429, "slow down");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.to_string().parse().unwrap());
            response
        }
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            error(500, "woke up")
        }
        Mode::Raw {
            content_type,
            fork,
            body,
        } => {
            let mut response = Response::new(Body::from(body));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type.parse().unwrap());
            if let Some(fork) = fork {
                response
                    .headers_mut()
                    .insert("eth-consensus-version", fork.parse().unwrap());
            }
            response
        }
    }
}

fn error(code: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap();
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"code": code, "message": message}).to_string(),
    )
        .into_response()
}

fn json_ok(value: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn ssz_ok(fork: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (
                header::HeaderName::from_static("eth-consensus-version"),
                fork,
            ),
        ],
        body,
    )
        .into_response()
}

fn normal(state: &MockState, request: &Recorded) -> Response {
    // Endpoints may have a path prefix: answer from `/eth/` on.
    let Some(at) = request.path.find("/eth/") else {
        return error(404, "no such route");
    };
    let segments: Vec<&str> = request.path[at + 1..].split('/').collect();
    let skipped = |id: &str| id == SKIPPED_SLOT.to_string();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["eth", "v1", "beacon", "genesis"]) => json_ok(genesis()),
        ("GET", ["eth", "v1", "config", "spec"]) => json_ok(spec()),
        ("GET", ["eth", "v1", "beacon", "headers", id]) if skipped(id) => {
            error(404, "Block not found")
        }
        ("GET", ["eth", "v1", "beacon", "headers", id]) => json_ok(header_response(id)),
        ("GET", ["eth", "v2", "beacon", "blocks", id]) if skipped(id) => {
            error(404, "Block not found")
        }
        ("GET", ["eth", "v2", "beacon", "blocks", _]) => {
            if request.accept != "application/octet-stream" {
                return error(406, "SSZ only in this mock");
            }
            ssz_ok("electra", (0..1000u32).map(|i| (i % 251) as u8).collect())
        }
        ("GET", ["eth", "v1", "beacon", "states", _, "finality_checkpoints"]) => {
            json_ok(finality())
        }
        (method, ["eth", "v1", "beacon", "states", _, "validators"]) => {
            let ids = requested_ids(method, request, "ids");
            json_ok(json!({
                "execution_optimistic": false,
                "finalized": true,
                "data": ids.iter().map(|i| validator(*i)).collect::<Vec<_>>(),
            }))
        }
        (method, ["eth", "v1", "beacon", "states", _, "validator_balances"]) => {
            let ids = requested_ids(method, request, "");
            json_ok(json!({
                "execution_optimistic": false,
                "finalized": false,
                "data": ids.iter().map(|i| json!({"index": i.to_string(), "balance": (32_000_000_000u64 + i).to_string()})).collect::<Vec<_>>(),
            }))
        }
        ("GET", ["eth", "v2", "debug", "beacon", "states", _]) => {
            let len = *state.state_bytes.lock().unwrap();
            ssz_ok("electra", (0..len).map(|i| (i % 251) as u8).collect())
        }
        ("GET", ["eth", "v1", "beacon", "blob_sidecars", id]) if skipped(id) => {
            error(404, "Block not found")
        }
        ("GET", ["eth", "v1", "beacon", "blob_sidecars", _]) => {
            let wanted: Vec<u64> = query_values(&request.query, "indices")
                .iter()
                .map(|v| v.parse().unwrap())
                .collect();
            let all = [0u64, 1];
            let data: Vec<Value> = all
                .iter()
                .filter(|i| wanted.is_empty() || wanted.contains(i))
                .map(|i| blob_sidecar(*i))
                .collect();
            json_ok(json!({"execution_optimistic": false, "finalized": false, "data": data}))
        }
        _ => error(404, "no such route"),
    }
}

/// Values of a repeated query key (`id=1&id=2`; comma lists are split too).
pub fn query_values(query: &str, key: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| *k == key)
        .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// Validator indices asked for: GET `id`s, or a POST body (an object with `ids_key`, or a bare
/// array when `ids_key` is empty). Public keys map back to the index they were made from.
fn requested_ids(method: &str, request: &Recorded, ids_key: &str) -> Vec<u64> {
    let ids: Vec<String> = if method == "POST" {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let list = if ids_key.is_empty() {
            &body
        } else {
            &body[ids_key]
        };
        list.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    } else {
        query_values(&request.query, "id")
    };
    ids.iter()
        .map(|id| match id.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(&hex[hex.len() - 16..], 16).unwrap(),
            None => id.parse().unwrap(),
        })
        .collect()
}

pub fn pubkey_hex(index: u64) -> String {
    format!("0x{index:096x}")
}

pub fn genesis() -> Value {
    json!({"data": {
        "genesis_time": "1606824023",
        "genesis_validators_root": GENESIS_VALIDATORS_ROOT,
        "genesis_fork_version": "0x00000000"
    }})
}

pub fn spec() -> Value {
    json!({"data": {
        "CONFIG_NAME": "mainnet",
        "PRESET_BASE": "mainnet",
        "SECONDS_PER_SLOT": "12",
        "SLOTS_PER_EPOCH": "32",
        "GENESIS_FORK_VERSION": "0x00000000",
        "ALTAIR_FORK_VERSION": "0x01000000",
        "ALTAIR_FORK_EPOCH": "74240",
        "BELLATRIX_FORK_EPOCH": "144896",
        "CAPELLA_FORK_EPOCH": "194048",
        "DENEB_FORK_VERSION": "0x04000000",
        "DENEB_FORK_EPOCH": "269568",
        "ELECTRA_FORK_VERSION": "0x05000000",
        "ELECTRA_FORK_EPOCH": "364032",
        "FULU_FORK_VERSION": "0x06000000",
        "FULU_FORK_EPOCH": FAR_FUTURE,
        "MAX_EFFECTIVE_BALANCE_ELECTRA": "2048000000000",
        "DEPOSIT_CONTRACT_ADDRESS": "0x00000000219ab540356cBB839Cbe05303d7705Fa",
        "BLOB_SCHEDULE": [{"EPOCH": "364032", "MAX_BLOBS_PER_BLOCK": "9"}]
    }})
}

fn signed_header(slot: &str) -> Value {
    json!({
        "message": {
            "slot": slot,
            "proposer_index": "1",
            "parent_root": BLOCK_ROOT,
            "state_root": STATE_ROOT,
            "body_root": BLOCK_ROOT
        },
        "signature": format!("0x{}", "1b".repeat(96))
    })
}

fn header_response(id: &str) -> Value {
    let slot = if id == "head" { "12345" } else { id };
    json!({
        "execution_optimistic": false,
        "finalized": false,
        "data": {"root": BLOCK_ROOT, "canonical": true, "header": signed_header(slot)}
    })
}

fn finality() -> Value {
    let cp = |epoch: &str| json!({"epoch": epoch, "root": BLOCK_ROOT});
    json!({
        "execution_optimistic": false,
        "finalized": false,
        "data": {"previous_justified": cp("384"), "current_justified": cp("385"), "finalized": cp("384")}
    })
}

fn validator(index: u64) -> Value {
    json!({
        "index": index.to_string(),
        "balance": "32000000000",
        "status": "active_ongoing",
        "validator": {
            "pubkey": pubkey_hex(index),
            "withdrawal_credentials": format!("0x01{}{POD}", "00".repeat(11)),
            "effective_balance": "32000000000",
            "slashed": false,
            "activation_eligibility_epoch": "0",
            "activation_epoch": "0",
            "exit_epoch": FAR_FUTURE,
            "withdrawable_epoch": FAR_FUTURE
        }
    })
}

fn blob_sidecar(index: u64) -> Value {
    json!({
        "index": index.to_string(),
        "blob": format!("0x{}", format!("{index:02x}").repeat(131_072)),
        "kzg_commitment": format!("0x{}", "a1".repeat(48)),
        "kzg_proof": format!("0x{}", "b2".repeat(48)),
        "signed_block_header": signed_header("12345"),
        "kzg_commitment_inclusion_proof": vec![BLOCK_ROOT; 17]
    })
}

/// What a raw server does after reading a request head.
pub enum Step {
    Write(Vec<u8>),
    Sleep(Duration),
    /// Writes this chunk over and over (at most 10,000 times) until the client goes away.
    WriteUntilClosed(Vec<u8>),
}

/// The request heads a raw server received.
pub type Heads = Arc<Mutex<Vec<String>>>;

/// A TCP server that answers every connection with the steps `script` returns for its request
/// head, then closes the connection.
pub async fn raw_server<F>(script: F) -> (Url, Heads)
where
    F: Fn(&str) -> Vec<Step> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads: Heads = Arc::default();
    let script = Arc::new(script);
    let recorded = Arc::clone(&heads);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            socket.set_nodelay(true).unwrap();
            let script = Arc::clone(&script);
            let recorded = Arc::clone(&recorded);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                recorded.lock().unwrap().push(head.clone());
                for step in script(&head) {
                    match step {
                        Step::Write(bytes) => {
                            if socket.write_all(&bytes).await.is_err() {
                                return;
                            }
                            let _ = socket.flush().await;
                        }
                        Step::Sleep(pause) => tokio::time::sleep(pause).await,
                        Step::WriteUntilClosed(bytes) => {
                            for _ in 0..10_000 {
                                if socket.write_all(&bytes).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    (Url::parse(&format!("http://{addr}/")).unwrap(), heads)
}

/// One chunk of a `Transfer-Encoding: chunked` body.
pub fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// A URL on which nothing listens: connections are refused.
pub async fn refused_url() -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    Url::parse(&format!("http://{addr}/")).unwrap()
}

/// A configuration with test-sized timeouts and pauses.
pub fn fast_config(urls: &[&Url]) -> BeaconClientConfig {
    let mut config = BeaconClientConfig::new(urls.iter().map(|u| (*u).clone()).collect());
    config.connect_timeout = Duration::from_secs(2);
    config.retry = RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        endpoint_cooldown: Duration::from_millis(300),
        max_endpoint_cooldown: Duration::from_secs(1),
    };
    for route in Route::ALL {
        let mut limits = config.limits.get(route);
        limits.timeout = limits.timeout.min(Duration::from_secs(5));
        config.limits.set(route, limits);
    }
    config.event_idle_timeout = Duration::from_secs(5);
    config
}

pub fn client(config: BeaconClientConfig) -> (BeaconClient, Registry) {
    let registry = Registry::new();
    let client = BeaconClient::new(config, &registry).unwrap();
    (client, registry)
}

/// Sets one route's timeout.
pub fn with_timeout(config: &mut BeaconClientConfig, route: Route, timeout: Duration) {
    let mut limits = config.limits.get(route);
    limits.timeout = timeout;
    config.limits.set(route, limits);
}

/// Sets one route's body limit.
pub fn with_max_body(config: &mut BeaconClientConfig, route: Route, max: u64) {
    let mut limits = config.limits.get(route);
    limits.max_body_bytes = max;
    config.limits.set(route, limits);
}
