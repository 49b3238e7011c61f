//! Compression: only when smaller, bounded decompression, levels.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use session_runtime::EncryptionMode;
use session_runtime::codec::{Codec, CodecOptions, KeyRing, OpenError, Timestamps, compress};

const SECRET: &[u8] = b"a secret for the compression tests, 32+ bytes";
const TIMES: Timestamps = Timestamps {
    issued_at: 5,
    expires_at: 6,
};

fn codec(mode: EncryptionMode, level: i32) -> Codec {
    let keys = KeyRing::from_secrets([SECRET]).unwrap();
    let mut options = CodecOptions::new(mode, "visit");
    options.compression_level = level;
    Codec::new(&keys, options).unwrap()
}

fn json(len: usize) -> Vec<u8> {
    let mut out = String::from("{\"items\":[");
    let mut i = 0;
    while out.len() < len {
        out.push_str(&format!(
            "{{\"id\":{i},\"name\":\"item number {i}\",\"qty\":1}},"
        ));
        i += 1;
    }
    out.push_str("0]}");
    out.into_bytes()
}

fn flags(mode: EncryptionMode, value: &str) -> u8 {
    let raw = URL_SAFE_NO_PAD.decode(value).unwrap();
    match mode {
        EncryptionMode::None => raw[5],
        _ => panic!("flags are readable in clear only in none mode"),
    }
}

#[test]
fn compression_is_used_only_when_smaller() {
    let c = codec(EncryptionMode::None, 3);
    let tiny = br#"{"a":1}"#;
    let value = c.seal(tiny, TIMES).unwrap();
    assert_eq!(flags(EncryptionMode::None, &value), 0);
    assert_eq!(c.open(&value).unwrap().body, tiny);

    let big = json(2000);
    let value = c.seal(&big, TIMES).unwrap();
    assert_eq!(flags(EncryptionMode::None, &value), 1);
    let plain = codec(EncryptionMode::None, 0).seal(&big, TIMES).unwrap();
    assert!(value.len() < plain.len());
    assert_eq!(c.open(&value).unwrap().body, big);
    // A codec without compression still opens compressed values.
    assert_eq!(
        codec(EncryptionMode::None, 0).open(&value).unwrap().body,
        big
    );
}

#[test]
fn round_trips_at_levels_1_3_19() {
    for mode in [EncryptionMode::Modern, EncryptionMode::None] {
        for level in [1, 3, 19] {
            let c = codec(mode, level);
            for len in [0, 10, 64, 200, 1024, 4096, 20_000] {
                let body = json(len);
                let opened = c.open(&c.seal(&body, TIMES).unwrap()).unwrap();
                assert_eq!(opened.body, body, "{mode:?} level {level} len {len}");
                assert_eq!(opened.timestamps, Some(TIMES));
            }
        }
    }
}

#[test]
fn bad_levels_are_refused() {
    let keys = KeyRing::from_secrets([SECRET]).unwrap();
    for level in [-1, 23, 100] {
        let mut options = CodecOptions::new(EncryptionMode::Modern, "visit");
        options.compression_level = level;
        assert!(Codec::new(&keys, options).is_err());
    }
}

/// A validly sealed modern value whose body is a zstd frame of `content`.
fn sealed_frame(frame: &[u8]) -> String {
    let mut key = [0u8; 32];
    let mut key_id = [0u8; 4];
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&[]), SECRET);
    hk.expand(b"session-runtime/modern/v1/key", &mut key)
        .unwrap();
    hk.expand(b"session-runtime/modern/v1/id", &mut key_id)
        .unwrap();
    let nonce = [1u8; 24];
    let mut aad = vec![1u8];
    aad.extend_from_slice(&key_id);
    aad.extend_from_slice(b"visit");
    let mut plaintext = vec![1u8];
    plaintext.extend_from_slice(&TIMES.issued_at.to_be_bytes());
    plaintext.extend_from_slice(&TIMES.expires_at.to_be_bytes());
    plaintext.extend_from_slice(frame);
    let sealed = XChaCha20Poly1305::new((&key).into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plaintext,
                aad: &aad,
            },
        )
        .unwrap();
    let mut raw = vec![1u8];
    raw.extend_from_slice(&key_id);
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(raw)
}

#[test]
fn a_zstd_bomb_fails_with_too_large() {
    let zeros = vec![0u8; 10 * 1024 * 1024];
    let frame = zstd::bulk::compress(&zeros, 19).unwrap();
    assert!(frame.len() < 2000, "{} bytes", frame.len());
    let value = sealed_frame(&frame);
    let c = codec(EncryptionMode::Modern, 0);
    let start = std::time::Instant::now();
    assert_eq!(c.open(&value).unwrap_err(), OpenError::TooLarge);
    // Rejected from the header: no 10 MB of work.
    assert!(start.elapsed() < std::time::Duration::from_millis(50));
}

#[test]
fn a_bomb_without_declared_size_fails_with_too_large() {
    // A streamed frame does not record its content size.
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 19).unwrap();
    encoder.include_contentsize(false).unwrap();
    std::io::Write::write_all(&mut encoder, &vec![0u8; 10 * 1024 * 1024]).unwrap();
    let frame = encoder.finish().unwrap();
    assert_eq!(
        zstd::zstd_safe::get_frame_content_size(&frame).unwrap(),
        None
    );
    assert_eq!(
        codec(EncryptionMode::Modern, 0)
            .open(&sealed_frame(&frame))
            .unwrap_err(),
        OpenError::TooLarge
    );
    assert_eq!(
        compress::decompress(&frame, 64 * 1024).unwrap_err(),
        OpenError::TooLarge
    );
    // Under the bound, such a frame opens.
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    encoder.include_contentsize(false).unwrap();
    std::io::Write::write_all(&mut encoder, &json(3000)).unwrap();
    let frame = encoder.finish().unwrap();
    let opened = codec(EncryptionMode::Modern, 0)
        .open(&sealed_frame(&frame))
        .unwrap();
    assert_eq!(opened.body, json(3000));
}

#[test]
fn invalid_frames_fail() {
    let c = codec(EncryptionMode::Modern, 0);
    assert_eq!(
        c.open(&sealed_frame(b"not zstd")).unwrap_err(),
        OpenError::Decompress
    );
    let frame = zstd::bulk::compress(&json(3000), 3).unwrap();
    let mut two = frame.clone();
    two.extend_from_slice(&frame);
    assert_eq!(
        c.open(&sealed_frame(&two)).unwrap_err(),
        OpenError::Decompress
    );
    assert_eq!(
        c.open(&sealed_frame(&frame[..frame.len() - 1]))
            .unwrap_err(),
        OpenError::Decompress
    );
}

#[test]
fn unknown_flag_bits_are_refused() {
    // Build a valid none-mode value with flags 0x02 by signing it ourselves.
    use hmac::{Hmac, Mac};
    let mut mac_key = [0u8; 32];
    let mut key_id = [0u8; 4];
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&[]), SECRET);
    hk.expand(b"session-runtime/none/v1/key", &mut mac_key)
        .unwrap();
    hk.expand(b"session-runtime/none/v1/id", &mut key_id)
        .unwrap();
    // 0x02 alone: the dictionary bit needs bit 0. (0x03, a dictionary frame, is defined: see
    // codec_dictionary.rs.)
    for flags in [0x02u8, 0x80, 0x05] {
        let mut raw = vec![2u8];
        raw.extend_from_slice(&key_id);
        raw.push(flags);
        raw.extend_from_slice(&[0u8; 16]);
        raw.extend_from_slice(b"{}");
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&mac_key).unwrap();
        mac.update(&raw[..5]);
        mac.update(&[5]);
        mac.update(b"visit");
        mac.update(&raw[5..]);
        raw.extend_from_slice(&mac.finalize().into_bytes());
        assert_eq!(
            codec(EncryptionMode::None, 0)
                .open(&URL_SAFE_NO_PAD.encode(&raw))
                .unwrap_err(),
            OpenError::Malformed
        );
    }
}

#[test]
fn body_larger_than_the_bound_is_refused_at_seal() {
    let keys = KeyRing::from_secrets([SECRET]).unwrap();
    let mut options = CodecOptions::new(EncryptionMode::Modern, "visit");
    options.max_decompressed = 100;
    let c = Codec::new(&keys, options).unwrap();
    assert!(c.seal(&[b' '; 101], TIMES).is_err());
}
