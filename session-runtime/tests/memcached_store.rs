//! The memcached store against a real memcached started by each test on its own port.

#![cfg(feature = "memcached")]

use std::time::{Duration, Instant};

use async_memcached::{AsciiProtocol, Client, MetaProtocol};
use session_runtime::SessionId;
use session_runtime::StoreKey;
use session_runtime::store::memcached::MemcachedOptions;
use session_runtime::store::{MemcachedStore, SessionStore, Updated};
use session_test_support::clock::now;
use session_test_support::memcached_server::MemcachedServer;
use session_test_support::records::{self, new_key, record, update};

/// A plain connection to inspect the server directly.
async fn raw(server: &MemcachedServer) -> Client {
    Client::new(format!("tcp://127.0.0.1:{}", server.port()))
        .await
        .unwrap()
}

/// The item under `key` as memcached holds it.
async fn item(client: &mut Client, key: &StoreKey) -> Option<Vec<u8>> {
    client
        .meta_get(key.as_str(), false, None, Some(&["v"][..]))
        .await
        .unwrap()
        .and_then(|item| item.data)
}

/// The seconds memcached will keep the item under `key`.
async fn ttl(client: &mut Client, key: &StoreKey) -> i64 {
    client
        .meta_get(key.as_str(), false, None, Some(&["t"][..]))
        .await
        .unwrap()
        .and_then(|item| item.ttl_remaining)
        .expect("the item exists")
}

async fn item_count(client: &mut Client) -> u64 {
    client.stats().await.unwrap()["curr_items"].parse().unwrap()
}

#[tokio::test]
async fn create_load_update_delete_round_trip() {
    let server = MemcachedServer::start();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
    let mut client = raw(&server).await;
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

    // The layout: one item holding the whole record as JSON.
    let stored: serde_json::Value =
        serde_json::from_slice(&item(&mut client, &key).await.unwrap()).unwrap();
    assert_eq!(stored["v"], 1);
    assert_eq!(stored["fields"]["user"], "ada");
    assert_eq!(stored["fields"]["count"], 1);
    assert_eq!(stored["expires_at"], far);
    assert_eq!(stored["created_at"], created.created_at);
    assert_eq!(stored["idle_timeout"], 300);

    records::updates_write_only_changed_fields(&store, &key, far, created.created_at).await;
    let later = far + 60;

    // Bytes that are not JSON survive too.
    store
        .update(&key, &update(&[("raw", " not json \u{0}")], later), now())
        .await
        .unwrap();
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("raw"), Some(&b" not json \0"[..]));

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
    assert!(item(&mut client, &key).await.is_none());
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
    assert!(item(&mut client, &key).await.is_none());
}

#[tokio::test]
async fn update_on_a_missing_record_creates_nothing() {
    let server = MemcachedServer::start();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
    let mut client = raw(&server).await;
    let key = new_key();
    let mut upd = update(&[("a", "1")], now() + 600);
    upd.idle_timeout = Some(30);
    assert_eq!(
        store.update(&key, &upd, now()).await.unwrap(),
        Updated::Missing
    );
    assert!(item(&mut client, &key).await.is_none());
    assert_eq!(item_count(&mut client).await, 0);
}

#[tokio::test]
async fn concurrent_updates_to_different_fields_all_land() {
    let server = MemcachedServer::start();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
    records::concurrent_updates_to_different_fields_all_land(store).await;
}

#[tokio::test]
async fn memcached_enforces_expiry() {
    let server = MemcachedServer::start();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
    let mut client = raw(&server).await;

    // The item's TTL matches expires_at, after create and after update.
    let key = new_key();
    let expires_at = now() + 1000;
    store
        .create(&key, &record(&[("a", "1")], expires_at))
        .await
        .unwrap();
    let left = ttl(&mut client, &key).await;
    let expected = i64::try_from(expires_at - now()).unwrap();
    assert!(
        (expected - 2..=expected).contains(&left),
        "TTL {left}, expected ~{expected}"
    );
    let extended = now() + 2000;
    store
        .update(&key, &update(&[], extended), now())
        .await
        .unwrap();
    let left = ttl(&mut client, &key).await;
    let expected = i64::try_from(extended - now()).unwrap();
    assert!(
        (expected - 2..=expected).contains(&left),
        "TTL {left}, expected ~{expected}"
    );

    // Beyond 30 days memcached is given a unix time, and still keeps the item that long.
    let in_40_days = now() + 40 * 24 * 3600;
    let long = new_key();
    store
        .create(&long, &record(&[("a", "1")], in_40_days))
        .await
        .unwrap();
    let left = ttl(&mut client, &long).await;
    // memcached converts an absolute expiry with its own clock, which ticks once a second and
    // may be a second behind ours: the TTL it reports can be one second longer.
    let expected = i64::try_from(in_40_days - now()).unwrap();
    assert!(
        (expected - 2..=expected + 1).contains(&left),
        "TTL {left}, expected ~{expected}"
    );
    store
        .update(&long, &update(&[("b", "2")], in_40_days + 1), now())
        .await
        .unwrap();
    let left = ttl(&mut client, &long).await;
    assert!(
        (expected - 1..=expected + 1).contains(&left),
        "TTL {left}, expected ~{expected}"
    );
    assert!(store.load(&long, now()).await.unwrap().is_some());

    // A record is invisible from its expires_at on, even before memcached drops it.
    assert!(store.load(&key, extended).await.unwrap().is_none());
    assert_eq!(
        store
            .update(&key, &update(&[("a", "2")], extended + 10), extended)
            .await
            .unwrap(),
        Updated::Missing
    );
    assert!(store.load(&key, now()).await.unwrap().is_some());

    // Past expires_at, memcached has dropped the item itself.
    let short = new_key();
    store
        .create(&short, &record(&[("a", "1")], now() + 1))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while item(&mut client, &short).await.is_some() {
        assert!(Instant::now() < deadline, "the item outlived its expiry");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(store.load(&short, now()).await.unwrap().is_none());

    // A record created already expired is never visible, and replaces what was there.
    let past = new_key();
    store
        .create(&past, &record(&[("a", "1")], now() + 600))
        .await
        .unwrap();
    store
        .create(&past, &record(&[("a", "2")], now() - 1))
        .await
        .unwrap();
    assert!(store.load(&past, now()).await.unwrap().is_none());
    assert!(item(&mut client, &past).await.is_none());
}

#[tokio::test]
async fn the_raw_session_id_never_reaches_memcached() {
    let server = MemcachedServer::start_verbose();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
    let mut client = raw(&server).await;

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

    let value = item(&mut client, &key).await.unwrap();
    let needle = id.as_str().as_bytes();
    assert!(!value.windows(needle.len()).any(|w| w == needle));
    assert_eq!(item_count(&mut client).await, 1);

    // The server logged every command it received: the hashed key is there, the id is not.
    let log = server.log();
    assert!(
        log.contains(key.as_str()),
        "commands were not logged:\n{log}"
    );
    assert!(!log.contains(id.as_str()));
}

#[tokio::test]
async fn malformed_items_are_missing_not_panics() {
    let server = MemcachedServer::start();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
    let mut client = raw(&server).await;
    let far = now() + 600;
    for value in [
        "not json",
        "[1,2]",
        r#"{"v":2,"created_at":1,"expires_at":99999999999,"fields":{}}"#,
        r#"{"v":1,"created_at":-1,"expires_at":99999999999,"fields":{}}"#,
        r#"{"v":1,"created_at":1,"expires_at":99999999999,"fields":{},"bin":{"a":"!!"}}"#,
    ] {
        let key = new_key();
        client.set(key.as_str(), value, None, None).await.unwrap();
        assert!(store.load(&key, now()).await.unwrap().is_none(), "{value}");
        // An update does not write over an item it cannot read.
        assert_eq!(
            store
                .update(&key, &update(&[("a", "1")], far), now())
                .await
                .unwrap(),
            Updated::Missing
        );
        assert_eq!(item(&mut client, &key).await.unwrap(), value.as_bytes());
    }
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
    let mut server = MemcachedServer::start();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
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
        assert!(err.to_string().contains("memcached"), "{err}");
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

    // Back on the same port, empty: the same store works again, at once.
    server.restart();
    assert!(store.load(&key, now()).await.unwrap().is_none());
    store
        .create(&key, &record(&[("a", "1")], far))
        .await
        .unwrap();
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
    assert!(store.load(&key, now()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_frozen_server_gets_a_timeout_not_a_hang() {
    let server = MemcachedServer::start();
    let options = MemcachedOptions::default().operation_timeout(Duration::from_millis(500));
    let store = MemcachedStore::connect_with(&server.url(), options)
        .await
        .unwrap();
    let key = new_key();
    let far = now() + 600;
    store
        .create(&key, &record(&[("a", "1")], far))
        .await
        .unwrap();

    server.pause();
    for _ in 0..2 {
        let err = no_hang("load", store.load(&key, now())).await.unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
        assert!(
            no_hang(
                "update",
                store.update(&key, &update(&[("a", "2")], far), now())
            )
            .await
            .is_err()
        );
    }
    server.resume();

    // The connections cut by the timeouts are replaced; the data is intact.
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("a"), Some(&b"1"[..]));
}

#[tokio::test]
async fn connect_and_key_errors_say_what_to_do() {
    let err = MemcachedStore::connect("redis://127.0.0.1:6379")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("MEMCACHED_URL"), "{err}");

    // Nothing listens on this port: an error with advice, not a hang.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = no_hang(
        "connect",
        MemcachedStore::connect(&format!("memcache://127.0.0.1:{port}")),
    )
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("MEMCACHED_URL"), "{message}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");

    // A key memcached cannot hold is refused before it is sent.
    let server = MemcachedServer::start();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
    let id = SessionId::generate().unwrap();
    for prefix in ["with space:".to_owned(), "p".repeat(187)] {
        assert!(MemcachedStore::check_prefix(&prefix).is_err());
        let key = id.store_key(&prefix);
        let err = store.load(&key, now()).await.unwrap_err();
        assert!(err.to_string().contains("prefix"), "{err}");
        assert!(store.create(&key, &record(&[], now() + 60)).await.is_err());
    }
    let longest = id.store_key(&"p".repeat(186));
    store
        .create(&longest, &record(&[("a", "1")], now() + 60))
        .await
        .unwrap();
    assert!(store.load(&longest, now()).await.unwrap().is_some());
}
