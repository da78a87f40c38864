//! Integer newtypes of the beacon chain.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! integer_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw integer.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<u64> for $name {
            fn from(value: u64) -> Self {
                Self(value)
            }
        }
    };
}

integer_newtype!(
    /// A beacon-chain slot number.
    Slot
);
integer_newtype!(
    /// A beacon-chain epoch number.
    Epoch
);
integer_newtype!(
    /// The index of a validator in the beacon state's validator registry.
    ValidatorIndex
);
integer_newtype!(
    /// An amount of ether in gwei (10^-9 ETH), the beacon chain's balance unit.
    Gwei
);

impl Slot {
    /// The epoch this slot belongs to, for `slots_per_epoch` slots per epoch.
    ///
    /// `slots_per_epoch` is a chain constant and never zero on a real chain; zero is
    /// treated as one so the function stays total.
    pub const fn epoch(self, slots_per_epoch: u64) -> Epoch {
        let per = if slots_per_epoch == 0 {
            1
        } else {
            slots_per_epoch
        };
        Epoch(self.0 / per)
    }
}

impl Epoch {
    /// The first slot of this epoch, saturating at `u64::MAX`.
    pub const fn start_slot(self, slots_per_epoch: u64) -> Slot {
        Slot(self.0.saturating_mul(slots_per_epoch))
    }
}

impl Gwei {
    /// Gwei in one ether.
    pub const PER_ETH: u64 = 1_000_000_000;

    /// The amount in ether, for display.
    pub fn as_eth(self) -> f64 {
        // Display only: f64 holds every balance a validator can have to the gwei.
        self.0 as f64 / Self::PER_ETH as f64
    }

    /// `self - other`, or `None` if it would go below zero.
    pub const fn checked_sub(self, other: Gwei) -> Option<Gwei> {
        match self.0.checked_sub(other.0) {
            Some(v) => Some(Gwei(v)),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_maps_to_epoch_and_back() {
        assert_eq!(Slot(63).epoch(32), Epoch(1));
        assert_eq!(Slot(64).epoch(32), Epoch(2));
        assert_eq!(Epoch(2).start_slot(32), Slot(64));
        assert_eq!(Epoch(u64::MAX).start_slot(32), Slot(u64::MAX));
    }

    #[test]
    fn gwei_converts_to_eth_and_subtracts_without_underflow() {
        assert_eq!(Gwei(32 * Gwei::PER_ETH).as_eth(), 32.0);
        assert_eq!(Gwei(5).checked_sub(Gwei(6)), None);
        assert_eq!(Gwei(6).checked_sub(Gwei(5)), Some(Gwei(1)));
    }

    #[test]
    fn integers_serialize_as_plain_numbers() {
        assert_eq!(serde_json::to_string(&ValidatorIndex(7)).unwrap(), "7");
    }
}
