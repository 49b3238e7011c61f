//! A Redis store: sessions shared by every process that reaches the same Redis.
//!
//! # Layout
//!
//! Each session is one Redis hash under its [`StoreKey`] (the store prefix followed by the hex
//! SHA-256 of the id; the raw id never reaches Redis), so every operation touches one key and
//! stays on one slot of a Redis Cluster:
//!
//! | hash field | value |
//! | --- | --- |
//! | `f:<name>` | the JSON encoding of field `<name>` |
//! | `_c` | creation time, unix seconds |
//! | `_e` | expiry, unix seconds |
//! | `_t` | per-session idle timeout in seconds (absent when none was set) |
//!
//! The key itself expires at `_e` (`EXPIREAT`), so Redis enforces both the idle and the absolute
//! limit and no sweeper is needed.
//!
//! # Round trips
//!
//! Every operation is one round trip: `load` is `HGETALL`; `create` is
//! `MULTI DEL HSET EXPIREAT EXEC` sent as one pipeline; `update` is one Lua script (`EVALSHA`)
//! that writes the changed fields and the new expiry only if the record still exists and has not
//! expired, so a destroyed session is never brought back; `delete` is `DEL`.
//!
//! # Failures
//!
//! The connection reconnects by itself after Redis restarts or the network drops. While Redis is
//! unreachable, every call fails with a [`StoreError`] within the
//! [operation timeout](RedisOptions::operation_timeout) (2 s by default) instead of waiting.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, Script, Value};

use super::{BoxFuture, Record, SessionStore, StoreError, Update, Updated};
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
/// use session_runtime::store::redis::RedisOptions;
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
    connection_timeout: Duration,
    response_timeout: Duration,
    operation_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            connection_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
            operation_timeout: Duration::from_secs(2),
        }
    }
}

impl RedisOptions {
    /// How long one attempt to open a connection may take (default 1 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::store::redis::RedisOptions;
    ///
    /// let options = RedisOptions::default().connection_timeout(Duration::from_millis(300));
    /// ```
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How long Redis may take to answer one command (default 1 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::store::redis::RedisOptions;
    ///
    /// let options = RedisOptions::default().response_timeout(Duration::from_millis(300));
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The longest a store call may take, waiting for a reconnection included (default 2 s).
    /// Past it the call fails with a [`StoreError`]. It also bounds [`RedisStore::connect`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::store::redis::RedisOptions;
    ///
    /// let options = RedisOptions::default().operation_timeout(Duration::from_secs(1));
    /// ```
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }
}

/// Sessions in Redis, one hash per session (see the [module docs](self) for the layout).
///
/// The store is a cheap handle over one multiplexed connection that reconnects by itself:
/// clones share it. It needs a tokio runtime.
///
/// ```no_run
/// use session_runtime::store::RedisStore;
///
/// # async fn run() -> Result<(), session_runtime::store::StoreError> {
/// let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
/// let store = RedisStore::connect(&url).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    update_script: Script,
    operation_timeout: Duration,
    addr: String,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address only: the URL may carry a password.
        f.debug_struct("RedisStore")
            .field("addr", &self.addr)
            .field("operation_timeout", &self.operation_timeout)
            .finish()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[user:password@]host[:port][/db]`, or
    /// `rediss://` for TLS when the `redis` crate is built with TLS support) with the default
    /// [`RedisOptions`].
    ///
    /// Fails when the URL is malformed or Redis cannot be reached within the operation timeout,
    /// so a misconfigured app stops at startup rather than at its first request.
    ///
    /// ```no_run
    /// use session_runtime::store::RedisStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<RedisStore, StoreError> {
        RedisStore::connect_with(url, RedisOptions::default()).await
    }

    /// Connects to the Redis at `url` with the given timeouts.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use session_runtime::store::RedisStore;
    /// use session_runtime::store::redis::RedisOptions;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let options = RedisOptions::default().operation_timeout(Duration::from_secs(1));
    /// let store = RedisStore::connect_with("redis://127.0.0.1:6379/", options).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with(url: &str, options: RedisOptions) -> Result<RedisStore, StoreError> {
        let client = Client::open(url).map_err(|e| {
            StoreError::with_source(
                "invalid Redis URL: set REDIS_URL to a URL such as redis://127.0.0.1:6379/",
                e,
            )
        })?;
        let addr = client.get_connection_info().addr().to_string();
        let unreachable = |e: RedisError| {
            StoreError::with_source(
                format!(
                    "cannot reach Redis at {addr}: start Redis there or set REDIS_URL to the \
                     address of a running Redis"
                ),
                e,
            )
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connection_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let deadline = options.operation_timeout;
        let timed_out = || {
            StoreError::new(format!(
                "cannot reach Redis at {addr}: no answer within {deadline:?}; start Redis there \
                 or set REDIS_URL to the address of a running Redis"
            ))
        };
        let mut conn =
            tokio::time::timeout(deadline, ConnectionManager::new_with_config(client, config))
                .await
                .map_err(|_| timed_out())?
                .map_err(unreachable)?;
        let update_script = Script::new(UPDATE_SCRIPT);
        // Loaded now so that the first update is a single EVALSHA.
        tokio::time::timeout(deadline, update_script.load_async(&mut conn))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| {
                StoreError::with_source(
                    format!(
                        "Redis at {addr} refused the update script (Lua scripting must be enabled)"
                    ),
                    e,
                )
            })?;
        Ok(RedisStore {
            conn,
            update_script,
            operation_timeout: options.operation_timeout,
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
        match tokio::time::timeout(self.operation_timeout, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(StoreError::with_source(
                format!("Redis session {op} failed (Redis at {})", self.addr),
                e,
            )),
            Err(_) => Err(StoreError::new(format!(
                "Redis session {op} timed out after {:?} (Redis at {} unreachable or too slow)",
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
