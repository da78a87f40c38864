//! The duty-module trait and its factory.

use std::{future::Future, pin::Pin, sync::Arc};

use restake_types::ModuleId;
use tokio_util::sync::CancellationToken;

use crate::{DutyContext, DutyError};

/// The future of one run of a duty module.
pub type DutyFuture = Pin<Box<dyn Future<Output = Result<(), DutyError>> + Send + 'static>>;

/// Makes a fresh instance of a module; the runtime calls it for every (re)start.
pub type ModuleFactory = Arc<dyn Fn() -> Box<dyn DutyModule> + Send + Sync + 'static>;

/// A duty module: a long-running loop doing one AVS's or one chain's duties.
///
/// `run` should loop until `shutdown` is cancelled and then return `Ok(())`; returning an
/// error or panicking marks the module failed, and the runtime restarts it with backoff from a
/// new instance made by its factory.
pub trait DutyModule: Send + 'static {
    /// The id of this module instance.
    fn id(&self) -> ModuleId;

    /// What kind of module this is (`"oracle"`, `"eigenpod-proofs"`, ...), shown in statuses.
    fn kind(&self) -> &'static str;

    /// Runs the module until `shutdown` is cancelled or it fails; usually `Box::pin(async move { ... })`.
    fn run(self: Box<Self>, ctx: DutyContext, shutdown: CancellationToken) -> DutyFuture;
}
