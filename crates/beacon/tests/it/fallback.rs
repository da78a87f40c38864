//! Fallback across endpoints, retries, and endpoint health.

use std::time::{Duration, Instant};

use restake_beacon::{EndpointHealth, Error, Route, StateId};

use crate::support::{MockBeacon, Mode, client, fast_config, refused_url, with_timeout};

fn failing(health: &EndpointHealth) -> u32 {
    match health {
        EndpointHealth::Failing {
            consecutive_failures,
            ..
        } => *consecutive_failures,
        EndpointHealth::Healthy => 0,
    }
}

#[tokio::test]
async fn falls_back_when_the_primary_answers_500() {
    let primary = MockBeacon::start().await;
    let fallback = MockBeacon::start().await;
    primary.set_mode(Mode::Status(500));
    let (client, _) = client(fast_config(&[&primary.url, &fallback.url]));

    let genesis = client.genesis().await.unwrap();
    assert_eq!(genesis.genesis_time, 1_606_824_023);
    assert_eq!((primary.hits(), fallback.hits()), (1, 1));
    let statuses = client.endpoint_statuses();
    assert_eq!(failing(&statuses[0].health), 1);
    match &statuses[0].health {
        EndpointHealth::Failing { last_error, .. } => {
            assert!(last_error.contains("HTTP 500"), "{last_error}");
        }
        EndpointHealth::Healthy => panic!("primary should be failing"),
    }
    assert_eq!(statuses[1].health, EndpointHealth::Healthy);
}

#[tokio::test]
async fn falls_back_when_the_primary_times_out() {
    let primary = MockBeacon::start().await;
    let fallback = MockBeacon::start().await;
    primary.set_mode(Mode::Hang);
    let mut config = fast_config(&[&primary.url, &fallback.url]);
    with_timeout(
        &mut config,
        Route::FinalityCheckpoints,
        Duration::from_millis(300),
    );
    let (client, _) = client(config);

    let started = Instant::now();
    client.finality_checkpoints(StateId::Head).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!((primary.hits(), fallback.hits()), (1, 1));
    match &client.endpoint_statuses()[0].health {
        EndpointHealth::Failing { last_error, .. } => {
            assert!(
                last_error.contains("no complete response within"),
                "{last_error}"
            );
        }
        EndpointHealth::Healthy => panic!("primary should be failing"),
    }
}

#[tokio::test]
async fn falls_back_when_the_primary_refuses_connections() {
    let refused = refused_url().await;
    let fallback = MockBeacon::start().await;
    let (client, _) = client(fast_config(&[&refused, &fallback.url]));

    client.genesis().await.unwrap();
    assert_eq!(fallback.hits(), 1);
    match &client.endpoint_statuses()[0].health {
        EndpointHealth::Failing { last_error, .. } => {
            assert!(last_error.contains("request failed"), "{last_error}");
        }
        EndpointHealth::Healthy => panic!("primary should be failing"),
    }
}

#[tokio::test]
async fn a_404_is_returned_at_once_without_trying_the_fallback() {
    let primary = MockBeacon::start().await;
    let fallback = MockBeacon::start().await;
    primary.set_mode(Mode::Status(404));
    let (client, _) = client(fast_config(&[&primary.url, &fallback.url]));

    let error = client
        .finality_checkpoints(StateId::Slot(99.into()))
        .await
        .unwrap_err();
    assert!(error.is_not_found());
    assert!(
        matches!(error, Error::Status { status: 404, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("mock failure"), "{error}");
    assert_eq!((primary.hits(), fallback.hits()), (1, 0));
    assert_eq!(
        client.endpoint_statuses()[0].health,
        EndpointHealth::Healthy
    );
}

#[tokio::test]
async fn a_400_is_not_retried_either() {
    let node = MockBeacon::start().await;
    node.set_mode(Mode::Status(400));
    let (client, _) = client(fast_config(&[&node.url]));

    let error = client.genesis().await.unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(node.hits(), 1);
}

#[tokio::test]
async fn a_429_is_retried_after_a_backoff() {
    let node = MockBeacon::start().await;
    node.push_once(Mode::Status(429));
    let (client, _) = client(fast_config(&[&node.url]));

    client.genesis().await.unwrap();
    assert_eq!(node.hits(), 2);
    // The endpoint failed once and recovered on the retry.
    assert_eq!(
        client.endpoint_statuses()[0].health,
        EndpointHealth::Healthy
    );
}

#[tokio::test]
async fn retry_after_is_honoured_within_the_policy() {
    let node = MockBeacon::start().await;
    node.push_once(Mode::Throttled(1));
    let mut config = fast_config(&[&node.url]);
    config.retry.max_backoff = Duration::from_secs(2);
    let (patient, _) = client(config);
    let started = Instant::now();
    patient.genesis().await.unwrap();
    assert_eq!(node.hits(), 2);
    // A lower bound only: the pause is at least what the node asked for.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // Beyond the policy's longest backoff, the wait is capped by it (here 40 ms), so a node
    // cannot hold a call hostage; the error still carries what it asked for.
    node.set_mode(Mode::Throttled(3600));
    let (client, _) = client(fast_config(&[&node.url]));
    let error = client.genesis().await.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(error.status(), Some(429));
}

#[tokio::test]
async fn gives_up_after_max_attempts_with_the_last_error() {
    let primary = MockBeacon::start().await;
    let fallback = MockBeacon::start().await;
    primary.set_mode(Mode::Status(503));
    fallback.set_mode(Mode::Status(502));
    let (client, _) = client(fast_config(&[&primary.url, &fallback.url]));

    let error = client.genesis().await.unwrap_err();
    match &error {
        Error::AllAttemptsFailed {
            route,
            attempts,
            last,
        } => {
            assert_eq!(*route, Route::Genesis);
            assert_eq!(*attempts, 4);
            assert_eq!(last.status(), Some(502));
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(
        error.to_string().contains("#1 http://127.0.0.1:"),
        "{error}"
    );
    assert_eq!((primary.hits(), fallback.hits()), (2, 2));
    let statuses = client.endpoint_statuses();
    assert_eq!(failing(&statuses[0].health), 2);
    assert_eq!(failing(&statuses[1].health), 2);
    assert!(!client.any_endpoint_healthy());
}

#[tokio::test]
async fn a_failing_primary_is_skipped_while_cooling_down_then_preferred_again() {
    let primary = MockBeacon::start().await;
    let fallback = MockBeacon::start().await;
    primary.set_mode(Mode::Status(500));
    let mut config = fast_config(&[&primary.url, &fallback.url]);
    // Long enough that the second call surely falls within it, even on a loaded machine.
    config.retry.endpoint_cooldown = Duration::from_secs(1);
    let (client, _) = client(config);

    client.genesis().await.unwrap();
    assert_eq!((primary.hits(), fallback.hits()), (1, 1));

    // Within the cooldown the fallback goes first; the primary is not asked.
    primary.set_mode(Mode::Normal);
    client.genesis().await.unwrap();
    assert_eq!((primary.hits(), fallback.hits()), (1, 2));
    assert_eq!(failing(&client.endpoint_statuses()[0].health), 1);

    // After it, the primary is tried first again and recovers.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.genesis().await.unwrap();
    assert_eq!((primary.hits(), fallback.hits()), (2, 2));
    assert_eq!(
        client.endpoint_statuses()[0].health,
        EndpointHealth::Healthy
    );
    assert!(client.any_endpoint_healthy());
}
