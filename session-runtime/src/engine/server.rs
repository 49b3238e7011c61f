//! The server backend: a store keeps the fields under the hashed session id, the cookie carries
//! the id, and a request writes only the fields it changed.

use http::{HeaderMap, HeaderValue};

use crate::cookies;
use crate::envelope::{EncodedFields, Envelope, Metadata};
use crate::error::{SaveError, SessionRejection};
use crate::id::SessionId;
use crate::metrics::{Event, StoreOp};
use crate::schema::SessionSchema;
use crate::store::{Record, SessionStore, Update, Updated};

use super::plan::Plan;
use super::tracking::Changes;
use super::{Engine, Loaded, Outgoing, Refused, State};

impl Engine {
    /// Loads the record of the first presented id that has a live one; a fresh session
    /// otherwise (strict mode: an unknown id is never adopted).
    ///
    /// Every well-formed id is tried, up to [`cookies::MAX_CANDIDATES`] (one store call each):
    /// a cookie of the same name planted by a sibling subdomain or set on a more specific path
    /// comes first in the header, and must not hide the real session. Only when no presented
    /// value is an id at all is the cookie removed; an id without a record is not (see
    /// [`State::clear_cookie`]).
    pub(super) async fn load_server<T: SessionSchema>(
        &self,
        store: &dyn SessionStore,
        headers: &HeaderMap,
        now: u64,
    ) -> Result<Loaded<T>, SessionRejection> {
        let mut state = State::fresh(now);
        let presented = cookies::find(headers, &self.settings.cookie_name);
        // Only ids that look like ours reach the store; anything else is dropped here.
        let ids: Vec<SessionId> = presented
            .iter()
            .filter_map(|v| SessionId::parse(v))
            .collect();
        if ids.is_empty() && !presented.is_empty() {
            self.refused(&Refused::MalformedId);
            state.clear_cookie = true;
        }
        for id in ids {
            match self.load_record::<T>(store, &id, now).await? {
                Ok(mut loaded) => {
                    loaded.state.id = Some(id);
                    return Ok(loaded);
                }
                Err(reason) => self.refused(&reason),
            }
        }
        self.fresh(state)
    }

    /// The session stored under `id`, or why there is none to use.
    async fn load_record<T: SessionSchema>(
        &self,
        store: &dyn SessionStore,
        id: &SessionId,
        now: u64,
    ) -> Result<Result<Loaded<T>, Refused>, SessionRejection> {
        let record = self
            .metrics
            .store_call(StoreOp::Load, store.load(&id.store_key(&self.prefix), now))
            .await
            .map_err(|source| {
                self.metrics.record(Event::StoreError);
                SessionRejection::StoreUnavailable {
                    type_name: self.settings.type_name,
                    source,
                }
            })?;
        Ok(match record {
            None => Err(Refused::UnknownId),
            Some(record) => self.open_record::<T>(&record, now),
        })
    }

    fn open_record<T: SessionSchema>(
        &self,
        record: &Record,
        now: u64,
    ) -> Result<Loaded<T>, Refused> {
        let envelope = Envelope::from_record(record).map_err(Refused::Fields)?;
        let data = self.decode::<T>(&envelope, now)?;
        Ok(Loaded::new(data, State::loaded(envelope.meta)))
    }

    /// Carries out `plan` against the store, then answers with the id cookie when it must go
    /// out.
    pub(super) async fn save_server<T: SessionSchema>(
        &self,
        store: &dyn SessionStore,
        plan: Plan,
        mut outgoing: Outgoing<T>,
        now: u64,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let resend = match plan {
            Plan::Nothing => return Ok(Vec::new()),
            Plan::Removal => {
                if let Some(id) = &outgoing.state.id {
                    let key = id.store_key(&self.prefix);
                    self.metrics
                        .store_call(StoreOp::Delete, store.delete(&key))
                        .await
                        .map_err(SaveError::Store)?;
                }
                return Ok(self.removal_cookies(&outgoing.state));
            }
            Plan::NewSession => return self.create_record(store, outgoing, now).await,
            Plan::Refresh => true,
            Plan::Rewrite { resend } => resend,
        };
        match outgoing.state.id.take() {
            Some(id) => self.update_record(store, id, outgoing, resend, now).await,
            // Without an id there is no record to change: the session is written as a new one.
            None => self.create_record(store, outgoing, now).await,
        }
    }

    /// Stores the whole session under a new id, then deletes the old record, if any.
    async fn create_record<T: SessionSchema>(
        &self,
        store: &dyn SessionStore,
        outgoing: Outgoing<T>,
        now: u64,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let (values, state) = outgoing.whole()?;
        let envelope = Envelope {
            fields: EncodedFields {
                names: T::FIELDS,
                values: &values,
            },
            meta: self.settings.outgoing_metadata(&state, now),
        };
        let id = SessionId::generate().map_err(SaveError::Rng)?;
        let (key, record) = (id.store_key(&self.prefix), envelope.to_record());
        self.metrics
            .store_call(StoreOp::Create, store.create(&key, &record))
            .await
            .map_err(SaveError::Store)?;
        if let Some(old) = &state.id {
            let key = old.store_key(&self.prefix);
            self.metrics
                .store_call(StoreOp::Delete, store.delete(&key))
                .await
                .map_err(SaveError::Store)?;
        }
        let max_age = self.settings.max_age(&state, envelope.meta.expires_at, now);
        let cookie =
            self.settings
                .cookie
                .set_cookie(&self.settings.cookie_name, id.as_str(), max_age);
        Ok(vec![cookie])
    }

    /// Writes the changed fields and the new expiry to the record of `id`; `resend`: the id
    /// cookie goes out again with the new expiry.
    async fn update_record<T: SessionSchema>(
        &self,
        store: &dyn SessionStore,
        id: SessionId,
        outgoing: Outgoing<T>,
        resend: bool,
        now: u64,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let Outgoing {
            data: _,
            changes,
            state,
        } = outgoing;
        let key = id.store_key(&self.prefix);
        let meta = self.settings.outgoing_metadata(&state, now);
        let update = update_of::<T>(changes, &state, &meta);
        match self
            .metrics
            .store_call(StoreOp::Update, store.update(&key, &update, now))
            .await
            .map_err(SaveError::Store)?
        {
            Updated::Applied if resend => {
                let max_age = self.settings.max_age(&state, meta.expires_at, now);
                let name = &self.settings.cookie_name;
                Ok(vec![self.settings.cookie.set_cookie(
                    name,
                    id.as_str(),
                    max_age,
                )])
            }
            Updated::Applied => Ok(Vec::new()),
            Updated::Missing => {
                // No removal: the session may have ended by a `regenerate()` whose response set
                // a new id, and a removal arriving after that response would log the user out.
                tracing::debug!(
                    session = self.settings.type_name,
                    key = %key,
                    "session ended while the request ran (regenerated, destroyed or expired); its changes are dropped"
                );
                Ok(Vec::new())
            }
        }
    }
}

/// The store update that writes the changed fields and the new metadata `meta` of a session
/// loaded with `state`.
fn update_of<T: SessionSchema>(changes: Option<Changes>, state: &State, meta: &Metadata) -> Update {
    let mut changed = changes.map_or_else(Vec::new, |changes| {
        let fields = EncodedFields {
            names: T::FIELDS,
            values: &changes.current,
        };
        fields.owned_entries(changes.changed)
    });
    if meta.refreshed_at != state.meta.refreshed_at {
        changed.extend(meta.refreshed_entry());
    }
    Update {
        changed,
        expires_at: meta.expires_at,
        idle_timeout: meta.idle_timeout.filter(|_| state.idle_timeout_changed),
    }
}
