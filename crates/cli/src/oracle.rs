//! `restakectl oracle feeds|reports|watch`: the signed reports of the node's oracle modules,
//! each signature checked here, with the oracle module's own verification, against the digest
//! rebuilt from the report's fields.

use std::io::Write;

use clap::Subcommand;
use restake_api::v1::{
    self, ListFeedsRequest, ListReportsRequest, WatchReportsRequest,
    oracle_service_client::OracleServiceClient,
};
use restake_duties::oracle::{Report, SignedReport};
use restake_signer::Scheme;
use serde::Serialize;
use serde_json::json;

use crate::{Authed, Cli, CliError, json_line, table, validators::short};

#[derive(Debug, Subcommand)]
pub(crate) enum OracleCommand {
    /// Every feed with its latest signed report.
    Feeds,
    /// A feed's signed reports, newest first.
    Reports {
        /// The feed id.
        feed: String,
        /// How many reports (1 to 1000).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Print each report as it is signed, until Ctrl-C.
    Watch {
        /// Only this feed's reports.
        feed: Option<String>,
    },
}

/// A report as printed by `--json`: the node's fields, bytes as 0x-hex, and whether the
/// signature verified here.
#[derive(Debug, Serialize)]
struct ReportJson {
    feed: String,
    round: u64,
    value: String,
    raw_value: String,
    decimals: u32,
    observed_at_unix_seconds: u64,
    sources: Vec<String>,
    scheme: String,
    public_key: String,
    public_key_g2: Option<String>,
    digest: String,
    signature: String,
    verified: bool,
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Whether the report is what its key signed: the signature verifies over the digest rebuilt
/// here from the report's fields, and the node's `digest` and `value` text agree with them.
fn verified(m: &v1::SignedReport) -> bool {
    let (Ok(value), Ok(decimals), Some(scheme)) = (
        m.raw_value.parse::<i128>(),
        u8::try_from(m.decimals),
        Scheme::from_name(&m.scheme),
    ) else {
        return false;
    };
    let signed = SignedReport {
        report: Report {
            feed: m.feed.clone(),
            round: m.round,
            value,
            decimals,
            observed_at: m.observed_at_unix_seconds,
            sources: m.sources.clone(),
        },
        scheme,
        public_key: m.public_key.clone(),
        public_key_g2: (!m.public_key_g2.is_empty()).then(|| m.public_key_g2.clone()),
        signature: m.signature.clone(),
    };
    signed.report.digest()[..] == m.digest[..]
        && signed.report.value_text() == m.value
        && signed.verify()
}

impl From<v1::SignedReport> for ReportJson {
    fn from(m: v1::SignedReport) -> Self {
        let verified = verified(&m);
        Self {
            verified,
            public_key: hex0x(&m.public_key),
            public_key_g2: (!m.public_key_g2.is_empty()).then(|| hex0x(&m.public_key_g2)),
            digest: hex0x(&m.digest),
            signature: hex0x(&m.signature),
            feed: m.feed,
            round: m.round,
            value: m.value,
            raw_value: m.raw_value,
            decimals: m.decimals,
            observed_at_unix_seconds: m.observed_at_unix_seconds,
            sources: m.sources,
            scheme: m.scheme,
        }
    }
}

/// A feed as printed by `--json`.
#[derive(Debug, Serialize)]
struct FeedJson {
    id: String,
    latest: Option<ReportJson>,
}

fn verified_text(verified: bool) -> String {
    if verified { "yes" } else { "NO" }.to_owned()
}

fn feeds_table(feeds: &[FeedJson]) -> String {
    if feeds.is_empty() {
        return "the oracle modules have no feeds\n".to_owned();
    }
    let rows: Vec<Vec<String>> = feeds
        .iter()
        .map(|f| match &f.latest {
            Some(r) => vec![
                f.id.clone(),
                r.round.to_string(),
                r.value.clone(),
                table::time_text(r.observed_at_unix_seconds),
                r.sources.join(","),
                verified_text(r.verified),
            ],
            None => vec![
                f.id.clone(),
                "-".to_owned(),
                "no report yet".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
            ],
        })
        .collect();
    table::render(
        &["FEED", "ROUND", "VALUE", "OBSERVED", "SOURCES", "VERIFIED"],
        &rows,
    )
}

fn reports_table(feed: &str, reports: &[ReportJson]) -> String {
    if reports.is_empty() {
        return format!("feed {feed} has no signed report yet\n");
    }
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.round.to_string(),
                r.value.clone(),
                table::time_text(r.observed_at_unix_seconds),
                r.sources.join(","),
                short(&r.signature),
                verified_text(r.verified),
            ]
        })
        .collect();
    table::render(
        &[
            "ROUND",
            "VALUE",
            "OBSERVED",
            "SOURCES",
            "SIGNATURE",
            "VERIFIED",
        ],
        &rows,
    )
}

/// One streamed report: a line for people, or a JSON object on one line.
fn report_line(report: &ReportJson, as_json: bool) -> String {
    if as_json {
        // A struct of strings, numbers and booleans always serializes.
        let value =
            serde_json::to_value(report).unwrap_or_else(|e| json!({ "error": e.to_string() }));
        format!("{value}\n")
    } else {
        format!(
            "{} round {}: {} observed {} from {}; {} signature {} {}\n",
            report.feed,
            report.round,
            report.value,
            table::time_text(report.observed_at_unix_seconds),
            report.sources.join(","),
            report.scheme,
            short(&report.signature),
            if report.verified {
                "verified"
            } else {
                "DOES NOT VERIFY"
            }
        )
    }
}

/// Runs an `oracle` subcommand. `watch` writes each report to `out` as it arrives and returns
/// an empty string.
pub(crate) async fn execute(
    cli: &Cli,
    mut client: OracleServiceClient<Authed>,
    command: &OracleCommand,
    out: &mut dyn Write,
) -> Result<String, CliError> {
    let rpc = |status| CliError::from_status(&cli.endpoint, status);
    match command {
        OracleCommand::Feeds => {
            let feeds: Vec<FeedJson> = client
                .list_feeds(ListFeedsRequest {})
                .await
                .map_err(rpc)?
                .into_inner()
                .feeds
                .into_iter()
                .map(|f| FeedJson {
                    id: f.id,
                    latest: f.latest.map(ReportJson::from),
                })
                .collect();
            Ok(if cli.json {
                json_line(&json!({ "feeds": feeds }))
            } else {
                feeds_table(&feeds)
            })
        }
        OracleCommand::Reports { feed, limit } => {
            let reports: Vec<ReportJson> = client
                .list_reports(ListReportsRequest {
                    feed: feed.clone(),
                    limit: *limit,
                })
                .await
                .map_err(rpc)?
                .into_inner()
                .reports
                .into_iter()
                .map(ReportJson::from)
                .collect();
            Ok(if cli.json {
                json_line(&json!({ "reports": reports }))
            } else {
                reports_table(feed, &reports)
            })
        }
        OracleCommand::Watch { feed } => {
            let stream = client
                .watch_reports(WatchReportsRequest {
                    feed: feed.clone().unwrap_or_default(),
                })
                .await
                .map_err(rpc)?
                .into_inner();
            crate::follow(cli, stream, out, |report| {
                Some(report_line(&ReportJson::from(report), cli.json))
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use prometheus::Registry;
    use restake_signer::{
        KeyId, Keyring, ProtectedSigner, SecretBytes, SigningRequest, protection::ProtectionDb,
    };

    use super::*;

    fn report(round: u64) -> Report {
        Report {
            feed: "eth-usd".to_owned(),
            round,
            value: 341_255_120_000,
            decimals: 8,
            observed_at: 1_700_000_000,
            sources: vec!["binance".to_owned(), "coinbase".to_owned()],
        }
    }

    /// The node's message for `signed`, as `grpc/oracle.rs` builds it.
    fn message(signed: &SignedReport) -> v1::SignedReport {
        let r = &signed.report;
        v1::SignedReport {
            feed: r.feed.clone(),
            round: r.round,
            value: r.value_text(),
            raw_value: r.value.to_string(),
            decimals: u32::from(r.decimals),
            observed_at_unix_seconds: r.observed_at,
            sources: r.sources.clone(),
            scheme: signed.scheme.as_str().to_owned(),
            public_key: signed.public_key.clone(),
            public_key_g2: signed.public_key_g2.clone().unwrap_or_default(),
            digest: r.digest().to_vec(),
            signature: signed.signature.clone(),
        }
    }

    /// Reports 1 and 2 signed by a real protected signer: one with a BLS12-381 key, one with
    /// a BN254 key.
    fn signed_reports() -> Vec<SignedReport> {
        let dir = tempfile::tempdir().unwrap();
        let db =
            ProtectionDb::open(&dir.path().join("protection.db"), Duration::from_secs(1)).unwrap();
        let mut keyring = Keyring::default();
        let mut secret = [0x42; 32];
        secret[0] = 0x01;
        let bls = keyring
            .add_bls(&SecretBytes::new(secret), None, "test")
            .unwrap();
        let mut secret = [0u8; 32];
        secret[31] = 0x2a;
        let bn254 = keyring
            .add_bn254(&SecretBytes::new(secret), "test")
            .unwrap();
        let signer = ProtectedSigner::start(db, keyring, &Registry::new()).unwrap();
        let g2 = signer
            .keys()
            .into_iter()
            .find_map(|k| k.bn254)
            .unwrap()
            .g2
            .to_bytes()
            .to_vec();
        let sign = |key: &KeyId, report: Report| {
            let signature = signer
                .sign_blocking(SigningRequest {
                    key: key.clone(),
                    domain: format!("oracle/{}", report.feed),
                    conflict_key: report.round.to_be_bytes().to_vec(),
                    ordering: Some(report.round),
                    message: report.digest().to_vec(),
                })
                .unwrap()
                .signature;
            (report, signature)
        };
        let (first, bls_signature) = sign(&bls, report(1));
        let (second, bn254_signature) = sign(&bn254, report(2));
        vec![
            SignedReport {
                report: first,
                scheme: Scheme::Bls12381,
                public_key: bls.public_key.clone(),
                public_key_g2: None,
                signature: bls_signature,
            },
            SignedReport {
                report: second,
                scheme: Scheme::Bn254,
                public_key: bn254.public_key.clone(),
                public_key_g2: Some(g2),
                signature: bn254_signature,
            },
        ]
    }

    #[test]
    fn signatures_verify_here_and_any_tampering_fails_them() {
        for signed in signed_reports() {
            assert!(signed.verify(), "the oracle's own check: {signed:?}");
            let good = message(&signed);
            assert!(verified(&good), "{good:?}");
            let tampered = [
                v1::SignedReport {
                    raw_value: "341255120001".to_owned(),
                    value: "3412.55120001".to_owned(),
                    ..good.clone()
                },
                v1::SignedReport {
                    value: "9999.0".to_owned(),
                    ..good.clone()
                },
                v1::SignedReport {
                    round: good.round + 1,
                    ..good.clone()
                },
                v1::SignedReport {
                    sources: vec!["binance".to_owned()],
                    ..good.clone()
                },
                v1::SignedReport {
                    digest: vec![0; 32],
                    ..good.clone()
                },
                v1::SignedReport {
                    scheme: "rsa".to_owned(),
                    ..good.clone()
                },
                v1::SignedReport {
                    raw_value: "not a number".to_owned(),
                    ..good.clone()
                },
            ];
            for bad in tampered {
                assert!(!verified(&bad), "{bad:?}");
            }
        }
    }

    #[test]
    fn reports_print_as_a_table_with_the_check() {
        let mut reports: Vec<ReportJson> = signed_reports()
            .iter()
            .map(|s| ReportJson::from(message(s)))
            .collect();
        reports[1].verified = false;
        let table = reports_table("eth-usd", &reports);
        let signature = |r: &ReportJson| short(&r.signature);
        assert_eq!(
            table,
            format!(
                "ROUND  VALUE          OBSERVED              SOURCES           SIGNATURE    VERIFIED\n\
                 1      3412.55120000  2023-11-14T22:13:20Z  binance,coinbase  {}  yes\n\
                 2      3412.55120000  2023-11-14T22:13:20Z  binance,coinbase  {}  NO\n",
                signature(&reports[0]),
                signature(&reports[1])
            )
        );
        assert_eq!(
            reports_table("eth-usd", &[]),
            "feed eth-usd has no signed report yet\n"
        );
    }

    #[test]
    fn feeds_without_a_report_say_so() {
        let signed = &signed_reports()[0];
        let feeds = [
            FeedJson {
                id: "btc-usd".to_owned(),
                latest: None,
            },
            FeedJson {
                id: "eth-usd".to_owned(),
                latest: Some(ReportJson::from(message(signed))),
            },
        ];
        assert_eq!(
            feeds_table(&feeds),
            "FEED     ROUND  VALUE          OBSERVED              SOURCES           VERIFIED\n\
             btc-usd  -      no report yet  -                     -                 -\n\
             eth-usd  1      3412.55120000  2023-11-14T22:13:20Z  binance,coinbase  yes\n"
        );
    }

    #[test]
    fn watched_reports_print_as_lines_and_json_lines() {
        let signed = &signed_reports()[1];
        let report = ReportJson::from(message(signed));
        assert_eq!(
            report_line(&report, false),
            format!(
                "eth-usd round 2: 3412.55120000 observed 2023-11-14T22:13:20Z from \
                 binance,coinbase; bn254 signature {} verified\n",
                short(&report.signature)
            )
        );
        let line = report_line(&report, true);
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["round"], 2);
        assert_eq!(json["value"], "3412.55120000");
        assert_eq!(json["raw_value"], "341255120000");
        assert_eq!(json["scheme"], "bn254");
        assert_eq!(json["verified"], true);
        assert_eq!(json["digest"], hex0x(&signed.report.digest()));
        assert_eq!(
            json["public_key_g2"],
            hex0x(signed.public_key_g2.as_deref().unwrap())
        );
        let bls = ReportJson::from(message(&signed_reports()[0]));
        assert_eq!(
            serde_json::to_value(&bls).unwrap()["public_key_g2"],
            serde_json::Value::Null
        );
    }
}
