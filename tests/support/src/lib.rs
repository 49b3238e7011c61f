//! What the tests, benches and the load harness of session-runtime share.
//!
//! Every server a test talks to is started by the test itself, on a free loopback port, with
//! its files in a fresh temporary directory, and stopped when the handle is dropped: nothing
//! here touches a system Redis, PostgreSQL or memcached.
//!
//! - Servers: [`redis_server`] (one `redis-server`, and a proxy that counts round trips),
//!   [`redis_cluster`] (six nodes), [`postgres_server`], [`memcached_server`].
//! - Store tests: [`records`] builds records, updates and keys; [`store_suite`] holds the
//!   behaviour every server-side store must show, written once and run against each store.
//! - Black-box tests: [`http`] sends requests through an app in process, [`secrets`] holds
//!   the layer secrets, [`examples`] builds the example programs, [`webdriver`] drives a
//!   headless Chromium.
//! - Benches: [`session_corpus`], a deterministic corpus of session bodies.
//! - Small helpers: [`clock`], [`ports`], [`host`].

#![warn(missing_docs)]

pub mod clock;
pub mod examples;
pub mod host;
pub mod http;
pub mod memcached_server;
pub mod ports;
pub mod postgres_server;
pub mod readme_cookie;
pub mod records;
pub mod redis_cluster;
pub mod redis_server;
pub mod secrets;
pub mod session_corpus;
pub mod store_suite;
pub mod webdriver;
