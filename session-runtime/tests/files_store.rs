//! The files store against real files in temporary directories: the shared store suite, then
//! what only files have (file names, permissions, locking between stores, purging).

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use session_runtime::store::{FilesStore, Record, SessionStore, Update, Updated};
use session_runtime::{SessionId, StoreKey};
use session_test_support::clock::now;
use session_test_support::store_suite::StoreFixture;
use tempfile::TempDir;

fn key() -> StoreKey {
    SessionId::generate().unwrap().store_key("app:")
}

fn record(expires_at: u64) -> Record {
    Record {
        fields: vec![
            ("user".into(), br#"{"id":7,"name":"ada"}"#.to_vec()),
            ("theme".into(), br#""dark""#.to_vec()),
        ],
        created_at: now(),
        expires_at,
        idle_timeout: None,
    }
}

fn change(name: &str, value: &[u8], expires_at: u64) -> Update {
    Update {
        changed: vec![(name.to_owned(), value.to_vec())],
        expires_at,
        idle_timeout: None,
    }
}

/// Names of the entries in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A temporary directory and a files store in it.
struct FilesFixture {
    dir: TempDir,
    store: FilesStore,
}

impl StoreFixture for FilesFixture {
    type Store = FilesStore;

    const REMOVES_EXPIRED_ON_SIGHT: bool = true;

    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
        FilesFixture { dir, store }
    }

    fn store(&self) -> &FilesStore {
        &self.store
    }

    /// Every entry of the directory: a temporary file left behind counts.
    async fn record_count(&self) -> u64 {
        names(self.dir.path()).len() as u64
    }

    async fn holds(&self, key: &StoreKey) -> bool {
        self.store.file_path(key).unwrap().exists()
    }

    async fn raw_contents(&self, _key: &StoreKey) -> Vec<Vec<u8>> {
        names(self.dir.path())
            .into_iter()
            .flat_map(|name| {
                let content = fs::read(self.dir.path().join(&name)).unwrap();
                [name.into_bytes(), content]
            })
            .collect()
    }

    /// One file, named by the template.
    async fn assert_layout(&self, key: &StoreKey, _created: &Record) {
        let path = self.store.file_path(key).unwrap();
        assert_eq!(
            path,
            self.dir.path().join(format!("sess_{}", key.hash_part()))
        );
        assert!(path.is_file());
    }
}

session_test_support::store_suite!(FilesFixture: data);

#[tokio::test]
async fn create_load_update_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let k = key();
    let far = now() + 3600;
    assert!(store.load(&k, now()).await.unwrap().is_none());

    let created = record(far);
    store.create(&k, &created).await.unwrap();
    let path = store.file_path(&k).unwrap();
    assert_eq!(
        path,
        dir.path().join(format!("sess_{}", k.hash_part())),
        "file named by the template"
    );
    assert_eq!(store.load(&k, now()).await.unwrap(), Some(created.clone()));

    let update = Update {
        changed: vec![
            ("theme".into(), br#""light""#.to_vec()),
            ("cart".into(), br#"["apple"]"#.to_vec()),
        ],
        expires_at: far + 60,
        idle_timeout: Some(900),
    };
    assert_eq!(
        store.update(&k, &update, now()).await.unwrap(),
        Updated::Applied
    );
    let loaded = store.load(&k, now()).await.unwrap().unwrap();
    assert_eq!(loaded.field("user"), Some(&br#"{"id":7,"name":"ada"}"#[..]));
    assert_eq!(loaded.field("theme"), Some(&br#""light""#[..]));
    assert_eq!(loaded.field("cart"), Some(&br#"["apple"]"#[..]));
    assert_eq!(loaded.created_at, created.created_at);
    assert_eq!(loaded.expires_at, far + 60);
    assert_eq!(loaded.idle_timeout, Some(900));

    // An update without a new idle timeout keeps the one set.
    store
        .update(&k, &change("theme", br#""blue""#, far), now())
        .await
        .unwrap();
    assert_eq!(
        store.load(&k, now()).await.unwrap().unwrap().idle_timeout,
        Some(900)
    );

    store.delete(&k).await.unwrap();
    assert!(store.load(&k, now()).await.unwrap().is_none());
    assert!(!path.exists());
    // Deleting what is not there is fine.
    store.delete(&k).await.unwrap();
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

/// Two stores on one directory share no in-process lock: the file lock alone keeps their
/// updates from losing each other's changes, as between two processes.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn updates_through_separate_stores_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let a = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let b = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let k = key();
    let far = now() + 3600;
    a.create(&k, &record(far)).await.unwrap();

    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let k = k.clone();
        tasks.push(tokio::spawn(async move {
            let update = change(&format!("f{i}"), b"true", far);
            store.update(&k, &update, now()).await.unwrap()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Updated::Applied);
    }
    let loaded = b.load(&k, now()).await.unwrap().unwrap();
    for i in 0..40 {
        assert_eq!(loaded.field(&format!("f{i}")), Some(&b"true"[..]), "f{i}");
    }
}

/// A delete racing updates from another store never leaves the session behind.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delete_racing_updates_is_never_undone() {
    let dir = tempfile::tempdir().unwrap();
    let a = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let b = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let far = now() + 3600;
    for _ in 0..20 {
        let k = key();
        a.create(&k, &record(far)).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..4 {
            let store = a.clone();
            let k = k.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .update(&k, &change(&format!("f{i}"), b"1", far), now())
                    .await
                    .unwrap();
            }));
        }
        let deleter = {
            let b = b.clone();
            let k = k.clone();
            tokio::spawn(async move { b.delete(&k).await.unwrap() })
        };
        for task in tasks {
            task.await.unwrap();
        }
        deleter.await.unwrap();
        assert!(a.load(&k, now()).await.unwrap().is_none());
        assert!(!a.file_path(&k).unwrap().exists());
    }
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[cfg(unix)]
#[tokio::test]
async fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;

    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("a").join("sessions");
    let store = FilesStore::new(&dir, "sess_%s").unwrap();
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700,
        "a directory the store creates is private"
    );
    let k = key();
    let far = now() + 3600;
    store.create(&k, &record(far)).await.unwrap();
    let path = store.file_path(&k).unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    store
        .update(&k, &change("theme", br#""light""#, far), now())
        .await
        .unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600,
        "a rewritten file stays private"
    );
}

#[tokio::test]
async fn expired_records_are_invisible_and_purged() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let t = now();

    // Expired on load: not returned, not updatable, and its file goes.
    let gone = key();
    store.create(&gone, &record(t - 1)).await.unwrap();
    assert!(store.file_path(&gone).unwrap().exists());
    assert!(store.load(&gone, t).await.unwrap().is_none());
    assert!(!store.file_path(&gone).unwrap().exists());
    store.create(&gone, &record(t + 10)).await.unwrap();
    assert_eq!(
        store
            .update(&gone, &change("a", b"1", t + 100), t + 10)
            .await
            .unwrap(),
        Updated::Missing,
        "a record expiring exactly now is gone"
    );
    assert!(!store.file_path(&gone).unwrap().exists());

    // purge_expired removes the expired files and keeps the live ones.
    let expired: Vec<StoreKey> = (0..5).map(|_| key()).collect();
    for k in &expired {
        store.create(k, &record(t - 10)).await.unwrap();
    }
    let live = key();
    store.create(&live, &record(t + 3600)).await.unwrap();
    // Files of another template in the same directory are not this store's business.
    let other = FilesStore::new(dir.path(), "other_%s").unwrap();
    let other_key = key();
    other.create(&other_key, &record(t - 10)).await.unwrap();
    fs::write(dir.path().join("unrelated.txt"), b"keep me").unwrap();

    assert_eq!(store.purge_expired().unwrap(), 5);
    for k in &expired {
        assert!(!store.file_path(k).unwrap().exists());
    }
    assert!(store.load(&live, now()).await.unwrap().is_some());
    assert!(other.file_path(&other_key).unwrap().exists());
    assert!(dir.path().join("unrelated.txt").exists());
    assert_eq!(store.purge_expired().unwrap(), 0);
    assert_eq!(other.purge_expired().unwrap(), 1);
}

#[tokio::test]
async fn sweeper_removes_expired_files_and_stops_with_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let k = key();
    store.create(&k, &record(now() - 1)).await.unwrap();
    let sweeper = store.spawn_sweeper(Duration::from_millis(20));
    let path = store.file_path(&k).unwrap();
    for _ in 0..200 {
        if !path.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!path.exists(), "the sweeper removed the expired file");
    drop(store);
    tokio::time::timeout(Duration::from_secs(5), sweeper)
        .await
        .expect("the sweeper ends once the store is dropped")
        .unwrap();
}

#[tokio::test]
async fn malformed_files_read_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let far = now() + 3600;

    let valid = {
        let k = key();
        store.create(&k, &record(far)).await.unwrap();
        fs::read(store.file_path(&k).unwrap()).unwrap()
    };
    let huge = {
        // A well-formed session, just over the limit: refused before it is parsed.
        let mut text = String::from(r#"{"v":1,"created_at":1,"expires_at":"#);
        text.push_str(&far.to_string());
        text.push_str(r#","fields":{"big":""#);
        text.push_str(&"x".repeat(1024 * 1024 + 10));
        text.push_str(r#""}}"#);
        text.into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", vec![0xff, 0x00, 0x13, 0x37, b'{']),
        ("truncated", valid[..valid.len() / 2].to_vec()),
        ("not an object", b"[1,2,3]".to_vec()),
        (
            "wrong types",
            br#"{"v":1,"created_at":"x","expires_at":1,"fields":{}}"#.to_vec(),
        ),
        (
            "future version",
            format!(r#"{{"v":2,"created_at":1,"expires_at":{far},"fields":{{}}}}"#).into_bytes(),
        ),
        (
            "bad base64",
            format!(
                r#"{{"v":1,"created_at":1,"expires_at":{far},"fields":{{}},"bin":{{"a":"!!"}}}}"#
            )
            .into_bytes(),
        ),
        ("huge", huge),
    ];
    for (what, bytes) in cases {
        let k = key();
        let path = store.file_path(&k).unwrap();
        fs::write(&path, &bytes).unwrap();
        assert!(store.load(&k, now()).await.unwrap().is_none(), "{what}");
        assert_eq!(
            store
                .update(&k, &change("a", b"1", far), now())
                .await
                .unwrap(),
            Updated::Missing,
            "{what}"
        );
        assert_eq!(fs::read(&path).unwrap(), bytes, "{what}: left as it was");
        store.delete(&k).await.unwrap();
        assert!(!path.exists(), "{what}: removed by delete");
    }

    // A file that does read is unaffected by the bad ones, and purge copes with both.
    fs::write(dir.path().join(format!("sess_{}", "0".repeat(64))), b"{").unwrap();
    assert_eq!(store.purge_expired().unwrap(), 0);
}

/// The shared suite checks that the id reaches no file; a file's contents do not even hold the
/// hashed key, which only its name carries.
#[tokio::test]
async fn a_file_holds_neither_the_id_nor_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s.json").unwrap();
    let id = SessionId::generate().unwrap();
    let k = id.store_key("app:");
    let far = now() + 3600;
    store.create(&k, &record(far)).await.unwrap();
    store
        .update(&k, &change("theme", br#""light""#, far), now())
        .await
        .unwrap();
    let listed = names(dir.path());
    assert_eq!(listed, vec![format!("sess_{}.json", k.hash_part())]);
    for name in &listed {
        assert!(!name.contains(id.as_str()));
        let content = fs::read(dir.path().join(name)).unwrap();
        let text = String::from_utf8_lossy(&content);
        assert!(!text.contains(id.as_str()), "{text}");
        assert!(!text.contains(k.hash_part()), "{text}");
    }
}

#[tokio::test]
async fn field_encodings_round_trip_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "%s").unwrap();
    let k = key();
    let created = Record {
        fields: vec![
            ("json".into(), br#"{"a":[1,2.5,null,"\u00e9"]}"#.to_vec()),
            ("spaced".into(), b" 1 ".to_vec()),
            ("binary".into(), vec![0, 159, 146, 150]),
            ("empty".into(), Vec::new()),
        ],
        created_at: 5,
        expires_at: now() + 60,
        idle_timeout: Some(30),
    };
    store.create(&k, &created).await.unwrap();
    let loaded = store.load(&k, now()).await.unwrap().unwrap();
    for (name, value) in &created.fields {
        assert_eq!(loaded.field(name), Some(value.as_slice()), "{name}");
    }
    assert_eq!(loaded.idle_timeout, Some(30));
}

#[tokio::test]
async fn an_oversized_record_is_refused_and_the_old_file_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s")
        .unwrap()
        .max_file_size(4096);
    let k = key();
    let far = now() + 3600;
    store.create(&k, &record(far)).await.unwrap();
    let path = store.file_path(&k).unwrap();
    let before = fs::read(&path).unwrap();

    let big = format!("\"{}\"", "x".repeat(5000));
    let err = store
        .update(&k, &change("big", big.as_bytes(), far), now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);
    assert!(store.load(&k, now()).await.unwrap().is_some());

    let mut too_big = record(far);
    too_big.set_field("big", big.as_bytes());
    let other = key();
    assert!(store.create(&other, &too_big).await.is_err());
    assert!(!store.file_path(&other).unwrap().exists());
    assert_eq!(names(dir.path()).len(), 1, "no temporary file left");
}

#[cfg(unix)]
#[tokio::test]
async fn a_failed_write_keeps_the_old_file() {
    use std::os::unix::fs::PermissionsExt;

    // Root ignores directory permissions: the check only means something for other users.
    if running_as_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let k = key();
    let far = now() + 3600;
    store.create(&k, &record(far)).await.unwrap();
    let path = store.file_path(&k).unwrap();
    let before = fs::read(&path).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).unwrap();
    let result = store
        .update(&k, &change("theme", br#""light""#, far), now())
        .await;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    let err = result.unwrap_err();
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[cfg(unix)]
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // A file we create is owned by our effective user.
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}

#[test]
fn an_unusable_directory_fails_with_advice() {
    let base = tempfile::tempdir().unwrap();
    let file = base.path().join("plain-file");
    fs::write(&file, b"not a directory").unwrap();

    // Under a regular file: cannot be created.
    let err = FilesStore::new(file.join("sessions"), "sess_%s").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("sessions"), "{message}");
    assert!(message.contains("writ"), "{message}");

    // A regular file where the directory should be.
    let err = FilesStore::new(&file, "sess_%s").unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
}

#[test]
fn bad_templates_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "",
        "sess_",
        "%s_%s",
        "sess_%d_%s",
        "../%s",
        "a/%s",
        "a\\%s",
        ".%s",
        "x\n%s",
    ] {
        let err = FilesStore::new(dir.path(), bad).unwrap_err();
        assert!(err.to_string().contains("%s"), "{bad:?}: {err}");
    }
    assert!(FilesStore::new(dir.path(), "%s").is_ok());
    assert!(FilesStore::new(dir.path(), "cart-%s.session").is_ok());
}

#[tokio::test]
async fn works_as_a_trait_object() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn SessionStore> = Arc::new(FilesStore::new(dir.path(), "sess_%s").unwrap());
    let k = key();
    store.create(&k, &record(now() + 60)).await.unwrap();
    assert!(store.load(&k, now()).await.unwrap().is_some());
}
