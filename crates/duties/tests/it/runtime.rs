//! Supervision, backoff, enable/disable/restart and shutdown.

use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use restake_duties::{Backoff, ModuleState, RuntimeError};

use crate::support::{Behaviour, Harness, id, status, wait_until};

#[tokio::test]
async fn panicking_module_is_restarted_while_healthy_module_keeps_producing_duties() {
    let harness = Harness::small_backoff();
    let panics = harness.add("panicker", Behaviour::Panic, true);
    harness.add("healthy", Behaviour::Healthy, true);
    let mut rx = harness.runtime.subscribe();
    harness.start();

    let first = wait_until(&mut rx, |s| {
        status(s, "panicker").restarts >= 2 && status(s, "healthy").last_duty.is_some()
    })
    .await;
    let panicker = status(&first, "panicker");
    assert_eq!(
        panicker.last_error.as_deref(),
        Some("panicked: boom"),
        "{panicker:?}"
    );
    assert!(panics.load(Ordering::SeqCst) >= 2);

    // The healthy module goes on recording duties while the other one keeps panicking.
    let seen = status(&first, "healthy").last_duty;
    let later = wait_until(&mut rx, |s| {
        status(s, "panicker").restarts >= 4 && status(s, "healthy").last_duty > seen
    })
    .await;
    assert_eq!(status(&later, "healthy").state, ModuleState::Running);
    assert_eq!(status(&later, "healthy").restarts, 0);
    assert_eq!(
        harness.metric("restaked_module_restarts_total", &[("module", "healthy")]),
        Some(0.0),
        "every module's restart counter is exported from zero"
    );
    assert!(
        harness
            .metric(
                "restaked_module_duty_duration_seconds_count",
                &[("module", "healthy")]
            )
            .unwrap()
            >= 2.0
    );
    assert!(
        harness
            .metric("restaked_module_restarts_total", &[("module", "panicker")])
            .unwrap()
            >= 4.0
    );
    assert!(
        harness
            .runtime
            .shutdown(Duration::from_secs(5))
            .await
            .not_stopped
            .is_empty()
    );
}

#[tokio::test]
async fn failing_module_is_failed_between_runs_with_growing_backoff() {
    let base = Duration::from_millis(20);
    let harness = Harness::new(Backoff {
        base,
        max: Duration::from_secs(2),
    });
    let runs = harness.add("failing", Behaviour::Fail, true);
    let mut rx = harness.runtime.subscribe();
    let started = Instant::now();
    harness.start();

    let mut saw_failed = false;
    let last = wait_until(&mut rx, |s| {
        let failing = status(s, "failing");
        saw_failed |= failing.state == ModuleState::Failed;
        failing.restarts >= 4
    })
    .await;
    // Delays before the 2nd, 3rd and 4th runs: at least half of 20, 40 and 80 ms.
    assert!(started.elapsed() >= (base + base * 2 + base * 4) / 2);
    assert!(saw_failed);
    let failing = status(&last, "failing");
    assert_eq!(failing.last_error.as_deref(), Some("endpoint unreachable"));
    assert!(runs.load(Ordering::SeqCst) >= 4);
    // The module's own metric survives its restarts and carries its label.
    assert!(
        harness
            .metric("restaked_test_runs_total", &[("module", "failing")])
            .unwrap()
            >= 4.0
    );
    assert!(
        harness
            .metric("restaked_module_restarts_total", &[("module", "failing")])
            .unwrap()
            >= 4.0
    );
    // The state gauge is 1 for exactly one state.
    let ones: f64 = ModuleState::ALL
        .iter()
        .filter_map(|state| {
            harness.metric(
                "restaked_module_state",
                &[("module", "failing"), ("state", state.as_str())],
            )
        })
        .sum();
    assert_eq!(ones, 1.0);
    harness.runtime.shutdown(Duration::from_secs(5)).await;
}

#[test]
fn backoff_delay_doubles_with_jitter_and_is_capped() {
    let backoff = Backoff {
        base: Duration::from_secs(1),
        max: Duration::from_secs(300),
    };
    for failures in 1..=12 {
        let full = (Duration::from_secs(1) * 2u32.pow(failures - 1)).min(backoff.max);
        let delay = backoff.delay(failures);
        assert!(delay >= full / 2 && delay <= full, "{failures}: {delay:?}");
    }
    assert!(backoff.delay(u32::MAX) <= backoff.max);
}

#[tokio::test]
async fn shutdown_aborts_hanging_module_within_deadline_and_reports_it() {
    let harness = Harness::small_backoff();
    harness.add("hanging", Behaviour::Hang, true);
    harness.add("healthy", Behaviour::Healthy, true);
    let mut rx = harness.runtime.subscribe();
    harness.start();
    wait_until(&mut rx, |s| status(s, "healthy").last_duty.is_some()).await;

    let report = tokio::time::timeout(
        Duration::from_secs(10),
        harness.runtime.shutdown(Duration::from_millis(100)),
    )
    .await
    .expect("shutdown returns once its deadline has passed");
    assert_eq!(report.not_stopped, vec![id("hanging")]);
    let statuses = harness.runtime.statuses();
    assert_eq!(status(&statuses, "healthy").state, ModuleState::Stopped);
    assert_eq!(status(&statuses, "hanging").state, ModuleState::Stopped);
    assert!(status(&statuses, "hanging").last_error.is_some());
    // Every task spawned on the tracker has ended (the hanging one was aborted).
    harness.tracker.close();
    tokio::time::timeout(Duration::from_secs(10), harness.tracker.wait())
        .await
        .unwrap();
}

#[tokio::test]
async fn modules_are_enabled_disabled_and_restarted_at_run_time() {
    let harness = Harness::small_backoff();
    let runs = harness.add("healthy", Behaviour::Healthy, false);
    let mut rx = harness.runtime.subscribe();
    harness.start();
    assert_eq!(
        status(&harness.runtime.statuses(), "healthy").state,
        ModuleState::Disabled
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    harness.runtime.enable(&id("healthy")).unwrap();
    wait_until(&mut rx, |s| status(s, "healthy").last_duty.is_some()).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    harness.runtime.disable(&id("healthy")).await.unwrap();
    let disabled = status(&harness.runtime.statuses(), "healthy").clone();
    assert_eq!(disabled.state, ModuleState::Disabled);
    assert!(!disabled.enabled);

    harness.runtime.enable(&id("healthy")).unwrap();
    wait_until(&mut rx, |s| {
        status(s, "healthy").last_duty > disabled.last_duty
    })
    .await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    harness.runtime.restart(&id("healthy")).await.unwrap();
    let before = status(&harness.runtime.statuses(), "healthy").last_duty;
    wait_until(&mut rx, |s| status(s, "healthy").last_duty > before).await;
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(status(&harness.runtime.statuses(), "healthy").restarts, 0);

    assert!(matches!(
        harness.runtime.disable(&id("missing")).await,
        Err(RuntimeError::Unknown(_))
    ));
    harness.runtime.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn disabling_a_hanging_module_aborts_it_after_the_deadline() {
    let harness = Harness::small_backoff();
    harness.add("hanging", Behaviour::Hang, true);
    let mut rx = harness.runtime.subscribe();
    harness.start();
    wait_until(&mut rx, |s| {
        status(s, "hanging").state == ModuleState::Running
    })
    .await;

    let result = harness.runtime.disable(&id("hanging")).await;
    assert!(
        matches!(result, Err(RuntimeError::StopTimeout(_))),
        "{result:?}"
    );
    assert_eq!(
        status(&harness.runtime.statuses(), "hanging").state,
        ModuleState::Disabled
    );
    assert!(
        harness
            .runtime
            .shutdown(Duration::from_secs(1))
            .await
            .not_stopped
            .is_empty()
    );
}

#[tokio::test]
async fn degraded_report_is_shown_in_status_and_ends_with_the_run() {
    let harness = Harness::small_backoff();
    harness.add("syncing", Behaviour::Degraded, true);
    let mut rx = harness.runtime.subscribe();
    harness.start();
    let statuses = wait_until(&mut rx, |s| {
        status(s, "syncing").state == ModuleState::Degraded
    })
    .await;
    assert_eq!(
        status(&statuses, "syncing").message.as_deref(),
        Some("beacon node syncing")
    );
    assert_eq!(status(&statuses, "syncing").kind, "test");

    harness.shutdown.cancel();
    let statuses = wait_until(&mut rx, |s| {
        status(s, "syncing").state == ModuleState::Stopped
    })
    .await;
    assert_eq!(status(&statuses, "syncing").message, None);
    assert!(
        harness
            .runtime
            .shutdown(Duration::from_secs(1))
            .await
            .not_stopped
            .is_empty()
    );
}

#[tokio::test]
async fn registration_refuses_duplicates_and_mismatched_ids() {
    let harness = Harness::small_backoff();
    harness.add("oracle", Behaviour::Healthy, true);
    let duplicate = harness.runtime.register(
        id("oracle"),
        || {
            Box::new(crate::support::NamedModule(id("oracle")))
                as Box<dyn restake_duties::DutyModule>
        },
        harness.signer.clone(),
        true,
    );
    assert!(matches!(duplicate, Err(RuntimeError::Duplicate(_))));
    let mismatch = harness.runtime.register(
        id("other"),
        || {
            Box::new(crate::support::NamedModule(id("oracle")))
                as Box<dyn restake_duties::DutyModule>
        },
        harness.signer.clone(),
        true,
    );
    assert!(matches!(mismatch, Err(RuntimeError::IdMismatch { .. })));
}

#[tokio::test]
async fn enabling_after_shutdown_leaves_module_stopped() {
    let harness = Harness::small_backoff();
    let runs = harness.add("late", Behaviour::Healthy, false);
    harness.start();
    assert!(
        harness
            .runtime
            .shutdown(Duration::from_secs(1))
            .await
            .not_stopped
            .is_empty()
    );

    harness.runtime.enable(&id("late")).unwrap();
    let late = status(&harness.runtime.statuses(), "late").clone();
    assert!(late.enabled);
    assert_eq!(late.state, ModuleState::Stopped);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn enable_during_a_pending_disable_starts_the_module_only_after_the_old_run_stopped() {
    let harness = Harness::small_backoff();
    let runs = harness.add("hanging", Behaviour::Hang, true);
    let mut rx = harness.runtime.subscribe();
    harness.start();
    wait_until(&mut rx, |s| {
        status(s, "hanging").state == ModuleState::Running
    })
    .await;

    let hanging = id("hanging");
    let disabling = harness.runtime.disable(&hanging);
    let enabling = async {
        // The disable waits up to its 200 ms deadline for a module that never stops.
        tokio::time::sleep(Duration::from_millis(50)).await;
        harness.runtime.enable(&id("hanging")).unwrap();
        runs.load(Ordering::SeqCst)
    };
    let (disabled, runs_right_after_enable) = tokio::join!(disabling, enabling);
    assert!(matches!(disabled, Err(RuntimeError::StopTimeout(_))));
    assert_eq!(
        runs_right_after_enable, 1,
        "a second instance started while the first was still running"
    );
    let statuses = wait_until(&mut rx, |s| {
        status(s, "hanging").state == ModuleState::Running
    })
    .await;
    assert!(status(&statuses, "hanging").enabled);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    harness.runtime.shutdown(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn duty_results_are_streamed_with_their_module_and_detail() {
    let harness = Harness::small_backoff();
    harness.add("healthy", Behaviour::Healthy, true);
    let mut results = harness.runtime.subscribe_results();
    harness.start();
    let first = tokio::time::timeout(Duration::from_secs(10), results.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.module, id("healthy"));
    assert_eq!(first.outcome, restake_duties::DutyOutcome::Done);
    assert_eq!(first.detail, "round 1");
    let second = results.recv().await.unwrap();
    assert_eq!(second.detail, "round 2");
    assert!(second.at >= first.at);
    harness.runtime.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_disable_whose_caller_gives_up_still_completes_and_the_module_can_be_enabled_again() {
    let harness = Harness::small_backoff();
    let runs = harness.add("hanging", Behaviour::Hang, true);
    let mut rx = harness.runtime.subscribe();
    harness.start();
    wait_until(&mut rx, |s| {
        status(s, "hanging").state == ModuleState::Running
    })
    .await;

    // The caller (say a gRPC client timing out) drops the disable while it waits on the
    // module's 200 ms stop deadline.
    let hanging = id("hanging");
    let gave_up =
        tokio::time::timeout(Duration::from_millis(20), harness.runtime.disable(&hanging)).await;
    assert!(gave_up.is_err());
    wait_until(&mut rx, |s| {
        status(s, "hanging").state == ModuleState::Disabled
    })
    .await;

    harness.runtime.enable(&hanging).unwrap();
    wait_until(&mut rx, |s| {
        status(s, "hanging").state == ModuleState::Running
    })
    .await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    harness.runtime.shutdown(Duration::from_millis(300)).await;
}
