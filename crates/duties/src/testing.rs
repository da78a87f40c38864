//! Test modules for the runtime's and the node's tests (cargo feature `testing`; never enabled
//! in a node build): each run panics, fails, hangs, works or reports itself degraded.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use restake_types::ModuleId;
use tokio_util::sync::CancellationToken;

use crate::{DutyContext, DutyError, DutyFuture, DutyModule, DutyOutcome};

/// What a test module does in each run.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Panics at once.
    Panic,
    /// Counts the run in a module metric, then returns an error.
    Fail,
    /// Ignores the shutdown token forever.
    Hang,
    /// Records a duty every few milliseconds until shut down.
    Healthy,
    /// Reports itself degraded, then waits for shutdown.
    Degraded,
}

/// A module behaving as told; counts its runs.
pub struct TestModule {
    id: ModuleId,
    behaviour: Behaviour,
    runs: Arc<AtomicU32>,
}

impl DutyModule for TestModule {
    fn id(&self) -> ModuleId {
        self.id.clone()
    }

    fn kind(&self) -> &'static str {
        "test"
    }

    fn run(self: Box<Self>, ctx: DutyContext, shutdown: CancellationToken) -> DutyFuture {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            match self.behaviour {
                Behaviour::Panic => panic!("boom"),
                Behaviour::Fail => {
                    ctx.metrics()
                        .counter("restaked_test_runs_total", "Runs of the test module.")?
                        .inc();
                    Err(DutyError::failed("endpoint unreachable"))
                }
                Behaviour::Hang => std::future::pending().await,
                Behaviour::Healthy => {
                    let mut rounds: u64 = 0;
                    loop {
                        tokio::select! {
                            () = shutdown.cancelled() => return Ok(()),
                            () = tokio::time::sleep(Duration::from_millis(5)) => {}
                        }
                        rounds += 1;
                        ctx.store().put("rounds", &rounds.to_be_bytes())?;
                        ctx.record_duty(
                            Duration::from_millis(1),
                            DutyOutcome::Done,
                            format!("round {rounds}"),
                        );
                    }
                }
                Behaviour::Degraded => {
                    ctx.status().degraded("beacon node syncing");
                    shutdown.cancelled().await;
                    Ok(())
                }
            }
        })
    }
}

impl TestModule {
    /// A factory of `behaviour` modules with id `id`, and the counter of their runs.
    pub fn factory(
        id: ModuleId,
        behaviour: Behaviour,
    ) -> (
        impl Fn() -> Box<dyn DutyModule> + Send + Sync + 'static,
        Arc<AtomicU32>,
    ) {
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        let factory = move || {
            Box::new(Self {
                id: id.clone(),
                behaviour,
                runs: counter.clone(),
            }) as Box<dyn DutyModule>
        };
        (factory, runs)
    }
}
