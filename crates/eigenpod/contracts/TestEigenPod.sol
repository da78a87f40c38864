// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title TestEigenPod
/// @notice A stand-in for EigenLayer's EigenPod on development and test chains. It implements the
/// read interface that restaked reconciles against (signatures as in IEigenPod.sol of
/// Layr-Labs/eigenlayer-contracts) and lets the manager's admin set every value directly, in
/// place of the proofs the real pod verifies. It accepts ETH like a real pod. Its three proof
/// functions take the real pod's arguments but check only their shape (array lengths and proof
/// sizes of the Pectra layout), then record and emit what they received; they verify no proof.
contract TestEigenPod {
    enum VALIDATOR_STATUS {
        INACTIVE,
        ACTIVE,
        WITHDRAWN
    }

    struct ValidatorInfo {
        uint64 validatorIndex;
        uint64 restakedBalanceGwei;
        uint64 lastCheckpointedAt;
        VALIDATOR_STATUS status;
    }

    struct Checkpoint {
        bytes32 beaconBlockRoot;
        uint24 proofsRemaining;
        uint64 podBalanceGwei;
        int64 balanceDeltasGwei;
        uint64 prevBeaconBalanceGwei;
    }

    /// @notice The manager that deployed this pod.
    address public immutable eigenPodManager;
    /// @notice The owner of this pod.
    address public immutable podOwner;

    /// @notice Number of validators marked ACTIVE (kept by `setValidator`, or forced).
    uint256 public activeValidatorCount;
    /// @notice The timestamp of the last finalized checkpoint.
    uint64 public lastCheckpointTimestamp;
    /// @notice The timestamp of the checkpoint in progress, 0 if none.
    uint64 public currentCheckpointTimestamp;
    /// @notice ETH in the pod already credited as restaked, in gwei.
    uint64 public withdrawableRestakedExecutionLayerGwei;

    /// `BeaconChainProofs.StateRootProof`.
    struct StateRootProof {
        bytes32 beaconStateRoot;
        bytes proof;
    }

    /// `BeaconChainProofs.ValidatorProof`.
    struct ValidatorProof {
        bytes32[] validatorFields;
        bytes proof;
    }

    /// `BeaconChainProofs.BalanceContainerProof`.
    struct BalanceContainerProof {
        bytes32 balanceContainerRoot;
        bytes proof;
    }

    /// `BeaconChainProofs.BalanceProof`.
    struct BalanceProof {
        bytes32 pubkeyHash;
        bytes32 balanceRoot;
        bytes proof;
    }

    /// Pectra: the state's field tree has height 6.
    uint256 private constant STATE_TREE_HEIGHT = 6;
    uint256 private constant VALIDATOR_FIELDS_LENGTH = 8;
    uint256 private constant STATE_ROOT_PROOF_LENGTH = 32 * 3;
    uint256 private constant VALIDATOR_FIELDS_PROOF_LENGTH = 32 * (41 + STATE_TREE_HEIGHT);
    uint256 private constant BALANCE_CONTAINER_PROOF_LENGTH = 32 * (3 + STATE_TREE_HEIGHT);
    uint256 private constant BALANCE_PROOF_LENGTH = 32 * 39;

    /// @notice How many validators' credential proofs were received, over all calls.
    uint256 public credentialProofsReceived;
    /// @notice How many balance proofs were received, over all calls.
    uint256 public balanceProofsReceived;
    /// @notice How many stale-balance proofs were received.
    uint256 public staleBalanceProofsReceived;
    /// @notice The state root of the last credential or stale-balance proof received.
    bytes32 public lastBeaconStateRoot;
    /// @notice The beacon timestamp of the last credential or stale-balance proof received.
    uint64 public lastBeaconTimestamp;

    mapping(bytes32 => ValidatorInfo) private validators;
    Checkpoint private checkpoint;

    /// @notice A well-shaped `verifyWithdrawalCredentials` call was received.
    event WithdrawalCredentialsProofsReceived(
        uint64 beaconTimestamp, bytes32 beaconStateRoot, uint40[] validatorIndices
    );
    /// @notice A well-shaped `verifyCheckpointProofs` call was received.
    event CheckpointProofsReceived(bytes32 balanceContainerRoot, bytes32[] pubkeyHashes);
    /// @notice A well-shaped `verifyStaleBalance` call was received.
    event StaleBalanceProofReceived(uint64 beaconTimestamp, bytes32 beaconStateRoot, bytes32 pubkeyField);

    error OnlyAdmin();
    error InvalidPubKeyLength();

    constructor(address owner) {
        eigenPodManager = msg.sender;
        podOwner = owner;
    }

    modifier onlyAdmin() {
        if (msg.sender != TestEigenPodManagerAdmin(eigenPodManager).admin()) revert OnlyAdmin();
        _;
    }

    receive() external payable {}

    // ---- the read interface of IEigenPod ----

    function validatorPubkeyHashToInfo(bytes32 validatorPubkeyHash) external view returns (ValidatorInfo memory) {
        return validators[validatorPubkeyHash];
    }

    function validatorPubkeyToInfo(bytes calldata validatorPubkey) external view returns (ValidatorInfo memory) {
        return validators[pubkeyHash(validatorPubkey)];
    }

    function validatorStatus(bytes32 validatorPubkeyHash) external view returns (VALIDATOR_STATUS) {
        return validators[validatorPubkeyHash].status;
    }

    function currentCheckpoint() external view returns (Checkpoint memory) {
        return checkpoint;
    }

    // ---- the proof functions of IEigenPod, checking the call's shape only ----

    function verifyWithdrawalCredentials(
        uint64 beaconTimestamp,
        StateRootProof calldata stateRootProof,
        uint40[] calldata validatorIndices,
        bytes[] calldata validatorFieldsProofs,
        bytes32[][] calldata validatorFields
    ) external {
        require(
            validatorIndices.length == validatorFieldsProofs.length
                && validatorIndices.length == validatorFields.length,
            "TestEigenPod: validatorIndices, validatorFieldsProofs and validatorFields differ in length"
        );
        require(validatorIndices.length > 0, "TestEigenPod: no validators");
        checkStateRootProof(stateRootProof);
        for (uint256 i = 0; i < validatorIndices.length; i++) {
            checkValidatorProof(validatorFields[i], validatorFieldsProofs[i]);
        }
        credentialProofsReceived += validatorIndices.length;
        lastBeaconStateRoot = stateRootProof.beaconStateRoot;
        lastBeaconTimestamp = beaconTimestamp;
        emit WithdrawalCredentialsProofsReceived(beaconTimestamp, stateRootProof.beaconStateRoot, validatorIndices);
    }

    function verifyCheckpointProofs(BalanceContainerProof calldata balanceContainerProof, BalanceProof[] calldata proofs)
        external
    {
        require(
            balanceContainerProof.proof.length == BALANCE_CONTAINER_PROOF_LENGTH,
            "TestEigenPod: balance container proof is not 32 * (3 + 6) bytes"
        );
        require(proofs.length > 0, "TestEigenPod: no balance proofs");
        bytes32[] memory pubkeyHashes = new bytes32[](proofs.length);
        for (uint256 i = 0; i < proofs.length; i++) {
            require(proofs[i].proof.length == BALANCE_PROOF_LENGTH, "TestEigenPod: balance proof is not 32 * 39 bytes");
            pubkeyHashes[i] = proofs[i].pubkeyHash;
        }
        balanceProofsReceived += proofs.length;
        emit CheckpointProofsReceived(balanceContainerProof.balanceContainerRoot, pubkeyHashes);
    }

    function verifyStaleBalance(
        uint64 beaconTimestamp,
        StateRootProof calldata stateRootProof,
        ValidatorProof calldata proof
    ) external {
        checkStateRootProof(stateRootProof);
        checkValidatorProof(proof.validatorFields, proof.proof);
        staleBalanceProofsReceived += 1;
        lastBeaconStateRoot = stateRootProof.beaconStateRoot;
        lastBeaconTimestamp = beaconTimestamp;
        emit StaleBalanceProofReceived(beaconTimestamp, stateRootProof.beaconStateRoot, proof.validatorFields[0]);
    }

    // ---- setters for tests and the dev chain ----

    function setValidator(
        bytes32 validatorPubkeyHash,
        uint64 validatorIndex,
        uint64 restakedBalanceGwei,
        uint64 lastCheckpointedAt,
        VALIDATOR_STATUS status
    ) external onlyAdmin {
        bool wasActive = validators[validatorPubkeyHash].status == VALIDATOR_STATUS.ACTIVE;
        bool isActive = status == VALIDATOR_STATUS.ACTIVE;
        if (wasActive && !isActive) activeValidatorCount -= 1;
        if (!wasActive && isActive) activeValidatorCount += 1;
        validators[validatorPubkeyHash] = ValidatorInfo(validatorIndex, restakedBalanceGwei, lastCheckpointedAt, status);
    }

    function setActiveValidatorCount(uint256 count) external onlyAdmin {
        activeValidatorCount = count;
    }

    function setLastCheckpointTimestamp(uint64 timestamp) external onlyAdmin {
        lastCheckpointTimestamp = timestamp;
    }

    function setCurrentCheckpoint(uint64 timestamp, Checkpoint calldata inProgress) external onlyAdmin {
        currentCheckpointTimestamp = timestamp;
        checkpoint = inProgress;
    }

    function setWithdrawableRestakedExecutionLayerGwei(uint64 amountGwei) external onlyAdmin {
        withdrawableRestakedExecutionLayerGwei = amountGwei;
    }

    function checkStateRootProof(StateRootProof calldata stateRootProof) private pure {
        require(
            stateRootProof.proof.length == STATE_ROOT_PROOF_LENGTH, "TestEigenPod: state root proof is not 32 * 3 bytes"
        );
    }

    function checkValidatorProof(bytes32[] calldata fields, bytes calldata proof) private pure {
        require(fields.length == VALIDATOR_FIELDS_LENGTH, "TestEigenPod: validator fields are not 8");
        require(proof.length % 32 == 0, "TestEigenPod: validator fields proof is not a multiple of 32 bytes");
        require(
            proof.length == VALIDATOR_FIELDS_PROOF_LENGTH,
            "TestEigenPod: validator fields proof is not 32 * (41 + 6) bytes"
        );
    }

    /// @dev sha256(pubkey || 16 zero bytes), as EigenPod's `_calculateValidatorPubkeyHash`.
    function pubkeyHash(bytes calldata validatorPubkey) private pure returns (bytes32) {
        if (validatorPubkey.length != 48) revert InvalidPubKeyLength();
        return sha256(abi.encodePacked(validatorPubkey, bytes16(0)));
    }
}

/// @dev The one function of the manager a pod calls.
interface TestEigenPodManagerAdmin {
    function admin() external view returns (address);
}
