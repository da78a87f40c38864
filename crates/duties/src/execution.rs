//! Execution-chain providers by chain id, for modules that read contracts.

use std::{fmt, sync::Arc, time::Duration};

use alloy_provider::{DynProvider, Provider, ProviderBuilder};

/// The execution endpoints the node is configured with, looked up by chain id.
///
/// Each endpoint's chain id is asked once (`eth_chainId`) the first time a module needs a chain,
/// so an endpoint that is down at startup does not stop the node.
#[derive(Clone, Default)]
pub struct ExecutionProviders {
    endpoints: Arc<Vec<Endpoint>>,
}

struct Endpoint {
    /// Scheme, host and port only: URLs may carry API keys.
    name: String,
    provider: DynProvider,
    chain_id: tokio::sync::OnceCell<u64>,
}

impl fmt::Debug for ExecutionProviders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.endpoints.iter().map(|e| &e.name))
            .finish()
    }
}

/// Why no provider could be given for a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    /// No configured endpoint serves the chain (or none answered `eth_chainId`).
    #[error("no execution endpoint serves chain id {chain_id}{}", unanswered_note(.unanswered))]
    NoProvider {
        /// The chain asked for.
        chain_id: u64,
        /// Endpoints whose chain id could not be learnt, with why.
        unanswered: Vec<String>,
    },
}

fn unanswered_note(unanswered: &[String]) -> String {
    if unanswered.is_empty() {
        String::new()
    } else {
        format!(
            " (no answer to eth_chainId from: {})",
            unanswered.join("; ")
        )
    }
}

/// How long `eth_chainId` may take.
const CHAIN_ID_TIMEOUT: Duration = Duration::from_secs(5);

impl ExecutionProviders {
    /// Providers over the JSON-RPC `urls`; nothing is contacted yet.
    pub fn new(urls: &[url::Url]) -> Self {
        let endpoints = urls
            .iter()
            .map(|url| Endpoint {
                name: restake_beacon::redact_url(url),
                provider: ProviderBuilder::new().connect_http(url.clone()).erased(),
                chain_id: tokio::sync::OnceCell::new(),
            })
            .collect();
        Self {
            endpoints: Arc::new(endpoints),
        }
    }

    /// Whether no endpoint is configured.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// A provider for `chain_id`: the first configured endpoint that reports it.
    pub async fn get(&self, chain_id: u64) -> Result<DynProvider, ExecutionError> {
        let mut unanswered = Vec::new();
        for endpoint in self.endpoints.iter() {
            let asked = endpoint
                .chain_id
                .get_or_try_init(|| async {
                    match tokio::time::timeout(CHAIN_ID_TIMEOUT, endpoint.provider.get_chain_id())
                        .await
                    {
                        Ok(Ok(id)) => Ok(id),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err(format!("timed out after {CHAIN_ID_TIMEOUT:?}")),
                    }
                })
                .await;
            match asked {
                Ok(id) if *id == chain_id => return Ok(endpoint.provider.clone()),
                Ok(_) => {}
                Err(e) => unanswered.push(format!("{}: {e}", endpoint.name)),
            }
        }
        Err(ExecutionError::NoProvider {
            chain_id,
            unanswered,
        })
    }
}
