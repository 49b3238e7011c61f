//! Regression tests of the store hardening: a record is bound to its session type, the memory
//! store keeps returning sessions through a flood of new ones, the files store has an optional
//! capacity, and it refuses a directory or a session file it cannot trust.

use std::os::unix::fs::PermissionsExt;

use axum::{Router, routing::get};
use session_runtime::store::{FilesStore, MemoryStore, Record, SessionStore};
use session_runtime::{ConfigError, Session, SessionId};
use session_test_support::http::{request, value};
use session_test_support::secrets::SECRET;

#[derive(Session)]
#[session(cookie_name = "cart", store = "files")]
struct Cart {
    counter: u32,
}

#[derive(Session)]
#[session(cookie_name = "auth", store = "files")]
struct Auth {
    counter: u32,
}

async fn count_cart(mut cart: Session<Cart>) -> String {
    cart.counter += 1;
    format!("This is your {} visit", cart.counter)
}

async fn count_auth(mut auth: Session<Auth>) -> String {
    auth.counter += 1;
    format!("This is your {} visit", auth.counter)
}

/// Both session types on one app, each on its own route, built by `configure`.
async fn two_types(
    cart: session_runtime::SessionLayerBuilder<Cart>,
    auth: session_runtime::SessionLayerBuilder<Auth>,
) -> Router {
    let cart = Router::new()
        .route("/cart", get(count_cart))
        .layer(cart.secret(SECRET).build().await.unwrap());
    let auth = Router::new()
        .route("/auth", get(count_auth))
        .layer(auth.secret(SECRET).build().await.unwrap());
    cart.merge(auth)
}

/// Counts the `cart` session up to six, then presents the `cart` id as the `auth` cookie.
async fn cart_id_as_auth(app: &Router) -> String {
    let first = request(app, "/cart", None).await;
    let cart = first.cookie("cart").expect("a cart cookie");
    for _ in 0..5 {
        request(app, "/cart", Some(&cart)).await;
    }
    assert_eq!(
        request(app, "/cart", Some(&cart)).await.body,
        "This is your 7 visit"
    );
    let forged = format!("auth={}", value(&cart));
    request(app, "/auth", Some(&forged)).await.body
}

#[tokio::test]
async fn an_id_of_one_type_opens_no_record_of_another_type_on_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    // The default template `sess_%s` for both, as `SESSION_DIR` gives every type one directory.
    let app = two_types(
        Cart::layer().session_dir(dir.path()),
        Auth::layer().session_dir(dir.path()),
    )
    .await;
    assert_eq!(cart_id_as_auth(&app).await, "This is your 1 visit");
}

#[tokio::test]
async fn an_id_of_one_type_opens_no_record_of_another_type_in_one_memory_store() {
    let store = MemoryStore::new(1_000);
    let app = two_types(
        Cart::layer().store_instance(store.clone()),
        Auth::layer().store_instance(store),
    )
    .await;
    assert_eq!(cart_id_as_auth(&app).await, "This is your 1 visit");
}

#[test]
fn store_keys_differ_per_prefix_in_their_hashed_part() {
    let id = SessionId::generate().unwrap();
    let cart = id.store_key("cart:");
    let auth = id.store_key("auth:");
    assert_ne!(cart.hash_part(), auth.hash_part());
    assert!(cart.as_str().starts_with("cart:"));
}

fn record(counter: u32, expires_at: u64) -> Record {
    Record {
        fields: vec![("counter".into(), counter.to_string().into_bytes())],
        created_at: 1,
        expires_at,
        idle_timeout: None,
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn flooding_the_memory_store_with_ten_times_its_capacity_of_one_shot_sessions_leaves_every_session_that_keeps_coming_back_intact()
 {
    let store = MemoryStore::new(1_000);
    let far = now() + 3_600;
    let returning: Vec<_> = (0..100)
        .map(|_| SessionId::generate().unwrap().store_key("app:"))
        .collect();
    for (i, key) in returning.iter().enumerate() {
        store.create(key, &record(i as u32, far)).await.unwrap();
    }
    for _batch in 0..10 {
        for key in &returning {
            assert!(store.load(key, now()).await.unwrap().is_some());
        }
        // The flood's sessions expire later than the returning ones: they are newer.
        for _ in 0..1_000 {
            let key = SessionId::generate().unwrap().store_key("app:");
            store.create(&key, &record(0, far + 60)).await.unwrap();
        }
    }
    for (i, key) in returning.iter().enumerate() {
        let loaded = store.load(key, now()).await.unwrap();
        assert_eq!(
            loaded.and_then(|r| r.field("counter").map(<[u8]>::to_vec)),
            Some(i.to_string().into_bytes()),
            "returning session {i} was evicted"
        );
    }
    assert!(store.len() <= 1_000 + 16, "{}", store.len());
}

#[tokio::test]
async fn the_files_store_refuses_new_sessions_past_its_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s")
        .unwrap()
        .capacity(Some(3));
    let far = now() + 600;
    let keys: Vec<_> = (0..3)
        .map(|_| SessionId::generate().unwrap().store_key("app:"))
        .collect();
    for key in &keys {
        store.create(key, &record(1, far)).await.unwrap();
    }
    let extra = SessionId::generate().unwrap().store_key("app:");
    let refused = store.create(&extra, &record(1, far)).await.unwrap_err();
    assert!(refused.to_string().contains("capacity"), "{refused}");
    assert!(store.load(&extra, now()).await.unwrap().is_none());
    // A deleted session frees its place.
    store.delete(&keys[0]).await.unwrap();
    store.create(&extra, &record(1, far)).await.unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[tokio::test]
async fn a_full_files_store_answers_503_for_a_new_session_and_serves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let app = Router::new().route("/cart", get(count_cart)).layer(
        Cart::layer()
            .session_dir(dir.path())
            .files_capacity(Some(1))
            .secret(SECRET)
            .build()
            .await
            .unwrap(),
    );
    let first = request(&app, "/cart", None).await;
    let cart = first.cookie("cart").unwrap();
    assert_eq!(request(&app, "/cart", None).await.status, 503);
    assert_eq!(
        request(&app, "/cart", Some(&cart)).await.body,
        "This is your 2 visit"
    );
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[tokio::test]
async fn a_world_writable_session_directory_is_refused() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let err = FilesStore::new(&dir, "sess_%s").unwrap_err().to_string();
    assert!(err.contains("chmod 700"), "{err}");
    let built = Cart::layer().session_dir(&dir).secret(SECRET).build().await;
    assert!(matches!(built, Err(ConfigError::Store { .. })), "{built:?}");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    assert!(FilesStore::new(&dir, "sess_%s").is_err(), "group-writable");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    FilesStore::new(&dir, "sess_%s").unwrap();
}

#[test]
fn a_session_directory_owned_by_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: only root can give a directory to another user");
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("theirs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    // `nobody` on Debian and most other systems.
    let nobody = rustix::process::Uid::from_raw(65534);
    rustix::fs::chown(&dir, Some(nobody), None).unwrap();
    let err = FilesStore::new(&dir, "sess_%s").unwrap_err().to_string();
    assert!(err.contains("chown"), "{err}");
}

#[tokio::test]
async fn a_symlinked_session_file_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions");
    let app = Router::new().route("/cart", get(count_cart)).layer(
        Cart::layer()
            .session_dir(&sessions)
            .secret(SECRET)
            .build()
            .await
            .unwrap(),
    );
    // A session planted elsewhere, linked in under the name a chosen id hashes to.
    let chosen = SessionId::generate().unwrap();
    let planted = dir.path().join("planted");
    let body = format!(
        r#"{{"v":1,"created_at":{},"expires_at":{},"idle_timeout":null,"fields":{{"counter":1336}}}}"#,
        now(),
        now() + 600
    );
    std::fs::write(&planted, body).unwrap();
    let name = format!("sess_{}", chosen.store_key("cart:").hash_part());
    std::os::unix::fs::symlink(&planted, sessions.join(name)).unwrap();

    let cookie = format!("cart={}", chosen.as_str());
    assert_eq!(
        request(&app, "/cart", Some(&cookie)).await.body,
        "This is your 1 visit"
    );
}

#[derive(Session)]
#[session(cookie_name = "visitor", store = "memory")]
struct Visitor {
    user: Option<String>,
}

async fn read_only(visitor: Session<Visitor>) -> String {
    format!("{:?}", visitor.user)
}

async fn login(mut visitor: Session<Visitor>) -> &'static str {
    visitor.user = Some("ada".into());
    "in"
}

#[tokio::test]
async fn anonymous_requests_that_only_read_the_session_store_nothing() {
    let store = MemoryStore::new(1_000);
    let app = Router::new()
        .route("/", get(read_only))
        .route("/login", get(login))
        .layer(
            Visitor::layer()
                .store_instance(store.clone())
                .secret(SECRET)
                .build()
                .await
                .unwrap(),
        );
    for _ in 0..50 {
        let reply = request(&app, "/", None).await;
        assert_eq!(reply.body, "None");
        assert!(reply.set_cookies.is_empty(), "{:?}", reply.set_cookies);
    }
    assert_eq!(store.len(), 0);
    let reply = request(&app, "/login", None).await;
    assert!(reply.cookie("visitor").is_some());
    assert_eq!(store.len(), 1);
}
