//! Tampering, truncation, extension, moved values and key rotation, in all three modes.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use session_runtime::EncryptionMode;
use session_runtime::codec::{Codec, CodecOptions, KeyRing, OpenError, Timestamps};

const CURRENT: &[u8] = b"current secret, thirty-two bytes or more";
const RETIRED: &[u8] = b"retired secret, thirty-two bytes or more";
const BODY: &[u8] = br#"{"counter":12,"user":"grace","theme":"dark"}"#;
const TIMES: Timestamps = Timestamps {
    issued_at: 1_700_000_000,
    expires_at: 1_700_086_400,
};
const MODES: [EncryptionMode; 3] = [
    EncryptionMode::Modern,
    EncryptionMode::None,
    EncryptionMode::Legacy,
];

fn codec_with(mode: EncryptionMode, name: &str, secrets: &[&[u8]], level: i32) -> Codec {
    let keys = KeyRing::from_secrets(secrets.iter().copied()).unwrap();
    let mut options = CodecOptions::new(mode, name);
    options.compression_level = level;
    Codec::new(&keys, options).unwrap()
}

fn codec(mode: EncryptionMode) -> Codec {
    codec_with(mode, "visit", &[CURRENT], 0)
}

fn decode(mode: EncryptionMode, value: &str) -> Vec<u8> {
    match mode {
        EncryptionMode::Legacy => STANDARD.decode(value).unwrap(),
        _ => URL_SAFE_NO_PAD.decode(value).unwrap(),
    }
}

fn encode(mode: EncryptionMode, raw: &[u8]) -> String {
    match mode {
        EncryptionMode::Legacy => STANDARD.encode(raw),
        _ => URL_SAFE_NO_PAD.encode(raw),
    }
}

#[test]
fn every_flipped_byte_fails() {
    for mode in MODES {
        for level in [0, 3] {
            if mode == EncryptionMode::Legacy && level != 0 {
                continue;
            }
            let codec = codec_with(mode, "visit", &[CURRENT], level);
            let value = codec.seal(&BODY.repeat(4), TIMES).unwrap();
            assert_eq!(codec.open(&value).unwrap().body, BODY.repeat(4));
            let raw = decode(mode, &value);
            for i in 0..raw.len() {
                for bit in [0x01u8, 0x80] {
                    let mut bad = raw.clone();
                    bad[i] ^= bit;
                    let result = codec.open(&encode(mode, &bad));
                    assert!(
                        result.is_err(),
                        "{mode:?} level {level}: byte {i} bit {bit:#x} opened"
                    );
                }
            }
        }
    }
}

#[test]
fn every_truncation_and_extension_fails() {
    for mode in MODES {
        let codec = codec(mode);
        let value = codec.seal(BODY, TIMES).unwrap();
        let raw = decode(mode, &value);
        for len in 0..raw.len() {
            assert!(
                codec.open(&encode(mode, &raw[..len])).is_err(),
                "{mode:?} len {len}"
            );
        }
        for extra in [&[0u8][..], &[0u8; 16], b"garbage!"] {
            let mut long = raw.clone();
            long.extend_from_slice(extra);
            assert!(codec.open(&encode(mode, &long)).is_err());
        }
        // Truncating the text itself (not the bytes) fails too.
        for len in 0..value.len() {
            assert!(codec.open(&value[..len]).is_err());
        }
    }
}

#[test]
fn a_value_moved_to_another_cookie_fails() {
    for mode in MODES {
        let value = codec(mode).seal(BODY, TIMES).unwrap();
        let other = codec_with(mode, "cart", &[CURRENT], 0);
        let err = other.open(&value).unwrap_err();
        assert_eq!(err, OpenError::Authentication, "{mode:?}");
    }
}

#[test]
fn a_retired_key_opens_and_marks_stale_a_removed_key_fails() {
    for mode in MODES {
        let old = codec_with(mode, "visit", &[RETIRED], 0);
        let value = old.seal(BODY, TIMES).unwrap();

        let rotated = codec_with(mode, "visit", &[CURRENT, RETIRED], 0);
        let opened = rotated.open(&value).unwrap();
        assert_eq!(opened.body, BODY);
        assert!(opened.stale, "{mode:?}");
        let resealed = rotated.seal(&opened.body, TIMES).unwrap();
        assert!(!rotated.open(&resealed).unwrap().stale);

        let removed = codec_with(mode, "visit", &[CURRENT], 0);
        let err = removed.open(&value).unwrap_err();
        let expected = if mode == EncryptionMode::Legacy {
            OpenError::Authentication // no key id: every key was tried
        } else {
            OpenError::UnknownKey
        };
        assert_eq!(err, expected, "{mode:?}");
    }
}

#[test]
fn wrong_version_byte_fails() {
    for mode in [EncryptionMode::Modern, EncryptionMode::None] {
        let codec = codec(mode);
        let raw = decode(mode, &codec.seal(BODY, TIMES).unwrap());
        for version in [0x00u8, 0x03, 0x81, 0xff] {
            let mut bad = raw.clone();
            bad[0] = version;
            assert_eq!(
                codec.open(&encode(mode, &bad)).unwrap_err(),
                OpenError::UnknownVersion
            );
        }
    }
}

#[test]
fn strict_base64() {
    for mode in [EncryptionMode::Modern, EncryptionMode::None] {
        let codec = codec(mode);
        let value = codec.seal(BODY, TIMES).unwrap();
        let raw = decode(mode, &value);
        // Padding is refused.
        let padded = base64::engine::general_purpose::URL_SAFE.encode(&raw);
        if padded != value {
            assert_eq!(codec.open(&padded).unwrap_err(), OpenError::Encoding);
        }
        // The standard alphabet is refused where it differs.
        let standard = STANDARD.encode(&raw);
        if standard.trim_end_matches('=') != value {
            assert!(codec.open(standard.trim_end_matches('=')).is_err());
        }
        // Non-canonical trailing bits are refused.
        let partial_group = raw.len() % 3;
        if partial_group != 0 {
            let last = value.chars().last().unwrap();
            const ALPHABET: &str =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let index = ALPHABET.find(last).unwrap();
            let mut changed = value.clone();
            changed.pop();
            changed.push(ALPHABET.as_bytes()[index ^ 1] as char);
            assert_eq!(codec.open(&changed).unwrap_err(), OpenError::Encoding);
        }
        assert_eq!(codec.open("not base64!").unwrap_err(), OpenError::Encoding);
        assert_eq!(codec.open("").unwrap_err(), OpenError::Truncated);
    }
}

#[test]
fn too_long_is_refused_before_any_work() {
    for mode in MODES {
        let keys = KeyRing::from_secrets([CURRENT]).unwrap();
        let mut options = CodecOptions::new(mode, "visit");
        options.max_value_len = 100;
        let codec = Codec::new(&keys, options).unwrap();
        assert_eq!(
            codec.open(&"!".repeat(101)).unwrap_err(),
            OpenError::TooLong
        );
        assert!(codec.seal(&[b'a'; 200], TIMES).is_err());
    }
}

#[test]
fn garbage_never_panics() {
    // A small deterministic fuzz: random strings, random bytes in both alphabets.
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let codecs: Vec<Codec> = MODES.iter().map(|&m| codec(m)).collect();
    let mut lenient_options = CodecOptions::new(EncryptionMode::Modern, "visit");
    lenient_options.accept_legacy = true;
    let lenient = Codec::new(&KeyRing::from_secrets([CURRENT]).unwrap(), lenient_options).unwrap();
    for _ in 0..3000 {
        let len = (next() % 200) as usize;
        let mut raw: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if !raw.is_empty() && next() % 2 == 0 {
            raw[0] = (next() % 3) as u8;
        }
        let text: String = raw.iter().map(|&b| (b % 94 + 33) as char).collect();
        for codec in codecs.iter().chain([&lenient]) {
            let _ = codec.open(&URL_SAFE_NO_PAD.encode(&raw));
            let _ = codec.open(&STANDARD.encode(&raw));
            let _ = codec.open(&text);
        }
    }
}
