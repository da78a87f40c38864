//! POSTing signed reports to aggregators, with retries.

use std::time::Duration;

use url::Url;

use restake_beacon::redact_url;

/// Attempts per aggregator and report.
pub(crate) const ATTEMPTS: u32 = 3;

/// Longest wait for one attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Wait before the second attempt; doubled before each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// POSTs `body` (a signed report's JSON) to `url` until it answers 2xx, at most [`ATTEMPTS`]
/// times with a doubling backoff. The error names the URL's host only (URLs may carry keys).
pub(crate) async fn post_with_retry(
    client: &reqwest::Client,
    url: &Url,
    body: &[u8],
) -> Result<(), String> {
    let mut backoff = FIRST_BACKOFF;
    let mut last_error = String::new();
    for attempt in 1..=ATTEMPTS {
        if attempt > 1 {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
        let request = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .send();
        last_error = match tokio::time::timeout(ATTEMPT_TIMEOUT, request).await {
            Ok(Ok(response)) if response.status().is_success() => return Ok(()),
            Ok(Ok(response)) => format!("HTTP status {}", response.status().as_u16()),
            Ok(Err(e)) if e.is_connect() => "cannot connect".to_owned(),
            Ok(Err(_)) => "the request failed".to_owned(),
            Err(_) => format!("no answer within {ATTEMPT_TIMEOUT:?}"),
        };
        tracing::debug!(
            aggregator = redact_url(url),
            attempt,
            error = last_error,
            "posting an oracle report failed"
        );
    }
    Err(format!(
        "{}: {last_error} (after {ATTEMPTS} attempts)",
        redact_url(url)
    ))
}
