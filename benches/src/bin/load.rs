//! HTTP load on loopback: this library's stores against bare axum, tower-sessions and
//! axum-extra's `PrivateCookieJar`, with the same client load for each.
//!
//! ```text
//! cargo run --release -p session-benches --bin load -- [--seconds N] [--connections C] [--rounds R]
//!     [--warmup-ms M] [--only SHORT,SHORT,...] [--no-write]
//! ```
//!
//! Bare axum and the floor (`session_benches::floor`) always run, whatever `--only` says: every
//! ratio is to one of them.
//!
//! Everything runs in this one process, on one multi-thread tokio runtime with a worker per CPU:
//! the servers (one per contender, each on its own loopback port, all started up front) and the
//! load generator (raw hyper HTTP/1.1 keep-alive connections) share the same workers, so a
//! figure is the throughput of the whole machine for server and client together. Redis runs as a
//! private `redis-server` on a free loopback port.
//!
//! One run is one contender and one route: `C` fresh connections each make one warm-up write
//! (`/login`, which gives the connection its session), wait until all are ready, then loop on
//! the route for `M` milliseconds of warm-up that are not counted and `N` seconds that are.
//! Contenders are interleaved within a round (the order rotates from round to round) and the
//! rounds repeat `R` times, so drift of the machine hits every contender alike; each figure is
//! the median over the rounds, and each ratio is the median of the per-round ratios to bare axum
//! (no cookie) or to the floor (bare axum carrying the cookie contender's cookie bytes, see
//! `session_benches::floor`) in the same round.
//!
//! Afterwards, each Redis contender is served once more through a proxy that counts round trips,
//! and one connection makes sequential requests while `INFO commandstats` deltas count the
//! commands Redis ran.
//!
//! The table goes to stdout and between the `load` markers of `BENCHMARKS.md`; the chart goes to
//! `benches/load.svg` (both skipped with `--no-write`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::serve::ListenerExt;
use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use session_benches::machine::{cpu_model, workspace_root};
use session_benches::{Contender, Route};
use session_test_support::redis_server::{RedisServer, RoundTripProxy};

const BEGIN: &str = "<!-- load:begin -->";
const END: &str = "<!-- load:end -->";
/// No single request may take longer than this; a slower one counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Sequential requests per route in the counting pass.
const COUNTED_REQUESTS: u64 = 200;

struct Args {
    seconds: f64,
    connections: usize,
    rounds: usize,
    warmup_ms: u64,
    only: Option<Vec<String>>,
    write: bool,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            seconds: 3.0,
            connections: 64,
            rounds: 3,
            warmup_ms: 500,
            only: None,
            write: true,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--seconds" => args.seconds = number(&value("--seconds")?)?,
                "--connections" => args.connections = number(&value("--connections")?)?,
                "--rounds" => args.rounds = number(&value("--rounds")?)?,
                "--warmup-ms" => args.warmup_ms = number(&value("--warmup-ms")?)?,
                "--only" => {
                    args.only = Some(
                        value("--only")?
                            .split(',')
                            .map(|s| s.trim().to_owned())
                            .collect(),
                    );
                }
                "--no-write" => args.write = false,
                "-h" | "--help" => {
                    println!(
                        "load [--seconds N] [--connections C] [--rounds R] [--warmup-ms M] \
                         [--only SHORT,...] [--no-write]\ncontenders (short names): {}",
                        Contender::ALL.map(Contender::short).join(", ")
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument `{other}` (try --help)")),
            }
        }
        if !(args.seconds > 0.0 && args.seconds <= 600.0) {
            return Err("--seconds must be in (0, 600]".into());
        }
        if args.connections == 0 || args.connections > 4096 {
            return Err("--connections must be in 1..=4096".into());
        }
        if args.rounds == 0 || args.rounds > 100 {
            return Err("--rounds must be in 1..=100".into());
        }
        Ok(args)
    }

    fn command(&self) -> String {
        let mut c = format!(
            "cargo run --release -p session-benches --bin load -- --seconds {} --connections {} --rounds {}",
            self.seconds, self.connections, self.rounds
        );
        if self.warmup_ms != 500 {
            let _ = write!(c, " --warmup-ms {}", self.warmup_ms);
        }
        if let Some(only) = &self.only {
            let _ = write!(c, " --only '{}'", only.join(","));
        }
        c
    }
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("`{s}` is not a number"))
}

/// One client connection with its cookie jar.
struct Client {
    sender: SendRequest<Empty<Bytes>>,
    jar: Vec<(String, String)>,
    cookie: Option<HeaderValue>,
}

impl Client {
    async fn open(addr: SocketAddr) -> Result<Client, String> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(connection);
        Ok(Client {
            sender,
            jar: Vec::new(),
            cookie: None,
        })
    }

    /// One GET; the answer must be 200. Keeps the cookies the server sets.
    async fn get(&mut self, path: &str) -> Result<(), String> {
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let mut request = Request::get(path).header(header::HOST, "127.0.0.1");
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie.clone());
        }
        let request = request
            .body(Empty::new())
            .map_err(|e| format!("request: {e}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let mut changed = false;
        for line in response.headers().get_all(header::SET_COOKIE) {
            changed |= self.keep(line.to_str().unwrap_or(""));
        }
        if changed {
            let joined = self
                .jar
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            self.cookie = HeaderValue::from_str(&joined).ok();
        }
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{path} body: {e}"))?;
        if status != StatusCode::OK {
            return Err(format!("{path}: status {status}"));
        }
        Ok(())
    }

    /// Applies one `Set-Cookie` line to the jar; whether it changed.
    fn keep(&mut self, line: &str) -> bool {
        let pair = line.split(';').next().unwrap_or("").trim();
        let Some((name, value)) = pair.split_once('=') else {
            return false;
        };
        let removal = value.is_empty() || line.to_ascii_lowercase().contains("max-age=0");
        self.jar.retain(|(n, _)| n != name);
        if !removal {
            self.jar.push((name.to_owned(), value.to_owned()));
        }
        true
    }
}

/// What one run measured.
#[derive(Clone, Copy, Debug, Default)]
struct Run {
    errors: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU time of this process (server and client), and of Redis for its contenders, per request.
    cpu_us: f64,
}

/// One run: `connections` clients on `route`, `warmup` not counted, then `seconds` counted.
async fn run(
    addr: SocketAddr,
    route: Route,
    args: &Args,
    redis_pid: Option<u32>,
) -> Result<Run, String> {
    let barrier = Arc::new(tokio::sync::Barrier::new(args.connections + 1));
    let start: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let warmup = Duration::from_millis(args.warmup_ms);
    let window = Duration::from_secs_f64(args.seconds);
    let mut tasks = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let barrier = barrier.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let setup = async {
                let mut client = Client::open(addr).await?;
                client.get("/login").await?;
                Ok::<_, String>(client)
            }
            .await;
            // Everyone reaches the barrier, even after a failed setup, so nobody waits forever.
            barrier.wait().await;
            let mut client = setup?;
            let begin = *start.get_or_init(Instant::now);
            let from = begin + warmup;
            let end = from + window;
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let result = tokio::time::timeout(REQUEST_TIMEOUT, client.get(route.path())).await;
                let t1 = Instant::now();
                let counted = t1 >= from && t1 <= end;
                match result {
                    Ok(Ok(())) => {
                        if counted {
                            latencies.push((t1 - t0).as_nanos() as u64);
                        }
                    }
                    Ok(Err(e)) => {
                        if counted {
                            errors += 1;
                        }
                        if client.sender.is_closed() {
                            return Err(e);
                        }
                    }
                    Err(_) => return Err(format!("{}: no answer within 10 s", route.path())),
                }
            }
            Ok::<_, String>((latencies, errors))
        }));
    }
    // This task measures CPU time over the counted window, for this process and for Redis.
    barrier.wait().await;
    let begin = *start.get_or_init(Instant::now);
    tokio::time::sleep_until((begin + warmup).into()).await;
    let cpu_before = cpu_seconds(std::process::id()) + redis_pid.map_or(0.0, cpu_seconds);
    tokio::time::sleep_until((begin + warmup + window).into()).await;
    let cpu_after = cpu_seconds(std::process::id()) + redis_pid.map_or(0.0, cpu_seconds);
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut failure = None;
    for task in tasks {
        match task.await.map_err(|e| e.to_string()) {
            Ok(Ok((l, e))) => {
                latencies.extend(l);
                errors += e;
            }
            Ok(Err(e)) | Err(e) => failure = Some(e),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len() - 1);
        latencies[i] as f64 / 1e6
    };
    Ok(Run {
        errors,
        rps: latencies.len() as f64 / args.seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        cpu_us: (cpu_after - cpu_before) * 1e6 / latencies.len().max(1) as f64,
    })
}

/// User and system CPU time of a process so far, in seconds (from `/proc/PID/stat`; 0 where
/// that cannot be read).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The fields after the command name, which is in parentheses and may contain spaces.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|t| t.parse::<f64>().ok()).sum()
    });
    ticks / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The process id of the Redis server, from `INFO server`.
async fn redis_pid(url: &str) -> Result<u32, String> {
    let mut con = redis::Client::open(url)
        .map_err(|e| e.to_string())?
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("connect to redis: {e}"))?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut con)
        .await
        .map_err(|e| format!("INFO server: {e}"))?;
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| "INFO server has no process_id".to_owned())
}

async fn serve(router: Router) -> Result<SocketAddr, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(addr)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The medians of one contender and route over the rounds.
#[derive(Clone, Debug)]
struct Row {
    contender: Contender,
    route: Route,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    rps_ratio: f64,
    rps_floor: f64,
    p50_ratio: f64,
    p99_ratio: f64,
    cpu_us: f64,
    cpu_ratio: f64,
    cpu_floor: f64,
    errors: u64,
}

/// What the counting pass found for one Redis contender and route.
#[derive(Clone, Debug)]
struct Counted {
    contender: Contender,
    route: &'static str,
    commands: f64,
    breakdown: String,
    round_trips: f64,
}

async fn commandstats(
    con: &mut redis::aio::MultiplexedConnection,
) -> Result<BTreeMap<String, u64>, String> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(con)
        .await
        .map_err(|e| format!("INFO commandstats: {e}"))?;
    let mut stats = BTreeMap::new();
    for line in info.lines() {
        let Some(rest) = line.strip_prefix("cmdstat_") else {
            continue;
        };
        let Some((name, fields)) = rest.split_once(':') else {
            continue;
        };
        let calls = fields
            .split(',')
            .find_map(|f| f.strip_prefix("calls="))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        stats.insert(name.to_owned(), calls);
    }
    Ok(stats)
}

fn delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter(|(name, _)| name.as_str() != "info")
        .map(|(name, &n)| (name.clone(), n - before.get(name).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Serves `contender` through a round-trip counting proxy and counts, per request, the
/// commands Redis ran and the round trips, for a new session and for each route.
async fn count_redis(
    contender: Contender,
    redis: &RedisServer,
    proxy: &RoundTripProxy,
) -> Result<Vec<Counted>, String> {
    let mut con = redis::Client::open(redis.url())
        .map_err(|e| e.to_string())?
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("connect to redis: {e}"))?;
    let addr = serve(contender.router(Some(&proxy.url())).await?).await?;
    let mut client = Client::open(addr).await?;
    let mut counted = Vec::new();
    let mut measure = async |label: &'static str, path: &str, n: u64, client: &mut Client| {
        let before = commandstats(&mut con).await?;
        let trips = proxy.round_trips();
        for _ in 0..n {
            client.get(path).await?;
        }
        let trips = proxy.round_trips() - trips;
        let d = delta(&before, &commandstats(&mut con).await?);
        let total: u64 = d.values().sum();
        let breakdown = d
            .iter()
            .map(|(name, calls)| {
                format!(
                    "{} {}",
                    name.to_uppercase(),
                    fmt_count(*calls as f64 / n as f64)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        counted.push(Counted {
            contender,
            route: label,
            commands: total as f64 / n as f64,
            breakdown,
            round_trips: trips as f64 / n as f64,
        });
        Ok::<_, String>(())
    };
    measure("new session", "/login", 1, &mut client).await?;
    // One write first, so that scripts are loaded before counting.
    client.get("/write").await?;
    measure("read", "/read", COUNTED_REQUESTS, &mut client).await?;
    measure("write", "/write", COUNTED_REQUESTS, &mut client).await?;
    Ok(counted)
}

fn fmt_count(x: f64) -> String {
    if (x - x.round()).abs() < 0.005 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.2}")
    }
}

fn redis_available() -> bool {
    let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    std::process::Command::new(binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn redis_version() -> String {
    let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    std::process::Command::new(binary)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| {
            s.split_whitespace()
                .find_map(|w| w.strip_prefix("v=").map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The locked version of a crate, from `Cargo.lock`.
fn locked_version(lock: &str, name: &str) -> String {
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|i| lock[i + needle.len()..].split('"').next())
        .unwrap_or("?")
        .to_owned()
}

fn fmt_ratio(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "–".into()
    }
}

fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| contender | route | requests/s | × bare | × floor | p50 ms | × bare | p99 ms | × bare | CPU µs/request | × bare | × floor | errors |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            t,
            "| {} | {} | {:.0} | {} | {} | {:.2} | {} | {:.2} | {} | {:.1} | {} | {} | {} |",
            r.contender.name(),
            r.route.name(),
            r.rps,
            fmt_ratio(r.rps_ratio),
            fmt_ratio(r.rps_floor),
            r.p50_ms,
            fmt_ratio(r.p50_ratio),
            r.p99_ms,
            fmt_ratio(r.p99_ratio),
            r.cpu_us,
            fmt_ratio(r.cpu_ratio),
            fmt_ratio(r.cpu_floor),
            r.errors
        );
    }
    t
}

fn counted_table(counted: &[Counted]) -> String {
    let mut t = String::from(
        "| contender | request | Redis commands per request | commands | round trips per request |\n\
         |---|---|---:|---|---:|\n",
    );
    for c in counted {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} |",
            c.contender.name(),
            c.route,
            fmt_count(c.commands),
            c.breakdown,
            fmt_count(c.round_trips)
        );
    }
    t
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart of requests/s relative to bare axum, two bars (read, write) per
/// contender.
fn svg(rows: &[Row], subtitle: &str) -> String {
    let contenders: Vec<Contender> = Contender::ALL
        .into_iter()
        .filter(|c| rows.iter().any(|r| r.contender == *c))
        .collect();
    let max = rows
        .iter()
        .map(|r| r.rps_ratio)
        .filter(|x| x.is_finite())
        .fold(1.0f64, f64::max);
    let top = (max * 5.0).ceil() / 5.0;
    let (label_w, plot_w, bar_h, gap, group_gap) = (210.0, 560.0, 16.0, 2.0, 14.0);
    let (top_margin, bottom_margin) = (64.0, 40.0);
    let group_h = 2.0 * bar_h + gap + group_gap;
    let height = top_margin + group_h * contenders.len() as f64 + bottom_margin;
    let width = label_w + plot_w + 70.0;
    let x = |ratio: f64| label_w + plot_w * ratio / top;
    let colors = [(Route::Read, "#4c78a8"), (Route::Write, "#f58518")];
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="20" font-size="15" font-weight="bold">Requests/s relative to bare axum (1.0 = no session)</text>"#,
        label_w
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="38" fill="#555">{}</text>"##,
        label_w,
        escape(subtitle)
    );
    // Legend.
    for (i, (route, color)) in colors.iter().enumerate() {
        let lx = label_w + i as f64 * 90.0;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="46" width="12" height="10" fill="{color}"/><text x="{}" y="55">{}</text>"#,
            lx + 16.0,
            route.name()
        );
    }
    // Grid.
    let plot_bottom = height - bottom_margin;
    let mut tick = 0.0;
    while tick <= top + 1e-9 {
        let gx = x(tick);
        let stroke = if (tick - 1.0).abs() < 1e-9 {
            "#333"
        } else {
            "#ddd"
        };
        let _ = writeln!(
            s,
            r#"<line x1="{gx:.1}" y1="{top_margin}" x2="{gx:.1}" y2="{plot_bottom}" stroke="{stroke}"/>"#
        );
        let _ = writeln!(
            s,
            r#"<text x="{gx:.1}" y="{}" text-anchor="middle">{tick:.1}</text>"#,
            plot_bottom + 16.0
        );
        tick += 0.2;
    }
    for (gi, contender) in contenders.iter().enumerate() {
        let gy = top_margin + gi as f64 * group_h + group_gap / 2.0;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            gy + bar_h + gap / 2.0 + 4.0,
            escape(contender.name())
        );
        for (bi, (route, color)) in colors.iter().enumerate() {
            let Some(row) = rows
                .iter()
                .find(|r| r.contender == *contender && r.route == *route)
            else {
                continue;
            };
            let ratio = if row.rps_ratio.is_finite() {
                row.rps_ratio
            } else {
                0.0
            };
            let by = gy + bi as f64 * (bar_h + gap);
            let _ = writeln!(
                s,
                r#"<rect x="{label_w}" y="{by:.1}" width="{:.1}" height="{bar_h}" fill="{color}"><title>{} {}: {:.0} requests/s, {:.2} × bare</title></rect>"#,
                x(ratio) - label_w,
                escape(contender.name()),
                route.name(),
                row.rps,
                ratio
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}">{ratio:.2}</text>"#,
                x(ratio) + 4.0,
                by + bar_h - 4.0
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

/// Replaces the text between the markers of `BENCHMARKS.md`, or appends it with the markers.
fn write_section(path: &Path, section: &str) -> Result<(), String> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{section}{END}\n");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => {
            let after = &old[e + END.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{block}{after}", &old[..b])
        }
        _ if old.is_empty() => format!("# Benchmarks\n\n{block}"),
        _ => format!("{}\n{block}", old.trim_end_matches('\n').to_owned() + "\n"),
    };
    std::fs::write(path, new).map_err(|e| format!("write {}: {e}", path.display()))
}

#[tokio::main]
async fn main() {
    if let Err(e) = real_main().await {
        eprintln!("load: {e}");
        std::process::exit(1);
    }
}

async fn real_main() -> Result<(), String> {
    let args = Args::parse()?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut contenders: Vec<Contender> = Contender::ALL
        .into_iter()
        .filter(|c| {
            c.is_baseline()
                || args
                    .only
                    .as_ref()
                    .is_none_or(|only| only.iter().any(|o| o == c.short()))
        })
        .collect();
    let redis = if contenders.iter().any(|c| c.uses_redis()) {
        if redis_available() {
            Some(RedisServer::start())
        } else {
            eprintln!("redis-server not found: the Redis contenders are left out");
            contenders.retain(|c| !c.uses_redis());
            None
        }
    } else {
        None
    };
    let redis_url = redis.as_ref().map(RedisServer::url);
    let redis_pid = match &redis_url {
        Some(url) => Some(redis_pid(url).await?),
        None => None,
    };

    let mut servers = Vec::new();
    for &c in &contenders {
        let router = c
            .router(redis_url.as_deref())
            .await
            .map_err(|e| format!("{}: {e}", c.name()))?;
        servers.push((c, serve(router).await?));
    }
    eprintln!(
        "{} contenders × {} routes × {} rounds, {} connections, {} ms warm-up + {} s each; {workers} runtime workers",
        contenders.len(),
        Route::ALL.len(),
        args.rounds,
        args.connections,
        args.warmup_ms,
        args.seconds
    );

    // results[(contender index, route)] = one Run per round.
    let mut results: BTreeMap<(usize, Route), Vec<Run>> = BTreeMap::new();
    for round in 0..args.rounds {
        for route in Route::ALL {
            for k in 0..servers.len() {
                let i = (k + round) % servers.len();
                let (c, addr) = servers[i];
                let pid = if c.uses_redis() { redis_pid } else { None };
                let r = run(addr, route, &args, pid)
                    .await
                    .map_err(|e| format!("{} {}: {e}", c.name(), route.name()))?;
                eprintln!(
                    "round {} {:<30} {:<5} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  cpu {:>5.1} µs/req  errors {}",
                    round + 1,
                    c.name(),
                    route.name(),
                    r.rps,
                    r.p50_ms,
                    r.p99_ms,
                    r.cpu_us,
                    r.errors
                );
                results.entry((i, route)).or_default().push(r);
            }
        }
    }

    let bare = contenders
        .iter()
        .position(|c| *c == Contender::Bare)
        .ok_or("bare axum is always measured")?;
    let floor = contenders
        .iter()
        .position(|c| *c == Contender::Floor)
        .ok_or("the floor is always measured")?;
    let mut rows = Vec::new();
    for (i, &c) in contenders.iter().enumerate() {
        for route in Route::ALL {
            let runs = &results[&(i, route)];
            let ratio_to = |base: usize, f: fn(&Run) -> f64| {
                let base = &results[&(base, route)];
                median(runs.iter().zip(base).map(|(r, b)| f(r) / f(b)).collect())
            };
            let ratio = |f: fn(&Run) -> f64| ratio_to(bare, f);
            rows.push(Row {
                contender: c,
                route,
                rps: median(runs.iter().map(|r| r.rps).collect()),
                p50_ms: median(runs.iter().map(|r| r.p50_ms).collect()),
                p99_ms: median(runs.iter().map(|r| r.p99_ms).collect()),
                rps_ratio: ratio(|r| r.rps),
                rps_floor: ratio_to(floor, |r| r.rps),
                p50_ratio: ratio(|r| r.p50_ms),
                p99_ratio: ratio(|r| r.p99_ms),
                cpu_us: median(runs.iter().map(|r| r.cpu_us).collect()),
                cpu_ratio: ratio(|r| r.cpu_us),
                cpu_floor: ratio_to(floor, |r| r.cpu_us),
                errors: runs.iter().map(|r| r.errors).sum(),
            });
        }
    }

    let mut counted = Vec::new();
    if let Some(redis) = &redis {
        let proxy = RoundTripProxy::start(redis.port()).await;
        for &c in contenders.iter().filter(|c| c.uses_redis()) {
            counted.extend(
                count_redis(c, redis, &proxy)
                    .await
                    .map_err(|e| format!("{} counting pass: {e}", c.name()))?,
            );
        }
    }

    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap_or_default();
    let versions = format!(
        "axum {}, axum-extra {}, tower-sessions {}, tower-sessions-redis-store {} (fred {}), \
         redis-server {}",
        locked_version(&lock, "axum"),
        locked_version(&lock, "axum-extra"),
        locked_version(&lock, "tower-sessions"),
        locked_version(&lock, "tower-sessions-redis-store"),
        locked_version(&lock, "fred"),
        if redis.is_some() {
            redis_version()
        } else {
            "not run".into()
        },
    );
    let machine = format!("{workers} CPUs (`nproc`), {}", cpu_model());
    let main_table = table(&rows);
    let counts = counted_table(&counted);

    let mut section = String::new();
    let _ = writeln!(section, "## HTTP load\n");
    let _ = writeln!(
        section,
        "Written by the command below; do not edit by hand between the markers.\n"
    );
    let _ = writeln!(section, "```sh\n{}\n```\n", args.command());
    let _ = writeln!(section, "- machine: {machine}");
    let _ = writeln!(section, "- versions: {versions}");
    let _ = writeln!(
        section,
        "- load: {} keep-alive HTTP/1.1 connections per run, each with its own session \
         (one warm-up write to `/login`), {} ms of warm-up then {} s counted, per contender and \
         route; {} rounds, contenders interleaved in a rotating order; figures are medians over \
         the rounds, and ratios are medians of the per-round ratios to bare axum (no cookie) \
         or to the floor (bare axum receiving a `Cookie` header as large as the cookie \
         contender's and answering `Set-Cookie` lines of the same lengths on the same routes)",
        args.connections, args.warmup_ms, args.seconds, args.rounds
    );
    let _ = writeln!(
        section,
        "- server and load generator share one multi-thread tokio runtime with {workers} workers \
         in one process (raw hyper HTTP/1.1 client); the Redis contenders talk to a private \
         `redis-server` on loopback, which competes for the same CPUs"
    );
    let _ = writeln!(
        section,
        "- CPU µs/request: user and system CPU time of this process (server and client \
         together) over the counted window, plus that of `redis-server` for the Redis \
         contenders, divided by the requests answered; it depends much less than requests/s on \
         what else the machine runs at the time\n"
    );
    let _ = writeln!(section, "{main_table}");
    let _ = writeln!(
        section,
        "![requests/s relative to bare axum](benches/load.svg)\n"
    );
    if !counted.is_empty() {
        let _ = writeln!(
            section,
            "Redis work per request, counted after the timed runs by serving each Redis contender \
             again through a proxy that counts round trips, with one connection making {} \
             sequential requests per route (`INFO commandstats` deltas for the commands):\n",
            COUNTED_REQUESTS
        );
        let _ = writeln!(section, "{counts}");
    }

    println!("{section}");
    if args.write {
        let root = workspace_root();
        write_section(&root.join("BENCHMARKS.md"), &section)?;
        let subtitle = format!(
            "{} connections, {} s × {} rounds, median; {}",
            args.connections,
            args.seconds,
            args.rounds,
            machine.replace('`', "")
        );
        let chart = root.join("benches").join("load.svg");
        std::fs::write(&chart, svg(&rows, &subtitle))
            .map_err(|e| format!("write {}: {e}", chart.display()))?;
        eprintln!("wrote BENCHMARKS.md and benches/load.svg");
    }
    Ok(())
}
