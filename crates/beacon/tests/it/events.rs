//! The event stream over real (chunked) HTTP responses.

use std::time::Duration;

use restake_beacon::{BeaconEvent, EndpointHealth, Error, EventTopic, Route};
use restake_types::{Epoch, Slot};

use crate::support::{
    BLOCK_ROOT, STATE_ROOT, Step, chunk, client, fast_config, raw_server, refused_url,
    with_max_body,
};

const HEAD_OK: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";

fn head_data(slot: u64) -> String {
    format!(
        r#"{{"slot":"{slot}","block":"{BLOCK_ROOT}","state":"{STATE_ROOT}","epoch_transition":false,"previous_duty_dependent_root":"{BLOCK_ROOT}","current_duty_dependent_root":"{BLOCK_ROOT}","execution_optimistic":false}}"#
    )
}

fn finalized_data() -> String {
    format!(
        r#"{{"block":"{BLOCK_ROOT}","state":"{STATE_ROOT}","epoch":"2","execution_optimistic":false}}"#
    )
}

fn reorg_data() -> String {
    format!(
        r#"{{"slot":"200","depth":"50","old_head_block":"{BLOCK_ROOT}","new_head_block":"{BLOCK_ROOT}","old_head_state":"{STATE_ROOT}","new_head_state":"{STATE_ROOT}","epoch":"6","execution_optimistic":false}}"#
    )
}

/// `text` cut into pieces at the given byte offsets, each sent as its own chunk after a pause.
fn pieces(text: &[u8], cuts: &[usize]) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&text.len())) {
        steps.push(Step::Write(chunk(&text[start..cut])));
        steps.push(Step::Sleep(Duration::from_millis(15)));
        start = cut;
    }
    steps
}

#[tokio::test]
async fn events_split_across_chunks_with_crlf_and_comments_are_parsed_in_order() {
    let stream = format!(
        ": welcome\r\n\r\nevent: head\r\ndata: {}\r\n\r\nevent: block\ndata: {{\"slot\":\"1\"}}\n\n:keep-alive\nevent: finalized_checkpoint\ndata: {}\n\nevent: chain_reorg\rdata: {}\r\r",
        head_data(10),
        finalized_data(),
        reorg_data()
    );
    let bytes = stream.clone().into_bytes();
    // Cut inside `event:`, between CR and LF, inside the JSON, and inside a lone-CR ending.
    let cr_lf = stream.find("\r\n\r\nevent: head").unwrap() + 1;
    let cuts = vec![
        3,
        cr_lf,
        cr_lf + 30,
        stream.find("epoch_transition").unwrap(),
        bytes.len() - 1,
    ];
    let (url, heads) = raw_server(move |_| {
        let mut steps = vec![Step::Write(HEAD_OK.to_vec())];
        steps.extend(pieces(&bytes, &cuts));
        steps.push(Step::Write(b"0\r\n\r\n".to_vec()));
        steps
    })
    .await;
    let (client, _) = client(fast_config(&[&url]));

    let mut events = client.events(&EventTopic::ALL).await.unwrap();
    assert!(events.endpoint().starts_with("#0 http://127.0.0.1:"));
    match events.next().await.unwrap() {
        Some(BeaconEvent::Head(head)) => {
            assert_eq!(head.slot, Slot(10));
            assert_eq!(head.block, BLOCK_ROOT.parse().unwrap());
            assert!(!head.epoch_transition);
        }
        other => panic!("expected a head event, got {other:?}"),
    }
    // The `block` event in between is of a type the client does not know: skipped.
    match events.next().await.unwrap() {
        Some(BeaconEvent::FinalizedCheckpoint(finalized)) => {
            assert_eq!(finalized.epoch, Epoch(2));
        }
        other => panic!("expected a finalized checkpoint, got {other:?}"),
    }
    match events.next().await.unwrap() {
        Some(BeaconEvent::ChainReorg(reorg)) => {
            assert_eq!(reorg.depth, 50);
            assert_eq!(reorg.slot, Slot(200));
        }
        other => panic!("expected a reorg, got {other:?}"),
    }
    assert_eq!(events.next().await.unwrap(), None);
    assert_eq!(events.next().await.unwrap(), None);

    let head = heads.lock().unwrap()[0].clone();
    assert!(
        head.starts_with(
            "GET /eth/v1/events?topics=head&topics=finalized_checkpoint&topics=chain_reorg HTTP/1.1"
        ),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("accept: text/event-stream"),
        "{head}"
    );
}

#[tokio::test]
async fn a_malformed_event_is_an_error_and_the_stream_goes_on() {
    let body = format!(
        "event: head\ndata: {{\"slot\":\"ten\"}}\n\nevent: head\ndata: {}\n\n",
        head_data(11)
    );
    let (url, _) = raw_server(move |_| {
        vec![
            Step::Write(HEAD_OK.to_vec()),
            Step::Write(chunk(body.as_bytes())),
            Step::Write(b"0\r\n\r\n".to_vec()),
        ]
    })
    .await;
    let (client, _) = client(fast_config(&[&url]));

    let mut events = client.events(&[EventTopic::Head]).await.unwrap();
    match events.next().await.unwrap_err() {
        Error::Malformed {
            route,
            reason,
            excerpt,
            ..
        } => {
            assert_eq!(route, Route::Events);
            assert!(reason.starts_with("head event"), "{reason}");
            assert!(excerpt.contains("ten"), "{excerpt}");
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(
        matches!(events.next().await.unwrap(), Some(BeaconEvent::Head(h)) if h.slot == Slot(11))
    );
}

#[tokio::test]
async fn a_silent_stream_times_out_and_counts_against_the_endpoint() {
    let (url, _) = raw_server(|_| {
        vec![
            Step::Write(HEAD_OK.to_vec()),
            Step::Write(chunk(b": hello\n\n")),
            Step::Sleep(Duration::from_secs(30)),
        ]
    })
    .await;
    let mut config = fast_config(&[&url]);
    config.event_idle_timeout = Duration::from_millis(300);
    let (client, _) = client(config);

    let mut events = client.events(&[EventTopic::Head]).await.unwrap();
    let error = events.next().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                route: Route::Events,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(events.next().await.unwrap(), None);
    assert!(matches!(
        client.endpoint_statuses()[0].health,
        EndpointHealth::Failing { .. }
    ));
}

#[tokio::test]
async fn an_oversized_event_breaks_the_stream() {
    let (url, _) = raw_server(|_| {
        vec![
            Step::Write(HEAD_OK.to_vec()),
            Step::Write(chunk(b"event: head\ndata: ")),
            Step::WriteUntilClosed(chunk(&[b'x'; 4096])),
        ]
    })
    .await;
    let mut config = fast_config(&[&url]);
    with_max_body(&mut config, Route::Events, 64 << 10);
    let (client, _) = client(config);

    let mut events = client.events(&[EventTopic::Head]).await.unwrap();
    let error = events.next().await.unwrap_err();
    assert!(
        matches!(error, Error::TooLarge { limit, .. } if limit == 64 << 10),
        "{error}"
    );
    assert_eq!(events.next().await.unwrap(), None);
}

#[tokio::test]
async fn subscribing_falls_back_from_a_refused_endpoint_and_rejects_non_sse_answers() {
    let refused = refused_url().await;
    let body = format!("event: head\ndata: {}\n\n", head_data(5));
    let (good, _) = raw_server(move |_| {
        vec![
            Step::Write(HEAD_OK.to_vec()),
            Step::Write(chunk(body.as_bytes())),
            Step::Write(b"0\r\n\r\n".to_vec()),
        ]
    })
    .await;
    let (fallback_client, _) = client(fast_config(&[&refused, &good]));
    let mut events = fallback_client.events(&[EventTopic::Head]).await.unwrap();
    assert!(events.endpoint().starts_with("#1 "));
    assert!(
        matches!(events.next().await.unwrap(), Some(BeaconEvent::Head(h)) if h.slot == Slot(5))
    );

    let (json, _) = raw_server(|_| {
        vec![Step::Write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
                .to_vec(),
        )]
    })
    .await;
    let mut config = fast_config(&[&json]);
    config.retry.max_attempts = 1;
    let (client, _) = client(config);
    let error = client.events(&[EventTopic::Head]).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("expected content type text/event-stream"),
        "{error}"
    );
}
