//! Submitting EigenPod proofs on chain: EIP-1559 transactions to the pod, signed through a
//! [`DigestSigner`], sent raw and followed to their receipt.
//!
//! For each proof bundle the submitter:
//! 1. splits it into batches whose `eth_estimateGas` stays under [`SubmitConfig::batch_gas_limit`]
//!    (credential and checkpoint proofs; a stale-balance proof is one call), estimating every
//!    batch from the sender before anything is signed, so a call the pod would refuse fails here
//!    with its revert reason;
//! 2. prices them from `eth_feeHistory` (the next block's base fee) and
//!    `eth_maxPriorityFeePerGas`, and numbers them from the sender's pending nonce;
//! 3. in a dry run, returns these [`PlannedTransaction`]s without signing; otherwise, one batch at
//!    a time: takes the transaction's signature hash, has the [`DigestSigner`] sign it (the node's
//!    signer refuses a second, different transaction with the same sender and nonce), checks the
//!    signature recovers to the sender, sends the signed envelope with `eth_sendRawTransaction`
//!    and waits for its receipt and [`SubmitConfig::confirmations`]; a reverted transaction stops
//!    the submission with the revert reason (replayed with `eth_call`).
//!
//! The signer is a trait so this crate needs no signing keys: the node implements it over its
//! protected signer, the tests over a plain key.

use std::{
    future::{Future, IntoFuture},
    time::Duration,
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use alloy_provider::{
    Provider, RootProvider,
    network::{Ethereum, Network, ReceiptResponse, TransactionBuilder, eip2718::Encodable2718},
};
use alloy_sol_types::{Revert, SolError};
use restake_types::{ExecutionAddress, ValidatorIndex};

use crate::{
    Error, Result,
    proofs::{
        CheckpointProofs, CredentialProofs, StaleBalanceProof, verify_checkpoint_proofs_calldata,
        verify_stale_balance_calldata, verify_withdrawal_credentials_calldata,
    },
    rpc::{Endpoint, from_alloy, to_alloy},
};

/// Signs the 32-byte signature hash of a transaction for `from`.
///
/// `from`, `nonce` and `chain_id` say which transaction the digest is of, so an implementation
/// can refuse to sign two different transactions with one nonce.
pub trait DigestSigner: Send + Sync {
    /// The secp256k1 signature of `digest` by `from`'s key: `r ‖ s ‖ v` (`v` 0/1 or 27/28), or
    /// why it was refused.
    fn sign_digest(
        &self,
        from: ExecutionAddress,
        nonce: u64,
        chain_id: u64,
        digest: [u8; 32],
    ) -> impl Future<Output = Result<[u8; 65], String>> + Send;
}

/// How proofs are submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmitConfig {
    /// The most gas one transaction's estimate may take; larger bundles are split.
    pub batch_gas_limit: u64,
    /// Blocks a receipt must be under (1: included) before the next batch is sent.
    pub confirmations: u64,
    /// How long a transaction may take to reach its confirmations.
    pub receipt_timeout: Duration,
    /// How often the receipt is polled.
    pub poll_interval: Duration,
    /// How long one RPC call may take.
    pub rpc_timeout: Duration,
}

impl Default for SubmitConfig {
    fn default() -> Self {
        Self {
            batch_gas_limit: 10_000_000,
            confirmations: 1,
            receipt_timeout: Duration::from_secs(180),
            poll_interval: Duration::from_secs(1),
            rpc_timeout: Duration::from_secs(30),
        }
    }
}

/// A proof bundle to submit: which of the pod's three functions it calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofBundle {
    /// `verifyWithdrawalCredentials`.
    Credentials(CredentialProofs),
    /// `verifyCheckpointProofs`.
    Checkpoint(CheckpointProofs),
    /// `verifyStaleBalance`.
    StaleBalance(Box<StaleBalanceProof>),
}

impl ProofBundle {
    /// The pod function the bundle calls.
    pub fn function(&self) -> &'static str {
        match self {
            Self::Credentials(_) => "verifyWithdrawalCredentials",
            Self::Checkpoint(_) => "verifyCheckpointProofs",
            Self::StaleBalance(_) => "verifyStaleBalance",
        }
    }

    /// The validators proven, in order.
    fn validators(&self) -> Vec<ValidatorIndex> {
        match self {
            Self::Credentials(p) => p.validators.iter().map(|v| v.index).collect(),
            Self::Checkpoint(p) => p.balances.iter().map(|b| b.index).collect(),
            Self::StaleBalance(p) => vec![p.validator.index],
        }
    }

    /// The bundle with only the validators at `range` (a stale-balance proof has one).
    fn part(&self, range: std::ops::Range<usize>) -> Self {
        match self {
            Self::Credentials(p) => Self::Credentials(CredentialProofs {
                validators: p.validators[range].to_vec(),
                ..p.clone()
            }),
            Self::Checkpoint(p) => Self::Checkpoint(CheckpointProofs {
                balances: p.balances[range].to_vec(),
                ..p.clone()
            }),
            Self::StaleBalance(p) => Self::StaleBalance(p.clone()),
        }
    }

    fn calldata(&self) -> Result<Vec<u8>> {
        match self {
            Self::Credentials(p) => verify_withdrawal_credentials_calldata(p).map_err(Error::Proof),
            Self::Checkpoint(p) => Ok(verify_checkpoint_proofs_calldata(p)),
            Self::StaleBalance(p) => Ok(verify_stale_balance_calldata(p)),
        }
    }
}

/// One transaction as it would be (or was) sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedTransaction {
    /// The pod called.
    pub to: ExecutionAddress,
    /// The sender.
    pub from: ExecutionAddress,
    /// The chain id signed into the transaction.
    pub chain_id: u64,
    /// The sender's nonce for it.
    pub nonce: u64,
    /// The pod function called.
    pub function: &'static str,
    /// The validators whose proofs it carries.
    pub validators: Vec<ValidatorIndex>,
    /// The call's data.
    pub calldata: Vec<u8>,
    /// What `eth_estimateGas` answered.
    pub gas_estimate: u64,
    /// The gas limit set: the estimate and a fifth more.
    pub gas_limit: u64,
    /// The most paid per gas, in wei.
    pub max_fee_per_gas: u128,
    /// The tip per gas, in wei.
    pub max_priority_fee_per_gas: u128,
}

/// A transaction included on chain with its confirmations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmittedTransaction {
    /// What was sent.
    pub planned: PlannedTransaction,
    /// Its hash.
    pub tx_hash: [u8; 32],
    /// The block that included it.
    pub block_number: u64,
    /// The gas it used.
    pub gas_used: u64,
}

/// Submits proof bundles to pods over one execution RPC endpoint.
#[derive(Clone, Debug)]
pub struct ProofSubmitter {
    endpoint: Endpoint,
    provider: RootProvider,
    config: SubmitConfig,
}

impl ProofSubmitter {
    /// A submitter over the JSON-RPC endpoint `rpc_url`.
    pub fn new(rpc_url: &str, config: SubmitConfig) -> Result<Self> {
        let endpoint = Endpoint::parse(rpc_url, config.rpc_timeout)?;
        Ok(Self {
            provider: endpoint.provider(),
            endpoint,
            config,
        })
    }

    /// The transactions that would send `bundle` from `from` to `pod`: batched, estimated,
    /// priced and numbered, not signed (a dry run).
    pub async fn plan(
        &self,
        from: ExecutionAddress,
        pod: ExecutionAddress,
        bundle: &ProofBundle,
    ) -> Result<Vec<PlannedTransaction>> {
        let chain_id = self
            .endpoint
            .call(|| "eth_chainId".to_owned(), self.provider.get_chain_id())
            .await?;
        let nonce = self
            .endpoint
            .call(
                || format!("eth_getTransactionCount({from}, pending)"),
                self.provider
                    .get_transaction_count(to_alloy(from))
                    .pending(),
            )
            .await?;
        let (max_fee_per_gas, max_priority_fee_per_gas) = self.fees().await?;
        let batches = self.batches(from, pod, bundle).await?;
        Ok(batches
            .into_iter()
            .zip(nonce..)
            .map(
                |((part, calldata, gas_estimate), nonce)| PlannedTransaction {
                    to: pod,
                    from,
                    chain_id,
                    nonce,
                    function: part.function(),
                    validators: part.validators(),
                    calldata,
                    gas_estimate,
                    gas_limit: gas_estimate.saturating_add(gas_estimate / 5),
                    max_fee_per_gas,
                    max_priority_fee_per_gas,
                },
            )
            .collect())
    }

    /// Sends `bundle` from `from` to `pod`, signed by `signer`, one batch at a time, each
    /// waited for until confirmed; stops at the first failure (earlier batches stay on chain).
    pub async fn submit(
        &self,
        from: ExecutionAddress,
        pod: ExecutionAddress,
        bundle: &ProofBundle,
        signer: &impl DigestSigner,
    ) -> Result<Vec<SubmittedTransaction>> {
        let mut submitted = Vec::new();
        for planned in self.plan(from, pod, bundle).await? {
            let raw = sign(&planned, signer).await?;
            let tx_hash = *self
                .endpoint
                .call(
                    || {
                        format!(
                            "eth_sendRawTransaction({} nonce {})",
                            planned.function, planned.nonce
                        )
                    },
                    self.provider.send_raw_transaction(&raw),
                )
                .await?
                .tx_hash();
            tracing::info!(
                %tx_hash, nonce = planned.nonce, function = planned.function,
                validators = planned.validators.len(), "proof transaction sent"
            );
            submitted.push(self.confirm(planned, tx_hash).await?);
        }
        Ok(submitted)
    }

    /// The next block's base fee twice over plus the tip, and the tip.
    async fn fees(&self) -> Result<(u128, u128)> {
        let history = self
            .endpoint
            .call(
                || "eth_feeHistory(1, latest)".to_owned(),
                self.provider
                    .get_fee_history(1, BlockNumberOrTag::Latest, &[]),
            )
            .await?;
        let base_fee = history.next_block_base_fee().unwrap_or_default();
        let tip = self
            .endpoint
            .call(
                || "eth_maxPriorityFeePerGas".to_owned(),
                self.provider.get_max_priority_fee_per_gas(),
            )
            .await?;
        Ok((base_fee.saturating_mul(2).saturating_add(tip), tip))
    }

    /// `bundle` split so each part's estimate stays under the limit, with calldata and estimate.
    async fn batches(
        &self,
        from: ExecutionAddress,
        pod: ExecutionAddress,
        bundle: &ProofBundle,
    ) -> Result<Vec<(ProofBundle, Vec<u8>, u64)>> {
        let limit = self.config.batch_gas_limit;
        let mut pending = vec![bundle.clone()];
        let mut done = Vec::new();
        while let Some(part) = pending.pop() {
            let calldata = part.calldata()?;
            let estimate = self.estimate(from, pod, &part, &calldata).await?;
            let count = part.validators().len();
            if estimate <= limit {
                done.push((part, calldata, estimate));
                continue;
            }
            if count <= 1 || matches!(part, ProofBundle::StaleBalance(_)) {
                return Err(Error::GasOverLimit {
                    function: part.function(),
                    validators: part.validators(),
                    estimate,
                    limit,
                });
            }
            // As many validators as the average cost per validator allows, at least one, at
            // most half: each part is estimated again.
            let per_part =
                usize::try_from(u128::from(limit) * count as u128 / u128::from(estimate))
                    .unwrap_or(1)
                    .clamp(1, count / 2);
            let mut parts: Vec<ProofBundle> = (0..count)
                .step_by(per_part)
                .map(|start| part.part(start..(start + per_part).min(count)))
                .collect();
            parts.reverse();
            pending.extend(parts);
        }
        Ok(done)
    }

    async fn estimate(
        &self,
        from: ExecutionAddress,
        pod: ExecutionAddress,
        part: &ProofBundle,
        calldata: &[u8],
    ) -> Result<u64> {
        let request = <Ethereum as Network>::TransactionRequest::default()
            .with_from(to_alloy(from))
            .with_to(to_alloy(pod))
            .with_input(Bytes::copy_from_slice(calldata));
        let call = || {
            format!(
                "eth_estimateGas({} of {} validator(s) to {pod})",
                part.function(),
                part.validators().len()
            )
        };
        match tokio::time::timeout(self.config.rpc_timeout, self.provider.estimate_gas(request))
            .await
        {
            Ok(Ok(gas)) => Ok(gas),
            Ok(Err(e)) => match e.as_error_resp().and_then(|p| p.as_revert_data()) {
                Some(data) => Err(Error::Reverted {
                    what: call(),
                    tx_hash: None,
                    reason: revert_reason(&data),
                }),
                None => Err(Error::Rpc {
                    endpoint: self.endpoint.shown().to_owned(),
                    call: call(),
                    message: self.endpoint.scrub(&e.to_string()),
                }),
            },
            Err(_) => Err(Error::Timeout {
                endpoint: self.endpoint.shown().to_owned(),
                call: call(),
                after: self.config.rpc_timeout,
            }),
        }
    }

    /// Waits for `tx_hash`'s receipt and confirmations; a revert is an error with its reason.
    async fn confirm(
        &self,
        planned: PlannedTransaction,
        tx_hash: B256,
    ) -> Result<SubmittedTransaction> {
        let deadline = tokio::time::Instant::now() + self.config.receipt_timeout;
        loop {
            let receipt = self
                .endpoint
                .call(
                    || format!("eth_getTransactionReceipt({tx_hash})"),
                    self.provider.get_transaction_receipt(tx_hash),
                )
                .await?;
            if let Some(receipt) = receipt
                && let Some(block_number) = receipt.block_number()
            {
                if !receipt.status() {
                    return Err(Error::Reverted {
                        what: format!("{} nonce {}", planned.function, planned.nonce),
                        tx_hash: Some(tx_hash.0),
                        reason: self.replay(&planned, block_number).await,
                    });
                }
                let head = self
                    .endpoint
                    .call(
                        || "eth_blockNumber".to_owned(),
                        self.provider.get_block_number(),
                    )
                    .await?;
                if head + 1 >= block_number + self.config.confirmations {
                    return Ok(SubmittedTransaction {
                        planned,
                        tx_hash: tx_hash.0,
                        block_number,
                        gas_used: receipt.gas_used(),
                    });
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::ReceiptTimeout {
                    tx_hash: tx_hash.0,
                    confirmations: self.config.confirmations,
                    after: self.config.receipt_timeout,
                });
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    /// The revert reason of `planned`, replayed with `eth_call` on the state before its block.
    async fn replay(&self, planned: &PlannedTransaction, block_number: u64) -> String {
        let request = <Ethereum as Network>::TransactionRequest::default()
            .with_from(to_alloy(planned.from))
            .with_to(to_alloy(planned.to))
            .with_gas_limit(planned.gas_limit)
            .with_input(Bytes::copy_from_slice(&planned.calldata));
        let call = self
            .provider
            .call(request)
            .block(block_number.saturating_sub(1).into());
        match tokio::time::timeout(self.config.rpc_timeout, call.into_future()).await {
            Ok(Err(e)) => match e.as_error_resp().and_then(|p| p.as_revert_data()) {
                Some(data) => revert_reason(&data),
                None => self.endpoint.scrub(&e.to_string()),
            },
            Ok(Ok(_)) => "reverted on chain, but not when replayed (the state changed)".to_owned(),
            Err(_) => "reverted on chain; replaying it timed out".to_owned(),
        }
    }
}

/// Signs `planned` through `signer` and returns its EIP-2718 encoding.
async fn sign(planned: &PlannedTransaction, signer: &impl DigestSigner) -> Result<Vec<u8>> {
    let tx = TxEip1559 {
        chain_id: planned.chain_id,
        nonce: planned.nonce,
        gas_limit: planned.gas_limit,
        max_fee_per_gas: planned.max_fee_per_gas,
        max_priority_fee_per_gas: planned.max_priority_fee_per_gas,
        to: TxKind::Call(to_alloy(planned.to)),
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::copy_from_slice(&planned.calldata),
    };
    let digest = tx.signature_hash();
    let refused = |reason: String| Error::Signing {
        from: planned.from,
        nonce: planned.nonce,
        reason,
    };
    let raw = signer
        .sign_digest(planned.from, planned.nonce, planned.chain_id, digest.0)
        .await
        .map_err(refused)?;
    let signature = Signature::from_raw_array(&raw)
        .map_err(|e| refused(format!("not a secp256k1 signature r ‖ s ‖ v: {e}")))?;
    let signer_address: Address = signature
        .recover_address_from_prehash(&digest)
        .map_err(|e| refused(format!("signature does not recover: {e}")))?;
    if signer_address != to_alloy(planned.from) {
        return Err(refused(format!(
            "signature is by {}, not by the sender",
            from_alloy(signer_address)
        )));
    }
    Ok(TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
}

/// The reason in revert data: `Error(string)`'s message, else the data in hex.
fn revert_reason(data: &[u8]) -> String {
    match Revert::abi_decode(data) {
        Ok(revert) => revert.reason,
        Err(_) if data.is_empty() => "no reason given".to_owned(),
        Err(_) => format!("revert data 0x{}", alloy_primitives::hex::encode(data)),
    }
}
