//! The Redis store against a real `redis-server` started by each test on its own port: the
//! shared store suite, then what only Redis has (its hash layout, key expiry, round trips).

#![cfg(feature = "redis")]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use session_runtime::StoreKey;
use session_runtime::store::RedisOptions;
use session_runtime::store::{Record, RedisStore, SessionStore, StoreError, Updated};
use session_test_support::clock::now;
use session_test_support::records::{new_key, record, update};
use session_test_support::redis_server::{RedisServer, RoundTripProxy};
use session_test_support::store_suite::{FreezableFixture, ServerFixture, StoreFixture};

/// A plain connection to inspect the server directly.
async fn raw(server: &RedisServer) -> MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn exists(conn: &mut MultiplexedConnection, key: &StoreKey) -> bool {
    conn.exists(key.as_str()).await.unwrap()
}

/// A `redis-server` of its own, a store on it, and a plain connection to look inside.
struct RedisFixture {
    server: RedisServer,
    store: RedisStore,
    conn: MultiplexedConnection,
}

impl StoreFixture for RedisFixture {
    type Store = RedisStore;

    async fn start() -> Self {
        let server = RedisServer::start();
        let store = RedisStore::connect(&server.url()).await.unwrap();
        let conn = raw(&server).await;
        RedisFixture {
            server,
            store,
            conn,
        }
    }

    fn store(&self) -> &RedisStore {
        &self.store
    }

    async fn record_count(&self) -> u64 {
        redis::cmd("DBSIZE")
            .query_async(&mut self.conn.clone())
            .await
            .unwrap()
    }

    async fn holds(&self, key: &StoreKey) -> bool {
        exists(&mut self.conn.clone(), key).await
    }

    async fn raw_contents(&self, _key: &StoreKey) -> Vec<Vec<u8>> {
        let mut conn = self.conn.clone();
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut conn)
            .await
            .unwrap();
        let mut contents = Vec::new();
        for key in keys {
            let hash: Vec<(Vec<u8>, Vec<u8>)> = conn.hgetall(&key).await.unwrap();
            assert!(!hash.is_empty());
            contents.push(key);
            for (field, value) in hash {
                contents.extend([field, value]);
            }
        }
        contents
    }

    /// One hash: `f:` fields plus `_c`, `_e`, `_t`.
    async fn assert_layout(&self, key: &StoreKey, created: &Record) {
        let hash: HashMap<String, String> = self.conn.clone().hgetall(key.as_str()).await.unwrap();
        assert_eq!(hash.len(), 5, "{hash:?}");
        assert_eq!(hash["f:user"], "\"ada\"");
        assert_eq!(hash["_e"], created.expires_at.to_string());
        assert_eq!(hash["_c"], created.created_at.to_string());
        assert_eq!(hash["_t"], "300");
    }

    async fn assert_backing_expiry(&self, key: &StoreKey, expires_at: u64) {
        let expire_at: i64 = redis::cmd("EXPIRETIME")
            .arg(key.as_str())
            .query_async(&mut self.conn.clone())
            .await
            .unwrap();
        assert_eq!(expire_at, expires_at as i64);
    }
}

impl ServerFixture for RedisFixture {
    const NAME: &'static str = "Redis";
    const URL_VARIABLE: &'static str = "REDIS_URL";
    const BAD_URL: &'static str = "not a url";
    // The test server keeps nothing on disk.
    const KEEPS_DATA: bool = false;
    // The connection manager reconnects in the background.
    const RECONNECTS_AT_ONCE: bool = false;
    const FAILS_WITHIN: Duration = Duration::from_millis(2500);
    const CONNECT_FAILS_WITHIN: Duration = Duration::from_millis(1500);

    fn stop(&mut self) {
        self.server.stop();
    }

    fn restart(&mut self) {
        self.server.restart();
    }

    fn url_on(port: u16) -> String {
        format!("redis://127.0.0.1:{port}/")
    }

    async fn connect(url: &str) -> Result<RedisStore, StoreError> {
        RedisStore::connect(url).await
    }

    async fn connect_failing_fast(url: &str) -> Result<RedisStore, StoreError> {
        RedisStore::connect_with(
            url,
            RedisOptions::default().operation_timeout(Duration::from_secs(1)),
        )
        .await
    }
}

impl FreezableFixture for RedisFixture {
    // A timed-out command stays queued on the connection, which the store keeps.
    const TIMED_OUT_WRITES_MAY_APPLY: bool = true;

    fn pause(&self) {
        self.server.pause();
    }

    fn resume(&self) {
        self.server.resume();
    }
}

session_test_support::store_suite!(RedisFixture: data, outage, frozen);

#[tokio::test]
async fn redis_enforces_expiry() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut conn = raw(&server).await;

    // The key's TTL matches expires_at, after create and after update.
    let key = new_key();
    let expires_at = now() + 1000;
    store
        .create(&key, &record(&[("a", "1")], expires_at))
        .await
        .unwrap();
    let ttl: i64 = conn.ttl(key.as_str()).await.unwrap();
    let expected = i64::try_from(expires_at - now()).unwrap();
    assert!(
        (expected - 2..=expected).contains(&ttl),
        "TTL {ttl}, expected ~{expected}"
    );
    let extended = now() + 2000;
    store
        .update(&key, &update(&[], extended), now())
        .await
        .unwrap();
    let ttl: i64 = conn.ttl(key.as_str()).await.unwrap();
    let expected = i64::try_from(extended - now()).unwrap();
    assert!(
        (expected - 2..=expected).contains(&ttl),
        "TTL {ttl}, expected ~{expected}"
    );

    // Past expires_at, Redis has removed the key itself.
    let short = new_key();
    store
        .create(&short, &record(&[("a", "1")], now() + 1))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while exists(&mut conn, &short).await {
        assert!(Instant::now() < deadline, "the key outlived its expiry");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(store.load(&short, now()).await.unwrap().is_none());

    // A record created already expired is never written.
    let past = new_key();
    store
        .create(&past, &record(&[("a", "1")], now() - 1))
        .await
        .unwrap();
    assert!(store.load(&past, now()).await.unwrap().is_none());
    assert!(!exists(&mut conn, &past).await);
}

#[tokio::test]
async fn malformed_records_are_missing_not_panics() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut conn = raw(&server).await;
    let far = now() + 600;
    let cases: [&[(&str, &str)]; 5] = [
        &[("_c", "1"), ("_e", "not a number"), ("f:a", "1")],
        &[("_c", "1"), ("f:a", "1")],
        &[("_c", "1"), ("_e", "99999999999"), ("_z", "?")],
        &[("_c", "-1"), ("_e", "99999999999")],
        &[("_c", "1"), ("_e", "99999999999"), ("_t", "soon")],
    ];
    for fields in cases {
        let key = new_key();
        let _: () = conn.hset_multiple(key.as_str(), fields).await.unwrap();
        assert!(
            store.load(&key, now()).await.unwrap().is_none(),
            "{fields:?}"
        );
    }
    // An update does not write into a hash whose expiry cannot be read.
    let key = new_key();
    let _: () = conn.hset(key.as_str(), "_e", "garbage").await.unwrap();
    assert_eq!(
        store
            .update(&key, &update(&[("a", "1")], far), now())
            .await
            .unwrap(),
        Updated::Missing
    );
    let len: u64 = conn.hlen(key.as_str()).await.unwrap();
    assert_eq!(len, 1);
    // A key of another type is an error, not a panic.
    let key = new_key();
    let _: () = conn.set(key.as_str(), "a string").await.unwrap();
    assert!(store.load(&key, now()).await.is_err());
}

/// Calls per command since the last `CONFIG RESETSTAT`, leaving out the inspecting commands.
async fn command_calls(conn: &mut MultiplexedConnection) -> HashMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    let mut calls = HashMap::new();
    for line in info.lines() {
        let Some(rest) = line.strip_prefix("cmdstat_") else {
            continue;
        };
        let (name, stats) = rest.split_once(':').unwrap();
        let count = stats
            .split(',')
            .find_map(|s| s.strip_prefix("calls="))
            .unwrap()
            .parse()
            .unwrap();
        if !matches!(name, "info" | "config|resetstat") {
            calls.insert(name.to_owned(), count);
        }
    }
    redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .exec_async(conn)
        .await
        .unwrap();
    calls
}

fn counts(pairs: &[(&str, u64)]) -> HashMap<String, u64> {
    pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
}

/// Round trips are counted by a proxy between the store and Redis (a new request after a reply
/// is one round trip; see `RoundTripProxy`); commands by Redis's own `INFO commandstats`, which
/// also counts the commands a Lua script runs.
#[tokio::test]
async fn one_round_trip_per_operation() {
    let server = RedisServer::start();
    let proxy = RoundTripProxy::start(server.port()).await;
    let store = RedisStore::connect(&proxy.url()).await.unwrap();
    let mut conn = raw(&server).await;
    let key = new_key();
    let far = now() + 600;
    command_calls(&mut conn).await;

    let mut trips = proxy.round_trips();
    let mut measure = || {
        let now = proxy.round_trips();
        let delta = now - trips;
        trips = now;
        delta
    };

    let fields: Vec<(String, String)> = (0..20).map(|i| (format!("f{i}"), i.to_string())).collect();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    store.create(&key, &record(&fields, far)).await.unwrap();
    assert_eq!(measure(), 1, "create");
    assert_eq!(
        command_calls(&mut conn).await,
        counts(&[
            ("multi", 1),
            ("del", 1),
            ("hset", 1),
            ("expireat", 1),
            ("exec", 1)
        ]),
        "create"
    );

    assert!(store.load(&key, now()).await.unwrap().is_some());
    assert_eq!(measure(), 1, "load");
    assert_eq!(
        command_calls(&mut conn).await,
        counts(&[("hgetall", 1)]),
        "load"
    );

    let upd = update(&[("f1", "10"), ("f2", "20")], far + 1);
    assert_eq!(
        store.update(&key, &upd, now()).await.unwrap(),
        Updated::Applied
    );
    assert_eq!(measure(), 1, "update");
    // One EVALSHA from the client; the rest run inside the script on the server.
    assert_eq!(
        command_calls(&mut conn).await,
        counts(&[("evalsha", 1), ("hget", 1), ("hset", 3), ("expireat", 1)]),
        "update"
    );

    let missing = new_key();
    assert_eq!(
        store.update(&missing, &upd, now()).await.unwrap(),
        Updated::Missing
    );
    assert_eq!(measure(), 1, "update of a missing record");
    assert_eq!(
        command_calls(&mut conn).await,
        counts(&[("evalsha", 1), ("hget", 1)]),
        "update of a missing record"
    );

    store.delete(&key).await.unwrap();
    assert_eq!(measure(), 1, "delete");
    assert_eq!(
        command_calls(&mut conn).await,
        counts(&[("del", 1)]),
        "delete"
    );
}
