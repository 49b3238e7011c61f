//! The `sessions` binary as a shell script runs it: arguments, environment, stdin, stdout,
//! stderr and the exit code.

mod support;

#[cfg(feature = "postgres")]
#[path = "../../../tests/support/postgres_server.rs"]
mod postgres_server;
#[path = "../../../tests/support/records.rs"]
mod records;

mod open;
mod purge;
mod seal;
mod secret;
mod train_dictionary;
