//! `restakectl pods report`: the latest EigenPod reconciliation of each of the operator's pods.

use clap::Subcommand;
use restake_api::v1::{self, PodReportRequest, pod_service_client::PodServiceClient};
use serde::Serialize;
use serde_json::json;

use crate::{
    Authed, Cli, CliError, json_line, table,
    validators::{eth, severity_name, short},
};

#[derive(Debug, Subcommand)]
pub(crate) enum PodsCommand {
    /// Each pod at a glance and what disagrees with the beacon chain, with the action to take.
    Report,
}

/// A pod's reconciliation as printed by `--json`.
#[derive(Debug, Serialize)]
struct PodJson {
    address: String,
    read_at_unix_seconds: u64,
    error: Option<String>,
    summary: Option<SummaryJson>,
    findings: Vec<FindingJson>,
}

/// A pod's summary as printed by `--json`.
#[derive(Debug, Serialize)]
struct SummaryJson {
    owner: String,
    block_number: u64,
    active_in_pod: u64,
    pointing_on_beacon: u64,
    pointing_and_active_in_pod: u64,
    pointing_not_read: u64,
    last_checkpoint_timestamp: Option<u64>,
    current_checkpoint_timestamp: Option<u64>,
    balance_gwei: u64,
    withdrawable_restaked_gwei: u64,
    unrestaked_gwei: u64,
}

/// A finding as printed by `--json`.
#[derive(Debug, Serialize)]
struct FindingJson {
    kind: String,
    severity: &'static str,
    validators: Vec<FindingValidatorJson>,
    action: String,
    instruction: String,
    detail: String,
}

/// A validator of a finding as printed by `--json`.
#[derive(Debug, Serialize)]
struct FindingValidatorJson {
    index: Option<u64>,
    pubkey: String,
}

impl From<v1::PodSummary> for SummaryJson {
    fn from(s: v1::PodSummary) -> Self {
        Self {
            owner: s.owner,
            block_number: s.block_number,
            active_in_pod: s.active_in_pod,
            pointing_on_beacon: s.pointing_on_beacon,
            pointing_and_active_in_pod: s.pointing_and_active_in_pod,
            pointing_not_read: s.pointing_not_read,
            last_checkpoint_timestamp: s.last_checkpoint_timestamp,
            current_checkpoint_timestamp: s.current_checkpoint_timestamp,
            balance_gwei: s.balance_gwei,
            withdrawable_restaked_gwei: s.withdrawable_restaked_gwei,
            unrestaked_gwei: s.unrestaked_gwei,
        }
    }
}

impl From<v1::PodFinding> for FindingJson {
    fn from(f: v1::PodFinding) -> Self {
        Self {
            severity: severity_name(f.severity),
            validators: f
                .validators
                .into_iter()
                .map(|v| FindingValidatorJson {
                    index: v.index,
                    pubkey: v.pubkey,
                })
                .collect(),
            kind: f.kind,
            action: f.action,
            instruction: f.instruction,
            detail: f.detail,
        }
    }
}

impl From<v1::PodReport> for PodJson {
    fn from(p: v1::PodReport) -> Self {
        Self {
            address: p.address,
            read_at_unix_seconds: p.read_at_unix_seconds,
            error: (!p.error.is_empty()).then_some(p.error),
            summary: p.summary.map(SummaryJson::from),
            findings: p.findings.into_iter().map(FindingJson::from).collect(),
        }
    }
}

/// The validators of a finding: indices, or a short public key when the index is unknown.
fn validators_text(validators: &[FindingValidatorJson]) -> String {
    if validators.is_empty() {
        return "whole pod".to_owned();
    }
    let names: Vec<String> = validators
        .iter()
        .map(|v| v.index.map_or_else(|| short(&v.pubkey), |i| i.to_string()))
        .collect();
    format!("validators {}", names.join(", "))
}

/// The pod's header line, from its summary.
fn summary_line(address: &str, s: &SummaryJson) -> String {
    let not_read = if s.pointing_not_read > 0 {
        format!(" ({} not read)", s.pointing_not_read)
    } else {
        String::new()
    };
    let last = s
        .last_checkpoint_timestamp
        .map_or_else(|| "never".to_owned(), table::time_text);
    let current = s
        .current_checkpoint_timestamp
        .map(|t| format!("; checkpoint in progress since {}", table::time_text(t)))
        .unwrap_or_default();
    format!(
        "pod {address} (owner {}) at block {}: {} active in pod, {} pointing on beacon{not_read}; \
         {} ETH unrestaked; last checkpoint {last}{current}\n",
        s.owner,
        s.block_number,
        s.active_in_pod,
        s.pointing_on_beacon,
        eth(s.unrestaked_gwei),
    )
}

/// Every pod: a header line, then one line per finding (or "no findings"), or the read error.
fn report_text(pods: &[PodJson]) -> String {
    if pods.is_empty() {
        return "no pod reconciled yet: the first reconciliation runs once the beacon node and \
                the execution endpoint answer\n"
            .to_owned();
    }
    let mut out = String::new();
    for (i, pod) in pods.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match (&pod.error, &pod.summary) {
            (None, Some(summary)) => out.push_str(&summary_line(&pod.address, summary)),
            (error, _) => {
                let error = error.as_deref().unwrap_or("the node holds no report");
                out.push_str(&format!(
                    "pod {}: the last read failed at {}: {error}\n",
                    pod.address,
                    table::time_text(pod.read_at_unix_seconds)
                ));
                continue;
            }
        }
        if pod.findings.is_empty() {
            out.push_str("  no findings\n");
        }
        for f in &pod.findings {
            out.push_str(&format!(
                "  {:<8}  {}  {}: {}\n",
                f.severity.to_uppercase(),
                f.kind,
                validators_text(&f.validators),
                f.instruction
            ));
        }
    }
    out
}

/// Runs a `pods` subcommand.
pub(crate) async fn execute(
    cli: &Cli,
    mut client: PodServiceClient<Authed>,
    command: &PodsCommand,
) -> Result<String, CliError> {
    match command {
        PodsCommand::Report => {
            let pods: Vec<PodJson> = client
                .report(PodReportRequest {})
                .await
                .map_err(|status| CliError::from_status(&cli.endpoint, status))?
                .into_inner()
                .pods
                .into_iter()
                .map(PodJson::from)
                .collect();
            Ok(if cli.json {
                json_line(&json!({ "pods": pods }))
            } else {
                report_text(&pods)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_address() -> String {
        format!("0x{}", "ee".repeat(20))
    }

    fn summary() -> v1::PodSummary {
        v1::PodSummary {
            owner: format!("0x{}", "11".repeat(20)),
            block_number: 1_234,
            active_in_pod: 2,
            pointing_on_beacon: 3,
            pointing_and_active_in_pod: 2,
            pointing_not_read: 0,
            last_checkpoint_timestamp: Some(1_700_000_000),
            current_checkpoint_timestamp: None,
            balance_gwei: 2_500_000_000,
            withdrawable_restaked_gwei: 500_000_000,
            unrestaked_gwei: 2_000_000_000,
        }
    }

    fn finding() -> v1::PodFinding {
        v1::PodFinding {
            kind: "stale_after_slashing".to_owned(),
            severity: v1::Severity::Critical.into(),
            validators: vec![
                v1::FindingValidator {
                    index: Some(12),
                    pubkey: format!("0x{}", "0c".repeat(48)),
                },
                v1::FindingValidator {
                    index: None,
                    pubkey: format!("0x{}", "0d".repeat(48)),
                },
            ],
            action: "prove_stale_balance".to_owned(),
            instruction: "start a checkpoint by proving the stale balance".to_owned(),
            detail: "validator 12 was slashed".to_owned(),
        }
    }

    fn report(findings: Vec<v1::PodFinding>) -> v1::PodReport {
        v1::PodReport {
            address: pod_address(),
            read_at_unix_seconds: 1_700_000_100,
            error: String::new(),
            summary: Some(summary()),
            findings,
        }
    }

    #[test]
    fn a_pod_prints_a_header_then_one_line_per_finding() {
        let unrestaked = v1::PodFinding {
            kind: "unrestaked_pod_balance".to_owned(),
            severity: v1::Severity::Warning.into(),
            validators: Vec::new(),
            action: "start_checkpoint".to_owned(),
            instruction: "start a checkpoint (startCheckpoint) and submit its proofs".to_owned(),
            detail: String::new(),
        };
        let text = report_text(&[PodJson::from(report(vec![finding(), unrestaked]))]);
        assert_eq!(
            text,
            format!(
                "pod {} (owner 0x{}) at block 1234: 2 active in pod, 3 pointing on beacon; 2.0 ETH \
                 unrestaked; last checkpoint 2023-11-14T22:13:20Z\n\
                 \x20 CRITICAL  stale_after_slashing  validators 12, 0x0d0d…0d0d: start a checkpoint \
                 by proving the stale balance\n\
                 \x20 WARNING   unrestaked_pod_balance  whole pod: start a checkpoint (startCheckpoint) \
                 and submit its proofs\n",
                pod_address(),
                "11".repeat(20)
            )
        );
    }

    #[test]
    fn a_clean_pod_says_so_and_shows_a_checkpoint_in_progress() {
        let mut clean = report(Vec::new());
        if let Some(s) = clean.summary.as_mut() {
            s.last_checkpoint_timestamp = None;
            s.current_checkpoint_timestamp = Some(1_700_000_000);
            s.pointing_not_read = 1;
        }
        let text = report_text(&[PodJson::from(clean)]);
        assert!(text.contains("3 pointing on beacon (1 not read)"), "{text}");
        assert!(
            text.contains(
                "last checkpoint never; checkpoint in progress since 2023-11-14T22:13:20Z\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("\n  no findings\n"), "{text}");
    }

    #[test]
    fn a_failed_read_prints_the_error_and_pods_are_separated_by_a_blank_line() {
        let failed = v1::PodReport {
            address: pod_address(),
            read_at_unix_seconds: 1_700_000_000,
            error: "connection refused".to_owned(),
            summary: None,
            findings: Vec::new(),
        };
        let text = report_text(&[PodJson::from(report(Vec::new())), PodJson::from(failed)]);
        assert!(
            text.ends_with(&format!(
                "  no findings\n\npod {}: the last read failed at 2023-11-14T22:13:20Z: connection refused\n",
                pod_address()
            )),
            "{text}"
        );
    }

    #[test]
    fn no_pod_yet_says_the_first_reconciliation_is_pending() {
        assert!(report_text(&[]).starts_with("no pod reconciled yet"));
    }

    #[test]
    fn pod_json_uses_null_for_unset_fields_and_names_for_enums() {
        let json = serde_json::to_value(PodJson::from(report(vec![finding()]))).unwrap();
        assert_eq!(json["address"], pod_address());
        assert_eq!(json["error"], serde_json::Value::Null);
        assert_eq!(json["summary"]["unrestaked_gwei"], 2_000_000_000u64);
        assert_eq!(
            json["summary"]["current_checkpoint_timestamp"],
            serde_json::Value::Null
        );
        let f = &json["findings"][0];
        assert_eq!(f["severity"], "critical");
        assert_eq!(f["action"], "prove_stale_balance");
        assert_eq!(f["validators"][0]["index"], 12);
        assert_eq!(f["validators"][1]["index"], serde_json::Value::Null);

        let failed = v1::PodReport {
            error: "timeout".to_owned(),
            summary: None,
            ..report(Vec::new())
        };
        let json = serde_json::to_value(PodJson::from(failed)).unwrap();
        assert_eq!(json["error"], "timeout");
        assert_eq!(json["summary"], serde_json::Value::Null);
    }
}
