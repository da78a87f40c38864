// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// A Chainlink AggregatorV3-style price feed whose answer a test sets: the oracle module's
/// contract source reads `latestRoundData()` and `latestAnswer()` from it on a local chain.
contract MockAggregatorV3 {
    /// Decimals of `answer`, as Chainlink feeds report them.
    uint8 public decimals;

    uint80 private roundId;
    int256 private answer;
    uint256 private updatedAt;

    constructor(uint8 decimals_) {
        decimals = decimals_;
    }

    /// Starts a new round with `answer_`, observed at `updatedAt_` (Unix seconds).
    function setAnswer(int256 answer_, uint256 updatedAt_) external {
        roundId += 1;
        answer = answer_;
        updatedAt = updatedAt_;
    }

    /// The latest round, as AggregatorV3Interface returns it.
    function latestRoundData()
        external
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        return (roundId, answer, updatedAt, updatedAt, roundId);
    }

    /// The latest answer (the legacy AggregatorInterface read).
    function latestAnswer() external view returns (int256) {
        return answer;
    }
}
