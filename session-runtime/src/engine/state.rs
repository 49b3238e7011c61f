//! What the engine knows about one request's session besides its fields.

use crate::envelope::Metadata;
use crate::id::SessionId;

use super::tracking::Baseline;

/// What the handler asked to happen to the session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Intent {
    /// Keep it: write what changed.
    #[default]
    Keep,
    /// Keep the data under a new identity and retire the old one (`regenerate`).
    Regenerate,
    /// End it (`destroy`).
    Destroy,
}

/// The state of a session between load and save, besides its fields.
#[derive(Clone, Debug)]
pub(crate) struct State {
    /// Server-side stores: the id the client presented and the store has.
    pub(crate) id: Option<SessionId>,
    /// Nothing valid was loaded: the session starts empty.
    pub(crate) is_new: bool,
    /// As loaded; for a new session, `created_at` is the load time and `expires_at` is 0.
    pub(crate) meta: Metadata,
    /// `set_expiry` gave the session a new idle timeout in this request.
    pub(crate) idle_timeout_changed: bool,
    /// Re-seal on the way out (opened with a retired key, or from another mode).
    pub(crate) stale: bool,
    /// The client sent a cookie that cannot be a live session whatever other requests did
    /// meanwhile (a sealed value that does not open or has expired, a value that is not a
    /// session id): delete it unless a new one is set.
    ///
    /// An id whose record is gone is not such a cookie. This request may be racing the
    /// `regenerate()` that retired it, and a removal (or any `Set-Cookie`) arriving after the
    /// login's response would replace the new id and log the user out. Such a request gets a
    /// fresh session that sets a cookie only if the handler writes to it.
    pub(crate) clear_cookie: bool,
    /// How many chunk cookies the request carried.
    pub(crate) chunks_seen: usize,
    pub(crate) intent: Intent,
}

impl State {
    /// A session that starts empty at `now`.
    pub(crate) fn fresh(now: u64) -> Self {
        State {
            id: None,
            is_new: true,
            meta: Metadata {
                created_at: now,
                expires_at: 0,
                idle_timeout: None,
                refreshed_at: None,
            },
            idle_timeout_changed: false,
            stale: false,
            clear_cookie: false,
            chunks_seen: 0,
            intent: Intent::Keep,
        }
    }

    /// A session loaded with this metadata.
    pub(crate) fn loaded(meta: Metadata) -> Self {
        State {
            is_new: false,
            meta,
            ..State::fresh(meta.created_at)
        }
    }

    /// Gives the session its own idle timeout (`set_expiry`).
    pub(crate) fn set_idle_timeout(&mut self, seconds: u64) {
        self.meta.idle_timeout = Some(seconds);
        self.idle_timeout_changed = true;
    }
}

/// A session between extraction and save: the value, and what change tracking compares it with.
pub(crate) struct Loaded<T> {
    pub(crate) data: T,
    pub(crate) baseline: Baseline,
    pub(crate) state: State,
}

impl<T> Loaded<T> {
    /// A session that nothing has touched yet.
    pub(crate) fn new(data: T, state: State) -> Self {
        Loaded {
            data,
            baseline: Baseline::Untouched,
            state,
        }
    }
}
