//! Against a real consensus client: Lodestar's one-node Electra devnet
//! (`../shared/tools/lodestar-devnet`), built once per machine into `target/lodestar-devnet`.
//!
//! The state Lodestar serves as SSZ must decode with our containers and hash to the
//! `state_root` of its own block header, the zero-copy `RegistryView` must read the same
//! registry from it, and the validators must carry the credentials the genesis was made with. The test fails (never skips) when the devnet cannot be built or
//! started: `scripts/test.sh` is expected to provide what it needs (node 20+, npm, gcc, make,
//! python3).

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use restake_beacon::{
    BlockId, ForkName, StateId, Url,
    containers::{BeaconState, RegistryView, SignedBeaconBlock},
    tracker::{Phase, Tracker, TrackerConfig, UpdateEvery},
};
use restake_types::{ExecutionAddress, Slot, ValidatorIndex, WithdrawalPrefix};
use tokio_util::sync::CancellationToken;

use crate::support::{client, fast_config};

fn client_for(url: &Url) -> (restake_beacon::BeaconClient, prometheus::Registry) {
    client(fast_config(&[url]))
}

const POD: &str = "5afe00000000000000000000000000000000c0de";
const CREDS: &str = "0-31:0x01:0x5afe00000000000000000000000000000000c0de,32-47:0x02:0x5afe00000000000000000000000000000000c0de";

fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tools_dir() -> PathBuf {
    std::env::var_os("LODESTAR_DEVNET_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("../shared/tools/lodestar-devnet"))
}

fn build_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target"));
    target.join("lodestar-devnet")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The running devnet; stopped (SIGTERM to `timeout`, which passes it on to node) when dropped.
struct Devnet {
    child: Child,
    _run_dir: tempfile::TempDir,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn build_and_start(rest_port: u16) -> Devnet {
    let tools = tools_dir();
    let build = build_dir();
    std::fs::create_dir_all(&build).unwrap();
    // Idempotent: returns at once when already built.
    let status = Command::new(tools.join("build.sh"))
        .arg(&build)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}/build.sh ({e}); scripts/test.sh must provide the lodestar devnet \
                 and what it needs (node 20+, npm, gcc, make, python3)",
                tools.display()
            )
        });
    assert!(
        status.success(),
        "building the lodestar devnet into {} failed ({status}); scripts/test.sh must provide \
         what it needs (node 20+, npm, gcc, make, python3)",
        build.display()
    );
    let run_dir = tempfile::tempdir().unwrap();
    let child = Command::new(tools.join("start.sh"))
        .arg(&build)
        .arg(run_dir.path())
        .arg(CREDS)
        .env("REST_PORT", rest_port.to_string())
        .env("P2P_PORT", free_port().to_string())
        .env("GENESIS_DELAY", "4")
        .env("LS_TIMEOUT", "180")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the lodestar devnet ({e}); see scripts/test.sh"));
    Devnet {
        child,
        _run_dir: run_dir,
    }
}

#[test]
fn lodestar_state_and_block_hash_to_its_header_roots() {
    let rest_port = free_port();
    let mut devnet = build_and_start(rest_port);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = Url::parse(&format!("http://127.0.0.1:{rest_port}/")).unwrap();
        let (client, _registry) = client(fast_config(&[&url]));

        // Read blocks as they come until blobs and attestations have both been seen: Lodestar
        // packs its first attestations around slot 9, later (or after skipped slots) when the
        // machine is busy.
        let started = Instant::now();
        let (mut blobs, mut attestations, mut checked) = (0, 0, 0u64);
        let head = loop {
            if let Some(status) = devnet.child.try_wait().unwrap() {
                panic!("the lodestar devnet exited early ({status}); see scripts/test.sh");
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "the lodestar devnet on port {rest_port} showed {blobs} blobs and {attestations} \
                 attestations in slots 1..={checked} within 180 s; see scripts/test.sh"
            );
            let Ok(Some(head)) = client.header(BlockId::Head).await else {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            };
            // Every block up to the head decodes and hashes to the root Lodestar names for it.
            for slot in checked + 1..=head.data.header.message.slot.get() {
                let Some(block) = client.block_ssz(BlockId::Slot(Slot(slot))).await.unwrap() else {
                    continue;
                };
                assert_eq!(block.fork, ForkName::Electra);
                let block = SignedBeaconBlock::from_ssz_bytes(block.fork, &block.bytes).unwrap();
                let expected = client
                    .header(BlockId::Slot(Slot(slot)))
                    .await
                    .unwrap()
                    .expect("a block has a header");
                eprintln!(
                    "lodestar slot {slot}: hash_tree_root(block) = {:?}, header root = {:?}",
                    block.block_root(),
                    expected.data.root
                );
                assert_eq!(
                    block.block_root(),
                    expected.data.root,
                    "block root at slot {slot}"
                );
                assert_eq!(block.header(), (&expected.data.header.message).into());
                assert_eq!(block.slot(), Slot(slot));
                blobs += block.blob_kzg_commitments().len();
                if let SignedBeaconBlock::Electra(block) = &block {
                    attestations += block.message.body.attestations.len();
                }
                checked = slot;
            }
            if checked >= 12 && blobs > 0 && attestations > 0 {
                break head.data;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let header = head.header.message;
        assert_eq!(
            header.hash_tree_root(),
            head.root,
            "block root of the head header"
        );

        let response = client.state_ssz(StateId::Slot(header.slot)).await.unwrap();
        assert_eq!(response.fork, ForkName::Electra);
        let bytes = response.bytes;
        let state = tokio::task::spawn_blocking(move || {
            let state = BeaconState::from_ssz_bytes(ForkName::Electra, &bytes).unwrap();
            // The zero-copy view reads the same registry from the same bytes.
            let view = RegistryView::from_state_ssz(ForkName::Electra, &bytes).unwrap();
            assert_eq!(view.slot(), state.slot());
            assert_eq!(view.len(), state.validators().len());
            for entry in view.iter() {
                assert_eq!(
                    Some(&entry.validator.to_validator()),
                    state.validator(entry.index),
                    "validator {:?} in the view",
                    entry.index
                );
                assert_eq!(Some(entry.balance), state.balance(entry.index));
            }
            state
        })
        .await
        .unwrap();
        assert_eq!(state.slot(), header.slot);
        let root = {
            let state = state.clone();
            tokio::task::spawn_blocking(move || state.hash_tree_root())
                .await
                .unwrap()
        };
        eprintln!(
            "lodestar slot {}: hash_tree_root(state) = {root:?}, header.state_root = {:?}",
            header.slot.get(),
            header.state_root
        );
        assert_eq!(
            root, header.state_root,
            "hash_tree_root(state) vs header.state_root"
        );

        assert_eq!(state.validators().len(), 64);
        assert_eq!(state.balances().len(), 64);
        for index in 0..64u64 {
            let validator = state.validator(ValidatorIndex(index)).unwrap();
            let credentials = validator.withdrawal_credentials();
            let bytes = credentials.as_bytes();
            let expected_prefix = match index {
                0..=31 => 0x01,
                32..=47 => 0x02,
                _ => 0x00,
            };
            assert_eq!(
                bytes[0], expected_prefix,
                "validator {index} credential type"
            );
            if expected_prefix != 0x00 {
                assert_eq!(bytes[1..12], [0; 11], "validator {index} padding");
                assert_eq!(hex::encode(&bytes[12..]), POD, "validator {index} address");
            }
            assert!(!validator.slashed());
            assert_eq!(validator.activation_epoch().get(), 0, "validator {index}");
            assert!(validator.effective_balance().get() >= 32_000_000_000);
        }

        track_the_pod(&client, &url).await;
    });
}

/// The tracker, pointed at the pod, finds validators 0-47 with the right credential type and
/// balance, and follows new heads through Lodestar's event stream.
async fn track_the_pod(client: &restake_beacon::BeaconClient, url: &Url) {
    let pod: ExecutionAddress = format!("0x{POD}").parse().unwrap();
    let store = tempfile::tempdir().unwrap();
    let mut config = TrackerConfig::new();
    config.pods = vec![pod];
    config.update_every = UpdateEvery::Slot;
    let (tracker_client, registry) = client_for(url);
    let tracker = Tracker::new(
        tracker_client,
        config,
        &store.path().join("restaked.db"),
        &registry,
    )
    .unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn({
        let tracker = tracker.clone();
        let shutdown = shutdown.clone();
        async move { tracker.run(shutdown).await }
    });
    let started = Instant::now();
    let first = loop {
        let status = tracker.status();
        if status.tracked == 48 && status.phase == Phase::Following && status.updated_slot.is_some()
        {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the tracker did not find the pod's 48 validators within 60 s: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let updated = first.updated_slot.unwrap();
    let truth = client
        .validators(StateId::Slot(updated), &[], &[])
        .await
        .unwrap()
        .data;
    for v in tracker.validators() {
        let index = v.index().get();
        assert!(index < 48, "validator {index} does not point at the pod");
        let prefix = if index < 32 {
            WithdrawalPrefix::Eth1
        } else {
            WithdrawalPrefix::Compounding
        };
        assert_eq!(v.prefix(), prefix, "validator {index}");
        assert_eq!(v.pod, Some(pod), "validator {index}");
        assert_eq!(v.updated_slot, updated);
        let expected = truth.iter().find(|t| t.index == v.index()).unwrap();
        assert_eq!(
            v.data.balance, expected.balance,
            "balance of validator {index} at slot {updated}"
        );
        assert_eq!(
            v.data.validator.effective_balance,
            expected.validator.effective_balance
        );
    }
    // New heads arrive through the event stream and move the update along.
    loop {
        let status = tracker.status();
        if status
            .updated_slot
            .is_some_and(|s| s.get() >= updated.get() + 2)
        {
            assert_eq!(status.phase, Phase::Following, "{status:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the tracker followed no new head after slot {updated}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.cancel();
    running.await.unwrap().unwrap();
}
