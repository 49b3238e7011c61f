//! Property tests: any value of a session type with a field of every supported kind round-trips
//! unchanged, through the HTTP layer in process (one request sets it, the next reads it back):
//! through the cookie store in every mode, with and without compression, and through every
//! server-side store (memory, files in a temporary directory, a private redis-server).

use session_test_support::redis_server;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::{Router, routing::get};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use session_runtime::store::{FilesStore, MemoryStore, RedisStore};
use session_runtime::{EncryptionMode, Oversize, Session, SessionLayerBuilder};
use session_test_support::http::{self, pair, request};
use session_test_support::secrets::SECRET;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Inner {
    name: String,
    score: Option<i32>,
    tags: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Nested {
    inner: Inner,
    list: Vec<Inner>,
    flag: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
enum Shape {
    #[default]
    Empty,
    Point(i64, i64),
    Circle {
        radius: f64,
    },
    Named(String),
}

/// A field of every kind the derive supports.
#[derive(Session, Clone, Debug, PartialEq)]
// No `expire`: the same struct also runs in `legacy` mode, which refuses a written timeout.
#[session(cookie_name = "prop")]
struct Everything {
    a_u8: u8,
    a_u16: u16,
    a_u32: u32,
    a_u64: u64,
    a_u128: u128,
    a_usize: usize,
    a_i8: i8,
    a_i16: i16,
    a_i32: i32,
    a_i64: i64,
    a_i128: i128,
    a_f64: f64,
    a_f32: f32,
    a_bool: bool,
    a_char: char,
    a_string: String,
    #[session(rename = "o")]
    an_option: Option<String>,
    a_vec: Vec<i64>,
    a_map: HashMap<String, u32>,
    a_btree: BTreeMap<String, Option<bool>>,
    a_nested: Nested,
    an_enum: Shape,
    enums: Vec<Shape>,
    a_tuple: (u8, String, bool),
    bytes: Vec<u8>,
}

fn text() -> impl Strategy<Value = String> {
    // Any unicode scalar values, control characters, quotes and backslashes included.
    proptest::collection::vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect())
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(f64::MIN_POSITIVE),
        Just(f64::EPSILON),
        Just(-0.0),
        Just(5e-324),
    ]
}

fn inner() -> impl Strategy<Value = Inner> {
    (
        text(),
        any::<Option<i32>>(),
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(|(name, score, tags)| Inner { name, score, tags })
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Empty),
        (any::<i64>(), any::<i64>()).prop_map(|(x, y)| Shape::Point(x, y)),
        finite().prop_map(|radius| Shape::Circle { radius }),
        text().prop_map(Shape::Named),
    ]
}

fn integer<T: Arbitrary + Copy + std::fmt::Debug + 'static>(
    extremes: [T; 2],
) -> impl Strategy<Value = T> {
    prop_oneof![any::<T>(), Just(extremes[0]), Just(extremes[1])]
}

fn everything() -> impl Strategy<Value = Everything> {
    let unsigned = (
        integer([0u8, u8::MAX]),
        integer([0u16, u16::MAX]),
        integer([0u32, u32::MAX]),
        integer([0u64, u64::MAX]),
        integer([0u128, u128::MAX]),
        integer([0usize, usize::MAX]),
    );
    let signed = (
        integer([i8::MIN, i8::MAX]),
        integer([i16::MIN, i16::MAX]),
        integer([i32::MIN, i32::MAX]),
        integer([i64::MIN, i64::MAX]),
        integer([i128::MIN, i128::MAX]),
    );
    let scalars = (
        finite(),
        any::<f32>().prop_filter("finite", |f| f.is_finite()),
        any::<bool>(),
        any::<char>(),
        text(),
        proptest::option::of(text()),
    );
    let collections = (
        proptest::collection::vec(any::<i64>(), 0..6),
        proptest::collection::hash_map(text(), any::<u32>(), 0..4),
        proptest::collection::btree_map(text(), any::<Option<bool>>(), 0..4),
        (
            inner(),
            proptest::collection::vec(inner(), 0..2),
            any::<bool>(),
        )
            .prop_map(|(inner, list, flag)| Nested { inner, list, flag }),
        shape(),
        proptest::collection::vec(shape(), 0..3),
        (any::<u8>(), text(), any::<bool>()),
        proptest::collection::vec(any::<u8>(), 0..24),
    );
    (unsigned, signed, scalars, collections).prop_map(
        |(
            (a_u8, a_u16, a_u32, a_u64, a_u128, a_usize),
            (a_i8, a_i16, a_i32, a_i64, a_i128),
            (a_f64, a_f32, a_bool, a_char, a_string, an_option),
            (a_vec, a_map, a_btree, a_nested, an_enum, enums, a_tuple, bytes),
        )| Everything {
            a_u8,
            a_u16,
            a_u32,
            a_u64,
            a_u128,
            a_usize,
            a_i8,
            a_i16,
            a_i32,
            a_i64,
            a_i128,
            a_f64,
            a_f32,
            a_bool,
            a_char,
            a_string,
            an_option,
            a_vec,
            a_map,
            a_btree,
            a_nested,
            an_enum,
            enums,
            a_tuple,
            bytes,
        },
    )
}

/// The value the next `/set` stores, and the value the last `/get` read.
#[derive(Clone, Default)]
struct Slot(Arc<Mutex<Option<Everything>>>);

async fn set(State(slot): State<Slot>, mut session: Session<Everything>) -> &'static str {
    let value = slot.0.lock().unwrap().take().expect("a value to set");
    *session = value;
    "set"
}

async fn get_value(State(slot): State<Slot>, session: Session<Everything>) -> String {
    let read = (*session).clone();
    *slot.0.lock().unwrap() = Some(read);
    format!("new={}", session.is_new())
}

/// An app under test, and what keeps its store alive.
struct Target {
    label: &'static str,
    app: Router,
    slot: Slot,
    _dir: Option<tempfile::TempDir>,
}

async fn target(
    label: &'static str,
    builder: SessionLayerBuilder<Everything>,
    dir: Option<tempfile::TempDir>,
) -> Target {
    let slot = Slot::default();
    let layer = builder
        .secret(SECRET)
        .oversize(Oversize::Chunk)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let app = Router::new()
        .route("/set", get(set))
        .route("/get", get(get_value))
        .layer(layer)
        .with_state(slot.clone());
    Target {
        label,
        app,
        slot,
        _dir: dir,
    }
}

async fn cookie_targets() -> Vec<Target> {
    let mut targets = Vec::new();
    for (label, mode, level) in [
        ("modern", EncryptionMode::Modern, 0),
        ("modern+zstd", EncryptionMode::Modern, 3),
        ("none", EncryptionMode::None, 0),
        ("none+zstd", EncryptionMode::None, 3),
        ("legacy", EncryptionMode::Legacy, 0),
    ] {
        let builder = Everything::layer()
            .encryption_mode(mode)
            .compression_level(level);
        targets.push(target(label, builder, None).await);
    }
    targets
}

async fn store_targets(redis_url: &str) -> Vec<Target> {
    let memory = Everything::layer().store_instance(MemoryStore::new(100_000));
    let dir = tempfile::tempdir().unwrap();
    let files = Everything::layer().store_instance(FilesStore::new(dir.path(), "s_%s").unwrap());
    let redis = Everything::layer().store_instance(RedisStore::connect(redis_url).await.unwrap());
    vec![
        target("memory", memory, None).await,
        target("files", files, Some(dir)).await,
        target("redis", redis, None).await,
    ]
}

/// Sets `value` in one request and reads it back in the next, with the cookies the first set.
async fn round_trip(target: &Target, value: &Everything) -> Result<(), TestCaseError> {
    let label = target.label;
    *target.slot.0.lock().unwrap() = Some(value.clone());
    let set = request(&target.app, "/set", None).await;
    prop_assert_eq!(set.status, 200, "{}: set failed: {:?}", label, set.body);
    let cookies: Vec<String> = set
        .set_cookies
        .iter()
        .map(|c| pair(c))
        .filter(|p| !http::value(p).is_empty())
        .collect();
    prop_assert!(!cookies.is_empty(), "{}: no cookie was set", label);
    let got = request(&target.app, "/get", Some(&cookies.join("; "))).await;
    prop_assert_eq!(got.status, 200, "{}", label);
    prop_assert_eq!(got.body.as_str(), "new=false", "{}", label);
    let read = target.slot.0.lock().unwrap().take().expect("a value read");
    prop_assert_eq!(&read, value, "{} changed the value", label);
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn any_value_round_trips_through_every_mode() {
    let rt = runtime();
    let targets = rt.block_on(cookie_targets());
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest::test_runner::TestRunner::new(config)
        .run(&everything(), |value| {
            rt.block_on(async {
                for target in &targets {
                    round_trip(target, &value).await?;
                }
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn any_value_round_trips_through_every_store() {
    let rt = runtime();
    let redis = redis_server::RedisServer::start();
    let targets = rt.block_on(store_targets(&redis.url()));
    let config = ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest::test_runner::TestRunner::new(config)
        .run(&everything(), |value| {
            rt.block_on(async {
                for target in &targets {
                    round_trip(target, &value).await?;
                }
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn extremes_round_trip_everywhere() {
    // The corners a random draw may miss, every one at once.
    let value = Everything {
        a_u8: u8::MAX,
        a_u16: u16::MAX,
        a_u32: u32::MAX,
        a_u64: u64::MAX,
        a_u128: u128::MAX,
        a_usize: usize::MAX,
        a_i8: i8::MIN,
        a_i16: i16::MIN,
        a_i32: i32::MIN,
        a_i64: i64::MIN,
        a_i128: i128::MIN,
        a_f64: f64::MIN_POSITIVE,
        a_f32: f32::MAX,
        a_bool: true,
        a_char: '\u{10FFFF}',
        a_string: "\u{0}\u{1f}\"\\\u{7f}\u{2028}\u{FEFF}\u{1F600}".to_owned(),
        an_option: Some(String::new()),
        a_vec: vec![i64::MIN, i64::MAX, 0],
        a_map: HashMap::from([(String::new(), u32::MAX), ("$ttl".to_owned(), 1)]),
        a_btree: BTreeMap::from([("\u{0}".to_owned(), None)]),
        a_nested: Nested::default(),
        an_enum: Shape::Circle { radius: -0.0 },
        enums: vec![Shape::Point(i64::MIN, i64::MAX), Shape::Named("x".into())],
        a_tuple: (0, "\u{1F600}".repeat(3), false),
        bytes: (0..=255).collect(),
    };
    let rt = runtime();
    let redis = redis_server::RedisServer::start();
    rt.block_on(async {
        let mut targets = cookie_targets().await;
        targets.extend(store_targets(&redis.url()).await);
        for target in &targets {
            round_trip(target, &value).await.unwrap();
        }
    });
}
