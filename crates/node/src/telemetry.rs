//! Logging setup: human-readable lines or JSON, filtered by `log.level`.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber, writing to stderr so stdout stays free for command output.
pub fn init(settings: &LogSettings) {
    // The level was validated with the config; an invalid one cannot reach here, but fall back to
    // `info` rather than run without logs.
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let result = match settings.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    if let Err(e) = result {
        eprintln!("restaked: logging was already initialised: {e}");
    }
}
