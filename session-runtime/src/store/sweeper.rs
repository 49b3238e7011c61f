//! The background task that removes expired sessions from stores that do not expire them
//! themselves (memory, files, PostgreSQL).

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Runs `sweep` every `interval` on the current tokio runtime, for as long as `owner` (the
/// store's shared state) is alive; the task ends by itself once the last handle is dropped.
pub(crate) fn spawn<T, F, Fut>(
    owner: Weak<T>,
    interval: Duration,
    mut sweep: F,
) -> tokio::task::JoinHandle<()>
where
    T: Send + Sync + 'static,
    F: FnMut(Arc<T>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
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
            sweep(owner).await;
        }
    })
}
