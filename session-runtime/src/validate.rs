//! Run-time checks of settings: the rules of the shared specification (`session-settings`),
//! applied again because the builder and the environment can change every value. This module
//! only maps the resolved settings onto the specification's [`Values`] and names the culprit.

use session_settings::{EncryptionMode, Problem, Setting, SettingSet, StoreValue, Values, check};

use crate::config::{StoreChoice, spec_same_site};
use crate::engine::Settings;
use crate::error::ConfigError;

/// Where the run-time values came from: which settings code or the environment wrote (the
/// rest are the attribute's), and which of those came from which environment variable.
#[derive(Clone, Debug, Default)]
pub(crate) struct Provenance {
    /// Settings written by the builder or the environment.
    written: SettingSet,
    /// Settings whose current value came from the environment.
    from_env: SettingSet,
    /// The prefix of the environment variables read last.
    env_prefix: String,
}

impl Provenance {
    /// `setting` was written by code.
    pub(crate) fn wrote(&mut self, setting: Setting) {
        self.written.insert(setting);
        self.from_env.remove(setting);
    }

    /// `setting` was read from the environment variables named `{prefix}_...`.
    pub(crate) fn read_env(&mut self, setting: Setting, prefix: &str) {
        self.written.insert(setting);
        self.from_env.insert(setting);
        prefix.clone_into(&mut self.env_prefix);
    }

    /// Whether `setting` was written by code or the environment.
    pub(crate) fn is_written(&self, setting: Setting) -> bool {
        self.written.contains(setting)
    }

    /// How a message names `setting`: its environment variable when its value came from
    /// there, else its attribute or builder name.
    pub(crate) fn name(&self, setting: Setting) -> String {
        if self.from_env.contains(setting) {
            setting.env_var(&self.env_prefix)
        } else {
            setting.name().to_owned()
        }
    }
}

/// The settings of a layer about to be built, as the rules read them.
pub(crate) struct Resolved<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) store: &'a StoreChoice,
    /// Whether a store instance was handed over, which makes the store a custom one.
    pub(crate) store_instance: bool,
    pub(crate) mode: EncryptionMode,
    pub(crate) compression_level: i32,
    pub(crate) provenance: &'a Provenance,
}

/// Applies every rule; the first problem becomes the error.
pub(crate) fn settings(resolved: &Resolved<'_>) -> Result<(), ConfigError> {
    match check(&values(resolved)).into_iter().next() {
        None => Ok(()),
        Some(problem) => Err(invalid(resolved, problem)),
    }
}

fn values<'a>(r: &Resolved<'a>) -> Values<'a> {
    let s = r.settings;
    let store = match (r.store_instance, r.store.kind()) {
        (false, Some(kind)) => StoreValue::Builtin(kind),
        _ => StoreValue::Custom,
    };
    Values {
        cookie_name: Some(&s.cookie_name),
        expire: Some(s.expire),
        expire_is_default: s.expire == session_settings::defaults::EXPIRE
            && !r.provenance.is_written(Setting::Expire),
        max_lifetime: s.max_lifetime,
        max_lifetime_is_default: s.max_lifetime == Values::defaults().max_lifetime
            && !r.provenance.is_written(Setting::MaxLifetime),
        store: Some(store),
        encryption_mode: Some(r.mode),
        compression_level: Some(r.compression_level),
        // Only a dictionary set here is held to the dictionary rules: one inherited from the
        // attribute keeps opening what it sealed after the level is turned down to 0, and
        // does not stop the same struct from running on a server-side store.
        compression_dictionary: r.provenance.is_written(Setting::CompressionDictionary),
        secure: Some(s.cookie.secure),
        same_site: Some(spec_same_site(s.cookie.same_site)),
        domain: s.cookie.domain.as_deref(),
        path: Some(&s.cookie.path),
        prefix: s.prefix.as_deref(),
        filename_template: Some(&s.filename_template),
        max_cookie_size: Some(s.max_cookie_size),
        oversize: Some(s.oversize),
        max_chunks: Some(s.max_chunks),
        written: r.provenance.written,
    }
}

fn invalid(r: &Resolved<'_>, problem: Problem) -> ConfigError {
    ConfigError::Invalid {
        type_name: r.settings.type_name,
        setting: r.provenance.name(problem.setting),
        message: problem.message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_is_named_after_where_its_value_came_from() {
        let mut provenance = Provenance::default();
        assert_eq!(provenance.name(Setting::CookieName), "cookie_name");
        provenance.read_env(Setting::CookieName, "APP");
        assert_eq!(provenance.name(Setting::CookieName), "APP_COOKIE_NAME");
        assert!(provenance.is_written(Setting::CookieName));
        provenance.wrote(Setting::CookieName);
        assert_eq!(provenance.name(Setting::CookieName), "cookie_name");
        assert!(provenance.is_written(Setting::CookieName));
        assert!(!provenance.is_written(Setting::Store));
    }
}
