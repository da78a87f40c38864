// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import "./TestEigenPod.sol";

/// @title TestEigenPodManager
/// @notice A stand-in for EigenLayer's EigenPodManager on development and test chains: the read
/// interface restaked uses (`getPod`, `hasPod`, `ownerToPod`, signatures as in
/// IEigenPodManager.sol of Layr-Labs/eigenlayer-contracts), pods deployed with CREATE2 salted by
/// the owner so `getPod` knows a pod's address before it exists, and an admin who creates pods
/// for any owner or maps an owner to an existing address.
contract TestEigenPodManager {
    /// @notice The account allowed to create pods and to call the pods' setters.
    address public immutable admin;
    /// @notice The owner's pod, or the zero address if none.
    mapping(address => address) public ownerToPod;

    event PodDeployed(address indexed eigenPod, address indexed podOwner);

    error OnlyAdmin();
    error EigenPodAlreadyExists();

    constructor() {
        admin = msg.sender;
    }

    modifier onlyAdmin() {
        if (msg.sender != admin) revert OnlyAdmin();
        _;
    }

    function hasPod(address podOwner) external view returns (bool) {
        return ownerToPod[podOwner] != address(0);
    }

    function getPod(address podOwner) public view returns (address) {
        address pod = ownerToPod[podOwner];
        if (pod != address(0)) return pod;
        bytes32 initCodeHash = keccak256(abi.encodePacked(type(TestEigenPod).creationCode, abi.encode(podOwner)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt(podOwner), initCodeHash)))));
    }

    /// @notice Deploys a pod for `podOwner` (the real manager's `createPod`, for any owner).
    function createPod(address podOwner) external onlyAdmin returns (address) {
        if (ownerToPod[podOwner] != address(0)) revert EigenPodAlreadyExists();
        address pod = address(new TestEigenPod{salt: salt(podOwner)}(podOwner));
        ownerToPod[podOwner] = pod;
        emit PodDeployed(pod, podOwner);
        return pod;
    }

    /// @notice Maps `podOwner` to `pod` (any address, for mismatch scenarios).
    function registerPod(address podOwner, address pod) external onlyAdmin {
        ownerToPod[podOwner] = pod;
    }

    function salt(address podOwner) private pure returns (bytes32) {
        return bytes32(uint256(uint160(podOwner)));
    }
}
