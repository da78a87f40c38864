//! Bindings for the read interface of EigenLayer's pod contracts.
//!
//! Signatures as declared in `src/contracts/interfaces/IEigenPod.sol` and
//! `src/contracts/interfaces/IEigenPodManager.sol` of Layr-Labs/eigenlayer-contracts (the
//! slashing-era interfaces with checkpoints). Only the view functions restaked reads are bound;
//! return types that are interfaces there (`IEigenPod`) are `address` on the wire.

use restake_types::BlsPublicKey;
use sha2::{Digest, Sha256};

alloy_sol_types::sol! {
    /// The read interface of EigenLayer's `EigenPodManager`.
    #[sol(rpc, all_derives)]
    interface IEigenPodManager {
        /// The owner's pod if it has been deployed, else the zero address.
        function ownerToPod(address podOwner) external view returns (address);
        /// The owner's pod address, whether it is deployed yet or not.
        function getPod(address podOwner) external view returns (address);
        /// Whether the owner has created a pod.
        function hasPod(address podOwner) external view returns (bool);
    }

    /// The read interface of EigenLayer's `EigenPod`.
    #[sol(rpc, all_derives)]
    interface IEigenPod {
        /// A validator's state in the pod.
        enum VALIDATOR_STATUS {
            /// Unknown to the pod: credentials never verified.
            INACTIVE,
            /// Credentials verified; counted by checkpoints.
            ACTIVE,
            /// Proven at zero balance by a checkpoint.
            WITHDRAWN
        }

        /// What the pod records for one validator.
        struct ValidatorInfo {
            /// Beacon-chain index.
            uint64 validatorIndex;
            /// Restaked balance in gwei, as of the last checkpoint.
            uint64 restakedBalanceGwei;
            /// Timestamp of the validator's most recent checkpoint.
            uint64 lastCheckpointedAt;
            /// Status in the pod.
            VALIDATOR_STATUS status;
        }

        /// The checkpoint in progress.
        struct Checkpoint {
            /// The beacon block root the checkpoint proves against.
            bytes32 beaconBlockRoot;
            /// Validators still to be proven.
            uint24 proofsRemaining;
            /// ETH in the pod (in gwei) the checkpoint will credit.
            uint64 podBalanceGwei;
            /// Sum of balance changes proven so far.
            int64 balanceDeltasGwei;
            /// Total restaked beacon balance before the checkpoint.
            uint64 prevBeaconBalanceGwei;
        }

        /// The pod's owner.
        function podOwner() external view returns (address);
        /// A validator's record, by `sha256(pubkey || bytes16(0))`.
        function validatorPubkeyHashToInfo(bytes32 validatorPubkeyHash) external view returns (ValidatorInfo memory);
        /// A validator's status, by pubkey hash.
        function validatorStatus(bytes32 pubkeyHash) external view returns (VALIDATOR_STATUS);
        /// Validators with verified credentials not yet proven withdrawn.
        function activeValidatorCount() external view returns (uint256);
        /// Timestamp of the checkpoint in progress, 0 if none.
        function currentCheckpointTimestamp() external view returns (uint64);
        /// Timestamp of the last finalized checkpoint.
        function lastCheckpointTimestamp() external view returns (uint64);
        /// ETH in the pod already credited as restaked, in gwei.
        function withdrawableRestakedExecutionLayerGwei() external view returns (uint64);
        /// The checkpoint in progress (zeroes if none).
        function currentCheckpoint() external view returns (Checkpoint memory);
    }
}

restake_types::fixed_bytes!(
    /// The key under which an EigenPod records a validator (see [`validator_pubkey_hash`]).
    ValidatorPubkeyHash,
    32
);

/// The key under which an EigenPod records a validator: `sha256(pubkey || 16 zero bytes)`, the
/// SSZ hash-tree-root of the 48-byte public key, as EigenPod's `_calculateValidatorPubkeyHash`.
pub fn validator_pubkey_hash(pubkey: &BlsPublicKey) -> ValidatorPubkeyHash {
    let mut hasher = Sha256::new();
    hasher.update(pubkey.as_bytes());
    hasher.update([0u8; 16]);
    ValidatorPubkeyHash::new(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pubkey_hash_is_sha256_of_the_key_padded_to_64_bytes() {
        let pubkey = BlsPublicKey::new([0xab; 48]);
        let mut padded = [0u8; 64];
        padded[..48].copy_from_slice(pubkey.as_bytes());
        let expected: [u8; 32] = Sha256::digest(padded).into();
        assert_eq!(validator_pubkey_hash(&pubkey).as_bytes(), &expected);
    }

    #[test]
    fn pubkey_hash_of_zero_key_is_the_known_sha256_of_64_zero_bytes() {
        // sha256 of 64 zero bytes, the zero hash at depth 1 of SSZ Merkleization.
        let expected = "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b";
        let hash = validator_pubkey_hash(&BlsPublicKey::new([0; 48]));
        assert_eq!(hash.to_string(), format!("0x{expected}"));
    }

    #[test]
    fn pubkey_hash_differs_for_different_keys() {
        let a = validator_pubkey_hash(&BlsPublicKey::new([1; 48]));
        let b = validator_pubkey_hash(&BlsPublicKey::new([2; 48]));
        assert_ne!(a, b);
    }
}
