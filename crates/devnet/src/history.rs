//! The slots the devnet remembers: genesis, the last `history_slots` slots, and the block and
//! state roots far enough back to fill every remembered state's root vectors.

use std::{collections::VecDeque, sync::Arc};

use restake_beacon::containers::spec::BeaconStateElectra;

use crate::{
    chain::{
        self, ChainParams, RootWindow, SLOTS_PER_EPOCH, SLOTS_PER_HISTORICAL_ROOT, SlotRecord,
    },
    error::DevnetError,
    merkle::Node,
};

/// Genesis, the recent slots and their roots.
#[derive(Debug)]
pub(crate) struct History {
    history_slots: u64,
    genesis: Arc<SlotRecord>,
    /// Consecutive slots, the head last.
    recent: VecDeque<Arc<SlotRecord>>,
    /// `(block root, state root)` of consecutive slots from `roots_first_slot` to the head.
    roots: VecDeque<(Node, Node)>,
    roots_first_slot: u64,
}

impl History {
    /// A history holding only `genesis`.
    pub(crate) fn new(genesis: SlotRecord, history_slots: u64) -> Self {
        let genesis = Arc::new(genesis);
        Self {
            history_slots,
            roots: VecDeque::from([(genesis.block_root, genesis.state_root)]),
            roots_first_slot: 0,
            recent: VecDeque::from([Arc::clone(&genesis)]),
            genesis,
        }
    }

    /// The head slot's record.
    pub(crate) fn head(&self) -> &Arc<SlotRecord> {
        // `recent` always holds at least the head: it starts with genesis and only grows
        // before it is trimmed to `history_slots + 1` entries.
        self.recent.back().unwrap_or(&self.genesis)
    }

    /// The genesis record (always kept).
    pub(crate) fn genesis(&self) -> &Arc<SlotRecord> {
        &self.genesis
    }

    /// The oldest slot still remembered after genesis.
    pub(crate) fn oldest_slot(&self) -> u64 {
        self.recent.front().map_or(0, |r| r.slot())
    }

    /// The record of `slot`, if it is genesis or recent.
    pub(crate) fn at_slot(&self, slot: u64) -> Option<&Arc<SlotRecord>> {
        if slot == 0 {
            return Some(&self.genesis);
        }
        let offset = usize::try_from(slot.checked_sub(self.oldest_slot())?).ok()?;
        self.recent.get(offset)
    }

    /// The remembered record whose block has root `root`.
    pub(crate) fn by_block_root(&self, root: &Node) -> Option<&Arc<SlotRecord>> {
        self.records().find(|r| r.block_root == *root)
    }

    /// The remembered record whose state has root `root`.
    pub(crate) fn by_state_root(&self, root: &Node) -> Option<&Arc<SlotRecord>> {
        self.records().find(|r| r.state_root == *root)
    }

    fn records(&self) -> impl Iterator<Item = &Arc<SlotRecord>> {
        std::iter::once(&self.genesis).chain(self.recent.iter().filter(|r| r.slot() != 0))
    }

    /// The record of the head's finalized checkpoint (genesis until something is finalized);
    /// `None` if it is no longer remembered.
    pub(crate) fn finalized(&self) -> Option<&Arc<SlotRecord>> {
        self.checkpoint_record(&self.head().snapshot.finalized.root)
    }

    /// The record of the head's current justified checkpoint (genesis until something is
    /// justified); `None` if it is no longer remembered.
    pub(crate) fn justified(&self) -> Option<&Arc<SlotRecord>> {
        self.checkpoint_record(&self.head().snapshot.current_justified.root)
    }

    fn checkpoint_record(&self, root: &Node) -> Option<&Arc<SlotRecord>> {
        if *root == [0; 32] {
            Some(&self.genesis)
        } else {
            self.by_block_root(root)
        }
    }

    /// Whether `slot` is at or before the head's finalized checkpoint.
    pub(crate) fn is_finalized(&self, slot: u64) -> bool {
        let finalized = &self.head().snapshot.finalized;
        if finalized.root == [0; 32] {
            slot == 0
        } else {
            slot <= finalized.epoch * SLOTS_PER_EPOCH
        }
    }

    /// The `(block root, state root)` of `slot`, if still known.
    pub(crate) fn roots_at(&self, slot: u64) -> Option<(Node, Node)> {
        let offset = usize::try_from(slot.checked_sub(self.roots_first_slot)?).ok()?;
        self.roots.get(offset).copied()
    }

    /// The roots a state at `slot` holds in its `block_roots` and `state_roots`.
    pub(crate) fn window_before(&self, slot: u64) -> RootWindow {
        let first_slot = slot
            .saturating_sub(SLOTS_PER_HISTORICAL_ROOT)
            .max(self.roots_first_slot);
        let roots = (first_slot..slot).map_while(|s| self.roots_at(s)).collect();
        RootWindow { first_slot, roots }
    }

    /// The whole state of `record` (a few MB: the randao mixes alone are 2 MiB).
    pub(crate) fn state(
        &self,
        params: &ChainParams,
        record: &SlotRecord,
    ) -> Result<BeaconStateElectra, DevnetError> {
        chain::beacon_state(params, &record.snapshot, &self.window_before(record.slot()))
    }

    /// Appends the next slot and forgets what falls out of the history.
    pub(crate) fn push(&mut self, record: SlotRecord) {
        self.roots.push_back((record.block_root, record.state_root));
        self.recent.push_back(Arc::new(record));
        while self.recent.len() as u64 > self.history_slots + 1 {
            self.recent.pop_front();
        }
        let keep_roots = SLOTS_PER_HISTORICAL_ROOT + self.history_slots + 1;
        while self.roots.len() as u64 > keep_roots {
            self.roots.pop_front();
            self.roots_first_slot += 1;
        }
    }
}
