//! `restaked.v1.KeyService`: list, import and (dev only) generate keys.

use std::path::PathBuf;

use restake_api::v1::{
    self, GenerateDevKeysRequest, GenerateDevKeysResponse, ImportKeystoreRequest,
    ImportKeystoreResponse, ListKeysRequest, ListKeysResponse, key_service_server::KeyService,
};
use restake_signer::{KeyId, Keyring, ProtectedSigner};
use tonic::{Request, Response, Status};

use crate::keys::{self, ImportError};

/// Most dev keys one call may add.
const MAX_DEV_KEYS: u32 = 1000;

/// The node's answers to `KeyService`.
#[derive(Clone)]
pub struct KeysApi {
    /// The signer holding the keys.
    pub signer: ProtectedSigner,
    /// The data dir, where imported keystores are kept.
    pub data_dir: PathBuf,
    /// Whether the node runs with `--dev`.
    pub dev_mode: bool,
}

impl KeysApi {
    fn status(&self) -> v1::KeyStatus {
        if self.signer.health().borrow().healthy {
            v1::KeyStatus::Active
        } else {
            v1::KeyStatus::SignerUnavailable
        }
    }

    fn key(&self, id: &KeyId, source: String) -> v1::Key {
        v1::Key {
            scheme: id.scheme.as_str().to_owned(),
            public_key: format!("0x{}", hex::encode(&id.public_key)),
            source,
            status: self.status().into(),
        }
    }

    fn source_of(&self, id: &KeyId) -> String {
        self.signer
            .keys()
            .into_iter()
            .find(|k| &k.id == id)
            .map(|k| k.source)
            .unwrap_or_default()
    }
}

#[tonic::async_trait]
impl KeyService for KeysApi {
    async fn list_keys(
        &self,
        _request: Request<ListKeysRequest>,
    ) -> Result<Response<ListKeysResponse>, Status> {
        let keys = self
            .signer
            .keys()
            .into_iter()
            .map(|k| self.key(&k.id, k.source))
            .collect();
        Ok(Response::new(ListKeysResponse { keys }))
    }

    async fn import_keystore(
        &self,
        request: Request<ImportKeystoreRequest>,
    ) -> Result<Response<ImportKeystoreResponse>, Status> {
        let ImportKeystoreRequest {
            keystore_json,
            password,
        } = request.into_inner();
        let signer = self.signer.clone();
        let data_dir = self.data_dir.clone();
        // Decrypting runs a deliberately slow KDF: keep it off the async workers.
        let result = tokio::task::spawn_blocking(move || {
            keys::import_keystore(&signer, &data_dir, &keystore_json, &password)
        })
        .await
        .map_err(|e| Status::internal(format!("import task failed: {e}")))?;
        match result {
            Ok((id, already_loaded)) => {
                let key = self.key(&id, self.source_of(&id));
                Ok(Response::new(ImportKeystoreResponse {
                    key: Some(key),
                    already_loaded,
                }))
            }
            Err(ImportError::Invalid(reason)) => Err(Status::invalid_argument(reason)),
            Err(e @ ImportError::Save { .. }) => Err(Status::unavailable(e.to_string())),
        }
    }

    async fn generate_dev_keys(
        &self,
        request: Request<GenerateDevKeysRequest>,
    ) -> Result<Response<GenerateDevKeysResponse>, Status> {
        if !self.dev_mode {
            return Err(Status::failed_precondition(
                "dev keys come from a public mnemonic; this node is not running with --dev",
            ));
        }
        let GenerateDevKeysRequest { first_index, count } = request.into_inner();
        if count == 0 || count > MAX_DEV_KEYS {
            return Err(Status::invalid_argument(format!(
                "count must be 1 to {MAX_DEV_KEYS}, got {count}"
            )));
        }
        let mut keyring = Keyring::default();
        let ids = keys::add_dev_keys(&mut keyring, first_index, count).map_err(Status::internal)?;
        self.signer.add_keys(keyring);
        let keys = ids
            .iter()
            .map(|id| self.key(id, self.source_of(id)))
            .collect();
        Ok(Response::new(GenerateDevKeysResponse { keys }))
    }
}
