//! `restakectl modules list|enable|disable|restart|watch`: the node's duty modules and the
//! duties they perform.

use std::{
    io::Write,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use clap::Subcommand;
use restake_api::v1::{
    self, DisableModuleRequest, EnableModuleRequest, ListModulesRequest, RestartModuleRequest,
    WatchDutyResultsRequest, module_service_client::ModuleServiceClient,
    watch_duty_results_response::Item,
};
use serde::Serialize;
use serde_json::json;

use crate::{Authed, Cli, CliError, json_line, table};

/// The most characters of an error shown in the LAST ERROR column; `--json` has all of it.
const ERROR_WIDTH: usize = 60;

#[derive(Debug, Subcommand)]
pub(crate) enum ModulesCommand {
    /// Every duty module: its state, restarts, last duty and last error.
    List,
    /// Enable a module and start it. Not kept across a node restart: the config's
    /// `modules.<id>.enabled` decides again then.
    Enable {
        /// The module's id (the `<id>` of its `[modules.<id>]` section).
        id: String,
    },
    /// Disable a module: the node stops it, waiting up to its `duties.stop_deadline` (10s by
    /// default) and aborting it after that; pass a longer --timeout than that deadline.
    Disable {
        /// The module's id.
        id: String,
    },
    /// Stop a module (as disable does) and start a fresh instance of it, if it is enabled.
    Restart {
        /// The module's id.
        id: String,
    },
    /// Print each duty the modules perform, as they finish, until Ctrl-C.
    Watch {
        /// Only this module's duties.
        id: Option<String>,
    },
}

/// A module as printed by `--json`.
#[derive(Debug, Serialize)]
struct ModuleJson {
    id: String,
    kind: String,
    enabled: bool,
    state: &'static str,
    last_error: Option<String>,
    message: Option<String>,
    restarts: u64,
    last_duty_at_unix_ms: Option<u64>,
}

fn state_name(value: i32) -> &'static str {
    match v1::ModuleState::try_from(value) {
        Ok(v1::ModuleState::Starting) => "starting",
        Ok(v1::ModuleState::Running) => "running",
        Ok(v1::ModuleState::Degraded) => "degraded",
        Ok(v1::ModuleState::Failed) => "failed",
        Ok(v1::ModuleState::Disabled) => "disabled",
        Ok(v1::ModuleState::Stopped) => "stopped",
        Ok(v1::ModuleState::Unspecified) | Err(_) => "unknown",
    }
}

fn outcome_name(value: i32) -> &'static str {
    match v1::DutyOutcome::try_from(value) {
        Ok(v1::DutyOutcome::Done) => "done",
        Ok(v1::DutyOutcome::Skipped) => "skipped",
        Ok(v1::DutyOutcome::Failed) => "failed",
        Ok(v1::DutyOutcome::Unspecified) | Err(_) => "unknown",
    }
}

impl From<v1::ModuleStatus> for ModuleJson {
    fn from(m: v1::ModuleStatus) -> Self {
        Self {
            state: state_name(m.state),
            id: m.id,
            kind: m.kind,
            enabled: m.enabled,
            last_error: table::non_empty(m.last_error),
            message: table::non_empty(m.message),
            restarts: m.restarts,
            last_duty_at_unix_ms: m.last_duty_at_unix_ms,
        }
    }
}

fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How long before `now` the time `at_ms` (Unix milliseconds) was, roughly: `3s ago`,
/// `12m ago`, `5h ago`, `3d ago`.
pub(crate) fn age(at_ms: u64, now: SystemTime) -> String {
    let seconds = unix_ms(now).saturating_sub(at_ms) / 1000;
    match seconds {
        0..60 => format!("{seconds}s ago"),
        60..3_600 => format!("{}m ago", seconds / 60),
        3_600..172_800 => format!("{}h ago", seconds / 3_600),
        _ => format!("{}d ago", seconds / 86_400),
    }
}

/// `text` on one line, cut to `width` characters with `…` when longer.
pub(crate) fn truncate(text: &str, width: usize) -> String {
    let line = text.replace(['\n', '\r'], " ");
    if line.chars().count() <= width {
        return line;
    }
    let mut cut: String = line.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn list_table(modules: &[ModuleJson], now: SystemTime) -> String {
    if modules.is_empty() {
        return "this node has no duty modules\n".to_owned();
    }
    let rows: Vec<Vec<String>> = modules
        .iter()
        .map(|m| {
            vec![
                m.id.clone(),
                m.kind.clone(),
                table::yes_no(m.enabled),
                m.state.to_owned(),
                m.restarts.to_string(),
                m.last_duty_at_unix_ms
                    .map_or_else(|| "-".to_owned(), |at| age(at, now)),
                m.last_error
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), |e| truncate(e, ERROR_WIDTH)),
            ]
        })
        .collect();
    let mut out = table::render(
        &[
            "ID",
            "KIND",
            "ENABLED",
            "STATE",
            "RESTARTS",
            "LAST DUTY",
            "LAST ERROR",
        ],
        &rows,
    );
    let degraded: Vec<&ModuleJson> = modules.iter().filter(|m| m.message.is_some()).collect();
    if !degraded.is_empty() {
        out.push_str("\ndegraded:\n");
        for m in degraded {
            out.push_str(&format!(
                "  {}: {}\n",
                m.id,
                m.message.as_deref().unwrap_or_default()
            ));
        }
    }
    out
}

/// What a command did to a module, for people: `module idle: enabled; now starting`, or
/// `module idle: disabled` when the state says nothing more.
fn changed_line(verb: &str, module: &ModuleJson) -> String {
    if module.state == verb {
        format!("module {}: {verb}\n", module.id)
    } else {
        format!("module {}: {verb}; now {}\n", module.id, module.state)
    }
}

/// One stream item: a line for people, or a JSON object on one line.
fn item_line(item: &Item, as_json: bool) -> String {
    match item {
        Item::Result(r) if as_json => {
            let value = json!({
                "module": r.module,
                "at_unix_ms": r.at_unix_ms,
                "outcome": outcome_name(r.outcome),
                "duration_ms": r.duration_ms,
                "detail": r.detail,
            });
            format!("{value}\n")
        }
        Item::Result(r) => format!(
            "{}  {}  {:<7}  {}ms  {}\n",
            humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(r.at_unix_ms)),
            r.module,
            outcome_name(r.outcome).to_uppercase(),
            r.duration_ms,
            r.detail
        ),
        Item::Missed(m) if as_json => format!("{}\n", json!({ "missed": m.count })),
        Item::Missed(m) => format!(
            "-- {} duty result(s) missed: this watcher fell behind the node\n",
            m.count
        ),
    }
}

/// A disable or restart the client stopped waiting for: the node goes on stopping the module.
fn stop_error(cli: &Cli, status: tonic::Status) -> CliError {
    // The client's timeout is wrapped in the channel's errors: look along the whole chain.
    let mut cause = std::error::Error::source(&status);
    let mut timed_out = false;
    while let Some(error) = cause {
        timed_out |= error.downcast_ref::<tonic::TimeoutExpired>().is_some();
        cause = error.source();
    }
    if timed_out {
        CliError::TimedOut {
            endpoint: cli.endpoint.clone(),
            timeout: humantime::format_duration(cli.timeout).to_string(),
            hint: "the node goes on stopping the module (it waits up to its duties.stop_deadline \
                   before aborting it): see `restakectl modules list`, and pass a longer --timeout \
                   to wait for the answer"
                .to_owned(),
        }
    } else {
        CliError::from_status(&cli.endpoint, status)
    }
}

/// The module of an answer that must hold one.
fn answered(cli: &Cli, module: Option<v1::ModuleStatus>) -> Result<ModuleJson, CliError> {
    module.map(ModuleJson::from).ok_or_else(|| CliError::Rpc {
        endpoint: cli.endpoint.clone(),
        code: tonic::Code::Internal,
        message: "the answer holds no module".to_owned(),
    })
}

/// Runs a `modules` subcommand. `watch` writes each result to `out` as it arrives and returns
/// an empty string.
pub(crate) async fn execute(
    cli: &Cli,
    mut client: ModuleServiceClient<Authed>,
    command: &ModulesCommand,
    out: &mut dyn Write,
) -> Result<String, CliError> {
    let rpc = |status| CliError::from_status(&cli.endpoint, status);
    let (verb, module) = match command {
        ModulesCommand::List => {
            let modules: Vec<ModuleJson> = client
                .list_modules(ListModulesRequest {})
                .await
                .map_err(rpc)?
                .into_inner()
                .modules
                .into_iter()
                .map(ModuleJson::from)
                .collect();
            return Ok(if cli.json {
                json_line(&json!({ "modules": modules }))
            } else {
                list_table(&modules, SystemTime::now())
            });
        }
        ModulesCommand::Enable { id } => {
            let response = client
                .enable_module(EnableModuleRequest { id: id.clone() })
                .await
                .map_err(rpc)?;
            ("enabled", response.into_inner().module)
        }
        ModulesCommand::Disable { id } => {
            let response = client
                .disable_module(DisableModuleRequest { id: id.clone() })
                .await
                .map_err(|status| stop_error(cli, status))?;
            ("disabled", response.into_inner().module)
        }
        ModulesCommand::Restart { id } => {
            let response = client
                .restart_module(RestartModuleRequest { id: id.clone() })
                .await
                .map_err(|status| stop_error(cli, status))?;
            ("restarted", response.into_inner().module)
        }
        ModulesCommand::Watch { id } => {
            let stream = client
                .watch_duty_results(WatchDutyResultsRequest {
                    module: id.clone().unwrap_or_default(),
                })
                .await
                .map_err(rpc)?
                .into_inner();
            // An item of a newer node this client does not know prints nothing.
            return crate::follow(cli, stream, out, |response| {
                response.item.map(|item| item_line(&item, cli.json))
            })
            .await;
        }
    };
    let module = answered(cli, module)?;
    Ok(if cli.json {
        json_line(&module)
    } else {
        changed_line(verb, &module)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: &str) -> v1::ModuleStatus {
        v1::ModuleStatus {
            id: id.to_owned(),
            kind: "oracle".to_owned(),
            enabled: true,
            state: v1::ModuleState::Running.into(),
            last_error: String::new(),
            message: String::new(),
            restarts: 0,
            last_duty_at_unix_ms: None,
        }
    }

    fn at(unix_ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(unix_ms)
    }

    #[test]
    fn ages_are_rounded_down_to_the_largest_unit() {
        let now = at(1_700_000_000_000);
        assert_eq!(age(1_700_000_000_000, now), "0s ago");
        assert_eq!(age(1_699_999_996_500, now), "3s ago");
        assert_eq!(age(1_700_000_000_000 - 125_000, now), "2m ago");
        assert_eq!(age(1_700_000_000_000 - 5 * 3_600_000, now), "5h ago");
        assert_eq!(age(1_700_000_000_000 - 3 * 86_400_000, now), "3d ago");
        // A node clock ahead of ours is not a negative age.
        assert_eq!(age(1_700_000_005_000, now), "0s ago");
    }

    #[test]
    fn long_errors_are_cut_to_one_line() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly 10", 10), "exactly 10");
        assert_eq!(truncate("beacon: connection\nrefused", 12), "beacon: con…");
        assert_eq!(truncate("a\nb", 10), "a b");
    }

    #[test]
    fn the_list_shows_ages_dashes_truncated_errors_and_degraded_messages() {
        let now = at(1_700_000_000_000);
        let mut working = status("oracle-eth");
        working.last_duty_at_unix_ms = Some(1_699_999_997_000);
        let mut failing = status("bridge");
        failing.kind = "bridge".to_owned();
        failing.state = v1::ModuleState::Failed.into();
        failing.restarts = 4;
        failing.last_error = format!("execution: {}", "x".repeat(80));
        let mut degraded = status("da");
        degraded.kind = "da-sampling".to_owned();
        degraded.enabled = false;
        degraded.state = v1::ModuleState::Degraded.into();
        degraded.message = "beacon node syncing".to_owned();
        let modules: Vec<ModuleJson> = [failing, degraded, working]
            .into_iter()
            .map(ModuleJson::from)
            .collect();
        let expected_error = format!("execution: {}…", "x".repeat(ERROR_WIDTH - 12));
        assert_eq!(
            list_table(&modules, now),
            format!(
                "ID          KIND         ENABLED  STATE     RESTARTS  LAST DUTY  LAST ERROR\n\
                 bridge      bridge       yes      failed    4         -          {expected_error}\n\
                 da          da-sampling  no       degraded  0         -          -\n\
                 oracle-eth  oracle       yes      running   0         3s ago     -\n\
                 \n\
                 degraded:\n  da: beacon node syncing\n"
            )
        );
        assert_eq!(list_table(&[], now), "this node has no duty modules\n");
    }

    #[test]
    fn module_json_uses_names_for_enums_and_null_for_empty_fields() {
        let json = serde_json::to_value(ModuleJson::from(status("oracle-eth"))).unwrap();
        assert_eq!(
            json,
            json!({
                "id": "oracle-eth",
                "kind": "oracle",
                "enabled": true,
                "state": "running",
                "last_error": null,
                "message": null,
                "restarts": 0,
                "last_duty_at_unix_ms": null,
            })
        );
    }

    #[test]
    fn results_print_as_lines_and_json_lines() {
        let result = Item::Result(v1::DutyResult {
            module: "oracle-eth".to_owned(),
            at_unix_ms: 1_700_000_000_123,
            outcome: v1::DutyOutcome::Done.into(),
            duration_ms: 12,
            detail: "eth-usd round 7: 3412.55 signed".to_owned(),
        });
        assert_eq!(
            item_line(&result, false),
            "2023-11-14T22:13:20.123Z  oracle-eth  DONE     12ms  eth-usd round 7: 3412.55 signed\n"
        );
        let line = item_line(&result, true);
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            json,
            json!({
                "module": "oracle-eth",
                "at_unix_ms": 1_700_000_000_123u64,
                "outcome": "done",
                "duration_ms": 12,
                "detail": "eth-usd round 7: 3412.55 signed",
            })
        );
        let missed = Item::Missed(v1::MissedDutyResults { count: 3 });
        assert_eq!(
            item_line(&missed, false),
            "-- 3 duty result(s) missed: this watcher fell behind the node\n"
        );
        assert_eq!(item_line(&missed, true), "{\"missed\":3}\n");
    }

    #[test]
    fn a_changed_module_is_one_line() {
        let mut module = status("idle");
        module.state = v1::ModuleState::Starting.into();
        assert_eq!(
            changed_line("enabled", &ModuleJson::from(module.clone())),
            "module idle: enabled; now starting\n"
        );
        module.state = v1::ModuleState::Disabled.into();
        assert_eq!(
            changed_line("disabled", &ModuleJson::from(module)),
            "module idle: disabled\n"
        );
    }

    /// A node serving `ModuleService` from fixed answers, over a real socket.
    mod against_a_node {
        use std::{io, sync::mpsc, time::Duration};

        use clap::Parser;
        use restake_api::v1::{
            DisableModuleResponse, EnableModuleResponse, ListModulesResponse,
            RestartModuleResponse, WatchDutyResultsResponse,
            module_service_server::{ModuleService, ModuleServiceServer},
        };
        use tonic::{
            Request, Response, Status,
            codegen::tokio_stream::{self, Stream},
            transport::server::TcpIncoming,
        };

        use super::*;
        use crate::connect;

        struct FixedNode;

        type Results =
            std::pin::Pin<Box<dyn Stream<Item = Result<WatchDutyResultsResponse, Status>> + Send>>;

        fn unknown(id: &str) -> Status {
            Status::not_found(format!(
                "no module {id} is registered; this node's modules are oracle-eth"
            ))
        }

        #[tonic::async_trait]
        impl ModuleService for FixedNode {
            async fn list_modules(
                &self,
                _: Request<ListModulesRequest>,
            ) -> Result<Response<ListModulesResponse>, Status> {
                Ok(Response::new(ListModulesResponse {
                    modules: vec![status("oracle-eth")],
                }))
            }

            async fn enable_module(
                &self,
                request: Request<EnableModuleRequest>,
            ) -> Result<Response<EnableModuleResponse>, Status> {
                let id = request.into_inner().id;
                if id != "oracle-eth" {
                    return Err(unknown(&id));
                }
                let mut module = status(&id);
                module.state = v1::ModuleState::Starting.into();
                Ok(Response::new(EnableModuleResponse {
                    module: Some(module),
                }))
            }

            async fn disable_module(
                &self,
                _: Request<DisableModuleRequest>,
            ) -> Result<Response<DisableModuleResponse>, Status> {
                // A module that takes its time to stop.
                tokio::time::sleep(Duration::from_secs(5)).await;
                Err(Status::aborted("too late"))
            }

            async fn restart_module(
                &self,
                _: Request<RestartModuleRequest>,
            ) -> Result<Response<RestartModuleResponse>, Status> {
                Err(Status::aborted(
                    "module oracle-eth did not stop within the stop deadline \
                     (duties.stop_deadline) and its task was aborted; it is now starting",
                ))
            }

            type WatchDutyResultsStream = Results;

            async fn watch_duty_results(
                &self,
                request: Request<WatchDutyResultsRequest>,
            ) -> Result<Response<Results>, Status> {
                assert_eq!(request.into_inner().module, "oracle-eth");
                let result = WatchDutyResultsResponse {
                    item: Some(Item::Result(v1::DutyResult {
                        module: "oracle-eth".to_owned(),
                        at_unix_ms: 1_700_000_000_000,
                        outcome: v1::DutyOutcome::Skipped.into(),
                        duration_ms: 3,
                        detail: "eth-usd: no change".to_owned(),
                    })),
                };
                let missed = WatchDutyResultsResponse {
                    item: Some(Item::Missed(v1::MissedDutyResults { count: 2 })),
                };
                Ok(Response::new(Box::pin(tokio_stream::iter([
                    Ok(result),
                    Ok(missed),
                    Err(Status::unavailable("restaked is shutting down")),
                ]))))
            }
        }

        /// Collects what a command writes.
        struct Written(mpsc::Sender<Vec<u8>>);

        impl Write for Written {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let _ = self.0.send(buf.to_vec());
                Ok(buf.len())
            }

            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }

        /// Runs `restakectl --endpoint <node> <args>` against a [`FixedNode`]; returns what it
        /// returned and what it wrote.
        fn run(args: &[&str]) -> (Result<String, CliError>, String) {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            let endpoint = format!("http://{}", listener.local_addr().unwrap());
            runtime.spawn(
                tonic::transport::Server::builder()
                    .add_service(ModuleServiceServer::new(FixedNode))
                    .serve_with_incoming(TcpIncoming::from(listener)),
            );
            let cli = Cli::try_parse_from(
                ["restakectl", "--endpoint", &endpoint]
                    .into_iter()
                    .chain(args.iter().copied()),
            )
            .unwrap();
            let (sender, written) = mpsc::channel();
            let result = runtime.block_on(async {
                let (channel, auth) = connect(&cli).await?;
                let crate::Command::Modules(command) = &cli.command else {
                    unreachable!("parsed as a modules command")
                };
                execute(
                    &cli,
                    ModuleServiceClient::with_interceptor(channel, auth),
                    command,
                    &mut Written(sender),
                )
                .await
            });
            let text = written
                .try_iter()
                .map(|chunk| String::from_utf8(chunk).unwrap())
                .collect();
            runtime.shutdown_background();
            (result, text)
        }

        #[test]
        fn list_and_enable_print_what_the_node_answered() {
            let (listed, _) = run(&["--json", "modules", "list"]);
            let json: serde_json::Value = serde_json::from_str(&listed.unwrap()).unwrap();
            assert_eq!(json["modules"][0]["id"], "oracle-eth");
            assert_eq!(json["modules"][0]["state"], "running");
            let (enabled, _) = run(&["modules", "enable", "oracle-eth"]);
            assert_eq!(
                enabled.unwrap(),
                "module oracle-eth: enabled; now starting\n"
            );
        }

        #[test]
        fn an_unknown_module_exits_1_with_the_nodes_list_of_modules() {
            let (result, _) = run(&["modules", "enable", "oracle"]);
            let error = result.unwrap_err();
            assert_eq!(error.exit_code(), 1);
            assert!(
                error.to_string().ends_with(
                    "answered NotFound: no module oracle is registered; this node's modules are oracle-eth"
                ),
                "{error}"
            );
        }

        #[test]
        fn an_aborted_restart_exits_1_saying_what_the_module_is_now() {
            let (result, _) = run(&["modules", "restart", "oracle-eth"]);
            let error = result.unwrap_err();
            assert_eq!(error.exit_code(), 1);
            assert!(error.to_string().ends_with("it is now starting"), "{error}");
        }

        #[test]
        fn a_disable_that_outlasts_the_timeout_says_the_node_goes_on() {
            let (result, _) = run(&["--timeout", "200ms", "modules", "disable", "oracle-eth"]);
            let error = result.unwrap_err();
            assert!(
                error.to_string().starts_with(
                    "restaked at http://127.0.0.1:"
                ) && error.to_string().contains(
                    "did not answer within 200ms (--timeout): the node goes on stopping the module"
                ),
                "{error}"
            );
            assert_eq!(error.exit_code(), 1);
        }

        #[test]
        fn watch_prints_each_item_then_exits_69_when_the_node_shuts_down() {
            let (result, written) = run(&["modules", "watch", "oracle-eth"]);
            assert_eq!(
                written,
                "2023-11-14T22:13:20.000Z  oracle-eth  SKIPPED  3ms  eth-usd: no change\n\
                 -- 2 duty result(s) missed: this watcher fell behind the node\n"
            );
            let error = result.unwrap_err();
            assert_eq!(error.exit_code(), 69, "{error}");
            assert!(
                error.to_string().contains("restaked is shutting down"),
                "{error}"
            );
        }
    }
}
