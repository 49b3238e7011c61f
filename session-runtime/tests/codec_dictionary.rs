//! zstd dictionaries: round trips, sizes on a realistic corpus, the dictionary id check, values
//! sealed before a dictionary was added, and dictionaries the codec refuses.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, header};
use http_body_util::BodyExt;
use session_runtime::codec::compress::{Dictionary, DictionaryError};
use session_runtime::codec::{Codec, CodecError, CodecOptions, KeyRing, OpenError, Timestamps};
use session_runtime::{EncryptionMode, Session};
use session_test_support::session_corpus::{BUCKETS, corpus};
use tower::ServiceExt;

const SECRET: &[u8] = b"a secret for the dictionary tests, 32+ bytes";
const TIMES: Timestamps = Timestamps {
    issued_at: 1_700_000_000,
    expires_at: 1_700_003_600,
};
const DICTIONARY_SIZE: usize = 8 * 1024;

/// A dictionary trained on 400 sessions of the corpus made from `seed`.
fn train(seed: u64) -> Vec<u8> {
    zstd::dict::from_samples(&corpus(seed, 400, 150, 2048), DICTIONARY_SIZE).unwrap()
}

/// Dictionary A (seed 1) and dictionary B (seed 2), trained once for the whole file.
fn dictionaries() -> &'static (Vec<u8>, Vec<u8>) {
    static DICTIONARIES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    DICTIONARIES.get_or_init(|| (train(1), train(2)))
}

/// Sessions the dictionaries were not trained on.
fn held_out() -> Vec<Vec<u8>> {
    corpus(99, 200, 150, 2048)
}

fn codec(mode: EncryptionMode, level: i32, dictionary: Option<&[u8]>) -> Result<Codec, CodecError> {
    let keys = KeyRing::from_secrets([SECRET]).unwrap();
    let mut options = CodecOptions::new(mode, "shop");
    options.compression_level = level;
    options.compression_dictionary = dictionary.map(Dictionary::from);
    Codec::new(&keys, options)
}

/// The flags byte of a `none`-mode value (readable: version, key id, then flags).
fn signed_flags(value: &str) -> u8 {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .unwrap();
    raw[5]
}

#[test]
fn the_corpus_spans_the_size_buckets() {
    let sessions = held_out();
    for &(label, min, max) in BUCKETS {
        let n = sessions
            .iter()
            .filter(|s| (min..=max).contains(&s.len()))
            .count();
        assert!(n >= 10, "{label}: only {n} sessions");
    }
    for session in &sessions {
        serde_json::from_slice::<serde_json::Value>(session).unwrap();
    }
}

#[test]
fn round_trip_with_a_dictionary() {
    let (a, _) = dictionaries();
    for mode in [EncryptionMode::Modern, EncryptionMode::None] {
        let codec = codec(mode, 3, Some(a)).unwrap();
        for body in held_out() {
            let value = codec.seal(&body, TIMES).unwrap();
            let opened = codec.open(&value).unwrap();
            assert_eq!(opened.body, body, "{mode:?}");
            assert_eq!(opened.timestamps, Some(TIMES));
        }
    }
}

#[test]
fn dictionary_frames_are_smaller_than_plain_ones_in_every_bucket() {
    let (a, _) = dictionaries();
    let plain = codec(EncryptionMode::None, 3, None).unwrap();
    let with_dictionary = codec(EncryptionMode::None, 3, Some(a)).unwrap();
    let sessions = held_out();
    for &(label, min, max) in BUCKETS {
        let (mut plain_len, mut dictionary_len, mut dictionary_frames) = (0, 0, 0);
        for body in sessions.iter().filter(|s| (min..=max).contains(&s.len())) {
            plain_len += plain.seal(body, TIMES).unwrap().len();
            let value = with_dictionary.seal(body, TIMES).unwrap();
            dictionary_len += value.len();
            if signed_flags(&value) == 0x03 {
                dictionary_frames += 1;
            }
        }
        assert!(
            dictionary_len < plain_len,
            "{label}: {dictionary_len} bytes with the dictionary, {plain_len} without"
        );
        assert!(dictionary_frames > 0, "{label}: no dictionary frame");
    }
}

#[test]
fn a_value_sealed_with_dictionary_a_opens_only_with_a() {
    let (a, b) = dictionaries();
    let codec_a = codec(EncryptionMode::Modern, 3, Some(a)).unwrap();
    let codec_b = codec(EncryptionMode::Modern, 3, Some(b)).unwrap();
    let no_dictionary = codec(EncryptionMode::Modern, 3, None).unwrap();
    assert_ne!(Dictionary::from(&a[..]).id(), Dictionary::from(&b[..]).id());
    let body = held_out().into_iter().find(|b| b.len() > 1000).unwrap();
    let value = codec_a.seal(&body, TIMES).unwrap();
    assert_eq!(codec_b.open(&value).unwrap_err(), OpenError::Dictionary);
    assert_eq!(
        no_dictionary.open(&value).unwrap_err(),
        OpenError::Dictionary
    );
    assert_eq!(codec_a.open(&value).unwrap().body, body);
}

#[test]
fn values_without_the_dictionary_flag_open_in_a_codec_with_a_dictionary() {
    let (a, _) = dictionaries();
    let with_dictionary = codec(EncryptionMode::None, 3, Some(a)).unwrap();
    for level in [0, 3] {
        let before = codec(EncryptionMode::None, level, None).unwrap();
        for body in held_out().iter().step_by(10) {
            let value = before.seal(body, TIMES).unwrap();
            assert_eq!(signed_flags(&value) & 0x02, 0);
            assert_eq!(&with_dictionary.open(&value).unwrap().body, body);
        }
    }
}

#[test]
fn level_zero_with_a_dictionary_seals_plain_and_still_opens_dictionary_values() {
    let (a, _) = dictionaries();
    let compressing = codec(EncryptionMode::None, 3, Some(a)).unwrap();
    let off = codec(EncryptionMode::None, 0, Some(a)).unwrap();
    let body = held_out().into_iter().find(|b| b.len() > 1000).unwrap();
    let value = compressing.seal(&body, TIMES).unwrap();
    assert_eq!(signed_flags(&value), 0x03);
    assert_eq!(off.open(&value).unwrap().body, body);
    let plain = off.seal(&body, TIMES).unwrap();
    assert_eq!(signed_flags(&plain), 0);
    assert_eq!(compressing.open(&plain).unwrap().body, body);
}

#[test]
fn decompression_with_a_dictionary_is_bounded() {
    let (a, _) = dictionaries();
    let sealing = codec(EncryptionMode::Modern, 3, Some(a)).unwrap();
    let keys = KeyRing::from_secrets([SECRET]).unwrap();
    let mut options = CodecOptions::new(EncryptionMode::Modern, "shop");
    options.compression_level = 3;
    options.compression_dictionary = Some(Dictionary::from(&a[..]));
    options.max_decompressed = 1000;
    let bounded = Codec::new(&keys, options).unwrap();
    let body = held_out().into_iter().find(|b| b.len() > 1500).unwrap();
    let value = sealing.seal(&body, TIMES).unwrap();
    assert_eq!(bounded.open(&value).unwrap_err(), OpenError::TooLarge);
}

#[test]
fn dictionaries_zstd_cannot_use_are_refused_when_the_codec_is_built() {
    let (a, _) = dictionaries();
    let refused = |bytes: &[u8]| match codec(EncryptionMode::Modern, 3, Some(bytes)) {
        Err(CodecError::CompressionDictionary(e)) => e,
        other => panic!("accepted: {other:?}"),
    };
    assert_eq!(refused(b""), DictionaryError::Empty);
    assert_eq!(
        refused(b"raw content, not a dictionary"),
        DictionaryError::NotZstdFormat
    );
    let mut no_id = a.clone();
    no_id[4..8].copy_from_slice(&[0; 4]);
    assert_eq!(refused(&no_id), DictionaryError::NoId);
    let mut corrupt = a[..12].to_vec();
    corrupt.extend_from_slice(&[0xff; 64]);
    assert_eq!(refused(&corrupt), DictionaryError::Rejected);
    // Prepared for opening only, the same checks apply.
    assert!(matches!(
        codec(EncryptionMode::Modern, 0, Some(&corrupt)),
        Err(CodecError::CompressionDictionary(DictionaryError::Rejected))
    ));
    assert_eq!(
        codec(EncryptionMode::Legacy, 0, Some(a)).unwrap_err(),
        CodecError::DictionaryWithLegacy
    );
    let message = CodecError::CompressionDictionary(DictionaryError::NotZstdFormat).to_string();
    assert!(message.contains("not a zstd dictionary"), "{message}");
}

#[derive(Session)]
#[session(cookie_name = "shop", compression_level = 3)]
struct Shop {
    /// A whole session of the corpus, as a stand-in for a real shop's fields.
    state: Option<serde_json::Value>,
    visits: u32,
}

async fn visit(mut shop: Session<Shop>) -> String {
    if shop.state.is_none() {
        let body = held_out().into_iter().find(|b| b.len() > 1000).unwrap();
        shop.state = Some(serde_json::from_slice(&body).unwrap());
    }
    shop.visits += 1;
    format!("{} {}", shop.is_new(), shop.visits)
}

async fn app(dictionary: Option<&[u8]>) -> Router {
    let mut builder = Shop::layer().secret(SECRET);
    if let Some(bytes) = dictionary {
        builder = builder.compression_dictionary(bytes);
    }
    Router::new()
        .route("/", get(visit))
        .layer(builder.build().await.unwrap())
}

/// `GET /` with an optional cookie: the body, and the `shop` cookie set, if any.
async fn get_root(app: &Router, cookie: Option<&str>) -> (String, Option<String>) {
    let mut request = Request::get("/");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with("shop=") && !v.contains("Max-Age=0"))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .next();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (String::from_utf8(body.to_vec()).unwrap(), cookie)
}

#[tokio::test]
async fn through_the_layer_another_dictionary_means_a_fresh_session() {
    let (a, b) = dictionaries();
    let layer_a = app(Some(a)).await;
    let layer_b = app(Some(b)).await;
    let plain = app(None).await;

    let (body, cookie) = get_root(&layer_a, None).await;
    assert_eq!(body, "true 1");
    let cookie = cookie.unwrap();
    assert_eq!(get_root(&layer_a, Some(&cookie)).await.0, "false 2");
    assert_eq!(get_root(&layer_b, Some(&cookie)).await.0, "true 1");
    assert_eq!(get_root(&plain, Some(&cookie)).await.0, "true 1");

    // Adding a dictionary logs nobody out.
    let (_, before) = get_root(&plain, None).await;
    assert_eq!(get_root(&layer_a, before.as_deref()).await.0, "false 2");
}

#[tokio::test]
async fn the_builder_refuses_a_dictionary_zstd_cannot_use() {
    let built = Shop::layer()
        .secret(SECRET)
        .compression_dictionary(b"not a dictionary".to_vec())
        .build()
        .await;
    let Err(error) = built else {
        panic!("a dictionary zstd cannot use was accepted");
    };
    let message = error.to_string();
    assert!(message.contains("not a zstd dictionary"), "{message}");
}
