//! A binary Merkle tree of fixed depth kept layer by layer, of which only the populated part is
//! stored: above it, and to the right of the last leaf, every node is an all-zero subtree whose
//! root is [`zero_hash`]. Both the validator registry (depth 40) and the balances (depth 38)
//! are such trees; so is the tree over a state's fields.

use std::thread;

use super::hash::{Node, hash_pair, zero_hash};

/// From how many nodes a layer is hashed on two threads: below it, starting a thread costs
/// more than the hashing it would take over.
const PARALLEL_FROM: usize = 1 << 13;

/// A Merkle tree of `depth` levels over the leaves it holds, padded with zero chunks.
#[derive(Clone, Debug)]
pub(crate) struct LayeredTree {
    /// The levels between the leaves and the root.
    depth: usize,
    /// `layers[0]` is the leaves; `layers[k]` the nodes `k` levels up, `ceil(len(layers[k-1]) /
    /// 2)` of them, so the last layer holds one node (or none, for a tree without leaves).
    layers: Vec<Vec<Node>>,
    /// The root, over the zero subtrees above the last layer.
    root: Node,
}

/// Whether hashing may use a second thread: not when the caller already keeps both cores busy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Threads {
    /// This thread only.
    One,
    /// This thread and one more for large layers.
    Two,
}

impl LayeredTree {
    /// Hashes the tree of `depth` levels over `leaves` (at most `2^depth` of them).
    pub(crate) fn new(depth: usize, leaves: Vec<Node>, threads: Threads) -> Self {
        let mut layers = vec![leaves];
        while let Some(below) = layers.last().filter(|layer| layer.len() > 1) {
            let level = layers.len() - 1;
            let mut above = vec![[0; 32]; below.len().div_ceil(2)];
            fill(&mut above, threads, |i| parent(below, level, i));
            layers.push(above);
        }
        let mut tree = Self {
            depth,
            layers,
            root: [0; 32],
        };
        tree.root = tree.compute_root();
        tree
    }

    /// The root of the tree.
    pub(crate) const fn root(&self) -> Node {
        self.root
    }

    /// The leaves.
    pub(crate) fn leaves(&self) -> &[Node] {
        self.layers.first().map_or(&[], Vec::as_slice)
    }

    /// The leaf at `index`, if there is one.
    pub(crate) fn leaf(&self, index: usize) -> Option<Node> {
        self.leaves().get(index).copied()
    }

    /// The siblings of the path from leaf `index` to the root, leaf first: `depth` nodes.
    /// `None` for an index past the last leaf.
    pub(crate) fn branch(&self, index: usize) -> Option<Vec<Node>> {
        if index >= self.leaves().len() {
            return None;
        }
        Some(
            (0..self.depth)
                .map(|level| {
                    self.layers
                        .get(level)
                        .and_then(|layer| layer.get((index >> level) ^ 1))
                        .copied()
                        .unwrap_or_else(|| zero_hash(level))
                })
                .collect(),
        )
    }

    /// Sets the leaves in `changes` (index, new leaf; ascending indices, those past the last
    /// leaf consecutive from it) and rehashes the paths above them only.
    pub(crate) fn update(&mut self, changes: Vec<(usize, Node)>, threads: Threads) {
        let Some(leaves) = self.layers.first_mut() else {
            return;
        };
        let mut dirty = Vec::with_capacity(changes.len());
        for (index, leaf) in changes {
            match leaves.get_mut(index) {
                Some(slot) => *slot = leaf,
                None => leaves.push(leaf),
            }
            dirty.push(index);
        }
        let mut level = 0;
        while let Some(below_len) = self.layers.get(level).map(Vec::len).filter(|&len| len > 1) {
            dirty.dedup_by_key(|index| *index / 2);
            for index in &mut dirty {
                *index /= 2;
            }
            if self.layers.len() == level + 1 {
                self.layers.push(Vec::new());
            }
            let (lower, upper) = self.layers.split_at_mut(level + 1);
            let (Some(below), Some(above)) = (lower.last(), upper.first_mut()) else {
                break;
            };
            above.resize(below_len.div_ceil(2), [0; 32]);
            let mut parents = vec![[0; 32]; dirty.len()];
            fill(&mut parents, threads, |k| parent(below, level, dirty[k]));
            for (&index, node) in dirty.iter().zip(parents) {
                above[index] = node;
            }
            level += 1;
        }
        self.root = self.compute_root();
    }

    /// The root from the top stored node up through the zero subtrees.
    fn compute_root(&self) -> Node {
        let top = self.layers.len().saturating_sub(1);
        match self.layers.last().and_then(|layer| layer.first()) {
            None => zero_hash(self.depth),
            Some(&node) => {
                (top..self.depth).fold(node, |node, level| hash_pair(&node, &zero_hash(level)))
            }
        }
    }
}

/// Node `index` of the layer above `below` (which is at `level`): the hash of its two
/// children, the right one a zero subtree when `below` ends first.
fn parent(below: &[Node], level: usize, index: usize) -> Node {
    let right = below
        .get(2 * index + 1)
        .copied()
        .unwrap_or_else(|| zero_hash(level));
    hash_pair(&below[2 * index], &right)
}

/// Sets `out[i] = node(i)` for every `i`, the second half on another thread when there are
/// enough to be worth it and `threads` allows.
pub(crate) fn fill(out: &mut [Node], threads: Threads, node: impl Fn(usize) -> Node + Sync) {
    if threads == Threads::One || out.len() < PARALLEL_FROM {
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = node(i);
        }
        return;
    }
    let middle = out.len() / 2;
    let (first, second) = out.split_at_mut(middle);
    let node = &node;
    thread::scope(|scope| {
        scope.spawn(move || {
            for (i, slot) in second.iter_mut().enumerate() {
                *slot = node(middle + i);
            }
        });
        for (i, slot) in first.iter_mut().enumerate() {
            *slot = node(i);
        }
    });
}
