//! Client configuration: endpoints, retries, and per-route timeouts and size limits.

use std::{fmt, time::Duration};

use reqwest::Url;

/// A Beacon API route the client calls, as a fixed template: this is the `route` label of the
/// metrics and the key of the per-route limits. It never carries the ids of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    /// `GET /eth/v1/beacon/genesis`
    Genesis,
    /// `GET /eth/v1/config/spec`
    Spec,
    /// `GET /eth/v1/beacon/headers/{block_id}`
    BlockHeader,
    /// `GET /eth/v2/beacon/blocks/{block_id}` as SSZ
    BlockSsz,
    /// `GET /eth/v1/beacon/states/{state_id}/finality_checkpoints`
    FinalityCheckpoints,
    /// `GET /eth/v1/beacon/states/{state_id}/validators`
    Validators,
    /// `POST /eth/v1/beacon/states/{state_id}/validators`
    ValidatorsPost,
    /// `GET /eth/v1/beacon/states/{state_id}/validator_balances`
    ValidatorBalances,
    /// `POST /eth/v1/beacon/states/{state_id}/validator_balances`
    ValidatorBalancesPost,
    /// `GET /eth/v2/debug/beacon/states/{state_id}` as SSZ
    StateSsz,
    /// `GET /eth/v1/beacon/blob_sidecars/{block_id}`
    BlobSidecars,
    /// `GET /eth/v1/events`
    Events,
}

impl Route {
    /// Every route, in a fixed order.
    pub const ALL: [Route; 12] = [
        Self::Genesis,
        Self::Spec,
        Self::BlockHeader,
        Self::BlockSsz,
        Self::FinalityCheckpoints,
        Self::Validators,
        Self::ValidatorsPost,
        Self::ValidatorBalances,
        Self::ValidatorBalancesPost,
        Self::StateSsz,
        Self::BlobSidecars,
        Self::Events,
    ];

    /// The method and path template, e.g. `GET /eth/v1/beacon/headers/{block_id}`.
    pub const fn template(self) -> &'static str {
        match self {
            Self::Genesis => "GET /eth/v1/beacon/genesis",
            Self::Spec => "GET /eth/v1/config/spec",
            Self::BlockHeader => "GET /eth/v1/beacon/headers/{block_id}",
            Self::BlockSsz => "GET /eth/v2/beacon/blocks/{block_id}",
            Self::FinalityCheckpoints => {
                "GET /eth/v1/beacon/states/{state_id}/finality_checkpoints"
            }
            Self::Validators => "GET /eth/v1/beacon/states/{state_id}/validators",
            Self::ValidatorsPost => "POST /eth/v1/beacon/states/{state_id}/validators",
            Self::ValidatorBalances => "GET /eth/v1/beacon/states/{state_id}/validator_balances",
            Self::ValidatorBalancesPost => {
                "POST /eth/v1/beacon/states/{state_id}/validator_balances"
            }
            Self::StateSsz => "GET /eth/v2/debug/beacon/states/{state_id}",
            Self::BlobSidecars => "GET /eth/v1/beacon/blob_sidecars/{block_id}",
            Self::Events => "GET /eth/v1/events",
        }
    }

    const fn slot(self) -> usize {
        self as usize
    }

    /// The default limits: generous for what a healthy node sends on mainnet, tight enough that a
    /// broken one cannot exhaust memory.
    pub const fn default_limits(self) -> CallLimits {
        const MIB: u64 = 1 << 20;
        const fn limits(secs: u64, max_body_bytes: u64) -> CallLimits {
            CallLimits {
                timeout: Duration::from_secs(secs),
                max_body_bytes,
            }
        }
        match self {
            Self::Genesis | Self::FinalityCheckpoints | Self::BlockHeader => limits(10, MIB),
            Self::Spec => limits(10, 4 * MIB),
            // A filtered query; the whole mainnet registry as JSON (~500 MB) needs a raised
            // limit, or better the SSZ state.
            Self::Validators | Self::ValidatorsPost => limits(60, 64 * MIB),
            Self::ValidatorBalances | Self::ValidatorBalancesPost => limits(60, 64 * MIB),
            // Blocks are bounded by the gossip limit (10 MiB); leave room.
            Self::BlockSsz => limits(30, 32 * MIB),
            // The mainnet state is a few hundred MB and grows with the registry.
            Self::StateSsz => limits(600, 2048 * MIB),
            // Up to a few dozen blobs of 128 KiB, hex-encoded.
            Self::BlobSidecars => limits(30, 64 * MIB),
            // Time to the response headers; the size is that of one event.
            Self::Events => limits(10, MIB),
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.template())
    }
}

/// How long one attempt at a route may take and how large its response may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallLimits {
    /// From sending the request to the last byte of the body (for [`Route::Events`]: to the
    /// response headers).
    pub timeout: Duration,
    /// The largest body accepted; a longer one is aborted while streaming (for
    /// [`Route::Events`]: the largest single event).
    pub max_body_bytes: u64,
}

/// [`CallLimits`] for every route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteLimits([CallLimits; Route::ALL.len()]);

impl Default for RouteLimits {
    fn default() -> Self {
        Self(Route::ALL.map(Route::default_limits))
    }
}

impl RouteLimits {
    /// The limits of `route`.
    pub const fn get(&self, route: Route) -> CallLimits {
        self.0[route.slot()]
    }

    /// Replaces the limits of `route`.
    pub const fn set(&mut self, route: Route, limits: CallLimits) {
        self.0[route.slot()] = limits;
    }
}

/// Retries, backoff and how long a failing endpoint is passed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, across all endpoints (at least 1).
    pub max_attempts: u32,
    /// The pause before the second round over the endpoints; doubled each further round.
    pub initial_backoff: Duration,
    /// The longest pause between rounds.
    pub max_backoff: Duration,
    /// How long an endpoint that just failed is tried only after the healthy ones; doubled for
    /// each further consecutive failure.
    pub endpoint_cooldown: Duration,
    /// The longest cooldown.
    pub max_endpoint_cooldown: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            endpoint_cooldown: Duration::from_secs(1),
            max_endpoint_cooldown: Duration::from_secs(60),
        }
    }
}

/// Everything [`crate::BeaconClient::new`] needs besides the metrics registry.
///
/// Its `Debug` output shows endpoints redacted to `scheme://host:port`.
#[derive(Clone)]
pub struct BeaconClientConfig {
    /// Beacon node base URLs, primary first. A path prefix is kept (`https://host/key/`
    /// becomes `https://host/key/eth/v1/...`); user and password are sent as basic auth. Neither
    /// ever appears in metrics, logs or errors.
    pub endpoints: Vec<Url>,
    /// Time to establish a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Retries and fallback.
    pub retry: RetryPolicy,
    /// Per-route timeouts and body limits.
    pub limits: RouteLimits,
    /// An event stream that delivers nothing (not even a comment) for this long is dropped as
    /// dead. Heads arrive every slot on a live chain.
    pub event_idle_timeout: Duration,
}

impl fmt::Debug for BeaconClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoints: Vec<String> = self
            .endpoints
            .iter()
            .map(crate::endpoint::redact_url)
            .collect();
        f.debug_struct("BeaconClientConfig")
            .field("endpoints", &endpoints)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("limits", &self.limits)
            .field("event_idle_timeout", &self.event_idle_timeout)
            .finish()
    }
}

impl BeaconClientConfig {
    /// Defaults for the given endpoints.
    pub fn new(endpoints: Vec<Url>) -> Self {
        Self {
            endpoints,
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            limits: RouteLimits::default(),
            event_idle_timeout: Duration::from_secs(60),
        }
    }

    /// Every problem with this configuration, empty if there is none.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.endpoints.is_empty() {
            problems.push("at least one beacon endpoint is required".to_owned());
        }
        for (index, url) in self.endpoints.iter().enumerate() {
            let shown = crate::endpoint::redact_url(url);
            match url.scheme() {
                "http" => {}
                "https" if cfg!(feature = "https") => {}
                "https" => problems.push(format!(
                    "endpoint #{index} ({shown}): https needs restake-beacon built with the `https` feature"
                )),
                other => problems.push(format!(
                    "endpoint #{index} ({shown}): scheme {other:?} is not http or https"
                )),
            }
            if url.host_str().is_none_or(str::is_empty) {
                problems.push(format!("endpoint #{index} ({shown}): no host"));
            }
            if url.fragment().is_some() {
                problems.push(format!(
                    "endpoint #{index} ({shown}): a fragment has no meaning here"
                ));
            }
        }
        if self.retry.max_attempts == 0 {
            problems.push("retry.max_attempts must be at least 1".to_owned());
        }
        if self.connect_timeout.is_zero() {
            problems.push("connect_timeout must be positive".to_owned());
        }
        if self.event_idle_timeout.is_zero() {
            problems.push("event_idle_timeout must be positive".to_owned());
        }
        for route in Route::ALL {
            let limits = self.limits.get(route);
            if limits.timeout.is_zero() || limits.max_body_bytes == 0 {
                problems.push(format!("limits of {route} must be positive"));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_unique_and_limits_settable() {
        let mut templates: Vec<_> = Route::ALL.iter().map(|r| r.template()).collect();
        templates.sort_unstable();
        templates.dedup();
        assert_eq!(templates.len(), Route::ALL.len());
        let mut limits = RouteLimits::default();
        let small = CallLimits {
            timeout: Duration::from_millis(5),
            max_body_bytes: 10,
        };
        limits.set(Route::StateSsz, small);
        assert_eq!(limits.get(Route::StateSsz), small);
        assert_eq!(
            limits.get(Route::BlockSsz),
            Route::BlockSsz.default_limits()
        );
    }

    #[test]
    fn reports_every_problem() {
        let mut config = BeaconClientConfig::new(vec![
            Url::parse("ftp://user:pw@example.org/").unwrap(),
            Url::parse("http://127.0.0.1:5052/#x").unwrap(),
        ]);
        config.retry.max_attempts = 0;
        let problems = config.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().all(|p| !p.contains("pw")));
        assert!(!format!("{config:?}").contains("pw"));
        assert!(BeaconClientConfig::new(vec![]).problems()[0].contains("at least one"));
    }

    #[cfg(feature = "https")]
    #[test]
    fn https_is_accepted_with_the_feature() {
        let config = BeaconClientConfig::new(vec![Url::parse("https://beacon.example").unwrap()]);
        assert!(config.problems().is_empty());
    }

    #[cfg(not(feature = "https"))]
    #[test]
    fn https_needs_the_feature() {
        let config = BeaconClientConfig::new(vec![Url::parse("https://beacon.example").unwrap()]);
        assert!(config.problems()[0].contains("`https` feature"));
    }
}
