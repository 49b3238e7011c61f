//! Instructions and allocations per request, in process: a measure the shared machine's noise
//! does not move.
//!
//! ```text
//! cargo run --release -p session-benches --bin instructions -- --table [--only SHORT,...]
//!     [--counts N,M] [--write]
//! ```
//!
//! For every contender and route, this program runs itself under
//! `valgrind --tool=callgrind` twice: each run builds the contender's router, logs in once,
//! makes [`WARMUP`] requests of the route and then `N` (or `M`) more, all with
//! `tower::ServiceExt::oneshot` on a current-thread tokio runtime. The figure is
//! `(I_M - I_N) / (M - N)`, the marginal instructions of one request: start-up, the router's
//! construction, the log-in and the warm-up are the same in both runs and cancel out.
//!
//! Whole-program totals, not a callgrind toggle around the request loop: the loop is an `async`
//! block, and the work of a request also runs outside its polls (the reactor, and the tasks
//! that drive a Redis connection), which a toggle would leave out; the difference of two
//! totals counts all of it and needs no valgrind headers at build time. Work done by
//! `redis-server` itself is another process and is not counted.
//!
//! Allocations come from a counting global allocator (`stats_alloc`) on a native run of the same
//! loop. It counts under valgrind too: a few instructions per allocator call, for every
//! contender alike.
//!
//! The callgrind output files stay in `target/callgrind/` for `callgrind_annotate`.

use std::alloc::System;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use session_benches::client::Jar;
use session_benches::floor::CookieBytes;
use session_benches::machine::{cpu_model, workspace_root};
use session_benches::{Contender, Route};
use session_test_support::redis_server::RedisServer;
use stats_alloc::{INSTRUMENTED_SYSTEM, Stats, StatsAlloc};

/// Requests made after the log-in and before the counted ones, in every run.
const WARMUP: u64 = 20;
/// The default request counts `N` and `M`.
const COUNTS: (u64, u64) = (100, 1100);
const BEGIN: &str = "<!-- instructions:begin -->";
const END: &str = "<!-- instructions:end -->";

/// The system allocator, counting every call (a few instructions each, under valgrind too,
/// for every contender alike).
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocator calls (`alloc`, `alloc_zeroed`, `realloc`) since a snapshot, and the bytes they
/// asked for (a `realloc` by what it grew).
fn allocated(since: &Stats) -> (u64, u64) {
    let now = ALLOCATOR.stats();
    let calls = now.allocations + now.reallocations - since.allocations - since.reallocations;
    (
        calls as u64,
        (now.bytes_allocated - since.bytes_allocated) as u64,
    )
}

fn contender(short: &str) -> Result<Contender, String> {
    Contender::ALL
        .into_iter()
        .find(|c| c.short() == short)
        .ok_or_else(|| format!("unknown contender `{short}`"))
}

/// The goals: instructions per request over the floor, read and write.
fn goal(c: Contender) -> Option<(f64, f64)> {
    match c {
        Contender::Cookie => Some((11_000.0, 17_000.0)),
        Contender::Memory => Some((11_000.0, 15_000.0)),
        _ => None,
    }
}

/// The marginal instructions of one request: `(I_M - I_N) / (M - N)`.
fn marginal((n, i_n): (u64, u64), (m, i_m): (u64, u64)) -> f64 {
    (i_m as f64 - i_n as f64) / (m as f64 - n as f64)
}

/// `summary:` (or `totals:`) of a callgrind output file: the instructions of the whole run.
fn callgrind_total(out: &str) -> Option<u64> {
    out.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Makes the log-in, the warm-up and `k` requests of `route`; returns the allocations and bytes
/// allocated by the `k` requests.
fn drive(
    c: Contender,
    route: Route,
    k: u64,
    redis_url: Option<&str>,
) -> Result<(u64, u64), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let app = c.router(redis_url).await?;
        let mut jar = Jar::default();
        jar.get(&app, "/login").await?;
        for _ in 0..WARMUP {
            jar.get(&app, route.path()).await?;
        }
        let before = ALLOCATOR.stats();
        for _ in 0..k {
            jar.get(&app, route.path()).await?;
        }
        Ok(allocated(&before))
    })
}

struct Args {
    only: Option<Vec<String>>,
    counts: (u64, u64),
    write: bool,
}

impl Args {
    fn parse(args: &[String]) -> Result<Args, String> {
        let mut parsed = Args {
            only: None,
            counts: COUNTS,
            write: false,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--table" => {}
                "--write" => parsed.write = true,
                "--only" => {
                    let list = value("--only")?.split(',').map(|s| s.trim().to_owned());
                    parsed.only = Some(list.collect());
                }
                "--counts" => {
                    let v = value("--counts")?;
                    let (n, m) = v.split_once(',').ok_or("--counts takes N,M")?;
                    parsed.counts = (number(n)?, number(m)?);
                }
                "-h" | "--help" => {
                    println!(
                        "instructions --table [--only SHORT,...] [--counts N,M] [--write]\n\
                         contenders (short names): {}",
                        Contender::ALL.map(Contender::short).join(", ")
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument `{other}` (try --help)")),
            }
        }
        if parsed.counts.0 >= parsed.counts.1 {
            return Err("--counts N,M needs N < M".into());
        }
        Ok(parsed)
    }

    fn contenders(&self) -> Result<Vec<Contender>, String> {
        let mut list = vec![Contender::Floor];
        for c in Contender::ALL {
            let wanted = self
                .only
                .as_ref()
                .is_none_or(|only| only.iter().any(|o| o == c.short()));
            if wanted && c != Contender::Floor {
                list.push(c);
            }
        }
        if let Some(only) = &self.only {
            only.iter().try_for_each(|o| contender(o).map(drop))?;
        }
        Ok(list)
    }
}

fn number(s: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))
}

/// One row of the table.
struct Row {
    contender: Contender,
    route: Route,
    instructions: f64,
    over_floor: f64,
    allocations: f64,
    bytes: f64,
}

/// Runs this program under callgrind for `k` requests; the instructions of the whole run.
fn callgrind(
    dir: &Path,
    c: Contender,
    route: Route,
    k: u64,
    redis_url: Option<&str>,
) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let file = dir.join(format!(
        "{}-{}-{k}.out",
        c.short().replace([' ', '+'], "_"),
        route.name()
    ));
    let mut command = Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(&exe)
        .args(["--drive", c.short(), route.name(), &k.to_string()]);
    if let Some(url) = redis_url {
        command.arg(url);
    }
    let output = command.output().map_err(|e| format!("run valgrind: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "valgrind {} {} {k}: {}",
            c.short(),
            route.name(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let out = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    callgrind_total(&out).ok_or_else(|| format!("{}: no total", file.display()))
}

fn measure(args: &Args, dir: &Path, redis_url: Option<&str>) -> Result<Vec<Row>, String> {
    let (n, m) = args.counts;
    let mut rows: Vec<Row> = Vec::new();
    for c in args.contenders()? {
        for route in Route::ALL {
            let i_n = callgrind(dir, c, route, n, redis_url)?;
            let i_m = callgrind(dir, c, route, m, redis_url)?;
            let instructions = marginal((n, i_n), (m, i_m));
            let (allocations, bytes) = drive(c, route, m - n, redis_url)?;
            let floor = rows
                .iter()
                .find(|r| r.contender == Contender::Floor && r.route == route)
                .map_or(instructions, |r| r.instructions);
            let per = |x: u64| x as f64 / (m - n) as f64;
            eprintln!(
                "{:<34} {:<5} {instructions:>9.0} instructions/request",
                c.name(),
                route.name()
            );
            rows.push(Row {
                contender: c,
                route,
                instructions,
                over_floor: instructions - floor,
                allocations: per(allocations),
                bytes: per(bytes),
            });
        }
    }
    Ok(rows)
}

fn thousands(x: f64) -> String {
    format!("{:.1}k", x / 1000.0)
}

fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| contender | route | instructions/request | over the floor | goal over the floor | \
         allocations/request | bytes allocated/request |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let goal = goal(r.contender).map_or_else(String::new, |(read, write)| {
            let limit = if r.route == Route::Read { read } else { write };
            let verdict = if r.over_floor <= limit {
                "met"
            } else {
                "missed"
            };
            format!("≤ {} ({verdict})", thousands(limit))
        });
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {goal} | {:.1} | {:.0} |",
            r.contender.name(),
            r.route.name(),
            thousands(r.instructions),
            if r.contender == Contender::Floor {
                "–".to_owned()
            } else {
                format!("{:+.1}k", r.over_floor / 1000.0)
            },
            r.allocations,
            r.bytes
        );
    }
    t
}

fn tool_version(program: &str, arg: &str) -> String {
    Command::new(program)
        .arg(arg)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".into(), |s| s.trim().to_owned())
}

/// The commit measured, marked when the work tree differs from it (other than this file).
fn commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(workspace_root())
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_default();
    let changed = git(&["status", "--porcelain", "--", ".", ":!BENCHMARKS.md"]);
    match changed {
        _ if head.is_empty() => "unknown".into(),
        Some(c) if !c.is_empty() => format!("`{head}` with uncommitted changes"),
        _ => format!("`{head}`"),
    }
}

/// What the floor carries, in words: the sizes it copies and the routes it sets a cookie on.
fn floor_note(bytes: &CookieBytes) -> String {
    let lengths = |lines: &[String]| {
        if lines.is_empty() {
            "no `Set-Cookie`".to_owned()
        } else {
            let l: Vec<String> = lines.iter().map(|l| l.len().to_string()).collect();
            format!("`Set-Cookie` of {} bytes", l.join(" + "))
        }
    };
    format!(
        "a `Cookie` header of {} bytes on every request; `/read` answers {}, `/write` {}",
        bytes.cookie.len(),
        lengths(&bytes.read),
        lengths(&bytes.write)
    )
}

fn section(args: &Args, rows: &[Row], bytes: &CookieBytes, redis: Option<&str>) -> String {
    let (n, m) = args.counts;
    let mut s = String::from("## Instructions per request\n\n");
    s.push_str("Written by the command below; do not edit by hand between the markers.\n\n");
    let _ = writeln!(
        s,
        "```sh\ncargo run --release -p session-benches --bin instructions -- --table --write\n```\n"
    );
    let _ = writeln!(
        s,
        "- measured: commit {}, {}",
        commit(),
        tool_version("date", "-u")
    );
    let _ = writeln!(
        s,
        "- machine: {} CPUs (`nproc`), {}; {}, {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model(),
        tool_version("valgrind", "--version"),
        tool_version("rustc", "--version")
    );
    if let Some(redis) = redis {
        let _ = writeln!(s, "- Redis: {redis} (its own instructions are not counted)");
    }
    let _ = writeln!(
        s,
        "- instructions: `valgrind --tool=callgrind`, whole program, `(I_M - I_N) / (M - N)` \
         with N = {n} and M = {m} requests after a log-in and {WARMUP} warm-up requests, one \
         route per run, `tower::ServiceExt::oneshot` on a current-thread tokio runtime, release \
         build; the in-process client (building the request, keeping the cookie) is counted \
         for every contender alike"
    );
    let _ = writeln!(
        s,
        "- allocations: a counting global allocator on a native run of {} requests (`alloc`, \
         `alloc_zeroed` and `realloc` calls; bytes as requested, a `realloc` by what it grew)",
        m - n
    );
    let _ = writeln!(s, "- the floor carries {}\n", floor_note(bytes));
    s.push_str(&table(rows));
    s
}

/// Replaces the text between the markers of `BENCHMARKS.md`, or appends it with the markers.
fn write_section(path: &Path, section: &str) -> Result<(), String> {
    let old = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let block = format!("{BEGIN}\n{section}{END}\n");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => {
            let after = &old[e + END.len()..];
            format!(
                "{}{block}{}",
                &old[..b],
                after.strip_prefix('\n').unwrap_or(after)
            )
        }
        _ => format!("{}\n\n{block}", old.trim_end_matches('\n')),
    };
    std::fs::write(path, new).map_err(|e| format!("write {}: {e}", path.display()))
}

fn report(args: &Args) -> Result<(), String> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        return Err("valgrind not found".into());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/instructions -> target/callgrind
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .map_or_else(std::env::temp_dir, Path::to_path_buf)
        .join("callgrind");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let needs_redis = args.contenders()?.iter().any(|c| c.uses_redis());
    let redis = needs_redis.then(RedisServer::start);
    let redis_url = redis.as_ref().map(RedisServer::url);
    let rows = measure(args, &dir, redis_url.as_deref())?;
    let bytes = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(CookieBytes::measure())?;
    let redis_version = redis
        .is_some()
        .then(|| tool_version("redis-server", "--version"));
    let section = section(args, &rows, &bytes, redis_version.as_deref());
    println!("{section}");
    eprintln!("callgrind output: {}", dir.display());
    if args.write {
        write_section(&workspace_root().join("BENCHMARKS.md"), &section)?;
        eprintln!("wrote BENCHMARKS.md");
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        // The program callgrind runs: `--drive SHORT ROUTE K [REDIS_URL]`.
        Some("--drive") => (|| {
            let c = contender(args.get(1).ok_or("--drive needs a contender")?)?;
            let route = Route::parse(args.get(2).ok_or("--drive needs a route")?)?;
            let k = number(args.get(3).ok_or("--drive needs a count")?)?;
            drive(c, route, k, args.get(4).map(String::as_str)).map(drop)
        })(),
        _ => Args::parse(&args).and_then(|a| report(&a)),
    };
    if let Err(e) = result {
        eprintln!("instructions: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marginal_cost_excludes_what_both_runs_share() {
        // 5,000 of set-up, 40 per request.
        assert_eq!(marginal((100, 9_000), (1_100, 49_000)), 40.0);
    }

    #[test]
    fn callgrind_total_is_read_from_the_summary() {
        let out = "version: 1\nevents: Ir\nfn=main\n1 5\nsummary: 123456\ntotals: 123456\n";
        assert_eq!(callgrind_total(out), Some(123_456));
        assert_eq!(callgrind_total("events: Ir\n"), None);
    }

    #[test]
    fn the_table_gives_the_cost_over_the_floor_and_the_goal() {
        let row = |contender, route, instructions: f64, floor: f64| Row {
            contender,
            route,
            instructions,
            over_floor: instructions - floor,
            allocations: 3.0,
            bytes: 512.0,
        };
        let t = table(&[
            row(Contender::Floor, Route::Read, 11_100.0, 11_100.0),
            row(Contender::Cookie, Route::Read, 33_200.0, 11_100.0),
            row(Contender::Memory, Route::Write, 25_000.0, 16_700.0),
        ]);
        assert!(
            t.contains("| floor (bare axum + cookie bytes) | read | 11.1k | – |  | 3.0 | 512 |")
        );
        assert!(t.contains("| 33.2k | +22.1k | ≤ 11.0k (missed) |"), "{t}");
        assert!(t.contains("| 25.0k | +8.3k | ≤ 15.0k (met) |"), "{t}");
    }
}
