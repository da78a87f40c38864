//! Reading the JSON files of Layr-Labs' `eigenpod-proofs-generation` CLI (Go).
//!
//! Credential proofs are its `SerializableCredentialProof` (`cli/core/validator.go`):
//! `{"ValidatorProofs": VerifyValidatorFieldsCallParams, "OracleBeaconTimestamp": n}`, the
//! inner `stateRootProof` being `{"beaconStateRoot", "proof"}` (older versions name the proof
//! `stateRootProof` there too). Checkpoint proofs are its `VerifyCheckpointProofsCallParams`:
//! `{"validatorBalancesRootProof": {"validatorBalanceRoot", "proof"}, "balanceProofs":
//! [{"pubkeyHash", "balanceRoot", "proof"}]}`. Proofs are `0x` strings of concatenated nodes,
//! roots `0x` strings; `pubkeyHash` (a Go `[32]byte`) and validator fields are read either as
//! `0x` strings or as arrays of 32 numbers.
//!
//! The Go files name neither the block root nor the proof version: the block root is the one
//! the state-root (or balance container) proof walks up to, and the version follows from the
//! proofs' lengths. Verify the result against the block root EIP-4788 returns for the
//! timestamp before trusting it. Balance proofs carry no validator index: the caller gives the
//! indices, in the file's order.

use restake_beacon::Root;
use restake_types::ValidatorIndex;
use serde::Deserialize;

use super::{
    BALANCE_CONTAINER_INDEX, BLOCK_HEADER_TREE_HEIGHT, STATE_ROOT_INDEX, VALIDATOR_TREE_HEIGHT,
    error::ProofError,
    merkle::root_from_branch,
    types::{
        BalanceContainerProof, BalanceProof, CheckpointProofs, CredentialProofs, MerkleProof,
        ProofVersion, StateRootProof, VALIDATOR_FIELD_COUNT, ValidatorFieldsProof,
    },
};
use crate::bindings::ValidatorPubkeyHash;

/// Reads a credential proof file of the Go CLI.
pub fn credential_proofs_from_go_json(json: &str) -> Result<CredentialProofs, ProofError> {
    let file: GoCredentialFile = serde_json::from_str(json).map_err(go_json_error)?;
    let params = file.validator_proofs;
    let count = params.validator_indices.len();
    if params.validator_fields_proofs.len() != count || params.validator_fields.len() != count {
        return Err(ProofError::GoJson {
            reason: format!(
                "{count} validatorIndices, {} validatorFieldsProofs, {} validatorFields",
                params.validator_fields_proofs.len(),
                params.validator_fields.len()
            ),
        });
    }
    let Some(first) = params.validator_fields_proofs.first() else {
        return Err(ProofError::GoJson {
            reason: "no validators".to_owned(),
        });
    };
    let version = version_from_nodes(
        first.len() / 32,
        VALIDATOR_TREE_HEIGHT + 1,
        "validatorFieldsProofs",
    )?;
    let validators = params
        .validator_indices
        .into_iter()
        .zip(params.validator_fields_proofs)
        .zip(params.validator_fields)
        .map(|((index, proof), fields)| {
            let index = ValidatorIndex(index);
            let fields: Vec<Root> = fields.into_iter().map(GoBytes32::into_root).collect();
            let actual = fields.len();
            let fields: [Root; VALIDATOR_FIELD_COUNT] =
                fields.try_into().map_err(|_| ProofError::GoJson {
                    reason: format!(
                        "validator {index} has {actual} fields, expected {VALIDATOR_FIELD_COUNT}"
                    ),
                })?;
            Ok(ValidatorFieldsProof {
                index,
                fields,
                proof,
            })
        })
        .collect::<Result<Vec<_>, ProofError>>()?;
    let state_root_proof = StateRootProof {
        beacon_state_root: params.state_root_proof.beacon_state_root,
        proof: params.state_root_proof.proof,
    };
    let block_root = Root::new(root_from_branch(
        state_root_proof.beacon_state_root.as_bytes(),
        &state_root_proof.proof.nodes(),
        STATE_ROOT_INDEX,
    ));
    Ok(CredentialProofs {
        beacon_timestamp: file.oracle_beacon_timestamp,
        block_root,
        version,
        state_root_proof,
        validators,
    })
}

/// Reads a checkpoint proof file of the Go CLI, whose balance proofs are for `indices` in that
/// order.
pub fn checkpoint_proofs_from_go_json(
    json: &str,
    indices: &[ValidatorIndex],
) -> Result<CheckpointProofs, ProofError> {
    let file: GoCheckpointFile = serde_json::from_str(json).map_err(go_json_error)?;
    if file.balance_proofs.len() != indices.len() {
        return Err(ProofError::GoJson {
            reason: format!(
                "{} balanceProofs for {} validator indices",
                file.balance_proofs.len(),
                indices.len()
            ),
        });
    }
    let container = file.validator_balances_root_proof;
    let version = version_from_nodes(
        container.proof.len() / 32,
        BLOCK_HEADER_TREE_HEIGHT,
        "validatorBalancesRootProof",
    )?;
    let height = version.state_tree_height();
    let block_root = Root::new(root_from_branch(
        container.validator_balance_root.as_bytes(),
        &container.proof.nodes(),
        (STATE_ROOT_INDEX << height) | BALANCE_CONTAINER_INDEX,
    ));
    let balances = file
        .balance_proofs
        .into_iter()
        .zip(indices)
        .map(|(proof, &index)| BalanceProof {
            index,
            pubkey_hash: ValidatorPubkeyHash::new(*proof.pubkey_hash.into_root().as_bytes()),
            balance_root: proof.balance_root,
            proof: proof.proof,
        })
        .collect();
    Ok(CheckpointProofs {
        block_root,
        version,
        balance_container: BalanceContainerProof {
            root: container.validator_balance_root,
            proof: container.proof,
        },
        balances,
    })
}

/// The version whose state tree makes a proof of `nodes` nodes, `other` of them outside the
/// state's field tree.
fn version_from_nodes(nodes: usize, other: usize, what: &str) -> Result<ProofVersion, ProofError> {
    nodes
        .checked_sub(other)
        .and_then(ProofVersion::from_state_tree_height)
        .ok_or_else(|| ProofError::GoJson {
            reason: format!(
                "{what}: {nodes} nodes fit no proof version ({} or {} expected)",
                other + ProofVersion::Deneb.state_tree_height(),
                other + ProofVersion::Pectra.state_tree_height()
            ),
        })
}

fn go_json_error(e: serde_json::Error) -> ProofError {
    ProofError::GoJson {
        reason: e.to_string(),
    }
}

/// `SerializableCredentialProof` (no JSON tags: Go's field names).
#[derive(Deserialize)]
struct GoCredentialFile {
    #[serde(rename = "ValidatorProofs")]
    validator_proofs: GoValidatorFieldsParams,
    #[serde(rename = "OracleBeaconTimestamp")]
    oracle_beacon_timestamp: u64,
}

/// `VerifyValidatorFieldsCallParams`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoValidatorFieldsParams {
    state_root_proof: GoStateRootProof,
    validator_indices: Vec<u64>,
    validator_fields_proofs: Vec<MerkleProof>,
    validator_fields: Vec<Vec<GoBytes32>>,
}

/// `StateRootProof`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoStateRootProof {
    beacon_state_root: Root,
    #[serde(alias = "stateRootProof")]
    proof: MerkleProof,
}

/// `VerifyCheckpointProofsCallParams`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoCheckpointFile {
    validator_balances_root_proof: GoBalancesRootProof,
    balance_proofs: Vec<GoBalanceProof>,
}

/// `ValidatorBalancesRootProof`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoBalancesRootProof {
    validator_balance_root: Root,
    proof: MerkleProof,
}

/// `BalanceProof`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoBalanceProof {
    pubkey_hash: GoBytes32,
    balance_root: Root,
    proof: MerkleProof,
}

/// 32 bytes as Go writes them: `0x` hex for its root types, an array of numbers for `[32]byte`.
#[derive(Deserialize)]
#[serde(untagged)]
enum GoBytes32 {
    Hex(Root),
    Array([u8; 32]),
}

impl GoBytes32 {
    fn into_root(self) -> Root {
        match self {
            Self::Hex(root) => root,
            Self::Array(bytes) => Root::new(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proofs::merkle::{Node, branch, merkleize};

    fn hex(node: &Node) -> String {
        format!("0x{}", alloy_primitives::hex::encode(node))
    }

    fn proof_hex(nodes: &[Node]) -> String {
        format!("0x{}", alloy_primitives::hex::encode(nodes.concat()))
    }

    #[test]
    fn credentials_take_the_block_root_from_the_state_root_proof() {
        let header: Vec<Node> = (0..8u8).map(|i| [i; 32]).collect();
        let fields: Vec<String> = (0..8u8).map(|i| hex(&[0x10 + i; 32])).collect();
        let validator_proof = vec![[0xee; 32]; 46];
        // The older name of the inner proof, and a field written as Go's byte array.
        let mut fields_json = serde_json::to_value(&fields).unwrap();
        fields_json[2] = serde_json::to_value([0x12u8; 32]).unwrap();
        let json = serde_json::json!({
            "ValidatorProofs": {
                "stateRootProof": {
                    "beaconStateRoot": hex(&header[3]),
                    "stateRootProof": proof_hex(&branch(&header, 3)),
                },
                "validatorIndices": [42],
                "validatorFieldsProofs": [proof_hex(&validator_proof)],
                "validatorFields": [fields_json],
            },
            "OracleBeaconTimestamp": 1_700_000_024u64,
        });
        let proofs = credential_proofs_from_go_json(&json.to_string()).unwrap();
        assert_eq!(proofs.block_root, Root::new(merkleize(&header)));
        assert_eq!(proofs.beacon_timestamp, 1_700_000_024);
        assert_eq!(proofs.version, ProofVersion::Deneb);
        assert_eq!(proofs.validators[0].index, ValidatorIndex(42));
        assert_eq!(proofs.validators[0].fields[2], Root::new([0x12; 32]));
        assert_eq!(proofs.validators[0].proof.len(), 46 * 32);
    }

    #[test]
    fn checkpoint_indices_come_from_the_caller() {
        let go_byte_array = [3u8; 32];
        let json = serde_json::json!({
            "validatorBalancesRootProof": {
                "validatorBalanceRoot": hex(&[1; 32]),
                "proof": proof_hex(&[[2; 32]; 9]),
            },
            "balanceProofs": [
                {"pubkeyHash": go_byte_array, "balanceRoot": hex(&[4; 32]), "proof": proof_hex(&[[5; 32]; 39])},
                {"pubkeyHash": hex(&[6; 32]), "balanceRoot": hex(&[7; 32]), "proof": proof_hex(&[[8; 32]; 39])},
            ],
        })
        .to_string();
        let indices = [ValidatorIndex(11), ValidatorIndex(12)];
        let proofs = checkpoint_proofs_from_go_json(&json, &indices).unwrap();
        assert_eq!(proofs.version, ProofVersion::Pectra);
        assert_eq!(proofs.balances[0].index, ValidatorIndex(11));
        assert_eq!(
            proofs.balances[0].pubkey_hash,
            ValidatorPubkeyHash::new([3; 32])
        );
        assert_eq!(
            proofs.balances[1].pubkey_hash,
            ValidatorPubkeyHash::new([6; 32])
        );
        let err = checkpoint_proofs_from_go_json(&json, &indices[..1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "eigenpod-proofs-generation JSON: 2 balanceProofs for 1 validator indices"
        );
    }

    #[test]
    fn lengths_of_no_version_and_wrong_field_counts_are_refused() {
        let json = serde_json::json!({
            "validatorBalancesRootProof": {
                "validatorBalanceRoot": hex(&[1; 32]),
                "proof": proof_hex(&[[2; 32]; 7]),
            },
            "balanceProofs": [],
        })
        .to_string();
        let err = checkpoint_proofs_from_go_json(&json, &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("7 nodes fit no proof version (8 or 9 expected)"),
            "{err}"
        );

        let json = serde_json::json!({
            "ValidatorProofs": {
                "stateRootProof": {"beaconStateRoot": hex(&[0; 32]), "proof": proof_hex(&[[0; 32]; 3])},
                "validatorIndices": [1],
                "validatorFieldsProofs": [proof_hex(&[[0; 32]; 47])],
                "validatorFields": [[hex(&[0; 32])]],
            },
            "OracleBeaconTimestamp": 1,
        })
        .to_string();
        let err = credential_proofs_from_go_json(&json).unwrap_err();
        assert!(
            err.to_string()
                .contains("validator 1 has 1 fields, expected 8"),
            "{err}"
        );
        assert!(matches!(
            credential_proofs_from_go_json("{\"ValidatorProofs\": 3}"),
            Err(ProofError::GoJson { .. })
        ));
    }
}
