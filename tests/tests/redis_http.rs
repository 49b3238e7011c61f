//! Sessions in Redis through the whole stack: what Redis holds, how many round trips a request
//! costs, and an outage with a restart.

use session_test_support::redis_server;
use std::time::{Duration, Instant};

use axum::{Router, routing::get};
use redis_server::{RedisServer, RoundTripProxy};
use session_runtime::{Session, StoreChoice};
use session_test_support::http::{request, value};

#[derive(Session)]
#[session(
    cookie_name = "myapp",
    store = "redis",
    prefix = "myapp:",
    expire = 3600
)]
struct Visit {
    counter: u32,
}

async fn count(mut visit: Session<Visit>) -> String {
    visit.counter += 1;
    format!("This is your {} visit", visit.counter)
}

async fn peek(visit: Session<Visit>) -> String {
    visit.counter.to_string()
}

async fn app(url: &str) -> Router {
    Router::new()
        .route("/counter", get(count))
        .route("/peek", get(peek))
        .layer(Visit::layer().redis_url(url).build().await.unwrap())
}

async fn connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn redis_holds_one_hashed_key_with_the_idle_ttl() {
    let server = RedisServer::start();
    let app = app(&server.url()).await;
    let reply = request(&app, "/counter", None).await;
    assert_eq!(reply.body, "This is your 1 visit");
    let cookie = reply.cookie("myapp").unwrap();
    let id = value(&cookie).to_owned();
    assert_eq!(
        request(&app, "/counter", Some(&cookie)).await.body,
        "This is your 2 visit"
    );

    let mut redis = connection(&server.url()).await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    let hash = key.strip_prefix("myapp:").expect("the prefix");
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    let ttl: i64 = redis::cmd("TTL")
        .arg(key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!((3590..=3600).contains(&ttl), "TTL {ttl}");
    let contents: Vec<(String, Vec<u8>)> = redis::cmd("HGETALL")
        .arg(key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(!key.contains(&id));
    for (field, stored) in &contents {
        assert!(!field.contains(&id) && !String::from_utf8_lossy(stored).contains(&id));
    }
}

#[tokio::test]
async fn a_read_costs_one_round_trip_and_a_write_two() {
    let server = RedisServer::start();
    let proxy = RoundTripProxy::start(server.port()).await;
    let app = app(&proxy.url()).await;
    let cookie = request(&app, "/counter", None)
        .await
        .cookie("myapp")
        .unwrap();

    let before = proxy.round_trips();
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.body, "1");
    assert_eq!(proxy.round_trips() - before, 1, "read-only request");

    let before = proxy.round_trips();
    assert_eq!(
        request(&app, "/counter", Some(&cookie)).await.body,
        "This is your 2 visit"
    );
    assert_eq!(
        proxy.round_trips() - before,
        2,
        "write request: load, then one update"
    );

    let before = proxy.round_trips();
    request(&app, "/counter", None).await;
    assert_eq!(
        proxy.round_trips() - before,
        1,
        "new session: no load, one create"
    );
}

#[tokio::test]
async fn an_outage_gives_503_and_recovery_needs_no_restart() {
    let mut server = RedisServer::start();
    let app = app(&server.url()).await;
    let cookie = request(&app, "/counter", None)
        .await
        .cookie("myapp")
        .unwrap();
    server.stop();
    for uri in ["/peek", "/counter"] {
        let started = Instant::now();
        let reply = request(&app, uri, Some(&cookie)).await;
        assert_eq!(reply.status, 503, "{uri}");
        // Not a speed check: a request must end (the store's timeouts), never hang.
        assert!(started.elapsed() < Duration::from_secs(15), "{uri} hung");
    }
    server.restart();
    // Persistence is off, so the old session is gone: a fresh one starts, with no app restart.
    let mut last = None;
    for _ in 0..50 {
        let reply = request(&app, "/counter", Some(&cookie)).await;
        if reply.status == 200 {
            last = Some(reply.body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last.as_deref(), Some("This is your 1 visit"));
}

#[tokio::test]
async fn a_bad_redis_url_is_a_startup_error_that_says_what_to_do() {
    let error = Visit::layer()
        .store(StoreChoice::Redis)
        .redis_url("not a url")
        .build()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("REDIS_URL"), "{error}");
}
