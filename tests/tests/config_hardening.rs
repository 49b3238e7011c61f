//! Configuration that promised more than it kept: timeouts on `legacy` cookies, legacy
//! upgrades without an end, and secrets the environment did not override.
//!
//! Tests that read the environment run their body in a child process of this test binary,
//! whose environment holds the variables (each test with its own prefix): the parent never
//! changes its own environment, which other tests running in parallel read.

use std::process::Command;
use std::time::{Duration, SystemTime};

use axum::{Router, routing::get};
use session_runtime::codec::{Codec, CodecOptions, KeyRing, legacy};
use session_runtime::{ConfigError, EncryptionMode, Session, SessionLayerBuilder};
use session_test_support::http::{request, value};
use session_test_support::secrets::SECRET;

/// A third secret, for the development one a builder holds while production sets another.
const DEV_SECRET: &str = "development secret: 0123456789abcdef0123";
/// A retired secret; without spaces, since the environment's list is whitespace separated.
const RETIRED_SECRET: &str = "retired-secret-0123456789abcdef0123456789";

#[derive(Session)]
#[session(cookie_name = "hardened")]
struct Visit {
    counter: u32,
}

async fn count(mut visit: Session<Visit>) -> String {
    visit.counter += 1;
    format!("visit {}", visit.counter)
}

async fn peek(visit: Session<Visit>) -> String {
    format!("counter={} new={}", visit.counter, visit.is_new())
}

async fn app(builder: SessionLayerBuilder<Visit>) -> Router {
    let layer = builder.build().await.expect("the layer builds");
    Router::new()
        .route("/count", get(count))
        .route("/peek", get(peek))
        .layer(layer)
}

fn codec(secret: &str) -> Codec {
    Codec::new(
        &KeyRing::from_secrets([secret]).expect("a long secret"),
        CodecOptions::new(EncryptionMode::Modern, "hardened"),
    )
    .expect("a modern codec")
}

/// A cookie header carrying `counter`, sealed with `secret` as a `modern` layer seals it.
fn sealed_with(secret: &str, counter: u32) -> String {
    let body = format!(r#"{{"counter":{counter}}}"#);
    let now = session_test_support::clock::now();
    let times = session_runtime::codec::Timestamps {
        issued_at: now,
        expires_at: now + 600,
    };
    let sealed = codec(secret)
        .seal(body.as_bytes(), times)
        .expect("the body seals");
    format!("hardened={sealed}")
}

/// A cookie header carrying `counter` in the `legacy` format, with `key`.
fn legacy_cookie(key: &cookie::Key, counter: u32) -> String {
    let body = format!(r#"{{"counter":{counter}}}"#);
    format!("hardened={}", legacy::seal(key, "hardened", &body))
}

/// Runs `body` in a child process of this test binary with `vars` in its environment; `test`
/// is the calling test's name, which the child runs alone.
fn with_env(test: &str, vars: &[(&str, &str)], body: impl FnOnce()) {
    const CHILD: &str = "CONFIG_HARDENING_CHILD";
    if std::env::var_os(CHILD).is_some() {
        body();
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let output = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .envs(vars.iter().copied())
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{test} failed in its child process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{test} did not run: {stdout}");
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

fn invalid_setting(result: Result<impl Sized, ConfigError>) -> (String, String) {
    match result {
        Err(ConfigError::Invalid {
            setting, message, ..
        }) => (setting, message),
        Err(other) => panic!("another error: {other}"),
        Ok(_) => panic!("the layer was built"),
    }
}

// Legacy values carry no time.

#[test]
fn legacy_refuses_timeouts_from_the_environment() {
    with_env(
        "legacy_refuses_timeouts_from_the_environment",
        &[
            ("HARD_LEGACY_ENCRYPTION_MODE", "legacy"),
            ("HARD_LEGACY_EXPIRE", "3"),
            ("HARD_LEGACY_MAX_LIFETIME", "4"),
            ("HARD_LEGACY_SECRET", SECRET),
        ],
        || {
            let builder = Visit::layer()
                .from_env_prefixed("HARD_LEGACY")
                .expect("the variables parse");
            let (setting, message) = invalid_setting(block_on(builder.build()));
            assert_eq!(setting, "HARD_LEGACY_EXPIRE");
            assert!(message.contains("legacy values carry no time"), "{message}");
            assert!(message.contains("modern"), "{message}");
        },
    );
}

#[tokio::test]
async fn legacy_refuses_a_max_lifetime_from_code() {
    let builder = Visit::layer()
        .secret(SECRET)
        .encryption_mode(EncryptionMode::Legacy)
        .max_lifetime(Some(Duration::from_secs(7200)));
    let (setting, message) = invalid_setting(builder.build().await);
    assert_eq!(setting, "max_lifetime");
    assert!(message.contains("Max-Age"), "{message}");
}

#[tokio::test]
async fn legacy_keeps_working_with_the_default_timeouts() {
    let key = cookie::Key::generate();
    let app = app(Visit::layer()
        .legacy_key(key.clone())
        .encryption_mode(EncryptionMode::Legacy))
    .await;
    let reply = request(&app, "/count", Some(&legacy_cookie(&key, 2))).await;
    assert_eq!(reply.body, "visit 3");
}

#[tokio::test]
async fn legacy_on_a_server_side_store_takes_timeouts() {
    // The cookie holds only an id there; the record carries the times.
    let layer = Visit::layer()
        .secret(SECRET)
        .store(session_runtime::StoreChoice::Memory)
        .encryption_mode(EncryptionMode::Legacy)
        .expire(Duration::from_secs(60))
        .max_lifetime(Some(Duration::from_secs(120)))
        .build()
        .await;
    assert!(layer.is_ok());
}

// Accepting legacy cookies until a deadline.

#[tokio::test]
async fn legacy_cookies_are_refused_after_the_deadline() {
    let key = cookie::Key::generate();
    let past = SystemTime::now() - Duration::from_secs(1);
    let app = app(Visit::layer()
        .secret(SECRET)
        .legacy_key(key.clone())
        .accept_legacy_until(past))
    .await;
    let reply = request(&app, "/peek", Some(&legacy_cookie(&key, 4))).await;
    assert_eq!(reply.body, "counter=0 new=true");
}

#[tokio::test]
async fn legacy_cookies_upgrade_before_the_deadline() {
    let key = cookie::Key::generate();
    let future = SystemTime::now() + Duration::from_secs(3600);
    let app = app(Visit::layer()
        .secret(SECRET)
        .legacy_key(key.clone())
        .max_lifetime(Some(Duration::from_secs(7200)))
        .accept_legacy_until(future))
    .await;
    let reply = request(&app, "/peek", Some(&legacy_cookie(&key, 4))).await;
    assert_eq!(reply.body, "counter=4 new=false");
    let upgraded = reply.cookie("hardened").expect("re-sealed as modern");
    let opened = codec(SECRET)
        .open(value(&upgraded))
        .expect("a modern value");
    let times = opened.timestamps.expect("sealed times");
    let deadline = future
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert!(times.expires_at <= deadline + 7200);
}

#[test]
fn the_deadline_comes_from_the_environment() {
    with_env(
        "the_deadline_comes_from_the_environment",
        &[
            ("HARD_UNTIL_SECRET", SECRET),
            ("HARD_UNTIL_ACCEPT_LEGACY_UNTIL", "2001-09-09T01:46:40Z"),
        ],
        || {
            block_on(async {
                let key = cookie::Key::generate();
                let builder = Visit::layer()
                    .legacy_key(key.clone())
                    .accept_legacy(true)
                    .from_env_prefixed("HARD_UNTIL")
                    .expect("an RFC 3339 time");
                let app = app(builder).await;
                let reply = request(&app, "/peek", Some(&legacy_cookie(&key, 4))).await;
                assert_eq!(reply.body, "counter=0 new=true");
            });
        },
    );
}

#[test]
fn a_malformed_deadline_is_an_error_naming_the_variable() {
    with_env(
        "a_malformed_deadline_is_an_error_naming_the_variable",
        &[("HARD_BADUNTIL_ACCEPT_LEGACY_UNTIL", "next tuesday")],
        || {
            let (setting, message) =
                invalid_setting(Visit::layer().from_env_prefixed("HARD_BADUNTIL"));
            assert_eq!(setting, "HARD_BADUNTIL_ACCEPT_LEGACY_UNTIL");
            assert!(message.contains("RFC 3339"), "{message}");
        },
    );
}

#[tokio::test]
async fn an_upgrade_without_a_deadline_cannot_keep_a_max_lifetime() {
    let builder = Visit::layer()
        .secret(SECRET)
        .legacy_key(cookie::Key::generate())
        .max_lifetime(Some(Duration::from_secs(7200)))
        .accept_legacy(true);
    let (setting, message) = invalid_setting(builder.build().await);
    assert_eq!(setting, "accept_legacy");
    assert!(message.contains("accept_legacy_until"), "{message}");
}

#[tokio::test]
async fn an_upgrade_without_a_deadline_still_builds_without_a_max_lifetime() {
    let layer = Visit::layer()
        .secret(SECRET)
        .legacy_key(cookie::Key::generate())
        .max_lifetime(None)
        .accept_legacy(true)
        .build()
        .await;
    assert!(layer.is_ok());
}

// The environment's secrets.

#[test]
fn the_environment_secret_replaces_the_builders() {
    with_env(
        "the_environment_secret_replaces_the_builders",
        &[("HARD_SECRET_SECRET", SECRET)],
        || {
            block_on(async {
                for builder in [
                    Visit::layer()
                        .secret(DEV_SECRET)
                        .from_env_prefixed("HARD_SECRET"),
                    Visit::layer()
                        .from_env_prefixed("HARD_SECRET")
                        .map(|b| b.secret(DEV_SECRET)),
                ] {
                    let app = app(builder.expect("the variables parse")).await;
                    let reply = request(&app, "/count", None).await;
                    let cookie = reply.cookie("hardened").expect("a session cookie");
                    assert!(codec(SECRET).open(value(&cookie)).is_ok());
                    assert!(codec(DEV_SECRET).open(value(&cookie)).is_err());
                }
            });
        },
    );
}

#[test]
fn the_environment_secret_keeps_the_builders_retired_ones() {
    with_env(
        "the_environment_secret_keeps_the_builders_retired_ones",
        &[("HARD_RETIRED_SECRET", SECRET)],
        || {
            block_on(async {
                let builder = Visit::layer()
                    .previous_secrets([RETIRED_SECRET])
                    .from_env_prefixed("HARD_RETIRED")
                    .expect("the variables parse");
                let app = app(builder).await;
                let old = sealed_with(RETIRED_SECRET, 5);
                let reply = request(&app, "/count", Some(&old)).await;
                assert_eq!(reply.body, "visit 6");
                let cookie = reply.cookie("hardened").expect("re-sealed");
                assert!(codec(SECRET).open(value(&cookie)).is_ok());
            });
        },
    );
}

#[test]
fn retired_secrets_alone_are_an_error() {
    with_env(
        "retired_secrets_alone_are_an_error",
        &[("HARD_ALONE_SECRET_PREVIOUS", RETIRED_SECRET)],
        || {
            let builder = Visit::layer()
                .from_env_prefixed("HARD_ALONE")
                .expect("the variables parse");
            let (setting, message) = invalid_setting(block_on(builder.build()));
            assert_eq!(setting, "HARD_ALONE_SECRET_PREVIOUS");
            assert!(message.contains("HARD_ALONE_SECRET"), "{message}");
            assert!(message.contains("current"), "{message}");
        },
    );
}

#[tokio::test]
async fn retired_secrets_from_code_alone_are_an_error() {
    let builder = Visit::layer().previous_secrets([RETIRED_SECRET]);
    let (setting, message) = invalid_setting(builder.build().await);
    assert_eq!(setting, "previous_secrets");
    assert!(message.contains(".secret(...)"), "{message}");
}

#[test]
fn an_ephemeral_secret_seals_beside_retired_ones() {
    with_env(
        "an_ephemeral_secret_seals_beside_retired_ones",
        &[("HARD_EPHEMERAL_SECRET_PREVIOUS", RETIRED_SECRET)],
        || {
            block_on(async {
                let builder = Visit::layer()
                    .from_env_prefixed("HARD_EPHEMERAL")
                    .expect("the variables parse")
                    .or_ephemeral_secret();
                let app = app(builder).await;
                let reply = request(&app, "/count", Some(&sealed_with(RETIRED_SECRET, 1))).await;
                assert_eq!(reply.body, "visit 2");
                let cookie = reply.cookie("hardened").expect("re-sealed");
                assert!(codec(RETIRED_SECRET).open(value(&cookie)).is_err());
            });
        },
    );
}
