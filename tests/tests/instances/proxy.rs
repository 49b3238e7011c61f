//! A TCP proxy on loopback that injects faults between an app instance and its store server.
//!
//! Every accepted connection gets its own connection to the server; bytes are forwarded in
//! order in both directions. The [`Faults`] handle switches faults on and off while traffic
//! flows:
//!
//! - latency: every chunk is delivered that long after it was read (chunks keep their order and
//!   the delay does not add up across chunks);
//! - refusing: new connections are reset as soon as they are accepted;
//! - reset: every live connection is closed with a TCP RST on both sides;
//! - partition: nothing is read or written, and new connections are not connected upstream,
//!   until the partition heals; healing resets every connection that was held.
//!
//! A partition never delivers held bytes later: a request the app gave up on (and answered
//! 503) would then still change the store after the client's next acknowledged write, which no
//! session library can rule out without fencing, and which is not the property under test.
//! Dropping bytes from the middle of a live stream is not done either: TCP never does that, and
//! a client would read one command's reply as another's.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The switches shared by the proxy's connections and whoever injects faults.
#[derive(Debug)]
struct Switches {
    latency_ms: AtomicU64,
    refusing: watch::Sender<bool>,
    partitioned: watch::Sender<bool>,
    /// Bumped to reset every connection alive at that moment.
    resets: watch::Sender<u64>,
}

impl Switches {
    fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::SeqCst))
    }

    async fn until_connected(&self) {
        let mut partitioned = self.partitioned.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = partitioned.wait_for(|held| !*held).await;
    }
}

/// Switches faults on and off for one [`FaultProxy`].
#[derive(Clone, Debug)]
pub struct Faults(Arc<Switches>);

impl Faults {
    /// Delays every chunk by `latency` from now on (zero turns it off).
    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.0.latency_ms.store(ms, Ordering::SeqCst);
    }

    /// Resets new connections as they arrive, or stops doing so.
    pub fn set_refusing(&self, refusing: bool) {
        self.0.refusing.send_replace(refusing);
    }

    /// Closes every live connection with a TCP RST.
    pub fn reset_all(&self) {
        self.0.resets.send_modify(|epoch| *epoch += 1);
    }

    /// Holds all traffic until [`heal_partition`](Self::heal_partition).
    pub fn partition(&self) {
        self.0.partitioned.send_replace(true);
    }

    /// Ends a partition, if any: the held connections are reset, then traffic flows again.
    pub fn heal_partition(&self) {
        if !*self.0.partitioned.borrow() {
            return;
        }
        // Reset first: a connection woken by the heal sees the reset before it moves a byte.
        self.reset_all();
        self.0.partitioned.send_replace(false);
    }

    /// Turns every fault off (a partition is healed as above).
    pub fn heal_all(&self) {
        self.set_latency(Duration::ZERO);
        self.set_refusing(false);
        self.heal_partition();
    }
}

/// A proxy listening on a loopback port in front of one server.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    faults: Faults,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let faults = Faults(Arc::new(Switches {
            latency_ms: AtomicU64::new(0),
            refusing: watch::Sender::new(false),
            partitioned: watch::Sender::new(false),
            resets: watch::Sender::new(0),
        }));
        let switches = faults.0.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *switches.refusing.borrow() {
                    reset(client);
                    continue;
                }
                tokio::spawn(relay(client, upstream, switches.clone()));
            }
        });
        FaultProxy { addr, faults, task }
    }

    /// The port to give the app instead of the server's.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The switches of this proxy.
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Closes a socket with an RST instead of a FIN.
fn reset(stream: TcpStream) {
    // If SO_LINGER cannot be set the socket closes with a FIN: still a closed connection.
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Forwards one connection until either side closes it or a reset is asked for.
async fn relay(mut client: TcpStream, upstream: SocketAddr, switches: Arc<Switches>) {
    let mut resets = switches.resets.subscribe();
    let connected = tokio::select! {
        biased;
        _ = resets.changed() => None,
        connected = async {
            switches.until_connected().await;
            TcpStream::connect(upstream).await.ok()
        } => connected,
    };
    let Some(mut server) = connected else {
        reset(client);
        return;
    };
    let reset_asked = {
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        tokio::select! {
            biased;
            _ = resets.changed() => true,
            _ = async {
                tokio::join!(
                    pump(client_read, server_write, &switches),
                    pump(server_read, client_write, &switches),
                )
            } => false,
        }
    };
    if reset_asked {
        reset(client);
        reset(server);
    }
}

/// Copies one direction, each chunk delivered `latency` after it was read; holds while
/// partitioned.
async fn pump(
    mut from: tokio::net::tcp::ReadHalf<'_>,
    mut to: tokio::net::tcp::WriteHalf<'_>,
    switches: &Switches,
) -> io::Result<()> {
    let (chunks, mut queued) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let read = async move {
        let mut buf = vec![0; 16 * 1024];
        loop {
            switches.until_connected().await;
            let n = from.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, io::Error>(());
            }
            let due = Instant::now() + switches.latency();
            if chunks.send((due, buf[..n].to_vec())).is_err() {
                return Ok(());
            }
        }
    };
    let write = async move {
        while let Some((due, bytes)) = queued.recv().await {
            tokio::time::sleep_until(due).await;
            switches.until_connected().await;
            to.write_all(&bytes).await?;
        }
        to.shutdown().await
    };
    let (read, write) = tokio::join!(read, write);
    read.and(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server that counts the bytes it received.
    async fn echo() -> (SocketAddr, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = [0; 1024];
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        counter.fetch_add(n as u64, Ordering::SeqCst);
                        if stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (addr, received)
    }

    async fn connected(proxy: &FaultProxy) -> TcpStream {
        let mut stream = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        stream.write_all(b"ping").await.unwrap();
        let mut back = [0; 4];
        stream.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"ping");
        stream
    }

    /// The connection ends (reset or closed) without another byte.
    async fn assert_ended(stream: &mut TcpStream) {
        let mut buf = [0; 16];
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => {}
            Ok(n) => panic!("read {n} bytes from a connection that should have ended"),
        }
    }

    #[tokio::test]
    async fn forwards_with_latency() {
        let (upstream, _) = echo().await;
        let proxy = FaultProxy::start(upstream).await;
        proxy.faults().set_latency(Duration::from_millis(20));
        connected(&proxy).await;
    }

    #[tokio::test]
    async fn reset_all_ends_live_connections() {
        let (upstream, _) = echo().await;
        let proxy = FaultProxy::start(upstream).await;
        let mut stream = connected(&proxy).await;
        proxy.faults().reset_all();
        assert_ended(&mut stream).await;
        connected(&proxy).await;
    }

    #[tokio::test]
    async fn refusing_resets_new_connections() {
        let (upstream, received) = echo().await;
        let proxy = FaultProxy::start(upstream).await;
        proxy.faults().set_refusing(true);
        let mut stream = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        let _ = stream.write_all(b"lost").await;
        assert_ended(&mut stream).await;
        assert_eq!(received.load(Ordering::SeqCst), 0);
        proxy.faults().set_refusing(false);
        connected(&proxy).await;
    }

    #[tokio::test]
    async fn a_partition_holds_bytes_and_never_delivers_them() {
        let (upstream, received) = echo().await;
        let proxy = FaultProxy::start(upstream).await;
        let mut stream = connected(&proxy).await;
        proxy.faults().partition();
        stream.write_all(b"held").await.unwrap();
        proxy.faults().heal_partition();
        assert_ended(&mut stream).await;
        assert_eq!(
            received.load(Ordering::SeqCst),
            4,
            "only the first ping arrived"
        );
        connected(&proxy).await;
    }
}
