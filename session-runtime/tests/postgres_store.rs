//! The PostgreSQL store against a real PostgreSQL started by each test in its own directory on
//! its own port: the shared store suite, then what only PostgreSQL has (its table and jsonb
//! layout, purging, malformed rows).

#![cfg(feature = "postgres")]

use std::time::{Duration, Instant};

use session_runtime::StoreKey;
use session_runtime::store::PostgresOptions;
use session_runtime::store::{PostgresStore, Record, SessionStore, StoreError};
use session_test_support::clock::now;
use session_test_support::ports::free_port;
use session_test_support::postgres_server::PostgresServer;
use session_test_support::records::{new_key, record, update};
use session_test_support::store_suite::{ServerFixture, StoreFixture, no_hang};
use tokio_postgres::{Client, NoTls};

/// A plain connection to inspect the database directly.
async fn raw(server: &PostgresServer) -> Client {
    let (client, connection) = tokio_postgres::connect(&server.url(), NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

async fn count(client: &Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM \"{table}\""), &[])
        .await
        .unwrap()
        .get(0)
}

async fn exists(client: &Client, key: &StoreKey) -> bool {
    client
        .query_one(
            "SELECT count(*) FROM sessions WHERE key = $1",
            &[&key.as_str()],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

/// A PostgreSQL of its own, a store on it, and a plain client to look inside.
struct PostgresFixture {
    server: PostgresServer,
    store: PostgresStore,
    client: Client,
    logging: bool,
}

impl PostgresFixture {
    async fn on(server: PostgresServer, logging: bool) -> Self {
        let store = PostgresStore::connect(&server.url()).await.unwrap();
        let client = raw(&server).await;
        PostgresFixture {
            server,
            store,
            client,
            logging,
        }
    }
}

impl StoreFixture for PostgresFixture {
    type Store = PostgresStore;

    async fn start() -> Self {
        PostgresFixture::on(PostgresServer::start(), false).await
    }

    async fn start_logging() -> Self {
        PostgresFixture::on(PostgresServer::start_logging_statements(), true).await
    }

    fn store(&self) -> &PostgresStore {
        &self.store
    }

    async fn record_count(&self) -> u64 {
        count(&self.client, "sessions").await as u64
    }

    async fn holds(&self, key: &StoreKey) -> bool {
        exists(&self.client, key).await
    }

    async fn raw_contents(&self, _key: &StoreKey) -> Vec<Vec<u8>> {
        let rows = self
            .client
            .query("SELECT key, fields::text FROM sessions", &[])
            .await
            .unwrap();
        rows.iter()
            .flat_map(|row| {
                [
                    row.get::<_, &str>(0).as_bytes().to_vec(),
                    row.get::<_, &str>(1).as_bytes().to_vec(),
                ]
            })
            .collect()
    }

    /// The statements the server logged, with their parameters.
    fn command_log(&self) -> Option<String> {
        self.logging.then(|| self.server.log())
    }

    /// One row, the fields as one jsonb object.
    async fn assert_layout(&self, key: &StoreKey, created: &Record) {
        let row = self
            .client
            .query_one(
                "SELECT fields->>'user', (fields->'count')::int, created_at, expires_at, \
                 idle_timeout FROM sessions WHERE key = $1",
                &[&key.as_str()],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, &str>(0), "ada");
        assert_eq!(row.get::<_, i32>(1), 1);
        assert_eq!(row.get::<_, i64>(2), created.created_at as i64);
        assert_eq!(row.get::<_, i64>(3), created.expires_at as i64);
        assert_eq!(row.get::<_, Option<i64>>(4), Some(300));
    }

    /// The `expires_at` column, which purging goes by.
    async fn assert_backing_expiry(&self, key: &StoreKey, expires_at: u64) {
        let row = self
            .client
            .query_one(
                "SELECT expires_at FROM sessions WHERE key = $1",
                &[&key.as_str()],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), expires_at as i64);
    }
}

impl ServerFixture for PostgresFixture {
    const NAME: &'static str = "PostgreSQL";
    const URL_VARIABLE: &'static str = "DATABASE_URL";
    const BAD_URL: &'static str = "not a url";
    const KEEPS_DATA: bool = true;
    const RECONNECTS_AT_ONCE: bool = true;
    const FAILS_WITHIN: Duration = Duration::from_secs(10);
    const CONNECT_FAILS_WITHIN: Duration = Duration::from_secs(10);

    fn stop(&mut self) {
        self.server.stop();
    }

    fn restart(&mut self) {
        self.server.restart();
    }

    fn url_on(port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/postgres")
    }

    async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect(url).await
    }

    async fn connect_failing_fast(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with(
            url,
            PostgresOptions::default().operation_timeout(Duration::from_secs(1)),
        )
        .await
    }
}

session_test_support::store_suite!(PostgresFixture: data, outage);

#[tokio::test]
async fn jsonb_keeps_the_value_not_the_bytes() {
    let server = PostgresServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    let client = raw(&server).await;
    let key = new_key();
    let far = now() + 600;
    let values = [
        (
            "object",
            r#"{"zeta":1,"a":[true,null,"x"],"nested":{"k":-2.5}}"#,
        ),
        ("text", r#""line\nbreak \"quoted\" é""#),
        ("big", "18446744073709551615"),
        ("float", "0.1"),
        ("empty", "{}"),
    ];
    store.create(&key, &record(&values, far)).await.unwrap();
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.fields.len(), values.len());
    for (name, value) in values {
        assert_eq!(
            json(loaded.field(name).unwrap()),
            json(value.as_bytes()),
            "{name}"
        );
    }
    // Scalars come back byte for byte.
    assert_eq!(loaded.field("big"), Some(&b"18446744073709551615"[..]));
    assert_eq!(loaded.field("float"), Some(&b"0.1"[..]));

    // A field that is not JSON is refused, on create and on update, and nothing is written.
    let other = new_key();
    let err = store
        .create(&other, &record(&[("bad", "not json")], far))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`bad`"), "{err}");
    assert!(!exists(&client, &other).await);
    let err = store
        .update(&key, &update(&[("ok", "1"), ("bad", "{")], far), now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`bad`"), "{err}");
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert!(loaded.field("ok").is_none());

    // jsonb cannot hold U+0000: an error, not a panic or a silent loss.
    assert!(
        store
            .update(&key, &update(&[("nul", r#""a\u0000b""#)], far), now())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn expired_records_are_invisible_and_swept() {
    let server = PostgresServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    let client = raw(&server).await;

    // A live record, which purging must leave alone.
    let key = new_key();
    store
        .create(&key, &record(&[("a", "1")], now() + 1000))
        .await
        .unwrap();

    // Records created already expired are never visible; purge_expired deletes them and only
    // them.
    let mut expired = Vec::new();
    for _ in 0..5 {
        let past = new_key();
        store
            .create(&past, &record(&[("a", "1")], now() - 1))
            .await
            .unwrap();
        assert!(store.load(&past, now()).await.unwrap().is_none());
        assert!(exists(&client, &past).await);
        expired.push(past);
    }
    assert_eq!(store.purge_expired().await.unwrap(), 5);
    for past in &expired {
        assert!(!exists(&client, past).await);
    }
    assert!(exists(&client, &key).await);
    assert_eq!(store.purge_expired().await.unwrap(), 0);

    // The sweeper does the same by itself, and ends when the store is dropped.
    let past = new_key();
    store
        .create(&past, &record(&[("a", "1")], now() - 1))
        .await
        .unwrap();
    let sweeper = store.spawn_sweeper(Duration::from_millis(50));
    let deadline = Instant::now() + Duration::from_secs(10);
    while exists(&client, &past).await {
        assert!(Instant::now() < deadline, "the sweeper left an expired row");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exists(&client, &key).await);
    drop(store);
    tokio::time::timeout(Duration::from_secs(10), sweeper)
        .await
        .expect("the sweeper ended after the store was dropped")
        .unwrap();
}

#[tokio::test]
async fn malformed_rows_are_missing_not_panics() {
    let server = PostgresServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    let client = raw(&server).await;
    let far = now() as i64 + 600;
    for (fields, created_at, idle) in [
        ("[1,2]", 1_i64, None),
        ("\"text\"", 1, None),
        ("{}", -1, None),
        ("{}", 1, Some(-5_i64)),
    ] {
        let key = new_key();
        client
            .execute(
                "INSERT INTO sessions VALUES ($1, $2::text::jsonb, $3, $4, $5)",
                &[&key.as_str(), &fields, &created_at, &far, &idle],
            )
            .await
            .unwrap();
        assert!(
            store.load(&key, now()).await.unwrap().is_none(),
            "{fields} {created_at} {idle:?}"
        );
    }
}

#[tokio::test]
async fn table_name_is_configurable_and_checked() {
    let server = PostgresServer::start();
    let client = raw(&server).await;
    let options = PostgresOptions::default().table("web_sessions");

    // Several processes starting at once all find the table.
    let mut connecting = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let url = server.url();
        let options = options.clone();
        connecting.spawn(async move { PostgresStore::connect_with(&url, options).await });
    }
    let mut stores = Vec::new();
    while let Some(store) = connecting.join_next().await {
        stores.push(store.unwrap().unwrap());
    }
    let key = new_key();
    stores[0]
        .create(&key, &record(&[("a", "1")], now() + 600))
        .await
        .unwrap();
    assert!(stores[3].load(&key, now()).await.unwrap().is_some());
    assert_eq!(count(&client, "web_sessions").await, 1);
    let default_table: Option<String> = client
        .query_one("SELECT to_regclass('sessions')::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(default_table, None);
    let index: Option<String> = client
        .query_one(
            "SELECT to_regclass('web_sessions_expires_at_idx')::text",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(index.as_deref(), Some("web_sessions_expires_at_idx"));

    for bad in ["", "Sessions", "s; DROP TABLE web_sessions", "a.b", "9s"] {
        let err = PostgresStore::connect_with(&server.url(), PostgresOptions::default().table(bad))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("table name"), "{err}");
    }
    assert_eq!(count(&client, "web_sessions").await, 1);
}

#[tokio::test]
async fn connect_errors_keep_the_password_out() {
    let port = free_port();
    let err = no_hang(
        "connect",
        PostgresStore::connect(&format!(
            "postgres://app:hunter2secret@127.0.0.1:{port}/postgres"
        )),
    )
    .await
    .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2secret"));
}
