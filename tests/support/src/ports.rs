//! Free loopback ports for the servers the tests start.
//!
//! A port is found by binding port 0 and reading back what the kernel chose, then releasing it:
//! it was free a moment ago, and a launcher that loses the race retries or fails loudly.

use std::net::TcpListener;

/// A loopback port nobody listened on a moment ago: bound to port 0, read back, released.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// `count` distinct ports that were free a moment ago: all bound to port 0 at once (so no two
/// are the same), read back, released.
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a loopback port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}
