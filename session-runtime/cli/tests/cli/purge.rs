//! `sessions purge`: only expired sessions go.

use session_runtime::store::{FilesStore, SessionStore};

use crate::records::{new_key, record};
use crate::support::now;
use crate::support::sessions;

fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn purge_deletes_only_the_expired_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    let (expired, live) = (new_key(), new_key());
    store
        .create(&expired, &record(&[("n", "1")], now() - 5))
        .await
        .unwrap();
    store
        .create(&live, &record(&[("n", "2")], now() + 3600))
        .await
        .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a session").unwrap();
    let live_file = store.file_path(&live).unwrap();
    let live_name = live_file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();

    let dir_arg = dir.path().to_str().unwrap();
    let run = sessions(&["purge", "--store", "files", "--dir", dir_arg], &[], "");
    assert_eq!((run.code, run.stdout.as_str()), (0, "1"), "{}", run.stderr);
    assert_eq!(file_names(dir.path()), ["notes.txt".to_owned(), live_name]);

    let again = sessions(&["purge", "--store", "files", "--dir", dir_arg], &[], "");
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, "0"),
        "{}",
        again.stderr
    );
}

#[test]
fn purge_does_not_create_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo");
    let args = [
        "purge",
        "--store",
        "files",
        "--dir",
        missing.to_str().unwrap(),
    ];
    sessions(&args, &[], "").fails_with(2, "not a directory");
    assert!(!missing.exists());
    sessions(&["purge", "--store", "files"], &[], "").fails_with(2, "--dir");
    if cfg!(feature = "postgres") {
        sessions(&["purge", "--store", "postgres"], &[], "").fails_with(2, "--database-url");
    }
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn purge_deletes_only_the_expired_rows() {
    use session_runtime::store::PostgresStore;

    let server = crate::postgres_server::PostgresServer::start();
    let url = server.url();
    let store = PostgresStore::connect(&url).await.unwrap();
    let (expired, live) = (new_key(), new_key());
    store
        .create(&expired, &record(&[("n", "1")], now() - 5))
        .await
        .unwrap();
    store
        .create(&live, &record(&[("n", "2")], now() + 3600))
        .await
        .unwrap();

    // The URL from DATABASE_URL, as a deployment would pass it.
    let run = sessions(
        &["purge", "--store", "postgres"],
        &[("DATABASE_URL", &url)],
        "",
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, "1"), "{}", run.stderr);
    assert!(store.load(&live, now()).await.unwrap().is_some());
    // Loaded as of time 0, the row would still be valid: only its deletion hides it.
    assert!(store.load(&expired, 0).await.unwrap().is_none());
    let run = sessions(
        &["purge", "--store", "postgres", "--database-url", &url],
        &[],
        "",
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, "0"), "{}", run.stderr);
}
