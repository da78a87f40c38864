//! The SHA-256 binary Merkle arithmetic the proofs need: hashing a pair, merkleizing a small
//! power-of-two list, a branch out of it, and walking a branch up to its root the way
//! `Merkle.verifyInclusionSha256` of Layr-Labs/eigenlayer-contracts does (bit `i` of the index
//! says whether the node at level `i` is a right child).

pub(crate) use crate::tree::hash::{Node, hash_pair, uint64_chunk};

/// The layers of the tree over `leaves` (a power-of-two count), leaves first, root last.
fn layers(leaves: &[Node]) -> Vec<Vec<Node>> {
    let mut layers = vec![leaves.to_vec()];
    while let Some(last) = layers.last() {
        if last.len() <= 1 {
            break;
        }
        let next = last
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => hash_pair(left, right),
                // An odd layer only happens for a count that is not a power of two, which
                // callers never pass; padding with zero keeps the function total.
                [single] => hash_pair(single, &[0; 32]),
                _ => [0; 32],
            })
            .collect();
        layers.push(next);
    }
    layers
}

/// The root of the tree over `leaves` (a power-of-two count).
pub(crate) fn merkleize(leaves: &[Node]) -> Node {
    layers(leaves)
        .last()
        .and_then(|root| root.first().copied())
        .unwrap_or([0; 32])
}

/// The siblings of leaf `index` in the tree over `leaves` (a power-of-two count), leaf to root.
pub(crate) fn branch(leaves: &[Node], index: usize) -> Vec<Node> {
    let layers = layers(leaves);
    let mut position = index;
    let mut siblings = Vec::with_capacity(layers.len().saturating_sub(1));
    for layer in &layers[..layers.len().saturating_sub(1)] {
        siblings.push(layer.get(position ^ 1).copied().unwrap_or([0; 32]));
        position /= 2;
    }
    siblings
}

/// The root reached from `leaf` at position `index` through `proof` (siblings leaf to root):
/// at level `i`, bit `i` of `index` set means the current node is the right child.
pub(crate) fn root_from_branch(leaf: &Node, proof: &[Node], index: u64) -> Node {
    let mut node = *leaf;
    let mut position = index;
    for sibling in proof {
        node = if position & 1 == 1 {
            hash_pair(sibling, &node)
        } else {
            hash_pair(&node, sibling)
        };
        position >>= 1;
    }
    node
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn zero_hash_of_depth_one_is_the_known_constant() {
        // sha256 of 64 zero bytes, the first zero hash of SSZ Merkleization.
        let expected = "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b";
        let hash = hash_pair(&[0; 32], &[0; 32]);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn uint64_chunk_is_little_endian() {
        let chunk = uint64_chunk(0x0102);
        assert_eq!(&chunk[..3], &[0x02, 0x01, 0x00]);
        assert!(chunk[8..].iter().all(|b| *b == 0));
    }

    proptest! {
        #[test]
        fn every_branch_leads_back_to_the_root(
            leaves in proptest::collection::vec(any::<[u8; 32]>(), 8),
            index in 0usize..8,
        ) {
            let root = merkleize(&leaves);
            let proof = branch(&leaves, index);
            prop_assert_eq!(proof.len(), 3);
            prop_assert_eq!(root_from_branch(&leaves[index], &proof, index as u64), root);
        }
    }
}
