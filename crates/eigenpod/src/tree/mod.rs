//! A Merkle tree cache of a `BeaconState`: its root, and the branches EigenPod proofs need,
//! without rehashing the whole state for each proof or for each new state.
//!
//! [`StateTree::new`] hashes a state once (the validator registry and the balances on both
//! cores) and keeps, besides one root per field, every node of the two trees proofs reach
//! into: the validator registry (limit 2^40, so a data tree of depth 40) and the balances
//! (four `u64`s per 32-byte chunk, depth 38). Only their populated part is stored; above it the
//! siblings are the roots of all-zero subtrees, computed once per process. A mainnet registry
//! of 1.1M validators takes about 70 MB of nodes, 18 MB of balance nodes, plus a copy of the
//! validator records (141 MB) to tell which changed.
//!
//! [`StateTree::update`] moves the cache to a later state of the same fork: it compares the
//! validator records and the balance chunks with those it hashed, rehashes only the paths above
//! the ones that changed (and the appended ones), and recomputes the other fields, which are
//! small next to the registry. A state of another fork, or with a shorter registry, is hashed
//! anew.
//!
//! Positions: fields are numbered in the container's order (`validators` is 11, `balances` 12
//! in every fork here) and sit at depth [`StateTree::field_tree_height`] below the state root (5
//! for Deneb's 28 fields, 6 for Electra's 37 and Fulu's 38). A list field's root is its data
//! tree's root hashed with its length, so a validator's branch is its 40 siblings in the data
//! tree then the length chunk, and continues with the field branch of `validators`; in
//! consensus-spec terms the validator at `i` has the generalized index
//! `((2^h + 11) * 2) * 2^40 + i` for a field tree of height `h`.
//!
//! Hashing a mainnet state takes a second or so of CPU: callers on an async runtime run
//! [`StateTree::new`] and [`StateTree::update`] in `tokio::task::spawn_blocking`.

pub(crate) mod hash;
mod layered;

use std::{fmt, thread};

use restake_beacon::{
    ForkName, Root,
    containers::{BeaconState, Validator},
};
use restake_types::{Slot, ValidatorIndex};
use tree_hash::TreeHash;

use hash::{Node, hash_pair, mix_in_length, uint64_chunk};
use layered::{LayeredTree, Threads, fill};

/// The position of `validators` among a state's fields (every fork from phase 0 on).
const VALIDATORS_FIELD: usize = 11;
/// The position of `balances` among a state's fields.
const BALANCES_FIELD: usize = 12;
/// The depth of the validator registry's data tree: `VALIDATOR_REGISTRY_LIMIT` is 2^40.
const VALIDATORS_DEPTH: usize = 40;
/// The depth of the balances' data tree: 2^40 `u64`s, four to a chunk.
const BALANCES_DEPTH: usize = 38;
/// Balances per 32-byte chunk.
const BALANCES_PER_CHUNK: usize = 4;

/// The Merkle tree of one `BeaconState`, kept to answer its root and the branches of its fields,
/// validators and balances, and to be moved to a later state cheaply: see the
/// [module documentation](self).
#[derive(Clone)]
pub struct StateTree {
    /// The fork of the state's container.
    fork: ForkName,
    /// The state's slot.
    slot: Slot,
    /// The tree over the fields' roots, in container order.
    fields: LayeredTree,
    /// The validator registry's data tree: one leaf per validator, its `hash_tree_root`.
    validators: LayeredTree,
    /// The validator records as hashed: what [`Self::update`] compares the next state's with,
    /// and where [`Self::validator_fields`] reads from.
    records: Vec<Validator>,
    /// The balances' data tree: one leaf per four balances.
    balances: LayeredTree,
    /// The number of balances (one per validator in every valid state).
    balance_count: usize,
}

impl StateTree {
    /// Hashes the whole `state`: the validator registry on both cores, then the balances on one
    /// and the other fields on the other.
    pub fn new(state: &BeaconState) -> Self {
        let records = state.validators().to_vec();
        let mut leaves = vec![[0; 32]; records.len()];
        fill(&mut leaves, Threads::Two, |i| validator_root(&records[i]));
        let validators = LayeredTree::new(VALIDATORS_DEPTH, leaves, Threads::Two);
        let (balances, other_fields) = thread::scope(|scope| {
            let balances = scope.spawn(|| {
                LayeredTree::new(
                    BALANCES_DEPTH,
                    balance_chunks(state.balances()),
                    Threads::One,
                )
            });
            let other_fields = small_field_roots(state);
            (balances.join(), other_fields)
        });
        let balances = match balances {
            Ok(balances) => balances,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let balance_count = state.balances().len();
        let fields = field_tree(
            other_fields,
            &validators,
            records.len(),
            &balances,
            balance_count,
        );
        Self {
            fork: state.fork_name(),
            slot: state.slot(),
            fields,
            validators,
            records,
            balances,
            balance_count,
        }
    }

    /// Moves the tree to `state`: for a state of the same fork whose registry is at least as
    /// long, rehashes only the validators and balance chunks that differ from those hashed
    /// (and the appended ones) and recomputes the other fields; otherwise hashes `state` anew.
    pub fn update(&mut self, state: &BeaconState) {
        let validators = state.validators();
        let balances = state.balances();
        if state.fork_name() != self.fork
            || validators.len() < self.records.len()
            || balances.len() < self.balance_count
        {
            *self = Self::new(state);
            return;
        }
        let Self {
            validators: validator_tree,
            records,
            balances: balance_tree,
            ..
        } = self;
        let other_fields = thread::scope(|scope| {
            let registry = scope.spawn(move || {
                let changes = changed_validators(records, validators);
                validator_tree.update(changes, Threads::One);
            });
            let changes = changed_balance_chunks(balance_tree.leaves(), balances);
            balance_tree.update(changes, Threads::One);
            let other_fields = small_field_roots(state);
            if let Err(panic) = registry.join() {
                std::panic::resume_unwind(panic);
            }
            other_fields
        });
        self.balance_count = balances.len();
        self.fork = state.fork_name();
        self.slot = state.slot();
        self.fields = field_tree(
            other_fields,
            &self.validators,
            self.records.len(),
            &self.balances,
            self.balance_count,
        );
    }

    /// The fork of the state hashed.
    pub const fn fork(&self) -> ForkName {
        self.fork
    }

    /// The slot of the state hashed.
    pub const fn slot(&self) -> Slot {
        self.slot
    }

    /// The state's `hash_tree_root`.
    pub fn root(&self) -> Root {
        Root::new(self.fields.root())
    }

    /// The height of the tree over the state's fields: 5 for Deneb, 6 for Electra and Fulu.
    pub fn field_tree_height(&self) -> usize {
        field_tree_height(self.fields.leaves().len())
    }

    /// The `hash_tree_root` of field `field` (numbered in container order), if the fork's
    /// container has that many fields.
    pub fn field_root(&self, field: usize) -> Option<Root> {
        self.fields.leaf(field).map(Root::new)
    }

    /// The siblings of field `field` in the tree over the fields, from the field's level to the
    /// state root: [`Self::field_tree_height`] nodes.
    pub fn field_branch(&self, field: usize) -> Option<Vec<Root>> {
        self.fields.branch(field).map(roots)
    }

    /// The number of validators in the registry.
    pub fn validator_count(&self) -> u64 {
        // usize is at most 64 bits on every target Rust supports.
        self.records.len() as u64
    }

    /// The eight leaves of the `Validator` container at `index`, in field order: the pubkey's
    /// root, the withdrawal credentials, the effective balance, `slashed`, then the activation
    /// eligibility, activation, exit and withdrawable epochs.
    pub fn validator_fields(&self, index: ValidatorIndex) -> Option<[Root; 8]> {
        let record = self.records.get(usize::try_from(index.get()).ok()?)?;
        Some(validator_leaves(record).map(Root::new))
    }

    /// The `hash_tree_root` of the validator at `index`: its leaf in the registry's tree.
    pub fn validator_root(&self, index: ValidatorIndex) -> Option<Root> {
        self.validators
            .leaf(usize::try_from(index.get()).ok()?)
            .map(Root::new)
    }

    /// The branch from the validator at `index` to the root of the `validators` field: its 40
    /// siblings in the registry's data tree, then the registry's length chunk (41 nodes).
    /// Continue with [`Self::field_branch`] of field 11 to reach the state root.
    pub fn validator_branch(&self, index: ValidatorIndex) -> Option<Vec<Root>> {
        let mut branch = self.validators.branch(usize::try_from(index.get()).ok()?)?;
        branch.push(uint64_chunk(self.validator_count()));
        Some(roots(branch))
    }

    /// The 32-byte chunk holding the balance of the validator at `index`: the four
    /// little-endian `u64` balances from `index / 4 * 4`, the one at `index` at byte
    /// `index % 4 * 8`.
    pub fn balance_chunk(&self, index: ValidatorIndex) -> Option<Root> {
        let chunk = self.balance_chunk_index(index)?;
        self.balances.leaf(chunk).map(Root::new)
    }

    /// The branch from [`Self::balance_chunk`] of `index` to the root of the `balances` field:
    /// its 38 siblings in the balances' data tree, then the list's length chunk (39 nodes).
    /// Continue with [`Self::field_branch`] of field 12 to reach the state root.
    pub fn balance_branch(&self, index: ValidatorIndex) -> Option<Vec<Root>> {
        let mut branch = self.balances.branch(self.balance_chunk_index(index)?)?;
        // usize is at most 64 bits on every target Rust supports.
        branch.push(uint64_chunk(self.balance_count as u64));
        Some(roots(branch))
    }

    /// The leaf index of the chunk holding balance `index`, if there is such a balance.
    fn balance_chunk_index(&self, index: ValidatorIndex) -> Option<usize> {
        let index = usize::try_from(index.get())
            .ok()
            .filter(|&i| i < self.balance_count)?;
        Some(index / BALANCES_PER_CHUNK)
    }
}

impl fmt::Debug for StateTree {
    /// The fork, slot, root and registry size only: the nodes are tens of MB on mainnet.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateTree")
            .field("fork", &self.fork)
            .field("slot", &self.slot)
            .field("root", &self.root())
            .field("validators", &self.records.len())
            .finish_non_exhaustive()
    }
}

/// The nodes as [`Root`]s.
fn roots(nodes: Vec<Node>) -> Vec<Root> {
    nodes.into_iter().map(Root::new).collect()
}

/// The height of the tree over `fields` leaves: the smallest `h` with `2^h >= fields`.
fn field_tree_height(fields: usize) -> usize {
    fields.next_power_of_two().trailing_zeros() as usize
}

/// The tree over the fields: `other_fields` holds every field's root but those of `validators`
/// and `balances`, which are the given data trees' roots with their lengths mixed in.
fn field_tree(
    mut fields: Vec<Node>,
    validators: &LayeredTree,
    validator_count: usize,
    balances: &LayeredTree,
    balance_count: usize,
) -> LayeredTree {
    // usize is at most 64 bits on every target Rust supports.
    let list_roots = [
        (
            VALIDATORS_FIELD,
            mix_in_length(&validators.root(), validator_count as u64),
        ),
        (
            BALANCES_FIELD,
            mix_in_length(&balances.root(), balance_count as u64),
        ),
    ];
    for (field, root) in list_roots {
        if let Some(slot) = fields.get_mut(field) {
            *slot = root;
        }
    }
    let height = field_tree_height(fields.len());
    LayeredTree::new(height, fields, Threads::One)
}

/// The leaves of a `Validator` container, in field order.
fn validator_leaves(validator: &Validator) -> [Node; 8] {
    let (pubkey_head, pubkey_tail) = validator.pubkey.split_at(32);
    let mut head = [0; 32];
    head.copy_from_slice(pubkey_head);
    let mut tail = [0; 32];
    tail[..pubkey_tail.len()].copy_from_slice(pubkey_tail);
    [
        hash_pair(&head, &tail),
        validator.withdrawal_credentials,
        uint64_chunk(validator.effective_balance),
        uint64_chunk(u64::from(validator.slashed)),
        uint64_chunk(validator.activation_eligibility_epoch),
        uint64_chunk(validator.activation_epoch),
        uint64_chunk(validator.exit_epoch),
        uint64_chunk(validator.withdrawable_epoch),
    ]
}

/// A validator's `hash_tree_root`: eight hashes (one for the pubkey, seven for the container).
fn validator_root(validator: &Validator) -> Node {
    let [a, b, c, d, e, f, g, h] = validator_leaves(validator);
    hash_pair(
        &hash_pair(&hash_pair(&a, &b), &hash_pair(&c, &d)),
        &hash_pair(&hash_pair(&e, &f), &hash_pair(&g, &h)),
    )
}

/// The registry's changes from `records` to `validators` (at least as long) as (index, new
/// leaf), ascending; `records` becomes `validators`.
fn changed_validators(
    records: &mut Vec<Validator>,
    validators: &[Validator],
) -> Vec<(usize, Node)> {
    let mut changes = Vec::new();
    for (index, (record, validator)) in records.iter_mut().zip(validators).enumerate() {
        if record != validator {
            *record = *validator;
            changes.push((index, validator_root(validator)));
        }
    }
    let appended = validators.get(records.len()..).unwrap_or_default();
    for (offset, validator) in appended.iter().enumerate() {
        changes.push((records.len() + offset, validator_root(validator)));
    }
    records.extend_from_slice(appended);
    changes
}

/// The chunk `index` of `balances`: four little-endian balances, zero-padded past the end.
fn balance_chunk(balances: &[u64], index: usize) -> Node {
    let mut chunk = [0; 32];
    let start = index * BALANCES_PER_CHUNK;
    let four = balances
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take(BALANCES_PER_CHUNK);
    for (bytes, balance) in chunk.chunks_exact_mut(8).zip(four) {
        bytes.copy_from_slice(&balance.to_le_bytes());
    }
    chunk
}

/// Every chunk of `balances`.
fn balance_chunks(balances: &[u64]) -> Vec<Node> {
    (0..balances.len().div_ceil(BALANCES_PER_CHUNK))
        .map(|index| balance_chunk(balances, index))
        .collect()
}

/// The chunks of `balances` (at least as many as `leaves`) that differ from `leaves` or come
/// after them, as (index, chunk), ascending.
fn changed_balance_chunks(leaves: &[Node], balances: &[u64]) -> Vec<(usize, Node)> {
    (0..balances.len().div_ceil(BALANCES_PER_CHUNK))
        .filter_map(|index| {
            let chunk = balance_chunk(balances, index);
            (leaves.get(index) != Some(&chunk)).then_some((index, chunk))
        })
        .collect()
}

/// A field's `hash_tree_root`.
fn field_root<T: TreeHash>(field: &T) -> Node {
    field.tree_hash_root().0
}

/// The roots of a state container's fields, in order, with zero chunks in place of
/// `validators` and `balances`: the Deneb fields, then the fork's own (`$extra`).
macro_rules! small_field_roots {
    ($state:expr $(, $extra:ident)*) => {{
        let s = $state;
        vec![
            field_root(&s.genesis_time),
            field_root(&s.genesis_validators_root),
            field_root(&s.slot),
            field_root(&s.fork),
            field_root(&s.latest_block_header),
            field_root(&s.block_roots),
            field_root(&s.state_roots),
            field_root(&s.historical_roots),
            field_root(&s.eth1_data),
            field_root(&s.eth1_data_votes),
            field_root(&s.eth1_deposit_index),
            // `validators` and `balances`: from the cached trees.
            [0; 32],
            [0; 32],
            field_root(&s.randao_mixes),
            field_root(&s.slashings),
            field_root(&s.previous_epoch_participation),
            field_root(&s.current_epoch_participation),
            field_root(&s.justification_bits),
            field_root(&s.previous_justified_checkpoint),
            field_root(&s.current_justified_checkpoint),
            field_root(&s.finalized_checkpoint),
            field_root(&s.inactivity_scores),
            field_root(&s.current_sync_committee),
            field_root(&s.next_sync_committee),
            field_root(&s.latest_execution_payload_header),
            field_root(&s.next_withdrawal_index),
            field_root(&s.next_withdrawal_validator_index),
            field_root(&s.historical_summaries),
            $(field_root(&s.$extra),)*
        ]
    }};
}

/// The roots of `state`'s fields but `validators` and `balances` (left zero), in order.
fn small_field_roots(state: &BeaconState) -> Vec<Node> {
    match state {
        BeaconState::Deneb(s) => small_field_roots!(s),
        BeaconState::Electra(s) => small_field_roots!(
            s,
            deposit_requests_start_index,
            deposit_balance_to_consume,
            exit_balance_to_consume,
            earliest_exit_epoch,
            consolidation_balance_to_consume,
            earliest_consolidation_epoch,
            pending_deposits,
            pending_partial_withdrawals,
            pending_consolidations
        ),
        BeaconState::Fulu(s) => small_field_roots!(
            s,
            deposit_requests_start_index,
            deposit_balance_to_consume,
            exit_balance_to_consume,
            earliest_exit_epoch,
            consolidation_balance_to_consume,
            earliest_consolidation_epoch,
            pending_deposits,
            pending_partial_withdrawals,
            pending_consolidations,
            proposer_lookahead
        ),
    }
}

#[cfg(test)]
mod tests;
