//! Reading a layer's settings from `{prefix}_*` environment variables. Every variable's name
//! comes from [`Setting::env_var`]; the table below says which settings the environment sets
//! and how each value is read.

use session_settings::Setting;

use super::LayerConfig;
use crate::error::ConfigError;

/// Reads one variable's value into the configuration; an error says what is wrong with it.
type Apply = fn(&mut LayerConfig, &str, String) -> Result<(), String>;

/// The settings the environment sets, in the order they are read, each with how its value is
/// read.
const FROM_ENV: &[(Setting, Apply)] = &[
    (Setting::Secret, |c, variable, value| {
        c.codec.secrets.set_from_env(variable, value);
        Ok(())
    }),
    (Setting::PreviousSecrets, |c, variable, value| {
        c.codec.secrets.set_previous_from_env(variable, &value);
        Ok(())
    }),
    (Setting::AcceptLegacyUntil, |c, _, value| {
        c.codec.accept_legacy = true;
        c.codec.accept_legacy_until = Some(super::deadline::parse(&value)?);
        Ok(())
    }),
    (Setting::Store, |c, _, value| {
        c.store = value.trim().parse().map_err(|e| format!("{e}"))?;
        Ok(())
    }),
    (Setting::EncryptionMode, |c, _, value| {
        c.codec.mode = value.trim().parse().map_err(|e| format!("{e}"))?;
        Ok(())
    }),
    (Setting::CompressionLevel, |c, _, value| {
        c.codec.compression_level = value
            .trim()
            .parse()
            .map_err(|_| format!("`{value}` is not a number from 0 to 22"))?;
        Ok(())
    }),
    (Setting::Expire, |c, _, value| {
        c.settings.expire = seconds(&value)?;
        Ok(())
    }),
    (Setting::MaxLifetime, |c, _, value| {
        c.settings.max_lifetime = Some(seconds(&value)?);
        Ok(())
    }),
    (Setting::CookieName, |c, _, value| {
        c.settings.cookie_name = value.trim().to_owned();
        Ok(())
    }),
    (Setting::Secure, |c, _, value| {
        c.settings.cookie.secure = boolean(&value)?;
        Ok(())
    }),
    (Setting::Domain, |c, _, value| {
        c.settings.cookie.domain = Some(value.trim().to_owned()).filter(|d| !d.is_empty());
        Ok(())
    }),
    (Setting::SessionDir, |c, _, value| {
        c.stores.session_dir = Some(value.into());
        Ok(())
    }),
    (Setting::RedisUrl, |c, _, value| {
        c.stores.redis_url = Some(value);
        Ok(())
    }),
    (Setting::DatabaseUrl, |c, _, value| {
        c.stores.database_url = Some(value);
        Ok(())
    }),
    (Setting::MemcachedUrl, |c, _, value| {
        c.stores.memcached_url = Some(value);
        Ok(())
    }),
];

/// Settings that fall back to the conventional unprefixed variable (`REDIS_URL`, ...) when
/// the prefixed one is unset.
const UNPREFIXED_FALLBACK: [Setting; 3] = [
    Setting::RedisUrl,
    Setting::DatabaseUrl,
    Setting::MemcachedUrl,
];

impl LayerConfig {
    /// Applies every `{prefix}_*` variable that is set; unset ones change nothing.
    pub(super) fn read_env(&mut self, prefix: &str) -> Result<(), ConfigError> {
        self.codec.secret_variable = Setting::Secret.env_var(prefix);
        self.codec.previous_variable = Setting::PreviousSecrets.env_var(prefix);
        prefix.clone_into(&mut self.stores.env_prefix);
        for (setting, apply) in FROM_ENV {
            let Some((variable, value)) = self.var(*setting, prefix)? else {
                continue;
            };
            apply(self, &variable, value).map_err(|message| ConfigError::Invalid {
                type_name: self.settings.type_name,
                setting: variable,
                message,
            })?;
            self.provenance.read_env(*setting, prefix);
        }
        Ok(())
    }

    /// The variable that sets `setting`, with its value, if set.
    fn var(&self, setting: Setting, prefix: &str) -> Result<Option<(String, String)>, ConfigError> {
        let name = setting.env_var(prefix);
        match std::env::var(&name) {
            Ok(value) => return Ok(Some((name, value))),
            Err(std::env::VarError::NotPresent) => {}
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(ConfigError::Invalid {
                    type_name: self.settings.type_name,
                    setting: name,
                    message: "the value is not valid UTF-8".into(),
                });
            }
        }
        if !UNPREFIXED_FALLBACK.contains(&setting) {
            return Ok(None);
        }
        let unprefixed = setting.env_suffix();
        Ok(std::env::var(unprefixed)
            .ok()
            .map(|value| (unprefixed.to_owned(), value)))
    }
}

/// A positive number of seconds.
fn seconds(value: &str) -> Result<u64, String> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{value}` is not a positive number of seconds"))
}

/// A yes or no, in the spellings configuration files use.
fn boolean(value: &str) -> Result<bool, String> {
    match value.trim() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("`{value}` is not true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_before() {
        assert_eq!(seconds(" 60 "), Ok(60));
        assert!(seconds("0").is_err());
        assert!(seconds("soon").is_err());
        assert_eq!(boolean("on"), Ok(true));
        assert_eq!(boolean("0"), Ok(false));
        assert!(boolean("maybe").unwrap_err().contains("true or false"));
    }

    #[test]
    fn every_setting_is_read_once() {
        for (i, (a, _)) in FROM_ENV.iter().enumerate() {
            assert!(FROM_ENV[i + 1..].iter().all(|(b, _)| a != b), "{a}");
        }
    }
}
