//! Session ids for server-side stores.
//!
//! An id is 256 bits from the operating system's CSPRNG, written as 43 characters of unpadded
//! base64url. Stores never see it: they are handed [`StoreKey`]s, the store's prefix followed by
//! the SHA-256 of the prefix and the id together, so a leaked store or log cannot be replayed as
//! a cookie, and an id issued for one session type names no record of another type in any
//! store, even where the store drops the prefix (the files store names files by the hash alone).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Length in characters of a session id as it appears in a cookie.
pub(crate) const ID_LEN: usize = 43;

/// A session id as carried by the cookie.
///
/// ```
/// use session_runtime::SessionId;
///
/// let id = SessionId::generate().unwrap();
/// assert_eq!(id.as_str().len(), 43);
/// assert!(SessionId::parse(id.as_str()).is_some());
/// assert!(SessionId::parse("../../etc/passwd").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    /// A new id from the OS CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(SessionId(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Accepts only what [`generate`](Self::generate) produces: 43 base64url characters that
    /// decode canonically to 32 bytes. Anything else (path tricks, control characters, long
    /// values) is refused before it can reach a store.
    pub fn parse(value: &str) -> Option<Self> {
        if value.len() != ID_LEN
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let mut decoded = [0u8; 33];
        match URL_SAFE_NO_PAD.decode_slice(value, &mut decoded) {
            Ok(32) => Some(SessionId(value.to_owned())),
            _ => None,
        }
    }

    /// The id as the cookie carries it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key a store files this session under: `prefix` followed by the hex
    /// `SHA-256(prefix || 0x00 || id)`.
    ///
    /// The hash covers the prefix (the session type) as well as the id: this is the one rule
    /// that binds every server-side record to its type. An id issued for one type and
    /// presented as another type's cookie hashes to another key in every store, the files
    /// store included, whose file names hold only the hashed part. (The id has a fixed
    /// length, so prefix and id cannot be shifted into each other.)
    ///
    /// ```
    /// use session_runtime::SessionId;
    ///
    /// let id = SessionId::generate().unwrap();
    /// assert_ne!(id.store_key("cart:").hash_part(), id.store_key("auth:").hash_part());
    /// ```
    pub fn store_key(&self, prefix: &str) -> StoreKey {
        let digest = Sha256::new()
            .chain_update(prefix.as_bytes())
            .chain_update([0u8])
            .chain_update(self.0.as_bytes())
            .finalize();
        let mut key = String::with_capacity(prefix.len() + 64);
        key.push_str(prefix);
        for byte in digest {
            key.push(char::from(HEX[usize::from(byte >> 4)]));
            key.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        StoreKey(key)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The id is a bearer credential: never print it.
        f.write_str("SessionId(..)")
    }
}

/// Where a store keeps one session: the store prefix and the hash of prefix and id. Safe to log.
///
/// ```
/// use session_runtime::SessionId;
///
/// let id = SessionId::generate().unwrap();
/// let key = id.store_key("app:");
/// assert!(key.as_str().starts_with("app:"));
/// assert_eq!(key.as_str().len(), 4 + 64);
/// assert!(!key.as_str().contains(id.as_str()));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct StoreKey(String);

impl StoreKey {
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the prefix: 64 hex characters, safe as a file name.
    pub fn hash_part(&self) -> &str {
        &self.0[self.0.len().saturating_sub(64)..]
    }
}

impl fmt::Display for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_well_formed() {
        let a = SessionId::generate().unwrap();
        let b = SessionId::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(SessionId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "../../etc/passwd",
            &"A".repeat(42),
            &"A".repeat(44),
            &"A".repeat(10_000),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            // 43 characters whose last one carries non-zero trailing bits: not canonical.
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
        ] {
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
