//! Proofs generated from a devnet state, submitted to the dev pod on anvil: signed through a
//! test `DigestSigner` over anvil's account 0 key, batched under a gas limit, planned without
//! signing in a dry run, and refused by the pod (with its reason) when malformed.

#![allow(clippy::unwrap_used)]

use std::{collections::HashMap, sync::Mutex, time::Duration};

use alloy_primitives::{B256, aliases::U40};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolEvent;
use restake_beacon::containers::{BeaconState, SignedBeaconBlock};
use restake_devnet::{Devnet, DevnetConfig, Drive};
use restake_eigenpod::{
    Error,
    dev::{DEV_POD, DEV_POD_OWNER, DevPodSetup, contracts::TestEigenPod, deploy_dev_pods},
    proofs::{
        CheckpointProofs, CredentialProofs, MerkleProof, checkpoint_proofs, credential_proofs,
        verify_withdrawal_credentials_calldata,
    },
    submit::{DigestSigner, ProofBundle, ProofSubmitter, SubmitConfig},
    tree::StateTree,
};
use restake_types::{ExecutionAddress, Slot, ValidatorIndex};
use tokio_util::sync::CancellationToken;

use crate::start_anvil;

const GENESIS_TIME: u64 = 1_700_000_000;
const SLOT: u64 = 4;
/// Anvil's account 0 (tests only).
const ACCOUNT_0_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Anvil's account 1 (tests only).
const ACCOUNT_1_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// Signs with a plain key, refusing a second different digest for one sender and nonce as the
/// node's protected signer does.
struct KeySigner {
    key: PrivateKeySigner,
    signed: Mutex<HashMap<(ExecutionAddress, u64), [u8; 32]>>,
}

impl KeySigner {
    fn new(key: &str) -> Self {
        Self {
            key: key.parse().unwrap(),
            signed: Mutex::default(),
        }
    }

    fn count(&self) -> usize {
        self.signed.lock().unwrap().len()
    }
}

impl DigestSigner for KeySigner {
    async fn sign_digest(
        &self,
        from: ExecutionAddress,
        nonce: u64,
        _chain_id: u64,
        digest: [u8; 32],
    ) -> Result<[u8; 65], String> {
        let previous = *self
            .signed
            .lock()
            .unwrap()
            .entry((from, nonce))
            .or_insert(digest);
        if previous != digest {
            return Err(format!(
                "nonce {nonce} already signed for another transaction"
            ));
        }
        let signature = self.key.sign_hash_sync(&B256::from(digest)).unwrap();
        Ok(signature.as_bytes())
    }
}

/// Credential and checkpoint proofs of the devnet's pod validators at `SLOT`.
async fn devnet_proofs() -> (CredentialProofs, CheckpointProofs) {
    let config = DevnetConfig {
        drive: Drive::Manual,
        genesis_time: Some(GENESIS_TIME),
        ..Default::default()
    };
    let devnet = Devnet::start(
        config,
        "127.0.0.1:0".parse().unwrap(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    devnet.advance_to(Slot(SLOT + 1)).await.unwrap();
    let scenario = devnet.scenario().clone();
    let state = devnet.state_at(Slot(SLOT)).unwrap();
    let block = SignedBeaconBlock::Electra(Box::new(devnet.block_at(Slot(SLOT)).unwrap()));
    let header = block.header();
    let tree = StateTree::new(&BeaconState::Electra(Box::new(state)));
    let mut pod: Vec<ValidatorIndex> = scenario
        .eth1_pod
        .iter()
        .chain(&scenario.compounding_pod)
        .copied()
        .collect();
    pod.sort();
    let credentials = credential_proofs(&tree, &header, GENESIS_TIME + SLOT + 1, &pod).unwrap();
    let checkpoint = checkpoint_proofs(&tree, &header, &pod).unwrap();
    devnet.stop().await;
    (credentials, checkpoint)
}

fn config(batch_gas_limit: u64) -> SubmitConfig {
    SubmitConfig {
        batch_gas_limit,
        poll_interval: Duration::from_millis(50),
        receipt_timeout: Duration::from_secs(20),
        rpc_timeout: Duration::from_secs(10),
        ..SubmitConfig::default()
    }
}

#[tokio::test]
async fn submits_credential_and_checkpoint_proofs_signed_through_the_digest_signer() {
    let (credentials, checkpoint) = devnet_proofs().await;
    let anvil = start_anvil().await;
    deploy_dev_pods(anvil.endpoint(), &DevPodSetup::default())
        .await
        .unwrap();
    let submitter = ProofSubmitter::new(anvil.endpoint(), config(10_000_000)).unwrap();
    let signer = KeySigner::new(ACCOUNT_0_KEY);

    let sent = submitter
        .submit(
            DEV_POD_OWNER,
            DEV_POD,
            &ProofBundle::Credentials(credentials.clone()),
            &signer,
        )
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].planned.validators.len(),
        credentials.validators.len()
    );
    assert!(sent[0].gas_used > 0 && sent[0].gas_used <= sent[0].planned.gas_limit);

    let provider = ProviderBuilder::new().connect_http(anvil.endpoint().parse().unwrap());
    let receipt = provider
        .get_transaction_receipt(B256::from(sent[0].tx_hash))
        .await
        .unwrap()
        .unwrap();
    assert!(receipt.status());
    assert_eq!(receipt.from.0.0, *DEV_POD_OWNER.as_bytes());
    let event = receipt
        .inner
        .logs()
        .iter()
        .find_map(|log| {
            TestEigenPod::WithdrawalCredentialsProofsReceived::decode_log_data(log.data()).ok()
        })
        .unwrap();
    assert_eq!(event.beaconTimestamp, credentials.beacon_timestamp);
    assert_eq!(
        event.beaconStateRoot.0,
        *credentials.state_root_proof.beacon_state_root.as_bytes()
    );
    let indices: Vec<U40> = credentials
        .validators
        .iter()
        .map(|v| U40::from(v.index.get()))
        .collect();
    assert_eq!(event.validatorIndices, indices);
    let pod = TestEigenPod::new(DEV_POD.as_bytes().into(), &provider);
    assert_eq!(
        pod.credentialProofsReceived().call().await.unwrap(),
        alloy_primitives::U256::from(credentials.validators.len())
    );

    let sent = submitter
        .submit(
            DEV_POD_OWNER,
            DEV_POD,
            &ProofBundle::Checkpoint(checkpoint.clone()),
            &signer,
        )
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        pod.balanceProofsReceived().call().await.unwrap(),
        alloy_primitives::U256::from(checkpoint.balances.len())
    );
    assert_eq!(signer.count(), 2);
}

#[tokio::test]
async fn splits_credential_proofs_into_batches_under_the_gas_limit() {
    let (credentials, _) = devnet_proofs().await;
    assert!(credentials.validators.len() >= 4);
    let anvil = start_anvil().await;
    deploy_dev_pods(anvil.endpoint(), &DevPodSetup::default())
        .await
        .unwrap();
    let bundle = ProofBundle::Credentials(credentials.clone());
    let whole = ProofSubmitter::new(anvil.endpoint(), config(10_000_000))
        .unwrap()
        .plan(DEV_POD_OWNER, DEV_POD, &bundle)
        .await
        .unwrap();
    assert_eq!(whole.len(), 1);

    let limit = whole[0].gas_estimate * 2 / 3;
    let submitter = ProofSubmitter::new(anvil.endpoint(), config(limit)).unwrap();
    let signer = KeySigner::new(ACCOUNT_0_KEY);
    let sent = submitter
        .submit(DEV_POD_OWNER, DEV_POD, &bundle, &signer)
        .await
        .unwrap();
    assert!(sent.len() >= 2, "{} batch(es)", sent.len());
    assert!(sent.iter().all(|s| s.planned.gas_estimate <= limit));
    let first_nonce = sent[0].planned.nonce;
    for (i, s) in sent.iter().enumerate() {
        assert_eq!(s.planned.nonce, first_nonce + i as u64);
    }
    let proven: Vec<ValidatorIndex> = sent
        .iter()
        .flat_map(|s| s.planned.validators.clone())
        .collect();
    let all: Vec<ValidatorIndex> = credentials.validators.iter().map(|v| v.index).collect();
    assert_eq!(proven, all);

    let provider = ProviderBuilder::new().connect_http(anvil.endpoint().parse().unwrap());
    let pod = TestEigenPod::new(DEV_POD.as_bytes().into(), &provider);
    assert_eq!(
        pod.credentialProofsReceived().call().await.unwrap(),
        alloy_primitives::U256::from(all.len())
    );
}

#[tokio::test]
async fn a_dry_run_plans_the_transaction_without_signing_or_sending() {
    let (credentials, _) = devnet_proofs().await;
    let anvil = start_anvil().await;
    deploy_dev_pods(anvil.endpoint(), &DevPodSetup::default())
        .await
        .unwrap();
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint().parse().unwrap());
    let owner = DEV_POD_OWNER.as_bytes().into();
    let nonce = provider.get_transaction_count(owner).await.unwrap();

    let submitter = ProofSubmitter::new(anvil.endpoint(), config(10_000_000)).unwrap();
    let planned = submitter
        .plan(
            DEV_POD_OWNER,
            DEV_POD,
            &ProofBundle::Credentials(credentials.clone()),
        )
        .await
        .unwrap();
    assert_eq!(planned.len(), 1);
    let tx = &planned[0];
    assert_eq!(tx.to, DEV_POD);
    assert_eq!(tx.from, DEV_POD_OWNER);
    assert_eq!(tx.chain_id, anvil.chain_id());
    assert_eq!(tx.nonce, nonce);
    assert_eq!(tx.function, "verifyWithdrawalCredentials");
    assert_eq!(
        tx.calldata,
        verify_withdrawal_credentials_calldata(&credentials).unwrap()
    );
    assert!(tx.gas_estimate > 21_000 && tx.gas_limit > tx.gas_estimate);
    assert!(tx.max_fee_per_gas >= tx.max_priority_fee_per_gas && tx.max_fee_per_gas > 0);

    assert_eq!(provider.get_transaction_count(owner).await.unwrap(), nonce);
    let pod = TestEigenPod::new(DEV_POD.as_bytes().into(), &provider);
    assert_eq!(
        pod.credentialProofsReceived().call().await.unwrap(),
        alloy_primitives::U256::ZERO
    );
}

#[tokio::test]
async fn a_malformed_proof_is_refused_with_the_pods_reason_before_signing() {
    let (mut credentials, _) = devnet_proofs().await;
    credentials.validators[0].proof = MerkleProof::new(vec![0; 46 * 32]);
    let anvil = start_anvil().await;
    deploy_dev_pods(anvil.endpoint(), &DevPodSetup::default())
        .await
        .unwrap();
    let submitter = ProofSubmitter::new(anvil.endpoint(), config(10_000_000)).unwrap();
    let signer = KeySigner::new(ACCOUNT_0_KEY);
    let err = submitter
        .submit(
            DEV_POD_OWNER,
            DEV_POD,
            &ProofBundle::Credentials(credentials),
            &signer,
        )
        .await
        .unwrap_err();
    match &err {
        Error::Reverted {
            tx_hash: None,
            reason,
            ..
        } => assert_eq!(
            reason,
            "TestEigenPod: validator fields proof is not 32 * (41 + 6) bytes"
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("eth_estimateGas(verifyWithdrawalCredentials of"),
        "{err}"
    );
    assert_eq!(signer.count(), 0);
}

#[tokio::test]
async fn a_signature_by_another_key_is_not_sent() {
    let (credentials, _) = devnet_proofs().await;
    let anvil = start_anvil().await;
    deploy_dev_pods(anvil.endpoint(), &DevPodSetup::default())
        .await
        .unwrap();
    let submitter = ProofSubmitter::new(anvil.endpoint(), config(10_000_000)).unwrap();
    let err = submitter
        .submit(
            DEV_POD_OWNER,
            DEV_POD,
            &ProofBundle::Credentials(credentials),
            &KeySigner::new(ACCOUNT_1_KEY),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Signing { from, reason, .. }
            if *from == DEV_POD_OWNER && reason.contains("not by the sender")),
        "{err:?}"
    );
}
