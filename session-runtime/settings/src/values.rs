//! The values the rules that relate several settings look at.

use crate::defaults;
use crate::names::{EncryptionMode, Oversize, SameSite, StoreKind};
use crate::setting::SettingSet;

/// Which store a session type uses, as far as the rules care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreValue {
    /// A store built into the runtime.
    Builtin(StoreKind),
    /// A user's store type: server-side, reads what server stores read.
    Custom,
}

impl StoreValue {
    /// Whether the data lives on the server.
    pub const fn is_server_side(self) -> bool {
        match self {
            StoreValue::Builtin(kind) => kind.is_server_side(),
            StoreValue::Custom => true,
        }
    }

    /// How messages name it.
    pub fn describe(self) -> String {
        match self {
            StoreValue::Builtin(kind) => format!("`store = \"{}\"`", kind.name()),
            StoreValue::Custom => "a custom store".to_owned(),
        }
    }
}

/// The settings of one session type as the rules see them.
///
/// `None` means "not known here": at compile time, a value that was already refused (so a
/// rule does not pile a second error on the same mistake) or a store left to run time; at run
/// time every value is known. [`Values::defaults`] holds every default.
#[derive(Clone, Debug)]
pub struct Values<'a> {
    /// `cookie_name`.
    pub cookie_name: Option<&'a str>,
    /// `expire`.
    pub expire: Option<u64>,
    /// Whether `expire` is the default, which messages say.
    pub expire_is_default: bool,
    /// `max_lifetime` (`None` also when there is none).
    pub max_lifetime: Option<u64>,
    /// Whether `max_lifetime` is the default (given by nobody), which a `legacy` cookie store
    /// does not apply and so does not refuse.
    pub max_lifetime_is_default: bool,
    /// `store`, when known.
    pub store: Option<StoreValue>,
    /// `encryption_mode`.
    pub encryption_mode: Option<EncryptionMode>,
    /// `compression_level`.
    pub compression_level: Option<i32>,
    /// Whether a `compression_dictionary` is set.
    pub compression_dictionary: bool,
    /// `secure`.
    pub secure: Option<bool>,
    /// `same_site`.
    pub same_site: Option<SameSite>,
    /// `domain` (`None` also for a host-only cookie).
    pub domain: Option<&'a str>,
    /// `path`.
    pub path: Option<&'a str>,
    /// `prefix` (`None` also when derived from the cookie name).
    pub prefix: Option<&'a str>,
    /// `filename_template`.
    pub filename_template: Option<&'a str>,
    /// `max_cookie_size`.
    pub max_cookie_size: Option<usize>,
    /// `oversize`.
    pub oversize: Option<Oversize>,
    /// `max_chunks`.
    pub max_chunks: Option<usize>,
    /// The settings written in the same place as `store` (the same attribute, or the same
    /// builder): only those are held to "this store does not read it". A setting inherited
    /// from the attribute while the builder changes the store is not, so that one struct can
    /// run on the memory store in development and Redis in production.
    pub written: SettingSet,
}

impl Values<'static> {
    /// Every setting at its default, nothing written.
    pub const fn defaults() -> Self {
        Values {
            cookie_name: None,
            expire: Some(defaults::EXPIRE),
            expire_is_default: true,
            max_lifetime: None,
            max_lifetime_is_default: true,
            store: None,
            encryption_mode: Some(defaults::ENCRYPTION_MODE),
            compression_level: Some(defaults::COMPRESSION_LEVEL),
            compression_dictionary: false,
            secure: Some(defaults::SECURE),
            same_site: Some(defaults::SAME_SITE),
            domain: None,
            path: Some(defaults::PATH),
            prefix: None,
            filename_template: Some(defaults::FILENAME_TEMPLATE),
            max_cookie_size: Some(defaults::MAX_COOKIE_SIZE),
            oversize: Some(defaults::OVERSIZE),
            max_chunks: Some(defaults::MAX_CHUNKS),
            written: SettingSet::EMPTY,
        }
    }
}
