//! Integration tests of restake-eigenpod against a real anvil chain.
//!
//! Anvil must be installed: `scripts/test.sh` installs it under `target/tools/anvil` (or set
//! `RESTAKED_ANVIL`). Without it these tests fail, by design, with a message saying so.

mod anvil;
mod errors;
mod proofs;
mod reconcile;
mod submit;
mod tree;

use restake_eigenpod::anvil::Anvil;

/// A fresh anvil, or a failure that says how to install it.
async fn start_anvil() -> Anvil {
    match Anvil::spawn().await {
        Ok(anvil) => anvil,
        Err(e) => panic!("{e}"),
    }
}
