//! The value codec: a session's JSON body in, a cookie value out, and back.
//!
//! Pipeline: body (the session's JSON object) -> optional zstd (only when smaller) -> seal
//! (one of three [`EncryptionMode`]s) -> cookie value. Opening runs it backwards, bounded: the
//! value's length is checked before any decoding, decompression never passes
//! [`CodecOptions::max_decompressed`], and every failure is an [`OpenError`] (never a panic),
//! which the caller turns into a fresh session.
//!
//! | mode | module | value | timestamps | compression |
//! |---|---|---|---|---|
//! | `modern` (default) | [`modern`] | XChaCha20-Poly1305, key id, base64url | sealed | yes |
//! | `none` | [`signed`] | readable, HMAC-SHA256, key id, base64url | signed | yes |
//! | `legacy` | [`legacy`] | the `cookie` crate's private cookies (AES-256-GCM) | no | no |
//!
//! In `modern` and `none`, the first plaintext byte is the flags byte:
//!
//! ```text
//! bit 0  the body is one zstd frame
//! bit 1  that zstd frame was compressed with the layer's dictionary
//!        (CodecOptions::compression_dictionary; only together with bit 0, and the frame
//!        header records the dictionary's id, which must match the layer's)
//! bits 2..7 must be 0
//! ```
//!
//! A value with bit 1 opens only in a codec that has the same dictionary (the frame's
//! dictionary id is checked first); elsewhere it fails with [`OpenError::Dictionary`], which
//! means a fresh session. Values without bit 1 open whether or not the codec has a
//! dictionary, so adding a dictionary to a layer logs nobody out.
//!
//! ```
//! use session_runtime::EncryptionMode;
//! use session_runtime::codec::{Codec, CodecOptions, KeyRing, Timestamps};
//!
//! let keys = KeyRing::from_secrets([b"a secret of at least thirty-two bytes!"])?;
//! let codec = Codec::new(&keys, CodecOptions::new(EncryptionMode::Modern, "visit"))?;
//!
//! let times = Timestamps { issued_at: 1_700_000_000, expires_at: 1_700_003_600 };
//! let value = codec.seal(br#"{"counter":1}"#, times)?;
//! let opened = codec.open(&value)?;
//! assert_eq!(opened.body, br#"{"counter":1}"#);
//! assert_eq!(opened.timestamps, Some(times));
//! assert!(!opened.stale);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod compress;
mod keys;
// The formats' building blocks: public for the cross-implementation tests, the fuzz targets
// and the benchmarks, which check them against other implementations; not an API.
#[doc(hidden)]
pub mod legacy;
#[doc(hidden)]
pub mod modern;
mod random;
#[doc(hidden)]
pub mod signed;

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use crate::config::EncryptionMode;
pub use crate::envelope::{IDLE_TIMEOUT_KEY, REFRESHED_KEY};
pub use keys::{KeyError, KeyRing, MIN_SECRET_LEN};

use modern::ModernKey;
use signed::SignedKey;

/// Reseeds this thread's nonce generator from the OS.
///
/// `modern` nonces come from `rand`'s thread-local CSPRNG, seeded from the OS (a system call
/// per seal costs more than the encryption; the figures are in BENCHMARKS.md). A process that
/// calls `fork()` and then seals in the child without `exec` must call this in the child
/// first, or the child could repeat the parent's nonces. Nothing else needs it.
///
/// ```
/// session_runtime::codec::reseed_after_fork()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn reseed_after_fork() -> Result<(), std::io::Error> {
    random::reseed().map_err(std::io::Error::other)
}

/// When a value was sealed and when it stops being valid, in unix seconds.
///
/// Sealed inside `modern` and `none` values, so the browser cannot change them. The codec does
/// not judge expiry itself: the caller compares `expires_at` with the clock.
///
/// ```
/// use session_runtime::codec::Timestamps;
///
/// let times = Timestamps { issued_at: 100, expires_at: 0 }; // 0: no expiry
/// assert_eq!(times, Timestamps { issued_at: 100, expires_at: 0 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Timestamps {
    /// When the value was sealed (or the session created: the caller decides), unix seconds.
    pub issued_at: u64,
    /// When the value stops being valid, unix seconds; 0 means never.
    pub expires_at: u64,
}

/// Settings of a [`Codec`].
///
/// ```
/// use session_runtime::EncryptionMode;
/// use session_runtime::codec::CodecOptions;
///
/// let mut options = CodecOptions::new(EncryptionMode::Modern, "visit");
/// assert_eq!(options.max_value_len, 16 * 1024);
/// options.compression_level = 3;
/// options.accept_legacy = true;
/// assert!(options.compression_dictionary.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecOptions {
    /// How values are protected.
    pub mode: EncryptionMode,
    /// The cookie name, bound into every value (1 to 200 bytes, the settings' limit).
    pub cookie_name: String,
    /// zstd level 1..=22, or 0 for no compression (the default). Not with `legacy`.
    pub compression_level: i32,
    /// A zstd dictionary (in zstd's format, with an id) to compress bodies with; prepared once
    /// in [`Codec::new`]. With `compression_level` 0 it is only used to open values sealed with
    /// it earlier. Not with `legacy`. Default none.
    pub compression_dictionary: Option<compress::Dictionary>,
    /// Longest value accepted by [`Codec::open`] and produced by [`Codec::seal`], in bytes;
    /// checked before any work. Default 16 KiB (several cookies' worth, for chunking).
    pub max_value_len: usize,
    /// Largest body accepted by [`Codec::seal`] and produced by decompression in
    /// [`Codec::open`]. Default 64 KiB.
    pub max_decompressed: usize,
    /// Whether a `modern` or `none` codec also opens `legacy` values (with the ring's legacy
    /// keys); those come back with [`Opened::stale`] set, so they are re-sealed in the codec's
    /// own mode. Default false.
    pub accept_legacy: bool,
    /// With `accept_legacy`: from this unix time on, the engine refuses the `legacy` values the
    /// codec still opens (see [`Codec::legacy_refused_at`]). Default none: no deadline.
    pub accept_legacy_until: Option<u64>,
}

impl CodecOptions {
    /// Options with the defaults: no compression, `max_value_len` 16 KiB, `max_decompressed`
    /// 64 KiB, `accept_legacy` false.
    pub fn new(mode: EncryptionMode, cookie_name: impl Into<String>) -> Self {
        CodecOptions {
            mode,
            cookie_name: cookie_name.into(),
            compression_level: 0,
            compression_dictionary: None,
            max_value_len: 16 * 1024,
            max_decompressed: 64 * 1024,
            accept_legacy: false,
            accept_legacy_until: None,
        }
    }
}

/// A session value that opened.
#[derive(Clone, PartialEq, Eq)]
pub struct Opened {
    /// The session's JSON object, decompressed.
    pub body: Vec<u8>,
    /// The sealed timestamps; `None` for a `legacy` value.
    pub timestamps: Option<Timestamps>,
    /// The value was opened with a retired key, or is a `legacy` value opened by a `modern` or
    /// `none` codec: re-seal it on the way out.
    pub stale: bool,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("body_len", &self.body.len())
            .field("timestamps", &self.timestamps)
            .field("stale", &self.stale)
            .finish()
    }
}

/// Why a value did not open. Every variant means "start a fresh session".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenError {
    /// The value is longer than [`CodecOptions::max_value_len`].
    TooLong,
    /// The value is not canonical base64 of the expected alphabet.
    Encoding,
    /// The value is shorter than its format's fixed parts.
    Truncated,
    /// The version byte is not the codec's.
    UnknownVersion,
    /// No key in the ring has the value's key id (a removed key, or another app's value).
    UnknownKey,
    /// The tag does not match: tampered, another cookie's value, or the wrong key.
    Authentication,
    /// It authenticated but its layout is wrong (unknown flag bits, missing timestamps, not
    /// UTF-8 where required).
    Malformed,
    /// The compressed body is not one valid zstd frame.
    Decompress,
    /// The body would decompress past [`CodecOptions::max_decompressed`].
    TooLarge,
    /// The body was compressed with a dictionary the codec does not have (none, or one with
    /// another id).
    Dictionary,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpenError::TooLong => "session value is longer than the configured maximum",
            OpenError::Encoding => "session value is not valid base64",
            OpenError::Truncated => "session value is truncated",
            OpenError::UnknownVersion => "session value has an unknown format version",
            OpenError::UnknownKey => "session value was sealed with a key that is not in the key ring",
            OpenError::Authentication => "session value failed authentication (tampered, moved from another cookie, or wrong key)",
            OpenError::Malformed => "session value is malformed",
            OpenError::Decompress => "session value's compressed body is invalid",
            OpenError::TooLarge => "session value decompresses past the configured maximum",
            OpenError::Dictionary => "session value was compressed with a dictionary this layer does not have",
        })
    }
}

impl std::error::Error for OpenError {}

/// Why a body could not be sealed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SealError {
    /// zstd failed.
    Compress(std::io::Error),
    /// The body is larger than [`CodecOptions::max_decompressed`].
    BodyTooLarge {
        /// Body length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The sealed value would be longer than [`CodecOptions::max_value_len`], so it could not be
    /// opened again.
    TooLong {
        /// Value length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// `legacy` bodies must be UTF-8 (the `cookie` crate stores strings).
    NotUtf8,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::Compress(e) => write!(f, "could not compress the session: {e}"),
            SealError::BodyTooLarge { len, max } => write!(
                f,
                "session body is {len} bytes, over the limit of {max} (max_decompressed)"
            ),
            SealError::TooLong { len, max } => write!(
                f,
                "sealed session value would be {len} bytes, over the limit of {max} \
                 (max_value_len): store less in the session, enable compression, or use a \
                 server-side store"
            ),
            SealError::NotUtf8 => f.write_str("legacy session bodies must be UTF-8"),
        }
    }
}

impl std::error::Error for SealError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SealError::Compress(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a [`Codec`] could not be built from its keys and options.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    /// The cookie name is empty or longer than
    /// [`MAX_COOKIE_NAME_LEN`](session_settings::defaults::MAX_COOKIE_NAME_LEN) (200) bytes.
    CookieName {
        /// Its length in bytes.
        len: usize,
    },
    /// `compression_level` is outside 0..=22.
    CompressionLevel(i32),
    /// `legacy` has no room for a compression flag.
    CompressionWithLegacy,
    /// `legacy` has no room for a compression flag, so no use for a dictionary.
    DictionaryWithLegacy,
    /// The compression dictionary cannot be used.
    CompressionDictionary(compress::DictionaryError),
    /// The ring holds only legacy keys, which cannot seal in this mode.
    NoSecretForMode(EncryptionMode),
    /// Two different secrets share a key id (a 1 in 2^32 chance): replace the later one.
    KeyIdCollision {
        /// Position of the later secret.
        index: usize,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::CookieName { len } => write!(
                f,
                "cookie name is {len} bytes long; it must be 1 to {} bytes",
                session_settings::defaults::MAX_COOKIE_NAME_LEN
            ),
            CodecError::CompressionLevel(level) => write!(
                f,
                "compression level {level} is out of range: use 0 (off) to 22"
            ),
            CodecError::CompressionWithLegacy => f.write_str(
                "compression is not available with encryption_mode = \"legacy\": its format has no \
                 room for it; set compression_level = 0 or use \"modern\"",
            ),
            CodecError::DictionaryWithLegacy => f.write_str(
                "a compression dictionary is not available with encryption_mode = \"legacy\": its \
                 format has no room for compression; remove the dictionary or use \"modern\"",
            ),
            CodecError::CompressionDictionary(e) => write!(f, "{e}"),
            CodecError::NoSecretForMode(mode) => write!(
                f,
                "encryption_mode = \"{}\" needs a secret; the key ring holds only legacy keys",
                mode.as_str()
            ),
            CodecError::KeyIdCollision { index } => write!(
                f,
                "session secret #{index} has the same key id as an earlier one: replace it"
            ),
        }
    }
}

impl std::error::Error for CodecError {}

/// Seals and opens the values of one cookie name with one key ring.
///
/// Every key is derived once, in [`Codec::new`]. Cloning is cheap (an [`Arc`] inside); a
/// `Codec` is `Send + Sync`. `Debug` shows the mode, cookie name and key counts, no key.
#[derive(Clone)]
pub struct Codec {
    inner: Arc<Inner>,
}

struct Inner {
    options: CodecOptions,
    modern: Vec<ModernKey>,
    signed: Vec<SignedKey>,
    /// Legacy keys in precedence order, when the mode is legacy or `accept_legacy` is set.
    legacy: Vec<cookie::Key>,
    /// `options.compression_dictionary`, digested once.
    dictionary: Option<compress::PreparedDictionary>,
}

/// The layer's dictionary, digested once; refused where the format has no flag for it.
fn prepare_dictionary(
    options: &CodecOptions,
) -> Result<Option<compress::PreparedDictionary>, CodecError> {
    match &options.compression_dictionary {
        None => Ok(None),
        Some(_) if options.mode == EncryptionMode::Legacy => Err(CodecError::DictionaryWithLegacy),
        Some(bytes) => compress::PreparedDictionary::new(bytes, options.compression_level)
            .map(Some)
            .map_err(CodecError::CompressionDictionary),
    }
}

/// The modern or signed keys of every secret, bound to the cookie name, in the ring's order.
///
/// Two different secrets with the same 4-byte key id could not be told apart when opening, so
/// that is refused; the same secret given twice is harmless and kept once.
fn derive_keys(
    keys: &KeyRing,
    mode: EncryptionMode,
    cookie_name: &str,
) -> Result<(Vec<ModernKey>, Vec<SignedKey>), CodecError> {
    if !keys.has_secrets() {
        return Err(CodecError::NoSecretForMode(mode));
    }
    let mut modern = Vec::new();
    let mut signed = Vec::new();
    let mut seen: Vec<(&[u8], [u8; 4])> = Vec::new();
    for (index, secret) in keys.secrets().enumerate() {
        let id = if mode == EncryptionMode::Modern {
            let key = ModernKey::derive(secret);
            let id = key.id();
            modern.push(key.bind(cookie_name));
            id
        } else {
            let key = SignedKey::derive(secret);
            let id = key.id();
            signed.push(key.bind(cookie_name));
            id
        };
        if let Some((earlier, _)) = seen.iter().find(|(_, seen_id)| *seen_id == id) {
            if *earlier != secret {
                return Err(CodecError::KeyIdCollision { index });
            }
            modern.truncate(seen.len());
            signed.truncate(seen.len());
            continue;
        }
        seen.push((secret, id));
    }
    Ok((modern, signed))
}

/// Bytes of flags and timestamps before the body.
const PAYLOAD_HEADER_LEN: usize = 1 + 8 + 8;
const FLAG_ZSTD: u8 = 0x01;
/// With [`FLAG_ZSTD`]: the frame was compressed with the codec's dictionary.
const FLAG_DICTIONARY: u8 = 0x02;

impl Codec {
    /// Builds a codec: checks the options and derives every key from the ring.
    ///
    /// ```
    /// use session_runtime::EncryptionMode;
    /// use session_runtime::codec::{Codec, CodecError, CodecOptions, KeyRing};
    ///
    /// let keys = KeyRing::from_secrets([[1u8; 32]])?;
    /// let mut options = CodecOptions::new(EncryptionMode::Legacy, "visit");
    /// options.compression_level = 3;
    /// assert_eq!(Codec::new(&keys, options).unwrap_err(), CodecError::CompressionWithLegacy);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(keys: &KeyRing, options: CodecOptions) -> Result<Codec, CodecError> {
        let name_len = options.cookie_name.len();
        if name_len == 0 || name_len > session_settings::defaults::MAX_COOKIE_NAME_LEN {
            return Err(CodecError::CookieName { len: name_len });
        }
        if options.compression_level != 0 && !compress::LEVELS.contains(&options.compression_level)
        {
            return Err(CodecError::CompressionLevel(options.compression_level));
        }
        let dictionary = prepare_dictionary(&options)?;
        let (modern, signed, legacy) = match options.mode {
            EncryptionMode::Legacy if options.compression_level != 0 => {
                return Err(CodecError::CompressionWithLegacy);
            }
            EncryptionMode::Legacy => (Vec::new(), Vec::new(), keys.legacy_keys()),
            mode => {
                let (modern, signed) = derive_keys(keys, mode, &options.cookie_name)?;
                let legacy = if options.accept_legacy {
                    keys.legacy_keys()
                } else {
                    Vec::new()
                };
                (modern, signed, legacy)
            }
        };
        Ok(Codec {
            inner: Arc::new(Inner {
                options,
                modern,
                signed,
                legacy,
                dictionary,
            }),
        })
    }

    /// The mode values are sealed in.
    pub fn mode(&self) -> EncryptionMode {
        self.inner.options.mode
    }

    /// The options the codec was built with.
    pub fn options(&self) -> &CodecOptions {
        &self.inner.options
    }

    /// Seals a body (the session's JSON object) with the current key.
    ///
    /// `times` is ignored in `legacy` mode, which has no room for it.
    pub fn seal(&self, body: &[u8], times: Timestamps) -> Result<String, SealError> {
        let options = &self.inner.options;
        if body.len() > options.max_decompressed {
            return Err(SealError::BodyTooLarge {
                len: body.len(),
                max: options.max_decompressed,
            });
        }
        let value = match options.mode {
            EncryptionMode::Modern => {
                let mut buf = self.payload(modern::HEADER_LEN, modern::TAG_LEN, body, times)?;
                let mut nonce = [0u8; modern::NONCE_LEN];
                random::fill_nonce(&mut nonce);
                self.inner.modern[0].seal_in_place(&nonce, &mut buf);
                URL_SAFE_NO_PAD.encode(&buf)
            }
            EncryptionMode::None => {
                let mut buf = self.payload(signed::HEADER_LEN, signed::TAG_LEN, body, times)?;
                self.inner.signed[0].sign_in_place(&mut buf);
                URL_SAFE_NO_PAD.encode(&buf)
            }
            EncryptionMode::Legacy => {
                let body = std::str::from_utf8(body).map_err(|_| SealError::NotUtf8)?;
                legacy::seal(&self.inner.legacy[0], &options.cookie_name, body)
            }
        };
        if value.len() > options.max_value_len {
            return Err(SealError::TooLong {
                len: value.len(),
                max: options.max_value_len,
            });
        }
        Ok(value)
    }

    /// `header` placeholder bytes, then flags, timestamps and the (maybe compressed) body,
    /// with room for `tag` more bytes.
    fn payload(
        &self,
        header: usize,
        tag: usize,
        body: &[u8],
        times: Timestamps,
    ) -> Result<Vec<u8>, SealError> {
        let level = self.inner.options.compression_level;
        let (frame, compressed_flags) = match &self.inner.dictionary {
            _ if level == 0 => (None, 0),
            Some(dictionary) => (
                compress::compress_with_dictionary(body, dictionary)
                    .map_err(SealError::Compress)?,
                FLAG_ZSTD | FLAG_DICTIONARY,
            ),
            None => (
                compress::compress(body, level).map_err(SealError::Compress)?,
                FLAG_ZSTD,
            ),
        };
        let (flags, body) = match &frame {
            Some(frame) => (compressed_flags, &frame[..]),
            None => (0, body),
        };
        let mut buf = Vec::with_capacity(header + PAYLOAD_HEADER_LEN + body.len() + tag);
        buf.resize(header, 0);
        buf.push(flags);
        buf.extend_from_slice(&times.issued_at.to_be_bytes());
        buf.extend_from_slice(&times.expires_at.to_be_bytes());
        buf.extend_from_slice(body);
        Ok(buf)
    }

    /// Opens a value sealed by this codec (or, with `accept_legacy`, by the `cookie` crate's
    /// `PrivateJar`).
    pub fn open(&self, value: &str) -> Result<Opened, OpenError> {
        let options = &self.inner.options;
        if value.len() > options.max_value_len {
            return Err(OpenError::TooLong);
        }
        match options.mode {
            EncryptionMode::Legacy => self.open_legacy(value, false),
            mode => {
                let result = if mode == EncryptionMode::Modern {
                    self.open_modern(value)
                } else {
                    self.open_signed(value)
                };
                match result {
                    Err(
                        e @ (OpenError::Encoding
                        | OpenError::Truncated
                        | OpenError::UnknownVersion
                        | OpenError::UnknownKey),
                    ) if options.accept_legacy => self.open_legacy(value, true).map_err(|_| e),
                    other => other,
                }
            }
        }
    }

    fn open_modern(&self, value: &str) -> Result<Opened, OpenError> {
        let mut raw = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| OpenError::Encoding)?;
        let (index, key) = find_key(&raw, modern::VERSION, &self.inner.modern, ModernKey::id)?;
        let range = key
            .open_raw(&mut raw)
            .map_err(|()| self.short_or(&raw, modern::HEADER_LEN + modern::TAG_LEN))?;
        self.finish(raw, range, index != 0)
    }

    fn open_signed(&self, value: &str) -> Result<Opened, OpenError> {
        let raw = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| OpenError::Encoding)?;
        let (index, key) = find_key(&raw, signed::VERSION, &self.inner.signed, SignedKey::id)?;
        let range = key
            .verify_raw(&raw)
            .map_err(|()| self.short_or(&raw, signed::HEADER_LEN + signed::TAG_LEN))?;
        self.finish(raw, range, index != 0)
    }

    fn short_or(&self, raw: &[u8], min: usize) -> OpenError {
        if raw.len() < min {
            OpenError::Truncated
        } else {
            OpenError::Authentication
        }
    }

    /// Parses flags and timestamps of an authenticated payload at `range` in `raw`.
    fn finish(
        &self,
        mut raw: Vec<u8>,
        range: std::ops::Range<usize>,
        stale: bool,
    ) -> Result<Opened, OpenError> {
        let payload = &raw[range.clone()];
        if payload.len() < PAYLOAD_HEADER_LEN {
            return Err(OpenError::Malformed);
        }
        let flags = payload[0];
        if flags & !(FLAG_ZSTD | FLAG_DICTIONARY) != 0 || flags == FLAG_DICTIONARY {
            return Err(OpenError::Malformed);
        }
        let issued_at = u64::from_be_bytes(payload[1..9].try_into().expect("8 bytes"));
        let expires_at = u64::from_be_bytes(payload[9..17].try_into().expect("8 bytes"));
        let max = self.inner.options.max_decompressed;
        let body = if flags & FLAG_DICTIONARY != 0 {
            let dictionary = self
                .inner
                .dictionary
                .as_ref()
                .ok_or(OpenError::Dictionary)?;
            compress::decompress_with_dictionary(&payload[PAYLOAD_HEADER_LEN..], max, dictionary)?
        } else if flags & FLAG_ZSTD != 0 {
            compress::decompress(&payload[PAYLOAD_HEADER_LEN..], max)?
        } else {
            raw.truncate(range.end);
            raw.drain(..range.start + PAYLOAD_HEADER_LEN);
            raw
        };
        Ok(Opened {
            body,
            timestamps: Some(Timestamps {
                issued_at,
                expires_at,
            }),
            stale,
        })
    }

    /// Whether an opened `legacy` value (one without timestamps) is past the deadline of
    /// [`CodecOptions::accept_legacy_until`] at `now`; never in `legacy` mode.
    pub fn legacy_refused_at(&self, now: u64) -> bool {
        let options = &self.inner.options;
        options.mode != EncryptionMode::Legacy
            && options
                .accept_legacy_until
                .is_some_and(|until| now >= until)
    }

    fn open_legacy(&self, value: &str, from_other_mode: bool) -> Result<Opened, OpenError> {
        let name = &self.inner.options.cookie_name;
        for (index, key) in self.inner.legacy.iter().enumerate() {
            if let Some(body) = legacy::open(key, name, value) {
                return Ok(Opened {
                    body: body.into_bytes(),
                    timestamps: None,
                    stale: from_other_mode || index != 0,
                });
            }
        }
        Err(OpenError::Authentication)
    }
}

/// The key whose id follows the version byte.
fn find_key<'k, K>(
    raw: &[u8],
    version: u8,
    keys: &'k [K],
    id: impl Fn(&K) -> [u8; 4],
) -> Result<(usize, &'k K), OpenError> {
    match raw.first() {
        None => return Err(OpenError::Truncated),
        Some(&v) if v != version => return Err(OpenError::UnknownVersion),
        Some(_) => {}
    }
    let wanted: [u8; 4] = raw
        .get(1..5)
        .and_then(|s| s.try_into().ok())
        .ok_or(OpenError::Truncated)?;
    keys.iter()
        .enumerate()
        .find(|(_, key)| id(key) == wanted)
        .ok_or(OpenError::UnknownKey)
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = &self.inner.options;
        f.debug_struct("Codec")
            .field("mode", &options.mode)
            .field("cookie_name", &options.cookie_name)
            .field("compression_level", &options.compression_level)
            .field(
                "compression_dictionary_id",
                &self.inner.dictionary.as_ref().map(|d| d.id()),
            )
            .field("max_value_len", &options.max_value_len)
            .field("max_decompressed", &options.max_decompressed)
            .field("accept_legacy", &options.accept_legacy)
            .field("keys", &(self.inner.modern.len() + self.inner.signed.len()))
            .field("legacy_keys", &self.inner.legacy.len())
            .finish()
    }
}
