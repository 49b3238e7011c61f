//! A private Redis Cluster for tests: six `redis-server` nodes (three masters, one replica each)
//! on free loopback ports, with persistence off and their files in a fresh temporary directory.
//! It never touches a Redis on 6379. The binaries are `$REDIS_SERVER` and `$REDIS_CLI` if set,
//! else `redis-server` and `redis-cli` on the `PATH` (Redis 7 or later: the cluster bus ports are
//! chosen with `--cluster-port`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

use crate::host::unique_dir;
use crate::ports::free_ports;

/// Nodes in the cluster: three masters with one replica each.
const NODES: usize = 6;

/// How long the cluster may take to form, or to elect a new master after a failure.
const SETTLE: Duration = Duration::from_secs(30);

/// One node of the cluster.
struct Node {
    port: u16,
    bus_port: u16,
    child: Option<Child>,
}

/// A node as `CLUSTER NODES` describes it.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// The node id.
    pub id: String,
    /// The client port.
    pub port: u16,
    /// Whether it is a master (and not marked failed).
    pub master: bool,
    /// Whether the cluster considers it failed (`fail` or `fail?`).
    pub failed: bool,
    /// The id of its master, for a replica.
    pub master_id: Option<String>,
    /// The slot ranges it serves, inclusive.
    pub slots: Vec<(u16, u16)>,
}

/// A Redis Cluster owned by one test; every node is killed and the files removed on drop.
pub struct RedisCluster {
    dir: PathBuf,
    nodes: Vec<Node>,
}

impl RedisCluster {
    /// Starts six nodes, joins them with `redis-cli --cluster create ... --cluster-replicas 1`
    /// and waits until every node reports `cluster_state:ok` and knows three masters with a
    /// replica each.
    pub async fn start() -> RedisCluster {
        let ports = free_ports(NODES * 2);
        let dir = unique_dir("redis-cluster", ports[0]);
        std::fs::create_dir_all(&dir).expect("create a temporary directory for the cluster");
        let mut cluster = RedisCluster {
            dir,
            nodes: ports
                .chunks(2)
                .map(|pair| Node {
                    port: pair[0],
                    bus_port: pair[1],
                    child: None,
                })
                .collect(),
        };
        for index in 0..NODES {
            cluster.spawn(index);
        }
        for index in 0..NODES {
            cluster.wait_answers(index).await;
        }
        cluster.create();
        cluster.wait_formed().await;
        cluster
    }

    /// The node URLs, one per node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|node| format!("redis://127.0.0.1:{}", node.port))
            .collect()
    }

    /// The node URLs as one comma-separated list, as `REDIS_URL` takes it.
    pub fn url_list(&self) -> String {
        self.urls().join(",")
    }

    /// The client ports of the nodes still running.
    pub fn live_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|node| node.child.is_some())
            .map(|node| node.port)
            .collect()
    }

    /// A plain (non-cluster) connection to one node, to inspect it directly.
    pub async fn connection(&self, port: u16) -> MultiplexedConnection {
        connect(port)
            .await
            .unwrap_or_else(|e| panic!("connect to the node on port {port}: {e}"))
    }

    /// The hash slot of `key`, as the cluster computes it.
    pub async fn slot(&self, key: &str) -> u16 {
        let port = self.live_ports()[0];
        let mut conn = self.connection(port).await;
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("CLUSTER KEYSLOT")
    }

    /// The nodes as the first live node sees them.
    pub async fn nodes(&self) -> Vec<NodeInfo> {
        let port = self.live_ports()[0];
        cluster_nodes(port)
            .await
            .unwrap_or_else(|e| panic!("CLUSTER NODES on port {port}: {e}"))
    }

    /// The client ports of the masters serving slots.
    pub async fn masters(&self) -> Vec<u16> {
        self.nodes()
            .await
            .into_iter()
            .filter(|node| node.master && !node.slots.is_empty())
            .map(|node| node.port)
            .collect()
    }

    /// The client port of the master serving `slot`.
    pub async fn master_of(&self, slot: u16) -> u16 {
        serving(&self.nodes().await, slot)
            .unwrap_or_else(|| panic!("no master serves slot {slot}"))
            .port
    }

    /// The number of keys on the node on `port` (`DBSIZE`).
    pub async fn key_count(&self, port: u16) -> u64 {
        let mut conn = self.connection(port).await;
        redis::cmd("DBSIZE")
            .query_async(&mut conn)
            .await
            .expect("DBSIZE")
    }

    /// Kills the node on `port` with SIGKILL (its data is gone; it stays down).
    pub fn kill(&mut self, port: u16) {
        let node = self
            .nodes
            .iter_mut()
            .find(|node| node.port == port)
            .unwrap_or_else(|| panic!("no node on port {port}"));
        if let Some(mut child) = node.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits until a live node other than `old_port` serves `slot` as master and every live node
    /// reports `cluster_state:ok`: a failover has completed. Returns the new master's port.
    pub async fn wait_failover(&self, slot: u16, old_port: u16) -> u16 {
        let deadline = Instant::now() + SETTLE;
        let live = self.live_ports();
        loop {
            let mut new_master = None;
            if let Ok(nodes) = cluster_nodes(live[0]).await {
                new_master = serving(&nodes, slot)
                    .filter(|node| node.port != old_port && live.contains(&node.port))
                    .map(|node| node.port);
            }
            if let Some(port) = new_master {
                if all_ok(&live).await {
                    return port;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no new master for slot {slot} within {SETTLE:?}:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn spawn(&mut self, index: usize) {
        let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let node = &self.nodes[index];
        let port = node.port;
        let log = std::fs::File::create(self.dir.join(format!("redis-{port}.log")))
            .expect("create a node log");
        let child = Command::new(&binary)
            .arg("--port")
            .arg(port.to_string())
            .arg("--cluster-port")
            .arg(node.bus_port.to_string())
            .args(["--cluster-enabled", "yes"])
            .arg("--cluster-config-file")
            .arg(self.dir.join(format!("nodes-{port}.conf")))
            .args(["--cluster-node-timeout", "1000"])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} (install redis-server or set REDIS_SERVER): {e}")
            });
        self.nodes[index].child = Some(child);
    }

    /// Waits until the node answers PING.
    async fn wait_answers(&mut self, index: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = self.nodes[index].port;
        loop {
            if let Ok(mut conn) = connect(port).await {
                let pong: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
                if pong.is_ok() {
                    return;
                }
            }
            let exited = self.nodes[index]
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!(
                    "redis-server on port {port} exited with {status}:\n{}",
                    self.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} did not answer PING within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Joins the nodes into one cluster of three masters with a replica each.
    fn create(&self) {
        let binary = std::env::var("REDIS_CLI").unwrap_or_else(|_| "redis-cli".into());
        let output = Command::new(&binary)
            .arg("--cluster")
            .arg("create")
            .args(
                self.nodes
                    .iter()
                    .map(|node| format!("127.0.0.1:{}", node.port)),
            )
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {binary} (install redis-tools or set REDIS_CLI): {e}")
            });
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Waits until every node reports `cluster_state:ok` and sees three masters serving all
    /// slots, each with one replica whose link to its master is up (its first sync is done, so
    /// `WAIT` can count it).
    async fn wait_formed(&self) {
        let deadline = Instant::now() + SETTLE;
        let ports = self.live_ports();
        loop {
            if all_ok(&ports).await
                && self.all_see_formed(&ports).await
                && all_replicating(&ports).await
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not form within {SETTLE:?}:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn all_see_formed(&self, ports: &[u16]) -> bool {
        for &port in ports {
            let Ok(nodes) = cluster_nodes(port).await else {
                return false;
            };
            let masters: Vec<&NodeInfo> = nodes.iter().filter(|n| n.master).collect();
            let covered: u32 = masters
                .iter()
                .flat_map(|m| m.slots.iter())
                .map(|&(start, end)| u32::from(end - start) + 1)
                .sum();
            let replicated = masters.iter().all(|m| {
                nodes
                    .iter()
                    .any(|n| n.master_id.as_deref() == Some(m.id.as_str()))
            });
            if nodes.len() != NODES || masters.len() != 3 || covered != 16384 || !replicated {
                return false;
            }
        }
        true
    }

    /// The logs of all nodes, for failure messages.
    fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|node| {
                let log =
                    std::fs::read_to_string(self.dir.join(format!("redis-{}.log", node.port)))
                        .unwrap_or_default();
                format!("--- node {} ---\n{log}", node.port)
            })
            .collect()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A plain connection to the node on `port`, with short timeouts.
async fn connect(port: u16) -> redis::RedisResult<MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_secs(2)));
    redis::Client::open(format!("redis://127.0.0.1:{port}"))?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// Whether every node on `ports` reports `cluster_state:ok`.
async fn all_ok(ports: &[u16]) -> bool {
    for &port in ports {
        let Ok(mut conn) = connect(port).await else {
            return false;
        };
        let info: Result<String, _> = redis::cmd("CLUSTER")
            .arg("INFO")
            .query_async(&mut conn)
            .await;
        if !info.is_ok_and(|info| info.lines().any(|l| l.trim() == "cluster_state:ok")) {
            return false;
        }
    }
    true
}

/// Whether every node on `ports` is a master with a replica attached, or a replica whose link
/// to its master is up.
async fn all_replicating(ports: &[u16]) -> bool {
    for &port in ports {
        let Ok(mut conn) = connect(port).await else {
            return false;
        };
        let info: Result<String, _> = redis::cmd("INFO")
            .arg("replication")
            .query_async(&mut conn)
            .await;
        let Ok(info) = info else {
            return false;
        };
        let has = |line: &str| info.lines().any(|l| l.trim() == line);
        if !(has("role:master") && has("connected_slaves:1")
            || has("role:slave") && has("master_link_status:up"))
        {
            return false;
        }
    }
    true
}

/// `CLUSTER NODES` as the node on `port` sees the cluster.
async fn cluster_nodes(port: u16) -> redis::RedisResult<Vec<NodeInfo>> {
    let mut conn = connect(port).await?;
    let text: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut conn)
        .await?;
    Ok(text.lines().filter_map(parse_node).collect())
}

/// One line of `CLUSTER NODES`:
/// `<id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <epoch> <link> <slot>...`.
fn parse_node(line: &str) -> Option<NodeInfo> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    if parts.len() < 8 {
        return None;
    }
    let address = parts[1].split('@').next()?;
    let port = address.rsplit(':').next()?.parse().ok()?;
    let flags: Vec<&str> = parts[2].split(',').collect();
    let failed = flags.iter().any(|f| *f == "fail" || *f == "fail?");
    let slots = parts[8..]
        .iter()
        // Slots being imported or migrated are listed in brackets; they are not served yet.
        .filter(|s| !s.starts_with('['))
        .filter_map(|s| match s.split_once('-') {
            Some((start, end)) => Some((start.parse().ok()?, end.parse().ok()?)),
            None => {
                let slot = s.parse().ok()?;
                Some((slot, slot))
            }
        })
        .collect();
    Some(NodeInfo {
        id: parts[0].to_owned(),
        port,
        master: flags.contains(&"master") && !failed,
        failed,
        master_id: (parts[3] != "-").then(|| parts[3].to_owned()),
        slots,
    })
}

/// The healthy master that serves `slot`, if any.
fn serving(nodes: &[NodeInfo], slot: u16) -> Option<&NodeInfo> {
    nodes.iter().find(|node| {
        node.master
            && node
                .slots
                .iter()
                .any(|&(start, end)| (start..=end).contains(&slot))
    })
}
