//! The registry of built-in stores: how each [`StoreKind`] is built from the layer's settings,
//! and the one place that reports a store whose cargo feature is off and starts the sweeper of
//! the stores that need one.
//!
//! Adding a store: its own file in this module, one entry in [`open_builtin`], its cargo
//! feature, and its name in the `StoreKind` table of the settings specification.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use session_settings::{Setting, StoreKind};

use super::{
    ConnectionOptions, ExpiredDeletion, FilesStore, MemoryStore, SessionStore, StoreError,
};
use crate::error::ConfigError;

/// What building any store may need, as the builder and the environment set it.
#[derive(Clone, Debug)]
pub(crate) struct StoreConfig {
    /// Sessions the memory store holds.
    pub(crate) memory_capacity: usize,
    /// Sessions the files store keeps at most; `None`: no limit.
    pub(crate) files_capacity: Option<usize>,
    /// Directory of the files store.
    pub(crate) session_dir: Option<PathBuf>,
    /// Redis URL, or comma-separated cluster node URLs.
    pub(crate) redis_url: Option<String>,
    /// PostgreSQL URL.
    pub(crate) database_url: Option<String>,
    /// memcached URL.
    pub(crate) memcached_url: Option<String>,
    /// Pool size and timeouts of the networked stores.
    pub(crate) connection: ConnectionOptions,
    /// The prefix of the environment variables, for messages.
    pub(crate) env_prefix: String,
}

impl StoreConfig {
    /// Nothing configured yet: the default capacities, no directory or URLs, variables named
    /// `{env_prefix}_...`.
    pub(crate) fn new(env_prefix: &str) -> Self {
        StoreConfig {
            memory_capacity: session_settings::defaults::MEMORY_CAPACITY,
            files_capacity: None,
            session_dir: None,
            redis_url: None,
            database_url: None,
            memcached_url: None,
            connection: ConnectionOptions::default(),
            env_prefix: env_prefix.to_owned(),
        }
    }
}

/// The session type a store is built for.
pub(crate) struct Target<'a> {
    pub(crate) type_name: &'static str,
    /// The store key prefix, which memcached must check against its key limits.
    #[cfg_attr(
        not(feature = "memcached"),
        allow(dead_code, reason = "read only by the memcached store")
    )]
    pub(crate) prefix: &'a str,
    pub(crate) filename_template: &'a str,
    /// Idle timeout in seconds: sweepers run every `expire` seconds, at most every minute.
    pub(crate) expire: u64,
}

/// A store just built, with its expired-record deletion when it needs one run for it.
struct Opened {
    store: Arc<dyn SessionStore>,
    sweep: Option<Weak<dyn ExpiredDeletion>>,
}

impl Opened {
    /// A store that expires its records by itself.
    #[cfg_attr(
        not(any(feature = "redis", feature = "memcached")),
        allow(
            dead_code,
            reason = "only Redis and memcached expire records by themselves"
        )
    )]
    fn expiring<S: SessionStore>(store: S) -> Self {
        Opened {
            store: Arc::new(store),
            sweep: None,
        }
    }

    /// A store whose expired records must be deleted by a sweeper.
    fn swept<S: SessionStore + ExpiredDeletion>(store: S) -> Self {
        let store = Arc::new(store);
        let sweep: Weak<dyn ExpiredDeletion> = Arc::downgrade(&store) as Weak<dyn ExpiredDeletion>;
        Opened {
            store,
            sweep: Some(sweep),
        }
    }
}

/// Builds the built-in store `kind` for `target`; `None` for the cookie store, which keeps
/// nothing on the server. Starts the store's sweeper, which ends when the store is dropped.
pub(crate) async fn open(
    kind: StoreKind,
    config: &StoreConfig,
    target: &Target<'_>,
) -> Result<Option<Arc<dyn SessionStore>>, ConfigError> {
    if !kind.is_server_side() {
        return Ok(None);
    }
    let Some(opened) = open_builtin(kind, config, target).await? else {
        return Err(missing_feature(kind, target));
    };
    if let Some(sweep) = opened.sweep {
        if tokio::runtime::Handle::try_current().is_ok() {
            let interval = Duration::from_secs(target.expire.clamp(1, 60));
            super::sweeper::spawn(sweep, kind.name(), interval, |store| store);
        }
    }
    Ok(Some(opened.store))
}

/// The registry: one entry per server-side store compiled in; `None` for one whose feature
/// is off.
async fn open_builtin(
    kind: StoreKind,
    config: &StoreConfig,
    target: &Target<'_>,
) -> Result<Option<Opened>, ConfigError> {
    let opened = match kind {
        StoreKind::Memory => Opened::swept(MemoryStore::new(config.memory_capacity)),
        StoreKind::Files => Opened::swept(files(config, target)?),
        #[cfg(feature = "redis")]
        StoreKind::Redis => Opened::expiring(redis(config, target).await?),
        #[cfg(feature = "postgres")]
        StoreKind::Postgres => Opened::swept(postgres(config, target).await?),
        #[cfg(feature = "memcached")]
        StoreKind::Memcached => Opened::expiring(memcached(config, target).await?),
        #[allow(
            unreachable_patterns,
            reason = "the cookie store and stores compiled out"
        )]
        _ => return Ok(None),
    };
    Ok(Some(opened))
}

fn files(config: &StoreConfig, target: &Target<'_>) -> Result<FilesStore, ConfigError> {
    let Some(dir) = &config.session_dir else {
        return Err(invalid(
            StoreKind::Files,
            target,
            format!(
                "no directory configured: set {} to a writable directory or call `.{}(...)`",
                Setting::SessionDir.env_var(&config.env_prefix),
                Setting::SessionDir.name()
            ),
        ));
    };
    FilesStore::new(dir, target.filename_template)
        .map(|store| store.capacity(config.files_capacity))
        .map_err(|e| store_error(target, e))
}

#[cfg(feature = "redis")]
async fn redis(
    config: &StoreConfig,
    target: &Target<'_>,
) -> Result<super::RedisStore, ConfigError> {
    let url = config
        .redis_url
        .as_deref()
        .unwrap_or("redis://127.0.0.1:6379");
    let options = super::redis::RedisOptions::default().connection(config.connection);
    super::RedisStore::connect_with(url, options)
        .await
        .map_err(|e| store_error(target, e))
}

#[cfg(feature = "postgres")]
async fn postgres(
    config: &StoreConfig,
    target: &Target<'_>,
) -> Result<super::PostgresStore, ConfigError> {
    let Some(url) = config.database_url.as_deref() else {
        return Err(missing_url(
            StoreKind::Postgres,
            Setting::DatabaseUrl,
            target,
        ));
    };
    let options = super::postgres::PostgresOptions::default().connection(config.connection);
    super::PostgresStore::connect_with(url, options)
        .await
        .map_err(|e| store_error(target, e))
}

#[cfg(feature = "memcached")]
async fn memcached(
    config: &StoreConfig,
    target: &Target<'_>,
) -> Result<super::MemcachedStore, ConfigError> {
    let url = config
        .memcached_url
        .as_deref()
        .unwrap_or("memcache://127.0.0.1:11211");
    super::MemcachedStore::check_prefix(target.prefix).map_err(|e| store_error(target, e))?;
    let options = super::memcached::MemcachedOptions::default().connection(config.connection);
    super::MemcachedStore::connect_with(url, options)
        .await
        .map_err(|e| store_error(target, e))
}

fn store_error(target: &Target<'_>, source: StoreError) -> ConfigError {
    ConfigError::Store {
        type_name: target.type_name,
        source,
    }
}

fn invalid(kind: StoreKind, target: &Target<'_>, message: String) -> ConfigError {
    ConfigError::Invalid {
        type_name: target.type_name,
        setting: format!("store = {kind}"),
        message,
    }
}

fn missing_feature(kind: StoreKind, target: &Target<'_>) -> ConfigError {
    let feature = kind.feature().unwrap_or(kind.name());
    invalid(
        kind,
        target,
        format!(
            "this build of session-runtime has no {kind} support: enable its `{feature}` feature"
        ),
    )
}

#[cfg(feature = "postgres")]
fn missing_url(kind: StoreKind, url: Setting, target: &Target<'_>) -> ConfigError {
    invalid(
        kind,
        target,
        format!(
            "no server configured: set {} or call `.{}(...)`",
            url.env_suffix(),
            url.name()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> StoreConfig {
        StoreConfig {
            memory_capacity: 10,
            ..StoreConfig::new("APP")
        }
    }

    const TARGET: Target<'static> = Target {
        type_name: "Visit",
        prefix: "visit:",
        filename_template: "sess_%s",
        expire: 60,
    };

    #[tokio::test]
    async fn every_store_kind_is_built_or_names_its_feature() {
        for &kind in StoreKind::ALL {
            match open(kind, &config(), &TARGET).await {
                Ok(None) => assert!(!kind.is_server_side(), "{kind}"),
                Ok(Some(_)) => assert!(kind.is_server_side(), "{kind}"),
                Err(ConfigError::Invalid {
                    setting, message, ..
                }) => {
                    assert_eq!(setting, format!("store = {kind}"));
                    assert!(
                        message.contains(&format!("`{}` feature", kind.feature().unwrap_or("")))
                            || message.contains("APP_DIR")
                            || message.contains("DATABASE_URL"),
                        "{kind}: {message}"
                    );
                }
                Err(ConfigError::Store { .. }) => {
                    // A networked store compiled in, with no server at the default address.
                    assert!(kind.feature().is_some(), "{kind}");
                }
                Err(other) => panic!("{kind}: {other}"),
            }
        }
    }
}
