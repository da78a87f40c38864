//! Slot clocks: time is injected so tests can drive it instead of sleeping.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::Slot;

/// Maps wall-clock time to beacon-chain slots.
pub trait SlotClock: Send + Sync + 'static {
    /// Genesis time as a duration since the Unix epoch.
    fn genesis(&self) -> Duration;

    /// Length of one slot.
    fn slot_duration(&self) -> Duration;

    /// The current time as a duration since the Unix epoch.
    fn now_since_epoch(&self) -> Duration;

    /// The current slot, or `None` before genesis.
    fn now(&self) -> Option<Slot> {
        let since_genesis = self.now_since_epoch().checked_sub(self.genesis())?;
        let slot_nanos = self.slot_duration().as_nanos().max(1);
        u64::try_from(since_genesis.as_nanos() / slot_nanos)
            .ok()
            .map(Slot)
    }

    /// The start of `slot` as a duration since the Unix epoch.
    fn start_of(&self, slot: Slot) -> Option<Duration> {
        let offset = self
            .slot_duration()
            .checked_mul(u32::try_from(slot.0).ok()?)?;
        self.genesis().checked_add(offset)
    }

    /// How long until the next slot starts (until genesis, before genesis).
    fn duration_to_next_slot(&self) -> Duration {
        let now = self.now_since_epoch();
        match self.now() {
            None => self.genesis().saturating_sub(now),
            Some(slot) => self
                .start_of(Slot(slot.0.saturating_add(1)))
                .map_or(Duration::MAX, |next| next.saturating_sub(now)),
        }
    }
}

/// A slot clock reading the system's wall clock.
#[derive(Debug, Clone)]
pub struct SystemSlotClock {
    genesis: Duration,
    slot_duration: Duration,
}

impl SystemSlotClock {
    /// A clock for a chain that started at `genesis` (since the Unix epoch) with slots of `slot_duration`.
    pub fn new(genesis: Duration, slot_duration: Duration) -> Self {
        Self {
            genesis,
            slot_duration,
        }
    }
}

impl SlotClock for SystemSlotClock {
    fn genesis(&self) -> Duration {
        self.genesis
    }

    fn slot_duration(&self) -> Duration {
        self.slot_duration
    }

    fn now_since_epoch(&self) -> Duration {
        // A system clock set before 1970 is reported as the epoch itself: slot arithmetic then
        // answers "before genesis", which makes callers wait rather than act.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }
}

/// A slot clock whose time only moves when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualSlotClock {
    genesis: Duration,
    slot_duration: Duration,
    now_nanos: Arc<AtomicU64>,
}

impl ManualSlotClock {
    /// A clock at `now` (since the Unix epoch).
    pub fn new(genesis: Duration, slot_duration: Duration, now: Duration) -> Self {
        let clock = Self {
            genesis,
            slot_duration,
            now_nanos: Arc::new(AtomicU64::new(0)),
        };
        clock.set(now);
        clock
    }

    /// Sets the current time.
    pub fn set(&self, now: Duration) {
        let nanos = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        self.now_nanos.store(nanos, Ordering::SeqCst);
    }

    /// Moves the current time forward.
    pub fn advance(&self, by: Duration) {
        self.set(self.now_since_epoch().saturating_add(by));
    }

    /// Moves the clock to the start of `slot`.
    pub fn set_slot(&self, slot: Slot) {
        if let Some(start) = self.start_of(slot) {
            self.set(start);
        }
    }
}

impl SlotClock for ManualSlotClock {
    fn genesis(&self) -> Duration {
        self.genesis
    }

    fn slot_duration(&self) -> Duration {
        self.slot_duration
    }

    fn now_since_epoch(&self) -> Duration {
        Duration::from_nanos(self.now_nanos.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: Duration = Duration::from_secs(1_606_824_023);
    const SLOT: Duration = Duration::from_secs(12);

    #[test]
    fn before_genesis_there_is_no_slot() {
        let clock = ManualSlotClock::new(GENESIS, SLOT, GENESIS - Duration::from_secs(5));
        assert_eq!(clock.now(), None);
        assert_eq!(clock.duration_to_next_slot(), Duration::from_secs(5));
    }

    #[test]
    fn slots_advance_with_time() {
        let clock = ManualSlotClock::new(GENESIS, SLOT, GENESIS);
        assert_eq!(clock.now(), Some(Slot(0)));
        clock.advance(Duration::from_secs(25));
        assert_eq!(clock.now(), Some(Slot(2)));
        assert_eq!(clock.duration_to_next_slot(), Duration::from_secs(11));
        clock.set_slot(Slot(100));
        assert_eq!(clock.now(), Some(Slot(100)));
        assert_eq!(clock.start_of(Slot(100)), Some(GENESIS + SLOT * 100));
    }

    #[test]
    fn system_clock_is_past_mainnet_genesis() {
        let clock = SystemSlotClock::new(GENESIS, SLOT);
        assert!(clock.now().is_some_and(|slot| slot.0 > 10_000_000));
    }
}
