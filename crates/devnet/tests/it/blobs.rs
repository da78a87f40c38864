//! Blob sidecars: real KZG proofs, the block's commitments, and inclusion proofs.

use c_kzg::{Blob, Bytes48};
use restake_beacon::{BlockId, Root, containers::SignedBeaconBlock};
use restake_types::Slot;
use sha2::{Digest, Sha256};
use tree_hash::TreeHash;

use crate::support::{manual_config, start};

/// The spec's `is_valid_merkle_branch`, for the commitment at `index` of the body's
/// `blob_kzg_commitments` (field 11 of 16 leaves; list of 4096, length mixed in).
fn commitment_included(
    commitment: &[u8; 48],
    index: u64,
    branch: &[Root],
    body_root: Root,
) -> bool {
    let subtree_index = (11u64 << 13) | index;
    let mut node = commitment.tree_hash_root().0;
    for (level, sibling) in branch.iter().enumerate() {
        let mut hasher = Sha256::new();
        if (subtree_index >> level) & 1 == 1 {
            hasher.update(sibling.as_bytes());
            hasher.update(node);
        } else {
            hasher.update(node);
            hasher.update(sibling.as_bytes());
        }
        node = hasher.finalize().into();
    }
    branch.len() == 17 && node == *body_root.as_bytes()
}

#[tokio::test]
async fn sidecars_verify_with_kzg_and_prove_inclusion_in_the_block() {
    let net = start(manual_config()).await;
    net.devnet.advance_to(Slot(3)).await.unwrap();
    let settings = c_kzg::ethereum_kzg_settings(0);
    for (slot, count) in [(0u64, 0usize), (1, 1), (2, 2), (3, 0)] {
        let id = BlockId::Slot(Slot(slot));
        let sidecars = net
            .client
            .blob_sidecars(id, &[])
            .await
            .unwrap()
            .unwrap()
            .data;
        assert_eq!(sidecars.len(), count, "slot {slot}");
        let ssz = net.client.block_ssz(id).await.unwrap().unwrap();
        let block = SignedBeaconBlock::from_ssz_bytes(ssz.fork, &ssz.bytes).unwrap();
        assert_eq!(block.blob_kzg_commitments().len(), count);
        let header = net.client.header(id).await.unwrap().unwrap().data.header;
        for (i, sidecar) in sidecars.iter().enumerate() {
            assert_eq!(sidecar.index, i as u64);
            assert_eq!(sidecar.signed_block_header, header);
            let commitment = sidecar.kzg_commitment.as_bytes();
            assert_eq!(commitment, &block.blob_kzg_commitments()[i]);
            let blob = Box::new(Blob::from_bytes(sidecar.blob.as_bytes()).unwrap());
            let valid = settings
                .verify_blob_kzg_proof(
                    &blob,
                    &Bytes48::new(*commitment),
                    &Bytes48::new(*sidecar.kzg_proof.as_bytes()),
                )
                .unwrap();
            assert!(valid, "slot {slot} blob {i}");
            assert!(commitment_included(
                commitment,
                sidecar.index,
                &sidecar.kzg_commitment_inclusion_proof,
                header.message.body_root,
            ));
        }
    }
    let second = net
        .client
        .blob_sidecars(BlockId::Slot(Slot(2)), &[1])
        .await
        .unwrap()
        .unwrap()
        .data;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].index, 1);
}
