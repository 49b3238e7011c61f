//! `sessions seal`: what it seals, a live layer accepts.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, header};
use http_body_util::BodyExt as _;
use session_runtime::Session;
use tower::ServiceExt as _;

use crate::support::{SECRET, sessions, with_secret};

#[derive(Session)]
#[session(cookie_name = "myapp", expire = 3600)]
struct Visit {
    counter: u32,
}

async fn count(mut visit: Session<Visit>) -> String {
    visit.counter += 1;
    format!("This is your {} visit", visit.counter)
}

/// What the counter answers to a request carrying `myapp=value`.
async fn visit_with(value: &str, compression_level: i32) -> String {
    let layer = Visit::layer()
        .secret(SECRET)
        .compression_level(compression_level)
        .build()
        .await
        .unwrap();
    let app = Router::new().route("/counter", get(count)).layer(layer);
    let request = Request::get("/counter")
        .header(header::COOKIE, format!("myapp={value}"))
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn a_sealed_value_opens_in_a_live_layer() {
    let sealed = with_secret(&[
        "seal",
        "--cookie-name",
        "myapp",
        "--fields",
        r#"{"counter":5}"#,
    ]);
    assert_eq!(sealed.code, 0, "{}", sealed.stderr);
    assert_eq!(visit_with(&sealed.stdout, 0).await, "This is your 6 visit");

    // Fields from stdin, compressed.
    let fields = format!(r#"{{"counter":41,"note":"{}"}}"#, "la ".repeat(200));
    let compressed = sessions(
        &["seal", "--cookie-name", "myapp", "--compression-level", "3"],
        &[("SESSION_SECRET", SECRET)],
        &fields,
    );
    assert_eq!(compressed.code, 0, "{}", compressed.stderr);
    assert!(
        compressed.stdout.len() < fields.len(),
        "{}",
        compressed.stdout
    );
    assert_eq!(
        visit_with(&compressed.stdout, 3).await,
        "This is your 42 visit"
    );
}

#[tokio::test]
async fn a_value_sealed_for_another_name_starts_a_fresh_session() {
    let sealed = with_secret(&[
        "seal",
        "--cookie-name",
        "other",
        "--fields",
        r#"{"counter":5}"#,
    ]);
    assert_eq!(visit_with(&sealed.stdout, 0).await, "This is your 1 visit");
}

#[test]
fn seal_then_open_round_trips_with_the_expiry_asked_for() {
    let sealed = with_secret(&[
        "seal",
        "--cookie-name",
        "myapp",
        "--expire",
        "0",
        "--fields",
        r#"{"u":"ann"}"#,
    ]);
    let report = with_secret(&["open", "--cookie-name", "myapp", &sealed.stdout]).json();
    assert_eq!(report["fields"]["u"], "ann");
    assert_eq!(report["expires_at"], serde_json::Value::Null);

    let sealed = with_secret(&[
        "seal",
        "--cookie-name",
        "myapp",
        "--expire",
        "60",
        "--fields",
        "{}",
    ]);
    let report = with_secret(&["open", "--cookie-name", "myapp", &sealed.stdout]).json();
    let lifetime =
        report["expires_at_unix"].as_u64().unwrap() - report["issued_at_unix"].as_u64().unwrap();
    assert_eq!(lifetime, 60);
}

#[test]
fn seal_refuses_what_is_not_an_object_of_fields() {
    let seal = |fields: &str| with_secret(&["seal", "--cookie-name", "myapp", "--fields", fields]);
    seal("[1,2]").fails_with(2, "one JSON object");
    seal("{").fails_with(2, "not JSON");
    seal(r#"{"$ttl":5}"#).fails_with(2, "reserved");
    with_secret(&[
        "seal",
        "--cookie-name",
        "myapp",
        "--compression-level",
        "23",
    ])
    .fails_with(2, "zstd level");
    with_secret(&[
        "seal",
        "--cookie-name",
        "myapp",
        "--mode",
        "legacy",
        "--compression-level",
        "3",
        "--fields",
        "{}",
    ])
    .fails_with(2, "legacy");
}
