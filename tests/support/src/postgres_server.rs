//! A private PostgreSQL server for tests: its own data directory and a free loopback port,
//! never the system server.
//!
//! The binaries (`initdb`, `pg_ctl`) are taken from `PG_BIN` if set, else from the `PATH`, else
//! from the newest `/usr/lib/postgresql/<version>/bin` (where Debian puts them). PostgreSQL
//! refuses to run as root, so as root the server runs as the `postgres` user (`runuser`), and
//! its directory belongs to that user.
//!
//! `initdb` runs once into a template directory that is kept for later runs; each server starts
//! from a copy of it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::host::{is_root, unique_dir};
use crate::ports::free_port;

/// A running PostgreSQL that is stopped (`pg_ctl stop -m immediate`) and deleted on drop.
pub struct PostgresServer {
    port: u16,
    dir: PathBuf,
    running: bool,
    log_statements: bool,
}

impl PostgresServer {
    /// Starts a server on a free loopback port and waits until it accepts connections.
    pub fn start() -> PostgresServer {
        PostgresServer::start_with(false)
    }

    /// Starts a server that writes every statement it runs, with its parameters, to its log
    /// ([`log`](Self::log)).
    pub fn start_logging_statements() -> PostgresServer {
        PostgresServer::start_with(true)
    }

    fn start_with(log_statements: bool) -> PostgresServer {
        let template = template();
        let port = free_port();
        let dir = unique_dir("pg", port);
        std::fs::create_dir_all(&dir).expect("create a directory for PostgreSQL");
        let copied = Command::new("cp")
            .arg("-a")
            .arg(template.join("data"))
            .arg(dir.join("data"))
            .status()
            .expect("run cp");
        assert!(copied.success(), "copying the PostgreSQL template failed");
        hand_over(&dir);
        let mut server = PostgresServer {
            port,
            dir,
            running: false,
            log_statements,
        };
        // A port found free may be taken again before PostgreSQL binds it: then try another.
        for _ in 0..4 {
            match server.try_start() {
                Ok(()) => return server,
                Err(why) => {
                    eprintln!("PostgreSQL on port {}: {why}; retrying", server.port);
                    server.port = free_port();
                }
            }
        }
        server.restart();
        server
    }

    /// The URL of this server's `postgres` database as the `postgres` user (trust auth).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`): its connections drop. The data
    /// stays on disk and [`restart`](Self::restart) recovers it.
    pub fn stop(&mut self) {
        if self.running {
            self.running = false;
            let out = pg_ctl(&["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
            assert!(out.status.success(), "pg_ctl stop failed: {}", text(&out));
        }
    }

    /// Starts the server again on the same port and data directory (stopping it first if
    /// running) and waits until it accepts connections.
    pub fn restart(&mut self) {
        if let Err(why) = self.try_start() {
            panic!("{why}");
        }
    }

    fn try_start(&mut self) -> Result<(), String> {
        self.stop();
        let socket_dir = self.dir.to_string_lossy().into_owned();
        let mut options = format!(
            "-p {} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c max_connections=60 -c shared_buffers=16MB",
            self.port
        );
        if self.log_statements {
            options.push_str(" -c log_statement=all -c log_min_messages=warning");
        }
        let log = self.dir.join("postgres.log").to_string_lossy().into_owned();
        let out = pg_ctl(&[
            "-D",
            &self.data(),
            "-o",
            &options,
            "-l",
            &log,
            "-t",
            "30",
            "-w",
            "start",
        ]);
        if !out.status.success() {
            // It may have half started: make sure nothing is left running.
            let _ = pg_ctl(&["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
            return Err(format!(
                "pg_ctl start failed: {}\n{}",
                text(&out),
                self.log()
            ));
        }
        self.running = true;
        Ok(())
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if self.running {
            self.running = false;
            let _ = pg_ctl(&["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory holding a fresh `data/` made by `initdb`, copied by every server.
///
/// It is made once per machine, user and PostgreSQL version and kept under the system temp
/// directory (about 40 MB), so later test runs skip `initdb`: it is built beside its final name
/// and renamed into place, so a concurrent test binary either sees it whole or builds its own.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let initdb = bin("initdb");
        let version = Command::new(&initdb)
            .arg("--version")
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
            .unwrap_or_default();
        // "initdb (PostgreSQL) 15.20 (Debian ...)": the first word that starts with a digit.
        let version: String = version
            .split_whitespace()
            .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or("unknown")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let user = if is_root() { "root" } else { "user" };
        let dir =
            std::env::temp_dir().join(format!("session-runtime-pg-template-{user}-{version}"));
        if dir.join("data").join("PG_VERSION").is_file() {
            return dir;
        }
        let building = unique_dir("pg-template-build", 0);
        std::fs::create_dir_all(&building).expect("create a directory for initdb");
        hand_over(&building);
        let data = building.join("data").to_string_lossy().into_owned();
        let out = as_server_user(&initdb)
            .args(["-D", &data, "-A", "trust", "-U", "postgres", "-E", "UTF8"])
            .args(["--no-sync", "--no-locale"])
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run initdb (install postgresql or set PG_BIN): {e}")
            });
        assert!(out.status.success(), "initdb failed: {}", text(&out));
        if std::fs::rename(&building, &dir).is_err() {
            // Another test binary got there first.
            let _ = std::fs::remove_dir_all(&building);
            assert!(
                dir.join("data").join("PG_VERSION").is_file(),
                "no PostgreSQL template at {}",
                dir.display()
            );
        }
        dir
    })
}

fn pg_ctl(args: &[&str]) -> Output {
    as_server_user(&bin("pg_ctl"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run pg_ctl (install postgresql or set PG_BIN): {e}"))
}

/// A command that runs `program` as the user PostgreSQL accepts: this one, or `postgres` when
/// this one is root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// As root, gives `dir` to the `postgres` user (PostgreSQL wants to own its directories).
fn hand_over(dir: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(dir)
            .status()
            .expect("run chown");
        assert!(status.success(), "chown postgres {} failed", dir.display());
    }
}

/// Where a PostgreSQL binary is: `PG_BIN`, the `PATH`, or the newest Debian install.
fn bin(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir).join(name);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let candidate = entry.path().join("bin").join(name);
            candidate.is_file().then_some((version, candidate))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, path)| path)
        .unwrap_or_else(|| PathBuf::from(name))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
