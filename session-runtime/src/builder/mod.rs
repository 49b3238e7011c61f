//! Building a session layer: the attribute values as defaults, overrides from code
//! (this module's setters) and from the environment (`env`), the secrets (`secrets`), the
//! codec of the cookie store (`codec`) and the server-side store (the store registry).

mod codec;
mod deadline;
mod env;
mod secrets;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use session_settings::{Setting, Values, defaults};

use crate::config::{Attributes, Chosen, EncryptionMode, Oversize, SameSite, StoreChoice};
use crate::cookies::CookieAttributes;
use crate::engine::{Backend, Engine, Settings};
use crate::error::ConfigError;
use crate::layer::SessionLayer;
use crate::schema::SessionSchema;
use crate::store::registry::{self, StoreConfig, Target};
use crate::store::{ConnectionOptions, SessionStore};
use crate::validate::{self, Provenance, Resolved};

use self::codec::CodecSetup;
use self::secrets::Secrets;

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
#[must_use = "a builder does nothing until `build()` makes the layer"]
pub struct SessionLayerBuilder<T> {
    config: LayerConfig,
    _schema: PhantomData<fn() -> T>,
}

/// Everything the builder holds, apart from the session type.
struct LayerConfig {
    settings: Settings,
    /// `None`: derived from `expire` when the layer is built.
    refresh_interval: Option<u64>,
    store: StoreChoice,
    store_instance: Option<Arc<dyn SessionStore>>,
    stores: StoreConfig,
    codec: CodecSetup,
    provenance: Provenance,
}

impl<T: SessionSchema> Default for SessionLayerBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The settings and where they came from; secrets appear as their origins only, and store
/// URLs (which may carry passwords) not at all.
impl<T> fmt::Debug for SessionLayerBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("SessionLayerBuilder")
            .field("settings", &c.settings)
            .field("store", &c.store)
            .field("store_instance", &c.store_instance.is_some())
            .field("encryption_mode", &c.codec.mode)
            .field("compression_level", &c.codec.compression_level)
            .field("secrets", &c.codec.secrets)
            .field("legacy_keys", &c.codec.legacy_keys.len())
            .field("provenance", &c.provenance)
            .finish_non_exhaustive()
    }
}

impl<T: SessionSchema> SessionLayerBuilder<T> {
    /// A builder holding the attribute values of `T`.
    pub fn new() -> Self {
        SessionLayerBuilder {
            config: LayerConfig::new(&T::attributes()),
            _schema: PhantomData,
        }
    }

    /// Changes the configuration and records that `setting` was written here, so the rules
    /// that only apply to settings written beside the store see it.
    fn write(mut self, setting: Setting, change: impl FnOnce(&mut LayerConfig)) -> Self {
        change(&mut self.config);
        self.config.provenance.wrote(setting);
        self
    }

    /// The secret that seals (at least 32 bytes). Replaces any earlier current secret given
    /// here; the environment's (`SESSION_SECRET`, read by [`from_env`](Self::from_env)) wins
    /// over it whichever is called first, and this one is then not used at all.
    pub fn secret(self, secret: impl AsRef<[u8]>) -> Self {
        self.write(Setting::Secret, |c| {
            c.codec.secrets.set_current(secret.as_ref())
        })
    }

    /// Retired secrets: they still open cookies, which are then re-sealed with the current one.
    /// They never seal: without a current secret, `build()` fails. The environment's retired
    /// secrets (`SESSION_SECRET_PREVIOUS`) are added to these.
    pub fn previous_secrets<S: AsRef<[u8]>>(self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.write(Setting::PreviousSecrets, |c| {
            c.codec.secrets.add_previous(secrets)
        })
    }

    /// A 64-byte `cookie::Key` for `legacy` mode (for example the one an app gave
    /// axum-extra's `PrivateCookieJar`). The first key given seals; all open.
    pub fn legacy_key(mut self, key: cookie::Key) -> Self {
        self.config.codec.legacy_keys.push(key);
        self
    }

    /// In `modern` or `none` mode, also open `legacy` cookies and re-seal them in the current
    /// mode on the way out: a migration without logging every user out.
    ///
    /// This form has no end: a stolen legacy cookie, which carries no time, stays good for as
    /// long as the layer accepts legacy values, and `build()` warns. Prefer
    /// [`accept_legacy_until`](Self::accept_legacy_until); with a `max_lifetime` set, a
    /// deadline is required, since an upgraded cookie's real age is unknown.
    /// `accept_legacy(false)` also drops a deadline.
    pub fn accept_legacy(mut self, accept: bool) -> Self {
        self.config.codec.accept_legacy = accept;
        if !accept {
            self.config.codec.accept_legacy_until = None;
        }
        self
    }

    /// Like [`accept_legacy(true)`](Self::accept_legacy), until `deadline`: from then on a
    /// `legacy` cookie is refused (a fresh session, logged with the reason). Set it to the end
    /// of the migration window, e.g. the longest Max-Age the legacy cookies were issued with
    /// after the switch. An upgraded value counts as created when it is first seen, so it
    /// lives at most until `deadline` + `max_lifetime`. The environment sets it with
    /// `SESSION_ACCEPT_LEGACY_UNTIL` (unix seconds or RFC 3339).
    pub fn accept_legacy_until(self, deadline: SystemTime) -> Self {
        let unix = deadline
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.write(Setting::AcceptLegacyUntil, |c| {
            c.codec.accept_legacy = true;
            c.codec.accept_legacy_until = Some(unix);
        })
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
        if self.config.codec.secrets.has_current() {
            return self;
        }
        tracing::warn!(
            session = self.config.settings.type_name,
            "{} is not set: using an ephemeral key, so sessions will not survive a restart \
             (set it to 32+ random bytes, e.g. `openssl rand -base64 48`)",
            self.config.codec.secret_variable
        );
        self.ephemeral_secret()
    }

    /// Reads overrides from `SESSION_*` environment variables: see
    /// [`from_env_prefixed`](Self::from_env_prefixed).
    pub fn from_env(self) -> Result<Self, ConfigError> {
        self.from_env_prefixed(DEFAULT_ENV_PREFIX)
    }

    /// Reads overrides from environment variables named `{prefix}_...`: every setting the
    /// builder has, under the name [`Setting::env_var`] gives it (`{prefix}_` followed by the
    /// setting's name in capitals, such as `_EXPIRE`, `_SAME_SITE`, `_MEMORY_CAPACITY`,
    /// `_FILES_CAPACITY`), except the directory of the files store, read from `_DIR`.
    /// `_SECRET` is UTF-8 of at least 32 bytes and replaces the builder's current secret;
    /// `_SECRET_PREVIOUS` holds retired secrets, whitespace separated, added to the builder's;
    /// `_ACCEPT_LEGACY_UNTIL` is unix seconds or RFC 3339; `_COMPRESSION_DICTIONARY` is the path of the dictionary file;
    /// `_FILES_CAPACITY=none` means no limit; yes-or-no settings take `true`/`false`,
    /// `1`/`0`, `yes`/`no`, `on`/`off`. `_REDIS_URL`, `_DATABASE_URL` and `_MEMCACHED_URL`
    /// fall back to the unprefixed `REDIS_URL`, `DATABASE_URL`, `MEMCACHED_URL`. Unset
    /// variables change nothing; a bad value is an error naming the variable, and so is a
    /// value that breaks a rule when the layer is built.
    pub fn from_env_prefixed(mut self, prefix: &str) -> Result<Self, ConfigError> {
        self.config.read_env(prefix)?;
        Ok(self)
    }

    /// Where the data lives: overrides the `store` attribute.
    pub fn store(self, store: StoreChoice) -> Self {
        self.write(Setting::Store, |c| {
            c.store = store;
            c.store_instance = None;
        })
    }

    /// Uses this store instance (for example a shared [`MemoryStore`](crate::store::MemoryStore)
    /// or a custom store that needs configuring).
    pub fn store_instance(mut self, store: impl SessionStore) -> Self {
        // Handing over an instance does not write the `store` setting: options set for every
        // layer of an app (such as `oversize`) stay valid whatever instance one layer gets.
        self.config.store_instance = Some(Arc::new(store));
        self
    }

    /// The directory of the files store (default: none; the environment's `SESSION_DIR`).
    pub fn session_dir(self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.write(Setting::SessionDir, |c| {
            c.stores.session_dir = Some(dir.into())
        })
    }

    /// The Redis server of the redis store (default `redis://127.0.0.1:6379`, or `REDIS_URL`).
    pub fn redis_url(self, url: impl Into<String>) -> Self {
        self.write(Setting::RedisUrl, |c| c.stores.redis_url = Some(url.into()))
    }

    /// The PostgreSQL server of the postgres store (a `postgres://` URL, or `DATABASE_URL`).
    pub fn database_url(self, url: impl Into<String>) -> Self {
        self.write(Setting::DatabaseUrl, |c| {
            c.stores.database_url = Some(url.into())
        })
    }

    /// The memcached server of the memcached store (`memcache://host:port`, or `MEMCACHED_URL`).
    pub fn memcached_url(self, url: impl Into<String>) -> Self {
        self.write(Setting::MemcachedUrl, |c| {
            c.stores.memcached_url = Some(url.into())
        })
    }

    /// Pool size and timeouts of the networked stores (Redis, PostgreSQL, memcached) the layer
    /// connects to; default [`ConnectionOptions::default`].
    pub fn connection_options(mut self, options: ConnectionOptions) -> Self {
        self.config.stores.connection = options;
        self
    }

    /// How many sessions the memory store holds at most (default 100,000).
    pub fn memory_capacity(self, capacity: usize) -> Self {
        self.write(Setting::MemoryCapacity, |c| {
            c.stores.memory_capacity = capacity
        })
    }

    /// How many sessions the files store keeps at most (default `None`: no limit). Past it a
    /// request that would create a session is answered with 503, while existing sessions keep
    /// working: see [`FilesStore::capacity`](crate::store::FilesStore::capacity).
    pub fn files_capacity(self, capacity: Option<usize>) -> Self {
        self.write(Setting::FilesCapacity, |c| {
            c.stores.files_capacity = capacity
        })
    }

    /// The cookie name.
    pub fn cookie_name(self, name: impl Into<String>) -> Self {
        self.write(Setting::CookieName, |c| {
            c.settings.cookie_name = name.into()
        })
    }

    /// The idle timeout.
    pub fn expire(self, expire: Duration) -> Self {
        self.write(Setting::Expire, |c| c.settings.expire = expire.as_secs())
    }

    /// The absolute timeout from creation, or `None` for none.
    pub fn max_lifetime(self, max_lifetime: Option<Duration>) -> Self {
        self.write(Setting::MaxLifetime, |c| {
            c.settings.max_lifetime = max_lifetime.map(|d| d.as_secs())
        })
    }

    /// Whether activity extends the idle timeout.
    pub fn rolling(self, rolling: bool) -> Self {
        self.write(Setting::Rolling, |c| c.settings.rolling = rolling)
    }

    /// How often, at most, activity alone re-issues the cookie (and touches a server record)
    /// to extend the idle timeout. Default: a tenth of `expire`, at most 60 seconds.
    pub fn refresh_interval(self, interval: Duration) -> Self {
        self.write(Setting::RefreshInterval, |c| {
            c.refresh_interval = Some(interval.as_secs())
        })
    }

    /// A browser-session cookie (no Max-Age); server-side expiry still applies.
    pub fn sessioncookie(self, sessioncookie: bool) -> Self {
        self.write(Setting::Sessioncookie, |c| {
            c.settings.sessioncookie = sessioncookie
        })
    }

    /// How values are protected.
    pub fn encryption_mode(self, mode: EncryptionMode) -> Self {
        self.write(Setting::EncryptionMode, |c| c.codec.mode = mode)
    }

    /// zstd level (0 = off, up to 22); compression is used only when it makes a value smaller.
    pub fn compression_level(self, level: i32) -> Self {
        self.write(Setting::CompressionLevel, |c| {
            c.codec.compression_level = level
        })
    }

    /// A zstd dictionary to compress cookie values with, replacing the
    /// `compression_dictionary` attribute's. It must be in zstd's format with an id (train one
    /// with the `train_dictionary` example or `zstd --train`), or `build()` fails. It is
    /// prepared once, here in the layer. With compression level 0 it still opens the values
    /// it sealed before, so turning compression off logs nobody out; values sealed without a
    /// dictionary keep opening after one is added.
    pub fn compression_dictionary(self, bytes: impl Into<Vec<u8>>) -> Self {
        self.write(Setting::CompressionDictionary, |c| {
            c.codec.compression_dictionary = Some(bytes.into().into())
        })
    }

    /// The cookie's `Secure` attribute.
    pub fn secure(self, secure: bool) -> Self {
        self.write(Setting::Secure, |c| c.settings.cookie.secure = secure)
    }

    /// The cookie's `HttpOnly` attribute.
    pub fn http_only(self, http_only: bool) -> Self {
        self.write(Setting::HttpOnly, |c| {
            c.settings.cookie.http_only = http_only
        })
    }

    /// The cookie's `SameSite` attribute.
    pub fn same_site(self, same_site: SameSite) -> Self {
        self.write(Setting::SameSite, |c| {
            c.settings.cookie.same_site = same_site
        })
    }

    /// The cookie's `Domain` attribute.
    pub fn domain(self, domain: Option<String>) -> Self {
        self.write(Setting::Domain, |c| c.settings.cookie.domain = domain)
    }

    /// The cookie's `Path` attribute.
    pub fn path(self, path: impl Into<String>) -> Self {
        self.write(Setting::Path, |c| c.settings.cookie.path = path.into())
    }

    /// The cookie's `Partitioned` attribute.
    pub fn partitioned(self, partitioned: bool) -> Self {
        self.write(Setting::Partitioned, |c| {
            c.settings.cookie.partitioned = partitioned
        })
    }

    /// The key prefix in server-side stores.
    pub fn prefix(self, prefix: impl Into<String>) -> Self {
        self.write(Setting::Prefix, |c| c.settings.prefix = Some(prefix.into()))
    }

    /// The files store's file name template: exactly one `%s`, where the hashed id goes.
    pub fn filename_template(self, template: impl Into<String>) -> Self {
        self.write(Setting::FilenameTemplate, |c| {
            c.settings.filename_template = template.into()
        })
    }

    /// The largest cookie, name plus value, the cookie store sends.
    pub fn max_cookie_size(self, size: usize) -> Self {
        self.write(Setting::MaxCookieSize, |c| {
            c.settings.max_cookie_size = size
        })
    }

    /// What happens past `max_cookie_size`.
    pub fn oversize(self, oversize: Oversize) -> Self {
        self.write(Setting::Oversize, |c| c.settings.oversize = oversize)
    }

    /// With `oversize = chunk`: the most cookies one session may span (default 8).
    pub fn max_chunks(self, chunks: usize) -> Self {
        self.write(Setting::MaxChunks, |c| c.settings.max_chunks = chunks)
    }

    /// Checks every setting, derives the keys and sets up the store.
    pub async fn build(self) -> Result<SessionLayer<T>, ConfigError> {
        Ok(SessionLayer::new(self.config.into_engine().await?))
    }
}

impl LayerConfig {
    /// The configuration the attributes give, before any override.
    fn new(a: &Attributes) -> Self {
        let settings = settings_of(a);
        let codec = CodecSetup {
            mode: a.encryption_mode,
            compression_level: a.compression_level,
            compression_dictionary: a.compression_dictionary.map(Into::into),
            secrets: Secrets::default(),
            legacy_keys: Vec::new(),
            accept_legacy: false,
            accept_legacy_until: None,
            secret_variable: Setting::Secret.env_var(DEFAULT_ENV_PREFIX),
            previous_variable: Setting::PreviousSecrets.env_var(DEFAULT_ENV_PREFIX),
        };
        let stores = StoreConfig::new(DEFAULT_ENV_PREFIX);
        LayerConfig {
            settings,
            refresh_interval: None,
            store: a.store.clone(),
            store_instance: None,
            stores,
            codec,
            provenance: Provenance::default(),
        }
    }
}

/// The engine's settings as the attributes give them (the refresh interval and the default
/// prefix are resolved when the layer is built).
fn settings_of(a: &Attributes) -> Settings {
    Settings {
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
        max_chunks: defaults::MAX_CHUNKS,
        prefix: a.prefix.map(str::to_owned),
        filename_template: a.filename_template.to_owned(),
    }
}

/// The prefix of the environment variables [`SessionLayerBuilder::from_env`] reads.
const DEFAULT_ENV_PREFIX: &str = "SESSION";

impl LayerConfig {
    /// Checks the settings against the specification's rules, then resolves what depends on
    /// other settings and builds the codec or the store.
    async fn into_engine(mut self) -> Result<Engine, ConfigError> {
        validate::settings(&Resolved {
            settings: &self.settings,
            store: &self.store,
            store_instance: self.store_instance.is_some(),
            mode: self.codec.mode,
            compression_level: self.codec.compression_level,
            provenance: &self.provenance,
        })?;
        self.legacy_times()?;
        let expire = self.settings.expire;
        self.settings.refresh_interval = self
            .refresh_interval
            .unwrap_or((expire / 10).clamp(1, 60))
            .min(expire);
        if self.settings.prefix.is_none() {
            self.settings.prefix = Some(self.settings.store_prefix());
        }
        let (backend, store_name) = self.backend().await?;
        Ok(Engine::new(self.settings, backend, store_name))
    }

    /// What `legacy` values can promise about time. A `legacy` cookie store applies no
    /// absolute lifetime (the rules refuse one written; a default one is dropped): its values
    /// carry no creation time. A layer that upgrades legacy values without a deadline cannot
    /// keep a written `max_lifetime` (an upgraded value's age is unknown, so sealing it would
    /// restart the clock), and is warned about: a legacy cookie stays good for as long.
    fn legacy_times(&mut self) -> Result<(), ConfigError> {
        let cookie_store = self.store_instance.is_none()
            && self.store.kind().is_some_and(|kind| !kind.is_server_side());
        if !cookie_store {
            return Ok(());
        }
        if self.codec.mode == EncryptionMode::Legacy {
            self.settings.max_lifetime = None;
            return Ok(());
        }
        if !self.codec.accept_legacy || self.codec.accept_legacy_until.is_some() {
            return Ok(());
        }
        let written_lifetime = self.provenance.is_written(Setting::MaxLifetime)
            || self.settings.max_lifetime != Values::defaults().max_lifetime;
        if written_lifetime && self.settings.max_lifetime.is_some() {
            return Err(ConfigError::Invalid {
                type_name: self.settings.type_name,
                setting: "accept_legacy".to_owned(),
                message: "accepting legacy cookies without a deadline cannot keep `max_lifetime`: a legacy cookie carries no creation time, so each upgrade would restart its lifetime; use `accept_legacy_until(deadline)` (or `SESSION_ACCEPT_LEGACY_UNTIL`)".to_owned(),
            });
        }
        tracing::warn!(
            session = self.settings.type_name,
            "accepting legacy cookies without a deadline: a legacy cookie carries no time, so a \
             copied one stays good for as long; set `accept_legacy_until`"
        );
        Ok(())
    }

    /// Where the data goes, and the store's name for logs and metrics.
    async fn backend(&mut self) -> Result<(Backend, &'static str), ConfigError> {
        if let Some(store) = self.store_instance.take() {
            return Ok((Backend::Server(store), "custom"));
        }
        let kind = match self.store.chosen() {
            Chosen::Custom { name, factory } => return Ok((Backend::Server(factory()), name)),
            Chosen::Builtin(kind) => kind,
        };
        let target = Target {
            type_name: self.settings.type_name,
            prefix: self.settings.prefix.as_deref().unwrap_or_default(),
            filename_template: &self.settings.filename_template,
            expire: self.settings.expire,
        };
        match registry::open(kind, &self.stores, &target).await? {
            Some(store) => Ok((Backend::Server(store), kind.name())),
            None => Ok((Backend::Cookie(self.codec.codec(&self.settings)?), "cookie")),
        }
    }
}
