//! The expiry policy: idle and absolute timeouts, rolling refreshes, and the cookie's Max-Age.
//!
//! Every rule about time lives here; the backends only apply what these functions answer.
//!
//! The settings in effect now apply to every session, whenever it was written: a session
//! expires at the earliest of its recorded expiry, its last refresh plus the idle timeout in
//! effect, and its creation plus the absolute lifetime in effect. So shortening `expire` or
//! `max_lifetime` shortens the sessions already issued too. A value written before the refresh
//! time was kept ([`Metadata::refreshed_at`] is `None`) is held to its recorded expiry and the
//! absolute lifetime only, until its next refresh records one.

use session_settings::defaults;

use crate::envelope::Metadata;

use super::Refused;
use super::settings::Settings;
use super::state::State;

/// A sealed issue time further in the future than this is refused (clock skew between servers).
const MAX_CLOCK_SKEW: u64 = 300;

impl Settings {
    /// The idle timeout of a session: its own, else the type's `expire`.
    pub(crate) fn idle_timeout(&self, state: &State) -> u64 {
        self.idle_timeout_of(&state.meta)
    }

    fn idle_timeout_of(&self, meta: &Metadata) -> u64 {
        meta.idle_timeout.unwrap_or(self.expire)
    }

    /// The absolute lifetime: `max_lifetime`, or when it is not set the default, raised to the
    /// idle timeout in effect if that is longer (a long `expire` or a "remember me" session
    /// must not end sooner than its own idle timeout says).
    fn lifetime_of(&self, meta: &Metadata) -> u64 {
        self.max_lifetime
            .unwrap_or_else(|| defaults::MAX_LIFETIME.max(self.idle_timeout_of(meta)))
    }

    /// When a stored session expires under the settings in effect now (see the module docs);
    /// 0 when unknown (a `legacy` cookie, which carries no sealed times).
    fn current_expiry(&self, meta: &Metadata) -> u64 {
        if meta.expires_at == 0 {
            return 0;
        }
        let absolute = meta.created_at.saturating_add(self.lifetime_of(meta));
        let idle = meta
            .refreshed_at
            .map_or(u64::MAX, |at| at.saturating_add(self.idle_timeout_of(meta)));
        meta.expires_at.min(absolute).min(idle)
    }

    /// Refuses a loaded session that is expired (idle or absolute timeout) or claims to have
    /// been created in the future.
    pub(crate) fn check_times(&self, meta: &Metadata, now: u64) -> Result<(), Refused> {
        if meta.created_at > now.saturating_add(MAX_CLOCK_SKEW) {
            return Err(Refused::FromTheFuture);
        }
        let expires = self.current_expiry(meta);
        if expires != 0 && expires <= now {
            return Err(Refused::Expired);
        }
        Ok(())
    }

    /// Whether saving now starts the idle timeout again: when the session rolls (or is new,
    /// or has no known expiry, or a new idle timeout).
    fn extends(&self, state: &State) -> bool {
        self.rolling || state.is_new || state.meta.expires_at == 0 || state.idle_timeout_changed
    }

    /// The expiry a session created at `created_at` gets if it is saved `now`: extended by the
    /// idle timeout when it [`extends`](Self::extends), never past the absolute lifetime.
    fn next_expiry(&self, state: &State, created_at: u64, now: u64) -> u64 {
        let expires = if self.extends(state) {
            now.saturating_add(self.idle_timeout(state))
        } else {
            self.current_expiry(&state.meta)
        };
        expires.min(created_at.saturating_add(self.lifetime_of(&state.meta)))
    }

    /// When the session expires as things stand: for a new session, if it were saved `now`.
    pub(crate) fn expires_at(&self, state: &State, now: u64) -> u64 {
        if state.is_new || state.idle_timeout_changed {
            self.next_expiry(state, state.meta.created_at, now)
        } else {
            self.current_expiry(&state.meta)
        }
    }

    /// Whether an unchanged rolling session is due for its expiry to move forward: only when
    /// it would move (not once the absolute lifetime caps it), and at most once per
    /// `refresh_interval`, so that reads do not each cost a write.
    pub(crate) fn refresh_due(&self, state: &State, now: u64) -> bool {
        if !self.rolling || state.is_new || state.meta.expires_at == 0 {
            return false;
        }
        let current = self.current_expiry(&state.meta);
        if self.next_expiry(state, state.meta.created_at, now) <= current {
            return false;
        }
        // A value without a recorded refresh time was last refreshed one idle timeout before
        // its expiry, as long as `expire` has not changed since.
        let last_refresh = state.meta.refreshed_at.unwrap_or_else(|| {
            state
                .meta
                .expires_at
                .saturating_sub(self.idle_timeout(state))
        });
        now >= last_refresh.saturating_add(self.refresh_interval)
    }

    /// The metadata a session is written with `now`. A new session is created when it is first
    /// written; the idle timeout counts from now when the expiry is extended.
    pub(crate) fn outgoing_metadata(&self, state: &State, now: u64) -> Metadata {
        let created_at = if state.is_new {
            now
        } else {
            state.meta.created_at
        };
        let refreshed_at = if self.extends(state) {
            Some(now)
        } else {
            state.meta.refreshed_at
        };
        Metadata {
            created_at,
            expires_at: self.next_expiry(state, created_at, now),
            idle_timeout: state.meta.idle_timeout,
            refreshed_at,
        }
    }

    /// The cookie's Max-Age for a session expiring at `expires_at`; none for a browser-session
    /// cookie, unless the session has its own idle timeout ("remember me").
    pub(crate) fn max_age(&self, state: &State, expires_at: u64, now: u64) -> Option<u64> {
        (!self.sessioncookie || state.meta.idle_timeout.is_some())
            .then(|| expires_at.saturating_sub(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Oversize;
    use crate::cookies::CookieAttributes;

    fn settings(expire: u64, max_lifetime: Option<u64>) -> Settings {
        Settings {
            type_name: "Test",
            cookie_name: "test".into(),
            expire,
            max_lifetime,
            rolling: true,
            sessioncookie: false,
            refresh_interval: 60,
            cookie: CookieAttributes {
                path: "/".into(),
                domain: None,
                secure: false,
                http_only: true,
                same_site: cookie::SameSite::Lax,
                partitioned: false,
            },
            max_cookie_size: 4096,
            oversize: Oversize::Error,
            max_chunks: 8,
            prefix: None,
            filename_template: "sess_%s".into(),
        }
    }

    fn loaded(created_at: u64, expires_at: u64, refreshed_at: Option<u64>) -> State {
        State::loaded(Metadata {
            created_at,
            expires_at,
            idle_timeout: None,
            refreshed_at,
        })
    }

    #[test]
    fn the_idle_timeout_in_effect_counts_from_the_last_refresh() {
        let shortened = settings(10, None);
        let state = loaded(1_000, 4_600, Some(1_000));
        assert!(shortened.check_times(&state.meta, 1_009).is_ok());
        assert!(shortened.check_times(&state.meta, 1_010).is_err());
        // Without a recorded refresh, only the recorded expiry and the lifetime hold it.
        let old = loaded(1_000, 4_600, None);
        assert!(shortened.check_times(&old.meta, 4_599).is_ok());
        assert!(shortened.check_times(&old.meta, 4_600).is_err());
    }

    #[test]
    fn the_default_lifetime_is_raised_to_a_longer_idle_timeout() {
        let day = defaults::MAX_LIFETIME;
        let default = settings(3_600, None);
        let state = loaded(0, day + 100, None);
        assert!(default.check_times(&state.meta, day - 1).is_ok());
        assert!(default.check_times(&state.meta, day).is_err());
        let long = settings(2 * day, None);
        assert!(long.check_times(&state.meta, day + 99).is_ok());
        let explicit = settings(3_600, Some(7_200));
        assert!(explicit.check_times(&state.meta, 7_200).is_err());
    }

    #[test]
    fn no_refresh_once_the_lifetime_caps_the_expiry() {
        let capped = settings(3_600, Some(7_200));
        // Created at 0, refreshed at 5_000: the expiry is the lifetime's end, 7_200.
        let state = loaded(0, 7_200, Some(5_000));
        assert!(!capped.refresh_due(&state, 6_000));
        assert!(!capped.refresh_due(&state, 7_100));
        // Before the cap, a refresh is due once the interval has passed.
        let early = loaded(0, 4_600, Some(1_000));
        assert!(!capped.refresh_due(&early, 1_059));
        assert!(capped.refresh_due(&early, 1_060));
        let written = capped.outgoing_metadata(&early, 1_060);
        assert_eq!(
            (written.expires_at, written.refreshed_at),
            (4_660, Some(1_060))
        );
    }
}
