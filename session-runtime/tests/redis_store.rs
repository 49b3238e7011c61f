//! The Redis store against a real `redis-server` started by each test on its own port.

#![cfg(feature = "redis")]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use session_runtime::SessionId;
use session_runtime::StoreKey;
use session_runtime::store::redis::RedisOptions;
use session_runtime::store::{RedisStore, SessionStore, Updated};
use session_test_support::clock::now;
use session_test_support::records::{self, new_key, record, update};
use session_test_support::redis_server::{RedisServer, RoundTripProxy};

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

#[tokio::test]
async fn create_load_update_delete_round_trip() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut conn = raw(&server).await;
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

    // The layout: one hash, `f:` fields plus `_c`, `_e`, `_t`.
    let hash: HashMap<String, String> = conn.hgetall(key.as_str()).await.unwrap();
    assert_eq!(hash.len(), 5, "{hash:?}");
    assert_eq!(hash["f:user"], "\"ada\"");
    assert_eq!(hash["_e"], far.to_string());
    assert_eq!(hash["_c"], created.created_at.to_string());
    assert_eq!(hash["_t"], "300");

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
    assert!(!exists(&mut conn, &key).await);
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
    assert!(!exists(&mut conn, &key).await);
}

#[tokio::test]
async fn update_on_a_missing_record_creates_nothing() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut conn = raw(&server).await;
    let key = new_key();
    let mut upd = update(&[("a", "1")], now() + 600);
    upd.idle_timeout = Some(30);
    assert_eq!(
        store.update(&key, &upd, now()).await.unwrap(),
        Updated::Missing
    );
    assert!(!exists(&mut conn, &key).await);
    let size: u64 = redis::cmd("DBSIZE").query_async(&mut conn).await.unwrap();
    assert_eq!(size, 0);
}

#[tokio::test]
async fn concurrent_updates_to_different_fields_all_land() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    records::concurrent_updates_to_different_fields_all_land(store).await;
}

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

    // A record is invisible from its expires_at on, even before Redis drops it.
    assert!(store.load(&key, extended).await.unwrap().is_none());
    assert_eq!(
        store
            .update(&key, &update(&[("a", "2")], extended + 10), extended)
            .await
            .unwrap(),
        Updated::Missing
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

    // A record created already expired is never visible.
    let past = new_key();
    store
        .create(&past, &record(&[("a", "1")], now() - 1))
        .await
        .unwrap();
    assert!(store.load(&past, now()).await.unwrap().is_none());
    assert!(!exists(&mut conn, &past).await);
}

#[tokio::test]
async fn the_raw_session_id_never_reaches_redis() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut conn = raw(&server).await;

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

    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys, vec![key.as_str().as_bytes().to_vec()]);
    let needle = id.as_str().as_bytes();
    let contains = |haystack: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
    for k in &keys {
        assert!(!contains(k));
        let hash: Vec<(Vec<u8>, Vec<u8>)> = conn.hgetall(k).await.unwrap();
        assert!(!hash.is_empty());
        for (field, value) in hash {
            assert!(!contains(&field) && !contains(&value));
        }
    }
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

#[tokio::test]
async fn outage_fails_fast_then_recovers_by_itself() {
    let mut server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let key = new_key();
    let far = now() + 600;
    store
        .create(&key, &record(&[("a", "1")], far))
        .await
        .unwrap();

    server.stop();
    for round in 0..3 {
        let started = Instant::now();
        let err = store.load(&key, now()).await.unwrap_err();
        let took = started.elapsed();
        eprintln!("round {round}: failed load took {took:?}: {err}");
        assert!(took < Duration::from_millis(2500), "load took {took:?}");
        assert!(err.to_string().contains("Redis"), "{err}");
        let started = Instant::now();
        assert!(
            store
                .update(&key, &update(&[("a", "2")], far), now())
                .await
                .is_err()
        );
        assert!(store.create(&new_key(), &record(&[], far)).await.is_err());
        assert!(store.delete(&key).await.is_err());
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(7500),
            "round {round}: three calls took {took:?}"
        );
    }

    // Back on the same port: the same store recovers without help (the data is gone, as the
    // test server keeps nothing on disk).
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut failures = 0;
    loop {
        match store.load(&key, now()).await {
            Ok(found) => {
                assert!(found.is_none());
                break;
            }
            Err(_) if Instant::now() < deadline => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the store did not recover within 10 s: {e}"),
        }
    }
    eprintln!("recovered after the restart with {failures} failed calls");
    assert!(failures <= 5, "{failures} failures after the restart");
    let key = new_key();
    store
        .create(&key, &record(&[("a", "1")], far))
        .await
        .unwrap();
    // The update script is loaded again by itself (the restarted server forgot it).
    assert_eq!(
        store
            .update(&key, &update(&[("b", "2")], far), now())
            .await
            .unwrap(),
        Updated::Applied
    );
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("b"), Some(&b"2"[..]));
}

#[tokio::test]
async fn a_frozen_server_gets_a_timeout_not_a_hang() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let key = new_key();
    let far = now() + 600;
    store
        .create(&key, &record(&[("a", "1")], far))
        .await
        .unwrap();

    server.pause();
    for _ in 0..2 {
        let started = Instant::now();
        let err = store.load(&key, now()).await.unwrap_err();
        let took = started.elapsed();
        eprintln!("frozen server: failed load took {took:?}: {err}");
        assert!(took < Duration::from_millis(2500), "load took {took:?}");
    }
    server.resume();

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match store.load(&key, now()).await {
            Ok(found) => {
                assert!(found.is_some());
                break;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the store did not recover within 10 s: {e}"),
        }
    }
}

#[tokio::test]
async fn connect_errors_say_what_to_do() {
    let err = RedisStore::connect("not a url").await.unwrap_err();
    assert!(err.to_string().contains("REDIS_URL"), "{err}");

    // Nothing listens on this port: fail quickly with advice, not hang.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let err = RedisStore::connect_with(
        &format!("redis://127.0.0.1:{port}/"),
        RedisOptions::default().operation_timeout(Duration::from_secs(1)),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(1500));
    let message = err.to_string();
    assert!(message.contains("REDIS_URL"), "{message}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
}
