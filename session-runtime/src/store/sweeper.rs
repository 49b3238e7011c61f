//! Removing expired sessions from stores that do not expire them by themselves (memory, files,
//! PostgreSQL): one trait for the removal, one background task that runs it.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{BoxFuture, StoreError};

/// A store whose expired records stay until somebody deletes them.
///
/// The layer builder starts one background task per such store that calls
/// [`delete_expired`](Self::delete_expired) periodically; stores that expire records by
/// themselves (Redis, memcached) do not implement it.
///
/// ```
/// use session_runtime::store::{ExpiredDeletion, MemoryStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), session_runtime::store::StoreError> {
/// let store = MemoryStore::new(1_000);
/// assert_eq!(store.delete_expired().await?, 0);
/// # Ok(()) }
/// ```
pub trait ExpiredDeletion: Send + Sync + 'static {
    /// Deletes every expired record now; returns how many were deleted.
    fn delete_expired(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
}

impl<S: ExpiredDeletion + ?Sized> ExpiredDeletion for Arc<S> {
    fn delete_expired(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        (**self).delete_expired()
    }
}

/// Runs [`ExpiredDeletion::delete_expired`] on the store `handle` makes from `owner` (logged
/// as store `name`) every `interval` on the current tokio runtime, for as long as `owner` (the store's shared state)
/// is alive: the task ends by itself once the last handle is dropped. Failures are logged and
/// retried at the next tick.
pub(crate) fn spawn<T, S>(
    owner: Weak<T>,
    name: &'static str,
    interval: Duration,
    handle: fn(Arc<T>) -> S,
) -> tokio::task::JoinHandle<()>
where
    T: ?Sized + Send + Sync + 'static,
    S: ExpiredDeletion,
{
    let interval = interval.max(Duration::from_millis(1));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick completes at once; the first sweep waits a whole interval.
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let Some(owner) = owner.upgrade() else { break };
            match handle(owner).delete_expired().await {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(store = name, removed, "removed expired sessions"),
                Err(e) => {
                    tracing::warn!(store = name, error = %e, "removing expired sessions failed");
                }
            }
        }
    })
}
