//! One round's arithmetic: which answers count, the agreed value, and whether to publish it.

use super::{
    report::Report,
    source::{Observation, SourceFailure},
    value::{beyond_bps, deviates, median},
};

/// What the sources agreed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Agreed {
    /// The median of the agreeing answers.
    pub(crate) value: i128,
    /// The oldest observation time among them.
    pub(crate) observed_at: u64,
    /// Their ids, sorted.
    pub(crate) sources: Vec<String>,
}

/// Too few sources agreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QuorumMissed {
    /// How many agreed.
    pub(crate) agreeing: usize,
    /// How many sources were asked.
    pub(crate) sources: usize,
    /// How many were needed.
    pub(crate) quorum: usize,
}

/// A round's answers sorted out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Aggregation {
    /// Sources not used, and why (in the order asked).
    pub(crate) failures: Vec<(String, SourceFailure)>,
    /// The agreed value, or why there is none.
    pub(crate) outcome: Result<Agreed, QuorumMissed>,
}

/// The rules a round applies, from the feed's configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    /// Observations older than this many seconds are stale.
    pub(crate) max_age: u64,
    /// Answers further than this from the median of all answers are outliers.
    pub(crate) outlier_bps: u32,
    /// How many agreeing answers are needed.
    pub(crate) quorum: usize,
    /// The feed's decimals (to show values).
    pub(crate) decimals: u8,
}

/// Sorts out `answers` at time `now` (Unix seconds): failed, stale and future observations are
/// dropped, then answers further than `outlier_bps` from the median of the rest; if at least
/// `quorum` remain, their median is the value and their oldest observation its time.
///
/// An observation up to `max_age` ahead of `now` (a source's clock running fast) counts as
/// observed now; further ahead it is invalid.
pub(crate) fn aggregate(
    answers: Vec<(String, Result<Observation, SourceFailure>)>,
    now: u64,
    rules: Rules,
) -> Aggregation {
    let sources = answers.len();
    let mut failures = Vec::new();
    let mut fresh: Vec<(String, Observation)> = Vec::new();
    for (source, answer) in answers {
        let checked = answer.and_then(|observation| {
            if observation.observed_at > now.saturating_add(rules.max_age) {
                return Err(SourceFailure::Invalid(format!(
                    "observed at {}, {}s in the future",
                    observation.observed_at,
                    observation.observed_at - now
                )));
            }
            let observed_at = observation.observed_at.min(now);
            let age = now - observed_at;
            if age > rules.max_age {
                return Err(SourceFailure::Stale { age });
            }
            Ok(Observation {
                value: observation.value,
                observed_at,
            })
        });
        match checked {
            Ok(observation) => fresh.push((source, observation)),
            Err(failure) => failures.push((source, failure)),
        }
    }
    let mut values: Vec<i128> = fresh.iter().map(|(_, o)| o.value).collect();
    let mut agreeing = Vec::new();
    if let Some(center) = median(&mut values) {
        for (source, observation) in fresh {
            if beyond_bps(observation.value, center, rules.outlier_bps) {
                failures.push((
                    source,
                    SourceFailure::Outlier {
                        value: observation.value,
                        median: center,
                        decimals: rules.decimals,
                    },
                ));
            } else {
                agreeing.push((source, observation));
            }
        }
    }
    if agreeing.len() < rules.quorum || agreeing.is_empty() {
        return Aggregation {
            failures,
            outcome: Err(QuorumMissed {
                agreeing: agreeing.len(),
                sources,
                quorum: rules.quorum,
            }),
        };
    }
    let mut values: Vec<i128> = agreeing.iter().map(|(_, o)| o.value).collect();
    let outcome = match (
        median(&mut values),
        agreeing.iter().map(|(_, o)| o.observed_at).min(),
    ) {
        (Some(value), Some(observed_at)) => {
            let mut sources: Vec<String> = agreeing.into_iter().map(|(s, _)| s).collect();
            sources.sort();
            Ok(Agreed {
                value,
                observed_at,
                sources,
            })
        }
        // Not reached: `agreeing` is not empty.
        _ => Err(QuorumMissed {
            agreeing: 0,
            sources,
            quorum: rules.quorum,
        }),
    };
    Aggregation { failures, outcome }
}

/// Why a new report is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Due {
    /// The feed has no report yet (or its decimals changed).
    First,
    /// The value moved at least `deviation_bps`.
    Deviation,
    /// The heartbeat passed since the last report's observation.
    Heartbeat,
}

impl Due {
    /// For the duty's detail line.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::First => "first report",
            Self::Deviation => "deviation",
            Self::Heartbeat => "heartbeat",
        }
    }
}

/// Whether a report is due, and why not if not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Sign and publish a new report.
    Publish(Due),
    /// Nothing to publish; the reason, for the duty's detail line.
    Skip(String),
}

/// Decides whether `agreed` becomes a report, given the `last` one, at time `now`.
///
/// A report is due when there is none yet, when the value moved at least `deviation_bps` of
/// the last value, or when `heartbeat` seconds passed since the last report's observation and
/// the observations are newer than it. Observation times never go backwards within a feed:
/// answers older than the last report's are not published.
pub(crate) fn decide(
    agreed: &Agreed,
    last: Option<&Report>,
    decimals: u8,
    deviation_bps: u32,
    heartbeat: u64,
    now: u64,
) -> Decision {
    let Some(last) = last.filter(|last| last.decimals == decimals) else {
        return Decision::Publish(Due::First);
    };
    if agreed.observed_at < last.observed_at {
        return Decision::Skip(format!(
            "observed at {}, before round {} (observed at {})",
            agreed.observed_at, last.round, last.observed_at
        ));
    }
    if deviates(agreed.value, last.value, deviation_bps) {
        return Decision::Publish(Due::Deviation);
    }
    if now.saturating_sub(last.observed_at) >= heartbeat {
        if agreed.observed_at > last.observed_at {
            return Decision::Publish(Due::Heartbeat);
        }
        return Decision::Skip(format!(
            "heartbeat due but nothing observed after round {}",
            last.round
        ));
    }
    Decision::Skip(format!(
        "within {deviation_bps} bps of round {}",
        last.round
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn rules(quorum: usize) -> Rules {
        Rules {
            max_age: 60,
            outlier_bps: 100,
            quorum,
            decimals: 2,
        }
    }

    fn ok(
        source: &str,
        value: i128,
        observed_at: u64,
    ) -> (String, Result<Observation, SourceFailure>) {
        (source.to_owned(), Ok(Observation { value, observed_at }))
    }

    fn failed(
        source: &str,
        failure: SourceFailure,
    ) -> (String, Result<Observation, SourceFailure>) {
        (source.to_owned(), Err(failure))
    }

    fn reasons(aggregation: &Aggregation) -> Vec<(&str, &str)> {
        aggregation
            .failures
            .iter()
            .map(|(s, f)| (s.as_str(), f.reason()))
            .collect()
    }

    #[test]
    fn drops_failures_stale_answers_and_outliers_then_takes_the_median() {
        let answers = vec![
            ok("a", 10_000, NOW),
            ok("b", 10_050, NOW - 10),
            ok("c", 9_990, NOW),
            ok("d", 11_000, NOW),
            ok("e", 10_000, NOW - 61),
            ok("f", 10_000, NOW + 61),
            failed("g", SourceFailure::HttpStatus(500)),
        ];
        let aggregation = aggregate(answers, NOW, rules(3));
        assert_eq!(
            reasons(&aggregation),
            [
                ("e", "stale"),
                ("f", "invalid"),
                ("g", "http_status"),
                ("d", "outlier")
            ]
        );
        assert_eq!(
            aggregation.outcome,
            Ok(Agreed {
                value: 10_000,
                observed_at: NOW - 10,
                sources: vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
            })
        );
    }

    #[test]
    fn a_slightly_fast_clock_counts_as_now() {
        let aggregation = aggregate(vec![ok("a", 1, NOW + 5)], NOW, rules(1));
        assert_eq!(aggregation.outcome.unwrap().observed_at, NOW);
    }

    #[test]
    fn the_mean_of_the_middle_two_rounds_down() {
        let answers = vec![ok("a", 10_001, NOW), ok("b", 10_004, NOW)];
        assert_eq!(
            aggregate(answers, NOW, rules(2)).outcome.unwrap().value,
            10_002
        );
        let answers = vec![ok("a", -10_001, NOW), ok("b", -10_004, NOW)];
        assert_eq!(
            aggregate(answers, NOW, rules(2)).outcome.unwrap().value,
            -10_003
        );
    }

    #[test]
    fn too_few_agreeing_sources_miss_the_quorum() {
        let answers = vec![
            ok("a", 10_000, NOW),
            failed(
                "b",
                SourceFailure::Timeout(std::time::Duration::from_secs(1)),
            ),
            ok("c", 20_000, NOW),
        ];
        let aggregation = aggregate(answers, NOW, rules(2));
        // The median of 10000 and 20000 is 15000: both are outliers.
        assert_eq!(
            aggregation.outcome,
            Err(QuorumMissed {
                agreeing: 0,
                sources: 3,
                quorum: 2
            })
        );
        assert_eq!(
            reasons(&aggregation),
            [("b", "timeout"), ("a", "outlier"), ("c", "outlier")]
        );
        assert!(aggregate(Vec::new(), NOW, rules(1)).outcome.is_err());
    }

    fn report(round: u64, value: i128, observed_at: u64) -> Report {
        Report {
            feed: "eth-usd".to_owned(),
            round,
            value,
            decimals: 2,
            observed_at,
            sources: vec!["a".to_owned()],
        }
    }

    fn agreed(value: i128, observed_at: u64) -> Agreed {
        Agreed {
            value,
            observed_at,
            sources: vec!["a".to_owned()],
        }
    }

    #[test]
    fn publishes_the_first_report_deviations_and_heartbeats() {
        let last = report(3, 10_000, NOW - 10);
        let decide =
            |agreed: &Agreed, last: Option<&Report>, now| decide(agreed, last, 2, 100, 60, now);
        assert_eq!(
            decide(&agreed(1, NOW), None, NOW),
            Decision::Publish(Due::First)
        );
        // 0.99% is below 1%; 1% is not.
        assert!(matches!(
            decide(&agreed(10_099, NOW), Some(&last), NOW),
            Decision::Skip(_)
        ));
        assert_eq!(
            decide(&agreed(10_100, NOW), Some(&last), NOW),
            Decision::Publish(Due::Deviation)
        );
        assert_eq!(
            decide(&agreed(9_900, NOW), Some(&last), NOW),
            Decision::Publish(Due::Deviation)
        );
        // The heartbeat counts from the last observation and needs a newer one.
        assert!(matches!(
            decide(&agreed(10_000, NOW + 49), Some(&last), NOW + 49),
            Decision::Skip(_)
        ));
        assert_eq!(
            decide(&agreed(10_000, NOW + 50), Some(&last), NOW + 50),
            Decision::Publish(Due::Heartbeat)
        );
        assert!(matches!(
            decide(&agreed(10_000, NOW - 10), Some(&last), NOW + 50),
            Decision::Skip(_)
        ));
        // Never backwards in observation time, even for a large move.
        assert!(matches!(
            decide(&agreed(20_000, NOW - 11), Some(&last), NOW),
            Decision::Skip(_)
        ));
        // A change of decimals starts over.
        let mut other = last.clone();
        other.decimals = 4;
        assert_eq!(
            decide(&agreed(1, NOW), Some(&other), NOW),
            Decision::Publish(Due::First)
        );
    }

    proptest! {
        #[test]
        fn agreeing_answers_lie_within_outlier_bps_of_the_median_and_order_does_not_matter(
            values in proptest::collection::vec(-1_000_000i128..1_000_000, 1..12),
            outlier_bps in 1u32..=10_000,
        ) {
            let rules = Rules { max_age: 60, outlier_bps, quorum: 1, decimals: 0 };
            let answers: Vec<_> = values
                .iter()
                .enumerate()
                .map(|(i, v)| ok(&format!("s{i:02}"), *v, NOW))
                .collect();
            let mut reversed = answers.clone();
            reversed.reverse();
            let forward = aggregate(answers, NOW, rules);
            let backward = aggregate(reversed, NOW, rules);
            prop_assert_eq!(&forward.outcome, &backward.outcome);
            let center = median(&mut values.clone()).unwrap();
            let kept: Vec<i128> = values
                .iter()
                .copied()
                .filter(|v| !beyond_bps(*v, center, outlier_bps))
                .collect();
            prop_assert_eq!(forward.failures.len() + kept.len(), values.len());
            if let Ok(agreed) = &forward.outcome {
                let min = *kept.iter().min().unwrap();
                let max = *kept.iter().max().unwrap();
                prop_assert!(min <= agreed.value && agreed.value <= max);
                prop_assert_eq!(agreed.sources.len(), kept.len());
                prop_assert!(agreed.sources.windows(2).all(|w| w[0] < w[1]));
            } else {
                prop_assert!(kept.is_empty());
            }
        }
    }
}
