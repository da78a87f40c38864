//! The dev deployment: a test pod manager and one pod on a fresh local chain (anvil), at fixed
//! addresses, with validators and balances as the caller describes them.
//!
//! The contracts are the Solidity sources in `crates/eigenpod/contracts/` (stand-ins with the
//! read interface of EigenLayer's pods and setters in place of proofs). Their compiled artifacts
//! (ABI and bytecode) are committed beside them and read here by `sol!`; after changing a source,
//! regenerate them with `crates/eigenpod/contracts/build.sh` (needs node and npm).

use std::{future::IntoFuture, time::Duration};

use alloy_primitives::{Address, U256, address};
use alloy_provider::{
    Provider, ProviderBuilder,
    network::{Ethereum, EthereumWallet, Network, ReceiptResponse, TransactionBuilder},
};
use alloy_signer_local::PrivateKeySigner;
use restake_types::{BlsPublicKey, ExecutionAddress, Gwei, ValidatorIndex};

use crate::{
    Error, Result,
    bindings::validator_pubkey_hash,
    reconcile::PodValidatorStatus,
    rpc::{Endpoint, from_alloy, to_alloy},
};

/// Bindings of the test contracts, generated from the committed artifacts.
///
/// The ABI's structs come without documentation (a JSON ABI carries none): see the `.sol`
/// sources for what each field means.
#[allow(missing_docs)]
pub mod contracts {
    alloy_sol_types::sol!(
        /// The test pod: EigenPod's read interface plus setters.
        #[sol(rpc)]
        TestEigenPod,
        "contracts/TestEigenPod.json"
    );
    alloy_sol_types::sol!(
        /// The test pod manager: getPod/hasPod/ownerToPod, and CREATE2 pod deployment.
        #[sol(rpc)]
        TestEigenPodManager,
        "contracts/TestEigenPodManager.json"
    );
}

use contracts::{TestEigenPod, TestEigenPodManager};

/// Anvil's default account 0 (from the mnemonic `test test … junk`): deploys and owns the pod.
pub const DEV_POD_OWNER: ExecutionAddress =
    ExecutionAddress::new(address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").0.0);

/// The test pod manager: the first contract account 0 deploys (nonce 0).
pub const DEV_POD_MANAGER: ExecutionAddress =
    ExecutionAddress::new(address!("0x5FbDB2315678afecb367f032d93F642f64180aa3").0.0);

/// The owner's pod: CREATE2 from the manager, salted by the owner (depends on the pod's bytecode).
pub const DEV_POD: ExecutionAddress =
    ExecutionAddress::new(address!("0x076A4424f54146187f3e580825118DBB62D54813").0.0);

/// The well-known private key of anvil's account 0; worthless anywhere but a local chain.
const DEV_OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// How long one RPC call or one transaction's receipt may take.
const DEV_CALL_TIMEOUT: Duration = Duration::from_secs(30);

const WEI_PER_GWEI: u64 = 1_000_000_000;

/// One validator as the dev pod records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevValidator {
    /// Its public key (the pod keys it by the key's hash).
    pub pubkey: BlsPublicKey,
    /// Its beacon-chain index.
    pub index: ValidatorIndex,
    /// Its status in the pod.
    pub status: PodValidatorStatus,
    /// Its restaked balance.
    pub restaked_balance: Gwei,
    /// Timestamp of its last checkpoint.
    pub last_checkpointed_at: u64,
}

/// What to put into the dev pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevPodSetup {
    /// Validators to record.
    pub validators: Vec<DevValidator>,
    /// The pod's `lastCheckpointTimestamp`.
    pub last_checkpoint_timestamp: u64,
    /// The pod's `withdrawableRestakedExecutionLayerGwei` (ETH already credited).
    pub withdrawable_restaked: Gwei,
    /// ETH sent to the pod from account 0.
    pub eth_to_pod: Gwei,
}

/// The deployed dev contracts (always [`DEV_POD_MANAGER`], [`DEV_POD`], [`DEV_POD_OWNER`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevPods {
    /// The pod manager.
    pub manager: ExecutionAddress,
    /// The pod.
    pub pod: ExecutionAddress,
    /// The pod's owner, anvil's account 0.
    pub owner: ExecutionAddress,
}

/// Deploys the test manager and the owner's pod on the fresh anvil chain at `rpc_url` from
/// account 0, checks they landed at the documented addresses, and applies `setup`.
///
/// Fails if account 0 has already sent a transaction (the addresses would differ).
pub async fn deploy_dev_pods(rpc_url: &str, setup: &DevPodSetup) -> Result<DevPods> {
    let endpoint = Endpoint::parse(rpc_url, DEV_CALL_TIMEOUT)?;
    let failed = |what: String| Error::DevDeployment {
        endpoint: endpoint.shown().to_owned(),
        what,
    };
    let signer: PrivateKeySigner = DEV_OWNER_KEY
        .parse()
        .map_err(|e| failed(format!("anvil's account 0 key: {e}")))?;
    let owner = signer.address();
    if from_alloy(owner) != DEV_POD_OWNER {
        return Err(failed(format!(
            "account 0 key gives {owner}, expected {DEV_POD_OWNER}"
        )));
    }
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(endpoint.url().clone());

    let nonce = endpoint
        .call(
            || format!("eth_getTransactionCount({owner})"),
            provider.get_transaction_count(owner),
        )
        .await?;
    if nonce != 0 {
        return Err(failed(format!(
            "account 0 has already sent {nonce} transaction(s); the dev pods need a fresh chain"
        )));
    }

    let manager = endpoint
        .call(
            || "deploy TestEigenPodManager".to_owned(),
            TestEigenPodManager::deploy_builder(&provider).deploy(),
        )
        .await?;
    expect_address("TestEigenPodManager", manager, DEV_POD_MANAGER).map_err(failed)?;
    let manager = TestEigenPodManager::new(manager, &provider);

    let what = format!("TestEigenPodManager createPod({owner})");
    let pending = endpoint
        .call(|| what.clone(), manager.createPod(owner).send())
        .await?;
    confirm(&endpoint, &what, pending.get_receipt()).await?;
    let pod = endpoint
        .call(
            || format!("TestEigenPodManager ownerToPod({owner})"),
            manager.ownerToPod(owner).call(),
        )
        .await?;
    expect_address("owner's TestEigenPod", pod, DEV_POD).map_err(failed)?;
    let pod_contract = TestEigenPod::new(pod, &provider);

    for validator in &setup.validators {
        let hash = validator_pubkey_hash(&validator.pubkey);
        let what = format!("TestEigenPod setValidator({hash})");
        let call = pod_contract.setValidator(
            hash.as_bytes().into(),
            validator.index.get(),
            validator.restaked_balance.get(),
            validator.last_checkpointed_at,
            sol_status(validator.status),
        );
        let pending = endpoint.call(|| what.clone(), call.send()).await?;
        confirm(&endpoint, &what, pending.get_receipt()).await?;
    }

    let what = "TestEigenPod setLastCheckpointTimestamp".to_owned();
    let call = pod_contract.setLastCheckpointTimestamp(setup.last_checkpoint_timestamp);
    let pending = endpoint.call(|| what.clone(), call.send()).await?;
    confirm(&endpoint, &what, pending.get_receipt()).await?;

    let what = "TestEigenPod setWithdrawableRestakedExecutionLayerGwei".to_owned();
    let call =
        pod_contract.setWithdrawableRestakedExecutionLayerGwei(setup.withdrawable_restaked.get());
    let pending = endpoint.call(|| what.clone(), call.send()).await?;
    confirm(&endpoint, &what, pending.get_receipt()).await?;

    if setup.eth_to_pod.get() > 0 {
        let what = format!("send {} gwei to the pod", setup.eth_to_pod);
        let value = U256::from(setup.eth_to_pod.get()) * U256::from(WEI_PER_GWEI);
        let tx = <Ethereum as Network>::TransactionRequest::default()
            .with_to(pod)
            .with_value(value);
        let pending = endpoint
            .call(|| what.clone(), provider.send_transaction(tx))
            .await?;
        confirm(&endpoint, &what, pending.get_receipt()).await?;
    }

    Ok(DevPods {
        manager: DEV_POD_MANAGER,
        pod: DEV_POD,
        owner: DEV_POD_OWNER,
    })
}

/// Waits for a transaction's receipt and fails if it reverted.
async fn confirm<R: ReceiptResponse, E: std::fmt::Display>(
    endpoint: &Endpoint,
    what: &str,
    receipt: impl IntoFuture<Output = Result<R, E>>,
) -> Result<()> {
    let receipt = endpoint
        .call(|| format!("{what}: receipt"), receipt)
        .await?;
    if receipt.status() {
        Ok(())
    } else {
        Err(Error::DevDeployment {
            endpoint: endpoint.shown().to_owned(),
            what: format!("{what} reverted"),
        })
    }
}

fn expect_address(
    what: &str,
    actual: Address,
    expected: ExecutionAddress,
) -> std::result::Result<(), String> {
    if actual == to_alloy(expected) {
        Ok(())
    } else {
        Err(format!(
            "{what} is at {actual}, not at the documented {expected} (if the contract changed, \
             update the constant in crates/eigenpod/src/dev.rs)"
        ))
    }
}

/// `VALIDATOR_STATUS` as the ABI encodes it (the JSON ABI knows enums only as `uint8`).
fn sol_status(status: PodValidatorStatus) -> u8 {
    match status {
        PodValidatorStatus::Inactive => 0,
        PodValidatorStatus::Active => 1,
        PodValidatorStatus::Withdrawn => 2,
    }
}
