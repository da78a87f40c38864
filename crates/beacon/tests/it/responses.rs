//! Oversized, truncated, malformed and wrong-fork responses: errors with context, never panics.

use std::time::{Duration, Instant};

use restake_beacon::{BlockId, EndpointHealth, Error, Route, StateId};

use crate::support::{
    MockBeacon, Mode, Step, chunk, client, fast_config, raw_server, with_max_body,
};

/// The error of the only attempt when a single attempt is allowed.
fn only_attempt(error: Error) -> Error {
    match error {
        Error::AllAttemptsFailed {
            attempts: 1, last, ..
        } => *last,
        other => other,
    }
}

#[tokio::test]
async fn a_declared_oversized_body_is_refused_before_reading_and_not_retried() {
    let primary = MockBeacon::start().await;
    let fallback = MockBeacon::start().await;
    primary.set_state_bytes(64 << 10);
    let mut config = fast_config(&[&primary.url, &fallback.url]);
    with_max_body(&mut config, Route::StateSsz, 16 << 10);
    let (client, _) = client(config);

    let error = client.state_ssz(StateId::Head).await.unwrap_err();
    match &error {
        Error::TooLarge {
            route, limit, seen, ..
        } => {
            assert_eq!(*route, Route::StateSsz);
            assert_eq!(*limit, 16 << 10);
            assert_eq!(*seen, 64 << 10);
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(
        error.to_string().contains("exceeds this route's limit"),
        "{error}"
    );
    // The same state would be as large elsewhere; the endpoint itself is fine.
    assert_eq!((primary.hits(), fallback.hits()), (1, 0));
    assert_eq!(
        client.endpoint_statuses()[0].health,
        EndpointHealth::Healthy
    );
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_off_at_the_limit() {
    let (url, _) = raw_server(|_| {
        vec![
            Step::Write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                    .to_vec(),
            ),
            Step::WriteUntilClosed(chunk(&[b' '; 16 << 10])),
        ]
    })
    .await;
    let mut config = fast_config(&[&url]);
    with_max_body(&mut config, Route::Genesis, 64 << 10);
    let (client, _) = client(config);

    let started = Instant::now();
    let error = client.genesis().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match error {
        Error::TooLarge { limit, seen, .. } => {
            assert_eq!(limit, 64 << 10);
            assert!(seen > limit && seen <= limit + (16 << 10), "seen {seen}");
        }
        other => panic!("unexpected error {other}"),
    }
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_truncated() {
    let (url, _) = raw_server(|_| {
        vec![Step::Write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"data\":{\"genesis_time\":"
                .to_vec(),
        )]
    })
    .await;
    let mut config = fast_config(&[&url]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);

    let error = only_attempt(client.genesis().await.unwrap_err());
    match &error {
        Error::Truncated { received, .. } => assert_eq!(*received, 24),
        other => panic!("unexpected error {other}"),
    }
    assert!(
        error.to_string().contains("broke off after 24 bytes"),
        "{error}"
    );
}

#[tokio::test]
async fn truncated_json_is_malformed_with_the_parser_reason() {
    let node = MockBeacon::start().await;
    node.set_mode(Mode::Raw {
        content_type: "application/json",
        fork: None,
        body: br#"{"data":{"genesis_time":"1606824023","genesis_valid"#.to_vec(),
    });
    let mut config = fast_config(&[&node.url]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);

    match only_attempt(client.genesis().await.unwrap_err()) {
        Error::Malformed {
            route,
            reason,
            excerpt,
            ..
        } => {
            assert_eq!(route, Route::Genesis);
            assert!(reason.contains("EOF"), "{reason}");
            assert!(excerpt.starts_with(r#"{"data""#), "{excerpt}");
        }
        other => panic!("unexpected error {other}"),
    }
}

#[tokio::test]
async fn garbage_is_malformed_with_a_short_excerpt() {
    let node = MockBeacon::start().await;
    node.set_mode(Mode::Raw {
        content_type: "application/json",
        fork: None,
        body: "<html>502 Bad Gateway".repeat(500).into_bytes(),
    });
    let mut config = fast_config(&[&node.url]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);

    let error = only_attempt(client.genesis().await.unwrap_err());
    match &error {
        Error::Malformed { excerpt, .. } => {
            assert!(excerpt.starts_with("<html>502"));
            assert!(excerpt.len() <= 204, "excerpt of {} bytes", excerpt.len());
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(error.to_string().len() < 400);
}

#[tokio::test]
async fn values_of_the_wrong_shape_are_malformed() {
    let node = MockBeacon::start().await;
    node.set_mode(Mode::Raw {
        content_type: "application/json",
        fork: None,
        body: br#"{"data":{"genesis_time":"-5","genesis_validators_root":"0x00","genesis_fork_version":"0x00000000"}}"#
            .to_vec(),
    });
    let mut config = fast_config(&[&node.url]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);

    let error = only_attempt(client.genesis().await.unwrap_err());
    assert!(matches!(error, Error::Malformed { .. }), "{error}");
    assert!(
        error.to_string().contains("not a decimal integer"),
        "{error}"
    );
}

#[tokio::test]
async fn garbage_from_the_primary_falls_back_to_the_next_endpoint() {
    let primary = MockBeacon::start().await;
    let fallback = MockBeacon::start().await;
    primary.set_mode(Mode::Raw {
        content_type: "application/json",
        fork: None,
        body: b"not json".to_vec(),
    });
    let (client, _) = client(fast_config(&[&primary.url, &fallback.url]));

    client.genesis().await.unwrap();
    assert_eq!((primary.hits(), fallback.hits()), (1, 1));
    assert!(matches!(
        client.endpoint_statuses()[0].health,
        EndpointHealth::Failing { .. }
    ));
}

#[tokio::test]
async fn ssz_of_an_unknown_fork_is_rejected() {
    let node = MockBeacon::start().await;
    node.set_mode(Mode::Raw {
        content_type: "application/octet-stream",
        fork: Some("gloas"),
        body: vec![1, 2, 3],
    });
    let mut config = fast_config(&[&node.url]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);

    match only_attempt(client.state_ssz(StateId::Head).await.unwrap_err()) {
        Error::UnknownFork { value, route, .. } => {
            assert_eq!(value, "gloas");
            assert_eq!(route, Route::StateSsz);
        }
        other => panic!("unexpected error {other}"),
    }
}

#[tokio::test]
async fn ssz_without_a_fork_header_is_rejected() {
    let node = MockBeacon::start().await;
    node.set_mode(Mode::Raw {
        content_type: "application/octet-stream",
        fork: None,
        body: vec![1, 2, 3],
    });
    let mut config = fast_config(&[&node.url]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);

    let error = only_attempt(client.block_ssz(BlockId::Head).await.unwrap_err());
    assert!(
        matches!(error, Error::MissingConsensusVersion { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn json_where_ssz_was_asked_for_is_rejected() {
    let node = MockBeacon::start().await;
    node.set_mode(Mode::Raw {
        content_type: "application/json; charset=utf-8",
        fork: Some("electra"),
        body: br#"{"version":"electra","data":{}}"#.to_vec(),
    });
    let mut config = fast_config(&[&node.url]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);

    match only_attempt(client.state_ssz(StateId::Head).await.unwrap_err()) {
        Error::UnexpectedContentType {
            expected, actual, ..
        } => {
            assert_eq!(expected, "application/octet-stream");
            assert_eq!(actual, "application/json; charset=utf-8");
        }
        other => panic!("unexpected error {other}"),
    }
}

#[tokio::test]
async fn an_empty_ssz_body_is_malformed() {
    let node = MockBeacon::start().await;
    node.set_mode(Mode::Raw {
        content_type: "application/octet-stream",
        fork: Some("deneb"),
        body: Vec::new(),
    });
    let mut config = fast_config(&[&node.url]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);

    let error = only_attempt(client.block_ssz(BlockId::Head).await.unwrap_err());
    assert!(matches!(error, Error::Malformed { .. }), "{error}");
}
