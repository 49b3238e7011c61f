//! `sessions`, the command-line tool of session-runtime, as a library: each command is a
//! module with its clap arguments and a `run` that returns what to print or a
//! [`Failure`](exit::Failure) with its exit code.
//!
//! | command | module |
//! |---|---|
//! | `secret` | [`secrets`] |
//! | `open` | [`open`] |
//! | `seal` | [`seal`] |
//! | `purge` | [`purge`] |
//! | `train-dictionary` | [`train_dictionary`] |
//!
//! Exit codes are in [`exit::Exit`]. Secrets come from the environment only
//! ([`secrets::key_ring_from_env`]), never from arguments.

pub mod cli;
pub mod codec_args;
pub mod exit;
pub mod open;
pub mod purge;
pub mod seal;
pub mod secrets;
pub mod times;
pub mod train_dictionary;
