//! Faults under load: Redis killed while clients write, and the files store on a full disk.
//!
//! Both tests need root: one kills and restarts a private redis-server, the other mounts a small
//! tmpfs. They say so clearly when they cannot.

use session_test_support::redis_server;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::Query;
use axum::{Router, routing::get};
use redis_server::RedisServer;
use session_runtime::{Session, StoreChoice};
use session_test_support::http::request;

// ---------------------------------------------------------------------------------------------
// Redis killed with kill -9 while 100 clients write.
// ---------------------------------------------------------------------------------------------

#[derive(Session)]
#[session(cookie_name = "journal", store = "redis", expire = 3600)]
struct Journal {
    client: u32,
    seq: u64,
}

#[derive(serde::Deserialize)]
struct JournalWrite {
    client: u32,
    seq: u64,
}

/// Writes `client` and `seq`; answers what the session held before: `new` or `<client> <seq>`.
async fn write_journal(mut journal: Session<Journal>, Query(w): Query<JournalWrite>) -> String {
    let before = if journal.is_new() {
        "new".to_owned()
    } else {
        format!("{} {}", journal.client, journal.seq)
    };
    journal.client = w.client;
    journal.seq = w.seq;
    before
}

async fn read_journal(journal: Session<Journal>) -> String {
    if journal.is_new() {
        "new".to_owned()
    } else {
        format!("{} {}", journal.client, journal.seq)
    }
}

const CLIENTS: u32 = 100;
/// The most requests one client sends: the run is bounded even if the phases stall.
const MAX_REQUESTS_PER_CLIENT: u64 = 3_000;
/// Acknowledged writes every client needs in a phase before the test moves on.
const ACKS_PER_PHASE: u64 = 5;

/// Redis is up (before the kill).
const UP: u8 = 0;
/// Redis is dead: set once the process has been reaped, cleared before the restart begins.
const DOWN: u8 = 1;
/// Redis is being restarted or is back.
const BACK: u8 = 2;

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    acknowledged: AtomicU64,
    unavailable: AtomicU64,
    /// Requests that began and ended while Redis was dead.
    during_outage: AtomicU64,
    /// Of those, the ones answered 503.
    during_outage_503: AtomicU64,
}

/// What one client saw.
#[derive(Debug, Default)]
struct ClientLog {
    /// Acknowledged writes: (seq, phase when sent).
    acked: Vec<(u64, u8)>,
    /// The last seq sent, acknowledged or not.
    last_sent: u64,
    /// Anything other than 2xx or 503, a transport error, or a lost write.
    failures: Vec<String>,
}

/// Writes a line to stderr directly: the test harness hides println! output of a passing test,
/// and these counts belong in the log.
fn report(line: &str) {
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

async fn serve(app: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), task)
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        // A bound, not a speed check: a request that never ends fails the test as a hang.
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Checks what a write reported about the session before it against what this client had
/// acknowledged and sent so far.
fn check_before(before: &str, client: u32, log: &ClientLog, seq: u64) -> Result<(), String> {
    let last_acked = log.acked.last().map(|(s, _)| *s);
    if before == "new" {
        return match last_acked {
            None => Ok(()),
            Some(acked) => Err(format!(
                "write {seq} found a new session although write {acked} was acknowledged"
            )),
        };
    }
    let (who, prev) = before
        .split_once(' ')
        .and_then(|(c, s)| Some((c.parse::<u32>().ok()?, s.parse::<u64>().ok()?)))
        .ok_or_else(|| format!("write {seq}: unexpected body {before:?}"))?;
    if who != client {
        return Err(format!("write {seq} found client {who}'s data"));
    }
    if last_acked.is_some_and(|acked| prev < acked) || prev >= seq {
        return Err(format!(
            "write {seq} found seq {prev}; last acknowledged {last_acked:?}: an acknowledged \
             write was lost"
        ));
    }
    Ok(())
}

async fn run_client(
    client: u32,
    base: String,
    phase: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    acks: Arc<Vec<[AtomicU64; 3]>>,
) -> (reqwest::Client, ClientLog) {
    let http = http_client();
    let mut log = ClientLog::default();
    for seq in 1..=MAX_REQUESTS_PER_CLIENT {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let sent_in = phase.load(Ordering::SeqCst);
        log.last_sent = seq;
        let started = Instant::now();
        let result = http
            .get(format!("{base}/write?client={client}&seq={seq}"))
            .send()
            .await;
        let answered_in = phase.load(Ordering::SeqCst);
        counters.requests.fetch_add(1, Ordering::SeqCst);
        let in_outage = sent_in == DOWN && answered_in == DOWN;
        if in_outage {
            counters.during_outage.fetch_add(1, Ordering::SeqCst);
        }
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                log.failures.push(format!(
                    "write {seq}: no answer after {:?}: {e}",
                    started.elapsed()
                ));
                continue;
            }
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_success() {
            if in_outage {
                log.failures
                    .push(format!("write {seq} acknowledged while Redis was dead"));
            }
            if let Err(e) = check_before(&body, client, &log, seq) {
                log.failures.push(e);
            }
            log.acked.push((seq, sent_in));
            counters.acknowledged.fetch_add(1, Ordering::SeqCst);
            acks[client as usize][usize::from(sent_in)].fetch_add(1, Ordering::SeqCst);
        } else if status == http::StatusCode::SERVICE_UNAVAILABLE {
            counters.unavailable.fetch_add(1, Ordering::SeqCst);
            if in_outage {
                counters.during_outage_503.fetch_add(1, Ordering::SeqCst);
            }
        } else {
            log.failures
                .push(format!("write {seq}: status {status}: {body}"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (http, log)
}

/// Waits until `done()` holds, checking every 20 ms; panics with `what` after `limit`.
async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_loses_no_acknowledged_write() {
    let mut redis = RedisServer::start_durable();
    let app = Router::new()
        .route("/write", get(write_journal))
        .route("/read", get(read_journal))
        .layer(
            Journal::layer()
                .redis_url(redis.url())
                .build()
                .await
                .unwrap(),
        );
    let (base, server) = serve(app).await;

    let phase = Arc::new(AtomicU8::new(UP));
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let acks: Arc<Vec<[AtomicU64; 3]>> = Arc::new(
        (0..CLIENTS)
            .map(|_| [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)])
            .collect(),
    );
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            tokio::spawn(run_client(
                client,
                base.clone(),
                phase.clone(),
                stop.clone(),
                counters.clone(),
                acks.clone(),
            ))
        })
        .collect();

    let every_client_has = |phase: u8| {
        let acks = acks.clone();
        move || {
            acks.iter()
                .all(|a| a[usize::from(phase)].load(Ordering::SeqCst) >= ACKS_PER_PHASE)
        }
    };
    wait_for(
        "every client's first acknowledged writes",
        Duration::from_secs(120),
        every_client_has(UP),
    )
    .await;

    // kill -9; the phase turns DOWN only once the process is gone.
    redis.stop();
    phase.store(DOWN, Ordering::SeqCst);
    let outage_started = Instant::now();
    let outage_counters = counters.clone();
    wait_for(
        "answers during the outage",
        Duration::from_secs(120),
        move || {
            outage_started.elapsed() >= Duration::from_secs(3)
                && outage_counters.during_outage.load(Ordering::SeqCst) >= u64::from(CLIENTS)
        },
    )
    .await;

    phase.store(BACK, Ordering::SeqCst);
    tokio::task::block_in_place(|| redis.restart());
    wait_for(
        "every client's acknowledged writes after the restart",
        Duration::from_secs(120),
        every_client_has(BACK),
    )
    .await;
    stop.store(true, Ordering::SeqCst);

    let mut failures = Vec::new();
    let mut lost = Vec::new();
    for (client, task) in clients.into_iter().enumerate() {
        let (http, log) = task.await.unwrap();
        failures.extend(log.failures.iter().map(|f| format!("client {client}: {f}")));
        let last_acked = log.acked.last().map(|(s, _)| *s).unwrap_or(0);
        let last_before_kill = log
            .acked
            .iter()
            .filter(|(_, p)| *p == UP)
            .map(|(s, _)| *s)
            .max()
            .unwrap_or(0);
        let held = http.get(format!("{base}/read")).send().await.unwrap();
        assert!(held.status().is_success(), "client {client}: final read");
        let held = held.text().await.unwrap();
        let seq = held
            .strip_prefix(&format!("{client} "))
            .and_then(|s| s.parse::<u64>().ok());
        match seq {
            Some(seq) if seq >= last_acked.max(last_before_kill) && seq <= log.last_sent => {}
            _ => lost.push(format!(
                "client {client}: holds {held:?}; last acknowledged {last_acked} (before the \
                 kill {last_before_kill}), last sent {}",
                log.last_sent
            )),
        }
    }
    server.abort();

    let requests = counters.requests.load(Ordering::SeqCst);
    let acknowledged = counters.acknowledged.load(Ordering::SeqCst);
    let unavailable = counters.unavailable.load(Ordering::SeqCst);
    let during = counters.during_outage.load(Ordering::SeqCst);
    let during_503 = counters.during_outage_503.load(Ordering::SeqCst);
    report(&format!(
        "redis kill -9 with {CLIENTS} clients: {requests} requests, {acknowledged} acknowledged, \
         {unavailable} answered 503; {during} sent and answered during the outage, {during_503} \
         of them 503"
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        lost.is_empty(),
        "acknowledged writes lost:\n{}",
        lost.join("\n")
    );
    assert_eq!(
        during, during_503,
        "every answer during the outage is a 503"
    );
    assert!(during >= u64::from(CLIENTS));
    assert_eq!(requests, acknowledged + unavailable);
}

// ---------------------------------------------------------------------------------------------
// The files store on a full disk.
// ---------------------------------------------------------------------------------------------

#[derive(Session)]
#[session(cookie_name = "notes", store = "files", expire = 3600)]
struct Notes {
    n: u32,
    text: String,
}

#[derive(serde::Deserialize)]
struct SetN {
    n: u32,
}

async fn write_note(mut notes: Session<Notes>, Query(set): Query<SetN>) -> String {
    notes.n = set.n;
    notes.text = format!("note {} {}", set.n, "x".repeat(200));
    notes.n.to_string()
}

async fn read_note(notes: Session<Notes>) -> String {
    format!("{} {}", notes.n, notes.text.len())
}

/// A tmpfs mounted for one test; unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size},mode=0700"))
            .arg("tmpfs")
            .arg(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run mount: {e}"));
        assert!(
            output.status.success(),
            "this test mounts a {size} tmpfs to fill a disk and needs root (CAP_SYS_ADMIN); \
             `mount -t tmpfs -o size={size} tmpfs {}` failed: {}",
            dir.path().display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a file open somewhere): detach it now, it goes once released.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// Writes zeros to `path` until the disk is full; returns the open file and its size.
fn fill(path: &Path) -> (std::fs::File, u64) {
    let mut file = std::fs::File::create(path).unwrap();
    let block = [0u8; 4096];
    let mut size = 0u64;
    // A 512 KiB disk holds 128 blocks; the bound only keeps the loop finite.
    for _ in 0..100_000 {
        match file.write(&block) {
            Ok(0) => break,
            Ok(n) => size += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    let err = file.write_all(&block).unwrap_err();
    assert_eq!(
        err.kind(),
        std::io::ErrorKind::StorageFull,
        "the disk is full"
    );
    (file, size)
}

/// Every session file in `dir` parses, with the `n` it should hold; nothing else is there
/// besides `filler`.
fn check_files(dir: &Path, filler: &Path, expected: &BTreeMap<PathBuf, u32>) {
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path == filler {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("sess_"), "left behind: {name}");
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.is_empty(), "empty session file {name}");
        let doc: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("torn session file {name}: {e}"));
        let n = doc["fields"]["n"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: {doc}"));
        assert_eq!(Some(&(n as u32)), expected.get(&path), "{name}");
        seen += 1;
    }
    assert_eq!(seen, expected.len(), "session files");
}

#[tokio::test]
async fn files_store_on_a_full_disk_answers_503_and_keeps_every_session() {
    let disk = Tmpfs::mount("512k");
    let dir = disk.path().to_owned();
    let layer = Notes::layer()
        .store(StoreChoice::Files)
        .session_dir(&dir)
        .build()
        .await
        .unwrap();
    let app = Router::new()
        .route("/write", get(write_note))
        .route("/read", get(read_note))
        .layer(layer);

    // Some sessions, with their files.
    let mut cookies = Vec::new();
    for n in 0..20u32 {
        let reply = request(&app, &format!("/write?n={n}"), None).await;
        assert_eq!(reply.status, 200);
        cookies.push(reply.cookie("notes").unwrap());
    }
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 20);
    let mut expected = BTreeMap::new();
    for path in files {
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        expected.insert(path, doc["fields"]["n"].as_u64().unwrap() as u32);
    }

    let filler = dir.join("filler");
    let (file, filled) = fill(&filler);
    report(&format!(
        "full disk: {filled} bytes of filler next to 20 sessions"
    ));

    let mut refused = 0;
    for (n, cookie) in cookies.iter().enumerate() {
        // A change to an existing session cannot be written.
        let reply = request(&app, "/write?n=1000", Some(cookie)).await;
        assert_eq!(reply.status, 503, "session {n}: {}", reply.body);
        assert!(reply.cookie("notes").is_none());
        refused += 1;
        // Reading still works, and gives the old value.
        let reply = request(&app, "/read", Some(cookie)).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body,
            format!("{n} {}", format!("note {n} ").len() + 200)
        );
    }
    // Nor can a new session be created.
    for _ in 0..5 {
        let reply = request(&app, "/write?n=2000", None).await;
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert!(reply.cookie("notes").is_none());
        refused += 1;
    }
    report(&format!("full disk: {refused} writes answered 503"));
    check_files(&dir, &filler, &expected);

    // Space again: writes succeed.
    drop(file);
    std::fs::remove_file(&filler).unwrap();
    for (n, cookie) in cookies.iter().enumerate() {
        let reply = request(&app, &format!("/write?n={}", n + 100), Some(cookie)).await;
        assert_eq!(reply.status, 200, "session {n}: {}", reply.body);
        let reply = request(&app, "/read", Some(cookie)).await;
        assert_eq!(
            reply.body,
            format!("{} {}", n + 100, format!("note {} ", n + 100).len() + 200)
        );
    }
    let reply = request(&app, "/write?n=3000", None).await;
    assert_eq!(reply.status, 200);
    for n in expected.values_mut() {
        *n += 100;
    }
    let new_file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !expected.contains_key(p))
        .unwrap();
    expected.insert(new_file, 3000);
    check_files(&dir, &filler, &expected);
    drop(app);
}
