//! The errors of duty modules, the runtime and the module store.

use std::path::PathBuf;

use restake_types::ModuleId;

/// Why a duty module's run ended with an error; the runtime records it and restarts the module.
#[derive(Debug, thiserror::Error)]
pub enum DutyError {
    /// A beacon API call failed.
    #[error("beacon: {0}")]
    Beacon(#[from] restake_beacon::Error),
    /// The signer refused or failed.
    #[error("signer: {0}")]
    Sign(#[from] restake_signer::SignError),
    /// The module's key-value store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A module metric could not be registered.
    #[error("module metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The module's own reason.
    #[error("{0}")]
    Failed(String),
}

impl DutyError {
    /// A module failure described by `message`.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }
}

/// Why the module runtime refused a command.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A module with this id is already registered.
    #[error("module {0} is already registered")]
    Duplicate(ModuleId),
    /// The factory made a module whose `id()` differs from the id it was registered under.
    #[error("module registered as {registered} reports the id {reported}")]
    IdMismatch {
        /// The id given at registration.
        registered: ModuleId,
        /// The id the module instance reports.
        reported: ModuleId,
    },
    /// No module with this id is registered.
    #[error("no module {0} is registered")]
    Unknown(ModuleId),
    /// The module did not stop within the deadline; its task was aborted.
    #[error("module {0} did not stop within the deadline and was aborted")]
    StopTimeout(ModuleId),
    /// The runtime's metrics could not be registered.
    #[error("module runtime metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// A failure of the module key-value store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or its table created.
    #[error("module store {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A read, write or delete failed.
    #[error("module store, module {module}, key {key:?}: {source}")]
    Query {
        /// The module whose namespace was used.
        module: ModuleId,
        /// The key.
        key: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
}
