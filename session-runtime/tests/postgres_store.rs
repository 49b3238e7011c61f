//! The PostgreSQL store against a real PostgreSQL started by each test in its own directory on
//! its own port.

#![cfg(feature = "postgres")]

use std::time::{Duration, Instant};

use session_runtime::SessionId;
use session_runtime::StoreKey;
use session_runtime::store::postgres::PostgresOptions;
use session_runtime::store::{PostgresStore, SessionStore, Updated};
use session_test_support::clock::now;
use session_test_support::postgres_server::PostgresServer;
use session_test_support::records::{self, new_key, record, update};
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

#[tokio::test]
async fn create_load_update_delete_round_trip() {
    let server = PostgresServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    let client = raw(&server).await;
    let key = new_key();
    let far = now() + 600;

    assert!(store.load(&key, now()).await.unwrap().is_none());

    let mut created = record(&[("user", "\"ada\""), ("count", "1")], far);
    created.idle_timeout = Some(300);
    store.create(&key, &created).await.unwrap();
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.created_at, created.created_at);
    assert_eq!(loaded.expires_at, far);
    assert_eq!(loaded.idle_timeout, Some(300));
    assert_eq!(loaded.field("user"), Some(&b"\"ada\""[..]));
    assert_eq!(loaded.field("count"), Some(&b"1"[..]));
    assert_eq!(loaded.fields.len(), 2);

    // The layout: one row, the fields as one jsonb object.
    let row = client
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
    assert_eq!(row.get::<_, i64>(3), far as i64);
    assert_eq!(row.get::<_, Option<i64>>(4), Some(300));

    records::updates_write_only_changed_fields(&store, &key, far, created.created_at).await;

    // A create replaces whatever was there.
    store
        .create(&key, &record(&[("only", "0")], far))
        .await
        .unwrap();
    let replaced = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(replaced.fields, vec![("only".to_owned(), b"0".to_vec())]);
    assert_eq!(replaced.idle_timeout, None);

    store.delete(&key).await.unwrap();
    assert!(store.load(&key, now()).await.unwrap().is_none());
    assert!(!exists(&client, &key).await);
    // Deleting again is fine.
    store.delete(&key).await.unwrap();

    // A destroyed session is never brought back by an update.
    assert_eq!(
        store
            .update(&key, &update(&[("count", "3")], far), now())
            .await
            .unwrap(),
        Updated::Missing
    );
    assert!(!exists(&client, &key).await);
}

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
async fn update_on_a_missing_record_creates_nothing() {
    let server = PostgresServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    let client = raw(&server).await;
    let key = new_key();
    let mut upd = update(&[("a", "1")], now() + 600);
    upd.idle_timeout = Some(30);
    assert_eq!(
        store.update(&key, &upd, now()).await.unwrap(),
        Updated::Missing
    );
    assert_eq!(count(&client, "sessions").await, 0);
}

#[tokio::test]
async fn concurrent_updates_to_different_fields_all_land() {
    let server = PostgresServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    records::concurrent_updates_to_different_fields_all_land(store).await;
}

#[tokio::test]
async fn expired_records_are_invisible_and_swept() {
    let server = PostgresServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    let client = raw(&server).await;

    // A record is invisible from its expires_at on, even before it is deleted.
    let key = new_key();
    let expires_at = now() + 1000;
    store
        .create(&key, &record(&[("a", "1")], expires_at))
        .await
        .unwrap();
    assert!(store.load(&key, expires_at - 1).await.unwrap().is_some());
    assert!(store.load(&key, expires_at).await.unwrap().is_none());
    assert_eq!(
        store
            .update(&key, &update(&[("a", "2")], expires_at + 10), expires_at)
            .await
            .unwrap(),
        Updated::Missing
    );
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("a"), Some(&b"1"[..]));
    assert_eq!(loaded.expires_at, expires_at);

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
async fn the_raw_session_id_never_reaches_postgres() {
    let server = PostgresServer::start_logging_statements();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    let client = raw(&server).await;

    let id = SessionId::generate().unwrap();
    let key = id.store_key("app:");
    let far = now() + 600;
    store
        .create(&key, &record(&[("user", "\"ada\"")], far))
        .await
        .unwrap();
    store
        .update(&key, &update(&[("cart", "[1,2]")], far), now())
        .await
        .unwrap();
    assert!(store.load(&key, now()).await.unwrap().is_some());
    store.delete(&key).await.unwrap();
    store
        .create(&key, &record(&[("user", "\"ada\"")], far))
        .await
        .unwrap();

    let rows = client
        .query("SELECT key, fields::text FROM sessions", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, &str>(0), key.as_str());
    assert!(!rows[0].get::<_, &str>(1).contains(id.as_str()));

    // The server logged every statement with its parameters: the hashed key is there, the
    // id is not.
    let log = server.log();
    assert!(
        log.contains(key.as_str()),
        "statements were not logged:\n{log}"
    );
    assert!(!log.contains(id.as_str()));
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

/// Runs `fut`, failing the test if it hangs instead of answering.
async fn no_hang<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"));
    eprintln!("{what} answered after {:?}", started.elapsed());
    out
}

#[tokio::test]
async fn outage_fails_then_recovers_by_itself() {
    let mut server = PostgresServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    let key = new_key();
    let far = now() + 600;
    store
        .create(&key, &record(&[("a", "1")], far))
        .await
        .unwrap();
    // Several idle connections in the pool, all of which the outage breaks.
    let mut loads = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (store, key) = (store.clone(), key.clone());
        loads.spawn(async move { store.load(&key, now()).await.map(|r| r.is_some()) });
    }
    while let Some(found) = loads.join_next().await {
        assert!(found.unwrap().unwrap());
    }

    server.stop();
    for _ in 0..2 {
        let err = no_hang("load", store.load(&key, now())).await.unwrap_err();
        assert!(err.to_string().contains("PostgreSQL"), "{err}");
        assert!(
            no_hang(
                "update",
                store.update(&key, &update(&[("a", "2")], far), now())
            )
            .await
            .is_err()
        );
        assert!(
            no_hang("create", store.create(&new_key(), &record(&[], far)))
                .await
                .is_err()
        );
        assert!(no_hang("delete", store.delete(&key)).await.is_err());
    }

    // Back on the same port with the same data: the same store works again, at once.
    server.restart();
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("a"), Some(&b"1"[..]));
    assert_eq!(
        store
            .update(&key, &update(&[("b", "2")], far), now())
            .await
            .unwrap(),
        Updated::Applied
    );
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("b"), Some(&b"2"[..]));

    // A restart while the pool holds idle connections: the first call after it still works.
    server.restart();
    assert!(store.load(&key, now()).await.unwrap().is_some());
}

#[tokio::test]
async fn connect_errors_say_what_to_do() {
    let err = PostgresStore::connect("not a url").await.unwrap_err();
    assert!(err.to_string().contains("DATABASE_URL"), "{err}");

    // Nothing listens on this port: an error with advice, not a hang.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = no_hang(
        "connect",
        PostgresStore::connect_with(
            &format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            PostgresOptions::default().operation_timeout(Duration::from_secs(1)),
        ),
    )
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("DATABASE_URL"), "{message}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    // The password stays out of messages.
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
