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
    (Setting::Rolling, |c, _, value| {
        c.settings.rolling = boolean(&value)?;
        Ok(())
    }),
    (Setting::Sessioncookie, |c, _, value| {
        c.settings.sessioncookie = boolean(&value)?;
        Ok(())
    }),
    (Setting::CompressionDictionary, |c, _, value| {
        let path = value.trim();
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the dictionary file `{path}`: {e}"))?;
        c.codec.compression_dictionary = Some(bytes.into());
        Ok(())
    }),
    (Setting::HttpOnly, |c, _, value| {
        c.settings.cookie.http_only = boolean(&value)?;
        Ok(())
    }),
    (Setting::SameSite, |c, _, value| {
        let same_site =
            session_settings::SameSite::parse(value.trim()).map_err(|e| e.to_string())?;
        c.settings.cookie.same_site = crate::config::cookie_same_site(same_site);
        Ok(())
    }),
    (Setting::Path, |c, _, value| {
        value.trim().clone_into(&mut c.settings.cookie.path);
        Ok(())
    }),
    (Setting::Partitioned, |c, _, value| {
        c.settings.cookie.partitioned = boolean(&value)?;
        Ok(())
    }),
    (Setting::Prefix, |c, _, value| {
        c.settings.prefix = Some(value.trim().to_owned());
        Ok(())
    }),
    (Setting::FilenameTemplate, |c, _, value| {
        value.trim().clone_into(&mut c.settings.filename_template);
        Ok(())
    }),
    (Setting::MaxCookieSize, |c, _, value| {
        c.settings.max_cookie_size = count(&value, "bytes")?;
        Ok(())
    }),
    (Setting::Oversize, |c, _, value| {
        c.settings.oversize = value.trim().parse().map_err(|e| format!("{e}"))?;
        Ok(())
    }),
    (Setting::MaxChunks, |c, _, value| {
        c.settings.max_chunks = count(&value, "cookies")?;
        Ok(())
    }),
    (Setting::RefreshInterval, |c, _, value| {
        c.refresh_interval = Some(
            value
                .trim()
                .parse()
                .map_err(|_| format!("`{value}` is not a number of seconds"))?,
        );
        Ok(())
    }),
    (Setting::MemoryCapacity, |c, _, value| {
        c.stores.memory_capacity = count(&value, "sessions")?;
        Ok(())
    }),
    (Setting::FilesCapacity, |c, _, value| {
        c.stores.files_capacity = match value.trim() {
            "" | "none" => None,
            _ => Some(count(&value, "sessions (or `none` for no limit)")?),
        };
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

/// Reads one variable, as [`std::env::var`] does.
type Lookup<'a> = &'a dyn Fn(&str) -> Result<String, std::env::VarError>;

impl LayerConfig {
    /// Applies every `{prefix}_*` variable that is set; unset ones change nothing.
    pub(super) fn read_env(&mut self, prefix: &str) -> Result<(), ConfigError> {
        self.read_vars(prefix, &|name| std::env::var(name))
    }

    /// [`read_env`](Self::read_env), with the variables read by `lookup`.
    fn read_vars(&mut self, prefix: &str, lookup: Lookup<'_>) -> Result<(), ConfigError> {
        self.codec.secret_variable = Setting::Secret.env_var(prefix);
        self.codec.previous_variable = Setting::PreviousSecrets.env_var(prefix);
        prefix.clone_into(&mut self.stores.env_prefix);
        for (setting, apply) in FROM_ENV {
            let Some((variable, value)) = self.var(*setting, prefix, lookup)? else {
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
    fn var(
        &self,
        setting: Setting,
        prefix: &str,
        lookup: Lookup<'_>,
    ) -> Result<Option<(String, String)>, ConfigError> {
        let name = setting.env_var(prefix);
        match lookup(&name) {
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
        Ok(lookup(unprefixed)
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

/// A positive whole number of `what`.
fn count(value: &str, what: &str) -> Result<usize, String> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{value}` is not a positive number of {what}"))
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
    fn every_setting_is_read_from_the_environment() {
        for setting in Setting::ALL {
            assert!(
                FROM_ENV.iter().any(|(s, _)| s == setting),
                "{} is not read from the environment",
                setting.env_var("SESSION")
            );
        }
    }

    /// The configuration `Visit` starts from, with `vars` read as the environment.
    fn read(vars: &[(&str, &str)]) -> Result<LayerConfig, ConfigError> {
        let mut config = LayerConfig::new(&crate::config::Attributes::new("Visit", "visit"));
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        config.read_vars("APP", &|name| {
            vars.get(name)
                .cloned()
                .ok_or(std::env::VarError::NotPresent)
        })?;
        Ok(config)
    }

    type Check = fn(&LayerConfig) -> bool;

    /// One good value per setting (the secrets have tests of their own), and what the
    /// configuration holds after it was read.
    const TOOK: &[(&str, &str, Check)] = &[
        ("APP_STORE", "memory", |c| {
            c.store.kind() == Some(crate::StoreKind::Memory)
        }),
        ("APP_ENCRYPTION_MODE", "none", |c| {
            c.codec.mode == crate::EncryptionMode::None
        }),
        ("APP_COMPRESSION_LEVEL", "7", |c| {
            c.codec.compression_level == 7
        }),
        ("APP_EXPIRE", "120", |c| c.settings.expire == 120),
        ("APP_MAX_LIFETIME", "900", |c| {
            c.settings.max_lifetime == Some(900)
        }),
        ("APP_COOKIE_NAME", "other", |c| {
            c.settings.cookie_name == "other"
        }),
        ("APP_SECURE", "true", |c| c.settings.cookie.secure),
        ("APP_DOMAIN", "example.com", |c| {
            c.settings.cookie.domain.as_deref() == Some("example.com")
        }),
        ("APP_ROLLING", "false", |c| !c.settings.rolling),
        ("APP_SESSIONCOOKIE", "yes", |c| c.settings.sessioncookie),
        ("APP_HTTP_ONLY", "off", |c| !c.settings.cookie.http_only),
        ("APP_SAME_SITE", "strict", |c| {
            c.settings.cookie.same_site == crate::SameSite::Strict
        }),
        ("APP_PATH", "/app", |c| c.settings.cookie.path == "/app"),
        ("APP_PARTITIONED", "1", |c| c.settings.cookie.partitioned),
        ("APP_PREFIX", "v2:", |c| {
            c.settings.prefix.as_deref() == Some("v2:")
        }),
        ("APP_FILENAME_TEMPLATE", "visit_%s", |c| {
            c.settings.filename_template == "visit_%s"
        }),
        ("APP_MAX_COOKIE_SIZE", "3000", |c| {
            c.settings.max_cookie_size == 3000
        }),
        ("APP_OVERSIZE", "chunk", |c| {
            c.settings.oversize == crate::Oversize::Chunk
        }),
        ("APP_MAX_CHUNKS", "3", |c| c.settings.max_chunks == 3),
        ("APP_REFRESH_INTERVAL", "0", |c| {
            c.refresh_interval == Some(0)
        }),
        ("APP_MEMORY_CAPACITY", "500", |c| {
            c.stores.memory_capacity == 500
        }),
        ("APP_FILES_CAPACITY", "2000", |c| {
            c.stores.files_capacity == Some(2000)
        }),
        ("APP_FILES_CAPACITY", "none", |c| {
            c.stores.files_capacity.is_none()
        }),
        ("APP_DIR", "/var/lib/app", |c| {
            c.stores.session_dir.as_deref() == Some(std::path::Path::new("/var/lib/app"))
        }),
        ("APP_REDIS_URL", "redis://r", |c| {
            c.stores.redis_url.as_deref() == Some("redis://r")
        }),
        ("APP_DATABASE_URL", "postgres://p", |c| {
            c.stores.database_url.as_deref() == Some("postgres://p")
        }),
        ("APP_MEMCACHED_URL", "memcache://m", |c| {
            c.stores.memcached_url.as_deref() == Some("memcache://m")
        }),
    ];

    #[test]
    fn each_variable_sets_its_setting() {
        for (variable, value, took) in TOOK {
            let config = read(&[(variable, value)]).unwrap();
            assert!(took(&config), "{variable}={value} was not taken");
            assert!(
                !took(&read(&[]).unwrap()) || *variable == "APP_FILES_CAPACITY",
                "{variable}={value} is already the default: the check proves nothing"
            );
        }
    }

    #[test]
    fn the_dictionary_variable_names_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dict");
        std::fs::write(&path, b"dictionary bytes").unwrap();
        let config = read(&[("APP_COMPRESSION_DICTIONARY", path.to_str().unwrap())]).unwrap();
        assert_eq!(
            config
                .codec
                .compression_dictionary
                .as_ref()
                .map(|d| d.as_bytes()),
            Some(&b"dictionary bytes"[..])
        );
        let missing = dir.path().join("missing");
        let err = read(&[("APP_COMPRESSION_DICTIONARY", missing.to_str().unwrap())]);
        assert!(
            matches!(err, Err(ConfigError::Invalid { setting, .. }) if setting == "APP_COMPRESSION_DICTIONARY")
        );
    }

    #[test]
    fn a_bad_value_is_refused_naming_its_variable() {
        for (variable, value) in [
            ("APP_STORE", "mongo"),
            ("APP_ENCRYPTION_MODE", "rot13"),
            ("APP_COMPRESSION_LEVEL", "high"),
            ("APP_EXPIRE", "0"),
            ("APP_MAX_LIFETIME", "forever"),
            ("APP_SECURE", "maybe"),
            ("APP_ROLLING", "2"),
            ("APP_SESSIONCOOKIE", "sometimes"),
            ("APP_HTTP_ONLY", "nah"),
            ("APP_SAME_SITE", "loose"),
            ("APP_PARTITIONED", "-"),
            ("APP_MAX_COOKIE_SIZE", "big"),
            ("APP_OVERSIZE", "truncate"),
            ("APP_MAX_CHUNKS", "0"),
            ("APP_REFRESH_INTERVAL", "-1"),
            ("APP_MEMORY_CAPACITY", "0"),
            ("APP_FILES_CAPACITY", "lots"),
        ] {
            match read(&[(variable, value)]) {
                Err(ConfigError::Invalid { setting, .. }) => assert_eq!(setting, variable),
                Err(other) => panic!("{variable}={value}: {other}"),
                Ok(_) => panic!("{variable}={value} was accepted"),
            }
        }
    }

    #[test]
    fn every_setting_is_read_once() {
        for (i, (a, _)) in FROM_ENV.iter().enumerate() {
            assert!(FROM_ENV[i + 1..].iter().all(|(b, _)| a != b), "{a}");
        }
    }
}
