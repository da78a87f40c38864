//! `restakectl protection export|import`.

use std::{fs, io::Write, os::unix::fs::OpenOptionsExt};

use restake_api::v1::{
    ExportProtectionRequest, ImportProtectionRequest,
    protection_service_client::ProtectionServiceClient,
};

use crate::{Authed, Cli, CliError, ProtectionCommand, json_line, read_file};

/// Runs a `protection` subcommand.
pub(crate) async fn execute(
    cli: &Cli,
    mut client: ProtectionServiceClient<Authed>,
    command: &ProtectionCommand,
) -> Result<String, CliError> {
    let rpc = |status| CliError::from_status(&cli.endpoint, status);
    match command {
        ProtectionCommand::Export {
            out,
            genesis_validators_root,
        } => {
            let response = client
                .export_protection(ExportProtectionRequest {
                    genesis_validators_root: genesis_validators_root.clone().unwrap_or_default(),
                })
                .await
                .map_err(rpc)?
                .into_inner();
            let Some(path) = out else {
                let mut document = response.history_json;
                document.push('\n');
                return Ok(document);
            };
            let file_error = |source| CliError::File {
                path: path.clone(),
                source,
            };
            // The history is not secret, but it is the node's safety: keep it the operator's alone.
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(file_error)?;
            file.write_all(response.history_json.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(file_error)?;
            Ok(if cli.json {
                json_line(&serde_json::json!({
                    "file": path.display().to_string(),
                    "messages": response.messages,
                    "validators": response.validators,
                }))
            } else {
                format!(
                    "exported {} duty record(s) and {} validator(s) to {}\n",
                    response.messages,
                    response.validators,
                    path.display()
                )
            })
        }
        ProtectionCommand::Import {
            file,
            genesis_validators_root,
        } => {
            let document_json = read_file(file)?;
            let response = client
                .import_protection(ImportProtectionRequest {
                    document_json,
                    genesis_validators_root: genesis_validators_root.clone().unwrap_or_default(),
                })
                .await
                .map_err(rpc)?
                .into_inner();
            Ok(if cli.json {
                json_line(&serde_json::json!({
                    "messages": response.messages,
                    "validators": response.validators,
                    "blocks": response.blocks,
                    "attestations": response.attestations,
                }))
            } else {
                format!(
                    "imported {} duty record(s), {} validator(s) ({} block(s), {} attestation(s))\n",
                    response.messages, response.validators, response.blocks, response.attestations
                )
            })
        }
    }
}
