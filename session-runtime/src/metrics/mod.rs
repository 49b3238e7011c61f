//! What the session layer saw: its own counters, and the same through the `metrics` facade.
//!
//! # The layer's counters
//!
//! [`SessionLayer::metrics`](crate::SessionLayer::metrics) hands out a [`SessionMetrics`] that
//! any handler can read as a [`MetricsSnapshot`]; no metrics system needed.
//!
//! # The `metrics` facade
//!
//! With the `metrics` feature (on by default), every layer also reports to the recorder of the
//! [`metrics`](https://docs.rs/metrics) crate, which the ecosystem's exporters (Prometheus,
//! StatsD, OpenTelemetry) install. Without a recorder each report is a no-op. Install the
//! recorder before building the layers: a layer sends the metrics' descriptions and units when
//! it is built (or call [`describe`] afterwards).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `session_loads_total` | counter | `session` |
//! | `session_fresh_total` | counter | `session` |
//! | `session_refused_total` | counter | `session`, `reason` ([`RefusalReason::label`]) |
//! | `session_expired_total` | counter | `session` |
//! | `session_store_errors_total` | counter | `session` |
//! | `session_writes_total` | counter | `session` |
//! | `session_save_errors_total` | counter | `session` |
//! | `session_store_duration_seconds` | histogram, seconds | `session`, `store`, `op` ([`StoreOp::label`]) |
//!
//! `session` is the session type's name, as in the logs. The names are constants in [`names`].

mod counters;
#[cfg(feature = "metrics")]
mod facade;
pub mod names;

use std::future::Future;
use std::sync::Arc;

pub use counters::{MetricsSnapshot, RefusedByReason, SessionMetrics};
pub use names::{RefusalReason, StoreOp};

pub(crate) use counters::Event;

/// Sends the unit and description of every session metric to the current `metrics` recorder.
///
/// Building a layer does this already; call it when the recorder is installed after the layers
/// are built.
#[cfg(feature = "metrics")]
pub fn describe() {
    facade::describe();
}

/// Where an engine reports what it saw: its counters, and the facade when enabled.
#[derive(Debug)]
pub(crate) struct Metrics {
    counters: Arc<SessionMetrics>,
    #[cfg(feature = "metrics")]
    facade: facade::Facade,
}

impl Metrics {
    /// The reporting of session type `session` kept in store kind `store`.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new(session: &'static str, store: &'static str) -> Self {
        #[cfg(feature = "metrics")]
        facade::describe();
        Metrics {
            counters: Arc::default(),
            #[cfg(feature = "metrics")]
            facade: facade::Facade::new(session, store),
        }
    }

    /// Counts one event.
    pub(crate) fn record(&self, event: Event) {
        self.counters.record(event);
        #[cfg(feature = "metrics")]
        self.facade.record(event);
    }

    /// The counters, to hand out.
    pub(crate) fn counters(&self) -> Arc<SessionMetrics> {
        Arc::clone(&self.counters)
    }

    /// Runs one store call, timing it for the facade.
    pub(crate) async fn store_call<F: Future>(&self, op: StoreOp, call: F) -> F::Output {
        #[cfg(feature = "metrics")]
        {
            let started = std::time::Instant::now();
            let output = call.await;
            self.facade.store_duration(op, started.elapsed());
            output
        }
        #[cfg(not(feature = "metrics"))]
        {
            let _ = op;
            call.await
        }
    }
}
