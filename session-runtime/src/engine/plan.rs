//! What a response writes for its session: the one decision both backends carry out.
//!
//! A response may arrive after responses to later requests of the same client, so whatever it
//! sets may overwrite a newer cookie. It therefore removes only what its own request ended (a
//! session its handler destroyed) or refused on the cookie's own merits (a value that does not
//! open, has expired, or is not a session id). An id whose record is gone may have been retired
//! by a `regenerate()` in a request whose response already set the new id: such a request gets
//! a fresh session and no removal, and sets a cookie only if its handler writes. Likewise a
//! save that finds its record gone drops its changes and sets nothing.

use super::state::{Intent, State};

/// What a response writes. The cookie backend writes it into the sealed cookie, the server
/// backend into the store (and the id cookie).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Nothing: no store write and no `Set-Cookie`.
    Nothing,
    /// Expire the client's cookies, and delete the record if there is one: this request
    /// destroyed the session, or the client presented a cookie that can never be a session
    /// ([`State::clear_cookie`]) and nothing replaces it. Never for an id that is merely
    /// unknown to the store: a late response must not undo a `regenerate()`.
    Removal,
    /// Move the expiry of an unchanged session forward and send the cookie again.
    Refresh,
    /// Write the changes under the session's present identity. `resend`: the expiry moved (a
    /// refresh was due, or the session has a new idle timeout), so the cookie goes out again
    /// even where its value stays the same (a server-side session's id).
    Rewrite {
        /// Send the cookie again.
        resend: bool,
    },
    /// Write the whole session under a new identity, then retire the old one, if any: a new
    /// session's first write, or `regenerate`.
    NewSession,
}

/// Decides what the response writes. `fields_changed`: the handler changed a field;
/// `refresh_due`: the expiry policy wants an unchanged session's expiry moved.
pub(crate) fn plan(state: &State, fields_changed: bool, refresh_due: bool) -> Plan {
    // Without a stored session, only a refused cookie needs an answer: its removal.
    let removal_or_nothing = if state.clear_cookie {
        Plan::Removal
    } else {
        Plan::Nothing
    };
    match state.intent {
        Intent::Destroy if state.is_new => removal_or_nothing,
        Intent::Destroy => Plan::Removal,
        Intent::Regenerate => Plan::NewSession,
        // An empty session is not worth a cookie until something is put in it.
        Intent::Keep if state.is_new => {
            if fields_changed || state.idle_timeout_changed {
                Plan::NewSession
            } else {
                removal_or_nothing
            }
        }
        Intent::Keep => {
            if fields_changed || state.stale || state.idle_timeout_changed {
                Plan::Rewrite {
                    resend: refresh_due || state.idle_timeout_changed,
                }
            } else if refresh_due {
                Plan::Refresh
            } else {
                Plan::Nothing
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded() -> State {
        let mut state = State::fresh(100);
        state.is_new = false;
        state.meta.expires_at = 200;
        state
    }

    #[test]
    fn a_new_session_is_written_only_once_something_is_in_it() {
        let fresh = State::fresh(100);
        assert_eq!(plan(&fresh, false, false), Plan::Nothing);
        assert_eq!(plan(&fresh, true, false), Plan::NewSession);
        let mut remembered = State::fresh(100);
        remembered.set_idle_timeout(60);
        assert_eq!(plan(&remembered, false, false), Plan::NewSession);
        let mut regenerated = State::fresh(100);
        regenerated.intent = Intent::Regenerate;
        assert_eq!(plan(&regenerated, false, false), Plan::NewSession);
    }

    #[test]
    fn a_refused_cookie_is_removed_unless_replaced() {
        let mut refused = State::fresh(100);
        refused.clear_cookie = true;
        assert_eq!(plan(&refused, false, false), Plan::Removal);
        assert_eq!(plan(&refused, true, false), Plan::NewSession);
        refused.intent = Intent::Destroy;
        assert_eq!(plan(&refused, true, false), Plan::Removal);
    }

    #[test]
    fn destroy_removes_a_stored_session_and_ignores_a_new_one() {
        let mut state = loaded();
        state.intent = Intent::Destroy;
        assert_eq!(plan(&state, true, true), Plan::Removal);
        let mut fresh = State::fresh(100);
        fresh.intent = Intent::Destroy;
        assert_eq!(plan(&fresh, true, false), Plan::Nothing);
    }

    #[test]
    fn a_stored_session_is_rewritten_refreshed_or_left_alone() {
        let state = loaded();
        assert_eq!(plan(&state, false, false), Plan::Nothing);
        assert_eq!(plan(&state, false, true), Plan::Refresh);
        assert_eq!(plan(&state, true, false), Plan::Rewrite { resend: false });
        assert_eq!(plan(&state, true, true), Plan::Rewrite { resend: true });
        let mut stale = loaded();
        stale.stale = true;
        assert_eq!(plan(&stale, false, false), Plan::Rewrite { resend: false });
        let mut remembered = loaded();
        remembered.set_idle_timeout(60);
        assert_eq!(
            plan(&remembered, false, false),
            Plan::Rewrite { resend: true }
        );
        let mut regenerated = loaded();
        regenerated.intent = Intent::Regenerate;
        assert_eq!(plan(&regenerated, false, false), Plan::NewSession);
    }
}
