//! The layer's own counters, readable without any metrics system.

use std::sync::atomic::{AtomicU64, Ordering};

use super::names::RefusalReason;

/// Live counters of one session layer; read them with [`snapshot`](Self::snapshot).
///
/// ```
/// # use session_runtime::Session;
/// # #[derive(Session)] struct Visit { counter: u32 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = Visit::layer().secret([7u8; 32]).build().await.unwrap();
/// let metrics = layer.metrics();
/// // ... serve requests, then export:
/// let now = metrics.snapshot();
/// assert_eq!(now.loads, 0);
/// # }
/// ```
#[derive(Debug, Default)]
pub struct SessionMetrics {
    loads: AtomicU64,
    fresh: AtomicU64,
    refused: AtomicU64,
    refused_by_reason: [AtomicU64; RefusalReason::ALL.len()],
    expired: AtomicU64,
    store_errors: AtomicU64,
    writes: AtomicU64,
    save_errors: AtomicU64,
}

/// The counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Sessions extracted by handlers.
    pub loads: u64,
    /// Extractions that started a fresh session (no cookie, or one that was refused).
    pub fresh: u64,
    /// Presented cookies or records refused: tampered, wrong key, malformed, unknown id.
    pub refused: u64,
    /// [`refused`](Self::refused), by reason.
    pub refused_by_reason: RefusedByReason,
    /// Presented sessions refused because they had expired.
    pub expired: u64,
    /// Store calls that failed (answered 503).
    pub store_errors: u64,
    /// Saves that sent a `Set-Cookie` (a written session, or a removal). A store update that
    /// needs no new cookie is not counted.
    pub writes: u64,
    /// Saves that failed (the response became an error).
    pub save_errors: u64,
}

/// How many refusals each [`RefusalReason`] accounts for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefusedByReason([u64; RefusalReason::ALL.len()]);

impl RefusedByReason {
    /// The refusals counted under `reason`.
    pub fn get(&self, reason: RefusalReason) -> u64 {
        self.0[reason.index()]
    }

    /// Every reason with its count.
    pub fn iter(&self) -> impl Iterator<Item = (RefusalReason, u64)> + '_ {
        RefusalReason::ALL.into_iter().zip(self.0)
    }
}

/// Which counter to bump.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event {
    Load,
    Fresh,
    Refused(RefusalReason),
    Expired,
    StoreError,
    Write,
    SaveError,
}

impl SessionMetrics {
    pub(crate) fn record(&self, event: Event) {
        let counter = match event {
            Event::Load => &self.loads,
            Event::Fresh => &self.fresh,
            Event::Refused(reason) => {
                self.refused_by_reason[reason.index()].fetch_add(1, Ordering::Relaxed);
                &self.refused
            }
            Event::Expired => &self.expired,
            Event::StoreError => &self.store_errors,
            Event::Write => &self.writes,
            Event::SaveError => &self.save_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            loads: read(&self.loads),
            fresh: read(&self.fresh),
            refused: read(&self.refused),
            refused_by_reason: RefusedByReason(self.refused_by_reason.each_ref().map(read)),
            expired: read(&self.expired),
            store_errors: read(&self.store_errors),
            writes: read(&self.writes),
            save_errors: read(&self.save_errors),
        }
    }
}
