//! `sessions open`: a live counter's cookie opens; every kind of failure has its code.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use session_runtime::EncryptionMode;
use session_runtime::codec::{Codec, CodecOptions, KeyRing, Timestamps};

use crate::support::{
    OLD_SECRET, OTHER_SECRET, SECRET, example_binary, free_port, now, sessions, with_secret,
};

/// The counter example, killed on drop.
struct Counter(Child);

impl Drop for Counter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the counter example with `SESSION_SECRET` = `secret` and visits `/counter`
/// `visits` times with a cookie jar; returns the `myapp` cookie as the jar sends it
/// (`myapp=VALUE`).
async fn counter_cookie(secret: &str, visits: u32) -> String {
    let port = free_port();
    let _counter = Counter(
        Command::new(example_binary("counter"))
            .env("PORT", port.to_string())
            .env("SESSION_SECRET", secret)
            .env_remove("SESSION_SECRET_PREVIOUS")
            .env_remove("SESSION_STORE")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the counter example did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let url: reqwest::Url = format!("http://127.0.0.1:{port}/counter").parse().unwrap();
    for visit in 1..=visits {
        let reply = client.get(url.clone()).send().await.unwrap();
        let text = reply.text().await.unwrap();
        assert_eq!(text, format!("This is your {visit} visit"));
    }
    use reqwest::cookie::CookieStore as _;
    let header = jar.cookies(&url).expect("the counter set a cookie");
    header.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_live_counters_cookie_opens_with_the_same_secret() {
    let cookie = counter_cookie(SECRET, 2).await;
    assert!(cookie.starts_with("myapp="), "{cookie}");
    let before = now();

    let report = with_secret(&["open", "--cookie-name", "myapp", &cookie]).json();
    assert_eq!(report["fields"], serde_json::json!({ "counter": 2 }));
    assert_eq!(report["mode"], "modern");
    assert_eq!(report["stale"], false);
    assert_eq!(report["idle_timeout"], serde_json::Value::Null);
    let issued = report["issued_at_unix"].as_u64().unwrap();
    let expires = report["expires_at_unix"].as_u64().unwrap();
    assert!(issued <= before && before < issued + 60, "{report}");
    assert!(expires > before && expires <= now() + 3600, "{report}");
    let text = report["expires_at"].as_str().unwrap();
    assert!(text.ends_with('Z') && text.len() == 20, "{text}");

    // The bare value, on stdin, opens the same.
    let value = cookie.trim_start_matches("myapp=");
    let from_stdin = sessions(
        &["open", "--cookie-name", "myapp"],
        &[("SESSION_SECRET", SECRET)],
        value,
    );
    assert_eq!(from_stdin.json()["fields"]["counter"], 2);

    // Rotated: the counter's secret is now a retired one, and still opens.
    let rotated = sessions(
        &["open", "--cookie-name", "myapp", value],
        &[
            ("SESSION_SECRET", OTHER_SECRET),
            ("SESSION_SECRET_PREVIOUS", SECRET),
        ],
        "",
    );
    assert_eq!(rotated.json()["stale"], true);

    sessions(
        &["open", "--cookie-name", "myapp", value],
        &[("SESSION_SECRET", OTHER_SECRET)],
        "",
    )
    .fails_with(3, "no key opens it (wrong or retired secret)");
    with_secret(&["open", "--cookie-name", "other", value])
        .fails_with(4, "tampered or sealed for another cookie name");
    with_secret(&["open", "--cookie-name", "myapp", &tamper(value)])
        .fails_with(4, "tampered or sealed for another cookie name");
}

/// `value` with one base64 character in the middle (the ciphertext) changed.
fn tamper(value: &str) -> String {
    let mut bytes = value.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

fn codec(mode: EncryptionMode, secrets: &[&str]) -> Codec {
    let keys = KeyRing::from_secrets(secrets.iter().map(|s| s.as_bytes())).unwrap();
    Codec::new(&keys, CodecOptions::new(mode, "myapp")).unwrap()
}

fn seal(body: &str, issued_at: u64, expires_at: u64) -> String {
    let times = Timestamps {
        issued_at,
        expires_at,
    };
    codec(EncryptionMode::Modern, &[SECRET])
        .seal(body.as_bytes(), times)
        .unwrap()
}

#[test]
fn an_expired_value_says_when_it_expired() {
    let expired_at = now() - 10;
    let value = seal(r#"{"counter":3}"#, expired_at - 3600, expired_at);
    let text = session_cli::times::rfc3339(expired_at);
    with_secret(&["open", "--cookie-name", "myapp", &value])
        .fails_with(5, &format!("expired at {text}"));

    let anyway = with_secret(&["open", "--cookie-name", "myapp", "--ignore-expiry", &value]);
    assert_eq!(anyway.json()["expires_at"], text.as_str());
}

#[test]
fn the_idle_timeout_is_shown_beside_the_times_not_among_the_fields() {
    let value = seal(r#"{"counter":3,"$ttl":600}"#, now(), 0);
    let report = with_secret(&["open", "--cookie-name", "myapp", "--pretty", &value]).json();
    assert_eq!(report["idle_timeout"], 600);
    assert_eq!(report["fields"], serde_json::json!({ "counter": 3 }));
    assert_eq!(report["expires_at"], serde_json::Value::Null);
    assert_eq!(report["expires_at_unix"], serde_json::Value::Null);
}

#[test]
fn chunks_open_in_index_order() {
    let value = seal(r#"{"cart":["a","b","c"]}"#, now(), 0);
    let third = value.len() / 3;
    let chunks = [
        format!("myapp.2={}", &value[2 * third..]),
        format!("myapp.0={}", &value[..third]),
        format!("myapp.1={}", &value[third..2 * third]),
    ];
    let mut args = vec!["open", "--cookie-name", "myapp"];
    args.extend(chunks.iter().map(String::as_str));
    assert_eq!(with_secret(&args).json()["fields"]["cart"][2], "c");

    // Bare chunks are joined in the order given.
    let bare = [&value[..third], &value[third..]];
    let run = with_secret(&["open", "--cookie-name", "myapp", bare[0], bare[1]]);
    assert_eq!(run.json()["fields"]["cart"][0], "a");
}

#[test]
fn other_modes_open_with_mode() {
    let signed = codec(EncryptionMode::None, &[SECRET])
        .seal(br#"{"n":1}"#, Timestamps::default())
        .unwrap();
    let report = with_secret(&["open", "--cookie-name", "myapp", "--mode", "none", &signed]);
    assert_eq!(report.json()["mode"], "none");
    with_secret(&["open", "--cookie-name", "myapp", &signed]).fails_with(1, "not a modern value");

    let legacy = codec(EncryptionMode::Legacy, &[SECRET])
        .seal(br#"{"n":2}"#, Timestamps::default())
        .unwrap();
    let report = with_secret(&[
        "open",
        "--cookie-name",
        "myapp",
        "--mode",
        "legacy",
        &legacy,
    ]);
    let report = report.json();
    assert_eq!(report["fields"]["n"], 2);
    assert_eq!(report["issued_at"], serde_json::Value::Null);
    let upgraded = with_secret(&["open", "--cookie-name", "myapp", "--accept-legacy", &legacy]);
    assert_eq!(upgraded.json()["stale"], true);
    sessions(
        &[
            "open",
            "--cookie-name",
            "myapp",
            "--mode",
            "legacy",
            &legacy,
        ],
        &[("SESSION_SECRET", OLD_SECRET)],
        "",
    )
    .fails_with(4, "legacy values carry no key id");
}

#[test]
fn garbage_is_a_plain_failure_and_bad_usage_is_code_2() {
    with_secret(&["open", "--cookie-name", "myapp", "not base64!"]).fails_with(1, "base64");
    with_secret(&["open", "--cookie-name", "myapp", "AQ"]).fails_with(1, "truncated");
    with_secret(&["open", "--cookie-name", "myapp", "--mode", "fancy", "AQ"])
        .fails_with(2, "fancy");
    sessions(
        &["open", "--cookie-name", "myapp"],
        &[("SESSION_SECRET", SECRET)],
        " \n",
    )
    .fails_with(2, "no value");
}
