//! `restakectl`, the admin client of a restaked node: readable tables for people, `--json`
//! on every command for scripts. `main.rs` only calls [`main`].

mod generate;
mod keys;
mod pods;
mod protection;
mod table;
mod validators;

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use clap::{Parser, Subcommand};
use restake_api::v1::{
    self, GetStatusRequest, GetStatusResponse, ShutdownRequest,
    key_service_client::KeyServiceClient, node_service_client::NodeServiceClient,
    pod_service_client::PodServiceClient, protection_service_client::ProtectionServiceClient,
    validator_service_client::ValidatorServiceClient,
};
use serde::Serialize;
use tonic::{
    Request, Status,
    metadata::{Ascii, MetadataValue},
    service::interceptor::InterceptedService,
    transport::{Channel, Endpoint},
};

/// Default gRPC address of a node (its `grpc.listen` default).
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:7601";

/// restakectl: administer a running restaked node over its gRPC admin API.
#[derive(Debug, Parser)]
#[command(name = "restakectl", version, about, long_about = None)]
pub struct Cli {
    /// gRPC address of the node.
    #[arg(long, global = true, env = "RESTAKECTL_ENDPOINT", default_value = DEFAULT_ENDPOINT, value_name = "URL")]
    endpoint: String,
    /// Bearer token, when the node sets `grpc.auth_token`.
    #[arg(
        long,
        global = true,
        env = "RESTAKECTL_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    token: Option<String>,
    /// Give up on a call after this long.
    #[arg(long, global = true, default_value = "5s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    timeout: Duration,
    /// Print JSON instead of tables, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Version, uptime, data dir and the readiness of each component.
    Status,
    /// Ask the node to shut down gracefully (drain, flush, exit 0).
    Shutdown {
        /// Recorded in the node's log.
        #[arg(long, default_value = "requested with restakectl")]
        reason: String,
    },
    /// The node's keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The slashing-protection history: export it before moving a node, import it after.
    #[command(subcommand)]
    Protection(ProtectionCommand),
    /// The validators the node tracks (needs beacon.endpoints on the node), and their events.
    #[command(subcommand)]
    Validators(validators::ValidatorsCommand),
    /// The operator's EigenPods as last reconciled with the beacon chain (needs
    /// execution.rpc_url and beacon.endpoints on the node).
    #[command(subcommand)]
    Pods(pods::PodsCommand),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Every key the signer holds.
    List,
    /// Import an EIP-2335 keystore into the running node (kept in its data dir across restarts).
    Import {
        /// The keystore JSON file.
        keystore: PathBuf,
        /// File holding the keystore's password (one trailing newline is ignored).
        #[arg(long, value_name = "FILE")]
        password_file: PathBuf,
    },
    /// Offline: derive new validator keys from a mnemonic (EIP-2333/2334) and write them as
    /// EIP-2335 keystores with a password file; no node is contacted.
    Generate(generate::GenerateArgs),
    /// Dev nodes only: add deterministic keys of the public test mnemonic to the running node.
    AddDev {
        /// How many keys.
        #[arg(long, default_value_t = 4)]
        count: u32,
        /// EIP-2334 account index of the first key.
        #[arg(long, default_value_t = 0)]
        first_index: u32,
    },
}

#[derive(Debug, Subcommand)]
enum ProtectionCommand {
    /// Write the whole history (AVS duties and, with a chain, validators) as JSON.
    Export {
        /// Write to this file (mode 0600) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The validators' chain (0x-hex); defaults to the chain recorded in the node's store.
        #[arg(long, value_name = "ROOT")]
        genesis_validators_root: Option<String>,
    },
    /// Add a history (restaked's format or an EIP-3076 interchange) to the node's history.
    Import {
        /// The JSON file.
        file: PathBuf,
        /// This node's chain (0x-hex); defaults to the recorded one, else the document's.
        #[arg(long, value_name = "ROOT")]
        genesis_validators_root: Option<String>,
    },
}

/// Why a command failed, with the exit code for each case (sysexits(3)).
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0:?} is not a valid endpoint URL (expected e.g. {DEFAULT_ENDPOINT}): {1}")]
    InvalidEndpoint(String, String),
    #[error("the token is not valid in an HTTP header")]
    InvalidToken,
    #[error(
        "cannot reach restaked at {endpoint}: {reason}. Is the node running? Set --endpoint or RESTAKECTL_ENDPOINT to its grpc.listen address"
    )]
    Unreachable { endpoint: String, reason: String },
    #[error(
        "restaked at {endpoint} refused the call: {message}. Pass the node's grpc.auth_token with --token or RESTAKECTL_TOKEN"
    )]
    Unauthenticated { endpoint: String, message: String },
    #[error("restaked at {endpoint} answered {code:?}: {message}")]
    Rpc {
        endpoint: String,
        code: tonic::Code,
        message: String,
    },
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Keys(String),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            Self::InvalidEndpoint(..) | Self::InvalidToken => 64,
            Self::Unreachable { .. } => 69,
            Self::Unauthenticated { .. } => 77,
            Self::Rpc { .. } => 1,
            Self::File { .. } => 66,
            Self::Usage(_) => 64,
            Self::Keys(_) => 1,
        }
    }

    fn from_status(endpoint: &str, status: Status) -> Self {
        let endpoint = endpoint.to_owned();
        let message = status.message().to_owned();
        match status.code() {
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => Self::Unreachable {
                endpoint,
                reason: message,
            },
            tonic::Code::Unauthenticated => Self::Unauthenticated { endpoint, message },
            code => Self::Rpc {
                endpoint,
                code,
                message,
            },
        }
    }
}

/// Adds `authorization: Bearer <token>` to every call when a token is given.
#[derive(Clone)]
struct Auth(Option<MetadataValue<Ascii>>);

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(auth) = &self.0 {
            request.metadata_mut().insert("authorization", auth.clone());
        }
        Ok(request)
    }
}

type Authed = InterceptedService<Channel, Auth>;

async fn connect(cli: &Cli) -> Result<(Channel, Auth), CliError> {
    let endpoint = Endpoint::from_shared(cli.endpoint.clone())
        .map_err(|e| CliError::InvalidEndpoint(cli.endpoint.clone(), e.to_string()))?
        .connect_timeout(cli.timeout)
        .timeout(cli.timeout);
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| CliError::Unreachable {
            endpoint: cli.endpoint.clone(),
            reason: error_chain(&e),
        })?;
    let auth = cli
        .token
        .as_ref()
        .map(|t| format!("Bearer {t}").parse())
        .transpose()
        .map_err(|_| CliError::InvalidToken)?;
    Ok((channel, Auth(auth)))
}

/// The innermost cause is what tells an operator what happened ("Connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // hyper and tonic repeat their own prefix at each level; print each distinct part once.
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        source = cause.source();
    }
    message
}

/// `GetStatus` as printed by `--json`.
#[derive(Debug, Serialize)]
struct StatusJson {
    version: String,
    node_name: String,
    ready: bool,
    uptime_seconds: u64,
    started_at_unix_seconds: u64,
    data_dir: String,
    dev_mode: bool,
    components: Vec<ComponentJson>,
}

#[derive(Debug, Serialize)]
struct ComponentJson {
    name: String,
    state: &'static str,
    message: String,
}

fn state_name(state: i32) -> &'static str {
    match v1::ComponentState::try_from(state) {
        Ok(v1::ComponentState::Starting) => "starting",
        Ok(v1::ComponentState::Ready) => "ready",
        Ok(v1::ComponentState::Degraded) => "degraded",
        Ok(v1::ComponentState::Failed) => "failed",
        Ok(v1::ComponentState::Stopping) => "stopping",
        Ok(v1::ComponentState::Unspecified) | Err(_) => "unknown",
    }
}

impl From<GetStatusResponse> for StatusJson {
    fn from(s: GetStatusResponse) -> Self {
        Self {
            components: s
                .components
                .into_iter()
                .map(|c| ComponentJson {
                    state: state_name(c.state),
                    name: c.name,
                    message: c.message,
                })
                .collect(),
            version: s.version,
            node_name: s.node_name,
            ready: s.ready,
            uptime_seconds: s.uptime_seconds,
            started_at_unix_seconds: s.started_at_unix_seconds,
            data_dir: s.data_dir,
            dev_mode: s.dev_mode,
        }
    }
}

fn status_table(status: &StatusJson) -> String {
    let started = UNIX_EPOCH + Duration::from_secs(status.started_at_unix_seconds);
    let mut out = table::pairs(&[
        (
            "Node",
            format!("{} (restaked {})", status.node_name, status.version),
        ),
        (
            "Ready",
            if status.ready {
                "yes".to_owned()
            } else {
                "no".to_owned()
            },
        ),
        (
            "Uptime",
            format!(
                "{} (since {})",
                humantime::format_duration(Duration::from_secs(status.uptime_seconds)),
                humantime::format_rfc3339_seconds(started)
            ),
        ),
        ("Data dir", status.data_dir.clone()),
        (
            "Dev mode",
            if status.dev_mode {
                "yes".to_owned()
            } else {
                "no".to_owned()
            },
        ),
    ]);
    out.push('\n');
    let rows: Vec<Vec<String>> = status
        .components
        .iter()
        .map(|c| vec![c.name.clone(), c.state.to_owned(), c.message.clone()])
        .collect();
    out.push_str(&table::render(&["COMPONENT", "STATE", "MESSAGE"], &rows));
    out
}

async fn execute(cli: &Cli) -> Result<String, CliError> {
    if let Command::Keys(KeysCommand::Generate(args)) = &cli.command {
        return generate::run(args, cli.json);
    }
    let (channel, auth) = connect(cli).await?;
    let rpc = |status| CliError::from_status(&cli.endpoint, status);
    match &cli.command {
        Command::Status => {
            let mut client = NodeServiceClient::with_interceptor(channel, auth);
            let status = StatusJson::from(
                client
                    .get_status(GetStatusRequest {})
                    .await
                    .map_err(rpc)?
                    .into_inner(),
            );
            Ok(if cli.json {
                json_line(&status)
            } else {
                status_table(&status)
            })
        }
        Command::Shutdown { reason } => {
            let mut client = NodeServiceClient::with_interceptor(channel, auth);
            client
                .shutdown(ShutdownRequest {
                    reason: reason.clone(),
                })
                .await
                .map_err(rpc)?;
            let requested_at = SystemTime::now();
            Ok(if cli.json {
                json_line(&serde_json::json!({ "shutdown": "requested", "endpoint": cli.endpoint }))
            } else {
                format!(
                    "shutdown requested at {}; the node drains and exits\n",
                    humantime::format_rfc3339_seconds(requested_at)
                )
            })
        }
        Command::Keys(command) => {
            keys::execute(
                cli,
                KeyServiceClient::with_interceptor(channel, auth),
                command,
            )
            .await
        }
        Command::Protection(command) => {
            protection::execute(
                cli,
                ProtectionServiceClient::with_interceptor(channel, auth),
                command,
            )
            .await
        }
        Command::Validators(command) => {
            validators::execute(
                cli,
                ValidatorServiceClient::with_interceptor(channel, auth),
                command,
                &mut std::io::stdout(),
            )
            .await
        }
        Command::Pods(command) => {
            pods::execute(
                cli,
                PodServiceClient::with_interceptor(channel, auth),
                command,
            )
            .await
        }
    }
}

/// Reads a text file named on the command line.
fn read_file(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::File {
        path: path.to_owned(),
        source,
    })
}

fn json_line<T: Serialize>(value: &T) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    let mut line =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    line.push('\n');
    line
}

/// Parses the command line and runs it; the process exits with the returned code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("restakectl: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(&cli)) {
        Ok(output) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            // A reader that stops early (`| head`) is not an error of ours; anything else is.
            match stdout
                .write_all(output.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("restakectl: cannot write the output: {e}");
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            if cli.json {
                eprint!(
                    "{}",
                    json_line(
                        &serde_json::json!({ "error": e.to_string(), "exit_code": e.exit_code() })
                    )
                );
            } else {
                eprintln!("restakectl: {e}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
