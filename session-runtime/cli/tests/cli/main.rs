//! The `sessions` binary as a shell script runs it: arguments, environment, stdin, stdout,
//! stderr and the exit code.

mod support;

#[cfg(feature = "postgres")]
use session_test_support::postgres_server;
use session_test_support::records;

mod open;
mod purge;
mod seal;
mod secret;
mod train_dictionary;
