//! Regression tests for the findings of an adversarial review: what reaches logs and error
//! bodies, which cookies a request tries, when a response refreshes, removes or caches, and how
//! the current expiry settings apply to values issued earlier.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::IntoResponse;
use axum::{Router, routing::get};
use http::header::CACHE_CONTROL;
use http_body_util::BodyExt;
use session_runtime::codec::{Codec, CodecOptions, KeyRing, Timestamps};
use session_runtime::store::{
    BoxFuture, MemoryStore, Record, SessionStore, StoreError, Update, Updated,
};
use session_runtime::{
    EncryptionMode, Oversize, Session, SessionId, SessionLayerBuilder, SessionRejection, StoreKey,
    StoredFields,
};
use session_test_support::clock::now;
use session_test_support::http::{request, value};
use session_test_support::readme_cookie::readme_cookie;
use session_test_support::secrets::SECRET;
use tokio::sync::Notify;

/// The absolute lifetime of a session whose type sets no `max_lifetime` (24 hours).
const DEFAULT_MAX_LIFETIME: u64 = 24 * 3600;

#[derive(Session)]
#[session(cookie_name = "myapp", expire = 3600)]
struct Visit {
    counter: u32,
}

#[derive(Session)]
#[session(cookie_name = "sid", expire = 3600, store = "memory")]
struct Login {
    counter: u32,
    user: Option<String>,
}

async fn count(mut visit: Session<Visit>) -> String {
    visit.counter += 1;
    format!("This is your {} visit", visit.counter)
}

async fn peek(visit: Session<Visit>) -> String {
    format!("counter={} new={}", visit.counter, visit.is_new())
}

async fn visit_app(builder: SessionLayerBuilder<Visit>) -> Router {
    Router::new()
        .route("/count", get(count))
        .route("/peek", get(peek))
        .route(
            "/public",
            get(|mut visit: Session<Visit>| async move {
                visit.counter += 1;
                ([(CACHE_CONTROL, "public, max-age=600")], "cached?")
            }),
        )
        .route(
            "/public-read",
            get(|visit: Session<Visit>| async move {
                let _ = visit.counter;
                ([(CACHE_CONTROL, "public, max-age=600")], "cached")
            }),
        )
        .route(
            "/private",
            get(|mut visit: Session<Visit>| async move {
                visit.counter += 1;
                ([(CACHE_CONTROL, "private, max-age=60")], "mine")
            }),
        )
        .layer(builder.build().await.unwrap())
}

fn codec() -> Codec {
    Codec::new(
        &KeyRing::from_secrets([SECRET]).unwrap(),
        CodecOptions::new(EncryptionMode::Modern, "myapp"),
    )
    .unwrap()
}

/// A `myapp` cookie sealing `body` with the given times.
fn sealed(body: &str, issued_at: u64, expires_at: u64) -> String {
    let times = Timestamps {
        issued_at,
        expires_at,
    };
    format!("myapp={}", codec().seal(body.as_bytes(), times).unwrap())
}

// --- Finding 4: decrypted session content stays out of logs and error bodies ---------------

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

const SECRET_VALUE: &str = "sk_live_SECRET_TOKEN_123";

#[tokio::test]
async fn decrypted_content_reaches_neither_logs_nor_error_bodies() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    // The process-wide subscriber, not a thread's default: tracing caches whether a call site
    // is enabled from the first thread that reaches it, so a per-thread subscriber can miss the
    // engine's events when another test reached the same call site first. This is the only
    // test in this binary that installs a subscriber; the assertions below look only for this
    // test's own secret value.
    tracing::subscriber::set_global_default(subscriber)
        .expect("only this test installs a subscriber");

    let app = visit_app(Visit::layer().secret(SECRET)).await;
    let t = now();
    let wrong_type = format!(r#"{{"counter":"{SECRET_VALUE}"}}"#);
    let not_an_object = format!(r#""{SECRET_VALUE}""#);
    let bad_idle_timeout = format!(r#"{{"counter":1,"$ttl":"{SECRET_VALUE}"}}"#);
    for body in [&wrong_type, &not_an_object, &bad_idle_timeout] {
        let reply = request(&app, "/peek", Some(&sealed(body, t, t + 3600))).await;
        assert_eq!(reply.body, "counter=0 new=true", "{body}");
    }

    // The 500 answer of a session that cannot be built names the field, not its value.
    let fields = StoredFields::parse(wrong_type.as_bytes()).unwrap();
    let error = fields.decode::<u32>("counter").unwrap_err();
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(shown.contains("counter"), "{shown}");
        assert!(!shown.contains(SECRET_VALUE), "{shown}");
    }
    let rejection = SessionRejection::Field {
        type_name: "Visit",
        source: error,
    };
    let response = rejection.into_response();
    assert_eq!(response.status(), 500);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&bytes);
    assert!(body.contains("counter"), "{body}");
    assert!(
        !body.contains(SECRET_VALUE),
        "the error body shows the value: {body}"
    );

    let logs = captured.text();
    assert!(
        logs.contains("refused") && logs.contains("counter"),
        "nothing logged: {logs}"
    );
    assert!(
        !logs.contains(SECRET_VALUE),
        "the log shows the value: {logs}"
    );
}

// --- A store the tests can reach into and count ---------------------------------------------

/// A memory store shared by several layers and the test, counting loads and updates.
#[derive(Clone)]
struct Shared {
    inner: Arc<MemoryStore>,
    loads: Arc<AtomicUsize>,
    updates: Arc<AtomicUsize>,
}

impl Shared {
    fn new() -> Self {
        Shared {
            inner: Arc::new(MemoryStore::new(1_000)),
            loads: Arc::default(),
            updates: Arc::default(),
        }
    }

    /// Stores a `Login` record with the given times; returns its `sid` cookie.
    async fn plant(&self, counter: u32, created_at: u64, expires_at: u64) -> String {
        let id = SessionId::generate().unwrap();
        let record = Record {
            fields: vec![("counter".to_owned(), counter.to_string().into_bytes())],
            created_at,
            expires_at,
            idle_timeout: None,
        };
        self.inner
            .create(&id.store_key("sid:"), &record)
            .await
            .unwrap();
        format!("sid={}", id.as_str())
    }
}

impl SessionStore for Shared {
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.inner.load(key, now)
    }

    fn create<'a>(
        &'a self,
        key: &'a StoreKey,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.create(key, record)
    }

    fn update<'a>(
        &'a self,
        key: &'a StoreKey,
        update: &'a Update,
        now: u64,
    ) -> BoxFuture<'a, Result<Updated, StoreError>> {
        self.updates.fetch_add(1, Ordering::SeqCst);
        self.inner.update(key, update, now)
    }

    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.delete(key)
    }
}

/// Lets a test hold a request inside its handler while others run.
#[derive(Default)]
struct Gate {
    loaded: Notify,
    release: Notify,
}

fn login_routes(gate: Arc<Gate>) -> Router {
    Router::new()
        .route(
            "/count",
            get(|mut login: Session<Login>| async move {
                login.counter += 1;
                format!("This is your {} visit", login.counter)
            }),
        )
        .route(
            "/peek",
            get(|login: Session<Login>| async move {
                format!(
                    "counter={} user={:?} new={}",
                    login.counter,
                    login.user,
                    login.is_new()
                )
            }),
        )
        .route(
            "/login",
            get(|mut login: Session<Login>| async move {
                login.user = Some("ada".into());
                login.regenerate();
                "welcome"
            }),
        )
        .route(
            "/slow-write",
            get(move |mut login: Session<Login>| {
                let gate = Arc::clone(&gate);
                async move {
                    gate.loaded.notify_one();
                    gate.release.notified().await;
                    login.counter += 10;
                    "slow"
                }
            }),
        )
}

async fn login_app(store: &Shared, gate: Arc<Gate>) -> Router {
    login_app_with(Login::layer().store_instance(store.clone()), gate).await
}

async fn login_app_with(builder: SessionLayerBuilder<Login>, gate: Arc<Gate>) -> Router {
    login_routes(gate).layer(builder.build().await.unwrap())
}

// --- Finding 5: server stores try every presented id, up to the cookie store's bound --------

#[tokio::test]
async fn server_stores_try_each_presented_id() {
    let store = Shared::new();
    let app = login_app(&store, Arc::default()).await;
    let real = request(&app, "/count", None).await.cookie("sid").unwrap();
    let planted = format!("sid={}", SessionId::generate().unwrap().as_str());
    let both = format!("{planted}; {real}");
    let reply = request(&app, "/count", Some(&both)).await;
    assert_eq!(reply.body, "This is your 2 visit");
    assert!(reply.set_cookies.is_empty(), "{:?}", reply.set_cookies);

    // Never more store calls than the cookie store tries values.
    let unknown: Vec<String> = (0..10)
        .map(|_| format!("sid={}", SessionId::generate().unwrap().as_str()))
        .collect();
    let many = format!("{}; {real}", unknown.join("; "));
    store.loads.store(0, Ordering::SeqCst);
    let reply = request(&app, "/peek", Some(&many)).await;
    assert!(reply.body.ends_with("new=true"), "{}", reply.body);
    assert_eq!(store.loads.load(Ordering::SeqCst), 4);
}

// --- Finding 9: no refresh when the expiry cannot move ---------------------------------------

#[tokio::test]
async fn a_session_capped_by_max_lifetime_is_not_refreshed_on_every_request() {
    let builder = Visit::layer()
        .secret(SECRET)
        .max_lifetime(Some(Duration::from_secs(7200)));
    let app = visit_app(builder).await;
    let t = now();
    // Created 7000 s ago: its expiry is the end of the absolute lifetime, 200 s from now.
    let capped = sealed(r#"{"counter":3}"#, t - 7000, t + 200);
    let reply = request(&app, "/peek", Some(&capped)).await;
    assert_eq!(reply.body, "counter=3 new=false");
    assert!(reply.set_cookies.is_empty(), "{:?}", reply.set_cookies);

    let store = Shared::new();
    let builder = Login::layer()
        .store_instance(store.clone())
        .max_lifetime(Some(Duration::from_secs(7200)));
    let app = login_app_with(builder, Arc::default()).await;
    let cookie = store.plant(3, t - 7000, t + 200).await;
    let reply = request(&app, "/peek", Some(&cookie)).await;
    assert!(reply.body.starts_with("counter=3"), "{}", reply.body);
    assert!(reply.set_cookies.is_empty(), "{:?}", reply.set_cookies);
    assert_eq!(store.updates.load(Ordering::SeqCst), 0);
}

// --- Finding 10: a late response never clobbers the session a login just issued ------------

#[tokio::test]
async fn a_slow_request_with_the_retired_id_does_not_undo_a_login() {
    let store = Shared::new();
    let gate = Arc::new(Gate::default());
    let app = login_app(&store, Arc::clone(&gate)).await;
    let old = request(&app, "/count", None).await.cookie("sid").unwrap();

    // A slow request loads the session, then the login retires its id, then the slow request
    // finishes and tries to save.
    let slow = tokio::spawn({
        let (app, old) = (app.clone(), old.clone());
        async move { request(&app, "/slow-write", Some(&old)).await }
    });
    gate.loaded.notified().await;
    let login = request(&app, "/login", Some(&old)).await;
    let new = login.cookie("sid").expect("the login sets a new id");
    assert_ne!(new, old);
    gate.release.notify_one();
    let slow = slow.await.unwrap();
    assert_eq!(slow.status, 200);
    assert!(
        slow.set_cookies.is_empty(),
        "the late response would overwrite the new id: {:?}",
        slow.set_cookies
    );
    let after = request(&app, "/peek", Some(&new)).await;
    assert_eq!(after.body, r#"counter=1 user=Some("ada") new=false"#);
}

#[tokio::test]
async fn a_request_arriving_with_a_retired_id_neither_removes_nor_adopts_it() {
    let store = Shared::new();
    let app = login_app(&store, Arc::default()).await;
    let old = request(&app, "/count", None).await.cookie("sid").unwrap();
    let new = request(&app, "/login", Some(&old))
        .await
        .cookie("sid")
        .unwrap();

    // A read: a fresh session, and no Set-Cookie that would replace the new id.
    let read = request(&app, "/peek", Some(&old)).await;
    assert_eq!(read.body, "counter=0 user=None new=true");
    assert!(read.set_cookies.is_empty(), "{:?}", read.set_cookies);

    // A write: a new session under a new id; the retired id is never adopted.
    let write = request(&app, "/count", Some(&old)).await;
    assert_eq!(write.body, "This is your 1 visit");
    let issued = write.cookie("sid").expect("a new session");
    assert_ne!(issued, old);
    assert_ne!(issued, new);

    // A cookie that is not an id at all is still removed.
    let malformed = request(&app, "/peek", Some("sid=../../etc/passwd")).await;
    assert!(malformed.removes("sid"), "{:?}", malformed.set_cookies);
}

// --- Finding 11: chunk names and caching ------------------------------------------------------

#[tokio::test]
async fn only_canonical_chunk_names_are_read() {
    let builder = Visit::layer().secret(SECRET).oversize(Oversize::Chunk);
    let app = visit_app(builder).await;
    let t = now();
    let full = sealed(r#"{"counter":7}"#, t, t + 3600);
    let value = value(&full);
    let (head, tail) = value.split_at(value.len() / 2);
    let canonical = format!("myapp.0={head}; myapp.1={tail}");
    assert_eq!(
        request(&app, "/peek", Some(&canonical)).await.body,
        "counter=7 new=false"
    );
    for first in ["myapp.00", "myapp.+0", "myapp.-0", "myapp. 0"] {
        let cookie = format!("{first}={head}; myapp.1={tail}");
        assert_eq!(
            request(&app, "/peek", Some(&cookie)).await.body,
            "counter=0 new=true",
            "{first} was read as chunk 0"
        );
    }
    let second = format!("myapp.0={head}; myapp.01={tail}");
    assert_eq!(
        request(&app, "/peek", Some(&second)).await.body,
        "counter=0 new=true"
    );
}

#[tokio::test]
async fn a_response_that_sets_a_session_cookie_is_not_stored_by_shared_caches() {
    let app = visit_app(Visit::layer().secret(SECRET)).await;
    let public = request(&app, "/public", None).await;
    assert!(public.cookie("myapp").is_some());
    let cache_control = public.headers[CACHE_CONTROL].to_str().unwrap();
    assert_eq!(cache_control, "no-store", "{cache_control}");

    let private = request(&app, "/private", None).await;
    assert_eq!(private.headers[CACHE_CONTROL], "private, max-age=60");
    let plain = request(&app, "/count", None).await;
    assert_eq!(plain.headers[CACHE_CONTROL], "private");

    // A response that sets no cookie keeps what the handler said.
    let cookie = plain.cookie("myapp").unwrap();
    let read = request(&app, "/public-read", Some(&cookie)).await;
    assert!(read.set_cookies.is_empty());
    assert_eq!(read.headers[CACHE_CONTROL], "public, max-age=600");
}

// --- Finding 7: the current expire and max_lifetime apply to values issued earlier ---------

#[tokio::test]
async fn a_shortened_expire_applies_to_cookies_already_issued() {
    let long = visit_app(Visit::layer().secret(SECRET)).await;
    let short = visit_app(Visit::layer().secret(SECRET).expire(Duration::from_secs(1))).await;
    let cookie = request(&long, "/count", None)
        .await
        .cookie("myapp")
        .unwrap();
    assert_eq!(
        request(&short, "/peek", Some(&cookie)).await.body,
        "counter=1 new=false"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        request(&short, "/peek", Some(&cookie)).await.body,
        "counter=0 new=true"
    );
    assert_eq!(
        request(&long, "/peek", Some(&cookie)).await.body,
        "counter=1 new=false"
    );
}

#[tokio::test]
async fn a_shortened_expire_applies_to_records_already_written() {
    let store = Shared::new();
    let long = login_app(&store, Arc::default()).await;
    let builder = Login::layer()
        .store_instance(store.clone())
        .expire(Duration::from_secs(1));
    let short = login_app_with(builder, Arc::default()).await;
    let cookie = request(&long, "/count", None).await.cookie("sid").unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        request(&short, "/peek", Some(&cookie)).await.body,
        "counter=0 user=None new=true"
    );
    assert_eq!(
        request(&long, "/peek", Some(&cookie)).await.body,
        "counter=1 user=None new=false"
    );
}

#[tokio::test]
async fn max_lifetime_has_a_default() {
    let app = visit_app(Visit::layer().secret(SECRET)).await;
    let t = now();
    // Kept alive by activity, and never older than the default absolute lifetime.
    let old = sealed(r#"{"counter":3}"#, t - DEFAULT_MAX_LIFETIME - 10, t + 100);
    assert_eq!(
        request(&app, "/peek", Some(&old)).await.body,
        "counter=0 new=true"
    );
    let young = sealed(r#"{"counter":3}"#, t - DEFAULT_MAX_LIFETIME + 1000, t + 100);
    assert_eq!(
        request(&app, "/peek", Some(&young)).await.body,
        "counter=3 new=false"
    );
    // A cookie issued now is capped by it.
    let reply = request(&app, "/count", Some(&young)).await;
    let line = reply.set_cookie_line("myapp").unwrap();
    assert!(
        line.contains("Max-Age=999") || line.contains("Max-Age=1000"),
        "{line}"
    );

    // An `expire` longer than the default raises the default instead of failing.
    let week = 7 * 24 * 3600;
    let builder = Visit::layer()
        .secret(SECRET)
        .expire(Duration::from_secs(week));
    let app = visit_app(builder).await;
    let kept = sealed(r#"{"counter":4}"#, t - DEFAULT_MAX_LIFETIME - 10, t + 100);
    assert_eq!(
        request(&app, "/peek", Some(&kept)).await.body,
        "counter=4 new=false"
    );
    let expired = sealed(r#"{"counter":4}"#, t - week - 10, t + 100);
    assert_eq!(
        request(&app, "/peek", Some(&expired)).await.body,
        "counter=0 new=true"
    );

    // Server-side records too.
    let store = Shared::new();
    let app = login_app(&store, Arc::default()).await;
    let cookie = store.plant(3, t - DEFAULT_MAX_LIFETIME - 10, t + 100).await;
    assert!(
        request(&app, "/peek", Some(&cookie))
            .await
            .body
            .ends_with("new=true")
    );
}

#[tokio::test]
async fn a_cookie_built_from_the_readme_carries_its_last_refresh() {
    let t = now();
    let body = format!(r#"{{"counter":41,"$refreshed":{}}}"#, t - 10);
    let cookie = readme_cookie(
        SECRET.as_bytes(),
        "myapp",
        body.as_bytes(),
        t - 500,
        t + 3590,
    );
    let app = visit_app(Visit::layer().secret(SECRET)).await;
    assert_eq!(
        request(&app, "/count", Some(&cookie)).await.body,
        "This is your 42 visit"
    );
    // Idle for 10 s: past an idle timeout of 5 s, whatever the sealed expiry says.
    let short = visit_app(Visit::layer().secret(SECRET).expire(Duration::from_secs(5))).await;
    assert_eq!(
        request(&short, "/count", Some(&cookie)).await.body,
        "This is your 1 visit"
    );
    // What the layer writes carries it too.
    let reply = request(&app, "/count", Some(&cookie)).await;
    let written = reply.cookie("myapp").unwrap();
    let opened = codec().open(value(&written)).unwrap();
    let object: serde_json::Value = serde_json::from_slice(&opened.body).unwrap();
    let refreshed = object["$refreshed"].as_u64().expect("a $refreshed entry");
    assert!((t..=now()).contains(&refreshed), "{object}");
    assert_eq!(opened.timestamps.unwrap().issued_at, t - 500);
}
