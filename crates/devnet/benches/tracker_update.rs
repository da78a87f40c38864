//! The tracker's per-epoch update of 10,000 tracked validators, over the devnet's Beacon API:
//! fetching their records (the POST form of the validators endpoint, JSON), comparing them with
//! what it knew (every balance changes at an epoch), and committing the changed records, events
//! and cursor to SQLite. Goal: at most 100 ms per update.
//!
//! Prints each figure as a ratio to its goal. Not a test: timings belong in benchmarks
//! (`scripts/bench-tracker.sh` runs it).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use prometheus::Registry;
use restake_beacon::{
    BeaconClient, BeaconClientConfig,
    tracker::{Tracker, TrackerConfig, UpdateEvery},
};
use restake_devnet::{Devnet, DevnetConfig, Drive};
use restake_types::Slot;
use tokio_util::sync::CancellationToken;

const TRACKED: u64 = 10_000;
const EPOCHS: u64 = 6;
const GOAL: Duration = Duration::from_millis(100);

fn histogram(registry: &Registry, name: &str) -> (f64, u64) {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.get_metric())
        .map(|m| {
            let h = m.get_histogram();
            (h.get_sample_sum(), h.get_sample_count())
        })
        .fold((0.0, 0), |(s, c), (s2, c2)| (s + s2, c + c2))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let validators = std::env::var("RESTAKED_BENCH_TRACKED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(TRACKED);
    let devnet = Devnet::start(
        DevnetConfig {
            validators: validators.max(DevnetConfig::MIN_VALIDATORS),
            drive: Drive::Manual,
            genesis_time: Some(1_700_000_000),
            ..DevnetConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    devnet.advance().await.unwrap();

    let store = tempfile::tempdir().unwrap();
    let registry = Registry::new();
    let client = BeaconClient::new(BeaconClientConfig::new(vec![devnet.url()]), &registry).unwrap();
    let mut config = TrackerConfig::new();
    config.indices = vec![0..=validators - 1];
    config.update_every = UpdateEvery::Epoch;
    let tracker =
        Tracker::new(client, config, &store.path().join("restaked.db"), &registry).unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn({
        let tracker = tracker.clone();
        let shutdown = shutdown.clone();
        async move { tracker.run(shutdown).await }
    });
    let wait_for = |slot: Slot| {
        let tracker = tracker.clone();
        async move {
            let started = Instant::now();
            while tracker.status().updated_slot.is_none_or(|s| s < slot) {
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "no update at slot {slot}"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            started.elapsed()
        }
    };
    // The first update reads the whole set into an empty store: the start-up cost, not the
    // per-epoch one.
    let first = wait_for(Slot(1)).await;
    let (first_sum, first_count) = histogram(&registry, "restaked_tracker_update_duration_seconds");
    assert_eq!(first_count, 1);
    assert_eq!(tracker.validators().len() as u64, validators);

    let mut seen = Vec::new();
    for epoch in 1..=EPOCHS {
        let slot = Slot(epoch * 32);
        devnet.advance_to(slot).await.unwrap();
        seen.push(wait_for(slot).await);
    }
    let (sum, count) = histogram(&registry, "restaked_tracker_update_duration_seconds");
    let updates = count - first_count;
    assert_eq!(updates, EPOCHS, "one update per epoch");
    let mean = Duration::from_secs_f64((sum - first_sum) / updates as f64);
    seen.sort();
    let median_seen = seen[seen.len() / 2];
    shutdown.cancel();
    running.await.unwrap().unwrap();

    println!(
        "tracked validators: {validators}, epochs: {EPOCHS} (every balance changes each epoch)"
    );
    println!(
        "first update (empty store): {:.1} ms from the head until committed (update itself {:.1} ms)",
        first.as_secs_f64() * 1e3,
        first_sum * 1e3
    );
    println!(
        "per-epoch update (fetch + compare + commit): mean {:.1} ms; ratio to the {} ms goal: {:.3} (goal <= 1)",
        mean.as_secs_f64() * 1e3,
        GOAL.as_millis(),
        mean.as_secs_f64() / GOAL.as_secs_f64()
    );
    println!(
        "head produced to update committed, median {:.1} ms (includes the devnet hashing the epoch's last slot and the event stream)",
        median_seen.as_secs_f64() * 1e3
    );
}
