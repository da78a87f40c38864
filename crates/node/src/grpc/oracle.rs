//! `restaked.v1.OracleService`: the oracle modules' signed reports: each feed's latest, its
//! history, and a stream of the reports signed from now on.

use std::{
    collections::{BTreeMap, VecDeque},
    pin::Pin,
};

use futures_util::{Stream, StreamExt, stream};
use restake_api::v1::{
    self, ListFeedsRequest, ListFeedsResponse, ListReportsRequest, ListReportsResponse,
    WatchReportsRequest, oracle_service_server::OracleService,
};
use restake_duties::{
    StoreError,
    oracle::{OracleHub, SignedReport},
};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::watch::{Watch, WatchStream, watch_stream};

/// Reports `ListReports` answers with when the request sets no limit.
const DEFAULT_LIMIT: usize = 20;
/// The most reports `ListReports` answers with.
const MAX_LIMIT: usize = 1000;
/// Reports a hub buffers for a subscriber (its `SUBSCRIBER_BUFFER`): after a lag, the ones
/// still buffered arrive again and are skipped by their round.
const HUB_BUFFER: usize = 1024;

/// The node's answers to `OracleService`.
#[derive(Clone)]
pub struct OracleApi {
    /// One hub per oracle module (feed ids are unique across them); empty when the node runs
    /// no oracle module.
    pub hubs: Vec<OracleHub>,
    /// Cancelled when the node shuts down: open report streams end with `UNAVAILABLE`.
    pub shutdown: CancellationToken,
}

impl OracleApi {
    fn hubs(&self) -> Result<&[OracleHub], Status> {
        if self.hubs.is_empty() {
            Err(Status::failed_precondition(
                "no oracle module is configured: add a [modules.<id>] section with \
                 kind = \"oracle\" to the node's config",
            ))
        } else {
            Ok(&self.hubs)
        }
    }
}

/// The stream `WatchReports` answers with.
pub(crate) type ReportStream = WatchStream<v1::SignedReport>;

#[tonic::async_trait]
impl OracleService for OracleApi {
    async fn list_feeds(
        &self,
        _request: Request<ListFeedsRequest>,
    ) -> Result<Response<ListFeedsResponse>, Status> {
        let hubs = self.hubs()?.to_vec();
        Ok(Response::new(ListFeedsResponse {
            feeds: list_feeds(hubs).await?,
        }))
    }

    async fn list_reports(
        &self,
        request: Request<ListReportsRequest>,
    ) -> Result<Response<ListReportsResponse>, Status> {
        let hubs = self.hubs()?;
        let request = request.into_inner();
        let limit = match usize::try_from(request.limit).unwrap_or(usize::MAX) {
            0 => DEFAULT_LIMIT,
            limit if limit > MAX_LIMIT => {
                return Err(Status::invalid_argument(format!(
                    "limit: {limit} is more than {MAX_LIMIT}"
                )));
            }
            limit => limit,
        };
        let hub = owner(hubs, &request.feed)?.clone();
        let reports = history(hub, request.feed, limit).await?;
        Ok(Response::new(ListReportsResponse {
            reports: reports.iter().map(report_message).collect(),
        }))
    }

    type WatchReportsStream = ReportStream;

    async fn watch_reports(
        &self,
        request: Request<WatchReportsRequest>,
    ) -> Result<Response<Self::WatchReportsStream>, Status> {
        let hubs = self.hubs()?;
        let feed = request.into_inner().feed;
        let (logs, only) = if feed.is_empty() {
            (hubs.to_vec(), None)
        } else {
            (vec![owner(hubs, &feed)?.clone()], Some(feed))
        };
        Ok(Response::new(
            watch(logs, only, self.shutdown.clone()).await?,
        ))
    }
}

/// Where the API reads reports: the oracle hubs, or a fake in tests.
trait ReportLog: Clone + Send + Sync + 'static {
    /// The feed ids.
    fn feeds(&self) -> Vec<String>;

    /// Up to `limit` signed reports of `feed`, newest first.
    fn history(&self, feed: &str, limit: usize) -> Result<Vec<SignedReport>, StoreError>;

    /// Reports as they are signed.
    fn subscribe(&self) -> broadcast::Receiver<SignedReport>;
}

impl ReportLog for OracleHub {
    fn feeds(&self) -> Vec<String> {
        OracleHub::feeds(self)
    }

    fn history(&self, feed: &str, limit: usize) -> Result<Vec<SignedReport>, StoreError> {
        OracleHub::history(self, feed, limit)
    }

    fn subscribe(&self) -> broadcast::Receiver<SignedReport> {
        OracleHub::subscribe(self)
    }
}

/// The log that has `feed`, or `NOT_FOUND` listing every feed.
fn owner<'a, L: ReportLog>(logs: &'a [L], feed: &str) -> Result<&'a L, Status> {
    if let Some(log) = logs.iter().find(|l| l.feeds().iter().any(|f| f == feed)) {
        return Ok(log);
    }
    let mut feeds: Vec<String> = logs.iter().flat_map(ReportLog::feeds).collect();
    feeds.sort();
    Err(Status::not_found(if feeds.is_empty() {
        format!("no feed {feed:?}: the oracle modules have no feeds")
    } else {
        format!("no feed {feed:?}; the feeds are {}", feeds.join(", "))
    }))
}

fn store_error(error: &StoreError) -> Status {
    Status::internal(format!("cannot read the oracle reports: {error}"))
}

/// `limit` reports of `feed`, newest first, read off the async runtime.
async fn history<L: ReportLog>(
    log: L,
    feed: String,
    limit: usize,
) -> Result<Vec<SignedReport>, Status> {
    tokio::task::spawn_blocking(move || log.history(&feed, limit))
        .await
        .map_err(|e| Status::internal(format!("reading the oracle reports failed: {e}")))?
        .map_err(|e| store_error(&e))
}

/// Every feed with its latest report, sorted by id.
async fn list_feeds<L: ReportLog>(logs: Vec<L>) -> Result<Vec<v1::OracleFeed>, Status> {
    let mut feeds = tokio::task::spawn_blocking(move || {
        let mut feeds = Vec::new();
        for log in &logs {
            for feed in log.feeds() {
                let latest = log.history(&feed, 1)?.first().map(report_message);
                feeds.push(v1::OracleFeed { id: feed, latest });
            }
        }
        Ok::<_, StoreError>(feeds)
    })
    .await
    .map_err(|e| Status::internal(format!("reading the oracle feeds failed: {e}")))?
    .map_err(|e| store_error(&e))?;
    feeds.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(feeds)
}

fn report_message(signed: &SignedReport) -> v1::SignedReport {
    let report = &signed.report;
    v1::SignedReport {
        feed: report.feed.clone(),
        round: report.round,
        value: report.value_text(),
        raw_value: report.value.to_string(),
        decimals: u32::from(report.decimals),
        observed_at_unix_seconds: report.observed_at,
        sources: report.sources.clone(),
        scheme: signed.scheme.as_str().to_owned(),
        public_key: signed.public_key.clone(),
        public_key_g2: signed.public_key_g2.clone().unwrap_or_default(),
        digest: report.digest().to_vec(),
        signature: signed.signature.clone(),
    }
}

/// Every log's live reports, tagged with the log's position.
type LiveReports =
    Pin<Box<dyn Stream<Item = (usize, Result<SignedReport, RecvError>)> + Send + 'static>>;

fn merged(receivers: Vec<broadcast::Receiver<SignedReport>>) -> LiveReports {
    receivers
        .into_iter()
        .enumerate()
        .map(|(index, receiver)| -> LiveReports {
            Box::pin(stream::unfold(receiver, move |mut receiver| async move {
                match receiver.recv().await {
                    Err(RecvError::Closed) => None,
                    received => Some(((index, received), receiver)),
                }
            }))
        })
        .reduce(|a, b| Box::pin(stream::select(a, b)))
        .unwrap_or_else(|| Box::pin(stream::empty()))
}

/// The reports signed after the latest stored one of each feed at the time of the call, in
/// order and each once, until `shutdown`.
async fn watch<L: ReportLog>(
    logs: Vec<L>,
    only: Option<String>,
    shutdown: CancellationToken,
) -> Result<ReportStream, Status> {
    // Subscribe before reading where each feed is: a report signed in between is then both
    // live and stored, and skipped live by its round.
    let live = merged(logs.iter().map(ReportLog::subscribe).collect());
    let scope = logs.clone();
    let filter = only.clone();
    let cursors = tokio::task::spawn_blocking(move || {
        let mut cursors = BTreeMap::new();
        for log in &scope {
            for feed in log.feeds() {
                if filter.as_ref().is_none_or(|only| *only == feed) {
                    let round = log.history(&feed, 1)?.first().map_or(0, |r| r.report.round);
                    cursors.insert(feed, round);
                }
            }
        }
        Ok::<_, StoreError>(cursors)
    })
    .await
    .map_err(|e| Status::internal(format!("reading the oracle feeds failed: {e}")))?
    .map_err(|e| store_error(&e))?;
    let watcher = ReportWatcher {
        logs,
        only,
        cursors,
        queue: VecDeque::new(),
        live,
    };
    Ok(watch_stream(watcher, shutdown))
}

/// The state of one `WatchReports` stream.
struct ReportWatcher<L> {
    logs: Vec<L>,
    only: Option<String>,
    /// Per feed, the highest round sent (or stored when the watch began).
    cursors: BTreeMap<String, u64>,
    /// Missed reports read back from the store, to send.
    queue: VecDeque<SignedReport>,
    live: LiveReports,
}

impl<L: ReportLog> Watch for ReportWatcher<L> {
    type Item = v1::SignedReport;

    async fn next_item(&mut self) -> Result<v1::SignedReport, Status> {
        loop {
            if let Some(report) = self.queue.pop_front() {
                return Ok(report_message(&report));
            }
            match self.live.next().await {
                Some((_, Ok(report))) => {
                    if self.advance(&report) {
                        return Ok(report_message(&report));
                    }
                }
                Some((index, Err(RecvError::Lagged(missed)))) => {
                    tracing::debug!(
                        missed,
                        "an oracle report watcher fell behind; re-reading from the store"
                    );
                    self.catch_up(index, missed).await?;
                }
                Some((_, Err(RecvError::Closed))) | None => {
                    return Err(Status::unavailable("the oracle modules stopped"));
                }
            }
        }
    }
}

impl<L: ReportLog> ReportWatcher<L> {
    /// Whether `report` is to be sent: of a watched feed and newer than what was sent. Moves
    /// the feed's cursor to it if so.
    fn advance(&mut self, report: &SignedReport) -> bool {
        let feed = &report.report.feed;
        if self.only.as_ref().is_some_and(|only| only != feed) {
            return false;
        }
        let cursor = self.cursors.entry(feed.clone()).or_insert(0);
        if report.report.round <= *cursor {
            return false;
        }
        *cursor = report.report.round;
        true
    }

    /// Queues the reports of log `index` that the watcher missed, oldest first.
    async fn catch_up(&mut self, index: usize, missed: u64) -> Result<(), Status> {
        let Some(log) = self.logs.get(index).cloned() else {
            return Ok(());
        };
        // The missed reports and the ones still buffered (sent again, skipped then), at most.
        let limit = usize::try_from(missed)
            .unwrap_or(usize::MAX)
            .saturating_add(HUB_BUFFER);
        let feeds: Vec<(String, u64)> = log
            .feeds()
            .into_iter()
            .filter(|feed| self.only.as_ref().is_none_or(|only| only == feed))
            .map(|feed| {
                let cursor = self.cursors.get(&feed).copied().unwrap_or(0);
                (feed, cursor)
            })
            .collect();
        let mut found = tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            for (feed, cursor) in feeds {
                found.extend(
                    log.history(&feed, limit)?
                        .into_iter()
                        .filter(|r| r.report.round > cursor),
                );
            }
            Ok::<_, StoreError>(found)
        })
        .await
        .map_err(|e| Status::internal(format!("reading the missed oracle reports failed: {e}")))?
        .map_err(|e| store_error(&e))?;
        found.sort_by(|a, b| {
            (a.report.observed_at, &a.report.feed, a.report.round).cmp(&(
                b.report.observed_at,
                &b.report.feed,
                b.report.round,
            ))
        });
        for report in found {
            if self.advance(&report) {
                self.queue.push_back(report);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{Arc, Mutex},
        time::Duration,
    };

    use futures_util::FutureExt;
    use restake_api::v1::{
        oracle_service_client::OracleServiceClient, oracle_service_server::OracleServiceServer,
    };
    use restake_duties::{ModuleKv, oracle::Report};
    use restake_signer::Scheme;
    use tonic::Code;

    use super::*;

    fn signed(feed: &str, round: u64) -> SignedReport {
        SignedReport {
            report: Report {
                feed: feed.to_owned(),
                round,
                value: 341_255_120_000 + i128::from(round),
                decimals: 8,
                observed_at: 1_700_000_000 + round,
                sources: vec!["binance".to_owned(), "coinbase".to_owned()],
            },
            scheme: Scheme::Bn254,
            public_key: vec![0xab; 64],
            public_key_g2: Some(vec![0xcd; 128]),
            signature: vec![0x01; 64],
        }
    }

    /// A report log in memory, standing in for an oracle module's store and hub: a small
    /// broadcast buffer lets a watcher fall behind after a few reports.
    #[derive(Clone)]
    struct MemoryLog {
        feeds: Vec<String>,
        stored: Arc<Mutex<Vec<SignedReport>>>,
        live: broadcast::Sender<SignedReport>,
    }

    impl MemoryLog {
        /// Buffers 4 reports per watcher.
        fn new(feeds: &[&str]) -> Self {
            Self {
                feeds: feeds.iter().map(|f| (*f).to_owned()).collect(),
                stored: Arc::default(),
                live: broadcast::channel(4).0,
            }
        }

        /// Stores `report` without sending it: signed before the watch began.
        fn store(&self, report: SignedReport) {
            self.stored.lock().unwrap().push(report);
        }

        /// Stores and sends `report`, as the oracle module does with a report it signs.
        fn sign(&self, report: SignedReport) {
            self.store(report.clone());
            self.resend(report);
        }

        /// Sends `report` without storing it again.
        fn resend(&self, report: SignedReport) {
            self.live.send(report).unwrap();
        }
    }

    impl ReportLog for MemoryLog {
        fn feeds(&self) -> Vec<String> {
            self.feeds.clone()
        }

        fn history(&self, feed: &str, limit: usize) -> Result<Vec<SignedReport>, StoreError> {
            let mut reports: Vec<SignedReport> = self
                .stored
                .lock()
                .unwrap()
                .iter()
                .filter(|r| r.report.feed == feed)
                .cloned()
                .collect();
            reports.sort_by_key(|r| std::cmp::Reverse(r.report.round));
            reports.truncate(limit);
            Ok(reports)
        }

        fn subscribe(&self) -> broadcast::Receiver<SignedReport> {
            self.live.subscribe()
        }
    }

    /// The next report of `stream` as (feed, round); 10 s at most, as a hang guard.
    async fn next_report(stream: &mut ReportStream) -> (String, u64) {
        let report = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a report within 10 s")
            .expect("the stream goes on")
            .expect("a report, not an error");
        (report.feed, report.round)
    }

    /// The next `count` reports of `stream`, grouped by feed, each feed's rounds in the order
    /// they came.
    async fn next_reports(stream: &mut ReportStream, count: usize) -> BTreeMap<String, Vec<u64>> {
        let mut by_feed = BTreeMap::<String, Vec<u64>>::new();
        for _ in 0..count {
            let (feed, round) = next_report(stream).await;
            by_feed.entry(feed).or_default().push(round);
        }
        by_feed
    }

    /// Whether `stream` has nothing to send right now, polled once: the live reports already
    /// buffered are read (and those already sent skipped), so none is left to overflow the
    /// buffer.
    fn nothing_ready(stream: &mut ReportStream) -> bool {
        stream.next().now_or_never().is_none()
    }

    fn key(feed: &str, round: u64) -> (String, u64) {
        (feed.to_owned(), round)
    }

    /// A hub over module `module`'s namespace of `kv` with `reports` stored as the oracle
    /// module stores them.
    fn hub(kv: &ModuleKv, module: &str, feeds: &[&str], reports: &[SignedReport]) -> OracleHub {
        let store = kv.scoped(module.parse().unwrap());
        for signed in reports {
            let (feed, round) = (&signed.report.feed, signed.report.round);
            store
                .put(&format!("report/{feed}/{round:020}"), &signed.to_json())
                .unwrap();
        }
        OracleHub::new(store, feeds.iter().map(|f| (*f).to_owned()).collect())
    }

    /// `api` served on a real socket, and a client of it.
    async fn serve(api: OracleApi) -> OracleServiceClient<tonic::transport::Channel> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(OracleServiceServer::new(api))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        OracleServiceClient::connect(format!("http://{address}"))
            .await
            .unwrap()
    }

    /// Two oracle modules' hubs over one store: `prices` (eth-usd with rounds 1 to 25,
    /// btc-usd with none) and `rates` (aave-usd with rounds 1 and 2).
    fn two_hubs(dir: &tempfile::TempDir) -> Vec<OracleHub> {
        let kv = ModuleKv::open(&dir.path().join("modules.db")).unwrap();
        let eth: Vec<SignedReport> = (1..=25).map(|round| signed("eth-usd", round)).collect();
        vec![
            hub(&kv, "prices", &["eth-usd", "btc-usd"], &eth),
            hub(
                &kv,
                "rates",
                &["aave-usd"],
                &[signed("aave-usd", 1), signed("aave-usd", 2)],
            ),
        ]
    }

    #[test]
    fn a_report_carries_its_digest_keys_and_signature() {
        let bn254 = signed("eth-usd", 7);
        let message = report_message(&bn254);
        assert_eq!(
            message,
            v1::SignedReport {
                feed: "eth-usd".to_owned(),
                round: 7,
                value: "3412.55120007".to_owned(),
                raw_value: "341255120007".to_owned(),
                decimals: 8,
                observed_at_unix_seconds: 1_700_000_007,
                sources: vec!["binance".to_owned(), "coinbase".to_owned()],
                scheme: "bn254".to_owned(),
                public_key: vec![0xab; 64],
                public_key_g2: vec![0xcd; 128],
                digest: bn254.report.digest().to_vec(),
                signature: vec![0x01; 64],
            }
        );
        // The digest is of this report: another round signs other bytes.
        assert_ne!(
            message.digest,
            signed("eth-usd", 8).report.digest().to_vec()
        );

        let mut bls = signed("eth-usd", 7);
        bls.report.value = -bls.report.value;
        bls.scheme = Scheme::Bls12381;
        bls.public_key = vec![0xab; 48];
        bls.public_key_g2 = None;
        bls.signature = vec![0x02; 96];
        let message = report_message(&bls);
        assert_eq!(message.value, "-3412.55120007");
        assert_eq!(message.raw_value, "-341255120007");
        assert_eq!(message.scheme, "bls12-381");
        assert_eq!(message.public_key, vec![0xab; 48]);
        assert!(message.public_key_g2.is_empty());
        assert_eq!(message.digest, bls.report.digest().to_vec());
        assert_ne!(message.digest, bn254.report.digest().to_vec());
        assert_eq!(message.signature, vec![0x02; 96]);
    }

    #[tokio::test]
    async fn every_call_without_an_oracle_module_says_none_is_configured() {
        let mut client = serve(OracleApi {
            hubs: Vec::new(),
            shutdown: CancellationToken::new(),
        })
        .await;
        let statuses = [
            client.list_feeds(ListFeedsRequest {}).await.unwrap_err(),
            client
                .list_reports(ListReportsRequest {
                    feed: "eth-usd".to_owned(),
                    limit: 0,
                })
                .await
                .unwrap_err(),
            client
                .watch_reports(WatchReportsRequest {
                    feed: String::new(),
                })
                .await
                .unwrap_err(),
        ];
        for status in statuses {
            assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
            assert!(
                status
                    .message()
                    .starts_with("no oracle module is configured"),
                "{status:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_unknown_feed_is_not_found_listing_the_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let mut client = serve(OracleApi {
            hubs: two_hubs(&dir),
            shutdown: CancellationToken::new(),
        })
        .await;
        let listed = client
            .list_reports(ListReportsRequest {
                feed: "eth-eur".to_owned(),
                limit: 0,
            })
            .await
            .unwrap_err();
        let watched = client
            .watch_reports(WatchReportsRequest {
                feed: "eth-eur".to_owned(),
            })
            .await
            .unwrap_err();
        for status in [listed, watched] {
            assert_eq!(status.code(), Code::NotFound, "{status:?}");
            assert_eq!(
                status.message(),
                "no feed \"eth-eur\"; the feeds are aave-usd, btc-usd, eth-usd"
            );
        }

        let kv = ModuleKv::open(&dir.path().join("empty.db")).unwrap();
        let featureless = [hub(&kv, "prices", &[], &[])];
        let status = owner(&featureless, "eth-usd").unwrap_err();
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(
            status.message(),
            "no feed \"eth-usd\": the oracle modules have no feeds"
        );
    }

    #[tokio::test]
    async fn feeds_and_reports_are_read_from_the_hubs_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut client = serve(OracleApi {
            hubs: two_hubs(&dir),
            shutdown: CancellationToken::new(),
        })
        .await;

        let feeds = client
            .list_feeds(ListFeedsRequest {})
            .await
            .unwrap()
            .into_inner()
            .feeds;
        assert_eq!(
            feeds,
            vec![
                v1::OracleFeed {
                    id: "aave-usd".to_owned(),
                    latest: Some(report_message(&signed("aave-usd", 2))),
                },
                v1::OracleFeed {
                    id: "btc-usd".to_owned(),
                    latest: None,
                },
                v1::OracleFeed {
                    id: "eth-usd".to_owned(),
                    latest: Some(report_message(&signed("eth-usd", 25))),
                },
            ]
        );

        let mut rounds = async |feed: &str, limit: u32| -> Result<Vec<u64>, Status> {
            let reports = client
                .list_reports(ListReportsRequest {
                    feed: feed.to_owned(),
                    limit,
                })
                .await?
                .into_inner()
                .reports;
            for report in &reports {
                assert_eq!(*report, report_message(&signed(feed, report.round)));
            }
            Ok(reports.iter().map(|r| r.round).collect())
        };
        assert_eq!(
            rounds("eth-usd", 0).await.unwrap(),
            (6..=25).rev().collect::<Vec<u64>>(),
            "limit 0 is 20, newest first"
        );
        assert_eq!(rounds("eth-usd", 3).await.unwrap(), vec![25, 24, 23]);
        assert_eq!(
            rounds("eth-usd", 1000).await.unwrap(),
            (1..=25).rev().collect::<Vec<u64>>()
        );
        assert_eq!(rounds("aave-usd", 5).await.unwrap(), vec![2, 1]);
        assert_eq!(rounds("btc-usd", 5).await.unwrap(), Vec::<u64>::new());
        let status = rounds("eth-usd", 1001).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "limit: 1001 is more than 1000");
    }

    #[tokio::test]
    async fn watch_sends_only_reports_signed_after_it_began_across_modules() {
        let prices = MemoryLog::new(&["eth-usd", "btc-usd"]);
        let rates = MemoryLog::new(&["aave-usd"]);
        prices.store(signed("eth-usd", 1));
        prices.store(signed("eth-usd", 2));
        rates.store(signed("aave-usd", 1));
        let mut stream = watch(
            vec![prices.clone(), rates.clone()],
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();

        // Round 2 was stored when the watch began; seen live too (signed while the watch
        // subscribed), it is not sent.
        prices.resend(signed("eth-usd", 2));
        prices.sign(signed("eth-usd", 3));
        assert_eq!(next_report(&mut stream).await, key("eth-usd", 3));
        rates.sign(signed("aave-usd", 2));
        assert_eq!(next_report(&mut stream).await, key("aave-usd", 2));
        prices.sign(signed("btc-usd", 1));
        assert_eq!(next_report(&mut stream).await, key("btc-usd", 1));
        // A round already sent is not sent again.
        rates.resend(signed("aave-usd", 2));
        rates.sign(signed("aave-usd", 3));
        assert_eq!(next_report(&mut stream).await, key("aave-usd", 3));
    }

    #[tokio::test]
    async fn a_lagging_watcher_reads_what_it_missed_from_the_store_once_each() {
        let prices = MemoryLog::new(&["eth-usd", "btc-usd"]);
        let rates = MemoryLog::new(&["aave-usd"]);
        prices.store(signed("eth-usd", 1));
        let mut stream = watch(
            vec![prices.clone(), rates.clone()],
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();

        // 20 reports on a buffer of 4: the watcher misses 16 of `prices`, not `rates`'s one.
        for round in 1..=10 {
            prices.sign(signed("eth-usd", round + 1));
            prices.sign(signed("btc-usd", round));
        }
        rates.sign(signed("aave-usd", 1));
        let received = next_reports(&mut stream, 21).await;
        assert_eq!(
            received,
            BTreeMap::from([
                ("aave-usd".to_owned(), vec![1]),
                ("btc-usd".to_owned(), (1..=10).collect()),
                ("eth-usd".to_owned(), (2..=11).collect()),
            ])
        );
        // The 4 still buffered were read from the store already: they are skipped, not sent
        // twice.
        assert!(nothing_ready(&mut stream));
        prices.sign(signed("eth-usd", 12));
        assert_eq!(next_report(&mut stream).await, key("eth-usd", 12));
    }

    #[tokio::test]
    async fn a_feed_filter_keeps_one_feed_even_after_a_lag() {
        let prices = MemoryLog::new(&["eth-usd", "btc-usd"]);
        let mut stream = watch(
            vec![prices.clone()],
            Some("eth-usd".to_owned()),
            CancellationToken::new(),
        )
        .await
        .unwrap();

        for round in 1..=10 {
            prices.sign(signed("btc-usd", round));
            prices.sign(signed("eth-usd", round));
        }
        let received = next_reports(&mut stream, 10).await;
        assert_eq!(
            received,
            BTreeMap::from([("eth-usd".to_owned(), (1..=10).collect())])
        );
        // Neither the btc-usd reports still buffered nor the eth-usd ones already sent.
        assert!(nothing_ready(&mut stream));
        prices.sign(signed("btc-usd", 11));
        prices.sign(signed("eth-usd", 11));
        assert_eq!(next_report(&mut stream).await, key("eth-usd", 11));
    }

    #[tokio::test]
    async fn a_shutdown_ends_the_stream_with_unavailable() {
        // A watch waiting for a report ends when the node shuts down.
        let shutdown = CancellationToken::new();
        let prices = MemoryLog::new(&["eth-usd"]);
        let mut stream = watch(vec![prices.clone()], None, shutdown.clone())
            .await
            .unwrap();
        assert!(nothing_ready(&mut stream), "waiting for a report");
        shutdown.cancel();
        let status = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("the stream ends within 10 s")
            .expect("an item")
            .unwrap_err();
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(status.message(), "restaked is shutting down");
        assert!(
            stream.next().await.is_none(),
            "the stream ends after the error"
        );

        // Over a socket, with the hubs the node serves.
        let dir = tempfile::tempdir().unwrap();
        let shutdown = CancellationToken::new();
        let mut client = serve(OracleApi {
            hubs: two_hubs(&dir),
            shutdown: shutdown.clone(),
        })
        .await;
        let mut reports = client
            .watch_reports(WatchReportsRequest {
                feed: "eth-usd".to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        shutdown.cancel();
        let status = tokio::time::timeout(Duration::from_secs(10), reports.message())
            .await
            .expect("the stream ends within 10 s")
            .unwrap_err();
        assert_eq!(status.code(), Code::Unavailable);
    }
}
