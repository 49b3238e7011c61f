//! Loading a session at extraction and saving it after the handler: the part every store shares.
//!
//! The engine is not generic over the session type; only its `load` and `save` methods are, so
//! the code that does not touch fields is compiled once.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument as _;

use http::{HeaderMap, HeaderValue};
use serde_json::value::RawValue;

use crate::codec::{Codec, Timestamps};
use crate::config::Oversize;
use crate::cookies::{self, CookieAttributes};
use crate::error::{SaveError, SessionRejection};
use crate::id::{SessionId, StoreKey};
use crate::metrics::{Event, SessionMetrics};
use crate::schema::{FieldEncoder, SessionSchema, StoredFields};
use crate::store::{Record, SessionStore, Update, Updated};
use crate::time::unix_now;

/// The stored name of the per-session idle timeout in a sealed cookie's object. Field names
/// cannot start with `$`, so it never collides with a field.
const IDLE_TIMEOUT_KEY: &str = "$ttl";

/// A sealed issue time further in the future than this is refused (clock skew between servers).
const MAX_CLOCK_SKEW: u64 = 300;

/// Resolved settings of one session type.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) type_name: &'static str,
    pub(crate) cookie_name: String,
    pub(crate) expire: u64,
    pub(crate) max_lifetime: Option<u64>,
    pub(crate) rolling: bool,
    pub(crate) sessioncookie: bool,
    pub(crate) refresh_interval: u64,
    pub(crate) cookie: CookieAttributes,
    pub(crate) max_cookie_size: usize,
    pub(crate) oversize: Oversize,
    pub(crate) max_chunks: usize,
    pub(crate) prefix: Option<String>,
    pub(crate) filename_template: String,
}

/// Where the data goes.
pub(crate) enum Backend {
    /// Everything sealed into the cookie.
    Cookie(Codec),
    /// A server-side store; the cookie carries the id.
    Server(Arc<dyn SessionStore>),
}

pub(crate) struct Engine {
    pub(crate) settings: Settings,
    backend: Backend,
    prefix: String,
    store_name: &'static str,
    pub(crate) metrics: Arc<SessionMetrics>,
}

/// What the engine knows about a loaded session besides its fields.
#[derive(Clone, Debug)]
pub(crate) struct State {
    /// Server-side stores: the id the client presented and the store has.
    pub(crate) id: Option<SessionId>,
    /// Nothing valid was loaded: the session starts empty.
    pub(crate) is_new: bool,
    pub(crate) created_at: u64,
    /// When the session expires if nothing else happens; 0 when unknown (legacy cookies).
    pub(crate) expires_at: u64,
    pub(crate) idle_timeout: Option<u64>,
    pub(crate) idle_timeout_changed: bool,
    /// Re-seal on the way out (opened with a retired key, or from another mode).
    pub(crate) stale: bool,
    /// The client sent a cookie we refused: delete it unless a new one is set.
    pub(crate) clear_cookie: bool,
    /// How many chunk cookies the request carried.
    pub(crate) chunks_seen: usize,
    pub(crate) destroyed: bool,
    pub(crate) regenerate: bool,
}

/// A session between extraction and save: the value, and what change tracking compares it with.
pub(crate) struct Loaded<T> {
    pub(crate) data: T,
    pub(crate) baseline: Baseline,
    pub(crate) state: State,
}

/// The encoding of the fields before the handler could change them.
///
/// It is taken when the handler first asks for `&mut T`, not at load: a handler that only
/// reads never pays for an encoding, and its session is known unchanged without a comparison.
/// Changes made through shared references (`Cell`, `RefCell` fields) are not seen.
pub(crate) enum Baseline {
    /// The handler never had `&mut T`: nothing can have changed.
    Untouched,
    /// The fields as they were before the first `&mut T`.
    Taken(FieldEncoder),
    /// Encoding failed when `&mut T` was first handed out; the save reports the error.
    Unavailable,
}

impl<T: SessionSchema> Loaded<T> {
    /// Records the baseline before the first mutable access.
    pub(crate) fn touch(&mut self) {
        if matches!(self.baseline, Baseline::Untouched) {
            self.baseline = match encode(&self.data) {
                Ok(fields) => Baseline::Taken(fields),
                Err(_) => Baseline::Unavailable,
            };
        }
    }
}

/// What a save found out about the fields: their encoding now, and which changed.
struct Fields {
    current: FieldEncoder,
    /// Indices (into `FIELDS`) of the fields whose encoding differs from the baseline.
    changed: Vec<usize>,
}

impl Fields {
    /// Compares with the baseline; `None` when the handler never had `&mut T`.
    fn compare<T: SessionSchema>(data: &T, baseline: &Baseline) -> Result<Option<Self>, SaveError> {
        let previous = match baseline {
            Baseline::Untouched => return Ok(None),
            Baseline::Taken(previous) => Some(previous),
            Baseline::Unavailable => None,
        };
        let current = encode(data).map_err(SaveError::Field)?;
        let changed = (0..T::FIELDS.len())
            .filter(|&i| previous.is_none_or(|p| p.get(i) != current.get(i)))
            .collect();
        Ok(Some(Fields { current, changed }))
    }

    /// The encoding now, computing it if the comparison was skipped.
    fn current<T: SessionSchema>(
        compared: Option<Self>,
        data: &T,
    ) -> Result<FieldEncoder, SaveError> {
        match compared {
            Some(fields) => Ok(fields.current),
            None => encode(data).map_err(SaveError::Field),
        }
    }
}

/// Why a presented cookie was not used; logged at debug level, never shown to the client.
#[derive(Debug)]
enum Refused {
    Open(crate::codec::OpenError),
    Expired,
    FromTheFuture,
    Fields(String),
    MalformedId,
    UnknownId,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Open(e) => write!(f, "does not open: {e}"),
            Refused::Expired => f.write_str("expired"),
            Refused::FromTheFuture => f.write_str("issued in the future"),
            Refused::Fields(e) => write!(f, "fields do not decode: {e}"),
            Refused::MalformedId => f.write_str("the cookie is not a well-formed session id"),
            Refused::UnknownId => f.write_str("no live session has this id"),
        }
    }
}

impl Engine {
    pub(crate) fn new(settings: Settings, backend: Backend, store_name: &'static str) -> Self {
        let prefix = settings
            .prefix
            .clone()
            .unwrap_or_else(|| format!("{}:", settings.cookie_name));
        Engine {
            settings,
            backend,
            prefix,
            store_name,
            metrics: Arc::default(),
        }
    }

    /// Counts a refused cookie or record, and logs why at debug level.
    fn refused(&self, reason: &Refused) {
        self.metrics.record(match reason {
            Refused::Expired => Event::Expired,
            _ => Event::Refused,
        });
        tracing::debug!(
            session = self.settings.type_name,
            %reason,
            "presented session refused; starting a fresh session"
        );
    }

    /// The idle timeout of a session.
    pub(crate) fn ttl(&self, state: &State) -> u64 {
        state.idle_timeout.unwrap_or(self.settings.expire)
    }

    /// The expiry a session gets if it is saved `now`.
    fn next_expiry(&self, state: &State, now: u64) -> u64 {
        let ttl = self.ttl(state);
        let extend = self.settings.rolling
            || state.is_new
            || state.expires_at == 0
            || state.idle_timeout_changed;
        let expires = if extend {
            now.saturating_add(ttl)
        } else {
            state.expires_at
        };
        match self.settings.max_lifetime {
            Some(max) => expires.min(state.created_at.saturating_add(max)),
            None => expires,
        }
    }

    /// When the session expires as things stand: for a new session, if it were saved now.
    pub(crate) fn expires_at(&self, state: &State) -> u64 {
        if state.is_new || state.idle_timeout_changed {
            self.next_expiry(state, unix_now())
        } else {
            state.expires_at
        }
    }

    fn refresh_due(&self, state: &State, now: u64) -> bool {
        if !self.settings.rolling || state.is_new || state.expires_at == 0 {
            return false;
        }
        let last_refresh = state.expires_at.saturating_sub(self.ttl(state));
        now >= last_refresh.saturating_add(self.settings.refresh_interval)
    }

    fn fresh_state(&self, now: u64) -> State {
        State {
            id: None,
            is_new: true,
            created_at: now,
            expires_at: 0,
            idle_timeout: None,
            idle_timeout_changed: false,
            stale: false,
            clear_cookie: false,
            chunks_seen: 0,
            destroyed: false,
            regenerate: false,
        }
    }

    fn fresh<T: SessionSchema>(&self, state: State) -> Result<Loaded<T>, SessionRejection> {
        self.metrics.record(Event::Fresh);
        let data = T::fresh().map_err(|source| self.field_rejection(source))?;
        Ok(Loaded {
            data,
            baseline: Baseline::Untouched,
            state,
        })
    }

    fn field_rejection(&self, source: crate::FieldError) -> SessionRejection {
        SessionRejection::Field {
            type_name: self.settings.type_name,
            source,
        }
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

    fn load_cookie<T: SessionSchema>(
        &self,
        codec: &Codec,
        headers: &HeaderMap,
        now: u64,
    ) -> Result<Loaded<T>, SessionRejection> {
        let name = self.settings.cookie_name.as_str();
        let mut state = self.fresh_state(now);
        let mut candidates: Vec<Cow<'_, str>> = cookies::find(headers, name)
            .into_iter()
            .map(Cow::Borrowed)
            .collect();
        if self.settings.oversize == Oversize::Chunk {
            let (joined, seen) = cookies::find_chunks(headers, name, self.settings.max_chunks);
            state.chunks_seen = seen;
            state.clear_cookie |= seen > 0;
            candidates.extend(joined.map(Cow::Owned));
        }
        for value in &candidates {
            match self.open_cookie::<T>(codec, value, now) {
                Ok(mut loaded) => {
                    loaded.state.chunks_seen = state.chunks_seen;
                    return Ok(loaded);
                }
                Err(reason) => {
                    self.refused(&reason);
                    state.clear_cookie = true;
                }
            }
        }
        self.fresh(state)
    }

    fn open_cookie<T: SessionSchema>(
        &self,
        codec: &Codec,
        value: &str,
        now: u64,
    ) -> Result<Loaded<T>, Refused> {
        let opened = codec.open(value).map_err(Refused::Open)?;
        let (created_at, expires_at) = match opened.timestamps {
            Some(t) => (t.issued_at, t.expires_at),
            // Legacy values carry no timestamps: only the cookie's own Max-Age limits them.
            None => (now, 0),
        };
        self.check_times(created_at, expires_at, now)?;
        let fields =
            StoredFields::parse(&opened.body).map_err(|e| Refused::Fields(e.to_string()))?;
        let idle_timeout = fields
            .decode::<u64>(IDLE_TIMEOUT_KEY)
            .map_err(|e| Refused::Fields(e.to_string()))?;
        let data = T::decode_fields(&fields).map_err(|e| Refused::Fields(e.to_string()))?;
        let mut state = self.fresh_state(now);
        state.is_new = false;
        state.created_at = created_at;
        state.expires_at = expires_at;
        state.idle_timeout = idle_timeout;
        state.stale = opened.stale;
        Ok(Loaded {
            data,
            baseline: Baseline::Untouched,
            state,
        })
    }

    fn check_times(&self, created_at: u64, expires_at: u64, now: u64) -> Result<(), Refused> {
        if created_at > now.saturating_add(MAX_CLOCK_SKEW) {
            return Err(Refused::FromTheFuture);
        }
        if expires_at != 0 && expires_at <= now {
            return Err(Refused::Expired);
        }
        if let Some(max) = self.settings.max_lifetime {
            if created_at.saturating_add(max) <= now {
                return Err(Refused::Expired);
            }
        }
        Ok(())
    }

    async fn load_server<T: SessionSchema>(
        &self,
        store: &dyn SessionStore,
        headers: &HeaderMap,
        now: u64,
    ) -> Result<Loaded<T>, SessionRejection> {
        let mut state = self.fresh_state(now);
        let presented = cookies::find(headers, &self.settings.cookie_name);
        // Only ids that look like ours reach the store; anything else is dropped here.
        let Some(id) = presented.iter().find_map(|v| SessionId::parse(v)) else {
            if !presented.is_empty() {
                self.refused(&Refused::MalformedId);
                state.clear_cookie = true;
            }
            return self.fresh(state);
        };
        let key = id.store_key(&self.prefix);
        let record = store.load(&key, now).await.map_err(|source| {
            self.metrics.record(Event::StoreError);
            SessionRejection::StoreUnavailable {
                type_name: self.settings.type_name,
                source,
            }
        })?;
        let Some(record) = record else {
            // Strict mode: an id the store does not know is never adopted.
            self.refused(&Refused::UnknownId);
            state.clear_cookie = true;
            return self.fresh(state);
        };
        match self.decode_record::<T>(&record, now) {
            Ok(data) => {
                state.id = Some(id);
                state.is_new = false;
                state.created_at = record.created_at;
                state.expires_at = record.expires_at;
                state.idle_timeout = record.idle_timeout;
                Ok(Loaded {
                    data,
                    baseline: Baseline::Untouched,
                    state,
                })
            }
            Err(reason) => {
                self.refused(&reason);
                state.clear_cookie = true;
                self.fresh(state)
            }
        }
    }

    fn decode_record<T: SessionSchema>(&self, record: &Record, now: u64) -> Result<T, Refused> {
        self.check_times(record.created_at, record.expires_at, now)?;
        let mut entries = Vec::with_capacity(record.fields.len());
        for (name, value) in &record.fields {
            let raw: &RawValue =
                serde_json::from_slice(value).map_err(|e| Refused::Fields(e.to_string()))?;
            entries.push((Cow::Borrowed(name.as_str()), raw));
        }
        T::decode_fields(&StoredFields::from_entries(entries))
            .map_err(|e| Refused::Fields(e.to_string()))
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
        let result = match &self.backend {
            Backend::Cookie(codec) => self.save_cookie(codec, loaded, now),
            Backend::Server(store) => {
                self.save_server(store.as_ref(), loaded, now)
                    .instrument(span.clone())
                    .await
            }
        };
        let outcome = match &result {
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
        };
        if let Some(started) = started {
            span.record("outcome", outcome);
            span.record("elapsed_us", started.elapsed().as_micros() as u64);
        }
        result
    }

    fn removal_cookies(&self, state: &State, out: &mut Vec<HeaderValue>) {
        let name = &self.settings.cookie_name;
        let attrs = &self.settings.cookie;
        out.push(attrs.removal(name));
        for index in 0..state.chunks_seen {
            out.push(attrs.removal(&format!("{name}.{index}")));
        }
    }

    fn max_age(&self, state: &State, expires_at: u64, now: u64) -> Option<u64> {
        (!self.settings.sessioncookie || state.idle_timeout.is_some())
            .then(|| expires_at.saturating_sub(now))
    }

    fn save_cookie<T: SessionSchema>(
        &self,
        codec: &Codec,
        loaded: Loaded<T>,
        now: u64,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let Loaded {
            data,
            baseline,
            state,
        } = loaded;
        let mut headers = Vec::new();
        if state.destroyed {
            if !state.is_new || state.clear_cookie {
                self.removal_cookies(&state, &mut headers);
            }
            return Ok(headers);
        }
        let compared = Fields::compare(&data, &baseline)?;
        let changed = compared.as_ref().is_some_and(|f| !f.changed.is_empty());
        let must_seal = changed
            || state.stale
            || state.regenerate
            || state.idle_timeout_changed
            || self.refresh_due(&state, now);
        if !must_seal {
            if state.clear_cookie {
                self.removal_cookies(&state, &mut headers);
            }
            return Ok(headers);
        }
        let created_at = if state.is_new { now } else { state.created_at };
        let expires_at = self.next_expiry(
            &State {
                created_at,
                ..state.clone()
            },
            now,
        );
        let current = Fields::current(compared, &data)?;
        let mut body = Vec::with_capacity(64 + current.len() * 16);
        let idle = state.idle_timeout.map(|t| t.to_string());
        current.write_object_with(
            T::FIELDS,
            idle.as_deref().map(|t| (IDLE_TIMEOUT_KEY, t.as_bytes())),
            &mut body,
        );
        let value = codec
            .seal(
                &body,
                Timestamps {
                    issued_at: created_at,
                    expires_at,
                },
            )
            .map_err(SaveError::Seal)?;
        let max_age = self.max_age(&state, expires_at, now);
        self.cookie_headers(&state, &value, max_age, &mut headers)?;
        Ok(headers)
    }

    /// The `Set-Cookie` headers carrying `value`: one cookie, or chunks when allowed.
    fn cookie_headers(
        &self,
        state: &State,
        value: &str,
        max_age: Option<u64>,
        out: &mut Vec<HeaderValue>,
    ) -> Result<(), SaveError> {
        let name = &self.settings.cookie_name;
        let attrs = &self.settings.cookie;
        let limit = self.settings.max_cookie_size;
        // RFC 6265bis: browsers count the name and the value (and the `=`).
        let size = name.len() + 1 + value.len();
        if size <= limit {
            out.push(attrs.set_cookie(name, value, max_age));
            for index in 0..state.chunks_seen {
                out.push(attrs.removal(&format!("{name}.{index}")));
            }
            return Ok(());
        }
        if self.settings.oversize == Oversize::Error {
            return Err(SaveError::Oversize { size, limit });
        }
        let chunk_name_len = name.len() + 1 + self.settings.max_chunks.to_string().len();
        let per_chunk = limit.saturating_sub(chunk_name_len + 1).max(1);
        let count = value.len().div_ceil(per_chunk);
        if count > self.settings.max_chunks {
            return Err(SaveError::Oversize {
                size,
                limit: limit * self.settings.max_chunks,
            });
        }
        // The value is base64 (ASCII), so byte offsets are character boundaries.
        for (index, chunk) in value.as_bytes().chunks(per_chunk).enumerate() {
            let text = std::str::from_utf8(chunk).unwrap_or_default();
            out.push(attrs.set_cookie(&format!("{name}.{index}"), text, max_age));
        }
        for index in count..state.chunks_seen {
            out.push(attrs.removal(&format!("{name}.{index}")));
        }
        if !state.is_new || state.clear_cookie {
            out.push(attrs.removal(name));
        }
        Ok(())
    }

    async fn save_server<T: SessionSchema>(
        &self,
        store: &dyn SessionStore,
        loaded: Loaded<T>,
        now: u64,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let Loaded {
            data,
            baseline,
            state,
        } = loaded;
        let name = &self.settings.cookie_name;
        let attrs = &self.settings.cookie;
        let mut headers = Vec::new();
        let old_key: Option<StoreKey> = state.id.as_ref().map(|id| id.store_key(&self.prefix));
        if state.destroyed {
            if let Some(key) = &old_key {
                store.delete(key).await.map_err(SaveError::Store)?;
            }
            if !state.is_new || state.clear_cookie {
                headers.push(attrs.removal(name));
            }
            return Ok(headers);
        }
        let compared = Fields::compare(&data, &baseline)?;
        let any_change = compared.as_ref().is_some_and(|f| !f.changed.is_empty());
        let expires_at = self.next_expiry(&state, now);
        let max_age = self.max_age(&state, expires_at, now);

        let needs_new_record = match &old_key {
            None => any_change || state.idle_timeout_changed || state.regenerate,
            Some(_) => state.regenerate,
        };
        if needs_new_record {
            let current = Fields::current(compared, &data)?;
            let id = SessionId::generate().map_err(SaveError::Rng)?;
            let record = Record {
                fields: T::FIELDS
                    .iter()
                    .enumerate()
                    .map(|(i, f)| ((*f).to_owned(), current.get(i).unwrap_or_default().to_vec()))
                    .collect(),
                created_at: state.created_at,
                expires_at,
                idle_timeout: state.idle_timeout,
            };
            store
                .create(&id.store_key(&self.prefix), &record)
                .await
                .map_err(SaveError::Store)?;
            if let Some(key) = &old_key {
                store.delete(key).await.map_err(SaveError::Store)?;
            }
            headers.push(attrs.set_cookie(name, id.as_str(), max_age));
            return Ok(headers);
        }
        let Some(key) = old_key else {
            if state.clear_cookie {
                headers.push(attrs.removal(name));
            }
            return Ok(headers);
        };
        let refresh = self.refresh_due(&state, now);
        if !any_change && !state.idle_timeout_changed && !refresh {
            return Ok(headers);
        }
        let changed = compared.map_or_else(Vec::new, |fields| {
            fields
                .changed
                .iter()
                .map(|&i| {
                    let value = fields.current.get(i).unwrap_or_default();
                    (T::FIELDS[i].to_owned(), value.to_vec())
                })
                .collect()
        });
        let update = Update {
            changed,
            expires_at,
            idle_timeout: state.idle_timeout.filter(|_| state.idle_timeout_changed),
        };
        match store
            .update(&key, &update, now)
            .await
            .map_err(SaveError::Store)?
        {
            Updated::Applied => {
                if refresh || state.idle_timeout_changed {
                    if let Some(id) = &state.id {
                        headers.push(attrs.set_cookie(name, id.as_str(), max_age));
                    }
                }
            }
            Updated::Missing => {
                tracing::debug!(
                    session = self.settings.type_name,
                    key = %key,
                    "session ended while the request ran (destroyed or expired); its changes are dropped"
                );
                headers.push(attrs.removal(name));
            }
        }
        Ok(headers)
    }
}

fn encode<T: SessionSchema>(data: &T) -> Result<FieldEncoder, crate::FieldError> {
    let mut encoder = FieldEncoder::default();
    data.encode_fields(&mut encoder)?;
    Ok(encoder)
}
