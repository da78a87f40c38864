//! Typed events of `GET /eth/v1/events`.

use restake_types::{Epoch, Slot};
use serde::{Deserialize, Serialize};

use crate::{bytes::Root, quoted, sse::SseEvent};

/// An event topic the client can subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventTopic {
    /// The node's fork choice picked a new head.
    Head,
    /// The finalized checkpoint advanced.
    FinalizedCheckpoint,
    /// The node reorganised its chain.
    ChainReorg,
}

impl EventTopic {
    /// Every topic the client understands.
    pub const ALL: [EventTopic; 3] = [Self::Head, Self::FinalizedCheckpoint, Self::ChainReorg];

    /// The topic's name in the API (and the SSE `event:` field).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Head => "head",
            Self::FinalizedCheckpoint => "finalized_checkpoint",
            Self::ChainReorg => "chain_reorg",
        }
    }
}

/// `head`: the node's fork choice picked a new head block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadEvent {
    /// The head block's slot.
    #[serde(with = "quoted")]
    pub slot: Slot,
    /// The head block's root.
    pub block: Root,
    /// The head block's post-state root.
    pub state: Root,
    /// Whether the head is the first slot of an epoch.
    pub epoch_transition: bool,
    /// The dependent root of the previous epoch's duties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_duty_dependent_root: Option<Root>,
    /// The dependent root of the current epoch's duties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_duty_dependent_root: Option<Root>,
    /// Whether the head rests on an execution payload the node has not yet verified.
    #[serde(default)]
    pub execution_optimistic: bool,
}

/// `finalized_checkpoint`: a new finalized checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalizedCheckpointEvent {
    /// The checkpoint block root.
    pub block: Root,
    /// The checkpoint state root.
    pub state: Root,
    /// The finalized epoch.
    #[serde(with = "quoted")]
    pub epoch: Epoch,
    /// Whether the checkpoint rests on an execution payload the node has not yet verified.
    #[serde(default)]
    pub execution_optimistic: bool,
}

/// `chain_reorg`: the node switched to another branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReorgEvent {
    /// The slot of the new head.
    #[serde(with = "quoted")]
    pub slot: Slot,
    /// How many slots were reorganised.
    #[serde(with = "quoted")]
    pub depth: u64,
    /// The replaced head block.
    pub old_head_block: Root,
    /// The new head block.
    pub new_head_block: Root,
    /// The replaced head's state.
    pub old_head_state: Root,
    /// The new head's state.
    pub new_head_state: Root,
    /// The epoch of the new head.
    #[serde(with = "quoted")]
    pub epoch: Epoch,
    /// Whether the new head rests on an execution payload the node has not yet verified.
    #[serde(default)]
    pub execution_optimistic: bool,
}

/// An event from the beacon node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeaconEvent {
    /// A new head.
    Head(HeadEvent),
    /// A new finalized checkpoint.
    FinalizedCheckpoint(FinalizedCheckpointEvent),
    /// A reorganisation.
    ChainReorg(ChainReorgEvent),
}

impl BeaconEvent {
    /// The topic this event belongs to.
    pub const fn topic(&self) -> EventTopic {
        match self {
            Self::Head(_) => EventTopic::Head,
            Self::FinalizedCheckpoint(_) => EventTopic::FinalizedCheckpoint,
            Self::ChainReorg(_) => EventTopic::ChainReorg,
        }
    }

    /// Decodes an SSE event: `Ok(None)` for a type the client does not know (ignored).
    pub(crate) fn from_sse(event: &SseEvent) -> Result<Option<Self>, serde_json::Error> {
        Ok(Some(match event.event.as_str() {
            "head" => Self::Head(serde_json::from_str(&event.data)?),
            "finalized_checkpoint" => Self::FinalizedCheckpoint(serde_json::from_str(&event.data)?),
            "chain_reorg" => Self::ChainReorg(serde_json::from_str(&event.data)?),
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.to_owned(),
            data: data.to_owned(),
        }
    }

    #[test]
    fn decodes_the_api_examples() {
        let head = BeaconEvent::from_sse(&sse(
            "head",
            r#"{"slot":"10", "block":"0x9a2fefd2fdb57f74993c7780ea5b9030d2897b615b89f808011ca5aebed54eaf", "state":"0x600e852a08c1200654ddf11025f1ceacb3c2e74bdd5c630cde0838b2591b69f9", "epoch_transition":false, "previous_duty_dependent_root":"0x5e0043f107cb57913498fbf2f99ff55e730bf1e151f02f221e977c91a90a0e91", "current_duty_dependent_root":"0x5e0043f107cb57913498fbf2f99ff55e730bf1e151f02f221e977c91a90a0e91", "execution_optimistic": false}"#,
        ))
        .unwrap()
        .unwrap();
        assert!(matches!(
            head,
            BeaconEvent::Head(HeadEvent { slot: Slot(10), .. })
        ));

        let finalized = BeaconEvent::from_sse(&sse(
            "finalized_checkpoint",
            r#"{"block":"0x9a2fefd2fdb57f74993c7780ea5b9030d2897b615b89f808011ca5aebed54eaf", "state":"0x600e852a08c1200654ddf11025f1ceacb3c2e74bdd5c630cde0838b2591b69f9", "epoch":"2", "execution_optimistic": false }"#,
        ))
        .unwrap()
        .unwrap();
        assert_eq!(finalized.topic(), EventTopic::FinalizedCheckpoint);

        let reorg = BeaconEvent::from_sse(&sse(
            "chain_reorg",
            r#"{"slot":"200", "depth":"50", "old_head_block":"0x9a2fefd2fdb57f74993c7780ea5b9030d2897b615b89f808011ca5aebed54eaf", "new_head_block":"0x76262e91970d375a19bfe8a867288d7b9cde43c8635f598d93d39d041706fc76", "old_head_state":"0x9a2fefd2fdb57f74993c7780ea5b9030d2897b615b89f808011ca5aebed54eaf", "new_head_state":"0x600e852a08c1200654ddf11025f1ceacb3c2e74bdd5c630cde0838b2591b69f9", "epoch":"2", "execution_optimistic": false}"#,
        ))
        .unwrap()
        .unwrap();
        assert!(matches!(
            reorg,
            BeaconEvent::ChainReorg(ChainReorgEvent { depth: 50, .. })
        ));
    }

    #[test]
    fn unknown_types_are_ignored_and_bad_data_is_an_error() {
        assert_eq!(BeaconEvent::from_sse(&sse("block", "{}")).unwrap(), None);
        assert!(BeaconEvent::from_sse(&sse("head", "{\"slot\":")).is_err());
        assert!(BeaconEvent::from_sse(&sse("head", r#"{"slot":"x"}"#)).is_err());
    }
}
