//! Records, updates and keys for the store tests, built the same way for every store.

use session_runtime::SessionId;
use session_runtime::StoreKey;
use session_runtime::store::{Record, Update};

use crate::clock::now;

/// The key of a fresh random session id.
pub fn new_key() -> StoreKey {
    SessionId::generate().unwrap().store_key("test:")
}

/// A record holding `fields` (names and JSON texts), created now.
pub fn record(fields: &[(&str, &str)], expires_at: u64) -> Record {
    Record {
        fields: fields
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect(),
        created_at: now(),
        expires_at,
        idle_timeout: None,
    }
}

/// An update that changes `changed` (names and JSON texts).
pub fn update(changed: &[(&str, &str)], expires_at: u64) -> Update {
    Update {
        changed: changed
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect(),
        expires_at,
        idle_timeout: None,
    }
}

/// 50 concurrent updates, each to its own field of one record: every one applies, and every
/// field is there afterwards (the store merges fields; none is lost to a concurrent write).
pub async fn concurrent_updates_to_different_fields_all_land<S>(store: S)
where
    S: session_runtime::store::SessionStore + Clone,
{
    use session_runtime::store::Updated;

    let key = new_key();
    let far = now() + 600;
    store
        .create(&key, &record(&[("base", "0")], far))
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let store = store.clone();
        let key = key.clone();
        tasks.spawn(async move {
            let name = format!("field{i}");
            let value = i.to_string();
            store
                .update(&key, &update(&[(&name, &value)], far), now())
                .await
        });
    }
    while let Some(result) = tasks.join_next().await {
        assert_eq!(result.unwrap().unwrap(), Updated::Applied);
    }
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.fields.len(), 51);
    assert_eq!(loaded.field("base"), Some(&b"0"[..]));
    for i in 0..50 {
        assert_eq!(
            loaded.field(&format!("field{i}")),
            Some(i.to_string().as_bytes()),
            "field{i}"
        );
    }
}

/// On a record created at `created_at` with fields `user`, `count` and an idle timeout of 300 s:
/// an update writes only the fields it names and keeps the others and the idle timeout, and a
/// new idle timeout replaces the old one.
pub async fn updates_write_only_changed_fields<S>(
    store: &S,
    key: &StoreKey,
    far: u64,
    created_at: u64,
) where
    S: session_runtime::store::SessionStore,
{
    use session_runtime::store::Updated;

    // Only changed fields are written; others and the idle timeout stay.
    let later = far + 60;
    let applied = store
        .update(
            key,
            &update(&[("count", "2"), ("cart", "[]")], later),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(applied, Updated::Applied);
    let loaded = store.load(key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("user"), Some(&b"\"ada\""[..]));
    assert_eq!(loaded.field("count"), Some(&b"2"[..]));
    assert_eq!(loaded.field("cart"), Some(&b"[]"[..]));
    assert_eq!(loaded.expires_at, later);
    assert_eq!(loaded.idle_timeout, Some(300));
    assert_eq!(loaded.created_at, created_at);

    // A new idle timeout replaces the old one.
    let mut with_idle = update(&[], later);
    with_idle.idle_timeout = Some(60);
    assert_eq!(
        store.update(key, &with_idle, now()).await.unwrap(),
        Updated::Applied
    );
    assert_eq!(
        store.load(key, now()).await.unwrap().unwrap().idle_timeout,
        Some(60)
    );
}
