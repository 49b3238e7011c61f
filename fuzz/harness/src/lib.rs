//! The code the fuzz targets run, shared with the stable replay test
//! (`tests/tests/fuzz_corpus.rs` depends on this crate), so a corpus file is replayed through
//! exactly what the fuzzer ran.
//!
//! Nothing here may panic on any input; the asserts are properties that must hold whenever a
//! value does open (it re-seals and opens to the same body).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use session_runtime::codec::{Codec, CodecOptions, KeyRing, Timestamps};
use session_runtime::store::{FilesStore, Record, SessionStore};
use session_runtime::{EncryptionMode, FieldEncoder, Session, SessionId, SessionSchema, StoreKey};
use session_runtime::{StoredFields, store::Update};

/// The cookie name every codec is bound to.
pub const COOKIE_NAME: &str = "fuzz";
/// The current secret: it seals.
pub const SECRET: &[u8] = b"fuzzing secret, current: 0123456789abcdef0123456789abcdef";
/// A retired secret: it still opens.
pub const RETIRED: &[u8] = b"fuzzing secret, retired: fedcba9876543210fedcba9876543210";
/// A secret the codecs do not know.
pub const STRANGER: &[u8] = b"fuzzing secret, unknown: 00112233445566778899aabbccddeeff";
/// The clock the records are judged by (2023-11-14).
pub const NOW: u64 = 1_700_000_000;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub zip: Option<u32>,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Role {
    #[default]
    Guest,
    Member(u64),
    Admin {
        level: u8,
        scopes: Vec<String>,
    },
}

fn default_theme() -> String {
    "light".to_owned()
}

/// A session type with a field of every kind the decoder has to handle.
#[derive(Session, Debug, PartialEq)]
#[session(cookie_name = "fuzz", expire = 3600)]
pub struct Sample {
    pub counter: u32,
    pub small: i8,
    pub big: u64,
    pub signed: i64,
    pub ratio: f64,
    pub flag: bool,
    pub letter: char,
    #[session(rename = "u")]
    pub user: Option<String>,
    #[session(default = "default_theme")]
    pub theme: String,
    pub items: Vec<u32>,
    pub scores: HashMap<String, i32>,
    pub ordered: BTreeMap<String, Vec<bool>>,
    pub address: Address,
    pub role: Role,
    pub pair: (u16, String),
    pub bytes: Vec<u8>,
    #[session(skip)]
    pub scratch: Vec<u8>,
}

impl Sample {
    /// A value with every field away from its default.
    pub fn example(counter: u32) -> Sample {
        Sample {
            counter,
            small: -7,
            big: u64::MAX,
            signed: i64::MIN,
            ratio: 0.1,
            flag: true,
            letter: 'ß',
            user: Some("ada \u{1F600} \"quoted\"".to_owned()),
            theme: "dark".to_owned(),
            items: vec![1, 2, 3, u32::MAX],
            scores: HashMap::from([("a".to_owned(), -1), ("\u{e9}".to_owned(), 2)]),
            ordered: BTreeMap::from([("k".to_owned(), vec![true, false])]),
            address: Address {
                street: "1 Main St".to_owned(),
                zip: Some(12345),
                tags: vec!["home".to_owned()],
            },
            role: Role::Admin {
                level: 3,
                scopes: vec!["read".to_owned(), "write".to_owned()],
            },
            pair: (65535, "pair".to_owned()),
            bytes: vec![0, 1, 255],
            scratch: vec![9],
        }
    }

    /// The session's JSON object, as the cookie store seals it.
    pub fn body(&self) -> Vec<u8> {
        let mut encoder = FieldEncoder::default();
        self.encode_fields(&mut encoder)
            .expect("every field encodes");
        let mut out = Vec::new();
        encoder.write_object(Sample::FIELDS, &mut out);
        out
    }

    /// The session's fields, as a server-side store keeps them.
    pub fn record_fields(&self) -> Vec<(String, Vec<u8>)> {
        let mut encoder = FieldEncoder::default();
        self.encode_fields(&mut encoder)
            .expect("every field encodes");
        Sample::FIELDS
            .iter()
            .enumerate()
            .map(|(i, name)| ((*name).to_owned(), encoder.get(i).unwrap().to_vec()))
            .collect()
    }
}

/// The codecs the `open_cookie` target opens every input with, and their labels.
pub struct Codecs {
    pub list: Vec<(&'static str, Codec)>,
}

/// Bit masks of [`Codecs::list`] entries, by the kind of value each opens.
pub const MODERN_FAMILY: u16 = 0b000_0111;
pub const NONE_FAMILY: u16 = 0b011_1000;
pub const LEGACY_OPENERS: u16 = 0b100_0100 | 0b010_0000;

fn ring(secrets: &[&[u8]]) -> KeyRing {
    KeyRing::from_secrets(secrets.iter().copied()).expect("long enough secrets")
}

fn codec(secrets: &[&[u8]], mode: EncryptionMode, level: i32, accept_legacy: bool) -> Codec {
    let mut options = CodecOptions::new(mode, COOKIE_NAME);
    options.compression_level = level;
    options.accept_legacy = accept_legacy;
    Codec::new(&ring(secrets), options).expect("valid options")
}

impl Codecs {
    /// The three modes, with and without compression and `accept_legacy`, from fixed secrets
    /// (the current one and a retired one).
    pub fn new() -> Codecs {
        let keys: &[&[u8]] = &[SECRET, RETIRED];
        Codecs {
            list: vec![
                ("modern", codec(keys, EncryptionMode::Modern, 0, false)),
                ("modern+zstd", codec(keys, EncryptionMode::Modern, 3, false)),
                (
                    "modern+accept_legacy",
                    codec(keys, EncryptionMode::Modern, 0, true),
                ),
                ("none", codec(keys, EncryptionMode::None, 0, false)),
                ("none+zstd", codec(keys, EncryptionMode::None, 19, false)),
                (
                    "none+accept_legacy",
                    codec(keys, EncryptionMode::None, 0, true),
                ),
                ("legacy", codec(keys, EncryptionMode::Legacy, 0, false)),
            ],
        }
    }
}

impl Default for Codecs {
    fn default() -> Self {
        Codecs::new()
    }
}

/// What one cookie input did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CookieOutcome {
    /// Bit `i` set: codec `i` of [`Codecs::list`] opened it.
    pub opened: u16,
    /// Bit `i` set: codec `i` opened it with a retired key or from another mode.
    pub stale: u16,
    /// Bit `i` set: the opened body decoded into a [`Sample`].
    pub decoded: u16,
}

/// The `open_cookie` target: the input as a cookie value, through every codec, then (if it
/// opens) through the same field decoding the engine does, and back through a re-seal.
pub fn open_cookie(codecs: &Codecs, data: &[u8]) -> CookieOutcome {
    let value = String::from_utf8_lossy(data);
    let mut outcome = CookieOutcome::default();
    for (index, (label, codec)) in codecs.list.iter().enumerate() {
        let Ok(opened) = codec.open(&value) else {
            continue;
        };
        let bit = 1 << index;
        outcome.opened |= bit;
        if opened.stale {
            outcome.stale |= bit;
        }
        if let Ok(fields) = StoredFields::parse(&opened.body) {
            let _ = fields.decode::<u64>("$ttl");
            if let Ok(sample) = Sample::decode_fields(&fields) {
                outcome.decoded |= bit;
                // What the engine keeps as the baseline must encode again.
                let mut encoder = FieldEncoder::default();
                sample
                    .encode_fields(&mut encoder)
                    .expect("a decoded session encodes");
            }
        }
        // Whatever opened re-seals, and the re-sealed value opens to the same body.
        let times = opened.timestamps.unwrap_or(Timestamps {
            issued_at: NOW,
            expires_at: 0,
        });
        if let Ok(resealed) = codec.seal(&opened.body, times) {
            let again = codec
                .open(&resealed)
                .unwrap_or_else(|e| panic!("{label}: a re-sealed value does not open: {e}"));
            assert_eq!(again.body, opened.body, "{label}: body changed on re-seal");
            assert!(!again.stale, "{label}: a fresh seal is stale");
            if codec.mode() != EncryptionMode::Legacy {
                assert_eq!(again.timestamps, Some(times), "{label}: timestamps changed");
            }
        }
    }
    outcome
}

/// A files store in a private temporary directory, and the one file the target writes.
pub struct FilesHarness {
    _dir: tempfile::TempDir,
    store: FilesStore,
    key: StoreKey,
    path: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl FilesHarness {
    pub fn new() -> FilesHarness {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = FilesStore::new(dir.path().join("sessions"), "sess_%s").expect("a store");
        let key = SessionId::generate().expect("an id").store_key("fuzz:");
        let path = store.file_path(&key).expect("a hashed key has a file");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        FilesHarness {
            _dir: dir,
            store,
            key,
            path,
            runtime,
        }
    }

    /// The bytes of the file the store writes for a record (a valid seed).
    pub fn file_of(&self, record: &Record) -> Vec<u8> {
        self.runtime
            .block_on(self.store.create(&self.key, record))
            .expect("the record is written");
        let bytes = std::fs::read(&self.path).expect("the file is there");
        std::fs::remove_file(&self.path).expect("the file is removed");
        bytes
    }
}

impl Default for FilesHarness {
    fn default() -> Self {
        FilesHarness::new()
    }
}

/// What one stored-record input did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordOutcome {
    /// The files store read it as a live session.
    pub loaded: bool,
    /// Its fields decoded into a [`Sample`] (as the engine decodes a stored record).
    pub decoded: bool,
    /// The input itself, read as a cookie body (`StoredFields::parse`), decoded into a
    /// [`Sample`].
    pub body_decoded: bool,
}

/// The `decode_record` target: the input as a session file read by the files store (then the
/// engine's decoding of a record), and the input as a session body (`StoredFields::parse`
/// then `decode_fields`).
pub fn decode_record(files: &FilesHarness, data: &[u8]) -> RecordOutcome {
    let mut outcome = RecordOutcome::default();
    std::fs::write(&files.path, data).expect("the session file is written");
    let loaded = files.runtime.block_on(files.store.load(&files.key, NOW));
    if let Ok(Some(record)) = loaded {
        outcome.loaded = true;
        assert!(record.expires_at > NOW, "an expired record was returned");
        if let Some(sample) = decode_record_fields(&record) {
            outcome.decoded = true;
            // An update of the decoded fields applies, and reads back as the same session.
            let update = Update {
                changed: sample.record_fields(),
                expires_at: record.expires_at,
                idle_timeout: record.idle_timeout,
            };
            let applied = files
                .runtime
                .block_on(files.store.update(&files.key, &update, NOW));
            if applied.is_ok() {
                let back = files
                    .runtime
                    .block_on(files.store.load(&files.key, NOW))
                    .expect("a written file reads back")
                    .expect("a written record is live");
                let again = decode_record_fields(&back).expect("a written record decodes");
                assert_eq!(again, sample, "record changed on update");
            }
        }
    }
    let _ = std::fs::remove_file(&files.path);
    if let Ok(fields) = StoredFields::parse(data) {
        if let Ok(sample) = Sample::decode_fields(&fields) {
            outcome.body_decoded = true;
            let body = sample.body();
            let fields = StoredFields::parse(&body).expect("an encoded body parses");
            let again = Sample::decode_fields(&fields).expect("an encoded body decodes");
            assert_eq!(again, sample, "body changed on a round trip");
        }
    }
    outcome
}

/// The fields of a record as the engine decodes them: each one JSON value, then the schema.
fn decode_record_fields(record: &Record) -> Option<Sample> {
    let mut entries = Vec::with_capacity(record.fields.len());
    for (name, value) in &record.fields {
        let raw: &RawValue = serde_json::from_slice(value).ok()?;
        entries.push((Cow::Borrowed(name.as_str()), raw));
    }
    Sample::decode_fields(&StoredFields::from_entries(entries)).ok()
}

/// A named seed and what it must do.
pub struct Seed {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What a seed must do, from its name: `ok-modern-*`, `ok-none-*`, `ok-legacy-*` open in
/// exactly the codecs of that kind; `bad-*` opens in none.
pub fn expected_cookie_mask(name: &str) -> Option<u16> {
    if name.starts_with("ok-modern-") {
        Some(MODERN_FAMILY)
    } else if name.starts_with("ok-none-") {
        Some(NONE_FAMILY)
    } else if name.starts_with("ok-legacy-") {
        Some(LEGACY_OPENERS)
    } else if name.starts_with("bad-") {
        Some(0)
    } else {
        None
    }
}

/// Valid values sealed in every mode, with every key, compressed or not, and garbage.
pub fn cookie_seeds() -> Vec<Seed> {
    let sample = Sample::example(41);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("sample", sample.body()),
        ("empty", b"{}".to_vec()),
        ("counter", br#"{"counter":3,"$ttl":60}"#.to_vec()),
        (
            "repetitive",
            format!(r#"{{"items":[{}]}}"#, vec!["7"; 400].join(",")).into_bytes(),
        ),
    ];
    let times = Timestamps {
        issued_at: NOW,
        expires_at: NOW + 3600,
    };
    let mut seeds = Vec::new();
    let mut push = |name: String, value: String| {
        seeds.push(Seed {
            name,
            bytes: value.into_bytes(),
        })
    };
    for (mode, kind) in [
        (EncryptionMode::Modern, "modern"),
        (EncryptionMode::None, "none"),
        (EncryptionMode::Legacy, "legacy"),
    ] {
        for (key_name, key) in [("current", SECRET), ("retired", RETIRED)] {
            let levels: &[i32] = if mode == EncryptionMode::Legacy {
                &[0]
            } else {
                &[0, 3]
            };
            for &level in levels {
                let sealer = codec(&[key], mode, level, false);
                for (body_name, body) in &bodies {
                    let value = sealer.seal(body, times).expect("a seed seals");
                    push(format!("ok-{kind}-{key_name}-z{level}-{body_name}"), value);
                }
            }
            // A value the codecs know the key of, but for another cookie name.
            let mut options = CodecOptions::new(mode, "other");
            options.compression_level = 0;
            let other = Codec::new(&ring(&[key]), options).expect("valid options");
            push(
                format!("bad-{kind}-{key_name}-other-name"),
                other.seal(b"{}", times).expect("a seed seals"),
            );
        }
        let stranger = codec(&[STRANGER], mode, 0, false);
        push(
            format!("bad-{kind}-unknown-key"),
            stranger.seal(b"{}", times).expect("a seed seals"),
        );
    }
    for (name, value) in [
        ("bad-empty", ""),
        ("bad-text", "garbage"),
        ("bad-padding", "AQ=="),
        ("bad-version", "Aw"),
        ("bad-short", "AQAAAAA"),
        ("bad-path", "../../etc/passwd"),
    ] {
        push(name.to_owned(), value.to_owned());
    }
    push("bad-too-long".to_owned(), "A".repeat(17 * 1024));
    seeds
}

/// What a record seed must do, from its name: `ok-file-*` loads and decodes, `ok-body-*`
/// decodes as a body only, `bad-file-loads-*` loads but does not decode, `bad-file-object-*`
/// does not load, `bad-*` does nothing.
pub fn expected_record(name: &str) -> Option<RecordOutcome> {
    let outcome = |loaded, decoded, body_decoded| {
        Some(RecordOutcome {
            loaded,
            decoded,
            body_decoded,
        })
    };
    // A session file is a JSON object too: read as a body, its names are not fields, so it
    // decodes as a session of defaults.
    if name.starts_with("ok-file-") {
        outcome(true, true, true)
    } else if name.starts_with("ok-body-") {
        outcome(false, false, true)
    } else if name.starts_with("bad-file-loads-") {
        outcome(true, false, true)
    } else if name.starts_with("bad-file-object-") {
        outcome(false, false, true)
    } else if name.starts_with("bad-") {
        outcome(false, false, false)
    } else {
        None
    }
}

/// Session files written by the store, cookie bodies, and broken ones of both.
pub fn record_seeds(files: &FilesHarness) -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut push = |name: &str, bytes: Vec<u8>| {
        seeds.push(Seed {
            name: name.to_owned(),
            bytes,
        })
    };
    let sample = Sample::example(41);
    let record = Record {
        fields: sample.record_fields(),
        created_at: NOW - 10,
        expires_at: NOW + 3600,
        idle_timeout: Some(600),
    };
    let file = files.file_of(&record);
    push("ok-file-sample", file.clone());
    push(
        "ok-file-partial",
        files.file_of(&Record {
            fields: vec![("counter".to_owned(), b"7".to_vec())],
            created_at: NOW,
            expires_at: u64::MAX,
            idle_timeout: None,
        }),
    );
    push(
        "ok-file-bin",
        files.file_of(&Record {
            fields: vec![("counter".to_owned(), b" 7 ".to_vec())],
            created_at: NOW,
            expires_at: NOW + 1,
            idle_timeout: None,
        }),
    );
    push(
        "bad-file-object-expired",
        files.file_of(&Record {
            expires_at: NOW,
            ..record.clone()
        }),
    );
    push(
        "bad-file-loads-wrong-type",
        files.file_of(&Record {
            fields: vec![("counter".to_owned(), br#""seven""#.to_vec())],
            ..record.clone()
        }),
    );
    push(
        "bad-file-loads-not-json",
        files.file_of(&Record {
            fields: vec![("unknown".to_owned(), vec![0xff, 0x00])],
            ..record.clone()
        }),
    );
    let text = String::from_utf8(file.clone()).expect("files are JSON");
    push(
        "bad-file-object-version",
        text.replacen(r#""v":1"#, r#""v":2"#, 1).into_bytes(),
    );
    push("bad-file-truncated", file[..file.len() / 2].to_vec());
    push("bad-file-empty", Vec::new());
    push("bad-file-array", b"[1,2,3]".to_vec());
    push("ok-body-sample", sample.body());
    push("ok-body-empty", b"{}".to_vec());
    push(
        "ok-body-extra",
        br#"{"counter":1,"$ttl":5,"unknown":[1,{"a":null}]}"#.to_vec(),
    );
    push(
        "bad-body-duplicate",
        br#"{"counter":1,"counter":2}"#.to_vec(),
    );
    push("bad-body-overflow", br#"{"counter":4294967296}"#.to_vec());
    push("bad-body-char", br#"{"letter":"ab"}"#.to_vec());
    push("bad-body-trailing", br#"{"counter":1} x"#.to_vec());
    push("bad-body-deep", "[".repeat(4096).into_bytes());
    seeds
}
