//! The Redis store against a real Redis Cluster (three masters, one replica each) started by
//! each test on its own loopback ports: the shared store suite, then what only a cluster has
//! (sessions spread over the masters, failover, cluster configuration errors).

#![cfg(feature = "redis")]

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use session_runtime::StoreKey;
use session_runtime::store::{Record, RedisStore, SessionStore, StoreError, Updated};
use session_test_support::clock::now;
use session_test_support::records::{new_key, record, update};
use session_test_support::redis_cluster::RedisCluster;
use session_test_support::redis_server::RedisServer;
use session_test_support::store_suite::StoreFixture;

/// How long the store may take to serve a session again after its master was killed.
const RECOVERY: Duration = Duration::from_secs(30);

fn fields(items: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    items
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
        .collect()
}

/// The fields of a record sorted by name, as text.
fn field_map(record: &Record) -> HashMap<String, String> {
    record
        .fields
        .iter()
        .map(|(n, v)| (n.clone(), String::from_utf8(v.clone()).unwrap()))
        .collect()
}

/// A direct connection to each master, made once.
async fn master_connection<'a>(
    cluster: &RedisCluster,
    cache: &'a mut HashMap<u16, MultiplexedConnection>,
    port: u16,
) -> &'a mut MultiplexedConnection {
    if let Entry::Vacant(entry) = cache.entry(port) {
        entry.insert(cluster.connection(port).await);
    }
    cache.get_mut(&port).unwrap()
}

/// A cluster of its own, a store on it connected with the explicit list of node URLs, and
/// direct connections to the masters to look inside.
struct ClusterFixture {
    cluster: RedisCluster,
    store: RedisStore,
}

impl ClusterFixture {
    /// A direct connection to the master serving `key`.
    async fn master_of(&self, key: &StoreKey) -> MultiplexedConnection {
        let slot = self.cluster.slot(key.as_str()).await;
        let master = self.cluster.master_of(slot).await;
        self.cluster.connection(master).await
    }
}

impl StoreFixture for ClusterFixture {
    type Store = RedisStore;

    async fn start() -> Self {
        let cluster = RedisCluster::start().await;
        let urls = cluster.urls();
        let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
        let store = RedisStore::connect_cluster(&urls).await.unwrap();
        ClusterFixture { cluster, store }
    }

    fn store(&self) -> &RedisStore {
        &self.store
    }

    async fn record_count(&self) -> u64 {
        let mut total = 0;
        for master in self.cluster.masters().await {
            total += self.cluster.key_count(master).await;
        }
        total
    }

    async fn holds(&self, key: &StoreKey) -> bool {
        self.master_of(key)
            .await
            .exists(key.as_str())
            .await
            .unwrap()
    }

    async fn raw_contents(&self, _key: &StoreKey) -> Vec<Vec<u8>> {
        let mut contents = Vec::new();
        for master in self.cluster.masters().await {
            let mut conn = self.cluster.connection(master).await;
            let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
                .arg("*")
                .query_async(&mut conn)
                .await
                .unwrap();
            for key in keys {
                let hash: Vec<(Vec<u8>, Vec<u8>)> = conn.hgetall(&key).await.unwrap();
                contents.push(key);
                for (field, value) in hash {
                    contents.extend([field, value]);
                }
            }
        }
        contents
    }

    /// One hash on the master of the key's slot, as on a single server.
    async fn assert_layout(&self, key: &StoreKey, created: &Record) {
        let hash: HashMap<String, String> = self
            .master_of(key)
            .await
            .hgetall(key.as_str())
            .await
            .unwrap();
        assert_eq!(hash.len(), 5, "{hash:?}");
        assert_eq!(hash["f:user"], "\"ada\"");
        assert_eq!(hash["_e"], created.expires_at.to_string());
        assert_eq!(hash["_c"], created.created_at.to_string());
        assert_eq!(hash["_t"], "300");
    }

    async fn assert_backing_expiry(&self, key: &StoreKey, expires_at: u64) {
        let expire_at: i64 = redis::cmd("EXPIRETIME")
            .arg(key.as_str())
            .query_async(&mut self.master_of(key).await)
            .await
            .unwrap();
        assert_eq!(expire_at, expires_at as i64);
    }
}

session_test_support::store_suite!(ClusterFixture: data);

#[tokio::test]
async fn sessions_spread_over_every_master_round_trip() {
    let cluster = RedisCluster::start().await;
    // A comma-separated list selects the cluster client.
    let store = RedisStore::connect(&cluster.url_list()).await.unwrap();
    assert!(format!("{store:?}").contains("Redis Cluster"), "{store:?}");
    let far = now() + 600;
    let keys: Vec<StoreKey> = (0..60).map(|_| new_key()).collect();

    for (i, key) in keys.iter().enumerate() {
        assert!(store.load(key, now()).await.unwrap().is_none());
        let user = format!("\"user{i}\"");
        let mut created = record(&[("user", &user), ("count", "1")], far);
        created.idle_timeout = Some(300);
        store.create(key, &created).await.unwrap();
    }

    // Each session is one key on the master of its slot, expiring with the session, and the
    // sessions landed on all three masters.
    let masters = cluster.masters().await;
    assert_eq!(masters.len(), 3, "{masters:?}");
    let mut conns = HashMap::new();
    let mut per_master: HashMap<u16, usize> = HashMap::new();
    for key in &keys {
        let slot = cluster.slot(key.as_str()).await;
        let master = cluster.master_of(slot).await;
        let conn = master_connection(&cluster, &mut conns, master).await;
        assert!(conn.exists::<_, bool>(key.as_str()).await.unwrap());
        let ttl: i64 = conn.ttl(key.as_str()).await.unwrap();
        assert!(ttl > 0 && ttl <= 600, "ttl {ttl}");
        *per_master.entry(master).or_default() += 1;
    }
    assert_eq!(per_master.len(), 3, "{per_master:?}");
    let mut total = 0;
    for &master in &masters {
        total += cluster.key_count(master).await;
    }
    assert_eq!(total, keys.len() as u64);

    for (i, key) in keys.iter().enumerate() {
        let loaded = store.load(key, now()).await.unwrap().unwrap();
        assert_eq!(loaded.expires_at, far);
        assert_eq!(loaded.idle_timeout, Some(300));
        let map = field_map(&loaded);
        assert_eq!(map["user"], format!("\"user{i}\""));
        assert_eq!(map["count"], "1");
    }

    // Updates write only the changed field and move the expiry.
    let later = far + 60;
    for (i, key) in keys.iter().enumerate() {
        let count = (i + 2).to_string();
        let applied = store
            .update(key, &update(&[("count", &count)], later), now())
            .await
            .unwrap();
        assert_eq!(applied, Updated::Applied);
    }
    for (i, key) in keys.iter().enumerate() {
        let loaded = store.load(key, now()).await.unwrap().unwrap();
        assert_eq!(loaded.expires_at, later);
        let map = field_map(&loaded);
        assert_eq!(map["user"], format!("\"user{i}\""));
        assert_eq!(map["count"], (i + 2).to_string());
    }

    // Deleting half: those are gone and an update does not bring them back.
    for key in keys.iter().step_by(2) {
        store.delete(key).await.unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        let loaded = store.load(key, now()).await.unwrap();
        assert_eq!(loaded.is_none(), i % 2 == 0, "session {i}");
    }
    let gone = &keys[0];
    let outcome = store
        .update(gone, &update(&[("count", "9")], later), now())
        .await
        .unwrap();
    assert_eq!(outcome, Updated::Missing);
    assert!(store.load(gone, now()).await.unwrap().is_none());
    let mut total = 0;
    for &master in &masters {
        total += cluster.key_count(master).await;
    }
    assert_eq!(total, (keys.len() / 2) as u64);

    // Creating over an existing key replaces the record whole.
    let kept = &keys[1];
    store
        .create(kept, &record(&[("other", "true")], far))
        .await
        .unwrap();
    let loaded = store.load(kept, now()).await.unwrap().unwrap();
    assert_eq!(loaded.fields, fields(&[("other", "true")]));
    assert_eq!(loaded.idle_timeout, None);
}

/// Calls `op` until it succeeds, for at most [`RECOVERY`]; returns its value and how many calls
/// failed first.
async fn until_ok<T, F, Fut>(mut op: F) -> (T, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let deadline = Instant::now() + RECOVERY;
    let mut failed = 0;
    loop {
        match op().await {
            Ok(value) => return (value, failed),
            Err(error) => {
                failed += 1;
                assert!(
                    Instant::now() < deadline,
                    "the store did not recover within {RECOVERY:?}: {error}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test]
async fn a_session_survives_the_loss_of_its_master() {
    let mut cluster = RedisCluster::start().await;
    let store = RedisStore::connect(&cluster.url_list()).await.unwrap();
    let far = now() + 600;
    let key = new_key();
    store
        .create(&key, &record(&[("user", "\"ada\""), ("count", "1")], far))
        .await
        .unwrap();
    let outcome = store
        .update(&key, &update(&[("count", "2")], far), now())
        .await
        .unwrap();
    assert_eq!(outcome, Updated::Applied);

    // Replication is asynchronous: make sure the replica has the session before the master
    // dies. WAIT only covers the writes of the connection that sends it, so write a probe on
    // the same slot (a hash tag of the session key) from that connection; the master streams
    // writes to its replica in order, so once the probe is acknowledged the session is too.
    let slot = cluster.slot(key.as_str()).await;
    let old_master = cluster.master_of(slot).await;
    let mut conn = cluster.connection(old_master).await;
    let probe = format!("{{{}}}:probe", key.as_str());
    assert_eq!(cluster.slot(&probe).await, slot);
    let _: () = conn.set(&probe, "1").await.unwrap();
    let acknowledged: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(1000)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        acknowledged, 1,
        "the replica did not acknowledge the writes"
    );
    drop(conn);

    let killed_at = Instant::now();
    cluster.kill(old_master);

    // The same store, with no reconnection by hand, is used right away. Reads may be answered
    // by the replica before it is promoted (the cluster client falls back to another node when
    // a master is unreachable, and replicas serve reads of their master's slots); writes fail
    // until the replica has taken over.
    let (loaded, failed_reads) = until_ok(|| store.load(&key, now())).await;
    let read_after = killed_at.elapsed();
    let loaded = loaded.expect("the session written before the failover is gone");
    assert_eq!(
        field_map(&loaded),
        HashMap::from([
            ("user".to_owned(), "\"ada\"".to_owned()),
            ("count".to_owned(), "2".to_owned())
        ])
    );
    assert_eq!(loaded.expires_at, far);

    // New writes succeed once the replica has taken over (the promoted master may lack the
    // update script until the store loads it again).
    let change = update(&[("count", "3")], far + 10);
    let (outcome, failed_writes) = until_ok(|| store.update(&key, &change, now())).await;
    assert_eq!(outcome, Updated::Applied);
    let written_after = killed_at.elapsed();
    let new_master = cluster.wait_failover(slot, old_master).await;
    assert_ne!(new_master, old_master);
    eprintln!(
        "failover: session read again {read_after:?} after the kill ({failed_reads} failed \
         calls), written again after {written_after:?} ({failed_writes} failed calls); cluster \
         ok on every node after {:?}",
        killed_at.elapsed()
    );

    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(field_map(&loaded)["user"], "\"ada\"");
    assert_eq!(field_map(&loaded)["count"], "3");
    assert_eq!(loaded.expires_at, far + 10);
    let mut conn = cluster.connection(new_master).await;
    assert!(conn.exists::<_, bool>(key.as_str()).await.unwrap());

    for i in 0..20 {
        let fresh = new_key();
        let value = i.to_string();
        store
            .create(&fresh, &record(&[("n", &value)], far))
            .await
            .unwrap();
        let loaded = store.load(&fresh, now()).await.unwrap().unwrap();
        assert_eq!(field_map(&loaded)["n"], value);
    }
    store.delete(&key).await.unwrap();
    assert!(store.load(&key, now()).await.unwrap().is_none());
}

#[tokio::test]
async fn bad_cluster_configurations_fail_at_connect_and_say_what_to_do() {
    for spec in [",", " , "] {
        let error = RedisStore::connect(spec).await.unwrap_err().to_string();
        assert!(error.contains("no Redis Cluster node URL"), "{error}");
        assert!(error.contains("REDIS_URL"), "{error}");
    }
    let error = RedisStore::connect_cluster(&[])
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("no Redis Cluster node URL"), "{error}");

    let error = RedisStore::connect("redis://127.0.0.1:7000,not a url")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("invalid Redis Cluster node URL"), "{error}");

    let error = RedisStore::connect_cluster(&["redis://127.0.0.1:7000/3"])
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("database 0"), "{error}");

    // A server without cluster mode is refused at startup, not at the first request.
    let server = RedisServer::start();
    let error = RedisStore::connect(&format!("{},", server.url().trim_end_matches('/')))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot reach Redis Cluster"), "{error}");
}
