//! The oracle module end to end: real HTTP sources and aggregators on local ports, a real
//! signer over a protection store, restarts over the same files, anvil for contract sources
//! and the devnet for beacon sources.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, I256, U256};
use alloy_provider::ProviderBuilder;
use prometheus::Registry;
use restake_beacon::{
    BeaconClient, BeaconClientConfig,
    tracker::{Tracker, TrackerConfig, UpdateEvery},
};
use restake_devnet::{Devnet, DevnetConfig, Drive, Scenario};
use restake_duties::{
    ExecutionProviders, ModuleState, Resources,
    oracle::{
        BeaconValue, ContractCall, OracleConfig, Report, SignedReport, SourceConfig, SourceKind,
    },
};
use restake_signer::{Scheme, SigningRequest};
use restake_types::{ExecutionAddress, Slot, SlotClock, SystemSlotClock, ValidatorIndex};
use tokio_util::sync::CancellationToken;

use crate::oracle_support::{
    Aggregator, Answer, Life, PriceServer, Signer, bls_key, bn254_key, closed_port_url, feed,
    http_source, module_id,
};

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `value` at 8 decimals.
fn e8(units: i128, hundredths: i128) -> i128 {
    units * 100_000_000 + hundredths * 1_000_000
}

const SOURCE_FAILURES: &str = "restaked_oracle_source_failures_total";

#[tokio::test]
async fn failing_sources_are_dropped_by_reason_and_a_round_without_quorum_is_skipped() {
    let server = PriceServer::start().await;
    let now = unix_now();
    server.set_price("good1", "100.00");
    server.set_price("good2", r#""100.02""#);
    server.set("hang", Answer::Hang);
    server.set("html", Answer::Body("<html>busy</html>".to_owned()));
    server.set("nopointer", Answer::Body(r#"{"other": 1}"#.to_owned()));
    server.set_price("word", r#""n/a""#);
    server.set("broken", Answer::Status(500));
    server.set_price("outlier", "150");
    server.set(
        "stale",
        Answer::Body(format!(r#"{{"price": 100.01, "t": {}}}"#, now - 3600)),
    );
    let mut sources: Vec<SourceConfig> = [
        "good1",
        "good2",
        "hang",
        "html",
        "nopointer",
        "word",
        "broken",
        "outlier",
        "stale",
    ]
    .iter()
    .map(|name| http_source(name, server.url(name)))
    .collect();
    if let SourceKind::Http {
        timestamp_pointer, ..
    } = &mut sources[8].kind
    {
        *timestamp_pointer = Some("/t".to_owned());
    }
    sources.push(http_source("closed", closed_port_url()));
    sources.push(SourceConfig {
        id: "reserve".to_owned(),
        kind: SourceKind::Beacon {
            value: BeaconValue::TrackedBalance,
        },
    });
    let mut eth_usd = feed("eth-usd", bls_key(), sources);
    eth_usd.quorum = 3;
    let dir = tempfile::tempdir().unwrap();
    let mut life = Life::one_feed(dir.path(), eth_usd);

    // good1, good2 agree; outlier is 50% off their median; the rest fail.
    let status = life
        .status_until(|s| s.state == ModuleState::Degraded)
        .await;
    let message = status.message.unwrap();
    assert!(
        message.contains("eth-usd: round skipped, 2 of 11 sources agree (quorum 3)"),
        "{message}"
    );
    let detail = life.duty_containing("eth-usd: skipped").await;
    assert_eq!(detail, "eth-usd: skipped, 2 of 11 sources agree (quorum 3)");
    for (source, reason) in [
        ("hang", "timeout"),
        ("html", "invalid"),
        ("nopointer", "invalid"),
        ("word", "invalid"),
        ("broken", "http_status"),
        ("outlier", "outlier"),
        ("stale", "stale"),
        ("closed", "unavailable"),
        ("reserve", "unavailable"),
    ] {
        let labels = [("feed", "eth-usd"), ("source", source), ("reason", reason)];
        assert!(
            life.metric(SOURCE_FAILURES, &labels).unwrap() >= 1.0,
            "{source} {reason}"
        );
    }
    for source in ["good1", "good2"] {
        for reason in [
            "timeout",
            "http_status",
            "invalid",
            "stale",
            "outlier",
            "unavailable",
        ] {
            let labels = [("feed", "eth-usd"), ("source", source), ("reason", reason)];
            assert_eq!(life.metric(SOURCE_FAILURES, &labels), Some(0.0));
        }
    }
    assert!(life.hub.latest("eth-usd").is_none());
    assert!(life.reports.try_recv().is_err());

    // A third source recovers: the round is signed with the median of the three.
    server.set_price("broken", "100.01");
    let report = life.next_report().await;
    assert_eq!(report.report.round, 1);
    assert_eq!(report.report.value, e8(100, 1));
    assert_eq!(report.report.decimals, 8);
    assert_eq!(report.report.sources, ["broken", "good1", "good2"]);
    assert!(report.verify());
    let status = life
        .status_until(|s| s.state == ModuleState::Running && s.message.is_none())
        .await;
    assert_eq!(status.last_error, None);
    assert_eq!(life.hub.latest("eth-usd"), Some(report.clone()));
    assert_eq!(
        life.metric("restaked_oracle_value", &[("feed", "eth-usd")]),
        Some(100.01)
    );
    assert_eq!(
        life.metric("restaked_oracle_round", &[("feed", "eth-usd")]),
        Some(1.0)
    );
    assert_eq!(
        life.metric(
            "restaked_oracle_rounds_signed_total",
            &[("feed", "eth-usd")]
        ),
        Some(1.0)
    );
    assert!(
        life.metric("restaked_oracle_staleness_seconds", &[("feed", "eth-usd")])
            .is_some()
    );
    life.stop().await;
}

#[tokio::test]
async fn a_change_below_the_deviation_is_not_published_and_one_at_it_is() {
    let server = PriceServer::start().await;
    server.set_price("p", "100");
    let dir = tempfile::tempdir().unwrap();
    let mut life = Life::start(
        dir.path(),
        "modules.db",
        OracleConfig {
            feeds: vec![feed(
                "eth-usd",
                bls_key(),
                vec![http_source("p", server.url("p"))],
            )],
        },
        Resources::default(),
        Signer::Open,
    );
    let first = life.next_report().await;
    assert_eq!((first.report.round, first.report.value), (1, e8(100, 0)));
    assert!(
        life.duty_containing("eth-usd round 1: 100.00000000 signed (first report)")
            .await
            .starts_with("eth-usd round 1")
    );

    // 0.5% is below the 1% deviation: considered, not published.
    server.set_price("p", "100.5");
    life.duty_containing("eth-usd: 100.50000000 not published, within 100 bps of round 1")
        .await;
    server.set_price("p", "102");
    let second = life.next_report().await;
    assert_eq!((second.report.round, second.report.value), (2, e8(102, 0)));

    // 1.02 away from 102 is exactly 1%: published; 0.5 away is not.
    server.set_price("p", "101.5");
    life.duty_containing("eth-usd: 101.50000000 not published")
        .await;
    server.set_price("p", "100.98");
    let third = life.next_report().await;
    assert_eq!((third.report.round, third.report.value), (3, e8(100, 98)));
    life.duty_containing("eth-usd round 3: 100.98000000 signed (deviation)")
        .await;
    let history = life.hub.history("eth-usd", 10).unwrap();
    let rounds: Vec<(u64, i128)> = history
        .iter()
        .map(|r| (r.report.round, r.report.value))
        .collect();
    assert_eq!(rounds, [(3, e8(100, 98)), (2, e8(102, 0)), (1, e8(100, 0))]);
    assert_eq!(life.hub.history("eth-usd", 1).unwrap().len(), 1);
    assert!(life.hub.history("other", 10).unwrap().is_empty());
    assert_eq!(life.hub.feeds(), ["eth-usd"]);
    life.stop().await;
}

#[tokio::test]
async fn after_the_heartbeat_the_same_value_is_published_again() {
    let server = PriceServer::start().await;
    server.set_price("p", "100");
    let mut eth_usd = feed(
        "eth-usd",
        bls_key(),
        vec![http_source("p", server.url("p"))],
    );
    eth_usd.heartbeat = Duration::from_secs(1);
    let dir = tempfile::tempdir().unwrap();
    let mut life = Life::one_feed(dir.path(), eth_usd);
    let first = life.next_report().await;
    let second = life.next_report().await;
    assert_eq!(second.report.round, 2);
    assert_eq!(second.report.value, first.report.value);
    assert!(second.report.observed_at > first.report.observed_at);
    life.duty_containing("signed (heartbeat)").await;
    life.stop().await;
}

/// The request the module makes for `report`.
fn signing_request(report: &Report, key: restake_signer::KeyId) -> SigningRequest {
    SigningRequest {
        key,
        domain: format!("oracle/{}", report.feed),
        conflict_key: report.round.to_be_bytes().to_vec(),
        ordering: Some(report.round),
        message: report.digest().to_vec(),
    }
}

#[tokio::test]
async fn a_pending_report_is_signed_again_unchanged_after_a_restart() {
    let server = PriceServer::start().await;
    server.set_price("p", "100");
    let config = OracleConfig {
        feeds: vec![feed(
            "eth-usd",
            bn254_key(),
            vec![http_source("p", server.url("p"))],
        )],
    };
    let dir = tempfile::tempdir().unwrap();

    // First life: the report is built and stored as pending, but the signer refuses it.
    let mut life = Life::start(
        dir.path(),
        "modules.db",
        config.clone(),
        Resources::default(),
        Signer::Closed,
    );
    let status = life
        .status_until(|s| s.state == ModuleState::Degraded)
        .await;
    assert!(
        status
            .message
            .as_deref()
            .unwrap()
            .contains("round 1 not signed yet"),
        "{status:?}"
    );
    let store = life.kv.scoped(module_id());
    life.stop().await;
    let pending: Report =
        serde_json::from_slice(&store.get("pending/eth-usd").unwrap().unwrap()).unwrap();
    assert_eq!((pending.round, pending.value), (1, e8(100, 0)));

    // As if the node had signed it and died before storing the signature.
    {
        let registry = Registry::new();
        let (keys, _, bn254) = crate::oracle_support::keyring();
        let db = restake_signer::protection::ProtectionDb::open(
            &dir.path().join("protection.db"),
            Duration::from_secs(5),
        )
        .unwrap();
        let signer = restake_signer::ProtectedSigner::start(db, keys, &registry).unwrap();
        let signed = signer.sign(signing_request(&pending, bn254)).await.unwrap();
        assert!(!signed.repeated);
        store.put("test/signature", &signed.signature).unwrap();
    }
    let first_signature = store.get("test/signature").unwrap().unwrap();

    // The sources moved meanwhile; the second life signs the pending report as it was.
    server.set_price("p", "120");
    let mut life = Life::start(
        dir.path(),
        "modules.db",
        config,
        Resources::default(),
        Signer::Open,
    );
    let resumed = life.next_report().await;
    assert_eq!(resumed.report, pending);
    assert_eq!(resumed.signature, first_signature);
    assert!(resumed.verify());
    life.duty_containing("eth-usd round 1: 100.00000000 signed again")
        .await;
    let next = life.next_report().await;
    assert_eq!((next.report.round, next.report.value), (2, e8(120, 0)));
    assert!(next.verify());
    assert_eq!(store.get("pending/eth-usd").unwrap(), None);
    let history: Vec<(u64, i128)> = life
        .hub
        .history("eth-usd", 10)
        .unwrap()
        .iter()
        .map(|r| (r.report.round, r.report.value))
        .collect();
    assert_eq!(history, [(2, e8(120, 0)), (1, e8(100, 0))]);
    life.stop().await;
}

#[tokio::test]
async fn a_lost_module_store_never_gets_a_second_value_for_a_signed_round() {
    let server = PriceServer::start().await;
    server.set_price("p", "100");
    let aggregator = Aggregator::start(0).await;
    let mut eth_usd = feed(
        "eth-usd",
        bls_key(),
        vec![http_source("p", server.url("p"))],
    );
    eth_usd.publish_urls = vec![aggregator.url()];
    let config = OracleConfig {
        feeds: vec![eth_usd],
    };
    let dir = tempfile::tempdir().unwrap();

    let mut life = Life::start(
        dir.path(),
        "modules-1.db",
        config.clone(),
        Resources::default(),
        Signer::Open,
    );
    let first = life.next_report().await;
    assert_eq!((first.report.round, first.report.value), (1, e8(100, 0)));
    life.duty_containing("eth-usd round 1").await;
    let first_history = life.hub.history("eth-usd", 10).unwrap();
    life.stop().await;

    // A new module store, the same protection store, and a different value.
    server.set_price("p", "105");
    let mut life = Life::start(
        dir.path(),
        "modules-2.db",
        config,
        Resources::default(),
        Signer::Open,
    );
    let next = life.next_report().await;
    assert_eq!((next.report.round, next.report.value), (2, e8(105, 0)));
    assert!(next.verify());
    assert_eq!(
        life.metric(
            "restaked_oracle_signing_refusals_total",
            &[("feed", "eth-usd"), ("reason", "conflicting_message")]
        ),
        Some(1.0)
    );
    let second_history = life.hub.history("eth-usd", 10).unwrap();
    assert_eq!(second_history, std::slice::from_ref(&next));
    life.stop().await;

    // Everything published or stored has one value per round.
    let mut values: BTreeMap<u64, BTreeSet<i128>> = BTreeMap::new();
    for report in first_history
        .iter()
        .chain(&second_history)
        .chain(&aggregator.reports())
        .chain([&first, &next])
    {
        values
            .entry(report.report.round)
            .or_default()
            .insert(report.report.value);
    }
    assert_eq!(
        values,
        BTreeMap::from([
            (1, BTreeSet::from([e8(100, 0)])),
            (2, BTreeSet::from([e8(105, 0)]))
        ])
    );
}

#[tokio::test]
async fn reports_verify_for_bls12_381_and_bn254_keys_and_tampered_ones_do_not() {
    let server = PriceServer::start().await;
    server.set_price("p", "3412.5512");
    let config = OracleConfig {
        feeds: vec![
            feed(
                "eth-usd",
                bls_key(),
                vec![http_source("p", server.url("p"))],
            ),
            feed(
                "eth-usd-avs",
                bn254_key(),
                vec![http_source("p", server.url("p"))],
            ),
        ],
    };
    let dir = tempfile::tempdir().unwrap();
    let mut life = Life::start(
        dir.path(),
        "modules.db",
        config,
        Resources::default(),
        Signer::Open,
    );
    let mut reports = BTreeMap::new();
    while reports.len() < 2 {
        let report = life.next_report().await;
        reports.insert(report.report.feed.clone(), report);
    }
    life.stop().await;
    let bls = &reports["eth-usd"];
    let bn = &reports["eth-usd-avs"];
    assert_eq!(bls.scheme, Scheme::Bls12381);
    assert_eq!(bls.public_key, bls_key().public_key);
    assert_eq!((bls.public_key.len(), bls.signature.len()), (48, 96));
    assert_eq!(bls.public_key_g2, None);
    assert_eq!(bn.scheme, Scheme::Bn254);
    assert_eq!(bn.public_key, bn254_key().public_key);
    assert_eq!(bn.public_key_g2.as_ref().map(Vec::len), Some(128));
    assert_eq!(bn.signature.len(), 64);
    for report in [bls, bn] {
        assert_eq!(report.report.value, 341_255_120_000);
        assert!(report.verify());
        let json = report.to_json();
        let back: SignedReport = serde_json::from_slice(&json).unwrap();
        assert!(back.verify());

        let mut tampered = report.clone();
        tampered.report.value += 1;
        assert!(!tampered.verify());
        let mut tampered = report.clone();
        tampered.report.round += 1;
        assert!(!tampered.verify());
        let mut tampered = report.clone();
        tampered.report.sources.push("extra".to_owned());
        assert!(!tampered.verify());
        let mut tampered = report.clone();
        let last = tampered.signature.len() - 1;
        tampered.signature[last] ^= 1;
        assert!(!tampered.verify());
    }
    // A signature does not verify under the other feed's report or key.
    let mut swapped = bls.clone();
    swapped.report = bn.report.clone();
    assert!(!swapped.verify());
    let mut wrong_g2 = bn.clone();
    wrong_g2.public_key_g2 = Some(vec![0; 128]);
    assert!(!wrong_g2.verify());
}

#[tokio::test]
async fn reports_are_posted_to_aggregators_with_retries() {
    let server = PriceServer::start().await;
    server.set_price("p", "100");
    let flaky = Aggregator::start(1).await;
    let down = Aggregator::start(u32::MAX).await;
    let mut eth_usd = feed(
        "eth-usd",
        bls_key(),
        vec![http_source("p", server.url("p"))],
    );
    eth_usd.publish_urls = vec![flaky.url(), down.url()];
    let dir = tempfile::tempdir().unwrap();
    let mut life = Life::one_feed(dir.path(), eth_usd);
    let report = life.next_report().await;
    life.metric_reaches(
        "restaked_oracle_publish_failures_total",
        &[("feed", "eth-usd")],
        1.0,
    )
    .await;
    // The flaky aggregator got the exact JSON on its second attempt.
    assert_eq!(flaky.attempts(), 2);
    assert_eq!(flaky.received(), [report.to_json()]);
    let stored = life.kv.scoped(module_id());
    assert_eq!(
        stored
            .get("report/eth-usd/00000000000000000001")
            .unwrap()
            .unwrap(),
        report.to_json()
    );
    // The one that is down was tried three times and counted once.
    assert_eq!(down.attempts(), 3);
    let status = life
        .status_until(|s| s.state == ModuleState::Degraded)
        .await;
    assert!(
        status
            .message
            .as_deref()
            .unwrap()
            .contains("publishing round 1 failed"),
        "{status:?}"
    );
    life.duty_containing("eth-usd round 1: 100.00000000 signed, 1 of 2 aggregators failed")
        .await;
    life.stop().await;
    let json: serde_json::Value = serde_json::from_slice(&flaky.received()[0]).unwrap();
    assert_eq!(json["report"]["value"], "10000000000");
    assert_eq!(json["report"]["feed"], "eth-usd");
    assert_eq!(json["scheme"], "bls12-381");
}

#[allow(missing_docs)]
mod contracts {
    alloy_sol_types::sol!(
        #[sol(rpc)]
        MockAggregatorV3,
        "contracts/MockAggregatorV3.json"
    );
    alloy_sol_types::sol!(
        #[sol(rpc)]
        OracleReportDigest,
        "contracts/OracleReportDigest.json"
    );
}

/// Anvil's default account 0, unlocked on a fresh anvil.
const ANVIL_ACCOUNT: Address =
    alloy_primitives::address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

#[tokio::test]
async fn a_contract_feed_reads_an_aggregator_v3_on_anvil() {
    // Anvil must be installed (scripts/test.sh does, or set RESTAKED_ANVIL); without it this
    // fails, as restake-eigenpod's tests do.
    let anvil = match restake_eigenpod::anvil::Anvil::spawn().await {
        Ok(anvil) => anvil,
        Err(e) => panic!("{e}"),
    };
    let endpoint: url::Url = anvil.endpoint().parse().unwrap();
    let provider = ProviderBuilder::new().connect_http(endpoint.clone());
    let aggregator = contracts::MockAggregatorV3::deploy_builder(&provider, 8)
        .from(ANVIL_ACCOUNT)
        .deploy()
        .await
        .unwrap();
    let aggregator = contracts::MockAggregatorV3::new(aggregator, &provider);
    let updated_at = unix_now() - 5;
    aggregator
        .setAnswer(
            I256::try_from(341_255_120_000i64).unwrap(),
            U256::from(updated_at),
        )
        .from(ANVIL_ACCOUNT)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();

    let address = ExecutionAddress::new(aggregator.address().0.0);
    let contract = |id: &str, chain_id: u64, address: ExecutionAddress, call| SourceConfig {
        id: id.to_owned(),
        kind: SourceKind::Contract {
            chain_id,
            address,
            call,
            decimals: 8,
            timeout: Duration::from_secs(5),
        },
    };
    let mut eth_usd = feed(
        "eth-usd",
        bn254_key(),
        vec![
            contract(
                "round-data",
                anvil.chain_id(),
                address,
                ContractCall::LatestRoundData,
            ),
            contract(
                "answer",
                anvil.chain_id(),
                address,
                ContractCall::LatestAnswer,
            ),
            contract("other-chain", 999, address, ContractCall::LatestRoundData),
            contract(
                "no-code",
                anvil.chain_id(),
                ExecutionAddress::new([0x77; 20]),
                ContractCall::LatestRoundData,
            ),
        ],
    );
    eth_usd.quorum = 2;
    eth_usd.decimals = 4;
    eth_usd.interval = Duration::from_millis(100);
    let dir = tempfile::tempdir().unwrap();
    let mut life = Life::start(
        dir.path(),
        "modules.db",
        OracleConfig {
            feeds: vec![eth_usd],
        },
        Resources {
            execution: ExecutionProviders::new(&[endpoint]),
            ..Resources::default()
        },
        Signer::Open,
    );
    let report = life.next_report().await;
    assert_eq!(report.report.value, 34_125_512);
    assert_eq!(report.report.decimals, 4);
    assert_eq!(report.report.observed_at, updated_at);
    assert_eq!(report.report.sources, ["answer", "round-data"]);
    assert!(report.verify());
    for (source, reason) in [("other-chain", "unavailable"), ("no-code", "invalid")] {
        let labels = [("feed", "eth-usd"), ("source", source), ("reason", reason)];
        assert!(
            life.metric(SOURCE_FAILURES, &labels).unwrap() >= 1.0,
            "{source}"
        );
    }

    // A Solidity verifier rebuilds the same digest.
    let digest = contracts::OracleReportDigest::deploy_builder(&provider)
        .from(ANVIL_ACCOUNT)
        .deploy()
        .await
        .unwrap();
    let digest = contracts::OracleReportDigest::new(digest, &provider);
    let r = &report.report;
    let onchain = digest
        .digest(
            r.feed.clone(),
            r.round,
            I256::try_from(r.value).unwrap(),
            r.decimals,
            r.observed_at,
            r.sources.join(","),
        )
        .call()
        .await
        .unwrap();
    assert_eq!(onchain.0, r.digest());
    let negative = Report {
        value: -5,
        ..r.clone()
    };
    let onchain = digest
        .digest(
            negative.feed.clone(),
            negative.round,
            I256::try_from(-5).unwrap(),
            negative.decimals,
            negative.observed_at,
            negative.sources.join(","),
        )
        .call()
        .await
        .unwrap();
    assert_eq!(onchain.0, negative.digest());

    // An old updatedAt is stale: one source left, below the quorum.
    aggregator
        .setAnswer(
            I256::try_from(341_255_120_000i64).unwrap(),
            U256::from(unix_now() - 3600),
        )
        .from(ANVIL_ACCOUNT)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    life.metric_reaches(
        SOURCE_FAILURES,
        &[
            ("feed", "eth-usd"),
            ("source", "round-data"),
            ("reason", "stale"),
        ],
        1.0,
    )
    .await;
    life.duty_containing("eth-usd: skipped, 1 of 4 sources agree (quorum 2)")
        .await;
    life.stop().await;
}

/// Half-to-even rounding of `gwei` to ETH at `decimals` (below 9).
fn gwei_to_eth(gwei: u128, decimals: u32) -> i128 {
    let factor = 10u128.pow(9 - decimals);
    let (q, r) = (gwei / factor, gwei % factor);
    let up = r * 2 > factor || (r * 2 == factor && q % 2 == 1);
    i128::try_from(if up { q + 1 } else { q }).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_beacon_feed_attests_the_tracked_validators_balance_in_eth() {
    let shutdown = CancellationToken::new();
    let devnet = Devnet::start(
        DevnetConfig {
            drive: Drive::Manual,
            ..DevnetConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    devnet.advance_to(Slot(2)).await.unwrap();
    let pod = devnet.scenario().pod;

    let registry = Registry::new();
    let mut client_config = BeaconClientConfig::new(vec![devnet.url()]);
    client_config.retry.max_attempts = 2;
    let client = BeaconClient::new(client_config, &registry).unwrap();
    let mut tracker_config = TrackerConfig::new();
    tracker_config.pods = vec![pod];
    // Validator 0 has BLS credentials: tracked by its key, it is in the total but no pod's.
    tracker_config.pubkeys = vec![Scenario::pubkey(ValidatorIndex(0))];
    tracker_config.update_every = UpdateEvery::Slot;
    let dir = tempfile::tempdir().unwrap();
    let tracker = Tracker::new(
        client,
        tracker_config,
        &dir.path().join("tracker.db"),
        &registry,
    )
    .unwrap();
    let tracker_task = tokio::spawn({
        let tracker = tracker.clone();
        let shutdown = shutdown.clone();
        async move { tracker.run(shutdown).await.unwrap() }
    });
    tokio::time::timeout(Duration::from_secs(60), async {
        while tracker.status().updated_slot.is_none_or(|s| s < Slot(2)) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the tracker did not read slot 2");

    let validators = tracker.validators();
    let pod_gwei: u128 = validators
        .iter()
        .filter(|v| v.pod == Some(pod))
        .map(|v| u128::from(v.data.balance.get()))
        .sum();
    let all_gwei: u128 = validators
        .iter()
        .map(|v| u128::from(v.data.balance.get()))
        .sum();
    assert!(pod_gwei > 0 && all_gwei > pod_gwei);
    let oldest = validators.iter().map(|v| v.updated_slot).min().unwrap();
    let genesis = devnet.genesis().genesis_time;
    let clock = SystemSlotClock::new(Duration::from_secs(genesis), Duration::from_secs(1));
    let observed_at = clock.start_of(oldest).unwrap().as_secs();

    let beacon = |id: &str, value| SourceConfig {
        id: id.to_owned(),
        kind: SourceKind::Beacon { value },
    };
    let mut pod_reserve = feed(
        "pod-reserve",
        bls_key(),
        vec![beacon("pod", BeaconValue::PodBalance(pod))],
    );
    pod_reserve.decimals = 18;
    let mut tracked_reserve = feed(
        "tracked-reserve",
        bn254_key(),
        vec![beacon("tracked", BeaconValue::TrackedBalance)],
    );
    tracked_reserve.decimals = 4;
    let mut life = Life::start(
        dir.path(),
        "modules.db",
        OracleConfig {
            feeds: vec![pod_reserve, tracked_reserve],
        },
        Resources {
            tracker: Some(tracker.clone()),
            slot_clock: Some(Arc::new(clock)),
            ..Resources::default()
        },
        Signer::Open,
    );
    let mut reports = BTreeMap::new();
    while reports.len() < 2 {
        let report = life.next_report().await;
        reports.insert(report.report.feed.clone(), report);
    }
    life.stop().await;

    let pod_report = &reports["pod-reserve"].report;
    assert_eq!(
        pod_report.value,
        i128::try_from(pod_gwei * 1_000_000_000).unwrap()
    );
    assert_eq!(pod_report.decimals, 18);
    assert_eq!(pod_report.observed_at, observed_at);
    assert_eq!(pod_report.sources, ["pod"]);
    let tracked_report = &reports["tracked-reserve"].report;
    assert_eq!(tracked_report.value, gwei_to_eth(all_gwei, 4));
    assert_eq!(tracked_report.decimals, 4);
    assert!(reports.values().all(SignedReport::verify));

    shutdown.cancel();
    tracker_task.await.unwrap();
    devnet.stop().await;
}
