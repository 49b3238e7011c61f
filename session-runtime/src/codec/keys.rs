//! The key ring: the secrets a [`Codec`](super::Codec) seals and opens with.
//!
//! The first secret seals; every secret opens. Rotating a key means putting the new secret
//! first and keeping the old one behind it until the cookies it sealed have expired: values
//! opened with a retired key come back with [`Opened::stale`](super::Opened::stale) set so that
//! they are re-sealed with the current key on the way out. Removing a secret invalidates every
//! value it sealed.
//!
//! Each mode derives its own keys from a secret with HKDF-SHA256 (see
//! [`modern`](super::modern), [`signed`](super::signed) and [`legacy`](super::legacy)), once,
//! in [`Codec::new`](super::Codec::new).

use std::fmt;
use std::sync::Arc;

/// The shortest secret accepted, in bytes.
///
/// Use 32 bytes or more from a CSPRNG, for instance `openssl rand -base64 48`.
pub const MIN_SECRET_LEN: usize = 32;

/// The secrets of one session type: the first one seals, every one opens.
///
/// Cloning is cheap (the secrets sit behind an [`Arc`]). `Debug` prints how many keys there
/// are, never the keys.
///
/// ```
/// use session_runtime::codec::KeyRing;
///
/// let current = [7u8; 32];
/// let retired = b"an older secret, still accepted for a while";
/// let keys = KeyRing::from_secrets([&current[..], &retired[..]])?;
/// assert_eq!(keys.len(), 2);
/// assert_eq!(format!("{keys:?}"), "KeyRing { secrets: 2, legacy_keys: 0 }");
/// # Ok::<(), session_runtime::codec::KeyError>(())
/// ```
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<KeyRingInner>,
}

struct KeyRingInner {
    secrets: Vec<Box<[u8]>>,
    legacy: Vec<cookie::Key>,
}

impl KeyRing {
    /// A key ring from secrets, current first.
    ///
    /// The first secret seals; every secret opens. Each secret must be at least
    /// [`MIN_SECRET_LEN`] bytes long, and there must be at least one.
    ///
    /// ```
    /// use session_runtime::codec::{KeyError, KeyRing};
    ///
    /// assert!(KeyRing::from_secrets([[1u8; 32]]).is_ok());
    /// assert_eq!(
    ///     KeyRing::from_secrets(Vec::<Vec<u8>>::new()).unwrap_err(),
    ///     KeyError::NoSecret
    /// );
    /// assert_eq!(
    ///     KeyRing::from_secrets([&[1u8; 32][..], b"short"]).unwrap_err(),
    ///     KeyError::TooShort { index: 1, len: 5 }
    /// );
    /// ```
    pub fn from_secrets<I, S>(secrets: I) -> Result<KeyRing, KeyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut list = Vec::new();
        for (index, secret) in secrets.into_iter().enumerate() {
            let secret = secret.as_ref();
            if secret.len() < MIN_SECRET_LEN {
                return Err(KeyError::TooShort {
                    index,
                    len: secret.len(),
                });
            }
            list.push(Box::from(secret));
        }
        if list.is_empty() {
            return Err(KeyError::NoSecret);
        }
        Ok(KeyRing {
            inner: Arc::new(KeyRingInner {
                secrets: list,
                legacy: Vec::new(),
            }),
        })
    }

    /// A key ring of `cookie::Key`s only, for a codec in
    /// [`EncryptionMode::Legacy`](crate::config::EncryptionMode::Legacy) that takes over the keys
    /// of an existing `PrivateCookieJar`. The first key seals.
    ///
    /// Such a ring cannot seal in `modern` or `none` mode: [`Codec::new`](super::Codec::new)
    /// says so.
    ///
    /// ```
    /// use session_runtime::codec::KeyRing;
    ///
    /// let keys = KeyRing::from_legacy_keys([cookie::Key::generate()])?;
    /// assert_eq!(keys.len(), 1);
    /// # Ok::<(), session_runtime::codec::KeyError>(())
    /// ```
    pub fn from_legacy_keys(
        keys: impl IntoIterator<Item = cookie::Key>,
    ) -> Result<KeyRing, KeyError> {
        let legacy: Vec<cookie::Key> = keys.into_iter().collect();
        if legacy.is_empty() {
            return Err(KeyError::NoSecret);
        }
        Ok(KeyRing {
            inner: Arc::new(KeyRingInner {
                secrets: Vec::new(),
                legacy,
            }),
        })
    }

    /// Adds 64-byte `cookie::Key`s for the legacy format (the `cookie` crate's private cookies,
    /// as written by axum-extra's `PrivateCookieJar`).
    ///
    /// Precedence in legacy mode: keys given here come first, in order, then the keys derived
    /// from the secrets (`cookie::Key::derive_from(secret)`), in order. The first of that list
    /// seals; all of them open. So an app moving from `PrivateCookieJar` passes its old key here
    /// and keeps sealing with it; and a `modern` codec with
    /// [`accept_legacy`](super::CodecOptions::accept_legacy) opens cookies sealed with it.
    ///
    /// ```
    /// use session_runtime::codec::KeyRing;
    ///
    /// let keys = KeyRing::from_secrets([[3u8; 32]])?.with_legacy_keys([cookie::Key::generate()]);
    /// assert_eq!(keys.len(), 2);
    /// # Ok::<(), session_runtime::codec::KeyError>(())
    /// ```
    pub fn with_legacy_keys(self, keys: impl IntoIterator<Item = cookie::Key>) -> KeyRing {
        let mut legacy = self.inner.legacy.clone();
        legacy.extend(keys);
        KeyRing {
            inner: Arc::new(KeyRingInner {
                secrets: self.inner.secrets.clone(),
                legacy,
            }),
        }
    }

    /// How many keys the ring holds: secrets plus explicit legacy keys.
    pub fn len(&self) -> usize {
        self.inner.secrets.len() + self.inner.legacy.len()
    }

    /// Always false for a ring built by this module's constructors; here for symmetry with
    /// [`len`](Self::len).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The secrets, current first.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &[u8]> {
        self.inner.secrets.iter().map(|s| &s[..])
    }

    /// The legacy keys in sealing precedence: explicit keys first, then those derived from the
    /// secrets.
    pub(crate) fn legacy_keys(&self) -> Vec<cookie::Key> {
        let mut keys = self.inner.legacy.clone();
        keys.extend(self.secrets().map(crate::codec::legacy::derive_key));
        keys
    }

    pub(crate) fn has_secrets(&self) -> bool {
        !self.inner.secrets.is_empty()
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("secrets", &self.inner.secrets.len())
            .field("legacy_keys", &self.inner.legacy.len())
            .finish()
    }
}

/// Why a [`KeyRing`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// No secret was given.
    NoSecret,
    /// The secret at `index` (0 = the current one) is `len` bytes long, under
    /// [`MIN_SECRET_LEN`].
    TooShort {
        /// Position of the secret in the list, 0 for the current one.
        index: usize,
        /// Its length in bytes.
        len: usize,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NoSecret => write!(
                f,
                "no session secret given: set one of at least {MIN_SECRET_LEN} random bytes \
                 (for instance the output of `openssl rand -base64 48`)"
            ),
            KeyError::TooShort { index, len } => write!(
                f,
                "session secret #{index} is {len} bytes long; use at least {MIN_SECRET_LEN} \
                 random bytes (for instance the output of `openssl rand -base64 48`)"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// HKDF-SHA256 with an empty salt, as every derived key in this module uses.
pub(crate) fn hkdf_sha256<const N: usize>(secret: &[u8], info: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    hkdf::Hkdf::<sha2::Sha256>::new(None, secret)
        .expand(info, &mut out)
        .expect("N is far below 255 * 32");
    out
}
