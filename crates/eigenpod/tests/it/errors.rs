use std::time::Duration;

use restake_eigenpod::{
    Error,
    dev::{DEV_POD_MANAGER, DevPodSetup, deploy_dev_pods},
    reconcile::PodReader,
};
use restake_types::ExecutionAddress;

use crate::start_anvil;

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn an_endpoint_that_is_down_is_a_clear_error_without_credentials() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://user:secret@127.0.0.1:{port}/api-key");
    let reader = PodReader::new(&url, None, TIMEOUT).unwrap();
    let err = reader
        .read(ExecutionAddress::new([1; 20]), &[])
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Rpc { .. }), "{err:?}");
    assert!(
        text.starts_with(&format!(
            "execution RPC http://127.0.0.1:{port}: eth_blockNumber failed"
        )),
        "{text}"
    );
    assert!(
        !text.contains("secret") && !text.contains("api-key"),
        "{text}"
    );
}

#[tokio::test]
async fn an_endpoint_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept the connection and say nothing until the test ends.
    let silent = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let reader = PodReader::new(
        &format!("http://127.0.0.1:{port}"),
        None,
        Duration::from_millis(300),
    )
    .unwrap();
    let err = reader
        .read(ExecutionAddress::new([1; 20]), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string().contains("eth_blockNumber timed out"),
        "{err}"
    );
    silent.abort();
}

#[tokio::test]
async fn a_pod_or_manager_without_code_is_a_clear_error() {
    let anvil = start_anvil().await;
    let nowhere = ExecutionAddress::new([0x42; 20]);
    let reader = PodReader::new(anvil.endpoint(), None, TIMEOUT).unwrap();
    let err = reader.read(nowhere, &[]).await.unwrap_err();
    assert!(
        matches!(err, Error::NoContract { contract: "EigenPod", address, .. } if address == nowhere),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("no contract code at {nowhere}")),
        "{err}"
    );

    // A real pod with a manager address that holds no code.
    let pods = deploy_dev_pods(anvil.endpoint(), &DevPodSetup::default())
        .await
        .unwrap();
    let reader = PodReader::new(anvil.endpoint(), Some(nowhere), TIMEOUT).unwrap();
    let err = reader.read(pods.pod, &[]).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NoContract {
                contract: "EigenPodManager",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(pods.manager, DEV_POD_MANAGER);
}

#[tokio::test]
async fn deploying_twice_on_one_chain_is_refused() {
    let anvil = start_anvil().await;
    deploy_dev_pods(anvil.endpoint(), &DevPodSetup::default())
        .await
        .unwrap();
    let err = deploy_dev_pods(anvil.endpoint(), &DevPodSetup::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DevDeployment { .. }), "{err:?}");
    assert!(err.to_string().contains("fresh chain"), "{err}");
}

#[test]
fn a_non_http_endpoint_is_refused() {
    let err = PodReader::new("ws://127.0.0.1:8545", None, TIMEOUT).unwrap_err();
    assert!(matches!(err, Error::InvalidEndpoint { .. }), "{err:?}");
}
