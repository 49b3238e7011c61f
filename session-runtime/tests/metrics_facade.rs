//! The layer's metrics reach a `metrics` recorder, with their labels, units and descriptions.
//!
//! Each test installs its own recorder for its own thread (`set_default_local_recorder`) and
//! runs on a current-thread runtime, so the tests run in parallel without sharing counts.
#![cfg(feature = "metrics")]

use std::collections::HashMap;

use axum::{Router, routing::get};
use metrics::Unit;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use session_runtime::codec::{Codec, CodecOptions, KeyRing, Timestamps};
use session_runtime::metrics::{RefusalReason, names};
use session_runtime::store::{BoxFuture, Record, SessionStore, StoreError, Update, Updated};
use session_runtime::{EncryptionMode, Session, SessionId, StoreChoice, StoreKey};
use session_test_support::clock::now;
use session_test_support::http::request;
use session_test_support::secrets::{OTHER_SECRET, SECRET};

#[derive(Session)]
#[session(cookie_name = "visit")]
struct Visit {
    counter: u32,
}

async fn count(mut visit: Session<Visit>) -> String {
    visit.counter += 1;
    visit.counter.to_string()
}

async fn peek(visit: Session<Visit>) -> String {
    visit.counter.to_string()
}

async fn logout(visit: Session<Visit>) -> &'static str {
    visit.destroy();
    "bye"
}

fn routes() -> Router {
    Router::new()
        .route("/count", get(count))
        .route("/peek", get(peek))
        .route("/logout", get(logout))
}

/// One metric's labels, sorted, as `key=value`.
type Labels = Vec<String>;

/// What the recorder holds: values by name and labels, and units by name.
struct Readings {
    values: HashMap<(String, Labels), DebugValue>,
    units: HashMap<String, Option<Unit>>,
}

impl Readings {
    fn take(snapshotter: &Snapshotter) -> Self {
        let mut values = HashMap::new();
        let mut units = HashMap::new();
        for (key, unit, description, value) in snapshotter.snapshot().into_vec() {
            let key = key.key();
            assert!(description.is_some(), "{} has no description", key.name());
            let mut labels: Labels = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            units.insert(key.name().to_owned(), unit);
            values.insert((key.name().to_owned(), labels), value);
        }
        Readings { values, units }
    }

    fn counter(&self, name: &str, labels: &[&str]) -> u64 {
        match self.values.get(&(name.to_owned(), sorted(labels))) {
            Some(DebugValue::Counter(n)) => *n,
            Some(other) => panic!("{name} {labels:?} is not a counter: {other:?}"),
            None => 0,
        }
    }

    fn histogram(&self, name: &str, labels: &[&str]) -> Vec<f64> {
        match self.values.get(&(name.to_owned(), sorted(labels))) {
            Some(DebugValue::Histogram(samples)) => samples.iter().map(|s| s.0).collect(),
            Some(other) => panic!("{name} {labels:?} is not a histogram: {other:?}"),
            None => Vec::new(),
        }
    }
}

fn sorted(labels: &[&str]) -> Labels {
    let mut labels: Labels = labels.iter().map(|l| (*l).to_owned()).collect();
    labels.sort();
    labels
}

/// A value sealed for the `visit` cookie with `secret`.
fn sealed(secret: &str, issued_at: u64, expires_at: u64) -> String {
    let codec = Codec::new(
        &KeyRing::from_secrets([secret]).unwrap(),
        CodecOptions::new(EncryptionMode::Modern, "visit"),
    )
    .unwrap();
    let times = Timestamps {
        issued_at,
        expires_at,
    };
    format!("visit={}", codec.seal(br#"{"counter":5}"#, times).unwrap())
}

/// `cookie` with one character of its sealed part changed to another base64 character.
fn tampered(cookie: &str) -> String {
    let mut bytes = cookie.as_bytes().to_vec();
    let middle = cookie.len() / 2 + 3;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn cookie_store_counts_reach_the_recorder_with_their_labels() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let app = routes().layer(Visit::layer().secret(SECRET).build().await.unwrap());

    let cookie = request(&app, "/count", None).await.cookie("visit").unwrap();
    assert_eq!(request(&app, "/peek", Some(&cookie)).await.body, "1");
    request(&app, "/peek", Some(&tampered(&cookie))).await;
    request(&app, "/peek", Some("visit=not-a-sealed-value")).await;
    let t = now();
    request(&app, "/peek", Some(&sealed(OTHER_SECRET, t, t + 60))).await;
    request(&app, "/peek", Some(&sealed(SECRET, t - 10, t - 1))).await;

    let seen = Readings::take(&snapshotter);
    let session = "session=Visit";
    assert_eq!(seen.counter(names::LOADS, &[session]), 6);
    assert_eq!(seen.counter(names::FRESH, &[session]), 5);
    assert_eq!(seen.counter(names::EXPIRED, &[session]), 1);
    for reason in ["tampered", "malformed", "wrong_key"] {
        let labels = [session, &format!("reason={reason}")];
        assert_eq!(seen.counter(names::REFUSED, &labels), 1, "{reason}");
    }
    // The first write, and the removal of each refused cookie.
    assert_eq!(seen.counter(names::WRITES, &[session]), 5);
    assert_eq!(seen.counter(names::STORE_ERRORS, &[session]), 0);
    assert_eq!(seen.units[names::LOADS], Some(Unit::Count));
    assert!(
        !seen
            .values
            .keys()
            .any(|(name, _)| name == names::STORE_DURATION),
        "the cookie store makes no store calls"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_snapshot_counts_refusals_by_reason() {
    let layer = Visit::layer().secret(SECRET).build().await.unwrap();
    let metrics = layer.metrics();
    let app = routes().layer(layer);
    let cookie = request(&app, "/count", None).await.cookie("visit").unwrap();
    request(&app, "/peek", Some(&tampered(&cookie))).await;
    request(&app, "/peek", Some(&tampered(&cookie))).await;
    let t = now();
    request(&app, "/peek", Some(&sealed(OTHER_SECRET, t, t + 60))).await;
    let seen = metrics.snapshot();
    assert_eq!(seen.refused, 3, "{seen:?}");
    assert_eq!(seen.refused_by_reason.get(RefusalReason::Tampered), 2);
    assert_eq!(seen.refused_by_reason.get(RefusalReason::WrongKey), 1);
    assert_eq!(
        seen.refused_by_reason.iter().map(|(_, n)| n).sum::<u64>(),
        3
    );
}

#[tokio::test(flavor = "current_thread")]
async fn store_calls_are_timed_by_store_and_operation() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let layer = Visit::layer()
        .secret(SECRET)
        .store(StoreChoice::Memory)
        .refresh_interval(std::time::Duration::ZERO)
        .build()
        .await
        .unwrap();
    let app = routes().layer(layer);

    let cookie = request(&app, "/count", None).await.cookie("visit").unwrap();
    assert_eq!(request(&app, "/count", Some(&cookie)).await.body, "2");
    request(&app, "/logout", Some(&cookie)).await;
    request(&app, "/peek", Some(&cookie)).await;
    request(&app, "/peek", Some("visit=../../etc/passwd")).await;

    let seen = Readings::take(&snapshotter);
    let session = "session=Visit";
    let timed = |op: &str| {
        let labels = [session, "store=memory", &format!("op={op}")];
        seen.histogram(names::STORE_DURATION, &labels)
    };
    assert_eq!(
        timed("load").len(),
        3,
        "the count, the logout, the last peek"
    );
    assert_eq!(timed("create").len(), 1);
    assert_eq!(timed("update").len(), 1);
    assert_eq!(timed("delete").len(), 1);
    assert!(timed("load").iter().all(|s| (0.0..10.0).contains(s)));
    assert_eq!(seen.units[names::STORE_DURATION], Some(Unit::Seconds));
    for reason in ["unknown_id", "malformed_id"] {
        let labels = [session, &format!("reason={reason}")];
        assert_eq!(seen.counter(names::REFUSED, &labels), 1, "{reason}");
    }
    // Saves that sent a Set-Cookie: the new session, the logout's removal and the malformed
    // cookie's removal. The changed session keeps its cookie (its expiry did not move within
    // the second), and a vanished id gets no removal (it may belong to a newer login).
    assert_eq!(seen.counter(names::WRITES, &[session]), 3);
}

/// A store whose every call fails, as an unreachable server's would.
struct Unreachable;

impl SessionStore for Unreachable {
    fn load<'a>(
        &'a self,
        _: &'a StoreKey,
        _: u64,
    ) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }
    fn create<'a>(
        &'a self,
        _: &'a StoreKey,
        _: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }
    fn update<'a>(
        &'a self,
        _: &'a StoreKey,
        _: &'a Update,
        _: u64,
    ) -> BoxFuture<'a, Result<Updated, StoreError>> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }
    fn delete<'a>(&'a self, _: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }
}

#[tokio::test(flavor = "current_thread")]
async fn store_failures_are_counted_and_still_timed() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let layer = Visit::layer()
        .secret(SECRET)
        .store_instance(Unreachable)
        .build()
        .await
        .unwrap();
    let app = routes().layer(layer);

    let id = SessionId::generate().unwrap();
    let load = request(&app, "/peek", Some(&format!("visit={}", id.as_str()))).await;
    assert_eq!(load.status, http::StatusCode::SERVICE_UNAVAILABLE);
    let save = request(&app, "/count", None).await;
    assert_eq!(save.status, http::StatusCode::SERVICE_UNAVAILABLE);

    let seen = Readings::take(&snapshotter);
    let session = "session=Visit";
    assert_eq!(seen.counter(names::STORE_ERRORS, &[session]), 2);
    assert_eq!(seen.counter(names::SAVE_ERRORS, &[session]), 1);
    assert_eq!(seen.counter(names::WRITES, &[session]), 0);
    for op in ["load", "create"] {
        let labels = [session, "store=custom", &format!("op={op}")];
        assert_eq!(
            seen.histogram(names::STORE_DURATION, &labels).len(),
            1,
            "{op}"
        );
    }
}
