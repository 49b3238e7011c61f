//! Trains a zstd dictionary for `#[session(compression_dictionary = "...")]` from sample
//! sessions, and says how much it saves.
//!
//! ```text
//! cargo run -p examples --example train_dictionary -- <samples> <out.dict> [--size 16384] [--level 3]
//! ```
//!
//! `<samples>` is a directory with one session body per file, or a JSON-lines file with one
//! per line. A body is the session's JSON object as the layer seals it: compact, the fields in
//! declaration order (log a few thousand from a staging server, or build them with your
//! session type's fields). Each must be a JSON object. Every fifth sample is held out of the
//! training, and the report compares, on those held-out samples, each compressed alone at
//! `--level` (the way cookies are), with and without the dictionary.
//!
//! Train on data like production's but not secret: the dictionary is compiled into the
//! binary, and whatever it holds can be read from it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use session_runtime::codec::compress::{self, Dictionary, PreparedDictionary};

const USAGE: &str = "usage: train_dictionary <samples: directory or JSON-lines file> <out.dict> [--size BYTES (default 16384)] [--level 1..=22 (default 3)]";

struct Args {
    samples: PathBuf,
    out: PathBuf,
    size: usize,
    level: i32,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut size = 16 * 1024;
    let mut level = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" | "--level" => {
                let value = args.next().ok_or(format!("{arg} needs a value"))?;
                if arg == "--size" {
                    size = value
                        .parse()
                        .ok()
                        .filter(|&n| (256..=1 << 20).contains(&n))
                        .ok_or(format!("--size {value}: give 256 to 1048576 bytes"))?;
                } else {
                    level = value
                        .parse()
                        .ok()
                        .filter(|n| compress::LEVELS.contains(n))
                        .ok_or(format!("--level {value}: give a zstd level from 1 to 22"))?;
                }
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}\n{USAGE}")),
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    let [samples, out]: [PathBuf; 2] = positional.try_into().map_err(|_| USAGE.to_owned())?;
    Ok(Args {
        samples,
        out,
        size,
        level,
    })
}

/// The samples, in a stable order: files by name, or lines in order.
fn read_samples(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let mut samples = Vec::new();
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            samples.push(check(bytes.trim_ascii(), &file.display().to_string())?);
        }
    } else {
        let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (n, line) in text.split(|&b| b == b'\n').enumerate() {
            let line = line.trim_ascii();
            if !line.is_empty() {
                samples.push(check(line, &format!("{} line {}", path.display(), n + 1))?);
            }
        }
    }
    Ok(samples)
}

/// A sample must be one JSON object, as a session body is.
fn check(bytes: &[u8], origin: &str) -> Result<Vec<u8>, String> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(_)) => Ok(bytes.to_vec()),
        Ok(_) => Err(format!("{origin}: not a JSON object")),
        Err(e) => Err(format!("{origin}: not JSON: {e}")),
    }
}

/// Total bytes of `samples` each compressed alone (kept only when smaller, as the codec does).
fn compressed_total(
    samples: &[&Vec<u8>],
    mut compress_one: impl FnMut(&[u8]) -> std::io::Result<Option<Vec<u8>>>,
) -> Result<usize, String> {
    let mut total = 0;
    for sample in samples {
        total += match compress_one(sample).map_err(|e| e.to_string())? {
            Some(frame) => frame.len(),
            None => sample.len(),
        };
    }
    Ok(total)
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let samples = read_samples(&args.samples)?;
    if samples.len() < 10 {
        return Err(format!(
            "{} samples: give at least 10 (a few hundred or more train a better dictionary)",
            samples.len()
        ));
    }
    // Every fifth sample is held out, so both sets spread over the whole input.
    let held_out: Vec<&Vec<u8>> = samples.iter().skip(4).step_by(5).collect();
    let training: Vec<&Vec<u8>> = samples
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 != 4)
        .map(|(_, s)| s)
        .collect();
    let training_bytes: usize = training.iter().map(|s| s.len()).sum();

    let bytes = zstd::dict::from_samples(&training, args.size).map_err(|e| {
        format!(
            "zstd could not train a {}-byte dictionary from {} samples ({training_bytes} bytes): \
             {e}; give more samples or a smaller --size",
            args.size,
            training.len()
        )
    })?;
    let dictionary = Dictionary::from(bytes);
    let prepared = PreparedDictionary::new(&dictionary, args.level).map_err(|e| e.to_string())?;

    let original: usize = held_out.iter().map(|s| s.len()).sum();
    let plain = compressed_total(&held_out, |s| compress::compress(s, args.level))?;
    let with_dictionary = compressed_total(&held_out, |s| {
        compress::compress_with_dictionary(s, &prepared)
    })?;
    std::fs::write(&args.out, dictionary.as_bytes())
        .map_err(|e| format!("{}: {e}", args.out.display()))?;

    let mut lengths: Vec<usize> = samples.iter().map(Vec::len).collect();
    lengths.sort_unstable();
    println!(
        "samples: {} ({} for training, {} held out), {} to {} bytes, median {}",
        samples.len(),
        training.len(),
        held_out.len(),
        lengths[0],
        lengths[lengths.len() - 1],
        lengths[lengths.len() / 2]
    );
    println!(
        "dictionary: {} bytes, id {}, written to {}",
        dictionary.as_bytes().len(),
        prepared.id(),
        args.out.display()
    );
    println!(
        "held-out samples, each compressed alone at level {} (kept only when smaller):",
        args.level
    );
    let ratio = |compressed: usize| original as f64 / compressed as f64;
    println!(
        "  without dictionary: {original} -> {plain} bytes, ratio {:.2}",
        ratio(plain)
    );
    println!(
        "  with dictionary:    {original} -> {with_dictionary} bytes, ratio {:.2}",
        ratio(with_dictionary)
    );
    println!(
        "use it: #[session(compression_level = {}, compression_dictionary = \"{}\")] \
         (the path is relative to the crate's Cargo.toml)",
        args.level,
        args.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("train_dictionary: {message}");
            ExitCode::FAILURE
        }
    }
}
