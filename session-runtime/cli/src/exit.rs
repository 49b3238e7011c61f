//! Exit codes and the failure a command ends with: one table, used by every command, by
//! `--help` and by the README.

use std::fmt;
use std::process::ExitCode;

/// How a command ended, as a shell sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Success,
    /// 1: the value did not open for a reason without a code of its own (not base64,
    /// truncated, malformed, unknown format version, ...), or the work failed (I/O, database).
    Failure,
    /// 2: bad arguments, bad input, or a missing or too short secret in the environment
    /// (clap uses this code for usage errors too).
    Usage,
    /// 3: no key opens the value: it was sealed with a secret that is neither the current nor a
    /// retired one.
    UnknownKey,
    /// 4: the value failed authentication: tampered with, or sealed for another cookie name.
    Authentication,
    /// 5: the value opened, but its sealed expiry time has passed.
    Expired,
}

impl Exit {
    /// Every exit code, in order.
    pub const ALL: [Exit; 6] = [
        Exit::Success,
        Exit::Failure,
        Exit::Usage,
        Exit::UnknownKey,
        Exit::Authentication,
        Exit::Expired,
    ];

    /// The process exit status.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::UnknownKey => 3,
            Exit::Authentication => 4,
            Exit::Expired => 5,
        }
    }

    /// What the code means, in one line.
    pub const fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Failure => {
                "the value did not open (not base64, truncated, malformed, ...), or the work failed"
            }
            Exit::Usage => {
                "usage: bad arguments or input, SESSION_SECRET missing or shorter than 32 bytes"
            }
            Exit::UnknownKey => "no key opens the value (wrong or retired secret)",
            Exit::Authentication => "tampered, or sealed for another cookie name",
            Exit::Expired => "expired",
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// The exit codes as `--help` shows them.
pub fn exit_codes_help() -> String {
    let mut help = String::from("Exit codes:");
    for exit in Exit::ALL {
        help.push_str(&format!("\n  {}  {}", exit.code(), exit.meaning()));
    }
    help
}

/// Why a command failed: the code to exit with and a message for stderr.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// One line (or a few) saying what went wrong and, where possible, what to do.
    pub message: String,
}

impl Failure {
    /// A failure with exit code 1.
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Failure, message)
    }

    /// A failure with exit code 2.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Usage, message)
    }

    /// A failure with the given code.
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
