//! `restaked.v1.ProofService`: EigenPod proofs generated from the beacon node's states, and
//! bundles verified against a block root.

use restake_api::v1::{
    self, GenerateCheckpointProofsRequest, GenerateCredentialProofsRequest,
    GenerateStaleBalanceProofRequest, ProofBundle, ProofTransaction, SubmitProofsRequest,
    SubmitProofsResponse, VerifyProofsRequest, VerifyProofsResponse,
    proof_service_server::ProofService, verify_proofs_request::Against,
};
use restake_beacon::{Root, tracker::Tracker};
use restake_eigenpod::{
    proofs::{
        self, CheckpointProofs, CredentialProofs, ProofError, ProofVersion, StaleBalanceProof,
    },
    reconcile::{CheckpointInProgress, PodReader},
    submit::{self, PlannedTransaction, ProofSubmitter, SubmitConfig},
};
use restake_signer::ProtectedSigner;
use restake_types::{ExecutionAddress, Slot, ValidatorIndex};
use serde::Serialize;
use tonic::{Request, Response, Status};

use crate::{
    pod_tx::ProtectedTxSigner,
    proofs::{
        BlockSelector, ProvenBlock, Prover, ProverError, check_points_at, checkpoint_candidates,
        credential_candidates,
    },
};

/// The node's answers to `ProofService`.
#[derive(Clone)]
pub struct ProofsApi {
    /// The prover; `None` when no beacon endpoint is configured.
    pub prover: Option<Prover>,
    /// The validator tracker, for the default validators of a pod.
    pub tracker: Option<Tracker>,
    /// Where and with what proofs are submitted; `None` when no execution RPC is configured.
    pub submit: Option<SubmitSettings>,
}

/// What `SubmitProofs` needs: the execution chain and the signer holding the ECDSA key.
#[derive(Clone)]
pub struct SubmitSettings {
    /// The execution JSON-RPC endpoint (`execution.rpc_url`).
    pub rpc_url: url::Url,
    /// The node's signer; its one secp256k1 key sends the transactions.
    pub signer: ProtectedSigner,
}

impl ProofsApi {
    fn prover(&self) -> Result<&Prover, Status> {
        self.prover.as_ref().ok_or_else(|| {
            Status::failed_precondition(
                "this node generates no proofs because it has no beacon node: set \
                 beacon.endpoints in its config (verifying against a block_root needs none)",
            )
        })
    }

    /// The validators to prove: those given, else the tracked ones `candidates` picks for the
    /// pod (the one given, or the only pod tracked).
    fn validators(
        &self,
        given: Vec<ValidatorIndex>,
        pod: Option<ExecutionAddress>,
        candidates: fn(
            &[restake_beacon::tracker::TrackedValidator],
            ExecutionAddress,
        ) -> Vec<ValidatorIndex>,
    ) -> Result<Vec<ValidatorIndex>, Status> {
        if !given.is_empty() {
            return Ok(given);
        }
        let tracker = self.tracker.as_ref().ok_or_else(|| {
            Status::failed_precondition(
                "validator_indices: none given, and this node tracks no validators to choose from",
            )
        })?;
        let pod = match pod {
            Some(pod) => pod,
            None => only_pod(&tracker.pods())?,
        };
        let chosen = candidates(&tracker.validators(), pod);
        if chosen.is_empty() {
            return Err(Status::failed_precondition(format!(
                "no tracked validator to prove points at pod {pod} (the tracker may not have \
                 read the chain yet; `restakectl validators list --pod {pod}` shows them); give \
                 validator_indices"
            )));
        }
        Ok(chosen)
    }

    /// The pod given, else the node's only tracked pod.
    /// The block a checkpoint proof is for when the request names none: the block of the pod's
    /// checkpoint in progress (the root `startCheckpoint` recorded), read from the execution
    /// chain; the head when the pod has none or no execution endpoint is configured.
    async fn checkpoint_block(&self, pod: ExecutionAddress) -> Result<BlockSelector, Status> {
        let Some(submit) = &self.submit else {
            return Ok(BlockSelector::Head);
        };
        let reader = PodReader::new(submit.rpc_url.as_str(), None, POD_READ_TIMEOUT)
            .map_err(|e| Status::failed_precondition(format!("execution.rpc_url: {e}")))?;
        let snapshot = reader
            .read(pod, &[])
            .await
            .map_err(|e| Status::unavailable(format!("reading pod {pod}'s checkpoint: {e}")))?;
        let block = checkpoint_block_of(snapshot.current_checkpoint.as_ref());
        if block == BlockSelector::Head {
            tracing::info!(%pod, "the pod has no checkpoint in progress; proving balances at the head");
        }
        Ok(block)
    }

    fn pod(&self, given: Option<ExecutionAddress>) -> Result<ExecutionAddress, Status> {
        match given {
            Some(pod) => Ok(pod),
            None => only_pod(&self.tracker.as_ref().map(Tracker::pods).unwrap_or_default()),
        }
    }
}

#[tonic::async_trait]
impl ProofService for ProofsApi {
    async fn generate_credential_proofs(
        &self,
        request: Request<GenerateCredentialProofsRequest>,
    ) -> Result<Response<ProofBundle>, Status> {
        let request = request.into_inner();
        let prover = self.prover()?;
        let block = parse_block(&request.block)?;
        let pod = parse_pod(&request.pod)?;
        let indices = self.validators(
            parse_indices(&request.validator_indices),
            pod,
            credential_candidates,
        )?;
        let (at, beacon_timestamp) = prover
            .block_with_child(block)
            .await
            .map_err(|e| prover_status(e, "validator_indices"))?;
        let proofs = prover
            .generate(&at, move |tree, header| {
                check_pod(tree, &indices, pod)?;
                Ok(proofs::credential_proofs(
                    tree,
                    header,
                    beacon_timestamp,
                    &indices,
                )?)
            })
            .await
            .map_err(|e| prover_status(e, "validator_indices"))?;
        tracing::info!(slot = %at.slot, validators = proofs.validators.len(), "credential proofs generated");
        Ok(Response::new(credential_bundle(&proofs, &at)?))
    }

    async fn generate_checkpoint_proofs(
        &self,
        request: Request<GenerateCheckpointProofsRequest>,
    ) -> Result<Response<ProofBundle>, Status> {
        let request = request.into_inner();
        let prover = self.prover()?;
        let pod = parse_pod(&request.pod)?;
        let block = if request.block.trim().is_empty() {
            self.checkpoint_block(self.pod(pod)?).await?
        } else {
            parse_block(&request.block)?
        };
        let indices = self.validators(
            parse_indices(&request.validator_indices),
            pod,
            checkpoint_candidates,
        )?;
        let at = prover
            .block(block)
            .await
            .map_err(|e| prover_status(e, "validator_indices"))?;
        let proofs = prover
            .generate(&at, move |tree, header| {
                check_pod(tree, &indices, pod)?;
                Ok(proofs::checkpoint_proofs(tree, header, &indices)?)
            })
            .await
            .map_err(|e| prover_status(e, "validator_indices"))?;
        tracing::info!(slot = %at.slot, validators = proofs.balances.len(), "checkpoint proofs generated");
        Ok(Response::new(checkpoint_bundle(&proofs, &at)?))
    }

    async fn generate_stale_balance_proof(
        &self,
        request: Request<GenerateStaleBalanceProofRequest>,
    ) -> Result<Response<ProofBundle>, Status> {
        let request = request.into_inner();
        let prover = self.prover()?;
        let block = parse_block(&request.block)?;
        let pod = parse_pod(&request.pod)?;
        let index = request.validator_index.map(ValidatorIndex).ok_or_else(|| {
            Status::invalid_argument("validator_index: name the slashed validator to prove")
        })?;
        let (at, beacon_timestamp) = prover
            .block_with_child(block)
            .await
            .map_err(|e| prover_status(e, "validator_index"))?;
        let proof = prover
            .generate(&at, move |tree, header| {
                check_pod(tree, &[index], pod)?;
                Ok(proofs::stale_balance_proof(
                    tree,
                    header,
                    beacon_timestamp,
                    index,
                )?)
            })
            .await
            .map_err(|e| prover_status(e, "validator_index"))?;
        tracing::info!(slot = %at.slot, validator = %index, "stale balance proof generated");
        Ok(Response::new(stale_balance_bundle(&proof, &at)?))
    }

    async fn verify(
        &self,
        request: Request<VerifyProofsRequest>,
    ) -> Result<Response<VerifyProofsResponse>, Status> {
        let request = request.into_inner();
        let format = v1::ProofFormat::try_from(request.format)
            .map_err(|_| Status::invalid_argument(format!("format: unknown {}", request.format)))?;
        let bundle = Bundle::read(
            &request.bundle_json,
            format,
            &parse_indices(&request.validator_indices),
        )?;
        let against = match request.against {
            Some(Against::BlockRoot(text)) => text.parse::<Root>().map_err(|e| {
                Status::invalid_argument(format!(
                    "block_root: {text:?} is not a block root (0x + 64 hex digits): {e}"
                ))
            })?,
            Some(Against::Slot(slot)) => {
                self.prover()?
                    .block_root_at(Slot(slot))
                    .await
                    .map_err(|e| match e {
                        ProverError::NoBlock(_) => Status::invalid_argument(format!(
                            "slot: the beacon node has no block at slot {slot}"
                        )),
                        e => prover_status(e, "slot"),
                    })?
            }
            None => {
                return Err(Status::invalid_argument(
                    "against: give the block_root to verify against, or a slot to take it from \
                     the beacon node",
                ));
            }
        };
        let outcome = bundle.verify(against);
        Ok(Response::new(VerifyProofsResponse {
            valid: outcome.is_ok(),
            error: outcome.err().map(|e| e.to_string()).unwrap_or_default(),
            kind: bundle.kind().into(),
            block_root: against.to_string(),
            bundle_block_root: bundle.block_root().to_string(),
            validator_indices: bundle.indices(),
            version: bundle.version().to_string(),
            bundle_json: bundle.to_json()?,
        }))
    }

    async fn submit_proofs(
        &self,
        request: Request<SubmitProofsRequest>,
    ) -> Result<Response<SubmitProofsResponse>, Status> {
        let request = request.into_inner();
        let settings = self.submit.as_ref().ok_or_else(|| {
            Status::failed_precondition(
                "this node submits no proofs because it has no execution chain: set \
                 execution.rpc_url in its config",
            )
        })?;
        let signer = ProtectedTxSigner::for_ecdsa_key(&settings.signer)
            .map_err(Status::failed_precondition)?;
        let bundle =
            Bundle::read(&request.bundle_json, v1::ProofFormat::Restaked, &[])?.into_submittable();
        let pod = self.pod(parse_pod(&request.pod)?)?;
        let defaults = SubmitConfig::default();
        let config = SubmitConfig {
            batch_gas_limit: match request.batch_gas_limit {
                0 => defaults.batch_gas_limit,
                limit => limit,
            },
            ..defaults
        };
        let submitter = ProofSubmitter::new(settings.rpc_url.as_str(), config)
            .map_err(|e| Status::failed_precondition(format!("execution.rpc_url: {e}")))?;
        let from = signer.address();
        let transactions = if request.dry_run {
            submitter
                .plan(from, pod, &bundle)
                .await
                .map_err(submit_status)?
                .iter()
                .map(|planned| proof_transaction(planned, None))
                .collect()
        } else {
            let sent = submitter
                .submit(from, pod, &bundle, &signer)
                .await
                .map_err(submit_status)?;
            tracing::info!(%pod, %from, transactions = sent.len(), function = bundle.function(), "proofs submitted");
            sent.iter()
                .map(|s| proof_transaction(&s.planned, Some(s)))
                .collect()
        };
        Ok(Response::new(SubmitProofsResponse {
            dry_run: request.dry_run,
            transactions,
        }))
    }
}

/// A transaction as the API shows it; `sent` once included.
fn proof_transaction(
    planned: &PlannedTransaction,
    sent: Option<&submit::SubmittedTransaction>,
) -> ProofTransaction {
    ProofTransaction {
        to: planned.to.to_string(),
        from: planned.from.to_string(),
        chain_id: planned.chain_id,
        nonce: planned.nonce,
        function: planned.function.to_owned(),
        validator_indices: planned.validators.iter().map(|v| v.get()).collect(),
        calldata: hex_string(&planned.calldata),
        gas_estimate: planned.gas_estimate,
        gas_limit: planned.gas_limit,
        max_fee_per_gas: planned.max_fee_per_gas.to_string(),
        max_priority_fee_per_gas: planned.max_priority_fee_per_gas.to_string(),
        tx_hash: sent.map(|s| hex_string(&s.tx_hash)),
        block_number: sent.map(|s| s.block_number),
        gas_used: sent.map(|s| s.gas_used),
    }
}

/// The status of a failed submission.
fn submit_status(error: restake_eigenpod::Error) -> Status {
    use restake_eigenpod::Error;
    let message = error.to_string();
    match error {
        Error::Reverted { tx_hash: None, .. } | Error::Signing { .. } => {
            Status::failed_precondition(message)
        }
        Error::Reverted {
            tx_hash: Some(_), ..
        } => Status::aborted(message),
        Error::GasOverLimit { .. } => {
            Status::invalid_argument(format!("batch_gas_limit: {message}"))
        }
        Error::Proof(_) => Status::invalid_argument(format!("bundle_json: {message}")),
        Error::ReceiptTimeout { .. } | Error::Timeout { .. } => Status::deadline_exceeded(message),
        Error::InvalidEndpoint { .. } => Status::failed_precondition(message),
        Error::Rpc { .. } | Error::NoContract { .. } => Status::unavailable(message),
        Error::AnvilNotFound { .. } | Error::Anvil { .. } | Error::DevDeployment { .. } => {
            Status::internal(message)
        }
    }
}

/// A bundle of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bundle {
    Credentials(CredentialProofs),
    Checkpoint(CheckpointProofs),
    StaleBalance(Box<StaleBalanceProof>),
}

impl Bundle {
    /// Reads a bundle, its kind told by its fields; `indices` are those of a Go checkpoint
    /// file's balance proofs.
    fn read(
        json: &str,
        format: v1::ProofFormat,
        indices: &[ValidatorIndex],
    ) -> Result<Self, Status> {
        let invalid =
            |e: &dyn std::fmt::Display| Status::invalid_argument(format!("bundle_json: {e}"));
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| invalid(&e))?;
        let has = |key: &str| value.get(key).is_some();
        match format {
            v1::ProofFormat::Restaked => {
                let bundle = if has("validators") {
                    serde_json::from_value(value).map(Self::Credentials)
                } else if has("balances") {
                    serde_json::from_value(value).map(Self::Checkpoint)
                } else if has("validator") {
                    serde_json::from_value(value).map(|p| Self::StaleBalance(Box::new(p)))
                } else {
                    return Err(invalid(
                        &"neither credential (\"validators\"), checkpoint (\"balances\") nor \
                          stale balance (\"validator\") proofs; a Go CLI file needs format GO",
                    ));
                };
                bundle.map_err(|e| invalid(&e))
            }
            v1::ProofFormat::Go => {
                if has("ValidatorProofs") {
                    proofs::credential_proofs_from_go_json(json)
                        .map(Self::Credentials)
                        .map_err(|e| invalid(&e))
                } else if has("balanceProofs") {
                    if indices.is_empty() {
                        return Err(Status::invalid_argument(
                            "validator_indices: a Go checkpoint file names no validator; give \
                             the index of each balance proof, in the file's order",
                        ));
                    }
                    proofs::checkpoint_proofs_from_go_json(json, indices)
                        .map(Self::Checkpoint)
                        .map_err(|e| match e {
                            ProofError::GoJson { reason } => {
                                Status::invalid_argument(format!("validator_indices: {reason}"))
                            }
                            e => invalid(&e),
                        })
                } else {
                    Err(invalid(
                        &"neither a credential (\"ValidatorProofs\") nor a checkpoint \
                          (\"balanceProofs\") file of the Go CLI",
                    ))
                }
            }
        }
    }

    fn verify(&self, block_root: Root) -> Result<(), ProofError> {
        match self {
            Self::Credentials(p) => proofs::verify_credential_proofs(p, block_root),
            Self::Checkpoint(p) => proofs::verify_checkpoint_proofs(p, block_root),
            Self::StaleBalance(p) => proofs::verify_stale_balance_proof(p, block_root),
        }
    }

    fn kind(&self) -> v1::ProofKind {
        match self {
            Self::Credentials(_) => v1::ProofKind::Credentials,
            Self::Checkpoint(_) => v1::ProofKind::Checkpoint,
            Self::StaleBalance(_) => v1::ProofKind::StaleBalance,
        }
    }

    fn block_root(&self) -> Root {
        match self {
            Self::Credentials(p) => p.block_root,
            Self::Checkpoint(p) => p.block_root,
            Self::StaleBalance(p) => p.block_root,
        }
    }

    fn version(&self) -> ProofVersion {
        match self {
            Self::Credentials(p) => p.version,
            Self::Checkpoint(p) => p.version,
            Self::StaleBalance(p) => p.version,
        }
    }

    fn indices(&self) -> Vec<u64> {
        match self {
            Self::Credentials(p) => p.validators.iter().map(|v| v.index.get()).collect(),
            Self::Checkpoint(p) => p.balances.iter().map(|b| b.index.get()).collect(),
            Self::StaleBalance(p) => vec![p.validator.index.get()],
        }
    }

    /// The bundle to send to the pod.
    fn into_submittable(self) -> submit::ProofBundle {
        match self {
            Self::Credentials(p) => submit::ProofBundle::Credentials(p),
            Self::Checkpoint(p) => submit::ProofBundle::Checkpoint(p),
            Self::StaleBalance(p) => submit::ProofBundle::StaleBalance(p),
        }
    }

    fn to_json(&self) -> Result<String, Status> {
        match self {
            Self::Credentials(p) => bundle_json(p),
            Self::Checkpoint(p) => bundle_json(p),
            Self::StaleBalance(p) => bundle_json(p),
        }
    }
}

/// How long reading a pod's checkpoint may take.
const POD_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The block of a checkpoint in progress, or the head without one.
fn checkpoint_block_of(checkpoint: Option<&CheckpointInProgress>) -> BlockSelector {
    checkpoint.map_or(BlockSelector::Head, |c| {
        BlockSelector::Root(c.beacon_block_root)
    })
}

fn parse_block(text: &str) -> Result<BlockSelector, Status> {
    text.parse()
        .map_err(|e| Status::invalid_argument(format!("block: {e}")))
}

fn parse_pod(text: &str) -> Result<Option<ExecutionAddress>, Status> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|e| {
        Status::invalid_argument(format!(
            "pod: {text:?} is not an address (0x + 40 hex digits): {e}"
        ))
    })
}

fn parse_indices(indices: &[u64]) -> Vec<ValidatorIndex> {
    indices.iter().copied().map(ValidatorIndex).collect()
}

/// The pod when none is named: the node's only tracked pod.
fn only_pod(pods: &[ExecutionAddress]) -> Result<ExecutionAddress, Status> {
    match pods {
        [pod] => Ok(*pod),
        [] => Err(Status::invalid_argument(
            "pod: none given and the node tracks no pod (tracker.pods, eigenpod.owners); name \
             the pod or the validator_indices",
        )),
        pods => Err(Status::invalid_argument(format!(
            "pod: none given and the node tracks {} pods ({}); name one",
            pods.len(),
            pods.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// With a pod named, every validator's credentials must point at it.
fn check_pod(
    tree: &restake_eigenpod::tree::StateTree,
    indices: &[ValidatorIndex],
    pod: Option<ExecutionAddress>,
) -> Result<(), ProverError> {
    let Some(pod) = pod else {
        return Ok(());
    };
    indices
        .iter()
        .try_for_each(|&index| check_points_at(tree, index, pod))
}

/// The status of a failed generation; `validators` names the request's validator field.
fn prover_status(error: ProverError, validators: &str) -> Status {
    let message = error.to_string();
    match error {
        ProverError::NoBlock(_) => Status::invalid_argument(format!("block: {message}")),
        ProverError::NotPointingAtPod { .. } => {
            Status::invalid_argument(format!("{validators}: {message}"))
        }
        ProverError::NoChild { .. } | ProverError::NotCanonical { .. } => {
            Status::failed_precondition(message)
        }
        ProverError::ChainConfig(_) => Status::failed_precondition(message),
        ProverError::Beacon(e) => match e {
            restake_beacon::Error::UnsupportedFork { .. }
            | restake_beacon::Error::TooLarge { .. } => Status::failed_precondition(message),
            restake_beacon::Error::SszDecode { .. } => Status::internal(message),
            _ => Status::unavailable(message),
        },
        ProverError::Proof(e) => match e {
            ProofError::UnknownValidator { .. }
            | ProofError::IndexTooLarge { .. }
            | ProofError::NotSlashed { .. } => {
                Status::invalid_argument(format!("{validators}: {message}"))
            }
            ProofError::UnsupportedFork { .. } => Status::failed_precondition(message),
            ProofError::HeaderStateMismatch { .. } => Status::aborted(format!(
                "{message}: the chain moved while the state was fetched; retry"
            )),
            _ => Status::internal(message),
        },
        ProverError::Task(_) => Status::internal(message),
    }
}

fn bundle_json<T: Serialize>(bundle: &T) -> Result<String, Status> {
    serde_json::to_string_pretty(bundle)
        .map_err(|e| Status::internal(format!("cannot write the bundle as JSON: {e}")))
}

fn hex_string(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn credential_bundle(proofs: &CredentialProofs, at: &ProvenBlock) -> Result<ProofBundle, Status> {
    let calldata = proofs::verify_withdrawal_credentials_calldata(proofs)
        .map_err(|e| Status::invalid_argument(format!("validator_indices: {e}")))?;
    Ok(ProofBundle {
        kind: v1::ProofKind::Credentials.into(),
        bundle_json: bundle_json(proofs)?,
        slot: at.slot.get(),
        block_root: proofs.block_root.to_string(),
        beacon_timestamp: Some(proofs.beacon_timestamp),
        version: proofs.version.to_string(),
        validator_indices: proofs.validators.iter().map(|v| v.index.get()).collect(),
        calldata: hex_string(&calldata),
    })
}

fn checkpoint_bundle(proofs: &CheckpointProofs, at: &ProvenBlock) -> Result<ProofBundle, Status> {
    Ok(ProofBundle {
        kind: v1::ProofKind::Checkpoint.into(),
        bundle_json: bundle_json(proofs)?,
        slot: at.slot.get(),
        block_root: proofs.block_root.to_string(),
        beacon_timestamp: None,
        version: proofs.version.to_string(),
        validator_indices: proofs.balances.iter().map(|b| b.index.get()).collect(),
        calldata: hex_string(&proofs::verify_checkpoint_proofs_calldata(proofs)),
    })
}

fn stale_balance_bundle(
    proof: &StaleBalanceProof,
    at: &ProvenBlock,
) -> Result<ProofBundle, Status> {
    Ok(ProofBundle {
        kind: v1::ProofKind::StaleBalance.into(),
        bundle_json: bundle_json(proof)?,
        slot: at.slot.get(),
        block_root: proof.block_root.to_string(),
        beacon_timestamp: Some(proof.beacon_timestamp),
        version: proof.version.to_string(),
        validator_indices: vec![proof.validator.index.get()],
        calldata: hex_string(&proofs::verify_stale_balance_calldata(proof)),
    })
}

#[cfg(test)]
mod tests {
    use restake_beacon::ForkName;

    use super::*;

    fn offline() -> ProofsApi {
        ProofsApi {
            prover: None,
            tracker: None,
            submit: None,
        }
    }

    fn root_hex(byte: u8) -> String {
        format!("0x{}", hex::encode([byte; 32]))
    }

    #[tokio::test]
    async fn submitting_needs_an_execution_rpc_and_an_ecdsa_key() {
        let request = || {
            Request::new(SubmitProofsRequest {
                bundle_json: stale_json(&root_hex(1)),
                pod: format!("0x{}", "ab".repeat(20)),
                dry_run: true,
                ..Default::default()
            })
        };
        let status = offline().submit_proofs(request()).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert!(status.message().contains("execution.rpc_url"), "{status:?}");

        let dir = tempfile::tempdir().unwrap();
        let db = restake_signer::protection::ProtectionDb::open(
            &dir.path().join("restaked.db"),
            std::time::Duration::from_millis(200),
        )
        .unwrap();
        let signer = ProtectedSigner::start(
            db,
            restake_signer::Keyring::default(),
            &prometheus::Registry::new(),
        )
        .unwrap();
        let api = ProofsApi {
            submit: Some(SubmitSettings {
                rpc_url: "http://127.0.0.1:1".parse().unwrap(),
                signer,
            }),
            ..offline()
        };
        let status = api.submit_proofs(request()).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert!(
            status.message().contains("signer.ecdsa.keystore"),
            "{status:?}"
        );
    }

    #[tokio::test]
    async fn without_a_beacon_node_generation_and_verifying_at_a_slot_are_failed_precondition() {
        let api = offline();
        let status = api
            .generate_credential_proofs(Request::new(GenerateCredentialProofsRequest::default()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert!(status.message().contains("beacon.endpoints"), "{status:?}");
        let status = api
            .generate_checkpoint_proofs(Request::new(GenerateCheckpointProofsRequest::default()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        let status = api
            .generate_stale_balance_proof(Request::new(GenerateStaleBalanceProofRequest::default()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        let status = api
            .verify(Request::new(VerifyProofsRequest {
                bundle_json: stale_json(&root_hex(1)),
                against: Some(Against::Slot(5)),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    }

    #[test]
    fn bad_blocks_pods_and_pod_choices_name_their_field() {
        assert_eq!(parse_block("").unwrap(), BlockSelector::Head);
        let status = parse_block("latest").unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().starts_with("block: "), "{status:?}");
        assert_eq!(parse_pod("").unwrap(), None);
        let pod = ExecutionAddress::new([0xee; 20]);
        assert_eq!(parse_pod(&pod.to_string()).unwrap(), Some(pod));
        let status = parse_pod("0x1234").unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().starts_with("pod: "), "{status:?}");

        assert_eq!(only_pod(&[pod]).unwrap(), pod);
        let status = only_pod(&[]).unwrap_err();
        assert!(status.message().starts_with("pod: "), "{status:?}");
        let status = only_pod(&[pod, ExecutionAddress::new([1; 20])]).unwrap_err();
        assert!(status.message().contains("tracks 2 pods"), "{status:?}");
    }

    #[test]
    fn a_checkpoint_in_progress_names_the_block_to_prove() {
        let root = Root::new([7; 32]);
        let checkpoint = CheckpointInProgress {
            timestamp: 1_700_000_012,
            beacon_block_root: root,
            proofs_remaining: 3,
            pod_balance: restake_types::Gwei(0),
            balance_deltas_gwei: 0,
            prev_beacon_balance: restake_types::Gwei(96_000_000_000),
        };
        assert_eq!(
            checkpoint_block_of(Some(&checkpoint)),
            BlockSelector::Root(root)
        );
        assert_eq!(checkpoint_block_of(None), BlockSelector::Head);
    }

    #[test]
    fn validators_given_are_used_as_given_and_none_needs_a_tracker() {
        let api = offline();
        let given = vec![ValidatorIndex(9), ValidatorIndex(3)];
        assert_eq!(
            api.validators(given.clone(), None, credential_candidates)
                .unwrap(),
            given
        );
        let status = api
            .validators(Vec::new(), None, checkpoint_candidates)
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert!(
            status.message().starts_with("validator_indices: "),
            "{status:?}"
        );
    }

    #[tokio::test]
    async fn verify_needs_something_to_verify_against_and_a_bundle_it_can_read() {
        let api = offline();
        let verify = |request: VerifyProofsRequest| {
            let api = api.clone();
            async move { api.verify(Request::new(request)).await.unwrap_err() }
        };
        let status = verify(VerifyProofsRequest {
            bundle_json: stale_json(&root_hex(1)),
            ..Default::default()
        })
        .await;
        assert!(status.message().starts_with("against: "), "{status:?}");
        let status = verify(VerifyProofsRequest {
            bundle_json: stale_json(&root_hex(1)),
            against: Some(Against::BlockRoot("0x12".to_owned())),
            ..Default::default()
        })
        .await;
        assert!(status.message().starts_with("block_root: "), "{status:?}");
        let status = verify(VerifyProofsRequest {
            bundle_json: "{\"something\": 1}".to_owned(),
            against: Some(Against::BlockRoot(root_hex(1))),
            ..Default::default()
        })
        .await;
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().starts_with("bundle_json: "), "{status:?}");
        let status = verify(VerifyProofsRequest {
            bundle_json: "{\"balanceProofs\": []}".to_owned(),
            format: v1::ProofFormat::Go.into(),
            against: Some(Against::BlockRoot(root_hex(1))),
            ..Default::default()
        })
        .await;
        assert!(
            status.message().starts_with("validator_indices: "),
            "{status:?}"
        );
    }

    /// A stale-balance bundle whose proofs are empty: readable, and invalid against any root.
    fn stale_json(block_root: &str) -> String {
        serde_json::json!({
            "beacon_timestamp": 1_700_000_005u64,
            "block_root": block_root,
            "version": "pectra",
            "state_root_proof": { "beacon_state_root": root_hex(2), "proof": "0x" },
            "validator": { "index": 3, "fields": vec![root_hex(0); 8], "proof": "0x" },
        })
        .to_string()
    }

    #[tokio::test]
    async fn an_invalid_bundle_is_answered_with_why_not_an_error() {
        let answer = offline()
            .verify(Request::new(VerifyProofsRequest {
                bundle_json: stale_json(&root_hex(1)),
                against: Some(Against::BlockRoot(root_hex(7))),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(!answer.valid);
        assert!(answer.error.contains("checked against"), "{answer:?}");
        assert_eq!(answer.kind(), v1::ProofKind::StaleBalance);
        assert_eq!(answer.block_root, root_hex(7));
        assert_eq!(answer.bundle_block_root, root_hex(1));
        assert_eq!(answer.validator_indices, vec![3]);
        assert_eq!(answer.version, "pectra");
        let again: StaleBalanceProof = serde_json::from_str(&answer.bundle_json).unwrap();
        assert_eq!(again.validator.index, ValidatorIndex(3));
    }

    #[test]
    fn generation_failures_map_to_the_status_an_operator_can_act_on() {
        let status = prover_status(
            ProverError::Proof(ProofError::NotSlashed {
                index: ValidatorIndex(4),
            }),
            "validator_index",
        );
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status.message().starts_with("validator_index: "),
            "{status:?}"
        );
        let status = prover_status(
            ProverError::Proof(ProofError::UnknownValidator {
                index: ValidatorIndex(1 << 30),
            }),
            "validator_indices",
        );
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        let status = prover_status(
            ProverError::NoBlock(BlockSelector::Slot(Slot(8))),
            "validator_indices",
        );
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().starts_with("block: "), "{status:?}");
        let status = prover_status(
            ProverError::NoChild {
                root: Root::new([1; 32]),
                slot: Slot(8),
            },
            "validator_indices",
        );
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        let status = prover_status(
            ProverError::Proof(ProofError::UnsupportedFork {
                fork: ForkName::Capella,
            }),
            "validator_indices",
        );
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        let status = prover_status(
            ProverError::Proof(ProofError::HeaderStateMismatch {
                header_state_root: Root::new([1; 32]),
                tree_root: Root::new([2; 32]),
            }),
            "validator_indices",
        );
        assert_eq!(status.code(), tonic::Code::Aborted);
    }
}
