//! `restaked.v1.PodService`: the latest EigenPod reconciliation of each of the operator's pods.

use std::time::{SystemTime, UNIX_EPOCH};

use restake_api::v1::{self, PodReportRequest, PodReportResponse, pod_service_server::PodService};
use restake_eigenpod::reconcile::{Finding, FindingValidator, OperatorAction, PodSummary};
use restake_types::ExecutionAddress;
use tonic::{Request, Response, Status};

use super::validators::severity;
use crate::pods::{PodOutcome, PodReports};

/// The node's answers to `PodService`.
#[derive(Clone)]
pub struct PodsApi {
    /// The latest reconciliation of each pod; `None` when reconciliation is off (no execution
    /// endpoint or no beacon node).
    pub reports: Option<PodReports>,
}

#[tonic::async_trait]
impl PodService for PodsApi {
    async fn report(
        &self,
        _request: Request<PodReportRequest>,
    ) -> Result<Response<PodReportResponse>, Status> {
        let reports = self.reports.as_ref().ok_or_else(|| {
            Status::failed_precondition(
                "this node reconciles no pods: set execution.rpc_url (and beacon.endpoints, \
                 tracker.pods or eigenpod.owners) in its config",
            )
        })?;
        Ok(Response::new(PodReportResponse {
            pods: reports.snapshot().iter().map(pod_message).collect(),
        }))
    }
}

/// An operator action's name, as in the API (the snake_case of the variant).
fn action_name(action: OperatorAction) -> &'static str {
    match action {
        OperatorAction::VerifyWithdrawalCredentials => "verify_withdrawal_credentials",
        OperatorAction::VerifyWithdrawalCredentialsOnceActive => {
            "verify_withdrawal_credentials_once_active"
        }
        OperatorAction::StartCheckpoint => "start_checkpoint",
        OperatorAction::ProveStaleBalance => "prove_stale_balance",
        OperatorAction::CompleteCheckpoint => "complete_checkpoint",
        OperatorAction::Investigate => "investigate",
    }
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn summary_message(summary: &PodSummary) -> v1::PodSummary {
    v1::PodSummary {
        owner: summary.owner.to_string(),
        block_number: summary.block_number,
        active_in_pod: summary.active_in_pod,
        pointing_on_beacon: summary.pointing_on_beacon as u64,
        pointing_and_active_in_pod: summary.pointing_and_active_in_pod as u64,
        pointing_not_read: summary.pointing_not_read as u64,
        last_checkpoint_timestamp: (summary.last_checkpoint_timestamp != 0)
            .then_some(summary.last_checkpoint_timestamp),
        current_checkpoint_timestamp: summary.current_checkpoint_timestamp,
        balance_gwei: summary.balance.0,
        withdrawable_restaked_gwei: summary.withdrawable_restaked.0,
        unrestaked_gwei: summary.unrestaked.0,
    }
}

fn finding_validator(validator: &FindingValidator) -> v1::FindingValidator {
    v1::FindingValidator {
        index: validator.index.map(|i| i.0),
        pubkey: validator.pubkey.to_string(),
    }
}

/// The action's instruction for this pod: `<pod>` replaced by its address and `<index>` by the
/// finding's first known validator (one stale-balance proof is enough to start a checkpoint).
fn instruction(finding: &Finding, pod: ExecutionAddress) -> String {
    let text = finding
        .action
        .instruction()
        .replace("<pod>", &pod.to_string());
    match finding.validators.iter().find_map(|v| v.index) {
        Some(index) => text.replace("<index>", &index.to_string()),
        None => text,
    }
}

fn finding_message(finding: &Finding, pod: ExecutionAddress) -> v1::PodFinding {
    v1::PodFinding {
        kind: finding.kind.name().to_owned(),
        severity: severity(finding.severity).into(),
        validators: finding.validators.iter().map(finding_validator).collect(),
        action: action_name(finding.action).to_owned(),
        instruction: instruction(finding, pod),
        detail: finding.detail.clone(),
    }
}

fn pod_message(outcome: &PodOutcome) -> v1::PodReport {
    let report = outcome.report.as_ref();
    v1::PodReport {
        address: outcome.pod.to_string(),
        read_at_unix_seconds: unix_seconds(outcome.at),
        error: outcome.error.clone().unwrap_or_default(),
        summary: report.map(|r| summary_message(&r.summary)),
        findings: report
            .map(|r| {
                r.findings
                    .iter()
                    .map(|f| finding_message(f, outcome.pod))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use restake_beacon::tracker::Severity;
    use restake_eigenpod::reconcile::{FindingKind, PodReport};
    use restake_types::{BlsPublicKey, Gwei, ValidatorIndex};

    use super::*;

    fn pod() -> ExecutionAddress {
        ExecutionAddress::new([0xee; 20])
    }

    fn report() -> PodReport {
        PodReport {
            summary: PodSummary {
                pod: pod(),
                owner: ExecutionAddress::new([0x11; 20]),
                block_number: 1_234,
                active_in_pod: 2,
                pointing_on_beacon: 3,
                pointing_and_active_in_pod: 2,
                pointing_not_read: 1,
                last_checkpoint_timestamp: 1_700_000_000,
                current_checkpoint_timestamp: None,
                balance: Gwei(2_500_000_000),
                withdrawable_restaked: Gwei(500_000_000),
                unrestaked: Gwei(2_000_000_000),
            },
            findings: vec![Finding {
                kind: FindingKind::StaleAfterSlashing,
                severity: Severity::Critical,
                validators: vec![
                    FindingValidator {
                        index: Some(ValidatorIndex(12)),
                        pubkey: BlsPublicKey::new([0x0c; 48]),
                    },
                    FindingValidator {
                        index: None,
                        pubkey: BlsPublicKey::new([0x0d; 48]),
                    },
                ],
                action: OperatorAction::ProveStaleBalance,
                detail: "validator 12 was slashed at slot 640".to_owned(),
            }],
        }
    }

    #[test]
    fn a_read_pod_carries_its_summary_and_findings() {
        let outcome = PodOutcome {
            pod: pod(),
            at: UNIX_EPOCH + Duration::from_secs(1_700_000_100),
            report: Some(report()),
            error: None,
        };
        let m = pod_message(&outcome);
        assert_eq!(m.address, format!("0x{}", "ee".repeat(20)));
        assert_eq!(m.read_at_unix_seconds, 1_700_000_100);
        assert_eq!(m.error, "");
        let s = m.summary.unwrap();
        assert_eq!(s.owner, format!("0x{}", "11".repeat(20)));
        assert_eq!(s.block_number, 1_234);
        assert_eq!(
            (
                s.active_in_pod,
                s.pointing_on_beacon,
                s.pointing_and_active_in_pod,
                s.pointing_not_read
            ),
            (2, 3, 2, 1)
        );
        assert_eq!(s.last_checkpoint_timestamp, Some(1_700_000_000));
        assert_eq!(s.current_checkpoint_timestamp, None);
        assert_eq!(
            (
                s.balance_gwei,
                s.withdrawable_restaked_gwei,
                s.unrestaked_gwei
            ),
            (2_500_000_000, 500_000_000, 2_000_000_000)
        );
        let [f] = &m.findings[..] else {
            panic!("{:?}", m.findings)
        };
        assert_eq!(f.kind, "stale_after_slashing");
        assert_eq!(f.severity(), v1::Severity::Critical);
        assert_eq!(f.action, "prove_stale_balance");
        assert_eq!(
            f.instruction,
            format!(
                "start a checkpoint by proving the stale balance (verifyStaleBalance; anyone can) \
                 (`restakectl proofs stale-balance --pod 0x{} --validators 12 --calldata`)",
                "ee".repeat(20)
            )
        );
        assert_eq!(f.detail, "validator 12 was slashed at slot 640");
        assert_eq!(f.validators[0].index, Some(12));
        assert_eq!(f.validators[0].pubkey, format!("0x{}", "0c".repeat(48)));
        assert_eq!(f.validators[1].index, None);
    }

    #[test]
    fn a_pod_that_never_checkpointed_leaves_the_timestamp_unset() {
        let mut report = report();
        report.summary.last_checkpoint_timestamp = 0;
        report.summary.current_checkpoint_timestamp = Some(1_700_000_050);
        let s = summary_message(&report.summary);
        assert_eq!(s.last_checkpoint_timestamp, None);
        assert_eq!(s.current_checkpoint_timestamp, Some(1_700_000_050));
    }

    #[test]
    fn a_failed_read_carries_the_error_and_no_summary() {
        let outcome = PodOutcome {
            pod: pod(),
            at: UNIX_EPOCH + Duration::from_secs(5),
            report: None,
            error: Some("connection refused".to_owned()),
        };
        let m = pod_message(&outcome);
        assert_eq!(m.error, "connection refused");
        assert_eq!(m.read_at_unix_seconds, 5);
        assert!(m.summary.is_none());
        assert!(m.findings.is_empty());
    }

    #[test]
    fn action_names_match_the_reports_serialized_names() {
        for action in [
            OperatorAction::VerifyWithdrawalCredentials,
            OperatorAction::VerifyWithdrawalCredentialsOnceActive,
            OperatorAction::StartCheckpoint,
            OperatorAction::ProveStaleBalance,
            OperatorAction::CompleteCheckpoint,
            OperatorAction::Investigate,
        ] {
            assert_eq!(
                serde_json::to_value(action).unwrap(),
                serde_json::Value::from(action_name(action))
            );
        }
    }

    #[tokio::test]
    async fn without_reconciliation_every_call_names_the_missing_settings() {
        let api = PodsApi { reports: None };
        let status = api
            .report(Request::new(PodReportRequest {}))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert!(
            status.message().contains("set execution.rpc_url"),
            "{status:?}"
        );
    }
}
