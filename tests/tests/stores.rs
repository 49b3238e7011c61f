//! One behaviour suite, run against every server-side store: strict ids, regenerate, destroy,
//! no write when nothing changed, field-level merging under concurrency, no resurrection, and
//! store failures answered with 503. A new store is tested by adding one line at the bottom.

use session_test_support::memcached_server;
use session_test_support::postgres_server;
use session_test_support::redis_cluster as cluster_support;
use session_test_support::redis_server;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::Path;
use axum::{Router, routing::get};
use session_runtime::store::{
    BoxFuture, FilesStore, MemcachedStore, MemoryStore, PostgresStore, Record, RedisStore,
    SessionStore, StoreError, Update, Updated,
};
use session_runtime::{Session, SessionId, StoreKey};
use session_test_support::http::{request, value};

/// Counts the calls that reach the real store behind it, and can pretend to be down.
#[derive(Clone)]
struct Counting {
    inner: Arc<dyn SessionStore>,
    calls: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

impl Counting {
    fn new(inner: impl SessionStore) -> Self {
        Counting {
            inner: Arc::new(inner),
            calls: Arc::default(),
            down: Arc::default(),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new("the store is down for this test"))
        } else {
            Ok(())
        }
    }
}

impl SessionStore for Counting {
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.load(key, now).await
        })
    }

    fn create<'a>(
        &'a self,
        key: &'a StoreKey,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.create(key, record).await
        })
    }

    fn update<'a>(
        &'a self,
        key: &'a StoreKey,
        update: &'a Update,
        now: u64,
    ) -> BoxFuture<'a, Result<Updated, StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.update(key, update, now).await
        })
    }

    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.delete(key).await
        })
    }
}

/// A store under test, and what keeps its backing alive (a directory, servers) for the test.
struct Backing {
    store: Counting,
    _guard: Box<dyn std::any::Any + Send>,
}

impl Backing {
    fn new(store: impl SessionStore, guard: impl std::any::Any + Send) -> Self {
        Backing {
            store: Counting::new(store),
            _guard: Box::new(guard),
        }
    }
}

async fn memory() -> Backing {
    Backing::new(MemoryStore::new(10_000), ())
}

async fn files() -> Backing {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    Backing::new(store, dir)
}

async fn redis() -> Backing {
    let server = redis_server::RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    Backing::new(store, server)
}

async fn redis_cluster() -> Backing {
    let cluster = cluster_support::RedisCluster::start().await;
    let store = RedisStore::connect(&cluster.url_list()).await.unwrap();
    Backing::new(store, cluster)
}

async fn postgres() -> Backing {
    let server = postgres_server::PostgresServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    Backing::new(store, server)
}

async fn memcached() -> Backing {
    let server = memcached_server::MemcachedServer::start();
    let store = MemcachedStore::connect(&server.url()).await.unwrap();
    Backing::new(store, server)
}

macro_rules! fields {
    ($($field:ident),*) => {
        #[derive(Session)]
        #[session(cookie_name = "sid", store = "memory", expire = 600)]
        struct Wide {
            user: Option<String>,
            $($field: u32,)*
        }

        fn set_field(wide: &mut Wide, name: &str) -> bool {
            match name {
                $(stringify!($field) => { wide.$field += 1; true })*
                _ => false,
            }
        }

        fn total(wide: &Wide) -> u32 {
            0 $(+ wide.$field)*
        }
    };
}

fields!(
    f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20,
    f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31, f32, f33, f34, f35, f36, f37, f38, f39,
    f40, f41, f42, f43, f44, f45, f46, f47, f48, f49
);

async fn set(Path(name): Path<String>, mut wide: Session<Wide>) -> String {
    // Every concurrent request loads before any saves: the classic lost-update race.
    tokio::time::sleep(Duration::from_millis(30)).await;
    set_field(&mut wide, &name).to_string()
}

async fn peek(wide: Session<Wide>) -> String {
    format!("{} {:?}", total(&wide), wide.user)
}

async fn login(mut wide: Session<Wide>) -> &'static str {
    wide.user = Some("ada".into());
    wide.regenerate();
    "in"
}

async fn logout(wide: Session<Wide>) -> &'static str {
    wide.destroy();
    "out"
}

async fn app(store: &Counting) -> Router {
    Router::new()
        .route("/set/{name}", get(set))
        .route("/peek", get(peek))
        .route("/login", get(login))
        .route("/logout", get(logout))
        .layer(
            Wide::layer()
                .store_instance(store.clone())
                .build()
                .await
                .unwrap(),
        )
}

async fn counts_with_an_id_cookie(backing: Backing) {
    let app = app(&backing.store).await;
    let reply = request(&app, "/set/f0", None).await;
    let cookie = reply.cookie("sid").unwrap();
    assert_eq!(value(&cookie).len(), 43);
    assert!(SessionId::parse(value(&cookie)).is_some());
    request(&app, "/set/f0", Some(&cookie)).await;
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.body, "2 None");
}

async fn unknown_ids_are_never_adopted(backing: Backing) {
    let app = app(&backing.store).await;
    let invented = format!("sid={}", SessionId::generate().unwrap().as_str());
    let reply = request(&app, "/set/f1", Some(&invented)).await;
    let issued = reply.cookie("sid").expect("a new id");
    assert_ne!(issued, invented);
    assert_eq!(request(&app, "/peek", Some(&issued)).await.body, "1 None");
    assert_eq!(request(&app, "/peek", Some(&invented)).await.body, "0 None");
}

async fn malformed_ids_never_reach_the_store(backing: Backing) {
    let app = app(&backing.store).await;
    let long = "A".repeat(10_000);
    for bad in [
        "../../etc/passwd",
        "..%2f..%2fetc%2fpasswd",
        "abc\tdef",
        &long,
        "",
        "*",
        "sid:1 DEL x",
    ] {
        let reply = request(&app, "/peek", Some(&format!("sid={bad}"))).await;
        assert_eq!(
            (reply.status.as_u16(), reply.body.as_str()),
            (200, "0 None"),
            "{bad:?}"
        );
    }
    assert_eq!(backing.store.calls(), 0);
}

async fn unchanged_sessions_cost_one_load_and_no_write(backing: Backing) {
    let app = app(&backing.store).await;
    let cookie = request(&app, "/set/f2", None).await.cookie("sid").unwrap();
    let before = backing.store.calls();
    let reply = request(&app, "/peek", Some(&cookie)).await;
    assert!(reply.set_cookies.is_empty(), "{:?}", reply.set_cookies);
    assert_eq!(backing.store.calls() - before, 1);
}

async fn regenerate_moves_the_data_to_a_new_id(backing: Backing) {
    let app = app(&backing.store).await;
    let old = request(&app, "/set/f3", None).await.cookie("sid").unwrap();
    let new = request(&app, "/login", Some(&old))
        .await
        .cookie("sid")
        .unwrap();
    assert_ne!(old, new);
    assert_eq!(
        request(&app, "/peek", Some(&new)).await.body,
        "1 Some(\"ada\")"
    );
    assert_eq!(request(&app, "/peek", Some(&old)).await.body, "0 None");
}

async fn destroy_deletes_and_expires(backing: Backing) {
    let app = app(&backing.store).await;
    let cookie = request(&app, "/set/f4", None).await.cookie("sid").unwrap();
    let reply = request(&app, "/logout", Some(&cookie)).await;
    assert!(reply.removes("sid"), "{:?}", reply.set_cookies);
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.body, "0 None");
}

async fn fifty_concurrent_writers_all_keep_their_field(backing: Backing) {
    let app = app(&backing.store).await;
    let cookie = request(&app, "/login", None).await.cookie("sid").unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (app, cookie) = (app.clone(), cookie.clone());
            tokio::spawn(async move { request(&app, &format!("/set/f{i}"), Some(&cookie)).await })
        })
        .collect();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!((reply.status.as_u16(), reply.body.as_str()), (200, "true"));
    }
    assert_eq!(
        request(&app, "/peek", Some(&cookie)).await.body,
        "50 Some(\"ada\")"
    );
}

async fn a_destroyed_session_is_not_resurrected(backing: Backing) {
    let app = app(&backing.store).await;
    let cookie = request(&app, "/set/f5", None).await.cookie("sid").unwrap();
    // The write loads, sleeps, then saves; the destroy lands while it sleeps.
    let writer = {
        let (app, cookie) = (app.clone(), cookie.clone());
        tokio::spawn(async move { request(&app, "/set/f6", Some(&cookie)).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    request(&app, "/logout", Some(&cookie)).await;
    let late = writer.await.unwrap();
    assert_eq!(late.status, 200);
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.body, "0 None");
}

async fn expired_sessions_are_gone(backing: Backing) {
    let app = Router::new()
        .route("/set/{name}", get(set))
        .route("/peek", get(peek))
        .layer(
            Wide::layer()
                .store_instance(backing.store.clone())
                .expire(Duration::from_secs(1))
                .build()
                .await
                .unwrap(),
        );
    let cookie = request(&app, "/set/f8", None).await.cookie("sid").unwrap();
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.body, "1 None");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let reply = request(&app, "/peek", Some(&cookie)).await;
    assert_eq!(reply.body, "0 None");
    // No removal either: the store cannot tell an expired id from one a `regenerate()` just
    // retired, and a late removal would undo that login.
    assert!(
        reply.set_cookies.is_empty(),
        "a read with a dead id sets nothing: {:?}",
        reply.set_cookies
    );
}

async fn an_unavailable_store_answers_503(backing: Backing) {
    let app = app(&backing.store).await;
    let cookie = request(&app, "/set/f7", None).await.cookie("sid").unwrap();
    backing.store.down.store(true, Ordering::SeqCst);
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.status, 503);
    assert_eq!(
        request(&app, "/set/f7", None).await.status,
        503,
        "a failed save is a 503"
    );
    backing.store.down.store(false, Ordering::SeqCst);
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.body, "1 None");
}

macro_rules! behaviour_suite {
    ($($store:ident),* $(,)?) => {
        $(
            mod $store {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn counts_with_an_id_cookie() { super::counts_with_an_id_cookie(super::$store().await).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn unknown_ids_are_never_adopted() { super::unknown_ids_are_never_adopted(super::$store().await).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn malformed_ids_never_reach_the_store() { super::malformed_ids_never_reach_the_store(super::$store().await).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn unchanged_sessions_cost_one_load_and_no_write() { super::unchanged_sessions_cost_one_load_and_no_write(super::$store().await).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn regenerate_moves_the_data_to_a_new_id() { super::regenerate_moves_the_data_to_a_new_id(super::$store().await).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn destroy_deletes_and_expires() { super::destroy_deletes_and_expires(super::$store().await).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn fifty_concurrent_writers_all_keep_their_field() { super::fifty_concurrent_writers_all_keep_their_field(super::$store().await).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn a_destroyed_session_is_not_resurrected() { super::a_destroyed_session_is_not_resurrected(super::$store().await).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn expired_sessions_are_gone() { super::expired_sessions_are_gone(super::$store().await).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn an_unavailable_store_answers_503() { super::an_unavailable_store_answers_503(super::$store().await).await }
            }
        )*
    };
}

behaviour_suite!(memory, files, redis, redis_cluster, postgres, memcached);
