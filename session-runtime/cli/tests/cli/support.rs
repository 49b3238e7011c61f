//! Running the `sessions` binary, and the secrets the tests use.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The secret of the app under test. No whitespace: each may be a retired secret too, and
/// `SESSION_SECRET_PREVIOUS` is whitespace separated.
pub const SECRET: &str = "test-secret-that-is-at-least-thirty-two-bytes-long";
/// A retired secret.
pub const OLD_SECRET: &str = "an-older-test-secret-also-thirty-two-bytes-or-more";
/// A secret the app never had.
pub const OTHER_SECRET: &str = "another-apps-secret-thirty-two-bytes-or-longer";

/// What one run printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The output as JSON, after checking that the run succeeded.
    pub fn json(&self) -> serde_json::Value {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap()
    }

    /// Checks the exit code and that stderr contains `words`.
    pub fn fails_with(&self, code: i32, words: &str) {
        assert_eq!(
            self.code, code,
            "stdout: {} stderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(words),
            "`{words}` not in stderr: {}",
            self.stderr
        );
        assert!(self.stdout.is_empty(), "stdout: {}", self.stdout);
    }
}

/// Runs `sessions args...` with only the given secret variables set, and `stdin` as input.
pub fn sessions(args: &[&str], envs: &[(&str, &str)], stdin: &str) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sessions"));
    command
        .args(args)
        .env_remove("SESSION_SECRET")
        .env_remove("SESSION_SECRET_PREVIOUS")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in envs {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap(),
        stdout: String::from_utf8(stdout).unwrap().trim_end().to_owned(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// Runs `sessions args...` with `SESSION_SECRET` = [`SECRET`].
pub fn with_secret(args: &[&str]) -> Run {
    sessions(args, &[("SESSION_SECRET", SECRET)], "")
}

pub use session_test_support::clock::now;
pub use session_test_support::examples::example_binary;
pub use session_test_support::ports::free_port;
