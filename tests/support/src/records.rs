//! Records, updates and keys for the store tests, built the same way for every store.

use session_runtime::SessionId;
use session_runtime::StoreKey;
use session_runtime::store::{Record, Update};

use crate::clock::now;

/// The key of a fresh random session id.
pub fn new_key() -> StoreKey {
    SessionId::generate().unwrap().store_key("test:")
}

/// A record holding `fields` (names and JSON texts), created now.
pub fn record(fields: &[(&str, &str)], expires_at: u64) -> Record {
    Record {
        fields: fields
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect(),
        created_at: now(),
        expires_at,
        idle_timeout: None,
    }
}

/// An update that changes `changed` (names and JSON texts).
pub fn update(changed: &[(&str, &str)], expires_at: u64) -> Update {
    Update {
        changed: changed
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect(),
        expires_at,
        idle_timeout: None,
    }
}
