//! Building a session layer: attribute defaults, run-time overrides, secrets, the store.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::{Codec, CodecOptions, KeyRing};
use crate::config::{EncryptionMode, Oversize, SameSite, StoreChoice};
use crate::cookies::CookieAttributes;
use crate::engine::{Backend, Engine, Settings};
use crate::error::ConfigError;
use crate::layer::SessionLayer;
use crate::schema::SessionSchema;
use crate::store::{FilesStore, MemoryStore, SessionStore};
use crate::validate;

/// Configures the layer of session type `T`; start from `T::layer()`.
///
/// Every `#[session(...)]` attribute is the default here and every one can be overridden, from
/// code or from the environment ([`from_env`](Self::from_env)). Secrets never come from
/// attributes: pass them with [`secret`](Self::secret) or set `SESSION_SECRET`.
///
/// ```
/// use axum::{Router, routing::get};
/// use session_runtime::Session;
///
/// #[derive(Session)]
/// #[session(cookie_name = "visit", expire = 600)]
/// struct Visit {
///     counter: u32,
/// }
///
/// async fn count(mut visit: Session<Visit>) -> String {
///     visit.counter += 1;
///     format!("This is your {} visit", visit.counter)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let layer = Visit::layer()
///     .secret("a secret of at least thirty-two bytes, from a vault")
///     .compression_level(3)
///     .build()
///     .await?;
/// let app: Router = Router::new().route("/", get(count)).layer(layer);
/// # Ok(()) }
/// ```
pub struct SessionLayerBuilder<T> {
    settings: Settings,
    store: StoreChoice,
    store_instance: Option<Arc<dyn SessionStore>>,
    mode: EncryptionMode,
    compression_level: i32,
    compression_dictionary: Option<crate::codec::compress::Dictionary>,
    secrets: Vec<(String, Vec<u8>)>,
    legacy_keys: Vec<cookie::Key>,
    accept_legacy: bool,
    secret_variable: String,
    refresh_interval: Option<u64>,
    memory_capacity: usize,
    session_dir: Option<std::path::PathBuf>,
    redis_url: Option<String>,
    database_url: Option<String>,
    memcached_url: Option<String>,
    _schema: PhantomData<fn() -> T>,
}

impl<T: SessionSchema> Default for SessionLayerBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: SessionSchema> SessionLayerBuilder<T> {
    /// A builder holding the attribute values of `T`.
    pub fn new() -> Self {
        let a = T::attributes();
        SessionLayerBuilder {
            settings: Settings {
                type_name: a.type_name,
                cookie_name: a.cookie_name.to_owned(),
                expire: a.expire,
                max_lifetime: a.max_lifetime,
                rolling: a.rolling,
                sessioncookie: a.sessioncookie,
                refresh_interval: 0,
                cookie: CookieAttributes {
                    path: a.path.to_owned(),
                    domain: a.domain.map(str::to_owned),
                    secure: a.secure,
                    http_only: a.http_only,
                    same_site: a.same_site,
                    partitioned: a.partitioned,
                },
                max_cookie_size: a.max_cookie_size,
                oversize: a.oversize,
                max_chunks: 8,
                prefix: a.prefix.map(str::to_owned),
                filename_template: a.filename_template.to_owned(),
            },
            store: a.store,
            store_instance: None,
            mode: a.encryption_mode,
            compression_level: a.compression_level,
            compression_dictionary: a.compression_dictionary.map(Into::into),
            secrets: Vec::new(),
            legacy_keys: Vec::new(),
            accept_legacy: false,
            secret_variable: "SESSION_SECRET".to_owned(),
            refresh_interval: None,
            memory_capacity: 100_000,
            session_dir: None,
            redis_url: None,
            database_url: None,
            memcached_url: None,
            _schema: PhantomData,
        }
    }

    /// The secret that seals (at least 32 bytes). Replaces any earlier current secret.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secrets.retain(|(origin, _)| origin != "builder");
        self.secrets
            .insert(0, ("builder".to_owned(), secret.as_ref().to_vec()));
        self
    }

    /// Retired secrets: they still open cookies, which are then re-sealed with the current one.
    pub fn previous_secrets<S: AsRef<[u8]>>(
        mut self,
        secrets: impl IntoIterator<Item = S>,
    ) -> Self {
        for (i, s) in secrets.into_iter().enumerate() {
            self.secrets
                .push((format!("previous secret #{}", i + 1), s.as_ref().to_vec()));
        }
        self
    }

    /// A 64-byte `cookie::Key` for `legacy` mode (for example the one an app gave
    /// axum-extra's `PrivateCookieJar`). The first key given seals; all open.
    pub fn legacy_key(mut self, key: cookie::Key) -> Self {
        self.legacy_keys.push(key);
        self
    }

    /// In `modern` or `none` mode, also open `legacy` cookies and re-seal them in the current
    /// mode on the way out: a migration without logging every user out.
    pub fn accept_legacy(mut self, accept: bool) -> Self {
        self.accept_legacy = accept;
        self
    }

    /// A random secret for this process only: every session is lost on restart. For examples
    /// and tests; the library never does this unless asked.
    pub fn ephemeral_secret(self) -> Self {
        let mut bytes = [0u8; 48];
        if getrandom::fill(&mut bytes).is_err() {
            // Leaving the secret unset makes `build` report the missing secret.
            return self;
        }
        self.secret(bytes)
    }

    /// Like [`ephemeral_secret`](Self::ephemeral_secret), but only when no secret was given,
    /// and with a warning in the log: for examples and local development, where
    /// `SESSION_SECRET` may be unset.
    pub fn or_ephemeral_secret(self) -> Self {
        if !self.secrets.is_empty() {
            return self;
        }
        tracing::warn!(
            session = self.settings.type_name,
            "{} is not set: using an ephemeral key, so sessions will not survive a restart \
             (set it to 32+ random bytes, e.g. `openssl rand -base64 48`)",
            self.secret_variable
        );
        self.ephemeral_secret()
    }

    /// Reads overrides from `SESSION_*` environment variables: see
    /// [`from_env_prefixed`](Self::from_env_prefixed).
    pub fn from_env(self) -> Result<Self, ConfigError> {
        self.from_env_prefixed("SESSION")
    }

    /// Reads overrides from environment variables named `{prefix}_...`:
    /// `_SECRET` (UTF-8, at least 32 bytes), `_SECRET_PREVIOUS` (retired secrets, whitespace
    /// separated), `_STORE`, `_ENCRYPTION_MODE`, `_COMPRESSION_LEVEL`, `_EXPIRE`,
    /// `_MAX_LIFETIME`, `_COOKIE_NAME`, `_SECURE`, `_DOMAIN`, `_DIR` (files store), and
    /// `_REDIS_URL`, `_DATABASE_URL`, `_MEMCACHED_URL` (each falling back to the unprefixed
    /// `REDIS_URL`, `DATABASE_URL`, `MEMCACHED_URL`). Unset variables change nothing; a bad value is
    /// an error naming the variable.
    pub fn from_env_prefixed(mut self, prefix: &str) -> Result<Self, ConfigError> {
        let type_name = self.settings.type_name;
        let var = |suffix: &str| -> Result<Option<(String, String)>, ConfigError> {
            let name = format!("{prefix}_{suffix}");
            match std::env::var(&name) {
                Ok(value) => Ok(Some((name, value))),
                Err(std::env::VarError::NotPresent) => Ok(None),
                Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::Invalid {
                    type_name,
                    setting: name,
                    message: "the value is not valid UTF-8".into(),
                }),
            }
        };
        let invalid = |setting: &str, message: String| ConfigError::Invalid {
            type_name,
            setting: setting.to_owned(),
            message,
        };
        self.secret_variable = format!("{prefix}_SECRET");
        if let Some((name, value)) = var("SECRET")? {
            self.secrets.retain(|(origin, _)| origin == "builder");
            self.secrets.push((name, value.into_bytes()));
        }
        if let Some((name, value)) = var("SECRET_PREVIOUS")? {
            for (i, s) in value.split_whitespace().enumerate() {
                self.secrets
                    .push((format!("{name} (entry {})", i + 1), s.as_bytes().to_vec()));
            }
        }
        if let Some((name, value)) = var("STORE")? {
            self.store = value
                .trim()
                .parse()
                .map_err(|e| invalid(&name, format!("{e}")))?;
        }
        if let Some((name, value)) = var("ENCRYPTION_MODE")? {
            self.mode = value
                .trim()
                .parse()
                .map_err(|e| invalid(&name, format!("{e}")))?;
        }
        if let Some((name, value)) = var("COMPRESSION_LEVEL")? {
            self.compression_level = value
                .trim()
                .parse()
                .map_err(|_| invalid(&name, format!("`{value}` is not a number from 0 to 22")))?;
        }
        if let Some((name, value)) = var("EXPIRE")? {
            self.settings.expire = parse_seconds(&value).ok_or_else(|| {
                invalid(
                    &name,
                    format!("`{value}` is not a positive number of seconds"),
                )
            })?;
        }
        if let Some((name, value)) = var("MAX_LIFETIME")? {
            self.settings.max_lifetime = Some(parse_seconds(&value).ok_or_else(|| {
                invalid(
                    &name,
                    format!("`{value}` is not a positive number of seconds"),
                )
            })?);
        }
        if let Some((_, value)) = var("COOKIE_NAME")? {
            self.settings.cookie_name = value.trim().to_owned();
        }
        if let Some((name, value)) = var("SECURE")? {
            self.settings.cookie.secure = match value.trim() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(invalid(&name, format!("`{value}` is not true or false"))),
            };
        }
        if let Some((_, value)) = var("DOMAIN")? {
            self.settings.cookie.domain = Some(value.trim().to_owned()).filter(|d| !d.is_empty());
        }
        if let Some((_, value)) = var("DIR")? {
            self.session_dir = Some(value.into());
        }
        // Connection URLs: the prefixed variable, else the conventional unprefixed one.
        for (suffix, slot) in [
            ("REDIS_URL", &mut self.redis_url),
            ("DATABASE_URL", &mut self.database_url),
            ("MEMCACHED_URL", &mut self.memcached_url),
        ] {
            if let Some((_, value)) = var(suffix)? {
                *slot = Some(value);
            } else if let Ok(value) = std::env::var(suffix) {
                *slot = Some(value);
            }
        }
        Ok(self)
    }

    /// Where the data lives: overrides the `store` attribute.
    pub fn store(mut self, store: StoreChoice) -> Self {
        self.store = store;
        self.store_instance = None;
        self
    }

    /// Uses this store instance (for example a shared [`MemoryStore`] or a custom store that
    /// needs configuring).
    pub fn store_instance(mut self, store: impl SessionStore) -> Self {
        self.store_instance = Some(Arc::new(store));
        self
    }

    /// The directory of the files store (default: none; the environment's `SESSION_DIR`).
    pub fn session_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.session_dir = Some(dir.into());
        self
    }

    /// The Redis server of the redis store (default `redis://127.0.0.1:6379`, or `REDIS_URL`).
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self
    }

    /// The PostgreSQL server of the postgres store (a `postgres://` URL, or `DATABASE_URL`).
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// The memcached server of the memcached store (`memcache://host:port`, or `MEMCACHED_URL`).
    pub fn memcached_url(mut self, url: impl Into<String>) -> Self {
        self.memcached_url = Some(url.into());
        self
    }

    /// How many sessions the memory store holds at most (default 100,000).
    pub fn memory_capacity(mut self, capacity: usize) -> Self {
        self.memory_capacity = capacity;
        self
    }

    /// The cookie name.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.settings.cookie_name = name.into();
        self
    }

    /// The idle timeout.
    pub fn expire(mut self, expire: Duration) -> Self {
        self.settings.expire = expire.as_secs();
        self
    }

    /// The absolute timeout from creation, or `None` for none.
    pub fn max_lifetime(mut self, max_lifetime: Option<Duration>) -> Self {
        self.settings.max_lifetime = max_lifetime.map(|d| d.as_secs());
        self
    }

    /// Whether activity extends the idle timeout.
    pub fn rolling(mut self, rolling: bool) -> Self {
        self.settings.rolling = rolling;
        self
    }

    /// How often, at most, activity alone re-issues the cookie (and touches a server record)
    /// to extend the idle timeout. Default: a tenth of `expire`, at most 60 seconds.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = Some(interval.as_secs());
        self
    }

    /// A browser-session cookie (no Max-Age); server-side expiry still applies.
    pub fn sessioncookie(mut self, sessioncookie: bool) -> Self {
        self.settings.sessioncookie = sessioncookie;
        self
    }

    /// How values are protected.
    pub fn encryption_mode(mut self, mode: EncryptionMode) -> Self {
        self.mode = mode;
        self
    }

    /// zstd level (0 = off, up to 22); compression is used only when it makes a value smaller.
    pub fn compression_level(mut self, level: i32) -> Self {
        self.compression_level = level;
        self
    }

    /// A zstd dictionary to compress cookie values with, replacing the
    /// `compression_dictionary` attribute's. It must be in zstd's format with an id (train one
    /// with the `train_dictionary` example or `zstd --train`), or `build()` fails. It is
    /// prepared once, here in the layer. With compression level 0 it still opens the values
    /// it sealed before, so turning compression off logs nobody out; values sealed without a
    /// dictionary keep opening after one is added.
    pub fn compression_dictionary(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.compression_dictionary = Some(bytes.into().into());
        self
    }

    /// The cookie's `Secure` attribute.
    pub fn secure(mut self, secure: bool) -> Self {
        self.settings.cookie.secure = secure;
        self
    }

    /// The cookie's `HttpOnly` attribute.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.settings.cookie.http_only = http_only;
        self
    }

    /// The cookie's `SameSite` attribute.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.settings.cookie.same_site = same_site;
        self
    }

    /// The cookie's `Domain` attribute.
    pub fn domain(mut self, domain: Option<String>) -> Self {
        self.settings.cookie.domain = domain;
        self
    }

    /// The cookie's `Path` attribute.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.settings.cookie.path = path.into();
        self
    }

    /// The cookie's `Partitioned` attribute.
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.settings.cookie.partitioned = partitioned;
        self
    }

    /// The key prefix in server-side stores.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings.prefix = Some(prefix.into());
        self
    }

    /// The largest cookie, name plus value, the cookie store sends.
    pub fn max_cookie_size(mut self, size: usize) -> Self {
        self.settings.max_cookie_size = size;
        self
    }

    /// What happens past `max_cookie_size`.
    pub fn oversize(mut self, oversize: Oversize) -> Self {
        self.settings.oversize = oversize;
        self
    }

    /// With `oversize = chunk`: the most cookies one session may span (default 8).
    pub fn max_chunks(mut self, chunks: usize) -> Self {
        self.settings.max_chunks = chunks;
        self
    }

    /// Checks every setting, derives the keys and sets up the store.
    pub async fn build(mut self) -> Result<SessionLayer<T>, ConfigError> {
        let type_name = self.settings.type_name;
        let invalid = |setting: &str, message: String| ConfigError::Invalid {
            type_name,
            setting: setting.to_owned(),
            message,
        };
        validate::settings(&self.settings, self.mode, self.compression_level)
            .map_err(|(setting, message)| invalid(setting, message))?;
        let expire = self.settings.expire;
        self.settings.refresh_interval = self
            .refresh_interval
            .unwrap_or((expire / 10).clamp(1, 60))
            .min(expire);
        if self.settings.prefix.is_none() {
            self.settings.prefix = Some(self.settings.store_prefix());
        }
        let custom_instance = self.store_instance.is_some();
        let backend = match (&self.store, self.store_instance.take()) {
            (_, Some(store)) => Backend::Server(store),
            (StoreChoice::Cookie, None) => Backend::Cookie(self.codec()?),
            (StoreChoice::Memory, None) => {
                let store = MemoryStore::new(self.memory_capacity);
                if tokio::runtime::Handle::try_current().is_ok() {
                    store.spawn_sweeper(Duration::from_secs(expire.clamp(1, 60)));
                }
                Backend::Server(Arc::new(store))
            }
            (StoreChoice::Custom { factory, .. }, None) => Backend::Server(factory()),
            (StoreChoice::Files, None) => Backend::Server(self.files_store()?),
            (StoreChoice::Redis, None) => Backend::Server(self.redis_store().await?),
            (StoreChoice::Postgres, None) => Backend::Server(self.postgres_store().await?),
            (StoreChoice::Memcached, None) => Backend::Server(self.memcached_store().await?),
        };
        let store_name = match (&backend, &self.store) {
            (Backend::Cookie(_), _) => "cookie",
            (Backend::Server(_), _) if custom_instance => "custom",
            (Backend::Server(_), choice) => choice.as_str(),
        };
        Ok(SessionLayer::new(Engine::new(
            self.settings,
            backend,
            store_name,
        )))
    }

    fn files_store(&self) -> Result<Arc<dyn SessionStore>, ConfigError> {
        let type_name = self.settings.type_name;
        let Some(dir) = &self.session_dir else {
            return Err(ConfigError::Invalid {
                type_name,
                setting: "store = files".into(),
                message: "no directory configured: set SESSION_DIR to a writable directory or \
                          call `.session_dir(...)`"
                    .into(),
            });
        };
        let store = FilesStore::new(dir, &self.settings.filename_template)
            .map_err(|source| self.store_error(source))?;
        if tokio::runtime::Handle::try_current().is_ok() {
            store.spawn_sweeper(Duration::from_secs(self.settings.expire.clamp(1, 60)));
        }
        Ok(Arc::new(store))
    }

    #[cfg(feature = "redis")]
    async fn redis_store(&self) -> Result<Arc<dyn SessionStore>, ConfigError> {
        let url = self
            .redis_url
            .as_deref()
            .unwrap_or("redis://127.0.0.1:6379");
        let store = crate::store::RedisStore::connect(url)
            .await
            .map_err(|source| self.store_error(source))?;
        Ok(Arc::new(store))
    }

    #[cfg(not(feature = "redis"))]
    async fn redis_store(&self) -> Result<Arc<dyn SessionStore>, ConfigError> {
        Err(self.missing_feature("redis"))
    }

    #[cfg(feature = "postgres")]
    async fn postgres_store(&self) -> Result<Arc<dyn SessionStore>, ConfigError> {
        let Some(url) = self.database_url.as_deref() else {
            return Err(self.missing_url("postgres", "DATABASE_URL", "database_url"));
        };
        let store = crate::store::PostgresStore::connect(url)
            .await
            .map_err(|source| self.store_error(source))?;
        if tokio::runtime::Handle::try_current().is_ok() {
            store.spawn_sweeper(Duration::from_secs(self.settings.expire.clamp(1, 60)));
        }
        Ok(Arc::new(store))
    }

    #[cfg(not(feature = "postgres"))]
    async fn postgres_store(&self) -> Result<Arc<dyn SessionStore>, ConfigError> {
        Err(self.missing_feature("postgres"))
    }

    #[cfg(feature = "memcached")]
    async fn memcached_store(&self) -> Result<Arc<dyn SessionStore>, ConfigError> {
        let url = self
            .memcached_url
            .as_deref()
            .unwrap_or("memcache://127.0.0.1:11211");
        if let Some(prefix) = &self.settings.prefix {
            crate::store::MemcachedStore::check_prefix(prefix)
                .map_err(|source| self.store_error(source))?;
        }
        let store = crate::store::MemcachedStore::connect(url)
            .await
            .map_err(|source| self.store_error(source))?;
        Ok(Arc::new(store))
    }

    #[cfg(not(feature = "memcached"))]
    async fn memcached_store(&self) -> Result<Arc<dyn SessionStore>, ConfigError> {
        Err(self.missing_feature("memcached"))
    }

    fn store_error(&self, source: crate::store::StoreError) -> ConfigError {
        ConfigError::Store {
            type_name: self.settings.type_name,
            source,
        }
    }

    #[allow(dead_code, reason = "unused when every store feature is enabled")]
    fn missing_feature(&self, store: &str) -> ConfigError {
        ConfigError::Invalid {
            type_name: self.settings.type_name,
            setting: format!("store = {store}"),
            message: format!(
                "this build of session-runtime has no {store} support: enable its `{store}` feature"
            ),
        }
    }

    #[allow(dead_code, reason = "unused when the postgres feature is disabled")]
    fn missing_url(&self, store: &str, variable: &str, method: &str) -> ConfigError {
        ConfigError::Invalid {
            type_name: self.settings.type_name,
            setting: format!("store = {store}"),
            message: format!("no server configured: set {variable} or call `.{method}(...)`"),
        }
    }

    fn codec(&self) -> Result<Codec, ConfigError> {
        let type_name = self.settings.type_name;
        for (origin, secret) in &self.secrets {
            if secret.len() < crate::codec::MIN_SECRET_LEN {
                return Err(ConfigError::ShortSecret {
                    type_name,
                    origin: origin.clone(),
                    len: secret.len(),
                });
            }
        }
        let needs_secret = self.mode != EncryptionMode::Legacy || self.legacy_keys.is_empty();
        let keys = if self.secrets.is_empty() {
            if needs_secret {
                return Err(ConfigError::MissingSecret {
                    type_name,
                    variable: self.secret_variable.clone(),
                });
            }
            KeyRing::from_legacy_keys(self.legacy_keys.clone())
                .map_err(|e| invalid_key(type_name, e))?
        } else {
            KeyRing::from_secrets(self.secrets.iter().map(|(_, s)| s))
                .map_err(|e| invalid_key(type_name, e))?
                .with_legacy_keys(self.legacy_keys.clone())
        };
        let mut options = CodecOptions::new(self.mode, self.settings.cookie_name.clone());
        options.compression_level = self.compression_level;
        options.compression_dictionary = self.compression_dictionary.clone();
        options.accept_legacy = self.accept_legacy;
        // Refuse, before any work, a value longer than any cookie this layer could have set.
        options.max_value_len = match self.settings.oversize {
            Oversize::Chunk => self.settings.max_cookie_size * self.settings.max_chunks,
            Oversize::Error => self.settings.max_cookie_size,
        };
        Codec::new(&keys, options).map_err(|e| ConfigError::Invalid {
            type_name,
            setting: "encryption".into(),
            message: e.to_string(),
        })
    }
}

fn invalid_key(type_name: &'static str, e: crate::codec::KeyError) -> ConfigError {
    ConfigError::Invalid {
        type_name,
        setting: "secret".into(),
        message: e.to_string(),
    }
}

fn parse_seconds(value: &str) -> Option<u64> {
    value.trim().parse().ok().filter(|&n| n > 0)
}
