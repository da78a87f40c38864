//! `restakectl keys list|import|generate`.

use restake_api::v1::{
    self, GenerateDevKeysRequest, ImportKeystoreRequest, ListKeysRequest,
    key_service_client::KeyServiceClient,
};
use serde::Serialize;

use crate::{Authed, Cli, CliError, KeysCommand, generate, json_line, read_file, table};

#[derive(Debug, Serialize)]
struct KeyJson {
    scheme: String,
    public_key: String,
    source: String,
    status: &'static str,
}

fn status_name(status: i32) -> &'static str {
    match v1::KeyStatus::try_from(status) {
        Ok(v1::KeyStatus::Active) => "active",
        Ok(v1::KeyStatus::SignerUnavailable) => "signer-unavailable",
        Ok(v1::KeyStatus::Unspecified) | Err(_) => "unknown",
    }
}

impl From<v1::Key> for KeyJson {
    fn from(k: v1::Key) -> Self {
        Self {
            status: status_name(k.status),
            scheme: k.scheme,
            public_key: k.public_key,
            source: k.source,
        }
    }
}

fn keys_table(keys: &[KeyJson]) -> String {
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.scheme.clone(),
                k.public_key.clone(),
                k.status.to_owned(),
                k.source.clone(),
            ]
        })
        .collect();
    table::render(&["SCHEME", "PUBLIC KEY", "STATUS", "SOURCE"], &rows)
}

/// Runs a `keys` subcommand.
pub(crate) async fn execute(
    cli: &Cli,
    mut client: KeyServiceClient<Authed>,
    command: &KeysCommand,
) -> Result<String, CliError> {
    let rpc = |status| CliError::from_status(&cli.endpoint, status);
    match command {
        KeysCommand::List => {
            let keys: Vec<KeyJson> = client
                .list_keys(ListKeysRequest {})
                .await
                .map_err(rpc)?
                .into_inner()
                .keys
                .into_iter()
                .map(KeyJson::from)
                .collect();
            Ok(if cli.json {
                json_line(&keys)
            } else if keys.is_empty() {
                "no keys loaded\n".to_owned()
            } else {
                keys_table(&keys)
            })
        }
        KeysCommand::Import {
            keystore,
            password_file,
        } => {
            let keystore_json = read_file(keystore)?;
            let mut password = read_file(password_file)?;
            // Password files conventionally end with one newline that is not part of the password.
            if password.ends_with('\n') {
                password.pop();
                if password.ends_with('\r') {
                    password.pop();
                }
            }
            let response = client
                .import_keystore(ImportKeystoreRequest {
                    keystore_json,
                    password,
                })
                .await
                .map_err(rpc)?
                .into_inner();
            let key = response.key.map(KeyJson::from);
            Ok(if cli.json {
                json_line(
                    &serde_json::json!({ "key": key, "already_loaded": response.already_loaded }),
                )
            } else {
                let public_key = key.map(|k| k.public_key).unwrap_or_default();
                if response.already_loaded {
                    format!("{public_key} was already loaded; nothing changed\n")
                } else {
                    format!("imported {public_key}\n")
                }
            })
        }
        KeysCommand::Generate(args) => generate::run(args, cli.json),
        KeysCommand::AddDev { count, first_index } => {
            let keys: Vec<KeyJson> = client
                .generate_dev_keys(GenerateDevKeysRequest {
                    first_index: *first_index,
                    count: *count,
                })
                .await
                .map_err(rpc)?
                .into_inner()
                .keys
                .into_iter()
                .map(KeyJson::from)
                .collect();
            Ok(if cli.json {
                json_line(&keys)
            } else {
                keys_table(&keys)
            })
        }
    }
}
