//! An in-process simulated beacon chain serving the standard Beacon API on a local port: the
//! chain behind `restaked run --dev` and the integration tests of the tracker and of EigenPod
//! proofs.
//!
//! [`Devnet::start`] builds a deterministic Electra chain (mainnet preset containers of
//! `restake-beacon`, 32 slots per epoch) and serves it over HTTP. Every slot has a block; each
//! block's `state_root` is the real `hash_tree_root` of its post-state and each block root the
//! `hash_tree_root` of the block, so headers, blocks and states served as SSZ check out against
//! each other the way they do on a real network. Blocks carry 0 to 2 blobs with real KZG
//! commitments and proofs (c-kzg with the Ethereum trusted setup), and blob sidecars carry the
//! commitment's Merkle inclusion proof in the block body.
//!
//! The registry is built so that every case a restaking node meets is there, at indices named
//! by [`Scenario`]: BLS (`0x00`) credentials, `0x01` and `0x02` credentials pointing at the pod
//! (or elsewhere), validators slashed or exited and withdrawn before genesis, and, in blocks at
//! configured slots, a slashing, a voluntary exit, a BLS-to-execution change to the pod and a
//! pending validator's activation. Balances change every epoch.
//!
//! Slots advance on a timer ([`Drive::Timer`], one every `seconds_per_slot`, genesis now) or
//! only when asked ([`Drive::Manual`]: [`Devnet::advance`], [`Devnet::advance_to`]), which makes
//! tests deterministic without sleeping.
//!
//! The Beacon API routes served are those `restake-beacon`'s client calls (genesis, spec,
//! headers, blocks and states as SSZ, finality checkpoints, validators and balances by GET and
//! POST, blob sidecars, and `head`/`finalized_checkpoint` events), plus `node/version`,
//! `node/syncing`, `node/health`, block and state roots and a single validator. State ids:
//! `head`, `genesis`, `finalized`, `justified`, a slot, a state root; block ids the same but
//! `justified`. Genesis and the last [`DevnetConfig::history_slots`] slots are kept; an id
//! naming anything else is 404, a malformed one 400, both with the API's error body.
//!
//! # What is simulated rather than specified
//! - Finality: at the boundary into epoch `e`, epoch `e - 1` becomes justified and `e - 2`
//!   finalized (from epoch 2), each with the block root at the epoch's start.
//! - Rewards: each epoch every active, unslashed validator gains 1,000 to 4,750 Gwei (by
//!   index) and an active slashed one loses 5,000 Gwei; effective balances follow the spec's
//!   hysteresis. A slashing costs a flat 1 ETH at once (no whistleblower reward, no later
//!   correlation penalty). Exits use the Electra exit churn, without the spec's
//!   `SHARD_COMMITTEE_PERIOD` check; the pending validator activates by configuration.
//! - No withdrawals are swept, randao mixes and participation flags stay zero, and the
//!   proposer is `slot % validators` whatever its status. No `chain_reorg` events: the chain
//!   never reorganises.
//! - Public keys are deterministic 48-byte strings that look like compressed BLS keys but are
//!   not; the sync committee's aggregate key is made up; every signature is zero bytes (the
//!   empty sync aggregate's is the point at infinity). Nothing verifies them.
//! - Blob contents repeat every 64 slots, so each process computes at most 128 distinct KZG
//!   commitments and proofs (cached).
//! - Only SSZ is served for blocks and states; a request that accepts only JSON is 406.

mod blobs;
mod chain;
mod config;
mod devnet;
mod error;
mod history;
mod merkle;
mod scenario;
mod server;

pub use config::{DevnetConfig, Drive};
pub use devnet::Devnet;
pub use error::DevnetError;
pub use scenario::{PendingActivation, Scenario, ScheduledChange};
