//! What a store does with the records it holds: round trips, merging updates, expiry, and the
//! hashed keys that keep the raw session id out of the backing.

use session_runtime::SessionId;
use session_runtime::StoreKey;
use session_runtime::store::{SessionStore, Updated};

use super::StoreFixture;
use crate::clock::now;
use crate::records::{new_key, record, update};

/// Create, load, update and delete one record, checking every field and timestamp, the layout
/// in the backing, that a create replaces what was there, and that a deleted record is never
/// brought back by an update.
pub async fn create_load_update_delete_round_trip<F: StoreFixture>() {
    let fixture = F::start().await;
    let store = fixture.store();
    let key = new_key();
    let far = now() + 600;

    assert!(store.load(&key, now()).await.unwrap().is_none());

    let mut created = record(&[("user", "\"ada\""), ("count", "1")], far);
    created.idle_timeout = Some(300);
    store.create(&key, &created).await.unwrap();
    let loaded = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(loaded.created_at, created.created_at);
    assert_eq!(loaded.expires_at, far);
    assert_eq!(loaded.idle_timeout, Some(300));
    assert_eq!(loaded.field("user"), Some(&b"\"ada\""[..]));
    assert_eq!(loaded.field("count"), Some(&b"1"[..]));
    assert_eq!(loaded.fields.len(), 2);
    fixture.assert_layout(&key, &created).await;

    updates_write_only_changed_fields(store, &key, far, created.created_at).await;

    // A create replaces whatever was there.
    store
        .create(&key, &record(&[("only", "0")], far))
        .await
        .unwrap();
    let replaced = store.load(&key, now()).await.unwrap().unwrap();
    assert_eq!(replaced.fields, vec![("only".to_owned(), b"0".to_vec())]);
    assert_eq!(replaced.idle_timeout, None);

    store.delete(&key).await.unwrap();
    assert!(store.load(&key, now()).await.unwrap().is_none());
    assert!(!fixture.holds(&key).await);
    // Deleting again is fine.
    store.delete(&key).await.unwrap();

    // A destroyed session is never brought back by an update.
    assert_eq!(
        store
            .update(&key, &update(&[("count", "3")], far), now())
            .await
            .unwrap(),
        Updated::Missing
    );
    assert!(!fixture.holds(&key).await);
    assert_eq!(fixture.record_count().await, 0, "nothing is left behind");
}

/// On a record created at `created_at` with fields `user`, `count` and an idle timeout of 300 s:
/// an update writes only the fields it names and keeps the others and the idle timeout, and a
/// new idle timeout replaces the old one.
async fn updates_write_only_changed_fields<S: SessionStore>(
    store: &S,
    key: &StoreKey,
    far: u64,
    created_at: u64,
) {
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

/// An update of a record that does not exist reports it missing and writes nothing, not even
/// an empty record with the update's idle timeout.
pub async fn update_on_a_missing_record_creates_nothing<F: StoreFixture>() {
    let fixture = F::start().await;
    let key = new_key();
    let mut upd = update(&[("a", "1")], now() + 600);
    upd.idle_timeout = Some(30);
    assert_eq!(
        fixture.store().update(&key, &upd, now()).await.unwrap(),
        Updated::Missing
    );
    assert!(!fixture.holds(&key).await);
    assert_eq!(fixture.record_count().await, 0);
}

/// 50 concurrent updates, each to its own field of one record and with its own expiry: every
/// one applies, every field is there afterwards (the store merges fields; none is lost to a
/// concurrent write), and the record's expiry is one of those written, in the backing too.
pub async fn concurrent_updates_to_different_fields_all_land<F: StoreFixture>() {
    let fixture = F::start().await;
    let store = fixture.store();
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
                .update(&key, &update(&[(&name, &value)], far + i), now())
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
    // The expiry is one of those written, and the backing drops the record with it.
    assert!((far..far + 50).contains(&loaded.expires_at));
    fixture.assert_backing_expiry(&key, loaded.expires_at).await;
    assert_eq!(
        fixture.record_count().await,
        1,
        "one record, nothing left behind"
    );
}

/// A record is invisible from its `expires_at` on, even before the backing drops it: a load
/// finds nothing and an update reports it missing and leaves it as it was (or, for a store
/// that removes expired records on sight, gone). A record created already expired is never
/// visible.
pub async fn a_record_is_invisible_from_its_expiry_on<F: StoreFixture>() {
    let fixture = F::start().await;
    let store = fixture.store();
    let key = new_key();
    let expires_at = now() + 1000;
    store
        .create(&key, &record(&[("a", "1")], expires_at))
        .await
        .unwrap();
    assert!(store.load(&key, expires_at - 1).await.unwrap().is_some());
    assert!(store.load(&key, expires_at).await.unwrap().is_none());
    assert_eq!(
        store
            .update(&key, &update(&[("a", "2")], expires_at + 10), expires_at)
            .await
            .unwrap(),
        Updated::Missing
    );
    if F::REMOVES_EXPIRED_ON_SIGHT {
        assert!(store.load(&key, now()).await.unwrap().is_none());
        assert!(!fixture.holds(&key).await);
    } else {
        let loaded = store.load(&key, now()).await.unwrap().unwrap();
        assert_eq!(loaded.field("a"), Some(&b"1"[..]));
        assert_eq!(loaded.expires_at, expires_at);
    }

    let past = new_key();
    store
        .create(&past, &record(&[("a", "1")], now() - 1))
        .await
        .unwrap();
    assert!(store.load(&past, now()).await.unwrap().is_none());
}

/// The backing only ever sees the hashed key: after a create, an update, a load, a delete and
/// a create again, neither the stored keys and values nor the commands the backing logged
/// contain the session id, while the key is there (so the check looked at the right data).
pub async fn the_raw_session_id_never_reaches_the_backing<F: StoreFixture>() {
    let fixture = F::start_logging().await;
    let store = fixture.store();
    let id = SessionId::generate().unwrap();
    let key = id.store_key("app:");
    let far = now() + 600;
    store
        .create(&key, &record(&[("user", "\"ada\"")], far))
        .await
        .unwrap();
    store
        .update(&key, &update(&[("cart", "[1,2]")], far), now())
        .await
        .unwrap();
    assert!(store.load(&key, now()).await.unwrap().is_some());
    store.delete(&key).await.unwrap();
    store
        .create(&key, &record(&[("user", "\"ada\"")], far))
        .await
        .unwrap();

    assert_eq!(fixture.record_count().await, 1);
    assert!(fixture.holds(&key).await);
    let needle = id.as_str().as_bytes();
    let contains =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
    let contents = fixture.raw_contents(&key).await;
    assert!(
        contents
            .iter()
            .any(|item| contains(item, key.hash_part().as_bytes())),
        "the backing's contents do not show the key"
    );
    for item in &contents {
        assert!(!contains(item, needle), "{}", String::from_utf8_lossy(item));
    }
    if let Some(log) = fixture.command_log() {
        assert!(
            log.contains(key.as_str()),
            "commands were not logged:\n{log}"
        );
        assert!(!log.contains(id.as_str()));
    }
}
