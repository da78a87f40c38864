//! The tracker against a beacon node that misbehaves: a proxy in front of the devnet drops the
//! event stream, answers garbage, or goes away entirely. The tracker polls, degrades, keeps
//! what it had, never panics, and recovers when the node does.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use restake_beacon::{
    Url,
    tracker::{Phase, TrackerConfig, UpdateEvery},
};
use restake_types::Slot;

use crate::{
    support::{manual_config, start},
    tracker::Running,
};

/// Everything passes.
const PASS: u8 = 0;
/// The event stream answers 503; everything else passes.
const NO_EVENTS: u8 = 1;
/// The event stream is down and the validators endpoint answers a truncated JSON body.
const GARBAGE: u8 = 2;
/// Every request answers 503.
const DOWN: u8 = 3;

#[derive(Clone)]
struct Proxy {
    upstream: Url,
    mode: Arc<AtomicU8>,
    http: reqwest::Client,
}

async fn forward(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mode = proxy.mode.load(Ordering::SeqCst);
    let path = uri.path();
    let unavailable = || (StatusCode::SERVICE_UNAVAILABLE, "proxy: unavailable").into_response();
    if mode == DOWN || (mode != PASS && path == "/eth/v1/events") {
        return unavailable();
    }
    if mode == GARBAGE && path.ends_with("/validators") {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"data\": [{\"index\": \"1\", \"bal",
        )
            .into_response();
    }
    let url = proxy
        .upstream
        .join(&uri.to_string()[1..])
        .expect("a path of the devnet");
    let mut request = proxy.http.request(method, url).body(body);
    for name in [header::ACCEPT, header::CONTENT_TYPE] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    let Ok(response) = request.send().await else {
        return unavailable();
    };
    let mut out = Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        out = out.header(name.as_str(), value.as_bytes());
    }
    // Streams the body, so the event stream passes through as it comes.
    let chunks = futures_util::stream::unfold(response, |mut response| async move {
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, reqwest::Error>(chunk), response)),
            Ok(None) | Err(_) => None,
        }
    });
    out.body(Body::from_stream(chunks)).unwrap()
}

async fn proxy(upstream: Url) -> (Url, Arc<AtomicU8>) {
    let mode = Arc::new(AtomicU8::new(PASS));
    let state = Proxy {
        upstream,
        mode: mode.clone(),
        http: reqwest::Client::new(),
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, Router::new().fallback(forward).with_state(state))
            .await
            .unwrap();
    });
    (Url::parse(&format!("http://{addr}/")).unwrap(), mode)
}

async fn wait_phase(running: &Running, phase: Phase) {
    for _ in 0..400 {
        if running.tracker.status().phase == phase {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the tracker never reached {phase:?}: {:?}",
        running.tracker.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracker_polls_degrades_and_recovers() {
    let net = start(manual_config()).await;
    let scenario = net.devnet.scenario().clone();
    net.devnet.advance_to(Slot(1)).await.unwrap();
    let (url, mode) = proxy(net.devnet.url()).await;
    mode.store(NO_EVENTS, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let mut config = TrackerConfig::new();
    config.pods = vec![scenario.pod];
    config.update_every = UpdateEvery::Slot;
    config.poll_interval = Some(Duration::from_millis(100));
    config.resubscribe_after = Duration::from_millis(500);
    let running = Running::start(vec![url], config, &dir.path().join("restaked.db"));

    // No event stream: the tracker polls the head and still follows the chain.
    running.updated_to(Slot(1)).await;
    assert_eq!(running.tracker.status().phase, Phase::Polling);
    net.devnet.advance_to(Slot(3)).await.unwrap();
    running.updated_to(Slot(3)).await;
    let tracked = running.tracker.validators();
    assert!(!tracked.is_empty());

    // Garbage for the validators: nothing is updated, nothing is lost, nothing panics.
    mode.store(GARBAGE, Ordering::SeqCst);
    net.devnet.advance_to(Slot(5)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(running.tracker.status().updated_slot, Some(Slot(3)));
    assert_eq!(running.tracker.validators(), tracked);
    assert!(
        running.metric(
            "restaked_beacon_requests_total",
            Some(("outcome", "invalid_response"))
        ) > 0.0
    );

    // The node goes away: still no panic, still the same set.
    mode.store(DOWN, Ordering::SeqCst);
    net.devnet.advance_to(Slot(6)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!running.task.is_finished(), "the tracker stopped");
    assert_eq!(running.tracker.validators(), tracked);

    // It comes back with its event stream: the tracker catches up and follows the stream.
    mode.store(PASS, Ordering::SeqCst);
    running.updated_to(Slot(6)).await;
    wait_phase(&running, Phase::Following).await;
    net.devnet.advance_to(Slot(8)).await.unwrap();
    running.updated_to(Slot(8)).await;
    running.stop().await;
}
