//! Tampering, over HTTP in process, in all three modes: every byte of a sealed value changed,
//! truncations at every length, extensions, a value moved to another cookie name, a key removed
//! from the ring, forged timestamps far in the future and the past, and the clock-skew bound.
//! Every case must give a fresh session with status 200 and a `Set-Cookie` that removes the
//! refused cookie. The number of cases tried is printed (`--nocapture`).

use axum::{Router, routing::get};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use session_runtime::codec::{Codec, CodecOptions, KeyRing, Timestamps};
use session_runtime::{EncryptionMode, Session};
use session_test_support::clock::now;
use session_test_support::http::request;
use session_test_support::secrets::{OTHER_SECRET, SECRET};

const NAME: &str = "tamper";

/// The engine refuses a value issued more than this many seconds in the future.
const MAX_CLOCK_SKEW: u64 = 300;

#[derive(Session)]
#[session(cookie_name = "tamper", expire = 3600)]
struct Tamper {
    counter: u32,
}

async fn peek(session: Session<Tamper>) -> String {
    format!("counter={} new={}", session.counter, session.is_new())
}

async fn app(mode: EncryptionMode, previous: &[&str]) -> Router {
    let layer = Tamper::layer()
        .secret(SECRET)
        .previous_secrets(previous.iter().copied())
        .encryption_mode(mode)
        .build()
        .await
        .unwrap();
    Router::new().route("/peek", get(peek)).layer(layer)
}

fn sealer(mode: EncryptionMode, secret: &str, name: &str) -> Codec {
    Codec::new(
        &KeyRing::from_secrets([secret]).unwrap(),
        CodecOptions::new(mode, name),
    )
    .unwrap()
}

/// A value of `{"counter":41}` sealed by `secret` for cookie `name`.
fn forge(mode: EncryptionMode, secret: &str, name: &str, times: Timestamps) -> String {
    sealer(mode, secret, name)
        .seal(br#"{"counter":41}"#, times)
        .unwrap()
}

fn live() -> Timestamps {
    Timestamps {
        issued_at: now(),
        expires_at: now() + 3600,
    }
}

/// How a mode writes its bytes as a cookie value.
fn decode(mode: EncryptionMode, value: &str) -> Vec<u8> {
    match mode {
        EncryptionMode::Legacy => STANDARD.decode(value).unwrap(),
        _ => URL_SAFE_NO_PAD.decode(value).unwrap(),
    }
}

fn encode(mode: EncryptionMode, raw: &[u8]) -> String {
    match mode {
        EncryptionMode::Legacy => STANDARD.encode(raw),
        _ => URL_SAFE_NO_PAD.encode(raw),
    }
}

/// Runs the cases of one mode against one app.
struct Cases {
    mode: EncryptionMode,
    app: Router,
    tried: usize,
}

impl Cases {
    async fn new(mode: EncryptionMode) -> Cases {
        Cases {
            mode,
            app: app(mode, &[]).await,
            tried: 0,
        }
    }

    /// The value opens: the control that shows a refusal is the tampering's doing.
    async fn accepted(&self, value: &str, why: &str) {
        let reply = request(&self.app, "/peek", Some(&format!("{NAME}={value}"))).await;
        assert_eq!(reply.status, 200, "{:?} {why}", self.mode);
        assert_eq!(reply.body, "counter=41 new=false", "{:?} {why}", self.mode);
    }

    /// The value is refused: a fresh session, status 200, and the cookie removed.
    async fn refused(&mut self, value: &str, why: &str) {
        self.refused_cookie(&format!("{NAME}={value}"), why).await;
    }

    async fn refused_cookie(&mut self, cookie: &str, why: &str) {
        self.tried += 1;
        let reply = request(&self.app, "/peek", Some(cookie)).await;
        let mode = self.mode;
        assert_eq!(reply.status, 200, "{mode:?} {why}");
        assert_eq!(reply.body, "counter=0 new=true", "{mode:?} {why}: {cookie}");
        assert!(
            reply.removes(NAME),
            "{mode:?} {why}: no removal in {:?}",
            reply.set_cookies
        );
        assert!(reply.cookie(NAME).is_none(), "{mode:?} {why}");
    }
}

async fn tamper_suite(mode: EncryptionMode) -> usize {
    let mut cases = Cases::new(mode).await;
    let valid = forge(mode, SECRET, NAME, live());
    cases.accepted(&valid, "the untouched value").await;
    let raw = decode(mode, &valid);

    // Every byte changed, three ways.
    for position in 0..raw.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = raw.clone();
            bad[position] ^= mask;
            let why = format!("byte {position} ^ {mask:#04x}");
            cases.refused(&encode(mode, &bad), &why).await;
        }
    }
    // Truncated at every length: the decoded bytes, and the text itself.
    for len in 0..raw.len() {
        let why = format!("bytes cut to {len}");
        cases.refused(&encode(mode, &raw[..len]), &why).await;
    }
    for len in 0..valid.len() {
        let why = format!("text cut to {len}");
        cases.refused(&valid[..len], &why).await;
    }
    // Extended: bytes appended, and text appended.
    for extra in 1..=48usize {
        let mut long = raw.clone();
        long.extend((0..extra).map(|i| (i * 37) as u8));
        let why = format!("{extra} bytes appended");
        cases.refused(&encode(mode, &long), &why).await;
    }
    for suffix in [
        "A", "AA", "AAA", "AAAA", "=", "==", "-", "_", "+", "/", "%3D", "\"", "\\",
    ] {
        let why = format!("{suffix:?} appended");
        cases.refused(&format!("{valid}{suffix}"), &why).await;
    }
    // Moved from another cookie name, with the right key.
    for other in ["other", "tamper2", "Tamper", "tampe", "tamper.0"] {
        let moved = forge(mode, SECRET, other, live());
        cases.refused(&moved, &format!("moved from {other}")).await;
    }
    // The right value under another name is not read at all, and does not count as refused.
    let reply = request(&cases.app, "/peek", Some(&format!("other={valid}"))).await;
    assert_eq!(reply.body, "counter=0 new=true");
    assert!(reply.set_cookies.is_empty(), "{:?}", reply.set_cookies);
    // A key removed from the ring: accepted while it is a previous secret, refused after.
    let retired = forge(mode, OTHER_SECRET, NAME, live());
    let rotating = Cases {
        mode,
        app: app(mode, &[OTHER_SECRET]).await,
        tried: 0,
    };
    rotating.accepted(&retired, "a previous secret").await;
    cases
        .refused(&retired, "its key removed from the ring")
        .await;

    if mode != EncryptionMode::Legacy {
        let t = now();
        let forged = [
            (
                t + 10 * 365 * 86400,
                t + 11 * 365 * 86400,
                "issued in ten years",
            ),
            (u64::MAX, u64::MAX, "issued at the end of time"),
            (u64::MAX, 0, "issued at the end of time, no expiry"),
            (t + 3600, t + 7200, "issued in an hour"),
            (0, 1, "expired in 1970"),
            (1, t - 1, "expired a second ago"),
            (
                t - 10 * 365 * 86400,
                t - 9 * 365 * 86400,
                "expired nine years ago",
            ),
            (t - 7200, t, "expires now"),
        ];
        for (issued_at, expires_at, why) in forged {
            let times = Timestamps {
                issued_at,
                expires_at,
            };
            cases.refused(&forge(mode, SECRET, NAME, times), why).await;
        }
        // The clock-skew bound: 299 s ahead is accepted, 301 s ahead refused. A clock tick
        // between sealing and the request only helps the first; the second is retried if the
        // clock moved.
        let ahead = |skew: u64| {
            let t = now();
            let times = Timestamps {
                issued_at: t + skew,
                expires_at: t + skew + 3600,
            };
            (t, forge(mode, SECRET, NAME, times))
        };
        cases
            .accepted(&ahead(MAX_CLOCK_SKEW - 1).1, "issued 299 s ahead")
            .await;
        let mut refused_once = false;
        for _ in 0..3 {
            let (sealed_at, value) = ahead(MAX_CLOCK_SKEW + 1);
            let reply = request(&cases.app, "/peek", Some(&format!("{NAME}={value}"))).await;
            if now() == sealed_at {
                assert_eq!(reply.status, 200);
                assert_eq!(reply.body, "counter=0 new=true", "issued 301 s ahead");
                assert!(reply.removes(NAME));
                refused_once = true;
                cases.tried += 1;
                break;
            }
        }
        assert!(refused_once, "the clock moved on every try");
    }
    println!("tamper {mode:?}: {} cases, all refused", cases.tried);
    cases.tried
}

#[tokio::test]
async fn modern_values_resist_tampering() {
    assert!(tamper_suite(EncryptionMode::Modern).await > 400);
}

#[tokio::test]
async fn signed_values_resist_tampering() {
    assert!(tamper_suite(EncryptionMode::None).await > 400);
}

#[tokio::test]
async fn legacy_values_resist_tampering() {
    assert!(tamper_suite(EncryptionMode::Legacy).await > 200);
}
