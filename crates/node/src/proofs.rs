//! EigenPod proofs inside the node: the block to prove is looked up on the beacon node with its
//! child (whose time is the `beacon_timestamp` EIP-4788 answers the block's root for), the
//! state is fetched as SSZ and hashed into a [`StateTree`], and the proofs are generated from
//! it (`restake_eigenpod::proofs`).
//!
//! The last tree is kept: a request for the same state reuses it without fetching anything, a
//! request for a later state moves it there ([`StateTree::update`] rehashes only what changed,
//! and hashes anew when the fork or the registry's length says it must), and any other request
//! hashes its state anew. Requests are served one at a time: a mainnet state is hundreds of
//! megabytes, and two at once would double that for no gain. Decoding and hashing run in
//! `spawn_blocking`.

use std::{fmt, str::FromStr, sync::Arc};

use restake_beacon::{
    BeaconClient, BlockHeaderData, BlockId, Root, SszResponse, StateId, ValidatorStatus,
    containers::{BeaconState, spec},
    tracker::TrackedValidator,
};
use restake_eigenpod::{proofs::ProofError, tree::StateTree};
use restake_types::{ExecutionAddress, Slot, ValidatorIndex, WithdrawalCredentials};
use tokio::sync::{Mutex, OnceCell};

/// How many slots after the proven block its child is looked for: an epoch of missed slots.
const CHILD_SEARCH_SLOTS: u64 = 32;

/// Which block to prove, as a request names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockSelector {
    /// The head (for credential and stale-balance proofs: its parent, see [`Prover`]).
    Head,
    /// The latest finalized block.
    Finalized,
    /// The block at a slot.
    Slot(Slot),
    /// The block with this root.
    Root(Root),
}

impl BlockSelector {
    fn block_id(self) -> BlockId {
        match self {
            Self::Head => BlockId::Head,
            Self::Finalized => BlockId::Finalized,
            Self::Slot(slot) => BlockId::Slot(slot),
            Self::Root(root) => BlockId::Root(root),
        }
    }
}

impl fmt::Display for BlockSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Head => f.write_str("head"),
            Self::Finalized => f.write_str("finalized"),
            Self::Slot(slot) => write!(f, "slot {slot}"),
            Self::Root(root) => write!(f, "block {root}"),
        }
    }
}

impl FromStr for BlockSelector {
    type Err = String;

    /// `""` or `"head"`, `"finalized"`, a decimal slot, or a `0x` block root.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "head" => Ok(Self::Head),
            "finalized" => Ok(Self::Finalized),
            s if s.starts_with("0x") => s
                .parse()
                .map(Self::Root)
                .map_err(|e| format!("{s:?} is not a block root (0x + 64 hex digits): {e}")),
            s => s.parse().map(|slot| Self::Slot(Slot(slot))).map_err(|_| {
                format!("{s:?} is not \"head\", \"finalized\", a slot or a 0x block root")
            }),
        }
    }
}

/// Why proofs could not be generated (or a block root looked up).
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// The beacon node has no such block (a skipped slot, an unknown root).
    #[error("the beacon node has no block at {0}")]
    NoBlock(BlockSelector),
    /// No child of the block yet: EIP-4788 cannot serve its root to the pod.
    #[error(
        "block {root} (slot {slot}) has no child on the beacon node within {CHILD_SEARCH_SLOTS} \
         slots yet: EIP-4788 serves a block's root only once the next block exists; retry after \
         the next block or prove an earlier one"
    )]
    NoChild {
        /// The block.
        root: Root,
        /// Its slot.
        slot: Slot,
    },
    /// The block is not on the beacon node's canonical chain.
    #[error(
        "block {root} (slot {slot}) is not canonical: the next block, at slot {child_slot}, has \
         parent {child_parent}"
    )]
    NotCanonical {
        /// The block.
        root: Root,
        /// Its slot.
        slot: Slot,
        /// The next block's slot.
        child_slot: Slot,
        /// The next block's parent.
        child_parent: Root,
    },
    /// A validator's credentials do not point at the pod named.
    #[error(
        "validator {index} has withdrawal credentials {credentials}, not pointing at pod {pod}"
    )]
    NotPointingAtPod {
        /// The validator.
        index: ValidatorIndex,
        /// The pod.
        pod: ExecutionAddress,
        /// Its credentials in the proven state.
        credentials: WithdrawalCredentials,
    },
    /// The beacon node did not answer, or its answer could not be read.
    #[error("beacon node: {0}")]
    Beacon(restake_beacon::Error),
    /// The beacon node's genesis or spec lacks what timestamps need.
    #[error("beacon node spec: {0}")]
    ChainConfig(&'static str),
    /// Generating or checking the proofs failed.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The blocking task hashing the state died.
    #[error("state hashing task: {0}")]
    Task(String),
}

/// The block to prove, as found on the beacon node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvenBlock {
    /// Its slot.
    pub slot: Slot,
    /// Its root.
    pub root: Root,
    /// Its header, as the proofs hash it.
    pub header: spec::BeaconBlockHeader,
}

impl ProvenBlock {
    fn new(data: &BlockHeaderData) -> Self {
        Self {
            slot: data.header.message.slot,
            root: data.root,
            header: spec::BeaconBlockHeader::from(&data.header.message),
        }
    }
}

/// Generates proofs from the beacon node's states. Cloning shares the kept tree.
#[derive(Clone)]
pub struct Prover {
    beacon: BeaconClient,
    timing: Arc<OnceCell<SlotTiming>>,
    tree: Arc<Mutex<Option<StateTree>>>,
}

/// Genesis time and slot duration: a slot's timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SlotTiming {
    genesis_time: u64,
    slot_millis: u64,
}

impl SlotTiming {
    /// The Unix time of `slot`, as the execution block of that slot carries it.
    fn timestamp(self, slot: Slot) -> u64 {
        let offset = u128::from(slot.get()) * u128::from(self.slot_millis) / 1000;
        self.genesis_time
            .saturating_add(u64::try_from(offset).unwrap_or(u64::MAX))
    }
}

/// Where the tree of the state to prove comes from.
enum TreeSource {
    /// The kept tree is that state's.
    Kept(StateTree),
    /// The state as fetched, and the kept tree if any.
    Fetched {
        kept: Option<StateTree>,
        state: SszResponse,
    },
}

impl TreeSource {
    /// The state's tree: the kept one, the kept one moved to a later state, or a new one.
    /// CPU-heavy: run it off the runtime.
    fn into_tree(self) -> Result<StateTree, ProverError> {
        let (kept, state) = match self {
            Self::Kept(tree) => return Ok(tree),
            Self::Fetched { kept, state } => (kept, state),
        };
        let state =
            BeaconState::from_ssz_bytes(state.fork, &state.bytes).map_err(ProverError::Beacon)?;
        Ok(match kept {
            Some(mut tree) if state.slot() > tree.slot() => {
                tree.update(&state);
                tree
            }
            _ => StateTree::new(&state),
        })
    }
}

impl Prover {
    /// A prover reading from `beacon`.
    pub fn new(beacon: BeaconClient) -> Self {
        Self {
            beacon,
            timing: Arc::new(OnceCell::new()),
            tree: Arc::new(Mutex::new(None)),
        }
    }

    /// The block `block` names, for checkpoint proofs.
    pub async fn block(&self, block: BlockSelector) -> Result<ProvenBlock, ProverError> {
        Ok(ProvenBlock::new(&self.header(block).await?))
    }

    /// The block `block` names and the `beacon_timestamp` EIP-4788 answers its root for (its
    /// child's time), for credential and stale-balance proofs. `Head` names the head's parent,
    /// whose child is the head.
    pub async fn block_with_child(
        &self,
        block: BlockSelector,
    ) -> Result<(ProvenBlock, u64), ProverError> {
        let (proven, child_slot) = self.find_child(block).await?;
        let timestamp = self.timing().await?.timestamp(child_slot);
        Ok((ProvenBlock::new(&proven), timestamp))
    }

    /// Runs `generate` on the tree of `block`'s post-state (fetched and hashed unless it is the
    /// kept one's), off the runtime, and keeps the tree.
    pub async fn generate<T, F>(&self, block: &ProvenBlock, generate: F) -> Result<T, ProverError>
    where
        T: Send + 'static,
        F: FnOnce(&StateTree, &spec::BeaconBlockHeader) -> Result<T, ProverError> + Send + 'static,
    {
        let header = block.header;
        let mut kept = self.tree.lock().await;
        let source = match kept.take() {
            Some(tree) if tree.root().as_bytes() == &header.state_root => TreeSource::Kept(tree),
            kept => {
                let state = self
                    .beacon
                    .state_ssz(StateId::Root(Root::new(header.state_root)))
                    .await
                    .map_err(ProverError::Beacon)?;
                TreeSource::Fetched { kept, state }
            }
        };
        let (tree, result) = tokio::task::spawn_blocking(move || {
            let tree = source.into_tree()?;
            let result = generate(&tree, &header);
            Ok::<_, ProverError>((tree, result))
        })
        .await
        .map_err(|e| ProverError::Task(e.to_string()))??;
        *kept = Some(tree);
        result
    }

    /// The root of the beacon node's block at `slot`.
    pub async fn block_root_at(&self, slot: Slot) -> Result<Root, ProverError> {
        Ok(self.header(BlockSelector::Slot(slot)).await?.root)
    }

    async fn header(&self, block: BlockSelector) -> Result<BlockHeaderData, ProverError> {
        self.beacon
            .header(block.block_id())
            .await
            .map_err(ProverError::Beacon)?
            .map(|response| response.data)
            .ok_or(ProverError::NoBlock(block))
    }

    /// The block `block` names and the slot of its child.
    async fn find_child(
        &self,
        block: BlockSelector,
    ) -> Result<(BlockHeaderData, Slot), ProverError> {
        let head = self.header(BlockSelector::Head).await?;
        let proven = match block {
            BlockSelector::Head => {
                if head.header.message.parent_root == Root::new([0; 32]) {
                    // The head is the genesis block, which has no parent to prove.
                    return Err(ProverError::NoChild {
                        root: head.root,
                        slot: head.header.message.slot,
                    });
                }
                let parent = self
                    .header(BlockSelector::Root(head.header.message.parent_root))
                    .await?;
                return Ok((parent, head.header.message.slot));
            }
            other => self.header(other).await?,
        };
        let slot = proven.header.message.slot;
        let last = head
            .header
            .message
            .slot
            .get()
            .min(slot.get().saturating_add(CHILD_SEARCH_SLOTS));
        for next in slot.get().saturating_add(1)..=last {
            let Some(child) = self
                .beacon
                .header(BlockId::Slot(Slot(next)))
                .await
                .map_err(ProverError::Beacon)?
            else {
                continue;
            };
            let child = child.data.header.message;
            if child.parent_root != proven.root {
                return Err(ProverError::NotCanonical {
                    root: proven.root,
                    slot,
                    child_slot: child.slot,
                    child_parent: child.parent_root,
                });
            }
            return Ok((proven, child.slot));
        }
        Err(ProverError::NoChild {
            root: proven.root,
            slot,
        })
    }

    async fn timing(&self) -> Result<SlotTiming, ProverError> {
        self.timing
            .get_or_try_init(|| async {
                let genesis = self.beacon.genesis().await.map_err(ProverError::Beacon)?;
                let spec = self.beacon.spec().await.map_err(ProverError::Beacon)?;
                let duration = spec.slot_duration().ok_or(ProverError::ChainConfig(
                    "neither SLOT_DURATION_MS nor SECONDS_PER_SLOT",
                ))?;
                let slot_millis = u64::try_from(duration.as_millis())
                    .ok()
                    .filter(|ms| *ms > 0)
                    .ok_or(ProverError::ChainConfig("a slot duration out of range"))?;
                Ok(SlotTiming {
                    genesis_time: genesis.genesis_time,
                    slot_millis,
                })
            })
            .await
            .copied()
    }
}

/// Checks that validator `index`'s credentials in `tree` point at `pod` (an index the state
/// does not have is left to the generator, which names it).
pub fn check_points_at(
    tree: &StateTree,
    index: ValidatorIndex,
    pod: ExecutionAddress,
) -> Result<(), ProverError> {
    let Some(fields) = tree.validator_fields(index) else {
        return Ok(());
    };
    let credentials = WithdrawalCredentials::new(*fields[1].as_bytes());
    if credentials.execution_address() == Some(pod) {
        Ok(())
    } else {
        Err(ProverError::NotPointingAtPod {
            index,
            pod,
            credentials,
        })
    }
}

/// The validators a credential proof covers by default: the tracked ones pointing at `pod` that
/// are active and not exiting (the pod refuses the others), by index.
pub fn credential_candidates(
    validators: &[TrackedValidator],
    pod: ExecutionAddress,
) -> Vec<ValidatorIndex> {
    pointing_at(validators, pod)
        .into_iter()
        .filter(|v| v.status() == ValidatorStatus::ActiveOngoing)
        .map(TrackedValidator::index)
        .collect()
}

/// The validators a checkpoint proof covers by default: every tracked one pointing at `pod`
/// (the pod skips those it does not count as active), by index.
pub fn checkpoint_candidates(
    validators: &[TrackedValidator],
    pod: ExecutionAddress,
) -> Vec<ValidatorIndex> {
    pointing_at(validators, pod)
        .into_iter()
        .map(TrackedValidator::index)
        .collect()
}

/// The tracked validators whose credentials point at `pod`, by index.
fn pointing_at(validators: &[TrackedValidator], pod: ExecutionAddress) -> Vec<&TrackedValidator> {
    let mut pointing: Vec<&TrackedValidator> = validators
        .iter()
        .filter(|v| v.withdrawal_address() == Some(pod))
        .collect();
    pointing.sort_by_key(|v| v.index());
    pointing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_named_by_keyword_slot_or_root() {
        assert_eq!("".parse(), Ok(BlockSelector::Head));
        assert_eq!("head".parse(), Ok(BlockSelector::Head));
        assert_eq!("finalized".parse(), Ok(BlockSelector::Finalized));
        assert_eq!("42".parse(), Ok(BlockSelector::Slot(Slot(42))));
        let root = format!("0x{}", "ab".repeat(32));
        assert_eq!(root.parse(), Ok(BlockSelector::Root(Root::new([0xab; 32]))));
        let err = "justified".parse::<BlockSelector>().unwrap_err();
        assert!(err.contains("\"justified\""), "{err}");
        let err = "0xabcd".parse::<BlockSelector>().unwrap_err();
        assert!(err.contains("0x + 64 hex digits"), "{err}");
    }

    #[test]
    fn a_slots_timestamp_follows_genesis_and_the_slot_duration() {
        let mainnet = SlotTiming {
            genesis_time: 1_606_824_023,
            slot_millis: 12_000,
        };
        assert_eq!(mainnet.timestamp(Slot(0)), 1_606_824_023);
        assert_eq!(mainnet.timestamp(Slot(10)), 1_606_824_143);
        let dev = SlotTiming {
            genesis_time: 1_700_000_000,
            slot_millis: 1_000,
        };
        assert_eq!(dev.timestamp(Slot(5)), 1_700_000_005);
    }
}
