//! `restakectl validators list|show|watch`: the validators the node tracks and their events.

use std::io::Write;

use clap::{Subcommand, ValueEnum};
use restake_api::v1::{
    self, GetValidatorRequest, ListValidatorsRequest, WatchEventsRequest, get_validator_request,
    validator_event::Details, validator_service_client::ValidatorServiceClient,
};
use serde::Serialize;
use serde_json::json;

use crate::{Authed, Cli, CliError, json_line, table};

/// The Beacon API statuses and status groups `--status` accepts.
const STATUS_NAMES: [&str; 13] = [
    "pending",
    "active",
    "exited",
    "withdrawal",
    "pending_initialized",
    "pending_queued",
    "active_ongoing",
    "active_exiting",
    "active_slashed",
    "exited_unslashed",
    "exited_slashed",
    "withdrawal_possible",
    "withdrawal_done",
];

#[derive(Debug, Subcommand)]
pub(crate) enum ValidatorsCommand {
    /// The tracked validators, and the public keys still waiting for an index.
    List {
        /// Only validators with this Beacon API status or in this group (repeat or
        /// comma-separate for several).
        #[arg(long = "status", value_name = "STATUS", value_delimiter = ',', value_parser = STATUS_NAMES)]
        statuses: Vec<String>,
        /// Only validators with these withdrawal credentials (repeat or comma-separate).
        #[arg(long, value_name = "TYPE", value_delimiter = ',', value_enum)]
        credentials: Vec<CredentialsArg>,
        /// Only validators whose credentials point at this pod (0x + 40 hex digits).
        #[arg(long, value_name = "ADDRESS")]
        pod: Option<String>,
        /// Only slashed validators.
        #[arg(long)]
        slashed: bool,
    },
    /// Every field the node keeps about one tracked validator.
    Show {
        /// Its index, or its 0x public key.
        #[arg(value_name = "INDEX|PUBKEY")]
        validator: String,
    },
    /// Print the stored events, then new ones as they happen, until Ctrl-C.
    Watch {
        /// Only events after this sequence number (0: every stored event).
        #[arg(long, value_name = "SEQ", default_value_t = 0)]
        after: u64,
        /// Only this validator's events.
        #[arg(long, value_name = "INDEX")]
        index: Option<u64>,
        /// Only events at least this severe.
        #[arg(long, value_name = "SEVERITY", value_enum, default_value_t = SeverityArg::Info)]
        min_severity: SeverityArg,
    },
}

/// A withdrawal-credentials type on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum CredentialsArg {
    /// BLS withdrawal key: no execution address yet.
    #[value(name = "0x00", alias = "bls")]
    Bls,
    /// Execution address.
    #[value(name = "0x01", alias = "execution")]
    Execution,
    /// Execution address, compounding (Electra).
    #[value(name = "0x02", alias = "compounding")]
    Compounding,
}

impl From<CredentialsArg> for v1::CredentialsType {
    fn from(arg: CredentialsArg) -> Self {
        match arg {
            CredentialsArg::Bls => Self::Bls,
            CredentialsArg::Execution => Self::Execution,
            CredentialsArg::Compounding => Self::Compounding,
        }
    }
}

/// An event severity on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SeverityArg {
    /// Every event.
    Info,
    /// Warnings and critical events.
    Warning,
    /// Critical events only.
    Critical,
}

impl From<SeverityArg> for v1::Severity {
    fn from(arg: SeverityArg) -> Self {
        match arg {
            SeverityArg::Info => Self::Info,
            SeverityArg::Warning => Self::Warning,
            SeverityArg::Critical => Self::Critical,
        }
    }
}

/// A validator as printed by `--json`.
#[derive(Debug, Serialize)]
struct ValidatorJson {
    index: u64,
    pubkey: String,
    status: String,
    withdrawal_credentials: String,
    credentials_type: &'static str,
    withdrawal_address: Option<String>,
    pod: Option<String>,
    balance_gwei: u64,
    effective_balance_gwei: u64,
    slashed: bool,
    slashed_seen_slot: Option<u64>,
    activation_eligibility_epoch: Option<u64>,
    activation_epoch: Option<u64>,
    exit_epoch: Option<u64>,
    withdrawable_epoch: Option<u64>,
    updated_slot: u64,
    tracked_because: &'static str,
}

/// A public key waiting for an index, as printed by `--json`.
#[derive(Debug, Serialize)]
struct PendingJson {
    pubkey: String,
    tracked_because: &'static str,
}

fn credentials_name(value: i32) -> &'static str {
    match v1::CredentialsType::try_from(value) {
        Ok(v1::CredentialsType::Bls) => "0x00",
        Ok(v1::CredentialsType::Execution) => "0x01",
        Ok(v1::CredentialsType::Compounding) => "0x02",
        Ok(v1::CredentialsType::Unknown | v1::CredentialsType::Unspecified) | Err(_) => "unknown",
    }
}

fn because_name(value: i32) -> &'static str {
    match v1::TrackedBecause::try_from(value) {
        Ok(v1::TrackedBecause::Pubkey) => "pubkey",
        Ok(v1::TrackedBecause::Index) => "index",
        Ok(v1::TrackedBecause::Pod) => "pod",
        Ok(v1::TrackedBecause::Unspecified) | Err(_) => "unknown",
    }
}

/// A severity's name in lower case (`--json`).
pub(crate) fn severity_name(value: i32) -> &'static str {
    match v1::Severity::try_from(value) {
        Ok(v1::Severity::Info) => "info",
        Ok(v1::Severity::Warning) => "warning",
        Ok(v1::Severity::Critical) => "critical",
        Ok(v1::Severity::Unspecified) | Err(_) => "unknown",
    }
}

impl From<v1::Validator> for ValidatorJson {
    fn from(v: v1::Validator) -> Self {
        Self {
            credentials_type: credentials_name(v.credentials_type),
            tracked_because: because_name(v.tracked_because),
            index: v.index,
            pubkey: v.pubkey,
            status: v.status,
            withdrawal_credentials: v.withdrawal_credentials,
            withdrawal_address: table::non_empty(v.withdrawal_address),
            pod: table::non_empty(v.pod),
            balance_gwei: v.balance_gwei,
            effective_balance_gwei: v.effective_balance_gwei,
            slashed: v.slashed,
            slashed_seen_slot: v.slashed_seen_slot,
            activation_eligibility_epoch: v.activation_eligibility_epoch,
            activation_epoch: v.activation_epoch,
            exit_epoch: v.exit_epoch,
            withdrawable_epoch: v.withdrawable_epoch,
            updated_slot: v.updated_slot,
        }
    }
}

/// Gwei as ETH, exactly: `32.0`, `31.987654321`.
pub(crate) fn eth(gwei: u64) -> String {
    let whole = gwei / 1_000_000_000;
    let fraction = format!("{:09}", gwei % 1_000_000_000);
    let fraction = fraction.trim_end_matches('0');
    format!(
        "{whole}.{}",
        if fraction.is_empty() { "0" } else { fraction }
    )
}

/// `0x1234…cdef`: enough to tell keys and addresses apart in a table.
pub(crate) fn short(hex: &str) -> String {
    if hex.len() <= 14 {
        return hex.to_owned();
    }
    format!("{}…{}", &hex[..6], &hex[hex.len() - 4..])
}

fn epoch_text(epoch: Option<u64>) -> String {
    epoch.map_or_else(|| "-".to_owned(), |e| e.to_string())
}

/// Where the credentials withdraw to, marked when it is one of the operator's pods.
fn destination(v: &ValidatorJson) -> String {
    match (&v.withdrawal_address, &v.pod) {
        (_, Some(pod)) => format!("{} (pod)", short(pod)),
        (Some(address), None) => short(address),
        (None, None) => "-".to_owned(),
    }
}

fn list_table(validators: &[ValidatorJson], pending: &[PendingJson]) -> String {
    let mut out = String::new();
    if validators.is_empty() {
        out.push_str("no tracked validator matches\n");
    } else {
        let rows: Vec<Vec<String>> = validators
            .iter()
            .map(|v| {
                vec![
                    v.index.to_string(),
                    short(&v.pubkey),
                    v.status.clone(),
                    v.credentials_type.to_owned(),
                    destination(v),
                    eth(v.balance_gwei),
                    eth(v.effective_balance_gwei),
                    table::yes_no(v.slashed),
                    epoch_text(v.exit_epoch),
                ]
            })
            .collect();
        out.push_str(&table::render(
            &[
                "INDEX",
                "PUBKEY",
                "STATUS",
                "CREDS",
                "WITHDRAWS TO",
                "BALANCE (ETH)",
                "EFFECTIVE (ETH)",
                "SLASHED",
                "EXIT EPOCH",
            ],
            &rows,
        ));
    }
    if !pending.is_empty() {
        out.push_str(&format!(
            "\n{} public key(s) not in the validator registry yet:\n",
            pending.len()
        ));
        for p in pending {
            out.push_str(&format!(
                "  {} (tracked by {})\n",
                p.pubkey, p.tracked_because
            ));
        }
    }
    out
}

fn show_table(v: &ValidatorJson) -> String {
    let or_dash = |text: &Option<String>| text.clone().unwrap_or_else(|| "-".to_owned());
    table::pairs(&[
        ("Index", v.index.to_string()),
        ("Public key", v.pubkey.clone()),
        ("Status", v.status.clone()),
        ("Credentials", v.withdrawal_credentials.clone()),
        ("Credentials type", v.credentials_type.to_owned()),
        ("Withdrawal address", or_dash(&v.withdrawal_address)),
        ("Operator's pod", or_dash(&v.pod)),
        (
            "Balance",
            format!("{} ETH ({} gwei)", eth(v.balance_gwei), v.balance_gwei),
        ),
        (
            "Effective balance",
            format!(
                "{} ETH ({} gwei)",
                eth(v.effective_balance_gwei),
                v.effective_balance_gwei
            ),
        ),
        (
            "Slashed",
            match v.slashed_seen_slot {
                Some(slot) if v.slashed => format!("yes (seen at slot {slot})"),
                _ => table::yes_no(v.slashed),
            },
        ),
        (
            "Eligible at epoch",
            epoch_text(v.activation_eligibility_epoch),
        ),
        ("Activation epoch", epoch_text(v.activation_epoch)),
        ("Exit epoch", epoch_text(v.exit_epoch)),
        ("Withdrawable epoch", epoch_text(v.withdrawable_epoch)),
        ("Updated at slot", v.updated_slot.to_string()),
        ("Tracked by", v.tracked_because.to_owned()),
    ])
}

/// Reads `INDEX|PUBKEY`: digits are an index, `0x…` a public key (checked by the node).
fn validator_id(text: &str) -> Result<get_validator_request::Id, CliError> {
    if let Ok(index) = text.parse::<u64>() {
        Ok(get_validator_request::Id::Index(index))
    } else if text.starts_with("0x") || text.starts_with("0X") {
        Ok(get_validator_request::Id::Pubkey(text.to_owned()))
    } else {
        Err(CliError::Usage(format!(
            "{text:?} is neither a validator index nor a 0x public key"
        )))
    }
}

/// An event's details as JSON: the fields of its kind.
fn details_json(details: Option<&Details>) -> serde_json::Value {
    match details {
        Some(Details::CredentialsChanged(c)) => {
            json!({ "from": c.from, "to": c.to, "away_from_pod": c.away_from_pod })
        }
        Some(Details::Activated(a)) => json!({ "epoch": a.epoch }),
        Some(Details::BalanceDropped(b)) => {
            json!({ "from_gwei": b.from_gwei, "to_gwei": b.to_gwei })
        }
        Some(Details::ExitInitiated(e)) => json!({ "exit_epoch": e.exit_epoch }),
        Some(Details::UnconvertedCredentials(_) | Details::Slashed(_) | Details::Withdrawn(_))
        | None => json!({}),
    }
}

/// An event's details for people.
fn details_text(details: Option<&Details>) -> String {
    match details {
        Some(Details::CredentialsChanged(c)) => format!(
            "credentials {} -> {}{}",
            c.from,
            c.to,
            if c.away_from_pod {
                " (NO LONGER POINTING AT THE POD)"
            } else {
                ""
            }
        ),
        Some(Details::UnconvertedCredentials(_)) => {
            "still has 0x00 (BLS) credentials: it cannot be restaked until they are converted"
                .to_owned()
        }
        Some(Details::Activated(a)) => format!("active from epoch {}", a.epoch),
        Some(Details::BalanceDropped(b)) => format!(
            "balance dropped from {} to {} ETH",
            eth(b.from_gwei),
            eth(b.to_gwei)
        ),
        Some(Details::Slashed(_)) => "slashed".to_owned(),
        Some(Details::ExitInitiated(e)) => format!("exits at epoch {}", e.exit_epoch),
        Some(Details::Withdrawn(_)) => "withdrawn: the balance has been swept".to_owned(),
        None => String::new(),
    }
}

/// One event: a JSON line with `--json`, else a line for people.
fn event_line(event: &v1::ValidatorEvent, as_json: bool) -> String {
    let details = event.details.as_ref();
    if as_json {
        let value = json!({
            "seq": event.seq,
            "slot": event.slot,
            "index": event.index,
            "pubkey": event.pubkey,
            "kind": event.kind,
            "severity": severity_name(event.severity),
            "details": details_json(details),
        });
        format!("{value}\n")
    } else {
        format!(
            "#{} slot {} {:<8} validator {} ({}) {}: {}\n",
            event.seq,
            event.slot,
            severity_name(event.severity).to_uppercase(),
            event.index,
            short(&event.pubkey),
            event.kind,
            details_text(details)
        )
    }
}

/// Runs a `validators` subcommand. `watch` writes each event to `out` as it arrives and
/// returns an empty string.
pub(crate) async fn execute(
    cli: &Cli,
    mut client: ValidatorServiceClient<Authed>,
    command: &ValidatorsCommand,
    out: &mut dyn Write,
) -> Result<String, CliError> {
    let rpc = |status| CliError::from_status(&cli.endpoint, status);
    match command {
        ValidatorsCommand::List {
            statuses,
            credentials,
            pod,
            slashed,
        } => {
            let response = client
                .list_validators(ListValidatorsRequest {
                    statuses: statuses.clone(),
                    credentials_types: credentials
                        .iter()
                        .map(|c| v1::CredentialsType::from(*c).into())
                        .collect(),
                    points_at_pod: None,
                    pod: pod.clone().unwrap_or_default(),
                    slashed_only: *slashed,
                })
                .await
                .map_err(rpc)?
                .into_inner();
            let validators: Vec<ValidatorJson> = response
                .validators
                .into_iter()
                .map(ValidatorJson::from)
                .collect();
            let pending: Vec<PendingJson> = response
                .pending
                .into_iter()
                .map(|p| PendingJson {
                    tracked_because: because_name(p.tracked_because),
                    pubkey: p.pubkey,
                })
                .collect();
            Ok(if cli.json {
                json_line(&json!({ "validators": validators, "pending": pending }))
            } else {
                list_table(&validators, &pending)
            })
        }
        ValidatorsCommand::Show { validator } => {
            let id = validator_id(validator)?;
            let validator = client
                .get_validator(GetValidatorRequest { id: Some(id) })
                .await
                .map_err(rpc)?
                .into_inner()
                .validator
                .map(ValidatorJson::from)
                .ok_or_else(|| CliError::Rpc {
                    endpoint: cli.endpoint.clone(),
                    code: tonic::Code::Internal,
                    message: "the answer holds no validator".to_owned(),
                })?;
            Ok(if cli.json {
                json_line(&validator)
            } else {
                show_table(&validator)
            })
        }
        ValidatorsCommand::Watch {
            after,
            index,
            min_severity,
        } => {
            let stream = client
                .watch_events(WatchEventsRequest {
                    after_seq: *after,
                    only_index: *index,
                    min_severity: v1::Severity::from(*min_severity).into(),
                })
                .await
                .map_err(rpc)?
                .into_inner();
            crate::follow(cli, stream, out, |event| Some(event_line(&event, cli.json))).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_print_as_exact_eth() {
        assert_eq!(eth(32_000_000_000), "32.0");
        assert_eq!(eth(31_987_654_321), "31.987654321");
        assert_eq!(eth(1_500_000_000), "1.5");
        assert_eq!(eth(0), "0.0");
        assert_eq!(eth(7), "0.000000007");
    }

    #[test]
    fn ids_are_indices_or_pubkeys() {
        assert_eq!(
            validator_id("42").unwrap(),
            get_validator_request::Id::Index(42)
        );
        assert_eq!(
            validator_id("0xab").unwrap(),
            get_validator_request::Id::Pubkey("0xab".to_owned())
        );
        let error = validator_id("validator-1").unwrap_err();
        assert_eq!(error.exit_code(), 64);
    }

    fn validator() -> v1::Validator {
        v1::Validator {
            index: 7,
            pubkey: format!("0x{}", "ab".repeat(48)),
            status: "active_ongoing".to_owned(),
            withdrawal_credentials: format!("0x01{}{}", "00".repeat(11), "ee".repeat(20)),
            credentials_type: v1::CredentialsType::Execution.into(),
            withdrawal_address: format!("0x{}", "ee".repeat(20)),
            pod: format!("0x{}", "ee".repeat(20)),
            balance_gwei: 32_001_000_000,
            effective_balance_gwei: 32_000_000_000,
            slashed: false,
            slashed_seen_slot: None,
            activation_eligibility_epoch: Some(1),
            activation_epoch: Some(2),
            exit_epoch: None,
            withdrawable_epoch: None,
            updated_slot: 64,
            tracked_because: v1::TrackedBecause::Pod.into(),
        }
    }

    #[test]
    fn a_validator_row_shows_the_pod_mark_and_eth() {
        let table = list_table(&[ValidatorJson::from(validator())], &[]);
        assert_eq!(
            table,
            "INDEX  PUBKEY       STATUS          CREDS  WITHDRAWS TO       BALANCE (ETH)  EFFECTIVE (ETH)  SLASHED  EXIT EPOCH\n\
             7      0xabab…abab  active_ongoing  0x01   0xeeee…eeee (pod)  32.001         32.0             no       -\n"
        );
    }

    #[test]
    fn validator_json_uses_null_for_unset_fields_and_names_for_enums() {
        let mut v = validator();
        v.pod = String::new();
        let json = serde_json::to_value(ValidatorJson::from(v)).unwrap();
        assert_eq!(json["credentials_type"], "0x01");
        assert_eq!(json["tracked_because"], "pod");
        assert_eq!(json["pod"], serde_json::Value::Null);
        assert_eq!(json["exit_epoch"], serde_json::Value::Null);
        assert_eq!(json["activation_epoch"], 2);
        assert_eq!(json["balance_gwei"], 32_001_000_000u64);
    }

    #[test]
    fn events_print_as_lines_and_json_lines() {
        let event = v1::ValidatorEvent {
            seq: 12,
            slot: 640,
            index: 3,
            pubkey: format!("0x{}", "03".repeat(48)),
            kind: "balance_dropped".to_owned(),
            severity: v1::Severity::Warning.into(),
            details: Some(Details::BalanceDropped(
                v1::validator_event::BalanceDropped {
                    from_gwei: 32_000_000_000,
                    to_gwei: 31_500_000_000,
                },
            )),
        };
        assert_eq!(
            event_line(&event, false),
            "#12 slot 640 WARNING  validator 3 (0x0303…0303) balance_dropped: balance dropped from 32.0 to 31.5 ETH\n"
        );
        let line = event_line(&event, true);
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["seq"], 12);
        assert_eq!(json["severity"], "warning");
        assert_eq!(json["kind"], "balance_dropped");
        assert_eq!(json["details"]["to_gwei"], 31_500_000_000u64);
    }

    #[test]
    fn a_status_sent_by_the_node_keeps_its_code_and_a_broken_stream_is_unreachable() {
        let sent = crate::stream_error(
            "http://n",
            tonic::Status::failed_precondition("set beacon.endpoints"),
        );
        assert_eq!(sent.exit_code(), 1);
        let broken = crate::stream_error(
            "http://n",
            tonic::Status::from_error(Box::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset",
            ))),
        );
        assert_eq!(broken.exit_code(), 69, "{broken}");
    }

    /// A node that streams one event and then dies with its whole runtime, as a killed process.
    mod node_going_away {
        use std::{io, sync::mpsc, time::Duration};

        use clap::Parser;
        use restake_api::v1::validator_service_server::{ValidatorService, ValidatorServiceServer};
        use tonic::{
            Request, Response, Status,
            codegen::tokio_stream::{self, Stream, StreamExt},
            transport::server::TcpIncoming,
        };

        use super::*;
        use crate::connect;

        struct OneEventThenNothing;

        type Events =
            std::pin::Pin<Box<dyn Stream<Item = Result<v1::ValidatorEvent, Status>> + Send>>;

        #[tonic::async_trait]
        impl ValidatorService for OneEventThenNothing {
            async fn list_validators(
                &self,
                _: Request<ListValidatorsRequest>,
            ) -> Result<Response<v1::ListValidatorsResponse>, Status> {
                Err(Status::unimplemented("not in this test"))
            }

            async fn get_validator(
                &self,
                _: Request<GetValidatorRequest>,
            ) -> Result<Response<v1::GetValidatorResponse>, Status> {
                Err(Status::unimplemented("not in this test"))
            }

            type WatchEventsStream = Events;

            async fn watch_events(
                &self,
                _: Request<WatchEventsRequest>,
            ) -> Result<Response<Events>, Status> {
                let event = v1::ValidatorEvent {
                    seq: 1,
                    kind: "slashed".to_owned(),
                    severity: v1::Severity::Critical.into(),
                    details: Some(Details::Slashed(v1::validator_event::Slashed {})),
                    ..Default::default()
                };
                Ok(Response::new(Box::pin(
                    tokio_stream::iter([Ok(event)]).chain(tokio_stream::pending()),
                )))
            }

            async fn get_tracker_status(
                &self,
                _: Request<v1::GetTrackerStatusRequest>,
            ) -> Result<Response<v1::GetTrackerStatusResponse>, Status> {
                Err(Status::unimplemented("not in this test"))
            }
        }

        /// Hands each written chunk to the test.
        struct Lines(mpsc::Sender<Vec<u8>>);

        impl Write for Lines {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let _ = self.0.send(buf.to_vec());
                Ok(buf.len())
            }

            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }

        #[test]
        fn watch_exits_unreachable_when_the_node_goes_away_mid_stream() {
            let server = tokio::runtime::Runtime::new().unwrap();
            let listener = server
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            let endpoint = format!("http://{}", listener.local_addr().unwrap());
            server.spawn(
                tonic::transport::Server::builder()
                    .add_service(ValidatorServiceServer::new(OneEventThenNothing))
                    .serve_with_incoming(TcpIncoming::from(listener)),
            );
            let cli = Cli::try_parse_from([
                "restakectl",
                "--endpoint",
                &endpoint,
                "--json",
                "validators",
                "watch",
            ])
            .unwrap();
            let (lines, written) = mpsc::channel();
            let client = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let (channel, auth) = connect(&cli).await?;
                    let crate::Command::Validators(command) = &cli.command else {
                        unreachable!("parsed as validators watch")
                    };
                    execute(
                        &cli,
                        ValidatorServiceClient::with_interceptor(channel, auth),
                        command,
                        &mut Lines(lines),
                    )
                    .await
                })
            });
            let first = written.recv_timeout(Duration::from_secs(10)).unwrap();
            let json: serde_json::Value = serde_json::from_slice(&first).unwrap();
            assert_eq!(json["kind"], "slashed");
            // The node dies: every connection task goes with its runtime.
            server.shutdown_background();
            let error = client.join().unwrap().unwrap_err();
            assert_eq!(error.exit_code(), 69, "{error}");
            assert!(
                error
                    .to_string()
                    .contains(&format!("cannot reach restaked at {endpoint}")),
                "{error}"
            );
        }
    }
}
