//! A private memcached for tests, on a free loopback port (never a system one on 11211).
//!
//! The binary is `MEMCACHED` if set, else `memcached` from the `PATH`. memcached refuses to run
//! as root unless told which user to become, so as root it runs as `nobody`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::host::{is_root, unique_dir};
use crate::ports::free_port;

/// A running memcached, killed on drop.
pub struct MemcachedServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    verbose: bool,
}

impl MemcachedServer {
    /// Starts a server on a free loopback port and waits until it answers `version`.
    pub fn start() -> MemcachedServer {
        MemcachedServer::start_with(false)
    }

    /// Starts a server that writes every command it receives to its log ([`log`](Self::log)).
    pub fn start_verbose() -> MemcachedServer {
        MemcachedServer::start_with(true)
    }

    fn start_with(verbose: bool) -> MemcachedServer {
        // A port found free may be taken again before memcached binds it: then try another.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let port = free_port();
            let dir = unique_dir("memcached", port);
            std::fs::create_dir_all(&dir).expect("create a temporary directory for memcached");
            let mut server = MemcachedServer {
                port,
                dir,
                child: None,
                verbose,
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(why) if attempts < 5 => eprintln!("memcached on port {port}: {why}; retrying"),
                Err(why) => panic!("{why}"),
            }
        }
    }

    /// The URL of this server.
    pub fn url(&self) -> String {
        format!("memcache://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the server wrote to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("memcached.log")).unwrap_or_default()
    }

    /// Kills the server with SIGKILL; its data is lost.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (stopping it first if running), empty, and
    /// waits until it answers.
    pub fn restart(&mut self) {
        if let Err(why) = self.spawn() {
            panic!("{why}");
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        self.stop();
        let binary = std::env::var("MEMCACHED").unwrap_or_else(|_| "memcached".into());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("memcached.log"))
            .expect("open memcached.log");
        let mut command = Command::new(&binary);
        command
            .args(["-l", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(["-U", "0", "-m", "64", "-t", "2", "-c", "256"]);
        if is_root() {
            command.args(["-u", "nobody"]);
        }
        if self.verbose {
            command.arg("-vv");
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} (install memcached or set MEMCACHED): {e}")
            });
        self.child = Some(child);
        self.wait_ready()
    }

    /// Freezes the server (SIGSTOP): it keeps its connections but answers nothing.
    pub fn pause(&self) {
        self.signal("-STOP");
        // The stop is delivered asynchronously: wait until the kernel reports it stopped.
        let pid = self.child.as_ref().map_or(0, Child::id);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !is_stopped(pid) {
            assert!(Instant::now() < deadline, "memcached {pid} did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Lets a paused server run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("memcached is running");
        let status = Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits until this very process answers on the port (not another server that holds it).
    fn wait_ready(&mut self) -> Result<(), String> {
        let pid = self.child.as_ref().map_or(0, Child::id);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if server_pid(self.port) == Some(pid) {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                return Err(format!("memcached exited with {status}:\n{}", self.log()));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "memcached on port {} did not answer within 10 s",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for MemcachedServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused server would not die of SIGKILL any later, but let it run first anyway.
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(child.id().to_string())
                .status();
        }
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The process id a memcached on `port` reports (`stats`), if one answers.
fn server_pid(port: u16) -> Option<u32> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    stream.write_all(b"stats\r\n").ok()?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    while !reply.ends_with(b"END\r\n") && reply.len() < 64 * 1024 {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&reply)
        .lines()
        .find_map(|line| line.strip_prefix("STAT pid "))
        .and_then(|pid| pid.trim().parse().ok())
}

/// Whether `/proc` reports the process as stopped by a signal (state `T`).
fn is_stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The state follows the command name, which is in parentheses.
            let after = stat.rsplit_once(')')?.1;
            after.split_whitespace().next().map(|state| state == "T")
        })
        .unwrap_or(false)
}
