// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title TestEigenPod
/// @notice A stand-in for EigenLayer's EigenPod on development and test chains. It implements the
/// read interface that restaked reconciles against (signatures as in IEigenPod.sol of
/// Layr-Labs/eigenlayer-contracts) and lets the manager's admin set every value directly, in
/// place of the proofs the real pod verifies. It accepts ETH like a real pod.
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

    mapping(bytes32 => ValidatorInfo) private validators;
    Checkpoint private checkpoint;

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
