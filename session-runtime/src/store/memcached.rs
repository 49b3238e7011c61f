//! The MemcachedStore: its guide is the type's documentation.

use std::fmt;
use std::time::Duration;

use async_memcached::{AsciiProtocol, Client, Error as McError, MetaProtocol, Status};
use deadpool::Runtime;
use deadpool::managed::{self, Metrics, Object, Pool, PoolError, RecycleError, RecycleResult};

use super::document::{decode, encode};
use super::{BoxFuture, ConnectionOptions, Record, SessionStore, StoreError, Update, Updated};
use crate::id::StoreKey;
use crate::time::unix_now;

/// memcached's longest key.
const MAX_KEY_LEN: usize = 250;

/// The longest prefix: the key adds 64 hex characters.
pub const MAX_PREFIX_LEN: usize = MAX_KEY_LEN - 64;

/// The largest relative expiration time; memcached reads larger numbers as unix times.
const MAX_RELATIVE_TTL: u64 = 30 * 24 * 60 * 60;

/// The default port of memcached.
const DEFAULT_PORT: u16 = 11211;

/// Settings of a [`MemcachedStore`].
///
/// The defaults suit a memcached on the same network: at most 16 connections, 1 s to open a
/// connection, 2 s for a whole store call, and 100 compare-and-swap attempts per update.
///
/// ```
/// use std::time::Duration;
/// use session_runtime::store::MemcachedOptions;
///
/// let options = MemcachedOptions::default()
///     .pool_size(8)
///     .operation_timeout(Duration::from_secs(1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemcachedOptions {
    connection: ConnectionOptions,
    cas_attempts: u32,
}

impl Default for MemcachedOptions {
    fn default() -> Self {
        MemcachedOptions {
            connection: ConnectionOptions::default(),
            cas_attempts: 100,
        }
    }
}

impl MemcachedOptions {
    crate::store::options::connection_setters!(MemcachedOptions, pooled);

    /// How many times one update may read and compare-and-swap the item before it gives up
    /// with a [`StoreError`] because other writers keep changing it (default 100, at least 1).
    ///
    /// ```
    /// use session_runtime::store::MemcachedOptions;
    ///
    /// let options = MemcachedOptions::default().cas_attempts(20);
    /// ```
    pub fn cas_attempts(mut self, attempts: u32) -> Self {
        self.cas_attempts = attempts.max(1);
        self
    }
}

/// Opens and checks the pooled connections.
struct Manager {
    dsn: String,
    connection_timeout: Duration,
}

impl managed::Manager for Manager {
    type Type = Client;
    type Error = McError;

    async fn create(&self) -> Result<Client, McError> {
        match tokio::time::timeout(self.connection_timeout, Client::new(&self.dsn)).await {
            Ok(client) => client,
            Err(_) => Err(McError::Connect(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no connection within {:?}", self.connection_timeout),
            ))),
        }
    }

    async fn recycle(&self, client: &mut Client, _: &Metrics) -> RecycleResult<McError> {
        // A call that failed or was cancelled half-way closes its connection.
        if client.is_closed() {
            Err(RecycleError::message("connection closed"))
        } else {
            Ok(())
        }
    }
}

/// A memcached store: sessions shared by every process that reaches the same memcached.
///
/// Enabled by the `memcached` feature.
///
/// # Layout
///
/// memcached has no hashes, so each session is one item under its [`StoreKey`] (the store
/// prefix followed by the hex SHA-256 of prefix and id; the raw id never reaches memcached) holding the
/// whole record as a small JSON document:
///
/// ```json
/// {"v":1,"created_at":1700000000,"expires_at":1700003600,"idle_timeout":null,"fields":{"counter":3}}
/// ```
///
/// A field whose bytes are not exactly one JSON value is kept base64-encoded under `"bin"`.
/// Keys must fit memcached's limit of 250 bytes without spaces or control characters: with the
/// 64 hex characters of the hash, a prefix may have up to 186 such bytes
/// ([`MemcachedStore::check_prefix`]).
///
/// # Field-level merge
///
/// `update` reads the item with its CAS token (`mg <key> v c`), applies the changed fields and
/// the new expiry, and writes it back only if nobody wrote it in between (`ms <key> C<cas>`);
/// when somebody did, it reads again and retries, a bounded number of times with a short
/// random pause. So two requests that change different fields of one session both keep their
/// change, and an item that is gone (expired, evicted or destroyed) is never brought back.
///
/// # Expiry
///
/// The item's expiration time is the record's `expires_at`: as a number of seconds from now
/// when that is at most 30 days away, and as an absolute unix time beyond (memcached reads any
/// larger number as a unix time). Expired records are invisible at once, whatever memcached's
/// clock says, and memcached drops them by itself, so no sweeper is needed. memcached is a
/// cache: under memory pressure it evicts sessions before they expire, which logs their users
/// out; give it enough memory for all live sessions.
///
/// # Failures
///
/// Connections come from a pool and are replaced by themselves after memcached restarts.
/// While memcached is unreachable, every call fails with a [`StoreError`] within the
/// [operation timeout](MemcachedOptions::operation_timeout) (2 s by default).
///
///
/// The store is a cheap handle over a connection pool: clones share it. It needs a tokio
/// runtime.
///
/// ```no_run
/// use session_runtime::store::MemcachedStore;
///
/// # async fn run() -> Result<(), session_runtime::store::StoreError> {
/// let url = std::env::var("MEMCACHED_URL")
///     .unwrap_or_else(|_| "memcache://127.0.0.1:11211".into());
/// let store = MemcachedStore::connect(&url).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MemcachedStore {
    pool: Pool<Manager>,
    addr: String,
    operation_timeout: Duration,
    cas_attempts: u32,
}

impl fmt::Debug for MemcachedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcachedStore")
            .field("addr", &self.addr)
            .field("operation_timeout", &self.operation_timeout)
            .finish()
    }
}

/// The failure of one attempt.
enum Failure {
    Pool(PoolError<McError>),
    Memcached(McError),
    /// Something this store refuses by itself.
    Refused(String),
}

impl From<PoolError<McError>> for Failure {
    fn from(e: PoolError<McError>) -> Self {
        Failure::Pool(e)
    }
}

impl From<McError> for Failure {
    fn from(e: McError) -> Self {
        Failure::Memcached(e)
    }
}

impl Failure {
    /// Whether the connection broke (rather than memcached answering with an error).
    fn connection_lost(&self) -> bool {
        matches!(
            self,
            Failure::Memcached(McError::Io(_) | McError::ConnectionClosed | McError::Connect(_))
        )
    }

    fn into_error(self, message: String) -> StoreError {
        match self {
            Failure::Pool(e) => StoreError::with_source(message, e),
            Failure::Memcached(e) => StoreError::with_source(message, e),
            Failure::Refused(why) => StoreError::new(format!("{message}: {why}")),
        }
    }
}

/// Turns `memcache://host:port`, `memcached://host:port`, `tcp://host:port` or `host:port` into
/// the address to connect to, `host:port`.
fn parse_url(url: &str) -> Option<String> {
    let rest = ["memcache://", "memcached://", "tcp://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme))
        .unwrap_or(url);
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '@', '?', '#']) || rest.contains(char::is_whitespace)
    {
        return None;
    }
    // `host`, `host:port`, `[v6]` or `[v6]:port`.
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && (!host.contains(':') || host.ends_with(']')) => {
            (host, port.parse::<u16>().ok()?)
        }
        Some(_) if rest.starts_with('[') && rest.ends_with(']') => (rest, DEFAULT_PORT),
        Some(_) => return None,
        None => (rest, DEFAULT_PORT),
    };
    if host.is_empty() || host.contains("://") {
        return None;
    }
    Some(format!("{host}:{port}"))
}

/// Whether `key` is a valid memcached key: 1 to 250 bytes, no spaces or control characters.
fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b > 0x20 && b != 0x7f)
}

/// The expiration time memcached should be given for a record expiring at `expires_at` when
/// the time is `now`: seconds from now up to 30 days, a unix time beyond, and -1 (expired at
/// once) when it is already past.
fn exptime(expires_at: u64, now: u64) -> i64 {
    if expires_at <= now {
        return -1;
    }
    let relative = expires_at - now;
    if relative <= MAX_RELATIVE_TTL {
        relative as i64
    } else {
        i64::try_from(expires_at).unwrap_or(i64::MAX)
    }
}

impl MemcachedStore {
    /// Connects to the memcached at `url` (`memcache://host:port`, `tcp://host:port` or
    /// `host:port`; the port defaults to 11211) with the default [`MemcachedOptions`].
    ///
    /// Fails when the URL is malformed or memcached does not answer within the operation
    /// timeout, so a misconfigured app stops at startup rather than at its first request.
    ///
    /// ```no_run
    /// use session_runtime::store::MemcachedStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let store = MemcachedStore::connect("memcache://127.0.0.1:11211").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<MemcachedStore, StoreError> {
        MemcachedStore::connect_with(url, MemcachedOptions::default()).await
    }

    /// Connects to the memcached at `url` with the given pool size, timeouts and retries.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::store::MemcachedStore;
    /// use session_runtime::store::MemcachedOptions;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let options = MemcachedOptions::default().operation_timeout(Duration::from_secs(1));
    /// let store = MemcachedStore::connect_with("127.0.0.1:11211", options).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with(
        url: &str,
        options: MemcachedOptions,
    ) -> Result<MemcachedStore, StoreError> {
        let addr = parse_url(url).ok_or_else(|| {
            StoreError::new(
                "invalid memcached URL: set MEMCACHED_URL to an address such as \
                 memcache://127.0.0.1:11211",
            )
        })?;
        let manager = Manager {
            dsn: format!("tcp://{addr}"),
            connection_timeout: options.connection.get_connection_timeout(),
        };
        let pool = Pool::builder(manager)
            .max_size(options.connection.get_pool_size())
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connection.get_operation_timeout()))
            .create_timeout(Some(options.connection.get_connection_timeout()))
            .recycle_timeout(Some(options.connection.get_connection_timeout()))
            .build()
            .map_err(|e| StoreError::with_source("cannot build the memcached pool", e))?;
        let store = MemcachedStore {
            pool,
            addr,
            operation_timeout: options.connection.get_operation_timeout(),
            cas_attempts: options.cas_attempts,
        };
        let advice = "start memcached there or set MEMCACHED_URL to the address of a running \
                      memcached";
        let check = async {
            let mut client = store.pool.get().await?;
            client.version().await?;
            Ok::<_, Failure>(())
        };
        match tokio::time::timeout(store.operation_timeout, check).await {
            Ok(Ok(())) => Ok(store),
            Ok(Err(failure)) => Err(failure.into_error(format!(
                "cannot reach memcached at {}: {advice}",
                store.addr
            ))),
            Err(_) => Err(StoreError::new(format!(
                "cannot reach memcached at {}: no answer within {:?}; {advice}",
                store.addr, store.operation_timeout
            ))),
        }
    }

    /// Checks that keys under `prefix` fit memcached: at most 186 bytes
    /// ([`MAX_PREFIX_LEN`]), none of them a space or a control character.
    ///
    /// ```
    /// use session_runtime::store::MemcachedStore;
    ///
    /// assert!(MemcachedStore::check_prefix("myapp:").is_ok());
    /// assert!(MemcachedStore::check_prefix("my app:").is_err());
    /// assert!(MemcachedStore::check_prefix(&"p".repeat(187)).is_err());
    /// ```
    pub fn check_prefix(prefix: &str) -> Result<(), StoreError> {
        if prefix.len() > MAX_PREFIX_LEN {
            return Err(StoreError::new(format!(
                "the session key prefix is {} bytes; memcached keys allow at most \
                 {MAX_PREFIX_LEN} before the 64-character hash",
                prefix.len()
            )));
        }
        if !prefix.bytes().all(|b| b > 0x20 && b != 0x7f) {
            return Err(StoreError::new(format!(
                "the session key prefix {prefix:?} has a space or a control character, which \
                 memcached keys cannot hold"
            )));
        }
        Ok(())
    }

    /// Runs `op` with a pooled connection under the operation timeout. When a connection that
    /// had been idle in the pool turns out to be broken (memcached restarted), the idle
    /// connections are dropped and `op` runs once more on a new one; every operation here is
    /// idempotent, so that is safe.
    async fn run(&self, key: &StoreKey, op: Op<'_>) -> Result<Done, StoreError> {
        let name = op.name();
        let message = |what: &str| {
            format!(
                "memcached session {name} {what} (memcached at {})",
                self.addr
            )
        };
        if !valid_key(key.as_str()) {
            return Err(StoreError::new(format!(
                "{}: the key is not a valid memcached key (check the prefix)",
                message("refused")
            )));
        }
        let attempt = async {
            let mut client = self.pool.get().await?;
            let reused = Object::metrics(&client).recycle_count > 0;
            match perform(&mut client, key, &op, self.cas_attempts).await {
                Err(failure) if reused && failure.connection_lost() => {
                    drop(Object::take(client));
                    self.pool.retain(|_, _| false);
                    let mut client = self.pool.get().await?;
                    perform(&mut client, key, &op, self.cas_attempts).await
                }
                other => other,
            }
        };
        match tokio::time::timeout(self.operation_timeout, attempt).await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(failure)) => Err(failure.into_error(message("failed"))),
            Err(_) => Err(StoreError::new(format!(
                "memcached session {name} timed out after {:?} (memcached at {} unreachable or \
                 too slow)",
                self.operation_timeout, self.addr
            ))),
        }
    }
}

/// One store operation.
enum Op<'a> {
    Load,
    Create { value: Vec<u8>, expires_at: u64 },
    Update { update: &'a Update, now: u64 },
    Delete,
}

impl Op<'_> {
    fn name(&self) -> &'static str {
        match self {
            Op::Load => "load",
            Op::Create { .. } => "create",
            Op::Update { .. } => "update",
            Op::Delete => "delete",
        }
    }
}

/// What an operation found.
enum Done {
    Item(Option<Vec<u8>>),
    Updated(Updated),
    Written,
}

async fn perform(
    client: &mut Client,
    key: &StoreKey,
    op: &Op<'_>,
    cas_attempts: u32,
) -> Result<Done, Failure> {
    match op {
        Op::Load => {
            let item = client
                .meta_get(key.as_str(), false, None, Some(&["v"][..]))
                .await?;
            Ok(Done::Item(item.and_then(|item| item.data)))
        }
        Op::Create { value, expires_at } => {
            let ttl = exptime(*expires_at, unix_now());
            client
                .set(key.as_str(), value.as_slice(), Some(ttl), None)
                .await?;
            Ok(Done::Written)
        }
        Op::Update { update, now } => Ok(Done::Updated(
            update_with_cas(client, key, update, *now, cas_attempts).await?,
        )),
        Op::Delete => match client.delete(key.as_str()).await {
            Ok(()) | Err(McError::Protocol(Status::NotFound)) => Ok(Done::Written),
            Err(e) => Err(e.into()),
        },
    }
}

/// Reads and merges under compare-and-swap until the write lands, the item is gone, or the
/// attempts run out.
async fn update_with_cas(
    client: &mut Client,
    key: &StoreKey,
    update: &Update,
    now: u64,
    attempts: u32,
) -> Result<Updated, Failure> {
    for attempt in 0..attempts {
        let Some(item) = client
            .meta_get(key.as_str(), false, None, Some(&["v", "c"][..]))
            .await?
        else {
            return Ok(Updated::Missing);
        };
        let (Some(data), Some(cas)) = (item.data, item.cas) else {
            return Err(Failure::Refused(
                "memcached sent no value or CAS token".into(),
            ));
        };
        let Some(mut record) = decode_item(key, &data) else {
            return Ok(Updated::Missing);
        };
        if record.expires_at <= now {
            return Ok(Updated::Missing);
        }
        record.apply(update);
        let value = encode(&record);
        let cas_flag = format!("C{cas}");
        let ttl_flag = format!("T{}", exptime(record.expires_at, unix_now()));
        let flags = [cas_flag.as_str(), ttl_flag.as_str()];
        match client
            .meta_set(key.as_str(), value.as_slice(), false, None, Some(&flags))
            .await
        {
            Ok(_) => return Ok(Updated::Applied),
            Err(McError::Protocol(Status::NotFound)) => return Ok(Updated::Missing),
            Err(McError::Protocol(Status::Exists)) => {
                // Somebody wrote in between: read again after a short random pause, so that
                // writers racing in step spread out.
                let cap = 1 + u64::from(attempt.min(10));
                tokio::time::sleep(Duration::from_micros(jitter(cap * 500))).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Failure::Refused(format!(
        "the session kept changing under {attempts} compare-and-swap attempts"
    )))
}

/// A random number below `bound` (at least 1).
fn jitter(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return bound / 2;
    }
    u64::from_le_bytes(bytes) % bound.max(1)
}

/// Decodes an item; `None` (with a warning) when it is not a record.
fn decode_item(key: &StoreKey, data: &[u8]) -> Option<Record> {
    match decode(data) {
        Ok(record) => Some(record),
        Err(why) => {
            tracing::warn!(%key, "malformed session item in memcached ({why}); treated as missing");
            None
        }
    }
}

impl SessionStore for MemcachedStore {
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(async move {
            let Done::Item(Some(data)) = self.run(key, Op::Load).await? else {
                return Ok(None);
            };
            Ok(decode_item(key, &data).filter(|record| record.expires_at > now))
        })
    }

    fn create<'a>(
        &'a self,
        key: &'a StoreKey,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let op = Op::Create {
                value: encode(record),
                expires_at: record.expires_at,
            };
            self.run(key, op).await?;
            Ok(())
        })
    }

    fn update<'a>(
        &'a self,
        key: &'a StoreKey,
        update: &'a Update,
        now: u64,
    ) -> BoxFuture<'a, Result<Updated, StoreError>> {
        Box::pin(async move {
            match self.run(key, Op::Update { update, now }).await? {
                Done::Updated(updated) => Ok(updated),
                Done::Item(_) | Done::Written => Ok(Updated::Missing),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.run(key, Op::Delete).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiration_times_are_relative_up_to_30_days_then_absolute() {
        let now = 1_700_000_000;
        assert_eq!(exptime(now + 1, now), 1);
        assert_eq!(exptime(now + 3600, now), 3600);
        assert_eq!(
            exptime(now + MAX_RELATIVE_TTL, now),
            MAX_RELATIVE_TTL as i64
        );
        assert_eq!(
            exptime(now + MAX_RELATIVE_TTL + 1, now),
            (now + MAX_RELATIVE_TTL + 1) as i64
        );
        assert_eq!(exptime(now, now), -1);
        assert_eq!(exptime(now - 10, now), -1);
        assert_eq!(exptime(u64::MAX, now), i64::MAX);
    }

    #[test]
    fn urls_become_host_and_port() {
        for (url, addr) in [
            ("memcache://127.0.0.1:11311", "127.0.0.1:11311"),
            ("memcached://cache.internal:1", "cache.internal:1"),
            ("tcp://127.0.0.1:11211/", "127.0.0.1:11211"),
            ("127.0.0.1:5000", "127.0.0.1:5000"),
            ("localhost", "localhost:11211"),
            ("memcache://[::1]:7000", "[::1]:7000"),
            ("memcache://[::1]", "[::1]:11211"),
        ] {
            assert_eq!(parse_url(url).as_deref(), Some(addr), "{url}");
        }
        for bad in [
            "",
            "memcache://",
            "memcache://host:notaport",
            "memcache://host:99999",
            "memcache://user@host:1",
            "memcache://host:1/path",
            "redis://host:1",
            "host name:1",
            "::1:11211",
        ] {
            assert_eq!(parse_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_and_prefixes_fit_memcached() {
        assert!(MemcachedStore::check_prefix("").is_ok());
        assert!(MemcachedStore::check_prefix(&"p".repeat(MAX_PREFIX_LEN)).is_ok());
        assert!(MemcachedStore::check_prefix(&"p".repeat(MAX_PREFIX_LEN + 1)).is_err());
        for bad in ["a b", "a\nb", "a\rb", "a\tb", "a\u{7f}b", "a\0b"] {
            assert!(MemcachedStore::check_prefix(bad).is_err(), "{bad:?}");
            assert!(!valid_key(bad));
        }
        assert!(valid_key(&"k".repeat(MAX_KEY_LEN)));
        assert!(!valid_key(&"k".repeat(MAX_KEY_LEN + 1)));
        assert!(!valid_key(""));
    }
}
