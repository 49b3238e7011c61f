//! Server-side sessions in the memory store: ids, strict mode, regenerate, destroy, field-level
//! merging under concurrency, and a store that is down.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::Path;
use axum::{Router, routing::get};
use session_runtime::store::{
    BoxFuture, MemoryStore, Record, SessionStore, StoreError, Update, Updated,
};
use session_runtime::{Session, StoreKey};
use support::{request, value};

/// Counts the calls that reach the real store behind it.
#[derive(Clone, Default)]
struct Counting {
    inner: MemoryStore,
    calls: Arc<AtomicUsize>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl Counting {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new("the test store is down"))
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

#[derive(Session)]
#[session(cookie_name = "sid", store = "memory", expire = 600)]
struct Visit {
    counter: u32,
    user: Option<String>,
}

async fn count(mut visit: Session<Visit>) -> String {
    visit.counter += 1;
    visit.counter.to_string()
}

async fn peek(visit: Session<Visit>) -> String {
    format!("{} {:?}", visit.counter, visit.user)
}

async fn login(mut visit: Session<Visit>) -> &'static str {
    visit.user = Some("ada".into());
    visit.regenerate();
    "in"
}

async fn logout(visit: Session<Visit>) -> &'static str {
    visit.destroy();
    "out"
}

async fn app() -> (Router, Counting) {
    let store = Counting::default();
    let router = Router::new()
        .route("/count", get(count))
        .route("/peek", get(peek))
        .route("/login", get(login))
        .route("/logout", get(logout))
        .layer(
            Visit::layer()
                .store_instance(store.clone())
                .build()
                .await
                .unwrap(),
        );
    (router, store)
}

#[tokio::test]
async fn the_cookie_carries_only_a_well_formed_id() {
    let (app, _) = app().await;
    let reply = request(&app, "/count", None).await;
    let cookie = reply.cookie("sid").unwrap();
    let id = value(&cookie);
    assert_eq!(id.len(), 43);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(request(&app, "/count", Some(&cookie)).await.body, "2");
}

#[tokio::test]
async fn unknown_ids_are_never_adopted() {
    let (app, store) = app().await;
    let invented = format!(
        "sid={}",
        session_runtime::SessionId::generate().unwrap().as_str()
    );
    let reply = request(&app, "/count", Some(&invented)).await;
    assert_eq!(reply.body, "1");
    let issued = reply.cookie("sid").unwrap();
    assert_ne!(issued, invented, "a client-chosen id was adopted");
    assert!(store.calls() >= 2);
}

#[tokio::test]
async fn malformed_ids_never_reach_the_store() {
    let (app, store) = app().await;
    let long = "A".repeat(10_000);
    for bad in [
        "../../etc/passwd",
        "abc\tdef",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAé",
        long.as_str(),
        "",
        "%00",
    ] {
        let reply = request(&app, "/peek", Some(&format!("sid={bad}"))).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, "0 None");
    }
    assert_eq!(store.calls(), 0, "a malformed id reached the store");
}

#[tokio::test]
async fn unchanged_sessions_cost_no_write() {
    let (app, store) = app().await;
    let cookie = request(&app, "/count", None).await.cookie("sid").unwrap();
    let before = store.calls();
    let reply = request(&app, "/peek", Some(&cookie)).await;
    assert!(reply.set_cookies.is_empty());
    assert_eq!(store.calls() - before, 1, "one load, no write");
}

#[tokio::test]
async fn regenerate_keeps_data_under_a_new_id_and_kills_the_old_one() {
    let (app, _) = app().await;
    let old = request(&app, "/count", None).await.cookie("sid").unwrap();
    let reply = request(&app, "/login", Some(&old)).await;
    let new = reply.cookie("sid").unwrap();
    assert_ne!(old, new);
    assert_eq!(
        request(&app, "/peek", Some(&new)).await.body,
        "1 Some(\"ada\")"
    );
    assert_eq!(request(&app, "/peek", Some(&old)).await.body, "0 None");
}

#[tokio::test]
async fn destroy_deletes_the_record_and_expires_the_cookie() {
    let (app, _) = app().await;
    let cookie = request(&app, "/count", None).await.cookie("sid").unwrap();
    let reply = request(&app, "/logout", Some(&cookie)).await;
    assert!(reply.removes("sid"));
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.body, "0 None");
}

#[tokio::test]
async fn a_store_that_is_down_answers_503() {
    let (app, store) = app().await;
    let cookie = request(&app, "/count", None).await.cookie("sid").unwrap();
    store.down.store(true, Ordering::SeqCst);
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.status, 503);
    assert_eq!(
        request(&app, "/count", None).await.status,
        503,
        "a failed save is a 503"
    );
    store.down.store(false, Ordering::SeqCst);
    assert_eq!(request(&app, "/count", Some(&cookie)).await.body, "2");
}

macro_rules! wide_session {
    ($($field:ident),*) => {
        #[derive(Session)]
        #[session(cookie_name = "wide", store = "memory")]
        struct Wide {
            $($field: u32,)*
        }

        fn set_field(wide: &mut Wide, name: &str) -> bool {
            match name {
                $(stringify!($field) => { wide.$field = 1; true })*
                _ => false,
            }
        }

        fn fields_set(wide: &Wide) -> u32 {
            0 $(+ wide.$field)*
        }
    };
}

wide_session!(
    f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20,
    f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31, f32, f33, f34, f35, f36, f37, f38, f39,
    f40, f41, f42, f43, f44, f45, f46, f47, f48, f49, init
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_changing_different_fields_all_keep_their_change() {
    async fn set(Path(name): Path<String>, mut wide: Session<Wide>) -> String {
        // Every request loads before any of them saves: the classic lost-update race.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        set_field(&mut wide, &name).to_string()
    }
    async fn count(wide: Session<Wide>) -> String {
        fields_set(&wide).to_string()
    }
    let app = Router::new()
        .route("/set/{name}", get(set))
        .route("/count", get(count))
        .layer(Wide::layer().build().await.unwrap());
    let cookie = request(&app, "/set/init", None)
        .await
        .cookie("wide")
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let app = app.clone();
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            request(&app, &format!("/set/f{i}"), Some(&cookie))
                .await
                .body
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), "true");
    }
    assert_eq!(request(&app, "/count", Some(&cookie)).await.body, "51");
}
