use std::path::Path;

use alloy_provider::{Provider, RootProvider};
use restake_eigenpod::{Error, anvil::Anvil};

use crate::start_anvil;

#[tokio::test]
async fn anvil_answers_on_its_port_and_stops_when_dropped() {
    let anvil = start_anvil().await;
    assert_eq!(anvil.chain_id(), 31337);
    assert_eq!(
        anvil.endpoint(),
        format!("http://127.0.0.1:{}", anvil.port())
    );
    let provider: RootProvider = RootProvider::new_http(anvil.endpoint().parse().unwrap());
    assert_eq!(provider.get_chain_id().await.unwrap(), 31337);

    let port = anvil.port();
    drop(anvil);
    // The port is free again once anvil is gone.
    std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
}

#[tokio::test]
async fn two_anvils_run_side_by_side_on_different_ports() {
    let (a, b) = tokio::join!(start_anvil(), start_anvil());
    assert_ne!(a.port(), b.port());
}

#[tokio::test]
async fn a_missing_binary_is_a_clear_error() {
    let err = Anvil::spawn_binary(Path::new("/nonexistent/anvil"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Anvil { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("/nonexistent/anvil") && text.contains("cannot start"),
        "{text}"
    );
}

#[test]
fn the_not_found_error_says_how_to_install_anvil() {
    let err = Error::AnvilNotFound {
        searched: "RESTAKED_ANVIL (unset)".to_owned(),
    };
    assert!(err.to_string().contains("scripts/test.sh"));
}
