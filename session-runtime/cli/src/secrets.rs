//! Secrets: making a new one, and reading the key ring from the environment the way the layer
//! does. Secrets are never taken from arguments (they would show in the process list and the
//! shell history) and never printed, except by `secret`, whose job it is.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_runtime::codec::{KeyError, KeyRing, MIN_SECRET_LEN};
use session_settings::Setting;

use crate::exit::Failure;

/// Random bytes in a new secret: 48, so the text is 64 characters, well past
/// [`MIN_SECRET_LEN`].
pub const SECRET_BYTES: usize = 48;

/// A new secret for `SESSION_SECRET`: [`SECRET_BYTES`] bytes from the OS CSPRNG, base64url
/// without padding (letters, digits, `-` and `_`, safe unquoted in a shell or an env file).
///
/// The layer uses the text itself as the secret (its UTF-8 bytes), so its length in bytes is
/// what [`MIN_SECRET_LEN`] counts.
pub fn generate() -> Result<String, Failure> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| Failure::failed(format!("the OS random number generator failed: {e}")))?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    debug_assert!(secret.len() >= MIN_SECRET_LEN);
    Ok(secret)
}

/// The key ring from `{prefix}_SECRET` (the current secret, sealing) and
/// `{prefix}_SECRET_PREVIOUS` (retired secrets, whitespace separated, still opening), read
/// exactly as the layer's `from_env_prefixed` reads them.
pub fn key_ring_from_env(prefix: &str) -> Result<KeyRing, Failure> {
    let current_name = Setting::Secret.env_var(prefix);
    let previous_name = Setting::PreviousSecrets.env_var(prefix);
    let current = read_var(&current_name)?.ok_or_else(|| {
        Failure::usage(format!(
            "{current_name} is not set: export the secret the app uses (secrets are read from \
             the environment only, never from arguments)"
        ))
    })?;
    let previous = read_var(&previous_name)?.unwrap_or_default();
    let mut secrets = vec![(current_name, current.into_bytes())];
    secrets.extend(
        previous
            .split_whitespace()
            .enumerate()
            .map(|(i, s)| (format!("{previous_name} (entry {})", i + 1), s.into())),
    );
    KeyRing::from_secrets(secrets.iter().map(|(_, s)| s)).map_err(|e| match e {
        KeyError::TooShort { index, len } => {
            let name = secrets
                .get(index)
                .map_or("a secret", |(name, _)| name.as_str());
            Failure::usage(format!(
                "{name} is {len} bytes long; secrets must be at least {MIN_SECRET_LEN} bytes \
                 (`sessions secret` makes one)"
            ))
        }
        KeyError::NoSecret => Failure::usage(e.to_string()),
    })
}

fn read_var(name: &str) -> Result<Option<String>, Failure> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Failure::usage(format!("{name} is not valid UTF-8")))
        }
    }
}
