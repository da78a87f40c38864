//! The one operation of a binary Merkle tree, SHA-256 over the 64 bytes of two nodes, and the
//! roots of all-zero subtrees.
//!
//! A pair is hashed with the raw compression function (`sha2::compress256`, which uses the
//! CPU's SHA extensions when it has them, detected at run time): the message block, then the
//! constant padding block of a 64-byte message. That skips the buffering of the streaming
//! `Digest` interface, which shows when a state takes millions of pairs.

use std::sync::OnceLock;

use sha2::{compress256, digest::generic_array::GenericArray};

/// A 32-byte tree node: a chunk, or the hash of two nodes.
pub(crate) type Node = [u8; 32];

/// The deepest tree merkleized here: the validator registry's data tree (limit 2^40).
pub(crate) const MAX_DEPTH: usize = 40;

/// SHA-256's initial state.
const INITIAL_STATE: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The second block SHA-256 compresses for a 64-byte message: the `0x80` end marker, zeros,
/// and the message's length in bits (512) as a big-endian `u64`.
const PADDING_BLOCK: [u8; 64] = {
    let mut block = [0; 64];
    block[0] = 0x80;
    block[62] = 0x02;
    block
};

/// `sha256(left || right)`.
pub(crate) fn hash_pair(left: &Node, right: &Node) -> Node {
    let mut block = [0; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    let mut state = INITIAL_STATE;
    compress256(
        &mut state,
        &[GenericArray::from(block), GenericArray::from(PADDING_BLOCK)],
    );
    let mut digest = [0; 32];
    for (bytes, word) in digest.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// The root of an all-zero subtree of `depth` levels (`depth` 0 is a zero chunk), for depths
/// up to [`MAX_DEPTH`]; computed once per process.
pub(crate) fn zero_hash(depth: usize) -> Node {
    static ZERO_HASHES: OnceLock<[Node; MAX_DEPTH + 1]> = OnceLock::new();
    let zero_hashes = ZERO_HASHES.get_or_init(|| {
        let mut hashes = [[0; 32]; MAX_DEPTH + 1];
        for depth in 1..=MAX_DEPTH {
            hashes[depth] = hash_pair(&hashes[depth - 1], &hashes[depth - 1]);
        }
        hashes
    });
    zero_hashes[depth.min(MAX_DEPTH)]
}

/// A `uint64` as its SSZ chunk: little-endian, zero-padded to 32 bytes. A list's length is
/// mixed into its root as this chunk.
pub(crate) fn uint64_chunk(value: u64) -> Node {
    let mut chunk = [0; 32];
    chunk[..8].copy_from_slice(&value.to_le_bytes());
    chunk
}

/// A list's root: its data tree's root with the length mixed in.
pub(crate) fn mix_in_length(data_root: &Node, length: u64) -> Node {
    hash_pair(data_root, &uint64_chunk(length))
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn pair_hash_is_sha256_of_the_concatenation() {
        for (left, right) in [
            ([0; 32], [0; 32]),
            ([1; 32], [0xfe; 32]),
            ([0x5a; 32], [7; 32]),
        ] {
            let mut message = left.to_vec();
            message.extend_from_slice(&right);
            let expected: Node = Sha256::digest(&message).into();
            assert_eq!(hash_pair(&left, &right), expected);
        }
    }

    #[test]
    fn zero_hashes_are_the_roots_of_zero_subtrees() {
        assert_eq!(zero_hash(0), [0; 32]);
        let mut expected = [0; 32];
        for depth in 1..=MAX_DEPTH {
            expected = hash_pair(&expected, &expected);
            assert_eq!(zero_hash(depth), expected, "depth {depth}");
        }
        // The well-known root of two zero chunks.
        let hex: String = zero_hash(1).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"
        );
    }
}
