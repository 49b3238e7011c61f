//! Setting up the codec of the cookie store: the key ring from the secrets and legacy keys,
//! and the codec's options from the settings.

use crate::codec::compress::Dictionary;
use crate::codec::{Codec, CodecOptions, KeyError, KeyRing, MIN_SECRET_LEN};
use crate::config::{EncryptionMode, Oversize};
use crate::engine::Settings;
use crate::error::ConfigError;

use super::secrets::Secrets;

/// What the codec is made from, besides the cookie settings.
#[derive(Clone)]
pub(super) struct CodecSetup {
    pub(super) mode: EncryptionMode,
    pub(super) compression_level: i32,
    pub(super) compression_dictionary: Option<Dictionary>,
    pub(super) secrets: Secrets,
    pub(super) legacy_keys: Vec<cookie::Key>,
    pub(super) accept_legacy: bool,
    /// When accepting `legacy` values stops, unix seconds; `None`: never.
    pub(super) accept_legacy_until: Option<u64>,
    /// The environment variable a missing secret is asked for in.
    pub(super) secret_variable: String,
    /// The environment variable that lists retired secrets.
    pub(super) previous_variable: String,
}

impl CodecSetup {
    /// Builds the codec of the cookie store for `settings`.
    pub(super) fn codec(&self, settings: &Settings) -> Result<Codec, ConfigError> {
        let type_name = settings.type_name;
        let keys = self.key_ring(type_name)?;
        let mut options = CodecOptions::new(self.mode, settings.cookie_name.clone());
        options.compression_level = self.compression_level;
        options.compression_dictionary = self.compression_dictionary.clone();
        options.accept_legacy = self.accept_legacy;
        options.accept_legacy_until = self.accept_legacy_until;
        // Refuse, before any work, a value longer than any cookie this layer could have set.
        options.max_value_len = match settings.oversize {
            Oversize::Chunk => settings.max_cookie_size * settings.max_chunks,
            Oversize::Error => settings.max_cookie_size,
        };
        Codec::new(&keys, options).map_err(|e| ConfigError::Invalid {
            type_name,
            setting: "encryption".into(),
            message: e.to_string(),
        })
    }

    /// The key ring: the secrets (first seals), then the legacy keys; legacy keys alone are
    /// enough in `legacy` mode.
    fn key_ring(&self, type_name: &'static str) -> Result<KeyRing, ConfigError> {
        if let Some((origin, len)) = self.secrets.first_shorter_than(MIN_SECRET_LEN) {
            return Err(ConfigError::ShortSecret {
                type_name,
                origin,
                len,
            });
        }
        let invalid_key = |e: KeyError| ConfigError::Invalid {
            type_name,
            setting: "secret".into(),
            message: e.to_string(),
        };
        if self.secrets.has_retired() && !self.secrets.has_current() {
            return Err(self.retired_without_current(type_name));
        }
        if self.secrets.has_current() {
            return KeyRing::from_secrets(self.secrets.bytes())
                .map_err(invalid_key)
                .map(|ring| ring.with_legacy_keys(self.legacy_keys.clone()));
        }
        if self.mode != EncryptionMode::Legacy || self.legacy_keys.is_empty() {
            return Err(ConfigError::MissingSecret {
                type_name,
                variable: self.secret_variable.clone(),
            });
        }
        KeyRing::from_legacy_keys(self.legacy_keys.clone()).map_err(invalid_key)
    }

    /// Retired secrets only open; with no current secret one of them would have to seal, which
    /// would silently bring a retired key back into service.
    fn retired_without_current(&self, type_name: &'static str) -> ConfigError {
        let (secret, previous) = (&self.secret_variable, &self.previous_variable);
        let setting = if self.secrets.retired_from_env_only() {
            previous.clone()
        } else {
            "previous_secrets".to_owned()
        };
        ConfigError::Invalid {
            type_name,
            setting,
            message: format!(
                "retired secrets (`{previous}` or `.previous_secrets(...)`) are set but no current secret: \
                 retired secrets only open cookies, they never seal; set `{secret}` or pass `.secret(...)` \
                 with the secret that seals now"
            ),
        }
    }
}
