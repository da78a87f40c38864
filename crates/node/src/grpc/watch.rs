//! The envelope of the server streams that follow the node (`WatchEvents`, `WatchDutyResults`,
//! `WatchReports`): each ends with `UNAVAILABLE` when the node shuts down, and right after the
//! first error it sends.

use std::{future::Future, pin::Pin};

use futures_util::{Stream, stream};
use tokio_util::sync::CancellationToken;
use tonic::Status;

/// A server stream of `T`.
pub(crate) type WatchStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// What a stream follows: it yields the next item, waiting as long as it takes.
pub(crate) trait Watch: Send + 'static {
    /// The messages sent.
    type Item: Send + 'static;

    /// The next item; an error is sent, then the stream ends. Dropped mid-way when the node
    /// shuts down, so it must leave `self` consistent at every await.
    fn next_item(&mut self) -> impl Future<Output = Result<Self::Item, Status>> + Send;

    /// What the stream ends with when the node shuts down.
    fn shutdown_status(&self) -> Status {
        Status::unavailable("restaked is shutting down")
    }
}

/// The stream of `watch`'s items until `shutdown`, which wins over an item that is ready.
pub(crate) fn watch_stream<W: Watch>(
    watch: W,
    shutdown: CancellationToken,
) -> WatchStream<W::Item> {
    Box::pin(stream::unfold(Some(watch), move |state| {
        let shutdown = shutdown.clone();
        async move {
            let mut watch = state?;
            let item = tokio::select! {
                biased;
                () = shutdown.cancelled() => None,
                item = watch.next_item() => Some(item),
            };
            match item.unwrap_or_else(|| Err(watch.shutdown_status())) {
                Ok(item) => Some((Ok(item), Some(watch))),
                Err(status) => Some((Err(status), None)),
            }
        }
    }))
}
