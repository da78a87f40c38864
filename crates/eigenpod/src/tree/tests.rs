//! The tree's pieces against the `tree_hash` crate and a naive merkleization.

use proptest::prelude::*;
use restake_beacon::containers::spec::ValidatorRegistryLimit;
use ssz_types::VariableList;

use super::{
    hash::{hash_pair, zero_hash},
    layered::{LayeredTree, Threads},
    *,
};

fn validator(seed: u8) -> Validator {
    Validator {
        pubkey: [seed; 48],
        withdrawal_credentials: [seed.wrapping_add(1); 32],
        effective_balance: 32_000_000_000 + u64::from(seed),
        slashed: seed % 2 == 1,
        activation_eligibility_epoch: u64::from(seed),
        activation_epoch: u64::from(seed) + 1,
        exit_epoch: u64::MAX - u64::from(seed),
        withdrawable_epoch: u64::MAX,
    }
}

/// The root of the tree of `depth` levels over `leaves`, padded with zero chunks, level by
/// level with no shortcut.
fn naive_root(depth: usize, leaves: &[Node]) -> Node {
    let mut layer = leaves.to_vec();
    layer.resize(1 << depth, [0; 32]);
    while layer.len() > 1 {
        layer = layer.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
    }
    layer[0]
}

/// The consensus spec's `is_valid_merkle_branch`.
fn is_valid_merkle_branch(
    leaf: Node,
    branch: &[Node],
    depth: usize,
    index: u64,
    root: Node,
) -> bool {
    let mut value = leaf;
    for (level, sibling) in branch.iter().enumerate() {
        value = if (index >> level) & 1 == 1 {
            hash_pair(sibling, &value)
        } else {
            hash_pair(&value, sibling)
        };
    }
    branch.len() == depth && value == root
}

fn leaves(count: usize, seed: u8) -> Vec<Node> {
    (0..count)
        .map(|i| {
            let mut leaf = [seed; 32];
            leaf[..8].copy_from_slice(&(i as u64).to_le_bytes());
            leaf
        })
        .collect()
}

#[test]
fn validator_root_and_leaves_match_tree_hash() {
    for seed in [0, 1, 2, 200, 255] {
        let v = validator(seed);
        assert_eq!(validator_root(&v), v.tree_hash_root().0);
        assert_eq!(validator_leaves(&v)[1], v.withdrawal_credentials);
        assert_eq!(naive_root(3, &validator_leaves(&v)), v.tree_hash_root().0);
    }
}

#[test]
fn list_roots_match_tree_hash_at_the_registry_limit() {
    for count in [0, 1, 2, 3, 4, 5, 31, 32, 33, 1000] {
        let validators: Vec<Validator> = (0..count).map(|i| validator(i as u8)).collect();
        let balances: Vec<u64> = (0..count).map(|i| 31_000_000_000 + i as u64).collect();
        let tree = LayeredTree::new(
            VALIDATORS_DEPTH,
            validators.iter().map(validator_root).collect(),
            Threads::Two,
        );
        let list = VariableList::<Validator, ValidatorRegistryLimit>::new(validators).unwrap();
        assert_eq!(
            mix_in_length(&tree.root(), count as u64),
            list.tree_hash_root().0,
            "validators, {count}"
        );
        let tree = LayeredTree::new(BALANCES_DEPTH, balance_chunks(&balances), Threads::One);
        let list = VariableList::<u64, ValidatorRegistryLimit>::new(balances).unwrap();
        assert_eq!(
            mix_in_length(&tree.root(), count as u64),
            list.tree_hash_root().0,
            "balances, {count}"
        );
    }
}

#[test]
fn balance_chunks_pack_four_little_endian_balances() {
    let balances = [1, 2, 3, 4, 0x0102_0304_0506_0708];
    let chunks = balance_chunks(&balances);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0][..8], 1u64.to_le_bytes());
    assert_eq!(chunks[0][24..], 4u64.to_le_bytes());
    assert_eq!(chunks[1][..8], 0x0102_0304_0506_0708u64.to_le_bytes());
    assert_eq!(chunks[1][8..], [0; 24]);
}

#[test]
fn field_tree_heights_are_five_and_six() {
    assert_eq!(field_tree_height(28), 5);
    assert_eq!(field_tree_height(32), 5);
    assert_eq!(field_tree_height(37), 6);
    assert_eq!(field_tree_height(38), 6);
}

#[test]
fn large_layers_hash_the_same_on_two_threads() {
    let leaves = leaves(20_001, 3);
    let one = LayeredTree::new(20, leaves.clone(), Threads::One);
    let two = LayeredTree::new(20, leaves.clone(), Threads::Two);
    assert_eq!(one.root(), two.root());
    assert_eq!(one.root(), naive_root(20, &leaves));
    assert_eq!(one.branch(12_345), two.branch(12_345));
}

#[test]
fn a_tree_without_leaves_is_the_zero_subtree() {
    let tree = LayeredTree::new(38, Vec::new(), Threads::One);
    assert_eq!(tree.root(), zero_hash(38));
    assert_eq!(tree.branch(0), None);
}

proptest! {
    #[test]
    fn root_and_branches_match_a_naive_tree(count in 0usize..70, depth in 7usize..10) {
        let leaves = leaves(count, 9);
        let tree = LayeredTree::new(depth, leaves.clone(), Threads::One);
        let root = naive_root(depth, &leaves);
        prop_assert_eq!(tree.root(), root);
        for (index, leaf) in leaves.iter().enumerate() {
            let branch = tree.branch(index).unwrap();
            prop_assert!(is_valid_merkle_branch(*leaf, &branch, depth, index as u64, root));
        }
        prop_assert_eq!(tree.branch(count), None);
    }

    #[test]
    fn update_matches_a_new_tree(
        count in 0usize..60,
        changes in proptest::collection::btree_map(0usize..60, any::<u8>(), 0..20),
        appended in 0usize..40,
    ) {
        let mut leaves = leaves(count, 1);
        let mut tree = LayeredTree::new(8, leaves.clone(), Threads::One);
        let mut update = Vec::new();
        for (&index, &byte) in changes.range(..count) {
            leaves[index] = [byte; 32];
            update.push((index, [byte; 32]));
        }
        for i in 0..appended {
            let leaf = [i as u8; 32];
            update.push((leaves.len(), leaf));
            leaves.push(leaf);
        }
        tree.update(update, Threads::One);
        let fresh = LayeredTree::new(8, leaves.clone(), Threads::One);
        prop_assert_eq!(tree.root(), fresh.root());
        for index in 0..leaves.len() {
            prop_assert_eq!(tree.branch(index), fresh.branch(index));
        }
    }
}
