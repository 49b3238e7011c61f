//! Trains a zstd dictionary for `#[session(compression_dictionary = "...")]` from sample
//! sessions, and says how much it saves: the `sessions train-dictionary` command, run as an
//! example.
//!
//! ```text
//! cargo run -p examples --example train_dictionary -- <samples> <out.dict> [--size 16384] [--level 3]
//! cargo run --bin sessions -- train-dictionary <samples> <out.dict>   # the same
//! ```
//!
//! `<samples>` is a directory with one session body per file, or a JSON-lines file with one
//! per line: see `session_cli::train_dictionary` for what a body is and how the report
//! compares. Train on data like production's but not secret: the dictionary is compiled into
//! the binary, and whatever it holds can be read from it.

fn main() -> std::process::ExitCode {
    session_cli::train_dictionary::run_standalone("train_dictionary")
}
