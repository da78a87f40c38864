//! Reading a pod's state from the execution chain.

use std::time::Duration;

use alloy_primitives::{Address, U256};
use alloy_provider::{Provider, RootProvider};
use restake_beacon::Root;
use restake_types::{BlsPublicKey, ExecutionAddress, Gwei, ValidatorIndex};

use super::snapshot::{
    CheckpointInProgress, ManagerView, PodSnapshot, PodValidator, PodValidatorStatus,
};
use crate::{
    Error, Result,
    bindings::{IEigenPod, IEigenPodManager, validator_pubkey_hash},
    rpc::{Endpoint, from_alloy, to_alloy},
};

const WEI_PER_GWEI: u64 = 1_000_000_000;

/// Reads [`PodSnapshot`]s over one execution JSON-RPC endpoint.
///
/// Every value of a snapshot comes from the same block. Each call gives up after the timeout;
/// errors name the endpoint (without credentials), the contract, its address and the method.
#[derive(Clone, Debug)]
pub struct PodReader {
    endpoint: Endpoint,
    provider: RootProvider,
    manager: Option<ExecutionAddress>,
}

impl PodReader {
    /// A reader for the `http://` or `https://` endpoint `rpc_url`; `manager`, when given, is the
    /// `EigenPodManager` asked which pod belongs to each pod's owner.
    pub fn new(
        rpc_url: &str,
        manager: Option<ExecutionAddress>,
        timeout: Duration,
    ) -> Result<Self> {
        let endpoint = Endpoint::parse(rpc_url, timeout)?;
        let provider = endpoint.provider();
        Ok(Self {
            endpoint,
            provider,
            manager,
        })
    }

    /// The endpoint as shown in errors and logs (`scheme://host:port`).
    pub fn endpoint(&self) -> &str {
        self.endpoint.shown()
    }

    /// Reads `pod` at the latest block, with its records of `pubkeys`.
    pub async fn read(
        &self,
        pod: ExecutionAddress,
        pubkeys: &[BlsPublicKey],
    ) -> Result<PodSnapshot> {
        let e = &self.endpoint;
        let block_number = e
            .call(
                || "eth_blockNumber".to_owned(),
                self.provider.get_block_number(),
            )
            .await?;
        let block = block_number.into();
        self.require_code(pod, "EigenPod", block_number).await?;

        let contract = IEigenPod::new(to_alloy(pod), &self.provider);
        let what = |method: &str| format!("EigenPod {pod} {method}");
        let owner = e
            .call(
                || what("podOwner()"),
                contract.podOwner().block(block).call(),
            )
            .await?;
        let active = e
            .call(
                || what("activeValidatorCount()"),
                contract.activeValidatorCount().block(block).call(),
            )
            .await?;
        let last_checkpoint_timestamp = e
            .call(
                || what("lastCheckpointTimestamp()"),
                contract.lastCheckpointTimestamp().block(block).call(),
            )
            .await?;
        let current_timestamp = e
            .call(
                || what("currentCheckpointTimestamp()"),
                contract.currentCheckpointTimestamp().block(block).call(),
            )
            .await?;
        let current_checkpoint = if current_timestamp == 0 {
            None
        } else {
            let c = e
                .call(
                    || what("currentCheckpoint()"),
                    contract.currentCheckpoint().block(block).call(),
                )
                .await?;
            Some(CheckpointInProgress {
                timestamp: current_timestamp,
                beacon_block_root: Root::new(c.beaconBlockRoot.0),
                proofs_remaining: c.proofsRemaining.to::<u32>(),
                pod_balance: Gwei(c.podBalanceGwei),
                balance_deltas_gwei: c.balanceDeltasGwei,
                prev_beacon_balance: Gwei(c.prevBeaconBalanceGwei),
            })
        };
        let withdrawable = e
            .call(
                || what("withdrawableRestakedExecutionLayerGwei()"),
                contract
                    .withdrawableRestakedExecutionLayerGwei()
                    .block(block)
                    .call(),
            )
            .await?;
        let balance_wei = e
            .call(
                || format!("eth_getBalance({pod})"),
                self.provider.get_balance(to_alloy(pod)).block_id(block),
            )
            .await?;

        let manager = match self.manager {
            Some(manager) => Some(self.manager_view(manager, owner, block_number).await?),
            None => None,
        };

        let mut validators = Vec::with_capacity(pubkeys.len());
        for pubkey in pubkeys {
            let hash = validator_pubkey_hash(pubkey);
            let info = e
                .call(
                    || what(&format!("validatorPubkeyHashToInfo({hash})")),
                    contract
                        .validatorPubkeyHashToInfo(hash.as_bytes().into())
                        .block(block)
                        .call(),
                )
                .await?;
            let status = match info.status {
                IEigenPod::VALIDATOR_STATUS::INACTIVE => PodValidatorStatus::Inactive,
                IEigenPod::VALIDATOR_STATUS::ACTIVE => PodValidatorStatus::Active,
                IEigenPod::VALIDATOR_STATUS::WITHDRAWN => PodValidatorStatus::Withdrawn,
                other => {
                    return Err(Error::Rpc {
                        endpoint: e.shown().to_owned(),
                        call: what(&format!("validatorPubkeyHashToInfo({hash})")),
                        message: format!("unknown VALIDATOR_STATUS {}", other as u8),
                    });
                }
            };
            validators.push(PodValidator {
                pubkey: *pubkey,
                pubkey_hash: hash,
                index: ValidatorIndex(info.validatorIndex),
                restaked_balance: Gwei(info.restakedBalanceGwei),
                last_checkpointed_at: info.lastCheckpointedAt,
                status,
            });
        }

        Ok(PodSnapshot {
            pod,
            block_number,
            owner: from_alloy(owner),
            manager,
            active_validator_count: saturate_u64(active),
            last_checkpoint_timestamp,
            current_checkpoint,
            withdrawable_restaked: Gwei(withdrawable),
            balance: Gwei(saturate_u64(balance_wei / U256::from(WEI_PER_GWEI))),
            validators,
        })
    }

    /// The pod the configured manager assigns to `owner` (`getPod`), and whether it is deployed
    /// (`hasPod`). Fails when no manager was configured.
    pub async fn pod_of(&self, owner: ExecutionAddress) -> Result<ManagerView> {
        let Some(manager) = self.manager else {
            return Err(Error::Rpc {
                endpoint: self.endpoint.shown().to_owned(),
                call: format!("getPod({owner})"),
                message: "no EigenPodManager configured (eigenpod.manager)".to_owned(),
            });
        };
        let block_number = self
            .endpoint
            .call(
                || "eth_blockNumber".to_owned(),
                self.provider.get_block_number(),
            )
            .await?;
        self.manager_view(manager, to_alloy(owner), block_number)
            .await
    }

    async fn manager_view(
        &self,
        manager: ExecutionAddress,
        owner: Address,
        block_number: u64,
    ) -> Result<ManagerView> {
        let e = &self.endpoint;
        let block = block_number.into();
        self.require_code(manager, "EigenPodManager", block_number)
            .await?;
        let contract = IEigenPodManager::new(to_alloy(manager), &self.provider);
        let has_pod = e
            .call(
                || format!("EigenPodManager {manager} hasPod({owner})"),
                contract.hasPod(owner).block(block).call(),
            )
            .await?;
        let pod_for_owner = e
            .call(
                || format!("EigenPodManager {manager} getPod({owner})"),
                contract.getPod(owner).block(block).call(),
            )
            .await?;
        Ok(ManagerView {
            manager,
            has_pod,
            pod_for_owner: from_alloy(pod_for_owner),
        })
    }

    /// Fails with [`Error::NoContract`] when `address` holds no code: calls to it would
    /// "succeed" with empty answers that decode as garbage or not at all.
    async fn require_code(
        &self,
        address: ExecutionAddress,
        contract: &'static str,
        block_number: u64,
    ) -> Result<()> {
        let code = self
            .endpoint
            .call(
                || format!("eth_getCode({address})"),
                self.provider
                    .get_code_at(to_alloy(address))
                    .block_id(block_number.into()),
            )
            .await?;
        if code.is_empty() {
            return Err(Error::NoContract {
                endpoint: self.endpoint.shown().to_owned(),
                contract,
                address,
            });
        }
        Ok(())
    }
}

fn saturate_u64(value: U256) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}
