// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// What a Solidity verifier computes from a restaked oracle report before checking its
/// signature: the tests compare it with `Report::digest` in Rust.
contract OracleReportDigest {
    /// The first word of every report digest.
    bytes32 public constant TYPEHASH = keccak256("restaked.oracle.report.v1");

    /// The digest of a report; `sources` is the sorted source ids joined by ",".
    function digest(
        string calldata feed,
        uint64 round,
        int256 value,
        uint8 decimals,
        uint64 observedAt,
        string calldata sources
    ) external pure returns (bytes32) {
        return keccak256(
            abi.encode(
                TYPEHASH,
                keccak256(bytes(feed)),
                round,
                value,
                decimals,
                observedAt,
                keccak256(bytes(sources))
            )
        );
    }
}
