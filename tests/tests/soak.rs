//! Soak: 1,000 concurrent keep-alive connections against each store (cookie, memory, files,
//! redis) for `SOAK_SECONDS` seconds each (default 60), mixing reads and writes.
//!
//! Every response must be 2xx with the value the connection's own session should hold, every
//! connection must stay one TCP connection, and resident memory must stay flat once warmed up:
//! the end RSS may exceed the RSS after warm-up by at most 20% + 32 MiB. The table it prints
//! (requests/s, errors, RSS per store) is what the README quotes.
//!
//! `SOAK_SECONDS=5 cargo test -p integration-tests --test soak -- --nocapture` runs it short;
//! `SOAK_CONNECTIONS` changes the number of connections.
//!
//! This binary holds this one test only, so the memory it reads is the soak's own.

use session_test_support::redis_server;
use session_test_support::secrets::SECRET;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::serve::{Listener, ListenerExt};
use axum::{Router, routing::get};
use redis_server::RedisServer;
use session_runtime::store::RedisOptions;
use session_runtime::store::RedisStore;
use session_runtime::{Session, StoreChoice};

#[derive(Session)]
#[session(cookie_name = "soak", expire = 3600)]
struct Soak {
    writes: u64,
    note: String,
}

async fn write(mut soak: Session<Soak>) -> String {
    soak.writes += 1;
    soak.note = format!("write number {}", soak.writes);
    soak.writes.to_string()
}

async fn read(soak: Session<Soak>) -> String {
    soak.writes.to_string()
}

/// One request in this many is a write; the others read.
const WRITE_EVERY: u64 = 4;
/// The most requests one connection sends, whatever the duration: the loop is bounded.
const MAX_REQUESTS_PER_CONNECTION: u64 = 1_000_000;
/// Error messages kept per store, for the failure report.
const KEPT_ERRORS: usize = 10;
const MIB: u64 = 1024 * 1024;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {v:?}")),
        Err(_) => default,
    }
}

/// Resident memory of this process in bytes (`VmRSS` in `/proc/self/status`).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib * 1024
}

/// Open file descriptors of this process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// Raises the limit on open files to at least `needed` (each connection needs two descriptors,
/// client and server side): the soft limit up to the hard one, and the hard one too when the
/// process may (root may).
fn raise_fd_limit(needed: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let target = limit.maximum.map(|max| max.max(needed));
    let raised = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: target,
            maximum: target,
        },
    );
    if raised.is_err() {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
    let now = getrlimit(Resource::Nofile).current;
    assert!(
        now.is_none_or(|n| n >= needed),
        "the soak needs {needed} open files but the limit is {now:?}: raise it \
         (`ulimit -n {needed}`, or run under `prlimit --nofile={needed}`)"
    );
}

struct Outcome {
    store: &'static str,
    seconds: f64,
    connections: u64,
    accepted: u64,
    requests: u64,
    errors: u64,
    first_errors: Vec<String>,
    warmed_up: Duration,
    rss_start: u64,
    rss_warm: u64,
    rss_end: u64,
    fds_warm: usize,
    fds_end: usize,
}

impl Outcome {
    fn rss_bound(&self) -> u64 {
        self.rss_warm + self.rss_warm / 5 + 32 * MIB
    }
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    /// Connections that have had their first answer.
    connected: AtomicU64,
    errors: AtomicU64,
    first_errors: std::sync::Mutex<Vec<String>>,
}

impl Tally {
    fn error(&self, message: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut kept = self.first_errors.lock().unwrap();
        if kept.len() < KEPT_ERRORS {
            kept.push(message);
        }
    }
}

/// One keep-alive connection with its own cookie jar, sending requests until `deadline`.
async fn connection(base: Arc<str>, deadline: Instant, tally: Arc<Tally>) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(1)
        // A bound, not a speed check: a request that never ends counts as an error.
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut writes = 0u64;
    for i in 0..MAX_REQUESTS_PER_CONNECTION {
        if Instant::now() >= deadline {
            break;
        }
        let is_write = i % WRITE_EVERY == 0;
        let path = if is_write { "write" } else { "read" };
        let result = http.get(format!("{base}/{path}")).send().await;
        tally.requests.fetch_add(1, Ordering::Relaxed);
        if i == 0 {
            tally.connected.fetch_add(1, Ordering::Relaxed);
        }
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                tally.error(format!("{path}: {e}"));
                continue;
            }
        };
        let status = response.status();
        let body = match response.text().await {
            Ok(b) => b,
            Err(e) => {
                tally.error(format!("{path}: reading the body: {e}"));
                continue;
            }
        };
        if !status.is_success() {
            tally.error(format!("{path}: status {status}: {body}"));
            continue;
        }
        if is_write {
            writes += 1;
        }
        if body != writes.to_string() {
            tally.error(format!(
                "{path}: the session holds {body}, expected {writes}"
            ));
            // Follow the server, so one lost write is one error rather than all the rest.
            writes = body.parse().unwrap_or(writes);
        }
    }
}

async fn soak(
    store: &'static str,
    layer: session_runtime::SessionLayer<Soak>,
    connections: u64,
    duration: Duration,
) -> Outcome {
    let rss_start = rss();
    let app = Router::new()
        .route("/write", get(write))
        .route("/read", get(read))
        .layer(layer);
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .tap_io(move |tcp| {
            counter.fetch_add(1, Ordering::Relaxed);
            // As a production server would: without it, Nagle's algorithm and delayed ACKs
            // hold small responses back for up to 40 ms.
            let _ = tcp.set_nodelay(true);
        });
    let base: Arc<str> = format!("http://{}", listener.local_addr().unwrap()).into();
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });

    let started = Instant::now();
    let deadline = started + duration;
    let tally = Arc::new(Tally::default());
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(base.clone(), deadline, tally.clone())))
        .collect();

    // Warmed up: a sixth of the run has passed and every connection has been answered once.
    tokio::time::sleep(duration / 6).await;
    while tally.connected.load(Ordering::Relaxed) < connections && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let warmed_up = started.elapsed();
    let rss_warm = rss();
    let fds_warm = open_fds();
    tokio::time::sleep_until(deadline.into()).await;
    let rss_end = rss();
    let fds_end = open_fds();
    for task in tasks {
        task.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    server.abort();
    let _ = server.await;

    let first_errors = std::mem::take(&mut *tally.first_errors.lock().unwrap());
    Outcome {
        store,
        seconds,
        connections,
        accepted: accepted.load(Ordering::Relaxed),
        requests: tally.requests.load(Ordering::Relaxed),
        errors: tally.errors.load(Ordering::Relaxed),
        first_errors,
        warmed_up,
        rss_start,
        rss_warm,
        rss_end,
        fds_warm,
        fds_end,
    }
}

/// Redis options for the soak: the defaults (1 s per reply, 2 s per call) turn queueing on a
/// machine busy with other work into 503s, and this test measures throughput and resource
/// bounds, not latency. The outage tests cover the default timeouts.
fn patient_redis() -> RedisOptions {
    RedisOptions::default()
        .response_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(10))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_connections_on_every_store_without_errors_or_growth() {
    let seconds = env_number("SOAK_SECONDS", 60).max(1);
    let connections = env_number("SOAK_CONNECTIONS", 1_000).max(1);
    let duration = Duration::from_secs(seconds);
    raise_fd_limit(2 * connections + 256);

    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start();
    let mut outcomes = Vec::new();
    for store in ["cookie", "memory", "files", "redis"] {
        let builder = Soak::layer().secret(SECRET);
        let builder = match store {
            "cookie" => builder.store(StoreChoice::Cookie),
            "memory" => builder.store(StoreChoice::Memory),
            "files" => builder
                .store(StoreChoice::Files)
                .session_dir(dir.path().join("sessions")),
            _ => builder.store_instance(
                RedisStore::connect_with(&redis.url(), patient_redis())
                    .await
                    .unwrap(),
            ),
        };
        let layer = builder.build().await.unwrap();
        outcomes.push(soak(store, layer, connections, duration).await);
    }

    // Written to stderr directly: the test harness hides println! output of a passing test.
    let mut table = format!(
        "\nsoak: {connections} keep-alive connections per store, {seconds} s each, 1 write in \
         {WRITE_EVERY} requests; RSS in MiB (start / after warm-up / end)\n\
         | store  | requests | requests/s | errors | connections | warm-up | RSS start | RSS warm \
         | RSS end | fds warm / end |\n\
         |--------|---------:|-----------:|-------:|------------:|--------:|----------:|---------:\
         |--------:|---------------:|\n"
    );
    for o in &outcomes {
        table.push_str(&format!(
            "| {:<6} | {:>8} | {:>10.0} | {:>6} | {:>11} | {:>5.1} s | {:>9.1} | {:>8.1} | \
             {:>7.1} | {:>6} / {:<5} |\n",
            o.store,
            o.requests,
            o.requests as f64 / o.seconds,
            o.errors,
            o.accepted,
            o.warmed_up.as_secs_f64(),
            o.rss_start as f64 / MIB as f64,
            o.rss_warm as f64 / MIB as f64,
            o.rss_end as f64 / MIB as f64,
            o.fds_warm,
            o.fds_end,
        ));
    }
    table.push('\n');
    let _ = std::io::Write::write_all(&mut std::io::stderr(), table.as_bytes());

    for o in &outcomes {
        assert!(
            o.errors == 0,
            "{}: {} errors in {} requests; first ones:\n{}",
            o.store,
            o.errors,
            o.requests,
            o.first_errors.join("\n")
        );
        assert!(
            o.requests >= o.connections,
            "{}: every connection sent at least one request",
            o.store
        );
        assert_eq!(
            o.accepted, o.connections,
            "{}: every client kept its one keep-alive connection",
            o.store
        );
        assert!(
            o.rss_end <= o.rss_bound(),
            "{}: resident memory grew from {} MiB after warm-up to {} MiB at the end (bound {} \
             MiB)",
            o.store,
            o.rss_warm / MIB,
            o.rss_end / MIB,
            o.rss_bound() / MIB
        );
    }
}
