//! The FilesStore: its guide is the type's documentation.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use super::document::{decode, encode};
use super::{BoxFuture, ExpiredDeletion, Record, SessionStore, StoreError, Update, Updated};
use crate::id::StoreKey;
use crate::time::unix_now;

/// Files larger than this are not read (and records that would encode larger are refused),
/// unless [`FilesStore::max_file_size`] says otherwise.
///
/// ```
/// assert_eq!(session_runtime::store::DEFAULT_MAX_FILE_SIZE, 1 << 20);
/// ```
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1024 * 1024;

/// How many in-process locks updates of different sessions share.
const LOCK_SHARDS: usize = 64;

/// Temporary files left behind by a crash are removed by [`FilesStore::purge_expired`] once
/// they are this old.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Length of the hashed part of a [`StoreKey`].
const HASH_LEN: usize = 64;

/// A store that keeps one file per session in a directory.
///
/// Each session lives in its own file, named from a template by the hashed id (never the raw
/// id). A file holds a small JSON document:
///
/// ```text
/// {"v":1,"created_at":1700000000,"expires_at":1700086400,"idle_timeout":null,
///  "fields":{"user":{"id":7},"theme":"dark"}}
/// ```
///
/// Field encodings are kept verbatim as JSON values; an encoding that is not exactly one JSON
/// value (only a custom caller could hand one) goes under `"bin"`, base64-encoded.
///
/// Writes never tear a file: a new version is written to a temporary file in the same
/// directory, flushed to disk, renamed over the old one, and the directory is flushed too.
/// Updates read, merge and write under a lock per session, in-process and (on unix) with an
/// advisory `flock` on the session file, so concurrent updates that change different fields all
/// keep their change, across processes sharing the directory too.
///
/// Sessions in files, one per session, under a directory.
///
/// File names come from a template with one `%s`, replaced by the 64 hex characters of the
/// key's hashed part. That hash covers the session type's prefix as well as the id
/// ([`SessionId::store_key`](crate::SessionId::store_key)), so session types sharing a
/// directory and a template never open each other's files: an id issued for one type names
/// another file under another type. Different templates (say `cart_%s` and `auth_%s`) still
/// help to tell the files apart, and let each type's sweeper look at its own files only.
///
/// Files are created with mode `0600`, and the directory, if the store creates it, with mode
/// `0700`. A directory that already exists must be as private: owned by this process's user
/// and writable by nobody else, or [`new`](Self::new) refuses it (another user could plant a
/// session file there). Session files are opened without following symbolic links. Expired sessions are never returned; [`purge_expired`](Self::purge_expired) or the
/// background [`spawn_sweeper`](Self::spawn_sweeper) removes their files. A file that cannot
/// be read as a session (garbage, truncated, over the size limit, a newer format) reads as no
/// session. The store is a cheap handle: clones share the same directory and locks.
///
/// ```
/// use session_runtime::store::FilesStore;
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = FilesStore::new(dir.path().join("sessions"), "sess_%s").unwrap();
/// assert_eq!(store.dir(), dir.path().join("sessions"));
/// ```
#[derive(Clone)]
pub struct FilesStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    template: String,
    /// The template before `%s`.
    head: String,
    /// The template after `%s`.
    tail: String,
    max_file_size: u64,
    /// The most session files the store creates; `None`: no limit.
    capacity: Option<usize>,
    /// About how many session files of this template the directory holds: counted once when
    /// a capacity is set, kept up to date by this store's creates and removals, and counted
    /// again by every sweep (which also sees the files of other processes).
    count: Arc<AtomicUsize>,
    locks: Vec<Arc<tokio::sync::Mutex<()>>>,
}

impl FilesStore {
    /// A store keeping sessions under `dir`, in files named by `filename_template`.
    ///
    /// Creates `dir` (mode `0700`, parents included) if it is missing, refuses an existing
    /// `dir` that is writable by its group or by everyone or owned by another user (the error
    /// says which `chmod` or `chown` fixes it), and checks that it can create and remove a
    /// file there, so that a misconfigured directory fails at start-up
    /// rather than on the first request. The template needs exactly one `%s` (where the hashed
    /// id goes), no other `%`, no path separator, no leading dot and no control character.
    ///
    /// ```
    /// use session_runtime::store::FilesStore;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    /// # let _ = store;
    ///
    /// assert!(FilesStore::new(dir.path(), "../sess_%s").is_err());
    /// assert!(FilesStore::new(dir.path(), "no_placeholder").is_err());
    /// ```
    pub fn new(dir: impl Into<PathBuf>, filename_template: &str) -> Result<FilesStore, StoreError> {
        let dir = dir.into();
        let (head, tail) = parse_template(filename_template)?;
        prepare_dir(&dir)?;
        Ok(FilesStore {
            inner: Arc::new(Inner {
                dir,
                template: filename_template.to_owned(),
                head: head.to_owned(),
                tail: tail.to_owned(),
                max_file_size: DEFAULT_MAX_FILE_SIZE,
                capacity: None,
                count: Arc::default(),
                locks: (0..LOCK_SHARDS)
                    .map(|_| Arc::new(tokio::sync::Mutex::new(())))
                    .collect(),
            }),
        })
    }

    /// Sets the largest session file the store reads or writes, in bytes (default 1 MiB,
    /// [`DEFAULT_MAX_FILE_SIZE`]). Larger files read as no session; a record that would encode
    /// larger is refused with a [`StoreError`] and the old file is kept.
    ///
    /// Call it before cloning the store or starting its sweeper: it applies to this handle
    /// only if the store is already shared.
    ///
    /// ```
    /// use session_runtime::store::FilesStore;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = FilesStore::new(dir.path(), "sess_%s").unwrap().max_file_size(64 * 1024);
    /// # let _ = store;
    /// ```
    pub fn max_file_size(self, bytes: u64) -> Self {
        let bytes = bytes.max(1);
        self.configure(|inner| inner.max_file_size = bytes)
    }

    /// Sets the most sessions the store keeps (default `None`: no limit). Past it, creating a
    /// new session fails with a [`StoreError`], which the layer answers with 503; sessions
    /// that exist keep working, and a session that is deleted or expires frees its place.
    ///
    /// Refusing rather than evicting is deliberate: on disk, evicting would let a flood of
    /// anonymous requests log real users out, and a refused new session costs only that
    /// request. The count is kept in memory (one directory scan here, then one per sweep),
    /// not by listing the directory on every create; with several processes on one
    /// directory each sees the others' files at its next sweep, so the bound is approximate
    /// by what they create in between.
    ///
    /// Call it before cloning the store or starting its sweeper: it applies to this handle
    /// only if the store is already shared.
    ///
    /// ```
    /// use session_runtime::store::FilesStore;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = FilesStore::new(dir.path(), "sess_%s").unwrap().capacity(Some(10_000));
    /// assert_eq!(store.get_capacity(), Some(10_000));
    /// ```
    pub fn capacity(self, capacity: Option<usize>) -> Self {
        let store = self.configure(|inner| inner.capacity = capacity);
        if capacity.is_some() {
            match store.inner.count_files() {
                Ok(count) => store.inner.count.store(count, Ordering::Relaxed),
                Err(e) => {
                    tracing::warn!(error = %e, "files store: could not count the session files")
                }
            }
        }
        store
    }

    /// The most sessions the store keeps, if bounded.
    pub fn get_capacity(&self) -> Option<usize> {
        self.inner.capacity
    }

    /// Changes this handle's settings, in place when it is not shared yet.
    fn configure(mut self, change: impl FnOnce(&mut Inner)) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            change(inner);
            return self;
        }
        let inner = &self.inner;
        let mut copy = Inner {
            dir: inner.dir.clone(),
            template: inner.template.clone(),
            head: inner.head.clone(),
            tail: inner.tail.clone(),
            max_file_size: inner.max_file_size,
            capacity: inner.capacity,
            count: Arc::clone(&inner.count),
            locks: inner.locks.clone(),
        };
        change(&mut copy);
        self.inner = Arc::new(copy);
        self
    }

    /// The directory the sessions live in.
    ///
    /// ```
    /// use session_runtime::store::FilesStore;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    /// assert_eq!(store.dir(), dir.path());
    /// ```
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The file a session is kept in: the directory joined with the template, `%s` replaced by
    /// the key's hashed part. Keys whose hashed part is not 64 lowercase hex characters have no
    /// file (`None`); every key made by [`SessionId::store_key`](crate::SessionId::store_key)
    /// has one.
    ///
    /// ```
    /// use session_runtime::SessionId;
    /// use session_runtime::store::FilesStore;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = FilesStore::new(dir.path(), "sess_%s.json").unwrap();
    /// let id = SessionId::generate().unwrap();
    /// let key = id.store_key("app:");
    /// let path = store.file_path(&key).unwrap();
    /// assert_eq!(path, dir.path().join(format!("sess_{}.json", key.hash_part())));
    /// assert!(!path.to_string_lossy().contains(id.as_str()));
    /// ```
    pub fn file_path(&self, key: &StoreKey) -> Option<PathBuf> {
        self.inner.file_path(key).ok()
    }

    /// Removes the files of expired sessions now; returns how many were removed.
    ///
    /// Only files whose name matches the template are looked at, so other session types
    /// sharing the directory under another template are left alone. Files that do not read as
    /// a session are left in place (and logged at debug level). Temporary files left behind by
    /// a crash are removed once they are an hour old. This does blocking file I/O: from async
    /// code, call it inside `tokio::task::spawn_blocking`, or use
    /// [`spawn_sweeper`](Self::spawn_sweeper).
    ///
    /// ```
    /// use session_runtime::store::FilesStore;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    /// assert_eq!(store.purge_expired().unwrap(), 0);
    /// ```
    pub fn purge_expired(&self) -> Result<usize, StoreError> {
        self.inner.purge_expired(unix_now())
    }

    /// Runs [`purge_expired`](Self::purge_expired) every `interval` on the current tokio
    /// runtime, for as long as a handle to the store exists. Failures are logged and retried at
    /// the next tick.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_runtime::store::FilesStore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = FilesStore::new(dir.path(), "sess_%s").unwrap();
    /// let sweeper = store.spawn_sweeper(Duration::from_secs(60));
    /// drop(store); // the sweeper ends at its next tick
    /// # sweeper.abort();
    /// # }
    /// ```
    pub fn spawn_sweeper(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        super::sweeper::spawn(Arc::downgrade(&self.inner), "files", interval, |inner| {
            FilesStore { inner }
        })
    }

    fn lock_for(&self, key: &StoreKey) -> Arc<tokio::sync::Mutex<()>> {
        // The hashed part of a key is uniformly random hex: its last two digits spread keys
        // evenly over the shards.
        let hash = key.hash_part().as_bytes();
        let index = hash
            .iter()
            .rev()
            .take(2)
            .fold(0usize, |acc, b| acc * 31 + usize::from(*b));
        Arc::clone(&self.inner.locks[index % LOCK_SHARDS])
    }
}

impl std::fmt::Debug for FilesStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilesStore")
            .field("dir", &self.inner.dir)
            .field("filename_template", &self.inner.template)
            .field("max_file_size", &self.inner.max_file_size)
            .field("capacity", &self.inner.capacity)
            .finish()
    }
}

/// [`purge_expired`](FilesStore::purge_expired), off the async workers.
impl ExpiredDeletion for FilesStore {
    fn delete_expired(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let removed = blocking(move || inner.purge_expired(unix_now())).await?;
            Ok(removed as u64)
        })
    }
}

impl SessionStore for FilesStore {
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
        now: u64,
    ) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(async move {
            let path = self.inner.file_path(key)?;
            let inner = Arc::clone(&self.inner);
            blocking(move || inner.load(&path, now)).await
        })
    }

    fn create<'a>(
        &'a self,
        key: &'a StoreKey,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let path = self.inner.file_path(key)?;
            let bytes = encode(record);
            self.inner.check_size(&path, bytes.len())?;
            self.inner.reserve_place()?;
            let lock = self.lock_for(key);
            let _guard = lock.lock_owned().await;
            let inner = Arc::clone(&self.inner);
            let expires_at = record.expires_at;
            let written =
                blocking(move || write_atomic(&inner.dir, &path, &bytes, expires_at)).await;
            if written.is_err() {
                self.inner.forget_files(1);
            }
            written
        })
    }

    fn update<'a>(
        &'a self,
        key: &'a StoreKey,
        update: &'a Update,
        now: u64,
    ) -> BoxFuture<'a, Result<Updated, StoreError>> {
        Box::pin(async move {
            let path = self.inner.file_path(key)?;
            let lock = self.lock_for(key);
            let guard = lock.lock_owned().await;
            let inner = Arc::clone(&self.inner);
            let update = update.clone();
            blocking(move || {
                let outcome = inner.update(&path, &update, now);
                drop(guard);
                outcome
            })
            .await
        })
    }

    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let path = self.inner.file_path(key)?;
            let lock = self.lock_for(key);
            let guard = lock.lock_owned().await;
            let inner = Arc::clone(&self.inner);
            blocking(move || {
                let outcome = inner.delete(&path);
                drop(guard);
                outcome
            })
            .await
        })
    }
}

/// Runs blocking file I/O off the async workers.
async fn blocking<T, F>(work: F) -> Result<T, StoreError>
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(outcome) => outcome,
        Err(e) => Err(StoreError::with_source(
            "files store: a file operation did not complete",
            e,
        )),
    }
}

impl Inner {
    fn file_path(&self, key: &StoreKey) -> Result<PathBuf, StoreError> {
        let hash = key.hash_part();
        if hash.len() != HASH_LEN || !hash.bytes().all(is_lower_hex) {
            return Err(StoreError::new(format!(
                "files store: key `{key}` does not end in a hashed session id"
            )));
        }
        Ok(self.dir.join(format!("{}{}{}", self.head, hash, self.tail)))
    }

    /// Whether `name` is a session file of this template.
    fn is_session_file(&self, name: &str) -> bool {
        name.len() == self.head.len() + HASH_LEN + self.tail.len()
            && name.starts_with(&self.head)
            && name.ends_with(&self.tail)
            && name.as_bytes()[self.head.len()..self.head.len() + HASH_LEN]
                .iter()
                .all(|b| is_lower_hex(*b))
    }

    /// Takes a place for a new session file, or refuses it when the store is at capacity.
    fn reserve_place(&self) -> Result<(), StoreError> {
        let Some(capacity) = self.capacity else {
            self.count.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        };
        self.count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| {
                (count < capacity).then_some(count + 1)
            })
            .map(|_| ())
            .map_err(|count| {
                StoreError::new(format!(
                    "files store: {} holds {count} sessions, its capacity; no new session is \
                     created until one expires or is deleted (raise the files capacity, or \
                     rate-limit session creation)",
                    self.dir.display()
                ))
            })
    }

    /// Gives back the places of `n` session files that are gone.
    fn forget_files(&self, n: usize) {
        let _ = self
            .count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| {
                Some(count.saturating_sub(n))
            });
    }

    /// Removes the session file at `path`, giving back its place.
    fn remove(&self, path: &Path) -> Result<(), StoreError> {
        if remove(path, &self.dir)? {
            self.forget_files(1);
        }
        Ok(())
    }

    /// How many session files of this template the directory holds: one listing.
    fn count_files(&self) -> Result<usize, StoreError> {
        let entries = fs::read_dir(&self.dir).map_err(|e| io_error("listing", &self.dir, e))?;
        let mut count = 0;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("listing", &self.dir, e))?;
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| self.is_session_file(n))
            {
                count += 1;
            }
        }
        Ok(count)
    }

    fn check_size(&self, path: &Path, len: usize) -> Result<(), StoreError> {
        if u64::try_from(len).map_or(true, |len| len > self.max_file_size) {
            return Err(StoreError::new(format!(
                "files store: the session for {} would take {len} bytes, over the {}-byte limit \
                 (store less in the session or raise FilesStore::max_file_size)",
                path.display(),
                self.max_file_size
            )));
        }
        Ok(())
    }

    fn load(&self, path: &Path, now: u64) -> Result<Option<Record>, StoreError> {
        let Some(mut file) = open_session_file(path)? else {
            return Ok(None);
        };
        let Some(record) = self.read_record(&mut file, path)? else {
            return Ok(None);
        };
        drop(file);
        if record.expires_at > now {
            return Ok(Some(record));
        }
        if let Err(e) = self.remove_if_expired(path, now) {
            tracing::debug!(path = %path.display(), error = %e, "could not remove an expired session file");
        }
        Ok(None)
    }

    fn update(&self, path: &Path, update: &Update, now: u64) -> Result<Updated, StoreError> {
        let Some(mut file) = lock_existing(path)? else {
            return Ok(Updated::Missing);
        };
        let Some(mut record) = self.read_record(&mut file, path)? else {
            return Ok(Updated::Missing);
        };
        if record.expires_at <= now {
            self.remove(path)?;
            return Ok(Updated::Missing);
        }
        record.apply(update);
        let bytes = encode(&record);
        self.check_size(path, bytes.len())?;
        write_atomic(&self.dir, path, &bytes, record.expires_at)?;
        // The advisory lock is held on `file` until here, after the new version is in place.
        drop(file);
        Ok(Updated::Applied)
    }

    fn delete(&self, path: &Path) -> Result<(), StoreError> {
        match lock_existing(path)? {
            Some(file) => {
                self.remove(path)?;
                drop(file);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Removes the file at `path` if, read under its lock, it holds a session expired at `now`.
    fn remove_if_expired(&self, path: &Path, now: u64) -> Result<bool, StoreError> {
        let Some(mut file) = lock_existing(path)? else {
            return Ok(false);
        };
        match self.read_record(&mut file, path)? {
            Some(record) if record.expires_at <= now => {
                self.remove(path)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Reads a session from an open file: `None` when the file is too large or malformed.
    fn read_record(&self, file: &mut File, path: &Path) -> Result<Option<Record>, StoreError> {
        let len = file
            .metadata()
            .map_err(|e| io_error("reading", path, e))?
            .len();
        if len > self.max_file_size {
            tracing::debug!(
                path = %path.display(),
                len,
                limit = self.max_file_size,
                "session file over the size limit; treated as missing"
            );
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        Read::take(&mut *file, self.max_file_size.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| io_error("reading", path, e))?;
        if u64::try_from(bytes.len()).map_or(true, |n| n > self.max_file_size) {
            tracing::debug!(path = %path.display(), "session file grew over the size limit; treated as missing");
            return Ok(None);
        }
        match decode(&bytes) {
            Ok(record) => Ok(Some(record)),
            Err(reason) => {
                tracing::debug!(path = %path.display(), %reason, "session file does not read as a session; treated as missing");
                Ok(None)
            }
        }
    }

    fn purge_expired(&self, now: u64) -> Result<usize, StoreError> {
        let entries = fs::read_dir(&self.dir).map_err(|e| io_error("listing", &self.dir, e))?;
        let mut removed = 0;
        let mut seen = 0usize;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("listing", &self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = entry.path();
            if self.is_session_file(name) {
                seen += 1;
                if unexpired_by_mtime(&entry, now) {
                    continue;
                }
                match self.expired_on_disk(&path, now) {
                    Ok(true) => match self.remove_if_expired(&path, now) {
                        Ok(true) => removed += 1,
                        Ok(false) => {}
                        Err(e) => {
                            tracing::debug!(path = %path.display(), error = %e, "could not remove an expired session file");
                        }
                    },
                    Ok(false) => {}
                    Err(e) => {
                        tracing::debug!(path = %path.display(), error = %e, "could not check a session file");
                    }
                }
            } else if self.is_temp_file(name) {
                remove_stale_temp(&path);
            }
        }
        // The listing also saw what other processes on this directory created.
        self.count
            .store(seen.saturating_sub(removed), Ordering::Relaxed);
        Ok(removed)
    }

    /// Whether the session file at `path` holds a session expired at `now` (read without the
    /// lock: a cheap first look before [`remove_if_expired`](Self::remove_if_expired)).
    fn expired_on_disk(&self, path: &Path, now: u64) -> Result<bool, StoreError> {
        let Some(mut file) = open_session_file(path)? else {
            return Ok(false);
        };
        Ok(self
            .read_record(&mut file, path)?
            .is_some_and(|record| record.expires_at <= now))
    }

    /// Whether `name` is a temporary file this store writes: `.<session file>.<unique>.tmp`.
    fn is_temp_file(&self, name: &str) -> bool {
        let Some(rest) = name.strip_prefix('.') else {
            return false;
        };
        let Some(rest) = rest.strip_suffix(".tmp") else {
            return false;
        };
        let session_len = self.head.len() + HASH_LEN + self.tail.len();
        rest.len() > session_len
            && rest.is_char_boundary(session_len)
            && self.is_session_file(&rest[..session_len])
            && rest[session_len..].starts_with('.')
    }
}

/// Whether the entry's modification time, which every write sets to the session's expiry,
/// says it has not expired at `now`: then the sweeper need not read it. A file written before
/// this rule, or touched by something else, has an earlier time and is read as before.
fn unexpired_by_mtime(entry: &fs::DirEntry, now: u64) -> bool {
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| modified.duration_since(SystemTime::UNIX_EPOCH).ok())
        .is_some_and(|expiry| expiry.as_secs() > now)
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn parse_template(template: &str) -> Result<(&str, &str), StoreError> {
    let invalid = |why: &str| {
        StoreError::new(format!(
            "files store: file name template `{}` {why} (it needs exactly one `%s`, where the \
             hashed session id goes, e.g. `sess_%s`)",
            template.escape_debug()
        ))
    };
    let Some((head, tail)) = template.split_once("%s") else {
        return Err(invalid("has no `%s`"));
    };
    if head.contains('%') || tail.contains('%') {
        return Err(invalid("has a `%` other than the one `%s`"));
    }
    if template.contains(['/', '\\']) {
        return Err(invalid("contains a path separator"));
    }
    if template.starts_with('.') {
        return Err(invalid("starts with a dot"));
    }
    if template.chars().any(char::is_control) {
        return Err(invalid("contains a control character"));
    }
    if template.len() > 128 {
        return Err(invalid("is longer than 128 bytes"));
    }
    Ok((head, tail))
}

/// Creates the directory if needed and checks that files can be created in it.
fn prepare_dir(dir: &Path) -> Result<(), StoreError> {
    let advice = "point the files store at a directory this process can write to (create it, \
                  fix its owner or permissions, or choose another path)";
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => check_dir_is_private(dir, &meta)?,
        Ok(_) => {
            return Err(StoreError::new(format!(
                "files store: {} is not a directory; {advice}",
                dir.display()
            )));
        }
        Err(_) => {
            if let Err(e) = builder.create(dir) {
                return Err(StoreError::with_source(
                    format!(
                        "files store: cannot create the session directory {}; {advice}",
                        dir.display()
                    ),
                    e,
                ));
            }
        }
    }
    let probe = dir.join(format!(".write-probe.{}", unique_suffix()));
    let written = open_private(&probe).and_then(|mut file| {
        file.write_all(b"probe")?;
        file.sync_all()
    });
    let removed = fs::remove_file(&probe);
    if let Err(e) = written.and(removed) {
        let _ = fs::remove_file(&probe);
        return Err(StoreError::with_source(
            format!(
                "files store: the session directory {} is not writable; {advice}",
                dir.display()
            ),
            e,
        ));
    }
    Ok(())
}

/// Refuses a session directory that someone else could plant files in: one writable by its
/// group or by everyone (a `1777` directory such as `/tmp`), or owned by another user. Such a
/// user could write a session file under the name a chosen id hashes to and have it accepted.
#[cfg(unix)]
fn check_dir_is_private(dir: &Path, meta: &fs::Metadata) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;

    let shown = dir.display();
    if meta.mode() & 0o022 != 0 {
        return Err(StoreError::new(format!(
            "files store: the session directory {shown} is writable by its group or by everyone \
             (mode {:o}), so another user could plant session files there; run `chmod 700 {shown}` \
             or choose a directory of this process's own",
            meta.mode() & 0o7777
        )));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(StoreError::new(format!(
            "files store: the session directory {shown} is owned by user {} and this process \
             runs as user {me}; run `chown {me} {shown}` or choose a directory of this \
             process's own",
            meta.uid()
        )));
    }
    Ok(())
}

/// Without unix permissions there is nothing to check.
#[cfg(not(unix))]
fn check_dir_is_private(_dir: &Path, _meta: &fs::Metadata) -> Result<(), StoreError> {
    Ok(())
}

/// A name part no other writer uses: process id, a counter and the clock.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{count}-{nanos}", std::process::id())
}

/// Creates a new file readable and writable by the owner only; fails if it exists.
fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Replaces `target` with `bytes` without ever leaving a torn file: write a temporary file,
/// flush it, rename it over the target, flush the directory. On failure the old file is intact.
///
/// The file's modification time is set to `expires_at`, so the sweeper can pass over a file
/// that has not expired from its metadata alone, without reading it.
fn write_atomic(
    dir: &Path,
    target: &Path,
    bytes: &[u8],
    expires_at: u64,
) -> Result<(), StoreError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (temp, mut file) = loop {
        let temp = dir.join(format!(".{name}.{}.tmp", unique_suffix()));
        match open_private(&temp) {
            Ok(file) => break (temp, file),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error("writing", &temp, e)),
        }
    };
    let expiry = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(expires_at));
    let written = file
        .write_all(bytes)
        .and_then(|()| expiry.map_or(Ok(()), |expiry| file.set_modified(expiry)))
        .and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io_error("writing", &temp, e));
    }
    if let Err(e) = fs::rename(&temp, target) {
        let _ = fs::remove_file(&temp);
        return Err(io_error("writing", target, e));
    }
    sync_dir(dir)
}

/// Removes a session file and makes the removal durable; whether there was one to remove.
fn remove(path: &Path, dir: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(dir).map(|()| true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("removing", path, e)),
    }
}

/// Flushes a directory's entries to disk, so a rename or removal survives a crash.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        let synced = File::open(dir).and_then(|d| d.sync_all());
        match synced {
            // Some file systems cannot flush a directory; the rename is still atomic there.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
                ) => {}
            Err(e) => return Err(io_error("flushing", dir, e)),
            Ok(()) => {}
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn remove_stale_temp(path: &Path) {
    let old = fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .is_some_and(|age| age >= STALE_TEMP_AGE);
    if old {
        if let Err(e) = fs::remove_file(path) {
            tracing::debug!(path = %path.display(), error = %e, "could not remove a stale temporary file");
        }
    }
}

/// Opens the session file at `path` and takes its advisory lock: `None` if there is none.
///
/// A writer replaces the file by renaming a new one over it, so the lock taken may be on a
/// version that was replaced or removed while waiting: the open file is then compared with
/// what the path names now, and the lock taken again on the current file.
#[cfg(unix)]
fn lock_existing(path: &Path) -> Result<Option<File>, StoreError> {
    use std::os::unix::fs::MetadataExt;

    loop {
        let Some(file) = open_session_file(path)? else {
            return Ok(None);
        };
        loop {
            match rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive) {
                Ok(()) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(io_error("locking", path, e.into())),
            }
        }
        let held = file.metadata().map_err(|e| io_error("opening", path, e))?;
        match fs::metadata(path) {
            Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => return Ok(Some(file)),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("opening", path, e)),
        }
    }
}

/// Opens the session file at `path`: `None` if there is none. Without `flock`, only the
/// in-process lock orders updates.
#[cfg(not(unix))]
fn lock_existing(path: &Path) -> Result<Option<File>, StoreError> {
    open_session_file(path)
}

/// Opens the session file at `path` for reading: `None` if there is none, or if what the
/// name holds is not a regular file of its own.
///
/// A symbolic link is never followed (`O_NOFOLLOW`) and a FIFO or device never waited on
/// (`O_NONBLOCK`, then `fstat`): a name planted in the directory cannot make the store read
/// a record from somewhere else. Such a name reads as no session, and the next write of that
/// session renames a real file over it.
#[cfg(unix)]
fn open_session_file(path: &Path) -> Result<Option<File>, StoreError> {
    use rustix::fs::{FileType, Mode, OFlags};

    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(rustix::io::Errno::LOOP) => {
            tracing::warn!(path = %path.display(), "a session file is a symbolic link; not followed, treated as missing");
            return Ok(None);
        }
        Err(e) => return Err(io_error("opening", path, e.into())),
    };
    let stat = rustix::fs::fstat(&fd).map_err(|e| io_error("opening", path, e.into()))?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        tracing::warn!(path = %path.display(), "a session file is not a regular file; treated as missing");
        return Ok(None);
    }
    Ok(Some(File::from(fd)))
}

/// Opens the session file at `path` for reading: `None` if there is none.
#[cfg(not(unix))]
fn open_session_file(path: &Path) -> Result<Option<File>, StoreError> {
    match File::open(path) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("opening", path, e)),
    }
}

fn io_error(doing: &str, path: &Path, e: io::Error) -> StoreError {
    StoreError::with_source(format!("files store: {doing} {} failed", path.display()), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked() {
        assert_eq!(parse_template("sess_%s").unwrap(), ("sess_", ""));
        assert_eq!(parse_template("%s.json").unwrap(), ("", ".json"));
        for bad in [
            "", "sess", "%s%s", "a%d%s", "../%s", "a/%s", "a\\%s", ".%s", "a\n%s", "%%s",
        ] {
            assert!(parse_template(bad).is_err(), "{bad:?}");
        }
    }
}
