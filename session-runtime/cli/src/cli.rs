//! The command line: the commands, and running one to an exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::{Exit, Failure, exit_codes_help};
use crate::open::OpenArgs;
use crate::purge::PurgeArgs;
use crate::seal::SealArgs;
use crate::train_dictionary::TrainOptions;
use crate::{open, purge, seal, secrets, train_dictionary};

/// `sessions`: tools for session-runtime's sessions.
#[derive(Parser, Debug)]
#[command(
    name = "sessions",
    version,
    about = "Make secrets, open and seal session cookies, purge expired sessions, train \
             compression dictionaries",
    long_about = "Make secrets, open and seal session cookies, purge expired sessions, train \
                  compression dictionaries.\n\nSecrets come from SESSION_SECRET (the current \
                  one) and SESSION_SECRET_PREVIOUS (retired ones, whitespace separated), as the \
                  layer reads them; never from arguments.",
    after_help = exit_codes_help()
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a new random secret for SESSION_SECRET (48 bytes from the OS, base64url).
    #[command(after_help = exit_codes_help())]
    Secret,
    /// Print a sealed cookie value's session as JSON, or say why it does not open.
    #[command(after_help = exit_codes_help())]
    Open(OpenArgs),
    /// Seal a JSON object of fields into a cookie value the layer accepts.
    #[command(after_help = exit_codes_help())]
    Seal(SealArgs),
    /// Delete the expired sessions of a files or PostgreSQL store; print how many.
    #[command(after_help = exit_codes_help())]
    Purge(PurgeArgs),
    /// Train a zstd dictionary for `compression_dictionary` from sample session bodies.
    #[command(about = train_dictionary::ABOUT, long_about = None, after_help = exit_codes_help())]
    TrainDictionary(TrainOptions),
}

impl Command {
    /// Runs the command: what to print on stdout.
    pub fn run(&self) -> Result<String, Failure> {
        match self {
            Command::Secret => secrets::generate(),
            Command::Open(args) => open::run(args),
            Command::Seal(args) => seal::run(args),
            Command::Purge(args) => purge::run(args),
            Command::TrainDictionary(options) => {
                train_dictionary::train(options).map(|summary| summary.to_string())
            }
        }
    }
}

/// Parses the process arguments, runs the command, prints its output or its failure, and
/// returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.run() {
        Ok(output) => {
            println!("{output}");
            Exit::Success.into()
        }
        Err(failure) => {
            eprintln!("sessions: {failure}");
            failure.exit.into()
        }
    }
}
