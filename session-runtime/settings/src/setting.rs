//! A typed key for every setting, and the names it is written under.

use std::fmt;

/// Declares the settings once: variant, attribute or builder name, environment suffix, and
/// whether `#[session(...)]` takes it.
macro_rules! settings {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, env $env:literal, $place:ident;)+) => {
        /// One setting of a session type.
        ///
        /// ```
        /// use session_settings::Setting;
        ///
        /// assert_eq!(Setting::CookieName.name(), "cookie_name");
        /// assert_eq!(Setting::CookieName.env_var("SESSION"), "SESSION_COOKIE_NAME");
        /// assert_eq!(Setting::from_attribute("expire"), Some(Setting::Expire));
        /// assert_eq!(Setting::from_attribute("max_chunks"), None); // builder only
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Setting {
            $($(#[$doc])* $variant),+
        }

        impl Setting {
            /// Every setting, in declaration order.
            pub const ALL: &'static [Setting] = &[$(Setting::$variant),+];

            /// The name in `#[session(...)]` and of the builder method.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Setting::$variant => $name,)+
                }
            }

            /// What follows the prefix and `_` in the environment variable.
            pub const fn env_suffix(self) -> &'static str {
                match self {
                    $(Setting::$variant => $env,)+
                }
            }

            /// Whether `#[session(...)]` on the struct takes it (else only the builder and
            /// the environment do).
            pub const fn is_attribute(self) -> bool {
                match self {
                    $(Setting::$variant => settings!(@place $place),)+
                }
            }
        }
    };
    (@place attribute) => { true };
    (@place builder) => { false };
}

settings! {
    /// The cookie name (an RFC 6265 token).
    CookieName = "cookie_name", env "COOKIE_NAME", attribute;
    /// Idle timeout in seconds.
    Expire = "expire", env "EXPIRE", attribute;
    /// Absolute timeout from creation in seconds.
    MaxLifetime = "max_lifetime", env "MAX_LIFETIME", attribute;
    /// Whether activity extends the idle timeout.
    Rolling = "rolling", env "ROLLING", attribute;
    /// A browser-session cookie.
    Sessioncookie = "sessioncookie", env "SESSIONCOOKIE", attribute;
    /// Where the data lives.
    Store = "store", env "STORE", attribute;
    /// How values are protected.
    EncryptionMode = "encryption_mode", env "ENCRYPTION_MODE", attribute;
    /// zstd level.
    CompressionLevel = "compression_level", env "COMPRESSION_LEVEL", attribute;
    /// A zstd dictionary for cookie values.
    CompressionDictionary = "compression_dictionary", env "COMPRESSION_DICTIONARY", attribute;
    /// The cookie's `Secure` attribute.
    Secure = "secure", env "SECURE", attribute;
    /// The cookie's `HttpOnly` attribute.
    HttpOnly = "http_only", env "HTTP_ONLY", attribute;
    /// The cookie's `SameSite` attribute.
    SameSite = "same_site", env "SAME_SITE", attribute;
    /// The cookie's `Domain` attribute.
    Domain = "domain", env "DOMAIN", attribute;
    /// The cookie's `Path` attribute.
    Path = "path", env "PATH", attribute;
    /// The cookie's `Partitioned` attribute.
    Partitioned = "partitioned", env "PARTITIONED", attribute;
    /// Key prefix in server-side stores.
    Prefix = "prefix", env "PREFIX", attribute;
    /// File name template of the files store.
    FilenameTemplate = "filename_template", env "FILENAME_TEMPLATE", attribute;
    /// Largest cookie the cookie store may send.
    MaxCookieSize = "max_cookie_size", env "MAX_COOKIE_SIZE", attribute;
    /// What happens past `max_cookie_size`.
    Oversize = "oversize", env "OVERSIZE", attribute;
    /// Most cookies a chunked session may use.
    MaxChunks = "max_chunks", env "MAX_CHUNKS", builder;
    /// Least time between two refreshes of an unchanged session.
    RefreshInterval = "refresh_interval", env "REFRESH_INTERVAL", builder;
    /// Sessions the memory store holds.
    MemoryCapacity = "memory_capacity", env "MEMORY_CAPACITY", builder;
    /// Most sessions the files store keeps (none: unbounded).
    FilesCapacity = "files_capacity", env "FILES_CAPACITY", builder;
    /// Directory of the files store.
    SessionDir = "session_dir", env "DIR", builder;
    /// Redis URL (or cluster node URLs).
    RedisUrl = "redis_url", env "REDIS_URL", builder;
    /// PostgreSQL URL.
    DatabaseUrl = "database_url", env "DATABASE_URL", builder;
    /// memcached URL.
    MemcachedUrl = "memcached_url", env "MEMCACHED_URL", builder;
    /// The secret that seals.
    Secret = "secret", env "SECRET", builder;
    /// Retired secrets that still open.
    PreviousSecrets = "previous_secrets", env "SECRET_PREVIOUS", builder;
    /// Until when a `modern` or `none` layer also opens `legacy` values.
    AcceptLegacyUntil = "accept_legacy_until", env "ACCEPT_LEGACY_UNTIL", builder;
}

impl Setting {
    /// The setting `#[session(name = ...)]` names.
    pub fn from_attribute(name: &str) -> Option<Setting> {
        Setting::ALL
            .iter()
            .copied()
            .find(|s| s.is_attribute() && s.name() == name)
    }

    /// The names `#[session(...)]` on a struct takes.
    pub fn attribute_names() -> impl Iterator<Item = &'static str> {
        Setting::ALL
            .iter()
            .filter(|s| s.is_attribute())
            .map(|s| s.name())
    }

    /// The environment variable that sets it, for a prefix such as `SESSION`.
    pub fn env_var(self, prefix: &str) -> String {
        format!("{prefix}_{}", self.env_suffix())
    }

    const fn bit(self) -> u64 {
        1 << self as u32
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of settings, such as the ones written explicitly in one place.
///
/// ```
/// use session_settings::{Setting, SettingSet};
///
/// let mut written = SettingSet::EMPTY;
/// written.insert(Setting::Prefix);
/// assert!(written.contains(Setting::Prefix));
/// assert!(!written.contains(Setting::Store));
/// written.remove(Setting::Prefix);
/// assert!(!written.contains(Setting::Prefix));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingSet(u64);

impl SettingSet {
    /// No setting.
    pub const EMPTY: SettingSet = SettingSet(0);

    /// Adds a setting.
    pub fn insert(&mut self, setting: Setting) {
        self.0 |= setting.bit();
    }

    /// Removes a setting.
    pub fn remove(&mut self, setting: Setting) {
        self.0 &= !setting.bit();
    }

    /// Whether the set holds `setting`.
    pub const fn contains(self, setting: Setting) -> bool {
        self.0 & setting.bit() != 0
    }
}

impl FromIterator<Setting> for SettingSet {
    fn from_iter<I: IntoIterator<Item = Setting>>(iter: I) -> Self {
        let mut set = SettingSet::EMPTY;
        for setting in iter {
            set.insert(setting);
        }
        set
    }
}

impl fmt::Debug for SettingSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(Setting::ALL.iter().filter(|s| self.contains(**s)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_the_set() {
        assert!(Setting::ALL.len() <= 64);
    }

    #[test]
    fn names_and_variables_are_unique() {
        for (i, a) in Setting::ALL.iter().enumerate() {
            for b in &Setting::ALL[i + 1..] {
                assert_ne!(a.name(), b.name());
                assert_ne!(a.env_suffix(), b.env_suffix());
            }
        }
    }
}
