//! Readiness of the node's components, shared by /readyz, /eigen/node/health and gRPC `GetStatus`.

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

use serde::Serialize;

/// The state of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentState {
    /// Not ready yet.
    Starting,
    /// Working.
    Ready,
    /// Working with reduced function.
    Degraded,
    /// Not working.
    Failed,
    /// Shutting down.
    Stopping,
}

/// The state of one component and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentStatus {
    /// Its state.
    pub state: ComponentState,
    /// Why it is in that state; empty when ready.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Overall health, as the EigenLayer AVS node API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Every component is ready.
    Healthy,
    /// The node serves, but some component is degraded.
    PartiallyHealthy,
    /// Some component is starting, stopping or failed.
    Unhealthy,
}

/// Shared registry of component states. Cloning shares the registry.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    components: Arc<RwLock<BTreeMap<String, ComponentStatus>>>,
}

impl Readiness {
    /// Sets the state of `component`, registering it if new.
    pub fn set(&self, component: &str, state: ComponentState, message: impl Into<String>) {
        let status = ComponentStatus {
            state,
            message: message.into(),
        };
        let mut components = self
            .components
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        components.insert(component.to_owned(), status);
    }

    /// Marks `component` ready.
    pub fn ready(&self, component: &str) {
        self.set(component, ComponentState::Ready, "");
    }

    /// Marks every component as stopping.
    pub fn stopping(&self) {
        let mut components = self
            .components
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for status in components.values_mut() {
            *status = ComponentStatus {
                state: ComponentState::Stopping,
                message: "node is shutting down".to_owned(),
            };
        }
    }

    /// A copy of every component's status, sorted by name.
    pub fn snapshot(&self) -> BTreeMap<String, ComponentStatus> {
        self.components
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Overall health of a snapshot.
    pub fn health_of(components: &BTreeMap<String, ComponentStatus>) -> Health {
        let states = || components.values().map(|s| s.state);
        if components.is_empty()
            || states().any(|s| {
                matches!(
                    s,
                    ComponentState::Starting | ComponentState::Stopping | ComponentState::Failed
                )
            })
        {
            Health::Unhealthy
        } else if states().all(|s| s == ComponentState::Ready) {
            Health::Healthy
        } else {
            Health::PartiallyHealthy
        }
    }

    /// True when the node should receive traffic: every component ready or degraded.
    pub fn is_ready(&self) -> bool {
        Self::health_of(&self.snapshot()) != Health::Unhealthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_component_is_up() {
        let readiness = Readiness::default();
        assert!(!readiness.is_ready(), "no components registered yet");
        readiness.set("store", ComponentState::Starting, "opening");
        readiness.ready("grpc");
        assert!(!readiness.is_ready());
        readiness.ready("store");
        assert!(readiness.is_ready());
        assert_eq!(Readiness::health_of(&readiness.snapshot()), Health::Healthy);
        readiness.set("beacon", ComponentState::Degraded, "primary endpoint down");
        assert!(readiness.is_ready());
        assert_eq!(
            Readiness::health_of(&readiness.snapshot()),
            Health::PartiallyHealthy
        );
        readiness.stopping();
        assert_eq!(
            Readiness::health_of(&readiness.snapshot()),
            Health::Unhealthy
        );
    }
}
