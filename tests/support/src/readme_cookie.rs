//! A `modern` cookie built from the README's description of the wire format alone, with
//! another XChaCha20-Poly1305 implementation: what proves the format is documented well enough
//! for anyone to read and write it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Builds a `modern` cookie from the README's description alone, with another
/// XChaCha20-Poly1305 implementation.
pub fn readme_cookie(
    secret: &[u8],
    cookie_name: &str,
    body: &[u8],
    issued_at: u64,
    expires_at: u64,
) -> String {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(None, secret);
    let mut key = [0u8; 32];
    hkdf.expand(b"session-runtime/modern/v1/key", &mut key)
        .unwrap();
    let mut key_id = [0u8; 4];
    hkdf.expand(b"session-runtime/modern/v1/id", &mut key_id)
        .unwrap();
    let nonce = [7u8; 24];
    let mut aad = vec![0x01];
    aad.extend_from_slice(&key_id);
    aad.extend_from_slice(cookie_name.as_bytes());
    let mut plaintext = vec![0u8];
    plaintext.extend_from_slice(&issued_at.to_be_bytes());
    plaintext.extend_from_slice(&expires_at.to_be_bytes());
    plaintext.extend_from_slice(body);
    let sealed = XChaCha20Poly1305::new((&key).into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plaintext,
                aad: &aad,
            },
        )
        .unwrap();
    let mut raw = vec![0x01];
    raw.extend_from_slice(&key_id);
    raw.extend_from_slice(&nonce);
    raw.extend_from_slice(&sealed);
    format!("{cookie_name}={}", URL_SAFE_NO_PAD.encode(raw))
}
