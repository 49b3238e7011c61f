//! `sessions train-dictionary`: trains a zstd dictionary for
//! `#[session(compression_dictionary = "...")]` from sample sessions, and says how much it
//! saves.
//!
//! The samples are a directory with one session body per file, or a JSON-lines file with one
//! per line. A body is the session's JSON object as the layer seals it: compact, the fields in
//! declaration order (log a few thousand from a staging server, or build them with your
//! session type's fields). Each must be a JSON object. Every fifth sample is held out of the
//! training, and the report compares, on those held-out samples, each compressed alone at
//! `--level` (the way cookies are), with and without the dictionary.
//!
//! Train on data like production's but not secret: the dictionary is compiled into the
//! binary, and whatever it holds can be read from it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser};
use session_runtime::codec::compress::{self, Dictionary, PreparedDictionary};

use crate::exit::Failure;

/// What the command does, for `--help`.
pub const ABOUT: &str =
    "Train a zstd dictionary for `compression_dictionary` from sample session bodies";

/// Dictionary sizes accepted, in bytes.
const SIZES: std::ops::RangeInclusive<usize> = 256..=1 << 20;
/// Fewest samples to train from.
const MIN_SAMPLES: usize = 10;

/// Arguments of `sessions train-dictionary`.
#[derive(Args, Debug, Clone)]
pub struct TrainOptions {
    /// A directory with one session body per file, or a JSON-lines file with one per line.
    #[arg(value_name = "SAMPLES")]
    pub samples: PathBuf,
    /// Where to write the dictionary.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Dictionary size in bytes, 256 to 1048576.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024, value_parser = parse_size)]
    pub size: usize,
    /// The zstd level the sessions will be compressed at, 1 to 22.
    #[arg(long, value_name = "LEVEL", default_value_t = 3, value_parser = parse_level)]
    pub level: i32,
}

fn parse_size(text: &str) -> Result<usize, String> {
    text.parse()
        .ok()
        .filter(|n| SIZES.contains(n))
        .ok_or_else(|| format!("`{text}`: give 256 to 1048576 bytes"))
}

fn parse_level(text: &str) -> Result<i32, String> {
    text.parse()
        .ok()
        .filter(|n| compress::LEVELS.contains(n))
        .ok_or_else(|| format!("`{text}`: give a zstd level from 1 to 22"))
}

/// What training found: sizes of the samples and of the held-out set with and without the
/// dictionary. Its `Display` is the report the command prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The options trained with.
    pub level: i32,
    /// Where the dictionary went.
    pub out: PathBuf,
    /// Sample lengths, sorted.
    pub sample_lengths: Vec<usize>,
    /// Samples used for training.
    pub training: usize,
    /// Samples held out for the comparison.
    pub held_out: usize,
    /// The dictionary's size in bytes.
    pub dictionary_len: usize,
    /// The dictionary's zstd id.
    pub dictionary_id: u32,
    /// Bytes of the held-out samples.
    pub original: usize,
    /// The same, each compressed alone without the dictionary.
    pub plain: usize,
    /// The same, each compressed alone with the dictionary.
    pub with_dictionary: usize,
}

/// Trains a dictionary from `options.samples`, writes it to `options.out`, and measures it.
pub fn train(options: &TrainOptions) -> Result<Summary, Failure> {
    let samples = read_samples(&options.samples)?;
    if samples.len() < MIN_SAMPLES {
        return Err(Failure::usage(format!(
            "{} samples: give at least {MIN_SAMPLES} (a few hundred or more train a better \
             dictionary)",
            samples.len()
        )));
    }
    // Every fifth sample is held out, so both sets spread over the whole input.
    let held_out: Vec<&Vec<u8>> = samples.iter().skip(4).step_by(5).collect();
    let training: Vec<&Vec<u8>> = samples
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 != 4)
        .map(|(_, s)| s)
        .collect();
    let dictionary = train_on(&training, options.size)?;
    let prepared = PreparedDictionary::new(&dictionary, options.level)
        .map_err(|e| Failure::failed(e.to_string()))?;
    let plain = compressed_total(&held_out, |s| compress::compress(s, options.level))?;
    let with_dictionary = compressed_total(&held_out, |s| {
        compress::compress_with_dictionary(s, &prepared)
    })?;
    std::fs::write(&options.out, dictionary.as_bytes())
        .map_err(|e| Failure::failed(format!("{}: {e}", options.out.display())))?;
    let mut sample_lengths: Vec<usize> = samples.iter().map(Vec::len).collect();
    sample_lengths.sort_unstable();
    Ok(Summary {
        level: options.level,
        out: options.out.clone(),
        sample_lengths,
        training: training.len(),
        held_out: held_out.len(),
        dictionary_len: dictionary.as_bytes().len(),
        dictionary_id: prepared.id(),
        original: held_out.iter().map(|s| s.len()).sum(),
        plain,
        with_dictionary,
    })
}

fn train_on(training: &[&Vec<u8>], size: usize) -> Result<Dictionary, Failure> {
    let bytes = zstd::dict::from_samples(training, size).map_err(|e| {
        let training_bytes: usize = training.iter().map(|s| s.len()).sum();
        Failure::failed(format!(
            "zstd could not train a {size}-byte dictionary from {} samples ({training_bytes} \
             bytes): {e}; give more samples or a smaller --size",
            training.len()
        ))
    })?;
    Ok(Dictionary::from(bytes))
}

/// The samples, in a stable order: files by name, or lines in order.
fn read_samples(path: &Path) -> Result<Vec<Vec<u8>>, Failure> {
    let unreadable =
        |path: &Path, e: std::io::Error| Failure::usage(format!("{}: {e}", path.display()));
    let mut samples = Vec::new();
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| unreadable(path, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| unreadable(&file, e))?;
            samples.push(check(bytes.trim_ascii(), &file.display().to_string())?);
        }
    } else {
        let text = std::fs::read(path).map_err(|e| unreadable(path, e))?;
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
fn check(bytes: &[u8], origin: &str) -> Result<Vec<u8>, Failure> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(_)) => Ok(bytes.to_vec()),
        Ok(_) => Err(Failure::usage(format!("{origin}: not a JSON object"))),
        Err(e) => Err(Failure::usage(format!("{origin}: not JSON: {e}"))),
    }
}

/// Total bytes of `samples` each compressed alone (kept only when smaller, as the codec does).
fn compressed_total(
    samples: &[&Vec<u8>],
    mut compress_one: impl FnMut(&[u8]) -> std::io::Result<Option<Vec<u8>>>,
) -> Result<usize, Failure> {
    let mut total = 0;
    for sample in samples {
        total += match compress_one(sample).map_err(|e| Failure::failed(e.to_string()))? {
            Some(frame) => frame.len(),
            None => sample.len(),
        };
    }
    Ok(total)
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lengths = &self.sample_lengths;
        let (shortest, longest) = (lengths.first(), lengths.last());
        writeln!(
            f,
            "samples: {} ({} for training, {} held out), {} to {} bytes, median {}",
            lengths.len(),
            self.training,
            self.held_out,
            shortest.unwrap_or(&0),
            longest.unwrap_or(&0),
            lengths.get(lengths.len() / 2).unwrap_or(&0)
        )?;
        writeln!(
            f,
            "dictionary: {} bytes, id {}, written to {}",
            self.dictionary_len,
            self.dictionary_id,
            self.out.display()
        )?;
        writeln!(
            f,
            "held-out samples, each compressed alone at level {} (kept only when smaller):",
            self.level
        )?;
        let ratio = |compressed: usize| self.original as f64 / compressed.max(1) as f64;
        let original = self.original;
        writeln!(
            f,
            "  without dictionary: {original} -> {} bytes, ratio {:.2}",
            self.plain,
            ratio(self.plain)
        )?;
        writeln!(
            f,
            "  with dictionary:    {original} -> {} bytes, ratio {:.2}",
            self.with_dictionary,
            ratio(self.with_dictionary)
        )?;
        write!(
            f,
            "use it: #[session(compression_level = {}, compression_dictionary = \"{}\")] \
             (the path is relative to the crate's Cargo.toml)",
            self.level,
            self.out.display()
        )
    }
}

/// `train-dictionary` as a program of its own, named `name` in its usage line: parses the
/// process arguments, trains, prints the report, and returns the exit code.
pub fn run_standalone(name: &'static str) -> ExitCode {
    #[derive(Parser)]
    struct Standalone {
        #[command(flatten)]
        options: TrainOptions,
    }
    let command = <Standalone as clap::CommandFactory>::command()
        .name(name)
        .about(ABOUT)
        .long_about(None);
    let options = match command
        .try_get_matches()
        .and_then(|m| <Standalone as clap::FromArgMatches>::from_arg_matches(&m))
    {
        Ok(parsed) => parsed.options,
        Err(e) => e.exit(),
    };
    match train(&options) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("{name}: {failure}");
            failure.exit.into()
        }
    }
}
