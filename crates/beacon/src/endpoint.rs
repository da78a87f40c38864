//! Configured endpoints, their health, and the order in which a call tries them.

use std::time::{Duration, Instant, SystemTime};

use reqwest::Url;

use crate::config::RetryPolicy;

/// `scheme://host[:port]` of a URL: no user, password, path or query, any of which may hold a
/// secret (providers put API keys in paths and queries). Every crate that logs or shows an
/// endpoint URL uses this one.
pub fn redact_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// One configured beacon endpoint.
pub(crate) struct Endpoint {
    /// The base URL, credentials and all: never printed.
    base: Url,
    /// The metrics label: the configured index.
    pub(crate) label: String,
    /// `#index scheme://host:port`, for logs and errors.
    pub(crate) name: String,
    /// `scheme://host:port`.
    pub(crate) redacted: String,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The base URL may hold credentials or an API key: show the redacted name only.
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .finish()
    }
}

impl Endpoint {
    pub(crate) fn new(index: usize, base: Url) -> Self {
        let redacted = redact_url(&base);
        Self {
            label: index.to_string(),
            name: format!("#{index} {redacted}"),
            redacted,
            base,
        }
    }

    /// The URL of `path` (segments, percent-encoded as needed) with `query` under this base.
    pub(crate) fn url(&self, path: &[String], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            // Validated http(s) URLs always have a path to extend.
            segments.pop_if_empty().extend(path);
        }
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        url
    }
}

/// How an endpoint has been doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointHealth {
    /// Its last attempt succeeded (or it has not been tried yet).
    Healthy,
    /// Its recent attempts failed.
    Failing {
        /// When the first failure of the current run happened.
        since: SystemTime,
        /// Failures in a row.
        consecutive_failures: u32,
        /// The last failure, for operators (redacted like every error of this crate).
        last_error: String,
    },
}

/// An endpoint and its health, as [`crate::BeaconClient::endpoint_statuses`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointStatus {
    /// Its position in the configuration (0 is the primary); also its metrics label.
    pub index: usize,
    /// `scheme://host:port`, without credentials, path or query.
    pub url: String,
    /// Its health.
    pub health: EndpointHealth,
}

/// Mutable health state of one endpoint.
#[derive(Debug, Default)]
pub(crate) struct HealthState {
    failing_since: Option<SystemTime>,
    last_failure: Option<Instant>,
    consecutive_failures: u32,
    last_error: String,
}

/// What a recorded outcome changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    None,
    BecameFailing,
    Recovered { after_failures: u32 },
}

impl HealthState {
    pub(crate) fn record_success(&mut self) -> Transition {
        let was = self.consecutive_failures;
        *self = Self::default();
        if was > 0 {
            Transition::Recovered {
                after_failures: was,
            }
        } else {
            Transition::None
        }
    }

    pub(crate) fn record_failure(&mut self, error: String) -> Transition {
        let became = self.consecutive_failures == 0;
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.failing_since.get_or_insert_with(SystemTime::now);
        self.last_failure = Some(Instant::now());
        self.last_error = error;
        if became {
            Transition::BecameFailing
        } else {
            Transition::None
        }
    }

    pub(crate) fn is_healthy(&self) -> bool {
        self.consecutive_failures == 0
    }

    pub(crate) fn health(&self) -> EndpointHealth {
        match self.failing_since {
            Some(since) if self.consecutive_failures > 0 => EndpointHealth::Failing {
                since,
                consecutive_failures: self.consecutive_failures,
                last_error: self.last_error.clone(),
            },
            _ => EndpointHealth::Healthy,
        }
    }

    /// When a failing endpoint is tried before the others again.
    fn cooled_down_at(&self, policy: &RetryPolicy) -> Option<Instant> {
        let last = self.last_failure?;
        if self.consecutive_failures == 0 {
            return None;
        }
        let doublings = self.consecutive_failures.saturating_sub(1).min(20);
        let cooldown = policy
            .endpoint_cooldown
            .saturating_mul(1u32 << doublings)
            .min(policy.max_endpoint_cooldown);
        Some(last + cooldown)
    }
}

/// The order a call tries endpoints in: healthy ones and failing ones whose cooldown is over, in
/// configured order; then the others, the soonest to cool down first.
pub(crate) fn attempt_order(
    states: &[HealthState],
    policy: &RetryPolicy,
    now: Instant,
) -> Vec<usize> {
    let mut ready = Vec::with_capacity(states.len());
    let mut cooling: Vec<(Instant, usize)> = Vec::new();
    for (index, state) in states.iter().enumerate() {
        match state.cooled_down_at(policy) {
            Some(at) if at > now => cooling.push((at, index)),
            _ => ready.push(index),
        }
    }
    cooling.sort();
    ready.extend(cooling.into_iter().map(|(_, index)| index));
    ready
}

/// The pause before round `round` (1-based) over the endpoints: exponential, capped, with
/// "equal jitter" (uniform in the upper half) so that many clients do not retry in step.
pub(crate) fn backoff(policy: &RetryPolicy, round: u32) -> Duration {
    let doublings = round.saturating_sub(1).min(20);
    let full = policy
        .initial_backoff
        .saturating_mul(1u32 << doublings)
        .min(policy.max_backoff);
    let half = full / 2;
    half + half.mul_f64(jitter_fraction())
}

/// A number in `[0, 1)` from the standard library's randomly seeded hasher: jitter needs no
/// cryptographic quality, only different values across calls and processes.
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            endpoint_cooldown: Duration::from_secs(1),
            max_endpoint_cooldown: Duration::from_secs(8),
        }
    }

    #[test]
    fn redaction_drops_credentials_path_and_query() {
        let url = Url::parse("https://user:secret@node.example:5052/key123/?apikey=abc").unwrap();
        assert_eq!(redact_url(&url), "https://node.example:5052");
        let endpoint = Endpoint::new(1, url);
        assert_eq!(endpoint.name, "#1 https://node.example:5052");
        let debug = format!("{endpoint:?}");
        assert!(!debug.contains("secret") && !debug.contains("key123") && !debug.contains("abc"));
        assert_eq!(endpoint.label, "1");
    }

    #[test]
    fn urls_keep_the_base_path_and_query_and_encode_segments() {
        let endpoint = Endpoint::new(0, Url::parse("http://h:1/prefix/?key=k").unwrap());
        let url = endpoint.url(
            &["eth".into(), "v1".into(), "x/y".into()],
            &[("id", "1".into()), ("id", "0xab".into())],
        );
        assert_eq!(
            url.as_str(),
            "http://h:1/prefix/eth/v1/x%2Fy?key=k&id=1&id=0xab"
        );
        let bare = Endpoint::new(0, Url::parse("http://h:1").unwrap());
        assert_eq!(bare.url(&["eth".into()], &[]).as_str(), "http://h:1/eth");
    }

    #[test]
    fn failures_and_recovery_are_transitions() {
        let mut state = HealthState::default();
        assert_eq!(state.health(), EndpointHealth::Healthy);
        assert_eq!(state.record_failure("a".into()), Transition::BecameFailing);
        assert_eq!(state.record_failure("b".into()), Transition::None);
        match state.health() {
            EndpointHealth::Failing {
                consecutive_failures,
                last_error,
                ..
            } => {
                assert_eq!(consecutive_failures, 2);
                assert_eq!(last_error, "b");
            }
            EndpointHealth::Healthy => panic!("should be failing"),
        }
        assert_eq!(
            state.record_success(),
            Transition::Recovered { after_failures: 2 }
        );
        assert!(state.is_healthy());
    }

    #[test]
    fn failing_endpoints_go_last_until_cooled_down() {
        let policy = policy();
        let mut states: Vec<HealthState> = (0..3).map(|_| HealthState::default()).collect();
        let now = Instant::now();
        assert_eq!(attempt_order(&states, &policy, now), vec![0, 1, 2]);
        states[0].record_failure("down".into());
        assert_eq!(attempt_order(&states, &policy, now), vec![1, 2, 0]);
        // After the cooldown the primary is tried first again.
        assert_eq!(
            attempt_order(&states, &policy, now + Duration::from_secs(2)),
            vec![0, 1, 2]
        );
        // A second failure doubles the cooldown.
        states[0].record_failure("down".into());
        let later = Instant::now() + Duration::from_millis(1500);
        assert_eq!(attempt_order(&states, &policy, later), vec![1, 2, 0]);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered_within_the_upper_half() {
        let policy = policy();
        for round in 1..12 {
            let full = (Duration::from_millis(100) * (1 << (round - 1).min(10)))
                .min(Duration::from_millis(1000));
            let pause = backoff(&policy, round);
            assert!(
                pause >= full / 2 && pause <= full,
                "round {round}: {pause:?}"
            );
        }
    }
}
