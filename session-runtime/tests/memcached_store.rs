//! The memcached store against a real memcached started by each test on its own port: the
//! shared store suite, then what only memcached has (its item layout, TTLs, key limits).

#![cfg(feature = "memcached")]

use std::time::{Duration, Instant};

use async_memcached::{AsciiProtocol, Client, MetaProtocol};
use session_runtime::SessionId;
use session_runtime::StoreKey;
use session_runtime::store::MemcachedOptions;
use session_runtime::store::{MemcachedStore, Record, SessionStore, StoreError, Updated};
use session_test_support::clock::now;
use session_test_support::memcached_server::MemcachedServer;
use session_test_support::records::{new_key, record, update};
use session_test_support::store_suite::{FreezableFixture, ServerFixture, StoreFixture};

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

/// A memcached of its own and a store on it.
struct MemcachedFixture {
    server: MemcachedServer,
    store: MemcachedStore,
    verbose: bool,
}

impl MemcachedFixture {
    async fn on(server: MemcachedServer, options: MemcachedOptions, verbose: bool) -> Self {
        let store = MemcachedStore::connect_with(&server.url(), options)
            .await
            .unwrap();
        MemcachedFixture {
            server,
            store,
            verbose,
        }
    }
}

impl StoreFixture for MemcachedFixture {
    type Store = MemcachedStore;

    async fn start() -> Self {
        MemcachedFixture::on(MemcachedServer::start(), MemcachedOptions::default(), false).await
    }

    async fn start_logging() -> Self {
        let server = MemcachedServer::start_verbose();
        MemcachedFixture::on(server, MemcachedOptions::default(), true).await
    }

    fn store(&self) -> &MemcachedStore {
        &self.store
    }

    async fn record_count(&self) -> u64 {
        item_count(&mut raw(&self.server).await).await
    }

    async fn holds(&self, key: &StoreKey) -> bool {
        item(&mut raw(&self.server).await, key).await.is_some()
    }

    /// memcached cannot list its keys: the key and its item.
    async fn raw_contents(&self, key: &StoreKey) -> Vec<Vec<u8>> {
        let value = item(&mut raw(&self.server).await, key).await;
        [key.as_str().as_bytes().to_vec()]
            .into_iter()
            .chain(value)
            .collect()
    }

    /// Every command the server received (`-vv`).
    fn command_log(&self) -> Option<String> {
        self.verbose.then(|| self.server.log())
    }

    /// One item holding the whole record as JSON.
    async fn assert_layout(&self, key: &StoreKey, created: &Record) {
        let bytes = item(&mut raw(&self.server).await, key).await.unwrap();
        let stored: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(stored["v"], 1);
        assert_eq!(stored["fields"]["user"], "ada");
        assert_eq!(stored["fields"]["count"], 1);
        assert_eq!(stored["expires_at"], created.expires_at);
        assert_eq!(stored["created_at"], created.created_at);
        assert_eq!(stored["idle_timeout"], 300);
    }

    async fn assert_backing_expiry(&self, key: &StoreKey, expires_at: u64) {
        let left = ttl(&mut raw(&self.server).await, key).await;
        let expected = i64::try_from(expires_at - now()).unwrap();
        assert!(
            (expected - 2..=expected).contains(&left),
            "TTL {left}, expected ~{expected}"
        );
    }
}

impl ServerFixture for MemcachedFixture {
    const NAME: &'static str = "memcached";
    const URL_VARIABLE: &'static str = "MEMCACHED_URL";
    const BAD_URL: &'static str = "redis://127.0.0.1:6379";
    const KEEPS_DATA: bool = false;
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
        format!("memcache://127.0.0.1:{port}")
    }

    async fn connect(url: &str) -> Result<MemcachedStore, StoreError> {
        MemcachedStore::connect(url).await
    }

    async fn connect_failing_fast(url: &str) -> Result<MemcachedStore, StoreError> {
        MemcachedStore::connect(url).await
    }
}

impl FreezableFixture for MemcachedFixture {
    // An update reads before it writes (compare-and-swap): one that timed out never sent a write.
    const TIMED_OUT_WRITES_MAY_APPLY: bool = false;

    async fn start_for_freezing() -> Self {
        let options = MemcachedOptions::default().operation_timeout(Duration::from_millis(500));
        MemcachedFixture::on(MemcachedServer::start(), options, false).await
    }

    fn pause(&self) {
        self.server.pause();
    }

    fn resume(&self) {
        self.server.resume();
    }
}

session_test_support::store_suite!(MemcachedFixture: data, outage, frozen);

#[tokio::test]
async fn bytes_that_are_not_json_survive() {
    let server = MemcachedServer::start();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
    let key = new_key();
    let far = now() + 600;
    store
        .create(&key, &record(&[("user", "\"ada\"")], far))
        .await
        .unwrap();
    store
        .update(&key, &update(&[("raw", " not json \u{0}")], far), now())
        .await
        .unwrap();
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("raw"), Some(&b" not json \0"[..]));
    assert_eq!(loaded.field("user"), Some(&b"\"ada\""[..]));
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

#[tokio::test]
async fn keys_memcached_cannot_hold_are_refused() {
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
