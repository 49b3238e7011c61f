//! Store operations on their own, without HTTP: `load`, `create` and `update` of a session of
//! eight fields (about 200 bytes of JSON) in the memory, files and Redis stores.
//!
//! ```text
//! cargo bench -p session-benches --bench stores
//! ```
//!
//! The files store works in a fresh temporary directory (each write is fsynced, so the figures
//! depend on the disk). Redis is a private `redis-server` on a free loopback port; without
//! `redis-server` on the `PATH` (or `$REDIS_SERVER`) the Redis group is left out.

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use session_benches::ProfileData;
use session_runtime::SessionId;
use session_runtime::store::{FilesStore, MemoryStore, Record, SessionStore, Update, Updated};
use session_test_support::redis_server::RedisServer;
use tokio::runtime::Runtime;

const PREFIX: &str = "bench:";
/// Far enough in the future (unix seconds) that nothing expires during the run.
const FAR: u64 = 4_000_000_000;
const NOW: u64 = 1_700_000_000;

fn record() -> Record {
    let value = serde_json::to_value(ProfileData::sample()).expect("profile encodes");
    let fields = value
        .as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_vec(v).expect("field encodes")))
        .collect();
    Record {
        fields,
        created_at: NOW,
        expires_at: FAR,
        idle_timeout: None,
    }
}

fn new_key() -> session_runtime::StoreKey {
    SessionId::generate()
        .expect("OS random numbers")
        .store_key(PREFIX)
}

fn bench_store(c: &mut Criterion, rt: &Runtime, name: &str, store: &dyn SessionStore) {
    let record = record();
    let key = new_key();
    rt.block_on(store.create(&key, &record))
        .expect("create the record that load and update use");

    let mut group = c.benchmark_group(format!("store/{name}"));
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("load", |b| {
        b.to_async(rt).iter(|| async {
            let loaded = store.load(&key, NOW).await.expect("load");
            assert!(loaded.is_some());
            loaded
        });
    });
    group.bench_function("create", |b| {
        b.to_async(rt).iter_batched(
            new_key,
            |k| async {
                let k = k;
                store.create(&k, &record).await.expect("create");
            },
            BatchSize::SmallInput,
        );
    });
    let mut counter = 0u64;
    group.bench_function("update", |b| {
        b.to_async(rt).iter_batched(
            || {
                counter += 1;
                Update {
                    changed: vec![("counter".to_owned(), counter.to_string().into_bytes())],
                    expires_at: FAR,
                    idle_timeout: None,
                }
            },
            |update| async {
                let update = update;
                let updated = store.update(&key, &update, NOW).await.expect("update");
                assert_eq!(updated, Updated::Applied);
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

/// The same Redis round trips with the `redis` crate alone, as a floor for the store's figures:
/// `PING`, and the `HGETALL` that `load` sends, decoded as `load` decodes it.
fn bench_redis_client(
    c: &mut Criterion,
    rt: &Runtime,
    server: &RedisServer,
    store: &dyn SessionStore,
) {
    let key = new_key();
    rt.block_on(store.create(&key, &record()))
        .expect("create a record to read");
    let client = redis::Client::open(server.url()).expect("a Redis URL");
    let conn = rt
        .block_on(redis::aio::ConnectionManager::new(client))
        .expect("connect to the private redis-server");
    let mut group = c.benchmark_group("redis-client");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("ping", |b| {
        b.to_async(rt).iter(|| {
            let mut conn = conn.clone();
            async move {
                let pong: String = redis::cmd("PING")
                    .query_async(&mut conn)
                    .await
                    .expect("PING");
                pong
            }
        });
    });
    group.bench_function("hgetall", |b| {
        b.to_async(rt).iter(|| {
            let mut conn = conn.clone();
            let key = key.as_str().to_owned();
            async move {
                let reply: Vec<(Vec<u8>, Vec<u8>)> = redis::cmd("HGETALL")
                    .arg(key)
                    .query_async(&mut conn)
                    .await
                    .expect("HGETALL");
                assert!(!reply.is_empty());
                reply
            }
        });
    });
    group.finish();
}

fn stores(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");

    // Large enough that the capacity bound never evicts during the run.
    let memory = MemoryStore::new(10_000_000);
    bench_store(c, &rt, "memory", &memory);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let files = FilesStore::new(dir.path().join("sessions"), "sess_%s").expect("files store");
    bench_store(c, &rt, "files", &files);

    let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let have_redis = std::process::Command::new(binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if have_redis {
        let server = RedisServer::start();
        let redis = rt
            .block_on(session_runtime::store::RedisStore::connect(&server.url()))
            .expect("connect to the private redis-server");
        bench_store(c, &rt, "redis", &redis);
        bench_redis_client(c, &rt, &server, &redis);
    } else {
        eprintln!("redis-server not found: the Redis store is left out");
    }
}

criterion_group!(benches, stores);
criterion_main!(benches);
