//! The `legacy` format: the `cookie` crate's private cookies, as written by axum-extra's
//! `PrivateCookieJar` and every other user of that crate.
//!
//! # Format
//!
//! ```text
//! key    = the second half (32 bytes) of a 64-byte cookie::Key
//!          (from a secret: cookie::Key::derive_from(secret), i.e. HKDF-SHA256 expand with the
//!           secret as PRK and info "COOKIE;SIGNED:HMAC-SHA256;PRIVATE:AEAD-AES-256-GCM")
//! value  = base64_standard_padded( nonce[12] || AES-256-GCM(key, nonce, aad = cookie_name, body) )
//! body   = the session's JSON object, UTF-8
//! ```
//!
//! Sealing and opening go through the `cookie` crate's own `PrivateJar`, so the two sides
//! agree by construction. The format has no room for flags, a key id or timestamps: there is
//! no compression, opening tries each key in turn, and only the cookie's own `Max-Age` bounds
//! a value's life ([`Opened::timestamps`](super::Opened::timestamps) is `None`).
//!
//! ```
//! use cookie::{Cookie, CookieJar, Key};
//! use session_runtime::codec::legacy;
//!
//! let key = Key::generate();
//! let value = legacy::seal(&key, "visit", "{\"n\":1}");
//!
//! let mut jar = CookieJar::new();
//! jar.add_original(Cookie::new("visit", value.clone()));
//! assert_eq!(jar.private(&key).get("visit").unwrap().value(), "{\"n\":1}");
//! assert_eq!(legacy::open(&key, "visit", &value).as_deref(), Some("{\"n\":1}"));
//! ```

use cookie::{Cookie, CookieJar, Key};

/// The `cookie::Key` for a secret, exactly as `cookie::Key::derive_from(secret)` makes it.
///
/// The secret must be at least 32 bytes long ([`KeyRing`](super::KeyRing) checks it).
pub fn derive_key(secret: &[u8]) -> Key {
    Key::derive_from(secret)
}

/// Seals `body` for the cookie `name` with `PrivateJar`.
pub fn seal(key: &Key, name: &str, body: &str) -> String {
    let mut jar = CookieJar::new();
    jar.private_mut(key)
        .add(Cookie::new(name.to_owned(), body.to_owned()));
    jar.get(name)
        .map(|cookie| cookie.value().to_owned())
        .expect("the cookie was just added")
}

/// Opens a value of the cookie `name` with `PrivateJar`; `None` if it does not authenticate
/// under `key` or is not UTF-8.
pub fn open(key: &Key, name: &str, value: &str) -> Option<String> {
    let jar = CookieJar::new();
    jar.private(key)
        .decrypt(Cookie::new(name.to_owned(), value.to_owned()))
        .map(|cookie| cookie.value().to_owned())
}
