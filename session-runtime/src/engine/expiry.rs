//! The expiry policy: idle and absolute timeouts, rolling refreshes, and the cookie's Max-Age.
//!
//! Every rule about time lives here; the backends only apply what these functions answer.

use crate::envelope::Metadata;

use super::Refused;
use super::settings::Settings;
use super::state::State;

/// A sealed issue time further in the future than this is refused (clock skew between servers).
const MAX_CLOCK_SKEW: u64 = 300;

impl Settings {
    /// The idle timeout of a session: its own, else the type's `expire`.
    pub(crate) fn idle_timeout(&self, state: &State) -> u64 {
        state.meta.idle_timeout.unwrap_or(self.expire)
    }

    /// Refuses a loaded session that is expired (idle or absolute timeout) or claims to have
    /// been created in the future.
    pub(crate) fn check_times(&self, meta: &Metadata, now: u64) -> Result<(), Refused> {
        if meta.created_at > now.saturating_add(MAX_CLOCK_SKEW) {
            return Err(Refused::FromTheFuture);
        }
        if meta.expires_at != 0 && meta.expires_at <= now {
            return Err(Refused::Expired);
        }
        if let Some(max) = self.max_lifetime {
            if meta.created_at.saturating_add(max) <= now {
                return Err(Refused::Expired);
            }
        }
        Ok(())
    }

    /// The expiry a session created at `created_at` gets if it is saved `now`: extended by the
    /// idle timeout when the session rolls (or is new, or has no known expiry, or a new idle
    /// timeout), never past `max_lifetime`.
    fn next_expiry(&self, state: &State, created_at: u64, now: u64) -> u64 {
        let extend = self.rolling
            || state.is_new
            || state.meta.expires_at == 0
            || state.idle_timeout_changed;
        let expires = if extend {
            now.saturating_add(self.idle_timeout(state))
        } else {
            state.meta.expires_at
        };
        match self.max_lifetime {
            Some(max) => expires.min(created_at.saturating_add(max)),
            None => expires,
        }
    }

    /// When the session expires as things stand: for a new session, if it were saved `now`.
    pub(crate) fn expires_at(&self, state: &State, now: u64) -> u64 {
        if state.is_new || state.idle_timeout_changed {
            self.next_expiry(state, state.meta.created_at, now)
        } else {
            state.meta.expires_at
        }
    }

    /// Whether an unchanged rolling session is due for its expiry to move forward: at most once
    /// per `refresh_interval`, so that reads do not each cost a write.
    pub(crate) fn refresh_due(&self, state: &State, now: u64) -> bool {
        if !self.rolling || state.is_new || state.meta.expires_at == 0 {
            return false;
        }
        let last_refresh = state
            .meta
            .expires_at
            .saturating_sub(self.idle_timeout(state));
        now >= last_refresh.saturating_add(self.refresh_interval)
    }

    /// The metadata a session is written with `now`. A new session is created when it is first
    /// written.
    pub(crate) fn outgoing_metadata(&self, state: &State, now: u64) -> Metadata {
        let created_at = if state.is_new {
            now
        } else {
            state.meta.created_at
        };
        Metadata {
            created_at,
            expires_at: self.next_expiry(state, created_at, now),
            idle_timeout: state.meta.idle_timeout,
        }
    }

    /// The cookie's Max-Age for a session expiring at `expires_at`; none for a browser-session
    /// cookie, unless the session has its own idle timeout ("remember me").
    pub(crate) fn max_age(&self, state: &State, expires_at: u64, now: u64) -> Option<u64> {
        (!self.sessioncookie || state.meta.idle_timeout.is_some())
            .then(|| expires_at.saturating_sub(now))
    }
}
