//! The `modern` and `none` formats, rebuilt from their description with independent crates:
//! `chacha20poly1305`'s XChaCha20Poly1305 and `hmac`, plus `hkdf` and `base64`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use session_runtime::EncryptionMode;
use session_runtime::codec::{Codec, CodecOptions, KeyRing, OpenError, Timestamps, modern};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-cross";
const NAME: &str = "visit";

fn hkdf<const N: usize>(info: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(&[]), SECRET)
        .expand(info, &mut out)
        .unwrap();
    out
}

fn plaintext(flags: u8, issued: u64, expires: u64, body: &[u8]) -> Vec<u8> {
    let mut p = vec![flags];
    p.extend_from_slice(&issued.to_be_bytes());
    p.extend_from_slice(&expires.to_be_bytes());
    p.extend_from_slice(body);
    p
}

fn codec(mode: EncryptionMode) -> Codec {
    let keys = KeyRing::from_secrets([SECRET]).unwrap();
    Codec::new(&keys, CodecOptions::new(mode, NAME)).unwrap()
}

#[test]
fn modern_value_from_the_description_opens_with_codec() {
    let key = hkdf::<32>(b"session-runtime/modern/v1/key");
    let key_id = hkdf::<4>(b"session-runtime/modern/v1/id");
    let nonce = [0x5au8; 24];
    let mut aad = vec![0x01];
    aad.extend_from_slice(&key_id);
    aad.extend_from_slice(NAME.as_bytes());
    let body = br#"{"counter":41,"user":"ada"}"#;
    let sealed = XChaCha20Poly1305::new((&key).into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plaintext(0, 1_700_000_000, 1_700_003_600, body),
                aad: &aad,
            },
        )
        .unwrap();
    let mut raw = vec![0x01];
    raw.extend_from_slice(&key_id);
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&sealed);
    let value = URL_SAFE_NO_PAD.encode(&raw);

    let opened = codec(EncryptionMode::Modern).open(&value).unwrap();
    assert_eq!(opened.body, body);
    assert_eq!(
        opened.timestamps,
        Some(Timestamps {
            issued_at: 1_700_000_000,
            expires_at: 1_700_003_600
        })
    );
    assert!(!opened.stale);
}

#[test]
fn modern_value_from_codec_opens_with_the_chacha20poly1305_crate() {
    let key = hkdf::<32>(b"session-runtime/modern/v1/key");
    let key_id = hkdf::<4>(b"session-runtime/modern/v1/id");
    let codec = codec(EncryptionMode::Modern);
    for len in [0usize, 1, 15, 16, 17, 63, 64, 65, 200, 1024, 4096] {
        let body = vec![b'x'; len];
        let value = codec
            .seal(
                &body,
                Timestamps {
                    issued_at: 7,
                    expires_at: 0,
                },
            )
            .unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        assert_eq!(raw[0], 0x01);
        assert_eq!(raw[1..5], key_id);
        let mut aad = vec![0x01];
        aad.extend_from_slice(&key_id);
        aad.extend_from_slice(NAME.as_bytes());
        let plain = XChaCha20Poly1305::new((&key).into())
            .decrypt(
                XNonce::from_slice(&raw[5..29]),
                Payload {
                    msg: &raw[29..],
                    aad: &aad,
                },
            )
            .expect("the reference implementation opens our value");
        assert_eq!(plain, plaintext(0, 7, 0, &body));
    }
}

#[test]
fn the_primitive_matches_the_reference_on_many_inputs() {
    let cipher_key = [0x42u8; 32];
    let reference = XChaCha20Poly1305::new((&cipher_key).into());
    for len in 0..300usize {
        let nonce: [u8; 24] = std::array::from_fn(|i| (i * 7 + len) as u8);
        let aad: Vec<u8> = (0..len % 37).map(|i| i as u8).collect();
        let msg: Vec<u8> = (0..len).map(|i| (i * 31 + 3) as u8).collect();
        let expected = reference
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &msg,
                    aad: &aad,
                },
            )
            .unwrap();
        let mut ours = msg.clone();
        let tag = modern::xchacha20poly1305_seal(&cipher_key, &nonce, &aad, &mut ours);
        ours.extend_from_slice(&tag);
        assert_eq!(ours, expected, "length {len}");
        let opened = modern::xchacha20poly1305_open(&cipher_key, &nonce, &aad, &mut ours).unwrap();
        assert_eq!(opened, &msg[..]);
    }
}

/// Test vector of draft-irtf-cfrg-xchacha-03, appendix A.3.1.
#[test]
fn xchacha_draft_test_vector() {
    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let aad = hex("50515253c0c1c2c3c4c5c6c7");
    let key: [u8; 32] = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
        .try_into()
        .unwrap();
    let nonce: [u8; 24] = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
        .try_into()
        .unwrap();
    let expected_ct = hex(
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
         731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
         2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
         21f9664c97637da9768812f615c68b13b52e",
    );
    let expected_tag = hex("c0875924c1c7987947deafd8780acf49");
    let mut buf = plaintext.to_vec();
    let tag = modern::xchacha20poly1305_seal(&key, &nonce, &aad, &mut buf);
    assert_eq!(buf, expected_ct);
    assert_eq!(tag.to_vec(), expected_tag);
}

#[test]
fn signed_value_from_the_description_opens_with_codec_and_back() {
    let mac_key = hkdf::<32>(b"session-runtime/none/v1/key");
    let key_id = hkdf::<4>(b"session-runtime/none/v1/id");
    let body = br#"{"theme":"dark"}"#;
    let payload = plaintext(0, 10, 20, body);
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&mac_key).unwrap();
    mac.update(&[0x02]);
    mac.update(&key_id);
    mac.update(&[NAME.len() as u8]);
    mac.update(NAME.as_bytes());
    mac.update(&payload);
    let tag = mac.finalize().into_bytes();
    let mut raw = vec![0x02];
    raw.extend_from_slice(&key_id);
    raw.extend_from_slice(&payload);
    raw.extend_from_slice(&tag);
    let value = URL_SAFE_NO_PAD.encode(&raw);

    let codec = codec(EncryptionMode::None);
    let opened = codec.open(&value).unwrap();
    assert_eq!(opened.body, body);
    assert_eq!(
        opened.timestamps,
        Some(Timestamps {
            issued_at: 10,
            expires_at: 20
        })
    );
    // Signing is deterministic: the codec produces the very same value.
    let ours = codec
        .seal(
            body,
            Timestamps {
                issued_at: 10,
                expires_at: 20,
            },
        )
        .unwrap();
    assert_eq!(ours, value);
}

#[test]
fn modern_nonces_differ_between_seals() {
    let codec = codec(EncryptionMode::Modern);
    let times = Timestamps::default();
    let a = codec.seal(b"{}", times).unwrap();
    let b = codec.seal(b"{}", times).unwrap();
    assert_ne!(a, b);
    let a = URL_SAFE_NO_PAD.decode(a).unwrap();
    let b = URL_SAFE_NO_PAD.decode(b).unwrap();
    assert_ne!(a[5..29], b[5..29]);
}

#[test]
fn modern_rejects_a_value_of_the_signed_format() {
    let value = codec(EncryptionMode::None)
        .seal(b"{}", Timestamps::default())
        .unwrap();
    assert_eq!(
        codec(EncryptionMode::Modern).open(&value).unwrap_err(),
        OpenError::UnknownVersion
    );
}
