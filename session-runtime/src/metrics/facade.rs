//! Emission through the `metrics` facade, to whichever recorder is installed.
//!
//! Every key is built once, when the layer is built: the labels are the session type's and the
//! store's names, known then. A request only looks its key up in an array and hands the
//! recorder a reference, so it allocates nothing (the `counter!` macro with non-literal labels
//! would build a label vector per call).

use std::time::Duration;

use metrics::{Key, Label, Level, Metadata};

use super::counters::Event;
use super::names::{self, RefusalReason, StoreOp};

/// Where the layer's metrics come from, as recorders that keep it see it.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The keys of one layer's metrics.
#[derive(Debug)]
pub(super) struct Facade {
    loads: Key,
    fresh: Key,
    refused: [Key; RefusalReason::ALL.len()],
    expired: Key,
    store_errors: Key,
    writes: Key,
    save_errors: Key,
    store_duration: [Key; StoreOp::ALL.len()],
}

impl Facade {
    /// The keys of session type `session` kept in store kind `store`.
    pub(super) fn new(session: &'static str, store: &'static str) -> Self {
        let session_label = Label::from_static_parts(names::SESSION, session);
        let counter = |name: &'static str| Key::from_parts(name, vec![session_label.clone()]);
        Facade {
            loads: counter(names::LOADS),
            fresh: counter(names::FRESH),
            refused: RefusalReason::ALL.map(|reason| {
                let reason = Label::from_static_parts(names::REASON, reason.label());
                Key::from_parts(names::REFUSED, vec![session_label.clone(), reason])
            }),
            expired: counter(names::EXPIRED),
            store_errors: counter(names::STORE_ERRORS),
            writes: counter(names::WRITES),
            save_errors: counter(names::SAVE_ERRORS),
            store_duration: StoreOp::ALL.map(|op| {
                let labels = vec![
                    session_label.clone(),
                    Label::from_static_parts(names::STORE, store),
                    Label::from_static_parts(names::OP, op.label()),
                ];
                Key::from_parts(names::STORE_DURATION, labels)
            }),
        }
    }

    /// Adds one to the event's counter in the current recorder.
    pub(super) fn record(&self, event: Event) {
        let key = match event {
            Event::Load => &self.loads,
            Event::Fresh => &self.fresh,
            Event::Refused(reason) => &self.refused[reason.index()],
            Event::Expired => &self.expired,
            Event::StoreError => &self.store_errors,
            Event::Write => &self.writes,
            Event::SaveError => &self.save_errors,
        };
        metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(1));
    }

    /// Records how long a store call took.
    pub(super) fn store_duration(&self, op: StoreOp, elapsed: Duration) {
        let key = &self.store_duration[op.index()];
        metrics::with_recorder(|recorder| {
            recorder
                .register_histogram(key, &METADATA)
                .record(elapsed.as_secs_f64())
        });
    }
}

/// Sends every metric's unit and description to the current recorder.
pub(super) fn describe() {
    metrics::with_recorder(|recorder| {
        for d in &names::COUNTERS {
            recorder.describe_counter(d.name.into(), Some(d.unit), d.help.into());
        }
        for d in &names::HISTOGRAMS {
            recorder.describe_histogram(d.name.into(), Some(d.unit), d.help.into());
        }
    });
}
