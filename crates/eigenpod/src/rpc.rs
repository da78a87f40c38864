//! One execution RPC endpoint: parsing, redaction, and calls bounded by a timeout whose errors
//! name the endpoint and the call.

use std::{fmt::Display, future::IntoFuture, time::Duration};

use alloy_primitives::Address;
use alloy_provider::RootProvider;
use restake_types::ExecutionAddress;
use url::Url;

use crate::{Error, Result};

/// An `http://` or `https://` JSON-RPC endpoint with the form it is shown in.
///
/// HTTPS goes through the same reqwest client as the beacon API, so it works when reqwest is
/// built with TLS (restake-beacon's default `https` feature); without it, calls fail with an
/// error naming the endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    url: Url,
    shown: String,
    timeout: Duration,
}

impl Endpoint {
    /// Parses `endpoint`; every call through it gives up after `timeout`.
    pub(crate) fn parse(endpoint: &str, timeout: Duration) -> Result<Self> {
        let url = Url::parse(endpoint).map_err(|e| Error::InvalidEndpoint {
            endpoint: redact_unparsed(endpoint),
            reason: e.to_string(),
        })?;
        let shown = restake_beacon::redact_url(&url);
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::InvalidEndpoint {
                endpoint: shown,
                reason: format!(
                    "scheme {:?} is not supported, use http:// or https://",
                    url.scheme()
                ),
            });
        }
        if url.host_str().is_none() {
            return Err(Error::InvalidEndpoint {
                endpoint: shown,
                reason: "no host".to_owned(),
            });
        }
        Ok(Self {
            url,
            shown,
            timeout,
        })
    }

    /// The endpoint as shown in errors and logs: `scheme://host:port`.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// The full URL (with whatever credentials it carries): for connecting only.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// A read-only provider for this endpoint.
    pub(crate) fn provider(&self) -> RootProvider {
        RootProvider::new_http(self.url.clone())
    }

    /// Runs `fut` with the timeout; a failure or a timeout becomes an error naming `call`.
    pub(crate) async fn call<T, E: Display>(
        &self,
        call: impl FnOnce() -> String,
        fut: impl IntoFuture<Output = Result<T, E>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, fut.into_future()).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Error::Rpc {
                endpoint: self.shown.clone(),
                call: call(),
                message: self.scrub(&e.to_string()),
            }),
            Err(_) => Err(Error::Timeout {
                endpoint: self.shown.clone(),
                call: call(),
                after: self.timeout,
            }),
        }
    }

    /// `message` with the URL replaced by its redacted form: HTTP client errors quote it, with
    /// or without the credentials.
    pub(crate) fn scrub(&self, message: &str) -> String {
        let mut forms = vec![self.url.to_string()];
        let mut bare = self.url.clone();
        // Only fails for URLs that cannot carry credentials, which then have none to hide.
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        forms.push(bare.to_string());
        let trimmed: Vec<String> = forms
            .iter()
            .filter_map(|f| f.strip_suffix('/').map(str::to_owned))
            .collect();
        forms.extend(trimmed);
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms
            .iter()
            .filter(|f| !f.is_empty())
            .fold(message.to_owned(), |message, form| {
                message.replace(form.as_str(), &self.shown)
            })
    }
}

/// A redacted form of a string that is not a URL: up to the first `@`, `/` or `?` after the
/// scheme, so a malformed URL with credentials is not echoed whole.
fn redact_unparsed(endpoint: &str) -> String {
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("", endpoint));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if scheme.is_empty() {
        host.to_owned()
    } else {
        format!("{scheme}://{host}")
    }
}

/// The alloy address of an execution address.
pub(crate) fn to_alloy(address: ExecutionAddress) -> Address {
    Address::from(*address.as_bytes())
}

/// The execution address of an alloy address.
pub(crate) fn from_alloy(address: Address) -> ExecutionAddress {
    ExecutionAddress::new(address.into_array())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_endpoints_without_credentials_path_or_query() {
        let endpoint = Endpoint::parse(
            "http://user:secret@node.example:8545/v3/KEY?x=1",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(endpoint.shown(), "http://node.example:8545");
        for quoted in [
            "http://user:secret@node.example:8545/v3/KEY?x=1",
            "http://node.example:8545/v3/KEY?x=1",
        ] {
            let scrubbed = endpoint.scrub(&format!("error sending request for url ({quoted})"));
            assert_eq!(
                scrubbed,
                "error sending request for url (http://node.example:8545)"
            );
        }
    }

    #[test]
    fn refuses_other_schemes_and_garbage_without_echoing_secrets() {
        let err = Endpoint::parse("wss://a:b@host/key", Duration::from_secs(1)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("wss://host"), "{text}");
        assert!(!text.contains("key") && !text.contains("a:b"), "{text}");

        let err = Endpoint::parse("http://a:b@[bad/key", Duration::from_secs(1)).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidEndpoint { .. }));
        assert!(!text.contains("a:b") && !text.contains("key"), "{text}");
    }

    #[test]
    fn address_conversions_round_trip() {
        let address = ExecutionAddress::new([7; 20]);
        assert_eq!(from_alloy(to_alloy(address)), address);
    }
}
