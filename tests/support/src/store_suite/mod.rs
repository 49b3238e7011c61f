//! The behaviour every server-side store must show, written once and run against each store.
//!
//! A store's test file describes how to start the store and how to look at its backing without
//! going through the store (a [`StoreFixture`]; for a store behind a server also a
//! [`ServerFixture`], and a [`FreezableFixture`] when the server can be frozen), then asks
//! [`store_suite!`](crate::store_suite!) for the groups of tests that apply:
//!
//! ```ignore
//! session_test_support::store_suite!(RedisFixture: data, outage, frozen);
//! ```
//!
//! - `data` ([`data`]): create, load, update and delete; an update of a missing record writes
//!   nothing; 50 concurrent updates of different fields all land; a record is invisible from its
//!   expiry on; the raw session id never reaches the backing.
//! - `outage` ([`outage`]): with the server down every call fails (quickly, naming the store)
//!   and the same store works again once the server is back; connecting to nothing fails with
//!   advice.
//! - `frozen` ([`outage::a_frozen_server_gets_a_timeout_not_a_hang`]): a server that accepts
//!   but never answers costs a timeout, not a hung request.
//!
//! What only one store has (its layout, its malformed records, Redis Cluster slots, file
//! permissions) stays in that store's test file.

pub mod data;
pub mod outage;

use std::time::{Duration, Instant};

use session_runtime::StoreKey;
use session_runtime::store::{Record, SessionStore, StoreError};

/// A store under test, with whatever keeps its backing alive (a server, a directory), and a
/// view of that backing that does not go through the store.
#[allow(
    async_fn_in_trait,
    reason = "test fixtures: every future is awaited where it is made, never sent to a task"
)]
pub trait StoreFixture: Sized {
    /// The store type.
    type Store: SessionStore + Clone + 'static;

    /// Whether a load or update that finds a record expired removes it from the backing then
    /// and there (rather than leaving it to the backing's own expiry or a purge).
    const REMOVES_EXPIRED_ON_SIGHT: bool = false;

    /// Starts a fresh, empty backing and connects a store with its default options.
    async fn start() -> Self;

    /// Like [`start`](Self::start), with the backing logging every command it receives when it
    /// can ([`command_log`](Self::command_log)).
    async fn start_logging() -> Self {
        Self::start().await
    }

    /// The store.
    fn store(&self) -> &Self::Store;

    /// How many records the backing holds, expired ones included until they are removed, plus
    /// anything else it holds (a temporary file left behind counts).
    async fn record_count(&self) -> u64;

    /// Whether the backing holds a record under `key`.
    async fn holds(&self, key: &StoreKey) -> bool;

    /// What the backing holds, as bytes: every key or name and every value when the backing
    /// can list them, else `key` and what is stored under it.
    async fn raw_contents(&self, key: &StoreKey) -> Vec<Vec<u8>>;

    /// Every command the backing received, when it was started with
    /// [`start_logging`](Self::start_logging) and can log them.
    fn command_log(&self) -> Option<String> {
        None
    }

    /// Checks that `created`, just created under `key`, is laid out in the backing as the
    /// store documents it.
    async fn assert_layout(&self, key: &StoreKey, created: &Record);

    /// Checks that the backing itself will drop the record under `key` at `expires_at` (a key
    /// or item TTL, an expiry column), where it keeps such a time apart from the record.
    async fn assert_backing_expiry(&self, key: &StoreKey, expires_at: u64) {
        let _ = (key, expires_at);
    }
}

/// A store behind a server the test can stop and start again.
#[allow(
    async_fn_in_trait,
    reason = "test fixtures: every future is awaited where it is made, never sent to a task"
)]
pub trait ServerFixture: StoreFixture {
    /// How the store's errors name the server (`"Redis"`, `"PostgreSQL"`, ...).
    const NAME: &'static str;
    /// The environment variable the connect errors point to (`"REDIS_URL"`, ...).
    const URL_VARIABLE: &'static str;
    /// A URL the store refuses outright.
    const BAD_URL: &'static str;
    /// Whether the server keeps its data across [`restart`](Self::restart).
    const KEEPS_DATA: bool;
    /// Whether the first call after the server is back succeeds; if not, the store reconnects
    /// in the background and calls may fail for a few seconds.
    const RECONNECTS_AT_ONCE: bool;
    /// The longest a call may take to fail while the server is down or frozen.
    const FAILS_WITHIN: Duration;
    /// The longest connecting to a port nobody listens on may take to fail.
    const CONNECT_FAILS_WITHIN: Duration;

    /// Kills the server (SIGKILL).
    fn stop(&mut self);

    /// Starts the server again on the same port, and waits until it answers.
    fn restart(&mut self);

    /// The URL of a server of this kind on `127.0.0.1:port`.
    fn url_on(port: u16) -> String;

    /// Connects a store to `url` with default options.
    async fn connect(url: &str) -> Result<Self::Store, StoreError>;

    /// Connects a store to `url` with the options a test of a dead address uses (a short
    /// operation timeout where the store has one).
    async fn connect_failing_fast(url: &str) -> Result<Self::Store, StoreError>;
}

/// A store behind a server the test can freeze (SIGSTOP): it keeps its connections open but
/// answers nothing.
#[allow(
    async_fn_in_trait,
    reason = "test fixtures: every future is awaited where it is made, never sent to a task"
)]
pub trait FreezableFixture: ServerFixture {
    /// Whether a write that timed out may still be applied once the server runs again: the
    /// command was sent, and the store keeps the connection it was sent on.
    const TIMED_OUT_WRITES_MAY_APPLY: bool;

    /// Starts the backing and connects a store with the options the frozen-server test uses.
    async fn start_for_freezing() -> Self {
        Self::start().await
    }

    /// Freezes the server.
    fn pause(&self);

    /// Lets a frozen server run again.
    fn resume(&self);
}

/// Runs `fut`, failing the test if it does not answer within 10 seconds.
pub async fn no_hang<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"));
    eprintln!("{what} answered after {:?}", started.elapsed());
    out
}

/// One test per behaviour of the named groups (`data`, `outage`, `frozen`), run against the
/// fixture type `$fixture` of the calling test file. Each group becomes a module of tests.
#[macro_export]
macro_rules! store_suite {
    ($fixture:ident: $($group:ident),+ $(,)?) => {
        $( $crate::store_suite!(@$group $fixture); )+
    };
    (@data $fixture:ident) => {
        mod data {
            use $crate::store_suite::data;

            #[tokio::test]
            async fn create_load_update_delete_round_trip() {
                data::create_load_update_delete_round_trip::<super::$fixture>().await;
            }

            #[tokio::test]
            async fn update_on_a_missing_record_creates_nothing() {
                data::update_on_a_missing_record_creates_nothing::<super::$fixture>().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_updates_to_different_fields_all_land() {
                data::concurrent_updates_to_different_fields_all_land::<super::$fixture>().await;
            }

            #[tokio::test]
            async fn a_record_is_invisible_from_its_expiry_on() {
                data::a_record_is_invisible_from_its_expiry_on::<super::$fixture>().await;
            }

            #[tokio::test]
            async fn the_raw_session_id_never_reaches_the_backing() {
                data::the_raw_session_id_never_reaches_the_backing::<super::$fixture>().await;
            }
        }
    };
    (@outage $fixture:ident) => {
        mod outage {
            use $crate::store_suite::outage;

            #[tokio::test]
            async fn outage_fails_then_recovers_by_itself() {
                outage::outage_fails_then_recovers_by_itself::<super::$fixture>().await;
            }

            #[tokio::test]
            async fn connect_errors_say_what_to_do() {
                outage::connect_errors_say_what_to_do::<super::$fixture>().await;
            }
        }
    };
    (@frozen $fixture:ident) => {
        mod frozen {
            #[tokio::test]
            async fn a_frozen_server_gets_a_timeout_not_a_hang() {
                $crate::store_suite::outage::a_frozen_server_gets_a_timeout_not_a_hang::<
                    super::$fixture,
                >()
                .await;
            }
        }
    };
}
