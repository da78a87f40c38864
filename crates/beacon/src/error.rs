//! The crate's error type.

use std::time::Duration;

use crate::{config::Route, types::ForkName};

/// The longest body excerpt an error carries.
pub(crate) const EXCERPT_BYTES: usize = 200;

/// Why a Beacon API call failed.
///
/// Every variant about a response names the endpoint (`#index scheme://host:port`, never
/// credentials, paths or queries) and the route template (never the ids of the request).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work; every problem found is listed.
    #[error("invalid beacon client configuration: {}", problems.join("; "))]
    InvalidConfig {
        /// One sentence per problem.
        problems: Vec<String>,
    },
    /// The metrics could not be registered (for example, twice in one registry).
    #[error("registering beacon client metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The node answered with a non-success status.
    #[error("{endpoint} {route}: HTTP {status}: {body:?}")]
    Status {
        /// The endpoint.
        endpoint: String,
        /// The route.
        route: Route,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body (the API's error message, usually).
        body: String,
        /// `Retry-After` of a 429 or 503, in its delay-seconds form: the client waits at least
        /// this long (up to [`RetryPolicy::max_backoff`](crate::RetryPolicy::max_backoff))
        /// before trying the endpoints again.
        retry_after: Option<Duration>,
    },
    /// The attempt did not complete in time.
    #[error("{endpoint} {route}: no complete response within {after:?}")]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// The route.
        route: Route,
        /// The limit that ran out.
        after: Duration,
    },
    /// The request could not be sent (refused, reset, DNS, TLS).
    #[error("{endpoint} {route}: request failed: {detail}")]
    Connection {
        /// The endpoint.
        endpoint: String,
        /// The route.
        route: Route,
        /// The transport error and its causes.
        detail: String,
    },
    /// The body broke off before it was complete.
    #[error("{endpoint} {route}: response body broke off after {received} bytes: {detail}")]
    Truncated {
        /// The endpoint.
        endpoint: String,
        /// The route.
        route: Route,
        /// Bytes received before the break.
        received: u64,
        /// The transport error and its causes.
        detail: String,
    },
    /// The body is larger than the route's limit; reading stopped there.
    #[error(
        "{endpoint} {route}: response of at least {seen} bytes exceeds this route's limit of {limit} bytes"
    )]
    TooLarge {
        /// The endpoint.
        endpoint: String,
        /// The route.
        route: Route,
        /// The configured limit.
        limit: u64,
        /// The size announced (`Content-Length`) or read so far when reading stopped.
        seen: u64,
    },
    /// The node answered in another format than asked (for example JSON instead of SSZ).
    #[error("{endpoint} {route}: expected content type {expected}, got {actual:?}")]
    UnexpectedContentType {
        /// The endpoint.
        endpoint: String,
        /// The route.
        route: Route,
        /// The content type asked for.
        expected: &'static str,
        /// The content type received.
        actual: String,
    },
    /// The body is not what the API specifies (bad JSON, wrong shape, empty SSZ).
    #[error("{endpoint} {route}: malformed response: {reason}; body starts {excerpt:?}")]
    Malformed {
        /// The endpoint.
        endpoint: String,
        /// The route.
        route: Route,
        /// What is wrong.
        reason: String,
        /// The start of the body, at most about 200 bytes.
        excerpt: String,
    },
    /// An SSZ response without the `Eth-Consensus-Version` header that says how to decode it.
    #[error("{endpoint} {route}: SSZ response without an Eth-Consensus-Version header")]
    MissingConsensusVersion {
        /// The endpoint.
        endpoint: String,
        /// The route.
        route: Route,
    },
    /// An SSZ response of a fork this client cannot decode.
    #[error("{endpoint} {route}: unsupported fork {value:?} in Eth-Consensus-Version")]
    UnknownFork {
        /// The endpoint.
        endpoint: String,
        /// The route.
        route: Route,
        /// The header's value (at most 40 characters of it).
        value: String,
    },
    /// Every attempt failed in a way worth retrying; `last` is the final one.
    #[error("{route}: {attempts} attempt(s) failed; last: {last}")]
    AllAttemptsFailed {
        /// The route.
        route: Route,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<Error>,
    },
    /// SSZ bytes did not decode as the named fork's container: truncated, garbage, or another
    /// fork's container.
    #[error("decoding {len} bytes as a {fork} {container}: {reason}")]
    SszDecode {
        /// The fork whose container was expected.
        fork: ForkName,
        /// The container, e.g. `BeaconState`.
        container: &'static str,
        /// The number of bytes given.
        len: usize,
        /// What the SSZ decoder reported (with the byte offset where it has one).
        reason: String,
    },
    /// The container is not implemented for this fork (only Deneb and later are).
    #[error("{container} of fork {fork} is not supported (Deneb and later are)")]
    UnsupportedFork {
        /// The fork named by the node.
        fork: ForkName,
        /// The container, e.g. `BeaconState`.
        container: &'static str,
    },
}

impl Error {
    /// The `Retry-After` delay the node asked for, if any (see [`Error::Status`]); looks
    /// through [`Error::AllAttemptsFailed`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            Self::AllAttemptsFailed { last, .. } => last.retry_after(),
            _ => None,
        }
    }

    /// The HTTP status the node answered with, if the (last) failure was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::AllAttemptsFailed { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Whether the node said the requested object does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The route of the failed call, if it got as far as choosing one.
    pub fn route(&self) -> Option<Route> {
        match self {
            Self::InvalidConfig { .. }
            | Self::Metrics(_)
            | Self::SszDecode { .. }
            | Self::UnsupportedFork { .. } => None,
            Self::Status { route, .. }
            | Self::Timeout { route, .. }
            | Self::Connection { route, .. }
            | Self::Truncated { route, .. }
            | Self::TooLarge { route, .. }
            | Self::UnexpectedContentType { route, .. }
            | Self::Malformed { route, .. }
            | Self::MissingConsensusVersion { route, .. }
            | Self::UnknownFork { route, .. }
            | Self::AllAttemptsFailed { route, .. } => Some(*route),
        }
    }

    /// The `outcome` metric label of this error.
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            Self::Status { status: 404, .. } => "not_found",
            Self::Status { status: 429, .. } => "rate_limited",
            Self::Status { status, .. } if *status >= 500 => "server_error",
            Self::Status { .. } => "client_error",
            Self::Timeout { .. } => "timeout",
            Self::Connection { .. } => "connection_error",
            Self::Truncated { .. } => "truncated",
            Self::TooLarge { .. } => "too_large",
            Self::UnexpectedContentType { .. }
            | Self::Malformed { .. }
            | Self::MissingConsensusVersion { .. }
            | Self::UnknownFork { .. }
            | Self::SszDecode { .. }
            | Self::UnsupportedFork { .. } => "invalid_response",
            Self::InvalidConfig { .. } | Self::Metrics(_) | Self::AllAttemptsFailed { .. } => {
                "client_error"
            }
        }
    }

    /// Whether another attempt (at this or another endpoint) may succeed. A client error other
    /// than 429 would be refused again, and a body over the limit would be as large elsewhere.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Timeout { .. }
            | Self::Connection { .. }
            | Self::Truncated { .. }
            | Self::UnexpectedContentType { .. }
            | Self::Malformed { .. }
            | Self::MissingConsensusVersion { .. }
            | Self::UnknownFork { .. } => true,
            // Decoding happens after the call, in the caller's hands.
            Self::TooLarge { .. }
            | Self::SszDecode { .. }
            | Self::UnsupportedFork { .. }
            | Self::InvalidConfig { .. }
            | Self::Metrics(_)
            | Self::AllAttemptsFailed { .. } => false,
        }
    }
}

/// The start of a body for an error message: at most [`EXCERPT_BYTES`] bytes, cut at a character
/// boundary, invalid UTF-8 replaced.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_BYTES)];
    let mut text = String::from_utf8_lossy(head).into_owned();
    if head.len() < body.len() {
        // A multi-byte character cut in half shows as U+FFFD; drop it rather than mislead.
        if text.ends_with('\u{FFFD}') {
            text.pop();
        }
        text.push('…');
    }
    text
}

/// An error and its causes on one line: `a: b: c`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_capped_and_marked() {
        assert_eq!(excerpt(b"short"), "short");
        let long = "é".repeat(300);
        let cut = excerpt(long.as_bytes());
        assert!(cut.len() <= EXCERPT_BYTES + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert!(!cut.contains('\u{FFFD}'));
    }

    #[test]
    fn retry_classes() {
        let status = |status| Error::Status {
            endpoint: "#0".into(),
            route: Route::Genesis,
            status,
            body: String::new(),
            retry_after: None,
        };
        assert!(!status(404).is_retryable());
        assert!(!status(400).is_retryable());
        assert!(status(429).is_retryable());
        assert!(status(503).is_retryable());
        assert!(status(404).is_not_found());
        let wrapped = Error::AllAttemptsFailed {
            route: Route::Genesis,
            attempts: 2,
            last: Box::new(status(503)),
        };
        assert_eq!(wrapped.status(), Some(503));
        assert_eq!(wrapped.route(), Some(Route::Genesis));
        assert_eq!(status(503).outcome(), "server_error");
        assert_eq!(status(429).outcome(), "rate_limited");
    }
}
