//! Proof transactions signed with the node's ECDSA key (`signer.ecdsa.keystore`) through the
//! protected signer: the [`DigestSigner`] that `restake_eigenpod::submit` sends with.
//!
//! Each transaction's signature hash is signed in the domain `eigenpod-tx/<chain_id>` with the
//! conflict key `sender (20 bytes) ‖ nonce (8 bytes, big-endian)`: the protection store then
//! refuses to sign a second, different transaction with a nonce already signed (one could
//! replace the other in the mempool), while signing the identical transaction again returns
//! the recorded signature.

use restake_eigenpod::submit::DigestSigner;
use restake_signer::{KeyId, ProtectedSigner, Scheme, SigningRequest};
use restake_types::ExecutionAddress;

/// Signs proof transactions with one secp256k1 key through the protected signer.
#[derive(Clone)]
pub struct ProtectedTxSigner {
    signer: ProtectedSigner,
    key: KeyId,
    address: ExecutionAddress,
}

impl ProtectedTxSigner {
    /// A transaction signer over the one secp256k1 key `signer` holds; `Err` says why there is
    /// none (no ECDSA key, or several to choose from).
    pub fn for_ecdsa_key(signer: &ProtectedSigner) -> Result<Self, String> {
        let keys: Vec<KeyId> = signer
            .keys()
            .into_iter()
            .map(|info| info.id)
            .filter(|id| id.scheme == Scheme::Secp256k1)
            .collect();
        match keys.as_slice() {
            [key] => {
                let address = <[u8; 20]>::try_from(key.public_key.as_slice())
                    .map(ExecutionAddress::new)
                    .map_err(|_| format!("secp256k1 key {key} has no 20-byte address"))?;
                Ok(Self {
                    signer: signer.clone(),
                    key: key.clone(),
                    address,
                })
            }
            [] => Err(
                "this node has no ECDSA key to send transactions with: set signer.ecdsa.keystore \
                 and signer.ecdsa.password_file"
                    .to_owned(),
            ),
            keys => Err(format!(
                "this node holds {} secp256k1 keys ({}); transactions need exactly one",
                keys.len(),
                keys.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// The key's address: the transactions' sender.
    pub fn address(&self) -> ExecutionAddress {
        self.address
    }
}

/// The protection domain of proof transactions on chain `chain_id`.
fn tx_domain(chain_id: u64) -> String {
    format!("eigenpod-tx/{chain_id}")
}

/// What two transactions must not differ on: the sender and the nonce.
fn tx_conflict_key(from: ExecutionAddress, nonce: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(28);
    key.extend_from_slice(from.as_bytes());
    key.extend_from_slice(&nonce.to_be_bytes());
    key
}

impl DigestSigner for ProtectedTxSigner {
    async fn sign_digest(
        &self,
        from: ExecutionAddress,
        nonce: u64,
        chain_id: u64,
        digest: [u8; 32],
    ) -> Result<[u8; 65], String> {
        if from != self.address {
            return Err(format!(
                "the node's ECDSA key is {}, not the sender {from}",
                self.address
            ));
        }
        let signed = self
            .signer
            .sign(SigningRequest {
                key: self.key.clone(),
                domain: tx_domain(chain_id),
                conflict_key: tx_conflict_key(from, nonce),
                ordering: None,
                message: digest.to_vec(),
            })
            .await
            .map_err(|e| e.to_string())?;
        if signed.repeated {
            tracing::info!(%from, nonce, chain_id, "transaction signed before, signature reused");
        }
        <[u8; 65]>::try_from(signed.signature.as_slice()).map_err(|_| {
            format!(
                "the signer returned {} bytes, not a 65-byte r ‖ s ‖ v signature",
                signed.signature.len()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use prometheus::Registry;
    use restake_signer::{Keyring, SecretBytes, SignError, ecdsa, protection::ProtectionDb};

    use super::*;

    /// Anvil's account 0 (a public test key).
    const KEY: [u8; 32] = [
        0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6, 0xb4, 0xd2, 0x38, 0xff,
        0x94, 0x4b, 0xac, 0xb4, 0x78, 0xcb, 0xed, 0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2,
        0xff, 0x80,
    ];

    fn signer(keys: &[[u8; 32]]) -> (tempfile::TempDir, ProtectedSigner) {
        let dir = tempfile::tempdir().unwrap();
        let db = ProtectionDb::open(&dir.path().join("restaked.db"), Duration::from_millis(200))
            .unwrap();
        let mut keyring = Keyring::default();
        for key in keys {
            keyring
                .add_ecdsa(&SecretBytes::new(*key), "test key")
                .unwrap();
        }
        let signer = ProtectedSigner::start(db, keyring, &Registry::new()).unwrap();
        (dir, signer)
    }

    #[tokio::test]
    async fn signs_a_transaction_digest_once_per_sender_and_nonce() {
        let (_dir, signer) = signer(&[KEY]);
        let tx = ProtectedTxSigner::for_ecdsa_key(&signer).unwrap();
        let from = tx.address();
        assert_eq!(
            from.to_string().to_lowercase(),
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
        );

        let signature = tx.sign_digest(from, 7, 31337, [1; 32]).await.unwrap();
        assert_eq!(
            ecdsa::recover_address(&[1; 32], &signature).unwrap(),
            *from.as_bytes()
        );
        // The identical transaction again: the same signature.
        assert_eq!(
            tx.sign_digest(from, 7, 31337, [1; 32]).await.unwrap(),
            signature
        );
        // Another transaction with the same nonce: refused by the protection store.
        let refused = tx.sign_digest(from, 7, 31337, [2; 32]).await.unwrap_err();
        let direct = signer
            .sign(SigningRequest {
                key: tx.key.clone(),
                domain: tx_domain(31337),
                conflict_key: tx_conflict_key(from, 7),
                ordering: None,
                message: vec![2; 32],
            })
            .await
            .unwrap_err();
        assert!(matches!(direct, SignError::Refused(_)), "{direct:?}");
        assert_eq!(refused, direct.to_string());
        // The next nonce, or the same nonce on another chain: signed.
        tx.sign_digest(from, 8, 31337, [2; 32]).await.unwrap();
        tx.sign_digest(from, 7, 1, [2; 32]).await.unwrap();
    }

    #[tokio::test]
    async fn refuses_another_sender_and_needs_exactly_one_ecdsa_key() {
        let (_dir, one) = signer(&[KEY]);
        let tx = ProtectedTxSigner::for_ecdsa_key(&one).unwrap();
        let other = ExecutionAddress::new([9; 20]);
        let err = tx.sign_digest(other, 0, 1, [1; 32]).await.unwrap_err();
        assert!(err.contains("not the sender"), "{err}");

        let (_dir, none) = signer(&[]);
        let err = ProtectedTxSigner::for_ecdsa_key(&none).err().unwrap();
        assert!(err.contains("signer.ecdsa.keystore"), "{err}");

        let (_dir, two) = signer(&[KEY, [7; 32]]);
        let err = ProtectedTxSigner::for_ecdsa_key(&two).err().unwrap();
        assert!(err.contains("exactly one"), "{err}");
    }

    #[test]
    fn the_conflict_key_is_the_sender_and_the_big_endian_nonce() {
        let key = tx_conflict_key(ExecutionAddress::new([0xab; 20]), 0x0102);
        assert_eq!(key.len(), 28);
        assert_eq!(&key[..20], &[0xab; 20]);
        assert_eq!(&key[20..], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(tx_domain(17000), "eigenpod-tx/17000");
    }
}
