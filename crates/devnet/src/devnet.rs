//! The running devnet: its chain, its Beacon API server, and what drives its slots.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{Arc, PoisonError, RwLock, RwLockReadGuard},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use restake_beacon::{
    FinalizedCheckpointEvent, ForkVersion, Genesis, HeadEvent, Root, Url,
    containers::{block::SignedBeaconBlockElectra, spec::BeaconStateElectra},
};
use restake_types::{Epoch, Slot};
use tokio::{net::TcpListener, sync::broadcast};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{debug, error, info};

use crate::{
    chain::{self, ChainParams, GENESIS_FORK_VERSION, SLOTS_PER_EPOCH},
    config::{DevnetConfig, Drive},
    error::DevnetError,
    history::History,
    scenario::Scenario,
    server,
};

/// How many events a slow SSE subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 256;

/// An event for the `/eth/v1/events` subscribers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ChainEvent {
    /// A new head (every slot).
    Head(HeadEvent),
    /// A new finalized checkpoint (at epoch boundaries, from epoch 2).
    FinalizedCheckpoint(FinalizedCheckpointEvent),
}

/// What the server and the producer share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) params: ChainParams,
    history: RwLock<History>,
    /// Held while a slot is produced: one at a time.
    producing: tokio::sync::Mutex<()>,
    pub(crate) events: broadcast::Sender<ChainEvent>,
    pub(crate) shutdown: CancellationToken,
}

impl Shared {
    /// Read access to the history.
    pub(crate) fn history(&self) -> RwLockReadGuard<'_, History> {
        // The history is changed by one `push` at a time that cannot fail half-way, so a
        // poisoned lock (a panic elsewhere while holding it) still guards consistent data.
        self.history.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running devnet: a simulated Electra beacon chain serving the Beacon API on a local port.
///
/// Cloning is cheap; clones drive and observe the same chain. The chain and server run until
/// the token given to [`start`](Self::start) is cancelled or [`stop`](Self::stop) is called.
#[derive(Clone, Debug)]
pub struct Devnet {
    shared: Arc<Shared>,
    url: Url,
    local_addr: SocketAddr,
    tasks: TaskTracker,
}

impl Devnet {
    /// Validates `config`, builds genesis, binds `addr` (port 0 picks a free port) and serves
    /// the Beacon API there; in [`Drive::Timer`] mode a slot is then produced every
    /// `seconds_per_slot`.
    ///
    /// Cancelling `shutdown` stops the timer, ends open event streams and shuts the server down.
    pub async fn start(
        config: DevnetConfig,
        addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> Result<Self, DevnetError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(DevnetError::InvalidConfig { problems });
        }
        let genesis_time = config.genesis_time.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
        let scenario = Scenario::new(&config);
        let seconds_per_slot = config.seconds_per_slot;
        let (params, genesis) = tokio::task::spawn_blocking(move || {
            let (params, validators, balances) =
                ChainParams::new(scenario, genesis_time, seconds_per_slot)?;
            let genesis = chain::genesis(&params, validators, balances)?;
            Ok::<_, DevnetError>((params, genesis))
        })
        .await
        .map_err(|e| DevnetError::Task {
            task: "building genesis",
            reason: e.to_string(),
        })??;

        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| DevnetError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| DevnetError::Bind { addr, source })?;
        let url = reachable_url(local_addr).map_err(|reason| DevnetError::Bind {
            addr,
            source: std::io::Error::other(reason),
        })?;

        let shutdown = shutdown.child_token();
        let shared = Arc::new(Shared {
            params,
            history: RwLock::new(History::new(genesis, config.history_slots)),
            producing: tokio::sync::Mutex::new(()),
            events: broadcast::channel(EVENT_BUFFER).0,
            shutdown: shutdown.clone(),
        });
        let tasks = TaskTracker::new();
        let router = server::router(Arc::clone(&shared));
        let server_shutdown = shutdown.clone();
        tasks.spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(server_shutdown.cancelled_owned())
                .await;
            if let Err(e) = served {
                error!(error = %e, "devnet Beacon API server failed");
            }
        });
        let devnet = Self {
            shared,
            url,
            local_addr,
            tasks,
        };
        if config.drive == Drive::Timer {
            devnet.tasks.spawn(devnet.clone().run_timer());
        }
        devnet.tasks.close();
        info!(
            url = %devnet.url,
            validators = config.validators,
            seconds_per_slot,
            genesis_time,
            "devnet started"
        );
        Ok(devnet)
    }

    /// The Beacon API's base URL (`http://127.0.0.1:PORT/` when bound to an unspecified address).
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Which validator plays which part.
    pub fn scenario(&self) -> &Scenario {
        &self.shared.params.scenario
    }

    /// What `GET /eth/v1/beacon/genesis` answers.
    pub fn genesis(&self) -> Genesis {
        Genesis {
            genesis_time: self.shared.params.genesis_time,
            genesis_validators_root: Root::new(self.shared.params.genesis_validators_root),
            genesis_fork_version: ForkVersion::new(GENESIS_FORK_VERSION),
        }
    }

    /// The head slot.
    pub fn head_slot(&self) -> Slot {
        Slot(self.shared.history().head().slot())
    }

    /// The whole state after `slot`, if the slot is genesis or still in the history.
    ///
    /// Builds a few MB of state: prefer calling it off the async runtime for large registries.
    pub fn state_at(&self, slot: Slot) -> Option<BeaconStateElectra> {
        let history = self.shared.history();
        let record = history.at_slot(slot.get())?;
        history.state(&self.shared.params, record).ok()
    }

    /// The block at `slot`, if the slot is genesis or still in the history.
    pub fn block_at(&self, slot: Slot) -> Option<SignedBeaconBlockElectra> {
        let history = self.shared.history();
        history.at_slot(slot.get()).map(|r| r.block.clone())
    }

    /// Produces the next slot (its block, post-state and roots), makes it the head, and
    /// publishes a `head` event (and a `finalized_checkpoint` event when finality moved).
    /// Returns the new head slot.
    ///
    /// Fails with [`DevnetError::Stopped`] once the devnet is shut down.
    pub async fn advance(&self) -> Result<Slot, DevnetError> {
        let _producing = self.shared.producing.lock().await;
        if self.shared.shutdown.is_cancelled() {
            return Err(DevnetError::Stopped);
        }
        let (parent, window) = {
            let history = self.shared.history();
            let head = Arc::clone(history.head());
            let window = history.window_before(head.slot() + 1);
            (head, window)
        };
        let shared = Arc::clone(&self.shared);
        let record =
            tokio::task::spawn_blocking(move || chain::produce(&shared.params, &parent, &window))
                .await
                .map_err(|e| DevnetError::Task {
                    task: "producing a slot",
                    reason: e.to_string(),
                })??;
        let slot = record.slot();
        let events = {
            let mut history = self
                .shared
                .history
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let finality_before = history.head().snapshot.finalized;
            history.push(record);
            events_for_head(&history, finality_before)
        };
        debug!(slot, "devnet produced a slot");
        for event in events {
            // No subscriber is not an error.
            let _ = self.shared.events.send(event);
        }
        Ok(Slot(slot))
    }

    /// Produces slots until the head is at `slot` (nothing if it already is or is past it).
    /// Returns the head slot.
    pub async fn advance_to(&self, slot: Slot) -> Result<Slot, DevnetError> {
        let mut head = self.head_slot();
        while head < slot {
            head = self.advance().await?;
        }
        Ok(head)
    }

    /// Stops producing slots, ends open event streams, shuts the server down and waits for it.
    pub async fn stop(self) {
        self.shared.shutdown.cancel();
        self.tasks.wait().await;
    }

    /// One slot every `seconds_per_slot` on the wall clock; catches up at once when behind.
    async fn run_timer(self) {
        let params = &self.shared.params;
        loop {
            let next = self.head_slot().get() + 1;
            let due = UNIX_EPOCH
                + Duration::from_secs(
                    params
                        .genesis_time
                        .saturating_add(next.saturating_mul(params.seconds_per_slot)),
                );
            let wait = due
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            tokio::select! {
                () = self.shared.shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            match self.advance().await {
                Ok(_) => {}
                Err(DevnetError::Stopped) => return,
                Err(e) => {
                    error!(error = %e, slot = next, "devnet stopped producing slots");
                    return;
                }
            }
        }
    }
}

/// The events of the head just pushed: `head`, and `finalized_checkpoint` if finality moved.
fn events_for_head(
    history: &History,
    finality_before: restake_beacon::containers::spec::Checkpoint,
) -> Vec<ChainEvent> {
    let head = history.head();
    let slot = head.slot();
    let epoch = slot / SLOTS_PER_EPOCH;
    let dependent_root = |epoch: u64| {
        let slot = (epoch * SLOTS_PER_EPOCH).max(1) - 1;
        history.roots_at(slot).map(|(block, _)| Root::new(block))
    };
    let mut events = vec![ChainEvent::Head(HeadEvent {
        slot: Slot(slot),
        block: Root::new(head.block_root),
        state: Root::new(head.state_root),
        epoch_transition: slot.is_multiple_of(SLOTS_PER_EPOCH),
        previous_duty_dependent_root: dependent_root(epoch.saturating_sub(1)),
        current_duty_dependent_root: dependent_root(epoch),
        execution_optimistic: false,
    })];
    let finalized = head.snapshot.finalized;
    if finalized != finality_before {
        let state = history
            .roots_at(finalized.epoch * SLOTS_PER_EPOCH)
            .map_or([0; 32], |(_, state)| state);
        events.push(ChainEvent::FinalizedCheckpoint(FinalizedCheckpointEvent {
            block: Root::new(finalized.root),
            state: Root::new(state),
            epoch: Epoch(finalized.epoch),
            execution_optimistic: false,
        }));
    }
    events
}

/// `http://ADDR/`, with an unspecified bind address replaced by loopback.
fn reachable_url(addr: SocketAddr) -> Result<Url, String> {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let url = format!("http://{}/", SocketAddr::new(ip, addr.port()));
    Url::parse(&url).map_err(|e| format!("{url} is not a URL: {e}"))
}
