//! The connection options every networked store shares: pool size and timeouts.

use std::time::Duration;

/// How a networked store (Redis, PostgreSQL, memcached) connects: how many connections it
/// pools, how long opening one may take, and how long a whole store call may take.
///
/// The defaults suit a server on the same network: at most 16 connections, 1 s to open a
/// connection, 2 s for a whole store call. Each store's own options
/// ([`RedisOptions`](super::redis::RedisOptions) and the others) hold one and add what only
/// that store has.
///
/// ```
/// use std::time::Duration;
/// use session_runtime::store::ConnectionOptions;
///
/// let options = ConnectionOptions::default()
///     .pool_size(8)
///     .operation_timeout(Duration::from_secs(1));
/// assert_eq!(options.get_pool_size(), 8);
/// assert_eq!(options.get_connection_timeout(), Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionOptions {
    pool_size: usize,
    connection_timeout: Duration,
    operation_timeout: Duration,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            pool_size: 16,
            connection_timeout: Duration::from_secs(1),
            operation_timeout: Duration::from_secs(2),
        }
    }
}

impl ConnectionOptions {
    /// The most connections the store keeps open (default 16, at least 1). Redis multiplexes
    /// one connection and does not read it.
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// How long opening one connection may take (default 1 s).
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// The longest a store call may take, waiting for a connection and retries included
    /// (default 2 s). Past it the call fails with a [`StoreError`](super::StoreError). It also
    /// bounds connecting.
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// The pool size.
    pub fn get_pool_size(&self) -> usize {
        self.pool_size
    }

    /// The connection timeout.
    pub fn get_connection_timeout(&self) -> Duration {
        self.connection_timeout
    }

    /// The operation timeout.
    pub fn get_operation_timeout(&self) -> Duration {
        self.operation_timeout
    }
}

/// The setters every networked store's options share, forwarding to its
/// `connection: ConnectionOptions` field: `pool_size` (where the store pools connections),
/// `connection_timeout`, `operation_timeout` and `connection`. One definition, so the stores
/// cannot drift apart in what a setting means.
macro_rules! connection_setters {
    ($options:ident, pooled) => {
        /// The most connections the store keeps open (default 16, at least 1).
        ///
        #[doc = concat!("```\nuse session_runtime::store::", stringify!($options), ";\n\nlet options = ", stringify!($options), "::default().pool_size(4);\n```")]
        pub fn pool_size(mut self, size: usize) -> Self {
            self.connection = self.connection.pool_size(size);
            self
        }

        $crate::store::options::connection_setters!($options);
    };
    ($options:ident) => {
        /// How long one attempt to open a connection may take (default 1 s).
        ///
        #[doc = concat!("```\nuse std::time::Duration;\nuse session_runtime::store::", stringify!($options), ";\n\nlet options = ", stringify!($options), "::default().connection_timeout(Duration::from_millis(500));\n```")]
        pub fn connection_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.connection = self.connection.connection_timeout(timeout);
            self
        }

        /// The longest a store call may take, waiting for a connection, a reconnection or
        /// retries included (default 2 s). Past it the call fails with a
        /// [`StoreError`](crate::store::StoreError). It also bounds connecting the store.
        ///
        #[doc = concat!("```\nuse std::time::Duration;\nuse session_runtime::store::", stringify!($options), ";\n\nlet options = ", stringify!($options), "::default().operation_timeout(Duration::from_secs(1));\n```")]
        pub fn operation_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.connection = self.connection.operation_timeout(timeout);
            self
        }

        /// The shared connection options (pool size and timeouts) at once.
        ///
        #[doc = concat!("```\nuse session_runtime::store::{ConnectionOptions, ", stringify!($options), "};\n\nlet options = ", stringify!($options), "::default().connection(ConnectionOptions::default());\n```")]
        pub fn connection(mut self, connection: $crate::store::ConnectionOptions) -> Self {
            self.connection = connection;
            self
        }
    };
}

pub(crate) use connection_setters;
