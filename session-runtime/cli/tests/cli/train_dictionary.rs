//! `sessions train-dictionary`: a dictionary zstd accepts, and a report.

use session_runtime::codec::compress::{self, Dictionary, PreparedDictionary};

use crate::support::sessions;

/// `n` session bodies that look alike, as real ones do.
fn samples(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"user_id":{i},"theme":"{}","cart":["sku-{}","sku-{}"],"locale":"en-GB","flash":null}}"#,
                ["dark", "light", "system"][i % 3],
                i * 7 % 101,
                i * 13 % 97
            ) + "\n"
        })
        .collect()
}

#[test]
fn trains_a_dictionary_zstd_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("samples.jsonl");
    let out = dir.path().join("session.dict");
    std::fs::write(&input, samples(300)).unwrap();
    let run = sessions(
        &[
            "train-dictionary",
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--size",
            "2048",
        ],
        &[],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("samples: 300 (240 for training, 60 held out)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("with dictionary:"), "{}", run.stdout);

    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.len() <= 2048);
    let dictionary = Dictionary::from(bytes.clone());
    let prepared = PreparedDictionary::new(&dictionary, 3).unwrap();
    assert!(
        run.stdout.contains(&format!("id {}", prepared.id())),
        "{}",
        run.stdout
    );
    // zstd itself compresses and decompresses with it.
    let body = samples(1);
    let frame = zstd::bulk::Compressor::with_dictionary(3, &bytes)
        .unwrap()
        .compress(body.as_bytes())
        .unwrap();
    let back = zstd::bulk::Decompressor::with_dictionary(&bytes)
        .unwrap()
        .decompress(&frame, body.len())
        .unwrap();
    assert_eq!(back, body.as_bytes());
    assert!(compress::compress_with_dictionary(body.as_bytes(), &prepared).is_ok());
}

#[test]
fn refuses_too_few_samples_and_samples_that_are_not_objects() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("samples.jsonl");
    let out = dir.path().join("session.dict");
    let args = [
        "train-dictionary",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ];
    std::fs::write(&input, samples(3)).unwrap();
    sessions(&args, &[], "").fails_with(2, "3 samples: give at least 10");
    std::fs::write(&input, samples(20) + "[1]\n").unwrap();
    sessions(&args, &[], "").fails_with(2, "line 21: not a JSON object");
    assert!(!out.exists());
    let size = ["train-dictionary", "a", "b", "--size", "9"];
    sessions(&size, &[], "").fails_with(2, "give 256 to 1048576 bytes");
}
