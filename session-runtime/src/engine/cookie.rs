//! The cookie backend: the whole session sealed into the cookie, split across several cookies
//! when it outgrows one and `oversize = "chunk"` allows it.

use std::borrow::Cow;

use http::{HeaderMap, HeaderValue};

use crate::codec::Codec;
use crate::config::{EncryptionMode, Oversize};
use crate::cookies;
use crate::envelope::{EncodedFields, Envelope};
use crate::error::{SaveError, SessionRejection};
use crate::schema::SessionSchema;

use super::plan::Plan;
use super::{Engine, Loaded, Outgoing, Refused, State};

impl Engine {
    /// Opens the first presented value that opens (the cookie, else its joined chunks); a fresh
    /// session, and the removal of what was refused, otherwise.
    pub(super) fn load_cookie<T: SessionSchema>(
        &self,
        codec: &Codec,
        headers: &HeaderMap,
        now: u64,
    ) -> Result<Loaded<T>, SessionRejection> {
        let name = self.settings.cookie_name.as_str();
        let mut state = State::fresh(now);
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
        if opened.timestamps.is_none() && codec.legacy_refused_at(now) {
            return Err(Refused::LegacyDeadline);
        }
        let envelope = Envelope::from_cookie_payload(&opened.body, opened.timestamps, now)
            .map_err(Refused::Fields)?;
        let data = self.decode::<T>(&envelope, now)?;
        let mut state = State::loaded(envelope.meta);
        state.stale = opened.stale;
        Ok(Loaded::new(data, state))
    }

    /// Carries out `plan`: every write re-seals the whole session.
    pub(super) fn save_cookie<T: SessionSchema>(
        &self,
        codec: &Codec,
        plan: Plan,
        outgoing: Outgoing<T>,
        now: u64,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        match plan {
            Plan::Nothing => Ok(Vec::new()),
            Plan::Removal => Ok(self.removal_cookies(&outgoing.state)),
            Plan::Refresh | Plan::Rewrite { .. } | Plan::NewSession => {
                self.seal_cookie(codec, outgoing, now)
            }
        }
    }

    fn seal_cookie<T: SessionSchema>(
        &self,
        codec: &Codec,
        outgoing: Outgoing<T>,
        now: u64,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let (values, state) = outgoing.whole()?;
        let mut meta = self.settings.outgoing_metadata(&state, now);
        if codec.mode() == EncryptionMode::Legacy {
            // A legacy value has no sealed times to read a refresh time against, and its body
            // stays the bare object of fields that other users of the format read.
            meta.refreshed_at = None;
        }
        let envelope = Envelope {
            fields: EncodedFields {
                names: T::FIELDS,
                values: &values,
            },
            meta,
        };
        let (body, times) = envelope.to_cookie_payload();
        let value = codec.seal(&body, times).map_err(SaveError::Seal)?;
        let max_age = self.settings.max_age(&state, envelope.meta.expires_at, now);
        self.cookie_headers(&state, &value, max_age)
    }

    /// The `Set-Cookie` headers carrying `value`: one cookie, or chunks when allowed.
    fn cookie_headers(
        &self,
        state: &State,
        value: &str,
        max_age: Option<u64>,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let name = &self.settings.cookie_name;
        let limit = self.settings.max_cookie_size;
        // RFC 6265bis: browsers count the name and the value (and the `=`).
        let size = name.len() + 1 + value.len();
        if size <= limit {
            let mut headers = vec![self.settings.cookie.set_cookie(name, value, max_age)];
            self.remove_chunks(state, 0, &mut headers);
            return Ok(headers);
        }
        if self.settings.oversize == Oversize::Error {
            return Err(SaveError::Oversize { size, limit });
        }
        self.chunk_headers(state, value, max_age, size)
    }

    /// `value` split across the cookies `name.0`, `name.1`, ...; chunks and the plain cookie
    /// the client still holds are expired.
    fn chunk_headers(
        &self,
        state: &State,
        value: &str,
        max_age: Option<u64>,
        size: usize,
    ) -> Result<Vec<HeaderValue>, SaveError> {
        let name = &self.settings.cookie_name;
        let attrs = &self.settings.cookie;
        let (limit, max_chunks) = (self.settings.max_cookie_size, self.settings.max_chunks);
        let chunk_name_len = name.len() + 1 + max_chunks.to_string().len();
        let per_chunk = limit.saturating_sub(chunk_name_len + 1).max(1);
        let count = value.len().div_ceil(per_chunk);
        if count > max_chunks {
            return Err(SaveError::Oversize {
                size,
                limit: limit * max_chunks,
            });
        }
        let mut headers = Vec::with_capacity(count + 1);
        // The value is base64 (ASCII), so byte offsets are character boundaries.
        for (index, chunk) in value.as_bytes().chunks(per_chunk).enumerate() {
            let text = std::str::from_utf8(chunk).unwrap_or_default();
            headers.push(attrs.set_cookie(&format!("{name}.{index}"), text, max_age));
        }
        self.remove_chunks(state, count, &mut headers);
        if !state.is_new || state.clear_cookie {
            headers.push(attrs.removal(name));
        }
        Ok(headers)
    }
}
