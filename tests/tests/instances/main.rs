//! Faults across app instances: two app instances share one Redis, two share one PostgreSQL,
//! each reaching the server through its own fault proxy ([`proxy`]). Many clients log in,
//! change a field, regenerate, log out and replay old ids, alternating at random between the
//! two instances, while latency, refused and reset connections and a partition of one instance
//! come and go. The [`checker`] then reads the history and fails on a lost acknowledged write, a
//! destroyed session read again, another session's data, or a status other than 2xx and 503.
//!
//! Everything runs on loopback with private servers. The run is bounded by a fixed fault plan
//! and a request count per client; assertions never depend on timing.

use session_test_support::{postgres_server, redis_server};

mod app;
mod checker;
mod client;
mod plan;
mod proxy;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use checker::{Exchange, Outcome};
use client::Rng;
use proxy::FaultProxy;

/// Concurrent clients per store.
const CLIENTS: u32 = 32;

/// Writes a line to stderr directly: the harness hides `eprintln!` of a passing test, and these
/// counts belong in the log.
fn report(line: &str) {
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// A seed for this run: `FAULT_SEED` if set (to replay a run's choices), else the clock.
fn seed() -> u64 {
    std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

/// Starts one proxy per instance in front of the server on `port`.
async fn proxies(port: u16) -> [FaultProxy; 2] {
    let upstream = SocketAddr::from(([127, 0, 0, 1], port));
    [
        FaultProxy::start(upstream).await,
        FaultProxy::start(upstream).await,
    ]
}

/// Runs the clients against two instances while the fault plan runs, then heals everything, has
/// every client read through each instance, prints the figures and checks the history.
async fn exercise(store: &str, bases: [String; 2], proxies: &[FaultProxy; 2], cookie: &str) {
    let seed = seed();
    let stop = Arc::new(AtomicBool::new(false));
    let http = client::http();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let mut client = client::Client::new(id, http.clone(), bases.clone(), cookie, seed);
            let stop = stop.clone();
            tokio::spawn(async move {
                client.run(&stop).await;
                client
            })
        })
        .collect();
    let faults = [proxies[0].faults(), proxies[1].faults()];
    let injected = plan::run(&faults, &mut Rng::new(seed)).await;
    stop.store(true, Ordering::SeqCst);
    for faults in &faults {
        faults.heal_all();
    }
    let mut history: Vec<Exchange> = Vec::new();
    let mut unrecovered = Vec::new();
    for task in clients {
        let mut client = task.await.expect("a client task panicked");
        if !client.final_reads().await {
            unrecovered.push(client.id());
        }
        history.extend(client.into_history());
    }
    summarize(store, seed, &history, &injected);
    let violations = checker::check(&history);
    for violation in violations.iter().take(20) {
        report(&format!("{store}: {violation}"));
    }
    assert!(
        violations.is_empty(),
        "{store}: {} violations (seed {seed}); the first: {}",
        violations.len(),
        violations[0]
    );
    assert!(
        unrecovered.is_empty(),
        "{store}: after healing, clients {unrecovered:?} never got a 2xx read through both \
         instances"
    );
}

/// Prints the requests, the faults injected by kind and the outcomes.
fn summarize(store: &str, seed: u64, history: &[Exchange], injected: &BTreeMap<&str, u32>) {
    let (mut ok, mut unavailable, mut other) = (0, 0, 0);
    let mut by_op: BTreeMap<&str, u32> = BTreeMap::new();
    for exchange in history {
        *by_op.entry(exchange.op.name()).or_insert(0) += 1;
        match &exchange.outcome {
            Outcome::Answered { status, .. } if (200..300).contains(status) => ok += 1,
            Outcome::Answered { status: 503, .. } => unavailable += 1,
            _ => other += 1,
        }
    }
    let list = |counts: &BTreeMap<&str, u32>| {
        let items: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        items.join(", ")
    };
    report(&format!(
        "{store}: seed {seed}; {CLIENTS} clients, {} requests ({}): {ok} 2xx, {unavailable} 503, \
         {other} other; faults injected: {}",
        history.len(),
        list(&by_op),
        list(injected)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_keep_the_session_contract_under_faults() {
    let redis = redis_server::RedisServer::start();
    let proxies = proxies(redis.port()).await;
    let mut bases = Vec::new();
    for proxy in &proxies {
        let url = format!("redis://127.0.0.1:{}/", proxy.port());
        bases.push(app::serve(app::redis_router(url).await).await);
    }
    let bases = [bases[0].clone(), bases[1].clone()];
    exercise("redis", bases, &proxies, app::REDIS_COOKIE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_postgres_keep_the_session_contract_under_faults() {
    let postgres = postgres_server::PostgresServer::start();
    let proxies = proxies(postgres.port()).await;
    let mut bases = Vec::new();
    // One after the other: the first creates the table.
    for proxy in &proxies {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", proxy.port());
        bases.push(app::serve(app::postgres_router(url).await).await);
    }
    let bases = [bases[0].clone(), bases[1].clone()];
    exercise("postgres", bases, &proxies, app::POSTGRES_COOKIE).await;
}
