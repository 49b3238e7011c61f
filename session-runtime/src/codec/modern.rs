//! The `modern` format: XChaCha20-Poly1305 with HKDF-derived keys, a key id and sealed
//! timestamps. The default.
//!
//! # Format, byte for byte
//!
//! ```text
//! key       = HKDF-SHA256(ikm = secret, salt = empty, info = "session-runtime/modern/v1/key", L = 32)
//! key_id    = HKDF-SHA256(ikm = secret, salt = empty, info = "session-runtime/modern/v1/id",  L = 4)
//! nonce     = 24 random bytes, fresh for every value
//! aad       = 0x01 || key_id || cookie_name
//! plaintext = flags || issued_at || expires_at || body
//!     flags      1 byte: bit 0 set = body is one zstd frame; bit 1 set (only with bit 0) =
//!                that frame was compressed with the layer's dictionary; every other bit must be 0
//!     issued_at  u64 big-endian, unix seconds
//!     expires_at u64 big-endian, unix seconds; 0 = no expiry
//!     body       the session's JSON object (or its zstd frame)
//! sealed    = XChaCha20-Poly1305-Encrypt(key, nonce, aad, plaintext)   (ciphertext || 16-byte tag)
//! value     = base64url_nopad( 0x01 || key_id || nonce || sealed )
//! ```
//!
//! `base64url_nopad` is RFC 4648 section 5 without `=` padding; decoders reject padding and
//! non-zero trailing bits. XChaCha20-Poly1305 is the construction of
//! draft-irtf-cfrg-xchacha (libsodium's `crypto_aead_xchacha20poly1305_ietf_*`): the subkey is
//! `HChaCha20(key, nonce[0..16])`, then ChaCha20-Poly1305 (RFC 8439) with the 12-byte nonce
//! `0x00000000 || nonce[16..24]`. That is how it is computed here: HChaCha20 from the
//! `chacha20` crate, then `ring`'s ChaCha20-Poly1305.
//!
//! The smallest value is 1 + 4 + 24 + 17 + 16 = 62 bytes before base64 (83 characters) for an
//! empty body. A receiver finds the key by `key_id` (no trial decryption), checks the tag, then
//! the flags.
//!
//! ```
//! use session_runtime::codec::modern;
//!
//! let key = [9u8; 32];
//! let nonce = [4u8; 24];
//! let mut data = *b"hello";
//! let tag = modern::xchacha20poly1305_seal(&key, &nonce, b"aad", &mut data);
//! let mut sealed = data.to_vec();
//! sealed.extend_from_slice(&tag);
//! let opened = modern::xchacha20poly1305_open(&key, &nonce, b"aad", &mut sealed).unwrap();
//! assert_eq!(opened, b"hello");
//! ```

use std::fmt;

use chacha20::cipher::consts::U10;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

use super::keys::hkdf_sha256;

/// The version byte that starts every `modern` value.
pub const VERSION: u8 = 0x01;
/// HKDF info for the encryption key.
pub const KEY_INFO: &[u8] = b"session-runtime/modern/v1/key";
/// HKDF info for the key id.
pub const ID_INFO: &[u8] = b"session-runtime/modern/v1/id";
/// Length of the key id.
pub const KEY_ID_LEN: usize = 4;
/// Length of the XChaCha20 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// Bytes before the ciphertext: version, key id, nonce.
pub const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// The keys `modern` derives from one secret.
///
/// `Debug` shows the key id only.
///
/// ```
/// use session_runtime::codec::modern::ModernKey;
///
/// let key = ModernKey::derive(&[1u8; 32]);
/// assert_eq!(key.id().len(), 4);
/// assert!(!format!("{key:?}").contains("key:"));
/// ```
#[derive(Clone)]
pub struct ModernKey {
    key: [u8; 32],
    id: [u8; KEY_ID_LEN],
    /// `VERSION || id`, followed by the cookie name once bound to one.
    aad: Vec<u8>,
}

impl ModernKey {
    /// Derives the encryption key and key id from a secret (HKDF-SHA256, see the module docs).
    pub fn derive(secret: &[u8]) -> ModernKey {
        let key = hkdf_sha256::<32>(secret, KEY_INFO);
        let id = hkdf_sha256::<KEY_ID_LEN>(secret, ID_INFO);
        let mut aad = Vec::with_capacity(1 + KEY_ID_LEN);
        aad.push(VERSION);
        aad.extend_from_slice(&id);
        ModernKey { key, id, aad }
    }

    /// The 4-byte key id written in clear in each value.
    pub fn id(&self) -> [u8; KEY_ID_LEN] {
        self.id
    }

    /// The associated data for a cookie name: `0x01 || key_id || cookie_name`.
    pub fn aad(&self, cookie_name: &str) -> Vec<u8> {
        let mut aad = Vec::with_capacity(1 + KEY_ID_LEN + cookie_name.len());
        aad.push(VERSION);
        aad.extend_from_slice(&self.id);
        aad.extend_from_slice(cookie_name.as_bytes());
        aad
    }

    /// Fixes the cookie name, so that the associated data is built once.
    pub(crate) fn bind(mut self, cookie_name: &str) -> ModernKey {
        self.aad = self.aad(cookie_name);
        self
    }

    /// Seals in place: `buf` holds [`HEADER_LEN`] placeholder bytes followed by the
    /// plaintext (flags, timestamps, body); on return it holds the raw value (before base64).
    pub(crate) fn seal_in_place(&self, nonce: &[u8; NONCE_LEN], buf: &mut Vec<u8>) {
        buf[0] = VERSION;
        buf[1..1 + KEY_ID_LEN].copy_from_slice(&self.id);
        buf[1 + KEY_ID_LEN..HEADER_LEN].copy_from_slice(nonce);
        let tag = xchacha20poly1305_seal(&self.key, nonce, &self.aad, &mut buf[HEADER_LEN..]);
        buf.extend_from_slice(&tag);
    }

    /// Opens a raw value whose version and key id are already known to match this key; returns
    /// the plaintext's range in `raw` (decrypted in place).
    pub(crate) fn open_raw(&self, raw: &mut [u8]) -> Result<std::ops::Range<usize>, ()> {
        if raw.len() < HEADER_LEN + TAG_LEN {
            return Err(());
        }
        let (header, sealed) = raw.split_at_mut(HEADER_LEN);
        let nonce: &[u8; NONCE_LEN] = header[1 + KEY_ID_LEN..].try_into().map_err(|_| ())?;
        let len = xchacha20poly1305_open(&self.key, nonce, &self.aad, sealed)
            .map_err(|_| ())?
            .len();
        Ok(HEADER_LEN..HEADER_LEN + len)
    }
}

impl fmt::Debug for ModernKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModernKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The ChaCha20-Poly1305 key and 12-byte nonce that XChaCha20-Poly1305 uses for `nonce`.
fn subkey(key: &[u8; 32], nonce: &[u8; NONCE_LEN]) -> (LessSafeKey, Nonce) {
    let (head, tail) = nonce.split_at(16);
    let subkey = chacha20::hchacha::<U10>(key.into(), head.into());
    let unbound = UnboundKey::new(&CHACHA20_POLY1305, &subkey).expect("32-byte key");
    let mut ietf = [0u8; 12];
    ietf[4..].copy_from_slice(tail);
    (
        LessSafeKey::new(unbound),
        Nonce::assume_unique_for_key(ietf),
    )
}

/// XChaCha20-Poly1305 encryption in place; returns the tag.
///
/// The caller must never use one nonce twice with one key: with random 24-byte nonces that
/// holds by chance alone.
pub fn xchacha20poly1305_seal(
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
) -> [u8; TAG_LEN] {
    let (key, nonce) = subkey(key, nonce);
    let tag = key
        .seal_in_place_separate_tag(nonce, Aad::from(aad), in_out)
        .expect("message length is far below ChaCha20's limit");
    tag.as_ref().try_into().expect("16-byte tag")
}

/// XChaCha20-Poly1305 decryption in place of `ciphertext || tag`; returns the plaintext (the
/// start of the buffer) or an error when the tag does not match.
pub fn xchacha20poly1305_open<'a>(
    key: &[u8; 32],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &'a mut [u8],
) -> Result<&'a mut [u8], super::OpenError> {
    if ciphertext_and_tag.len() < TAG_LEN {
        return Err(super::OpenError::Truncated);
    }
    let (key, nonce) = subkey(key, nonce);
    key.open_in_place(nonce, Aad::from(aad), ciphertext_and_tag)
        .map(|plain| &mut plain[..])
        .map_err(|_| super::OpenError::Authentication)
}
