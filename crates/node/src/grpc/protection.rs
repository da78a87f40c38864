//! `restaked.v1.ProtectionService`: export and import of the slashing-protection history.

use std::{path::PathBuf, time::Duration};

use restake_api::v1::{
    ExportProtectionRequest, ExportProtectionResponse, ImportProtectionRequest,
    ImportProtectionResponse, protection_service_server::ProtectionService,
};
use restake_signer::protection::{
    ProtectionDb, ProtectionError,
    history::{History, HistoryError},
    interchange::{Interchange, InterchangeError, Root},
};
use tonic::{Request, Response, Status};

/// The node's answers to `ProtectionService`. Each call opens its own connection to the store;
/// its transactions serialise with the signer's.
#[derive(Clone)]
pub struct ProtectionApi {
    /// The store file holding the protection tables.
    pub store_path: PathBuf,
    /// How long to wait for the signer's writer.
    pub busy_timeout: Duration,
}

fn parse_root(text: &str) -> Result<Option<Root>, Status> {
    if text.is_empty() {
        return Ok(None);
    }
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map(Some)
        .map_err(|e| Status::invalid_argument(format!("genesis_validators_root: {e}")))
}

fn store_status(e: &ProtectionError) -> Status {
    Status::unavailable(e.to_string())
}

fn interchange_status(e: InterchangeError) -> Status {
    match e {
        InterchangeError::Store(e) => store_status(&e),
        InterchangeError::GenesisMismatch { .. } => Status::failed_precondition(e.to_string()),
        other => Status::invalid_argument(other.to_string()),
    }
}

fn history_status(e: HistoryError) -> Status {
    match e {
        HistoryError::Store(e) => store_status(&e),
        HistoryError::Interchange(e) => interchange_status(e),
        HistoryError::Conflict { .. } => Status::failed_precondition(e.to_string()),
        other => Status::invalid_argument(other.to_string()),
    }
}

/// A document to import: restaked's own history format, or a bare EIP-3076 interchange.
enum Document {
    History(History),
    Interchange(Interchange),
}

fn parse_document(json: &str) -> Result<Document, Status> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Status::invalid_argument(format!("not JSON: {e}")))?;
    if value.get("format").is_some() {
        serde_json::from_value(value)
            .map(Document::History)
            .map_err(|e| Status::invalid_argument(format!("invalid protection history: {e}")))
    } else if value.get("metadata").is_some() {
        Interchange::from_json(json)
            .map(Document::Interchange)
            .map_err(interchange_status)
    } else {
        Err(Status::invalid_argument(
            "neither a restaked protection history (no \"format\") nor an EIP-3076 interchange (no \"metadata\")",
        ))
    }
}

impl ProtectionApi {
    async fn with_db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut ProtectionDb) -> Result<T, Status> + Send + 'static,
    ) -> Result<T, Status> {
        let path = self.store_path.clone();
        let busy = self.busy_timeout;
        tokio::task::spawn_blocking(move || {
            let mut db = ProtectionDb::open(&path, busy).map_err(|e| store_status(&e))?;
            work(&mut db)
        })
        .await
        .map_err(|e| Status::internal(format!("protection task failed: {e}")))?
    }
}

#[tonic::async_trait]
impl ProtectionService for ProtectionApi {
    async fn export_protection(
        &self,
        request: Request<ExportProtectionRequest>,
    ) -> Result<Response<ExportProtectionResponse>, Status> {
        let root = parse_root(&request.into_inner().genesis_validators_root)?;
        let history = self
            .with_db(move |db| {
                let root = match root {
                    Some(root) => Some(root),
                    None => db.recorded_chain().map_err(|e| store_status(&e))?,
                };
                db.export_history(root.as_ref()).map_err(history_status)
            })
            .await?;
        let validators = history.ethereum.as_ref().map_or(0, |i| i.data.len());
        let history_json = serde_json::to_string_pretty(&history)
            .map_err(|e| Status::internal(format!("cannot encode the history: {e}")))?;
        Ok(Response::new(ExportProtectionResponse {
            history_json,
            messages: history.messages.len() as u64,
            validators: validators as u64,
        }))
    }

    async fn import_protection(
        &self,
        request: Request<ImportProtectionRequest>,
    ) -> Result<Response<ImportProtectionResponse>, Status> {
        let request = request.into_inner();
        let root = parse_root(&request.genesis_validators_root)?;
        let document = parse_document(&request.document_json)?;
        let response = self
            .with_db(move |db| {
                let root = match root {
                    Some(root) => Some(root),
                    None => db.recorded_chain().map_err(|e| store_status(&e))?,
                };
                match document {
                    Document::History(history) => {
                        db.import_history(&history, root.as_ref())
                            .map_err(history_status)?;
                        let (validators, blocks, attestations) =
                            history.ethereum.as_ref().map_or((0, 0, 0), |i| {
                                let blocks =
                                    i.data.iter().map(|v| v.signed_blocks.len()).sum::<usize>();
                                let attestations = i
                                    .data
                                    .iter()
                                    .map(|v| v.signed_attestations.len())
                                    .sum::<usize>();
                                (i.data.len(), blocks, attestations)
                            });
                        Ok(ImportProtectionResponse {
                            messages: history.messages.len() as u64,
                            validators: validators as u64,
                            blocks: blocks as u64,
                            attestations: attestations as u64,
                        })
                    }
                    Document::Interchange(interchange) => {
                        let root = root.unwrap_or(interchange.metadata.genesis_validators_root);
                        let summary = db
                            .import_interchange(&interchange, &root)
                            .map_err(interchange_status)?;
                        Ok(ImportProtectionResponse {
                            messages: 0,
                            validators: summary.validators as u64,
                            blocks: summary.blocks as u64,
                            attestations: summary.attestations as u64,
                        })
                    }
                }
            })
            .await?;
        tracing::info!(
            messages = response.messages,
            validators = response.validators,
            "protection history imported over gRPC"
        );
        Ok(Response::new(response))
    }
}
