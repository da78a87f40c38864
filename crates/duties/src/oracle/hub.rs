//! [`OracleHub`]: signed reports for the node's API (stream, history, latest), and the store
//! layout the module writes.

use std::{fmt, sync::Arc};

use tokio::sync::broadcast;

use super::{config::MAX_ID_LEN, report::SignedReport};
use crate::{ModuleStore, StoreError};

/// Signed reports kept for slow subscribers before they miss some.
const SUBSCRIBER_BUFFER: usize = 1024;

/// Store key of a feed's signed report of `round`; zero-padded so keys sort by round.
pub(crate) fn report_key(feed: &str, round: u64) -> String {
    format!("report/{feed}/{round:020}")
}

/// Store key prefix of a feed's signed reports.
pub(crate) fn reports_prefix(feed: &str) -> String {
    format!("report/{feed}/")
}

/// Store key of a feed's pending report: built and about to be signed (write-ahead).
pub(crate) fn pending_key(feed: &str) -> String {
    format!("pending/{feed}")
}

/// Store key of a feed's last used round (signed, or found signed before), as decimal text.
pub(crate) fn last_round_key(feed: &str) -> String {
    format!("last_round/{feed}")
}

/// The oracle's signed reports as the node's API sees them: a live stream, each feed's history
/// and latest report.
///
/// Made by the node with the oracle module's store (`ModuleKv::scoped(module id)`, the namespace
/// the runtime gives the module) and its feed ids, and handed to the
/// [`OracleModule`](super::OracleModule), which sends every report it signs. Clones share
/// everything.
#[derive(Clone)]
pub struct OracleHub {
    inner: Arc<Inner>,
}

struct Inner {
    store: ModuleStore,
    feeds: Vec<String>,
    reports: broadcast::Sender<SignedReport>,
}

impl fmt::Debug for OracleHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OracleHub")
            .field("feeds", &self.inner.feeds)
            .field("subscribers", &self.inner.reports.receiver_count())
            .finish_non_exhaustive()
    }
}

impl OracleHub {
    /// A hub over the oracle module's `store`, for the configured `feeds`.
    pub fn new(store: ModuleStore, feeds: Vec<String>) -> Self {
        let (reports, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        Self {
            inner: Arc::new(Inner {
                store,
                feeds,
                reports,
            }),
        }
    }

    /// Reports as they are signed (every feed). A subscriber that falls more than 1024
    /// reports behind gets `RecvError::Lagged` and can read the gap from [`history`](Self::history).
    pub fn subscribe(&self) -> broadcast::Receiver<SignedReport> {
        self.inner.reports.subscribe()
    }

    /// The configured feed ids.
    pub fn feeds(&self) -> Vec<String> {
        self.inner.feeds.clone()
    }

    /// Up to `limit` signed reports of `feed`, newest first. Empty for a feed with no report
    /// (or a string that is not a feed id); records that do not parse are skipped and logged.
    pub fn history(&self, feed: &str, limit: usize) -> Result<Vec<SignedReport>, StoreError> {
        if !plausible_feed_id(feed) {
            return Ok(Vec::new());
        }
        let rows = self.inner.store.scan(&reports_prefix(feed), limit, true)?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, value)| match serde_json::from_slice(&value) {
                Ok(report) => Some(report),
                Err(e) => {
                    tracing::warn!(key, error = %e, "skipping an oracle report that does not parse");
                    None
                }
            })
            .collect())
    }

    /// The newest signed report of `feed`, if any (a store failure is logged and gives `None`).
    pub fn latest(&self, feed: &str) -> Option<SignedReport> {
        match self.history(feed, 1) {
            Ok(mut reports) => reports.pop(),
            Err(e) => {
                tracing::warn!(feed, error = %e, "cannot read the latest oracle report");
                None
            }
        }
    }

    /// Sends a newly signed report to the subscribers.
    pub(crate) fn send(&self, report: SignedReport) {
        // No subscriber is fine: the report is in the store.
        let _ = self.inner.reports.send(report);
    }
}

/// A feed id cannot hold `/`, so no prefix reaches another feed's keys.
fn plausible_feed_id(feed: &str) -> bool {
    !feed.is_empty() && feed.len() <= MAX_ID_LEN && !feed.contains('/')
}
