//! The RedisStore: its guide is the type's documentation.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{
    Client, Cmd, ConnectionInfo, IntoConnectionInfo, Pipeline, RedisError, RedisFuture, Script,
    Value,
};

use super::{BoxFuture, ConnectionOptions, Record, SessionStore, StoreError, Update, Updated};
use crate::id::StoreKey;

/// Prefix of the hash fields that hold session fields.
const FIELD_PREFIX: &str = "f:";
/// Hash field holding the creation time.
const CREATED_AT: &str = "_c";
/// Hash field holding the expiry.
const EXPIRES_AT: &str = "_e";
/// Hash field holding the per-session idle timeout.
const IDLE_TIMEOUT: &str = "_t";

/// Writes an update if, and only if, the record exists and has not expired.
///
/// `KEYS[1]`: the record. `ARGV[1]`: now; `ARGV[2]`: new expiry; `ARGV[3]`: new idle timeout or
/// the empty string; `ARGV[4..]`: hash field / value pairs. Returns 1 when applied, 0 when the
/// record is missing, expired or has no readable expiry.
const UPDATE_SCRIPT: &str = r"
local e = tonumber(redis.call('HGET', KEYS[1], '_e'))
if e == nil or e <= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], '_e', ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], '_t', ARGV[3])
end
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1
";

/// Timeouts of a [`RedisStore`].
///
/// The defaults suit a Redis on the same network: 1 s to open a connection, 1 s for a reply,
/// and 2 s for a whole store call, waiting for a reconnection included.
///
/// ```no_run
/// use std::time::Duration;
/// use session_runtime::store::RedisStore;
/// use session_runtime::store::RedisOptions;
///
/// # async fn run() -> Result<(), session_runtime::store::StoreError> {
/// let options = RedisOptions::default()
///     .connection_timeout(Duration::from_millis(500))
///     .response_timeout(Duration::from_millis(500))
///     .operation_timeout(Duration::from_secs(1));
/// let store = RedisStore::connect_with("redis://127.0.0.1:6379/", options).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisOptions {
    connection: ConnectionOptions,
    response_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            connection: ConnectionOptions::default(),
            response_timeout: Duration::from_secs(1),
        }
    }
}

impl RedisOptions {
    crate::store::options::connection_setters!(RedisOptions);

    /// How long Redis may take to answer one command (default 1 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::store::RedisOptions;
    ///
    /// let options = RedisOptions::default().response_timeout(Duration::from_millis(300));
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }
}

/// A Redis store: sessions shared by every process that reaches the same Redis or Redis Cluster.
///
/// # Layout
///
/// Each session is one Redis hash under its [`StoreKey`] (the store prefix followed by the hex
/// SHA-256 of prefix and id; the raw id never reaches Redis), so every operation touches one key and
/// stays on one slot of a Redis Cluster:
///
/// | hash field | value |
/// | --- | --- |
/// | `f:<name>` | the JSON encoding of field `<name>` |
/// | `_c` | creation time, unix seconds |
/// | `_e` | expiry, unix seconds |
/// | `_t` | per-session idle timeout in seconds (absent when none was set) |
///
/// The key itself expires at `_e` (`EXPIREAT`), so Redis enforces both the idle and the absolute
/// limit and no sweeper is needed.
///
/// # Round trips
///
/// Every operation is one round trip: `load` is `HGETALL`; `create` is
/// `MULTI DEL HSET EXPIREAT EXEC` sent as one pipeline; `update` is one Lua script (`EVALSHA`)
/// that writes the changed fields and the new expiry only if the record still exists and has not
/// expired, so a destroyed session is never brought back; `delete` is `DEL`.
///
/// # Redis Cluster
///
/// Give [`RedisStore::connect`] a comma-separated list of node URLs (or call
/// [`RedisStore::connect_cluster`]) to use a Redis Cluster instead of one server:
///
/// ```text
/// REDIS_URL=redis://10.0.0.1:7000,redis://10.0.0.2:7000,redis://10.0.0.3:7000
/// ```
///
/// The nodes listed are only where the store starts: it reads the slot map from the first one
/// that answers and then talks to every master directly. Listing a few nodes lets the store start
/// while one of them is down. Empty entries are ignored, so a single URL followed by a comma
/// (`redis://10.0.0.1:7000,`) selects the cluster client with one starting node. Cluster nodes
/// have only database 0: a URL naming another database is refused.
///
/// Since each operation touches one key, each one goes to the master of that key's slot, the
/// `create` transaction and the `update` script included; no hash tags are needed. When a master
/// fails, the store follows the cluster: it refreshes the slot map and reaches the replica that
/// took over, with no reconnection by the application. While the slot has no master (between the
/// failure and the promotion, about the cluster's `cluster-node-timeout` plus an election), calls
/// for the sessions on that master fail with a [`StoreError`] within the operation timeout (with
/// the default `cluster-require-full-coverage yes`, Redis refuses every slot during that time).
/// Loads may be answered sooner by the replica itself, from its copy of the failed master's data.
/// Replication is asynchronous, so a write acknowledged just before a master dies may be lost
/// with it, as with any Redis replica.
///
/// # Failures
///
/// The connection reconnects by itself after Redis restarts or the network drops. While Redis is
/// unreachable, every call fails with a [`StoreError`] within the
/// [operation timeout](RedisOptions::operation_timeout) (2 s by default) instead of waiting.
///
///
/// The store is a cheap handle over one multiplexed connection that reconnects by itself (or,
/// for a Redis Cluster, one per master, following the slot map): clones share it. It needs a
/// tokio runtime.
///
/// ```no_run
/// use session_runtime::store::RedisStore;
///
/// # async fn run() -> Result<(), session_runtime::store::StoreError> {
/// // One server, or a comma-separated list of Redis Cluster nodes.
/// let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
/// let store = RedisStore::connect(&url).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: Connection,
    update_script: Script,
    operation_timeout: Duration,
    addr: String,
}

/// The connection behind a store: one server, or a cluster. Both speak [`ConnectionLike`], so
/// every store operation is written once.
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Connection {
    fn kind(&self) -> &'static str {
        match self {
            Connection::Single(_) => "Redis",
            Connection::Cluster(_) => "Redis Cluster",
        }
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(conn) => conn.req_packed_command(cmd),
            Connection::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(conn) => conn.get_db(),
            Connection::Cluster(conn) => conn.get_db(),
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The addresses only: the URLs may carry a password.
        f.debug_struct("RedisStore")
            .field("kind", &self.conn.kind())
            .field("addr", &self.addr)
            .field("operation_timeout", &self.operation_timeout)
            .finish()
    }
}

impl RedisStore {
    /// Connects with the default [`RedisOptions`] to the Redis at `url`
    /// (`redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS when the `redis` crate
    /// is built with TLS support), or, when `url` is a comma-separated list of such URLs, to the
    /// Redis Cluster those nodes belong to (see [`connect_cluster`](Self::connect_cluster)).
    ///
    /// Fails when a URL is malformed or Redis cannot be reached within the operation timeout,
    /// so a misconfigured app stops at startup rather than at its first request.
    ///
    /// ```no_run
    /// use session_runtime::store::RedisStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
    /// let cluster =
    ///     RedisStore::connect("redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002")
    ///         .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<RedisStore, StoreError> {
        RedisStore::connect_with(url, RedisOptions::default()).await
    }

    /// Connects to the Redis at `url`, or to the Redis Cluster of a comma-separated list of node
    /// URLs, with the given timeouts.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::store::RedisStore;
    /// use session_runtime::store::RedisOptions;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let options = RedisOptions::default().operation_timeout(Duration::from_secs(1));
    /// let store = RedisStore::connect_with("redis://127.0.0.1:6379/", options).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with(url: &str, options: RedisOptions) -> Result<RedisStore, StoreError> {
        if url.contains(',') {
            let urls: Vec<&str> = url.split(',').collect();
            return RedisStore::connect_cluster_with(&urls, options).await;
        }
        let client = Client::open(url).map_err(|e| {
            StoreError::with_source(
                "invalid Redis URL: set REDIS_URL to a URL such as redis://127.0.0.1:6379/",
                e,
            )
        })?;
        let addr = client.get_connection_info().addr().to_string();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connection.get_connection_timeout()))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config);
        RedisStore::finish_connect(
            "Redis",
            addr,
            async { conn.await.map(Connection::Single) },
            options,
        )
        .await
    }

    /// Connects to the Redis Cluster that the nodes at `urls` belong to, with the default
    /// [`RedisOptions`].
    ///
    /// The store reads the slot map from the first node that answers and then follows the
    /// cluster by itself: redirections, new masters after a failover, nodes coming back. Each
    /// URL is `redis://[user:password@]host[:port]` (or `rediss://`); all must carry the same
    /// credentials and none may name a database other than 0.
    ///
    /// Fails when `urls` is empty, a URL is malformed, or no node answers with the slot map
    /// within the operation timeout (a Redis without cluster mode is refused here too).
    ///
    /// ```no_run
    /// use session_runtime::store::RedisStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let store = RedisStore::connect_cluster(&[
    ///     "redis://127.0.0.1:7000",
    ///     "redis://127.0.0.1:7001",
    ///     "redis://127.0.0.1:7002",
    /// ])
    /// .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_cluster(urls: &[&str]) -> Result<RedisStore, StoreError> {
        RedisStore::connect_cluster_with(urls, RedisOptions::default()).await
    }

    /// Connects to the Redis Cluster that the nodes at `urls` belong to, with the given
    /// timeouts: the connection and response timeouts apply to each node, the operation timeout
    /// to a whole store call (redirections and retries during a failover included).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::store::RedisStore;
    /// use session_runtime::store::RedisOptions;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let options = RedisOptions::default().operation_timeout(Duration::from_secs(1));
    /// let store =
    ///     RedisStore::connect_cluster_with(&["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"], options)
    ///         .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_cluster_with(
        urls: &[&str],
        options: RedisOptions,
    ) -> Result<RedisStore, StoreError> {
        const HINT: &str = "set REDIS_URL to a comma-separated list of Redis Cluster node URLs \
                            such as redis://127.0.0.1:7000,redis://127.0.0.1:7001";
        let mut nodes: Vec<ConnectionInfo> = Vec::with_capacity(urls.len());
        for url in urls
            .iter()
            .map(|url| url.trim())
            .filter(|url| !url.is_empty())
        {
            let info = url.into_connection_info().map_err(|e| {
                StoreError::with_source(format!("invalid Redis Cluster node URL: {HINT}"), e)
            })?;
            if info.redis_settings().db() != 0 {
                return Err(StoreError::new(format!(
                    "invalid Redis Cluster node URL for {}: a cluster has only database 0, so \
                     the URL must not name another; {HINT}",
                    info.addr()
                )));
            }
            nodes.push(info);
        }
        if nodes.is_empty() {
            return Err(StoreError::new(format!(
                "no Redis Cluster node URL given: {HINT}"
            )));
        }
        let addr = nodes
            .iter()
            .map(|node| node.addr().to_string())
            .collect::<Vec<_>>()
            .join(",");
        // Each attempt is bounded by the connection and response timeouts, and a whole request
        // (redirections, reconnections and the retries of a failover included) by the operation
        // timeout; `run` bounds it again from outside.
        let client = ClusterClientBuilder::new(nodes)
            .connection_timeout(options.connection.get_connection_timeout())
            .response_timeout(options.response_timeout)
            .overall_response_timeout(Some(options.connection.get_operation_timeout()))
            .retries(6)
            .min_retry_wait(50)
            .max_retry_wait(500)
            .build()
            .map_err(|e| {
                StoreError::with_source(format!("invalid Redis Cluster node URLs: {HINT}"), e)
            })?;
        RedisStore::finish_connect(
            "Redis Cluster",
            addr,
            async { client.get_async_connection().await.map(Connection::Cluster) },
            options,
        )
        .await
    }

    /// Opens the connection and loads the update script, both within the operation timeout.
    async fn finish_connect(
        kind: &str,
        addr: String,
        connect: impl Future<Output = Result<Connection, RedisError>>,
        options: RedisOptions,
    ) -> Result<RedisStore, StoreError> {
        let deadline = options.connection.get_operation_timeout();
        let timed_out = || {
            StoreError::new(format!(
                "cannot reach {kind} at {addr}: no answer within {deadline:?}; start {kind} \
                 there or set REDIS_URL to the address of a running {kind}"
            ))
        };
        let mut conn = tokio::time::timeout(deadline, connect)
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| {
                StoreError::with_source(
                    format!(
                        "cannot reach {kind} at {addr}: start {kind} there or set REDIS_URL to \
                         the address of a running {kind}"
                    ),
                    e,
                )
            })?;
        let update_script = Script::new(UPDATE_SCRIPT);
        // Loaded now so that the first update is a single EVALSHA (on a cluster, into every
        // master; a master that lacks it later, such as a promoted replica, gets it on first
        // use).
        tokio::time::timeout(deadline, update_script.load_async(&mut conn))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| {
                StoreError::with_source(
                    format!(
                        "{kind} at {addr} refused the update script (Lua scripting must be \
                         enabled)"
                    ),
                    e,
                )
            })?;
        Ok(RedisStore {
            conn,
            update_script,
            operation_timeout: options.connection.get_operation_timeout(),
            addr,
        })
    }

    /// Runs one store operation under the operation timeout, turning failures into
    /// [`StoreError`]s that say which operation failed and where.
    async fn run<T>(
        &self,
        op: &str,
        fut: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        let kind = self.conn.kind();
        match tokio::time::timeout(self.operation_timeout, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(StoreError::with_source(
                format!("Redis session {op} failed ({kind} at {})", self.addr),
                e,
            )),
            Err(_) => Err(StoreError::new(format!(
                "Redis session {op} timed out after {:?} ({kind} at {} unreachable or too slow)",
                self.operation_timeout, self.addr
            ))),
        }
    }
}

/// Reads a record from the `HGETALL` reply; `None` when the hash is empty, expired or malformed.
fn decode(key: &StoreKey, reply: Vec<(Vec<u8>, Vec<u8>)>, now: u64) -> Option<Record> {
    if reply.is_empty() {
        return None;
    }
    let malformed = |what: &str| {
        tracing::warn!(%key, "malformed session record in Redis ({what}); treated as missing");
    };
    let number = |value: &[u8]| std::str::from_utf8(value).ok()?.parse::<u64>().ok();
    let mut record = Record::default();
    let (mut created_at, mut expires_at) = (None, None);
    for (name, value) in reply {
        let Ok(name) = String::from_utf8(name) else {
            malformed("non-UTF-8 field name");
            return None;
        };
        if let Some(field) = name.strip_prefix(FIELD_PREFIX) {
            record.fields.push((field.to_owned(), value));
            continue;
        }
        let slot = match name.as_str() {
            CREATED_AT => &mut created_at,
            EXPIRES_AT => &mut expires_at,
            IDLE_TIMEOUT => &mut record.idle_timeout,
            _ => {
                malformed("unknown field");
                return None;
            }
        };
        let Some(parsed) = number(&value) else {
            malformed("bad number");
            return None;
        };
        *slot = Some(parsed);
    }
    let (Some(created_at), Some(expires_at)) = (created_at, expires_at) else {
        malformed("missing creation or expiry time");
        return None;
    };
    if expires_at <= now {
        return None;
    }
    record.created_at = created_at;
    record.expires_at = expires_at;
    record.fields.sort_by(|a, b| a.0.cmp(&b.0));
    Some(record)
}

impl SessionStore for RedisStore {
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let reply: Vec<(Vec<u8>, Vec<u8>)> = self
                .run(
                    "load",
                    redis::cmd("HGETALL")
                        .arg(key.as_str())
                        .query_async(&mut conn),
                )
                .await?;
            Ok(decode(key, reply, now))
        })
    }

    fn create<'a>(
        &'a self,
        key: &'a StoreKey,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut hset = redis::cmd("HSET");
            hset.arg(key.as_str())
                .arg(CREATED_AT)
                .arg(record.created_at)
                .arg(EXPIRES_AT)
                .arg(record.expires_at);
            if let Some(idle) = record.idle_timeout {
                hset.arg(IDLE_TIMEOUT).arg(idle);
            }
            for (name, value) in &record.fields {
                hset.arg(format!("{FIELD_PREFIX}{name}"))
                    .arg(value.as_slice());
            }
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("DEL")
                .arg(key.as_str())
                .ignore()
                .add_command(hset)
                .ignore()
                .cmd("EXPIREAT")
                .arg(key.as_str())
                .arg(record.expires_at)
                .ignore();
            let mut conn = self.conn.clone();
            let _: Value = self.run("create", pipe.query_async(&mut conn)).await?;
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
            let mut invocation = self.update_script.key(key.as_str());
            invocation.arg(now).arg(update.expires_at);
            match update.idle_timeout {
                Some(idle) => invocation.arg(idle),
                None => invocation.arg(""),
            };
            for (name, value) in &update.changed {
                invocation
                    .arg(format!("{FIELD_PREFIX}{name}"))
                    .arg(value.as_slice());
            }
            let mut conn = self.conn.clone();
            let applied: i64 = self
                .run("update", invocation.invoke_async(&mut conn))
                .await?;
            Ok(if applied == 1 {
                Updated::Applied
            } else {
                Updated::Missing
            })
        })
    }

    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let _: i64 = self
                .run(
                    "delete",
                    redis::cmd("DEL").arg(key.as_str()).query_async(&mut conn),
                )
                .await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::SessionId;

    fn key() -> StoreKey {
        SessionId::generate().unwrap().store_key("t:")
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        items
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn decodes_a_well_formed_record() {
        let reply = pairs(&[
            ("_c", "10"),
            ("_e", "100"),
            ("_t", "30"),
            ("f:b", "2"),
            ("f:a", "1"),
        ]);
        let record = decode(&key(), reply, 50).unwrap();
        assert_eq!(record.created_at, 10);
        assert_eq!(record.expires_at, 100);
        assert_eq!(record.idle_timeout, Some(30));
        assert_eq!(
            record.fields,
            vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())]
        );
    }

    #[test]
    fn malformed_or_expired_records_are_missing() {
        let k = key();
        for reply in [
            pairs(&[]),
            pairs(&[("_c", "10"), ("_e", "50")]),
            pairs(&[("_c", "10"), ("_e", "nope")]),
            pairs(&[("_c", "10"), ("_e", "-5")]),
            pairs(&[("_c", "10"), ("_e", "100"), ("_x", "1")]),
            pairs(&[("_c", "10"), ("_e", "100"), ("plain", "1")]),
            pairs(&[("_c", "10"), ("_e", "100"), ("_t", "")]),
            pairs(&[("_e", "100")]),
            vec![(vec![0xff], b"1".to_vec())],
        ] {
            assert!(decode(&k, reply.clone(), 50).is_none(), "{reply:?}");
        }
    }
}
