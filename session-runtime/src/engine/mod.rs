//! Loading a session at extraction and saving it after the handler.
//!
//! The engine loads through one of two backends, [`cookie`] (everything sealed into the cookie)
//! and [`server`] (a store keeps the fields, the cookie carries the id), and saves by asking
//! [`plan`] what the response writes, then letting the backend write it. What the backends
//! share lives beside them: the expiry policy ([`expiry`]), change tracking ([`tracking`]) and
//! the per-request state ([`state`]).
//!
//! The engine is not generic over the session type; only its `load` and `save` methods are, so
//! the code that does not touch fields is compiled once.

mod cookie;
mod expiry;
mod plan;
mod server;
mod settings;
mod state;
mod tracking;

use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, HeaderValue};
use tracing::Instrument as _;

use crate::codec::Codec;
use crate::envelope::{Envelope, Unreadable};
use crate::error::{SaveError, SessionRejection};
use crate::metrics::{Event, Metrics, RefusalReason};
use crate::schema::{FieldEncoder, SessionSchema, StoredFields};
use crate::store::SessionStore;
use crate::time::unix_now;

pub(crate) use settings::Settings;
pub(crate) use state::{Intent, Loaded, State};
use tracking::Changes;

/// Where the data goes.
pub(crate) enum Backend {
    /// Everything sealed into the cookie.
    Cookie(Codec),
    /// A server-side store; the cookie carries the id.
    Server(Arc<dyn SessionStore>),
}

/// Loads and saves the sessions of one type.
pub(crate) struct Engine {
    pub(crate) settings: Settings,
    backend: Backend,
    /// The key prefix in the store (server-side backends).
    prefix: String,
    store_name: &'static str,
    pub(crate) metrics: Metrics,
}

/// A session on its way out: the value, what changed, and its state.
struct Outgoing<T> {
    data: T,
    /// `None` when nothing was compared (the handler never had `&mut T`, or it destroyed the
    /// session).
    changes: Option<Changes>,
    state: State,
}

impl<T: SessionSchema> Outgoing<T> {
    /// Every field's encoding now and the state: what a write of the whole session (a sealed
    /// cookie, a new record) needs.
    fn whole(self) -> Result<(FieldEncoder, State), SaveError> {
        let values = Changes::current(self.changes, &self.data)?;
        Ok((values, self.state))
    }
}

/// Why a presented cookie was not used; logged at debug level, never shown to the client.
#[derive(Debug)]
pub(crate) enum Refused {
    Open(crate::codec::OpenError),
    Expired,
    FromTheFuture,
    Fields(Unreadable),
    MalformedId,
    UnknownId,
    LegacyDeadline,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Open(e) => write!(f, "does not open: {e}"),
            Refused::Expired => f.write_str("expired"),
            Refused::FromTheFuture => f.write_str("issued in the future"),
            Refused::Fields(e) => write!(f, "does not decode: {e}"),
            Refused::MalformedId => f.write_str("the cookie is not a well-formed session id"),
            Refused::UnknownId => f.write_str("no live session has this id"),
            Refused::LegacyDeadline => f.write_str("a legacy value, past `accept_legacy_until`"),
        }
    }
}

impl Engine {
    pub(crate) fn new(settings: Settings, backend: Backend, store_name: &'static str) -> Self {
        Engine {
            prefix: settings.store_prefix(),
            metrics: Metrics::new(settings.type_name, store_name),
            settings,
            backend,
            store_name,
        }
    }

    /// When the session expires as things stand: for a new session, if it were saved now.
    pub(crate) fn expires_at(&self, state: &State) -> u64 {
        self.settings.expires_at(state, unix_now())
    }

    /// Loads the session the request's cookies point at, or a fresh one.
    pub(crate) async fn load<T: SessionSchema>(
        &self,
        headers: &HeaderMap,
    ) -> Result<Loaded<T>, SessionRejection> {
        let span = tracing::debug_span!(
            "session.load",
            session = self.settings.type_name,
            store = self.store_name,
            outcome = tracing::field::Empty,
            elapsed_us = tracing::field::Empty,
        );
        let started = (!span.is_disabled()).then(Instant::now);
        self.metrics.record(Event::Load);
        let now = unix_now();
        let result = match &self.backend {
            Backend::Cookie(codec) => self.load_cookie(codec, headers, now),
            Backend::Server(store) => {
                self.load_server(store.as_ref(), headers, now)
                    .instrument(span.clone())
                    .await
            }
        };
        if let Some(started) = started {
            let outcome = match &result {
                Ok(loaded) if loaded.state.is_new => "fresh",
                Ok(_) => "loaded",
                Err(_) => "error",
            };
            span.record("outcome", outcome);
            span.record("elapsed_us", started.elapsed().as_micros() as u64);
        }
        result
    }

    /// Saves what the handler changed; returns the `Set-Cookie` headers to send.
    pub(crate) async fn save<T: SessionSchema>(
        &self,
        loaded: Loaded<T>,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let span = tracing::debug_span!(
            "session.save",
            session = self.settings.type_name,
            store = self.store_name,
            outcome = tracing::field::Empty,
            elapsed_us = tracing::field::Empty,
        );
        let started = (!span.is_disabled()).then(Instant::now);
        let now = unix_now();
        let result = self.write(loaded, now, &span).await;
        let outcome = self.record_save(&result);
        if let Some(started) = started {
            span.record("outcome", outcome);
            span.record("elapsed_us", started.elapsed().as_micros() as u64);
        }
        result
    }

    /// Decides what the response writes, and has the backend write it.
    async fn write<T: SessionSchema>(
        &self,
        loaded: Loaded<T>,
        now: u64,
        span: &tracing::Span,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let (plan, outgoing) = self.plan_save(loaded, now)?;
        match &self.backend {
            Backend::Cookie(codec) => self.save_cookie(codec, plan, outgoing, now),
            Backend::Server(store) => {
                self.save_server(store.as_ref(), plan, outgoing, now)
                    .instrument(span.clone())
                    .await
            }
        }
    }

    /// Compares the fields with the baseline and decides what the response writes.
    fn plan_save<T: SessionSchema>(
        &self,
        loaded: Loaded<T>,
        now: u64,
    ) -> Result<(plan::Plan, Outgoing<T>), SaveError> {
        let Loaded {
            data,
            baseline,
            state,
        } = loaded;
        // A destroyed session is not written, so its fields need no encoding (nor can fail to
        // encode).
        let changes = match state.intent {
            Intent::Destroy => None,
            Intent::Keep | Intent::Regenerate => Changes::compare(&data, &baseline)?,
        };
        let refresh_due = self.settings.refresh_due(&state, now);
        let plan = plan::plan(&state, Changes::any(changes.as_ref()), refresh_due);
        let outgoing = Outgoing {
            data,
            changes,
            state,
        };
        Ok((plan, outgoing))
    }

    /// Counts a save's result; returns the outcome to record on the span.
    fn record_save(&self, result: &Result<Vec<HeaderValue>, SaveError>) -> &'static str {
        match result {
            Ok(cookies) if cookies.is_empty() => "unchanged",
            Ok(_) => {
                self.metrics.record(Event::Write);
                "written"
            }
            Err(error) => {
                if matches!(error, SaveError::Store(_)) {
                    self.metrics.record(Event::StoreError);
                }
                self.metrics.record(Event::SaveError);
                "error"
            }
        }
    }

    /// Rebuilds a session from what a backend read, unless it is expired or does not decode.
    fn decode<T: SessionSchema>(
        &self,
        envelope: &Envelope<StoredFields<'_>>,
        now: u64,
    ) -> Result<T, Refused> {
        self.settings.check_times(&envelope.meta, now)?;
        T::decode_fields(&envelope.fields).map_err(|e| Refused::Fields(Unreadable::Field(e)))
    }

    /// A session that starts empty.
    fn fresh<T: SessionSchema>(&self, state: State) -> Result<Loaded<T>, SessionRejection> {
        self.metrics.record(Event::Fresh);
        let data = T::fresh().map_err(|source| SessionRejection::Field {
            type_name: self.settings.type_name,
            source,
        })?;
        Ok(Loaded::new(data, state))
    }

    /// Counts a refused cookie or record, and logs why at debug level.
    fn refused(&self, reason: &Refused) {
        self.metrics.record(match RefusalReason::of(reason) {
            Some(reason) => Event::Refused(reason),
            None => Event::Expired,
        });
        tracing::debug!(
            session = self.settings.type_name,
            %reason,
            "presented session refused; starting a fresh session"
        );
    }

    /// The `Set-Cookie` headers that expire the session cookie and every chunk the client sent.
    fn removal_cookies(&self, state: &State) -> Vec<HeaderValue> {
        let name = &self.settings.cookie_name;
        let mut headers = vec![self.settings.cookie.removal(name)];
        self.remove_chunks(state, 0, &mut headers);
        headers
    }

    /// Expires the chunk cookies the client sent from index `from` on.
    fn remove_chunks(&self, state: &State, from: usize, out: &mut Vec<HeaderValue>) {
        let name = &self.settings.cookie_name;
        for index in from..state.chunks_seen {
            out.push(self.settings.cookie.removal(&format!("{name}.{index}")));
        }
    }
}
