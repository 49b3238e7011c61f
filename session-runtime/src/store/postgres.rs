//! The PostgresStore: its guide is the type's documentation.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::tokio_postgres::config::Host;
use deadpool_postgres::tokio_postgres::types::ToSql;
use deadpool_postgres::tokio_postgres::{self, NoTls, Row};
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use serde_json::value::RawValue;

use super::{
    BoxFuture, ConnectionOptions, ExpiredDeletion, Record, SessionStore, StoreError, Update,
    Updated,
};
use crate::id::StoreKey;
use crate::time::unix_now;

/// The table used unless [`PostgresOptions::table`] names another.
pub const DEFAULT_TABLE: &str = "sessions";

/// The longest table name accepted, so that the index name derived from it stays within
/// PostgreSQL's 63-byte limit.
const MAX_TABLE_LEN: usize = 48;

/// Rows deleted per statement by [`PostgresStore::purge_expired`].
const PURGE_BATCH: i64 = 1000;

/// The most batches one [`PostgresStore::purge_expired`] call deletes.
const PURGE_MAX_BATCHES: usize = 100;

/// Held while the table is created, so that processes starting together do not race.
const SCHEMA_LOCK: i64 = 0x5345_5353_494f_4e53; // "SESSIONS"

/// Settings of a [`PostgresStore`].
///
/// The defaults suit a database on the same network: the table `sessions`, at most 16
/// connections, 1 s to open a connection and 2 s for a whole store call. A `connect_timeout`
/// in the URL takes precedence over the connection timeout set here.
///
/// ```
/// use std::time::Duration;
/// use session_runtime::store::PostgresOptions;
///
/// let options = PostgresOptions::default()
///     .table("app_sessions")
///     .pool_size(8)
///     .operation_timeout(Duration::from_secs(1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostgresOptions {
    table: String,
    connection: ConnectionOptions,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            table: DEFAULT_TABLE.to_owned(),
            connection: ConnectionOptions::default(),
        }
    }
}

impl PostgresOptions {
    /// The table that holds the sessions (default `sessions`): a lowercase identifier of at
    /// most 48 characters (`a`-`z`, `0`-`9`, `_`, not starting with a digit). It lives in the
    /// connection's current schema; to use another schema, set `search_path` in the URL, for
    /// example `?options=-csearch_path%3Dapp`. Checked by [`PostgresStore::connect_with`].
    ///
    /// ```
    /// use session_runtime::store::PostgresOptions;
    ///
    /// let options = PostgresOptions::default().table("web_sessions");
    /// ```
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    crate::store::options::connection_setters!(PostgresOptions, pooled);
}

/// Whether `name` is accepted as a table name (see [`PostgresOptions::table`]).
fn valid_table(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_TABLE_LEN
        && !bytes[0].is_ascii_digit()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// The statements, with the table name filled in.
struct Sql {
    load: String,
    create: String,
    update: String,
    delete: String,
    purge: String,
}

impl Sql {
    fn new(table: &str) -> Sql {
        Sql {
            load: format!(
                "SELECT fields::text, created_at, expires_at, idle_timeout FROM \"{table}\" \
                 WHERE key = $1 AND expires_at > $2"
            ),
            create: format!(
                "INSERT INTO \"{table}\" (key, fields, created_at, expires_at, idle_timeout) \
                 VALUES ($1, $2::text::jsonb, $3, $4, $5) \
                 ON CONFLICT (key) DO UPDATE SET fields = EXCLUDED.fields, \
                 created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, \
                 idle_timeout = EXCLUDED.idle_timeout"
            ),
            update: format!(
                "UPDATE \"{table}\" SET fields = fields || $2::text::jsonb, expires_at = $3, \
                 idle_timeout = COALESCE($4, idle_timeout) \
                 WHERE key = $1 AND expires_at > $5"
            ),
            delete: format!("DELETE FROM \"{table}\" WHERE key = $1"),
            purge: format!(
                "DELETE FROM \"{table}\" WHERE expires_at <= $1 AND key IN \
                 (SELECT key FROM \"{table}\" WHERE expires_at <= $1 \
                 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            ),
        }
    }

    fn schema(table: &str) -> String {
        format!(
            "SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); \
             CREATE TABLE IF NOT EXISTS \"{table}\" (\
             key text PRIMARY KEY, fields jsonb NOT NULL, created_at bigint NOT NULL, \
             expires_at bigint NOT NULL, idle_timeout bigint); \
             CREATE INDEX IF NOT EXISTS \"{table}_expires_at_idx\" ON \"{table}\" (expires_at);"
        )
    }
}

/// A PostgreSQL store: sessions in one table, shared by every process that reaches the database.
///
/// Enabled by the `postgres` feature.
///
/// # Schema
///
/// One row per session, keyed by its [`StoreKey`] (the store prefix followed by the hex SHA-256
/// of prefix and id; the raw id never reaches the database). The store creates the table and its index
/// the first time it connects, when the table does not exist yet. To create them yourself, as a
/// migration (the store then needs only `SELECT`, `INSERT`, `UPDATE` and `DELETE` on the table),
/// run, with your table name in place of `sessions`:
///
/// ```sql
/// CREATE TABLE IF NOT EXISTS sessions (
///     key          text   PRIMARY KEY,
///     fields       jsonb  NOT NULL,
///     created_at   bigint NOT NULL,
///     expires_at   bigint NOT NULL,
///     idle_timeout bigint
/// );
/// CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
/// ```
///
/// | column | value |
/// | --- | --- |
/// | `key` | the [`StoreKey`] |
/// | `fields` | a JSON object: each stored field name with its JSON value |
/// | `created_at` | creation time, unix seconds |
/// | `expires_at` | expiry, unix seconds |
/// | `idle_timeout` | per-session idle timeout in seconds, `NULL` when none was set |
///
/// # Field values are jsonb
///
/// Every field must be one JSON value (the derive always writes JSON); anything else is refused
/// with a [`StoreError`]. PostgreSQL keeps `jsonb` in a parsed form, so what comes back is the
/// same value but not always the same bytes: whitespace is added after `:` and `,`, object keys
/// are reordered, duplicate keys keep their last value, and numbers are kept as `numeric`
/// (`1e3` comes back as `1000`, `-0.0` as `0.0`). A session loads the same either way, and the
/// engine compares each field's re-encoding with itself rather than with the stored bytes, so
/// this never causes extra writes. `jsonb` cannot hold the character U+0000 in a string: a
/// session field containing it fails to save with a [`StoreError`].
///
/// # Statements
///
/// Every operation is one prepared statement and so one round trip: `load` is a `SELECT` that
/// skips expired rows; `create` is an upsert; `update` is
///
/// ```sql
/// UPDATE sessions SET fields = fields || $2::text::jsonb, expires_at = $3,
///        idle_timeout = COALESCE($4, idle_timeout)
///  WHERE key = $1 AND expires_at > $5
/// ```
///
/// (`||` merges top-level keys, so two requests that change different fields both keep their
/// change, and a row that is gone or expired is never brought back); `delete` is a `DELETE`.
///
/// # Expiry
///
/// Expired rows are invisible to `load` and `update` at once. They are deleted by
/// [`PostgresStore::purge_expired`], which [`PostgresStore::spawn_sweeper`] runs periodically.
///
/// # Failures
///
/// Connections come from a pool and are replaced by themselves after the server restarts.
/// While the database is unreachable, every call fails with a [`StoreError`] within the
/// [operation timeout](PostgresOptions::operation_timeout) (2 s by default).
///
/// TLS is not supported: connect over a trusted network or a local socket (`sslmode=require`
/// in the URL is refused when connecting).
///
///
/// The store is a cheap handle over a connection pool: clones share it. It needs a tokio
/// runtime.
///
/// ```no_run
/// use std::time::Duration;
/// use session_runtime::store::PostgresStore;
///
/// # async fn run() -> Result<(), session_runtime::store::StoreError> {
/// let url = std::env::var("DATABASE_URL")
///     .unwrap_or_else(|_| "postgres://app@127.0.0.1:5432/app".into());
/// let store = PostgresStore::connect(&url).await?;
/// store.spawn_sweeper(Duration::from_secs(300));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    sql: Sql,
    table: String,
    operation_timeout: Duration,
    addr: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address only: the URL may carry a password.
        f.debug_struct("PostgresStore")
            .field("addr", &self.inner.addr)
            .field("table", &self.inner.table)
            .field("operation_timeout", &self.inner.operation_timeout)
            .finish()
    }
}

/// A failure of one attempt: from the pool or from the statement.
enum Failure {
    Pool(PoolError),
    Db(tokio_postgres::Error),
}

impl From<PoolError> for Failure {
    fn from(e: PoolError) -> Self {
        Failure::Pool(e)
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Db(e)
    }
}

impl Failure {
    /// Whether the connection broke (rather than the statement failing): worth one retry on a
    /// fresh connection when the broken one had been idle in the pool.
    fn connection_lost(&self) -> bool {
        match self {
            Failure::Db(e) => e.is_closed() || e.code().is_none(),
            Failure::Pool(_) => false,
        }
    }

    fn into_error(self, message: String) -> StoreError {
        match self {
            Failure::Pool(e) => StoreError::with_source(message, e),
            Failure::Db(e) => StoreError::with_source(message, e),
        }
    }
}

impl PostgresStore {
    /// Connects to the database at `url` with the default [`PostgresOptions`].
    ///
    /// `url` is a `DATABASE_URL`-style URL, `postgres://user:password@host:port/database`, or
    /// a key/value string such as `host=127.0.0.1 user=app dbname=app`. The table is created
    /// if it does not exist. Fails when the URL is malformed, the database cannot be reached
    /// within the operation timeout, or the table cannot be created, so that a misconfigured
    /// app stops at startup rather than at its first request.
    ///
    /// ```no_run
    /// use session_runtime::store::PostgresStore;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let store = PostgresStore::connect("postgres://app:secret@127.0.0.1:5432/app").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects to the database at `url` with the given table name, pool size and timeouts.
    ///
    /// ```no_run
    /// use session_runtime::store::PostgresStore;
    /// use session_runtime::store::PostgresOptions;
    ///
    /// # async fn run() -> Result<(), session_runtime::store::StoreError> {
    /// let options = PostgresOptions::default().table("web_sessions");
    /// let store =
    ///     PostgresStore::connect_with("postgres://app@127.0.0.1:5432/app", options).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with(
        url: &str,
        options: PostgresOptions,
    ) -> Result<PostgresStore, StoreError> {
        if !valid_table(&options.table) {
            return Err(StoreError::new(format!(
                "invalid PostgreSQL session table name {:?}: use 1 to {MAX_TABLE_LEN} lowercase \
                 letters, digits and underscores, not starting with a digit",
                options.table
            )));
        }
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::with_source(
                "invalid PostgreSQL URL: set DATABASE_URL to a URL such as \
                 postgres://user:password@127.0.0.1:5432/app",
                e,
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connection.get_connection_timeout());
        }
        if config.get_application_name().is_none() {
            config.application_name("session-runtime");
        }
        let addr = describe(&config);
        let connect_timeout = config
            .get_connect_timeout()
            .copied()
            .unwrap_or(options.connection.get_connection_timeout());
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.connection.get_pool_size())
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connection.get_operation_timeout()))
            .create_timeout(Some(connect_timeout))
            .recycle_timeout(Some(connect_timeout))
            .build()
            .map_err(|e| StoreError::with_source("cannot build the PostgreSQL pool", e))?;
        let store = PostgresStore {
            inner: Arc::new(Inner {
                pool,
                sql: Sql::new(&options.table),
                table: options.table,
                operation_timeout: options.connection.get_operation_timeout(),
                addr,
            }),
        };
        store.ensure_table().await?;
        Ok(store)
    }

    /// Creates the table and its index unless the table exists.
    async fn ensure_table(&self) -> Result<(), StoreError> {
        let inner = &*self.inner;
        let addr = &inner.addr;
        let attempt = async {
            let client = inner.pool.get().await?;
            let exists: bool = client
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&inner.table])
                .await?
                .get(0);
            if !exists {
                client.batch_execute(&Sql::schema(&inner.table)).await?;
            }
            Ok::<_, Failure>(())
        };
        let advice = "start PostgreSQL there or set DATABASE_URL to the address of a running \
                      PostgreSQL";
        match tokio::time::timeout(inner.operation_timeout, attempt).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Failure::Db(e))) if e.code().is_some() => Err(StoreError::with_source(
                format!(
                    "PostgreSQL at {addr} refused to create the session table \"{}\" (create it \
                     with the migration in the store's documentation, or grant CREATE)",
                    inner.table
                ),
                e,
            )),
            Ok(Err(failure)) => {
                Err(failure.into_error(format!("cannot reach PostgreSQL at {addr}: {advice}")))
            }
            Err(_) => Err(StoreError::new(format!(
                "cannot reach PostgreSQL at {addr}: no answer within {:?}; {advice}",
                inner.operation_timeout
            ))),
        }
    }

    /// Runs one statement on a pooled connection under the operation timeout. When a
    /// connection that had been idle in the pool turns out to be broken (the server restarted),
    /// the idle connections are dropped and the statement runs once more on a new one; every
    /// statement here is idempotent, so that is safe.
    async fn run(
        &self,
        name: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        mode: Mode,
    ) -> Result<Outcome, StoreError> {
        let inner = &*self.inner;
        let attempt = async {
            let client = inner.pool.get().await?;
            let reused = Object::metrics(&client).recycle_count > 0;
            match exec(&client, sql, params, mode).await {
                Ok(outcome) => Ok(outcome),
                Err(e) => {
                    let failure = Failure::Db(e);
                    if !(reused && failure.connection_lost()) {
                        return Err(failure);
                    }
                    drop(Object::take(client));
                    inner.pool.retain(|_, _| false);
                    let client = inner.pool.get().await?;
                    Ok(exec(&client, sql, params, mode).await?)
                }
            }
        };
        match tokio::time::timeout(inner.operation_timeout, attempt).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(failure)) => Err(failure.into_error(format!(
                "PostgreSQL session {name} failed (PostgreSQL at {})",
                inner.addr
            ))),
            Err(_) => Err(StoreError::new(format!(
                "PostgreSQL session {name} timed out after {:?} (PostgreSQL at {} unreachable or \
                 too slow)",
                inner.operation_timeout, inner.addr
            ))),
        }
    }

    /// Runs a statement that returns at most one row.
    async fn query_opt(
        &self,
        name: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        match self.run(name, sql, params, Mode::QueryOpt).await? {
            Outcome::Row(row) => Ok(row),
            Outcome::Count(_) => Ok(None),
        }
    }

    /// Runs a statement and returns the number of rows it changed.
    async fn execute(
        &self,
        name: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        match self.run(name, sql, params, Mode::Execute).await? {
            Outcome::Count(n) => Ok(n),
            Outcome::Row(_) => Ok(0),
        }
    }

    /// Deletes expired rows, in batches of 1,000 and at most 100,000 per call; returns how many
    /// were deleted. Several processes may purge at once: each skips the rows another is
    /// deleting.
    ///
    /// ```no_run
    /// # async fn run(store: session_runtime::store::PostgresStore) -> Result<(), session_runtime::store::StoreError> {
    /// let deleted = store.purge_expired().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = to_db(unix_now());
        let mut total = 0;
        for _ in 0..PURGE_MAX_BATCHES {
            let deleted = self
                .execute("purge", &self.inner.sql.purge, &[&now, &PURGE_BATCH])
                .await?;
            total += deleted;
            if deleted < PURGE_BATCH.unsigned_abs() {
                break;
            }
        }
        Ok(total)
    }

    /// Starts a task that calls [`purge_expired`](Self::purge_expired) every `interval`; it
    /// logs failures and ends once every handle to the store is dropped. Needs a tokio runtime.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// # async fn run(store: session_runtime::store::PostgresStore) {
    /// let sweeper = store.spawn_sweeper(Duration::from_secs(300));
    /// # }
    /// ```
    pub fn spawn_sweeper(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        super::sweeper::spawn(Arc::downgrade(&self.inner), "postgres", interval, |inner| {
            PostgresStore { inner }
        })
    }
}

impl ExpiredDeletion for PostgresStore {
    fn delete_expired(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.purge_expired())
    }
}

/// What a statement returns.
#[derive(Clone, Copy)]
enum Mode {
    QueryOpt,
    Execute,
}

enum Outcome {
    Row(Option<Row>),
    Count(u64),
}

/// Prepares (once per connection) and runs one statement.
async fn exec(
    client: &Object,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    mode: Mode,
) -> Result<Outcome, tokio_postgres::Error> {
    let statement = client.prepare_cached(sql).await?;
    Ok(match mode {
        Mode::QueryOpt => Outcome::Row(client.query_opt(&statement, params).await?),
        Mode::Execute => Outcome::Count(client.execute(&statement, params).await?),
    })
}

/// `host:port` of every configured host, for messages (never the password).
fn describe(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports
                .get(i)
                .or_else(|| ports.first())
                .copied()
                .unwrap_or(5432);
            match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    if hosts.is_empty() {
        "the default host".to_owned()
    } else {
        hosts.join(",")
    }
}

/// A timestamp as the `bigint` columns keep it.
fn to_db(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

/// The fields as one JSON object, each value checked to be exactly one JSON value.
fn fields_json<'a>(
    fields: impl IntoIterator<Item = &'a (String, Vec<u8>)>,
) -> Result<String, StoreError> {
    let mut out = String::from("{");
    for (name, value) in fields {
        let raw = serde_json::from_slice::<&RawValue>(value).map_err(|e| {
            StoreError::with_source(
                format!(
                    "session field `{name}` is not JSON; the PostgreSQL store keeps fields as jsonb"
                ),
                e,
            )
        })?;
        if out.len() > 1 {
            out.push(',');
        }
        // A string always serializes.
        out.push_str(&serde_json::to_string(name).unwrap_or_default());
        out.push(':');
        out.push_str(raw.get());
    }
    out.push('}');
    Ok(out)
}

/// A record from a row's columns; `None` (with a warning) when they do not make one.
fn decode(
    key: &StoreKey,
    fields: &str,
    created_at: i64,
    expires_at: i64,
    idle_timeout: Option<i64>,
) -> Option<Record> {
    let malformed = |what: &str| {
        tracing::warn!(%key, "malformed session row in PostgreSQL ({what}); treated as missing");
    };
    let Ok(map) = serde_json::from_str::<BTreeMap<String, &RawValue>>(fields) else {
        malformed("fields is not a JSON object");
        return None;
    };
    let (Ok(created_at), Ok(expires_at)) = (u64::try_from(created_at), u64::try_from(expires_at))
    else {
        malformed("negative time");
        return None;
    };
    let idle_timeout = match idle_timeout.map(u64::try_from) {
        None => None,
        Some(Ok(idle)) => Some(idle),
        Some(Err(_)) => {
            malformed("negative idle timeout");
            return None;
        }
    };
    Some(Record {
        fields: map
            .into_iter()
            .map(|(name, raw)| (name, raw.get().as_bytes().to_vec()))
            .collect(),
        created_at,
        expires_at,
        idle_timeout,
    })
}

impl SessionStore for PostgresStore {
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(async move {
            let now = to_db(now);
            let row = self
                .query_opt("load", &self.inner.sql.load, &[&key.as_str(), &now])
                .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let columns = (|| {
                Ok::<_, tokio_postgres::Error>((
                    row.try_get::<_, &str>(0)?,
                    row.try_get::<_, i64>(1)?,
                    row.try_get::<_, i64>(2)?,
                    row.try_get::<_, Option<i64>>(3)?,
                ))
            })();
            match columns {
                Ok((fields, created_at, expires_at, idle_timeout)) => {
                    Ok(decode(key, fields, created_at, expires_at, idle_timeout))
                }
                Err(e) => Err(StoreError::with_source(
                    format!(
                        "PostgreSQL session table \"{}\" has unexpected column types (see the \
                         store's documentation for the schema)",
                        self.inner.table
                    ),
                    e,
                )),
            }
        })
    }

    fn create<'a>(
        &'a self,
        key: &'a StoreKey,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let fields = fields_json(&record.fields)?;
            let created_at = to_db(record.created_at);
            let expires_at = to_db(record.expires_at);
            let idle_timeout = record.idle_timeout.map(to_db);
            self.execute(
                "create",
                &self.inner.sql.create,
                &[
                    &key.as_str(),
                    &fields,
                    &created_at,
                    &expires_at,
                    &idle_timeout,
                ],
            )
            .await?;
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
            let changed = fields_json(&update.changed)?;
            let expires_at = to_db(update.expires_at);
            let idle_timeout = update.idle_timeout.map(to_db);
            let now = to_db(now);
            let rows = self
                .execute(
                    "update",
                    &self.inner.sql.update,
                    &[&key.as_str(), &changed, &expires_at, &idle_timeout, &now],
                )
                .await?;
            Ok(if rows == 0 {
                Updated::Missing
            } else {
                Updated::Applied
            })
        })
    }

    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.execute("delete", &self.inner.sql.delete, &[&key.as_str()])
                .await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::SessionId;

    #[test]
    fn table_names_are_plain_identifiers() {
        for good in ["sessions", "_s", "app_sessions_2", &"s".repeat(48)] {
            assert!(valid_table(good), "{good}");
        }
        for bad in [
            "",
            "1sessions",
            "Sessions",
            "app.sessions",
            "s\"; DROP TABLE x; --",
            "ses sions",
            "séssions",
            &"s".repeat(49),
        ] {
            assert!(!valid_table(bad), "{bad}");
        }
    }

    #[test]
    fn fields_become_one_object_of_json_values() {
        let fields = vec![
            ("a".to_owned(), br#"{"x":[1,2]}"#.to_vec()),
            ("quote\"d".to_owned(), b" 1 ".to_vec()),
            ("s".to_owned(), b"\"text\"".to_vec()),
        ];
        let json = fields_json(&fields).unwrap();
        assert_eq!(json, r#"{"a":{"x":[1,2]},"quote\"d":1,"s":"text"}"#);
        assert_eq!(fields_json(&[]).unwrap(), "{}");
        for bad in [&b"not json"[..], b"", b"1 2", &[0xff]] {
            let err = fields_json(&[("f".to_owned(), bad.to_vec())]).unwrap_err();
            assert!(err.to_string().contains("`f`"), "{err}");
        }
    }

    #[test]
    fn rows_decode_or_are_missing() {
        let key = SessionId::generate().unwrap().store_key("t:");
        let record = decode(&key, r#"{"b": [1, 2], "a": 1}"#, 10, 100, Some(30)).unwrap();
        assert_eq!(
            record.fields,
            vec![
                ("a".into(), b"1".to_vec()),
                ("b".into(), b"[1, 2]".to_vec())
            ]
        );
        assert_eq!(
            (record.created_at, record.expires_at, record.idle_timeout),
            (10, 100, Some(30))
        );
        assert!(decode(&key, "[1]", 10, 100, None).is_none());
        assert!(decode(&key, "{}", -1, 100, None).is_none());
        assert!(decode(&key, "{}", 10, -100, None).is_none());
        assert!(decode(&key, "{}", 10, 100, Some(-1)).is_none());
    }
}
