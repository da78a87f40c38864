//! The `restaked` command line.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use clap::{Args, Parser, Subcommand};

use crate::{
    config::{Config, ConfigErrors, ConfigSources},
    node::{self, RunOptions},
    probe, telemetry,
};

/// restaked: a native-restaking operator node.
#[derive(Debug, Parser)]
#[command(name = "restaked", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the node.
    Run(RunArgs),
    /// Inspect or validate configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Exit 0 if a running node answers GET /readyz with 200 (for Docker HEALTHCHECK).
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Run on a temporary data dir with generated config, everything on localhost: for trying restaked out.
    #[arg(long)]
    dev: bool,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (all layers applied, secrets redacted) as TOML.
    Dump(ConfigArgs),
    /// Validate a config file (with the environment applied) without starting; exit 64 if invalid.
    Check {
        /// The TOML file to check.
        file: PathBuf,
    },
}

/// Flags that set config keys; they override the file and the environment.
#[derive(Debug, Args)]
struct ConfigArgs {
    /// TOML config file.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Sets `data_dir`.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
    /// Sets `node.name`.
    #[arg(long, value_name = "NAME")]
    node_name: Option<String>,
    /// Sets `http.listen`.
    #[arg(long, value_name = "IP:PORT")]
    http_listen: Option<String>,
    /// Sets `grpc.listen`.
    #[arg(long, value_name = "IP:PORT")]
    grpc_listen: Option<String>,
    /// Sets `log.level` (e.g. `info`, `info,restaked=debug`).
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
    /// Sets `log.format`: `human` or `json`.
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Sets any config key: `--set shutdown.drain_timeout=10s`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    set: Vec<(String, String)>,
}

#[derive(Debug, Args)]
struct HealthcheckArgs {
    /// HTTP address of the node.
    #[arg(long, default_value = crate::config::DEFAULT_HTTP_LISTEN, value_name = "IP:PORT")]
    addr: SocketAddr,
    /// Path to probe.
    #[arg(long, default_value = "/readyz")]
    path: String,
    /// Give up after this long.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    let (key, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    if key.is_empty() {
        return Err(format!("empty key in {s:?}"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

impl ConfigArgs {
    fn sources(&self, default_data_dir: Option<PathBuf>) -> ConfigSources {
        let flags = [
            ("data_dir", &self.data_dir),
            ("node.name", &self.node_name),
            ("http.listen", &self.http_listen),
            ("grpc.listen", &self.grpc_listen),
            ("log.level", &self.log_level),
            ("log.format", &self.log_format),
        ];
        let mut overrides: Vec<(String, String)> = self.set.clone();
        overrides.extend(
            flags
                .into_iter()
                .filter_map(|(key, value)| value.clone().map(|v| (key.to_owned(), v))),
        );
        ConfigSources {
            file: self.config.clone(),
            env: None,
            overrides,
            default_data_dir,
        }
    }
}

fn config_error(errors: &ConfigErrors) -> ExitCode {
    eprint!("restaked: {errors}");
    ExitCode::from(64)
}

/// Parses the command line and runs it; the process exits with the returned code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Config(ConfigCommand::Dump(args)) => match Config::load(&args.sources(None)) {
            Ok(config) => {
                print!("{}", config.dump());
                ExitCode::SUCCESS
            }
            Err(errors) => config_error(&errors),
        },
        Command::Config(ConfigCommand::Check { file }) => {
            let sources = ConfigSources {
                file: Some(file.clone()),
                ..ConfigSources::default()
            };
            match Config::load(&sources) {
                Ok(_) => {
                    println!("{}: ok", file.display());
                    ExitCode::SUCCESS
                }
                Err(errors) => config_error(&errors),
            }
        }
        Command::Healthcheck(args) => match probe::http_get(args.addr, &args.path, args.timeout) {
            Ok(response) if response.status == 200 => ExitCode::SUCCESS,
            Ok(response) => {
                eprintln!(
                    "restaked healthcheck: {}{} answered {}: {}",
                    args.addr,
                    args.path,
                    response.status,
                    response.body.trim()
                );
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!(
                    "restaked healthcheck: cannot reach {}{}: {e}",
                    args.addr, args.path
                );
                ExitCode::FAILURE
            }
        },
    }
}

/// A temporary data dir for `--dev`, removed after a clean stop unless config chose another dir.
fn dev_data_dir() -> std::io::Result<PathBuf> {
    Ok(tempfile::Builder::new()
        .prefix("restaked-dev-")
        .tempdir()?
        .keep())
}

fn run(args: &RunArgs) -> ExitCode {
    let dev_dir = if args.dev {
        match dev_data_dir() {
            Ok(dir) => Some(dir),
            Err(e) => {
                eprintln!("restaked: cannot create a temporary data dir for --dev: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let config = match Config::load(&args.config.sources(dev_dir.clone())) {
        Ok(config) => config,
        Err(errors) => {
            remove_dev_dir(dev_dir.as_deref());
            return config_error(&errors);
        }
    };
    let dev_dir = dev_dir.filter(|dir| {
        let chosen = *dir == config.data_dir;
        if !chosen {
            remove_dev_dir(Some(dir));
        }
        chosen
    });
    telemetry::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("restaked")
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(node::run(config, RunOptions { dev: args.dev }));
    match result {
        Ok(()) => {
            if dev_dir.is_some() {
                tracing::info!("removing the temporary dev data dir");
                remove_dev_dir(dev_dir.as_deref());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(exit_code = e.exit_code(), "{e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn remove_dev_dir(dir: Option<&Path>) {
    if let Some(dir) = dir
        && let Err(e) = std::fs::remove_dir_all(dir)
    {
        eprintln!(
            "restaked: cannot remove temporary dev data dir {}: {e}",
            dir.display()
        );
    }
}
