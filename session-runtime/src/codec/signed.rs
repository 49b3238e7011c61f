//! The `none` format: readable but tamper-proof values, signed with HMAC-SHA256.
//!
//! Nothing is encrypted: anyone holding the cookie can read the session (base64url-decode it).
//! Use it only for data the user may see, as Starlette's and Esmerald's signed cookies do.
//!
//! # Format, byte for byte
//!
//! ```text
//! mac_key  = HKDF-SHA256(ikm = secret, salt = empty, info = "session-runtime/none/v1/key", L = 32)
//! key_id   = HKDF-SHA256(ikm = secret, salt = empty, info = "session-runtime/none/v1/id",  L = 4)
//! payload  = flags || issued_at || expires_at || body        (as in `modern`'s plaintext)
//! tag      = HMAC-SHA256(mac_key, 0x02 || key_id || len(cookie_name) as u8 || cookie_name || payload)
//! value    = base64url_nopad( 0x02 || key_id || payload || tag )
//! ```
//!
//! The cookie name (at most 255 bytes) is under the tag but not in the value, so a value cannot
//! be moved to another cookie. The tag is compared in constant time.
//!
//! ```
//! use session_runtime::codec::signed::SignedKey;
//!
//! let key = SignedKey::derive(&[5u8; 32]);
//! let tag = key.tag("visit", b"payload");
//! assert!(key.verify("visit", b"payload", &tag));
//! assert!(!key.verify("other", b"payload", &tag));
//! ```

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::keys::hkdf_sha256;

/// The version byte that starts every `none` value.
pub const VERSION: u8 = 0x02;
/// HKDF info for the MAC key.
pub const KEY_INFO: &[u8] = b"session-runtime/none/v1/key";
/// HKDF info for the key id.
pub const ID_INFO: &[u8] = b"session-runtime/none/v1/id";
/// Length of the key id.
pub const KEY_ID_LEN: usize = 4;
/// Length of the tag.
pub const TAG_LEN: usize = 32;
/// Bytes before the payload: version and key id.
pub const HEADER_LEN: usize = 1 + KEY_ID_LEN;

/// The keys `none` derives from one secret.
///
/// `Debug` shows the key id only.
#[derive(Clone)]
pub struct SignedKey {
    id: [u8; KEY_ID_LEN],
    /// HMAC state keyed with `mac_key`, before anything is absorbed.
    mac: Hmac<Sha256>,
    /// The same state after `0x02 || key_id || len(cookie_name) || cookie_name`, once bound.
    bound: Option<Hmac<Sha256>>,
}

impl SignedKey {
    /// Derives the MAC key and key id from a secret (HKDF-SHA256, see the module docs).
    pub fn derive(secret: &[u8]) -> SignedKey {
        let key = hkdf_sha256::<32>(secret, KEY_INFO);
        let id = hkdf_sha256::<KEY_ID_LEN>(secret, ID_INFO);
        let mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
        SignedKey {
            id,
            mac,
            bound: None,
        }
    }

    /// The 4-byte key id written in clear in each value.
    pub fn id(&self) -> [u8; KEY_ID_LEN] {
        self.id
    }

    fn prefixed(&self, cookie_name: &str) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(&[VERSION]);
        mac.update(&self.id);
        mac.update(&[u8::try_from(cookie_name.len()).unwrap_or(u8::MAX)]);
        mac.update(cookie_name.as_bytes());
        mac
    }

    /// The tag of `payload` under `cookie_name`. Cookie names longer than 255 bytes are
    /// refused by [`Codec::new`](super::Codec::new); here their length byte saturates at 255.
    pub fn tag(&self, cookie_name: &str, payload: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.prefixed(cookie_name);
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }

    /// Checks a tag in constant time.
    pub fn verify(&self, cookie_name: &str, payload: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.prefixed(cookie_name);
        mac.update(payload);
        mac.verify_slice(tag).is_ok()
    }

    /// Fixes the cookie name, so that its part of the MAC is computed once.
    pub(crate) fn bind(mut self, cookie_name: &str) -> SignedKey {
        self.bound = Some(self.prefixed(cookie_name));
        self
    }

    fn bound(&self) -> Hmac<Sha256> {
        self.bound.clone().expect("bound in Codec::new")
    }

    /// Signs in place: `buf` holds [`HEADER_LEN`] placeholder bytes followed by the payload; on
    /// return it holds the raw value (before base64).
    pub(crate) fn sign_in_place(&self, buf: &mut Vec<u8>) {
        buf[0] = VERSION;
        buf[1..HEADER_LEN].copy_from_slice(&self.id);
        let mut mac = self.bound();
        mac.update(&buf[HEADER_LEN..]);
        let tag: [u8; TAG_LEN] = mac.finalize().into_bytes().into();
        buf.extend_from_slice(&tag);
    }

    /// Verifies a raw value whose version and key id match this key; returns the payload's
    /// range.
    pub(crate) fn verify_raw(&self, raw: &[u8]) -> Result<std::ops::Range<usize>, ()> {
        if raw.len() < HEADER_LEN + TAG_LEN {
            return Err(());
        }
        let end = raw.len() - TAG_LEN;
        let mut mac = self.bound();
        mac.update(&raw[HEADER_LEN..end]);
        mac.verify_slice(&raw[end..]).map_err(|_| ())?;
        Ok(HEADER_LEN..end)
    }
}

impl fmt::Debug for SignedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
