//! Replays the fuzz corpus on stable, without cargo-fuzz: every committed input of both targets
//! goes through the same code the fuzz targets run (`session-fuzz-harness`, in `fuzz/harness/`),
//! which must not panic.
//! Named seeds (`fuzz/seeds/<target>/`) must also do what their name says: valid values open,
//! garbage does not. Freshly made seeds are checked the same way, so the expectations follow
//! the code and not only the files.
//!
//! `FUZZ_WRITE_SEEDS=1 cargo test -p integration-tests --test fuzz_corpus` rewrites the seed
//! files (see `fuzz/README.md`).

use std::path::{Path, PathBuf};

use session_fuzz_harness::{self as harness, Codecs, FilesHarness};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file of a directory, by name; the directory must exist and hold at least one.
fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(entry.path()).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

fn write_seeds(target: &str, seeds: &[harness::Seed]) {
    if std::env::var_os("FUZZ_WRITE_SEEDS").is_none() {
        return;
    }
    let dir = fuzz_dir().join("seeds").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    for seed in seeds {
        std::fs::write(dir.join(&seed.name), &seed.bytes).unwrap();
    }
}

fn check_cookie(codecs: &Codecs, name: &str, bytes: &[u8]) -> Option<harness::CookieOutcome> {
    let outcome = harness::open_cookie(codecs, bytes);
    // Whatever opened in one codec of a kind opens in the others of that kind.
    for family in [
        harness::MODERN_FAMILY & 0b011,
        harness::NONE_FAMILY & 0b01_1000,
    ] {
        let hits = outcome.opened & family;
        assert!(hits == 0 || hits == family, "{name}: {outcome:?}");
    }
    let expected = harness::expected_cookie_mask(name)?;
    assert_eq!(
        outcome.opened, expected,
        "{name}: opened in {:#09b}, expected {:#09b}",
        outcome.opened, expected
    );
    if expected != 0 {
        assert_eq!(
            outcome.decoded, expected,
            "{name}: the body does not decode"
        );
    }
    // Retired keys and legacy values opened by another mode are re-sealed.
    let stale = if name.contains("-retired-") {
        expected
    } else if name.starts_with("ok-legacy-") {
        expected & !(1 << 6)
    } else {
        0
    };
    assert_eq!(
        outcome.stale, stale,
        "{name}: stale in {:#09b}",
        outcome.stale
    );
    Some(outcome)
}

fn check_record(files: &FilesHarness, name: &str, bytes: &[u8]) -> bool {
    let outcome = harness::decode_record(files, bytes);
    assert!(!outcome.decoded || outcome.loaded, "{name}: {outcome:?}");
    match harness::expected_record(name) {
        Some(expected) => {
            assert_eq!(outcome, expected, "{name}");
            true
        }
        None => false,
    }
}

#[test]
fn fresh_cookie_seeds_open_as_named() {
    let codecs = Codecs::new();
    let seeds = harness::cookie_seeds();
    let mut valid = 0;
    for seed in &seeds {
        let outcome = check_cookie(&codecs, &seed.name, &seed.bytes).expect("a named seed");
        valid += usize::from(outcome.opened != 0);
    }
    assert!(valid >= 30, "only {valid} valid seeds");
    write_seeds("open_cookie", &seeds);
}

#[test]
fn fresh_record_seeds_load_as_named() {
    let files = FilesHarness::new();
    let seeds = harness::record_seeds(&files);
    for seed in &seeds {
        assert!(
            check_record(&files, &seed.name, &seed.bytes),
            "{}",
            seed.name
        );
    }
    write_seeds("decode_record", &seeds);
}

#[test]
fn open_cookie_corpus_replays() {
    let codecs = Codecs::new();
    let seeds = files_in(&fuzz_dir().join("seeds/open_cookie"));
    for (name, bytes) in &seeds {
        assert!(
            check_cookie(&codecs, name, bytes).is_some(),
            "seed {name} has no expectation in its name"
        );
    }
    let corpus = files_in(&fuzz_dir().join("corpus/open_cookie"));
    let opened = corpus
        .iter()
        .filter(|(name, bytes)| check_cookie(&codecs, name, bytes).is_some_and(|o| o.opened != 0))
        .count();
    println!(
        "open_cookie: {} seeds and {} corpus inputs replayed ({opened} of them open)",
        seeds.len(),
        corpus.len()
    );
}

#[test]
fn decode_record_corpus_replays() {
    let files = FilesHarness::new();
    let seeds = files_in(&fuzz_dir().join("seeds/decode_record"));
    for (name, bytes) in &seeds {
        assert!(
            check_record(&files, name, bytes),
            "seed {name} has no expectation in its name"
        );
    }
    let corpus = files_in(&fuzz_dir().join("corpus/decode_record"));
    for (name, bytes) in &corpus {
        check_record(&files, name, bytes);
    }
    println!(
        "decode_record: {} seeds and {} corpus inputs replayed",
        seeds.len(),
        corpus.len()
    );
}
