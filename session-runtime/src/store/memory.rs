//! An in-process store: for tests, development and single-process apps.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{BoxFuture, ExpiredDeletion, Record, SessionStore, StoreError, Update, Updated};
use crate::id::StoreKey;
use crate::time::unix_now;

const SHARDS: usize = 16;

/// Sessions in memory, with expiry, a capacity bound and a sweeper.
///
/// Records expire at their `expires_at`; an expired record is never returned. The store is a
/// cheap handle: clones share the same sessions.
///
/// # What goes when the store is full
///
/// Expired records go first. Then the store tells apart sessions that came back from sessions
/// that were only created: a new session starts *on probation*, and moves to the *protected*
/// set the first time a request loads or updates it. A full store evicts from probation first
/// (closest to expiry first), and touches a protected session only when nothing is on
/// probation. So a flood of one-shot sessions (a client that never sends its cookie back, or a
/// bot creating sessions as fast as it can) only ever evicts its own kind, and every user who
/// keeps coming back keeps their session. (Compare a plain earliest-expiry or LRU policy, where
/// the flood's sessions are always the newest and push every real user out first.) This is
/// the admission idea of segmented LRU and TinyLFU, reduced to the one signal that matters for
/// sessions: did the client come back at all.
///
/// A client that also comes back with each of its flood sessions gets them protected too; it
/// then competes with real users by expiry. Rate-limit session creation in front of the layer
/// for that (the README shows how).
///
/// ```
/// use session_runtime::store::MemoryStore;
///
/// let store = MemoryStore::new(100_000);
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    shards: Vec<Mutex<Shard>>,
    capacity_per_shard: usize,
}

/// One record and whether its client came back since it was created.
struct Slot {
    record: Record,
    returned: bool,
}

/// An index of keys by expiry, so the sweep and the eviction take the earliest first.
type ByExpiry = BTreeSet<(u64, String)>;

#[derive(Default)]
struct Shard {
    records: HashMap<String, Slot>,
    /// Sessions created and not used since: evicted first.
    probation: ByExpiry,
    /// Sessions whose client came back.
    protected: ByExpiry,
}

impl Shard {
    fn index(&mut self, returned: bool) -> &mut ByExpiry {
        if returned {
            &mut self.protected
        } else {
            &mut self.probation
        }
    }

    /// Stores a new record, on probation.
    fn insert(&mut self, key: &str, record: Record) {
        self.remove(key);
        self.probation.insert((record.expires_at, key.to_owned()));
        self.records.insert(
            key.to_owned(),
            Slot {
                record,
                returned: false,
            },
        );
    }

    fn remove(&mut self, key: &str) {
        if let Some(old) = self.records.remove(key) {
            self.index(old.returned)
                .remove(&(old.record.expires_at, key.to_owned()));
        }
    }

    /// The unexpired record under `key`, marked as come back (and so protected).
    fn use_record(&mut self, key: &str, now: u64) -> Option<&mut Record> {
        let slot = self.records.get_mut(key)?;
        if slot.record.expires_at <= now {
            return None;
        }
        if !slot.returned {
            slot.returned = true;
            let entry = (slot.record.expires_at, key.to_owned());
            self.probation.remove(&entry);
            self.protected.insert(entry);
        }
        self.records.get_mut(key).map(|slot| &mut slot.record)
    }

    /// Moves `key` in the protected index after its record's expiry changed.
    fn reindex(&mut self, key: &str, old: u64, new: u64) {
        self.protected.remove(&(old, key.to_owned()));
        self.protected.insert((new, key.to_owned()));
    }

    /// Removes every record expired at `now`; returns how many.
    fn sweep(&mut self, now: u64) -> usize {
        let mut removed = 0;
        for returned in [false, true] {
            while let Some((expires_at, _)) = self.index(returned).first() {
                if *expires_at > now {
                    break;
                }
                if let Some((_, key)) = self.index(returned).pop_first() {
                    self.records.remove(&key);
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Evicts until a new record fits: expired ones, then the ones on probation, then, only
    /// if none is left on probation, the protected ones closest to expiry.
    fn make_room(&mut self, capacity: usize, now: u64) {
        if self.records.len() < capacity {
            return;
        }
        self.sweep(now);
        while self.records.len() >= capacity {
            let victim = match self.probation.pop_first() {
                Some(victim) => victim,
                None => match self.protected.pop_first() {
                    Some(victim) => victim,
                    None => break,
                },
            };
            self.records.remove(&victim.1);
        }
    }
}

impl MemoryStore {
    /// A store that holds at most about `capacity` sessions (at least one per internal shard).
    pub fn new(capacity: usize) -> Self {
        MemoryStore {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
                capacity_per_shard: capacity.div_ceil(SHARDS).max(1),
            }),
        }
    }

    /// How many records are held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).records.len())
            .sum()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every expired record now; returns how many were removed.
    pub fn purge_expired(&self) -> usize {
        let now = unix_now();
        self.inner
            .shards
            .iter()
            .map(|shard| lock(shard).sweep(now))
            .sum()
    }

    /// Sweeps expired records every `interval` on the current tokio runtime, for as long as a
    /// handle to the store exists.
    pub fn spawn_sweeper(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        super::sweeper::spawn(Arc::downgrade(&self.inner), "memory", interval, |inner| {
            MemoryStore { inner }
        })
    }

    fn shard(&self, key: &StoreKey) -> MutexGuard<'_, Shard> {
        // The hash part of a key is uniformly random hex: its last digit spreads keys evenly.
        let digit = key
            .hash_part()
            .bytes()
            .last()
            .map_or(0, |b| usize::from(b) % SHARDS);
        lock(&self.inner.shards[digit])
    }
}

impl Default for MemoryStore {
    /// A store for 100,000 sessions.
    fn default() -> Self {
        MemoryStore::new(100_000)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len())
            .finish()
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // No code path panics while holding a shard lock, but a poisoned lock still holds
    // consistent data: every mutation above completes before it returns.
    shard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ExpiredDeletion for MemoryStore {
    fn delete_expired(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        let removed = self.purge_expired() as u64;
        Box::pin(std::future::ready(Ok(removed)))
    }
}

impl SessionStore for MemoryStore {
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        let found = self.shard(key).use_record(key.as_str(), now).cloned();
        Box::pin(std::future::ready(Ok(found)))
    }

    fn create<'a>(
        &'a self,
        key: &'a StoreKey,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut shard = self.shard(key);
        shard.make_room(self.inner.capacity_per_shard, unix_now());
        shard.insert(key.as_str(), record.clone());
        Box::pin(std::future::ready(Ok(())))
    }

    fn update<'a>(
        &'a self,
        key: &'a StoreKey,
        update: &'a Update,
        now: u64,
    ) -> BoxFuture<'a, Result<Updated, StoreError>> {
        let mut shard = self.shard(key);
        let outcome = match shard.use_record(key.as_str(), now) {
            Some(record) => {
                let old_expiry = record.expires_at;
                record.apply(update);
                shard.reindex(key.as_str(), old_expiry, update.expires_at);
                Updated::Applied
            }
            None => Updated::Missing,
        };
        Box::pin(std::future::ready(Ok(outcome)))
    }

    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
        self.shard(key).remove(key.as_str());
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::SessionId;

    fn key() -> StoreKey {
        SessionId::generate().unwrap().store_key("t:")
    }

    fn record(expires_at: u64) -> Record {
        Record {
            fields: vec![("a".into(), b"1".to_vec())],
            created_at: 1,
            expires_at,
            idle_timeout: None,
        }
    }

    #[tokio::test]
    async fn update_merges_fields_and_never_resurrects() {
        let store = MemoryStore::new(10);
        let k = key();
        let far = unix_now() + 100;
        store.create(&k, &record(far)).await.unwrap();
        let update = Update {
            changed: vec![("b".into(), b"2".to_vec())],
            expires_at: far,
            idle_timeout: None,
        };
        assert_eq!(
            store.update(&k, &update, unix_now()).await.unwrap(),
            Updated::Applied
        );
        let loaded = store.load(&k, unix_now()).await.unwrap().unwrap();
        assert_eq!(loaded.field("a"), Some(&b"1"[..]));
        assert_eq!(loaded.field("b"), Some(&b"2"[..]));
        store.delete(&k).await.unwrap();
        assert_eq!(
            store.update(&k, &update, unix_now()).await.unwrap(),
            Updated::Missing
        );
        assert!(store.load(&k, unix_now()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn expired_records_are_invisible_and_swept() {
        let store = MemoryStore::new(10);
        let k = key();
        store.create(&k, &record(unix_now() - 1)).await.unwrap();
        assert!(store.load(&k, unix_now()).await.unwrap().is_none());
        assert_eq!(store.purge_expired(), 1);
        assert!(store.is_empty());
    }

    #[test]
    fn a_full_shard_evicts_from_probation_before_touching_a_returning_session() {
        let mut shard = Shard::default();
        shard.insert("returning", record(10));
        assert!(shard.use_record("returning", 1).is_some());
        for i in 0..5 {
            shard.make_room(2, 1);
            shard.insert(&format!("new{i}"), record(20));
        }
        assert!(shard.records.contains_key("returning"));
        assert_eq!(shard.records.len(), 2);
        // With nothing on probation, a new session still gets a place.
        shard.remove("new4");
        shard.insert("returning2", record(30));
        assert!(shard.use_record("returning2", 1).is_some());
        shard.make_room(2, 1);
        shard.insert("new5", record(40));
        assert!(
            !shard.records.contains_key("returning"),
            "closest to expiry goes"
        );
        assert!(shard.records.contains_key("returning2"));
    }

    #[tokio::test]
    async fn capacity_is_bounded() {
        let store = MemoryStore::new(SHARDS);
        let far = unix_now() + 100;
        for _ in 0..SHARDS * 20 {
            store.create(&key(), &record(far)).await.unwrap();
        }
        assert!(store.len() <= SHARDS);
    }
}
