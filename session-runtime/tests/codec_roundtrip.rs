//! Round trips, timestamps, key ring and options.

use session_runtime::EncryptionMode;
use session_runtime::codec::{
    Codec, CodecError, CodecOptions, KeyError, KeyRing, MIN_SECRET_LEN, Timestamps,
};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn codec(mode: EncryptionMode) -> Codec {
    Codec::new(
        &KeyRing::from_secrets([SECRET]).unwrap(),
        CodecOptions::new(mode, "visit"),
    )
    .unwrap()
}

#[test]
fn timestamps_round_trip() {
    for mode in [EncryptionMode::Modern, EncryptionMode::None] {
        let codec = codec(mode);
        for times in [
            Timestamps {
                issued_at: 0,
                expires_at: 0,
            },
            Timestamps {
                issued_at: 1,
                expires_at: u64::MAX,
            },
            Timestamps {
                issued_at: u64::MAX,
                expires_at: 0,
            },
            Timestamps {
                issued_at: 1_700_000_000,
                expires_at: 1_700_003_600,
            },
        ] {
            let opened = codec.open(&codec.seal(b"{}", times).unwrap()).unwrap();
            assert_eq!(opened.timestamps, Some(times));
            assert_eq!(opened.body, b"{}");
        }
    }
}

#[test]
fn bodies_round_trip_in_every_mode() {
    for mode in [
        EncryptionMode::Modern,
        EncryptionMode::None,
        EncryptionMode::Legacy,
    ] {
        let codec = codec(mode);
        assert_eq!(codec.mode(), mode);
        for len in [0usize, 1, 64, 200, 1024, 4096] {
            let body: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let value = codec.seal(body.as_bytes(), Timestamps::default()).unwrap();
            assert!(value.is_ascii());
            let opened = codec.open(&value).unwrap();
            assert_eq!(opened.body, body.as_bytes());
            assert!(!opened.stale);
        }
    }
}

#[test]
fn sizes_are_as_documented() {
    let value = codec(EncryptionMode::Modern)
        .seal(b"", Timestamps::default())
        .unwrap();
    assert_eq!(value.len(), (62 * 4usize).div_ceil(3));
    let value = codec(EncryptionMode::None)
        .seal(b"", Timestamps::default())
        .unwrap();
    assert_eq!(value.len(), ((5 + 17 + 32) * 4usize).div_ceil(3));
}

#[test]
fn key_ring_checks_secrets() {
    assert_eq!(
        KeyRing::from_secrets(Vec::<&[u8]>::new()).unwrap_err(),
        KeyError::NoSecret
    );
    let short = vec![0u8; MIN_SECRET_LEN - 1];
    assert_eq!(
        KeyRing::from_secrets([SECRET, &short]).unwrap_err(),
        KeyError::TooShort {
            index: 1,
            len: MIN_SECRET_LEN - 1
        }
    );
    assert!(KeyError::NoSecret.to_string().contains("32"));
    let ring = KeyRing::from_secrets([SECRET, SECRET]).unwrap();
    assert_eq!(ring.len(), 2);
    // The same secret twice is harmless.
    let c = Codec::new(&ring, CodecOptions::new(EncryptionMode::Modern, "v")).unwrap();
    assert!(
        !c.open(&c.seal(b"{}", Timestamps::default()).unwrap())
            .unwrap()
            .stale
    );
}

#[test]
fn debug_output_holds_no_secret() {
    let secret = b"SUPERSECRETSUPERSECRETSUPERSECRET";
    let ring = KeyRing::from_secrets([secret]).unwrap();
    let ring_debug = format!("{ring:?}");
    for mode in [
        EncryptionMode::Modern,
        EncryptionMode::None,
        EncryptionMode::Legacy,
    ] {
        let codec = Codec::new(&ring, CodecOptions::new(mode, "visit")).unwrap();
        let debug = format!("{codec:?} {ring_debug}");
        assert!(!debug.contains("SUPERSECRET"), "{debug}");
        assert!(!debug.contains("83, 85, 80"), "{debug}"); // the bytes of "SUP"
    }
}

#[test]
fn cookie_name_bounds() {
    let ring = KeyRing::from_secrets([SECRET]).unwrap();
    assert!(
        Codec::new(
            &ring,
            CodecOptions::new(EncryptionMode::Modern, "a".repeat(200))
        )
        .is_ok()
    );
    assert_eq!(
        Codec::new(
            &ring,
            CodecOptions::new(EncryptionMode::None, "a".repeat(201))
        )
        .unwrap_err(),
        CodecError::CookieName { len: 201 }
    );
    assert!(Codec::new(&ring, CodecOptions::new(EncryptionMode::Modern, "")).is_err());
}

#[test]
fn codec_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Codec>();
    assert_send_sync::<KeyRing>();
    let codec = codec(EncryptionMode::Modern);
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let codec = codec.clone();
            std::thread::spawn(move || {
                for n in 0..200u64 {
                    let body = format!("{{\"t\":{i},\"n\":{n}}}");
                    let times = Timestamps {
                        issued_at: n,
                        expires_at: 0,
                    };
                    let opened = codec
                        .open(&codec.seal(body.as_bytes(), times).unwrap())
                        .unwrap();
                    assert_eq!(opened.body, body.as_bytes());
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn errors_display_and_are_std_errors() {
    use session_runtime::codec::{OpenError, SealError};
    fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    is_error(&OpenError::Authentication);
    is_error(&KeyError::NoSecret);
    is_error(&CodecError::CompressionWithLegacy);
    let seal = SealError::TooLong {
        len: 5000,
        max: 4096,
    };
    is_error(&seal);
    assert!(seal.to_string().contains("5000"));
    assert!(!OpenError::TooLarge.to_string().is_empty());
}
