//! Metrics: present, per endpoint, with bounded label values.

use std::collections::BTreeSet;

use prometheus::{Registry, proto::MetricFamily};
use restake_beacon::{BeaconClient, BlockId, Error, OUTCOMES, Route, StateId, ValidatorId};
use restake_types::{Slot, ValidatorIndex};

use crate::support::{MockBeacon, Mode, SKIPPED_SLOT, client, fast_config, refused_url};

fn family<'a>(families: &'a [MetricFamily], name: &str) -> &'a MetricFamily {
    families
        .iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("metric {name} missing"))
}

fn label<'a>(metric: &'a prometheus::proto::Metric, name: &str) -> &'a str {
    metric
        .get_label()
        .iter()
        .find(|l| l.name() == name)
        .map(|l| l.value())
        .unwrap_or_else(|| panic!("label {name} missing"))
}

fn counter(families: &[MetricFamily], endpoint: &str, route: Route, outcome: &str) -> u64 {
    family(families, "restaked_beacon_requests_total")
        .get_metric()
        .iter()
        .find(|m| {
            label(m, "endpoint") == endpoint
                && label(m, "route") == route.template()
                && label(m, "outcome") == outcome
        })
        .map_or(0, |m| m.get_counter().get_value() as u64)
}

fn up(families: &[MetricFamily], endpoint: &str) -> i64 {
    family(families, "restaked_beacon_endpoint_up")
        .get_metric()
        .iter()
        .find(|m| label(m, "endpoint") == endpoint)
        .map(|m| m.get_gauge().get_value() as i64)
        .unwrap()
}

#[tokio::test]
async fn requests_outcomes_durations_and_up_are_counted_per_endpoint() {
    let refused = refused_url().await;
    let node = MockBeacon::start().await;
    let (client, registry) = client(fast_config(&[&refused, &node.url]));

    client.genesis().await.unwrap();
    client
        .header(BlockId::Slot(Slot(SKIPPED_SLOT)))
        .await
        .unwrap();
    let ids: Vec<ValidatorId> = (12_345..12_445).map(|i| ValidatorIndex(i).into()).collect();
    client
        .validators(StateId::Slot(Slot(987_654)), &ids, &[])
        .await
        .unwrap();

    let families = registry.gather();
    assert_eq!(
        counter(&families, "0", Route::Genesis, "connection_error"),
        1
    );
    assert_eq!(counter(&families, "1", Route::Genesis, "ok"), 1);
    assert_eq!(counter(&families, "1", Route::BlockHeader, "not_found"), 1);
    assert_eq!(counter(&families, "1", Route::ValidatorsPost, "ok"), 1);
    assert_eq!(up(&families, "0"), 0);
    assert_eq!(up(&families, "1"), 1);

    let durations = family(&families, "restaked_beacon_request_duration_seconds");
    let genesis = durations
        .get_metric()
        .iter()
        .find(|m| label(m, "endpoint") == "1" && label(m, "route") == Route::Genesis.template())
        .unwrap();
    assert_eq!(genesis.get_histogram().get_sample_count(), 1);

    // Every label value comes from a closed set: no ids, slots, hosts or credentials.
    let templates: BTreeSet<&str> = Route::ALL.iter().map(|r| r.template()).collect();
    for family in &families {
        for metric in family.get_metric() {
            for pair in metric.get_label() {
                let value = pair.value();
                match pair.name() {
                    "endpoint" => assert!(value == "0" || value == "1", "endpoint {value}"),
                    "route" => assert!(templates.contains(value), "route {value}"),
                    "outcome" => assert!(OUTCOMES.contains(&value), "outcome {value}"),
                    other => panic!("unexpected label {other}"),
                }
                assert!(!value.contains("12345") && !value.contains("987654"));
            }
        }
    }
}

#[tokio::test]
async fn the_primary_going_down_and_coming_back_moves_the_up_gauge() {
    let primary = MockBeacon::start().await;
    let fallback = MockBeacon::start().await;
    let mut config = fast_config(&[&primary.url, &fallback.url]);
    config.retry.endpoint_cooldown = std::time::Duration::from_millis(1);
    let (client, registry) = client(config);
    assert_eq!(up(&registry.gather(), "0"), 1);

    primary.set_mode(Mode::Status(503));
    client.genesis().await.unwrap();
    let families = registry.gather();
    assert_eq!(up(&families, "0"), 0);
    assert_eq!(counter(&families, "0", Route::Genesis, "server_error"), 1);

    primary.set_mode(Mode::Normal);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    client.genesis().await.unwrap();
    assert_eq!(up(&registry.gather(), "0"), 1);
}

#[tokio::test]
async fn registering_twice_in_one_registry_is_an_error() {
    let node = MockBeacon::start().await;
    let registry = Registry::new();
    BeaconClient::new(fast_config(&[&node.url]), &registry).unwrap();
    let error = BeaconClient::new(fast_config(&[&node.url]), &registry).unwrap_err();
    assert!(matches!(error, Error::Metrics(_)), "{error}");
}

#[tokio::test]
async fn an_invalid_configuration_lists_every_problem_without_secrets() {
    let mut config = fast_config(&[]);
    config
        .endpoints
        .push("ftp://user:hunter2@node.example/".parse().unwrap());
    config.retry.max_attempts = 0;
    let error = BeaconClient::new(config, &Registry::new()).unwrap_err();
    match &error {
        Error::InvalidConfig { problems } => assert_eq!(problems.len(), 2, "{problems:?}"),
        other => panic!("unexpected error {other}"),
    }
    assert!(!error.to_string().contains("hunter2"));
}
