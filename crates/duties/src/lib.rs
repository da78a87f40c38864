//! The duty-module trait and the module runtime: supervision with backoff, enable/disable at
//! run time, per-module metrics, key-value store and status.
//!
//! A duty module implements [`DutyModule`]; the node registers a factory for it with the
//! [`ModuleRuntime`], which runs it with a [`DutyContext`], restarts it with backoff when it
//! fails or panics, and never stops for one module.

mod context;
mod error;
mod execution;
mod metrics;
mod module;
pub mod oracle;
mod runtime;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use context::{DutyContext, DutyOutcome, DutyResult, ModuleMetrics, StatusReporter};
pub use error::{DutyError, RuntimeError, StoreError};
pub use execution::{ExecutionError, ExecutionProviders};
pub use module::{DutyFuture, DutyModule, ModuleFactory};
pub use runtime::{
    Backoff, ModuleRuntime, ModuleState, ModuleStatus, Resources, RuntimeConfig, ShutdownReport,
};
pub use store::{ModuleKv, ModuleStore};
