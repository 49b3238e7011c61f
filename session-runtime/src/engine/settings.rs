//! The resolved settings of one session type: attributes, then run-time overrides.

use crate::config::Oversize;
use crate::cookies::CookieAttributes;

/// Resolved settings of one session type, as the builder hands them to the engine.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) type_name: &'static str,
    pub(crate) cookie_name: String,
    /// The idle timeout in seconds, unless a session has its own (`set_expiry`).
    pub(crate) expire: u64,
    /// The absolute timeout in seconds; when `None`, the default of the settings
    /// specification, raised to the idle timeout in effect if that is longer (see `expiry`).
    pub(crate) max_lifetime: Option<u64>,
    pub(crate) rolling: bool,
    pub(crate) sessioncookie: bool,
    /// The least time between two rolling refreshes of an unchanged session, in seconds.
    pub(crate) refresh_interval: u64,
    pub(crate) cookie: CookieAttributes,
    pub(crate) max_cookie_size: usize,
    pub(crate) oversize: Oversize,
    pub(crate) max_chunks: usize,
    /// The key prefix in server-side stores, if configured; see [`store_prefix`](Self::store_prefix).
    pub(crate) prefix: Option<String>,
    /// The files store's file name template. Only the builder reads it, to build that store.
    pub(crate) filename_template: String,
}

impl Settings {
    /// The key prefix in server-side stores: the configured one, else the cookie name and a
    /// colon, so that session types sharing a store never share keys.
    pub(crate) fn store_prefix(&self) -> String {
        match &self.prefix {
            Some(prefix) => prefix.clone(),
            None => format!("{}:", self.cookie_name),
        }
    }
}
