//! `legacy` against the real `cookie` crate's `PrivateJar`, both ways.

use cookie::{Cookie, CookieJar, Key};
use session_runtime::EncryptionMode;
use session_runtime::codec::{Codec, CodecError, CodecOptions, KeyRing, OpenError, Timestamps};

const NAME: &str = "visit";
const SECRET: &[u8] = b"a master secret of more than thirty-two bytes";
const BODY: &str = r#"{"counter":3,"u":"ada"}"#;

fn jar_seal(key: &Key, value: &str) -> String {
    let mut jar = CookieJar::new();
    jar.private_mut(key)
        .add(Cookie::new(NAME, value.to_owned()));
    jar.get(NAME).unwrap().value().to_owned()
}

fn jar_open(key: &Key, value: &str) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(NAME, value.to_owned()));
    jar.private(key).get(NAME).map(|c| c.value().to_owned())
}

fn legacy_codec(keys: &KeyRing) -> Codec {
    Codec::new(keys, CodecOptions::new(EncryptionMode::Legacy, NAME)).unwrap()
}

#[test]
fn generated_key_both_ways() {
    let key = Key::generate();
    let codec = legacy_codec(&KeyRing::from_legacy_keys([key.clone()]).unwrap());

    let value = codec.seal(BODY.as_bytes(), Timestamps::default()).unwrap();
    assert_eq!(jar_open(&key, &value).as_deref(), Some(BODY));

    let value = jar_seal(&key, BODY);
    let opened = codec.open(&value).unwrap();
    assert_eq!(opened.body, BODY.as_bytes());
    assert_eq!(opened.timestamps, None);
    assert!(!opened.stale);
}

#[test]
fn key_derived_from_a_secret_both_ways() {
    let key = Key::derive_from(SECRET);
    let codec = legacy_codec(&KeyRing::from_secrets([SECRET]).unwrap());

    let value = codec.seal(BODY.as_bytes(), Timestamps::default()).unwrap();
    assert_eq!(jar_open(&key, &value).as_deref(), Some(BODY));
    assert_eq!(
        codec.open(&jar_seal(&key, BODY)).unwrap().body,
        BODY.as_bytes()
    );
}

#[test]
fn explicit_keys_seal_first_and_every_key_opens() {
    let explicit = Key::generate();
    let keys = KeyRing::from_secrets([SECRET])
        .unwrap()
        .with_legacy_keys([explicit.clone()]);
    let codec = legacy_codec(&keys);

    let value = codec.seal(BODY.as_bytes(), Timestamps::default()).unwrap();
    assert_eq!(jar_open(&explicit, &value).as_deref(), Some(BODY));

    let derived = Key::derive_from(SECRET);
    let opened = codec.open(&jar_seal(&derived, BODY)).unwrap();
    assert_eq!(opened.body, BODY.as_bytes());
    assert!(
        opened.stale,
        "a value of a later key is re-sealed with the first"
    );

    let stranger = Key::generate();
    assert_eq!(
        codec.open(&jar_seal(&stranger, BODY)).unwrap_err(),
        OpenError::Authentication
    );
}

#[test]
fn wrong_cookie_name_fails() {
    let key = Key::generate();
    let codec = legacy_codec(&KeyRing::from_legacy_keys([key.clone()]).unwrap());
    let mut jar = CookieJar::new();
    jar.private_mut(&key).add(Cookie::new("other", BODY));
    let value = jar.get("other").unwrap().value().to_owned();
    assert_eq!(codec.open(&value).unwrap_err(), OpenError::Authentication);
}

#[test]
fn modern_codec_accepts_legacy_when_told_and_marks_it_stale() {
    let old = Key::generate();
    let keys = KeyRing::from_secrets([SECRET])
        .unwrap()
        .with_legacy_keys([old.clone()]);
    let legacy_value = jar_seal(&old, BODY);

    for mode in [EncryptionMode::Modern, EncryptionMode::None] {
        let strict = Codec::new(&keys, CodecOptions::new(mode, NAME)).unwrap();
        assert!(strict.open(&legacy_value).is_err());

        let mut options = CodecOptions::new(mode, NAME);
        options.accept_legacy = true;
        let codec = Codec::new(&keys, options).unwrap();
        let opened = codec.open(&legacy_value).unwrap();
        assert_eq!(opened.body, BODY.as_bytes());
        assert_eq!(opened.timestamps, None);
        assert!(opened.stale);

        // Its own values still open, not stale.
        let own = codec.seal(BODY.as_bytes(), Timestamps::default()).unwrap();
        assert!(!codec.open(&own).unwrap().stale);

        // A legacy value derived from the secret opens too.
        let derived = jar_seal(&Key::derive_from(SECRET), BODY);
        assert!(codec.open(&derived).unwrap().stale);
    }
}

#[test]
fn legacy_refuses_compression_and_non_utf8() {
    let keys = KeyRing::from_secrets([SECRET]).unwrap();
    let mut options = CodecOptions::new(EncryptionMode::Legacy, NAME);
    options.compression_level = 1;
    assert_eq!(
        Codec::new(&keys, options).unwrap_err(),
        CodecError::CompressionWithLegacy
    );
    let codec = legacy_codec(&keys);
    assert!(codec.seal(&[0xff, 0xfe], Timestamps::default()).is_err());
}

#[test]
fn legacy_only_ring_cannot_seal_modern() {
    let keys = KeyRing::from_legacy_keys([Key::generate()]).unwrap();
    assert_eq!(
        Codec::new(&keys, CodecOptions::new(EncryptionMode::Modern, NAME)).unwrap_err(),
        CodecError::NoSecretForMode(EncryptionMode::Modern)
    );
}
