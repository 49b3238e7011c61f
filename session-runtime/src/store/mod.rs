//! Where session data lives.
//!
//! The cookie store keeps everything in the sealed cookie and needs no server state. Every other
//! store implements [`SessionStore`]: the cookie then carries only a [`SessionId`](crate::SessionId),
//! and the store keeps the fields under a [`StoreKey`] (the hashed id), one JSON value per field,
//! so that a request writes only the fields it changed.
//!
//! Stores are handed bytes, never session types: one store can serve several session types, each
//! under its own prefix.
//!
//! The built-in stores are listed once, in the [`StoreKind`](crate::StoreKind) table; the
//! registry (`registry.rs`) maps each kind to its construction from the layer's settings
//! (URLs, directory, capacity, prefix, the shared [`ConnectionOptions`]), reports a store whose
//! cargo feature is off, and starts the [`ExpiredDeletion`] sweeper of the stores that need
//! one. Adding a store is its own file, one registry entry and its cargo feature.
//!
//! # Limiting what anonymous clients can store
//!
//! Every server-side session costs the server a record, and a client that sends no cookie can
//! ask for as many as it likes. Two habits keep that bounded:
//!
//! - **Write the session only after login.** The layer stores nothing for a request whose
//!   handler never extracts the session, nor for one whose handler only reads it: a session
//!   that was never changed has no record and gets no cookie. So an app that reads the
//!   session on every page but writes it only in the login handler stores nothing for
//!   anonymous visitors.
//! - **Rate-limit the routes that create sessions**, per client, with a tower middleware such
//!   as [`tower_governor`](https://docs.rs/tower_governor), in front of the login route only.
//!
//! Past those, the memory store evicts new sessions before returning ones
//! ([`MemoryStore`]), and the files store can refuse new sessions past a capacity
//! ([`FilesStore::capacity`]).
//!
//! ```no_run
//! use std::net::SocketAddr;
//!
//! use axum::{Router, routing::{get, post}};
//! use session_runtime::Session;
//! use tower_governor::{GovernorLayer, governor::GovernorConfigBuilder};
//!
//! #[derive(Session)]
//! #[session(cookie_name = "account", store = "memory")]
//! struct Account {
//!     user: Option<String>,
//! }
//!
//! // Reads only: an anonymous visitor costs no record and gets no cookie.
//! async fn home(account: Session<Account>) -> String {
//!     match &account.user {
//!         Some(user) => format!("Hello, {user}"),
//!         None => "Hello, stranger".to_owned(),
//!     }
//! }
//!
//! // The only handler that writes the session, so the only one that creates records.
//! async fn login(mut account: Session<Account>) -> &'static str {
//!     // ... check the credentials first ...
//!     account.user = Some("ada".into());
//!     account.regenerate();
//!     "welcome"
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Per client IP: bursts of 5 logins, then one more every 2 seconds; past that, 429.
//! let limit = GovernorConfigBuilder::default()
//!     .per_second(2)
//!     .burst_size(5)
//!     .finish()
//!     .ok_or("bad rate limit")?;
//! let app = Router::new()
//!     .route("/login", post(login).layer(GovernorLayer::new(limit)))
//!     .route("/", get(home))
//!     .layer(Account::layer().from_env()?.build().await?);
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! // The limiter keys on the peer address, which needs the connect info.
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::id::StoreKey;

#[doc(hidden)]
pub mod document;
mod files;
#[cfg(feature = "memcached")]
mod memcached;
mod memory;
mod options;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
pub(crate) mod registry;
mod sweeper;

pub use files::{DEFAULT_MAX_FILE_SIZE, FilesStore};
#[cfg(feature = "memcached")]
#[cfg_attr(docsrs, doc(cfg(feature = "memcached")))]
pub use memcached::{MAX_PREFIX_LEN as MEMCACHED_MAX_PREFIX_LEN, MemcachedOptions, MemcachedStore};
pub use memory::MemoryStore;
pub use options::ConnectionOptions;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{DEFAULT_TABLE, PostgresOptions, PostgresStore};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisOptions, RedisStore};
pub use sweeper::ExpiredDeletion;

/// A boxed future, as store methods return them (stores are used as trait objects).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One session as a store keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Each stored field name with its JSON encoding.
    pub fields: Vec<(String, Vec<u8>)>,
    /// Creation time, unix seconds: the start of the absolute lifetime.
    pub created_at: u64,
    /// When the record stops being valid, unix seconds.
    pub expires_at: u64,
    /// A per-session idle timeout in seconds set by `set_expiry`, if any.
    pub idle_timeout: Option<u64>,
}

impl Record {
    /// The encoding of a field, if stored.
    pub fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Sets or replaces a field.
    pub fn set_field(&mut self, name: &str, value: &[u8]) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => {
                v.clear();
                v.extend_from_slice(value);
            }
            None => self.fields.push((name.to_owned(), value.to_vec())),
        }
    }

    /// Applies one request's changes: the changed fields, the new expiry, and the new idle
    /// timeout if one was set. Fields the update does not name keep their value.
    ///
    /// ```
    /// use session_runtime::store::{Record, Update};
    ///
    /// let mut record = Record {
    ///     fields: vec![("a".into(), b"1".to_vec())],
    ///     expires_at: 10,
    ///     ..Record::default()
    /// };
    /// record.apply(&Update {
    ///     changed: vec![("b".into(), b"2".to_vec())],
    ///     expires_at: 20,
    ///     idle_timeout: None,
    /// });
    /// assert_eq!(record.field("a"), Some(&b"1"[..]));
    /// assert_eq!(record.field("b"), Some(&b"2"[..]));
    /// assert_eq!(record.expires_at, 20);
    /// ```
    pub fn apply(&mut self, update: &Update) {
        for (name, value) in &update.changed {
            self.set_field(name, value);
        }
        self.expires_at = update.expires_at;
        if update.idle_timeout.is_some() {
            self.idle_timeout = update.idle_timeout;
        }
    }
}

/// The changes one request makes to an existing session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// Fields whose encoding changed, with their new encoding. Other fields are left as they are,
    /// so concurrent requests that change different fields both keep their change.
    pub changed: Vec<(String, Vec<u8>)>,
    /// The new expiry, unix seconds.
    pub expires_at: u64,
    /// A new per-session idle timeout, if `set_expiry` was called.
    pub idle_timeout: Option<u64>,
}

/// What an update found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Updated {
    /// The record existed and now holds the changes.
    Applied,
    /// The record is gone (expired, or destroyed by another request): nothing was written, so a
    /// destroyed session is never brought back.
    Missing,
}

/// A store failure: the extractor answers 503, a failed save turns the response into 503.
#[derive(Debug)]
pub struct StoreError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A failure described by a message.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            source: None,
        }
    }

    /// A failure caused by another error.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A server-side session store.
///
/// Implement it to keep sessions anywhere; name the type in the attribute
/// (`store = "crate::MyStore"`, built with `Default`) or hand an instance to the builder.
/// Every method receives the hashed [`StoreKey`], never the raw id. Times are unix seconds.
///
/// # Example
///
/// A store in a `HashMap` behind a mutex (the crate's [`MemoryStore`] does the same with a
/// capacity bound and a sweeper):
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use session_runtime::store::{BoxFuture, Record, SessionStore, StoreError, Update, Updated};
/// use session_runtime::StoreKey;
///
/// #[derive(Default)]
/// struct MapStore(Mutex<HashMap<String, Record>>);
///
/// impl SessionStore for MapStore {
///     fn load<'a>(&'a self, key: &'a StoreKey, now: u64) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
///         Box::pin(async move {
///             let map = self.0.lock().map_err(|_| StoreError::new("lock poisoned"))?;
///             Ok(map.get(key.as_str()).filter(|r| r.expires_at > now).cloned())
///         })
///     }
///     fn create<'a>(&'a self, key: &'a StoreKey, record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>> {
///         Box::pin(async move {
///             let mut map = self.0.lock().map_err(|_| StoreError::new("lock poisoned"))?;
///             map.insert(key.as_str().to_owned(), record.clone());
///             Ok(())
///         })
///     }
///     fn update<'a>(&'a self, key: &'a StoreKey, update: &'a Update, now: u64) -> BoxFuture<'a, Result<Updated, StoreError>> {
///         Box::pin(async move {
///             let mut map = self.0.lock().map_err(|_| StoreError::new("lock poisoned"))?;
///             let Some(record) = map.get_mut(key.as_str()).filter(|r| r.expires_at > now) else {
///                 return Ok(Updated::Missing);
///             };
///             record.apply(update);
///             Ok(Updated::Applied)
///         })
///     }
///     fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
///         Box::pin(async move {
///             self.0.lock().map_err(|_| StoreError::new("lock poisoned"))?.remove(key.as_str());
///             Ok(())
///         })
///     }
/// }
///
/// use session_runtime::Session;
///
/// #[derive(Session)]
/// #[session(store = "crate::MapStore")]
/// struct Cart {
///     items: Vec<String>,
/// }
/// # fn main() {}
/// ```
pub trait SessionStore: Send + Sync + 'static {
    /// The record under `key`, or `None` when there is none or it expired before `now`.
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Record>, StoreError>>;

    /// Stores a new record (ids are 256-bit random, so `key` is new).
    fn create<'a>(
        &'a self,
        key: &'a StoreKey,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Applies changed fields and the new expiry to an existing, unexpired record, atomically
    /// per record; a record that is gone is not recreated.
    fn update<'a>(
        &'a self,
        key: &'a StoreKey,
        update: &'a Update,
        now: u64,
    ) -> BoxFuture<'a, Result<Updated, StoreError>>;

    /// Removes the record, if any.
    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>>;
}
