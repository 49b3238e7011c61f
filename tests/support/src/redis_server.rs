//! A private `redis-server` for tests, and a proxy that counts round trips.
//!
//! Each [`RedisServer`] runs its own `redis-server` on a free loopback port with persistence off
//! (or, from [`RedisServer::start_durable`], an append-only file fsynced on every write) and its
//! working directory in a fresh temporary directory; it never touches a Redis on 6379.
//! The binary is `$REDIS_SERVER` if set, else `redis-server` on the `PATH`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::host::unique_dir;
use crate::ports::free_port;

/// A `redis-server` owned by one test; killed and cleaned up on drop.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    durable: bool,
}

impl RedisServer {
    /// Starts a server on a free loopback port and waits until it answers PING.
    pub fn start() -> RedisServer {
        RedisServer::start_with(false)
    }

    /// Starts a server that appends every write to an append-only file and fsyncs it before
    /// replying (`--appendonly yes --appendfsync always`): whatever it acknowledged survives a
    /// `kill -9` ([`stop`](Self::stop)), and [`restart`](Self::restart) reloads it.
    pub fn start_durable() -> RedisServer {
        RedisServer::start_with(true)
    }

    fn start_with(durable: bool) -> RedisServer {
        let port = free_port();
        let dir = unique_dir("redis", port);
        std::fs::create_dir_all(&dir).expect("create a temporary directory for redis-server");
        let mut server = RedisServer {
            port,
            dir,
            child: None,
            durable,
        };
        server.restart();
        server
    }

    /// The URL of this server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server with SIGKILL (its data is lost unless it was started durable).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory (stopping it first if running)
    /// and waits until it answers PING; a durable server has reloaded its append-only file by
    /// then.
    pub fn restart(&mut self) {
        self.stop();
        let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let log = std::fs::File::create(self.dir.join("redis.log")).expect("create redis.log");
        let child = Command::new(&binary)
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--save", ""])
            .args(if self.durable {
                ["--appendonly", "yes", "--appendfsync", "always"].as_slice()
            } else {
                ["--appendonly", "no"].as_slice()
            })
            .args(["--daemonize", "no", "--databases", "1"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} (install redis-server or set REDIS_SERVER): {e}")
            });
        self.child = Some(child);
        self.wait_ready();
    }

    /// Freezes the server (SIGSTOP): it keeps its connections but answers nothing.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("redis-server is running");
        let status = Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if ping(self.port) {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                let log = std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default();
                panic!("redis-server exited with {status}:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer PING within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server would not die of SIGKILL any later, but let it run first anyway.
        if self.child.is_some() {
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(self.child.as_ref().map_or(0, Child::id).to_string())
                .status();
        }
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a server on `port` answers PING with PONG.
fn ping(port: u16) -> bool {
    let Ok(mut stream) =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// A loopback TCP proxy in front of a Redis that counts round trips.
///
/// A round trip is counted each time the client starts sending after the server last spoke (or
/// for the first time): a request split over several TCP segments, or a pipeline such as
/// `MULTI ... EXEC` written at once, counts once; a second request sent only after the first
/// reply counts again. The proxy relays the reply only after noting that the server spoke, so a
/// client that waits for a reply before sending is never undercounted.
pub struct RoundTripProxy {
    port: u16,
    round_trips: Arc<AtomicU64>,
}

impl RoundTripProxy {
    /// Starts a proxy on a free loopback port in front of `127.0.0.1:upstream_port`.
    pub async fn start(upstream_port: u16) -> RoundTripProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy port");
        let port = listener.local_addr().expect("proxy address").port();
        let round_trips = Arc::new(AtomicU64::new(0));
        let counter = round_trips.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream_port)).await
                else {
                    continue;
                };
                tokio::spawn(relay(client, server, counter.clone()));
            }
        });
        RoundTripProxy { port, round_trips }
    }

    /// The URL to connect through the proxy.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Round trips seen so far, over all connections.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::SeqCst)
    }
}

async fn relay(
    client: tokio::net::TcpStream,
    server: tokio::net::TcpStream,
    count: Arc<AtomicU64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let client_spoke_last = Arc::new(AtomicBool::new(false));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let flag = client_spoke_last.clone();
    let upstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if !flag.swap(true, Ordering::SeqCst) {
                count.fetch_add(1, Ordering::SeqCst);
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            client_spoke_last.store(false, Ordering::SeqCst);
            if client_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}
