//! The cookie store end to end, in process: counting, attributes, laziness, tampering, expiry,
//! key rotation, the three modes, size limits and startup errors.

use axum::{Router, routing::get};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_runtime::codec::{Codec, CodecOptions, KeyRing, Timestamps};
use session_runtime::{ConfigError, EncryptionMode, Session, SessionRejection};
use session_test_support::clock::now;
use session_test_support::http::{pair, request, value};
use session_test_support::readme_cookie::readme_cookie;
use session_test_support::secrets::{OTHER_SECRET, SECRET};

#[derive(Session)]
#[session(cookie_name = "myapp", expire = 3600)]
struct Visit {
    counter: u32,
}

async fn count(mut visit: Session<Visit>) -> String {
    visit.counter += 1;
    format!("This is your {} visit", visit.counter)
}

async fn peek(visit: Session<Visit>) -> String {
    format!("counter={} new={}", visit.counter, visit.is_new())
}

async fn logout(visit: Session<Visit>) -> &'static str {
    visit.destroy();
    "bye"
}

async fn plain() -> &'static str {
    "no session here"
}

fn routes() -> Router {
    Router::new()
        .route("/count", get(count))
        .route("/peek", get(peek))
        .route("/logout", get(logout))
        .route("/plain", get(plain))
}

async fn app(builder: session_runtime::SessionLayerBuilder<Visit>) -> Router {
    routes().layer(builder.build().await.unwrap())
}

async fn default_app() -> Router {
    app(Visit::layer().secret(SECRET)).await
}

fn codec(secret: &str, name: &str) -> Codec {
    Codec::new(
        &KeyRing::from_secrets([secret]).unwrap(),
        CodecOptions::new(EncryptionMode::Modern, name),
    )
    .unwrap()
}

fn forged(counter: u32, issued_at: u64, expires_at: u64) -> String {
    let body = format!(r#"{{"counter":{counter}}}"#);
    let value = codec(SECRET, "myapp")
        .seal(
            body.as_bytes(),
            Timestamps {
                issued_at,
                expires_at,
            },
        )
        .unwrap();
    format!("myapp={value}")
}

#[tokio::test]
async fn counts_with_one_cookie_jar() {
    let app = default_app().await;
    let first = request(&app, "/count", None).await;
    assert_eq!(first.body, "This is your 1 visit");
    let cookie = first.cookie("myapp").expect("a session cookie");
    let line = first.set_cookie_line("myapp").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"] {
        assert!(line.contains(attribute), "{attribute} missing in {line}");
    }
    assert!(!line.contains("Secure"), "{line}");
    assert_eq!(first.headers["cache-control"], "private");
    assert_eq!(first.headers["vary"], "cookie");
    assert!(
        !cookie.contains("counter"),
        "the value shows the JSON: {cookie}"
    );
    let second = request(&app, "/count", Some(&cookie)).await;
    assert_eq!(second.body, "This is your 2 visit");
    let third = request(&app, "/count", Some(&second.cookie("myapp").unwrap())).await;
    assert_eq!(third.body, "This is your 3 visit");
}

#[tokio::test]
async fn unchanged_sessions_send_no_cookie() {
    let app = default_app().await;
    let fresh = request(&app, "/peek", None).await;
    assert_eq!(fresh.body, "counter=0 new=true");
    assert!(fresh.set_cookies.is_empty(), "{:?}", fresh.set_cookies);
    let cookie = request(&app, "/count", None).await.cookie("myapp").unwrap();
    let read = request(&app, "/peek", Some(&cookie)).await;
    assert_eq!(read.body, "counter=1 new=false");
    assert!(read.set_cookies.is_empty(), "{:?}", read.set_cookies);
}

#[tokio::test]
async fn routes_that_do_not_extract_do_not_touch_the_cookie() {
    let app = default_app().await;
    let reply = request(&app, "/plain", Some("myapp=garbage")).await;
    assert_eq!(reply.body, "no session here");
    assert!(reply.set_cookies.is_empty());
    assert!(!reply.headers.contains_key("vary"));
    // The same garbage on a route that extracts is refused, and deleted.
    let reply = request(&app, "/peek", Some("myapp=garbage")).await;
    assert_eq!(reply.body, "counter=0 new=true");
    assert!(reply.removes("myapp"));
}

#[tokio::test]
async fn tampered_values_give_a_fresh_session() {
    let app = default_app().await;
    let cookie = forged(41, now(), now() + 3600);
    assert_eq!(
        request(&app, "/count", Some(&cookie)).await.body,
        "This is your 42 visit"
    );
    let raw = URL_SAFE_NO_PAD.decode(value(&cookie)).unwrap();
    for position in 0..raw.len() {
        let mut bad = raw.clone();
        bad[position] ^= 0x01;
        let cookie = format!("myapp={}", URL_SAFE_NO_PAD.encode(&bad));
        let reply = request(&app, "/count", Some(&cookie)).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body, "This is your 1 visit",
            "byte {position} changed"
        );
    }
    for cut in [1, 10, raw.len() / 2, raw.len() - 1] {
        let cookie = format!("myapp={}", URL_SAFE_NO_PAD.encode(&raw[..cut]));
        assert_eq!(
            request(&app, "/count", Some(&cookie)).await.body,
            "This is your 1 visit"
        );
    }
}

#[tokio::test]
async fn a_value_moved_to_another_cookie_name_does_not_open() {
    let app = app(Visit::layer().secret(SECRET).cookie_name("other")).await;
    let moved = format!("other={}", value(&forged(41, now(), now() + 3600)));
    assert_eq!(
        request(&app, "/count", Some(&moved)).await.body,
        "This is your 1 visit"
    );
}

#[tokio::test]
async fn expiry_is_read_from_the_sealed_timestamps() {
    let app = app(Visit::layer()
        .secret(SECRET)
        .max_lifetime(Some(std::time::Duration::from_secs(7200))))
    .await;
    let t = now();
    let expired = forged(5, t - 100, t - 1);
    assert_eq!(
        request(&app, "/peek", Some(&expired)).await.body,
        "counter=0 new=true"
    );
    let too_old = forged(5, t - 7201, t + 100);
    assert_eq!(
        request(&app, "/peek", Some(&too_old)).await.body,
        "counter=0 new=true"
    );
    let from_the_future = forged(5, t + 3600, t + 7200);
    assert_eq!(
        request(&app, "/peek", Some(&from_the_future)).await.body,
        "counter=0 new=true"
    );
    let fine = forged(5, t - 100, t + 100);
    assert_eq!(
        request(&app, "/peek", Some(&fine)).await.body,
        "counter=5 new=false"
    );
}

#[tokio::test]
async fn max_lifetime_caps_the_cookie() {
    let app = app(Visit::layer()
        .secret(SECRET)
        .max_lifetime(Some(std::time::Duration::from_secs(3700))))
    .await;
    let t = now();
    // Created 3000 s ago: 700 s of absolute lifetime left, less than the idle 3600.
    let reply = request(&app, "/count", Some(&forged(1, t - 3000, t + 3000))).await;
    let line = reply.set_cookie_line("myapp").unwrap();
    let max_age: u64 = line
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((698..=700).contains(&max_age), "{line}");
}

#[tokio::test]
async fn rolling_refresh_is_throttled() {
    let app = default_app().await;
    let t = now();
    // Sealed just now: a read sends nothing.
    let recent = forged(3, t, t + 3600);
    assert!(
        request(&app, "/peek", Some(&recent))
            .await
            .set_cookies
            .is_empty()
    );
    // Last sealed two minutes ago (past the 60 s refresh interval): a read re-issues it.
    let older = forged(3, t - 120, t + 3600 - 120);
    let reply = request(&app, "/peek", Some(&older)).await;
    assert!(reply.cookie("myapp").is_some(), "{:?}", reply.set_cookies);
    // Not rolling: a read never re-issues.
    let fixed = app_not_rolling().await;
    assert!(
        request(&fixed, "/peek", Some(&older))
            .await
            .set_cookies
            .is_empty()
    );
}

async fn app_not_rolling() -> Router {
    app(Visit::layer().secret(SECRET).rolling(false)).await
}

#[tokio::test]
async fn retired_keys_open_and_reseal_removed_keys_do_not() {
    let old = default_app().await;
    let cookie = request(&old, "/count", None).await.cookie("myapp").unwrap();
    let rotated = app(Visit::layer()
        .secret(OTHER_SECRET)
        .previous_secrets([SECRET]))
    .await;
    let reply = request(&rotated, "/peek", Some(&cookie)).await;
    assert_eq!(reply.body, "counter=1 new=false");
    let resealed = reply
        .cookie("myapp")
        .expect("re-sealed with the current key");
    let only_new = app(Visit::layer().secret(OTHER_SECRET)).await;
    assert_eq!(
        request(&only_new, "/peek", Some(&resealed)).await.body,
        "counter=1 new=false"
    );
    assert_eq!(
        request(&only_new, "/peek", Some(&cookie)).await.body,
        "counter=0 new=true"
    );
}

#[tokio::test]
async fn a_cookie_built_from_the_readme_is_accepted() {
    let app = default_app().await;
    let t = now();
    let cookie = readme_cookie(
        SECRET.as_bytes(),
        "myapp",
        br#"{"counter":41}"#,
        t,
        t + 3600,
    );
    assert_eq!(
        request(&app, "/count", Some(&cookie)).await.body,
        "This is your 42 visit"
    );
    let raw = URL_SAFE_NO_PAD.decode(value(&cookie)).unwrap();
    for position in 0..raw.len() {
        let mut bad = raw.clone();
        bad[position] ^= 0x80;
        let cookie = format!("myapp={}", URL_SAFE_NO_PAD.encode(&bad));
        assert_eq!(
            request(&app, "/count", Some(&cookie)).await.body,
            "This is your 1 visit"
        );
    }
}

#[tokio::test]
async fn legacy_mode_interoperates_with_the_cookie_crate() {
    let key = cookie::Key::derive_from(SECRET.as_bytes());
    let app = app(Visit::layer()
        .secret(SECRET)
        .encryption_mode(EncryptionMode::Legacy))
    .await;
    // A cookie written by the cookie crate's private jar (as axum-extra's PrivateCookieJar does).
    let mut jar = cookie::CookieJar::new();
    jar.private_mut(&key)
        .add(cookie::Cookie::new("myapp", r#"{"counter":9}"#));
    let sent = format!("myapp={}", jar.get("myapp").unwrap().value());
    let reply = request(&app, "/count", Some(&sent)).await;
    assert_eq!(reply.body, "This is your 10 visit");
    // And the cookie crate reads what we write.
    let written = reply.cookie("myapp").unwrap();
    let mut jar = cookie::CookieJar::new();
    jar.add_original(cookie::Cookie::new("myapp", value(&written).to_owned()));
    let opened = jar
        .private(&key)
        .get("myapp")
        .expect("the cookie crate opens it");
    assert_eq!(opened.value(), r#"{"counter":10}"#);
}

#[tokio::test]
async fn legacy_cookies_upgrade_to_modern_when_accepted() {
    let key = cookie::Key::generate();
    let mut jar = cookie::CookieJar::new();
    jar.private_mut(&key)
        .add(cookie::Cookie::new("myapp", r#"{"counter":4}"#));
    let sent = format!("myapp={}", jar.get("myapp").unwrap().value());
    let app = app(Visit::layer()
        .secret(SECRET)
        .legacy_key(key)
        .accept_legacy(true))
    .await;
    let reply = request(&app, "/peek", Some(&sent)).await;
    assert_eq!(reply.body, "counter=4 new=false");
    let upgraded = reply.cookie("myapp").expect("re-sealed as modern");
    assert!(codec(SECRET, "myapp").open(value(&upgraded)).is_ok());
}

#[tokio::test]
async fn none_mode_is_readable_and_tamper_proof() {
    let app = app(Visit::layer()
        .secret(SECRET)
        .encryption_mode(EncryptionMode::None))
    .await;
    let cookie = request(&app, "/count", None).await.cookie("myapp").unwrap();
    let raw = URL_SAFE_NO_PAD.decode(value(&cookie)).unwrap();
    // The fields, then the time of the last refresh (see the README's wire format).
    assert!(String::from_utf8_lossy(&raw).contains(r#"{"counter":1,"$refreshed":"#));
    let text = String::from_utf8_lossy(&raw).replace(r#""counter":1"#, r#""counter":8"#);
    let forged = format!("myapp={}", URL_SAFE_NO_PAD.encode(text.as_bytes()));
    assert_eq!(
        request(&app, "/count", Some(&forged)).await.body,
        "This is your 1 visit"
    );
    assert_eq!(
        request(&app, "/count", Some(&cookie)).await.body,
        "This is your 2 visit"
    );
}

#[derive(Session)]
#[session(cookie_name = "notes")]
struct Notes {
    text: String,
}

async fn write_notes(mut notes: Session<Notes>) -> String {
    notes.text = "session data that repeats itself. ".repeat(200);
    notes.text.len().to_string()
}

async fn read_notes(notes: Session<Notes>) -> String {
    notes.text.len().to_string()
}

fn notes_routes() -> Router {
    Router::new()
        .route("/write", get(write_notes))
        .route("/read", get(read_notes))
}

#[tokio::test]
async fn compression_shrinks_cookies_and_oversize_is_a_clear_error() {
    let plain = notes_routes().layer(Notes::layer().secret(SECRET).build().await.unwrap());
    let reply = request(&plain, "/write", None).await;
    assert_eq!(reply.status, 500, "a 9 KB cookie must not be sent");
    assert!(reply.set_cookies.is_empty());

    let compressed = notes_routes().layer(
        Notes::layer()
            .secret(SECRET)
            .compression_level(3)
            .build()
            .await
            .unwrap(),
    );
    let reply = request(&compressed, "/write", None).await;
    assert_eq!(reply.status, 200);
    let cookie = reply.cookie("notes").unwrap();
    assert!(
        cookie.len() < 400,
        "compressed cookie is {} bytes",
        cookie.len()
    );
    assert_eq!(
        request(&compressed, "/read", Some(&cookie)).await.body,
        "6800"
    );
}

#[tokio::test]
async fn oversize_chunk_splits_and_reassembles() {
    let app = notes_routes().layer(
        Notes::layer()
            .secret(SECRET)
            .oversize(session_runtime::Oversize::Chunk)
            .build()
            .await
            .unwrap(),
    );
    let reply = request(&app, "/write", None).await;
    assert_eq!(reply.status, 200);
    let chunks: Vec<String> = (0..4)
        .filter_map(|i| reply.cookie(&format!("notes.{i}")))
        .collect();
    assert!(chunks.len() >= 2, "{:?}", reply.set_cookies);
    for line in &reply.set_cookies {
        assert!(pair(line).len() <= 4096, "{line}");
    }
    assert_eq!(
        request(&app, "/read", Some(&chunks.join("; "))).await.body,
        "6800"
    );
}

#[tokio::test]
async fn destroy_expires_the_cookie_with_the_same_path() {
    let app = app(Visit::layer().secret(SECRET).path("/")).await;
    let cookie = request(&app, "/count", None).await.cookie("myapp").unwrap();
    let reply = request(&app, "/logout", Some(&cookie)).await;
    assert!(reply.removes("myapp"), "{:?}", reply.set_cookies);
    assert!(reply.set_cookie_line("myapp").unwrap().contains("Path=/"));
}

#[tokio::test]
async fn sessioncookie_has_no_expiry_until_remember_me() {
    async fn remember(mut visit: Session<Visit>) -> &'static str {
        visit.set_expiry(std::time::Duration::from_secs(30 * 24 * 3600));
        "remembered"
    }
    let app = Router::new()
        .route("/count", get(count))
        .route("/remember", get(remember))
        .layer(
            Visit::layer()
                .secret(SECRET)
                .sessioncookie(true)
                .build()
                .await
                .unwrap(),
        );
    let reply = request(&app, "/count", None).await;
    let line = reply.set_cookie_line("myapp").unwrap();
    assert!(
        !line.contains("Max-Age") && !line.contains("Expires"),
        "{line}"
    );
    let reply = request(&app, "/remember", Some(&reply.cookie("myapp").unwrap())).await;
    assert!(
        reply
            .set_cookie_line("myapp")
            .unwrap()
            .contains("Max-Age=2592000")
    );
    // The longer idle timeout travels with the session.
    let cookie = reply.cookie("myapp").unwrap();
    let reply = request(&app, "/count", Some(&cookie)).await;
    assert_eq!(reply.body, "This is your 2 visit");
    assert!(
        reply
            .set_cookie_line("myapp")
            .unwrap()
            .contains("Max-Age=2592000")
    );
}

#[tokio::test]
async fn without_the_layer_the_error_names_the_type_and_the_layer() {
    let app = routes();
    let reply = request(&app, "/count", None).await;
    assert_eq!(reply.status, 500);
    assert!(reply.body.contains("Session<Visit>"), "{}", reply.body);
    assert!(reply.body.contains("Visit::layer()"), "{}", reply.body);
}

#[tokio::test]
async fn result_of_session_is_an_extractor_too() {
    async fn maybe(visit: Result<Session<Visit>, SessionRejection>) -> String {
        match visit {
            Ok(v) => format!("counter={}", v.counter),
            Err(e) => format!("no session: {}", e.status()),
        }
    }
    let bare = Router::new().route("/", get(maybe));
    assert_eq!(
        request(&bare, "/", None).await.body,
        "no session: 500 Internal Server Error"
    );
    let with_layer = Router::new()
        .route("/", get(maybe))
        .layer(Visit::layer().secret(SECRET).build().await.unwrap());
    assert_eq!(request(&with_layer, "/", None).await.body, "counter=0");
}

#[derive(Session)]
#[session(cookie_name = "prefs")]
struct Prefs {
    theme: Option<String>,
}

#[tokio::test]
async fn two_session_types_stack() {
    async fn both(mut visit: Session<Visit>, mut prefs: Session<Prefs>) -> String {
        visit.counter += 1;
        prefs.theme.get_or_insert_with(|| "dark".into());
        format!("{} {}", visit.counter, prefs.theme.as_deref().unwrap_or(""))
    }
    let app = Router::new()
        .route("/", get(both))
        .layer(Visit::layer().secret(SECRET).build().await.unwrap())
        .layer(Prefs::layer().secret(SECRET).build().await.unwrap());
    let reply = request(&app, "/", None).await;
    assert_eq!(reply.body, "1 dark");
    let cookies = format!(
        "{}; {}",
        reply.cookie("myapp").unwrap(),
        reply.cookie("prefs").unwrap()
    );
    let reply = request(&app, "/", Some(&cookies)).await;
    assert_eq!(reply.body, "2 dark");
    assert!(reply.cookie("prefs").is_none(), "prefs did not change");
}

#[tokio::test]
async fn startup_mistakes_say_what_to_do() {
    let missing = Visit::layer().build().await.unwrap_err();
    assert!(matches!(missing, ConfigError::MissingSecret { .. }));
    assert!(missing.to_string().contains("SESSION_SECRET"), "{missing}");
    let short = Visit::layer()
        .secret("too short")
        .build()
        .await
        .unwrap_err();
    assert!(short.to_string().contains("at least 32"), "{short}");
    let level = Visit::layer()
        .secret(SECRET)
        .compression_level(23)
        .build()
        .await
        .unwrap_err();
    assert!(level.to_string().contains("compression_level"), "{level}");
    let legacy_compressed = Visit::layer()
        .secret(SECRET)
        .encryption_mode(EncryptionMode::Legacy)
        .compression_level(3)
        .build()
        .await
        .unwrap_err();
    assert!(
        legacy_compressed.to_string().contains("legacy"),
        "{legacy_compressed}"
    );
    let bad_name = Visit::layer()
        .secret(SECRET)
        .cookie_name("my app")
        .build()
        .await
        .unwrap_err();
    assert!(bad_name.to_string().contains("cookie_name"), "{bad_name}");
    let host = Visit::layer()
        .secret(SECRET)
        .cookie_name("__Host-id")
        .build()
        .await
        .unwrap_err();
    assert!(host.to_string().contains("__Host-"), "{host}");
}

#[tokio::test]
async fn metrics_count_what_the_layer_saw() {
    let layer = Visit::layer().secret(SECRET).build().await.unwrap();
    let metrics = layer.metrics();
    let app = routes().layer(layer);
    let cookie = request(&app, "/count", None).await.cookie("myapp").unwrap();
    request(&app, "/peek", Some(&cookie)).await;
    request(&app, "/peek", Some("myapp=tampered")).await;
    let t = now();
    request(&app, "/peek", Some(&forged(1, t - 10, t - 1))).await;
    request(&app, "/plain", Some("myapp=tampered")).await;
    let seen = metrics.snapshot();
    assert_eq!(seen.loads, 4, "{seen:?}");
    assert_eq!(seen.fresh, 3, "{seen:?}");
    assert_eq!(seen.refused, 1, "{seen:?}");
    assert_eq!(seen.expired, 1, "{seen:?}");
    assert_eq!(seen.writes, 3, "the first write and two removals: {seen:?}");
    assert_eq!(seen.store_errors + seen.save_errors, 0);
}
