//! The calldata of the pod's three proof functions, for a transaction to the pod (or `cast send
//! <pod> <calldata>`).
//!
//! Signatures and structs as declared in `src/contracts/interfaces/IEigenPod.sol` and
//! `src/contracts/libraries/BeaconChainProofs.sol` of Layr-Labs/eigenlayer-contracts.

use alloy_primitives::{B256, Bytes, aliases::U40};
use alloy_sol_types::SolCall;

use super::types::{
    CheckpointProofs, CredentialProofs, StaleBalanceProof, StateRootProof, ValidatorFieldsProof,
};
use super::{MAX_VALIDATOR_INDEX, error::ProofError};

alloy_sol_types::sol! {
    #![sol(all_derives)]

    /// `BeaconChainProofs.StateRootProof`.
    struct SolStateRootProof {
        /// The block's state root.
        bytes32 beaconStateRoot;
        /// Its proof against the block root.
        bytes proof;
    }

    /// `BeaconChainProofs.ValidatorProof`.
    struct SolValidatorProof {
        /// The validator's 8 fields.
        bytes32[] validatorFields;
        /// Their proof against the state root.
        bytes proof;
    }

    /// `BeaconChainProofs.BalanceContainerProof`.
    struct SolBalanceContainerProof {
        /// The `balances` root.
        bytes32 balanceContainerRoot;
        /// Its proof against the block root.
        bytes proof;
    }

    /// `BeaconChainProofs.BalanceProof`.
    struct SolBalanceProof {
        /// The pod's key for the validator.
        bytes32 pubkeyHash;
        /// The chunk holding the validator's balance.
        bytes32 balanceRoot;
        /// Its proof against the `balances` root.
        bytes proof;
    }

    /// `IEigenPod.verifyWithdrawalCredentials`.
    function verifyWithdrawalCredentials(
        uint64 beaconTimestamp,
        SolStateRootProof stateRootProof,
        uint40[] validatorIndices,
        bytes[] validatorFieldsProofs,
        bytes32[][] validatorFields
    ) external;

    /// `IEigenPod.verifyCheckpointProofs`.
    function verifyCheckpointProofs(
        SolBalanceContainerProof balanceContainerProof,
        SolBalanceProof[] proofs
    ) external;

    /// `IEigenPod.verifyStaleBalance`.
    function verifyStaleBalance(
        uint64 beaconTimestamp,
        SolStateRootProof stateRootProof,
        SolValidatorProof proof
    ) external;
}

/// The calldata of `verifyWithdrawalCredentials` for `proofs`.
///
/// The struct names above are local; a struct's ABI is its tuple, so the selector and encoding
/// are those of the pod's `(uint64,(bytes32,bytes),uint40[],bytes[],bytes32[][])`.
pub fn verify_withdrawal_credentials_calldata(
    proofs: &CredentialProofs,
) -> Result<Vec<u8>, ProofError> {
    let validator_indices = proofs
        .validators
        .iter()
        .map(|v| uint40(v.index))
        .collect::<Result<Vec<_>, _>>()?;
    let call = verifyWithdrawalCredentialsCall {
        beaconTimestamp: proofs.beacon_timestamp,
        stateRootProof: state_root_proof(&proofs.state_root_proof),
        validatorIndices: validator_indices,
        validatorFieldsProofs: proofs
            .validators
            .iter()
            .map(|v| Bytes::copy_from_slice(v.proof.as_bytes()))
            .collect(),
        validatorFields: proofs.validators.iter().map(fields).collect(),
    };
    Ok(call.abi_encode())
}

/// The calldata of `verifyCheckpointProofs` for `proofs`.
pub fn verify_checkpoint_proofs_calldata(proofs: &CheckpointProofs) -> Vec<u8> {
    verifyCheckpointProofsCall {
        balanceContainerProof: SolBalanceContainerProof {
            balanceContainerRoot: B256::from(*proofs.balance_container.root.as_bytes()),
            proof: Bytes::copy_from_slice(proofs.balance_container.proof.as_bytes()),
        },
        proofs: proofs
            .balances
            .iter()
            .map(|b| SolBalanceProof {
                pubkeyHash: B256::from(*b.pubkey_hash.as_bytes()),
                balanceRoot: B256::from(*b.balance_root.as_bytes()),
                proof: Bytes::copy_from_slice(b.proof.as_bytes()),
            })
            .collect(),
    }
    .abi_encode()
}

/// The calldata of `verifyStaleBalance` for `proof`.
pub fn verify_stale_balance_calldata(proof: &StaleBalanceProof) -> Vec<u8> {
    verifyStaleBalanceCall {
        beaconTimestamp: proof.beacon_timestamp,
        stateRootProof: state_root_proof(&proof.state_root_proof),
        proof: SolValidatorProof {
            validatorFields: fields(&proof.validator),
            proof: Bytes::copy_from_slice(proof.validator.proof.as_bytes()),
        },
    }
    .abi_encode()
}

fn state_root_proof(proof: &StateRootProof) -> SolStateRootProof {
    SolStateRootProof {
        beaconStateRoot: B256::from(*proof.beacon_state_root.as_bytes()),
        proof: Bytes::copy_from_slice(proof.proof.as_bytes()),
    }
}

fn fields(proof: &ValidatorFieldsProof) -> Vec<B256> {
    proof
        .fields
        .iter()
        .map(|f| B256::from(*f.as_bytes()))
        .collect()
}

fn uint40(index: restake_types::ValidatorIndex) -> Result<U40, ProofError> {
    if index.get() > MAX_VALIDATOR_INDEX {
        return Err(ProofError::IndexTooLarge { index });
    }
    Ok(U40::from(index.get()))
}

#[cfg(test)]
mod tests {
    use restake_beacon::Root;
    use restake_types::ValidatorIndex;

    use super::*;
    use crate::{
        bindings::ValidatorPubkeyHash,
        proofs::types::{
            BalanceContainerProof, BalanceProof, MerkleProof, ProofVersion, VALIDATOR_FIELD_COUNT,
        },
    };

    fn validator(index: u64) -> ValidatorFieldsProof {
        ValidatorFieldsProof {
            index: ValidatorIndex(index),
            fields: std::array::from_fn(|i| Root::new([i as u8 + 1; 32])),
            proof: MerkleProof::new(vec![index as u8; 47 * 32]),
        }
    }

    fn state_root() -> StateRootProof {
        StateRootProof {
            beacon_state_root: Root::new([0xaa; 32]),
            proof: MerkleProof::new(vec![0xbb; 96]),
        }
    }

    #[test]
    fn selectors_are_the_pods() {
        assert_eq!(
            verifyWithdrawalCredentialsCall::SIGNATURE,
            "verifyWithdrawalCredentials(uint64,(bytes32,bytes),uint40[],bytes[],bytes32[][])"
        );
        assert_eq!(
            verifyCheckpointProofsCall::SIGNATURE,
            "verifyCheckpointProofs((bytes32,bytes),(bytes32,bytes32,bytes)[])"
        );
        assert_eq!(
            verifyStaleBalanceCall::SIGNATURE,
            "verifyStaleBalance(uint64,(bytes32,bytes),(bytes32[],bytes))"
        );
    }

    #[test]
    fn credential_calldata_round_trips() {
        let proofs = CredentialProofs {
            beacon_timestamp: 1_700_000_024,
            block_root: Root::new([1; 32]),
            version: ProofVersion::Pectra,
            state_root_proof: state_root(),
            validators: vec![validator(7), validator((1 << 40) - 1)],
        };
        let calldata = verify_withdrawal_credentials_calldata(&proofs).unwrap();
        assert_eq!(calldata[..4], verifyWithdrawalCredentialsCall::SELECTOR);
        let call = verifyWithdrawalCredentialsCall::abi_decode(&calldata).unwrap();
        assert_eq!(call.beaconTimestamp, 1_700_000_024);
        assert_eq!(
            call.stateRootProof,
            state_root_proof(&proofs.state_root_proof)
        );
        assert_eq!(
            call.validatorIndices,
            vec![U40::from(7u64), U40::from((1u64 << 40) - 1)]
        );
        assert_eq!(call.validatorFieldsProofs[1].len(), 47 * 32);
        assert_eq!(call.validatorFields[0].len(), VALIDATOR_FIELD_COUNT);
        assert_eq!(call.validatorFields[0][3], B256::from([4; 32]));
    }

    #[test]
    fn indices_past_uint40_have_no_calldata() {
        let proofs = CredentialProofs {
            beacon_timestamp: 1,
            block_root: Root::new([1; 32]),
            version: ProofVersion::Pectra,
            state_root_proof: state_root(),
            validators: vec![validator(1 << 40)],
        };
        assert_eq!(
            verify_withdrawal_credentials_calldata(&proofs),
            Err(ProofError::IndexTooLarge {
                index: ValidatorIndex(1 << 40)
            })
        );
    }

    #[test]
    fn checkpoint_and_stale_balance_calldata_round_trip() {
        let checkpoint = CheckpointProofs {
            block_root: Root::new([1; 32]),
            version: ProofVersion::Deneb,
            balance_container: BalanceContainerProof {
                root: Root::new([2; 32]),
                proof: MerkleProof::new(vec![3; 8 * 32]),
            },
            balances: vec![BalanceProof {
                index: ValidatorIndex(5),
                pubkey_hash: ValidatorPubkeyHash::new([4; 32]),
                balance_root: Root::new([5; 32]),
                proof: MerkleProof::new(vec![6; 39 * 32]),
            }],
        };
        let call =
            verifyCheckpointProofsCall::abi_decode(&verify_checkpoint_proofs_calldata(&checkpoint))
                .unwrap();
        assert_eq!(
            call.balanceContainerProof.balanceContainerRoot,
            B256::from([2; 32])
        );
        assert_eq!(call.proofs.len(), 1);
        assert_eq!(call.proofs[0].pubkeyHash, B256::from([4; 32]));
        assert_eq!(call.proofs[0].balanceRoot, B256::from([5; 32]));
        assert_eq!(call.proofs[0].proof.len(), 39 * 32);

        let stale = StaleBalanceProof {
            beacon_timestamp: 99,
            block_root: Root::new([1; 32]),
            version: ProofVersion::Pectra,
            state_root_proof: state_root(),
            validator: validator(3),
        };
        let call =
            verifyStaleBalanceCall::abi_decode(&verify_stale_balance_calldata(&stale)).unwrap();
        assert_eq!(call.beaconTimestamp, 99);
        assert_eq!(call.proof.validatorFields, fields(&stale.validator));
        assert_eq!(call.proof.proof.len(), 47 * 32);
    }
}
