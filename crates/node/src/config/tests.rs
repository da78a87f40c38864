use std::{collections::HashMap, io::Write};

use proptest::prelude::*;

use super::*;

fn sources(
    toml: Option<&str>,
    env: &[(&str, &str)],
    cli: &[(&str, &str)],
) -> (ConfigSources, Option<tempfile::NamedTempFile>) {
    let file = toml.map(|text| {
        let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    });
    let sources = ConfigSources {
        file: file.as_ref().map(|f| f.path().to_owned()),
        env: Some(
            env.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>(),
        ),
        overrides: cli
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        default_data_dir: None,
    };
    (sources, file)
}

fn load(
    toml: Option<&str>,
    env: &[(&str, &str)],
    cli: &[(&str, &str)],
) -> Result<Config, ConfigErrors> {
    let (sources, _file) = sources(toml, env, cli);
    Config::load(&sources)
}

fn issue_lines(errors: &ConfigErrors) -> Vec<String> {
    errors.0.iter().map(ToString::to_string).collect()
}

#[test]
fn defaults_bind_loopback_and_use_var_lib() {
    let config = load(None, &[], &[]).unwrap();
    assert_eq!(config.http.listen.to_string(), DEFAULT_HTTP_LISTEN);
    assert_eq!(config.grpc.listen.to_string(), DEFAULT_GRPC_LISTEN);
    assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
    assert_eq!(config.shutdown.drain_timeout, Duration::from_secs(30));
    assert_eq!(config.log.format, LogFormat::Human);
    assert!(config.grpc.auth_token.is_none());
}

#[test]
fn layers_apply_file_then_environment_then_flags() {
    let toml = "data_dir = \"/from/file\"\n[node]\nname = \"file\"\n[log]\nlevel = \"debug\"\n";
    let env = [
        ("RESTAKED_NODE__NAME", "env"),
        ("RESTAKED_DATA_DIR", "/from/env"),
    ];
    let cli = [("data_dir", "/from/cli")];
    let config = load(Some(toml), &env, &cli).unwrap();
    assert_eq!(config.log.level, "debug", "file beats defaults");
    assert_eq!(config.node.name, "env", "environment beats file");
    assert_eq!(
        config.data_dir,
        PathBuf::from("/from/cli"),
        "flags beat environment"
    );
}

#[test]
fn environment_numbers_and_durations_are_accepted() {
    let env = [
        ("RESTAKED_SHUTDOWN__DRAIN_TIMEOUT", "5"),
        ("RESTAKED_STORE__BUSY_TIMEOUT", "250ms"),
    ];
    let config = load(None, &env, &[]).unwrap();
    assert_eq!(config.shutdown.drain_timeout, Duration::from_secs(5));
    assert_eq!(config.store.busy_timeout, Duration::from_millis(250));
}

#[test]
fn collects_every_error_with_its_key_path() {
    let toml = r#"
data_dir = ""
[http]
listen = "localhost"
[grpc]
listen = "127.0.0.1:99999"
auth_token = "short"
[log]
format = "xml"
level = "info,[["
[shutdown]
drain_timeout = "soon"
[store]
integrity_check = "sometimes"
"#;
    let errors = load(Some(toml), &[], &[]).unwrap_err();
    let paths: Vec<&str> = errors.0.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "data_dir",
            "grpc.auth_token",
            "grpc.listen",
            "http.listen",
            "log.format",
            "log.level",
            "shutdown.drain_timeout",
            "store.integrity_check"
        ]
    );
    let text = errors.to_string();
    assert!(
        text.starts_with("invalid configuration (8 problems):"),
        "{text}"
    );
    assert!(
        text.contains("http.listen: \"localhost\" is not a socket address"),
        "{text}"
    );
    assert!(
        text.contains("log.format: \"xml\" is not one of: human, json"),
        "{text}"
    );
}

#[test]
fn unknown_keys_are_rejected_with_the_closest_known_key() {
    let toml = "[http]\nlisten_addr = \"127.0.0.1:1\"\n[grcp]\nlisten = \"127.0.0.1:2\"\n[log]\nformt = \"json\"\nzzz = 1\n";
    let errors = load(Some(toml), &[], &[]).unwrap_err();
    let lines = issue_lines(&errors);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("grcp: unknown key (did you mean `grpc`?)")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("http.listen_addr: unknown key (did you mean `http.listen`?)")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("log.formt: unknown key (did you mean `log.format`?)")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("log.zzz: unknown key") && !l.contains("did you mean")),
        "{lines:?}"
    );
}

#[test]
fn a_section_given_as_a_value_is_an_error() {
    let errors = load(Some("http = 5\n"), &[], &[]).unwrap_err();
    assert_eq!(
        issue_lines(&errors)[0].split(" (set in").next(),
        Some("http: expected a table of settings, found an integer")
    );
}

#[test]
fn errors_name_the_environment_variable_or_file_they_came_from() {
    let env = [
        ("RESTAKED_HTTP__LISTEN", "nowhere"),
        ("RESTAKED_HTTP__LISTN", "x"),
    ];
    let errors = load(None, &env, &[]).unwrap_err();
    let lines = issue_lines(&errors);
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("(set in environment variable RESTAKED_HTTP__LISTEN)")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("http.listn: unknown key (did you mean `http.listen`?)")),
        "{lines:?}"
    );

    let (sources, file) = sources(Some("[log]\nformat = 3\n"), &[], &[]);
    let errors = Config::load(&sources).unwrap_err();
    let file = file.unwrap();
    assert!(
        issue_lines(&errors)[0].contains(&file.path().display().to_string()),
        "{errors}"
    );

    let errors = load(None, &[], &[("grpc.listen", "bad")]).unwrap_err();
    assert!(
        issue_lines(&errors)[0].ends_with("(set in the command line)"),
        "{errors}"
    );
}

#[test]
fn a_missing_or_unparsable_file_is_one_clear_error() {
    let sources = ConfigSources {
        file: Some(PathBuf::from("/nonexistent/restaked.toml")),
        env: Some(HashMap::new()),
        ..ConfigSources::default()
    };
    let errors = Config::load(&sources).unwrap_err();
    assert!(
        errors.to_string().contains("/nonexistent/restaked.toml"),
        "{errors}"
    );
    let errors = load(Some("[http\nlisten ="), &[], &[]).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors}");
}

#[test]
fn http_and_grpc_may_not_share_a_port() {
    let cli = [
        ("http.listen", "127.0.0.1:9000"),
        ("grpc.listen", "127.0.0.1:9000"),
    ];
    let errors = load(None, &[], &cli).unwrap_err();
    assert!(
        issue_lines(&errors)[0].starts_with("grpc.listen: same address as http.listen"),
        "{errors}"
    );
}

#[test]
fn dump_redacts_secrets_and_reloads_to_the_same_config() {
    let token = "s3cret-token-0123456789";
    let config = load(None, &[], &[("grpc.auth_token", token)]).unwrap();
    assert_eq!(
        config.grpc.auth_token.as_ref().map(Secret::expose),
        Some(token)
    );
    assert!(!format!("{config:?}").contains(token));
    let dump = config.dump();
    assert!(!dump.contains(token), "{dump}");
    assert!(dump.contains("auth_token = \"<redacted>\""), "{dump}");

    let plain = load(None, &[], &[("shutdown.drain_timeout", "1m 30s")]).unwrap();
    let reloaded = load(Some(&plain.dump()), &[], &[]).unwrap();
    assert_eq!(reloaded.dump(), plain.dump());
    assert_eq!(reloaded.shutdown.drain_timeout, Duration::from_secs(90));
}

#[test]
fn env_var_names_follow_the_key_path() {
    assert_eq!(
        env_var_for("shutdown.drain_timeout"),
        "RESTAKED_SHUTDOWN__DRAIN_TIMEOUT"
    );
}

proptest! {
    #[test]
    fn any_unknown_top_level_key_is_reported_by_name(key in "[a-z][a-z_]{0,12}") {
        prop_assume!(!["data_dir", "node", "http", "grpc", "log", "shutdown", "store"].contains(&key.as_str()));
        let errors = load(Some(&format!("{key} = 1\n")), &[], &[]).unwrap_err();
        prop_assert_eq!(errors.0.len(), 1);
        prop_assert_eq!(&errors.0[0].path, &key);
    }
}

#[test]
fn keystores_need_exactly_one_password_source() {
    let config = load(
        None,
        &[],
        &[
            ("signer.keystores_dir", "/keys"),
            ("signer.secrets_dir", "/secrets"),
        ],
    )
    .unwrap();
    assert_eq!(config.signer.keystores_dir, Some(PathBuf::from("/keys")));
    assert_eq!(
        config.signer.passwords,
        Some(PasswordSettings::SecretsDir(PathBuf::from("/secrets")))
    );
    assert_eq!(config.signer.on_bad_keystore, OnBadKeystore::Fail);
    assert!(
        config.dump().contains("secrets_dir = \"/secrets\""),
        "{}",
        config.dump()
    );

    let errors = load(None, &[], &[("signer.keystores_dir", "/keys")]).unwrap_err();
    assert!(
        issue_lines(&errors)[0].starts_with("signer.keystores_dir: /keys needs a password source"),
        "{errors}"
    );
    let errors = load(None, &[], &[("signer.password_file", "/pw")]).unwrap_err();
    assert!(
        issue_lines(&errors)[0].contains("signer.keystores_dir is not"),
        "{errors}"
    );
    let both = [
        ("signer.keystores_dir", "/k"),
        ("signer.password_file", "/pw"),
        ("signer.passwords_dir", "/p"),
    ];
    let errors = load(None, &[], &both).unwrap_err();
    assert!(
        issue_lines(&errors)[0].contains("set only one of"),
        "{errors}"
    );
    let errors = load(
        None,
        &[],
        &[
            ("signer.on_bad_keystore", "ignore"),
            ("signer.decrypt_threads", "lots"),
        ],
    )
    .unwrap_err();
    assert_eq!(errors.0.len(), 2, "{errors}");
}

#[test]
fn bn254_and_ecdsa_keystores_need_their_password_files() {
    let config = load(
        None,
        &[],
        &[
            ("signer.bn254.keystore", "/k/bls.json"),
            ("signer.bn254.password_file", "/k/pw"),
        ],
    )
    .unwrap();
    assert_eq!(
        config.signer.bn254,
        Some(KeyFile {
            keystore: PathBuf::from("/k/bls.json"),
            password_file: PathBuf::from("/k/pw")
        })
    );
    let reloaded = load(Some(&config.dump()), &[], &[]).unwrap();
    assert_eq!(
        reloaded.signer.bn254,
        config.signer.bn254,
        "{}",
        config.dump()
    );
    let errors = load(None, &[], &[("signer.ecdsa.keystore", "/k/ecdsa.json")]).unwrap_err();
    assert!(
        issue_lines(&errors)[0]
            .starts_with("signer.ecdsa.keystore: needs signer.ecdsa.password_file"),
        "{errors}"
    );
}

#[test]
fn beacon_endpoints_are_a_list_with_each_bad_element_named() {
    let toml =
        "[beacon]\nendpoints = [\"http://127.0.0.1:5052\", \"not a url\", \"ftp://example.org\"]\n";
    let errors = load(Some(toml), &[], &[]).unwrap_err();
    let lines = issue_lines(&errors);
    assert!(
        lines[0].starts_with("beacon.endpoints[1]: \"not a url\" is not a URL"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("beacon.endpoints[2]: \"ftp://example.org\": scheme \"ftp\""),
        "{lines:?}"
    );

    let env = [(
        "RESTAKED_BEACON__ENDPOINTS",
        "http://a.example:5052, https://user:pw@b.example/key",
    )];
    let config = load(None, &env, &[]).unwrap();
    assert_eq!(config.beacon.endpoints.len(), 2);
    assert_eq!(config.beacon.endpoints[1].username(), "user");
    let dump = config.dump();
    assert!(
        dump.contains("endpoints = [\"http://a.example:5052\", \"https://b.example/<redacted>\"]"),
        "{dump}"
    );
    assert!(!dump.contains("pw"), "{dump}");
    let errors = load(Some("[beacon]\nendpoints = 5\n"), &[], &[]).unwrap_err();
    assert!(
        issue_lines(&errors)[0].starts_with("beacon.endpoints: expected a list, found an integer"),
        "{errors}"
    );
}

#[test]
fn tracker_keys_parse_and_dump() {
    let pod = "0x5afe00000000000000000000000000000000c0de";
    let toml = format!(
        "[tracker]\npods = [\"{pod}\"]\nvalidator_indices = [\"7\", \"100-199\"]\nupdate_every = \"slot\"\ntrack_keystores = false\n"
    );
    let config = load(
        Some(&toml),
        &[("RESTAKED_TRACKER__PER_VALIDATOR_METRICS", "true")],
        &[],
    )
    .unwrap();
    assert_eq!(config.tracker.pods, vec![pod.parse().unwrap()]);
    assert_eq!(config.tracker.validator_indices, vec![7..=7, 100..=199]);
    assert_eq!(
        config.tracker.update_every,
        restake_beacon::tracker::UpdateEvery::Slot
    );
    assert!(!config.tracker.track_keystores);
    assert!(config.tracker.per_validator_metrics);
    let dump = config.dump();
    assert!(
        dump.contains("validator_indices = [\"7\", \"100-199\"]"),
        "{dump}"
    );
    assert_eq!(
        Config::load(&sources(Some(&dump), &[], &[]).0)
            .unwrap()
            .tracker
            .validator_indices,
        config.tracker.validator_indices
    );
}

#[test]
fn bad_tracker_and_pod_keys_are_each_named() {
    let toml = "[tracker]\npods = [\"0x12\"]\nvalidator_indices = [\"9-3\", \"0-200000\", \"x\"]\nupdate_every = \"hour\"\n[eigenpod]\nowners = [\"0x5afe00000000000000000000000000000000c0de\"]\n";
    let lines = issue_lines(&load(Some(toml), &[], &[]).unwrap_err());
    let expect = [
        "eigenpod.owners: needs eigenpod.manager",
        "eigenpod.owners: needs execution.rpc_url",
        "tracker.pods[0]: \"0x12\" is not an execution address",
        "tracker.update_every: \"hour\" is not one of: epoch, slot",
        "tracker.validator_indices[0]: \"9-3\": the range is empty",
        "tracker.validator_indices[1]: \"0-200000\" spans more than 100000 indices",
        "tracker.validator_indices[2]: \"x\" is not an index",
    ];
    assert_eq!(lines.len(), expect.len(), "{lines:?}");
    for (line, expected) in lines.iter().zip(expect) {
        assert!(
            line.starts_with(expected),
            "{line:?} should start with {expected:?}"
        );
    }
}

const ORACLE: &str = r#"
[modules.prices]
kind = "oracle"

[modules.prices.feeds.eth-usd]
decimals = 8
quorum = 2
deviation_bps = 25
heartbeat = "10m"
interval = "15s"
scheme = "bls12-381"
publish_urls = ["https://aggregator.example/reports?key=abc"]

[modules.prices.feeds.eth-usd.sources.exchange]
kind = "http"
url = "https://api.example/price?key=secret"
pointer = "/data/amount"
timeout = "2s"
headers = { X-Api-Key = "hunter2" }

[modules.prices.feeds.eth-usd.sources.chainlink]
kind = "contract"
chain_id = 1
address = "0x5f4ec3df9cbd43714fe2740f5e3616155c5b8419"

[modules.reserves]
kind = "oracle"
enabled = false

[modules.reserves.feeds.pod]
[modules.reserves.feeds.pod.sources.beacon]
kind = "beacon"
value = "pod_balance"
pod = "0x076a4424f54146187f3e580825118dbb62d54813"
"#;

#[test]
fn oracle_modules_are_read_with_their_feeds_and_sources() {
    let config = load(Some(ORACLE), &[], &[]).unwrap();
    assert_eq!(config.modules.len(), 2);
    let prices = &config.modules[0];
    assert_eq!(prices.id.as_str(), "prices");
    assert!(prices.enabled);
    let ModuleKind::Oracle(oracle) = &prices.kind;
    let feed = &oracle.feeds["eth-usd"];
    assert_eq!(
        (
            feed.decimals,
            feed.quorum,
            feed.deviation_bps,
            feed.outlier_bps
        ),
        (8, 2, 25, 1000)
    );
    assert_eq!(feed.heartbeat, Duration::from_secs(600));
    assert_eq!(feed.scheme, restake_signer::Scheme::Bls12381);
    assert_eq!(feed.key, None);
    let SourceSettings::Http {
        headers,
        pointer,
        timeout,
        ..
    } = &feed.sources["exchange"]
    else {
        panic!("{:?}", feed.sources["exchange"]);
    };
    assert_eq!(pointer, "/data/amount");
    assert_eq!(*timeout, Duration::from_secs(2));
    assert_eq!(headers["X-Api-Key"].expose(), "hunter2");
    assert!(matches!(
        feed.sources["chainlink"],
        SourceSettings::Contract {
            chain_id: 1,
            call: ContractCallSetting::LatestRoundData,
            decimals: 8,
            ..
        }
    ));
    let reserves = &config.modules[1];
    assert!(!reserves.enabled);
    let ModuleKind::Oracle(oracle) = &reserves.kind;
    let feed = &oracle.feeds["pod"];
    // One source: the default quorum is a majority of one.
    assert_eq!(
        (feed.quorum, feed.scheme),
        (1, restake_signer::Scheme::Bn254)
    );
    assert!(matches!(
        feed.sources["beacon"],
        SourceSettings::Beacon {
            value: BeaconValueSetting::PodBalance,
            pod: Some(_)
        }
    ));

    let dump = config.dump();
    assert!(!dump.contains("hunter2"), "{dump}");
    assert!(!dump.contains("secret"), "{dump}");
    assert!(
        dump.contains("[modules.prices.feeds.eth-usd.sources.exchange]"),
        "{dump}"
    );
    let reloaded = load(Some(&dump), &[], &[]).unwrap();
    assert_eq!(reloaded.modules.len(), 2);
}

#[test]
fn every_module_problem_is_reported_at_once() {
    let toml = r#"
[duties]
backoff_base = "10s"
backoff_max = "1s"

[modules.Bad_Id]
kind = "oracle"

[modules.nokind]
enabled = true

[modules.weird]
kind = "bridge"

[modules.prices]
kind = "oracle"

[modules.prices.feeds.eth-usd]
quorum = 4
heartbeat = "5s"
interval = "30s"
deviation_bps = 0
key = "0x1234"

[modules.prices.feeds.eth-usd.sources.a]
kind = "http"
url = "ftp://example.org"
pointer = "/data"
urll = "typo"

[modules.prices.feeds.eth-usd.sources.d]
kind = "http"
url = "https://example.org"
pointer = "data"

[modules.prices.feeds.eth-usd.sources.b]
kind = "beacon"
value = "pod_balance"

[modules.prices.feeds.eth-usd.sources.c]
kind = "contract"
address = "0x12"
"#;
    let errors = load(Some(toml), &[], &[]).unwrap_err();
    let lines = issue_lines(&errors).join("\n");
    for expected in [
        "duties.backoff_max",
        "modules.Bad_Id",
        "modules.Bad_Id.feeds: no feed is configured",
        "modules.nokind.kind: missing",
        "modules.weird.kind",
        "modules.prices.feeds.eth-usd.heartbeat",
        "modules.prices.feeds.eth-usd.deviation_bps",
        "modules.prices.feeds.eth-usd.key: a bn254 public key is 64 bytes, this one is 2",
        "modules.prices.feeds.eth-usd.sources.a.url",
        "modules.prices.feeds.eth-usd.sources.d.pointer: \"data\" is not a JSON pointer",
        "modules.prices.feeds.eth-usd.sources.a.urll: unknown key (did you mean `modules.prices.feeds.eth-usd.sources.a.url`?)",
        "modules.prices.feeds.eth-usd.sources.b.pod: pod_balance needs the pod's address",
        "modules.prices.feeds.eth-usd.sources.c.chain_id: missing",
        "modules.prices.feeds.eth-usd.sources.c.address",
    ] {
        assert!(lines.contains(expected), "{expected:?} not in:\n{lines}");
    }
    // Sources already reported as bad do not also make the feed "sourceless" or its quorum
    // "too high".
    assert!(!lines.contains("eth-usd.quorum"), "{lines}");
    assert!(!lines.contains("eth-usd.sources:"), "{lines}");

    let quorum = r#"
[modules.prices]
kind = "oracle"
[modules.prices.feeds.eth-usd]
quorum = 2
[modules.prices.feeds.eth-usd.sources.a]
kind = "beacon"
value = "tracked_balance"
[modules.other]
kind = "oracle"
[modules.other.feeds.eth-usd.sources.a]
kind = "beacon"
value = "tracked_balance"
"#;
    let lines = issue_lines(&load(Some(quorum), &[], &[]).unwrap_err()).join("\n");
    assert!(
        lines.contains("modules.prices.feeds.eth-usd.quorum: 2 exceeds the number of sources (1)"),
        "{lines}"
    );
    assert!(
        lines.contains(
            "modules.prices.feeds.eth-usd: feed \"eth-usd\" is also configured in modules.other"
        ),
        "{lines}"
    );
}
